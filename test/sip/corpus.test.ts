// RFC 4475 and RFC 5118 torture tests, driven by the corpus manifests (read at test time from
// ../shared/corpus; the messages are not copied into the repository).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { SIP_ANOMALIES } from '../../src/sip/anomalies.js';
import { parseSipMessage } from '../../src/sip/message.js';
import type { SipMessage } from '../../src/sip/message.js';

const CORPUS = '../shared/corpus';

/** File names listed in a manifest (first column, comment lines skipped). */
function manifest(path: string): string[] {
  return readFileSync(`${CORPUS}/${path}`, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith('#'))
    .map((l) => l.split('\t')[0]!.trim());
}

function load(dir: string, file: string): SipMessage {
  return parseSipMessage(readFileSync(`${CORPUS}/${dir}/${file}`));
}

function codes(m: SipMessage): string[] {
  return m.anomalies.map((a) => a.code);
}

function assertKnownCodes(m: SipMessage): void {
  for (const a of m.anomalies) assert.ok(a.code in SIP_ANOMALIES, `undocumented anomaly code ${a.code}`);
}

function assertClean(m: SipMessage): void {
  assert.deepEqual(
    m.anomalies.map((a) => `${a.code}${a.detail === undefined ? '' : `(${a.detail})`}`),
    [],
    'expected no anomaly',
  );
}

