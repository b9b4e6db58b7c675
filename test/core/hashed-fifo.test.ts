import assert from 'node:assert/strict';
import { test } from 'node:test';
import { rng } from '../sources/live-helpers.js';
import { HashedFifo } from '../../src/core/hashed-fifo.js';

/** Whole numbers below `n` from the project's seeded generator, so a failure can be replayed. */
function ints(seed: number): (n: number) => number {
  const next = rng(seed);
  return (n) => Math.floor(next() * n);
}

test('agrees with an insertion-ordered Map over random sets, deletes and shifts (holes, compaction, wrap)', () => {
  for (const [seed, capacity, keys] of [
    [1, 1, 4],
    [2, 7, 20],
    [3, 50, 200],
    [4, 300, 400],
  ] as const) {
    const rnd = ints(seed);
    const t = new HashedFifo(capacity);
    const model = new Map<string, number>();
    for (let op = 0; op < 30_000; op++) {
      const key = `nonce-${rnd(keys)}`;
      const r = rnd(10);
      if (r < 5) {
        const value = op * (rnd(2) === 0 ? 1 : -1);
        if (!model.has(key) && model.size >= capacity) model.delete(model.keys().next().value as string);
        model.set(key, value);
        t.set(key, value);
      } else if (r < 7) {
        assert.equal(t.delete(key), model.delete(key), `seed ${seed} op ${op}: delete`);
      } else if (r < 8) {
        const first = model.entries().next();
        const got = t.shift();
        if (first.done === true) assert.equal(got, undefined);
        else {
          assert.equal(got, first.value[1], `seed ${seed} op ${op}: shift gives the oldest`);
          model.delete(first.value[0]);
        }
      } else {
        assert.equal(t.get(key), model.get(key), `seed ${seed} op ${op}: get ${key}`);
        assert.equal(t.has(key), model.has(key));
      }
      assert.equal(t.size, model.size, `seed ${seed} op ${op}: size`);
    }
    for (const [k, v] of model) assert.equal(t.get(k), v);
  }
});

test('a full table of 100,000 long keys stays in its typed arrays (about 30 bytes an entry)', () => {
  const n = 100_000;
  const t = new HashedFifo(n);
  const before = process.memoryUsage().arrayBuffers;
  for (let i = 0; i < 3 * n; i++) t.set(`${'x'.repeat(40)}-${i}`, i);
  assert.equal(t.size, n);
  // The newest n are there, the older ones were given up in order.
  assert.equal(t.get(`${'x'.repeat(40)}-${3 * n - 1}`), 3 * n - 1);
  assert.equal(t.get(`${'x'.repeat(40)}-${2 * n - 1}`), undefined);
  assert.equal(t.shift(), 2 * n);
  // Its memory was allocated once, at construction (before `before` was read).
  assert.equal(process.memoryUsage().arrayBuffers - before, 0);
});
