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
