// The anomaly tables are the contract: every code is documented, and every documented code can be
// produced (each has an input here that yields it).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  SIP_MAX_HEADERS,
  SIP_MAX_HEADER_FIELD_BYTES,
  SIP_MAX_LIST_VALUES,
  SIP_MAX_MESSAGE_BYTES,
  SIP_MAX_PARAMS,
  SIP_MAX_VIAS,
  SIP_STREAM_MAX_BODY_BYTES,
  SIP_STREAM_MAX_HEADER_BYTES,
} from '../../src/config/limits.js';
import { SIP_ANOMALIES } from '../../src/sip/anomalies.js';
import { parseSipMessage } from '../../src/sip/message.js';
import { SipStreamFramer } from '../../src/sip/stream.js';

/** Codes of a message built from a start line, header lines and a body. */
function sip(start: string, headers: string[], body = ''): string[] {
  const text = [start, ...headers, '', body].join('\r\n');
  return parseSipMessage(Buffer.from(text, 'latin1')).anomalies.map((a) => a.code);
}

const BASE = [
  'Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKabc',
  'From: <sip:a@example.com>;tag=1',
  'To: <sip:b@example.com>',
  'Call-ID: x@y',
  'CSeq: 1 OPTIONS',
  'Max-Forwards: 70',
];
const REQ = 'OPTIONS sip:b@example.com SIP/2.0';
const withBase = (extra: string[], skip = ''): string[] => [
  ...BASE.filter((h) => !h.startsWith(skip || '\0')),
  ...extra,
];

/** Codes the stream framer reports for the given chunks (each [bytes, gap]). */
function stream(chunks: [string | Buffer, boolean][], end = false): string[] {
  const out: string[] = [];
  const f = new SipStreamFramer({ onMessage: () => undefined, onAnomaly: (a) => out.push(a.code) });
  for (const [c, gap] of chunks) f.push(typeof c === 'string' ? Buffer.from(c, 'latin1') : c, gap);
  if (end) f.end();
  return out;
}

