import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fraudInternationalDestination } from '../../../src/detect/rules/fraud-international-destination.js';
import { DEFAULT_SITE, SiteModel } from '../../../src/detect/site.js';
import { configureNumbers } from '../../../src/track/calls.js';
import { ruleHarness } from '../../helpers/rule-harness.js';
import { call, invite, PBX, PHONE, T0, TRUNK } from '../../helpers/call-traffic.js';
import { b2buaOnward, proxyOnward } from './relayed-calls.js';
import { cdrCall } from './cdr-calls.js';

const site = new SiteModel({ ...DEFAULT_SITE, trunks: [TRUNK] });

test('calls outside the home country are medium; the allowed list widens it', () => {
  configureNumbers({ dialPlan: { country: 'GB', outboundPrefixes: ['9'] } });
  const h = ruleHarness(fraudInternationalDestination, {}, site);
  call(h, T0, PHONE, PBX, '9011 33 1 42 68 12 34', ['180 Ringing']);
  call(h, T0 + 100, PHONE, PBX, '+12125551234', ['183 Session Progress', '200 OK']);
  call(h, T0 + 200, PHONE, PBX, '902071838750', ['180 Ringing']);
  const alerts = h.finish();
  assert.equal(alerts.length, 1);
  const a = alerts[0]!;
  assert.equal(a.rule, 'fraud.international-destination');
  assert.equal(a.severity, 'medium');
  assert.equal(a.count, 2);
  assert.deepEqual(a.evidence.countries, { FR: 1, US: 1 });
  assert.deepEqual(a.evidence.reasons, { 'country FR': 1, 'country US': 1 });

  configureNumbers({ dialPlan: { country: 'GB' }, allowedCountries: ['GB', 'FR', 'US'] });
  const h2 = ruleHarness(fraudInternationalDestination, {}, site);
  call(h2, T0, PHONE, PBX, '0033142681234', ['180 Ringing']);
  call(h2, T0 + 100, PHONE, PBX, '+12125551234', ['180 Ringing']);
  assert.deepEqual(h2.finish(), []);
  configureNumbers();
});

test('elevated-risk countries are reported even when allowed, and without any configuration', () => {
  configureNumbers();
  const h = ruleHarness(fraudInternationalDestination, {}, site);
  call(h, T0, PHONE, PBX, '+37120012345', ['180 Ringing']);
  call(h, T0 + 100, PHONE, PBX, '+33142681234', ['180 Ringing']);
  const alerts = h.finish();
  assert.equal(alerts.length, 1);
  assert.deepEqual(alerts[0]!.evidence.reasons, { 'elevated-risk LV': 1 });
  assert.equal(alerts[0]!.count, 1, 'without a home country nothing else is foreign');
});

test('non-geographic codes are foreign; inbound trunk calls and rejected calls are not reported', () => {
  configureNumbers({ dialPlan: { country: 'DE' } });
  const h = ruleHarness(fraudInternationalDestination, {}, site);
  call(h, T0, PHONE, PBX, '+8816123456789', ['180 Ringing']);
  call(h, T0 + 100, TRUNK, PBX, '+12125551234', ['180 Ringing']);
  call(h, T0 + 200, PHONE, PBX, '+12125551234', ['403 Forbidden']);
  const alerts = h.finish();
  configureNumbers();
  assert.equal(alerts.length, 1);
  assert.deepEqual(alerts[0]!.evidence.reasons, { 'non-geographic +881': 1 });
});

