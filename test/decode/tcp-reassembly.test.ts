import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { LocatedAnomaly, Payload, StreamEndPayload, StreamPayload } from '../../src/core/records.js';
import { PacketDecoder, type DecoderOptions } from '../../src/decode/decoder.js';
import { TcpReassembler } from '../../src/decode/tcp-reassembly.js';
import { readCaptureFile } from '../../src/sources/capture-file.js';
import { ipPacket, PROTO, sipRequest, tcp } from '../helpers/pcap-writer.js';

const CORPUS = '../shared/corpus/pcap';
const RAW = 101;
const T0 = 1_700_000_000_000;

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

interface Endpoint {
  ip: string;
  port: number;
}

class Harness {
  readonly payloads: Payload[] = [];
  readonly anomalies: LocatedAnomaly[] = [];
  readonly decoder: PacketDecoder;
  frame = 0;
  time = T0;
  constructor(options: DecoderOptions = {}) {
    this.decoder = new PacketDecoder(
      {
        payload: (p) => this.payloads.push(p.kind === 'stream' ? { ...p, data: Buffer.from(p.data) } : p),
        anomaly: (a) => this.anomalies.push(a),
      },
      options,
    );
  }
  /** Sends one segment from `from` to `to`; returns its frame number. */
  send(from: Endpoint, to: Endpoint, seq: number, flags: string, payload = '', ack = 0, dt = 1): number {
    this.time += dt;
    const pkt = ipPacket(
      from.ip,
      to.ip,
      PROTO.TCP,
      tcp({ sport: from.port, dport: to.port, seq, ack, flags }, Buffer.from(payload, 'latin1')),
    );
    this.decoder.decodeFrame(RAW, pkt, this.time, { kind: 'capture', file: 't', frame: ++this.frame });
    return this.frame;
  }
  streams(): StreamPayload[] {
    return this.payloads.filter((p): p is StreamPayload => p.kind === 'stream');
  }
  ends(): StreamEndPayload[] {
    return this.payloads.filter((p): p is StreamEndPayload => p.kind === 'stream-end');
  }
  /** Bytes delivered per stream id, in order. */
  text(streamId: number): string {
    return this.streams()
      .filter((p) => p.streamId === streamId)
      .map((p) => p.data.toString('latin1'))
      .join('');
  }
  codes(): string[] {
    return this.anomalies.map((a) => a.code);
  }
}

const C: Endpoint = { ip: '192.0.2.10', port: 40000 };
const S: Endpoint = { ip: '198.51.100.20', port: 5060 };

/** Handshake with client ISN `ci` and server ISN `si`. */
function handshake(h: Harness, ci: number, si: number, c: Endpoint = C, s: Endpoint = S): void {
  h.send(c, s, ci, 'S');
  h.send(s, c, si, 'SA', '', (ci + 1) >>> 0);
  h.send(c, s, (ci + 1) >>> 0, 'A', '', (si + 1) >>> 0);
}

