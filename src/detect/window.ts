/**
 * Counting helpers every detector shares: per-key windows in event time, bounded distinct sets,
 * and the grouping of IPv6 sources by /64. All bounded; none reads the wall clock.
 */
import { COUNT_MAX_KEYS } from '../config/limits.js';
import { BoundedTable, hashKey } from '../core/bounded-table.js';
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

  /**
   * `drop`, when given, is told of every window state that leaves: evicted for a more frequent
   * key, swept after its gap, or replaced by a new window of the same key (a rule returns what the
   * state held to a shared budget there, e.g. `CappedSet.release`).
   */
  constructor(
    name: string,
    capacity: number,
    private readonly gapMs: number,
    private readonly create: () => S,
    private readonly drop?: (state: S) => void,
  ) {
    this.table = new BoundedTable(name, capacity);
    this.evicted = drop === undefined ? undefined : (_key, w) => drop(w.data);
  }

  private readonly evicted: ((key: string, w: WindowState<S>) => void) | undefined;

  /** Counts one event for `key` at `time` and returns its window, or undefined if refused. */
  hit(key: string, time: number): WindowState<S> | undefined {
    this.hitTime = time;
    const w = this.table.touch(key, this.fresh, this.evicted);
    this.table.sweep(WINDOW_SWEEP_PER_HIT, this.over);
    if (w === undefined) return undefined;
    if (time - w.lastTime > this.gapMs) {
      // A new window: replace the state rather than mutate, so detectors never see stale data.
      // (The sweep above may have taken the old one out already, and told `drop` then.)
      if (this.drop !== undefined && this.table.get(key) === w) this.drop(w.data);
      const fresh = { firstTime: time, lastTime: time, count: 1, data: this.create() };
      this.table.set(key, fresh);
      return fresh;
    }
    w.count++;
    if (time > w.lastTime) w.lastTime = time;
    return w;
  }

  /** True for a window whose gap has passed at the time of the hit being counted (it then leaves). */
  private readonly over = (w: WindowState<S>): boolean => {
    if (this.hitTime - w.lastTime <= this.gapMs) return false;
    this.drop?.(w.data);
    return true;
  };

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

/**
 * Values that the CappedSets of one owner (a rule's windows) may store together past their first,
 * on top of each set's own cap: per-key caps alone multiply (20,000 windows of 1,024 sources).
 * Sets give their values back when their window leaves (`CappedSet.release`).
 */
export class ListingBudget {
  /** Highest `peak` of any budget in this process (bench/heap.ts prints it). */
  static highestPeak = 0;
  /** Values stored now by the sets under this budget (beyond each set's first). */
  used = 0;
  /** Highest `used` so far. */
  peak = 0;
  /** Values a set did not store because the budget was spent. */
  refused = 0;

  constructor(readonly max: number) {}
}

/** A set that remembers up to `cap` distinct values and counts every distinct value it saw. */
export class CappedSet {
  // The first value is kept inline and the map made only for a second one: most keys of a spoofed
  // flood see one attempt, and a map per set per key was most of the authentication rules' memory
  // (bench/watch.ts, memory under a 1,000,000-source flood).
  private first: string | undefined = undefined;
  private firstCount = 0;
  private more: Map<string, number> | undefined = undefined;
  // Values not stored because the budget was spent, by one bit of their hash (64 bits, two words):
  // each is counted once, so a value seen again is not new again (linear counting; two values
  // sharing a bit count once).
  private spentLo = 0;
  private spentHi = 0;
  /**
   * Distinct values seen: exact while under the cap and the budget; past the cap every value not
   * stored counts (a repeat too); while the budget is spent, each bit above counts once.
   */
  distinct = 0;

  constructor(
    private readonly cap: number,
    private budget?: ListingBudget,
  ) {}

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
    if (this.first === undefined) {
      this.distinct++;
      this.first = v;
      this.firstCount = 1;
      return true;
    }
    if (this.size >= this.cap) {
      this.distinct++;
      return true;
    }
    const b = this.budget;
    if (b !== undefined) {
      if (b.used >= b.max) {
        b.refused++;
        const bit = hashKey(v) & 63;
        if (bit < 32) {
          if ((this.spentLo & (1 << bit)) !== 0) return false;
          this.spentLo |= 1 << bit;
        } else {
          if ((this.spentHi & (1 << (bit - 32))) !== 0) return false;
          this.spentHi |= 1 << (bit - 32);
        }
        this.distinct++;
        return true;
      }
      if (++b.used > b.peak) {
        b.peak = b.used;
        if (b.peak > ListingBudget.highestPeak) ListingBudget.highestPeak = b.peak;
      }
    }
    this.distinct++;
    (this.more ??= new Map()).set(v, 1);
    return true;
  }

  /** Gives the stored values back to the budget (the set's window left); idempotent. */
  release(): void {
    const b = this.budget;
    if (b === undefined) return;
    b.used -= this.more?.size ?? 0;
    this.budget = undefined;
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

/**
 * As `pushFrame` for a list made at the first frame (an array made empty grows to 17 slots at
 * its first push, and most keys of a flood see one frame): returns the list to keep.
 */
export function withFrame(
  frames: number[] | undefined,
  frame: number | undefined,
  n = 20,
): number[] | undefined {
  if (frame === undefined) return frames;
  if (frames === undefined) return [frame];
  if (frames.length < n) frames.push(frame);
  return frames;
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
