// The SDP anomaly table is the contract: every code is documented, and every documented code can
// be produced (each has an input here that yields it).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SDP_MAX_LINES, SDP_MAX_MEDIA } from '../../src/config/limits.js';
import { SDP_ANOMALIES } from '../../src/sdp/anomalies.js';
import { parseSdp } from '../../src/sdp/parser.js';

const HEAD = ['v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 'c=IN IP4 192.0.2.1', 't=0 0'];
const sdp = (lines: string[]): string[] =>
  parseSdp(Buffer.from(lines.join('\r\n'))).anomalies.map((a) => a.code);

const SDP_INPUTS: Record<string, () => string[]> = {
  sdp_empty: () => sdp(['']),
  sdp_bad_line: () => sdp([...HEAD, 'garbage']),
  sdp_unknown_type: () => sdp([...HEAD, 'y=1']),
  sdp_line_out_of_order: () => sdp([...HEAD, 'm=audio 4 RTP/AVP 0', 'o=- 1 1 IN IP4 192.0.2.1']),
  sdp_duplicate_line: () => sdp([...HEAD, 'v=0']),
  sdp_bad_version: () => sdp(['v=2', ...HEAD.slice(1)]),
  sdp_missing_version: () => sdp(HEAD.slice(1)),
  sdp_missing_origin: () => sdp(HEAD.filter((l) => !l.startsWith('o='))),
  sdp_bad_origin: () => sdp(HEAD.map((l) => (l.startsWith('o=') ? 'o=alice' : l))),
  sdp_missing_session_name: () => sdp(HEAD.filter((l) => !l.startsWith('s='))),
  sdp_missing_timing: () => sdp(HEAD.filter((l) => !l.startsWith('t='))),
  sdp_bad_timing: () => sdp([...HEAD, 'r=weekly']),
  sdp_bad_connection: () => sdp([...HEAD, 'm=audio 4 RTP/AVP 0', 'c=IN']),
  sdp_bad_address: () => sdp([...HEAD, 'm=audio 4 RTP/AVP 0', 'c=IN IP4 1.2.3.999']),
  sdp_missing_connection: () => sdp([...HEAD.filter((l) => !l.startsWith('c=')), 'm=audio 4 RTP/AVP 0']),
  sdp_bad_bandwidth: () => sdp([...HEAD, 'b=AS:lots']),
  sdp_bad_media: () => sdp([...HEAD, 'm=audio x RTP/AVP 0']),
  sdp_bad_attribute: () => sdp([...HEAD, 'm=audio 4 RTP/AVP 0', 'a=fingerprint:sha-1 nothex']),
  sdp_conflicting_direction: () => sdp([...HEAD, 'a=sendonly', 'a=inactive']),
  sdp_too_many_media: () =>
    sdp([...HEAD, ...Array.from({ length: SDP_MAX_MEDIA + 1 }, () => 'm=audio 4 RTP/AVP 0')]),
  sdp_too_many_lines: () => sdp([...HEAD, ...Array.from({ length: SDP_MAX_LINES + 1 }, () => 'a=x')]),
};

describe('SDP anomaly table', () => {
  it('has snake_case codes with a description', () => {
    for (const [code, text] of Object.entries(SDP_ANOMALIES)) {
      assert.match(code, /^sdp_[a-z0-9]+(_[a-z0-9]+)*$/);
      assert.ok(text.length > 20, code);
    }
  });
  it('has every documented code produced by some input', () => {
    assert.deepEqual(Object.keys(SDP_INPUTS).sort(), Object.keys(SDP_ANOMALIES).sort());
    for (const [code, make] of Object.entries(SDP_INPUTS)) {
      const got = make();
      assert.ok(got.includes(code), `${code}: got ${got.join(', ')}`);
      for (const c of got) assert.ok(c in SDP_ANOMALIES, `${code} input produced undocumented ${c}`);
    }
  });
});
