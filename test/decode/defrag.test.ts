import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { DatagramPayload, LocatedAnomaly, Payload, Provenance } from '../../src/core/records.js';
import { Defragmenter, type DefragLimits } from '../../src/decode/defrag.js';
import { PacketDecoder, type DecoderOptions } from '../../src/decode/decoder.js';
import { readCaptureFile } from '../../src/sources/capture-file.js';
import {
  fragmentIpv4,
  fragmentIpv6,
  ipv4,
  ipv6,
  ipv6FragmentHeader,
  PROTO,
  sipRequest,
  udp,
} from '../helpers/pcap-writer.js';

const CORPUS = '../shared/corpus/pcap';
const RAW = 101;

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Harness {
  readonly payloads: Payload[] = [];
  readonly anomalies: LocatedAnomaly[] = [];
  readonly decoder: PacketDecoder;
  frame = 0;
  constructor(options: DecoderOptions = {}) {
    this.decoder = new PacketDecoder(
      { payload: (p) => this.payloads.push(p), anomaly: (a) => this.anomalies.push(a) },
      options,
    );
  }
  feed(packets: readonly Buffer[], time = 1_700_000_000_000, step = 1): void {
    let t = time;
    for (const p of packets) {
      this.decoder.decodeFrame(RAW, p, t, { kind: 'capture', file: 'test', frame: ++this.frame });
      t += step;
    }
  }
  get datagrams(): DatagramPayload[] {
    return this.payloads.filter((p): p is DatagramPayload => p.kind === 'datagram');
  }
  codes(): string[] {
    return this.anomalies.map((a) => a.code);
  }
}

const SIP = sipRequest('INVITE', 3000);
const V4 = { src: '192.0.2.1', dst: '198.51.100.2', proto: PROTO.UDP, id: 0x4242 };
const V6 = { src: '2001:db8::1', dst: '2001:db8::2', proto: PROTO.UDP };
const UDP = udp(40000, 5060, SIP);

