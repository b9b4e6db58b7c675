/**
 * The alert store (DESIGN.md "Storage and scale-out"): one SQLite file in WAL mode that every alert
 * revision is committed to before any sink sees it. Sinks are fed from it (`readAfter` + a cursor per
 * sink), so a sink that is down loses nothing. It also keeps acknowledgements, suppressions,
 * per-minute counters, detector snapshots and a bounded journal of recent events for replay.
 *
 * Durability (the contract: no alert whose `put` returned is lost when the process is killed -9):
 * a WAL commit has written its frames to the -wal file with write(2) before `put` returns, so they
 * are in the kernel's page cache and survive the death of the process whatever `synchronous` says;
 * the next open replays them. What `synchronous` decides is power loss and kernel panic:
 * - `normal` (default): the WAL is fsynced only at checkpoints. The database always stays
 *   consistent, but the last commits before a power cut may be rolled back. It costs no fsync per
 *   alert, which matters when an attack makes hundreds of revisions a second.
 * - `full`: the WAL is fsynced at every commit; a committed alert survives power loss too, at one
 *   fsync per `put`/`putMany` (0.1-10 ms on SSDs, more on network disks). Batch with `putMany`.
 *
 * All calls are synchronous (better-sqlite3): a store call blocks the event loop for the duration
 * of one small indexed statement. Several processes may open the same file (the CLI acknowledging
 * while `watch` runs); writers wait up to STORE_BUSY_TIMEOUT_MS for one another. The journal,
 * counters and eviction bookkeeping assume one writing sensor per file.
 */
import Database from 'better-sqlite3';
import type { Database as Db, Statement } from 'better-sqlite3';
import {
  STORE_BUSY_TIMEOUT_MS,
  STORE_COUNTER_TOP_N,
  STORE_DEFAULT_LIST_ROWS,
  STORE_EVICT_BATCH,
  STORE_JOURNAL_MAX_AGE_MS,
  STORE_JOURNAL_MAX_BYTES,
  STORE_JOURNAL_MAX_ENTRY_BYTES,
  STORE_MAX_ACKS_PER_ALERT,
  STORE_MAX_ACTIVE_SUPPRESSIONS,
  STORE_MAX_ALERT_JSON_BYTES,
  STORE_MAX_ALERT_REVISIONS,
  STORE_MAX_ALERTS,
  STORE_MAX_COUNTER_ROWS,
  STORE_MAX_KEY_CHARS,
  STORE_MAX_NOTE_CHARS,
  STORE_MAX_READ_ROWS,
  STORE_MAX_SNAPSHOT_BYTES,
} from '../config/limits.js';
import { isSeverity, severityRank, type AlertJson, type Severity } from '../core/alert.js';
import { migrate, SCHEMA_VERSION } from './migrations.js';
import type { StoreConfig } from './store-config.js';
import {
  compileSuppression,
  normalizeSource,
  suppressionMatches,
  type CompiledSuppression,
  type Suppression,
} from './suppression.js';

export type { Suppression } from './suppression.js';

const DAY_MS = 86_400_000;

/** Why a store operation failed. */
export type StoreErrorCode =
  | 'cannot_open'
  | 'not_a_database'
  | 'locked'
  | 'read_only'
  | 'corrupt'
  | 'newer_schema'
  | 'disk_full'
  | 'io'
  | 'invalid'
  | 'full'
  | 'closed';

