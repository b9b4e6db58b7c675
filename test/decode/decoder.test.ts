import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { DatagramPayload, LocatedAnomaly, Payload } from '../../src/core/records.js';
import { DECODE_ANOMALIES } from '../../src/decode/anomalies.js';
import {
  looksLikeHep,
  looksLikeSip,
  looksLikeWebSocketUpgrade,
  PacketDecoder,
  type DecoderOptions,
} from '../../src/decode/decoder.js';
import { readCaptureFile } from '../../src/sources/capture-file.js';
import {
  erspan2,
  erspan3,
  ETH,
  ethernet,
  gre,
  ipv4,
  ipv6,
  LINK,
  linuxSll,
  linuxSll2,
  loop,
  nullLoopback,
  PROTO,
  sipRequest,
  tcp,
  udp,
} from '../helpers/pcap-writer.js';

const CORPUS = '../shared/corpus/pcap';
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
  feed(linkType: number, ...frames: Buffer[]): this {
    for (const f of frames)
      this.decoder.decodeFrame(linkType, f, T0 + this.frame, {
        kind: 'capture',
        file: 'x',
        frame: ++this.frame,
      });
    return this;
  }
  get datagrams(): DatagramPayload[] {
    return this.payloads.filter((p): p is DatagramPayload => p.kind === 'datagram');
  }
  codes(): string[] {
    return this.anomalies.map((a) => a.code);
  }
}

const SIP = sipRequest('REGISTER');
const V4 = ipv4({ src: '192.0.2.1', dst: '198.51.100.2', proto: PROTO.UDP }, udp(5060, 5060, SIP));
const V6 = ipv6({ src: '2001:db8::a', dst: '2001:db8:0:0:1::2', proto: PROTO.UDP }, udp(5062, 5080, SIP));

function one(h: Harness): DatagramPayload {
  assert.equal(h.datagrams.length, 1, `datagrams: ${h.datagrams.length}, anomalies: ${h.codes().join(',')}`);
  return h.datagrams[0] as DatagramPayload;
}

describe('PacketDecoder: link types', () => {
  const cases: [string, number, Buffer, string][] = [
    ['Ethernet', LINK.ETHERNET, ethernet(ETH.IPV4, V4), '192.0.2.1'],
    ['802.1Q', LINK.ETHERNET, ethernet(ETH.IPV4, V4, [{ tpid: ETH.VLAN, id: 42 }]), '192.0.2.1'],
    [
      'QinQ 802.1ad',
      LINK.ETHERNET,
      ethernet(ETH.IPV6, V6, [
        { tpid: ETH.QINQ, id: 1 },
        { tpid: ETH.VLAN, id: 2 },
      ]),
      '2001:db8::a',
    ],
    [
      'QinQ 0x9100',
      LINK.ETHERNET,
      ethernet(ETH.IPV4, V4, [
        { tpid: ETH.QINQ_OLD, id: 1 },
        { tpid: ETH.VLAN, id: 2 },
      ]),
      '192.0.2.1',
    ],
    ['Linux SLL', LINK.LINUX_SLL, linuxSll(ETH.IPV4, V4), '192.0.2.1'],
    ['Linux SLL2', LINK.LINUX_SLL2, linuxSll2(ETH.IPV6, V6), '2001:db8::a'],
    ['raw 101 v4', LINK.RAW, V4, '192.0.2.1'],
    ['raw 101 v6', LINK.RAW, V6, '2001:db8::a'],
    ['raw 12', 12, V4, '192.0.2.1'],
    ['raw 14', 14, V6, '2001:db8::a'],
    ['IPv4 228', LINK.IPV4, V4, '192.0.2.1'],
    ['IPv6 229', LINK.IPV6, V6, '2001:db8::a'],
    ['null AF_INET LE', LINK.NULL, nullLoopback(2, V4), '192.0.2.1'],
    ['null AF_INET BE', LINK.NULL, nullLoopback(2, V4, true), '192.0.2.1'],
    ['null AF_INET6 24', LINK.NULL, nullLoopback(24, V6), '2001:db8::a'],
    ['null AF_INET6 28', LINK.NULL, nullLoopback(28, V6, true), '2001:db8::a'],
    ['null AF_INET6 30', LINK.NULL, nullLoopback(30, V6), '2001:db8::a'],
    ['LOOP', LINK.LOOP, loop(2, V4), '192.0.2.1'],
  ];
  for (const [name, lt, frame, src] of cases) {
    it(name, () => {
      const d = one(new Harness().feed(lt, frame));
      assert.equal(d.srcIp, src);
      assert.equal(d.transport, 'udp');
      assert.ok(d.data.equals(SIP));
      assert.equal(d.provenance.frame, 1);
      assert.equal(d.time, T0);
    });
  }

  it('IPv6 addresses are in RFC 5952 form, ports and data exact', () => {
    const d = one(new Harness().feed(LINK.RAW, V6));
    assert.deepEqual(
      [d.srcIp, d.srcPort, d.dstIp, d.dstPort],
      ['2001:db8::a', 5062, '2001:db8::1:0:0:2', 5080],
    );
  });

  it('an unknown link type is reported once, its frames counted as undecoded', () => {
    const h = new Harness().feed(147, V4, V4, V4).feed(148, V4);
    assert.deepEqual(h.codes(), ['link_unknown_type', 'link_unknown_type']);
    assert.match(h.anomalies[0]?.detail ?? '', /147/);
    assert.equal(h.decoder.stats.undecoded, 4);
    assert.equal(h.decoder.stats.unknownLinkType, 4);
    assert.equal(h.payloads.length, 0);
  });

  it('non-IP frames are counted, not reported', () => {
    const h = new Harness().feed(
      LINK.ETHERNET,
      ethernet(ETH.ARP, Buffer.alloc(28)),
      ethernet(40, Buffer.alloc(40)),
    );
    assert.equal(h.decoder.stats.nonIp, 2);
    assert.deepEqual(h.anomalies, []);
  });
});

