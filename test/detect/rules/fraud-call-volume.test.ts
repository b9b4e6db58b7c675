import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigSchema } from '../../../src/config/config.js';
import { DETECT_VOLUME_BASELINE_KEYS } from '../../../src/config/limits.js';
import type { AlertJson } from '../../../src/core/alert.js';
import type { CallOutcome, CdrCall } from '../../../src/core/records.js';
import { AlertBook } from '../../../src/detect/alert-book.js';
import { DetectionEngine } from '../../../src/detect/engine.js';
import {
  CALL_VOLUME_STATE_FORMAT,
  configureCallVolume,
  fraudCallVolume,
} from '../../../src/detect/rules/fraud-call-volume.js';
import { DEFAULT_SITE, SiteModel } from '../../../src/detect/site.js';
import { wallTimeToEpoch } from '../../../src/logs/time.js';
import { AlertStore } from '../../../src/store/alert-store.js';
import { Sensor, stateSnapshotName } from '../../../src/watch/sensor.js';
import { ruleHarness } from '../../helpers/rule-harness.js';
import { call, PBX, PHONE, T0, TRUNK } from '../../helpers/call-traffic.js';

const site = new SiteModel({ ...DEFAULT_SITE, pbx: [PBX], trunks: [TRUNK] });

test('sixty authenticated calls within an hour from one extension are high', () => {
  const h = ruleHarness(fraudCallVolume, {}, site);
  for (let i = 0; i < 61; i++)
    call(h, T0 + i * 30_000, PHONE, PBX, `+3314268${1000 + i}`, ['180 Ringing', '200 OK'], { auth: '101' });
  const alerts = h.finish();
  assert.equal(alerts.length, 2, 'per extension and per source');
  const ext = alerts.find((a) => a.evidence.group === 'extension 101')!;
  assert.equal(ext.rule, 'fraud.call-volume');
  assert.equal(ext.severity, 'high');
  assert.equal(ext.count, 61);
  assert.equal(ext.evidence.cap, 60);
  assert.deepEqual(ext.evidence.outcomes, { accepted: 61 });
  assert.equal(
    h.revisions[0]?.raisedAt,
    new Date(T0 + 59 * 30_000 + 20).toISOString(),
    'raised at the 60th call',
  );
});

test('challenged INVITEs and a normal day stay silent', () => {
  const h = ruleHarness(fraudCallVolume, {}, site);
  for (let i = 0; i < 100; i++) {
    call(h, T0 + i * 120_000, PHONE, PBX, `+3314268${1000 + i}`, ['407 Proxy Authentication Required']);
    call(h, T0 + i * 120_000 + 50, PHONE, PBX, `+3314268${1000 + i}`, ['200 OK'], { auth: '101' });
  }
  assert.deepEqual(h.finish(), [], '30 calls an hour is under the cap');
});

test('unauthenticated calls count per source; the PBX counts per trunk only', () => {
  const h = ruleHarness(
    fraudCallVolume,
    { 'fraud.call-volume': { thresholds: { callsPerHour: 5, trunkCallsPerHour: 8 } } },
    site,
  );
  for (let i = 0; i < 5; i++)
    call(h, T0 + i, '203.0.113.99', PBX, `+3314268${1000 + i}`, ['180 Ringing', '200 OK']);
  for (let i = 0; i < 8; i++)
    call(h, T0 + 100 + i, PBX, TRUNK, `+3314268${2000 + i}`, ['200 OK'], { auth: 'trunkuser' });
  const alerts = h.finish();
  const groups = alerts.map((a) => a.evidence.group).sort();
  assert.deepEqual(groups, ['source 203.0.113.99', `trunk ${TRUNK}`]);
});

test('the hour slides: calls spread over two hours at half the cap are not reported', () => {
  const h = ruleHarness(fraudCallVolume, { 'fraud.call-volume': { thresholds: { callsPerHour: 10 } } }, site);
  for (let i = 0; i < 12; i++)
    call(h, T0 + i * 600_000, PHONE, PBX, `+3314268${1000 + i}`, ['200 OK'], { auth: '101' });
  assert.deepEqual(h.finish(), []);
});