/** A store failure; the message names the database file and what went wrong. */
export class StoreError extends Error {
  override readonly name = 'StoreError';
  constructor(
    readonly code: StoreErrorCode,
    readonly file: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${file}: ${message}`, options);
  }
}

/** How long each kind of record is kept (milliseconds). */
export interface StoreRetention {
  /** Alert revisions, closed alerts with their acknowledgements, expired suppressions. */
  alertsMs: number;
  /** Per-minute counters. */
  countersMs: number;
  /** Journal entries (also enforced on every append). */
  journalMs: number;
}

/** Row bounds of the tables traffic grows (limits.ts `store`). */
export interface StoreBounds {
  maxRevisions: number;
  maxAlerts: number;
  maxCounterRows: number;
}

/** Options of `new AlertStore`. */
export interface StoreOptions {
  path: string;
  /** See the file comment; default `normal`. */
  synchronous?: 'normal' | 'full';
  /** Create the file when it does not exist (default true; the CLI passes false). */
  create?: boolean;
  retention?: Partial<StoreRetention>;
  journalMaxBytes?: number;
  /** Milliseconds to wait for another process's lock (default STORE_BUSY_TIMEOUT_MS). */
  busyTimeoutMs?: number;
  /** Row bounds (default the STORE_MAX_* limits); smaller ones are for tests. */
  bounds?: Partial<StoreBounds>;
  /** Wall clock for acknowledgement and suppression times and `list`'s suppression check. */
  now?: () => number;
}

/** Store options from the validated configuration. */
export function storeOptionsFromConfig(config: StoreConfig, now?: () => number): StoreOptions {
  return {
    path: config.path,
    synchronous: config.synchronous,
    retention: {
      alertsMs: config.retentionDays * DAY_MS,
      countersMs: config.retentionDays * DAY_MS,
      journalMs: config.journalMaxAgeMinutes * 60_000,
    },
    journalMaxBytes: config.journalMaxBytes,
    ...(now !== undefined ? { now } : {}),
  };
}

/** An acknowledgement of an alert. */
export interface AlertAck {
  n: number;
  id: string;
  by: string;
  note?: string;
  at: number;
}

/** The latest revision of an alert with what people did about it. */
export interface StoredAlert {
  /** Outbox position of this revision. */
  seq: number;
  alert: AlertJson;
  acks: AlertAck[];
  /** The suppression that silences it now, if any (only when `list` included suppressed alerts). */
  suppressedBy?: number;
}

/** One committed revision, as sinks read it. */
export interface StoredRevision {
  seq: number;
  alert: AlertJson;
}

/**
 * Filters of `list`. An alert matches the time range when it was active in it (lastSeen ≥ since and
 * firstSeen ≤ until); `severity` keeps that severity and above.
 */
export interface AlertQuery {
  since?: number;
  until?: number;
  rule?: string;
  state?: 'open' | 'closed';
  severity?: Severity;
  site?: string;
  /** Include alerts an active suppression silences (default false). */
  includeSuppressed?: boolean;
  /** Default STORE_DEFAULT_LIST_ROWS, at most STORE_MAX_READ_ROWS. */
  limit?: number;
}

/** What `suppress` takes: at least one of rule, source, identity. */
export interface SuppressionInput {
  rule?: string;
  source?: string;
  identity?: string;
  until: number;
  reason?: string;
}

/** One entry of a counter's top list. */
export interface TopEntry {
  key: string;
  count: number;
}

/** Traffic counted in one minute at one sensor. */
export interface CounterRow {
  /** Start of the minute (ms since the epoch; other values are floored to the minute). */
  minute: number;
  site: string;
  sensor: string;
  messages: number;
  /** Failed authentications and error answers. */
  failures: number;
  calls: number;
  /** Busiest sources (at most STORE_COUNTER_TOP_N). */
  topSources: TopEntry[];
  /** Busiest identities (at most STORE_COUNTER_TOP_N). */
  topIdentities: TopEntry[];
}

/** A stored snapshot. */
export interface Snapshot {
  /** A Buffer when a Buffer was saved, else the parsed JSON value. */
  data: unknown;
  updatedAt: number;
}

/** One journal entry. */
export interface JournalEntry {
  seq: number;
  at: number;
  kind: string;
  data: Buffer;
}

/** What `prune` deleted. */
export interface PruneResult {
  revisions: number;
  alerts: number;
  acks: number;
  counters: number;
  journal: number;
  suppressions: number;
}

/** Counters of the store (bound evictions and ignored input). */
export interface StoreStats {
  /** Revisions ignored because (id, revision) was already stored (replays). */
  duplicates: number;
  /** Revisions stored with their evidence cut (past STORE_MAX_ALERT_JSON_BYTES). */
  truncated: number;
  /** Journal entries refused (past STORE_JOURNAL_MAX_ENTRY_BYTES). */
  journalRejected: number;
  /** Rows deleted because a table passed its bound (not by retention). */
  evicted: { revisions: number; alerts: number; counters: number; journal: number };
}

interface AlertRowParams {
  id: string;
  revision: number;
  rule: string;
  severity: string;
  severity_rank: number;
  state: string;
  site: string;
  sensor: string;
  first_seen_ms: number;
  raised_at_ms: number;
  last_seen_ms: number;
  stored_at_ms: number;
  source_ip: string | null;
  identity: string | null;
  json: string;
}

interface SuppressionRow {
  n: number;
  rule: string | null;
  source: string | null;
  identity: string | null;
  until_ms: number;
  reason: string | null;
  created_ms: number;
}

interface AckRow {
  n: number;
  id: string;
  by: string;
  note: string | null;
  at_ms: number;
}

interface CounterDbRow {
  minute_ms: number;
  site: string;
  sensor: string;
  messages: number;
  failures: number;
  calls: number;
  top_sources: string;
  top_identities: string;
}

function sqliteCode(err: unknown): string {
  const c = (err as { code?: unknown } | null)?.code;
  return typeof c === 'string' ? c : '';
}

/** Maps a better-sqlite3 failure to a StoreError naming the file. */
function toStoreError(file: string, doing: string, err: unknown, waitedMs: number): StoreError {
  if (err instanceof StoreError) return err;
  const code = sqliteCode(err);
  const detail = err instanceof Error ? err.message : String(err);
  const opt = { cause: err };
  if (code === 'SQLITE_NOTADB')
    return new StoreError('not_a_database', file, `not a SQLite database (${doing})`, opt);
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'))
    return new StoreError(
      'locked',
      file,
      `database is locked by another process (${doing}; waited ${waitedMs} ms)`,
      opt,
    );
  if (code.startsWith('SQLITE_READONLY'))
    return new StoreError(
      'read_only',
      file,
      `database or its directory is read-only (${doing}: ${detail})`,
      opt,
    );
  if (code.startsWith('SQLITE_CORRUPT'))
    return new StoreError('corrupt', file, `database is corrupt (${doing}: ${detail})`, opt);
  if (code === 'SQLITE_FULL') return new StoreError('disk_full', file, `disk full (${doing})`, opt);
  if (code.startsWith('SQLITE_CANTOPEN') || /directory does not exist/.test(detail))
    return new StoreError(
      'cannot_open',
      file,
      `cannot open database (${doing}: ${detail}); check that the file exists and its directory is writable`,
      opt,
    );
  if (code.startsWith('SQLITE_IOERR'))
    return new StoreError('io', file, `I/O error (${doing}: ${detail})`, opt);
  return new StoreError('io', file, `${doing} failed: ${detail}`, opt);
}

function isoMs(file: string, field: string, value: unknown): number {
  const ms = typeof value === 'string' ? Date.parse(value) : NaN;
  if (!Number.isFinite(ms))
    throw new StoreError('invalid', file, `alert ${field} is not an ISO time: ${String(value)}`);
  return Math.floor(ms);
}

function cut(s: string, max: number): string {
  return s.length > max ? s.slice(0, max) : s;
}

/** Merges two top lists: sums counts per key, keeps the STORE_COUNTER_TOP_N largest. */
function mergeTop(a: readonly TopEntry[], b: readonly TopEntry[]): TopEntry[] {
  const m = new Map<string, number>();
  for (const e of [...a, ...b]) {
    if (typeof e.key !== 'string' || !Number.isFinite(e.count)) continue;
    const k = cut(e.key, STORE_MAX_KEY_CHARS);
    m.set(k, (m.get(k) ?? 0) + e.count);
  }
  return [...m]
    .map(([key, count]) => ({ key, count }))
    .sort((x, y) => y.count - x.count || (x.key < y.key ? -1 : x.key > y.key ? 1 : 0))
    .slice(0, STORE_COUNTER_TOP_N);
}

function parseTop(json: string): TopEntry[] {
  const v = JSON.parse(json) as unknown;
  return Array.isArray(v) ? (v as TopEntry[]) : [];
}

function clampLimit(limit: number | undefined, dflt: number): number {
  if (limit === undefined || !Number.isFinite(limit)) return dflt;
  return Math.max(1, Math.min(STORE_MAX_READ_ROWS, Math.floor(limit)));
}

/** The SQLite alert store; see the file comment for durability and concurrency. */
export class AlertStore {
  /** The database file. */
  readonly path: string;
  /** The journal mode SQLite settled on (`wal` unless the file system cannot share memory). */
  readonly journalMode: string;
  readonly stats: StoreStats = {
    duplicates: 0,
    truncated: 0,
    journalRejected: 0,
    evicted: { revisions: 0, alerts: 0, counters: 0, journal: 0 },
  };

  private readonly db: Db;
  private readonly now: () => number;
  private readonly retention: StoreRetention;
  private readonly journalMaxBytes: number;
  private readonly bounds: StoreBounds;
  private readonly busyTimeoutMs: number;
  private readonly st: ReturnType<typeof prepareStatements>;
  private readonly listStatements = new Map<string, Statement>();
  private putTx!: (rev: AlertJson) => number;
  private putManyTx!: (revs: readonly AlertJson[]) => number[];
  private revisionRows: number;
  private alertRows: number;
  private counterRows: number;
  private journalBytes: number;
  private journalSweptAt = -Infinity;
  private suppressionCache: CompiledSuppression[] | undefined;
  private suppressionDataVersion = -1;
  private closed = false;

  constructor(options: StoreOptions) {
    this.path = options.path;
    this.now = options.now ?? Date.now;
    this.retention = {
      alertsMs: options.retention?.alertsMs ?? 30 * DAY_MS,
      countersMs: options.retention?.countersMs ?? 30 * DAY_MS,
      journalMs: options.retention?.journalMs ?? STORE_JOURNAL_MAX_AGE_MS,
    };
    this.journalMaxBytes = options.journalMaxBytes ?? STORE_JOURNAL_MAX_BYTES;
    this.bounds = {
      maxRevisions: options.bounds?.maxRevisions ?? STORE_MAX_ALERT_REVISIONS,
      maxAlerts: options.bounds?.maxAlerts ?? STORE_MAX_ALERTS,
      maxCounterRows: options.bounds?.maxCounterRows ?? STORE_MAX_COUNTER_ROWS,
    };
    this.busyTimeoutMs = options.busyTimeoutMs ?? STORE_BUSY_TIMEOUT_MS;
    let db: Db | undefined;
    let step = 'opening';
    try {
      db = new Database(options.path, {
        fileMustExist: options.create === false,
        timeout: this.busyTimeoutMs,
      });
      step = 'setting WAL mode';
      this.journalMode = String(db.pragma('journal_mode = WAL', { simple: true }));
      db.pragma(`synchronous = ${options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
      step = 'migrating the schema';
      const m = migrate(db, this.now());
      if (!m.ok)
        throw new StoreError(
          'newer_schema',
          options.path,
          `written by a newer sipwarden (schema version ${m.found}; this one knows up to ${m.supported})`,
        );
      step = 'reading the tables';
      this.st = prepareStatements(db);
      this.revisionRows = this.st.countRevisions.pluck().get() as number;
      this.alertRows = this.st.countAlerts.pluck().get() as number;
      this.counterRows = this.st.countCounters.pluck().get() as number;
      this.journalBytes = this.st.journalBytes.pluck().get() as number;
    } catch (err) {
      db?.close();
      throw toStoreError(options.path, step, err, this.busyTimeoutMs);
    }
    this.db = db;
    this.putTx = db.transaction((rev: AlertJson) => this.putOne(rev));
    this.putManyTx = db.transaction((revs: readonly AlertJson[]) => revs.map((r) => this.putOne(r)));
  }

