import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DETECT_CDR_RECORDS_PER_ALERT } from '../../../src/config/limits.js';
import { fraudSequentialDialing, smallStep } from '../../../src/detect/rules/fraud-sequential-dialing.js';
import { configureNumbers } from '../../../src/track/calls.js';
import { ruleHarness } from '../../helpers/rule-harness.js';
import { call, invite, PBX, T0, TRUNK } from '../../helpers/call-traffic.js';
import { b2buaOnward, proxyOnward } from './relayed-calls.js';
import { cdrCall, inEndOrder } from './cdr-calls.js';

const SCANNER = '203.0.113.66';

test('smallStep compares the last six digits of same-length numbers sharing the rest', () => {
  assert.equal(smallStep('442071838751', '442071838750', 10), 1);
  assert.equal(smallStep('442071838740', '442071838750', 10), -10);
  assert.equal(smallStep('442071838750', '442071838750', 10), undefined);
  assert.equal(smallStep('442071838790', '442071838750', 10), undefined);
  assert.equal(smallStep('442171838751', '442071838750', 10), undefined);
  assert.equal(smallStep('4420718387', '44207183875', 10), undefined);
  assert.equal(smallStep('123456', '123457', 10), undefined, 'too short to have a shared prefix');
});

test('ten numbers dialled one after the other are sequential dialling', () => {
  configureNumbers();
  const h = ruleHarness(fraudSequentialDialing);
  for (let i = 0; i < 12; i++)
    call(h, T0 + i * 500, SCANNER, PBX, `+4420718387${String(50 + i)}`, ['404 Not Found']);
  const alerts = h.finish();
  assert.equal(alerts.length, 1);
  const a = alerts[0]!;
  assert.equal(a.rule, 'fraud.sequential-dialing');
  assert.equal(a.severity, 'medium');
  assert.equal(a.count, 12);
  assert.deepEqual(a.evidence.range, ['442071838750', '442071838761']);
  assert.deepEqual(a.evidence.strides, { '+1': 11 });
  assert.equal(h.revisions[0]?.raisedAt, new Date(T0 + 9 * 500).toISOString(), 'raised at the tenth number');
});

test('gaps and reversed order still count; retries of one number do not', () => {
  configureNumbers();
  const h = ruleHarness(fraudSequentialDialing);
  const tails = [90, 88, 85, 84, 80, 79, 77, 70, 69, 66];
  tails.forEach((t, i) => call(h, T0 + i, SCANNER, PBX, `00331426812${t}`, []));
  const alerts = h.finish();
  assert.equal(alerts.length, 1);
  assert.equal(alerts[0]!.count, 10);

  const h2 = ruleHarness(fraudSequentialDialing);
  for (let i = 0; i < 30; i++) call(h2, T0 + i, SCANNER, PBX, '+33142681234', []);
  for (let i = 0; i < 5; i++) call(h2, T0 + 100 + i, SCANNER, PBX, `+3314268123${i}`, []);
  assert.deepEqual(h2.finish(), [], 'a retried number and five neighbours are under the threshold');
});

test('unrelated numbers, short extensions and different sources are not sequential', () => {
  configureNumbers();
  const h = ruleHarness(fraudSequentialDialing);
  const numbers = [
    '+442071838750',
    '+33142681234',
    '+12125551234',
    '+4930123456',
    '+34911234567',
    '+390612345678',
    '+4116681234',
    '+31201234567',
    '+4681234567',
    '+4522334455',
    '+3222345678',
  ];
  numbers.forEach((u, i) => call(h, T0 + i, SCANNER, PBX, u, ['200 OK']));
  for (let i = 0; i < 20; i++) call(h, T0 + 100 + i, SCANNER, PBX, String(200 + i), []);
  for (let i = 0; i < 12; i++) call(h, T0 + 200 + i, `203.0.113.${i + 1}`, PBX, `+4420718387${50 + i}`, []);
  assert.deepEqual(h.finish(), []);
});

test('a PBX relaying a scan to its trunk (proxy or back-to-back, 9 dropped) is not scanning', () => {
  configureNumbers({ dialPlan: { country: 'GB', outboundPrefixes: ['9'] } });
  const h = ruleHarness(fraudSequentialDialing);
  const frames: number[] = [];
  for (let i = 0; i < 12; i++) {
    const t = T0 + i * 2000;
    const inv = invite(SCANNER, PBX, `9020718387${String(50 + i)}`, { auth: '101' });
    frames.push(h.send(t, SCANNER, PBX, inv.text));
    const onward = `020718387${String(50 + i)}`;
    if (i % 2 === 0) proxyOnward(h, t + 5, inv, PBX, TRUNK, ['200 OK'], { user: onward });
    else b2buaOnward(h, t + 5, inv, PBX, TRUNK, onward, ['200 OK']);
  }
  const alerts = h.finish();
  configureNumbers();
  assert.equal(alerts.length, 1);
  const a = alerts[0]!;
  assert.equal(a.source?.ip, SCANNER);
  assert.equal(a.count, 12);
  assert.equal(a.evidence.invites, 12, 'each call once');
  assert.deepEqual(
    a.evidence.frames,
    frames.slice(1),
    'the scanner\u2019s INVITEs from its second number on',
  );
});

