import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  SIP_MAX_HEADERS,
  SIP_MAX_HEADER_FIELD_BYTES,
  SIP_MAX_LIST_VALUES,
  SIP_MAX_MESSAGE_BYTES,
  SIP_MAX_VIAS,
} from '../../src/config/limits.js';
import { SIP_ANOMALIES } from '../../src/sip/anomalies.js';
import { parseSipMessage } from '../../src/sip/message.js';
import type { SipMessage } from '../../src/sip/message.js';

const msg = (lines: string[]): Buffer => Buffer.from(lines.join('\r\n'), 'utf8');
const codes = (m: SipMessage): string[] => m.anomalies.map((a) => a.code);

/** A well-formed request, with room for extra header lines and a body. */
function request(extra: string[] = [], body = '', method = 'REGISTER'): Buffer {
  return msg([
    `${method} sip:pbx.example.com SIP/2.0`,
    'Via: SIP/2.0/UDP 192.0.2.45:5062;branch=z9hG4bK-1-abc;rport',
    'Max-Forwards: 70',
    'From: "Reception" <sip:101@pbx.example.com>;tag=4f2a9c81',
    'To: <sip:101@pbx.example.com>',
    'Call-ID: a84b4c76e66710@pc33',
    `CSeq: 3 ${method}`,
    ...extra,
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ]);
}