describe('PacketDecoder: IP details', () => {
  it('IPv6 extension headers before UDP; IPv4 options', () => {
    const v6 = ipv6(
      {
        src: '2001:db8::1',
        dst: '2001:db8::2',
        proto: PROTO.UDP,
        extensions: [{ type: PROTO.HOPOPTS }, { type: PROTO.DSTOPTS }],
      },
      udp(40000, 5060, SIP),
    );
    assert.ok(one(new Harness().feed(LINK.RAW, v6)).data.equals(SIP));
    const v4 = ipv4(
      { src: '10.0.0.1', dst: '10.0.0.2', proto: PROTO.UDP, options: Buffer.from([0x07, 7, 4, 0, 0, 0, 0]) },
      udp(40000, 5060, SIP),
    );
    assert.ok(one(new Harness().feed(LINK.RAW, v4)).data.equals(SIP));
  });

  it('trims Ethernet padding by the IP and UDP lengths', () => {
    const small = ipv4(
      { src: '10.0.0.1', dst: '10.0.0.2', proto: PROTO.UDP },
      udp(5060, 5060, Buffer.from('\r\n\r\n')),
    );
    const d = one(
      new Harness().feed(LINK.ETHERNET, ethernet(ETH.IPV4, Buffer.concat([small, Buffer.alloc(14)]))),
    );
    assert.equal(d.data.toString(), '\r\n\r\n');
  });

  it('a packet cut by the snap length: ip_truncated, and what is there is delivered', () => {
    const cut = V4.subarray(0, V4.length - 100);
    const h = new Harness().feed(LINK.RAW, cut);
    assert.deepEqual(h.codes(), ['ip_truncated']);
    assert.equal(one(h).data.length, SIP.length - 100);
    assert.equal(h.decoder.stats.ipTruncated, 1);
  });

  it('malformed headers are dropped with an anomaly naming them', () => {
    const cases: [Buffer, string][] = [
      [
        ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: 17, ihl: 3 }, udp(5060, 5060, SIP)),
        'ipv4_bad_header_length',
      ],
      [
        ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: 17, totalLength: 12 }, udp(5060, 5060, SIP)),
        'ipv4_bad_total_length',
      ],
      [Buffer.from([0x75, 0, 0, 0]), 'ip_bad_version'],
      [Buffer.alloc(0), 'link_truncated'],
      [ipv6({ src: '::1', dst: '::2', proto: 17 }, Buffer.alloc(0)).subarray(0, 30), 'ipv6_truncated'],
      [ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: 17 }, Buffer.alloc(5)), 'udp_truncated'],
      [ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: 6 }, Buffer.alloc(12)), 'tcp_truncated'],
      [
        ipv4(
          { src: '10.0.0.1', dst: '10.0.0.2', proto: 6 },
          tcp({ sport: 5060, dport: 5060, seq: 1, dataOffset: 3 }),
        ),
        'tcp_bad_header_length',
      ],
      [
        ipv4(
          { src: '10.0.0.1', dst: '10.0.0.2', proto: 6 },
          tcp({ sport: 5060, dport: 5060, seq: 1, dataOffset: 15 }),
        ),
        'tcp_bad_header_length',
      ],
    ];
    for (const [pkt, code] of cases) {
      const h = new Harness().feed(LINK.RAW, pkt);
      assert.deepEqual(h.codes(), [code], code);
      assert.equal(h.payloads.length, 0, code);
      assert.equal(h.anomalies[0]?.provenance.frame, 1);
    }
  });

  it('UDP length fields that disagree with the packet', () => {
    const short = new Harness().feed(
      LINK.RAW,
      ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: 17 }, udp(5060, 5060, SIP, 4)),
    );
    assert.deepEqual(short.codes(), ['udp_bad_length']);
    assert.equal(one(short).data.length, SIP.length);
    const long = new Harness().feed(
      LINK.RAW,
      ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: 17 }, udp(5060, 5060, SIP, 9000)),
    );
    assert.deepEqual(long.codes(), ['udp_truncated']);
    assert.equal(one(long).data.length, SIP.length);
  });
});

