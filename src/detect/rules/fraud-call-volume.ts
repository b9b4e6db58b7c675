import {
  DETECT_FRAUD_NUMBERS_PER_CALLER,
  DETECT_MAX_VOLUME_KEYS,
  DETECT_VOLUME_BASELINE_KEYS,
  DETECT_VOLUME_LATE_CALL_MS,
  DETECT_VOLUME_MAX_FILL_HOURS,
  DETECT_VOLUME_MAX_GAPS,
  DETECT_VOLUME_MAX_SILENCE_MS,
} from '../../config/limits.js';
import type { AlertEndpoint, AlertTarget } from '../../core/alert.js';
import { BoundedTable } from '../../core/bounded-table.js';
import { escapeText } from '../../core/escape.js';
import type { CdrCall } from '../../core/records.js';
import { isoTime } from '../../core/time.js';
import type { AuthAttempt } from '../attempts.js';
import {
  decodeBaseline,
  encodeBaseline,
  HourCalendar,
  HourOfWeekBaseline,
  WatchedTime,
  type BaselineSettings,
  type LearnedLimit,
} from '../baseline.js';
import type { RuleModule } from '../rule.js';
import { CappedSet, pushFrame, sourceGroup } from '../window.js';
import { cdrCaller, cdrCallerIsExtension, cdrTime, pushRecord } from './fraud-cdr.js';

const HOUR_MS = 3_600_000;
/** A key's run of activity (the alert's count and first call) starts again after this much quiet. */
const RUN_GAP_MS = 2 * HOUR_MS;
/** Hours of calls kept per key: the late-call allowance, the current hour and the one before it. */
const KEPT_HOURS = Math.ceil(DETECT_VOLUME_LATE_CALL_MS / HOUR_MS) + 2;

/** What `saveState` writes: its format name and version (a snapshot of another shape is refused). */
export const CALL_VOLUME_STATE_FORMAT = 'sipwarden/fraud.call-volume';
export const CALL_VOLUME_STATE_VERSION = 1;

let siteTimeZone = 'UTC';

/** Sets the IANA time zone hours of week are read in: the configuration's `timeZone` (default UTC).
 * Takes effect for detectors created afterwards. */
export function configureCallVolume(config: { readonly timeZone?: string | undefined }): void {
  siteTimeZone = config.timeZone ?? 'UTC';
}

type Kind = 'extension' | 'source' | 'trunk';

/** One call as the rule counts it, from the wire or from a CDR. */
interface Counted {
  /** When the call started: the hour it counts in. */
  readonly start: number;
  /** Event time it was reported at (the INVITE's answer, the CDR's hang-up). */
  readonly at: number;
  readonly dialled: string;
  readonly outcome: string;
  readonly frame: number | undefined;
  readonly cdr: CdrCall | undefined;
  readonly source: AlertEndpoint | undefined;
  readonly target: AlertTarget;
  /** Reported no later than the restored snapshot was taken: a restored baseline has it already. */
  readonly replayed: boolean;
}

/** One key's counting state and evidence. */
interface Volume {
  /** Calls per period for a key without a baseline (sources), flat [period, count, ...]. */
  readonly counts: number[];
  runFirst: number;
  runLast: number;
  runTotal: number;
  readonly numbers: CappedSet;
  readonly outcomes: Record<string, number>;
  readonly frames: number[];
  readonly records: string[];
}

/** How one call was judged when it crossed its limit. */
interface Judged {
  readonly basis: 'static' | 'baseline';
  readonly calls: number;
  readonly limit: number;
  readonly period: number;
  readonly learned: LearnedLimit | undefined;
}

/**
 * fraud.call-volume: more calls in an hour from one extension, source or trunk than a static cap
 * from the first minute; for extensions and trunks with enough history, more than their learned
 * baseline for that hour of week (src/detect/baseline.ts). Counts wire calls and 3CX CDR calls.
 */
