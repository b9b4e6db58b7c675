import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AlertJson } from '../../src/core/alert.js';
import {
  alertFilter,
  SinkError,
  SinkRunner,
  type AlertSink,
  type OverflowPolicy,
} from '../../src/sinks/sink.js';
import { deferred, makeAlert, ManualClock, MemOutbox, settle } from './helpers.js';

/** A sink whose behaviour the test scripts: each send takes the next outcome (default success). */
class ScriptedSink implements AlertSink {
  readonly batches: number[][] = [];
  outcomes: (() => Promise<void>)[] = [];
  fallback: () => Promise<void> = () => Promise.resolve();
  closed = false;
  constructor(
    readonly name: string,
    readonly batchMax?: number,
    readonly overflow?: OverflowPolicy,
    readonly lingerMs?: number,
  ) {}
  send(batch: readonly AlertJson[]): Promise<void> {
    this.batches.push(batch.map((a) => a.count));
    const next = this.outcomes.shift() ?? this.fallback;
    return next();
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

function fill(box: MemOutbox, n: number, start = 1): void {
  for (let i = 0; i < n; i++) box.add(makeAlert(start + i, { count: start + i }));
}

const fail = (): Promise<void> => Promise.reject(new Error('connection refused'));

test('sends everything and moves the cursor after success only', async () => {
  const box = new MemOutbox();
  const clock = new ManualClock();
  const sink = new ScriptedSink('s', 2);
  const gate = deferred();
  sink.outcomes.push(() => gate.promise);
  const r = new SinkRunner(box, [sink], { clock });
  fill(box, 5);
  r.notify();
  await clock.advance(0);
  assert.deepEqual(sink.batches, [[1, 2]]);
  assert.equal(box.cursor('s'), 0, 'no cursor move while the batch is in flight');
  assert.equal(r.stats()[0]?.queueDepth, 5);
  gate.resolve();
  await clock.advance(0);
  assert.deepEqual(sink.batches, [[1, 2], [3, 4], [5]]);
  assert.equal(box.cursor('s'), 5);
  assert.deepEqual(
    box.cursorWrites.map((w) => w[1]),
    [2, 4, 5],
  );
  const s = r.stats()[0];
  assert.equal(s?.sent, 5);
  assert.equal(s?.failed, 0);
  assert.equal(s?.queueDepth, 0);
});

test('starts from the stored cursor', async () => {
  const box = new MemOutbox();
  const clock = new ManualClock();
  fill(box, 4);
  box.cursors.set('s', 3);
  const sink = new ScriptedSink('s');
  const r = new SinkRunner(box, [sink], { clock });
  r.notify();
  await clock.advance(0);
  assert.deepEqual(sink.batches, [[4]]);
  assert.equal(box.cursor('s'), 4);
});

test('retries with exponential backoff and jitter, then succeeds', async () => {
  const box = new MemOutbox();
  const clock = new ManualClock();
  clock.rnd = 0.5;
  const sink = new ScriptedSink('s');
  sink.outcomes.push(fail, fail);
  const r = new SinkRunner(box, [sink], { clock, retryBaseMs: 100, retryMaxMs: 1000 });
  fill(box, 1);
  r.notify();
  await clock.advance(0);
  assert.equal(sink.batches.length, 1);
  // attempt 1 failed: d = 100, delay = 50 + 50·0.5 = 75
  await clock.advance(74);
  assert.equal(sink.batches.length, 1);
  assert.equal(box.cursor('s'), 0);
  await clock.advance(1);
  assert.equal(sink.batches.length, 2);
  // attempt 2 failed: d = 200, delay 150
  await clock.advance(149);
  assert.equal(sink.batches.length, 2);
  await clock.advance(1);
  assert.equal(sink.batches.length, 3);
  const s = r.stats()[0];
  assert.equal(s?.sent, 1);
  assert.equal(s?.failed, 2);
  assert.equal(s?.retried, 2);
  assert.equal(s?.dropped, 0);
  assert.equal(box.cursor('s'), 1);
});

test('a batch out of attempts is dropped, counted, and the sink moves on', async () => {
  const box = new MemOutbox();
  const clock = new ManualClock();
  const sink = new ScriptedSink('s', 2);
  sink.outcomes.push(fail, fail, fail);
  const r = new SinkRunner(box, [sink], { clock, maxAttempts: 3, retryBaseMs: 10 });
  fill(box, 3);
  r.notify();
  await clock.advance(10_000);
  assert.deepEqual(sink.batches, [[1, 2], [1, 2], [1, 2], [3]]);
  const s = r.stats()[0];
  assert.equal(s?.failed, 3);
  assert.equal(s?.retried, 2);
  assert.equal(s?.dropped, 2);
  assert.equal(s?.sent, 1);
  assert.equal(box.cursor('s'), 3);
});

test('a rejection that retries cannot fix is dropped at once; Retry-After is honoured', async () => {
  const box = new MemOutbox();
  const clock = new ManualClock();
  const sink = new ScriptedSink('s', 1);
  sink.outcomes.push(
    () => Promise.reject(new SinkError('HTTP 400', false)),
    () => Promise.reject(new SinkError('HTTP 429', true, 5000)),
  );
  const r = new SinkRunner(box, [sink], { clock, retryBaseMs: 10 });
  fill(box, 2);
  r.notify();
  await clock.advance(0);
  assert.equal(r.stats()[0]?.dropped, 1);
  assert.equal(r.stats()[0]?.failed, 2);
  assert.equal(r.stats()[0]?.retried, 1, 'only the 429 is retried');
  assert.equal(box.cursor('s'), 1);
  assert.deepEqual(sink.batches, [[1], [2]]);
  await clock.advance(4999);
  assert.equal(sink.batches.length, 2, 'not before Retry-After');
  await clock.advance(1);
  assert.deepEqual(sink.batches, [[1], [2], [2]]);
  assert.equal(box.cursor('s'), 2);
});

test('drop-oldest: a full queue evicts the oldest waiting revisions and counts them', async () => {
  const box = new MemOutbox();
  const clock = new ManualClock();
  const sink = new ScriptedSink('s', 2, 'drop-oldest');
  const gate = deferred();
  sink.outcomes.push(() => gate.promise);
  const r = new SinkRunner(box, [sink], { clock, queueMax: 5 });
  fill(box, 1);
  r.notify();
  await clock.advance(0);
  fill(box, 19, 2);
  r.notify();
  await clock.advance(0);
  const s = r.stats()[0];
  assert.equal(s?.queueDepth, 5);
  assert.equal(s?.dropped, 15);
  gate.resolve();
  await clock.advance(0);
  assert.deepEqual(sink.batches, [[1], [17, 18], [19, 20]]);
  assert.equal(box.cursor('s'), 20);
  assert.equal(r.stats()[0]?.sent, 5);
});

test('wait: a full queue stops reading and loses nothing', async () => {
  const box = new MemOutbox();
  const clock = new ManualClock();
  const sink = new ScriptedSink('s', 2, 'wait');
  const gate = deferred();
  sink.outcomes.push(() => gate.promise);
  const r = new SinkRunner(box, [sink], { clock, queueMax: 5 });
  fill(box, 20);
  r.notify();
  await clock.advance(0);
  assert.equal(r.stats()[0]?.queueDepth, 5);
  gate.resolve();
  await clock.advance(0);
  assert.deepEqual(
    sink.batches.flat(),
    Array.from({ length: 20 }, (_, i) => i + 1),
  );
  assert.equal(r.stats()[0]?.dropped, 0);
  assert.equal(box.cursor('s'), 20);
});

test('a slow sink neither blocks notify() nor the other sinks', async () => {
  const box = new MemOutbox();
  const clock = new ManualClock();
  const slow = new ScriptedSink('slow');
  slow.fallback = () => new Promise<void>(() => undefined);
  const fast = new ScriptedSink('fast');
  const r = new SinkRunner(box, [slow, fast], { clock, sendTimeoutMs: 1_000_000 });
  fill(box, 3);
  const t0 = performance.now();
  for (let i = 0; i < 100_000; i++) r.notify();
  const spent = performance.now() - t0;
  assert.ok(spent < 500, `100k notify() took ${spent} ms`);
  assert.ok(clock.timers.size <= 2, `one pending timer per sink at most, got ${clock.timers.size}`);
  assert.equal(box.reads, 0, 'notify() itself never reads the outbox');
  await clock.advance(0);
  fill(box, 2, 4);
  r.notify();
  await clock.advance(0);
  assert.equal(box.cursor('fast'), 5);
  assert.equal(box.cursor('slow'), 0);
  assert.equal(r.stats()[0]?.queueDepth, 5);
});

test('a send that never settles times out and is retried', async () => {
  const box = new MemOutbox();
  const clock = new ManualClock();
  const sink = new ScriptedSink('s');
  sink.outcomes.push(() => new Promise<void>(() => undefined));
  const r = new SinkRunner(box, [sink], { clock, sendTimeoutMs: 1000, retryBaseMs: 10 });
  fill(box, 1);
  r.notify();
  await clock.advance(999);
  assert.equal(r.stats()[0]?.failed, 0);
  await clock.advance(1);
  assert.equal(r.stats()[0]?.failed, 1);
  await clock.advance(100);
  assert.equal(r.stats()[0]?.sent, 1);
  assert.equal(box.cursor('s'), 1);
});

test('filters skip revisions but the cursor passes them', async () => {
  const box = new MemOutbox();
  const clock = new ManualClock();
  const sink = new ScriptedSink('s');
  const f = alertFilter({ minSeverity: 'high', rules: ['auth.*'] });
  Object.assign(sink, { accepts: f });
  box.add(makeAlert(1, { count: 1, severity: 'low' }));
  box.add(makeAlert(2, { count: 2, severity: 'critical', rule: 'auth.weak-password' }));
  box.add(makeAlert(3, { count: 3, severity: 'critical', rule: 'dos.flood' }));
  const r = new SinkRunner(box, [sink], { clock });
  r.notify();
  await clock.advance(0);
  assert.deepEqual(sink.batches, [[2]]);
  assert.equal(r.stats()[0]?.filtered, 2);
  assert.equal(box.cursor('s'), 3);
  assert.equal(alertFilter({ rules: ['auth.bruteforce'] })(makeAlert(1)), true);
  assert.equal(
    alertFilter({ rules: ['auth.bruteforce'] })(makeAlert(1, { rule: 'auth.bruteforce2' })),
    false,
  );
});

test('withheld (suppressed) revisions reach no sink, are counted as filtered, and the cursor passes them', async () => {
  const box = new MemOutbox();
  const clock = new ManualClock();
  const a = new ScriptedSink('a');
  const b = new ScriptedSink('b');
  Object.assign(b, { accepts: alertFilter({ minSeverity: 'high' }) });
  box.add(makeAlert(1, { count: 1, severity: 'high', rule: 'dos.flood' }));
  box.add(makeAlert(2, { count: 2, severity: 'critical' }));
  box.add(makeAlert(3, { count: 3, severity: 'low' }));
  const r = new SinkRunner(box, [a, b], { clock, withhold: (x) => x.rule === 'dos.flood' });
  r.notify();
  await clock.advance(0);
  assert.deepEqual(a.batches, [[2, 3]]);
  assert.deepEqual(b.batches, [[2]], 'the sink keeps its own filter too');
  assert.deepEqual(
    r.stats().map((s) => s.filtered),
    [1, 2],
  );
  assert.equal(box.cursor('a'), 3);
  assert.equal(box.cursor('b'), 3);
});

test('linger gathers a batch; close sends it at once and closes the sinks', async () => {
  const box = new MemOutbox();
  const clock = new ManualClock();
  const sink = new ScriptedSink('s', 10, undefined, 1000);
  const r = new SinkRunner(box, [sink], { clock });
  fill(box, 1);
  r.notify();
  await clock.advance(500);
  fill(box, 1, 2);
  r.notify();
  await clock.advance(499);
  assert.equal(sink.batches.length, 0);
  await clock.advance(1);
  assert.deepEqual(sink.batches, [[1, 2]]);
  fill(box, 1, 3);
  r.notify();
  const closing = r.close(5000);
  await clock.advance(0);
  assert.equal(await closing, true);
  assert.deepEqual(sink.batches, [[1, 2], [3]]);
  assert.equal(sink.closed, true);
  assert.equal(box.cursor('s'), 3);
});

test('close gives up at its deadline and leaves the rest behind the cursor', async () => {
  const box = new MemOutbox();
  const clock = new ManualClock();
  const sink = new ScriptedSink('s');
  sink.fallback = () => new Promise<void>(() => undefined);
  const r = new SinkRunner(box, [sink], { clock, sendTimeoutMs: 1_000_000 });
  fill(box, 3);
  r.notify();
  await clock.advance(0);
  const closing = r.close(2000);
  await clock.advance(2000);
  assert.equal(await closing, false);
  assert.equal(sink.closed, true);
  assert.equal(box.cursor('s'), 0);
  r.notify();
  assert.equal(clock.timers.size, 0, 'a closed runner schedules nothing');
});

test('outbox read errors are counted and retried', async () => {
  const box = new MemOutbox();
  const clock = new ManualClock();
  const sink = new ScriptedSink('s');
  const errors: string[] = [];
  const r = new SinkRunner(box, [sink], { clock, retryBaseMs: 50, onError: (n) => errors.push(n) });
  fill(box, 2);
  box.failReads = 1;
  r.notify();
  await clock.advance(0);
  assert.equal(r.stats()[0]?.readErrors, 1);
  assert.deepEqual(errors, ['s']);
  await clock.advance(50);
  assert.deepEqual(sink.batches, [[1, 2]]);
});

test('rejects duplicate sink names', () => {
  assert.throws(
    () => new SinkRunner(new MemOutbox(), [new ScriptedSink('x'), new ScriptedSink('x')]),
    /duplicate/,
  );
});

test('fuzz: random outcomes keep the queue bounded, the cursor monotonic, and every revision accounted', async () => {
  let seed = 12345;
  const rnd = (): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x80000000;
  };
  for (let round = 0; round < 30; round++) {
    const box = new MemOutbox();
    const clock = new ManualClock();
    clock.rnd = rnd();
    const overflow: OverflowPolicy = rnd() < 0.5 ? 'wait' : 'drop-oldest';
    const sink = new ScriptedSink('s', 1 + Math.floor(rnd() * 5), overflow, rnd() < 0.3 ? 20 : 0);
    const pick = (): Promise<void> => {
      const x = rnd();
      if (x < 0.5) return Promise.resolve();
      if (x < 0.7) return Promise.reject(new Error('down'));
      if (x < 0.8) return Promise.reject(new SinkError('bad', false));
      if (x < 0.9) return Promise.reject(new SinkError('slow down', true, Math.floor(rnd() * 500)));
      return new Promise<void>((res) => setImmediate(res));
    };
    sink.fallback = pick;
    Object.assign(sink, { accepts: (a: AlertJson) => a.count % 7 !== 0 });
    const queueMax = 1 + Math.floor(rnd() * 8);
    const r = new SinkRunner(box, [sink], {
      clock,
      queueMax,
      maxAttempts: 3,
      retryBaseMs: 5,
      retryMaxMs: 50,
    });
    let n = 0;
    let lastCursor = 0;
    for (let step = 0; step < 60; step++) {
      const k = Math.floor(rnd() * 4);
      fill(box, k, n + 1);
      n += k;
      r.notify();
      await clock.advance(Math.floor(rnd() * 30));
      const s = r.stats()[0];
      assert.ok(s !== undefined && s.queueDepth <= queueMax, 'queue bounded');
      assert.ok(box.cursor('s') >= lastCursor, 'cursor monotonic');
      lastCursor = box.cursor('s');
    }
    sink.fallback = () => Promise.resolve();
    r.notify();
    await clock.advance(100_000);
    const s = r.stats()[0];
    assert.ok(s !== undefined);
    assert.equal(s.sent + s.dropped + s.filtered, n, `round ${round}: every revision accounted`);
    assert.equal(box.cursor('s'), n);
    assert.equal(s.queueDepth, 0);
    if (overflow === 'wait') {
      // Nothing evicted in wait mode: drops come only from batches given up on.
      assert.ok(s.dropped <= s.failed * 5);
    }
  }
  await settle();
});