describe('TCP reassembly: the normal life of a connection', () => {
  it('handshake, data both ways, FIN both ways: in-order payloads and one stream-end per direction', () => {
    const h = new Harness();
    handshake(h, 1000, 5000);
    h.send(C, S, 1001, 'PA', 'REGISTER sip:x SIP/2.0\r\n', 5001);
    h.send(C, S, 1025, 'PA', 'Content-Length: 0\r\n\r\n', 5001);
    h.send(S, C, 5001, 'PA', 'SIP/2.0 200 OK\r\n\r\n', 1046);
    h.send(C, S, 1046, 'FA', '', 5019);
    h.send(S, C, 5019, 'FA', '', 1047);
    const st = h.streams();
    assert.equal(st.length, 3);
    const [c2s, s2c] = [(st[0] as StreamPayload).streamId, (st[2] as StreamPayload).streamId];
    assert.notEqual(c2s, s2c);
    assert.equal(h.text(c2s), 'REGISTER sip:x SIP/2.0\r\nContent-Length: 0\r\n\r\n');
    assert.equal(h.text(s2c), 'SIP/2.0 200 OK\r\n\r\n');
    const p0 = st[0] as StreamPayload;
    assert.deepEqual(
      [p0.srcIp, p0.srcPort, p0.dstIp, p0.dstPort, p0.transport, p0.gap, p0.provenance.frame],
      ['192.0.2.10', 40000, '198.51.100.20', 5060, 'tcp', false, 4],
    );
    assert.deepEqual(
      h.ends().map((e) => [e.streamId, e.provenance.frame]),
      [
        [c2s, 7],
        [s2c, 8],
      ],
    );
    assert.deepEqual(h.anomalies, []);
    assert.equal(h.decoder.stats.tcpStreams.connections, 1);
  });

  it('picks up mid-stream at the first payload segment', () => {
    const h = new Harness();
    h.send(C, S, 777_777, 'PA', 'OPTIONS sip:a SIP/2.0\r\n');
    h.send(C, S, 777_777 + 23, 'PA', '\r\n');
    assert.equal(h.text((h.streams()[0] as StreamPayload).streamId), 'OPTIONS sip:a SIP/2.0\r\n\r\n');
    assert.equal(h.decoder.stats.tcpStreams.midstreamPickups, 1);
  });

  it('handles sequence numbers wrapping past 2^32, in order and out of order', () => {
    const h = new Harness();
    handshake(h, 0xfffffff0, 100);
    const base = 0xfffffff1;
    h.send(C, S, base, 'PA', 'aaaaaaaaaa'); // ends at 0xfffffffb
    h.send(C, S, (base + 20) >>> 0, 'PA', 'cccccccccc'); // after the wrap, out of order
    h.send(C, S, (base + 10) >>> 0, 'PA', 'bbbbbbbbbb'); // crosses 2^32
    h.send(C, S, (base + 30) >>> 0, 'PA', 'dd');
    assert.equal(h.text((h.streams()[0] as StreamPayload).streamId), 'aaaaaaaaaabbbbbbbbbbccccccccccdd');
    assert.deepEqual(h.anomalies, []);
  });

  it('a new SYN with another ISN on the same 4-tuple ends the old streams and starts new ones', () => {
    const h = new Harness();
    handshake(h, 1000, 5000);
    h.send(C, S, 1001, 'PA', 'first');
    handshake(h, 900_000, 1);
    h.send(C, S, 900_001, 'PA', 'second');
    const ids = [...new Set(h.streams().map((p) => p.streamId))];
    assert.equal(ids.length, 2);
    assert.equal(h.text(ids[0] as number), 'first');
    assert.equal(h.text(ids[1] as number), 'second');
    assert.deepEqual(
      h.ends().map((e) => e.streamId),
      [ids[0]],
    );
    assert.equal(h.decoder.stats.tcpStreams.restarts, 1);
  });

  it('RST ends both directions that delivered bytes', () => {
    const h = new Harness();
    handshake(h, 1, 2);
    h.send(C, S, 2, 'PA', 'hello');
    h.send(S, C, 3, 'PA', 'world');
    h.send(C, S, 7, 'R');
    assert.equal(h.ends().length, 2);
    assert.equal(h.decoder.stats.tcpStreams.streamEnds, 2);
    h.send(C, S, 2, 'PA', 'hello'); // retransmission after the reset: absorbed
    assert.equal(h.streams().length, 2);
  });
});