describe('PacketDecoder: tunnels', () => {
  const inner = ipv4({ src: '172.16.0.1', dst: '172.16.0.2', proto: PROTO.UDP }, udp(5060, 5060, SIP));
  const outer = (proto: number, payload: Buffer): Buffer =>
    ipv4({ src: '192.0.2.1', dst: '192.0.2.2', proto }, payload);
  const cases: [string, Buffer][] = [
    ['IP-in-IP (4)', outer(PROTO.IPIP, inner)],
    [
      'IPv6-in-IPv4 (41)',
      outer(
        PROTO.IPV6,
        ipv6({ src: '2001:db8::5', dst: '2001:db8::6', proto: PROTO.UDP }, udp(5060, 5060, SIP)),
      ),
    ],
    [
      'GRE IPv4 with checksum, key, sequence',
      outer(PROTO.GRE, gre(ETH.IPV4, inner, { checksum: true, key: 7, seq: 9 })),
    ],
    [
      'GRE transparent Ethernet bridging',
      outer(PROTO.GRE, gre(ETH.TEB, ethernet(ETH.IPV4, inner), { key: 0 })),
    ],
    ['ERSPAN type I', outer(PROTO.GRE, gre(ETH.ERSPAN2, ethernet(ETH.IPV4, inner)))],
    [
      'ERSPAN type II',
      outer(
        PROTO.GRE,
        gre(ETH.ERSPAN2, erspan2(ethernet(ETH.IPV4, inner, [{ tpid: ETH.VLAN, id: 3 }])), { seq: 1 }),
      ),
    ],
    ['ERSPAN type III', outer(PROTO.GRE, gre(ETH.ERSPAN3, erspan3(ethernet(ETH.IPV4, inner)), { seq: 1 }))],
    [
      'ERSPAN type III, subheader',
      outer(PROTO.GRE, gre(ETH.ERSPAN3, erspan3(ethernet(ETH.IPV4, inner), { subheader: true }), { seq: 2 })),
    ],
    [
      'ERSPAN type III, IP frame type',
      outer(PROTO.GRE, gre(ETH.ERSPAN3, erspan3(inner, { frameType: 2 }), { seq: 3 })),
    ],
  ];
  for (const [name, pkt] of cases) {
    it(name, () => {
      const h = new Harness().feed(LINK.RAW, pkt);
      const d = one(h);
      assert.ok(d.data.equals(SIP));
      assert.ok(d.srcIp === '172.16.0.1' || d.srcIp === '2001:db8::5', d.srcIp);
      assert.equal(h.decoder.stats.tunnels, 1);
      assert.deepEqual(h.anomalies, []);
    });
  }

  it('refuses GRE version 1, source routing, bad ERSPAN versions and truncated headers', () => {
    const bad: [Buffer, string][] = [
      [outer(PROTO.GRE, gre(0x880b, Buffer.alloc(20), { flags: 0x0001 })), 'gre_unsupported'],
      [outer(PROTO.GRE, gre(ETH.IPV4, inner, { flags: 0x4000 })), 'gre_unsupported'],
      [
        outer(
          PROTO.GRE,
          gre(
            ETH.ERSPAN2,
            Buffer.concat([Buffer.from([0x50, 0, 0, 0, 0, 0, 0, 0]), ethernet(ETH.IPV4, inner)]),
            { seq: 1 },
          ),
        ),
        'gre_unsupported',
      ],
      [outer(PROTO.GRE, Buffer.from([0x20, 0, 8, 0, 0])), 'gre_truncated'],
      [outer(PROTO.GRE, Buffer.from([0])), 'gre_truncated'],
      [outer(PROTO.GRE, gre(ETH.ERSPAN3, Buffer.alloc(4), { seq: 1 })), 'gre_truncated'],
    ];
    for (const [pkt, code] of bad) assert.deepEqual(new Harness().feed(LINK.RAW, pkt).codes(), [code], code);
  });

  it('bounds the encapsulation depth', () => {
    let pkt = inner;
    for (let i = 0; i < 4; i++) pkt = outer(PROTO.IPIP, pkt);
    assert.ok(one(new Harness().feed(LINK.RAW, pkt)).data.equals(SIP));
    const deeper = outer(PROTO.IPIP, pkt);
    const h = new Harness().feed(LINK.RAW, deeper);
    assert.deepEqual(h.codes(), ['ip_encapsulation_too_deep']);
    assert.equal(h.payloads.length, 0);
  });
});

