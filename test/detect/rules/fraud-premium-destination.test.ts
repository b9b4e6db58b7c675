import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DETECT_CDR_RECORDS_PER_ALERT } from '../../../src/config/limits.js';
import { fraudPremiumDestination } from '../../../src/detect/rules/fraud-premium-destination.js';
import { DEFAULT_SITE, SiteModel } from '../../../src/detect/site.js';
import { configureNumbers } from '../../../src/track/calls.js';
import { ruleHarness } from '../../helpers/rule-harness.js';
import { call, invite, PBX, PHONE, reply, T0, TRUNK } from '../../helpers/call-traffic.js';
import { cdrCall } from './cdr-calls.js';
import { b2buaOnward, proxyOnward } from './relayed-calls.js';

const site = new SiteModel({ ...DEFAULT_SITE, trunks: [TRUNK] });

test('a satellite number the PBX rings is critical, raised at the first provisional answer', () => {
  configureNumbers();
  const h = ruleHarness(fraudPremiumDestination, {}, site);
  const f = call(h, T0, PHONE, PBX, '+8816123456789', ['100 Trying', '183 Session Progress', '200 OK'], {
    auth: '101',
  }).frame;
  const alerts = h.finish();
  assert.equal(alerts.length, 1);
  const a = alerts[0]!;
  assert.equal(a.rule, 'fraud.premium-destination');
  assert.equal(a.severity, 'critical');
  assert.equal(a.count, 1);
  assert.equal(a.title, `Call to high-risk number +8816123456789 (satellite) from 101 at ${PHONE}`);
  assert.equal(
    h.revisions[0]?.raisedAt,
    new Date(T0 + 20).toISOString(),
    'raised at the 183, before the answer',
  );
  assert.deepEqual(a.target, { ip: PBX, port: 5060, extension: '+8816123456789', identity: '101' });
  assert.deepEqual(a.evidence.dialled, ['+8816123456789 (+8816123456789)']);
  assert.deepEqual(a.evidence.types, { satellite: 1 });
  assert.deepEqual(a.evidence.riskRanges, [
    '881 Global Mobile Satellite System (Iridium 8816/8817, Globalstar 8818/8819, others) (satellite)',
  ]);
  assert.equal(a.evidence.answered, 1);
  assert.deepEqual(a.evidence.statuses, { ringing: 1, answered: 1 });
  assert.deepEqual(a.evidence.frames, [f]);
  assert.equal(h.revisions.length, 2, 'raised when it rings, revised when it is answered');
});

test('premium-rate numbers by libphonenumber, in 00 form and under a dial plan with outbound prefix 9', () => {
  configureNumbers({ dialPlan: { country: 'GB', outboundPrefixes: ['9'] } });
  const h = ruleHarness(fraudPremiumDestination, {}, site);
  call(h, T0, PHONE, PBX, '00449098790000', ['180 Ringing']);
  call(h, T0 + 1000, PHONE, PBX, '909098790001', ['180 Ringing']);
  const alerts = h.finish();
  configureNumbers();
  assert.equal(alerts.length, 1, 'one alert per caller');
  assert.equal(alerts[0]!.count, 2);
  assert.deepEqual(alerts[0]!.evidence.types, { 'premium-rate': 2 });
  assert.deepEqual(alerts[0]!.evidence.countries, { GB: 2 });
});

test('ordinary, rejected, unanswered and inbound trunk calls are not reported', () => {
  configureNumbers();
  const h = ruleHarness(fraudPremiumDestination, {}, site);
  call(h, T0, PHONE, PBX, '+442071838750', ['180 Ringing', '200 OK']);
  call(h, T0 + 100, PHONE, PBX, '+8816123456789', ['100 Trying', '403 Forbidden']);
  call(h, T0 + 200, PHONE, PBX, '+8816123456789', ['407 Proxy Authentication Required']);
  call(h, T0 + 300, PHONE, PBX, '+8816123456789', ['100 Trying']);
  call(h, T0 + 400, TRUNK, PBX, '+8816123456789', ['180 Ringing', '200 OK']);
  call(h, T0 + 500, PHONE, PBX, '100', ['180 Ringing']);
  call(h, T0 + 600, PHONE, PBX, '09098790000', ['180 Ringing']);
  assert.deepEqual(h.finish(), [], 'without a dial plan a national form is not read');
});

