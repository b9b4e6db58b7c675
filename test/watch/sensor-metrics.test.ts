/**
 * The sensor's /metrics carries every bounded table's pressure by table name: evictions in
 * `sipwarden_evictions_total{table}`, refused new keys in `sipwarden_dropped_total{stage="table:NAME"}`,
 * counting only what happened while this sensor ran.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigSchema } from '../../src/config/config.js';
import { BoundedTable, countRefusal, tableTotals } from '../../src/core/bounded-table.js';
import { Sensor } from '../../src/watch/sensor.js';

/** The value of one series in a Prometheus text exposition, or undefined when absent. */
function sample(text: string, series: string): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith(`${series} `)) return Number(line.slice(series.length + 1));
  }
  return undefined;
}

test('table evictions and refusals reach /metrics by table name, from this sensor on', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sw-metrics-'));
  try {
    // Pressure before the sensor starts is not the sensor's.
    const before = new BoundedTable<string, number>('test.pressure', 2);
    for (const k of ['a', 'b', 'c']) before.touch(k, () => 1);
    assert.equal(tableTotals().get('test.pressure')?.rejections, 1);

    const config = ConfigSchema.parse({
      store: { path: join(dir, 'watch.db') },
      http: { listen: '' },
      sinks: { stdout: { enabled: false } },
    });
    const s = new Sensor({ config, rules: [], log: () => undefined });
    await s.start();
    try {
      const t = new BoundedTable<string, number>('test.pressure', 2);
      t.touch('x', () => 1);
      t.touch('y', () => 1);
      // Seen once each: refused by a full table of keys seen as often.
      for (const k of ['z1', 'z2', 'z3'])
        assert.equal(
          t.touch(k, () => 1),
          undefined,
        );
      // Seen three times: admitted, evicting one of the others.
      t.touch('w', () => 1);
      t.touch('w', () => 1);
      assert.notEqual(
        t.touch('w', () => 1),
        undefined,
      );
      countRefusal('test.ad-hoc');
      const text = s.renderMetrics();
      assert.equal(sample(text, 'sipwarden_dropped_total{stage="table:test.pressure"}'), 4);
      assert.equal(sample(text, 'sipwarden_evictions_total{table="test.pressure"}'), 1);
      assert.equal(sample(text, 'sipwarden_dropped_total{stage="table:test.ad-hoc"}'), 1);
      // Counted once: a second scrape adds nothing new.
      assert.equal(sample(s.renderMetrics(), 'sipwarden_dropped_total{stage="table:test.pressure"}'), 4);
    } finally {
      await s.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