describe('PacketDecoder: which UDP is kept', () => {
  const at = (sport: number, dport: number, data: Buffer): Buffer =>
    ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: PROTO.UDP }, udp(sport, dport, data));

  it('SIP and HEP ports are kept whatever the payload; other ports only when it looks like SIP or HEP', () => {
    const h = new Harness();
    h.feed(
      LINK.RAW,
      at(40000, 5060, Buffer.from('junk')),
      at(9060, 40001, Buffer.from('junk')),
      at(40000, 40001, SIP),
    );
    h.feed(LINK.RAW, at(40000, 40001, Buffer.from('HEP3\x00\x10rest')));
    const hep2 = Buffer.alloc(40);
    hep2.set([2, 28, 2, 17]);
    h.feed(LINK.RAW, at(40000, 40001, hep2));
    h.feed(LINK.RAW, at(40000, 40001, Buffer.from('SIP/2.0 200 OK\r\n\r\n')));
    assert.equal(h.datagrams.length, 6);
    assert.equal(h.decoder.stats.datagrams, 6);
  });

  it('drops RTP on a SIP port, DNS, near-misses of SIP, and empty datagrams, without payloads', () => {
    const rtp = Buffer.alloc(172);
    rtp[0] = 0x80;
    const h = new Harness({ sipPorts: [5060, 5062] });
    h.feed(
      LINK.RAW,
      at(5062, 5062, rtp),
      at(53, 40000, Buffer.from([0x12, 0x34, 0x81, 0x80])),
      at(40000, 40001, Buffer.from('GET / HTTP/1.1\r\n\r\n')),
      at(40000, 40001, Buffer.from('invite sip:x SIP/2.0\r\n')),
      at(40000, 40001, Buffer.from('INVITE sip:x SIP/2.1\r\n')),
      at(40000, 40001, Buffer.from('NOTIFY  SIP/2.0\r\n')),
      at(5060, 5060, Buffer.alloc(0)),
    );
    assert.equal(h.payloads.length, 0);
    assert.equal(h.decoder.stats.udpDropped, 7);
    assert.equal(h.decoder.stats.rtpOnSipPort, 1);
  });

  it('custom port lists replace the defaults', () => {
    const h = new Harness({ sipPorts: [15060], hepPorts: [] });
    h.feed(
      LINK.RAW,
      at(40000, 5060, Buffer.from('junk')),
      at(40000, 15060, Buffer.from('junk')),
      at(9060, 1, Buffer.from('junk')),
    );
    assert.deepEqual(
      h.datagrams.map((d) => d.dstPort),
      [15060],
    );
  });

  it('sniffers: positives and negatives', () => {
    const b = (s: string): Buffer => Buffer.from(s, 'latin1');
    const sip = (s: string): boolean => looksLikeSip(b(s), 0, s.length, 2048);
    assert.equal(sip('OPTIONS sip:a@b SIP/2.0\r\n'), true);
    assert.equal(sip('MESSAGE sip:a SIP/2.0'), true);
    assert.equal(sip('SIP/2.0 180 Ringing\r\n'), true);
    assert.equal(sip('INVITE  SIP/2.0\r\n'), false);
    assert.equal(sip('INVITE sip:x HTTP/1.1\r\n'), false);
    assert.equal(sip('Invite sip:x SIP/2.0\r\n'), false);
    assert.equal(sip(`INVITE sip:${'x'.repeat(3000)} SIP/2.0\r\n`), false, 'first line past the scan bound');
    assert.equal(sip('SIP/2.0'), false);
    assert.equal(looksLikeHep(b('HEP3'), 0, 4), true);
    assert.equal(looksLikeHep(b('HEP2'), 0, 4), false);
    const ws = 'GET /ws HTTP/1.1\r\nHost: a\r\nupgrade: websocket\r\n\r\n';
    assert.equal(looksLikeWebSocketUpgrade(b(ws), 0, ws.length, 2048), true);
    assert.equal(looksLikeWebSocketUpgrade(b(ws.replace('websocket', 'h2c')), 0, ws.length, 2048), false);
    assert.equal(looksLikeWebSocketUpgrade(b(ws.replace('GET', 'PUT')), 0, ws.length, 2048), false);
  });
});

