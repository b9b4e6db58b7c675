import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import type { Anomaly } from '../../src/core/records.js';
import { HEP_MAX_DECOMPRESSED_BYTES, HEP_MAX_PACKET_BYTES } from '../../src/config/limits.js';
import { HEP_ANOMALIES, HepStreamFramer, decodeHep } from '../../src/decode/hep.js';
import type { HepPacket, HepResult, HepStreamSink } from '../../src/decode/hep.js';

// Fixtures made by test/fixtures/hep/make-fixtures.sh from the corpus captures (tshark).
function loadHex(name: string): { frame: number; data: Buffer }[] {
  const text = readFileSync(`test/fixtures/hep/${name}`, 'utf8').trim();
  return text.split('\n').map((line) => {
    const [frame, hex] = line.split('\t');
    return { frame: Number(frame), data: Buffer.from(hex ?? '', 'hex') };
  });
}

const PLAIN = loadHex('hep.tsv');
const COMPRESSED = loadHex('hep3-compressed.tsv');

// Every anomaly code the tests see must be documented.
const seenCodes = new Set<string>();

function decode(data: Buffer, authKey?: string): HepResult {
  const r = authKey === undefined ? decodeHep(data) : decodeHep(data, { authKey });
  if (r.ok) for (const a of r.packet.anomalies) seenCodes.add(a.code);
  else seenCodes.add(r.anomaly.code);
  return r;
}

function ok(data: Buffer, authKey?: string): HepPacket {
  const r = decode(data, authKey);
  if (!r.ok) assert.fail(`expected a packet, got ${JSON.stringify(r.anomaly)}`);
  return r.packet;
}

function failCode(data: Buffer): string {
  const r = decode(data);
  if (r.ok) assert.fail('expected a failure');
  return r.anomaly.code;
}

function startLine(p: HepPacket): string {
  const s = p.payload.toString('latin1');
  const end = s.search(/\r?\n/);
  return end < 0 ? s : s.slice(0, end);
}

// ── builders ──────────────────────────────────────────────────────────────────────────────────

type Chunk = readonly [type: number, value: Buffer, vendor?: number];

function u8(v: number): Buffer {
  return Buffer.from([v]);
}
function u16(v: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(v);
  return b;
}
function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v);
  return b;
}
function ip4(s: string): Buffer {
  return Buffer.from(s.split('.').map(Number));
}
function ip6(hex: string): Buffer {
  return Buffer.from(hex.replace(/[^0-9a-f]/gi, ''), 'hex');
}

function hep3(chunks: readonly Chunk[]): Buffer {
  const parts = chunks.map(([type, value, vendor]) => {
    const h = Buffer.alloc(6);
    h.writeUInt16BE(vendor ?? 0, 0);
    h.writeUInt16BE(type, 2);
    h.writeUInt16BE(6 + value.length, 4);
    return Buffer.concat([h, value]);
  });
  const body = Buffer.concat(parts);
  const head = Buffer.from('HEP3\0\0', 'latin1');
  head.writeUInt16BE(6 + body.length, 4);
  return Buffer.concat([head, body]);
}

const SIP = Buffer.from('OPTIONS sip:100@198.51.100.2 SIP/2.0\r\nCall-ID: a@b\r\n\r\n', 'latin1');

function baseChunks(payload: Chunk = [0x0f, SIP]): Chunk[] {
  return [
    [0x01, u8(2)],
    [0x02, u8(17)],
    [0x03, ip4('203.0.113.7')],
    [0x04, ip4('198.51.100.2')],
    [0x07, u16(5071)],
    [0x08, u16(5060)],
    [0x09, u32(1_700_000_000)],
    [0x0a, u32(123_456)],
    [0x0b, u8(1)],
    [0x0c, u32(42)],
    payload,
  ];
}

function without(chunks: Chunk[], ...types: number[]): Chunk[] {
  return chunks.filter(([t]) => !types.includes(t));
}