test('calls a PBX relays to its trunk count under the dialling phone, never the PBX', () => {
  configureNumbers({ dialPlan: { country: 'GB', outboundPrefixes: ['9'] } });
  // Neither the PBX nor the trunk is declared.
  const h = ruleHarness(fraudInternationalDestination);
  const numbers = ['9005372345678', '9002521234567', '90037060012345'];
  numbers.forEach((u, i) => {
    const t = T0 + i * 1000;
    const inv = invite(PHONE, PBX, u, { auth: '101' });
    h.send(t, PHONE, PBX, inv.text);
    if (i === 1) b2buaOnward(h, t + 5, inv, PBX, TRUNK, u.slice(1), ['180 Ringing', '200 OK']);
    else proxyOnward(h, t + 5, inv, PBX, TRUNK, ['180 Ringing', '200 OK'], { user: u.slice(1) });
  });
  const alerts = h.finish();
  configureNumbers();
  assert.equal(alerts.length, 1);
  const a = alerts[0]!;
  assert.equal(a.source?.ip, PHONE);
  assert.equal(a.count, 3);
  assert.deepEqual(a.evidence.countries, { CU: 1, SO: 1, LT: 1 });
  assert.deepEqual(
    [...(a.evidence.dialled as string[])].sort(),
    ['9002521234567 (+2521234567)', '90037060012345 (+37060012345)', '9005372345678 (+5372345678)'],
    'shown as the phone dialled them',
  );
  assert.equal(a.evidence.answered, 3);
});

test('fuzz: random numbers with random answers never throw', () => {
  configureNumbers({ dialPlan: { country: 'GB', outboundPrefixes: ['9', '0'] } });
  const h = ruleHarness(fraudInternationalDestination, {}, site);
  let state = 99;
  const rnd = (): number => (state = (state * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  for (let i = 0; i < 200; i++) {
    let user = rnd() < 0.5 ? '+' : '9';
    const n = Math.floor(rnd() * 20);
    for (let j = 0; j < n; j++) user += String(Math.floor(rnd() * 10));
    assert.doesNotThrow(() => call(h, T0 + i, `203.0.113.${i % 10}`, PBX, user, ['180 Ringing']));
  }
  const alerts = h.finish();
  configureNumbers();
  assert.ok(alerts.length <= 10);
});

// ── from CDRs ────────────────────────────────────────────────────────────────────────────────────

test('from CDRs: outbound calls abroad under the dial plan; allowed countries, inbound and busy calls are not', () => {
  configureNumbers({ dialPlan: { country: 'DE', outboundPrefixes: ['9'] }, allowedCountries: ['DE', 'AT'] });
  const h = ruleHarness(fraudInternationalDestination, {}, site);
  const at = (i: number): number => T0 + i * 60_000;
  h.engine.cdrCall(cdrCall({ start: at(0), caller: 'Ext.103', dialled: '900442071838750' }));
  h.engine.cdrCall(
    cdrCall({ start: at(1), caller: 'Ext.103', dialled: '90012125551234', outcome: 'no-answer' }),
  );
  // Not foreign, or not leaving, or never rang.
  h.engine.cdrCall(cdrCall({ start: at(2), caller: 'Ext.103', dialled: '90043151234567' }));
  h.engine.cdrCall(cdrCall({ start: at(3), caller: 'Ext.103', dialled: '903012345678' }));
  h.engine.cdrCall(cdrCall({ start: at(4), caller: '+442071838750', dialled: '103', direction: 'inbound' }));
  h.engine.cdrCall(cdrCall({ start: at(5), caller: 'Ext.103', dialled: '900442071838751', outcome: 'busy' }));
  const alerts = h.finish();
  configureNumbers();
  assert.equal(alerts.length, 1);
  const a = alerts[0]!;
  assert.equal(a.count, 2);
  assert.equal(a.source, undefined);
  assert.equal(a.target?.identity, 'Ext.103');
  assert.deepEqual(a.evidence.countries, { GB: 1, US: 1 });
  assert.deepEqual(a.evidence.reasons, { 'country GB': 1, 'country US': 1 });
  assert.equal((a.evidence.cdrRecords as string[]).length, 2);
});

test('from CDRs: an inbound call forwarded out through the trunk counts under its outside caller', () => {
  configureNumbers({ dialPlan: { country: 'DE' } });
  const h = ruleHarness(fraudInternationalDestination, {}, site);
  // The parser calls a trunk-to-trunk call outbound: it costs what an outbound call does.
  h.engine.cdrCall(cdrCall({ start: T0, caller: '+37120001234', dialled: '0088163998877' }));
  const alerts = h.finish();
  configureNumbers();
  assert.equal(alerts.length, 1);
  assert.equal(alerts[0]!.target?.identity, '+37120001234');
  assert.deepEqual(alerts[0]!.evidence.reasons, { 'non-geographic +881': 1 });
});
