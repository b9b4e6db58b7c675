import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DETECT_CDR_RECORDS_PER_ALERT } from '../../../src/config/limits.js';
import { fraudPrefixProbing } from '../../../src/detect/rules/fraud-prefix-probing.js';
import { configureNumbers } from '../../../src/track/calls.js';
import { ruleHarness } from '../../helpers/rule-harness.js';
import { call, invite, PBX, T0, TRUNK } from '../../helpers/call-traffic.js';
import { b2buaOnward, challengeAndRetry, proxyOnward } from './relayed-calls.js';
import { cdrCall, inEndOrder } from './cdr-calls.js';

const ATTACKER = '203.0.113.66';

test('one number tried as 9 0, 9 00, 9 011, + and 00 from one source is high', () => {
  configureNumbers({ dialPlan: { country: 'GB', outboundPrefixes: ['9'] } });
  const h = ruleHarness(fraudPrefixProbing);
  const forms = ['902071838750', '900442071838750', '9011442071838750', '+442071838750', '00442071838750'];
  const frames = forms.map((u, i) => call(h, T0 + i * 1000, ATTACKER, PBX, u, ['404 Not Found']).frame);
  const alerts = h.finish();
  configureNumbers();
  assert.equal(alerts.length, 1);
  const a = alerts[0]!;
  assert.equal(a.rule, 'fraud.prefix-probing');
  assert.equal(a.severity, 'high');
  assert.equal(a.count, 5);
  assert.equal(a.title, `+442071838750 dialled with many prefixes by source ${ATTACKER}`);
  assert.deepEqual([...(a.evidence.forms as string[])].sort(), ['+', '00', '9 0', '9 00', '9 011']);
  assert.equal(a.evidence.attempts, 5);
  assert.deepEqual(a.evidence.frames, frames);
  assert.equal(h.revisions[0]?.raisedAt, new Date(T0 + 2000).toISOString(), 'raised at the third form');
});

test('without a dial plan +, 00 and 011 are three forms', () => {
  configureNumbers();
  const h = ruleHarness(fraudPrefixProbing);
  for (const [i, u] of ['+33142681234', '0033142681234', '01133142681234'].entries())
    call(h, T0 + i, ATTACKER, PBX, u, []);
  const alerts = h.finish();
  assert.equal(alerts.length, 1);
  assert.equal(alerts[0]!.target?.extension, '+33142681234');
});

test('an identity probing from several addresses is reported by identity', () => {
  configureNumbers();
  const h = ruleHarness(fraudPrefixProbing);
  const us = ['+33142681234', '0033142681234', '01133142681234'];
  us.forEach((u, i) => call(h, T0 + i, `203.0.113.${70 + i}`, PBX, u, [], { auth: '105' }));
  const alerts = h.finish();
  assert.equal(alerts.length, 1);
  assert.equal(alerts[0]!.title, '+33142681234 dialled with many prefixes by identity 105');
});

test('redials in the same form, two forms, different numbers and different sources are not probing', () => {
  configureNumbers({ dialPlan: { country: 'GB', outboundPrefixes: ['9'] } });
  const h = ruleHarness(fraudPrefixProbing);
  for (let i = 0; i < 5; i++) call(h, T0 + i, ATTACKER, PBX, '902071838750', ['200 OK']);
  call(h, T0 + 10, ATTACKER, PBX, '+442071838750', ['200 OK']);
  call(h, T0 + 20, ATTACKER, PBX, '0033142681234', []);
  call(h, T0 + 30, '203.0.113.90', PBX, '00442071838750', []);
  call(h, T0 + 40, '203.0.113.91', PBX, '9011442071838750', []);
  call(h, T0 + 50, ATTACKER, PBX, '100', []);
  assert.deepEqual(h.finish(), []);
  configureNumbers();
});

