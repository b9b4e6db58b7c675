/**
 * `sipwarden watch` given bad input: a usage error exits 2, an input it cannot use (a port taken, a
 * configuration with an unknown field) exits 3, each with a message naming what is wrong; none
 * leaves a process behind (every run is bounded by --duration and a kill timer).
 */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { cleanup, freePort, spawnWatch, tempDir } from './watch-helpers.js';

async function runWatch(args: string[]): Promise<{ code: number | null; stderr: string }> {
  const w = spawnWatch([...args, '--quiet', '--duration', '5']);
  const t = setTimeout(() => w.child.kill('SIGKILL'), 8000);
  const end = await w.exited;
  clearTimeout(t);
  return { code: end.code, stderr: w.stderr() };
}

test('--log with an unknown kind exits 2 naming the flag', async () => {
  const dir = tempDir('cli');
  try {
    const r = await runWatch(['--log', 'nosuch:/x', '--db', join(dir, 'db'), '--http', '']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /--log nosuch:\/x/);
    assert.match(r.stderr, /kamailio/, 'the message lists the kinds');
    assert.doesNotMatch(r.stderr, /internal error/);
  } finally {
    cleanup(dir);
  }
});

test('--log without a path exits 2', async () => {
  const dir = tempDir('cli');
  try {
    const r = await runWatch(['--log', 'kamailio', '--db', join(dir, 'db'), '--http', '']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /--log kamailio/);
  } finally {
    cleanup(dir);
  }
});

test('--hep on a UDP port already in use exits 3 naming the address', async () => {
  const dir = tempDir('cli');
  const port = await freePort('udp');
  const holder = createSocket('udp4');
  await new Promise<void>((r) => holder.bind(port, '127.0.0.1', () => r()));
  try {
    const r = await runWatch(['--hep', `udp://127.0.0.1:${port}`, '--db', join(dir, 'db'), '--http', '']);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, new RegExp(`127\\.0\\.0\\.1:${port}`));
    assert.doesNotMatch(r.stderr, /internal error/);
  } finally {
    await new Promise<void>((r) => holder.close(() => r()));
    cleanup(dir);
  }
});

test('a configuration with a misspelt field exits 3 naming the field', async () => {
  const dir = tempDir('cli');
  try {
    const cfg = join(dir, 'watch.yaml');
    writeFileSync(cfg, 'site: lab\nstore:\n  pth: /tmp/never.db\n');
    const r = await runWatch(['--config', cfg, '--db', join(dir, 'db'), '--http', '']);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /pth/);
    assert.doesNotMatch(r.stderr, /internal error/);
  } finally {
    cleanup(dir);
  }
});

test('an idle HEP source runs for --duration and stops cleanly (exit 0)', async () => {
  const dir = tempDir('cli');
  try {
    const port = await freePort('udp');
    const w = spawnWatch([
      '--hep',
      `udp://127.0.0.1:${port}`,
      '--db',
      join(dir, 'db'),
      '--http',
      '',
      '--quiet',
      '--duration',
      '1',
    ]);
    const t = setTimeout(() => w.child.kill('SIGKILL'), 8000);
    const end = await w.exited;
    clearTimeout(t);
    assert.equal(end.code, 0, w.stderr());
    assert.match(w.stderr(), new RegExp(`listening: hep udp://127\\.0\\.0\\.1:${port}`));
    assert.match(w.stderr(), /stopped: 0 SIP frames/);
  } finally {
    cleanup(dir);
  }
});
