/**
 * A learned hourly baseline by hour of week: how many calls one key (an extension, a trunk) makes in
 * each of the 168 hours of a week in the site's time zone, learned over weeks. fraud.call-volume
 * judges a key against it once the key has enough history, and against static caps before that.
 *
 * Each hour of week keeps an exponentially weighted mean and variance of the calls counted in that
 * hour, one observation a week (the weight of the newest week is `alpha`; the first weeks are plain
 * averages). Quiet hours are observations of zero. Hours nobody watched (the sensor was down, the
 * input had a long gap) are not observations at all, nor are hours the caller marked as an attack
 * (`taint`), so a fraud burst does not teach the baseline that it is normal.
 *
 * Hours are real hours aligned on the zone's local hour boundaries, numbered (a "period") so that
 * consecutive periods are consecutive hours whatever the daylight-saving rules do: on the night the
 * clocks go back two periods share one hour of week (both are learned there), on the night they go
 * forward one hour of week has no period that week (nothing is learned for it).
 */
import { zoneOffsetMs } from '../logs/time.js';

/** Hours in a week: the buckets of a baseline. */
export const HOURS_PER_WEEK = 168;

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
const DAY_NAMES = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'] as const;
/** Hours of week remembered per calendar (a ring over periods; every key of a site shares it). */
const CALENDAR_CACHE = 4096;
/** Weekly observations counted per hour of week (a saturating byte). */
const MAX_WEEKS = 255;

/**
 * The site's hours: numbered periods and their hour of week (0 = Monday 00:00 local, 167 = Sunday
 * 23:00) in an IANA time zone, read with Intl (src/logs/time.ts caches the zone offsets).
 */
export class HourCalendar {
  readonly timeZone: string;
  /** The sub-hour part of the zone's offset (India's 30 minutes), so periods start on local hours. */
  private readonly sub: number;
  private readonly tags = new Float64Array(CALENDAR_CACHE).fill(NaN);
  private readonly hows = new Int16Array(CALENDAR_CACHE);

  constructor(timeZone: string) {
    this.timeZone = timeZone;
    // A zone's sub-hour offset does not change with daylight saving (Lord Howe's half-hour shift
    // aside, whose periods are then off by 30 minutes half of the year).
    const off = zoneOffsetMs(timeZone, Date.UTC(2026, 0, 1));
    this.sub = ((off % HOUR_MS) + HOUR_MS) % HOUR_MS;
  }

  /** The period (hour) `time` falls in. */
  period(time: number): number {
    return Math.floor((time + this.sub) / HOUR_MS);
  }

  /** Event time at which `period` starts (it lasts an hour). */
  start(period: number): number {
    return period * HOUR_MS - this.sub;
  }

  /** The local hour of week `period` starts in: 0 (Monday 00:00) to 167 (Sunday 23:00). */
  hourOfWeek(period: number): number {
    const slot = ((period % CALENDAR_CACHE) + CALENDAR_CACHE) % CALENDAR_CACHE;
    if (this.tags[slot] === period) return this.hows[slot]!;
    const at = this.start(period);
    const local = at + zoneOffsetMs(this.timeZone, at);
    const day = Math.floor(local / DAY_MS);
    // 1970-01-01 was a Thursday: day 0 is weekday 3 counting from Monday.
    const weekday = (((day + 3) % 7) + 7) % 7;
    const how = weekday * 24 + Math.floor((local - day * DAY_MS) / HOUR_MS);
    this.tags[slot] = period;
    this.hows[slot] = how;
    return how;
  }

  /** `Sat 02:00` for the hour of week of `period`. */
  label(period: number): string {
    return hourOfWeekLabel(this.hourOfWeek(period));
  }
}

/** `Sat 02:00` for an hour of week (0 = Monday 00:00). */
export function hourOfWeekLabel(how: number): string {
  const h = how % 24;
  return `${DAY_NAMES[Math.floor(how / 24)] ?? '?'} ${h < 10 ? '0' : ''}${h}:00`;
}

/**
 * Event time that somebody watched: from the first event to the latest, less every silence longer
 * than `maxSilenceMs` (no input at all: the sensor was down, a file set has a hole). At most
 * `maxGaps` silences are kept; when one more comes, the oldest is dropped and the watched time then
 * starts after it (nothing older is learned).
 */
export class WatchedTime {
  first = NaN;
  last = NaN;
  /** Silences as flat [from, to, from, to, ...], oldest first. */
  private gaps: number[] = [];

