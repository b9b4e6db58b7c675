/** Shared counting helpers of the detectors. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { COUNT_MAX_KEYS } from '../../src/config/limits.js';
import { StatusCounts } from '../../src/core/counts.js';
import { KeyedWindows, StatusTally } from '../../src/detect/window.js';

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