describe('parseSipMessage: start line and framing', () => {
  it('reads a request', () => {
    const m = parseSipMessage(request(['User-Agent: Z 5.6.1']));
    assert.equal(m.kind, 'request');
    assert.equal(m.method, 'REGISTER');
    assert.equal(m.uri, 'sip:pbx.example.com');
    assert.equal(m.version, 'SIP/2.0');
    assert.equal(m.status, 0);
    assert.equal(m.reason, '');
    assert.equal(m.callId, 'a84b4c76e66710@pc33');
    assert.equal(m.cseq?.seq, 3);
    assert.equal(m.cseq?.method, 'REGISTER');
    assert.equal(m.from?.tag, '4f2a9c81');
    assert.equal(m.from?.display, 'Reception');
    assert.equal(m.to?.tag, undefined);
    assert.equal(m.vias[0]?.branch, 'z9hG4bK-1-abc');
    assert.equal(m.userAgent, 'Z 5.6.1');
    assert.equal(m.length, m.data.length);
    assert.deepEqual(m.anomalies, []);
  });

  it('reads a response', () => {
    const m = parseSipMessage(
      msg([
        'SIP/2.0 486 Busy Here',
        'Via: SIP/2.0/TLS [2001:db8::1]:5061;branch=z9hG4bKq',
        'From: <sip:a@b>;tag=1',
        'To: <sip:c@d>;tag=2',
        'Call-ID: x',
        'CSeq: 7 INVITE',
        'Server: 3CXPhoneSystem 20.0.1.123',
        'Content-Length: 0',
        '',
        '',
      ]),
    );
    assert.equal(m.kind, 'response');
    assert.equal(m.status, 486);
    assert.equal(m.reason, 'Busy Here');
    assert.equal(m.method, '');
    assert.equal(m.uri, '');
    assert.equal(m.requestUri, undefined);
    assert.equal(m.cseq?.method, 'INVITE');
    assert.equal(m.server, '3CXPhoneSystem 20.0.1.123');
    assert.equal(m.vias[0]?.host, '[2001:db8::1]');
    assert.equal(m.vias[0]?.port, 5061);
    assert.deepEqual(m.anomalies, []);
  });

  it('treats a start line that is neither as invalid, keeping the headers', () => {
    const http = parseSipMessage(Buffer.from('GET / HTTP/1.1\r\nHost: pbx\r\n\r\n'));
    assert.equal(http.kind, 'invalid');
    assert.deepEqual(codes(http), ['sip_bad_start_line']);
    assert.equal(http.header('host'), 'pbx');
    const odd = parseSipMessage(Buffer.from('SIP/2.0 099 Too Low\r\n\r\n'));
    assert.equal(odd.kind, 'invalid');
    assert.deepEqual(codes(odd), ['sip_bad_status_code']);
    const spaced = parseSipMessage(Buffer.from('SIP/2.0  200 OK\r\nCall-ID: x\r\n\r\n'));
    assert.equal(spaced.status, 200);
    assert.ok(codes(spaced).includes('sip_multiple_sp_in_start_line'));
    assert.equal(parseSipMessage(Buffer.from('INVITE  SIP/2.0\r\n\r\n')).kind, 'invalid');
    assert.equal(parseSipMessage(Buffer.from('SIP/2.0\r\n\r\n')).kind, 'invalid');
  });

  it('skips CRLF keep-alives silently and flags other junk before the start line', () => {
    const ka = parseSipMessage(Buffer.from('\r\n\r\n'));
    assert.equal(ka.keepAlive, true);
    assert.equal(ka.kind, 'invalid');
    assert.deepEqual(ka.anomalies, []);
    assert.equal(ka.length, 4);
    const lead = parseSipMessage(Buffer.concat([Buffer.from('\r\n\r\n'), request()]));
    assert.equal(lead.method, 'REGISTER');
    assert.equal(lead.start, 4);
    assert.deepEqual(lead.anomalies, []);
    // zeek's sip-junk-before-request.pcap: four NULs then the request line.
    const junk = parseSipMessage(
      Buffer.from('\x00\x00\x00\x00REGISTER sip:1.1.1.1:5060 SIP/2.0\r\n\r\n', 'latin1'),
    );
    assert.equal(junk.method, 'REGISTER');
    assert.equal(junk.anomalies[0]?.code, 'sip_junk_before_request');
    assert.equal(junk.anomalies[0]?.detail, '4 bytes');
  });

  it('frames the body by Content-Length and keeps trailing datagram bytes out', () => {
    const body = 'v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\n';
    const data = Buffer.concat([
      request(['Content-Type: application/sdp'], body, 'INVITE'),
      Buffer.from('JUNK'),
    ]);
    const m = parseSipMessage(data);
    assert.equal(m.body.toString(), body);
    assert.equal(m.length, data.length - 4);
    assert.equal(m.contentLength, body.length);
    assert.equal(m.mediaType, 'application/sdp');
  });

  it('takes the rest of a datagram without Content-Length, nothing on a stream', () => {
    const data = Buffer.from('MESSAGE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h\r\n\r\nhello');
    assert.equal(parseSipMessage(data).body.toString(), 'hello');
    assert.equal(parseSipMessage(data, { stream: true }).body.length, 0);
  });

  it('flags bad, negative, multiple and too large Content-Length values', () => {
    const bad = parseSipMessage(Buffer.from('OPTIONS sip:a SIP/2.0\r\nContent-Length: bad\r\n\r\nxyz'));
    assert.ok(codes(bad).includes('sip_bad_content_length'));
    assert.equal(bad.contentLength, undefined);
    assert.equal(bad.body.toString(), 'xyz');
    const neg = parseSipMessage(Buffer.from('OPTIONS sip:a SIP/2.0\r\nl: -5\r\n\r\n'));
    assert.ok(codes(neg).includes('sip_negative_content_length'));
    const trunc = parseSipMessage(Buffer.from('OPTIONS sip:a SIP/2.0\r\nl: 10\r\n\r\nabc'));
    assert.ok(codes(trunc).includes('sip_body_truncated'));
    assert.equal(trunc.body.toString(), 'abc');
  });

  it('accepts bare LF line ends but flags them', () => {
    const m = parseSipMessage(Buffer.from('OPTIONS sip:a@b SIP/2.0\nCall-ID: lf\nContent-Length: 2\n\nhi'));
    assert.equal(m.callId, 'lf');
    assert.equal(m.body.toString(), 'hi');
    assert.ok(codes(m).includes('sip_bare_lf'));
  });

  it('flags headers that never end and lines that are not headers', () => {
    const m = parseSipMessage(
      Buffer.from('OPTIONS sip:a@b SIP/2.0\r\nCall-ID: x\r\nno colon here\r\n[bad]: 1\r\nTo: <sip:a@b>'),
    );
    assert.deepEqual(codes(m).slice(0, 3), [
      'sip_header_without_colon',
      'sip_bad_header_name',
      'sip_headers_unterminated',
    ]);
    assert.equal(m.to?.uri?.user, 'a');
    assert.deepEqual(m.headerNames(), ['Call-ID', 'To']);
  });
});