describe('IPv4 reassembly', () => {
  it('in order: one datagram, on the frame of the last fragment', () => {
    const h = new Harness();
    const frags = fragmentIpv4(V4, UDP, 1480);
    assert.equal(frags.length, 3);
    h.feed(frags);
    assert.equal(h.datagrams.length, 1);
    const d = h.datagrams[0] as DatagramPayload;
    assert.ok(d.data.equals(SIP));
    assert.deepEqual(
      [d.srcIp, d.srcPort, d.dstIp, d.dstPort, d.provenance.frame],
      ['192.0.2.1', 40000, '198.51.100.2', 5060, 3],
    );
    assert.equal(h.decoder.stats.defrag.reassembled, 1);
    assert.equal(h.decoder.stats.defrag.fragments, 3);
    assert.deepEqual(h.anomalies, []);
    assert.equal(h.decoder.state.fragmentDatagrams, 0);
  });

  it('out of order: completed by whichever fragment arrives last', () => {
    const h = new Harness();
    const [a, b, c] = fragmentIpv4(V4, UDP, 1000) as [Buffer, Buffer, Buffer, Buffer];
    const d4 = fragmentIpv4(V4, UDP, 1000)[3] as Buffer;
    h.feed([d4, b, a, c]);
    assert.equal(h.datagrams.length, 1);
    assert.ok((h.datagrams[0] as DatagramPayload).data.equals(SIP));
    assert.equal((h.datagrams[0] as DatagramPayload).provenance.frame, 4);
  });

  it('an exact duplicate is counted, not an anomaly', () => {
    const h = new Harness();
    const frags = fragmentIpv4(V4, UDP, 1480);
    h.feed([frags[0] as Buffer, frags[0] as Buffer, frags[1] as Buffer, frags[2] as Buffer]);
    assert.equal(h.datagrams.length, 1);
    assert.equal(h.decoder.stats.defrag.duplicates, 1);
    assert.deepEqual(h.codes(), []);
  });

  it('overlap with different bytes: anomaly, first-seen bytes kept', () => {
    const h = new Harness();
    const frags = fragmentIpv4(V4, UDP, 1480);
    // A forged fragment rewriting bytes 1480..1488+ with other content, sent after the genuine one.
    const forged = ipv4({ ...V4, fragOffset: 1472, moreFragments: true }, Buffer.alloc(16, 0x58));
    h.feed([frags[0] as Buffer, frags[1] as Buffer, forged, frags[2] as Buffer]);
    assert.deepEqual(h.codes(), ['ip_fragment_overlap']);
    assert.match(h.anomalies[0]?.detail ?? '', /different bytes/);
    assert.equal(h.anomalies[0]?.provenance.frame, 3);
    assert.equal(h.datagrams.length, 1);
    assert.ok((h.datagrams[0] as DatagramPayload).data.equals(SIP));
  });

  it('a partial overlap that adds new bytes keeps the old ones and uses the new ones', () => {
    const d = new Defragmenter({ anomaly: () => undefined });
    const data = Buffer.from('0123456789abcdefghijklmnopqrstuv'); // 32 bytes
    const prov: Provenance = { kind: 'capture', frame: 1 };
    assert.equal(d.add('k', false, 0, true, 17, data, 0, 16, 0, prov), null);
    const other = Buffer.from('XXXXXXXXghijklmnopqrstuv');
    const r = d.add('k', false, 8, false, 17, other, 0, other.length, 0, prov);
    assert.ok(r);
    assert.equal(r.toString(), '01234567' + '89abcdef' + 'ghijklmnopqrstuv');
    assert.equal(d.stats.overlaps, 1);
  });

  it('rejects a non-final fragment whose length is not a multiple of 8', () => {
    const h = new Harness();
    h.feed([ipv4({ ...V4, moreFragments: true }, Buffer.alloc(13))]);
    assert.deepEqual(h.codes(), ['ip_fragment_bad_length']);
    assert.equal(h.decoder.state.fragmentDatagrams, 0);
  });

  it('rejects fragments reaching past 65535 bytes (ping of death)', () => {
    const h = new Harness();
    h.feed([
      ipv4({ ...V4, moreFragments: true }, Buffer.alloc(16)),
      ipv4({ ...V4, fragOffset: 65528 }, Buffer.alloc(16)),
    ]);
    assert.deepEqual(h.codes(), ['ip_fragment_too_big']);
    assert.equal(h.datagrams.length, 0);
  });

  it('rejects a datagram in too many fragments and disagreeing final fragments', () => {
    const h = new Harness({ defrag: { maxFragmentsPerDatagram: 4 } });
    h.feed(fragmentIpv4(V4, UDP, 400).slice(0, 6));
    assert.deepEqual(h.codes(), ['ip_fragment_too_many']);
    const g = new Harness();
    g.feed([
      ipv4({ ...V4, fragOffset: 64 }, Buffer.alloc(16)),
      ipv4({ ...V4, fragOffset: 96 }, Buffer.alloc(16)),
    ]);
    assert.deepEqual(g.codes(), ['ip_fragment_inconsistent']);
    assert.equal(g.decoder.stats.defrag.dropped, 1);
  });

  it('times out in event time; a late fragment does not complete the old datagram', () => {
    const h = new Harness();
    const frags = fragmentIpv4(V4, UDP, 1480);
    const t0 = 1_700_000_000_000;
    h.feed([frags[0] as Buffer, frags[1] as Buffer], t0);
    h.feed([ipv4({ src: '10.9.9.9', dst: '10.9.9.8', proto: PROTO.ICMP }, Buffer.alloc(8))], t0 + 29_000);
    assert.equal(h.decoder.state.fragmentDatagrams, 1);
    h.feed([ipv4({ src: '10.9.9.9', dst: '10.9.9.8', proto: PROTO.ICMP }, Buffer.alloc(8))], t0 + 31_000);
    assert.deepEqual(h.codes(), ['ip_fragment_timeout']);
    assert.equal(h.anomalies[0]?.provenance.frame, 1);
    assert.equal(h.decoder.state.fragmentDatagrams, 0);
    h.feed([frags[2] as Buffer], t0 + 31_001);
    assert.equal(h.datagrams.length, 0);
    assert.equal(h.decoder.state.fragmentDatagrams, 1);
    h.decoder.flush(t0 + 31_002);
    assert.deepEqual(h.codes(), ['ip_fragment_timeout', 'ip_fragment_timeout']);
    assert.match(h.anomalies[1]?.detail ?? '', /end of input/);
    assert.equal(h.decoder.stats.defrag.timeouts, 2);
  });
});

