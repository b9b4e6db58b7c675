// Header value grammars: name-addr (From/To/Contact/Route), Via, the header name table and lists.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SIP_MAX_PARAMS } from '../../src/config/limits.js';
import {
  canonicalHeaderName,
  headerId,
  isListHeader,
  scanParams,
  splitList,
  unfoldText,
  unquote,
} from '../../src/sip/headers.js';
import { parseNameAddrText } from '../../src/sip/name-addr.js';
import { parseVias } from '../../src/sip/via.js';
import type { Via } from '../../src/sip/via.js';

function vias(text: string, max = 70): { list: Via[]; issues: string[]; dropped: number } {
  const b = Buffer.from(text, 'latin1');
  const list: Via[] = [];
  const issues: string[] = [];
  const dropped = parseVias(b, 0, b.length, list, max, issues);
  return { list, issues, dropped };
}

describe('name-addr values', () => {
  it('reads a quoted display name with escapes, URI, tag and params', () => {
    const a = parseNameAddrText(
      '"Bob \\"The\\" Builder" <sip:bob@biloxi.example.com;transport=tcp> ;tag=a6c85cf; foo = "x;y"',
    );
    assert.equal(a.display, 'Bob "The" Builder');
    assert.equal(a.rawUri, 'sip:bob@biloxi.example.com;transport=tcp');
    assert.equal(a.uri?.params.get('transport'), 'tcp');
    assert.equal(a.tag, 'a6c85cf');
    assert.equal(a.params.get('foo'), 'x;y');
    assert.deepEqual(a.issues, []);
    assert.equal(a.star, false);
  });

  it('reads token display names and addr-spec forms (parameters belong to the header)', () => {
    const a = parseNameAddrText('Alice Liddell <sip:alice@atlanta.example.com>');
    assert.equal(a.display, 'Alice Liddell');
    const b = parseNameAddrText('sip:carol@chicago.example.com;tag=887s');
    assert.equal(b.display, undefined);
    assert.equal(b.rawUri, 'sip:carol@chicago.example.com');
    assert.equal(b.uri?.params.size, 0);
    assert.equal(b.tag, '887s');
  });

  it('reads Contact star, expires and q, and flags bad values', () => {
    assert.equal(parseNameAddrText('*', true).star, true);
    const c = parseNameAddrText('<sip:101@192.0.2.45:5062>;expires=3600;q=0.7', true);
    assert.equal(c.expires, 3600);
    assert.equal(c.q, 0.7);
    assert.deepEqual(c.issues, []);
    const big = parseNameAddrText('<sip:a@b>;expires=99999999999', true);
    assert.equal(big.expires, 4294967295);
    assert.deepEqual(big.issues, ['sip_overlarge_value']);
    assert.deepEqual(parseNameAddrText('<sip:a@b>;expires=soon', true).issues, ['sip_bad_number']);
    const q = parseNameAddrText('<sip:a@b>;q=1.5', true);
    assert.equal(q.q, undefined);
    assert.deepEqual(q.issues, ['sip_bad_param']);
  });

  it('flags the RFC 4475 address problems', () => {
    const cases: [string, string][] = [
      ['"Mr. J. User <sip:j.user@example.com>', 'sip_unterminated_quote'],
      ['Bell, Alexander <sip:a.g.bell@example.com>;tag=43', 'sip_bad_display_name'],
      ['< sip:t.watson@example.org >', 'sip_spaces_in_addr_spec'],
      ['sip:user@example.com?Route=%3Csip:sip.example.com%3E', 'sip_name_addr_not_enclosed'],
      ['"Joe" sip:joe@example.org', 'sip_name_addr_not_enclosed'],
      ['"Joe" <sip:joe@example.org>;;;;', 'sip_extraneous_header_separator'],
      ['<sip:joe@example.org', 'sip_bad_uri'],
      ['<sip:joe@example.org>;tag="abc', 'sip_unterminated_quote'],
      ['<sip:joe@example.org> junk', 'sip_bad_param'],
      ['', 'sip_bad_uri'],
    ];
    for (const [text, code] of cases) {
      const a = parseNameAddrText(text);
      assert.ok(a.issues.includes(code), `${text}: got ${a.issues.join(',')}`);
    }
    // What can be read is kept.
    const quot = parseNameAddrText('"Mr. J. User <sip:j.user@example.com>');
    assert.equal(quot.uri?.user, 'j.user');
    assert.equal(parseNameAddrText('< sip:t.watson@example.org >').uri?.user, 't.watson');
  });

  it('checks the URI lazily and the same way as a full parse', () => {
    const a = parseNameAddrText('<sip:bob@[2001:db8:::1]>');
    assert.deepEqual(a.uriIssues, ['sip_bad_ipv6_reference']);
    assert.deepEqual(a.uri?.issues, ['sip_bad_ipv6_reference']);
  });

  it('bounds the parameters it reads', () => {
    const many = `<sip:a@b>${';p=1'.repeat(SIP_MAX_PARAMS + 5)};tag=last`;
    const a = parseNameAddrText(many);
    assert.ok(a.issues.includes('sip_too_many_params'));
    assert.equal(a.params.size, 1);
  });
});