describe('parseSipMessage: headers', () => {
  it('matches names case-insensitively with compact forms, and keeps unknown ones', () => {
    const m = parseSipMessage(
      msg([
        'INVITE sip:a@b SIP/2.0',
        'v: SIP/2.0/UDP h1;branch=z9hG4bK1',
        'VIA: SIP/2.0/UDP h2;branch=z9hG4bK2, SIP/2.0/UDP h3;branch=z9hG4bK3',
        'f: <sip:x@y>;tag=f1',
        't: <sip:a@b>',
        'i: compact-call-id',
        'm: <sip:x@192.0.2.1>, "B, C" <sip:y@192.0.2.2>;expires=60',
        'k: timer, replaces',
        'Allow: INVITE, ACK',
        'allow: BYE',
        'x: 1800;refresher=uac',
        'X-Custom: one',
        'x-custom: two',
        'CSeq: 1 INVITE',
        'Max-Forwards: 70',
        'Expires: 300',
        'l: 0',
        '',
        '',
      ]),
    );
    assert.equal(m.callId, 'compact-call-id');
    assert.equal(m.header('Call-ID'), 'compact-call-id');
    assert.equal(m.header('CALL-id'), 'compact-call-id');
    assert.deepEqual(
      m.vias.map((v) => v.host),
      ['h1', 'h2', 'h3'],
    );
    assert.deepEqual(m.headers('Via').length, 3);
    assert.deepEqual(
      m.contacts.map((c) => [c.display, c.uri?.user, c.expires]),
      [
        [undefined, 'x', undefined],
        ['B, C', 'y', 60],
      ],
    );
    assert.deepEqual(m.supported, ['timer', 'replaces']);
    assert.deepEqual(m.allow, ['INVITE', 'ACK', 'BYE']);
    assert.equal(m.sessionExpires?.seconds, 1800);
    assert.equal(m.sessionExpires?.refresher, 'uac');
    assert.equal(m.header('x-CUSTOM'), 'one');
    assert.deepEqual(m.headers('X-Custom'), ['one', 'two']);
    assert.equal(m.has('x-custom'), true);
    assert.equal(m.has('Y-Custom'), false);
    assert.equal(m.header('Subject'), undefined);
    assert.equal(m.expires, 300);
    assert.equal(m.maxForwards, 70);
    assert.equal(m.headerNames()[0], 'v');
    assert.equal(m.headerCount, 16);
    assert.deepEqual(m.anomalies, []);
  });

  it('undoes folding in values', () => {
    const m = parseSipMessage(
      Buffer.from(
        'OPTIONS sip:a@b SIP/2.0\r\nSubject: first\r\n  second\r\n\tthird\r\nCall-ID:\r\n folded-id\r\n\r\n',
      ),
    );
    assert.equal(m.header('Subject'), 'first second third');
    assert.equal(m.callId, 'folded-id');
  });

  it('reads credentials', () => {
    const m = parseSipMessage(
      request([
        'Authorization: Digest username="Xk2pQ9rT4m",realm="3CXPhoneSystem",nonce="414d535c1b3e8a2f7c:9e4b",uri="sip:pbx.example.com",response="6629fae49393a05397450978507c4ef1",algorithm=MD5',
      ]),
    );
    assert.equal(m.authorization?.username, 'Xk2pQ9rT4m');
    assert.equal(m.authorization?.realm, '3CXPhoneSystem');
    assert.equal(m.proxyAuthorization, undefined);
    assert.deepEqual(m.wwwAuthenticate, []);
    assert.deepEqual(m.anomalies, []);
  });

  it('reports value problems with the header name and its offset', () => {
    const data = request(['Date: Fri, 01 Jan 2010 16:00:00 EST', 'Retry-After: soon', 'Warning: 30 x "y"']);
    const m = parseSipMessage(data);
    const date = m.anomalies.find((a) => a.code === 'sip_bad_date');
    assert.equal(date?.detail, 'Date');
    assert.equal(data.toString('latin1', date?.offset, (date?.offset ?? 0) + 5), 'Date:');
    assert.ok(m.anomalies.some((a) => a.code === 'sip_bad_number' && a.detail === 'Retry-After'));
    assert.ok(m.anomalies.some((a) => a.code === 'sip_bad_number' && a.detail === 'Warning'));
    const cseq = parseSipMessage(Buffer.from('OPTIONS sip:a SIP/2.0\r\nCSeq: x OPTIONS\r\n\r\n'));
    assert.equal(cseq.cseq, undefined);
    assert.ok(codes(cseq).includes('sip_bad_cseq'));
  });
});