export const fraudCallVolume: RuleModule = {
  meta: {
    id: 'fraud.call-volume',
    title: 'Call volume above the hourly cap or the learned baseline',
    severity: 'high',
    description:
      'Counts new calls per hour: initial INVITEs the PBX let through (authenticated and not rejected for their ' +
      'credentials, or served without authentication) per extension (the identity of the credentials), per source ' +
      '(an IPv6 /64 counts as one; the PBX and declared trunks excepted) and per declared trunk; PBX log lines ' +
      'that report an authenticated call; and calls from 3CX CDRs per calling extension (`Ext.101`) and per trunk ' +
      '(its line number), by the time each call started (CDRs come at hang-up, so a call is added to its hour late; ' +
      'an hour stays open for late calls for 4 hours after it ends). From the first minute, reaching `callsPerHour` ' +
      'in a sliding hour for an extension or source, or `trunkCallsPerHour` on a trunk, is reported: fraud runs ' +
      'calls in bulk, one after the other. Extensions and trunks also learn a baseline: for each of the 168 hours ' +
      'of the week in the site\u2019s time zone (`timeZone`, daylight saving followed), an exponentially weighted ' +
      'mean and variance of their calls in that hour, one observation a week (a week\u2019s weight halves every ' +
      '`baselineHalfLifeWeeks`; quiet hours count as zero, hours with no input at all for over 3 days are not ' +
      'learned). Once an hour of week was seen in `baselineWeeks` weeks, the key was watched that many weeks and made ' +
      '`baselineHistoryCalls` calls, that hour is judged by the baseline instead of the caps: reported when the ' +
      'hour\u2019s calls exceed the mean plus `baselineSigmas` standard deviations (the deviation taken as at least ' +
      'the square root of the mean, and at least 1) and reach `baselineFloor` (`trunkBaselineFloor` on a trunk). An ' +
      'extension that never calls at night is thus reported for a dozen night calls, a call centre not for its ' +
      'usual hundreds. Hours that crossed a limit, and the hours either side of them, are not learned, so an attack ' +
      'does not become the norm. In `watch` the baselines are saved in the store and survive restarts.',
    falsePositives:
      'Challenged, rejected and unanswered INVITEs do not count, nor re-INVITEs; CDR calls rejected by the PBX (no ' +
      'route) do not count either (prefix probing reports those). Before the baseline is learned (the first weeks, ' +
      'or hours of the week never seen), busy extensions (a call-centre dialler, a queue) may need a higher static ' +
      'cap per site. Once learned, a change of habit well above the usual for that hour (a campaign, staff working ' +
      'a night shift, an outage making everyone redial) is reported; it is learned only if it stays under the ' +
      'limit. A call seen both on the wire and in a CDR counts once; a trunk is named by address on the wire and by ' +
      'line number in CDRs, so each has its own baseline.',
    remediation:
      '3CX: restrict outbound rules to the extensions that need them, set simultaneous-call limits on trunks, ' +
      'set Security → Allowed Country Codes, and review the call log of the extension; change its password. Any ' +
      'PBX: rate-limit new calls per endpoint and per trunk (Asterisk: call limits; Kamailio: pike or ratelimit ' +
      'on INVITE; FreeSWITCH: limit application with a rate), and ask the provider for a daily spend limit.',
    references: [
      'CFCA Global Telecommunications Fraud Loss Survey (toll fraud)',
      'RFC 3261 §13 (initiating a session)',
    ],
    thresholds: {
      callsPerHour: 60,
      trunkCallsPerHour: 600,
      baselineWeeks: 2,
      baselineHistoryCalls: 10,
      baselineHalfLifeWeeks: 4,
      baselineSigmas: 4,
      baselineFloor: 10,
      trunkBaselineFloor: 40,
    },
    quietMs: 3_600_000,
  },
  create(ctx) {
    const th = ctx.thresholds;
    const perCaller = th.callsPerHour ?? 60;
    const perTrunk = th.trunkCallsPerHour ?? 600;
    const halfLife = positive(th.baselineHalfLifeWeeks, 4);
    const learn = (floor: number): BaselineSettings => ({
      alpha: Math.min(1, 1 - 0.5 ** (1 / halfLife)),
      minWeeks: Math.max(1, Math.ceil(positive(th.baselineWeeks, 2))),
      historyCalls: Math.max(0, th.baselineHistoryCalls ?? 10),
      sigmas: Math.max(0, th.baselineSigmas ?? 4),
      floor: Math.max(1, floor),
      maxFillHours: DETECT_VOLUME_MAX_FILL_HOURS,
    });
    const extSettings = learn(th.baselineFloor ?? 10);
    const trunkSettings = learn(th.trunkBaselineFloor ?? 40);
    const calendar = new HourCalendar(siteTimeZone);
    const table = new BoundedTable<string, Volume>('fraud.call-volume', DETECT_MAX_VOLUME_KEYS);
    let baselines = newBaselines();
    let watched = new WatchedTime(DETECT_VOLUME_MAX_SILENCE_MS, DETECT_VOLUME_MAX_GAPS);
    let now = -Infinity;
    // The latest wire and CDR report times seen, and those of the snapshot restored (replayed
    // journal records up to them are already in the restored baselines).
    let wireSeen = -Infinity;
    let cdrSeen = -Infinity;
    let wireRestored = -Infinity;
    let cdrRestored = -Infinity;

    const count = (key: string, kind: Kind, c: Counted): void => {
      const v = table.touch(key, () => ({
        counts: [],
        runFirst: c.start,
        runLast: c.start,
        runTotal: 0,
        numbers: new CappedSet(DETECT_FRAUD_NUMBERS_PER_CALLER),
        outcomes: {},
        frames: [],
        records: [],
      }));
      if (v === undefined) return;
      if (c.start > v.runLast + RUN_GAP_MS) {
        v.runFirst = c.start;
        v.runTotal = 0;
      }
      if (c.start > v.runLast) v.runLast = c.start;
      if (c.start < v.runFirst) v.runFirst = c.start;
      v.runTotal++;
      v.numbers.add(escapeText(c.dialled, 40));
      v.outcomes[c.outcome] = (v.outcomes[c.outcome] ?? 0) + 1;
      pushFrame(v.frames, c.frame);
      if (c.cdr !== undefined) pushRecord(v.records, c.cdr);

      const settings = kind === 'trunk' ? trunkSettings : extSettings;
      const closedUpTo = calendar.period(now - DETECT_VOLUME_LATE_CALL_MS) - 1;
      let p = calendar.period(c.start);
      let base: HourOfWeekBaseline | undefined;
      if (kind !== 'source') {
        base = baselines.touch(key, () => new HourOfWeekBaseline(Math.max(p, closedUpTo + 1)));
        base?.fold(closedUpTo, calendar, watched, settings);
      }
      let n: number;
      let previous: number;
      if (base !== undefined) {
        if (c.replayed && base.restored) p = Math.max(p, base.folded + 1);
        else p = base.add(p);
        n = base.count(p);
        previous = base.count(p - 1);
      } else {
        n = addCount(v.counts, p);
        previous = periodCount(v.counts, p - 1);
      }

      const learned = base?.limit(p, calendar, settings);
      let judged: Judged;
      if (learned !== undefined) {
        if (n < learned.limit) return;
        judged = { basis: 'baseline', calls: n, limit: learned.limit, period: p, learned };
      } else {
        // Before a baseline: a sliding hour, the previous hour weighted by how much of it still overlaps.
        const overlap = Math.min(1, Math.max(0, 1 - (c.start - calendar.start(p)) / HOUR_MS));
        const sliding = n + previous * overlap;
        const cap = kind === 'trunk' ? perTrunk : perCaller;
        if (sliding < cap) return;
        judged = { basis: 'static', calls: Math.floor(sliding), limit: cap, period: p, learned: undefined };
      }
      // Neither the attack's hours nor their edges are learned as normal.
      base?.taint(p - 1, p + 1);
      if (ctx.touch?.(key, c.at, v.runTotal) === true) return;
      const hour = `${calendar.label(p)} ${calendar.timeZone}`;
      const l = judged.learned;
      ctx.raise({
        key,
        time: c.at,
        firstTime: Math.min(v.runFirst, c.at),
        count: v.runTotal,
        title:
          l === undefined
            ? `${judged.calls} calls in an hour for ${key} (cap ${judged.limit})`
            : `${judged.calls} calls for ${key} in the hour from ${hour}, usually ${l.mean.toFixed(1)} (limit ${judged.limit})`,
        ...(c.source !== undefined ? { source: c.source } : {}),
        target: c.target,
        evidence: () => ({
          group: key,
          basis: judged.basis,
          callsLastHour: judged.calls,
          cap: judged.limit,
          hour,
          hourStart: isoTime(calendar.start(judged.period)),
          ...(l !== undefined ? { usual: { mean: round1(l.mean), sd: round1(l.sd), weeks: l.weeks } } : {}),
          dialled: v.numbers.top(20).map((x) => x.value),
          numbersTotal: v.numbers.distinct,
          outcomes: { ...v.outcomes },
          frames: [...v.frames],
          ...(v.records.length > 0 ? { cdrRecords: [...v.records] } : {}),
        }),
      });
    };

    return {
      onTick(t: number): void {
        if (t > now) now = t;
        watched.tick(t);
      },

      onAttempt(a: AuthAttempt): void {
        if (a.method !== 'INVITE') return;
        if (a.request !== undefined && a.request.toTag !== '') return;
        if (a.outcome !== 'accepted' && a.outcome !== 'open') return;
        if (a.time > wireSeen) wireSeen = a.time;
        const site = ctx.site;
        const c: Counted = {
          start: a.time,
          at: a.time,
          dialled: a.extension,
          outcome: a.outcome,
          frame: a.provenance.frame,
          cdr: undefined,
          source: { ip: a.srcIp, port: a.srcPort, transport: a.transport },
          target: a.dstIp !== '' ? { ip: a.dstIp, port: a.dstPort } : {},
          replayed: a.time <= wireRestored,
        };
        // Credentials sent to a provider are the trunk's account, not an extension's.
        const toTrunk = a.dstIp !== '' && site.isTrunk(a.dstIp);
        if (a.identity !== '' && !toTrunk)
          count(`extension ${escapeText(site.extensionOf(a.identity), 64)}`, 'extension', c);
        const src = a.srcIp;
        if (site.isTrunk(src)) count(`trunk ${src}`, 'trunk', c);
        else if (toTrunk) count(`trunk ${a.dstIp}`, 'trunk', c);
        if (src !== '' && !site.isPbx(src) && !site.isTrunk(src))
          count(`source ${sourceGroup(src)}`, 'source', c);
      },

      onCdrCall(call: CdrCall): void {
        // A call the PBX refused to route is prefix probing's to report, as a 404 on the wire.
        if (call.outcome === 'rejected') return;
        const at = cdrTime(call);
        if (at > cdrSeen) cdrSeen = at;
        const ext = cdrCallerIsExtension(call) ? cdrCaller(call) : '';
        const c: Counted = {
          start: call.start,
          at,
          dialled: call.dialled,
          outcome: call.outcome,
          frame: undefined,
          cdr: call,
          source: undefined,
          target: ext !== '' ? { extension: escapeText(ext, 64) } : {},
          replayed: at <= cdrRestored,
        };
        if (ext !== '') count(`extension ${escapeText(ext, 64)}`, 'extension', c);
        if (call.trunk !== undefined && call.trunk.trim() !== '')
          count(`trunk ${escapeText(call.trunk.trim(), 64)}`, 'trunk', c);
      },

      saveState(): unknown {
        const keys: unknown[] = [];
        for (const [key, b] of baselines.entries()) keys.push({ key, ...encodeBaseline(b) });
        return {
          format: CALL_VOLUME_STATE_FORMAT,
          version: CALL_VOLUME_STATE_VERSION,
          timeZone: calendar.timeZone,
          wireAsOf: finiteOrNull(Math.max(wireSeen, wireRestored)),
          cdrAsOf: finiteOrNull(Math.max(cdrSeen, cdrRestored)),
          watched: watched.toJSON(),
          keys,
        };
      },

      loadState(state: unknown): string | undefined {
        if (typeof state !== 'object' || state === null || Array.isArray(state)) return 'not an object';
        const s = state as Record<string, unknown>;
        if (s.format !== CALL_VOLUME_STATE_FORMAT) return `not a ${CALL_VOLUME_STATE_FORMAT} snapshot`;
        if (s.version !== CALL_VOLUME_STATE_VERSION)
          return `version ${escapeText(String(s.version), 20)}, expected ${CALL_VOLUME_STATE_VERSION}`;
        if (s.timeZone !== calendar.timeZone)
          return (
            `learned in time zone ${escapeText(String(s.timeZone), 64)}, the site is in ${calendar.timeZone} ` +
            'now (its hours of week would shift)'
          );
        const wireAsOf = timeOrNull(s.wireAsOf);
        const cdrAsOf = timeOrNull(s.cdrAsOf);
        if (wireAsOf === undefined || cdrAsOf === undefined) return 'bad snapshot times';
        const w = new WatchedTime(DETECT_VOLUME_MAX_SILENCE_MS, DETECT_VOLUME_MAX_GAPS);
        const why = w.restore(s.watched);
        if (why !== undefined) return why;
        const list = s.keys;
        if (!Array.isArray(list)) return 'no list of keys';
        if (list.length > DETECT_VOLUME_BASELINE_KEYS)
          return `${list.length} keys, more than ${DETECT_VOLUME_BASELINE_KEYS}`;
        const restored = newBaselines();
        for (let i = 0; i < list.length; i++) {
          const k: unknown = list[i];
          const key = typeof k === 'object' && k !== null ? (k as { key?: unknown }).key : undefined;
          if (typeof key !== 'string' || key.length > 200 || !/^(extension|trunk) ./.test(key))
            return `key ${i}: bad name`;
          if (restored.has(key)) return `key ${i}: listed twice`;
          const b = decodeBaseline(k, KEPT_HOURS + 2);
          if (typeof b === 'string') return `key ${i}: ${b}`;
          restored.touch(key, () => b);
        }
        // All checked: replace the state at once (a refused snapshot leaves nothing half-loaded).
        baselines = restored;
        watched = w;
        wireRestored = wireAsOf ?? -Infinity;
        cdrRestored = cdrAsOf ?? -Infinity;
        if (w.last > now) now = w.last;
        return undefined;
      },
    };
  },
};