  /** The schema version of the file (this build's). */
  get schemaVersion(): number {
    return SCHEMA_VERSION;
  }

  // ── alerts ──────────────────────────────────────────────────────────────────────────────────

  /**
   * Commits one revision and returns its outbox `seq`. A revision whose (id, revision) is already
   * stored is ignored and its existing seq returned, so replaying after a restart is idempotent.
   */
  put(rev: AlertJson): number {
    return this.write('storing an alert', () => this.putTx(rev));
  }

  /** Commits revisions in one transaction (one fsync under `full`); returns their seqs in order. */
  putMany(revs: readonly AlertJson[]): number[] {
    return this.write('storing alerts', () => this.putManyTx(revs));
  }

  /** Latest revisions, most recently seen first (see AlertQuery). */
  list(q: AlertQuery = {}): StoredAlert[] {
    return this.read('listing alerts', () => {
      const limit = clampLimit(q.limit, STORE_DEFAULT_LIST_ROWS);
      const where: string[] = [];
      const params: Record<string, string | number> = {};
      if (q.since !== undefined) {
        where.push('last_seen_ms >= @since');
        params.since = Math.floor(q.since);
      }
      if (q.until !== undefined) {
        where.push('first_seen_ms <= @until');
        params.until = Math.floor(q.until);
      }
      if (q.rule !== undefined) {
        where.push('rule = @rule');
        params.rule = q.rule;
      }
      if (q.state !== undefined) {
        where.push('state = @state');
        params.state = q.state;
      }
      if (q.severity !== undefined) {
        where.push('severity_rank >= @rank');
        params.rank = severityRank(q.severity);
      }
      if (q.site !== undefined) {
        where.push('site = @site');
        params.site = q.site;
      }
      const key = where.join(' AND ');
      let stmt = this.listStatements.get(key);
      if (stmt === undefined) {
        stmt = this.db.prepare(
          `SELECT seq, json FROM alerts ${key === '' ? '' : `WHERE ${key}`}
           ORDER BY last_seen_ms DESC, seq DESC LIMIT @limit OFFSET @offset`,
        );
        this.listStatements.set(key, stmt);
      }
      const now = this.now();
      const active = q.includeSuppressed === true ? [] : this.activeSuppressions(now);
      const out: StoredAlert[] = [];
      // Suppressed rows are skipped after the query, so page until `limit` rows are kept; the
      // scan is bounded by the table's own bound (STORE_MAX_ALERTS).
      const page = Math.max(limit, 200);
      for (let offset = 0; out.length < limit && offset <= this.bounds.maxAlerts; offset += page) {
        const rows = stmt.all({ ...params, limit: page, offset }) as { seq: number; json: string }[];
        for (const r of rows) {
          const alert = JSON.parse(r.json) as AlertJson;
          if (active.some((c) => suppressionMatches(c, alert, now))) continue;
          out.push(this.decorate(r.seq, alert, q.includeSuppressed === true ? now : undefined));
          if (out.length >= limit) break;
        }
        if (rows.length < page) break;
      }
      return out;
    });
  }

