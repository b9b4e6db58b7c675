import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  DETECT_CDR_CALL_HORIZON_MS,
  DETECT_CDR_CONCURRENT_GROUPS,
  DETECT_CDR_INTERVALS_PER_GROUP,
  TRACK_DIALOG_IDLE_TIMEOUT_MS,
} from '../../../src/config/limits.js';
import type { CdrCall } from '../../../src/core/records.js';
import {
  deepestOverlap,
  fraudConcurrentCalls,
  type ConcurrentCallsDetector,
} from '../../../src/detect/rules/fraud-concurrent-calls.js';
import { DEFAULT_SITE, SiteModel } from '../../../src/detect/site.js';
import { ruleHarness } from '../../helpers/rule-harness.js';
import { call, invite, PBX, PHONE, T0, TRUNK, type Invite, type Sender } from '../../helpers/call-traffic.js';
import { b2buaOnward, proxyOnward } from './relayed-calls.js';
import { cdrCall, inEndOrder } from './cdr-calls.js';

const site = new SiteModel({ ...DEFAULT_SITE, pbx: [PBX], trunks: [TRUNK] });

function bye(h: Sender, t: number, inv: Invite, from: string, to: string): void {
  h.send(
    t,
    from,
    to,
    [
      `BYE sip:101@${to} SIP/2.0`,
      `Via: SIP/2.0/UDP ${from}:5060;branch=z9hG4bK-bye-${inv.callId}`,
      `From: <sip:${inv.user}@${inv.to}>;tag=x1`,
      `To: <sip:101@${inv.to}>;tag=${inv.fromTag}`,
      `Call-ID: ${inv.callId}`,
      'CSeq: 2 BYE',
      'Content-Length: 0',
      '',
      '',
    ].join('\n'),
  );
}

test('eleven answered calls up at once for one extension and source are high', () => {
  const h = ruleHarness(fraudConcurrentCalls, {}, site);
  for (let i = 0; i < 11; i++)
    call(h, T0 + i * 100, PHONE, PBX, `+3314268120${i}`, ['180 Ringing', '200 OK'], { auth: '101' });
  const alerts = h.finish();
  assert.equal(alerts.length, 2, 'one per extension, one per source');
  const byKey = new Map(alerts.map((a) => [a.evidence.group as string, a]));
  const ext = byKey.get('extension 101')!;
  assert.equal(ext.rule, 'fraud.concurrent-calls');
  assert.equal(ext.severity, 'high');
  assert.equal(ext.count, 11);
  assert.equal(ext.evidence.limit, 10);
  assert.equal((ext.evidence.dialled as string[]).length, 11);
  assert.equal(ext.title, '11 simultaneous calls for extension 101 (limit 10)');
  assert.ok(byKey.has(`source ${PHONE}`));
});

test('calls that end, unanswered calls and sequential calls stay under the limit', () => {
  const h = ruleHarness(fraudConcurrentCalls, {}, site);
  for (let i = 0; i < 30; i++) {
    const inv = call(h, T0 + i * 1000, PHONE, PBX, `+3314268120${i}`, ['180 Ringing', '200 OK'], {
      auth: '101',
    });
    bye(h, T0 + i * 1000 + 500, inv, PBX, PHONE);
  }
  for (let i = 0; i < 20; i++)
    call(h, T0 + 40_000 + i, PHONE, PBX, `+3314268121${i}`, ['180 Ringing', '486 Busy Here'], {
      auth: '101',
    });
  assert.deepEqual(h.finish(), []);
});

test('calls whose BYE was lost expire, and stop counting', () => {
  const h = ruleHarness(fraudConcurrentCalls, {}, site);
  for (let i = 0; i < 8; i++) call(h, T0 + i, PHONE, PBX, `+3314268120${i}`, ['200 OK'], { auth: '101' });
  const later = T0 + TRACK_DIALOG_IDLE_TIMEOUT_MS + 60_000;
  for (let i = 0; i < 8; i++) call(h, later + i, PHONE, PBX, `+3314268130${i}`, ['200 OK'], { auth: '101' });
  assert.deepEqual(h.finish(), []);
});