// HEP v1/v2: 8-byte header, addresses, (v2) 12-byte time header in the sender's (little-endian)
// order, payload.
function hep12(
  version: 1 | 2,
  family: 4 | 6,
  src: Buffer,
  dst: Buffer,
  payload: Buffer,
  hl?: number,
): Buffer {
  const h = Buffer.alloc(8);
  h[0] = version;
  h[1] = hl ?? 8 + (family === 4 ? 8 : 32);
  h[2] = family === 4 ? 2 : 10;
  h[3] = 17;
  h.writeUInt16BE(5062, 4);
  h.writeUInt16BE(5060, 6);
  const parts = [h, src, dst];
  if (version === 2) {
    const t = Buffer.alloc(12);
    t.writeUInt32LE(1_600_000_000, 0);
    t.writeUInt32LE(250_000, 4);
    t.writeUInt16LE(7, 8);
    parts.push(t);
  }
  parts.push(payload);
  return Buffer.concat(parts);
}

// Deterministic PRNG so a failing fuzz case can be replayed.
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

class Collector implements HepStreamSink {
  packets: Buffer[] = [];
  offsets: number[] = [];
  anomalies: Anomaly[] = [];
  onPacket(packet: Buffer, offset: number): void {
    this.packets.push(Buffer.from(packet));
    this.offsets.push(offset);
  }
  onAnomaly(anomaly: Anomaly): void {
    seenCodes.add(anomaly.code);
    this.anomalies.push(anomaly);
  }
}

// ── real captures ─────────────────────────────────────────────────────────────────────────────

