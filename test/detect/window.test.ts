/** Shared counting helpers of the detectors. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { COUNT_MAX_KEYS } from '../../src/config/limits.js';
import { StatusCounts } from '../../src/core/counts.js';
import { CappedSet, KeyedWindows, ListingBudget, StatusTally, withFrame } from '../../src/detect/window.js';

test('StatusTally gives the record StatusCounts gives, bound and (other) included', () => {
  let x = 99;
  const next = (): number => (x = (Math.imul(x, 1103515245) + 12345) >>> 0);
  const statuses = [0, 100, 180, 200, 401, 403, 404, 407, 486, 500, 503, 603];
  let compared = 0;
  let overflowed = 0;
  for (let run = 0; run < 200; run++) {
    const tally = new StatusTally();
    const counts = new StatusCounts();
    // Some runs draw from more distinct statuses than the bound allows.
    const wide = run % 3 === 0;
    const n = wide ? 100 + (next() % 300) : 1 + (next() % 60);
    for (let i = 0; i < n; i++) {
      const s = wide ? 100 + (next() % (COUNT_MAX_KEYS * 2)) : (statuses[next() % statuses.length] as number);
      tally.add(s);
      counts.add(s);
    }
    assert.deepEqual(tally.toRecord(), counts.toRecord());
    assert.equal(JSON.stringify(tally.toRecord()), JSON.stringify(counts.toRecord()));
    if (wide && n > 3 * COUNT_MAX_KEYS) overflowed += Number('(other)' in tally.toRecord());
    compared++;
  }
  assert.equal(compared, 200);
  assert.ok(overflowed > 0, 'the bound was reached');
  assert.deepEqual(new StatusTally().toRecord(), {});
});

test('KeyedWindows lets windows past their gap leave the table as later keys are counted', () => {
  const w = new KeyedWindows<{ n: number }>('t', 10_000, 60_000, () => ({ n: 0 }));
  // An hour of one-off sources, one a second: with a one-minute gap, only the last minute's
  // windows (and those the sweep has not reached yet) stay.
  for (let s = 0; s < 3600; s++) w.hit(`src${s}`, s * 1000);
  assert.ok(w.size <= 61 + 61, `${w.size} windows kept`);
  assert.ok(w.size >= 60, 'the live minute is kept');
  for (let s = 3540; s < 3600; s++) assert.ok(w.peek(`src${s}`, 3599_000) !== undefined);
  // A key that comes back after its gap starts a new window.
  const again = w.hit('src0', 3600_000);
  assert.equal(again?.count, 1);
});

test('CappedSets under one ListingBudget store within it, count what they cannot store once, and give back', () => {
  const budget = new ListingBudget(3);
  const a = new CappedSet(100, budget);
  for (const v of ['a1', 'a2', 'a3', 'a4']) assert.equal(a.add(v), true);
  // The first value is inline; the next three spend the budget.
  assert.equal(budget.used, 3);
  assert.equal(a.size, 4);
  const b = new CappedSet(100, budget);
  assert.equal(b.add('b1'), true, 'a first value is always kept');
  assert.equal(b.add('b2'), true, 'not stored, but new');
  assert.equal(b.add('b2'), false, 'seen again: not new again');
  assert.equal(b.distinct, 2);
  assert.equal(b.size, 1);
  assert.equal(budget.refused, 2);
  // A repeating source never inflates the count, however often it comes.
  for (let i = 0; i < 50; i++) b.add('b2');
  assert.equal(b.distinct, 2);
  a.release();
  a.release();
  assert.equal(budget.used, 0, 'released once');
  assert.equal(b.add('b3'), true);
  assert.equal(b.size, 2, 'stored again once the budget has room');
  assert.deepEqual(
    b.top(5).map((x) => x.value),
    ['b1', 'b3'],
  );
});

test('KeyedWindows tells its owner of every state that leaves: replaced, swept or evicted', () => {
  const dropped: string[] = [];
  let n = 0;
  const w = new KeyedWindows<{ id: string }>(
    'test.drop',
    2,
    1000,
    () => ({ id: `s${n++}` }),
    (s) => dropped.push(s.id),
  );
  w.hit('k1', 0); // s0
  w.hit('k1', 5000); // past the gap: s0 replaced by s1
  assert.deepEqual(dropped, ['s0']);
  w.hit('k2', 5000); // s2
  // k3 seen often enough to evict one of the two (each seen once or twice).
  for (let i = 0; i < 4; i++) w.hit('k3', 5100 + i);
  assert.ok(dropped.length >= 2, `evicted: ${dropped.join(',')}`);
  // Later hits sweep the windows whose gap passed.
  for (let i = 0; i < 10; i++) w.hit('k3', 20_000 + i);
  const live = new Set(['k1', 'k2', 'k3'].map((k) => w.peek(k, 20_010)?.data.id).filter((x) => x));
  for (const id of dropped) assert.ok(!live.has(id), `${id} dropped while live`);
  assert.equal(new Set(dropped).size, dropped.length, 'each state dropped once');
});

test('a flood of sources over many identities keeps the rule within its listing budget', () => {
  const budget = new ListingBudget(5_000);
  const windows = new KeyedWindows<{ sources: CappedSet }>(
    'test.flood',
    2_000,
    3_600_000,
    () => ({ sources: new CappedSet(1024, budget) }),
    (s) => s.sources.release(),
  );
  for (let i = 0; i < 200_000; i++) {
    const st = windows.hit(`id${i % 1_000}`, i);
    st?.data.sources.add(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
  }
  assert.ok(budget.peak <= 5_000, `peak ${budget.peak}`);
  assert.ok(budget.refused > 0);
  // Every identity still counts its sources (past the budget by bits: at least what it stored).
  const st = windows.peek('id7', 200_000);
  assert.ok(st !== undefined && st.data.sources.distinct >= st.data.sources.size);
});

test('withFrame makes the list at the first frame and keeps the first n', () => {
  assert.equal(withFrame(undefined, undefined), undefined);
  let frames = withFrame(undefined, 7, 3);
  assert.deepEqual(frames, [7]);
  for (const f of [8, undefined, 9, 10, 11]) frames = withFrame(frames, f, 3);
  assert.deepEqual(frames, [7, 8, 9]);
});