test('the PBX and trunks are counted per trunk with their own limit', () => {
  const h = ruleHarness(
    fraudConcurrentCalls,
    { 'fraud.concurrent-calls': { thresholds: { maxPerTrunk: 3 } } },
    site,
  );
  for (let i = 0; i < 4; i++) call(h, T0 + i, PBX, TRUNK, `+3314268120${i}`, ['200 OK']);
  for (let i = 0; i < 3; i++) call(h, T0 + 100 + i, TRUNK, PBX, `+44207183875${i}`, ['200 OK']);
  const alerts = h.finish();
  assert.equal(alerts.length, 1);
  assert.equal(alerts[0]!.evidence.group, `trunk ${TRUNK}`);
  assert.equal(alerts[0]!.count, 7);
});

test('calls through a proxying PBX count for the phone that dialled them, not the PBX', () => {
  // The PBX copies each INVITE to the trunk (same Call-ID and tags); the trunk answers on the
  // PBX's leg, without the caller's credentials. Declared or not, the PBX is not the caller.
  for (const declared of [site, new SiteModel()]) {
    const h = ruleHarness(fraudConcurrentCalls, {}, declared);
    for (let i = 0; i < 11; i++) {
      const inv = invite(PHONE, PBX, `90033142681${String(200 + i)}`, { auth: '101' });
      h.send(T0 + i * 100, PHONE, PBX, inv.text);
      proxyOnward(h, T0 + i * 100 + 5, inv, PBX, TRUNK, ['180 Ringing', '200 OK'], {
        user: `0033142681${String(200 + i)}`,
      });
    }
    const alerts = h.finish();
    const groups = alerts.map((a) => a.evidence.group as string).sort();
    assert.deepEqual(groups, ['extension 101', `source ${PHONE}`]);
    for (const a of alerts) {
      assert.equal(a.count, 11);
      assert.equal(a.source?.ip, PHONE);
      assert.equal((a.evidence.callIds as string[]).length, 11, 'one call per INVITE and its copy');
    }
  }
});

test('a back-to-back PBX\u2019s onward legs are the calls they relay: the phone and the trunk count them', () => {
  const h = ruleHarness(
    fraudConcurrentCalls,
    { 'fraud.concurrent-calls': { thresholds: { maxPerTrunk: 5 } } },
    site,
  );
  const firstFrames: number[] = [];
  for (let i = 0; i < 11; i++) {
    const inv = invite(PHONE, PBX, `90033142681${String(200 + i)}`, { auth: '101' });
    firstFrames.push(h.send(T0 + i * 100, PHONE, PBX, inv.text));
    b2buaOnward(h, T0 + i * 100 + 5, inv, PBX, TRUNK, `+33142681${String(200 + i)}`, [
      '180 Ringing',
      '200 OK',
    ]);
  }
  const alerts = h.finish();
  const byGroup = new Map(alerts.map((a) => [a.evidence.group as string, a]));
  assert.deepEqual([...byGroup.keys()].sort(), ['extension 101', `source ${PHONE}`, `trunk ${TRUNK}`]);
  assert.equal(byGroup.get('extension 101')!.count, 11);
  assert.equal(byGroup.get(`trunk ${TRUNK}`)!.count, 11, 'each call once on the trunk it went out through');
  for (const a of alerts) assert.equal(a.source?.ip, PHONE);
  assert.deepEqual(byGroup.get('extension 101')!.evidence.frames, firstFrames, 'the phone\u2019s INVITEs');
});

test('a proxied call hung up by the phone stops counting', () => {
  const h = ruleHarness(fraudConcurrentCalls, {}, site);
  for (let i = 0; i < 30; i++) {
    const inv = invite(PHONE, PBX, `90033142681${String(200 + i)}`, { auth: '101' });
    h.send(T0 + i * 1000, PHONE, PBX, inv.text);
    proxyOnward(h, T0 + i * 1000 + 5, inv, PBX, TRUNK, ['200 OK']);
    bye(h, T0 + i * 1000 + 500, inv, PHONE, PBX);
  }
  assert.deepEqual(h.finish(), []);
});