describe('decodeHep on real captures', () => {
  it('decodes the 8 HEPv3 packets of hep.pcap with their addressing, time and ids', () => {
    assert.equal(PLAIN.length, 8);
    const packets = PLAIN.map((p) => ok(p.data));
    const types = new Map<number, number>();
    for (const p of packets) types.set(p.protoType, (types.get(p.protoType) ?? 0) + 1);
    assert.deepEqual(
      [...types.entries()].sort((a, b) => a[0] - b[0]),
      [
        [1, 6],
        [5, 1],
        [100, 1],
      ],
    );
    const sip = packets.filter((p) => p.protoType === 1).map(startLine);
    assert.deepEqual(sip, [
      'INVITE sip:nodejs@127.0.0.1 SIP/2.0',
      'SIP/2.0 100 Trying',
      'SIP/2.0 407 Proxy Authentication Required',
      'OPTIONS sip:127.0.0.1 SIP/2.0',
      'SIP/2.0 200 Alive',
      'PUBLISH sip:nodejs@127.0.0.1:5999;transport=udp SIP/2.0',
    ]);
    const first = packets[0] as HepPacket;
    assert.equal(first.version, 3);
    assert.equal(first.ipFamily, 4);
    assert.equal(first.protocol, 17);
    assert.equal(first.srcIp, '192.168.1.1');
    assert.equal(first.dstIp, '192.168.1.2');
    assert.equal(first.srcPort, 5060);
    assert.equal(first.dstPort, 5060);
    assert.equal(first.time, 1481455196 * 1000 + 100 / 1000);
    assert.equal(first.captureId, 2001);
    assert.equal(first.authKey, 'myHep');
    assert.equal(first.authOk, undefined);
    assert.equal(first.correlationId, 'qgf3dm9rudi@127.0.0.1');
    assert.equal(first.compressed, false);
    assert.equal(first.payload.length, 0x284 - 6);
    assert.deepEqual(first.anomalies, []);
    // The 100 Trying goes the other way.
    const second = packets[1] as HepPacket;
    assert.equal(second.srcIp, '192.168.1.2');
    assert.equal(second.dstIp, '192.168.1.1');
    assert.equal(second.time, 1481455196 * 1000 + 325 / 1000);
    // The log packet (type 100) and the RTCP report (type 5) have ports 0 and JSON / text payloads.
    const log = packets[4] as HepPacket;
    assert.equal(log.protoType, 100);
    assert.equal(log.srcPort, 0);
    assert.match(log.payload.toString('latin1'), /^SYSLOG: Processing OPTIONS request/);
    const rtcp = packets[7] as HepPacket;
    assert.equal(rtcp.protoType, 5);
    assert.equal(rtcp.time, 1481455202 * 1000 + 927 / 1000);
    assert.ok(JSON.parse(rtcp.payload.toString('utf8')).sender_information);
    // Payloads are views into the input, not copies.
    assert.equal(first.payload.buffer, (PLAIN[0] as { data: Buffer }).data.buffer);
  });

  it('inflates the 21 compressed (chunk 0x0010) packets of hep3_compressed', () => {
    assert.equal(COMPRESSED.length, 21);
    const packets = COMPRESSED.map((p) => ok(p.data));
    const lines = packets.map(startLine);
    assert.equal(lines.filter((l) => l === 'REGISTER sip:rcs.st SIP/2.0').length, 12);
    assert.equal(lines.filter((l) => l === 'SIP/2.0 401 Unauthorized').length, 6);
    assert.equal(lines.filter((l) => l === 'SIP/2.0 200 OK').length, 3);
    for (const p of packets) {
      assert.equal(p.compressed, true);
      assert.equal(p.protocol, 6);
      assert.equal(p.captureId, 228);
      assert.equal(p.authKey, 'myHep');
      assert.deepEqual(p.anomalies, []);
      assert.match(p.payload.toString('latin1'), /\r\n\r\n/);
    }
    const first = packets[0] as HepPacket;
    assert.equal(first.srcIp, '192.168.137.1');
    assert.equal(first.srcPort, 54345);
    assert.equal(first.dstIp, '192.168.137.247');
    assert.equal(first.dstPort, 5060);
    assert.equal(first.time, 1502941090 * 1000 + 307169 / 1000);
    const ok401 = packets[9] as HepPacket;
    assert.equal(startLine(ok401), 'SIP/2.0 401 Unauthorized');
    assert.equal(ok401.srcIp, '192.168.137.247');
    assert.equal(ok401.dstPort, 54345);
    // The inflated SIP message is whole: its Content-Length matches the body after the head.
    const text = first.payload.toString('latin1');
    const cl = Number(/Content-Length: *(\d+)/i.exec(text)?.[1]);
    assert.equal(text.length - (text.indexOf('\r\n\r\n') + 4), cl);
  });

  it('checks the agent key in constant time and reports a mismatch', () => {
    const data = (PLAIN[0] as { data: Buffer }).data;
    const good = ok(data, 'myHep');
    assert.equal(good.authOk, true);
    assert.deepEqual(good.anomalies, []);
    for (const wrong of ['myHeq', 'myHe', 'myHepX', 'MYHEP', 'x']) {
      const p = ok(data, wrong);
      assert.equal(p.authOk, false, wrong);
      assert.deepEqual(
        p.anomalies.map((a) => a.code),
        ['hep_auth_failed'],
      );
      // Still decoded: the caller decides what an unauthenticated packet is worth.
      assert.equal(startLine(p), 'INVITE sip:nodejs@127.0.0.1 SIP/2.0');
    }
    // An empty configured key means no check.
    assert.equal(ok(data, '').authOk, undefined);
    // A packet without a key fails a configured check.
    const keyless = ok(hep3(baseChunks()), 'secret');
    assert.equal(keyless.authOk, false);
    assert.equal(keyless.anomalies[0]?.detail, 'no key');
    // A key with non-ASCII bytes compares as UTF-8.
    const utf = ok(hep3([...baseChunks(), [0x0e, Buffer.from('clé', 'utf8')]]), 'clé');
    assert.equal(utf.authOk, true);
  });
});

// ── hand-built packets ────────────────────────────────────────────────────────────────────────

