/** Shared fixtures of the sink tests: alerts, an in-memory outbox and a manual clock. */
import type { AlertJson, Severity } from '../../src/core/alert.js';
import type { AlertOutbox, OutboxEntry, RunnerClock } from '../../src/sinks/sink.js';

/** A plausible alert revision; `over` replaces fields. */
export function makeAlert(n: number, over: Partial<AlertJson> = {}): AlertJson {
  return {
    schemaVersion: 1,
    id: `a${n.toString(16).padStart(15, '0')}`,
    revision: 1,
    state: 'open',
    rule: 'auth.bruteforce',
    severity: 'high' as Severity,
    title: `Password guessing against extension 10${n % 10}`,
    site: 'default',
    sensor: 'pbx-eu-1',
    firstSeen: '2026-11-24T05:01:02.123Z',
    raisedAt: '2026-11-24T05:01:04.870Z',
    lastSeen: '2026-11-24T05:03:40.900Z',
    count: 57,
    source: { ip: '203.0.113.7', port: 5071, transport: 'udp', country: 'NL', asn: 14061 },
    target: { ip: '198.51.100.2', port: 5060, extension: '101', identity: '101' },
    evidence: { userAgent: 'friendly-scanner', methods: { REGISTER: 57 }, frames: [12, 14, 16] },
    remediation: 'Use long random passwords.',
    references: ['RFC 3261'],
    ...over,
  };
}

/** An outbox over an array, recording every cursor write. */
export class MemOutbox implements AlertOutbox {
  readonly rows: OutboxEntry[] = [];
  readonly cursors = new Map<string, number>();
  readonly cursorWrites: [string, number][] = [];
  reads = 0;
  failReads = 0;

  add(alert: AlertJson): number {
    const seq = (this.rows[this.rows.length - 1]?.seq ?? 0) + 1;
    this.rows.push({ seq, alert });
    return seq;
  }

  readAfter(seq: number, limit: number): OutboxEntry[] {
    this.reads++;
    if (this.failReads > 0) {
      this.failReads--;
      throw new Error('database is locked');
    }
    const out: OutboxEntry[] = [];
    for (const r of this.rows) {
      if (out.length >= limit) break;
      if (r.seq > seq) out.push(r);
    }
    return out;
  }

  cursor(sink: string): number {
    return this.cursors.get(sink) ?? 0;
  }

  setCursor(sink: string, seq: number): void {
    this.cursors.set(sink, seq);
    this.cursorWrites.push([sink, seq]);
  }
}

/** Lets pending promise callbacks and I/O callbacks run. */
export function settle(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}

/** A clock whose time moves only when the test says so. */
export class ManualClock implements RunnerClock {
  t = 0;
  private nextId = 1;
  readonly timers = new Map<number, { at: number; fn: () => void }>();
  rnd = 0.5;

  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.timers.set(id, { at: this.t + Math.max(0, ms), fn });
    return id;
  }
  clearTimeout(h: unknown): void {
    this.timers.delete(h as number);
  }
  random(): number {
    return this.rnd;
  }

  /** Runs every timer due within `ms`, in time order, letting promises settle between them. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    await settle();
    for (let guard = 0; guard < 100_000; guard++) {
      let best: [number, { at: number; fn: () => void }] | undefined;
      for (const e of this.timers)
        if (e[1].at <= end && (best === undefined || e[1].at < best[1].at)) best = e;
      if (best === undefined) break;
      this.timers.delete(best[0]);
      this.t = best[1].at;
      best[1].fn();
      await settle();
    }
    this.t = end;
    await settle();
  }
}

/** A promise with its resolvers outside. */
export function deferred(): { promise: Promise<void>; resolve: () => void; reject: (e: unknown) => void } {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<void>((a, b) => {
    resolve = a;
    reject = b;
  });
  return { promise, resolve, reject };
}