  constructor(
    private readonly maxSilenceMs: number,
    private readonly maxGaps: number,
  ) {}

  /** Event time moved to `time` (a no-op when it does not move forward). */
  tick(time: number): void {
    if (!Number.isFinite(time)) return;
    if (Number.isNaN(this.last)) {
      this.first = time;
      this.last = time;
      return;
    }
    if (time <= this.last) return;
    if (time - this.last > this.maxSilenceMs) {
      if (this.gaps.length >= this.maxGaps * 2) {
        this.first = this.gaps[1]!;
        this.gaps.splice(0, 2);
      }
      this.gaps.push(this.last, time);
    }
    this.last = time;
  }

  /** True when all of [from, to) was watched. */
  watched(from: number, to: number): boolean {
    if (Number.isNaN(this.first) || from < this.first || to > this.last) return false;
    const g = this.gaps;
    for (let i = 0; i < g.length; i += 2) if (from < g[i + 1]! && to > g[i]!) return false;
    return true;
  }

  /** Silences kept (for tests and evidence). */
  get gapCount(): number {
    return this.gaps.length / 2;
  }

  /** The state as JSON (`first`, `last`, `gaps`). */
  toJSON(): { first: number | null; last: number | null; gaps: number[] } {
    const n = (x: number): number | null => (Number.isNaN(x) ? null : x);
    return { first: n(this.first), last: n(this.last), gaps: [...this.gaps] };
  }

  /** Restores `toJSON`'s value; returns why it was refused (the state is then unchanged). */
  restore(j: unknown): string | undefined {
    if (typeof j !== 'object' || j === null) return 'watched time is not an object';
    const { first, last, gaps } = j as Record<string, unknown>;
    const time = (x: unknown): x is number | null =>
      x === null || (typeof x === 'number' && Number.isFinite(x));
    if (!time(first) || !time(last) || (first === null) !== (last === null))
      return 'watched time has bad bounds';
    if (first !== null && last !== null && first > last) return 'watched time ends before it starts';
    if (!Array.isArray(gaps) || gaps.length % 2 !== 0 || gaps.length > this.maxGaps * 2)
      return 'watched time has a bad list of silences';
    let prev = -Infinity;
    for (const g of gaps as unknown[]) {
      if (typeof g !== 'number' || !Number.isFinite(g) || g < prev) return 'watched time has a bad silence';
      prev = g;
    }
    this.first = first ?? NaN;
    this.last = last ?? NaN;
    this.gaps = [...(gaps as number[])];
    return undefined;
  }
}

/** How a baseline learns and when it is trusted (fraud.call-volume's thresholds). */
export interface BaselineSettings {
  /** Weight of the newest week in each hour of week's mean and variance (0 < alpha ≤ 1). */
  readonly alpha: number;
  /** Weeks an hour of week must have been observed in, and weeks of watched time of the key, before
   * the key is judged by its baseline in that hour. */
  readonly minWeeks: number;
  /** Calls the key must have made in its learned history before its baseline is trusted. */
  readonly historyCalls: number;
  /** The limit is the mean plus this many standard deviations... */
  readonly sigmas: number;
  /** ...and never below this many calls in the hour. */
  readonly floor: number;
  /** Quiet hours learned at once when a key calls again after a long quiet (older ones are skipped:
   * by then a zero-weighted week barely moves the mean). */
  readonly maxFillHours: number;
}

/** What a learned hour of week allows. */
export interface LearnedLimit {
  /** Calls in the hour at which it is reported: more than mean + sigmas·sd, and at least the floor. */
  readonly limit: number;
  readonly mean: number;
  /** The standard deviation used: the learned one, but at least √mean (Poisson) and at least 1. */
  readonly sd: number;
  /** Weeks this hour of week was observed in. */
  readonly weeks: number;
  readonly hourOfWeek: number;
}

/**
 * One key's learned calls per hour of week, and its calls in the hours not yet learned (`pending`:
 * an hour is learned once event time has passed its end plus the lateness the caller allows, so
 * late call records still land in their hour). Memory: 168 × (4 + 4 + 1) bytes of typed arrays, a
 * few pending hours and some fields: about 1.8 KB per key.
 */
