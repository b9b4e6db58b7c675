import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { applyHeapPolicy } from '../../src/cli/heap.js';

test('heap policy stays out when node was given heap flags', () => {
  assert.equal(applyHeapPolicy(['--max-old-space-size=512'], ''), false);
  assert.equal(applyHeapPolicy([], '--heap-growing-percent=80'), false);
  assert.equal(applyHeapPolicy(['--max_old_space_size=512'], ''), false);
  assert.equal(applyHeapPolicy(['--enable-source-maps'], '--trace-gc'), true);
});

test('a bounded heap growth keeps resident memory near the live data', () => {
  // The same program, once with V8's default growth and once with the policy applied at run time:
  // 1.5M live objects replaced over and over. The policy must cut the peak resident size.
  const program = `
    const { applyHeapPolicy } = await import(${JSON.stringify(new URL('../../src/cli/heap.js', import.meta.url).href)});
    if (process.argv[1] === 'policy') applyHeapPolicy([], '');
    const N = 1_500_000; const live = new Array(N); let peak = 0;
    for (let i = 0; i < 6_000_000; i++) { live[i % N] = { a: i, b: 'x' + i }; if (i % 100_000 === 0) peak = Math.max(peak, process.memoryUsage().rss); }
    process.stdout.write(String(peak));`;
  const run = (mode: string): number => {
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', program, mode], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(r.status, 0, r.stderr);
    return Number(r.stdout);
  };
  const plain = run('plain');
  const policy = run('policy');
  assert.ok(policy < plain * 0.8, `peak RSS with the policy ${policy} should be well under ${plain}`);
});
