/**
 * The store's schema, as an ordered list of migrations. A database records every migration it has
 * applied in `schema_migrations` and its version in `PRAGMA user_version`; opening applies the
 * missing ones in one immediate transaction (two processes opening a fresh file cannot both migrate)
 * and refuses a file written by a newer sipwarden. Never edit a shipped migration: add one.
 */
import type { Database } from 'better-sqlite3';

/** One schema step. */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

/** Every migration, in order; the last one's version is the current schema version. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'initial',
    sql: `
      -- Every revision ever committed, append-only; seq is the outbox position sinks are fed from.
      -- AUTOINCREMENT: a seq is never reused after the newest rows are pruned, so a sink cursor
      -- can never point at a different revision than the one it delivered.
      CREATE TABLE alert_revisions (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL,
        revision INTEGER NOT NULL,
        rule TEXT NOT NULL,
        severity TEXT NOT NULL,
        state TEXT NOT NULL,
        site TEXT NOT NULL,
        sensor TEXT NOT NULL,
        first_seen_ms INTEGER NOT NULL,
        raised_at_ms INTEGER NOT NULL,
        last_seen_ms INTEGER NOT NULL,
        stored_at_ms INTEGER NOT NULL,
        source_ip TEXT,
        identity TEXT,
        json TEXT NOT NULL,
        UNIQUE (id, revision)
      );
      CREATE INDEX alert_revisions_last_seen ON alert_revisions (last_seen_ms);

      -- The latest revision of each alert (what 'alerts' lists).
      CREATE TABLE alerts (
        id TEXT PRIMARY KEY,
        seq INTEGER NOT NULL,
        revision INTEGER NOT NULL,
        rule TEXT NOT NULL,
        severity TEXT NOT NULL,
        severity_rank INTEGER NOT NULL,
        state TEXT NOT NULL,
        site TEXT NOT NULL,
        sensor TEXT NOT NULL,
        first_seen_ms INTEGER NOT NULL,
        raised_at_ms INTEGER NOT NULL,
        last_seen_ms INTEGER NOT NULL,
        source_ip TEXT,
        identity TEXT,
        json TEXT NOT NULL
      );
      CREATE INDEX alerts_last_seen ON alerts (last_seen_ms);
      CREATE INDEX alerts_rule ON alerts (rule, last_seen_ms);
      CREATE INDEX alerts_seq ON alerts (seq);

      CREATE TABLE acks (
        n INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL,
        by TEXT NOT NULL,
        note TEXT,
        at_ms INTEGER NOT NULL
      );
      CREATE INDEX acks_id ON acks (id, n);

      CREATE TABLE suppressions (
        n INTEGER PRIMARY KEY AUTOINCREMENT,
        rule TEXT,
        source TEXT,
        identity TEXT,
        until_ms INTEGER NOT NULL,
        reason TEXT,
        created_ms INTEGER NOT NULL
      );
      CREATE INDEX suppressions_until ON suppressions (until_ms);

      CREATE TABLE counters (
        minute_ms INTEGER NOT NULL,
        site TEXT NOT NULL,
        sensor TEXT NOT NULL,
        messages INTEGER NOT NULL,
        failures INTEGER NOT NULL,
        calls INTEGER NOT NULL,
        top_sources TEXT NOT NULL,
        top_identities TEXT NOT NULL,
        PRIMARY KEY (minute_ms, site, sensor)
      ) WITHOUT ROWID;

      CREATE TABLE snapshots (
        name TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        data BLOB NOT NULL,
        updated_ms INTEGER NOT NULL
      );

      CREATE TABLE journal (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        at_ms INTEGER NOT NULL,
        kind TEXT NOT NULL,
        data BLOB NOT NULL,
        bytes INTEGER NOT NULL
      );
      CREATE INDEX journal_at ON journal (at_ms);

      CREATE TABLE sink_cursors (
        sink TEXT PRIMARY KEY,
        seq INTEGER NOT NULL,
        updated_ms INTEGER NOT NULL
      );
    `,
  },
];

/** The schema version this build writes. */
export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]?.version ?? 0;

/** Result of bringing a database up to date. */
export type MigrateResult =
  { ok: true; from: number; to: number } | { ok: false; found: number; supported: number };

/** Applies the migrations `db` lacks; refuses (ok: false) a database newer than this build. */
export function migrate(db: Database, now: number): MigrateResult {
  const run = db.transaction((): MigrateResult => {
    db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version INTEGER PRIMARY KEY,
      name TEXT NOT NULL,
      applied_ms INTEGER NOT NULL
    )`);
    const row = db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as {
      v: number | null;
    };
    const from = row.v ?? 0;
    if (from > SCHEMA_VERSION) return { ok: false, found: from, supported: SCHEMA_VERSION };
    const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_ms) VALUES (?, ?, ?)');
    for (const m of MIGRATIONS) {
      if (m.version <= from) continue;
      db.exec(m.sql);
      record.run(m.version, m.name, Math.floor(now));
    }
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
    return { ok: true, from, to: SCHEMA_VERSION };
  });
  return run.immediate();
}