describe('PacketDecoder on the corpus (counts checked with tshark)', () => {
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
  const cases: [string, number][] = [
    ['heplify/erspan_sip_ipv4_udp.pcapng', 140], // GRE + transparent Ethernet bridging, some on port 5260
    ['heplify/ipip0.pcap', 8], // raw IP link type
    ['ndpi/sip.pcap', 102], // 81 SIP + 21 keep-alives on 5060
    ['ndpi/sip_hello.pcapng', 30],
    ['hep/hep.pcap', 8], // HEPv3 on 9060
    ['hep/hep3_compressed.pcap.pcapng', 21], // Linux SLL
    ['heplify/sip_ipv6_udp.pcap', 6],
    ['snort3_demo/SIP_Eyebeam2Eyebeam_Video_Audio.pcap', 68], // and 2764 RTP packets on 5062 dropped
    ['heplify/rtp_rtcp_sip_ipv4_udp.pcap', 17],
    ['zeek/sip-long-request-response-paths.pcap', 2], // link type 228
    ['suricata-verify/sip-ssdp-pm/ssdp.pcap', 0], // SSDP NOTIFY * HTTP/1.1: not SIP
  ];
  for (const [file, datagrams] of cases) {
    it(`${file}: ${datagrams} datagrams`, async () => {
      const h = await run(file);
      assert.equal(h.datagrams.length, datagrams);
      assert.deepEqual(h.codes(), []);
    });
  }

  it('the ERSPAN capture delivers the inner addresses', async () => {
    const h = await run('heplify/erspan_sip_ipv4_udp.pcapng');
    const d = h.datagrams[0] as DatagramPayload;
    assert.deepEqual(
      [d.srcIp, d.srcPort, d.dstIp, d.dstPort],
      ['180.173.83.248', 53221, '101.231.48.19', 5260],
    );
    assert.match(d.data.toString('latin1', 0, 10), /^SUBSCRIBE /);
    assert.equal(h.decoder.stats.gre, 140);
  });

  it('the eyeBeam capture drops RTP on port 5062 before any string is built', async () => {
    const h = await run('snort3_demo/SIP_Eyebeam2Eyebeam_Video_Audio.pcap');
    assert.equal(h.decoder.stats.rtpOnSipPort, 2764);
  });
});

