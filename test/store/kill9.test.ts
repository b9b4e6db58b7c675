import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { AlertStore } from '../../src/store/alert-store.js';
import { makeAlert, tempDb } from './store-fixtures.js';

/** Runs the writer, kills it with SIGKILL once it reported `atLeast` seqs; returns its stdout lines. */
function runAndKill(path: string, atLeast: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['dist/test/store/kill-writer.js', path], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    let killed = false;
    const guard = setTimeout(() => {
      killed = true;
      child.kill('SIGKILL');
    }, 3000);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      out += d;
      if (!killed && out.split('\n').length > atLeast + 2) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(guard);
      if (signal !== 'SIGKILL') reject(new Error(`writer ended on its own (${code}): ${err}`));
      else resolve(out.split('\n'));
    });
  });
}

test('kill -9 mid-stream loses no revision whose put had returned', async () => {
  const path = tempDb();
  const lines = await runAndKill(path, 400);
  assert.equal(lines[0], 'ready');
  // The last line may be cut by the kill; every complete one is a committed revision.
  const reported = lines
    .slice(1, -1)
    .map((l) => l.split(' '))
    .map(([seq, id, rev]) => ({ seq: Number(seq), id: String(id), revision: Number(rev) }));
  assert.ok(reported.length >= 400, `only ${reported.length} reported`);
  const store = new AlertStore({ path });
  const stored = new Map(store.readAfter(0, 10_000).map((r) => [r.seq, r.alert]));
  for (const r of reported) {
    const a = stored.get(r.seq);
    assert.ok(a !== undefined, `seq ${r.seq} lost`);
    assert.equal(a.id, r.id);
    assert.equal(a.revision, r.revision);
  }
  // Every batch is whole or absent: a transaction is never half-applied.
  const batches = new Map<string, number>();
  for (const a of stored.values())
    if (a.id.startsWith('batch-')) batches.set(a.id, (batches.get(a.id) ?? 0) + 1);
  for (const [id, n] of batches) assert.equal(n, 3, id);
  // The store is usable after recovery.
  const seq = store.put(makeAlert({ id: 'after-restart' }));
  assert.ok(seq > Math.max(...reported.map((r) => r.seq)));
  store.close();
});