test('fuzz: random numbers never throw and the per-source memory stays bounded', () => {
  configureNumbers();
  const h = ruleHarness(fraudSequentialDialing);
  let state = 11;
  const rnd = (): number => (state = (state * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  for (let i = 0; i < 400; i++) {
    const user =
      rnd() < 0.5
        ? `+44207183${String(Math.floor(rnd() * 10000)).padStart(4, '0')}`
        : `x${Math.floor(rnd() * 1e6)}`;
    assert.doesNotThrow(() => call(h, T0 + i, SCANNER, PBX, user, []));
  }
  const alerts = h.finish();
  assert.ok(alerts.length <= 1);
});

// ── from CDRs ────────────────────────────────────────────────────────────────────────────────────

test('from CDRs: a range dialled in order, reported in end-time order, is sequential dialling', () => {
  configureNumbers({ dialPlan: { country: 'DE', outboundPrefixes: ['9'] } });
  const h = ruleHarness(fraudSequentialDialing);
  let state = 5;
  const rnd = (): number => (state = (state * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  // Twelve numbers eight seconds apart; some answered for a while, so the CDRs come shuffled.
  const calls = Array.from({ length: 12 }, (_, i) =>
    cdrCall({
      start: T0 + i * 8000,
      caller: 'Ext.107',
      dialled: `9004420794600${String(i + 1).padStart(2, '0')}`,
      ...(rnd() < 0.4 ? { talkMs: Math.floor(rnd() * 600_000) } : { outcome: 'no-answer' as const }),
    }),
  );
  const ordered = inEndOrder(calls);
  assert.notDeepEqual(ordered, calls, 'the file order is not the start order');
  for (const c of ordered) h.engine.cdrCall(c);
  const alerts = h.finish();
  configureNumbers();
  assert.equal(alerts.length, 1);
  const a = alerts[0]!;
  assert.equal(a.count, 12);
  assert.equal(a.title.endsWith('(CDR)'), true);
  assert.equal(a.source, undefined);
  assert.deepEqual(a.target, { identity: 'Ext.107' });
  assert.deepEqual(a.evidence.range, ['442079460001', '442079460012']);
  assert.equal(a.evidence.sourceGroup, 'caller 107');
  assert.equal((a.evidence.cdrRecords as string[]).length, 12);
  assert.equal(a.firstSeen <= new Date(T0 + 8000).toISOString(), true);
});

test('from CDRs: Ext.107 and 107 are one caller; other callers, extensions and retries do not add up', () => {
  configureNumbers();
  const h = ruleHarness(fraudSequentialDialing);
  for (let i = 0; i < 5; i++)
    h.engine.cdrCall(cdrCall({ start: T0 + i * 1000, caller: 'Ext.107', dialled: `+4420718387${50 + i}` }));
  for (let i = 5; i < 9; i++)
    h.engine.cdrCall(cdrCall({ start: T0 + i * 1000, caller: '107', dialled: `+4420718387${50 + i}` }));
  // Another caller, the same number again, extensions.
  h.engine.cdrCall(cdrCall({ start: T0 + 9000, caller: 'Ext.108', dialled: '+442071838759' }));
  h.engine.cdrCall(cdrCall({ start: T0 + 9500, caller: 'Ext.107', dialled: '+442071838758' }));
  for (let i = 0; i < 12; i++)
    h.engine.cdrCall(
      cdrCall({ start: T0 + 10_000 + i, caller: 'Ext.107', dialled: `${100 + i}`, direction: 'internal' }),
    );
  assert.deepEqual(h.finish(), [], 'nine numbers: one under the threshold');
  const h2 = ruleHarness(fraudSequentialDialing);
  for (let i = 0; i < 5; i++)
    h2.engine.cdrCall(cdrCall({ start: T0 + i * 1000, caller: 'Ext.107', dialled: `+4420718387${50 + i}` }));
  for (let i = 5; i < 10; i++)
    h2.engine.cdrCall(cdrCall({ start: T0 + i * 1000, caller: '107', dialled: `+4420718387${50 + i}` }));
  assert.equal(h2.finish()[0]?.count, 10);
});

test('from CDRs: evidence stays bounded on a long scan', () => {
  configureNumbers();
  const h = ruleHarness(fraudSequentialDialing);
  for (let i = 0; i < 200; i++)
    h.engine.cdrCall(
      cdrCall({ start: T0 + i * 1000, caller: 'Ext.107', dialled: `+44207183${String(i).padStart(4, '0')}` }),
    );
  const alerts = h.finish();
  assert.equal(alerts.length, 1);
  assert.equal(alerts[0]!.count, 200);
  assert.equal((alerts[0]!.evidence.cdrRecords as string[]).length, DETECT_CDR_RECORDS_PER_ALERT);
  assert.equal((alerts[0]!.evidence.dialled as string[]).length, 20);
  assert.equal((alerts[0]!.evidence.callIds as string[]).length, 20);
});
