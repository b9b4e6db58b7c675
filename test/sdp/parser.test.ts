import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { SDP_MAX_LINES, SDP_MAX_MEDIA } from '../../src/config/limits.js';
import { SDP_ANOMALIES } from '../../src/sdp/anomalies.js';
import { isHold, isSecure, mediaAddress, parseSdp } from '../../src/sdp/parser.js';
import type { Sdp } from '../../src/sdp/parser.js';
import { parseSipMessage } from '../../src/sip/message.js';

const CORPUS = '../shared/corpus';
const sdp = (lines: string[]): Sdp => parseSdp(Buffer.from(lines.join('\r\n') + '\r\n'));
const codes = (s: Sdp): string[] => s.anomalies.map((a) => a.code);

/** UDP payloads of a classic little-endian pcap of Ethernet/IPv4/UDP frames (enough for this fixture). */
function udpPayloads(file: string): Buffer[] {
  const d = readFileSync(file);
  assert.equal(d.readUInt32LE(0), 0xa1b2c3d4);
  assert.equal(d.readUInt32LE(20), 1, 'Ethernet link type');
  const out: Buffer[] = [];
  for (let p = 24; p + 16 <= d.length;) {
    const caplen = d.readUInt32LE(p + 8);
    const frame = d.subarray(p + 16, p + 16 + caplen);
    p += 16 + caplen;
    if (frame.readUInt16BE(12) !== 0x0800) continue;
    const ihl = (frame[14]! & 0x0f) * 4;
    if (frame[14 + 9] !== 17) continue;
    const udp = 14 + ihl;
    out.push(frame.subarray(udp + 8, udp + frame.readUInt16BE(udp + 4)));
  }
  return out;
}

/** Body after the header terminator of a corpus message file. */
function bodyOf(path: string): Buffer {
  const d = readFileSync(path);
  return d.subarray(d.indexOf('\r\n\r\n') + 4);
}

const OFFER = [
  'v=0',
  'o=- 3924141 3924142 IN IP4 198.51.100.10',
  's=call',
  'c=IN IP4 198.51.100.10',
  't=0 0',
  'm=audio 40000 RTP/AVP 8 0 101',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-16',
  'a=sendrecv',
];