  /** The latest revision of one alert, or undefined. */
  get(id: string): StoredAlert | undefined {
    return this.read('reading an alert', () => {
      const r = this.st.getAlert.get(id) as { seq: number; json: string } | undefined;
      return r === undefined ? undefined : this.decorate(r.seq, JSON.parse(r.json) as AlertJson, this.now());
    });
  }

  /** Every stored revision of one alert, oldest first (the latest `limit` when there are more). */
  revisions(id: string, limit?: number): StoredRevision[] {
    return this.read('reading revisions', () => {
      const rows = this.st.revisions.all(id, clampLimit(limit, STORE_MAX_READ_ROWS)) as {
        seq: number;
        json: string;
      }[];
      return rows.reverse().map((r) => ({ seq: r.seq, alert: JSON.parse(r.json) as AlertJson }));
    });
  }

  /** Records an acknowledgement; undefined when no alert has this id. */
  ack(id: string, by: string, note?: string): AlertAck | undefined {
    return this.write('acknowledging an alert', () =>
      this.db.transaction((): AlertAck | undefined => {
        if (this.st.alertExists.get(id) === undefined) return undefined;
        const at = Math.floor(this.now());
        const b = cut(by, STORE_MAX_NOTE_CHARS);
        const nt = note === undefined ? null : cut(note, STORE_MAX_NOTE_CHARS);
        const n = Number(this.st.insertAck.run(id, b, nt, at).lastInsertRowid);
        this.st.trimAcks.run(id, id, STORE_MAX_ACKS_PER_ALERT);
        return { n, id, by: b, ...(nt !== null ? { note: nt } : {}), at };
      })(),
    );
  }

  // ── suppressions ────────────────────────────────────────────────────────────────────────────

  /**
   * Adds a suppression. Suppressed alerts are still stored (and reach `readAfter`): `list` hides
   * them and the sink feeder asks `isSuppressed` before delivering.
   */
  suppress(input: SuppressionInput): Suppression {
    const rule = input.rule?.trim();
    const identity = input.identity?.trim();
    let source: string | undefined;
    if (input.source !== undefined) {
      source = normalizeSource(input.source);
      if (source === undefined)
        throw new StoreError(
          'invalid',
          this.path,
          `suppression source must be an IP address or CIDR range (got '${cut(input.source, 80)}')`,
        );
    }
    if (!rule && !identity && source === undefined)
      throw new StoreError(
        'invalid',
        this.path,
        'a suppression needs a rule, a source or an identity (it would silence everything)',
      );
    if (!Number.isFinite(input.until))
      throw new StoreError('invalid', this.path, 'a suppression needs a finite end time');
    return this.write('adding a suppression', () =>
      this.db.transaction((): Suppression => {
        const now = Math.floor(this.now());
        const active = this.st.countActiveSuppressions.pluck().get(now) as number;
        if (active >= STORE_MAX_ACTIVE_SUPPRESSIONS)
          throw new StoreError(
            'full',
            this.path,
            `too many active suppressions (${active}; at most ${STORE_MAX_ACTIVE_SUPPRESSIONS})`,
          );
        const reason = input.reason === undefined ? null : cut(input.reason, STORE_MAX_NOTE_CHARS);
        const until = Math.floor(input.until);
        const n = Number(
          this.st.insertSuppression.run(rule || null, source ?? null, identity || null, until, reason, now)
            .lastInsertRowid,
        );
        // Expired suppressions are kept for the retention period as a record; bound them anyway.
        this.st.trimExpiredSuppressions.run({ now, keep: STORE_MAX_ACTIVE_SUPPRESSIONS });
        this.suppressionCache = undefined;
        return rowToSuppression({
          n,
          rule: rule || null,
          source: source ?? null,
          identity: identity || null,
          until_ms: until,
          reason,
          created_ms: now,
        });
      })(),
    );
  }

  /** Deletes suppression `n`; false when there is none. */
  unsuppress(n: number): boolean {
    return this.write('removing a suppression', () => {
      const changed = this.st.deleteSuppression.run(n).changes > 0;
      this.suppressionCache = undefined;
      return changed;
    });
  }

  /** Every stored suppression (expired ones too, until pruned), newest first. */
  suppressions(): Suppression[] {
    return this.read('listing suppressions', () =>
      (this.st.allSuppressions.all() as SuppressionRow[]).map(rowToSuppression),
    );
  }

  /** True when an active suppression silences `alert` at `now`. */
  isSuppressed(alert: AlertJson, now: number): boolean {
    return this.suppressionFor(alert, now) !== undefined;
  }

  /** The suppression that silences `alert` at `now`, if any. */
  suppressionFor(alert: AlertJson, now: number): Suppression | undefined {
    return this.read('checking suppressions', () => {
      for (const c of this.loadSuppressions()) if (suppressionMatches(c, alert, now)) return c.s;
      return undefined;
    });
  }

