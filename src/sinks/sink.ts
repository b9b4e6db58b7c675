/**
 * Alert sinks and the runner that feeds them from the store's outbox.
 *
 * The store commits every alert revision first and numbers it; a sink only ever sees what the
 * outbox gives it after its own cursor, and its cursor moves only once a batch is sent (or given
 * up on), so a sink that is down loses nothing a restart cannot re-send. The packet path only
 * calls `notify()`, which schedules work and returns: reading the outbox and all sink I/O happen
 * on later turns of the event loop.
 */
import { isSeverity, severityRank, type AlertJson, type Severity } from '../core/alert.js';
import {
  SINK_BATCH_MAX_ALERTS,
  SINK_CLOSE_DEADLINE_MS,
  SINK_MAX_ATTEMPTS,
  SINK_QUEUE_MAX_ALERTS,
  SINK_RETRY_AFTER_MAX_MS,
  SINK_RETRY_BASE_MS,
  SINK_RETRY_MAX_MS,
  SINK_SEND_TIMEOUT_MS,
} from '../config/limits.js';

/** One committed alert revision and its sequence number in the store. */
export interface OutboxEntry {
  readonly seq: number;
  readonly alert: AlertJson;
}

/** What the runner needs of the store: committed revisions in order, and a cursor per sink. */
export interface AlertOutbox {
  /** Up to `limit` revisions with a sequence number above `seq`, in increasing order. */
  readAfter(seq: number, limit: number): OutboxEntry[];
  /** The last sequence number the sink is done with (0 when it has none yet). */
  cursor(sink: string): number;
  /** Records that the sink is done with every revision up to `seq`. */
  setCursor(sink: string, seq: number): void;
}

/** What a sink does when its queue is full: stop reading the outbox, or evict its oldest waiting. */
export type OverflowPolicy = 'wait' | 'drop-oldest';

/** A destination for alert revisions (stdout, a file, syslog, a webhook, email). */
export interface AlertSink {
  /** Unique among the runner's sinks: it names the cursor in the store and the metrics series. */
  readonly name: string;
  /** Delivers a batch; rejects to ask for a retry (see `SinkError` for retry hints). */
  send(batch: readonly AlertJson[]): Promise<void>;
  /** Flushes and releases the sink's resources. */
  close(): Promise<void>;
  /** Revisions the sink wants; the others are skipped (the cursor still moves past them). */
  accepts?(a: AlertJson): boolean;
  /** Largest batch for one `send` (defaults to SINK_BATCH_MAX_ALERTS). */
  readonly batchMax?: number | undefined;
  /** Time to wait after the first waiting revision so a batch gathers more (0: send at once). */
  readonly lingerMs?: number | undefined;
  /** Defaults to `drop-oldest`. */
  readonly overflow?: OverflowPolicy | undefined;
}

