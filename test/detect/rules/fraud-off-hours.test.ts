import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  configureBusinessHours,
  fraudOffHours,
  offHours,
} from '../../../src/detect/rules/fraud-off-hours.js';
import { configureNumbers } from '../../../src/track/calls.js';
import { DEFAULT_SITE, SiteModel } from '../../../src/detect/site.js';
import { ruleHarness } from '../../helpers/rule-harness.js';
import { call, invite, PBX, PHONE, TRUNK } from '../../helpers/call-traffic.js';
import { b2buaOnward, proxyOnward } from './relayed-calls.js';
import { cdrCall } from './cdr-calls.js';

// Tuesday 24 Nov 2026 (T0 is 09:00 UTC = 10:00 in Paris).
const TUE_0300_PARIS = Date.UTC(2026, 10, 24, 2, 0, 0);
const TUE_1000_PARIS = Date.UTC(2026, 10, 24, 9, 0, 0);
const SAT_1100_PARIS = Date.UTC(2026, 10, 28, 10, 0, 0);
const HOURS = {
  timeZone: 'Europe/Paris',
  days: ['mon', 'tue', 'wed', 'thu', 'fri'] as const,
  start: '08:00',
  end: '19:00',
};

test('an international call answered at night is medium', () => {
  configureNumbers({ dialPlan: { country: 'FR' } });
  configureBusinessHours({ ...HOURS, days: [...HOURS.days] });
  const h = ruleHarness(fraudOffHours);
  call(h, TUE_0300_PARIS, PHONE, PBX, '+442071838750', ['180 Ringing', '200 OK'], { auth: '101' });
  const alerts = h.finish();
  assert.equal(alerts.length, 1);
  const a = alerts[0]!;
  assert.equal(a.rule, 'fraud.off-hours');
  assert.equal(a.severity, 'medium');
  assert.deepEqual(a.evidence.reasons, { 'at tue 03:00 Europe/Paris': 1 });
  assert.equal(a.evidence.answered, 1);
});

test('weekend calls count; working hours, national calls and incoming trunk calls do not', () => {
  configureNumbers({ dialPlan: { country: 'FR' } });
  configureBusinessHours({ ...HOURS, days: [...HOURS.days] });
  const h = ruleHarness(fraudOffHours, {}, new SiteModel({ ...DEFAULT_SITE, pbx: [PBX], trunks: [TRUNK] }));
  call(h, TUE_1000_PARIS, PHONE, PBX, '+442071838750', ['200 OK'], { auth: '101' });
  call(h, TUE_0300_PARIS, PHONE, PBX, '+33142681200', ['200 OK'], { auth: '101' });
  call(h, TUE_0300_PARIS + 1000, TRUNK, PBX, '+442071838751', ['200 OK']);
  call(h, SAT_1100_PARIS, PHONE, PBX, '0033142681200', ['486 Busy Here'], { auth: '101' });
  assert.deepEqual(h.finish(), []);
  const h2 = ruleHarness(fraudOffHours);
  call(h2, SAT_1100_PARIS, '203.0.113.30', PBX, '+442071838750', ['180 Ringing'], { auth: '102' });
  assert.equal(h2.finish().length, 1);
});

test('silent until business hours are configured', () => {
  configureNumbers({ dialPlan: { country: 'FR' } });
  configureBusinessHours(undefined);
  const h = ruleHarness(fraudOffHours);
  call(h, TUE_0300_PARIS, PHONE, PBX, '+442071838750', ['200 OK'], { auth: '101' });
  assert.deepEqual(h.finish(), []);
  assert.equal(offHours(TUE_0300_PARIS), undefined);
});

test('overnight hours and configuration errors', () => {
  configureBusinessHours({ timeZone: 'UTC', days: [1, 2, 3, 4, 5], start: '22:00', end: '06:00' });
  assert.equal(offHours(Date.UTC(2026, 10, 24, 23, 0)), undefined, 'Tuesday night shift');
  assert.equal(offHours(Date.UTC(2026, 10, 25, 3, 0)), undefined, 'its early-morning part on Wednesday');
  assert.equal(offHours(Date.UTC(2026, 10, 24, 12, 0)), 'tue 12:00 UTC');
  assert.equal(offHours(Date.UTC(2026, 10, 29, 3, 0)), 'sun 03:00 UTC', 'Saturday had no shift');
  assert.throws(() => configureBusinessHours({ timeZone: 'Mars/Olympus' }));
  assert.throws(() => configureBusinessHours({ timeZone: 'UTC', start: '25:00' }));
});

