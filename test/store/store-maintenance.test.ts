import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { STORE_JOURNAL_MAX_ENTRY_BYTES } from '../../src/config/limits.js';
import { AlertStore, StoreError, storeOptionsFromConfig } from '../../src/store/alert-store.js';
import { SCHEMA_VERSION } from '../../src/store/migrations.js';
import { StoreConfigSchema } from '../../src/store/store-config.js';
import { makeAlert, ms, tempDb, tempDir } from './store-fixtures.js';

const NOW = ms('2026-11-24T06:00:00Z');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

function open(path = tempDb(), extra: Partial<ConstructorParameters<typeof AlertStore>[0]> = {}) {
  return new AlertStore({ path, now: () => NOW, ...extra });
}

test('the counter table keeps its row bound by evicting the oldest minutes', () => {
  const s = open(tempDb(), { bounds: { maxCounterRows: 50 } });
  for (let i = 0; i < 120; i++)
    s.addCounters([
      {
        minute: i * 60_000,
        site: 'x',
        sensor: 'y',
        messages: i,
        failures: 0,
        calls: 0,
        topSources: [],
        topIdentities: [],
      },
    ]);
  const rows = s.counters({ since: 0, until: 1e9, limit: 1000 });
  assert.ok(rows.length <= 50 && rows.length > 0, String(rows.length));
  assert.equal(rows[rows.length - 1]?.messages, 119);
  assert.ok(s.stats.evicted.counters >= 70);
  s.close();
});

test('the journal iterates since a time, filters by kind, pages safely while writing', () => {
  const s = open();
  for (let i = 0; i < 1200; i++) s.journalAppend(i % 2 === 0 ? 'sip' : 'log', `event ${i}`, NOW + i);
  const since = [...s.journalSince(NOW + 1000)];
  assert.equal(since.length, 200);
  assert.equal(since[0]?.data.toString(), 'event 1000');
  assert.equal(since[0]?.at, NOW + 1000);
  assert.equal([...s.journalSince(NOW, 'log')].length, 600);
  // Writing between pages (replay raising alerts) must not break the iteration.
  let n = 0;
  for (const e of s.journalSince(NOW)) {
    if (n++ % 1000 === 0) s.put(makeAlert({ id: `replay-${e.seq}` }));
  }
  assert.equal(n, 1200);
  assert.equal(s.journalAppend('big', Buffer.alloc(STORE_JOURNAL_MAX_ENTRY_BYTES + 1)), undefined);
  assert.equal(s.stats.journalRejected, 1);
  s.close();
});

test('the journal keeps its byte bound and its age bound', () => {
  const s = open(tempDb(), { journalMaxBytes: 10_000, retention: { journalMs: 60_000 } });
  for (let i = 0; i < 100; i++) s.journalAppend('e', Buffer.alloc(500, i), NOW + i);
  const kept = [...s.journalSince(0)];
  const bytes = kept.reduce((a, e) => a + e.data.length, 0);
  assert.ok(bytes <= 10_000, String(bytes));
  assert.equal(kept[kept.length - 1]?.data[0], 99);
  assert.ok(s.stats.evicted.journal >= 80);
  // Two minutes later (append time), the age sweep removes what is older than one minute.
  s.journalAppend('e', 'late', NOW + 120_000);
  assert.deepEqual(
    [...s.journalSince(0)].map((e) => e.data.toString()),
    ['late'],
  );
  s.close();
});

test('prune removes old revisions, closed alerts with their acks, counters, journal, suppressions', () => {
  const s = open(tempDb(), { retention: { journalMs: 2 * HOUR } });
  const old = {
    firstSeen: '2026-09-01T00:00:00Z',
    raisedAt: '2026-09-01T00:00:00Z',
    lastSeen: '2026-09-01T01:00:00Z',
  };
  s.put(makeAlert({ id: 'old-closed', ...old }));
  s.put(makeAlert({ id: 'old-closed', ...old, revision: 2, state: 'closed' }));
  s.ack('old-closed', 'bob');
  s.put(makeAlert({ id: 'old-open', ...old }));
  s.put(makeAlert({ id: 'old-open', ...old, revision: 2 }));
  s.put(makeAlert({ id: 'fresh' }));
  s.suppress({ rule: 'x', until: NOW - 40 * DAY });
  s.suppress({ rule: 'y', until: NOW + DAY });
  s.addCounters([
    {
      minute: NOW - 40 * DAY,
      site: 'a',
      sensor: 'b',
      messages: 1,
      failures: 0,
      calls: 0,
      topSources: [],
      topIdentities: [],
    },
  ]);
  s.addCounters([
    {
      minute: NOW - HOUR,
      site: 'a',
      sensor: 'b',
      messages: 1,
      failures: 0,
      calls: 0,
      topSources: [],
      topIdentities: [],
    },
  ]);
  s.journalAppend('e', 'old', NOW - HOUR);
  s.journalAppend('e', 'new', NOW - 60_000);
  const r = s.prune(NOW, { alertsMs: 30 * DAY, countersMs: 30 * DAY, journalMs: 10 * 60_000 });
  assert.deepEqual(r, { revisions: 3, alerts: 1, acks: 1, counters: 1, journal: 1, suppressions: 1 });
  assert.equal(s.get('old-closed'), undefined);
  assert.equal(s.get('old-open')?.alert.revision, 2, 'the latest row of an open alert stays');
  assert.deepEqual(
    s.revisions('old-open').map((x) => x.alert.revision),
    [2],
  );
  assert.ok(s.get('fresh'));
  assert.deepEqual(
    s.suppressions().map((x) => x.rule),
    ['y'],
  );
  assert.deepEqual(
    [...s.journalSince(0)].map((e) => e.data.toString()),
    ['new'],
  );
  assert.deepEqual(s.prune(NOW), {
    revisions: 0,
    alerts: 0,
    acks: 0,
    counters: 0,
    journal: 0,
    suppressions: 0,
  });
  s.close();
});