  // ── outbox ──────────────────────────────────────────────────────────────────────────────────

  /** Revisions committed after `seq`, in commit order (at most `limit`, ≤ STORE_MAX_READ_ROWS). */
  readAfter(seq: number, limit: number): StoredRevision[] {
    return this.read('reading the outbox', () =>
      (
        this.st.readAfter.all(Math.floor(seq), clampLimit(limit, STORE_MAX_READ_ROWS)) as {
          seq: number;
          json: string;
        }[]
      ).map((r) => ({ seq: r.seq, alert: JSON.parse(r.json) as AlertJson })),
    );
  }

  /** The last seq delivered to `sink` (0 when it never delivered). */
  cursor(sink: string): number {
    return this.read('reading a sink cursor', () => {
      const v = this.st.getCursor.pluck().get(sink) as number | undefined;
      return v ?? 0;
    });
  }

  /** Records that `sink` delivered everything up to `seq`. */
  setCursor(sink: string, seq: number): void {
    if (!Number.isSafeInteger(seq) || seq < 0)
      throw new StoreError('invalid', this.path, `a sink cursor must be a seq (got ${seq})`);
    this.write('saving a sink cursor', () => {
      this.st.setCursor.run(sink, seq, Math.floor(this.now()));
    });
  }

  // ── counters ────────────────────────────────────────────────────────────────────────────────

  /** Adds per-minute counts; a row for a minute already stored is summed into it. */
  addCounters(rows: readonly CounterRow[]): void {
    this.write('storing counters', () =>
      this.db.transaction(() => {
        for (const r of rows) {
          const minute = Math.floor(r.minute / 60_000) * 60_000;
          if (!Number.isFinite(minute)) continue;
          const prev = this.st.getCounter.get(minute, r.site, r.sensor) as CounterDbRow | undefined;
          const top = (prevJson: string | undefined, add: readonly TopEntry[]): string =>
            JSON.stringify(mergeTop(prevJson === undefined ? [] : parseTop(prevJson), add));
          this.st.upsertCounter.run({
            minute_ms: minute,
            site: r.site,
            sensor: r.sensor,
            messages: (prev?.messages ?? 0) + (r.messages || 0),
            failures: (prev?.failures ?? 0) + (r.failures || 0),
            calls: (prev?.calls ?? 0) + (r.calls || 0),
            top_sources: top(prev?.top_sources, r.topSources),
            top_identities: top(prev?.top_identities, r.topIdentities),
          });
          if (prev === undefined) this.counterRows++;
        }
        if (this.counterRows > this.bounds.maxCounterRows) {
          this.counterRows = this.st.countCounters.pluck().get() as number;
          while (this.counterRows > this.bounds.maxCounterRows) {
            const n = this.st.evictCounters.run(STORE_EVICT_BATCH).changes;
            if (n === 0) break;
            this.counterRows -= n;
            this.stats.evicted.counters += n;
          }
        }
      })(),
    );
  }

  /** Counter rows with since ≤ minute < until, oldest first. */
  counters(q: {
    since: number;
    until: number;
    site?: string;
    sensor?: string;
    limit?: number;
  }): CounterRow[] {
    return this.read('reading counters', () =>
      (
        this.st.counters.all({
          since: Math.floor(q.since),
          until: Math.ceil(q.until),
          site: q.site ?? null,
          sensor: q.sensor ?? null,
          limit: clampLimit(q.limit, STORE_MAX_READ_ROWS),
        }) as CounterDbRow[]
      ).map((r) => ({
        minute: r.minute_ms,
        site: r.site,
        sensor: r.sensor,
        messages: r.messages,
        failures: r.failures,
        calls: r.calls,
        topSources: parseTop(r.top_sources),
        topIdentities: parseTop(r.top_identities),
      })),
    );
  }

  // ── snapshots ───────────────────────────────────────────────────────────────────────────────

  /** Saves detector or block-list state under `name` (a Buffer as is, anything else as JSON). */
  saveSnapshot(name: string, data: unknown): void {
    const isBlob = Buffer.isBuffer(data);
    const bytes = isBlob ? data : Buffer.from(JSON.stringify(data) ?? 'null', 'utf8');
    if (bytes.length > STORE_MAX_SNAPSHOT_BYTES)
      throw new StoreError(
        'invalid',
        this.path,
        `snapshot '${name}' has ${bytes.length} bytes (at most ${STORE_MAX_SNAPSHOT_BYTES})`,
      );
    this.write('saving a snapshot', () => {
      this.st.saveSnapshot.run(name, isBlob ? 'blob' : 'json', bytes, Math.floor(this.now()));
    });
  }

  /** The snapshot saved under `name`, or undefined. */
  loadSnapshot(name: string): Snapshot | undefined {
    return this.read('loading a snapshot', () => {
      const r = this.st.loadSnapshot.get(name) as
        { kind: string; data: Buffer; updated_ms: number } | undefined;
      if (r === undefined) return undefined;
      return {
        data: r.kind === 'blob' ? r.data : (JSON.parse(r.data.toString('utf8')) as unknown),
        updatedAt: r.updated_ms,
      };
    });
  }

  // ── journal ─────────────────────────────────────────────────────────────────────────────────

  /**
   * Appends a recent event for replay after a restart; returns its seq, or undefined when it is
   * larger than STORE_JOURNAL_MAX_ENTRY_BYTES (counted). Entries past the byte or age bound are
   * deleted oldest first.
   */
  journalAppend(kind: string, data: Buffer | string, at: number = this.now()): number | undefined {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    if (bytes.length > STORE_JOURNAL_MAX_ENTRY_BYTES) {
      this.stats.journalRejected++;
      return undefined;
    }
    return this.write('appending to the journal', () =>
      this.db.transaction((): number => {
        const t = Math.floor(at);
        const seq = Number(this.st.journalAppend.run(t, kind, bytes, bytes.length).lastInsertRowid);
        this.journalBytes += bytes.length;
        // The age sweep is an indexed range delete; once a second of append time is plenty.
        if (t - this.journalSweptAt >= 1000) {
          this.journalSweptAt = t;
          this.deleteJournalBefore(t - this.retention.journalMs);
        }
        if (this.journalBytes > this.journalMaxBytes) this.evictJournal();
        return seq;
      })(),
    );
  }