test('a PBX passing the calls on to its trunk (proxy or back-to-back) is not probing', () => {
  configureNumbers();
  const h = ruleHarness(fraudPrefixProbing);
  // The attacker tries three forms; the PBX relays each, as a proxy (same Call-ID) or as a
  // back-to-back PBX (its own Call-ID), in the same three forms from its own address.
  const forms = ['+33142681234', '0033142681234', '01133142681234'];
  const frames: number[] = [];
  forms.forEach((u, i) => {
    const t = T0 + i * 1000;
    const inv = invite(ATTACKER, PBX, u, { auth: '105' });
    frames.push(h.send(t, ATTACKER, PBX, inv.text));
    if (i === 1) b2buaOnward(h, t + 5, inv, PBX, TRUNK, u, ['200 OK']);
    else proxyOnward(h, t + 5, inv, PBX, TRUNK, ['200 OK']);
  });
  const alerts = h.finish();
  assert.deepEqual(
    alerts.map((a) => a.title),
    [`+33142681234 dialled with many prefixes by source ${ATTACKER}`],
  );
  assert.equal(alerts[0]!.source?.ip, ATTACKER);
  assert.equal(alerts[0]!.evidence.attempts, 3, 'each call once');
  assert.deepEqual(alerts[0]!.evidence.frames, frames);
});

test('an identity counts from the retry that answers the challenge; a proxy\u2019s trunk credentials do not', () => {
  configureNumbers();
  const h = ruleHarness(fraudPrefixProbing);
  const forms = ['+33142681234', '0033142681234', '01133142681234'];
  // Three addresses with 105's password: each first INVITE is challenged, the retry carries it.
  forms.forEach((u, i) => {
    const src = `203.0.113.${70 + i}`;
    const inv = invite(src, PBX, u);
    h.send(T0 + i * 1000, src, PBX, inv.text);
    challengeAndRetry(h, T0 + i * 1000 + 10, inv, PBX, '105');
  });
  // Trusted phones, no credentials; the proxy adds its trunk account's on the copies to the trunk.
  forms.forEach((u, i) => {
    const src = `203.0.113.${80 + i}`;
    const inv = invite(src, PBX, u.replace('3314', '3315'));
    h.send(T0 + 5000 + i * 1000, src, PBX, inv.text);
    proxyOnward(h, T0 + 5000 + i * 1000 + 5, inv, PBX, TRUNK, ['200 OK'], { auth: 'trunk-account' });
  });
  const alerts = h.finish();
  assert.deepEqual(
    alerts.map((a) => a.title),
    ['+33142681234 dialled with many prefixes by identity 105'],
  );
  assert.equal(alerts[0]!.count, 3);
});

test('forms spread beyond the quiet window do not add up', () => {
  configureNumbers();
  const h = ruleHarness(fraudPrefixProbing, {
    'fraud.prefix-probing': { thresholds: { windowSeconds: 60 } },
  });
  call(h, T0, ATTACKER, PBX, '+33142681234', []);
  call(h, T0 + 120_000, ATTACKER, PBX, '0033142681234', []);
  call(h, T0 + 240_000, ATTACKER, PBX, '01133142681234', []);
  assert.deepEqual(h.finish(), []);
});