/** A failed send with hints for the runner: whether to retry, and not before when. */
export class SinkError extends Error {
  constructor(
    message: string,
    /** False for a rejection that a retry cannot fix (an HTTP 400): the batch is dropped. */
    readonly retryable: boolean,
    /** The receiver's Retry-After, in milliseconds. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'SinkError';
  }
}

/** A filter on severity and rule ids, shared by every sink's configuration. */
export interface AlertFilter {
  readonly minSeverity?: Severity;
  /** Rule ids or prefixes ending in `.` or `.*` (`auth.*`); empty or absent: all rules. */
  readonly rules?: readonly string[];
}

/** The `accepts` function for a filter. */
export function alertFilter(f: AlertFilter): (a: AlertJson) => boolean {
  const min = f.minSeverity === undefined ? 0 : severityRank(f.minSeverity);
  const exact = new Set<string>();
  const prefixes: string[] = [];
  for (const r of f.rules ?? []) {
    if (r.endsWith('.*')) prefixes.push(r.slice(0, -1));
    else if (r.endsWith('.')) prefixes.push(r);
    else exact.add(r);
  }
  const all = exact.size === 0 && prefixes.length === 0;
  return (a) => {
    const rank = isSeverity(a.severity) ? severityRank(a.severity) : 0;
    if (rank < min) return false;
    return all || exact.has(a.rule) || prefixes.some((p) => a.rule.startsWith(p));
  };
}

/** Counters of one sink (monotonic, except `queueDepth` and `cursor`). */
export interface SinkStats {
  readonly name: string;
  /** Revisions delivered. */
  sent: number;
  /** Failed attempts (one per failed `send` call). */
  failed: number;
  /** Revisions given up on: batch out of attempts or rejected, or evicted from a full queue. */
  dropped: number;
  /** Attempts scheduled again after a failure. */
  retried: number;
  /** Revisions the sink's filter skipped. */
  filtered: number;
  /** Outbox reads that threw (retried later). */
  readErrors: number;
  /** Revisions waiting plus in flight. */
  queueDepth: number;
  /** The sink's cursor in the outbox. */
  cursor: number;
}

/** Timer functions, injectable so tests control time. */
export interface RunnerClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  /** Uniform in [0, 1): the jitter source. */
  random(): number;
}

/** Options of `SinkRunner`. */
export interface SinkRunnerOptions {
  readonly clock?: Partial<RunnerClock>;
  readonly queueMax?: number;
  readonly maxAttempts?: number;
  readonly retryBaseMs?: number;
  readonly retryMaxMs?: number;
  readonly sendTimeoutMs?: number;
  /** Called with errors the runner swallows (sink failures, outbox read errors), for logging. */
  readonly onError?: (sink: string, err: unknown) => void;
  /** Alerts no sink may deliver (suppressed ones): counted as filtered, the cursor moves past them. */
  readonly withhold?: (a: AlertJson) => boolean;
}

/** The state the runner keeps per sink. */
interface Lane {
  readonly sink: AlertSink;
  readonly accepts: (a: AlertJson) => boolean;
  readonly batchMax: number;
  readonly lingerMs: number;
  readonly overflow: OverflowPolicy;
  readonly stats: SinkStats;
  /** Waiting revisions, oldest first. */
  queue: OutboxEntry[];
  /** Highest sequence number read from the outbox. */
  readPos: number;
  inflight: OutboxEntry[] | undefined;
  attempt: number;
  /** A pump (read, then send if free) is scheduled. */
  pumpTimer: unknown;
  /** A retry of the in-flight batch, or the end of a linger, is scheduled. */
  timer: unknown;
  timerKind: 'none' | 'linger' | 'retry';
  /** The in-flight attempt's timeout. */
  sendTimer: unknown;
  /** When the oldest waiting revision entered the queue (for linger). */
  waitingSince: number;
  /** More may be waiting in the outbox (a `wait` lane that filled up). */
  more: boolean;
}

const defaultClock: RunnerClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
  random: () => Math.random(),
};

/**
 * Feeds each sink from the outbox: a bounded queue per sink, batches, a cursor that moves only
 * after success, bounded retries with exponential backoff and jitter, and a drain on close.
 *
 * Give-up policy: a batch that still fails after `maxAttempts`, or that the receiver rejects as
 * unfixable (`SinkError.retryable === false`), is counted in `dropped` and the cursor moves past
 * it; otherwise one alert a receiver always refuses would stop that sink forever. The store still
 * holds the revision.
 */