describe('parseSdp', () => {
  it('reads every field of the suricata-verify sip-sdp capture as its test.yaml expects', () => {
    const payload = udpPayloads(`${CORPUS}/pcap/suricata-verify/sip-sdp/sdp.pcap`)[0]!;
    const msg = parseSipMessage(payload);
    assert.equal(msg.method, 'INVITE');
    // The crafted capture declares Content-Length 272 but carries 418 bytes of SDP; suricata reads
    // the whole datagram, so the expectations are for everything after the headers.
    assert.equal(msg.contentLength, 272);
    const rest = payload.subarray(payload.indexOf('\r\n\r\n') + 4);
    assert.equal(rest.length, 418);
    const s = parseSdp(rest);
    const expected = new Map<string, string>();
    for (const line of readFileSync(`${CORPUS}/pcap/suricata-verify/sip-sdp/test.yaml`, 'utf8').split('\n')) {
      const m = /^\s+sip\.sdp\.([\w.[\]]+): (.*)$/.exec(line);
      if (m !== null) expected.set(m[1]!, m[2]!);
    }
    assert.equal(expected.size, 18);
    const media = s.media[0]!;
    const ours: Record<string, string | undefined> = {
      origin: s.origin?.raw,
      session_name: s.sessionName,
      session_info: s.info,
      uri: s.uri,
      email: s.emails[0],
      phone_number: s.phones[0],
      connection_data: s.connection?.raw,
      'bandwidths[0]': s.bandwidths[0]?.raw,
      'time_descriptions[0].time': s.times[0]?.raw,
      'time_descriptions[0].repeat_time': s.times[0]?.repeats[0],
      timezone: s.timezones,
      encryption_key: s.keyMethod,
      'attributes[0]': s.attributes[0]?.name,
      'media_descriptions[0].media': media.raw,
      'media_descriptions[0].media_info': media.info,
      'media_descriptions[0].connection_data': media.connections[0]?.raw,
      'media_descriptions[0].encryption_key': media.keyMethod,
      'media_descriptions[0].attributes[0]': `${media.attributes[0]?.name}:${media.attributes[0]?.value}`,
    };
    for (const [key, value] of expected) {
      if (key === 'attributes[0]' || key in ours) assert.equal(ours[key], value, key);
      else assert.fail(`no field mapped for ${key}`);
    }
    assert.equal(s.version, 0);
    assert.equal(s.origin?.address, '192.168.1.2');
    assert.equal(s.bandwidths[0]?.type, 'AS');
    assert.equal(s.bandwidths[0]?.value, 64);
    assert.equal(s.direction, 'sendrecv');
    assert.equal(media.port, 30000);
    assert.equal(media.proto, 'RTP/AVP');
    assert.deepEqual(media.formats, ['0', '8', '97', '2', '3']);
    assert.deepEqual(media.rtpmaps, [
      { payloadType: 0, encoding: 'pcmu', clockRate: 8000, channels: undefined },
    ]);
    assert.equal(mediaAddress(media), '192.168.1.2');
    assert.equal(isSecure(media), false);
    assert.deepEqual(s.anomalies, []);
  });

  it('reads IPv6 connections (RFC 5118 ipv6-in-sdp)', () => {
    // The corpus files have CRLF line ends but the RFC's Content-Length counted LF ends, so the
    // body is taken as everything after the headers rather than as framed.
    const s = parseSdp(bodyOf(`${CORPUS}/rfc5118/ipv6-in-sdp`));
    assert.deepEqual(s.anomalies, []);
    assert.equal(s.origin?.addrType, 'IP6');
    assert.equal(s.origin?.address, '2001:db8::20');
    assert.equal(s.connection?.address, '2001:db8::20');
    assert.deepEqual(
      s.media.map((m) => [m.media, m.port, mediaAddress(m), m.rtpmaps[0]?.encoding]),
      [
        ['audio', 6000, '2001:db8::20', 'G726-32'],
        ['video', 6024, '2001:db8::20', 'H263-1998'],
      ],
    );
  });

  it('gives each media section its own address (RFC 5118 mult-ip-in-sdp)', () => {
    const s = parseSdp(bodyOf(`${CORPUS}/rfc5118/mult-ip-in-sdp`));
    assert.deepEqual(s.anomalies, []);
    assert.equal(s.connection, undefined);
    assert.equal(s.sessionName, '');
    assert.equal(s.origin?.address, 'host.example.com');
    assert.deepEqual(
      s.media.map((m) => [mediaAddress(m), m.connections[0]?.addrType]),
      [
        ['192.0.2.1', 'IP4'],
        ['2001:db8::1', 'IP6'],
      ],
    );
  });

  it('recognises hold: 0.0.0.0, sendonly, inactive, inherited session direction', () => {
    const plain = sdp(OFFER);
    assert.equal(isHold(plain.media[0]!), false);
    assert.equal(plain.media[0]?.direction, 'sendrecv');
    const zero = sdp(OFFER.map((l) => (l.startsWith('c=') ? 'c=IN IP4 0.0.0.0' : l)));
    assert.equal(isHold(zero.media[0]!), true);
    assert.equal(mediaAddress(zero.media[0]!), '0.0.0.0');
    const sendonly = sdp(OFFER.map((l) => (l === 'a=sendrecv' ? 'a=sendonly' : l)));
    assert.equal(sendonly.media[0]?.direction, 'sendonly');
    assert.equal(isHold(sendonly.media[0]!), true);
    const session = sdp([
      'v=0',
      'o=- 1 1 IN IP4 192.0.2.1',
      's=-',
      'c=IN IP4 192.0.2.1',
      't=0 0',
      'a=inactive',
      'm=audio 4000 RTP/AVP 0',
    ]);
    assert.equal(session.direction, 'inactive');
    assert.equal(session.media[0]?.direction, 'inactive');
    assert.equal(isHold(session.media[0]!), true);
  });

  it('reads crypto, fingerprint and setup, tells secure media, and never keeps a key', () => {
    const key = 'PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR';
    const s = sdp([
      'v=0',
      'o=- 1 1 IN IP4 192.0.2.1',
      's=-',
      'c=IN IP4 192.0.2.1',
      't=0 0',
      'k=clear:topsecretkey',
      'a=fingerprint:sha-256 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB:3C:48:9E:AC:0E:6C:A5:BA:0F:2C:F2:BA',
      'm=audio 4000 RTP/SAVP 0',
      `a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${key}|2^20|1:32`,
      'a=crypto:2 AES_256_CM_HMAC_SHA1_80 inline:QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo3ODkwMTIzNDU2Nzg5MDEyMzQ1Njc4OTA=|2^31 UNENCRYPTED_SRTCP',
      'm=audio 4002 UDP/TLS/RTP/SAVPF 111',
      'a=setup:actpass',
      'a=rtpmap:111 opus/48000/2',
      'a=key-mgmt:mikey AQAFgM0XflABAAAAAAAAAAAAAAsAyONQ6gAAAAAJAAAAAAA=',
      'm=audio 4004 RTP/AVP 0',
      `a=crypto:1 AES_CM_128_HMAC_SHA1_32 inline:${key}`,
      'm=audio 4006 RTP/AVP 0',
    ]);
    assert.deepEqual(s.anomalies, []);
    assert.equal(s.keyMethod, 'clear');
    const [srtp, dtls, bestEffort, clear] = s.media as [
      Sdp['media'][0],
      Sdp['media'][0],
      Sdp['media'][0],
      Sdp['media'][0],
    ];
    assert.deepEqual(srtp.crypto[0], {
      tag: 1,
      suite: 'AES_CM_128_HMAC_SHA1_80',
      keyMethods: ['inline'],
      keyInfo: ['2^20', '1:32'],
      sessionParams: [],
    });
    assert.deepEqual(srtp.crypto[1]?.sessionParams, ['UNENCRYPTED_SRTCP']);
    assert.equal(srtp.attributes[0]?.value, '1 AES_CM_128_HMAC_SHA1_80 inline:<redacted>|2^20|1:32');
    assert.equal(srtp.fingerprints[0]?.hashFunction, 'sha-256');
    assert.equal(dtls.setup, 'actpass');
    assert.deepEqual(dtls.rtpmaps[0], { payloadType: 111, encoding: 'opus', clockRate: 48000, channels: 2 });
    assert.ok(isSecure(srtp));
    assert.ok(isSecure(dtls));
    assert.ok(isSecure(bestEffort));
    assert.ok(!isSecure(clear));
    const all = JSON.stringify(s);
    assert.ok(!all.includes(key));
    assert.ok(!all.includes('topsecretkey'));
    assert.ok(!all.includes('QUJDREVG'));
    assert.ok(!all.includes('AQAFgM0X'));
  });

  it('reads multicast TTL and count, port counts and bandwidth', () => {
    const s = sdp([
      'v=0',
      'o=- 1 1 IN IP4 224.2.17.12',
      's=x',
      'c=IN IP4 224.2.1.1/127/3',
      'b=CT:128',
      't=2873397496 2873404696',
      'm=video 49170/2 RTP/AVP 31',
      'c=IN IP6 FF15::101/3',
      'b=TIAS:64000',
    ]);
    assert.deepEqual(s.anomalies, []);
    assert.equal(s.connection?.ttl, 127);
    assert.equal(s.connection?.count, 3);
    assert.equal(s.connection?.address, '224.2.1.1');
    assert.equal(s.media[0]?.portCount, 2);
    assert.equal(s.media[0]?.connections[0]?.count, 3);
    assert.equal(s.media[0]?.connections[0]?.ttl, undefined);
    assert.equal(mediaAddress(s.media[0]!), 'FF15::101');
    assert.equal(s.media[0]?.bandwidths[0]?.value, 64000);
    assert.equal(s.times[0]?.start, '2873397496');
  });

  it('flags malformed descriptions and keeps the rest', () => {
    const cases: [string[], string][] = [
      [['o=- 1 1 IN IP4 192.0.2.1', 's=-', 't=0 0'], 'sdp_missing_version'],
      [['v=0', 's=-', 't=0 0'], 'sdp_missing_origin'],
      [['v=0', 'o=- 1 1 IN IP4 192.0.2.1', 't=0 0'], 'sdp_missing_session_name'],
      [['v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-'], 'sdp_missing_timing'],
      [['v=1', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 't=0 0'], 'sdp_bad_version'],
      [['v=0', 'o=- 1 IN IP4 192.0.2.1', 's=-', 't=0 0'], 'sdp_bad_origin'],
      [['v=0', 'o=- 1 1 IN IP4 300.1.1.1', 's=-', 't=0 0'], 'sdp_bad_address'],
      [['v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 'c=IN IP4', 't=0 0'], 'sdp_bad_connection'],
      [['v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 'c=IN IP6 192.0.2.1', 't=0 0'], 'sdp_bad_address'],
      [
        ['v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 't=0 0', 'm=audio 4000 RTP/AVP 0'],
        'sdp_missing_connection',
      ],
      [
        ['v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 'c=IN IP4 1.2.3.4', 't=0 0', 'm=audio 99999 RTP/AVP 0'],
        'sdp_bad_media',
      ],
      [
        ['v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 'c=IN IP4 1.2.3.4', 't=0 0', 'm=audio 4000'],
        'sdp_bad_media',
      ],
      [['v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 't=0 0', 'm =video 3227 RTP/AVP 31'], 'sdp_bad_line'],
      [['v=0', 'testing=123'], 'sdp_bad_line'],
      [['v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 't=0 0', 'x=unknown'], 'sdp_unknown_type'],
      [['o=- 1 1 IN IP4 192.0.2.1', 'v=0', 's=-', 't=0 0'], 'sdp_line_out_of_order'],
      [
        [
          'v=0',
          'o=- 1 1 IN IP4 192.0.2.1',
          's=-',
          'c=IN IP4 1.2.3.4',
          't=0 0',
          'm=audio 4000 RTP/AVP 0',
          's=again',
        ],
        'sdp_line_out_of_order',
      ],
      [['v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 's=-', 't=0 0'], 'sdp_duplicate_line'],
      [['v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 'b=AS', 't=0 0'], 'sdp_bad_bandwidth'],
      [['v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 't=now 0'], 'sdp_bad_timing'],
      [
        [
          'v=0',
          'o=- 1 1 IN IP4 192.0.2.1',
          's=-',
          'c=IN IP4 1.2.3.4',
          't=0 0',
          'm=audio 4000 RTP/AVP 0',
          'a=rtpmap:0 PCMU',
        ],
        'sdp_bad_attribute',
      ],
      [
        [
          'v=0',
          'o=- 1 1 IN IP4 192.0.2.1',
          's=-',
          'c=IN IP4 1.2.3.4',
          't=0 0',
          'm=audio 4000 RTP/SAVP 0',
          'a=crypto:x',
        ],
        'sdp_bad_attribute',
      ],
      [
        [
          'v=0',
          'o=- 1 1 IN IP4 192.0.2.1',
          's=-',
          'c=IN IP4 1.2.3.4',
          't=0 0',
          'm=audio 4000 RTP/AVP 0',
          'a=setup:maybe',
        ],
        'sdp_bad_attribute',
      ],
      [
        [
          'v=0',
          'o=- 1 1 IN IP4 192.0.2.1',
          's=-',
          'c=IN IP4 1.2.3.4',
          't=0 0',
          'm=audio 4000 RTP/AVP 0',
          'a=sendonly',
          'a=recvonly',
        ],
        'sdp_conflicting_direction',
      ],
      [[''], 'sdp_empty'],
    ];
    for (const [lines, code] of cases) {
      const s = sdp(lines);
      assert.ok(codes(s).includes(code), `${lines.join('|')}: got ${codes(s).join(',')}`);
      for (const c of codes(s)) assert.ok(c in SDP_ANOMALIES, c);
    }
    const partial = sdp([
      'v=0',
      'o=- 1 1 IN IP4 192.0.2.1',
      'c=IN IP4 192.0.2.1',
      'm=audio 49217 RTP/AVP 0 12',
    ]);
    assert.equal(partial.media[0]?.port, 49217);
    assert.equal(mediaAddress(partial.media[0]!), '192.0.2.1');
  });

  it('bounds media sections and stored lines', () => {
    const head = ['v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 'c=IN IP4 192.0.2.1', 't=0 0'];
    const many = sdp([
      ...head,
      ...Array.from({ length: SDP_MAX_MEDIA + 5 }, (_, i) => `m=audio ${4000 + i} RTP/AVP 0`),
    ]);
    assert.equal(many.media.length, SDP_MAX_MEDIA);
    assert.ok(codes(many).includes('sdp_too_many_media'));
    const attrs = sdp([
      ...head,
      'm=audio 4000 RTP/AVP 0',
      ...Array.from({ length: SDP_MAX_LINES + 5 }, (_, i) => `a=x-${i}`),
    ]);
    // The bound is shared by every stored line: here one t= and the attributes.
    assert.equal((attrs.media[0]?.attributes.length ?? 0) + attrs.times.length, SDP_MAX_LINES);
    assert.ok(codes(attrs).includes('sdp_too_many_lines'));
  });

  it('accepts LF-only line ends and a missing final line end', () => {
    const s = parseSdp(
      Buffer.from('v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nc=IN IP4 192.0.2.1\nt=0 0\nm=audio 4000 RTP/AVP 0'),
    );
    assert.deepEqual(s.anomalies, []);
    assert.equal(s.media[0]?.port, 4000);
  });

  it('fuzz: random bytes and mutated offers never throw and respect the bounds', () => {
    let st = 99;
    const rand = (n: number): number => {
      st = (Math.imul(st, 1103515245) + 12345) >>> 0;
      return (st >>> 8) % n;
    };
    const offer = Buffer.from(OFFER.join('\r\n') + '\r\n');
    const alphabet = Buffer.from('vosiuepcbtrzkam= :/\r\n0123456789.IP4IN;');
    const t0 = Date.now();
    for (let i = 0; i < 3000; i++) {
      let b: Buffer;
      if (i % 2 === 0) {
        b = Buffer.alloc(rand(400));
        for (let j = 0; j < b.length; j++)
          b[j] = rand(3) === 0 ? rand(256) : alphabet[rand(alphabet.length)]!;
      } else {
        b = Buffer.from(offer);
        for (let k = 0; k < 4; k++) b[rand(b.length)] = alphabet[rand(alphabet.length)]!;
        b = b.subarray(0, rand(b.length + 1));
      }
      const s = parseSdp(b);
      assert.ok(s.media.length <= SDP_MAX_MEDIA);
      for (const a of s.anomalies) assert.ok(a.code in SDP_ANOMALIES, a.code);
      for (const m of s.media) {
        void mediaAddress(m);
        void isSecure(m);
        void isHold(m);
      }
    }
    assert.ok(Date.now() - t0 < 4000);
  });
});