describe('IPv6 reassembly', () => {
  it('reassembles in any order and keeps walking extension headers after the fragment header', () => {
    const h = new Harness();
    const frags = fragmentIpv6(V6, UDP, 1448, 0xabcdef01);
    h.feed([frags[2] as Buffer, frags[0] as Buffer, frags[1] as Buffer]);
    assert.equal(h.datagrams.length, 1);
    const d = h.datagrams[0] as DatagramPayload;
    assert.ok(d.data.equals(SIP));
    assert.deepEqual([d.srcIp, d.dstIp, d.provenance.frame], ['2001:db8::1', '2001:db8::2', 3]);
    // A destination-options header inside the fragmentable part.
    const g = new Harness();
    const dst = Buffer.from([17, 0, 1, 4, 0, 0, 0, 0]);
    const inner = Buffer.concat([dst, UDP]);
    g.feed(fragmentIpv6({ ...V6, proto: PROTO.DSTOPTS }, inner, 1000, 9));
    assert.equal(g.datagrams.length, 1);
    assert.ok((g.datagrams[0] as DatagramPayload).data.equals(SIP));
  });

  it('an overlap discards the whole datagram (RFC 5722) and swallows its later fragments', () => {
    const h = new Harness();
    const frags = fragmentIpv6(V6, UDP, 1448, 77);
    const overlap = ipv6(
      { ...V6, proto: PROTO.FRAGMENT },
      Buffer.concat([ipv6FragmentHeader(17, 1440, true, 77), Buffer.alloc(24)]),
    );
    h.feed([frags[0] as Buffer, overlap, frags[1] as Buffer, frags[2] as Buffer]);
    assert.deepEqual(h.codes(), ['ip_fragment_overlap']);
    assert.equal(h.datagrams.length, 0);
    assert.equal(h.decoder.stats.defrag.dropped, 2);
    assert.equal(h.decoder.state.fragmentBytes, 0);
  });
});

describe('reassembly bounds', () => {
  it('a flood of random fragments never exceeds the table bounds; evictions are counted (property)', () => {
    const limits: Partial<DefragLimits> = {
      maxPendingDatagrams: 50,
      maxTotalBytes: 40_000,
      maxFragmentsPerDatagram: 16,
    };
    const d = new Defragmenter({ anomaly: () => undefined }, limits);
    const rnd = rng(17);
    const payload = Buffer.alloc(2000, 0x61);
    const prov: Provenance = { kind: 'capture', frame: 1 };
    for (let i = 0; i < 20_000; i++) {
      const key = `k${Math.floor(rnd() * 400)}`;
      const off = Math.floor(rnd() * 64) * 8;
      const len = 8 * (1 + Math.floor(rnd() * 100));
      d.add(key, rnd() < 0.3, off, rnd() < 0.9, 17, payload, 0, Math.min(len, payload.length), i, prov);
      assert.ok(d.pendingDatagrams <= 50, `pending ${d.pendingDatagrams}`);
      assert.ok(d.pendingBytes <= 40_000, `bytes ${d.pendingBytes}`);
      assert.ok(d.pendingBytes >= 0);
    }
    assert.ok(d.stats.evictions > 0);
    d.flush(30_000);
    assert.equal(d.pendingDatagrams, 0);
    assert.equal(d.pendingBytes, 0);
  });

  it('fragments cut into random sizes and shuffled, with duplicates, reassemble exactly (property)', () => {
    const rnd = rng(23);
    for (let iter = 0; iter < 100; iter++) {
      const body = Buffer.alloc(100 + Math.floor(rnd() * 5000));
      for (let i = 0; i < body.length; i++) body[i] = Math.floor(rnd() * 256);
      const d = new Defragmenter({ anomaly: (a) => assert.fail(a.code) });
      const pieces: [number, number][] = [];
      for (let off = 0; off < body.length;) {
        const len = Math.min(body.length - off, 8 * (1 + Math.floor(rnd() * 80)));
        pieces.push([off, off + len]);
        off += len;
      }
      const order = pieces.concat(pieces.filter(() => rnd() < 0.2));
      for (let i = order.length - 1; i > 0; i--) {
        const j = Math.floor(rnd() * (i + 1));
        [order[i], order[j]] = [order[j] as [number, number], order[i] as [number, number]];
      }
      let out: Buffer | null = null;
      let completions = 0;
      for (const [s, e] of order) {
        const r = d.add('x', iter % 2 === 0, s, e < body.length, 17, body, s, e, 0, { kind: 'capture' });
        if (r !== null) {
          out = r;
          completions++;
        }
      }
      assert.ok(out !== null && out.equals(body), `iteration ${iter}`);
      assert.ok(completions >= 1);
    }
  });
});