describe('decodeHep on built packets', () => {
  it('decodes HEP v2 (IPv4, little-endian time) and v1 (IPv6, no time)', () => {
    const v2 = ok(hep12(2, 4, ip4('10.0.0.1'), ip4('10.0.0.2'), SIP));
    assert.equal(v2.version, 2);
    assert.equal(v2.ipFamily, 4);
    assert.equal(v2.protocol, 17);
    assert.equal(v2.srcIp, '10.0.0.1');
    assert.equal(v2.dstIp, '10.0.0.2');
    assert.equal(v2.srcPort, 5062);
    assert.equal(v2.dstPort, 5060);
    assert.equal(v2.time, 1_600_000_000_250);
    assert.equal(v2.captureId, 7);
    assert.equal(v2.protoType, 1);
    assert.deepEqual(v2.payload, SIP);
    const v1 = ok(
      hep12(1, 6, ip6('20010db8000000000000000000000001'), ip6('fe800000000000000000000000000abc'), SIP),
    );
    assert.equal(v1.version, 1);
    assert.equal(v1.ipFamily, 6);
    assert.equal(v1.srcIp, '2001:db8::1');
    assert.equal(v1.dstIp, 'fe80::abc');
    assert.equal(v1.time, undefined);
    assert.deepEqual(v1.payload, SIP);
    // v2 with a configured key: v2 has no key, so it fails the check.
    const keyed = ok(hep12(2, 4, ip4('10.0.0.1'), ip4('10.0.0.2'), SIP), 'k');
    assert.equal(keyed.authOk, false);
  });

  it('rejects v1/v2 lookalikes', () => {
    assert.equal(failCode(hep12(2, 4, ip4('1.2.3.4'), ip4('5.6.7.8'), SIP, 20)), 'hep_bad_length');
    const badFamily = hep12(2, 4, ip4('1.2.3.4'), ip4('5.6.7.8'), SIP);
    badFamily[2] = 7;
    assert.equal(failCode(badFamily), 'hep_bad_family');
    assert.equal(failCode(Buffer.from([2, 16, 2, 17])), 'hep_bad_length');
    assert.equal(
      failCode(hep12(2, 4, ip4('1.2.3.4'), ip4('5.6.7.8'), SIP).subarray(0, 20)),
      'hep_bad_length',
    );
    assert.equal(failCode(hep12(2, 4, ip4('1.2.3.4'), ip4('5.6.7.8'), Buffer.alloc(0))), 'hep_missing_chunk');
  });

  it('decodes IPv6 HEPv3 and writes addresses in RFC 5952 form', () => {
    const cases: [string, string][] = [
      ['20010db8000000000000000000000001', '2001:db8::1'],
      ['00000000000000000000000000000000', '::'],
      ['00000000000000000000000000000001', '::1'],
      ['20010db8000000000001000000000001', '2001:db8::1:0:0:1'],
      ['20010000000000010000000000000001', '2001:0:0:1::1'],
      ['20010db8000000010001000100010001', '2001:db8:0:1:1:1:1:1'],
      ['20010db8aaaabbbbccccddddeeee0000', '2001:db8:aaaa:bbbb:cccc:dddd:eeee:0'],
      ['00000000000000000000ffffc0000201', '::ffff:192.0.2.1'],
      ['fe800000000000000000000000000000', 'fe80::'],
      ['20010DB8000A000B0000000000000000', '2001:db8:a:b::'],
    ];
    for (const [hex, text] of cases) {
      const p = ok(
        hep3([
          [0x01, u8(10)],
          [0x02, u8(6)],
          [0x05, ip6(hex)],
          [0x06, ip6('20010db8000000000000000000000002')],
          [0x07, u16(1)],
          [0x08, u16(2)],
          [0x0f, SIP],
        ]),
      );
      assert.equal(p.ipFamily, 6);
      assert.equal(p.srcIp, text, hex);
      assert.equal(p.dstIp, '2001:db8::2');
    }
  });

  it('agrees with the WHATWG URL serializer on random IPv6 addresses', () => {
    const rand = rng(6);
    for (let i = 0; i < 2000; i++) {
      const a = Buffer.alloc(16);
      for (let g = 0; g < 8; g++) {
        const r = rand();
        const v = r < 0.5 ? 0 : r < 0.7 ? Math.floor(rand() * 16) : Math.floor(rand() * 65536);
        a.writeUInt16BE(v, 2 * g);
      }
      if (a.readUInt32BE(8) === 0xffff && a.readUInt32BE(0) === 0 && a.readUInt16BE(4) === 0) continue;
      const p = ok(
        hep3([
          [0x05, a],
          [0x06, a],
          [0x07, u16(1)],
          [0x08, u16(2)],
          [0x0f, SIP],
        ]),
      );
      const expected = new URL(`http://[${a.toString('hex').replace(/(....)(?!$)/g, '$1:')}]/`).hostname;
      assert.equal(`[${p.srcIp}]`, expected);
    }
  });

  it('reads the optional chunks and skips vendor and unknown ones', () => {
    const p = ok(
      hep3([
        [0x0f, Buffer.from('AAA')],
        [0x0001, Buffer.from('vendor data'), 0x0003],
        [0x0077, Buffer.from('unknown generic chunk')],
        ...without(baseChunks(), 0x0f, 0x0c),
        [0x0c, u16(513)],
        [0x11, Buffer.from('call-1@host')],
        [0x12, u16(100)],
        [0x13, Buffer.from('sensor-é', 'utf8')],
        [0x0d, u16(30)],
      ]),
    );
    assert.deepEqual(p.payload, Buffer.from('AAA'));
    assert.equal(p.captureId, 513);
    assert.equal(p.correlationId, 'call-1@host');
    assert.equal(p.vlan, 100);
    assert.equal(p.nodeName, 'sensor-é');
    assert.equal(p.time, 1_700_000_000_123.456);
    assert.equal(p.srcIp, '203.0.113.7');
    assert.deepEqual(p.anomalies, []);
  });

  it('inflates zlib, gzip and raw deflate payloads', () => {
    for (const pack of [deflateSync, gzipSync, deflateRawSync]) {
      const p = ok(hep3(baseChunks([0x10, pack(SIP)])));
      assert.equal(p.compressed, true);
      assert.deepEqual(p.payload, SIP);
    }
  });

  it('stops a decompression bomb at HEP_MAX_DECOMPRESSED_BYTES', () => {
    const bomb = deflateSync(Buffer.alloc(16 * 1024 * 1024));
    assert.ok(bomb.length < 65_000);
    const started = Date.now();
    assert.equal(failCode(hep3(baseChunks([0x10, bomb]))), 'hep_payload_too_large');
    assert.ok(Date.now() - started < 1000);
    // Just under the bound still inflates.
    const fits = ok(hep3(baseChunks([0x10, deflateSync(Buffer.alloc(HEP_MAX_DECOMPRESSED_BYTES, 0x41))])));
    assert.equal(fits.payload.length, HEP_MAX_DECOMPRESSED_BYTES);
    assert.equal(
      failCode(hep3(baseChunks([0x10, Buffer.from('not compressed at all')]))),
      'hep_decompress_failed',
    );
    assert.equal(
      failCode(hep3(baseChunks([0x10, deflateSync(SIP).subarray(0, 10)]))),
      'hep_decompress_failed',
    );
  });

  it('fails with a named anomaly on unusable packets', () => {
    const good = hep3(baseChunks());
    const cases: [string, Buffer, string][] = [
      ['empty', Buffer.alloc(0), 'hep_bad_magic'],
      ['HTTP', Buffer.from('GET / HTTP/1.1\r\n\r\n'), 'hep_bad_magic'],
      ['HEP2 magic', Buffer.from('HEP2\x00\x06'), 'hep_bad_magic'],
      ['magic only', Buffer.from('HEP3'), 'hep_bad_length'],
      ['total under header', Buffer.from('HEP3\x00\x05'), 'hep_bad_length'],
      ['total beyond packet', good.subarray(0, good.length - 1), 'hep_bad_length'],
      ['chunk header cut', patchTotal(Buffer.concat([good, Buffer.from([0, 0, 0])])), 'hep_truncated_chunk'],
      ['chunk beyond total', patchChunkLen(good, 6, 0x0fff), 'hep_truncated_chunk'],
      ['chunk length 4', patchChunkLen(good, 6, 4), 'hep_bad_chunk_length'],
      ['chunk length 0', patchChunkLen(good, 6, 0), 'hep_bad_chunk_length'],
      ['no payload', hep3(without(baseChunks(), 0x0f)), 'hep_missing_chunk'],
      ['no addresses', hep3(without(baseChunks(), 0x03)), 'hep_missing_chunk'],
      ['no ports', hep3(without(baseChunks(), 0x08)), 'hep_missing_chunk'],
      ['port of 4 bytes', hep3([...without(baseChunks(), 0x07), [0x07, u32(5060)]]), 'hep_missing_chunk'],
    ];
    for (const [name, data, code] of cases) {
      const r = decode(data);
      assert.equal(r.ok, false, name);
      if (!r.ok) {
        assert.equal(r.anomaly.code, code, name);
        assert.ok(HEP_ANOMALIES[r.anomaly.code], name);
      }
    }
  });

  it('keeps usable packets and lists their defects', () => {
    const trailing = ok(Buffer.concat([hep3(baseChunks()), Buffer.from('junk')]));
    assert.deepEqual(trailing.payload, SIP);
    assert.deepEqual(
      trailing.anomalies.map((a) => a.code),
      ['hep_trailing_bytes'],
    );

    const dup = ok(
      hep3([...baseChunks(), [0x0f, Buffer.from('second')], [0x10, deflateSync(Buffer.from('third'))]]),
    );
    assert.deepEqual(dup.payload, SIP);
    assert.deepEqual(
      dup.anomalies.map((a) => a.code),
      ['hep_duplicate_chunk', 'hep_duplicate_chunk'],
    );

    const badSize = ok(hep3([...baseChunks(), [0x12, Buffer.from([1, 2, 3])]]));
    assert.equal(badSize.vlan, undefined);
    assert.deepEqual(
      badSize.anomalies.map((a) => a.code),
      ['hep_bad_chunk_size'],
    );

    const family = ok(hep3([...without(baseChunks(), 0x01), [0x01, u8(10)]]));
    assert.equal(family.ipFamily, 4);
    assert.equal(family.srcIp, '203.0.113.7');
    assert.deepEqual(
      family.anomalies.map((a) => a.code),
      ['hep_bad_family'],
    );

    const noFamily = ok(hep3(without(baseChunks(), 0x01)));
    assert.equal(noFamily.ipFamily, 4);
    assert.deepEqual(noFamily.anomalies, []);

    const bare = ok(hep3(without(baseChunks(), 0x02, 0x09, 0x0a, 0x0b, 0x0c)));
    assert.equal(bare.time, undefined);
    assert.equal(bare.protocol, 0);
    assert.equal(bare.protoType, 0);
    assert.equal(bare.captureId, 0);
    assert.deepEqual(
      bare.anomalies.map((a) => `${a.code}:${a.detail}`),
      ['hep_missing_chunk:IP protocol', 'hep_missing_chunk:protocol type', 'hep_missing_chunk:time'],
    );
  });

  it('decodes a packet that is a view into a larger buffer', () => {
    const inner = hep3(baseChunks());
    const outer = Buffer.concat([Buffer.from('xxxxxxx'), inner, Buffer.from('yyy')]);
    const p = ok(outer.subarray(7, 7 + inner.length));
    assert.deepEqual(p.payload, SIP);
    assert.equal(p.dstIp, '198.51.100.2');
  });
});