export class HourOfWeekBaseline {
  readonly mean = new Float32Array(HOURS_PER_WEEK);
  readonly variance = new Float32Array(HOURS_PER_WEEK);
  readonly weeks = new Uint8Array(HOURS_PER_WEEK);
  /** The last period learned (or skipped); later ones are pending. */
  folded: number;
  /** Periods learned (watched and not tainted). */
  watchedHours = 0;
  /** Calls in the periods learned. */
  calls = 0;
  /** Pending periods with calls, as flat [period, count, ...], ascending. */
  pending: number[] = [];
  /** Periods not to learn (an attack and its tail), inclusive; NaN when none. */
  taintFrom = NaN;
  taintTo = NaN;
  /** Restored from a snapshot: calls the snapshot already counted are not counted again. */
  restored = false;

  /** A baseline whose history starts at `firstPeriod`. */
  constructor(firstPeriod: number) {
    this.folded = firstPeriod - 1;
  }

  /**
   * Counts one call started in `period` and returns the period it was counted in: `period` itself,
   * or, for a call reported after its hour was learned, the oldest pending period.
   */
  add(period: number): number {
    const p = period > this.folded ? period : this.folded + 1;
    const a = this.pending;
    let i = a.length - 2;
    while (i >= 0 && a[i]! > p) i -= 2;
    if (i >= 0 && a[i] === p) a[i + 1]!++;
    else a.splice(i + 2, 0, p, 1);
    return p;
  }

  /** Calls pending in `period` (0 when none or already learned). */
  count(period: number): number {
    const a = this.pending;
    for (let i = a.length - 2; i >= 0; i -= 2) if (a[i] === period) return a[i + 1]!;
    return 0;
  }

  /** Marks periods `from`..`to` as not to be learned. */
  taint(from: number, to: number): void {
    // A taint that is all learned past is stale: replace it rather than stretch it over weeks. A
    // live one lies within the pending hours, so the union stays a few hours long.
    if (!Number.isNaN(this.taintTo) && this.taintTo > this.folded) {
      this.taintFrom = Math.min(this.taintFrom, from);
      this.taintTo = Math.max(this.taintTo, to);
    } else {
      this.taintFrom = from;
      this.taintTo = to;
    }
  }

  /** True when `period` is marked not to be learned. */
  tainted(period: number): boolean {
    return period >= this.taintFrom && period <= this.taintTo;
  }

  /**
   * Learns every pending period up to `upTo`: its calls (zero when it had none) become one weekly
   * observation of its hour of week, unless it was not watched or is tainted.
   */
  fold(upTo: number, calendar: HourCalendar, watched: WatchedTime, s: BaselineSettings): void {
    if (upTo <= this.folded) return;
    let from = this.folded + 1;
    if (upTo - from + 1 > s.maxFillHours) from = upTo - s.maxFillHours + 1;
    const a = this.pending;
    let k = 0;
    // Pending calls in periods skipped by the fill bound are dropped unlearned.
    while (k < a.length && a[k]! < from) k += 2;
    for (let p = from; p <= upTo; p++) {
      let n = 0;
      if (k < a.length && a[k] === p) {
        n = a[k + 1]!;
        k += 2;
      }
      if (this.tainted(p)) continue;
      const start = calendar.start(p);
      if (!watched.watched(start, start + HOUR_MS)) continue;
      this.observe(calendar.hourOfWeek(p), n, s.alpha);
      this.watchedHours++;
      this.calls += n;
    }
    a.splice(0, k);
    this.folded = upTo;
  }

  /** One weekly observation `x` of hour of week `how` (exponentially weighted mean and variance). */
  private observe(how: number, x: number, alpha: number): void {
    const n = Math.min(this.weeks[how]! + 1, MAX_WEEKS);
    // The first weeks are plain averages, so a young baseline is not dominated by its first week.
    const w = Math.max(alpha, 1 / n);
    const mean = this.mean[how]!;
    const diff = x - mean;
    const incr = w * diff;
    this.mean[how] = mean + incr;
    this.variance[how] = (1 - w) * (this.variance[how]! + diff * incr);
    this.weeks[how] = n;
  }

  /**
   * What the baseline allows in `period`, or undefined while it is too young to be trusted there:
   * fewer than `minWeeks` observations of its hour of week, fewer than `minWeeks` weeks of watched
   * time, or fewer than `historyCalls` calls learned.
   */
  limit(period: number, calendar: HourCalendar, s: BaselineSettings): LearnedLimit | undefined {
    const how = calendar.hourOfWeek(period);
    const weeks = this.weeks[how]!;
    if (weeks < s.minWeeks || this.watchedHours < s.minWeeks * HOURS_PER_WEEK || this.calls < s.historyCalls)
      return undefined;
    const mean = this.mean[how]!;
    const sd = Math.max(Math.sqrt(Math.max(0, this.variance[how]!)), Math.sqrt(mean), 1);
    const limit = Math.max(s.floor, Math.floor(mean + s.sigmas * sd) + 1);
    return { limit, mean, sd, weeks, hourOfWeek: how };
  }
}