test('fuzz: random call ends and answers never throw, open counts never go negative', () => {
  const h = ruleHarness(fraudConcurrentCalls, {}, site);
  let state = 5;
  const rnd = (): number => (state = (state * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const open: Invite[] = [];
  for (let i = 0; i < 300; i++) {
    if (open.length > 0 && rnd() < 0.5) {
      const inv = open.splice(Math.floor(rnd() * open.length), 1)[0]!;
      assert.doesNotThrow(() => bye(h, T0 + i * 10, inv, rnd() < 0.5 ? PBX : PHONE, PHONE));
    } else {
      const inv = call(
        h,
        T0 + i * 10,
        PHONE,
        PBX,
        `+331426${i}`,
        rnd() < 0.7 ? ['200 OK'] : ['404 Not Found'],
        { auth: '101' },
      );
      open.push(inv);
    }
  }
  const alerts = h.finish();
  for (const a of alerts) assert.ok((a.evidence.concurrent as number) > 0);
});

// ── from CDRs ────────────────────────────────────────────────────────────────────────────────────

/** The most intervals up at once, by brute force (an interval [a, e) is up at a, not at e). */
function bruteForcePeak(calls: readonly CdrCall[]): number {
  let best = 0;
  for (const c of calls) {
    const t = c.answer!;
    best = Math.max(best, calls.filter((x) => x.answer! <= t && x.end! > t).length);
  }
  return best;
}

test('from CDRs: eleven overlapping answered calls, reported at hang-up out of start order, are high', () => {
  const h = ruleHarness(fraudConcurrentCalls, {}, site);
  // Answered a minute apart, hanging up in the reverse order: the last answered ends first.
  const calls = Array.from({ length: 11 }, (_, i) =>
    cdrCall({ start: T0 + i * 60_000, dialled: `+3314268120${i}`, talkMs: 3_600_000 - i * 120_000 }),
  );
  const ordered = inEndOrder(calls);
  assert.equal(ordered[0], calls[10], 'the CDRs come newest start first');
  for (const c of ordered) h.engine.cdrCall(c);
  const alerts = h.finish();
  assert.equal(alerts.length, 1, 'the caller; the trunk (limit 30) is under its limit');
  const a = alerts[0]!;
  assert.equal(a.title, '11 simultaneous calls for extension 105 (limit 10) (CDR)');
  assert.equal(a.count, bruteForcePeak(calls));
  assert.equal(a.source, undefined);
  assert.deepEqual(a.target, { identity: 'Ext.105' });
  assert.equal(a.evidence.group, 'extension 105');
  assert.equal(a.evidence.peakAt, new Date(calls[10]!.answer!).toISOString());
  assert.equal((a.evidence.callIds as string[]).length, 11);
  assert.equal((a.evidence.cdrRecords as string[]).length, 11);
  assert.equal(a.firstSeen, new Date(calls[0]!.answer!).toISOString(), 'the first call of the overlap');
  assert.equal(a.raisedAt, new Date(calls[0]!.end!).toISOString(), 'known when the last of them ended');
});

test('from CDRs: back-to-back, unanswered, still-up and repeated records do not overlap', () => {
  const h = ruleHarness(fraudConcurrentCalls, {}, site);
  // Twelve calls, each answered when the previous one ends.
  let t = T0;
  for (let i = 0; i < 12; i++) {
    const c = cdrCall({ start: t - 5000, dialled: `+3314268121${i}`, talkMs: 60_000 });
    h.engine.cdrCall(c);
    t = c.end!;
  }
  // Twelve that rang out, unanswered, at the same time.
  for (let i = 0; i < 12; i++) h.engine.cdrCall(cdrCall({ start: T0, outcome: 'no-answer' }));
  // Twelve records of calls still up (no end yet).
  for (let i = 0; i < 12; i++) h.engine.cdrCall(cdrCall({ start: T0, noEnd: true }));
  // One call reported twelve times (a record read again): one call.
  for (let i = 0; i < 12; i++) h.engine.cdrCall(cdrCall({ start: T0, callId: '48999:00000C21DE5C_x' }));
  // Twelve inbound calls from one outside number, through the trunk (limit 30).
  for (let i = 0; i < 12; i++)
    h.engine.cdrCall(cdrCall({ start: T0, caller: '+33142681234', dialled: '105', direction: 'inbound' }));
  assert.deepEqual(h.finish(), []);
});

test('from CDRs: random calls in end-time order give the brute-force peak; per trunk with its limit', () => {
  const h = ruleHarness(
    fraudConcurrentCalls,
    { 'fraud.concurrent-calls': { thresholds: { maxPerCaller: 1, maxPerTrunk: 3 } } },
    site,
  );
  let state = 17;
  const rnd = (): number => (state = (state * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const calls = Array.from({ length: 120 }, () =>
    cdrCall({
      start: T0 + Math.floor(rnd() * 6 * 3_600_000),
      ringMs: Math.floor(rnd() * 30_000),
      talkMs: 1000 + Math.floor(rnd() * 45 * 60_000),
    }),
  );
  for (const c of inEndOrder(calls)) h.engine.cdrCall(c);
  const alerts = h.finish();
  const peak = bruteForcePeak(calls);
  assert.ok(peak > 3, `the random calls overlap (${peak})`);
  const byGroup = new Map(alerts.map((a) => [a.evidence.group as string, a]));
  assert.equal(byGroup.get('extension 105')?.count, peak);
  assert.equal(byGroup.get('trunk 10000')?.count, peak);
  assert.equal(byGroup.get('trunk 10000')?.evidence.limit, 3);
});

test('from CDRs: bounded: intervals per caller, callers, and calls older than the horizon', () => {
  const h = ruleHarness<ConcurrentCallsDetector>(fraudConcurrentCalls, {}, site);
  // More overlapping calls than a caller keeps: the peak stops at the bound, memory too.
  const n = DETECT_CDR_INTERVALS_PER_GROUP + 40;
  for (let i = 0; i < n; i++)
    h.engine.cdrCall(cdrCall({ start: T0 + i * 1000, talkMs: 3_600_000 + i * 1000, trunk: null }));
  assert.equal(h.detector.cdrStats.intervals, DETECT_CDR_INTERVALS_PER_GROUP);
  assert.equal(h.detector.cdrStats.dropped, 40);
  // As many callers as the table holds, and more, a day later: the old caller is forgotten.
  const later = T0 + DETECT_CDR_CALL_HORIZON_MS + 2 * 3_600_000;
  for (let i = 0; i < DETECT_CDR_CONCURRENT_GROUPS + 500; i++)
    h.engine.cdrCall(cdrCall({ start: later + i, caller: `Ext.${1000 + i}`, talkMs: 1000, trunk: null }));
  assert.ok(h.detector.cdrStats.groups <= DETECT_CDR_CONCURRENT_GROUPS);
  assert.ok(h.detector.cdrStats.intervals <= DETECT_CDR_CONCURRENT_GROUPS + DETECT_CDR_INTERVALS_PER_GROUP);
  const alerts = h.finish();
  assert.equal(alerts.length, 1);
  assert.equal(alerts[0]!.count, DETECT_CDR_INTERVALS_PER_GROUP + 1, 'the kept calls and the new one');
});

test('deepestOverlap: order-free, ends before starts at the same instant', () => {
  const iv = (from: number, to: number): { from: number; to: number } => ({ from, to });
  assert.deepEqual(deepestOverlap([], 0, 10), { depth: 1, at: 0 });
  assert.deepEqual(deepestOverlap([iv(0, 5), iv(5, 10)], 0, 10), { depth: 2, at: 0 });
  assert.deepEqual(deepestOverlap([iv(5, 10), iv(0, 5)], 5, 6), { depth: 2, at: 5 });
  assert.deepEqual(deepestOverlap([iv(0, 100), iv(20, 30), iv(25, 40)], 10, 50), { depth: 4, at: 25 });
  assert.deepEqual(deepestOverlap([iv(0, 10)], 10, 20), { depth: 1, at: 10 }, 'touching is not overlapping');
});

test('from CDRs: a second burst after a quiet spell is a new alert, even below the first peak', () => {
  const h = ruleHarness(fraudConcurrentCalls, {}, site);
  const burst = (at: number, n: number): CdrCall[] =>
    Array.from({ length: n }, (_, i) => cdrCall({ start: at + i * 1000, talkMs: 1_800_000, trunk: null }));
  for (const c of inEndOrder(burst(T0, 13))) h.engine.cdrCall(c);
  for (const c of inEndOrder(burst(T0 + 5 * 3_600_000, 11))) h.engine.cdrCall(c);
  const alerts = h.finish();
  assert.deepEqual(
    alerts.map((a) => a.count),
    [13, 11],
  );
});