describe('TCP reassembly: disorder', () => {
  it('buffers out-of-order segments; the frame that fills the hole is the provenance of what it releases', () => {
    const h = new Harness();
    handshake(h, 0, 0);
    h.send(C, S, 11, 'PA', 'bbbbbbbbbb'); // frame 4, out of order
    h.send(C, S, 21, 'PA', 'cccccccccc'); // frame 5, out of order
    assert.equal(h.streams().length, 0);
    const fill = h.send(C, S, 1, 'PA', 'aaaaaaaaaa'); // frame 6
    const st = h.streams();
    assert.equal(st.map((p) => p.data.toString()).join(''), 'aaaaaaaaaabbbbbbbbbbcccccccccc');
    assert.ok(st.every((p) => p.provenance.frame === fill));
    assert.ok(st.every((p) => !p.gap));
    assert.equal(h.decoder.stats.tcpStreams.outOfOrder, 2);
    assert.equal(h.decoder.state.tcpBufferedBytes, 0);
  });

  it('drops and counts retransmissions; delivers only the new part of a partial one', () => {
    const h = new Harness();
    handshake(h, 0, 0);
    h.send(C, S, 1, 'PA', 'abcdef');
    h.send(C, S, 1, 'PA', 'abcdef');
    h.send(C, S, 4, 'PA', 'defghi');
    assert.equal(h.text((h.streams()[0] as StreamPayload).streamId), 'abcdefghi');
    assert.equal(h.decoder.stats.tcpStreams.retransmissions, 1);
    assert.deepEqual(h.anomalies, []);
  });

  it('overlapping buffered bytes: first-seen kept; an anomaly only when they differ', () => {
    const h = new Harness();
    handshake(h, 0, 0);
    h.send(C, S, 6, 'PA', 'FGHIJ');
    h.send(C, S, 8, 'PA', 'HIJKL'); // same bytes where it overlaps
    assert.deepEqual(h.anomalies, []);
    h.send(C, S, 9, 'PA', 'xxxxMN'); // different bytes over IJKL
    assert.deepEqual(h.codes(), ['tcp_overlap_mismatch']);
    h.send(C, S, 1, 'PA', 'ABCDE');
    assert.equal(h.text((h.streams()[0] as StreamPayload).streamId), 'ABCDEFGHIJKLMN');
    assert.ok(h.decoder.stats.tcpStreams.overlaps >= 2);
    // An in-order segment that runs over buffered bytes keeps the buffered ones too.
    const g = new Harness();
    handshake(g, 0, 0);
    g.send(C, S, 4, 'PA', 'DEF');
    g.send(C, S, 1, 'PA', 'ABCxyzG');
    assert.equal(g.text((g.streams()[0] as StreamPayload).streamId), 'ABCDEFG');
    assert.deepEqual(g.codes(), ['tcp_overlap_mismatch']);
  });

  it('a FIN that arrives before missing bytes ends the stream once they are delivered', () => {
    const h = new Harness();
    handshake(h, 0, 0);
    h.send(C, S, 6, 'FA', 'world');
    assert.equal(h.ends().length, 0);
    h.send(C, S, 1, 'PA', 'hello');
    assert.equal(h.text((h.streams()[0] as StreamPayload).streamId), 'helloworld');
    assert.equal(h.ends().length, 1);
  });
});