/** What each valid message must contain (RFC 4475 section 3.1.1). */
const VALID: Record<string, (m: SipMessage) => void> = {
  'wsinv.dat': (m) => {
    assert.equal(m.kind, 'request');
    assert.equal(m.method, 'INVITE');
    assert.equal(m.uri, 'sip:vivekg@chair-dnrc.example.com;unknownparam');
    assert.equal(m.requestUri?.user, 'vivekg');
    assert.equal(m.requestUri?.host, 'chair-dnrc.example.com');
    assert.equal(m.requestUri?.params.get('unknownparam'), '');
    assert.equal(m.callId, 'wsinv.ndaksdj@192.0.2.1');
    assert.equal(m.cseq?.seq, 9);
    assert.equal(m.cseq?.method, 'INVITE');
    assert.equal(m.maxForwards, 68);
    assert.equal(m.from?.display, 'J Rosenberg \\"');
    assert.equal(m.from?.tag, '98asjd8');
    assert.equal(m.from?.uri?.user, 'jdrosen');
    assert.equal(m.to?.tag, '1918181833n');
    assert.equal(m.to?.rawUri, 'sip:vivekg@chair-dnrc.example.com');
    assert.deepEqual(
      m.vias.map((v) => [v.protocol, v.transport, v.host, v.branch]),
      [
        ['SIP/2.0', 'UDP', '192.0.2.2', '390skdjuw'],
        ['SIP/2.0', 'TCP', 'spindle.example.com', 'z9hG4bK9ikj8'],
        ['SIP/2.0', 'UDP', '192.168.255.111', 'z9hG4bK30239'],
      ],
    );
    const c = m.contacts[0];
    assert.equal(m.contacts.length, 1);
    assert.equal(c?.display, 'Quoted string ""');
    assert.equal(c?.q, 0.33);
    assert.deepEqual(
      [...(c?.params ?? [])],
      [
        ['newparam', 'newvalue'],
        ['secondparam', ''],
        ['q', '0.33'],
      ],
    );
    assert.equal(m.header('s'), '');
    assert.equal(m.header('Subject'), '');
    assert.equal(m.header('NewFangledHeader'), 'newfangled value continued newfangled value');
    assert.equal(m.header('UnknownHeaderWithUnusualValue'), ';;,,;;,;');
    assert.equal(m.routes[0]?.rawUri, 'sip:services.example.com;lr;unknownwith=value;unknown-no-value');
    assert.equal(m.contentLength, 150);
    assert.equal(m.body.length, 150);
    assert.equal(m.contentType, 'application/sdp');
  },
  'intmeth.dat': (m) => {
    const method = "!interesting-Method0123456789_*+`.%indeed'~";
    assert.equal(m.method, method);
    assert.equal(m.cseq?.method, method);
    assert.equal(m.cseq?.seq, 139122385);
    assert.equal(m.requestUri?.user, "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
    assert.equal(m.requestUri?.password, "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)");
    assert.equal(m.requestUri?.host, 'example.com');
    assert.equal(m.vias[0]?.branch, "z9hG4bK-.!%66*_+`'~");
    assert.equal(m.to?.display, 'BEL:\x07 NUL:\x00 DEL:\x7f');
    assert.equal(m.to?.uri?.user, "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
    assert.equal(m.from?.display, "token1~` token2'+_ token3*%!.-");
    assert.equal(m.from?.tag, "_token~1'+`*%!-.");
    assert.equal(m.from?.params.get("fromparam''~+*_!.-%"), 'работающий');
    assert.equal(m.callId, 'intmeth.word%ZK-!.*_+\'@word`~)(><:\\/"][?}{');
    assert.equal(m.maxForwards, 255);
    assert.equal(m.header("extensionHeader-!.%*+_`'~"), '\ufeff大停電');
    assert.equal(m.contentLength, 0);
  },
  'esc01.dat': (m) => {
    assert.equal(m.requestUri?.user, 'sips:user@example.com');
    assert.equal(m.requestUri?.host, 'example.net');
    assert.equal(m.to?.uri?.user, 'user');
    assert.equal(m.from?.uri?.user, 'I have spaces');
    assert.equal(m.from?.tag, '938');
    assert.equal(m.callId, 'esc01.239409asdfakjkn23onasd0-3234');
    assert.equal(m.contentType, 'application/sdp');
    const c = m.contacts[0];
    assert.equal(c?.uri?.user, 'caller');
    assert.equal(c?.uri?.params.get('lr'), '');
    assert.equal(c?.uri?.params.get('name'), 'value%41');
    assert.equal(m.body.length, 150);
  },
  'escnull.dat': (m) => {
    assert.equal(m.to?.uri?.user, 'null-\x00-null');
    assert.equal(m.from?.uri?.user, 'null-\x00-null');
    assert.deepEqual(
      m.contacts.map((c) => c.uri?.user),
      ['\x00', '\x00\x00'],
    );
    assert.equal(m.contentLength, 0);
  },
  'esc02.dat': (m) => {
    assert.equal(m.method, 'RE%47IST%45R');
    assert.equal(m.cseq?.method, 'RE%47IST%45R');
    assert.equal(m.to?.display, '%Z%45');
    assert.equal(m.vias[0]?.branch, 'z9hG4bK209%fzsnel234');
    assert.deepEqual(
      m.contacts.map((c) => c.uri?.host),
      ['host1.example.com', 'host3.example.com'],
    );
    assert.equal(m.header('C%6Fntact'), '<sip:alias2@host2.example.com>');
  },
  'lwsdisp.dat': (m) => {
    assert.equal(m.from?.display, 'caller');
    assert.equal(m.from?.uri?.user, 'caller');
    assert.equal(m.from?.tag, '323');
  },
  'longreq.dat': (m) => {
    assert.equal(
      m.to?.display,
      'I have a user name of extremeextremeextremeextremeextremeextremeextremeextremeextremeextreme proportion',
    );
    assert.equal(m.to?.uri?.port, 6000);
    assert.equal(m.to?.uri?.params.size, 3);
    assert.equal(m.from?.uri?.user, 'amazinglylongcallername'.repeat(5));
    assert.equal(m.from?.tag?.length, 155);
    assert.equal(m.callId?.length, 141);
    assert.equal(m.vias.length, 34);
    assert.equal(m.vias[0]?.host, 'sip33.example.com');
    assert.equal(m.vias[33]?.received, '192.0.2.5');
    assert.ok(m.vias[33]?.branch?.startsWith('verylonglong'));
    assert.equal(m.contentLength, 150);
  },
  'dblreq.dat': (m) => {
    assert.equal(m.method, 'REGISTER');
    assert.equal(m.callId, 'dblreq.0ha0isndaksdj99sdfafnl3lk233412');
    assert.equal(m.contentLength, 0);
    assert.equal(m.body.length, 0);
    // The datagram's trailing octets are not this message (RFC 4475 section 3.1.1.8).
    assert.ok(m.length < m.data.length);
    const rest = parseSipMessage(m.data.subarray(m.length));
    assert.equal(rest.method, 'INVITE');
    assert.equal(rest.callId, 'dblreq.0ha0isnda977644900765@192.0.2.15');
  },
  'semiuri.dat': (m) => {
    assert.equal(m.requestUri?.user, 'user;par=u@example.net');
    assert.equal(m.requestUri?.host, 'example.com');
    assert.equal(m.requestUri?.params.size, 0);
    assert.deepEqual(m.headers('Accept'), [
      'application/sdp',
      'application/pkcs7-mime',
      'multipart/mixed',
      'multipart/signed',
      'message/sip',
      'message/sipfrag',
    ]);
  },
  'transports.dat': (m) => {
    assert.deepEqual(
      m.vias.map((v) => `${v.transport} ${v.host}`),
      [
        'UDP t1.example.com',
        'SCTP t2.example.com',
        'TLS t3.example.com',
        'UNKNOWN t4.example.com',
        'TCP t5.example.com',
      ],
    );
    assert.equal(m.callId, 'transports.kijh4akdnaqjkwendsasfdj');
  },
  'mpart01.dat': (m) => {
    assert.equal(m.method, 'MESSAGE');
    assert.equal(m.mediaType, 'multipart/mixed');
    assert.equal(m.contentLength, 553);
    assert.equal(m.body.length, 553);
    assert.equal(m.body.subarray(-22).toString('latin1'), '--7a9cbec02ceef655--\r\n');
    assert.equal(m.userAgent, 'SIPimp.org/0.2.5 (curses)');
    assert.equal(m.vias[0]?.rport, true);
    assert.equal(m.vias[0]?.port, 5070);
    assert.equal(m.routes[0]?.uri?.host, '127.0.0.1');
    assert.equal(m.routes[0]?.uri?.port, 5080);
  },
  'unreason.dat': (m) => {
    assert.equal(m.kind, 'response');
    assert.equal(m.status, 200);
    assert.equal(m.reason, '= 2**3 * 5**2 но сто девяносто девять - простое');
    assert.equal(m.body.length, 154);
    assert.equal(m.to?.tag, '2229');
  },
  'noreason.dat': (m) => {
    assert.equal(m.kind, 'response');
    assert.equal(m.status, 100);
    assert.equal(m.reason, '');
    assert.equal(m.version, 'SIP/2.0');
  },
};

/** The anomaly each invalid message must yield (RFC 4475 section 3.1.2). */
const INVALID: Record<string, string> = {
  'badinv01.dat': 'sip_extraneous_header_separator',
  'clerr.dat': 'sip_body_truncated',
  'ncl.dat': 'sip_negative_content_length',
  'scalar02.dat': 'sip_overlarge_value',
  'scalarlg.dat': 'sip_overlarge_value',
  'quotbal.dat': 'sip_unterminated_quote',
  'ltgtruri.dat': 'sip_uri_enclosed_in_brackets',
  'lwsruri.dat': 'sip_uri_embedded_lws',
  'lwsstart.dat': 'sip_multiple_sp_in_start_line',
  'trws.dat': 'sip_trailing_sp_in_start_line',
  'escruri.dat': 'sip_escaped_headers_in_request_uri',
  'baddate.dat': 'sip_bad_date',
  'regbadct.dat': 'sip_name_addr_not_enclosed',
  'badaspec.dat': 'sip_spaces_in_addr_spec',
  'baddn.dat': 'sip_bad_display_name',
  'badvers.dat': 'sip_bad_version',
  'mismatch01.dat': 'sip_cseq_method_mismatch',
  'mismatch02.dat': 'sip_cseq_method_mismatch',
  'bigcode.dat': 'sip_bad_status_code',
};

/** What each semantic-test message must keep or flag (RFC 4475 sections 3.2 to 3.4). */
const SEMANTIC: Record<string, (m: SipMessage) => void> = {
  'badbranch.dat': (m) => {
    assert.equal(m.vias[0]?.branch, 'z9hG4bK');
    assert.deepEqual(codes(m), ['sip_missing_branch']);
  },
  'insuf.dat': (m) => {
    assert.deepEqual(m.anomalies.map((a) => `${a.code}:${a.detail}`).sort(), [
      'sip_missing_header:Call-ID',
      'sip_missing_header:From',
      'sip_missing_header:Max-Forwards',
      'sip_missing_header:To',
    ]);
    assert.equal(m.cseq?.seq, 193942);
  },
  'unkscm.dat': (m) => {
    assertClean(m);
    assert.equal(m.requestUri?.scheme, 'nobodyknowsthisscheme');
    assert.equal(m.requestUri?.raw, 'nobodyKnowsThisScheme:totallyopaquecontent');
    assert.equal(m.requestUri?.opaque, 'totallyopaquecontent');
  },
  'novelsc.dat': (m) => {
    assertClean(m);
    assert.equal(m.requestUri?.scheme, 'soap.beep');
    assert.equal(m.uri, 'soap.beep://192.0.2.103:3002');
  },
  'unksm2.dat': (m) => {
    assertClean(m);
    assert.equal(m.to?.uri?.scheme, 'isbn');
    assert.equal(m.to?.rawUri, 'isbn:2983792873');
    assert.equal(m.from?.uri?.scheme, 'http');
    assert.equal(m.from?.tag, '3234233');
    assert.equal(m.contacts[0]?.uri?.scheme, 'name');
    assert.equal(m.contacts[0]?.rawUri, 'name:John_Smith');
  },
  'bext01.dat': (m) => {
    assertClean(m);
    assert.deepEqual(m.headers('Require'), ['nothingSupportsThis', 'nothingSupportsThisEither']);
    assert.deepEqual(m.headers('proxy-require'), ['noProxiesSupportThis', 'norDoAnyProxiesSupportThis']);
  },
  'invut.dat': (m) => {
    assertClean(m);
    assert.equal(m.contentType, 'application/unknownformat');
    assert.equal(m.body.length, 40);
  },
  'regaut01.dat': (m) => {
    assertClean(m);
    assert.equal(m.authorization?.scheme, 'NoOneKnowsThisScheme');
    assert.equal(m.authorization?.isDigest, false);
    assert.equal(m.authorization?.params.get('opaque-data'), 'here');
  },
  'multi01.dat': (m) => {
    assert.deepEqual(m.anomalies.map((a) => `${a.code}:${a.detail}`).sort(), [
      'sip_duplicate_single_header:CSeq',
      'sip_duplicate_single_header:Call-ID',
      'sip_duplicate_single_header:From',
      'sip_duplicate_single_header:Max-Forwards',
      'sip_duplicate_single_header:To',
    ]);
    // The first value of each is the one used.
    assert.equal(m.callId, 'multi01.98asdh@192.0.2.1');
    assert.equal(m.cseq?.seq, 5);
    assert.equal(m.maxForwards, 70);
  },
  'mcl01.dat': (m) => {
    assert.deepEqual(codes(m), ['sip_multiple_content_length']);
    assert.equal(m.contentLength, 13);
    assert.equal(m.body.toString(), "There's no wa");
  },
  'bcast.dat': (m) => {
    assertClean(m);
    assert.equal(m.status, 200);
    assert.equal(m.vias[1]?.host, '255.255.255.255');
    assert.equal(m.vias[1]?.hostType, 'ipv4');
  },
  'zeromf.dat': (m) => {
    assertClean(m);
    assert.equal(m.maxForwards, 0);
  },
  'cparam01.dat': (m) => {
    assertClean(m);
    // Without <>, ";unknownparam" is a Contact parameter, not a URI parameter.
    assert.equal(m.contacts[0]?.uri?.params.size, 0);
    assert.equal(m.contacts[0]?.params.get('unknownparam'), '');
    assert.equal(m.contacts[0]?.uri?.user, '+19725552222');
  },
  'cparam02.dat': (m) => {
    assertClean(m);
    assert.equal(m.contacts[0]?.uri?.params.get('unknownparam'), '');
    assert.equal(m.contacts[0]?.params.size, 0);
  },
  'regescrt.dat': (m) => {
    assertClean(m);
    assert.equal(m.contacts[0]?.uri?.headers.get('Route'), '<sip:sip.example.com>');
  },
  'sdp01.dat': (m) => {
    assertClean(m);
    assert.deepEqual(m.headers('Accept'), ['text/nobodyKnowsThis']);
    assert.equal(m.body.length, 150);
  },
  'inv2543.dat': (m) => {
    // RFC 2543 style: no branch, no From tag, no Content-Length, no Max-Forwards; all accepted.
    assertClean(m);
    assert.equal(m.vias[0]?.branch, undefined);
    assert.equal(m.from?.tag, undefined);
    assert.equal(m.contentLength, undefined);
    assert.equal(m.body.length, m.data.length - m.data.indexOf('\r\n\r\n') - 4);
    assert.equal(m.maxForwards, undefined);
    assert.equal(m.recordRoutes[0]?.uri?.param('maddr'), 'ss1.example.com');
  },
};

type Rfc5118Expectation = { anomaly?: string; check?: (m: SipMessage) => void };

/** RFC 5118: valid messages give no anomaly and the right IPv6 hosts and ports. */
const RFC5118: Record<string, Rfc5118Expectation> = {
  'ipv6-good': {
    check: (m) => {
      assert.equal(m.requestUri?.host, '[2001:db8::10]');
      assert.equal(m.requestUri?.hostType, 'ipv6');
      assert.equal(m.requestUri?.hostAddress, '2001:db8::10');
      assert.equal(m.requestUri?.port, undefined);
      assert.equal(m.vias[0]?.host, '[2001:db8::9:1]');
      assert.equal(m.vias[0]?.hostType, 'ipv6');
      assert.equal(m.contacts[0]?.uri?.host, '[2001:db8::1]');
    },
  },
  'ipv6-bad': {
    anomaly: 'sip_ipv6_reference_without_brackets',
    check: (m) => assert.equal(m.requestUri?.host, '2001:db8::10'),
  },
  // Well formed for the parser (section 4.3): the port is inside the brackets, so it is no port.
  'port-ambiguous': {
    check: (m) => {
      assert.equal(m.requestUri?.host, '[2001:db8::10:5070]');
      assert.equal(m.requestUri?.port, undefined);
    },
  },
  'port-unambiguous': {
    check: (m) => {
      assert.equal(m.requestUri?.host, '[2001:db8::10]');
      assert.equal(m.requestUri?.port, 5070);
    },
  },
  // Brackets in received are tolerated (section 4.5) and removed.
  'via-received-param-with-delim': {
    check: (m) => assert.equal(m.vias[0]?.received, '2001:db8::9:255'),
  },
  'via-received-param-no-delim': {
    check: (m) => assert.equal(m.vias[0]?.received, '2001:db8::9:255'),
  },
  'ipv6-in-sdp': {
    check: (m) => {
      assert.equal(m.to?.uri?.host, '[2001:db8::10]');
      assert.equal(m.vias[0]?.host, '[2001:db8::20]');
    },
  },
  'mult-ip-in-header': {
    check: (m) => {
      assert.deepEqual(
        m.vias.map((v) => [v.host, v.port, v.received]),
        [
          ['[2001:db8::9:1]', 6050, undefined],
          ['192.0.2.1', undefined, undefined],
          ['[2001:db8::9:255]', undefined, '192.0.2.200'],
        ],
      );
    },
  },
  'mult-ip-in-sdp': { check: (m) => assert.equal(m.requestUri?.host, '[2001:db8::10]') },
  'ipv4-mapped-ipv6': {
    check: (m) => {
      assert.equal(m.vias[0]?.host, '[::ffff:192.0.2.10]');
      assert.equal(m.vias[0]?.port, 19823);
      assert.equal(m.contacts[0]?.uri?.host, '[::ffff:192.0.2.2]');
    },
  },
  // Our choice (section 4.10 allows either): the extra colon is flagged, the host kept as written.
  'ipv6-bug-abnf-3-colons': {
    anomaly: 'sip_bad_ipv6_reference',
    check: (m) => assert.equal(m.requestUri?.host, '[2001:db8:::192.0.2.1]'),
  },
  'ipv6-correct-abnf-2-colons': {
    check: (m) => {
      assert.equal(m.requestUri?.host, '[2001:db8::192.0.2.1]');
      assert.equal(m.to?.uri?.hostType, 'ipv6');
    },
  },
};

describe('RFC 4475 valid messages (3.1.1)', () => {
  const files = manifest('rfc4475/valid.txt');
  it('lists the 13 messages, each with expectations here', () => {
    assert.equal(files.length, 13);
    for (const f of files) assert.ok(f in VALID, `no expectation for ${f}`);
  });
  for (const f of files) {
    it(`${f}: parses with no anomaly and the right values`, () => {
      const m = load('rfc4475', f);
      assertClean(m);
      VALID[f]?.(m);
    });
  }
});

describe('RFC 4475 invalid messages (3.1.2)', () => {
  const files = manifest('rfc4475/invalid.txt');
  it('lists the 19 messages, each with its expected anomaly', () => {
    assert.equal(files.length, 19);
    for (const f of files) assert.ok(f in INVALID, `no expectation for ${f}`);
  });
  for (const f of files) {
    it(`${f}: ${INVALID[f]}`, () => {
      const m = load('rfc4475', f);
      assertKnownCodes(m);
      assert.ok(codes(m).includes(INVALID[f]!), `${f}: got ${codes(m).join(', ')}`);
    });
  }
  it('keeps what it can read of an invalid message', () => {
    const scalar = load('rfc4475', 'scalar02.dat');
    assert.deepEqual(
      scalar.anomalies
        .filter((a) => a.code === 'sip_overlarge_value')
        .map((a) => a.detail)
        .sort(),
      ['CSeq', 'Contact', 'Expires', 'Max-Forwards'],
    );
    assert.equal(scalar.cseq?.seq, -1);
    assert.equal(scalar.cseq?.method, 'REGISTER');
    assert.equal(scalar.contacts[0]?.expires, 4294967295);
    assert.equal(scalar.expires, 4294967295);
    const lg = load('rfc4475', 'scalarlg.dat');
    assert.deepEqual(lg.anomalies.map((a) => a.detail).sort(), ['CSeq', 'Retry-After', 'Warning']);
    const ltgt = load('rfc4475', 'ltgtruri.dat');
    assert.equal(ltgt.requestUri?.user, 'user');
    const lws = load('rfc4475', 'lwsruri.dat');
    assert.equal(lws.uri, 'sip:user@example.com; lr');
    assert.equal(lws.requestUri?.params.get('lr'), '');
    const start = load('rfc4475', 'lwsstart.dat');
    assert.equal(start.uri, 'sip:user@example.com');
    assert.equal(start.kind, 'request');
    const big = load('rfc4475', 'bigcode.dat');
    assert.equal(big.kind, 'invalid');
    assert.equal(big.status, 0);
    assert.equal(big.callId, 'bigcode.asdof3uj203asdnf3429uasdhfas3ehjasdfas9i');
    const clerr = load('rfc4475', 'clerr.dat');
    assert.equal(clerr.contentLength, 9999);
    assert.equal(clerr.body.length, clerr.data.length - clerr.data.indexOf('\r\n\r\n') - 4);
    const quot = load('rfc4475', 'quotbal.dat');
    assert.equal(quot.to?.uri?.user, 'j.user');
    const dn = load('rfc4475', 'baddn.dat');
    assert.equal(dn.from?.display, 'Bell, Alexander');
    assert.equal(dn.from?.tag, '43');
    const vers = load('rfc4475', 'badvers.dat');
    assert.equal(vers.version, 'SIP/7.0');
    assert.equal(vers.vias[0]?.protocol, 'SIP/7.0');
    const esc = load('rfc4475', 'escruri.dat');
    assert.equal(esc.requestUri?.headers.get('Route'), '<sip:example.com>');
  });
});

describe('RFC 4475 semantic and compatibility messages (3.2 to 3.4)', () => {
  const files = manifest('rfc4475/semantic.txt');
  it('lists the 17 messages, each with expectations here', () => {
    assert.equal(files.length, 17);
    for (const f of files) assert.ok(f in SEMANTIC, `no expectation for ${f}`);
  });
  for (const f of files) {
    it(`${f}`, () => {
      const m = load('rfc4475', f);
      assertKnownCodes(m);
      SEMANTIC[f]?.(m);
    });
  }
  it('test.dat: the header without a colon is flagged, the rest kept', () => {
    const m = load('rfc4475', 'test.dat');
    assertKnownCodes(m);
    assert.ok(codes(m).includes('sip_header_without_colon'));
    // Its request line has no SIP-Version: not usable as a request.
    assert.equal(m.kind, 'invalid');
    assert.ok(codes(m).includes('sip_bad_start_line'));
    assert.equal(m.header('Xyzzy'), '10000000000');
    assert.equal(m.header('Meaning'), 'foo bar spam');
    assert.equal(m.body.toString(), 'v=0\r\ntesting=123\r\n');
  });
});

describe('RFC 5118 IPv6 torture tests', () => {
  const files = manifest('rfc5118/manifest.txt');
  it('lists the 12 messages, each with expectations here', () => {
    assert.equal(files.length, 12);
    for (const f of files) assert.ok(f in RFC5118, `no expectation for ${f}`);
  });
  for (const f of files) {
    it(`${f}`, () => {
      const m = load('rfc5118', f);
      const exp = RFC5118[f]!;
      assertKnownCodes(m);
      if (exp.anomaly === undefined) assertClean(m);
      else assert.ok(codes(m).includes(exp.anomaly), `${f}: got ${codes(m).join(', ')}`);
      exp.check?.(m);
    });
  }
});