function patchTotal(b: Buffer): Buffer {
  const c = Buffer.from(b);
  c.writeUInt16BE(c.length, 4);
  return c;
}
function patchChunkLen(b: Buffer, chunkAt: number, len: number): Buffer {
  const c = Buffer.from(b);
  c.writeUInt16BE(len, chunkAt + 4);
  return c;
}

// ── stream framing ────────────────────────────────────────────────────────────────────────────

describe('HepStreamFramer', () => {
  const all = [...PLAIN, ...COMPRESSED].map((p) => p.data);
  const stream = Buffer.concat(all);

  it('cuts back-to-back packets out of one push', () => {
    const c = new Collector();
    const f = new HepStreamFramer(c);
    f.push(stream);
    f.end();
    assert.equal(c.packets.length, 29);
    assert.deepEqual(c.packets, all);
    assert.deepEqual(c.anomalies, []);
    assert.equal(c.offsets[1], (all[0] as Buffer).length);
    assert.equal(f.buffered, 0);
    assert.equal(f.stats.packets, 29);
    // Every framed packet decodes.
    assert.equal(c.packets.filter((p) => decodeHep(p).ok).length, 29);
  });

  it('gives the same packets for a split at every position', () => {
    const small = Buffer.concat(all.slice(3, 6));
    const expected = all.slice(3, 6);
    for (let i = 0; i <= small.length; i++) {
      const c = new Collector();
      const f = new HepStreamFramer(c);
      f.push(small.subarray(0, i));
      f.push(small.subarray(i));
      assert.deepEqual(c.packets, expected, `split at ${i}`);
      assert.deepEqual(c.anomalies, []);
    }
    // And byte by byte.
    const c = new Collector();
    const f = new HepStreamFramer(c);
    for (let i = 0; i < small.length; i++) f.push(small.subarray(i, i + 1));
    assert.deepEqual(c.packets, expected);
  });

  it('gives the same packets for random splits', () => {
    const rand = rng(42);
    for (let trial = 0; trial < 200; trial++) {
      const c = new Collector();
      const f = new HepStreamFramer(c);
      let off = 0;
      while (off < stream.length) {
        const n = 1 + Math.floor(rand() * (rand() < 0.5 ? 16 : 3000));
        f.push(stream.subarray(off, off + n));
        off += n;
        assert.ok(f.buffered <= HEP_MAX_PACKET_BYTES);
      }
      assert.equal(c.packets.length, 29);
      assert.deepEqual(c.packets, all);
    }
  });

  it('resynchronises on garbage and reports how much it skipped', () => {
    const p0 = all[0] as Buffer;
    const p1 = all[1] as Buffer;
    const garbage1 = Buffer.from('garbage HEP3\x00\x02 HE');
    const garbage2 = Buffer.from('HEHEP');
    const input = Buffer.concat([garbage1, p0, garbage2, p1, Buffer.from('HEP')]);
    const c = new Collector();
    const f = new HepStreamFramer(c);
    f.push(input);
    assert.deepEqual(c.packets, [p0, p1]);
    assert.deepEqual(
      c.anomalies.map((a) => [a.code, a.offset, a.detail]),
      [
        ['hep_stream_resync', 0, `${garbage1.length} bytes skipped`],
        ['hep_stream_resync', garbage1.length + p0.length, `${garbage2.length} bytes skipped`],
      ],
    );
    // A trailing "HEP" is held as a possible header start, then reported at the end.
    assert.equal(f.buffered, 3);
    f.end();
    assert.equal(c.anomalies.at(-1)?.code, 'hep_stream_truncated');
    assert.equal(f.stats.resyncs, 2);
    assert.equal(f.stats.bytesSkipped, garbage1.length + garbage2.length);
  });

  it('drops a packet cut by a TCP gap and picks up after it', () => {
    const p0 = all[0] as Buffer;
    const p1 = all[1] as Buffer;
    const p2 = all[2] as Buffer;
    const c = new Collector();
    const f = new HepStreamFramer(c);
    f.push(p0.subarray(0, 100));
    // The rest of p0 and the start of p1 were lost.
    f.push(Buffer.concat([p1.subarray(50), p2]), true);
    assert.deepEqual(c.packets, [p2]);
    assert.deepEqual(
      c.anomalies.map((a) => a.code),
      ['hep_stream_truncated', 'hep_stream_resync'],
    );
    assert.equal(c.anomalies[0]?.detail, `gap: 100 of ${p0.length} bytes`);
  });

  it('does not allocate what a header claims before the bytes arrive', () => {
    const c = new Collector();
    const f = new HepStreamFramer(c);
    f.push(Buffer.from('HEP3\xff\xff\x00\x00', 'latin1'));
    assert.equal(f.buffered, 8);
    assert.ok((f as unknown as { pend: Buffer }).pend.length <= 256);
    f.end();
    assert.equal(c.anomalies[0]?.code, 'hep_stream_truncated');
    assert.equal(f.buffered, 0);
  });
});

