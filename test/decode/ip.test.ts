import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  formatIPv4,
  formatIPv6,
  IpHeader,
  IPv4TextCache,
  parseIPv4,
  parseIPv6,
} from '../../src/decode/ip.js';
import { ipv4, ipv6, ipv6Bytes, ipv6FragmentHeader, PROTO, udp } from '../helpers/pcap-writer.js';

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

const DATA = udp(5060, 5060, Buffer.from('hello'));

describe('IPv4 header', () => {
  it('reads addresses, protocol and payload bounds; trims Ethernet padding', () => {
    const pkt = Buffer.concat([
      ipv4({ src: '192.0.2.1', dst: '198.51.100.2', proto: PROTO.UDP }, DATA),
      Buffer.alloc(6),
    ]);
    const h = new IpHeader();
    assert.equal(parseIPv4(pkt, 0, pkt.length, h), null);
    assert.equal(formatIPv4(h.addrBuf, h.srcOff), '192.0.2.1');
    assert.equal(formatIPv4(h.addrBuf, h.dstOff), '198.51.100.2');
    assert.deepEqual(
      [h.proto, h.payloadOff, h.payloadEnd, h.missing, h.fragment],
      [17, 20, 20 + DATA.length, 0, false],
    );
  });

  it('skips options (IHL > 5)', () => {
    const pkt = ipv4(
      {
        src: '10.0.0.1',
        dst: '10.0.0.2',
        proto: PROTO.UDP,
        options: Buffer.from([0x94, 4, 0, 0, 1, 1, 1, 0]),
      },
      DATA,
    );
    const h = new IpHeader();
    assert.equal(parseIPv4(pkt, 0, pkt.length, h), null);
    assert.equal(h.payloadOff, 28);
  });

  it('reports bad header and total lengths, a wrong version, and a length beyond the frame', () => {
    const h = new IpHeader();
    const ihl4 = ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: 17, ihl: 4 }, DATA);
    assert.equal(parseIPv4(ihl4, 0, ihl4.length, h), 'ipv4_bad_header_length');
    const ihl15 = ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: 17, ihl: 15 }, Buffer.alloc(10));
    assert.equal(parseIPv4(ihl15, 0, ihl15.length, h), 'ipv4_bad_header_length');
    const total = ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: 17, totalLength: 19 }, DATA);
    assert.equal(parseIPv4(total, 0, total.length, h), 'ipv4_bad_total_length');
    assert.equal(parseIPv4(Buffer.alloc(19), 0, 19, h), 'ipv4_bad_header_length');
    const v6 = ipv6({ src: '::1', dst: '::2', proto: 17 }, DATA);
    assert.equal(parseIPv4(v6, 0, v6.length, h), 'ip_bad_version');
    const long = ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: 17, totalLength: 1500 }, DATA);
    assert.equal(parseIPv4(long, 0, long.length, h), null);
    assert.deepEqual([h.payloadEnd, h.missing], [long.length, 1500 - long.length]);
    const tso = ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: 17, totalLength: 0 }, DATA);
    assert.equal(parseIPv4(tso, 0, tso.length, h), null);
    assert.equal(h.payloadEnd, tso.length);
  });

  it('reads fragment fields', () => {
    const h = new IpHeader();
    const f = ipv4(
      { src: '10.0.0.1', dst: '10.0.0.2', proto: 17, id: 0xbeef, moreFragments: true, fragOffset: 1480 },
      DATA,
    );
    assert.equal(parseIPv4(f, 0, f.length, h), null);
    assert.deepEqual([h.fragment, h.moreFragments, h.fragOffset, h.fragId], [true, true, 1480, 0xbeef]);
    const df = ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: 17, dontFragment: true }, DATA);
    assert.equal(parseIPv4(df, 0, df.length, h), null);
    assert.equal(h.fragment, false);
  });
});