describe('parseSipMessage: bounds', () => {
  it('indexes at most SIP_MAX_HEADERS fields', () => {
    const extra = Array.from({ length: SIP_MAX_HEADERS + 20 }, (_, i) => `X-H${i}: ${i}`);
    const m = parseSipMessage(request(extra));
    assert.equal(m.headerCount, SIP_MAX_HEADERS);
    assert.ok(codes(m).includes('sip_too_many_headers'));
    // The body is still found after the fields that were not indexed.
    assert.equal(m.length, m.data.length);
  });

  it('flags a field longer than SIP_MAX_HEADER_FIELD_BYTES but still reads it', () => {
    const long = 'a'.repeat(SIP_MAX_HEADER_FIELD_BYTES + 10);
    const m = parseSipMessage(request([`Subject: ${long}`]));
    assert.ok(codes(m).includes('sip_header_too_long'));
    assert.equal(m.header('Subject'), long);
  });

  it('reads at most SIP_MAX_VIAS Via values and SIP_MAX_LIST_VALUES list values', () => {
    const via = Array.from(
      { length: SIP_MAX_VIAS + 5 },
      (_, i) => `Via: SIP/2.0/UDP h${i};branch=z9hG4bK${i}`,
    );
    const contacts = [
      `Contact: ${Array.from({ length: SIP_MAX_LIST_VALUES + 5 }, (_, i) => `<sip:c${i}@h>`).join(',')}`,
    ];
    const m = parseSipMessage(request([...via, ...contacts]));
    assert.equal(m.vias.length, SIP_MAX_VIAS);
    assert.equal(m.contacts.length, SIP_MAX_LIST_VALUES);
    assert.ok(codes(m).includes('sip_too_many_vias'));
    assert.ok(codes(m).includes('sip_too_many_values'));
    assert.equal(m.headers('Contact').length, SIP_MAX_LIST_VALUES);
  });

  it('reads at most SIP_MAX_MESSAGE_BYTES', () => {
    const big = Buffer.alloc(SIP_MAX_MESSAGE_BYTES + 100, 0x61);
    request().copy(big);
    const m = parseSipMessage(big);
    assert.equal(m.method, 'REGISTER');
    assert.ok(codes(m).includes('sip_message_too_large'));
    assert.ok(m.length <= SIP_MAX_MESSAGE_BYTES);
  });
});

describe('parseSipMessage: fuzz', () => {
  const seeds = readdirSync('../shared/corpus/rfc4475')
    .filter((f) => f.endsWith('.dat'))
    .map((f) => readFileSync(`../shared/corpus/rfc4475/${f}`));
  let state = 0x9e3779b9;
  const rand = (n: number): number => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) % n;
  };
  const special = Buffer.from('\r\n:;,"<>@[]% \t\\\x00=?');

  /** Reads every accessor; none may throw, every code must be documented, offsets in range. */
  function exercise(data: Buffer): void {
    const m = parseSipMessage(data);
    void m.callId;
    void m.cseq;
    void m.from?.uri?.user;
    void m.from?.display;
    void m.from?.params;
    void m.to?.tag;
    for (const v of m.vias) void [v.host, v.branch, v.received, v.params, v.hostType];
    for (const c of m.contacts) void [c.uri?.host, c.display, c.params];
    void m.requestUri?.params;
    void m.requestUri?.headers;
    void [
      m.routes,
      m.recordRoutes,
      m.authorization,
      m.proxyAuthorization,
      m.wwwAuthenticate,
      m.proxyAuthenticate,
    ];
    void [m.uri, m.reason, m.version, m.sessionExpires, m.supported, m.allow, m.expires, m.mediaType];
    void m.headerNames();
    void m.headers('Accept');
    for (const a of m.anomalies) {
      assert.ok(a.code in SIP_ANOMALIES, `undocumented ${a.code}`);
      if (a.offset !== undefined)
        assert.ok(a.offset >= 0 && a.offset <= data.length, `${a.code} offset ${a.offset}`);
    }
    assert.ok(m.length >= 0 && m.length <= data.length);
    assert.ok(m.body.length <= data.length);
    assert.ok(m.headerCount <= SIP_MAX_HEADERS);
  }

  it('survives random bytes', () => {
    const t0 = Date.now();
    for (let i = 0; i < 3000; i++) {
      const b = Buffer.alloc(rand(600));
      for (let j = 0; j < b.length; j++) b[j] = rand(4) === 0 ? special[rand(special.length)]! : rand(256);
      exercise(b);
    }
    assert.ok(Date.now() - t0 < 4000);
  });

  it('survives mutated corpus messages (flips, cuts, splices, inserted delimiters)', () => {
    const t0 = Date.now();
    for (let i = 0; i < 3000; i++) {
      const seed = seeds[rand(seeds.length)]!;
      let b = Buffer.from(seed);
      const ops = 1 + rand(4);
      for (let k = 0; k < ops; k++) {
        const at = rand(b.length + 1);
        switch (rand(4)) {
          case 0:
            if (b.length > 0) b[Math.min(at, b.length - 1)] = rand(256);
            break;
          case 1:
            b = b.subarray(0, at);
            break;
          case 2:
            b = Buffer.concat([
              b.subarray(0, at),
              Buffer.from([special[rand(special.length)]!]),
              b.subarray(at),
            ]);
            break;
          default: {
            const other = seeds[rand(seeds.length)]!;
            b = Buffer.concat([b.subarray(0, at), other.subarray(rand(other.length))]);
          }
        }
      }
      exercise(b);
    }
    assert.ok(Date.now() - t0 < 4000);
  });
});
