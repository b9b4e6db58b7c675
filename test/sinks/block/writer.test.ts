import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AlertJson } from '../../../src/core/alert.js';
import { BlockList } from '../../../src/sinks/block/block-list.js';
import { BlockingConfigSchema, DEFAULT_BLOCK_RULES } from '../../../src/sinks/block/config.js';
import { renderIpset, renderNftables, renderPlain } from '../../../src/sinks/block/formats.js';
import { BlockWriter, readStateFile } from '../../../src/sinks/block/writer.js';

const NOW = Date.parse('2026-11-24T10:00:00.000Z');

function alert(ip: string, id = `id-${ip}`): AlertJson {
  return {
    schemaVersion: 1,
    id,
    revision: 1,
    state: 'open',
    rule: 'auth.bruteforce',
    severity: 'high',
    title: 't',
    site: 'default',
    sensor: 's',
    firstSeen: '2026-11-24T09:58:00.000Z',
    raisedAt: '2026-11-24T09:59:00.000Z',
    lastSeen: '2026-11-24T09:59:59.000Z',
    count: 9,
    source: { ip },
    evidence: {},
    remediation: '',
    references: [],
  };
}

function setup(over: Record<string, unknown> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'sipwarden-block-'));
  const config = BlockingConfigSchema.parse({
    enabled: true,
    outputs: {
      nftables: join(dir, 'blocklist.nft'),
      ipset: join(dir, 'blocklist.ipset'),
      fail2ban: join(dir, 'block.log'),
      plain: join(dir, 'blocklist.txt'),
    },
    stateFile: join(dir, 'state.json'),
    ...over,
  });
  const lines: string[] = [];
  const ran: string[][] = [];
  const list = new BlockList({ hasReturnPath: (ip) => ip !== '203.0.113.66' });
  const writer = new BlockWriter({
    config,
    list,
    now: () => NOW,
    log: (l) => lines.push(l),
    runCommand: (argv) => {
      ran.push([...argv]);
      return Promise.resolve({ code: 0, output: '' });
    },
  });
  return { dir, config, writer, lines, ran, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

test('config: off by default, dry run by default, documented defaults, strict keys', () => {
  const c = BlockingConfigSchema.parse({});
  assert.equal(c.enabled, false);
  assert.equal(c.dryRun, true);
  assert.deepEqual(c.rules, [...DEFAULT_BLOCK_RULES]);
  assert.equal(c.minSeverity, 'medium');
  assert.equal(c.durationMs, 86_400_000);
  assert.equal(c.maxDurationMs, 7 * 86_400_000);
  assert.equal(c.ipv6Prefix, 128);
  assert.deepEqual(c.outputs, {});
  assert.equal(BlockingConfigSchema.safeParse({ durationMs: 10_000, maxDurationMs: 5_000 }).success, false);
  assert.equal(BlockingConfigSchema.safeParse({ outputs: { iptables: '/x' } }).success, false);
  assert.equal(BlockingConfigSchema.safeParse({ ipv6Prefix: 32 }).success, false);
  assert.equal(BlockingConfigSchema.safeParse({ durationMs: 30 * 86_400_000 }).success, false);
  assert.equal(BlockingConfigSchema.safeParse({ command: { argv: [] } }).success, false);
  const cmd = BlockingConfigSchema.parse({ command: { argv: ['sudo', '-n', '/usr/sbin/nft', '-f'] } });
  assert.equal(cmd.command?.output, 'nftables');
});

test('dry run: decisions are logged, only .dryrun previews are written, no command runs', async () => {
  const s = setup({ command: { argv: ['sudo', '-n', 'nft', '-f'] } });
  try {
    const d = s.writer.handle(alert('203.0.113.7'));
    assert.equal(d.outcome, 'blocked');
    assert.equal(s.writer.handle(alert('203.0.113.66')).reason, 'no-return-path');
    const report = await s.writer.flush();
    assert.deepEqual(report.errors, []);
    assert.deepEqual(readdirSync(s.dir).sort(), [
      'block.log.dryrun',
      'blocklist.ipset.dryrun',
      'blocklist.nft.dryrun',
      'blocklist.txt.dryrun',
      'state.json.dryrun',
    ]);
    assert.deepEqual(s.ran, []);
    assert.equal(readFileSync(join(s.dir, 'blocklist.txt.dryrun'), 'utf8').split('\n')[1], '203.0.113.7');
    assert.deepEqual(s.lines, [
      'block (dry run): 203.0.113.7 for 1d (strike 1, auth.bruteforce alert id-203.0.113.7)',
      'block (dry run): not 203.0.113.66: no-return-path (auth.bruteforce alert id-203.0.113.66)',
    ]);
  } finally {
    s.cleanup();
  }
});

test('disabled: nothing is considered or written', async () => {
  const s = setup({ enabled: false });
  try {
    assert.equal(s.writer.handle(alert('203.0.113.7')).reason, 'disabled');
    assert.equal(s.writer.list.size, 0);
    const r = await s.writer.flush();
    assert.deepEqual(r.written, []);
    assert.deepEqual(readdirSync(s.dir), []);
  } finally {
    s.cleanup();
  }
});

test('live: exact outputs written atomically, fail2ban appended, state saved, command hook run', async () => {
  const s = setup({ dryRun: false, command: { argv: ['sudo', '-n', '/usr/sbin/nft', '-f'] } });
  try {
    s.writer.handle(alert('203.0.113.7'));
    s.writer.handle(alert('198.51.100.9'));
    const r = await s.writer.flush();
    assert.deepEqual(r.errors, []);
    assert.deepEqual(readdirSync(s.dir).sort(), [
      'block.log',
      'blocklist.ipset',
      'blocklist.nft',
      'blocklist.txt',
      'state.json',
    ]);
    const entries = s.writer.list.list(NOW);
    assert.equal(readFileSync(join(s.dir, 'blocklist.nft'), 'utf8'), renderNftables(entries, NOW));
    assert.equal(readFileSync(join(s.dir, 'blocklist.ipset'), 'utf8'), renderIpset(entries, NOW));
    assert.equal(readFileSync(join(s.dir, 'blocklist.txt'), 'utf8'), renderPlain(entries, NOW));
    assert.equal(
      readFileSync(join(s.dir, 'block.log'), 'utf8'),
      '2026-11-24T10:00:00.000Z sipwarden: BLOCK 203.0.113.7 rule=auth.bruteforce alert=id-203.0.113.7\n' +
        '2026-11-24T10:00:00.000Z sipwarden: BLOCK 198.51.100.9 rule=auth.bruteforce alert=id-198.51.100.9\n',
    );
    assert.deepEqual(s.ran, [['sudo', '-n', '/usr/sbin/nft', '-f', join(s.dir, 'blocklist.nft')]]);
    // Nothing changed: the next flush writes nothing; an unblock writes again without a fail2ban line.
    assert.deepEqual((await s.writer.flush()).written, []);
    assert.equal(s.writer.unblock('198.51.100.9')?.key, '198.51.100.9');
    await s.writer.flush();
    assert.equal(
      readFileSync(join(s.dir, 'blocklist.txt'), 'utf8').split('\n').slice(1).join(','),
      '203.0.113.7,',
    );
    assert.equal(readFileSync(join(s.dir, 'block.log'), 'utf8').split('\n').length, 3);
    // A restart restores the list from the state file.
    const state = await readStateFile(join(s.dir, 'state.json'));
    assert.equal(state?.dryRun, false);
    assert.equal(state?.outputs.nftables, join(s.dir, 'blocklist.nft'));
    const again = new BlockWriter({ config: s.config, list: new BlockList(), now: () => NOW + 1000 });
    assert.deepEqual(await again.load(), { restored: 1, dropped: 0 });
    assert.equal(again.list.lookup('203.0.113.7', NOW + 1000)?.rule, 'auth.bruteforce');
  } finally {
    s.cleanup();
  }
});

test('the default command runner runs argv without a shell, with the file appended', async () => {
  const s = setup({
    dryRun: false,
    command: {
      argv: [
        process.execPath,
        '-e',
        'require("fs").writeFileSync(process.argv[1] + ".ran", process.argv[1])',
      ],
      timeoutMs: 10_000,
    },
  });
  try {
    const writer = new BlockWriter({
      config: s.config,
      list: new BlockList({ hasReturnPath: () => true }),
      now: () => NOW,
    });
    writer.handle(alert('203.0.113.7'));
    const r = await writer.flush();
    assert.equal(r.command?.code, 0);
    const nft = join(s.dir, 'blocklist.nft');
    assert.equal(readFileSync(`${nft}.ran`, 'utf8'), nft);
    const failing = new BlockWriter({
      config: {
        ...s.config,
        command: { argv: [process.execPath, '-e', 'process.exit(3)'], output: 'nftables', timeoutMs: 10_000 },
      },
      list: new BlockList({ hasReturnPath: () => true }),
      now: () => NOW,
    });
    failing.handle(alert('203.0.113.8'));
    const f = await failing.flush();
    assert.equal(f.command?.code, 3);
    assert.equal(f.errors.length, 1);
  } finally {
    s.cleanup();
  }
});

test('write errors are reported, not thrown', async () => {
  const s = setup({
    dryRun: false,
    outputs: { plain: '/nonexistent-dir/sipwarden/list.txt' },
    stateFile: undefined,
  });
  try {
    s.writer.handle(alert('203.0.113.7'));
    const r = await s.writer.flush();
    assert.equal(r.errors.length, 1);
    assert.match(r.errors[0] as string, /^\/nonexistent-dir\/sipwarden\/list\.txt: /);
    assert.match(s.lines.at(-1) as string, /^block: write failed: /);
  } finally {
    s.cleanup();
  }
});

test('the plain list over HTTP (loopback): text/plain, GET and HEAD only', async () => {
  const s = setup({ dryRun: false });
  s.writer.handle(alert('203.0.113.7'));
  const server = createServer(s.writer.plainHandler());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const port = (server.address() as AddressInfo).port;
    const res = await fetch(`http://127.0.0.1:${port}/blocklist.txt`, { signal: AbortSignal.timeout(5000) });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/plain; charset=utf-8');
    assert.equal(
      await res.text(),
      '# sipwarden block list, generated 2026-11-24T10:00:00.000Z: 1 entries, one address or CIDR per line\n203.0.113.7\n',
    );
    const post = await fetch(`http://127.0.0.1:${port}/`, {
      method: 'POST',
      signal: AbortSignal.timeout(5000),
    });
    assert.equal(post.status, 405);
    await post.text();
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    s.cleanup();
  }
});