test('fuzz: random outcomes never throw and alerts stay per group', () => {
  const h = ruleHarness(fraudCallVolume, { 'fraud.call-volume': { thresholds: { callsPerHour: 20 } } }, site);
  let state = 17;
  const rnd = (): number => (state = (state * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const answers = ['200 OK', '486 Busy Here', '401 Unauthorized', '503 Service Unavailable', '180 Ringing'];
  for (let i = 0; i < 300; i++) {
    const src = `203.0.113.${i % 3}`;
    assert.doesNotThrow(() =>
      call(
        h,
        T0 + i * 1000,
        src,
        PBX,
        String(Math.floor(rnd() * 1e9)),
        [answers[Math.floor(rnd() * answers.length)]!],
        rnd() < 0.5 ? { auth: `u${i % 2}` } : {},
      ),
    );
  }
  const alerts = h.finish();
  assert.ok(alerts.length <= 5, `${alerts.length}`);
});

// ── CDR input and the learned baseline ───────────────────────────────────────────────────────────

const BERLIN = 'Europe/Berlin';
const MIN = 60_000;

/** Epoch ms of a wall-clock time in Berlin. */
function berlin(month: number, day: number, hour: number, minute = 0): number {
  return wallTimeToEpoch(2026, month, day, hour, minute, 0, 0, BERLIN);
}

let cdrLine = 0;

/** A 3CX CDR call from `caller` starting at `start`, lasting `minutes`, out through line 10000. */
function cdr(
  start: number,
  minutes: number,
  caller: string,
  dialled: string,
  o: { outcome?: CallOutcome; trunk?: string | null } = {},
): CdrCall {
  const end = start + minutes * MIN;
  const outcome = o.outcome ?? 'answered';
  return {
    start,
    ...(outcome === 'answered' ? { answer: start + 5000 } : {}),
    end,
    caller,
    dialled,
    ...(o.trunk !== null ? { trunk: o.trunk ?? '10000' } : {}),
    direction: 'outbound',
    outcome,
    callId: `c${++cdrLine}`,
    provenance: { kind: 'cdr', file: 'cdr.log', line: cdrLine },
  };
}

interface CdrRig {
  readonly engine: DetectionEngine;
  readonly revisions: AlertJson[];
  /** Feeds calls as a 3CX CDR output delivers them: at hang-up, in end-time order. */
  feed(calls: readonly CdrCall[]): void;
  /** The latest state of every alert (open ones included). */
  alerts(): AlertJson[];
}

function cdrRig(timeZone = BERLIN, thresholds: Record<string, number> = {}): CdrRig {
  configureCallVolume({ timeZone });
  const revisions: AlertJson[] = [];
  const book = new AlertBook('default', 'test', (a) => revisions.push(a));
  const engine = new DetectionEngine([fraudCallVolume], book, new SiteModel(), {
    'fraud.call-volume': { thresholds },
  });
  return {
    engine,
    revisions,
    feed(calls) {
      const sorted = [...calls].sort((a, b) => (a.end ?? a.start) - (b.end ?? b.start));
      for (const c of sorted) engine.cdrCall(c);
    },
    alerts() {
      return book.alerts();
    },
  };
}

/**
 * An office week from Monday `month`/`day` (Berlin): extensions 101-103 call 9:00-17:00 on weekdays,
 * `perHour` calls an hour each, give or take 2 (deterministic), 2-9 minutes long; nothing at night
 * or at the weekend.
 */
function officeWeek(
  month: number,
  day: number,
  perHour = 6,
  callers = ['Ext.101', 'Ext.102', 'Ext.103'],
): CdrCall[] {
  const out: CdrCall[] = [];
  for (let d = 0; d < 5; d++) {
    for (let h = 9; h < 17; h++) {
      callers.forEach((caller, ci) => {
        const n = perHour + (((d * 7 + h * 3 + ci * 5 + day) % 5) - 2);
        for (let i = 0; i < n; i++) {
          const start = berlin(month, day, h, Math.floor((60 * i) / n)) + d * 86_400_000 + ci * 7000;
          out.push(
            cdr(start, 2 + ((i + h + ci) % 8), caller, `90301234${String(100 + i + h).padStart(4, '0')}`),
          );
        }
      });
    }
  }
  return out;
}

/** Calls from `caller` in one hour from `start`, evenly spread, `minutes` long each. */
function burst(start: number, n: number, caller: string, minutes = 3): CdrCall[] {
  return Array.from({ length: n }, (_, i) =>
    cdr(start + Math.floor((i * 55 * MIN) / n), minutes + (i % 4), caller, `0088216${1000 + i}`),
  );
}

/** Three learning weeks (2, 9 and 16 February 2026, Berlin winter time). */
function learnFebruary(rig: CdrRig): void {
  for (const day of [2, 9, 16]) rig.feed(officeWeek(2, day));
}

test('CDRs: a static cap from the first minute, calls counted by start although they arrive at hang-up', () => {
  const rig = cdrRig(BERLIN, { callsPerHour: 20 });
  // 20 calls started 02:00-02:57 of different lengths: their CDRs come in end order, not start order.
  const calls = Array.from({ length: 20 }, (_, i) =>
    cdr(berlin(3, 14, 2, i * 3), 40 - ((i * 7) % 37), 'Ext.105', `0088216${1000 + i}`),
  );
  rig.feed(calls);
  const alerts = rig.alerts();
  const ext = alerts.find((a) => a.evidence.group === 'extension 105');
  assert.ok(ext !== undefined, JSON.stringify(alerts.map((a) => a.title)));
  assert.equal(ext.evidence.basis, 'static');
  assert.equal(ext.evidence.cap, 20);
  assert.equal(ext.count, 20);
  assert.equal(ext.evidence.hour, 'Sat 02:00 Europe/Berlin');
  assert.deepEqual(ext.target, { extension: '105' });
  assert.equal((ext.evidence.cdrRecords as string[]).length, 20);
  assert.equal(ext.firstSeen, new Date(berlin(3, 14, 2, 0)).toISOString(), 'the first call started at 02:00');
  // Raised when the 20th CDR came in, which is the latest hang-up of all.
  const lastEnd = Math.max(...calls.map((c) => c.end!));
  assert.equal(ext.raisedAt, new Date(lastEnd).toISOString());
  // A rejected (no route) call does not count.
  const probing = cdrRig(BERLIN, { callsPerHour: 3 });
  probing.feed(
    Array.from({ length: 5 }, (_, i) =>
      cdr(berlin(3, 14, 1, 12 + i), 0, 'Ext.105', `00252615550${i}`, { outcome: 'rejected', trunk: null }),
    ),
  );
  assert.deepEqual(probing.alerts(), []);
});

test('baseline: learned from three office weeks, a normal week is silent and a night burst under the cap is high', () => {
  const rig = cdrRig();
  learnFebruary(rig);
  assert.deepEqual(rig.alerts(), [], 'learning weeks stay silent (under the static caps)');
  rig.feed(officeWeek(2, 23));
  assert.deepEqual(rig.alerts(), [], 'a normal fourth week');
  // Saturday 28 February, 02:00-03:00: 15 calls from 101, a quarter of the static cap.
  rig.feed(burst(berlin(2, 28, 2, 2), 15, 'Ext.101'));
  const alerts = rig.alerts();
  assert.equal(alerts.length, 1, JSON.stringify(alerts.map((a) => a.title)));
  const a = alerts[0]!;
  assert.equal(a.severity, 'high');
  assert.equal(a.evidence.group, 'extension 101');
  assert.equal(a.evidence.basis, 'baseline');
  assert.equal(a.evidence.cap, 10, 'the floor: 101 never calls at that hour');
  assert.deepEqual(a.evidence.usual, { mean: 0, sd: 1, weeks: 3 }, 'the Saturdays of 7, 14 and 21 February');
  assert.equal(a.evidence.hourStart, new Date(berlin(2, 28, 2)).toISOString());
  assert.equal(a.count, 15);
  assert.match(
    a.title,
    /^10 calls for extension 101 in the hour from Sat 02:00 Europe\/Berlin, usually 0\.0 \(limit 10\)$/,
  );

  // The same burst with no history stays under the static cap of 60.
  const fresh = cdrRig();
  fresh.feed(burst(berlin(2, 28, 2, 2), 15, 'Ext.101'));
  assert.deepEqual(fresh.alerts(), []);
});

test('baseline: a daytime hour is judged against its own usual volume, not the night floor', () => {
  const rig = cdrRig();
  learnFebruary(rig);
  // Tuesday 24 February 10:00: 101 usually makes 4-8 calls; 13 is within mean + 4 sd, 30 is not.
  const week = officeWeek(2, 23).filter(
    (c) => !(c.caller === 'Ext.101' && c.start >= berlin(2, 24, 10) && c.start < berlin(2, 24, 11)),
  );
  rig.feed([...week, ...burst(berlin(2, 24, 10, 1), 13, 'Ext.101')]);
  assert.deepEqual(rig.alerts(), [], '13 calls at 10:00 on a Tuesday is busy, not abnormal');
  rig.feed(burst(berlin(3, 3, 10, 1), 30, 'Ext.101'));
  const a = rig.alerts().find((x) => x.evidence.group === 'extension 101');
  assert.ok(a !== undefined);
  assert.equal(a.evidence.basis, 'baseline');
  const usual = a.evidence.usual as { mean: number; sd: number; weeks: number };
  assert.ok(usual.mean > 4 && usual.mean < 9, JSON.stringify(usual));
  // The limit is the first count above mean + 4 sd (shown rounded to a tenth).
  const cap = a.evidence.cap as number;
  assert.ok(Math.abs(cap - (usual.mean + 4 * usual.sd + 1)) <= 1, `${cap} ${JSON.stringify(usual)}`);
  assert.ok(cap > 13 && cap < 30, String(cap));
});

test('baseline: an alerted burst is not learned, so the same burst a week later is reported again', () => {
  const rig = cdrRig();
  learnFebruary(rig);
  rig.feed(officeWeek(2, 23));
  rig.feed(burst(berlin(2, 28, 2, 2), 15, 'Ext.101'));
  rig.feed(officeWeek(3, 2));
  rig.feed(burst(berlin(3, 7, 2, 2), 15, 'Ext.101'));
  const alerts = rig.alerts().filter((a) => a.evidence.group === 'extension 101');
  assert.equal(alerts.length, 2);
  assert.deepEqual(
    alerts.map((a) => [a.evidence.cap, (a.evidence.usual as { mean: number }).mean]),
    [
      [10, 0],
      [10, 0],
    ],
    'the first burst left the Saturday 02:00 mean at zero',
  );
});

test('baseline: hours of week follow the site time zone across the daylight-saving change', () => {
  // Four winter weeks (UTC+1) of 20 calls an hour, 9:00-17:00 local; then a normal week in summer
  // time (UTC+2), 29 March 2026 being the change.
  const weeks = [2, 9, 16, 23].map((d) => officeWeek(3, d, 20, ['Ext.101']));
  const summer = officeWeek(3, 30, 20, ['Ext.101']);
  const local = cdrRig(BERLIN);
  for (const w of weeks) local.feed(w);
  local.feed(summer);
  assert.deepEqual(local.alerts(), [], 'the same local hours in summer time are normal');

  // Read in UTC, the summer week's 9:00 local is 07:00 UTC, an hour the winter never called in.
  const utc = cdrRig('UTC');
  for (const w of weeks) utc.feed(w);
  utc.feed(summer);
  const wrong = utc.alerts();
  assert.ok(wrong.length >= 1);
  assert.equal(wrong[0]!.evidence.hour, 'Mon 07:00 UTC');
  assert.equal(wrong[0]!.evidence.basis, 'baseline');
});

test('CDRs: calls that end hours later still count in the hour they started', () => {
  const rig = cdrRig();
  learnFebruary(rig);
  rig.feed(officeWeek(2, 23));
  // 12 satellite calls started 02:00-02:55 on Saturday lasting 80-130 minutes, and short calls from
  // 102 that move event time past the hour before most of them are reported.
  const long = Array.from({ length: 12 }, (_, i) =>
    cdr(berlin(2, 28, 2, i * 5), 80 + ((i * 17) % 50), 'Ext.105', `0088216${2000 + i}`),
  );
  const short = Array.from({ length: 6 }, (_, i) =>
    cdr(berlin(2, 28, 3, i * 10), 2, 'Ext.102', `0301234${i}`),
  );
  rig.feed([...long, ...short]);
  const a = rig.alerts().find((x) => x.evidence.group === 'extension 105');
  assert.equal(a, undefined, '105 has no history: the static cap applies');
  const b = rig.alerts().find((x) => x.evidence.group === 'extension 102');
  assert.equal(b, undefined, '6 calls are under the floor');

  // The same for 101, which has a history: judged in its 02:00 hour once the 10th CDR arrives.
  const rig2 = cdrRig();
  learnFebruary(rig2);
  rig2.feed(officeWeek(2, 23));
  const long101 = long.map((c, i) => ({ ...c, caller: 'Ext.101', callId: `x${i}` }));
  rig2.feed([...long101, ...short]);
  const c = rig2.alerts().find((x) => x.evidence.group === 'extension 101');
  assert.ok(c !== undefined);
  assert.equal(c.evidence.hourStart, new Date(berlin(2, 28, 2)).toISOString());
  assert.equal(c.evidence.basis, 'baseline');
  const ends = long101.map((x) => x.end!).sort((x, y) => x - y);
  assert.equal(c.raisedAt, new Date(ends[9]!).toISOString(), 'at the 10th hang-up');
  assert.ok(ends[9]! > berlin(2, 28, 3, 30), 'long after the hour ended');
});

test('snapshot: the learned baseline survives a round trip through JSON', () => {
  const a = cdrRig();
  learnFebruary(a);
  const saved = JSON.parse(JSON.stringify(a.engine.saveStates())) as Record<string, unknown>;
  const state = saved['fraud.call-volume'] as { format: string; version: number; keys: { key: string }[] };
  assert.equal(state.format, CALL_VOLUME_STATE_FORMAT);
  assert.equal(state.version, 1);
  assert.deepEqual(state.keys.map((k) => k.key).sort(), [
    'extension 101',
    'extension 102',
    'extension 103',
    'trunk 10000',
  ]);

  const b = cdrRig();
  assert.deepEqual(b.engine.loadStates(saved), []);
  assert.deepEqual(b.engine.saveStates(), saved, 'restored as saved');
  b.feed(officeWeek(2, 23));
  assert.deepEqual(b.alerts(), [], 'a normal week after the restart');
  b.feed(burst(berlin(2, 28, 2, 2), 15, 'Ext.101'));
  a.feed(officeWeek(2, 23));
  a.feed(burst(berlin(2, 28, 2, 2), 15, 'Ext.101'));
  // The same judgement (the evidence lists differ: only the baselines were restored, not the
  // numbers dialled in the learning weeks).
  const judged = (list: AlertJson[]) =>
    list.map((x) => {
      const { group, basis, callsLastHour, cap, hour, usual } = x.evidence;
      return {
        id: x.id,
        title: x.title,
        count: x.count,
        raisedAt: x.raisedAt,
        group,
        basis,
        callsLastHour,
        cap,
        hour,
        usual,
      };
    });
  assert.deepEqual(
    judged(b.alerts()),
    judged(a.alerts()),
    'the restored detector judges as the one that learned',
  );
  assert.equal(b.alerts().length, 1);
});

test('snapshot: journal records replayed after a restore are not counted twice', () => {
  const a = cdrRig();
  learnFebruary(a);
  a.feed(officeWeek(2, 23));
  const first = burst(berlin(2, 28, 2, 2), 9, 'Ext.101');
  a.feed(first);
  assert.deepEqual(a.alerts(), [], '9 calls, under the floor of 10');
  const saved = JSON.parse(JSON.stringify(a.engine.saveStates())) as Record<string, unknown>;

  const b = cdrRig();
  assert.deepEqual(b.engine.loadStates(saved), []);
  b.feed(first); // the journal replay: already in the snapshot
  assert.deepEqual(b.alerts(), []);
  b.feed([cdr(berlin(2, 28, 2, 58), 1, 'Ext.101', '00882161999')]);
  const alerts = b.alerts();
  assert.equal(alerts.length, 1, 'the 10th call of the hour');
  assert.equal(alerts[0]!.evidence.callsLastHour, 10);
});

test('snapshot: corrupt, foreign or wrong-version states are refused with a reason and the rule starts fresh', () => {
  const a = cdrRig();
  learnFebruary(a);
  const good = JSON.parse(JSON.stringify(a.engine.saveStates()['fraud.call-volume'])) as Record<
    string,
    unknown
  >;
  const key0 = (good.keys as Record<string, unknown>[])[0]!;
  const cases: [unknown, RegExp][] = [
    [null, /not an object/],
    ['{"format":', /not an object/],
    [{ ...good, format: 'something else' }, /not a sipwarden\/fraud\.call-volume snapshot/],
    [{ ...good, version: 2 }, /version 2, expected 1/],
    [{ ...good, timeZone: 'UTC' }, /time zone UTC.*Europe\/Berlin/],
    [{ ...good, keys: 'x' }, /no list of keys/],
    [{ ...good, keys: [{ ...key0, mean: 'AAAA' }] }, /key 0: bad mean or variance/],
    [{ ...good, keys: [key0, key0] }, /key 1: listed twice/],
    [{ ...good, keys: [{ ...key0, key: 'source 203.0.113.9' }] }, /key 0: bad name/],
    [{ ...good, watched: { first: 5, last: 1, gaps: [] } }, /watched time/],
    [{ ...good, cdrAsOf: 'soon' }, /bad snapshot times/],
    [{ ...good, keys: Array.from({ length: DETECT_VOLUME_BASELINE_KEYS + 1 }, () => key0) }, /more than/],
  ];
  for (const [state, why] of cases) {
    const b = cdrRig();
    const refused = b.engine.loadStates({ 'fraud.call-volume': state });
    assert.equal(refused.length, 1, JSON.stringify(state).slice(0, 60));
    assert.equal(refused[0]!.rule, 'fraud.call-volume');
    assert.match(refused[0]!.reason, why);
    // Nothing half-loaded: the burst is judged on the static cap only.
    b.feed(burst(berlin(2, 28, 2, 2), 15, 'Ext.101'));
    assert.deepEqual(b.alerts(), []);
    assert.deepEqual((b.engine.saveStates()['fraud.call-volume'] as { keys: unknown[] }).keys.length, 2);
  }
  // A rule id nobody runs is ignored.
  assert.deepEqual(cdrRig().engine.loadStates({ 'no.such-rule': {} }), []);
});

test('bounds: baselines are kept for at most DETECT_VOLUME_BASELINE_KEYS keys; a busy caller is admitted', () => {
  const rig = cdrRig();
  const t = berlin(3, 10, 9);
  const calls: CdrCall[] = [];
  for (let i = 0; i < DETECT_VOLUME_BASELINE_KEYS + 500; i++)
    calls.push(cdr(t + i * 100, 1, `Ext.${10_000 + i}`, '0301234567', { trunk: null }));
  rig.feed(calls);
  const keys = () =>
    (rig.engine.saveStates()['fraud.call-volume'] as { keys: { key: string }[] }).keys.map((k) => k.key);
  assert.equal(keys().length, DETECT_VOLUME_BASELINE_KEYS);
  rig.feed(
    Array.from({ length: 5 }, (_, i) =>
      cdr(t + 600_000 + i * 1000, 1, 'Ext.busy', '0301234567', { trunk: null }),
    ),
  );
  assert.ok(keys().includes('extension busy'));
  assert.equal(keys().length, DETECT_VOLUME_BASELINE_KEYS);
  const json = JSON.stringify(rig.engine.saveStates());
  // About 1.8 KB of baseline per key, as base64 text about 2.4 KB.
  assert.ok(json.length < DETECT_VOLUME_BASELINE_KEYS * 2600, String(json.length));
});

test('wire: an extension learned from SIP calls is judged against its baseline too', () => {
  configureCallVolume({ timeZone: 'UTC' });
  const h = ruleHarness(fraudCallVolume, {}, site);
  const monday = Date.UTC(2026, 1, 2);
  let n = 0;
  for (let week = 0; week < 3; week++)
    for (let d = 0; d < 5; d++)
      for (let hour = 9; hour < 17; hour++)
        for (let i = 0; i < 4; i++) {
          const t = monday + ((week * 7 + d) * 24 + hour) * 3_600_000 + i * 900_000;
          call(h, t, PHONE, PBX, `+3314268${1000 + (n++ % 9000)}`, ['200 OK'], { auth: '101' });
        }
  // Saturday of the fourth week, 03:00 UTC: 12 calls.
  const night = monday + (3 * 7 + 5) * 86_400_000 + 3 * 3_600_000;
  for (let i = 0; i < 12; i++)
    call(h, night + i * 60_000, PHONE, PBX, `+88216${1000 + i}`, ['200 OK'], { auth: '101' });
  const alerts = h.finish();
  assert.equal(alerts.length, 1, JSON.stringify(alerts.map((a) => a.title)));
  assert.equal(alerts[0]!.evidence.group, 'extension 101');
  assert.equal(alerts[0]!.evidence.basis, 'baseline');
  assert.equal(alerts[0]!.evidence.hour, 'Sat 03:00 UTC');
  assert.equal(alerts[0]!.source?.ip, PHONE);
});

test('watch keeps the baseline in the store across a restart and logs a snapshot it refuses', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sw-volume-'));
  try {
    const config = ConfigSchema.parse({
      timeZone: BERLIN,
      store: { path: join(dir, 'watch.db') },
      http: { listen: '' },
      sinks: { stdout: { enabled: false } },
    });
    // The wall clock of each run: the journal replays what it wrote in the last 15 minutes.
    const run = async (
      day: number,
      feed: (s: Sensor) => void,
    ): Promise<{ lines: string[]; state: Record<string, unknown> }> => {
      const lines: string[] = [];
      configureCallVolume({ timeZone: BERLIN });
      const s = new Sensor({
        config,
        rules: [fraudCallVolume],
        log: (l) => lines.push(l),
        now: () => berlin(2, day, 8),
      });
      await s.start();
      feed(s);
      const state = s.engine.saveStates();
      await s.stop();
      return { lines, state };
    };
    const calls = [2, 9, 16].flatMap((d) => officeWeek(2, d)).sort((x, y) => x.end! - y.end!);
    const first = await run(23, (s) => {
      for (const c of calls) s.cdrCall(c);
    });
    const learned = first.state['fraud.call-volume'] as { keys: unknown[] };
    assert.equal(learned.keys.length, 4);
    // Restarted at once: the snapshot is restored and the journal replays every call, which the
    // restored baselines already hold.
    const second = await run(23, () => undefined);
    assert.ok(second.lines.includes('restored the learned state of 1 rule'), second.lines.join('\n'));
    assert.ok(
      second.lines.some((l) => /^replayed \d+ journal records$/.test(l)),
      second.lines.join('\n'),
    );
    assert.deepEqual(
      (second.state['fraud.call-volume'] as { keys: unknown[] }).keys,
      learned.keys,
      'not counted twice',
    );
    // A day later nothing is replayed: the baselines come from the snapshot alone.
    const third = await run(24, () => undefined);
    assert.ok(!third.lines.some((l) => l.startsWith('replayed')), third.lines.join('\n'));
    assert.deepEqual(
      (third.state['fraud.call-volume'] as { keys: unknown[] }).keys,
      learned.keys,
      'the same baselines',
    );

    const store = new AlertStore({ path: join(dir, 'watch.db') });
    store.saveSnapshot(stateSnapshotName('fraud.call-volume'), {
      format: CALL_VOLUME_STATE_FORMAT,
      version: 99,
    });
    store.close();
    const fourth = await run(25, () => undefined);
    assert.ok(
      fourth.lines.includes('state of fraud.call-volume not restored: version 99, expected 1'),
      fourth.lines.join('\n'),
    );
    assert.deepEqual((fourth.state['fraud.call-volume'] as { keys: unknown[] }).keys, [], 'starts fresh');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