const SIP_INPUTS: Record<string, () => string[]> = {
  sip_message_too_large: () => {
    const big = Buffer.alloc(SIP_MAX_MESSAGE_BYTES + 1, 0x20);
    Buffer.from(`${REQ}\r\n`).copy(big);
    return parseSipMessage(big).anomalies.map((a) => a.code);
  },
  sip_junk_before_request: () => sip(`\x00\x01${REQ}`, BASE),
  sip_bad_start_line: () => sip('GET / HTTP/1.1', ['Host: x']),
  sip_bad_version: () => sip('OPTIONS sip:b@example.com SIP/3.0', BASE),
  sip_bad_status_code: () => sip('SIP/2.0 42 Odd', BASE),
  sip_multiple_sp_in_start_line: () => sip('OPTIONS  sip:b@example.com SIP/2.0', BASE),
  sip_trailing_sp_in_start_line: () => sip(`${REQ} `, BASE),
  sip_uri_embedded_lws: () => sip('OPTIONS sip:b@example.com; lr SIP/2.0', BASE),
  sip_uri_enclosed_in_brackets: () => sip('OPTIONS <sip:b@example.com> SIP/2.0', BASE),
  sip_escaped_headers_in_request_uri: () => sip('OPTIONS sip:b@example.com?Subject=x SIP/2.0', BASE),
  sip_header_without_colon: () => sip(REQ, withBase(['Foobar roobar'])),
  sip_bad_header_name: () => sip(REQ, withBase(['{x}: y'])),
  sip_headers_unterminated: () =>
    parseSipMessage(Buffer.from(`${REQ}\r\n${BASE.join('\r\n')}`)).anomalies.map((a) => a.code),
  sip_bare_lf: () =>
    parseSipMessage(Buffer.from(`${REQ}\n${BASE.join('\n')}\n\n`)).anomalies.map((a) => a.code),
  sip_too_many_headers: () =>
    sip(REQ, withBase(Array.from({ length: SIP_MAX_HEADERS }, (_, i) => `X-${i}: ${i}`))),
  sip_header_too_long: () => sip(REQ, withBase([`Subject: ${'s'.repeat(SIP_MAX_HEADER_FIELD_BYTES)}`])),
  sip_duplicate_single_header: () => sip(REQ, withBase(['Call-ID: again'])),
  sip_missing_header: () => sip(REQ, withBase([], 'Call-ID')),
  sip_extraneous_header_separator: () => sip(REQ, withBase(['Contact: <sip:a@h>;;'])),
  sip_too_many_values: () =>
    sip(
      REQ,
      withBase([`Route: ${Array.from({ length: SIP_MAX_LIST_VALUES + 1 }, () => '<sip:p;lr>').join(',')}`]),
    ),
  sip_too_many_params: () => sip(REQ, withBase([`Contact: <sip:a@h>${';p'.repeat(SIP_MAX_PARAMS + 1)}`])),
  sip_bad_param: () => sip(REQ, withBase(['Contact: <sip:a@h>;q=7'])),
  sip_unterminated_quote: () => sip(REQ, withBase(['Contact: "open <sip:a@h>'])),
  sip_bad_content_length: () => sip(REQ, withBase(['Content-Length: many'])),
  sip_negative_content_length: () => sip(REQ, withBase(['Content-Length: -1'])),
  sip_body_truncated: () => sip(REQ, withBase(['Content-Length: 50']), 'short'),
  sip_multiple_content_length: () => sip(REQ, withBase(['Content-Length: 0', 'l: 0'])),
  sip_bad_cseq: () => sip(REQ, withBase(['CSeq: 1'], 'CSeq')),
  sip_cseq_method_mismatch: () => sip(REQ, withBase(['CSeq: 1 INVITE'], 'CSeq')),
  sip_overlarge_value: () => sip(REQ, withBase(['Max-Forwards: 256'], 'Max-Forwards')),
  sip_bad_number: () => sip(REQ, withBase(['Expires: never'])),
  sip_bad_date: () => sip(REQ, withBase(['Date: yesterday'])),
  sip_bad_uri: () => sip(REQ, withBase(['To: <mailto>'], 'To')),
  sip_ipv6_reference_without_brackets: () => sip('OPTIONS sip:2001:db8::1 SIP/2.0', BASE),
  sip_bad_ipv6_reference: () => sip('OPTIONS sip:[2001:db8:::1] SIP/2.0', BASE),
  sip_name_addr_not_enclosed: () => sip(REQ, withBase(['Contact: sip:a@h?Subject=x'])),
  sip_spaces_in_addr_spec: () => sip(REQ, withBase(['To: < sip:b@example.com >'], 'To')),
  sip_bad_display_name: () => sip(REQ, withBase(['To: Bob, Jr <sip:b@example.com>'], 'To')),
  sip_bad_via: () => sip(REQ, withBase(['Via: SIP/2.0 nowhere'], 'Via')),
  sip_too_many_vias: () =>
    sip(
      REQ,
      withBase(
        Array.from({ length: SIP_MAX_VIAS + 1 }, (_, i) => `Via: SIP/2.0/UDP h${i};branch=z9hG4bK${i}`),
      ),
    ),
  sip_missing_branch: () => sip(REQ, withBase(['Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK'], 'Via')),
  sip_bad_auth_header: () => sip(REQ, withBase(['Authorization: Digest a=b c=d'])),
  sip_missing_content_length: () => stream([[`${REQ}\r\n${BASE.join('\r\n')}\r\n\r\n`, false]]),
  sip_stream_resync: () => stream([[`junk\r\n${REQ}\r\nl: 0\r\n\r\n`, false]]),
  sip_stream_gap: () =>
    stream([
      [`${REQ}\r\nl: 0\r\n`, false],
      [`${REQ}\r\nl: 0\r\n\r\n`, true],
    ]),
  sip_stream_headers_too_large: () =>
    stream([[`${REQ}\r\n${'X-Pad: 0123456789\r\n'.repeat(SIP_STREAM_MAX_HEADER_BYTES / 16)}\r\n`, false]]),
  sip_stream_body_too_large: () => stream([[`${REQ}\r\nl: ${SIP_STREAM_MAX_BODY_BYTES + 1}\r\n\r\n`, false]]),
  sip_stream_truncated: () => stream([[`${REQ}\r\nl: 5\r\n\r\nab`, false]], true),
};

describe('SIP anomaly table', () => {
  for (const [name, table, prefix, inputs] of [
    ['SIP_ANOMALIES', SIP_ANOMALIES, 'sip_', SIP_INPUTS],
  ] as const) {
    it(`${name}: snake_case codes with a description`, () => {
      for (const [code, text] of Object.entries(table)) {
        assert.match(code, new RegExp(`^${prefix}[a-z0-9]+(_[a-z0-9]+)*$`));
        assert.ok(text.length > 20, code);
      }
    });
    it(`${name}: every documented code is produced by some input`, () => {
      assert.deepEqual(Object.keys(inputs).sort(), Object.keys(table).sort());
      for (const [code, make] of Object.entries(inputs)) {
        const got = make();
        assert.ok(got.includes(code), `${code}: got ${got.join(', ')}`);
        for (const c of got) assert.ok(c in table, `${code} input produced undocumented ${c}`);
      }
    });
  }
});