  /** Journal entries appended at or after `since`, oldest first (read in pages: safe to write between). */
  *journalSince(since: number, kind?: string): Generator<JournalEntry> {
    let after = 0;
    for (;;) {
      const rows = this.read('reading the journal', () =>
        this.st.journalSince.all({ since: Math.floor(since), after, kind: kind ?? null, limit: 1000 }),
      ) as { seq: number; at_ms: number; kind: string; data: Buffer }[];
      for (const r of rows) yield { seq: r.seq, at: r.at_ms, kind: r.kind, data: r.data };
      const last = rows[rows.length - 1];
      if (last === undefined || rows.length < 1000) return;
      after = last.seq;
    }
  }

  // ── maintenance ─────────────────────────────────────────────────────────────────────────────

  /**
   * Deletes what is older than the retention (default: the store's): revisions and closed alerts by
   * lastSeen, counters by minute, journal by append time, expired suppressions by end time. The
   * latest revision of an alert still open is kept whatever its age.
   */
  prune(now: number, retention: Partial<StoreRetention> = {}): PruneResult {
    const r = { ...this.retention, ...retention };
    const alertCut = Math.floor(now - r.alertsMs);
    return this.write('pruning', () =>
      this.db.transaction((): PruneResult => {
        const revisions = this.st.pruneRevisions.run(alertCut).changes;
        const alerts = this.st.pruneAlerts.run(alertCut).changes;
        const acks = this.st.pruneAcks.run().changes;
        const counters = this.st.pruneCounters.run(Math.floor(now - r.countersMs)).changes;
        const journal = this.deleteJournalBefore(Math.floor(now - r.journalMs));
        const suppressions = this.st.pruneSuppressions.run(alertCut).changes;
        this.revisionRows -= revisions;
        this.alertRows -= alerts;
        this.counterRows -= counters;
        if (suppressions > 0) this.suppressionCache = undefined;
        return { revisions, alerts, acks, counters, journal, suppressions };
      })(),
    );
  }

  /** Closes the database (further calls throw StoreError `closed`). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.db.pragma('optimize');
    } catch {
      // Only a query-planner hint: a locked or read-only file must not stop the close.
    }
    this.db.close();
  }

  // ── internals ───────────────────────────────────────────────────────────────────────────────

  private write<T>(doing: string, fn: () => T): T {
    if (this.closed) throw new StoreError('closed', this.path, `store is closed (${doing})`);
    try {
      return fn();
    } catch (err) {
      throw toStoreError(this.path, doing, err, this.busyTimeoutMs);
    }
  }

  private read<T>(doing: string, fn: () => T): T {
    return this.write(doing, fn);
  }

  private putOne(rev: AlertJson): number {
    const p = this.encode(rev);
    const info = this.st.insertRevision.run(p);
    if (info.changes === 0) {
      this.stats.duplicates++;
      return this.st.revisionSeq.pluck().get(p.id, p.revision) as number;
    }
    const seq = Number(info.lastInsertRowid);
    this.revisionRows++;
    const prev = this.st.latestRevision.pluck().get(p.id) as number | undefined;
    if (prev === undefined) {
      this.st.insertAlert.run({ ...p, seq });
      this.alertRows++;
    } else if (p.revision > prev) {
      // A late older revision (replay out of order) must not replace a newer latest.
      this.st.updateAlert.run({ ...p, seq });
    }
    if (this.revisionRows > this.bounds.maxRevisions) this.evictRevisions();
    if (this.alertRows > this.bounds.maxAlerts) this.evictAlerts();
    return seq;
  }

  private encode(rev: AlertJson): AlertRowParams {
    const f = this.path;
    if (typeof rev.id !== 'string' || rev.id === '')
      throw new StoreError('invalid', f, 'alert without an id');
    if (!Number.isSafeInteger(rev.revision))
      throw new StoreError('invalid', f, `alert ${rev.id}: revision is not an integer`);
    if (!isSeverity(rev.severity))
      throw new StoreError('invalid', f, `alert ${rev.id}: unknown severity ${String(rev.severity)}`);
    if (rev.state !== 'open' && rev.state !== 'closed')
      throw new StoreError('invalid', f, `alert ${rev.id}: unknown state ${String(rev.state)}`);
    let json = JSON.stringify(rev);
    if (Buffer.byteLength(json, 'utf8') > STORE_MAX_ALERT_JSON_BYTES) {
      this.stats.truncated++;
      json = JSON.stringify({ ...rev, evidence: { truncated: Buffer.byteLength(json, 'utf8') } });
      if (Buffer.byteLength(json, 'utf8') > STORE_MAX_ALERT_JSON_BYTES)
        throw new StoreError(
          'invalid',
          f,
          `alert ${rev.id}: larger than ${STORE_MAX_ALERT_JSON_BYTES} bytes even without its evidence`,
        );
    }
    return {
      id: rev.id,
      revision: rev.revision,
      rule: String(rev.rule),
      severity: rev.severity,
      severity_rank: severityRank(rev.severity),
      state: rev.state,
      site: String(rev.site),
      sensor: String(rev.sensor),
      first_seen_ms: isoMs(f, 'firstSeen', rev.firstSeen),
      raised_at_ms: isoMs(f, 'raisedAt', rev.raisedAt),
      last_seen_ms: isoMs(f, 'lastSeen', rev.lastSeen),
      stored_at_ms: Math.floor(this.now()),
      source_ip: rev.source?.ip ?? null,
      identity: rev.target?.identity ?? rev.target?.extension ?? null,
      json,
    };
  }

  private decorate(seq: number, alert: AlertJson, suppressionNow: number | undefined): StoredAlert {
    const acks = (this.st.acks.all(alert.id) as AckRow[]).map((a): AlertAck => ({
      n: a.n,
      id: a.id,
      by: a.by,
      ...(a.note !== null ? { note: a.note } : {}),
      at: a.at_ms,
    }));
    const out: StoredAlert = { seq, alert, acks };
    if (suppressionNow !== undefined) {
      for (const c of this.loadSuppressions())
        if (suppressionMatches(c, alert, suppressionNow)) {
          out.suppressedBy = c.s.n;
          break;
        }
    }
    return out;
  }

  private activeSuppressions(now: number): CompiledSuppression[] {
    return this.loadSuppressions().filter((c) => now < c.s.until);
  }

  /**
   * Suppressions compiled once and reloaded when they change: this connection's writes drop the
   * cache, another process's commit (the CLI's `suppress`) shows in PRAGMA data_version.
   */
  private loadSuppressions(): CompiledSuppression[] {
    const v = this.st.dataVersion.pluck().get() as number;
    if (this.suppressionCache === undefined || v !== this.suppressionDataVersion) {
      this.suppressionCache = (this.st.allSuppressions.all() as SuppressionRow[])
        .map(rowToSuppression)
        .map(compileSuppression);
      this.suppressionDataVersion = v;
    }
    return this.suppressionCache;
  }

