/**
 * Counting helpers every detector shares: per-key windows in event time, bounded distinct sets,
 * and the grouping of IPv6 sources by /64. All bounded; none reads the wall clock.
 */
import { COUNT_MAX_KEYS } from '../config/limits.js';
import { BoundedTable } from '../core/bounded-table.js';
import { StatusCounts } from '../core/counts.js';

/**
 * Windows looked at per hit for expiry (BoundedTable.sweep). A hit adds at most one key, so two
 * keep the sweep ahead of insertion: a window whose gap has passed leaves within about
 * size / 2 hits instead of holding its memory until a newer key evicts it. Over the hour of
 * bench/out/attack.pcap the authentication tables otherwise fill with the windows of attackers
 * long gone.
 */
export const WINDOW_SWEEP_PER_HIT = 2;

/** The state of one key's current window. */
export interface WindowState<S> {
  /** Event time of the first event of this window. */
  firstTime: number;
  lastTime: number;
  /** Events counted in this window. */
  count: number;
  readonly data: S;
}

/**
 * Per-key windows that close after `gapMs` of quiet (session windows): a key's count keeps growing
 * while events come closer than the gap and starts again after a pause. Bounded by a
 * frequency-admission table, so spoofed one-off keys cannot evict a busy key.
 */
export class KeyedWindows<S> {
  private readonly table: BoundedTable<string, WindowState<S>>;
  /** Time of the hit being counted, read by `fresh` (one creator for every hit, no closure each). */
  private hitTime = 0;
  private readonly fresh = (): WindowState<S> => ({
    firstTime: this.hitTime,
    lastTime: this.hitTime,
    count: 0,
    data: this.create(),
  });

  constructor(
    name: string,
    capacity: number,
    private readonly gapMs: number,
    private readonly create: () => S,
  ) {
    this.table = new BoundedTable(name, capacity);
  }

  /** Counts one event for `key` at `time` and returns its window, or undefined if refused. */
  hit(key: string, time: number): WindowState<S> | undefined {
    this.hitTime = time;
    const w = this.table.touch(key, this.fresh);
    this.table.sweep(WINDOW_SWEEP_PER_HIT, this.over);
    if (w === undefined) return undefined;
    if (time - w.lastTime > this.gapMs) {
      // A new window: replace the state rather than mutate, so detectors never see stale data.
      const fresh = { firstTime: time, lastTime: time, count: 1, data: this.create() };
      this.table.set(key, fresh);
      return fresh;
    }
    w.count++;
    if (time > w.lastTime) w.lastTime = time;
    return w;
  }

  /** True for a window whose gap has passed at the time of the hit being counted. */
  private readonly over = (w: WindowState<S>): boolean => this.hitTime - w.lastTime > this.gapMs;

  /** The current window of `key` without counting an event (undefined if none or expired). */
  peek(key: string, time: number): WindowState<S> | undefined {
    const w = this.table.get(key);
    if (w === undefined || time - w.lastTime > this.gapMs) return undefined;
    return w;
  }

  get size(): number {
    return this.table.size;
  }

  get stats(): { evictions: number; rejections: number } {
    return this.table.stats;
  }
}

/** A set that remembers up to `cap` distinct values and counts every distinct value it saw. */
export class CappedSet {
  // The first value is kept inline and the map made only for a second one: most keys of a spoofed
  // flood see one attempt, and a map per set per key was most of the authentication rules' memory
  // (bench/watch.ts, memory under a 1,000,000-source flood).
  private first: string | undefined = undefined;
  private firstCount = 0;
  private more: Map<string, number> | undefined = undefined;
  /** Distinct values seen, including those past the cap (exact while under the cap). */
  distinct = 0;

  constructor(private readonly cap: number) {}