describe('Via values', () => {
  it('reads protocol, transport, sent-by and the parameters trackers key on', () => {
    const { list, issues } = vias(
      'SIP/2.0/UDP 192.0.2.45:5062;branch=z9hG4bK776asdhds;rport=5062;received=198.51.100.7;maddr=224.2.0.1;ttl=16',
    );
    assert.deepEqual(issues, []);
    const v = list[0]!;
    assert.equal(v.protocol, 'SIP/2.0');
    assert.equal(v.transport, 'UDP');
    assert.equal(v.host, '192.0.2.45');
    assert.equal(v.hostType, 'ipv4');
    assert.equal(v.port, 5062);
    assert.equal(v.sentBy, '192.0.2.45:5062');
    assert.equal(v.branch, 'z9hG4bK776asdhds');
    assert.equal(v.rport, 5062);
    assert.equal(v.received, '198.51.100.7');
    assert.equal(v.params.get('maddr'), '224.2.0.1');
    assert.equal(v.params.get('ttl'), '16');
  });

  it('gives sent-by as host:port however the port was written', () => {
    const cases: [string, string][] = [
      ['SIP/2.0/UDP 192.0.2.45:5060', '192.0.2.45:5060'],
      ['SIP/2.0/UDP [2001:db8::1]:5061;branch=z9hG4bKx', '[2001:db8::1]:5061'],
      ['SIP/2.0/UDP pbx.example.com:0', 'pbx.example.com:0'],
      // Not as written: leading zeros and LWS around the colon.
      ['SIP/2.0/UDP 192.0.2.45:05060', '192.0.2.45:5060'],
      ['SIP/2.0/UDP 192.0.2.45 : 5060', '192.0.2.45:5060'],
      ['SIP/2.0/UDP 192.0.2.45: 5060', '192.0.2.45:5060'],
      ['SIP/2.0/UDP [2001:db8::1] :5061', '[2001:db8::1]:5061'],
      ['SIP/2.0/UDP pbx.example.com', 'pbx.example.com'],
    ];
    for (const [value, sentBy] of cases) {
      const v = vias(value).list[0]!;
      assert.equal(v.sentBy, sentBy, value);
      assert.equal(v.sentBy, v.port === undefined ? v.host : `${v.host}:${v.port}`, value);
    }
  });

  it('reads several values per field, LWS around slashes and lower-case transports', () => {
    const { list, issues } = vias(
      'SIP / 2.0 / tcp  pbx.example.com ; branch = z9hG4bKa , sip/2.0/wss [2001:db8::1]:443;rport',
    );
    assert.deepEqual(issues, []);
    assert.deepEqual(
      list.map((v) => [v.transport, v.host, v.port, v.branch, v.rport]),
      [
        ['TCP', 'pbx.example.com', undefined, 'z9hG4bKa', undefined],
        ['WSS', '[2001:db8::1]', 443, undefined, true],
      ],
    );
  });

  it('flags malformed values and keeps going', () => {
    const cases: [string, string][] = [
      ['SIP/2.0 host', 'sip_bad_via'],
      ['SIP/2.0/UDP', 'sip_bad_via'],
      ['SIP/2.0/UDP host:99999', 'sip_bad_via'],
      ['SIP/2.0/UDP host;rport=x', 'sip_bad_via'],
      ['SIP/3.0/UDP host', 'sip_bad_version'],
      ['SIP/2.0/UDP 2001:db8::1;branch=z9hG4bKx', 'sip_ipv6_reference_without_brackets'],
      ['SIP/2.0/UDP [2001:db8::1;branch=z9hG4bKx', 'sip_bad_ipv6_reference'],
      ['SIP/2.0/UDP 192.0.2.15;;,;,,', 'sip_extraneous_header_separator'],
      ['SIP/2.0/UDP host;branch="abc', 'sip_unterminated_quote'],
    ];
    for (const [text, code] of cases) {
      const r = vias(text);
      assert.ok(r.issues.includes(code), `${text}: got ${r.issues.join(',')}`);
    }
    const r = vias('garbage, SIP/2.0/UDP good.example.com;branch=z9hG4bKok');
    assert.equal(r.list.length, 1);
    assert.equal(r.list[0]?.branch, 'z9hG4bKok');
  });

  it('stops at the bound and counts what it skipped', () => {
    const r = vias(Array.from({ length: 10 }, (_, i) => `SIP/2.0/UDP h${i}`).join(','), 4);
    assert.equal(r.list.length, 4);
    assert.equal(r.dropped, 6);
  });
});