test('fuzz: random dialled strings never throw, alerts stay one per (caller, number)', () => {
  configureNumbers({ dialPlan: { country: 'US', outboundPrefixes: ['9'] } });
  const h = ruleHarness(fraudPrefixProbing);
  let state = 3;
  const rnd = (): number => (state = (state * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const prefixes = ['', '9', '+', '00', '011', '9011', '1', '91'];
  for (let i = 0; i < 300; i++) {
    const user = prefixes[Math.floor(rnd() * prefixes.length)]! + String(Math.floor(rnd() * 1e10));
    assert.doesNotThrow(() => call(h, T0 + i, `203.0.113.${i % 4}`, PBX, user, []));
  }
  const alerts = h.finish();
  configureNumbers();
  const keys = alerts.map((a) => a.title);
  assert.equal(new Set(keys).size, keys.length);
});

// ── from CDRs ────────────────────────────────────────────────────────────────────────────────────

test('from CDRs: forms counted on the calls\u2019 starts, whatever order the CDRs come in', () => {
  configureNumbers({ dialPlan: { country: 'GB', outboundPrefixes: ['9'] } });
  const h = ruleHarness(fraudPrefixProbing);
  const forms = ['902071838750', '900442071838750', '9011442071838750', '+442071838750'];
  // The first attempt got through and lasted an hour; the others were rejected at once. The PBX
  // writes the rejected ones first (they ended first): the start order is not the file order.
  const calls = forms.map((dialled, i) =>
    cdrCall({
      start: T0 + i * 5000,
      dialled,
      caller: 'Ext.105',
      ...(i === 0 ? { talkMs: 3_600_000 } : { outcome: 'rejected' as const, talkMs: 1000, trunk: null }),
    }),
  );
  for (const c of inEndOrder(calls)) h.engine.cdrCall(c);
  const alerts = h.finish();
  configureNumbers();
  assert.equal(alerts.length, 1);
  const a = alerts[0]!;
  assert.equal(a.title, '+442071838750 dialled with many prefixes by identity 105 (CDR)');
  assert.equal(a.count, 4);
  assert.equal(a.source, undefined);
  assert.deepEqual(a.target, { extension: '+442071838750', identity: 'Ext.105' });
  assert.deepEqual([...(a.evidence.forms as string[])].sort(), ['+', '9 0', '9 00', '9 011']);
  assert.equal(a.firstSeen, new Date(T0 + 5000).toISOString(), 'the window as it was when raised');
  // Raised at the third rejection's end; the answered call, reported last, adds its form.
  assert.equal(h.revisions[0]?.raisedAt, new Date(calls[3]!.end!).toISOString());
  assert.equal((a.evidence.cdrRecords as string[]).length, 4);
  assert.deepEqual([...(a.evidence.callIds as string[])].sort(), calls.map((c) => c.callId).sort());
});

test('from CDRs: a start older than its window is not counted in it; inbound calls are not probing', () => {
  configureNumbers();
  const h = ruleHarness(fraudPrefixProbing, {
    'fraud.prefix-probing': { thresholds: { windowSeconds: 600 } },
  });
  // Two forms now; a third in a call that started two hours before and only now ended.
  h.engine.cdrCall(cdrCall({ start: T0 + 7_200_000, dialled: '+33142681234', outcome: 'rejected' }));
  h.engine.cdrCall(cdrCall({ start: T0 + 7_210_000, dialled: '0033142681234', outcome: 'rejected' }));
  h.engine.cdrCall(cdrCall({ start: T0, dialled: '01133142681234', talkMs: 7_300_000 }));
  // An outside caller's call in yet another form.
  h.engine.cdrCall(
    cdrCall({ start: T0 + 7_220_000, caller: 'Ext.105', dialled: '+33142681234', direction: 'inbound' }),
  );
  assert.deepEqual(h.finish(), []);
});

test('from CDRs: a CDR form meets the wire forms of the identity of the same name', () => {
  configureNumbers();
  const h = ruleHarness(fraudPrefixProbing);
  // Two forms on the wire, from two addresses, with the credentials of 105.
  call(h, T0, '203.0.113.70', PBX, '+33142681234', [], { auth: '105' });
  call(h, T0 + 1000, '203.0.113.71', PBX, '0033142681234', [], { auth: '105' });
  // The third only in the PBX's CDR (Ext.105 is 105).
  h.engine.cdrCall(cdrCall({ start: T0 + 2000, dialled: '01133142681234', outcome: 'rejected' }));
  const alerts = h.finish();
  assert.equal(alerts.length, 1);
  assert.equal(alerts[0]!.title, '+33142681234 dialled with many prefixes by identity 105 (CDR)');
  assert.equal(alerts[0]!.count, 3);
  assert.equal((alerts[0]!.evidence.frames as number[]).length, 2, 'the wire frames');
  assert.equal((alerts[0]!.evidence.cdrRecords as string[]).length, 1, 'and the CDR record');
});

test('from CDRs: evidence stays bounded on a long probe', () => {
  configureNumbers();
  const h = ruleHarness(fraudPrefixProbing);
  const forms = ['+33142681234', '0033142681234', '01133142681234'];
  for (let i = 0; i < 60; i++)
    h.engine.cdrCall(cdrCall({ start: T0 + i * 1000, dialled: forms[i % 3]!, outcome: 'rejected' }));
  const alerts = h.finish();
  assert.equal(alerts.length, 1);
  const e = alerts[0]!.evidence;
  assert.equal(e.attempts, 60);
  assert.equal((e.cdrRecords as string[]).length, DETECT_CDR_RECORDS_PER_ALERT);
  assert.equal((e.callIds as string[]).length, 8);
  assert.equal((e.dialled as string[]).length, 3);
});
