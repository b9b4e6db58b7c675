import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AlertJson } from '../../src/core/alert.js';
import { AlertBook, alertId } from '../../src/detect/alert-book.js';
import type { RuleMeta } from '../../src/detect/rule.js';

const META: RuleMeta = {
  id: 'auth.bruteforce',
  title: 'Password guessing',
  severity: 'high',
  description: 'd',
  falsePositives: 'f',
  remediation: 'r',
  references: ['ref'],
  thresholds: {},
  quietMs: 60_000,
};

test('an alert opens once, gains revisions as its count doubles, and closes after quiet time', () => {
  const seen: AlertJson[] = [];
  const book = new AlertBook('default', 's1', (a) => seen.push(a));
  const t0 = Date.UTC(2026, 10, 24, 5, 0, 0);
  for (let n = 5; n <= 40; n++) {
    book.raise(META, {
      key: '203.0.113.7|101',
      time: t0 + n * 1000,
      firstTime: t0,
      count: n,
      title: 'x',
      evidence: { n },
    });
  }
  // Opened at 5, revised at 10, 20, 40.
  assert.deepEqual(
    seen.map((a) => [a.revision, a.count, a.state]),
    [
      [1, 5, 'open'],
      [2, 10, 'open'],
      [3, 20, 'open'],
      [4, 40, 'open'],
    ],
  );
  assert.ok(seen.every((a) => a.id === alertId('auth.bruteforce', '203.0.113.7|101', t0)));
  book.tick(t0 + 40_000 + 30_000);
  assert.equal(seen.length, 4, 'not quiet long enough yet');
  book.tick(t0 + 40_000 + 61_000);
  const last = seen.at(-1) as AlertJson;
  assert.equal(last.state, 'closed');
  assert.equal(last.revision, 5);
  assert.equal(last.firstSeen, new Date(t0).toISOString());
  assert.equal(last.raisedAt, new Date(t0 + 5000).toISOString());
  assert.equal(last.lastSeen, new Date(t0 + 40_000).toISOString());
  // A new raise after closing is a new alert with a new id (new firstSeen).
  book.raise(META, { key: '203.0.113.7|101', time: t0 + 200_000, count: 5, title: 'x', evidence: {} });
  assert.notEqual((seen.at(-1) as AlertJson).id, last.id);
  assert.equal(book.alerts().length, 2);
});

test('sources are bounded with a total', () => {
  const book = new AlertBook('default', 's1');
  const sources = Array.from({ length: 500 }, (_, i) => ({ ip: `198.51.100.${i % 250}`, count: i }));
  book.raise(META, { key: 'k', time: 1, count: 500, title: 't', evidence: {}, sources, sourcesTotal: 500 });
  const [a] = book.alerts();
  assert.ok(a !== undefined);
  assert.equal(a.sources?.length, 50);
  assert.equal(a.sourcesTotal, 500);
  assert.equal(a.sources?.[0]?.count, 499, 'largest first');
});

test('a late record whose first event is earlier moves firstSeen back and keeps the id', () => {
  const seen: AlertJson[] = [];
  const book = new AlertBook('default', 's1', (a) => seen.push(a));
  const t0 = Date.UTC(2026, 2, 10, 2, 0, 0);
  book.raise(META, { key: 'k', time: t0 + 3_600_000, firstTime: t0, count: 1, title: 'x', evidence: {} });
  book.raise(META, {
    key: 'k',
    time: t0 + 3_700_000,
    firstTime: t0 - 600_000,
    count: 2,
    title: 'x',
    evidence: {},
  });
  const [a] = book.alerts();
  assert.equal(a!.firstSeen, new Date(t0 - 600_000).toISOString());
  assert.equal(a!.id, alertId('auth.bruteforce', 'k', t0));
  assert.equal(seen.at(-1)!.firstSeen, new Date(t0 - 600_000).toISOString());
});

test('alerts close at the first tick past their own quiet time, however often they were raised', () => {
  const closed: [string, number][] = [];
  let now = 0;
  const book = new AlertBook('default', 's1', (a) => {
    if (a.state === 'closed') closed.push([a.title, now]);
  });
  const t0 = Date.UTC(2026, 10, 24, 6, 0, 0);
  const quick: RuleMeta = { ...META, id: 'dos.flood', quietMs: 10_000 };
  const raise = (meta: RuleMeta, key: string, time: number): void =>
    book.raise(meta, { key, time, count: 1, title: `${meta.id} ${key}`, evidence: {} });
  // 300 alerts of two quiet times; every third is raised again each second for a while.
  for (let i = 0; i < 300; i++) raise(i % 2 === 0 ? META : quick, `k${i}`, t0 + i);
  const lastRaise = new Map<string, number>();
  for (let s = 1; s <= 120; s++) {
    now = t0 + s * 1000;
    for (let i = 0; i < 300; i += 3) {
      if (s <= i / 3) {
        const meta = i % 2 === 0 ? META : quick;
        raise(meta, `k${i}`, now);
        lastRaise.set(`${meta.id} k${i}`, now);
      }
    }
    book.tick(now);
  }
  // Each closed at the first whole second past (last raise + its quiet time), in order of that time.
  for (let i = 0; i < 300; i++) {
    const meta = i % 2 === 0 ? META : quick;
    const title = `${meta.id} k${i}`;
    const last = lastRaise.get(title) ?? t0 + i;
    const expected = t0 + Math.floor((last + meta.quietMs - t0) / 1000 + 1) * 1000;
    const got = closed.find(([t]) => t === title);
    if (expected > t0 + 120_000) assert.equal(got, undefined, title);
    else assert.equal(got?.[1], expected, title);
  }
  const times = closed.map(([, t]) => t);
  assert.deepEqual(
    times,
    [...times].sort((a, b) => a - b),
  );
});