test('fuzz: random times and numbers never throw', () => {
  configureNumbers({ dialPlan: { country: 'FR' } });
  configureBusinessHours({ timeZone: 'America/New_York' });
  const h = ruleHarness(fraudOffHours);
  let state = 9;
  const rnd = (): number => (state = (state * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  for (let i = 0; i < 200; i++) {
    const t = Date.UTC(2026, 0, 1) + Math.floor(rnd() * 365 * 86_400_000);
    const num = rnd() < 0.5 ? `+44${Math.floor(rnd() * 1e10)}` : String(Math.floor(rnd() * 1e12));
    assert.doesNotThrow(() => call(h, t + i, PHONE, PBX, num, ['200 OK'], { auth: '101' }));
    assert.ok(offHours(t) === undefined || typeof offHours(t) === 'string');
  }
  for (const a of h.finish()) assert.equal(a.rule, 'fraud.off-hours');
  configureBusinessHours(undefined);
});

// ── from CDRs ────────────────────────────────────────────────────────────────────────────────────

test('from CDRs: judged by the local time the call started, not when its CDR came', () => {
  configureNumbers({ dialPlan: { country: 'FR' } });
  configureBusinessHours({ ...HOURS, days: [...HOURS.days] });
  const h = ruleHarness(fraudOffHours);
  // Started at 03:00 in Paris, ran until after opening time: off-hours.
  const night = cdrCall({
    start: TUE_0300_PARIS,
    caller: 'Ext.101',
    dialled: '+442071838750',
    talkMs: 6 * 3_600_000,
  });
  h.engine.cdrCall(night);
  // Started at 10:00 and ran into the night: in hours.
  h.engine.cdrCall(
    cdrCall({ start: TUE_1000_PARIS, caller: 'Ext.102', dialled: '+442071838751', talkMs: 12 * 3_600_000 }),
  );
  // At night, but national, inbound, or never rang.
  h.engine.cdrCall(cdrCall({ start: TUE_0300_PARIS, caller: 'Ext.103', dialled: '+33142681200' }));
  h.engine.cdrCall(
    cdrCall({ start: TUE_0300_PARIS, caller: '+442071838750', dialled: '103', direction: 'inbound' }),
  );
  h.engine.cdrCall(
    cdrCall({ start: SAT_1100_PARIS, caller: 'Ext.104', dialled: '+442071838750', outcome: 'busy' }),
  );
  const alerts = h.finish();
  assert.equal(alerts.length, 1);
  const a = alerts[0]!;
  assert.equal(a.target?.identity, 'Ext.101');
  assert.equal(a.source, undefined);
  assert.deepEqual(a.evidence.reasons, { 'at tue 03:00 Europe/Paris': 1 });
  assert.equal(a.firstSeen, new Date(TUE_0300_PARIS).toISOString());
  assert.equal(a.raisedAt, new Date(night.end!).toISOString());
});

test('from CDRs: a weekend call that only rang counts; silent without business hours', () => {
  configureNumbers({ dialPlan: { country: 'FR' } });
  configureBusinessHours({ ...HOURS, days: [...HOURS.days] });
  const h = ruleHarness(fraudOffHours);
  h.engine.cdrCall(cdrCall({ start: SAT_1100_PARIS, dialled: '0012125551234', outcome: 'no-answer' }));
  const alerts = h.finish();
  assert.equal(alerts.length, 1);
  assert.deepEqual(alerts[0]!.evidence.outcomes, { 'no-answer': 1 });
  configureBusinessHours(undefined);
  const h2 = ruleHarness(fraudOffHours);
  h2.engine.cdrCall(cdrCall({ start: SAT_1100_PARIS, dialled: '0012125551234' }));
  assert.deepEqual(h2.finish(), []);
});

test('a call a PBX relays at night is one call, under the phone that dialled it (PBX not declared)', () => {
  configureNumbers({ dialPlan: { country: 'FR' } });
  configureBusinessHours({ ...HOURS, days: [...HOURS.days] });
  const h = ruleHarness(fraudOffHours);
  const inv = invite(PHONE, PBX, '+442071838750');
  h.send(TUE_0300_PARIS, PHONE, PBX, inv.text);
  proxyOnward(h, TUE_0300_PARIS + 5, inv, PBX, TRUNK, ['180 Ringing', '200 OK']);
  const inv2 = invite(PHONE, PBX, '+442071838751');
  h.send(TUE_0300_PARIS + 60_000, PHONE, PBX, inv2.text);
  b2buaOnward(h, TUE_0300_PARIS + 60_005, inv2, PBX, TRUNK, '+442071838751', ['180 Ringing', '200 OK']);
  const alerts = h.finish();
  configureBusinessHours(undefined);
  configureNumbers();
  assert.equal(alerts.length, 1);
  assert.equal(alerts[0]!.source?.ip, PHONE);
  assert.equal(alerts[0]!.count, 2);
});