function newBaselines(): BoundedTable<string, HourOfWeekBaseline> {
  return new BoundedTable<string, HourOfWeekBaseline>(
    'fraud.call-volume baselines',
    DETECT_VOLUME_BASELINE_KEYS,
  );
}

/** Counts one call in `period` of a flat [period, count, ...] list and returns the period's count;
 * only the newest KEPT_HOURS periods are kept. */
function addCount(a: number[], period: number): number {
  let i = a.length - 2;
  while (i >= 0 && a[i]! > period) i -= 2;
  let n = 1;
  if (i >= 0 && a[i] === period) n = ++a[i + 1]!;
  else a.splice(i + 2, 0, period, 1);
  const newest = a[a.length - 2]!;
  while (a.length > 0 && a[0]! <= newest - KEPT_HOURS) a.splice(0, 2);
  return n;
}

function periodCount(a: readonly number[], period: number): number {
  for (let i = a.length - 2; i >= 0; i -= 2) if (a[i] === period) return a[i + 1]!;
  return 0;
}

function positive(x: number | undefined, fallback: number): number {
  return x !== undefined && Number.isFinite(x) && x > 0 ? x : fallback;
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}

function finiteOrNull(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}

/** A snapshot time: a finite number or null (none); undefined when it is neither. */
function timeOrNull(x: unknown): number | null | undefined {
  if (x === null) return null;
  return typeof x === 'number' && Number.isFinite(x) ? x : undefined;
}
