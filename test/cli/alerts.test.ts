import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { runAlerts } from '../../src/cli/alerts.js';
import { UsageError } from '../../src/cli/exit-codes.js';
import { AlertStore } from '../../src/store/alert-store.js';
import { makeAlert, ms, tempDb, tempDir } from '../store/store-fixtures.js';

const NOW = ms('2026-11-24T06:00:00Z');

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runAlerts(args, {
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
    now: () => NOW,
  });
  return { code, out, err };
}

function seeded(): string {
  const path = tempDb();
  const s = new AlertStore({ path, now: () => NOW });
  s.put(
    makeAlert({ id: 'a1', title: 'Guessing \x1b[31mred\x1b[0m\nnext', lastSeen: '2026-11-24T05:00:00Z' }),
  );
  s.put(
    makeAlert({
      id: 'a1',
      revision: 2,
      count: 80,
      title: 'Guessing \x1b[31mred\x1b[0m\nnext',
      lastSeen: '2026-11-24T05:10:00Z',
    }),
  );
  s.put(
    makeAlert({
      id: 'b2',
      rule: 'scan.extensions',
      severity: 'medium',
      state: 'closed',
      source: { ip: '192.0.2.50' },
      firstSeen: '2026-11-20T00:00:00Z',
      raisedAt: '2026-11-20T00:00:00Z',
      lastSeen: '2026-11-20T01:00:00Z',
    }),
  );
  s.close();
  return path;
}

test('alerts lists the latest revisions as text with wire strings escaped', async () => {
  const db = seeded();
  const r = await run(['--db', db]);
  assert.equal(r.code, 0);
  const lines = r.out.trimEnd().split('\n');
  assert.equal(lines.length, 2);
  assert.match(
    lines[0] ?? '',
    /^2026-11-24T05:10:00Z {2}high {4} {2}open {4}auth\.bruteforce {2}a1 r2 {2}×80 {2}203\.0\.113\.7 → 101/,
  );
  assert.ok(lines[0]?.includes('Guessing \\x1b[31mred\\x1b[0m\\nnext'));
  assert.ok(!r.out.includes('\x1b'));
  assert.match(lines[1] ?? '', /scan\.extensions {2}b2 r1/);
});

test('alerts filters (since, rule, state, severity, limit) and prints json and jsonl', async () => {
  const db = seeded();
  const ids = async (args: string[]) =>
    (JSON.parse((await run(['--db', db, '--format', 'json', ...args])).out) as { id: string }[]).map(
      (a) => a.id,
    );
  assert.deepEqual(await ids([]), ['a1', 'b2']);
  assert.deepEqual(await ids(['--since', '2d']), ['a1']);
  assert.deepEqual(await ids(['--since', '2026-11-19', '--until', '2026-11-21T00:00:00Z']), ['b2']);
  assert.deepEqual(await ids(['--rule', 'scan.extensions']), ['b2']);
  assert.deepEqual(await ids(['--state', 'open']), ['a1']);
  assert.deepEqual(await ids(['--severity', 'high']), ['a1']);
  assert.deepEqual(await ids(['--limit', '1']), ['a1']);
  const jl = (await run(['--db', db, '--format', 'jsonl'])).out.trimEnd().split('\n');
  assert.equal(jl.length, 2);
  assert.equal((JSON.parse(jl[0] ?? '') as { revision: number }).revision, 2);
  assert.equal((await run(['--db', db, '--rule', 'none'])).out, 'no alerts\n');
});