  private evictRevisions(): void {
    this.revisionRows = this.st.countRevisions.pluck().get() as number;
    while (this.revisionRows > this.bounds.maxRevisions) {
      const n = this.st.evictRevisions.run(STORE_EVICT_BATCH).changes;
      if (n === 0) break;
      this.revisionRows -= n;
      this.stats.evicted.revisions += n;
    }
  }

  private evictAlerts(): void {
    this.alertRows = this.st.countAlerts.pluck().get() as number;
    while (this.alertRows > this.bounds.maxAlerts) {
      let n = this.st.evictClosedAlerts.run(STORE_EVICT_BATCH).changes;
      if (n === 0) n = this.st.evictAnyAlerts.run(STORE_EVICT_BATCH).changes;
      if (n === 0) break;
      this.alertRows -= n;
      this.stats.evicted.alerts += n;
    }
    this.st.pruneAcks.run();
  }

  private deleteJournalBefore(cutoff: number): number {
    const freed = (this.st.journalBytesBefore.pluck().get(cutoff) as number | null) ?? 0;
    const n = this.st.deleteJournalBefore.run(cutoff).changes;
    this.journalBytes -= freed;
    return n;
  }

  private evictJournal(): void {
    // Evict down to 90% so a journal at its bound does not delete on every append.
    const target = Math.floor(this.journalMaxBytes * 0.9);
    while (this.journalBytes > target) {
      const rows = this.st.oldestJournal.all(STORE_EVICT_BATCH) as { seq: number; bytes: number }[];
      if (rows.length === 0) break;
      let upTo = 0;
      let freed = 0;
      let count = 0;
      for (const r of rows) {
        upTo = r.seq;
        freed += r.bytes;
        count++;
        if (this.journalBytes - freed <= target) break;
      }
      this.st.deleteJournalUpTo.run(upTo);
      this.journalBytes -= freed;
      this.stats.evicted.journal += count;
    }
  }
}

function rowToSuppression(r: SuppressionRow): Suppression {
  return {
    n: r.n,
    ...(r.rule !== null ? { rule: r.rule } : {}),
    ...(r.source !== null ? { source: r.source } : {}),
    ...(r.identity !== null ? { identity: r.identity } : {}),
    until: r.until_ms,
    ...(r.reason !== null ? { reason: r.reason } : {}),
    created: r.created_ms,
  };
}

