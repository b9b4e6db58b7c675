import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDuration, runBlock } from '../../../src/cli/block.js';
import { UsageError } from '../../../src/cli/exit-codes.js';
import { readStateFile, writeStateFile } from '../../../src/sinks/block/writer.js';
import { BlockList } from '../../../src/sinks/block/block-list.js';

const NOW = Date.parse('2026-11-24T10:00:00.000Z');

async function run(args: string[], now = NOW) {
  let out = '';
  let err = '';
  const code = await runBlock(args, { now: () => now, stdout: (s) => (out += s), stderr: (s) => (err += s) });
  return { code, out, err };
}

test('block add, list, unblock on a state file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sipwarden-cli-block-'));
  try {
    const state = join(dir, 'state.json');
    const add = await run(['add', '203.0.113.7', '--for', '1h', '--state', state]);
    assert.equal(add.code, 0, add.err);
    assert.equal(
      add.out,
      'blocked 203.0.113.7 until 2026-11-24T11:00:00.000Z (1h)\n' +
        "apply now (as root):\n  nft add element inet sipwarden blocked4 '{ 203.0.113.7 timeout 3600s }'\n",
    );
    const list = await run(['list', '--state', state], NOW + 60_000);
    assert.equal(list.code, 0);
    assert.match(
      list.out,
      /^203\.0\.113\.7 +until 2026-11-24T11:00:00\.000Z {2}\(59m left\) +critical {2}strike 1 {2}manual\n1 blocked\n$/,
    );
    const json = await run(['list', '--state', state, '--format', 'json']);
    assert.deepEqual(
      (JSON.parse(json.out) as { key: string; manual: boolean }[]).map((e) => [e.key, e.manual]),
      [['203.0.113.7', true]],
    );
    const un = await run(['unblock', '203.0.113.7', '--state', state]);
    assert.equal(un.code, 0);
    assert.equal(
      un.out,
      "unblocked 203.0.113.7\napply now (as root):\n  nft delete element inet sipwarden blocked4 '{ 203.0.113.7 }'\n",
    );
    assert.equal((await run(['list', '--state', state])).out, 'no blocked addresses\n');
    const again = await run(['unblock', '203.0.113.7', '--state', state]);
    assert.equal(again.code, 1);
    assert.match(again.err, /is not blocked/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('block add rewrites the outputs recorded in the state', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sipwarden-cli-block-'));
  try {
    const state = join(dir, 'state.json');
    const outputs = {
      plain: join(dir, 'list.txt'),
      nftables: join(dir, 'list.nft'),
      fail2ban: join(dir, 'block.log'),
    };
    await writeStateFile(state, {
      format: 'sipwarden-block-state',
      version: 1,
      savedAt: '2026-11-24T09:00:00.000Z',
      dryRun: false,
      outputs,
      list: new BlockList({ ipv6Prefix: 64 }).toJSON(),
    });
    const r = await run(['add', '2001:db8:5:6::7', '--state', state]);
    assert.equal(r.code, 0, r.err);
    assert.match(readFileSync(outputs.plain, 'utf8'), /\n2001:db8:5:6::\/64\n$/);
    assert.match(
      readFileSync(outputs.nftables, 'utf8'),
      /add element inet sipwarden blocked6 \{ 2001:db8:5:6::\/64 timeout 86400s \}\n$/,
    );
    assert.equal(
      readFileSync(outputs.fail2ban, 'utf8'),
      '2026-11-24T10:00:00.000Z sipwarden: BLOCK 2001:db8:5:6::7 rule=manual alert=manual\n',
    );
    const saved = await readStateFile(state);
    assert.equal(saved?.list.settings.ipv6Prefix, 64);
    assert.equal(saved?.list.entries[0]?.key, '2001:db8:5:6::/64');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('usage and input errors', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sipwarden-cli-block-'));
  try {
    const state = join(dir, 'state.json');
    assert.equal((await run(['add', '203.0.113.7'])).code, 2);
    assert.equal((await run(['add', 'not-an-ip', '--state', state])).code, 2);
    const lo = await run(['add', '127.0.0.1', '--state', state]);
    assert.equal(lo.code, 2);
    assert.match(lo.err, /cannot be blocked: special-address \(loopback\)/);
    assert.equal((await run(['add', '203.0.113.7', '--for', 'soon', '--state', state])).code, 2);
    assert.equal((await run(['frobnicate'])).code, 2);
    assert.equal((await run([])).code, 2);
    assert.equal((await run(['help'])).code, 0);
    assert.equal((await run(['list', '--state', state])).code, 3);
    writeFileSync(state, '{"format":"something-else"}');
    const bad = await run(['list', '--state', state]);
    assert.equal(bad.code, 3);
    assert.match(bad.err, /sipwarden-block-state/);
    writeFileSync(state, '{ not json');
    assert.equal((await run(['unblock', '203.0.113.7', '--state', state])).code, 3);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('durations', () => {
  assert.equal(parseDuration('90s'), 90_000);
  assert.equal(parseDuration('30m'), 1_800_000);
  assert.equal(parseDuration('1h'), 3_600_000);
  assert.equal(parseDuration('2d'), 172_800_000);
  assert.equal(parseDuration('1w'), 604_800_000);
  assert.equal(parseDuration('45'), 45_000);
  for (const bad of ['', '0', '1y', '-1h', '1.5h', '30w'])
    assert.throws(() => parseDuration(bad), UsageError, bad);
});