describe('TCP reassembly: gaps', () => {
  it('skips ahead when the out-of-order buffer is full', () => {
    const h = new Harness({ tcp: { maxBufferedBytesPerStream: 25 } });
    handshake(h, 0, 0);
    h.send(C, S, 1, 'PA', 'aaaaa');
    h.send(C, S, 11, 'PA', 'cccccccccc');
    h.send(C, S, 21, 'PA', 'dddddddddd');
    assert.equal(h.streams().length, 1);
    h.send(C, S, 31, 'PA', 'eeeeeeeeee'); // 30 buffered > 25
    const st = h.streams();
    assert.equal(
      st.map((p) => p.data.toString()).join(''),
      'aaaaacccccccccddddddddddeeeeeeeeee'.replace('ccccccccc', 'cccccccccc'),
    );
    assert.deepEqual(
      st.map((p) => p.gap),
      [false, true, false, false],
    );
    assert.deepEqual(h.codes(), ['tcp_gap']);
    assert.match(h.anomalies[0]?.detail ?? '', /5 bytes missing \(out-of-order buffer full\)/);
    assert.equal(h.decoder.stats.tcpStreams.gapBytes, 5);
  });

  it('skips ahead when a hole outlasts the gap timeout (event time, checked on later frames)', () => {
    const h = new Harness();
    handshake(h, 0, 0);
    h.send(C, S, 11, 'PA', 'later');
    const other: Endpoint = { ip: '203.0.113.5', port: 1234 };
    h.send(other, { ip: '203.0.113.6', port: 443 }, 1, 'PA', 'tls', 0, 4000);
    assert.equal(h.streams().length, 0);
    h.send(other, { ip: '203.0.113.6', port: 443 }, 4, 'PA', 'tls', 0, 2000);
    assert.equal(h.streams().length, 1);
    const p = h.streams()[0] as StreamPayload;
    assert.deepEqual([p.data.toString(), p.gap, p.provenance.frame], ['later', true, 4]);
    assert.deepEqual(h.codes(), ['tcp_gap']);
    h.send(S, C, 1, 'A', '', 16); // the receiver got past the skipped range too: nothing to undo
    h.send(C, S, 16, 'PA', 'next');
    assert.equal(h.text(p.streamId), 'laternext');
    assert.deepEqual(h.codes(), ['tcp_gap']);
  });

  it('a hole that keeps shrinking is not abandoned, whatever its age', () => {
    const h = new Harness();
    handshake(h, 0, 0);
    h.send(C, S, 100_001, 'PA', 'far ahead');
    for (let i = 0; i < 12; i++) h.send(C, S, 1 + i * 10, 'PA', 'x'.repeat(10), 0, 1000);
    assert.deepEqual(h.codes(), []);
    assert.equal(h.text((h.streams()[0] as StreamPayload).streamId), 'x'.repeat(120));
  });

  it('a sender that plants bytes far ahead and goes quiet cannot blind the monitor: the receiver ACK resyncs', () => {
    const h = new Harness();
    handshake(h, 0, 0);
    h.send(C, S, 1_000_001, 'PA', 'planted');
    const other: Endpoint = { ip: '203.0.113.5', port: 1234 };
    h.send(other, { ip: '203.0.113.6', port: 443 }, 1, 'PA', 'tls', 0, 6000); // the hole times out
    assert.deepEqual(h.codes(), ['tcp_gap']);
    const first = 'REGISTER sip:a SIP/2.0\r\n\r\n';
    h.send(C, S, 1, 'PA', first); // looks like a retransmission now
    h.send(S, C, 1, 'A', '', 1 + first.length); // but the server acknowledges it
    assert.deepEqual(h.codes(), ['tcp_gap', 'tcp_resync']);
    const second = 'INVITE sip:b SIP/2.0\r\n\r\n';
    h.send(C, S, 1 + first.length, 'PA', second);
    const last = h.streams().at(-1) as StreamPayload;
    assert.deepEqual([last.data.toString(), last.gap], [second, true]);
    assert.equal(h.decoder.stats.tcpStreams.resyncs, 1);
  });

  it('skips at once when the receiver acknowledges bytes the capture never saw', () => {
    const h = new Harness();
    handshake(h, 0, 0);
    h.send(C, S, 11, 'PA', 'second', 1);
    h.send(S, C, 1, 'A', '', 17); // server has everything up to 17
    const p = h.streams()[0] as StreamPayload;
    assert.deepEqual([p.data.toString(), p.gap], ['second', true]);
    assert.match(h.anomalies[0]?.detail ?? '', /acknowledged by the receiver/);
  });

  it('end of input delivers what is buffered after a gap and ends every stream', () => {
    const h = new Harness();
    handshake(h, 0, 0);
    h.send(C, S, 1, 'PA', 'head');
    h.send(C, S, 11, 'PA', 'tail');
    h.decoder.flush(h.time);
    assert.equal(h.text((h.streams()[0] as StreamPayload).streamId), 'headtail');
    assert.equal((h.streams()[1] as StreamPayload).gap, true);
    assert.equal(h.ends().length, 1);
    assert.equal(h.decoder.state.tcpConnections, 0);
  });

  it('idle connections expire in event time with a stream-end', () => {
    const h = new Harness();
    handshake(h, 0, 0);
    h.send(C, S, 1, 'PA', 'x');
    h.send(S, C, 1, 'PA', 'y');
    const other: Endpoint = { ip: '203.0.113.5', port: 1234 };
    h.send(other, { ip: '203.0.113.6', port: 443 }, 1, 'PA', '', 0, 29 * 60_000);
    assert.equal(h.decoder.state.tcpConnections, 1);
    h.send(other, { ip: '203.0.113.6', port: 443 }, 1, 'PA', '', 0, 2 * 60_000);
    assert.equal(h.decoder.state.tcpConnections, 0);
    assert.equal(h.ends().length, 2);
    assert.equal(h.decoder.stats.tcpStreams.timeouts, 1);
  });
});