describe('PacketDecoder: robustness', () => {
  it('random bytes as frames of every link type never throw (fuzz)', () => {
    const rnd = rng(12345);
    const h = new Harness();
    const links = [0, 1, 12, 14, 101, 108, 113, 228, 229, 276, 9999];
    for (let i = 0; i < 20_000; i++) {
      const b = Buffer.alloc(Math.floor(rnd() * 200));
      for (let j = 0; j < b.length; j++) b[j] = Math.floor(rnd() * 256);
      if (b.length > 0 && rnd() < 0.5) b[0] = rnd() < 0.5 ? 0x45 : 0x60;
      h.feed(links[i % links.length] as number, b);
    }
    assert.equal(h.decoder.stats.frames, 20_000);
    for (const a of h.anomalies) assert.ok(a.code in DECODE_ANOMALIES, a.code);
  });

  it('mutated valid frames (tunnels, fragments, TCP) never throw, and state stays bounded (fuzz)', () => {
    const rnd = rng(777);
    const inner = ipv4({ src: '172.16.0.1', dst: '172.16.0.2', proto: PROTO.UDP }, udp(5060, 5060, SIP));
    const seeds = [
      ethernet(ETH.IPV4, V4, [{ tpid: ETH.VLAN, id: 5 }]),
      ethernet(
        ETH.IPV6,
        ipv6(
          { src: '::1', dst: '::2', proto: PROTO.UDP, extensions: [{ type: PROTO.HOPOPTS }] },
          udp(1, 5060, SIP),
        ),
      ),
      ethernet(
        ETH.IPV4,
        ipv4(
          { src: '192.0.2.1', dst: '192.0.2.2', proto: PROTO.GRE },
          gre(ETH.ERSPAN3, erspan3(ethernet(ETH.IPV4, inner)), { seq: 1 }),
        ),
      ),
      ethernet(
        ETH.IPV4,
        ipv4(
          { src: '192.0.2.1', dst: '192.0.2.2', proto: PROTO.UDP, moreFragments: true, id: 9 },
          Buffer.alloc(64, 0x41),
        ),
      ),
      ethernet(
        ETH.IPV4,
        ipv4(
          { src: '192.0.2.1', dst: '192.0.2.2', proto: PROTO.TCP },
          tcp({ sport: 5060, dport: 4000, seq: 5, flags: 'PA' }, SIP),
        ),
      ),
    ];
    const h = new Harness({ defrag: { maxPendingDatagrams: 32 }, tcp: { maxConnections: 32 } });
    for (let i = 0; i < 20_000; i++) {
      const f = Buffer.from(seeds[i % seeds.length] as Buffer);
      for (let k = 0; k < 1 + Math.floor(rnd() * 3); k++)
        f[14 + Math.floor(rnd() * (f.length - 14))] = Math.floor(rnd() * 256);
      h.feed(LINK.ETHERNET, rnd() < 0.1 ? f.subarray(0, Math.floor(rnd() * f.length)) : f);
      assert.ok(h.decoder.state.fragmentDatagrams <= 32);
      assert.ok(h.decoder.state.tcpConnections <= 32);
    }
    h.decoder.flush(T0 + 1e9);
    assert.deepEqual(h.decoder.state, {
      fragmentDatagrams: 0,
      fragmentBytes: 0,
      tcpConnections: 0,
      tcpBufferedBytes: 0,
    });
    for (const a of h.anomalies) assert.ok(a.code in DECODE_ANOMALIES, a.code);
  });

  it('every anomaly code used by the sources and decode modules is documented, and every documented one is used', () => {
    const files = [
      'src/sources/capture-parser.ts',
      'src/sources/capture-file.ts',
      'src/decode/link.ts',
      'src/decode/ip.ts',
      'src/decode/defrag.ts',
      'src/decode/tcp-reassembly.ts',
      'src/decode/decoder.ts',
    ];
    const used = new Set<string>();
    for (const f of files) {
      for (const m of readFileSync(f, 'utf8').matchAll(
        /'((?:capture|link|ip|ipv4|ipv6|gre|udp|tcp)_[a-z0-9_]+)'/g,
      )) {
        used.add(m[1] as string);
      }
    }
    for (const code of used) assert.ok(code in DECODE_ANOMALIES, `undocumented anomaly code ${code}`);
    for (const code of Object.keys(DECODE_ANOMALIES)) {
      assert.match(code, /^[a-z0-9]+(_[a-z0-9]+)+$/);
      assert.ok(used.has(code), `documented but never raised: ${code}`);
    }
  });

  it('tick() expires state in event time without a frame; dropped sums what gave no payload', () => {
    const h = new Harness();
    h.feed(
      LINK.RAW,
      ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: PROTO.UDP, moreFragments: true }, Buffer.alloc(16)),
    );
    h.feed(
      LINK.RAW,
      ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: PROTO.UDP }, udp(53, 53, Buffer.from('dns'))),
    );
    h.feed(LINK.ETHERNET, ethernet(ETH.ARP, Buffer.alloc(28)));
    h.feed(147, Buffer.alloc(10));
    assert.equal(h.decoder.state.fragmentDatagrams, 1);
    h.decoder.tick(T0 + 10_000);
    assert.equal(h.decoder.state.fragmentDatagrams, 1);
    h.decoder.tick(T0 + 40_000);
    assert.equal(h.decoder.state.fragmentDatagrams, 0);
    assert.deepEqual(h.codes(), ['link_unknown_type', 'ip_fragment_timeout']);
    assert.equal(h.decoder.stats.dropped, 3);
  });

  it('stats name the evictions of each bounded table', () => {
    const h = new Harness();
    assert.deepEqual({ ...h.decoder.stats.evictions }, { 'ip-fragments': 0, 'tcp-connections': 0 });
    assert.deepEqual(JSON.parse(JSON.stringify(h.decoder.stats.evictions)), {
      'ip-fragments': 0,
      'tcp-connections': 0,
    });
  });
});