describe('header names and lists', () => {
  it('maps compact forms and any case to canonical names', () => {
    const pairs: [string, string][] = [
      ['i', 'Call-ID'],
      ['I', 'Call-ID'],
      ['call-id', 'Call-ID'],
      ['m', 'Contact'],
      ['f', 'From'],
      ['t', 'To'],
      ['v', 'Via'],
      ['l', 'Content-Length'],
      ['c', 'Content-Type'],
      ['e', 'Content-Encoding'],
      ['s', 'Subject'],
      ['k', 'Supported'],
      ['o', 'Event'],
      ['u', 'Allow-Events'],
      ['r', 'Refer-To'],
      ['b', 'Referred-By'],
      ['x', 'Session-Expires'],
      ['y', 'Identity'],
      ['a', 'Accept-Contact'],
      ['j', 'Reject-Contact'],
      ['d', 'Request-Disposition'],
      ['n', 'Identity-Info'],
      ['WWW-AUTHENTICATE', 'WWW-Authenticate'],
      ['X-Custom', 'X-Custom'],
    ];
    for (const [name, canonical] of pairs) assert.equal(canonicalHeaderName(name), canonical, name);
    assert.equal(headerId('x-unknown'), -1);
    assert.ok(isListHeader(headerId('Via')));
    assert.ok(!isListHeader(headerId('WWW-Authenticate')));
    assert.ok(!isListHeader(headerId('Date')));
  });

  it('splits lists respecting quotes and angle brackets', () => {
    const text = '"Smith, John" <sip:a@b;x=1,2>;q=0.5 ,<sip:c@d>, , sip:e@f';
    const b = Buffer.from(text);
    const out: number[] = [];
    const issues: string[] = [];
    const n = splitList(b, 0, b.length, out, 10, issues);
    assert.equal(n, 3);
    const parts: string[] = [];
    for (let i = 0; i < out.length; i += 2) parts.push(b.toString('latin1', out[i], out[i + 1]));
    assert.deepEqual(parts, ['"Smith, John" <sip:a@b;x=1,2>;q=0.5', '<sip:c@d>', 'sip:e@f']);
    assert.deepEqual(issues, ['sip_extraneous_header_separator']);
  });

  it('unfolds and unquotes', () => {
    const f = Buffer.from('a  \r\n   b\r\n\tc');
    assert.equal(unfoldText(f, 0, f.length), 'a b c');
    const q = Buffer.from('"x\\"y\\\\z"');
    assert.equal(unquote(q, 0, q.length), 'x"y\\z');
    const open = Buffer.from('"abc');
    assert.equal(unquote(open, 0, open.length), 'abc');
  });

  it('scans parameters with LWS around = and reports empty ones', () => {
    const b = Buffer.from(' ; a = 1 ;; b ; c="q;r"');
    const issues: string[] = [];
    assert.equal(scanParams(b, 0, b.length, false, issues), 3);
    assert.deepEqual(issues, ['sip_extraneous_header_separator']);
  });
});
