import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { FifoMap } from '../../src/core/fifo-map.js';

test('FifoMap gives entries back oldest first, a re-set key counting as new', () => {
  const m = new FifoMap<string, number>();
  m.set('a', 1);
  m.set('b', 2);
  m.set('c', 3);
  m.set('a', 4); // moves to the young end
  m.delete('b');
  assert.equal(m.size, 2);
  assert.deepEqual(m.peek(), ['c', 3]);
  assert.equal(m.oldest(), 3);
  assert.deepEqual(m.shift(), ['c', 3]);
  assert.deepEqual(m.shift(), ['a', 4]);
  assert.equal(m.shift(), undefined);
  assert.equal(m.size, 0);
});

test('FifoMap as a bounded table: evicting the oldest per insertion stays in insertion order', () => {
  const cap = 5_000;
  const m = new FifoMap<number, number>();
  const evicted: number[] = [];
  for (let i = 0; i < 50_000; i++) {
    if (i % 7 === 3) m.delete(i - 2); // holes, as deleted entries leave
    if (i % 11 === 5) m.set(i - 1, -1); // re-sets move a key to the young end
    if (m.size >= cap) evicted.push((m.shift() as [number, number])[0]);
    m.set(i, i);
  }
  assert.ok(m.size <= cap);
  // What was evicted is never still in the map, and nothing is evicted twice.
  assert.equal(new Set(evicted).size, evicted.length);
  for (const k of evicted) if (m.has(k)) assert.fail(`${k} evicted but present`);
  // What remains is the youngest: every live key is newer than most evicted ones.
  const oldestLive = Math.min(...[...Array(50_000).keys()].filter((k) => m.has(k)));
  assert.ok(oldestLive > 50_000 - 2 * cap, `oldest live key ${oldestLive}`);
});

test('FifoMap agrees with a model map under random sets, deletes and shifts', () => {
  let seed = 7;
  const rand = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % n;
  };
  const m = new FifoMap<number, string>();
  // The model: a Map re-inserted on set, so its order is the insertion order.
  const model = new Map<number, string>();
  for (let i = 0; i < 200_000; i++) {
    const op = rand(10);
    const k = rand(3_000);
    if (op < 6) {
      m.set(k, `v${i}`);
      model.delete(k);
      model.set(k, `v${i}`);
    } else if (op < 8) {
      assert.equal(m.delete(k), model.delete(k));
    } else {
      const oldest = model.entries().next();
      const expected = oldest.done === true ? undefined : oldest.value;
      if (expected !== undefined) model.delete(expected[0]);
      assert.deepEqual(m.shift(), expected);
    }
    if (i % 997 === 0) {
      assert.equal(m.size, model.size);
      const first = model.entries().next();
      assert.deepEqual(m.peek(), first.done === true ? undefined : first.value);
      assert.equal(m.oldest(), first.done === true ? undefined : first.value[1]);
      assert.equal(m.get(k), model.get(k));
      assert.equal(m.has(k), model.has(k));
    }
  }
});

test('a full FifoMap of string keys to times costs under 130 bytes per entry beside its keys', () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const n = 100_000;
  const keys = Array.from({ length: 2 * n }, (_, i) => `nonce-${i.toString(36)}-${(i * 7919).toString(36)}`);
  gc();
  const before = process.memoryUsage().heapUsed;
  const m = new FifoMap<string, number>();
  // As auth.digest-replay's known nonces: oldest out, one per new key, at the bound.
  for (let i = 0; i < 2 * n; i++) {
    if (m.size >= n) m.shift();
    m.set(keys[i] as string, 1.7e12 + i);
  }
  gc();
  const per = (process.memoryUsage().heapUsed - before) / n;
  assert.equal(m.size, n);
  assert.ok(per < 130, `${per.toFixed(0)} bytes per entry`);
});
