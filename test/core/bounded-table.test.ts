import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BoundedTable, FrequencySketch } from '../../src/core/bounded-table.js';

test('a table never grows past its capacity', () => {
  const t = new BoundedTable<string, number>('t', 100);
  for (let i = 0; i < 10_000; i++) t.touch(`k${i}`, () => i);
  assert.equal(t.size, 100);
  assert.equal(t.stats.evictions + t.stats.rejections, 9_900);
});

test('a flood of one-off keys cannot evict a key that keeps coming back', () => {
  const t = new BoundedTable<string, { n: number }>('sources', 1000);
  const attacker = '203.0.113.7';
  for (let i = 0; i < 200_000; i++) {
    // One attacker packet for every 100 spoofed ones, each spoofed source seen once.
    if (i % 100 === 0) {
      const e = t.touch(attacker, () => ({ n: 0 }));
      if (e !== undefined) e.n++;
    }
    t.touch(`spoofed-${i}`, () => ({ n: 1 }));
  }
  assert.equal(t.size, 1000);
  const a = t.get(attacker);
  assert.ok(a !== undefined, 'attacker state survived the flood');
  assert.ok(a.n >= 1990, `attacker counted ${a.n} of 2000 events`);
});

test('a real key arriving during a flood is admitted on its second event', () => {
  const t = new BoundedTable<string, number>('t', 50);
  for (let i = 0; i < 5000; i++) t.touch(`spoof-${i}`, () => 0);
  assert.equal(
    t.touch('late-real', () => 1),
    undefined,
    'first event refused while full of peers',
  );
  assert.equal(
    t.touch('late-real', () => 1),
    1,
    'second event admitted',
  );
});

test('sketch estimates are upper bounds of true counts and fade with age', () => {
  const s = new FrequencySketch(64);
  for (let i = 0; i < 10; i++) s.increment('a');
  assert.ok(s.estimate('a') >= 10);
  for (let i = 0; i < 5000; i++) s.increment(`x${i}`);
  assert.ok(s.estimate('a') < 10, 'halving aged the old key');
});

test('sweep removes expired entries a few per call, keeps live ones, and counts expirations', () => {
  const t = new BoundedTable<string, { until: number }>('t', 1000);
  for (let i = 0; i < 1000; i++) t.touch(`k${i}`, () => ({ until: i % 2 === 0 ? 10 : 1_000 }));
  const expired = (v: { until: number }): boolean => v.until < 100;
  t.sweep(2, expired);
  assert.equal(t.size, 999, 'at most the budget looked at per call');
  // One full round of the clock hand reaches every key.
  for (let i = 0; i < 500; i++) t.sweep(2, expired);
  assert.equal(t.size, 500);
  assert.equal(t.stats.expirations, 500);
  for (const v of t.values()) assert.equal(v.until, 1_000);
  // The hand keeps turning over live keys without losing them.
  for (let i = 0; i < 5_000; i++) t.sweep(2, expired);
  assert.equal(t.size, 500);
});

test('a swept table admits new keys without evicting or refusing', () => {
  const t = new BoundedTable<string, number>('t', 100);
  for (let i = 0; i < 100; i++) t.touch(`old${i}`, () => 0);
  for (let i = 0; i < 100; i++) {
    t.touch(`new${i}`, () => 1);
    t.sweep(2, (v) => v === 0);
  }
  assert.equal(t.stats.rejections + t.stats.evictions, 1, 'only the first new key met a full table');
  assert.ok(t.size <= 100);
});
