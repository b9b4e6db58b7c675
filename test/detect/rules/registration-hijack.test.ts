import assert from 'node:assert/strict';
import { test } from 'node:test';
import { registrationHijack } from '../../../src/detect/rules/registration-hijack.js';
import { ruleHarness } from '../../helpers/rule-harness.js';
import { registerContact, T0 } from '../../helpers/call-traffic.js';

const HOME = '203.0.113.20';
const MOBILE = '198.51.100.77';
const EVIL = '192.0.2.66';
const YEALINK = 'Yealink SIP-T46S 66.86.0.15';
const c = (ip: string): string => `<sip:101@${ip}:5060>`;

test('a new device on another network that the registrar keeps alone is high', () => {
  const h = ruleHarness(registrationHijack);
  registerContact(h, T0, HOME, '101', { ua: YEALINK, listed: [c(HOME)] });
  registerContact(h, T0 + 60_000, EVIL, '101', { ua: 'friendly-scanner', listed: [c(EVIL)] });
  const alerts = h.finish();
  assert.equal(alerts.length, 1);
  const a = alerts[0]!;
  assert.equal(a.rule, 'registration.hijack');
  assert.equal(a.severity, 'high');
  assert.equal(a.source!.ip, EVIL);
  assert.equal(a.evidence.how, 'registrar kept only the new contact');
  assert.equal(a.evidence.newUserAgent, 'friendly-scanner');
  assert.equal((a.evidence.oldBindings as { source: string }[])[0]!.source, HOME);
});

test('an old binding removed in the same REGISTER is replaced even without a Contact list', () => {
  const h = ruleHarness(registrationHijack);
  registerContact(h, T0, HOME, '101', { ua: YEALINK });
  registerContact(h, T0 + 60_000, EVIL, '101', { ua: 'Zoiper', extraContacts: [`${c(HOME)};expires=0`] });
  const alerts = h.finish();
  assert.equal(alerts.length, 1);
  assert.equal(alerts[0]!.evidence.how, 'old binding removed before it expired');
});

test('the same phone on mobile data, coexisting devices, expired bindings and same network are benign', () => {
  const h = ruleHarness(registrationHijack);
  // Wi-Fi to mobile data: same User-Agent.
  registerContact(h, T0, HOME, '101', { ua: YEALINK, listed: [c(HOME)] });
  registerContact(h, T0 + 10_000, MOBILE, '101', { ua: YEALINK, listed: [c(MOBILE)] });
  // Two devices side by side: the registrar lists both.
  registerContact(h, T0, HOME, '102', { ua: YEALINK, listed: [c(HOME)] });
  registerContact(h, T0 + 10_000, EVIL, '102', { ua: '3CXPhone', listed: [c(HOME), c(EVIL)] });
  // The old binding expired before the new device came.
  registerContact(h, T0, HOME, '103', { ua: YEALINK, expires: 60, listed: [c(HOME)] });
  registerContact(h, T0 + 120_000, EVIL, '103', { ua: 'Zoiper', listed: [c(EVIL)] });
  // Another device in the same /24.
  registerContact(h, T0, HOME, '104', { ua: YEALINK, listed: [c(HOME)] });
  registerContact(h, T0 + 10_000, '203.0.113.21', '104', {
    ua: 'Zoiper',
    listed: ['<sip:104@203.0.113.21>'],
  });
  // A logout long before another device logs in.
  registerContact(h, T0, HOME, '105', { ua: YEALINK });
  registerContact(h, T0 + 1000, HOME, '105', { ua: YEALINK, contact: `${c(HOME)};expires=0` });
  registerContact(h, T0 + 3_600_000, EVIL, '105', { ua: 'Zoiper' });
  assert.deepEqual(h.finish(), []);
});

