import assert from 'node:assert/strict';
import { test } from 'node:test';
import { rng } from '../sources/live-helpers.js';
import { DeadlineHeap } from '../../src/core/deadline-heap.js';

/** Whole numbers below `n` from the project's seeded generator, so a failure can be replayed. */
function ints(seed: number): (n: number) => number {
  const next = rng(seed);
  return (n) => Math.floor(next() * n);
}

test('pops come out in deadline order against a sorted-list model, over random pushes and pops', () => {
  for (const seed of [1, 7, 42, 2026]) {
    const rnd = ints(seed);
    const heap = new DeadlineHeap<number>();
    const model: [number, number][] = [];
    for (let op = 0; op < 20_000; op++) {
      if (rnd(3) < 2) {
        // Deadlines repeat often (ties), as event times do.
        const d = rnd(500);
        heap.push(d, op);
        model.push([d, op]);
      } else {
        const got = heap.pop();
        if (model.length === 0) {
          assert.equal(got, undefined);
          continue;
        }
        const min = Math.min(...model.map((e) => e[0]));
        assert.notEqual(got, undefined);
        const i = model.findIndex((e) => e[1] === got);
        assert.ok(i >= 0, `popped ${got}, not held`);
        assert.equal(model[i]![0], min, `seed ${seed} op ${op}: popped deadline is the earliest`);
        model.splice(i, 1);
      }
      assert.equal(heap.size, model.length);
      assert.equal(heap.peekDeadline(), model.length === 0 ? Infinity : Math.min(...model.map((e) => e[0])));
    }
    heap.rebuild(model.map(([d, v]) => [d, v]));
    const rest: number[] = [];
    for (let v = heap.pop(); v !== undefined; v = heap.pop()) rest.push(model.find((e) => e[1] === v)![0]);
    assert.deepEqual(
      rest,
      [...rest].sort((a, b) => a - b),
    );
  }
});