test('the onward leg of a back-to-back PBX is the same call, counted once at the caller', () => {
  configureNumbers();
  const h = ruleHarness(fraudPremiumDestination, {}, site);
  const leg1 = invite(PHONE, PBX, '+8816123456789', { auth: '101' });
  h.send(T0, PHONE, PBX, leg1.text);
  h.send(T0 + 5, PBX, PHONE, reply(leg1, '100 Trying'));
  const leg2 = invite(PBX, TRUNK, '+8816123456789', { fromUser: '442071838750', auth: 'trunkuser' });
  h.send(T0 + 10, PBX, TRUNK, leg2.text);
  h.send(T0 + 200, TRUNK, PBX, reply(leg2, '183 Session Progress', 't2'));
  h.send(T0 + 210, PBX, PHONE, reply(leg1, '183 Session Progress', 'p1'));
  const alerts = h.finish();
  assert.equal(alerts.length, 1);
  assert.equal(alerts[0]!.source?.ip, PHONE);
  assert.equal(alerts[0]!.count, 1);
});

test('calls a proxying or back-to-back PBX relays are the dialling phone\u2019s, each counted once, PBX declared or not', () => {
  configureNumbers();
  for (const declared of [false, true]) {
    const h = ruleHarness(
      fraudPremiumDestination,
      {},
      declared ? new SiteModel({ ...DEFAULT_SITE, pbx: [PBX], trunks: [TRUNK] }) : undefined,
    );
    // Without a dial plan 9 00 881... does not read: the number is the form the PBX sent on.
    const a = invite(PHONE, PBX, '9008816123456789', { auth: '105' });
    const fa = h.send(T0, PHONE, PBX, a.text);
    proxyOnward(h, T0 + 5, a, PBX, TRUNK, ['100 Trying', '180 Ringing', '183 Session Progress', '200 OK'], {
      user: '008816123456789',
      auth: 'trunk-account',
    });
    // The same phone again, through a back-to-back PBX (its own Call-ID, From and credentials).
    const b = invite(PHONE, PBX, '+8816123456790', { auth: '105' });
    const fb = h.send(T0 + 1000, PHONE, PBX, b.text);
    b2buaOnward(h, T0 + 1005, b, PBX, TRUNK, '008816123456790', ['180 Ringing', '200 OK']);
    const alerts = h.finish();
    assert.equal(alerts.length, 1, `one caller (PBX declared: ${declared})`);
    const x = alerts[0]!;
    assert.equal(x.source?.ip, PHONE);
    assert.equal(
      x.title,
      `Call to high-risk number +8816123456790 (satellite) from 101 at ${PHONE}`,
      'the latest call',
    );
    assert.equal(x.count, 2, 'each call once, whatever its legs and answers');
    assert.deepEqual([...(x.evidence.dialled as string[])].sort(), [
      '+8816123456790 (+8816123456790)',
      '008816123456789 (+8816123456789)',
    ]);
    assert.equal(x.evidence.answered, 2);
    assert.deepEqual(x.evidence.statuses, { ringing: 2, answered: 2 });
    assert.deepEqual(x.evidence.frames, [fa, fb]);
    assert.equal(x.target?.identity, '105', 'the phone\u2019s credentials, not the trunk account');
    assert.equal(
      h.revisions[0]?.raisedAt,
      new Date(T0 + 5 + 20).toISOString(),
      'raised when the first call rings',
    );
  }
});

test('an answer without ringing first counts the call once, rung and answered', () => {
  configureNumbers();
  const h = ruleHarness(fraudPremiumDestination, {}, site);
  call(h, T0, PHONE, PBX, '+8816123456789', ['200 OK']);
  const alerts = h.finish();
  assert.equal(alerts.length, 1);
  assert.equal(alerts[0]!.count, 1);
  assert.deepEqual(alerts[0]!.evidence.statuses, { ringing: 1, answered: 1 });
  assert.equal(alerts[0]!.evidence.answered, 1);
});