// ── fuzz ──────────────────────────────────────────────────────────────────────────────────────

describe('HEP fuzz', () => {
  it('never throws on random bytes, truncations and bit flips', () => {
    const rand = rng(1234);
    const check = (data: Buffer): void => {
      const r = decode(data, rand() < 0.5 ? 'myHep' : undefined);
      if (r.ok) {
        assert.ok(r.packet.payload.length <= Math.max(HEP_MAX_DECOMPRESSED_BYTES, data.length));
        assert.ok(r.packet.srcIp.length > 0);
      } else {
        assert.ok(HEP_ANOMALIES[r.anomaly.code], r.anomaly.code);
      }
    };
    for (let i = 0; i < 3000; i++) {
      const b = Buffer.alloc(Math.floor(rand() * 200));
      for (let k = 0; k < b.length; k++) b[k] = Math.floor(rand() * 256);
      // Give some of them a valid-looking start so the chunk walk is exercised.
      const r = rand();
      if (r < 0.3 && b.length >= 6) {
        b.write('HEP3', 0, 'latin1');
        b.writeUInt16BE(Math.floor(rand() * (b.length + 10)), 4);
      } else if (r < 0.4 && b.length >= 2) {
        b[0] = 2;
        b[1] = 16;
      }
      check(b);
    }
    const real = [...PLAIN, ...COMPRESSED.slice(0, 7)].map((p) => p.data);
    for (const p of real.slice(0, 3)) for (let n = 0; n <= p.length; n++) check(p.subarray(0, n));
    for (let i = 0; i < 3000; i++) {
      const src = real[Math.floor(rand() * real.length)] as Buffer;
      const b = Buffer.from(src);
      const flips = 1 + Math.floor(rand() * 4);
      for (let k = 0; k < flips; k++) b[Math.floor(rand() * b.length)] = Math.floor(rand() * 256);
      check(b.subarray(0, rand() < 0.3 ? Math.floor(rand() * b.length) : b.length));
    }
  });

  it('frames random garbage mixed with packets without throwing or growing', () => {
    const rand = rng(99);
    const all = [...PLAIN, ...COMPRESSED].map((p) => p.data);
    for (let trial = 0; trial < 100; trial++) {
      const parts: Buffer[] = [];
      for (let k = 0; k < 12; k++) {
        if (rand() < 0.5) parts.push(all[Math.floor(rand() * all.length)] as Buffer);
        else {
          const g = Buffer.alloc(Math.floor(rand() * 40));
          for (let i = 0; i < g.length; i++) g[i] = rand() < 0.2 ? 0x48 : Math.floor(rand() * 256);
          parts.push(g);
        }
      }
      const input = Buffer.concat(parts);
      const c = new Collector();
      const f = new HepStreamFramer(c);
      let off = 0;
      while (off < input.length) {
        const n = 1 + Math.floor(rand() * 500);
        f.push(input.subarray(off, off + n), rand() < 0.05);
        off += n;
        assert.ok(f.buffered <= HEP_MAX_PACKET_BYTES);
      }
      f.end();
      assert.equal(f.buffered, 0);
      for (const p of c.packets) {
        assert.equal(p.subarray(0, 4).toString('latin1'), 'HEP3');
        assert.equal(p.readUInt16BE(4), p.length);
      }
      for (const a of c.anomalies) assert.ok(HEP_ANOMALIES[a.code], a.code);
    }
  });
});

describe('HEP anomaly table', () => {
  it('documents every code the tests produced', () => {
    for (const code of seenCodes) assert.ok(HEP_ANOMALIES[code], `undocumented ${code}`);
    assert.ok(seenCodes.size >= 12);
    for (const code of Object.keys(HEP_ANOMALIES)) assert.match(code, /^hep_[a-z0-9_]+$/);
  });
});