describe('reassembly on the corpus (checked with tshark)', () => {
  async function run(file: string, options: DecoderOptions = {}): Promise<Harness> {
    const h = new Harness(options);
    let last = 0;
    await readCaptureFile(`${CORPUS}/${file}`, (f) => {
      last = f.time;
      h.decoder.decodeFrame(f.linkType, f.data, f.time, { kind: 'capture', file, frame: f.frame });
    });
    h.decoder.flush(last);
    return h;
  }

  it('snort3_demo/digium.pcap: 12 IPv4 fragments make one 16661-byte UDP datagram at frame 31', async () => {
    const h = await run('snort3_demo/digium.pcap', { sipPorts: [5060, 9999] });
    assert.equal(h.decoder.stats.defrag.fragments, 12);
    assert.equal(h.decoder.stats.defrag.reassembled, 1);
    const big = h.datagrams.filter((d) => d.provenance.frame === 31);
    assert.equal(big.length, 1);
    assert.equal(big[0]?.data.length, 16661 - 8);
    assert.deepEqual([big[0]?.srcPort, big[0]?.dstPort], [9999, 4049]);
    assert.equal(h.datagrams.length, 20);
    assert.deepEqual(h.anomalies, []);
  });

  it('sngrep/ipv6frag.pcap: two fragmented INVITEs (frames 2 and 5) among 32 datagrams', async () => {
    const h = await run('sngrep/ipv6frag.pcap');
    assert.equal(h.decoder.stats.defrag.reassembled, 2);
    assert.equal(h.datagrams.length, 32);
    const byFrame = new Map(h.datagrams.map((d) => [d.provenance.frame, d]));
    assert.equal(byFrame.get(2)?.data.length, 1699 - 8);
    assert.equal(byFrame.get(5)?.data.length, 1879 - 8);
    assert.match(byFrame.get(2)?.data.toString('latin1', 0, 20) ?? '', /^INVITE sip:/);
    assert.deepEqual(
      [byFrame.get(2)?.srcIp, byFrame.get(2)?.dstIp],
      ['fd17:625c:f037:2:a00:27ff:feb9:1521', 'fd17:625c:f037:2:a00:27ff:feb9:3519'],
    );
  });

  it('heplify/ipv6_udp_fragmented.pcap: 4 fragments make a 5379-byte payload at frame 6', async () => {
    const h = await run('heplify/ipv6_udp_fragmented.pcap', { sipPorts: [6363] });
    assert.equal(h.decoder.stats.defrag.fragments, 4);
    assert.equal(h.decoder.stats.defrag.reassembled, 1);
    assert.deepEqual(
      h.datagrams.map((d) => [d.provenance.frame, d.data.length]),
      [
        [1, 118],
        [2, 31],
        [6, 5379],
      ],
    );
    const dflt = await run('heplify/ipv6_udp_fragmented.pcap');
    assert.equal(dflt.datagrams.length, 0, 'port 6363 and no SIP look: dropped');
  });
});