describe('TCP reassembly: which flows are followed', () => {
  it('other TCP flows are not followed and leave no state', () => {
    const h = new Harness();
    const a: Endpoint = { ip: '10.0.0.1', port: 50000 };
    const b: Endpoint = { ip: '10.0.0.2', port: 443 };
    h.send(a, b, 1, 'S');
    h.send(a, b, 2, 'PA', '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03');
    h.send(a, b, 20, 'PA', 'GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.equal(h.payloads.length, 0);
    assert.equal(h.decoder.state.tcpConnections, 0);
    assert.equal(h.decoder.stats.tcpStreams.untracked, 3);
  });

  it('follows SIP on any port when the first bytes are a SIP start line, both directions', () => {
    const h = new Harness();
    const a: Endpoint = { ip: '10.0.0.1', port: 50000 };
    const b: Endpoint = { ip: '10.0.0.2', port: 15060 };
    h.send(a, b, 1, 'PA', sipRequest('REGISTER').toString('latin1'));
    h.send(b, a, 9, 'PA', 'SIP/2.0 401 Unauthorized\r\n\r\n');
    h.send(b, a, 37, 'PA', 'more bytes of the same stream');
    assert.equal(h.streams().length, 3);
    assert.equal(h.decoder.state.tcpConnections, 1);
  });

  it('follows a WebSocket upgrade (SIP over WebSocket) but not plain HTTP', () => {
    const h = new Harness();
    const a: Endpoint = { ip: '10.0.0.1', port: 50001 };
    const b: Endpoint = { ip: '10.0.0.2', port: 8080 };
    h.send(
      a,
      b,
      1,
      'PA',
      'GET / HTTP/1.1\r\nHost: pbx\r\nConnection: Upgrade\r\nUPGRADE:  WebSocket\r\nSec-WebSocket-Protocol: sip\r\n\r\n',
    );
    h.send(b, a, 1, 'PA', 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n');
    h.send(a, b, 100, 'PA', '\x81\x85abcdefghi');
    assert.equal(h.streams().length, 3);
    const g = new Harness();
    g.send(a, b, 1, 'PA', 'GET / HTTP/1.1\r\nHost: pbx\r\nUpgrade-Insecure-Requests: 1\r\n\r\n');
    assert.equal(g.streams().length, 0);
  });

  it('a flood of spoofed new connections cannot evict established ones (property)', () => {
    const h = new Harness({ tcp: { maxConnections: 20 } });
    const good: Endpoint[] = [];
    for (let i = 0; i < 5; i++) {
      const c: Endpoint = { ip: `192.0.2.${i + 1}`, port: 40000 + i };
      good.push(c);
      handshake(h, 1000 * i, 7, c);
      h.send(c, S, 1000 * i + 1, 'PA', `hello ${i}`);
    }
    const rnd = rng(1);
    for (let i = 0; i < 1000; i++) {
      const spoof: Endpoint = {
        ip: `10.${Math.floor(rnd() * 256)}.${Math.floor(rnd() * 256)}.${i % 256}`,
        port: 1024 + i,
      };
      if (i % 2 === 0) h.send(spoof, S, Math.floor(rnd() * 2 ** 32), 'S');
      else h.send(spoof, S, Math.floor(rnd() * 2 ** 32), 'PA', 'INVITE sip:x SIP/2.0\r\n');
      assert.ok(h.decoder.state.tcpConnections <= 20);
    }
    const stats = h.decoder.stats.tcpStreams;
    assert.equal(stats.establishedEvictions, 0);
    assert.ok(stats.evictions >= 980 - 20, `evictions ${stats.evictions}`);
    assert.equal(h.decoder.stats.evictions['tcp-connections'], stats.evictions);
    good.forEach((c, i) => h.send(c, S, 1000 * i + 1 + `hello ${i}`.length, 'PA', ' again'));
    good.forEach((_, i) => {
      const first = h.streams().find((p) => p.data.toString() === `hello ${i}`) as StreamPayload;
      assert.equal(h.text(first.streamId), `hello ${i} again`);
    });
  });
});

describe('TCP reassembly: properties', () => {
  it('a stream cut into random segments, shuffled, with duplicates and overlaps, comes out exact', () => {
    const rnd = rng(2024);
    for (let iter = 0; iter < 50; iter++) {
      const h = new Harness();
      const len = 1 + Math.floor(rnd() * 20_000);
      const body = Buffer.alloc(len);
      for (let i = 0; i < len; i++) body[i] = 32 + Math.floor(rnd() * 90);
      const isn =
        iter % 3 === 0 ? (0xffffffff - Math.floor(rnd() * 5000)) >>> 0 : Math.floor(rnd() * 2 ** 32);
      handshake(h, isn, 1);
      const segs: [number, number][] = [];
      for (let off = 0; off < len;) {
        const n = Math.min(len - off, 1 + Math.floor(rnd() * 1500));
        segs.push([off, off + n]);
        off += n;
      }
      const extra = segs
        .filter(() => rnd() < 0.3)
        .map(([s, e]): [number, number] => {
          const a = Math.max(0, s - Math.floor(rnd() * 50));
          return [a, Math.min(len, e + Math.floor(rnd() * 50))];
        });
      const all = segs.concat(extra);
      for (let i = all.length - 1; i > 0; i--) {
        const j = Math.floor(rnd() * (i + 1));
        [all[i], all[j]] = [all[j] as [number, number], all[i] as [number, number]];
      }
      for (const [s, e] of all) {
        h.send(C, S, (isn + 1 + s) >>> 0, 'PA', body.toString('latin1', s, e), 0, 0.1);
      }
      const st = h.streams();
      assert.ok(st.length > 0);
      assert.equal(h.text((st[0] as StreamPayload).streamId), body.toString('latin1'), `iteration ${iter}`);
      assert.ok(st.every((p) => !p.gap));
      assert.deepEqual(h.codes(), [], `iteration ${iter}`);
      assert.equal(h.decoder.state.tcpBufferedBytes, 0);
    }
  });

  it('random segments on random connections keep every bound and never throw', () => {
    const limits = {
      maxConnections: 64,
      maxBufferedBytesPerStream: 4096,
      maxBufferedSegmentsPerStream: 16,
      maxBufferedBytesTotal: 50_000,
    };
    const h = new Harness({ tcp: limits });
    const rnd = rng(77);
    const flags = ['S', 'SA', 'A', 'PA', 'FA', 'R', 'PA', 'PA', 'PA'];
    for (let i = 0; i < 8000; i++) {
      const a: Endpoint = { ip: `10.0.${Math.floor(rnd() * 4)}.${Math.floor(rnd() * 40)}`, port: 5060 };
      const b: Endpoint = { ip: '10.1.0.1', port: 30000 + Math.floor(rnd() * 4) };
      const [from, to] = rnd() < 0.5 ? [a, b] : [b, a];
      const payload = 'x'.repeat(Math.floor(rnd() * 700));
      h.send(
        from,
        to,
        Math.floor(rnd() * 100_000),
        flags[Math.floor(rnd() * flags.length)] ?? 'PA',
        payload,
        Math.floor(rnd() * 100_000),
        rnd() * 50,
      );
      const s = h.decoder.state;
      assert.ok(s.tcpConnections <= 64);
      assert.ok(s.tcpBufferedBytes <= 50_000 && s.tcpBufferedBytes >= 0, `buffered ${s.tcpBufferedBytes}`);
    }
    h.decoder.flush(h.time);
    assert.equal(h.decoder.state.tcpConnections, 0);
    assert.equal(h.decoder.state.tcpBufferedBytes, 0);
    const ends = new Set(h.ends().map((e) => e.streamId));
    assert.equal(ends.size, h.ends().length, 'each stream ends once');
  });

  it('the pre-filter forgets ports when content-admitted connections go away', () => {
    const r = new TcpReassembler({ payload: () => undefined, anomaly: () => undefined });
    const addr = Buffer.from([10, 0, 0, 1, 10, 0, 0, 2]);
    const data = Buffer.from('INVITE sip:a SIP/2.0\r\n');
    r.segment(addr, 0, 4, 50000, 15060, 1, 0, 0x18, data, 0, data.length, 0, true, true, T0, {
      kind: 'capture',
    });
    assert.equal(r.mayTrack(15060, 50000), true);
    r.flush(T0);
    assert.equal(r.mayTrack(15060, 50000), false);
    assert.equal(r.connectionCount, 0);
  });
});

describe('TCP reassembly on the corpus (byte counts and hashes from tshark "follow tcp")', () => {
  async function run(file: string): Promise<Harness> {
    const h = new Harness();
    let last = 0;
    await readCaptureFile(`${CORPUS}/${file}`, (f) => {
      last = f.time;
      h.decoder.decodeFrame(f.linkType, f.data, f.time, { kind: 'capture', file, frame: f.frame });
    });
    h.decoder.flush(last);
    return h;
  }
  function perStream(h: Harness): Map<string, Buffer> {
    const m = new Map<string, Buffer[]>();
    for (const p of h.streams()) {
      const k = `${p.srcIp}:${p.srcPort}>${p.dstIp}:${p.dstPort}`;
      m.set(k, [...(m.get(k) ?? []), p.data]);
    }
    return new Map([...m].map(([k, v]) => [k, Buffer.concat(v)]));
  }
  const sha = (b: Buffer | undefined): string =>
    createHash('sha256')
      .update(b ?? Buffer.alloc(0))
      .digest('hex')
      .slice(0, 16);

  it('heplify/sip_ipv4_tcp.pcap: exact bytes both ways', async () => {
    const m = perStream(await run('heplify/sip_ipv4_tcp.pcap'));
    assert.equal(m.get('10.33.6.100:64802>10.33.6.101:5060')?.length, 1801);
    assert.equal(m.get('10.33.6.101:5060>10.33.6.100:64802')?.length, 2234);
    assert.equal(sha(m.get('10.33.6.100:64802>10.33.6.101:5060')), 'fd1ae6e5e47fff80');
    assert.equal(sha(m.get('10.33.6.101:5060>10.33.6.100:64802')), 'c4e70dea42b93f6a');
  });

  it('heplify/sip_tcp_websocket.pcap: SIP over WebSocket on 8080, exact bytes', async () => {
    const m = perStream(await run('heplify/sip_tcp_websocket.pcap'));
    assert.equal(sha(m.get('10.243.17.55:43380>10.243.0.157:8080')), '948d5b65ab1f9390');
    assert.equal(sha(m.get('10.243.0.157:8080>10.243.17.55:43380')), '6c0368fd888f2a6e');
    assert.equal(m.get('10.243.17.55:43380>10.243.0.157:8080')?.length, 7396);
  });

  it('sngrep/ipip.pcap: a TCP stream partly inside IP-in-IP tunnels', async () => {
    const h = await run('sngrep/ipip.pcap');
    const m = perStream(h);
    assert.equal(sha(m.get('10.15.197.103:5090>10.15.193.31:33093')), 'fad969254ff21a37');
    assert.equal(sha(m.get('10.15.193.31:33093>10.15.197.103:5090')), 'bdb217d575fde4bf');
    assert.equal(h.decoder.stats.tunnels, 2);
  });

  it('heplify/sip_ipv4_tcp_fragmented.pcap: SIP messages over many segments, 8 directions', async () => {
    const h = await run('heplify/sip_ipv4_tcp_fragmented.pcap');
    const m = perStream(h);
    assert.deepEqual(
      [...m.values()].map((b) => b.length).sort((a, b) => a - b),
      [24083, 25656, 25913, 28132, 28337, 29554, 58632, 61553],
    );
    assert.equal(h.ends().length, 8);
    assert.equal(h.streams().filter((p) => p.gap).length, 0);
  });

  it('heplify/sip_ipv4_tcp_retrans.pcap (Linux SLL, retransmissions): only the SIP connection, exact size', async () => {
    const h = await run('heplify/sip_ipv4_tcp_retrans.pcap');
    const m = perStream(h);
    assert.deepEqual(
      [...m].map(([k, v]) => [k, v.length]),
      [
        ['172.168.0.252:52795>172.168.0.228:5060', 1516],
        ['172.168.0.228:5060>172.168.0.252:52795', 1147],
      ],
    );
  });

  it('suricata-verify sip-body-large (BSD loopback): a 64 KiB body over many segments', async () => {
    const m = perStream(await run('suricata-verify/sip-body-large/sip-body-large.pcap'));
    assert.deepEqual(
      [...m.values()].map((b) => b.length),
      [65793, 207],
    );
  });
});