  /** Adds one occurrence; returns true when the value is new. */
  add(v: string): boolean {
    if (this.first === v) {
      this.firstCount++;
      return false;
    }
    const more = this.more;
    if (more !== undefined) {
      const n = more.get(v);
      if (n !== undefined) {
        more.set(v, n + 1);
        return false;
      }
    }
    this.distinct++;
    if (this.first === undefined) {
      this.first = v;
      this.firstCount = 1;
    } else if (this.size < this.cap) (this.more ??= new Map()).set(v, 1);
    return true;
  }

  has(v: string): boolean {
    return this.first === v || (this.more?.has(v) ?? false);
  }

  /** Values remembered (at most the cap). */
  get size(): number {
    return (this.first === undefined ? 0 : 1) + (this.more?.size ?? 0);
  }

  /** Remembered values with their counts, most frequent first, at most `n`. */
  top(n: number): { value: string; count: number }[] {
    const all: [string, number][] = this.first === undefined ? [] : [[this.first, this.firstCount]];
    if (this.more !== undefined) for (const e of this.more) all.push(e);
    return all
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .slice(0, n)
      .map(([value, count]) => ({ value, count }));
  }
}

/**
 * Counts per SIP status like StatusCounts (same bound, same record), with the first status kept
 * inline and the table made only for a second: nearly every key of a spoofed flood sees one status,
 * and a Map per key was a fifth of an authentication rule's memory per key.
 */
export class StatusTally {
  private first = 0;
  private firstCount = 0;
  private more: StatusCounts | undefined = undefined;

  add(status: number): void {
    if (this.firstCount === 0 || this.first === status) {
      this.first = status;
      this.firstCount++;
      // The first status takes one of the COUNT_MAX_KEYS places.
    } else (this.more ??= new StatusCounts(COUNT_MAX_KEYS - 1)).add(status);
  }

  /** As StatusCounts.toRecord: integer-like keys enumerate in ascending order, `(other)` last. */
  toRecord(): Record<string, number> {
    const out = this.more?.toRecord() ?? {};
    if (this.firstCount > 0) out[String(this.first)] = this.firstCount;
    return out;
  }
}

/** The source group a rule counts by: the address itself for IPv4, its /64 for IPv6. */
export function sourceGroup(ip: string): string {
  if (!ip.includes(':')) return ip;
  const head = ip.split('::')[0] ?? '';
  const tail = ip.includes('::') ? (ip.split('::')[1] ?? '') : '';
  const left = head === '' ? [] : head.split(':');
  const right = tail === '' ? [] : tail.split(':');
  const groups = ip.includes('::')
    ? [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right]
    : left;
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

/** Keeps at most `n` frame numbers as evidence (the first ones: where the attack began). */
export function pushFrame(frames: number[], frame: number | undefined, n = 20): void {
  if (frame !== undefined && frames.length < n) frames.push(frame);
}

/** Two-bucket sliding-window rate of one key: the previous window's count weighted by how much of
 * it still overlaps, plus the current window's count (no per-event memory). */
export interface RateState {
  start: number;
  current: number;
  previous: number;
  /** Events since the key's first event in this run of activity (for evidence). */
  total: number;
  firstTime: number;
}

/** Counts one event at `time` into `r` and returns the sliding count over the last `windowMs`. */
export function slidingCount(r: RateState, time: number, windowMs: number): number {
  const elapsed = time - r.start;
  if (elapsed >= 2 * windowMs) {
    r.previous = 0;
    r.current = 0;
    r.start = time;
    r.total = 0;
    r.firstTime = time;
  } else if (elapsed >= windowMs) {
    r.previous = r.current;
    r.current = 0;
    r.start += windowMs;
  }
  r.current++;
  r.total++;
  const overlap = 1 - (time - r.start) / windowMs;
  return r.current + r.previous * Math.max(0, overlap);
}

/** A fresh rate state starting at `time`. */
export function newRate(time: number): RateState {
  return { start: time, current: 0, previous: 0, total: 0, firstTime: time };
}