/** Every fixed statement, prepared once per connection. */
function prepareStatements(db: Db) {
  const alertColumns =
    'id, seq, revision, rule, severity, severity_rank, state, site, sensor, first_seen_ms, raised_at_ms, last_seen_ms, source_ip, identity, json';
  const alertValues =
    '@id, @seq, @revision, @rule, @severity, @severity_rank, @state, @site, @sensor, @first_seen_ms, @raised_at_ms, @last_seen_ms, @source_ip, @identity, @json';
  return {
    countRevisions: db.prepare('SELECT COUNT(*) FROM alert_revisions'),
    countAlerts: db.prepare('SELECT COUNT(*) FROM alerts'),
    countCounters: db.prepare('SELECT COUNT(*) FROM counters'),
    journalBytes: db.prepare('SELECT COALESCE(SUM(bytes), 0) FROM journal'),
    dataVersion: db.prepare('PRAGMA data_version'),
    insertRevision: db.prepare(
      `INSERT OR IGNORE INTO alert_revisions
         (id, revision, rule, severity, state, site, sensor, first_seen_ms, raised_at_ms, last_seen_ms,
          stored_at_ms, source_ip, identity, json)
       VALUES (@id, @revision, @rule, @severity, @state, @site, @sensor, @first_seen_ms, @raised_at_ms,
          @last_seen_ms, @stored_at_ms, @source_ip, @identity, @json)`,
    ),
    revisionSeq: db.prepare('SELECT seq FROM alert_revisions WHERE id = ? AND revision = ?'),
    latestRevision: db.prepare('SELECT revision FROM alerts WHERE id = ?'),
    insertAlert: db.prepare(`INSERT INTO alerts (${alertColumns}) VALUES (${alertValues})`),
    updateAlert: db.prepare(
      `UPDATE alerts SET seq = @seq, revision = @revision, rule = @rule, severity = @severity,
         severity_rank = @severity_rank, state = @state, site = @site, sensor = @sensor,
         first_seen_ms = @first_seen_ms, raised_at_ms = @raised_at_ms, last_seen_ms = @last_seen_ms,
         source_ip = @source_ip, identity = @identity, json = @json
       WHERE id = @id`,
    ),
    getAlert: db.prepare('SELECT seq, json FROM alerts WHERE id = ?'),
    alertExists: db.prepare('SELECT 1 FROM alerts WHERE id = ?'),
    revisions: db.prepare(
      'SELECT seq, json FROM alert_revisions WHERE id = ? ORDER BY revision DESC LIMIT ?',
    ),
    acks: db.prepare('SELECT n, id, by, note, at_ms FROM acks WHERE id = ? ORDER BY n'),
    insertAck: db.prepare('INSERT INTO acks (id, by, note, at_ms) VALUES (?, ?, ?, ?)'),
    trimAcks: db.prepare(
      'DELETE FROM acks WHERE id = ? AND n NOT IN (SELECT n FROM acks WHERE id = ? ORDER BY n DESC LIMIT ?)',
    ),
    countActiveSuppressions: db.prepare('SELECT COUNT(*) FROM suppressions WHERE until_ms > ?'),
    insertSuppression: db.prepare(
      'INSERT INTO suppressions (rule, source, identity, until_ms, reason, created_ms) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    trimExpiredSuppressions: db.prepare(
      `DELETE FROM suppressions WHERE until_ms <= @now AND n NOT IN
         (SELECT n FROM suppressions WHERE until_ms <= @now ORDER BY until_ms DESC LIMIT @keep)`,
    ),
    deleteSuppression: db.prepare('DELETE FROM suppressions WHERE n = ?'),
    allSuppressions: db.prepare(
      'SELECT n, rule, source, identity, until_ms, reason, created_ms FROM suppressions ORDER BY n DESC',
    ),
    readAfter: db.prepare('SELECT seq, json FROM alert_revisions WHERE seq > ? ORDER BY seq LIMIT ?'),
    getCursor: db.prepare('SELECT seq FROM sink_cursors WHERE sink = ?'),
    setCursor: db.prepare(
      `INSERT INTO sink_cursors (sink, seq, updated_ms) VALUES (?, ?, ?)
       ON CONFLICT (sink) DO UPDATE SET seq = excluded.seq, updated_ms = excluded.updated_ms`,
    ),
    getCounter: db.prepare('SELECT * FROM counters WHERE minute_ms = ? AND site = ? AND sensor = ?'),
    upsertCounter: db.prepare(
      `INSERT INTO counters (minute_ms, site, sensor, messages, failures, calls, top_sources, top_identities)
       VALUES (@minute_ms, @site, @sensor, @messages, @failures, @calls, @top_sources, @top_identities)
       ON CONFLICT (minute_ms, site, sensor) DO UPDATE SET messages = excluded.messages,
         failures = excluded.failures, calls = excluded.calls, top_sources = excluded.top_sources,
         top_identities = excluded.top_identities`,
    ),
    counters: db.prepare(
      `SELECT * FROM counters WHERE minute_ms >= @since AND minute_ms < @until
         AND (@site IS NULL OR site = @site) AND (@sensor IS NULL OR sensor = @sensor)
       ORDER BY minute_ms, site, sensor LIMIT @limit`,
    ),
    evictCounters: db.prepare(
      `DELETE FROM counters WHERE (minute_ms, site, sensor) IN
         (SELECT minute_ms, site, sensor FROM counters ORDER BY minute_ms LIMIT ?)`,
    ),
    saveSnapshot: db.prepare(
      `INSERT INTO snapshots (name, kind, data, updated_ms) VALUES (?, ?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, data = excluded.data, updated_ms = excluded.updated_ms`,
    ),
    loadSnapshot: db.prepare('SELECT kind, data, updated_ms FROM snapshots WHERE name = ?'),
    journalAppend: db.prepare('INSERT INTO journal (at_ms, kind, data, bytes) VALUES (?, ?, ?, ?)'),
    journalBytesBefore: db.prepare('SELECT SUM(bytes) FROM journal WHERE at_ms < ?'),
    deleteJournalBefore: db.prepare('DELETE FROM journal WHERE at_ms < ?'),
    oldestJournal: db.prepare('SELECT seq, bytes FROM journal ORDER BY seq LIMIT ?'),
    deleteJournalUpTo: db.prepare('DELETE FROM journal WHERE seq <= ?'),
    journalSince: db.prepare(
      `SELECT seq, at_ms, kind, data FROM journal
       WHERE at_ms >= @since AND seq > @after AND (@kind IS NULL OR kind = @kind)
       ORDER BY seq LIMIT @limit`,
    ),
    pruneRevisions: db.prepare(
      `DELETE FROM alert_revisions WHERE last_seen_ms < ?
         AND seq NOT IN (SELECT seq FROM alerts WHERE state = 'open')`,
    ),
    pruneAlerts: db.prepare(`DELETE FROM alerts WHERE state = 'closed' AND last_seen_ms < ?`),
    pruneAcks: db.prepare('DELETE FROM acks WHERE id NOT IN (SELECT id FROM alerts)'),
    pruneCounters: db.prepare('DELETE FROM counters WHERE minute_ms < ?'),
    pruneSuppressions: db.prepare('DELETE FROM suppressions WHERE until_ms < ?'),
    evictRevisions: db.prepare(
      `DELETE FROM alert_revisions WHERE seq IN (
         SELECT r.seq FROM alert_revisions r
         WHERE NOT EXISTS (SELECT 1 FROM alerts a WHERE a.seq = r.seq AND a.state = 'open')
         ORDER BY r.seq LIMIT ?)`,
    ),
    evictClosedAlerts: db.prepare(
      `DELETE FROM alerts WHERE id IN
         (SELECT id FROM alerts WHERE state = 'closed' ORDER BY last_seen_ms LIMIT ?)`,
    ),
    evictAnyAlerts: db.prepare(
      'DELETE FROM alerts WHERE id IN (SELECT id FROM alerts ORDER BY last_seen_ms LIMIT ?)',
    ),
  };
}