/** A baseline as JSON (one key of a snapshot): typed arrays as base64 of little-endian values. */
export interface BaselineJson {
  readonly folded: number;
  readonly watchedHours: number;
  readonly calls: number;
  readonly pending: number[];
  readonly taint: [number, number] | null;
  readonly mean: string;
  readonly variance: string;
  readonly weeks: string;
}

/** The baseline as JSON. */
export function encodeBaseline(b: HourOfWeekBaseline): BaselineJson {
  return {
    folded: b.folded,
    watchedHours: b.watchedHours,
    calls: b.calls,
    pending: [...b.pending],
    taint: Number.isNaN(b.taintFrom) ? null : [b.taintFrom, b.taintTo],
    mean: floatsToBase64(b.mean),
    variance: floatsToBase64(b.variance),
    weeks: Buffer.from(b.weeks.buffer, b.weeks.byteOffset, b.weeks.byteLength).toString('base64'),
  };
}

/** A baseline from `encodeBaseline`'s JSON, or why it is refused (never throws). */
export function decodeBaseline(j: unknown, maxPending: number): HourOfWeekBaseline | string {
  if (typeof j !== 'object' || j === null) return 'not an object';
  const o = j as Record<string, unknown>;
  if (!isInt(o.folded)) return 'bad folded period';
  if (!isInt(o.watchedHours) || o.watchedHours < 0) return 'bad watched hours';
  if (!isInt(o.calls) || o.calls < 0) return 'bad call count';
  const pending = o.pending;
  if (!Array.isArray(pending) || pending.length % 2 !== 0 || pending.length > maxPending * 2)
    return 'bad pending hours';
  let prev = o.folded;
  for (let i = 0; i < pending.length; i += 2) {
    const p: unknown = pending[i];
    const n: unknown = pending[i + 1];
    if (!isInt(p) || p <= prev || !isInt(n) || n < 1) return 'bad pending hour';
    prev = p;
  }
  let taint: [number, number] | undefined;
  if (o.taint !== null) {
    const t = o.taint;
    if (!Array.isArray(t) || t.length !== 2 || !isInt(t[0]) || !isInt(t[1]) || t[0] > t[1])
      return 'bad tainted hours';
    taint = [t[0], t[1]];
  }
  const mean = base64ToFloats(o.mean);
  const variance = base64ToFloats(o.variance);
  if (mean === undefined || variance === undefined) return 'bad mean or variance';
  if (typeof o.weeks !== 'string') return 'bad weeks';
  const weeks = Buffer.from(o.weeks, 'base64');
  if (weeks.length !== HOURS_PER_WEEK) return 'bad weeks';
  const b = new HourOfWeekBaseline(o.folded + 1);
  b.watchedHours = o.watchedHours;
  b.calls = o.calls;
  b.pending = pending as number[];
  if (taint !== undefined) [b.taintFrom, b.taintTo] = taint;
  b.mean.set(mean);
  b.variance.set(variance);
  b.weeks.set(weeks);
  b.restored = true;
  return b;
}

function isInt(x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x);
}

function floatsToBase64(a: Float32Array): string {
  const buf = Buffer.allocUnsafe(a.length * 4);
  for (let i = 0; i < a.length; i++) buf.writeFloatLE(Math.max(0, a[i]!), i * 4);
  return buf.toString('base64');
}

/** HOURS_PER_WEEK finite, non-negative floats from base64, or undefined. */
function base64ToFloats(s: unknown): Float32Array | undefined {
  if (typeof s !== 'string') return undefined;
  const buf = Buffer.from(s, 'base64');
  if (buf.length !== HOURS_PER_WEEK * 4) return undefined;
  const out = new Float32Array(HOURS_PER_WEEK);
  for (let i = 0; i < HOURS_PER_WEEK; i++) {
    const v = buf.readFloatLE(i * 4);
    if (!Number.isFinite(v) || v < 0) return undefined;
    out[i] = v;
  }
  return out;
}
