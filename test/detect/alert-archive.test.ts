/** Closed alerts kept for the report: the same alerts and order whether in memory or spilled. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AlertJson } from '../../src/core/alert.js';
import { AlertArchive } from '../../src/detect/alert-archive.js';

function alert(i: number, raisedAtMs: number): AlertJson {
  return {
    schemaVersion: 1,
    id: `id-${i}`,
    revision: 2,
    state: 'closed',
    rule: 'auth.bruteforce',
    severity: 'high',
    title: `alert ${i} \u00e9\u2028`,
    site: 'default',
    sensor: 'test',
    firstSeen: new Date(raisedAtMs).toISOString(),
    raisedAt: new Date(raisedAtMs).toISOString(),
    lastSeen: new Date(raisedAtMs).toISOString(),
    count: i,
    evidence: { n: i, frames: [i, i + 1] },
    remediation: 'r',
    references: [],
  };
}

for (const budget of [1 << 20, 600, 0]) {
  test(`archive with a ${budget}-byte memory budget keeps every alert in report order`, () => {
    const archive = new AlertArchive(budget);
    const want: AlertJson[] = [];
    // Closed out of order: raisedAt decides, then the opening order (seq).
    const times = [5, 3, 3, 9, 1, 3, 7];
    times.forEach((t, i) => {
      const a = alert(i, 1_700_000_000_000 + t * 1000);
      want.push(a);
      archive.add(a, i);
    });
    const open = [{ json: alert(99, 1_700_000_000_000 + 3000), seq: 100 }];
    const got = [...archive.inOrder(open)];
    const expected = [...want, open[0]!.json]
      .map((a, i) => ({ a, seq: i === want.length ? 100 : i }))
      .sort((x, y) => Date.parse(x.a.raisedAt) - Date.parse(y.a.raisedAt) || x.seq - y.seq)
      .map((x) => x.a);
    assert.deepEqual(got, expected);
    assert.equal(archive.size, times.length);
    if (budget === 0) assert.ok(archive.spilledBytes > 0, 'a zero budget spills everything');
    if (budget === 1 << 20) assert.equal(archive.spilledBytes, 0);
    // Readable twice (the file is read by offset, not consumed).
    assert.deepEqual([...archive.inOrder(open)], expected);
    archive.dispose();
  });
}