test('revision and alert tables keep their bounds; open alerts keep their latest revision', () => {
  const s = open(tempDb(), { bounds: { maxRevisions: 100, maxAlerts: 40 } });
  s.put(
    makeAlert({
      id: 'keep-open',
      lastSeen: '2026-01-01T00:00:00Z',
      firstSeen: '2026-01-01T00:00:00Z',
      raisedAt: '2026-01-01T00:00:00Z',
    }),
  );
  for (let i = 0; i < 300; i++) s.put(makeAlert({ id: `a${i}`, state: 'closed' }));
  assert.ok(s.readAfter(0, 10_000).length <= 100);
  assert.ok(s.stats.evicted.revisions >= 200);
  assert.ok(s.list({ limit: 1000 }).length <= 40);
  assert.ok(s.get('keep-open'), 'an open alert outlives closed ones');
  assert.equal(s.readAfter(0, 1)[0]?.alert.id, 'keep-open');
  s.close();
});

test('opening errors name the file: not a database, missing, no directory, locked, newer schema', () => {
  const dir = tempDir();
  const junk = join(dir, 'junk.db');
  writeFileSync(junk, 'this is not sqlite at all, just some text that is long enough to be a header');
  const code = (c: string, file: string) => (e: unknown) =>
    e instanceof StoreError && e.code === c && e.file === file && e.message.startsWith(file);
  assert.throws(() => open(junk), code('not_a_database', junk));
  const missing = join(dir, 'missing.db');
  assert.throws(() => open(missing, { create: false }), code('cannot_open', missing));
  const nodir = join(dir, 'no', 'such', 'dir.db');
  assert.throws(() => open(nodir), code('cannot_open', nodir));
  assert.throws(
    () => open(dir),
    (e: unknown) => e instanceof StoreError && e.message.startsWith(dir),
  );

  const locked = join(dir, 'locked.db');
  open(locked).close();
  const holder = new Database(locked);
  holder.exec('BEGIN EXCLUSIVE');
  const t0 = Date.now();
  assert.throws(() => open(locked, { busyTimeoutMs: 50 }), code('locked', locked));
  assert.ok(Date.now() - t0 < 2000);
  holder.exec('ROLLBACK');
  holder.close();

  const newer = join(dir, 'newer.db');
  open(newer).close();
  const raw = new Database(newer);
  raw.prepare('INSERT INTO schema_migrations (version, name, applied_ms) VALUES (99, ?, 0)').run('future');
  raw.close();
  assert.throws(
    () => open(newer),
    (e: unknown) => code('newer_schema', newer)(e) && /99/.test(String(e)),
  );

  const s = open();
  s.close();
  assert.throws(
    () => s.list(),
    (e: unknown) => e instanceof StoreError && e.code === 'closed',
  );
});

test('a fresh file records its migrations; reopening applies none again', () => {
  const path = tempDb();
  open(path).close();
  open(path).close();
  const raw = new Database(path, { readonly: true });
  assert.deepEqual(raw.prepare('SELECT version, name FROM schema_migrations').all(), [
    { version: 1, name: 'initial' },
  ]);
  assert.equal(raw.pragma('user_version', { simple: true }), SCHEMA_VERSION);
  raw.close();
});

test('StoreConfigSchema gives defaults and maps to store options', () => {
  const c = StoreConfigSchema.parse({});
  assert.deepEqual(c, {
    path: './sipwarden.db',
    retentionDays: 30,
    synchronous: 'normal',
    journalMaxBytes: 64 * 1024 * 1024,
    journalMaxAgeMinutes: 15,
  });
  assert.throws(() => StoreConfigSchema.parse({ synchronous: 'off' }));
  assert.throws(() => StoreConfigSchema.parse({ retention: 3 }));
  const o = storeOptionsFromConfig(
    StoreConfigSchema.parse({ path: 'x.db', retentionDays: 7, synchronous: 'full' }),
  );
  assert.equal(o.synchronous, 'full');
  assert.equal(o.retention?.alertsMs, 7 * DAY);
  assert.equal(o.retention?.journalMs, 15 * 60_000);
  const s = open(tempDb(), { synchronous: 'full' });
  s.put(makeAlert());
  assert.equal(s.list().length, 1);
  s.close();
});