test('fuzz: random dialled strings and answers never throw', () => {
  configureNumbers({ dialPlan: { country: 'US', outboundPrefixes: ['9'] } });
  const h = ruleHarness(fraudPremiumDestination, {}, site);
  let state = 7;
  const rnd = (): number => (state = (state * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const alphabet = '0123456789+*#;%-.()abc@';
  for (let i = 0; i < 300; i++) {
    let user = '';
    const n = Math.floor(rnd() * 30);
    for (let j = 0; j < n; j++) user += alphabet[Math.floor(rnd() * alphabet.length)]!;
    if (user === '' || user.includes('@')) user = `+881${i}`;
    const statuses = rnd() < 0.5 ? ['180 Ringing', '200 OK'] : ['486 Busy Here'];
    assert.doesNotThrow(() => call(h, T0 + i * 10, `203.0.113.${i % 50}`, PBX, user, statuses));
  }
  const alerts = h.finish();
  configureNumbers();
  for (const a of alerts) assert.equal(a.rule, 'fraud.premium-destination');
  assert.ok(alerts.length <= 50, 'at most one alert per caller');
});

// ── from CDRs ────────────────────────────────────────────────────────────────────────────────────

test('from a CDR: an answered call to a satellite number, raised at hang-up, with no source address', () => {
  configureNumbers();
  const h = ruleHarness(fraudPremiumDestination);
  const c = cdrCall({ start: T0, dialled: '+8816123456789' });
  h.engine.cdrCall(c);
  const alerts = h.finish();
  assert.equal(alerts.length, 1);
  const a = alerts[0]!;
  assert.equal(a.severity, 'critical');
  assert.equal(a.title, 'Call to high-risk number +8816123456789 (satellite) from Ext.105 (CDR)');
  assert.equal(a.source, undefined);
  assert.deepEqual(a.target, { extension: '+8816123456789', identity: 'Ext.105' });
  assert.equal(a.firstSeen, new Date(c.start).toISOString());
  assert.equal(h.revisions[0]?.raisedAt, new Date(c.end!).toISOString(), 'a CDR is known at hang-up');
  assert.deepEqual(a.evidence.cdrRecords, [`cdr.log:${c.provenance.line}`]);
  assert.deepEqual(a.evidence.callIds, [c.callId]);
  assert.deepEqual(a.evidence.outcomes, { answered: 1 });
  assert.equal(a.evidence.answered, 1);
  assert.deepEqual(a.evidence.types, { satellite: 1 });
});

test('from CDRs: calls that rang count; inbound, internal, busy, rejected and failed calls do not', () => {
  configureNumbers();
  const h = ruleHarness(fraudPremiumDestination);
  const at = (i: number): number => T0 + i * 60_000;
  // Not counted.
  h.engine.cdrCall(cdrCall({ start: at(0), direction: 'inbound', caller: '+8816123456789', dialled: '101' }));
  h.engine.cdrCall(cdrCall({ start: at(1), direction: 'inbound' }));
  h.engine.cdrCall(cdrCall({ start: at(2), direction: 'internal' }));
  for (const [i, outcome] of (['busy', 'rejected', 'failed', 'unknown'] as const).entries())
    h.engine.cdrCall(cdrCall({ start: at(3 + i), outcome }));
  // The caller hung up before the PBX handed the call to a trunk: it never rang.
  h.engine.cdrCall(cdrCall({ start: at(8), outcome: 'cancelled', trunk: null }));
  // Counted: it rang out, it was abandoned while ringing at the trunk, the CDR cannot tell the direction.
  h.engine.cdrCall(cdrCall({ start: at(9), outcome: 'no-answer' }));
  h.engine.cdrCall(cdrCall({ start: at(10), outcome: 'cancelled' }));
  h.engine.cdrCall(cdrCall({ start: at(11), direction: 'unknown', trunk: null }));
  const alerts = h.finish();
  assert.equal(alerts.length, 1);
  assert.equal(alerts[0]!.count, 3);
  assert.deepEqual(alerts[0]!.evidence.outcomes, { 'no-answer': 1, cancelled: 1, answered: 1 });
  assert.equal(alerts[0]!.evidence.answered, 1);
});

test('from CDRs: the dialled number, else the number sent to the trunk when the dialled one does not read', () => {
  configureNumbers({ dialPlan: { country: 'DE', outboundPrefixes: ['9'] } });
  const h = ruleHarness(fraudPremiumDestination);
  // Valid as dialled (9 + 00 + a +882 network).
  h.engine.cdrCall(cdrCall({ start: T0, dialled: '90088216001234', callee: '0088216001234' }));
  // 9 00 881 6311 2233 is one digit short for Iridium, but international with a real calling code:
  // the number is shown as the caller dialled it.
  h.engine.cdrCall(cdrCall({ start: T0 + 60_000, dialled: '90088163112233', callee: '0088163112233' }));
  // A German number stays one, whatever the trunk was sent.
  h.engine.cdrCall(cdrCall({ start: T0 + 120_000, dialled: '903012345678', callee: '03012345678' }));
  const alerts = h.finish();
  assert.equal(alerts.length, 1);
  assert.equal(alerts[0]!.count, 2);
  assert.deepEqual([...(alerts[0]!.evidence.dialled as string[])].sort(), [
    '90088163112233 (+88163112233)',
    '90088216001234 (+88216001234)',
  ]);
  assert.equal(alerts[0]!.target?.extension, '90088163112233');

  // Without a dial plan 9 00 881... does not read; the trunk was sent 00 881..., which does.
  configureNumbers();
  const h2 = ruleHarness(fraudPremiumDestination);
  h2.engine.cdrCall(cdrCall({ start: T0, dialled: '9008816123456789', callee: '008816123456789' }));
  const routed = h2.finish();
  assert.equal(routed.length, 1);
  assert.deepEqual(routed[0]!.evidence.dialled, ['008816123456789 (+8816123456789)']);
});

test('from CDRs: one alert per caller (Ext.105 is 105), a forwarded call under its outside caller, text escaped', () => {
  configureNumbers();
  const h = ruleHarness(fraudPremiumDestination);
  // CDRs come in end-time order: the second call started first.
  h.engine.cdrCall(cdrCall({ start: T0 + 60_000, caller: 'Ext.105', talkMs: 60_000 }));
  h.engine.cdrCall(cdrCall({ start: T0, caller: '105', talkMs: 3_600_000 }));
  h.engine.cdrCall(cdrCall({ start: T0, caller: '+37120001234', dialled: '0088163998877' }));
  h.engine.cdrCall(cdrCall({ start: T0, caller: 'Ext.1\u001b[31m' }));
  const alerts = h.finish();
  assert.equal(alerts.length, 3);
  const byCaller = new Map(alerts.map((a) => [a.evidence.caller as string, a]));
  // The alert names the caller as the latest record wrote it.
  assert.equal(byCaller.get('105')?.count, 2);
  // The call that started first came second: firstSeen moves back to it (the id stays).
  assert.equal(byCaller.get('105')?.firstSeen, new Date(T0).toISOString(), 'earliest call');
  assert.equal(byCaller.get('+37120001234')?.count, 1);
  const odd = alerts.find((a) => a.title.includes('\\x1b'));
  assert.ok(odd !== undefined, 'control characters are escaped');
  assert.equal(odd.target?.identity, 'Ext.1\\x1b[31m');
  assert.equal(odd.evidence.caller, 'Ext.1\\x1b[31m');
});

test('from CDRs: evidence stays bounded however many calls a caller makes', () => {
  configureNumbers();
  const h = ruleHarness(fraudPremiumDestination);
  for (let i = 0; i < 120; i++)
    h.engine.cdrCall(cdrCall({ start: T0 + i * 60_000, dialled: `+88161234${String(i).padStart(5, '0')}` }));
  const alerts = h.finish();
  assert.equal(alerts.length, 1);
  const e = alerts[0]!.evidence;
  assert.equal(alerts[0]!.count, 120);
  assert.equal(e.numbersTotal, 120);
  assert.equal((e.dialled as string[]).length, 20);
  assert.equal((e.cdrRecords as string[]).length, DETECT_CDR_RECORDS_PER_ALERT);
  assert.equal((e.callIds as string[]).length, 8);
});