test('show, ack, suppress, suppressions and unsuppress work on the same file', async () => {
  const db = seeded();
  const ack = await run(['ack', 'a1', '--db', db, '--by', 'alice', '--note', 'firewalled']);
  assert.deepEqual([ack.code, ack.out], [0, 'acknowledged a1 by alice\n']);
  const show = await run(['show', 'a1', '--db', db]);
  assert.equal(show.code, 0);
  assert.match(show.out, /^id {11}a1$/m);
  assert.match(show.out, /^state {8}open \(revision 2; 2 stored\)$/m);
  assert.match(show.out, /^ack {10}2026-11-24T06:00:00\.000Z by alice: firewalled$/m);
  assert.match(show.out, /^evidence {5}userAgent: "friendly-scanner"$/m);
  const showJson = JSON.parse((await run(['show', 'a1', '--db', db, '--format', 'json'])).out) as {
    alert: { count: number };
    revisions: unknown[];
    acks: { by: string }[];
  };
  assert.deepEqual([showJson.alert.count, showJson.revisions.length, showJson.acks[0]?.by], [80, 2, 'alice']);

  const sup = await run([
    'suppress',
    '--db',
    db,
    '--source',
    '203.0.113.0/24',
    '--for',
    '24h',
    '--reason',
    'pen test',
  ]);
  assert.equal(sup.code, 0);
  assert.equal(sup.out, 'suppression 1: source=203.0.113.0/24 until 2026-11-25T06:00:00.000Z (pen test)\n');
  const listed = await run(['--db', db, '--format', 'json']);
  assert.deepEqual(
    (JSON.parse(listed.out) as { id: string }[]).map((a) => a.id),
    ['b2'],
    'the suppressed alert is hidden',
  );
  const all = JSON.parse((await run(['--db', db, '--format', 'json', '--all'])).out) as {
    id: string;
    suppressedBy?: number;
  }[];
  assert.deepEqual(
    all.map((a) => [a.id, a.suppressedBy]),
    [
      ['a1', 1],
      ['b2', undefined],
    ],
  );
  const sups = await run(['suppressions', '--db', db]);
  assert.equal(sups.out, '1\tactive \tsource=203.0.113.0/24 until 2026-11-25T06:00:00.000Z (pen test)\n');
  assert.deepEqual(await run(['unsuppress', '1', '--db', db]), {
    code: 0,
    out: 'suppression 1 removed\n',
    err: '',
  });
  assert.equal((await run(['suppressions', '--db', db])).out, 'no suppressions\n');
});

test('unknown ids and suppressions are input errors (exit 3) with a message', async () => {
  const db = seeded();
  assert.deepEqual(await run(['show', 'zz', '--db', db]), {
    code: 3,
    out: '',
    err: "sipwarden: no alert with id 'zz'\n",
  });
  assert.equal((await run(['ack', 'zz', '--db', db])).code, 3);
  assert.deepEqual(await run(['unsuppress', '7', '--db', db]), {
    code: 3,
    out: '',
    err: 'sipwarden: no suppression 7\n',
  });
});

test('a bad database is exit 3 naming the file, and is never created', async () => {
  const dir = tempDir();
  const missing = join(dir, 'missing.db');
  const r = await run(['--db', missing]);
  assert.equal(r.code, 3);
  assert.ok(r.err.startsWith(`sipwarden: ${missing}: cannot open database`), r.err);
  assert.equal(existsSync(missing), false);
  const junk = join(dir, 'junk.db');
  writeFileSync(junk, 'not a database, only text, long enough to fill a SQLite header of 100 bytes........');
  const j = await run(['suppressions', '--db', junk]);
  assert.equal(j.code, 3);
  assert.equal(j.err, `sipwarden: ${junk}: not a SQLite database (setting WAL mode)\n`);
});

test('usage errors throw UsageError before the database is opened', async () => {
  const missing = join(tempDir(), 'never.db');
  const bad: string[][] = [
    ['frobnicate'],
    ['--format', 'xml'],
    ['--since', 'yesterday'],
    ['--state', 'new'],
    ['--severity', 'urgent'],
    ['--limit', '0'],
    ['--bogus'],
    ['show'],
    ['show', 'a', 'b'],
    ['show', 'a', '--rule', 'x'],
    ['ack', 'a', '--for', '1h'],
    ['suppress', '--rule', 'x'],
    ['suppress', '--rule', 'x', '--for', 'ever'],
    ['suppress', '--for', '1h'],
    ['suppress', '--source', '10.0.0.0/99', '--for', '1h'],
    ['unsuppress', 'one'],
    ['suppressions', '--format', 'jsonl'],
  ];
  for (const args of bad) await assert.rejects(run(['--db', missing, ...args]), UsageError, args.join(' '));
  assert.equal(existsSync(missing), false);
});
