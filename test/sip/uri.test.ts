import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SIP_ANOMALIES } from '../../src/sip/anomalies.js';
import { isIpv4, isIpv6, parseUri, parseUriText } from '../../src/sip/uri.js';

const ip6 = (s: string): boolean => isIpv6(Buffer.from(s), 0, s.length);
const ip4 = (s: string): boolean => isIpv4(Buffer.from(s), 0, s.length);

describe('SIP URIs', () => {
  it('reads every part of a full sip URI', () => {
    const u = parseUriText(
      'sip:alice:secret@[2001:db8::1]:5061;transport=TLS;lr;maddr=239.255.255.1?Subject=hi%20there&Priority=urgent',
    );
    assert.equal(u.scheme, 'sip');
    assert.equal(u.user, 'alice');
    assert.equal(u.password, 'secret');
    assert.equal(u.host, '[2001:db8::1]');
    assert.equal(u.hostType, 'ipv6');
    assert.equal(u.hostAddress, '2001:db8::1');
    assert.equal(u.port, 5061);
    assert.deepEqual(
      [...u.params],
      [
        ['transport', 'TLS'],
        ['lr', ''],
        ['maddr', '239.255.255.1'],
      ],
    );
    assert.equal(u.param('TRANSPORT'), 'TLS');
    assert.equal(u.hasHeaders, true);
    assert.deepEqual(
      [...u.headers],
      [
        ['Subject', 'hi there'],
        ['Priority', 'urgent'],
      ],
    );
    assert.deepEqual(u.issues, []);
    assert.equal(u.isSip, true);
  });

  it('reads sips, IPv4 and hostname hosts, and a URI without user', () => {
    const a = parseUriText('SIPS:bob@192.0.2.4:5061');
    assert.equal(a.scheme, 'sips');
    assert.equal(a.hostType, 'ipv4');
    assert.equal(a.port, 5061);
    const b = parseUriText('sip:pbx.example.com');
    assert.equal(b.user, undefined);
    assert.equal(b.host, 'pbx.example.com');
    assert.equal(b.hostType, 'hostname');
    assert.equal(b.port, undefined);
    assert.equal(b.raw, 'sip:pbx.example.com');
  });

  it('decodes escapes in user and password, tolerating escaped NULs', () => {
    const u = parseUriText('sip:%61lice%00:p%40ss@example.com');
    assert.equal(u.user, 'alice\x00');
    assert.equal(u.password, 'p@ss');
    assert.deepEqual(u.issues, []);
    assert.equal(parseUriText('sip:%C3%A9t%C3%A9@example.com').user, 'été');
  });

  it('reads tel URIs and keeps unknown schemes raw', () => {
    const t = parseUriText('tel:+1-201-555-0123;phone-context=example.com');
    assert.equal(t.scheme, 'tel');
    assert.equal(t.user, '+1-201-555-0123');
    assert.equal(t.params.get('phone-context'), 'example.com');
    assert.equal(t.hostType, 'none');
    assert.deepEqual(t.issues, []);
    const x = parseUriText('urn:service:sos');
    assert.equal(x.scheme, 'urn');
    assert.equal(x.opaque, 'service:sos');
    assert.equal(x.host, '');
    assert.deepEqual(x.issues, []);
  });

  it('flags what breaks the grammar and keeps the rest', () => {
    const cases: [string, string][] = [
      ['alan@jasomi.com', 'sip_bad_uri'],
      ['', 'sip_bad_uri'],
      ['sip:', 'sip_bad_uri'],
      ['sip:a%zz@example.com', 'sip_bad_uri'],
      ['sip:a b@example.com', 'sip_bad_uri'],
      ['sip:bob@example.com:70000', 'sip_bad_uri'],
      ['sip:bob@example.com:', 'sip_bad_uri'],
      ['sip:bob@999.1.2.3', 'sip_bad_uri'],
      ['sip:bob@exa_mple.com', 'sip_bad_uri'],
      ['sip:@example.com', 'sip_bad_uri'],
      ['sip:2001:db8::10', 'sip_ipv6_reference_without_brackets'],
      ['sip:[2001:db8:::1]', 'sip_bad_ipv6_reference'],
      ['sip:[2001:db8::1', 'sip_bad_ipv6_reference'],
      ['sip:[2001:db8::1]x', 'sip_bad_uri'],
      ['sip:bob@example.com;a="b"', 'sip_bad_uri'],
    ];
    for (const [text, code] of cases) {
      const u = parseUriText(text);
      assert.ok(u.issues.includes(code), `${JSON.stringify(text)}: got ${u.issues.join(',')}`);
    }
    const bad = parseUriText('sip:a%zz@example.com');
    assert.equal(bad.user, 'a%zz');
    assert.equal(bad.host, 'example.com');
    assert.equal(parseUriText('sip:2001:db8::10').host, '2001:db8::10');
  });

  it('validates IPv4 and IPv6 addresses', () => {
    for (const s of ['0.0.0.0', '192.0.2.1', '255.255.255.255']) assert.ok(ip4(s), s);
    for (const s of ['256.0.0.1', '1.2.3', '1.2.3.4.5', '1..2.3', '01234.1.1.1', 'a.b.c.d', '1.2.3.']) {
      assert.ok(!ip4(s), s);
    }
    for (const s of [
      '::',
      '::1',
      '1::',
      '2001:db8::9:1',
      '1:2:3:4:5:6:7:8',
      '::ffff:192.0.2.10',
      '2001:db8::192.0.2.1',
    ]) {
      assert.ok(ip6(s), s);
    }
    for (const s of [
      '1:2:3:4:5:6:7:8:9',
      '1::2::3',
      '2001:db8:::192.0.2.1',
      '12345::',
      'g::',
      ':1:2',
      '1:',
      '1:2:3:4:5:6:7',
    ]) {
      assert.ok(!ip6(s), s);
    }
  });

  it('never throws on random bytes and reports only documented codes', () => {
    let seed = 0x2545f491;
    const rand = (): number => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) / 4294967296;
    };
    const alphabet = Buffer.from('sip:@[]:;?=&%0aF.-+ <>"\\\r\n\x00\xff1234567890abcdef');
    for (let i = 0; i < 5000; i++) {
      const n = Math.floor(rand() * 40);
      const b = Buffer.alloc(n);
      for (let j = 0; j < n; j++)
        b[j] = rand() < 0.7 ? alphabet[Math.floor(rand() * alphabet.length)]! : Math.floor(rand() * 256);
      const u = parseUri(b, 0, b.length);
      for (const c of u.issues) assert.ok(c in SIP_ANOMALIES, c);
      void u.user;
      void u.password;
      void u.host;
      void u.params;
      void u.headers;
      void u.raw;
      void u.opaque;
    }
  });
});