export class SinkRunner {
  private readonly lanes: Lane[] = [];
  private readonly clock: RunnerClock;
  private readonly queueMax: number;
  private readonly maxAttempts: number;
  private readonly retryBaseMs: number;
  private readonly retryMaxMs: number;
  private readonly sendTimeoutMs: number;
  private readonly onError: ((sink: string, err: unknown) => void) | undefined;
  private closing = false;
  private closed = false;
  /** Resolvers waiting for a lane to go idle (close). */
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly outbox: AlertOutbox,
    sinks: readonly AlertSink[],
    opts: SinkRunnerOptions = {},
  ) {
    const c = opts.clock;
    // Bound one by one: a clock may be a class instance whose methods live on its prototype.
    this.clock = {
      now: c?.now?.bind(c) ?? defaultClock.now,
      setTimeout: c?.setTimeout?.bind(c) ?? defaultClock.setTimeout,
      clearTimeout: c?.clearTimeout?.bind(c) ?? defaultClock.clearTimeout,
      random: c?.random?.bind(c) ?? defaultClock.random,
    };
    this.queueMax = Math.max(1, opts.queueMax ?? SINK_QUEUE_MAX_ALERTS);
    this.maxAttempts = Math.max(1, opts.maxAttempts ?? SINK_MAX_ATTEMPTS);
    this.retryBaseMs = opts.retryBaseMs ?? SINK_RETRY_BASE_MS;
    this.retryMaxMs = opts.retryMaxMs ?? SINK_RETRY_MAX_MS;
    this.sendTimeoutMs = opts.sendTimeoutMs ?? SINK_SEND_TIMEOUT_MS;
    this.onError = opts.onError;
    const names = new Set<string>();
    for (const sink of sinks) {
      if (names.has(sink.name)) throw new Error(`duplicate sink name ${sink.name}`);
      names.add(sink.name);
      const cursor = outbox.cursor(sink.name);
      this.lanes.push({
        sink,
        accepts: acceptsFor(sink, opts.withhold),
        batchMax: Math.max(1, Math.min(sink.batchMax ?? SINK_BATCH_MAX_ALERTS, this.queueMax)),
        lingerMs: Math.max(0, sink.lingerMs ?? 0),
        overflow: sink.overflow ?? 'drop-oldest',
        stats: {
          name: sink.name,
          sent: 0,
          failed: 0,
          dropped: 0,
          retried: 0,
          filtered: 0,
          readErrors: 0,
          queueDepth: 0,
          cursor,
        },
        queue: [],
        readPos: cursor,
        inflight: undefined,
        attempt: 0,
        pumpTimer: undefined,
        timer: undefined,
        timerKind: 'none',
        sendTimer: undefined,
        waitingSince: 0,
        more: true,
      });
    }
  }

  /** Names of the sinks, in order. */
  get sinkNames(): string[] {
    return this.lanes.map((l) => l.sink.name);
  }

  /**
   * New revisions were committed. Cheap and never blocking: it only schedules a pump on each lane
   * that has none pending (one timer per lane at most), so it is safe on the packet path.
   */
  notify(): void {
    if (this.closed) return;
    for (const lane of this.lanes) {
      lane.more = true;
      this.schedulePump(lane, 0);
    }
  }

  /** A snapshot of every sink's counters (for metrics and tests). */
  stats(): SinkStats[] {
    return this.lanes.map((l) => ({ ...l.stats, queueDepth: depth(l) }));
  }

  /**
   * Stops taking new work, tries to send what is queued or waiting in the outbox until
   * `deadlineMs` passes, then closes every sink. Resolves true when everything was sent; what was
   * not stays in the outbox behind the cursors and goes out on the next start.
   */
  async close(deadlineMs: number = SINK_CLOSE_DEADLINE_MS): Promise<boolean> {
    if (this.closed) return true;
    this.closing = true;
    for (const lane of this.lanes) {
      lane.more = true;
      // A lingering batch goes now; a retry keeps its backoff (the receiver asked for it).
      if (lane.timerKind === 'linger') this.cancel(lane);
      this.schedulePump(lane, 0);
    }
    let timer: unknown;
    const deadline = new Promise<false>((resolve) => {
      timer = this.clock.setTimeout(() => resolve(false), deadlineMs);
    });
    const drained = await Promise.race([this.allIdle().then(() => true as const), deadline]);
    this.clock.clearTimeout(timer);
    this.closed = true;
    for (const lane of this.lanes) {
      this.cancel(lane);
      this.clock.clearTimeout(lane.pumpTimer);
      lane.pumpTimer = undefined;
      this.clock.clearTimeout(lane.sendTimer);
      lane.sendTimer = undefined;
    }
    for (const lane of this.lanes) {
      try {
        await lane.sink.close();
      } catch (err) {
        this.report(lane, err);
      }
    }
    return drained;
  }

  private allIdle(): Promise<void> {
    return new Promise((resolve) => {
      const check = (): void => {
        if (this.lanes.every(idle)) resolve();
        else this.idleWaiters.push(check);
      };
      check();
    });
  }

  private wakeIdleWaiters(): void {
    const ws = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of ws) w();
  }

  /** At most one pump timer per lane, so notify() costs nothing more when one is pending. */
  private schedulePump(lane: Lane, ms: number): void {
    if (lane.pumpTimer !== undefined || this.closed) return;
    lane.pumpTimer = this.clock.setTimeout(() => {
      lane.pumpTimer = undefined;
      this.pump(lane);
    }, ms);
  }

  private schedule(lane: Lane, kind: 'linger' | 'retry', ms: number): void {
    this.cancel(lane);
    lane.timerKind = kind;
    lane.timer = this.clock.setTimeout(() => {
      lane.timer = undefined;
      lane.timerKind = 'none';
      if (kind === 'retry') this.attemptSend(lane);
      else this.pump(lane, true);
    }, ms);
  }

  private cancel(lane: Lane): void {
    if (lane.timer !== undefined) this.clock.clearTimeout(lane.timer);
    lane.timer = undefined;
    lane.timerKind = 'none';
  }

  /** Reads what fits from the outbox, then sends a batch if the lane is free. */
  private pump(lane: Lane, lingerDone = false): void {
    if (this.closed) return;
    this.pull(lane);
    if (lane.inflight !== undefined || lane.timerKind === 'retry') return;
    if (lane.queue.length === 0) {
      this.settleCursor(lane);
      this.wakeIdleWaiters();
      return;
    }
    const now = this.clock.now();
    if (!this.closing && !lingerDone && lane.lingerMs > 0 && lane.queue.length < lane.batchMax) {
      const wait = lane.waitingSince + lane.lingerMs - now;
      if (wait > 0) {
        if (lane.timerKind !== 'linger') this.schedule(lane, 'linger', wait);
        return;
      }
    }
    this.cancel(lane);
    lane.inflight = lane.queue.splice(0, lane.batchMax);
    if (lane.queue.length > 0) lane.waitingSince = now;
    lane.attempt = 0;
    this.attemptSend(lane);
  }

  private pull(lane: Lane): void {
    if (!lane.more) return;
    const room = this.queueMax - depth(lane);
    const limit = lane.overflow === 'wait' ? room : this.queueMax;
    if (limit <= 0) return;
    let rows: OutboxEntry[];
    try {
      rows = this.outbox.readAfter(lane.readPos, limit);
    } catch (err) {
      lane.stats.readErrors++;
      this.report(lane, err);
      // Try again later; `more` stays set.
      this.schedulePump(lane, this.retryBaseMs);
      return;
    }
    lane.more = rows.length >= limit;
    const wasEmpty = lane.queue.length === 0;
    for (const row of rows) {
      if (row.seq <= lane.readPos) continue;
      lane.readPos = row.seq;
      if (!lane.accepts(row.alert)) {
        lane.stats.filtered++;
        continue;
      }
      lane.queue.push(row);
    }
    if (wasEmpty && lane.queue.length > 0) lane.waitingSince = this.clock.now();
    // drop-oldest: keep the newest; the evicted stay in the store, behind no cursor once we move on.
    const over = depth(lane) - this.queueMax;
    if (over > 0) {
      lane.queue.splice(0, over);
      lane.stats.dropped += over;
    }
    // Catch up on a backlog one read per turn of the event loop, never in one long loop.
    if (lane.more && lane.overflow === 'drop-oldest') this.schedulePump(lane, 0);
  }

  private attemptSend(lane: Lane): void {
    const batch = lane.inflight;
    if (batch === undefined || this.closed) return;
    lane.attempt++;
    let settled = false;
    // `done` is defined below; the timer can only fire after this method returns.
    const timer = this.clock.setTimeout(
      () => done(new SinkError(`send timed out after ${this.sendTimeoutMs} ms`, true)),
      this.sendTimeoutMs,
    );
    const done = (err: unknown): void => {
      if (settled) return;
      settled = true;
      this.clock.clearTimeout(timer);
      if (lane.sendTimer === timer) lane.sendTimer = undefined;
      if (err === undefined) this.succeeded(lane, batch);
      else this.failedAttempt(lane, batch, err);
    };
    lane.sendTimer = timer;
    let p: Promise<void>;
    try {
      p = lane.sink.send(batch.map((e) => e.alert));
    } catch (err) {
      done(err ?? new Error('send threw'));
      return;
    }
    p.then(
      () => done(undefined),
      (err: unknown) => done(err ?? new Error('send failed')),
    );
  }

  private succeeded(lane: Lane, batch: OutboxEntry[]): void {
    lane.stats.sent += batch.length;
    this.finish(lane, batch);
  }

  private failedAttempt(lane: Lane, batch: OutboxEntry[], err: unknown): void {
    lane.stats.failed++;
    this.report(lane, err);
    const retryable = !(err instanceof SinkError) || err.retryable;
    if (retryable && lane.attempt < this.maxAttempts && !this.closed) {
      lane.stats.retried++;
      let delay = this.backoff(lane.attempt);
      if (err instanceof SinkError && err.retryAfterMs !== undefined) {
        delay = Math.max(delay, Math.min(err.retryAfterMs, SINK_RETRY_AFTER_MAX_MS));
      }
      this.schedule(lane, 'retry', delay);
      return;
    }
    lane.stats.dropped += batch.length;
    this.finish(lane, batch);
  }

  /** Full jitter over the upper half: [d/2, d) with d = base·2^(attempt−1), capped. */
  private backoff(attempt: number): number {
    const d = Math.min(this.retryMaxMs, this.retryBaseMs * 2 ** Math.min(attempt - 1, 30));
    return Math.round(d / 2 + (d / 2) * this.clock.random());
  }

  private finish(lane: Lane, batch: OutboxEntry[]): void {
    lane.inflight = undefined;
    lane.attempt = 0;
    const last = batch[batch.length - 1];
    if (last !== undefined) this.moveCursor(lane, last.seq);
    if (this.closed) return;
    // Next batch on a later turn, so a sink that settles synchronously cannot recurse deeply.
    this.schedulePump(lane, 0);
    this.wakeIdleWaiters();
  }

  /** With nothing queued or in flight, the cursor may move past filtered or evicted revisions. */
  private settleCursor(lane: Lane): void {
    if (lane.inflight === undefined && lane.queue.length === 0) this.moveCursor(lane, lane.readPos);
  }

  private moveCursor(lane: Lane, seq: number): void {
    if (seq <= lane.stats.cursor) return;
    lane.stats.cursor = seq;
    try {
      this.outbox.setCursor(lane.sink.name, seq);
    } catch (err) {
      // The cursor is re-written with the next batch; at worst a restart re-sends.
      lane.stats.readErrors++;
      this.report(lane, err);
    }
  }

  private report(lane: Lane, err: unknown): void {
    if (this.onError === undefined) return;
    try {
      this.onError(lane.sink.name, err);
    } catch {
      // A logging hook must not break delivery.
    }
  }
}

function depth(l: Lane): number {
  return l.queue.length + (l.inflight?.length ?? 0);
}

function idle(l: Lane): boolean {
  return l.inflight === undefined && l.queue.length === 0 && !l.more && l.pumpTimer === undefined;
}

/** A sink's own filter, after the runner-wide one. */
function acceptsFor(
  sink: AlertSink,
  withhold: ((a: AlertJson) => boolean) | undefined,
): (a: AlertJson) => boolean {
  const own = sink.accepts?.bind(sink);
  if (withhold === undefined) return own ?? (() => true);
  return (a) => !withhold(a) && (own === undefined || own(a));
}