describe('IPv6 header and extension headers', () => {
  it('walks hop-by-hop, destination options and routing headers to the upper layer', () => {
    const pkt = ipv6(
      {
        src: '2001:db8::1',
        dst: '2001:db8::2',
        proto: PROTO.UDP,
        extensions: [
          { type: PROTO.HOPOPTS },
          { type: PROTO.DSTOPTS, body: Buffer.alloc(14) },
          { type: PROTO.ROUTING },
        ],
      },
      DATA,
    );
    const h = new IpHeader();
    assert.equal(parseIPv6(pkt, 0, pkt.length, h, 8), null);
    assert.deepEqual([h.proto, h.payloadOff, h.payloadEnd, h.extCount], [17, 40 + 8 + 16 + 8, pkt.length, 3]);
    assert.equal(formatIPv6(h.addrBuf, h.srcOff), '2001:db8::1');
  });

  it('stops at a fragment header; an atomic fragment is not a fragment', () => {
    const h = new IpHeader();
    const frag = ipv6(
      { src: '::1', dst: '::2', proto: PROTO.FRAGMENT },
      Buffer.concat([ipv6FragmentHeader(17, 1448, true, 0xf88eb466), DATA]),
    );
    assert.equal(parseIPv6(frag, 0, frag.length, h, 8), null);
    assert.deepEqual(
      [h.fragment, h.fragOffset, h.moreFragments, h.fragId, h.proto, h.payloadOff],
      [true, 1448, true, 0xf88eb466, 17, 48],
    );
    const atomic = ipv6(
      { src: '::1', dst: '::2', proto: PROTO.FRAGMENT },
      Buffer.concat([ipv6FragmentHeader(17, 0, false, 7), DATA]),
    );
    assert.equal(parseIPv6(atomic, 0, atomic.length, h, 8), null);
    assert.deepEqual([h.fragment, h.proto, h.payloadOff], [false, 17, 48]);
  });

  it('bounds the chain and reports truncated extension headers', () => {
    const h = new IpHeader();
    const long = ipv6(
      {
        src: '::1',
        dst: '::2',
        proto: 17,
        extensions: Array.from({ length: 9 }, () => ({ type: PROTO.DSTOPTS })),
      },
      DATA,
    );
    assert.equal(parseIPv6(long, 0, long.length, h, 8), 'ipv6_extension_chain_too_long');
    const ok = ipv6(
      {
        src: '::1',
        dst: '::2',
        proto: 17,
        extensions: Array.from({ length: 8 }, () => ({ type: PROTO.DSTOPTS })),
      },
      DATA,
    );
    assert.equal(parseIPv6(ok, 0, ok.length, h, 8), null);
    const cut = ipv6(
      { src: '::1', dst: '::2', proto: PROTO.DSTOPTS },
      Buffer.from([17, 3, 0, 0, 0, 0, 0, 0]),
    );
    assert.equal(parseIPv6(cut, 0, cut.length, h, 8), 'ipv6_bad_extension_header');
    assert.equal(parseIPv6(Buffer.alloc(39), 0, 39, h, 8), 'ipv6_truncated');
    const v4 = ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: 17 }, Buffer.alloc(40));
    assert.equal(parseIPv6(v4, 0, v4.length, h, 8), 'ip_bad_version');
    const big = ipv6({ src: '::1', dst: '::2', proto: 17, payloadLength: 900 }, DATA);
    assert.equal(parseIPv6(big, 0, big.length, h, 8), null);
    assert.equal(h.missing, 900 - DATA.length);
  });
});

describe('address text', () => {
  it('IPv6 follows RFC 5952', () => {
    const cases: [string, string][] = [
      ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
      ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
      ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
      ['1:0:0:2:0:0:0:3', '1:0:0:2::3'],
      ['0:0:0:0:0:0:0:0', '::'],
      ['0:0:0:0:0:0:0:1', '::1'],
      ['fe80:0:0:0:0:0:0:0', 'fe80::'],
      ['FD17:625C:F037:2:A00:27FF:FEB9:4222', 'fd17:625c:f037:2:a00:27ff:feb9:4222'],
      ['0:0:0:0:0:ffff:c000:0201', '::ffff:192.0.2.1'],
      ['2001:db8:0:0:0:0:2:1', '2001:db8::2:1'],
      ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'],
    ];
    for (const [input, want] of cases) assert.equal(formatIPv6(ipv6Bytes(input), 0), want, input);
  });

  it('IPv6 text agrees with the WHATWG URL serializer and round-trips (property)', () => {
    const rnd = rng(99);
    for (let i = 0; i < 3000; i++) {
      const b = Buffer.alloc(16);
      for (let g = 0; g < 8; g++) b.writeUInt16BE(rnd() < 0.5 ? 0 : Math.floor(rnd() * 65536), 2 * g);
      const text = formatIPv6(b, 0);
      assert.ok(ipv6Bytes(text).equals(b), text);
      if (!text.startsWith('::ffff:') || text.includes(':', 7)) {
        assert.equal(`[${text}]`, new URL(`http://[${text}]/`).hostname, text);
      }
    }
  });

  it('the IPv4 text cache always answers like formatIPv4, collisions included', () => {
    const rnd = rng(5);
    const cache = new IPv4TextCache();
    const b = Buffer.alloc(4);
    for (let i = 0; i < 20000; i++) {
      b.writeUInt32BE(i % 3 === 0 ? 0 : Math.floor(rnd() * 4294967296));
      assert.equal(cache.text(b, 0), formatIPv4(b, 0));
    }
  });
});
