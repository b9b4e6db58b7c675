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