test('fuzz: random registrations never throw and waits stay bounded', () => {
  const h = ruleHarness(registrationHijack);
  let state = 3;
  const rnd = (): number => (state = (state * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const ips = [HOME, MOBILE, EVIL, '2001:db8::1', '2001:db8:1::1'];
  const uas = [YEALINK, 'Zoiper', '', 'x"\u0000y'];
  for (let i = 0; i < 400; i++) {
    const ip = ips[Math.floor(rnd() * ips.length)]!;
    const user = `1${Math.floor(rnd() * 5)}`;
    const listed = rnd() < 0.5 ? [] : [`<sip:${user}@${ip}:5060>`];
    assert.doesNotThrow(() =>
      registerContact(h, T0 + i * 1000, ip, user, {
        ua: uas[Math.floor(rnd() * uas.length)]!,
        expires: Math.floor(rnd() * 600),
        listed,
      }),
    );
  }
  const alerts = h.finish();
  for (const a of alerts) assert.equal(a.rule, 'registration.hijack');
  assert.ok(h.engine !== undefined);
});

/** A REGISTER for `user` from `src` with a chosen Call-ID (a phone keeps one per boot), answered 200 listing `listed`. */
function registerWith(
  h: { send(time: number, src: string, dst: string, text: string): number },
  t: number,
  user: string,
  src: string,
  callId: string,
  cseq: number,
  listed: string[],
): number {
  const lines = [
    `Via: SIP/2.0/UDP ${src}:5060;branch=z9hG4bK-tw${cseq}-${callId}`,
    `From: <sip:${user}@pbx.example>;tag=tw-${callId}`,
    `To: <sip:${user}@pbx.example>`,
    `Call-ID: ${callId}`,
    `CSeq: ${cseq} REGISTER`,
  ];
  const f = h.send(
    t,
    src,
    '198.51.100.2',
    [
      'REGISTER sip:pbx.example SIP/2.0',
      ...lines,
      `Contact: <sip:${user}@${src}:5060>`,
      'Expires: 300',
      `User-Agent: ${YEALINK}`,
      `Authorization: Digest username="${user}", realm="pbx", nonce="n1", uri="sip:pbx.example", response="0123456789abcdef0123456789abcdef"`,
      'Content-Length: 0',
      '',
      '',
    ].join('\n'),
  );
  h.send(
    t + 5,
    '198.51.100.2',
    src,
    [
      'SIP/2.0 200 OK',
      ...lines,
      ...listed.map((x) => `Contact: <sip:${user}@${x}:5060>;expires=300`),
      'Content-Length: 0',
      '',
      '',
    ].join('\n'),
  );
  return f;
}

test('a takeover copying the phone User-Agent is reported when the replaced phone comes back with its Call-ID', () => {
  const h = ruleHarness(registrationHijack);
  registerWith(h, T0, '101', HOME, 'boot1@home', 1, [HOME]);
  const taken = registerWith(h, T0 + 2000, '101', EVIL, 'evil@x', 1, [EVIL]);
  // The real phone refreshes on its own schedule, from its own network, with its own Call-ID.
  const back = registerWith(h, T0 + 60_000, '101', HOME, 'boot1@home', 2, [HOME]);
  const alerts = h.finish();
  assert.equal(alerts.length, 1);
  const a = alerts[0]!;
  assert.equal(a.source!.ip, EVIL);
  assert.equal(a.evidence.newUserAgent, YEALINK);
  assert.match(String(a.evidence.how), /came back/);
  assert.deepEqual(a.evidence.frames, [taken, back]);
});

test('one phone moving with the same User-Agent is not a takeover, even when it moves back', () => {
  const h = ruleHarness(registrationHijack);
  // Wi-Fi to mobile data and back within one boot: one Call-ID throughout.
  registerWith(h, T0, '101', HOME, 'boot1@phone', 1, [HOME]);
  registerWith(h, T0 + 10_000, '101', MOBILE, 'boot1@phone', 2, [MOBILE]);
  registerWith(h, T0 + 20_000, '101', '203.0.113.50', 'boot1@phone', 3, ['203.0.113.50']);
  // Rebooted on another network (a new Call-ID); the old boot never speaks again.
  registerWith(h, T0, '102', HOME, 'boot1@102', 1, [HOME]);
  registerWith(h, T0 + 30_000, '102', MOBILE, 'boot2@102', 1, [MOBILE]);
  registerWith(h, T0 + 90_000, '102', MOBILE, 'boot2@102', 2, [MOBILE]);
  // A second device with the same User-Agent side by side (the registrar keeps both), both refreshing.
  registerWith(h, T0, '103', HOME, 'desk@a', 1, [HOME]);
  registerWith(h, T0 + 10_000, '103', EVIL, 'desk@b', 1, [HOME, EVIL]);
  registerWith(h, T0 + 70_000, '103', HOME, 'desk@a', 2, [HOME, EVIL]);
  // The replaced phone comes back only after its binding would have expired: not provably alive.
  registerWith(h, T0, '104', HOME, 'boot1@104', 1, [HOME]);
  registerWith(h, T0 + 10_000, '104', EVIL, 'other@104', 1, [EVIL]);
  registerWith(h, T0 + 400_000, '104', HOME, 'boot1@104', 2, [HOME]);
  assert.deepEqual(h.finish(), []);
});
