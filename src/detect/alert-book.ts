import { createHash } from 'node:crypto';
import { ALERT_MAX_KEPT, ALERT_MAX_OPEN, ALERT_MAX_SOURCES } from '../config/limits.js';
import type { AlertJson, Severity } from '../core/alert.js';
import { BoundedTable } from '../core/bounded-table.js';
import { DeadlineHeap } from '../core/deadline-heap.js';
import { isoTime } from '../core/time.js';
import { AlertArchive } from './alert-archive.js';
import type { RaiseInput, RuleMeta } from './rule.js';

/** Where the book sends every revision (the store first, then the sinks). */
export type RevisionSink = (alert: AlertJson) => void;

interface OpenAlert {
  /** The book's key: rule id and the detector's key. */
  readonly key: string;
  json: AlertJson;
  meta: RuleMeta;
  lastSeenMs: number;
  /** firstSeen in ms (a late record may move it back). */
  firstMs: number;
  emittedCount: number;
  /** The latest raise: its evidence and sources are materialised only when a revision is sent. */
  latest: RaiseInput;
  /** `json` reflects `latest` (set when materialised). */
  fresh: boolean;
  /** Opening order: the report's tie-break between alerts raised in the same millisecond. */
  readonly seq: number;
  /** Closed (by quiet time, by its detector, evicted or flushed): its entry in `due` is stale. */
  closed: boolean;
}

/** Counters of the alert book. */
export interface AlertBookStats {
  opened: number;
  revisions: number;
  closed: number;
  evicted: number;
  rejected: number;
  /** Alerts no longer kept for the end-of-run report (past ALERT_MAX_KEPT). */
  dropped: number;
}

/**
 * Alert lifecycle (DESIGN.md): one alert per (rule, key) and window; it opens when a detector
 * first raises it, gains a revision as its count grows (each doubling), its severity rises or its
 * source list grows, and closes after its rule's quiet time. Ids derive from rule, key and
 * firstSeen, so replaying the same input gives the same ids.
 */
export class AlertBook {
  readonly stats: AlertBookStats = {
    opened: 0,
    revisions: 0,
    closed: 0,
    evicted: 0,
    rejected: 0,
    dropped: 0,
  };
  private readonly open = new BoundedTable<string, OpenAlert>('alerts', ALERT_MAX_OPEN);
  /** Final revision of every closed alert of this run, for reports (bounded; null: not kept). */
  private readonly archive: AlertArchive | null;
  private seq = 0;
  private lastSweep = -Infinity;
  /**
   * Every open alert by the time it would close if it saw nothing more (last seen + quiet time),
   * as of when it was pushed: an alert seen since comes out early and goes back with its new
   * time, a closed one comes out and is dropped. `tick` so costs the alerts due (or moved), not a
   * walk over every open alert each second, which under thousands of open alerts was a fifth of
   * analyze's allocations. Holds at most the open alerts plus closed ones not yet come out, and
   * is rebuilt from the open alerts past DUE_REBUILD_FACTOR times their number.
   */
  private readonly due = new DeadlineHeap<OpenAlert>();

  /** \`report\`: keep closed alerts for \`alerts()\` (analyze); watch reads the store instead. */
  constructor(
    private readonly site: string,
    private readonly sensor: string,
    private readonly sink?: RevisionSink,
    options: { report?: boolean } = {},
  ) {
    this.archive = options.report === false ? null : new AlertArchive();
  }

  /** Records a detector's raise: opens the alert or updates it. */
  raise(meta: RuleMeta, input: RaiseInput, severityOverride?: Severity): void {
    const bookKey = `${meta.id}\u0000${input.key}`;
    const existing = this.open.get(bookKey);
    if (existing !== undefined) {
      this.update(existing, input, severityOverride);
      if (input.close === true) {
        this.open.delete(bookKey, true);
        this.close(existing);
      }
      return;
    }
    // Closing an alert that is not open (already closed by quiet time) reports nothing new.
    if (input.close === true) return;
    const created = this.open.touch(
      bookKey,
      () => this.create(bookKey, meta, input, severityOverride),
      (_k, victim) => {
        this.stats.evicted++;
        this.close(victim);
      },
    );
    if (created === undefined) {
      this.stats.rejected++;
      return;
    }
    this.stats.opened++;
    this.emit(created);
  }

  /**
   * The cheap path for a detector whose alert is already open: updates its count and last-seen
   * time and returns true when that makes no new revision (the count has not doubled), so the
   * detector need not build a full raise. False: not open, or a revision is due — raise instead.
   * On a flood every message crosses the threshold; building a title, addresses and an evidence
   * closure for each was a large share of analyze's allocations (bench/profile.ts).
   */
  touch(meta: RuleMeta, key: string, time: number, count: number): boolean {
    const a = this.open.get(`${meta.id}\u0000${key}`);
    if (a === undefined || count >= a.emittedCount * 2) return false;
    if (time > a.lastSeenMs) a.lastSeenMs = time;
    if (count > a.json.count) a.json.count = count;
    a.fresh = false;
    return true;
  }

  /** Closes alerts quiet for longer than their rule's quiet time at `now` (event time). */
  tick(now: number): void {
    if (now - this.lastSweep < 1000) return;
    this.lastSweep = now;
    const due = this.due;
    // An entry's time is never later than its alert's: `lastSeenMs` only moves forward.
    while (due.peekDeadline() < now) {
      const a = due.pop() as OpenAlert;
      if (a.closed) continue;
      const closesAt = a.lastSeenMs + a.meta.quietMs;
      if (closesAt >= now) {
        due.push(closesAt, a);
        continue;
      }
      this.open.delete(a.key, true);
      this.close(a);
    }
  }

  /** Closes every open alert (end of input for `analyze`: the report shows final states). */
  flush(): void {
    for (const [k, a] of [...this.open.entries()]) {
      this.open.delete(k);
      this.close(a);
    }
  }

  /** Latest revision of every alert seen in this run, in the order they were raised. */
  alerts(): AlertJson[] {
    return [...this.alertsInOrder()];
  }

  /** The same, one at a time: closed alerts are read back from the archive as they are needed. */
  alertsInOrder(): Iterable<AlertJson> {
    if (this.archive === null) return [];
    const open: { json: AlertJson; seq: number }[] = [];
    for (const a of this.open.values()) {
      this.materialise(a);
      open.push({ json: a.json, seq: a.seq });
    }
    return this.archive.inOrder(open);
  }

  /** How many alerts \`alertsInOrder\` yields. */
  get alertCount(): number {
    return this.archive === null ? 0 : this.archive.size + this.open.size;
  }

  /** Releases the archive's temporary file (end of run). */
  dispose(): void {
    this.archive?.dispose();
  }

  private create(key: string, meta: RuleMeta, input: RaiseInput, severityOverride?: Severity): OpenAlert {
    const first = input.firstTime ?? input.time;
    const json: AlertJson = {
      schemaVersion: 1,
      id: alertId(meta.id, input.key, first),
      revision: 1,
      state: 'open',
      rule: meta.id,
      severity: severityOverride ?? input.severity ?? meta.severity,
      title: input.title,
      site: this.site,
      sensor: this.sensor,
      firstSeen: isoTime(first),
      raisedAt: isoTime(input.time),
      lastSeen: isoTime(input.time),
      count: input.count,
      evidence: {},
      remediation: meta.remediation,
      references: [...meta.references],
    };
    if (input.source !== undefined) json.source = input.source;
    const a: OpenAlert = {
      key,
      json,
      meta,
      lastSeenMs: input.time,
      firstMs: first,
      emittedCount: input.count,
      latest: input,
      fresh: false,
      seq: this.seq++,
      closed: false,
    };
    this.materialise(a);
    this.schedule(a);
    return a;
  }

  /** Enters a new open alert in `due`, first rebuilding it when closed alerts fill it. */
  private schedule(a: OpenAlert): void {
    if (this.due.size >= DUE_REBUILD_FACTOR * (this.open.size + 1)) {
      const live: [number, OpenAlert][] = [];
      for (const o of this.open.values()) live.push([o.lastSeenMs + o.meta.quietMs, o]);
      this.due.rebuild(live);
    }
    this.due.push(a.lastSeenMs + a.meta.quietMs, a);
  }

  /** Brings the JSON up to the latest raise: evidence, sources, target, title. */
  private materialise(a: OpenAlert): void {
    if (a.fresh) return;
    const input = a.latest;
    const j = a.json;
    j.lastSeen = isoTime(a.lastSeenMs);
    j.title = input.title;
    j.evidence = typeof input.evidence === 'function' ? input.evidence() : input.evidence;
    if (input.target !== undefined) j.target = input.target;
    applySources(j, input);
    a.fresh = true;
  }

  private update(a: OpenAlert, input: RaiseInput, severityOverride?: Severity): void {
    const j = a.json;
    // lastSeen's text is written when the JSON is materialised: formatting a date per raise was a
    // measurable share of analyze's time (bench/profile.ts).
    a.lastSeenMs = Math.max(a.lastSeenMs, input.time);
    j.count = Math.max(j.count, input.count);
    // A late record (a CDR written at hang-up for a call that started before the first one
    // counted) moves firstSeen back; the id keeps the first raise's, so it stays stable.
    if (input.firstTime !== undefined && input.firstTime < a.firstMs) {
      a.firstMs = input.firstTime;
      j.firstSeen = isoTime(input.firstTime);
    }
    a.latest = input;
    a.fresh = false;
    const severity = severityOverride ?? input.severity ?? a.meta.severity;
    const rose = severityRankOf(severity) > severityRankOf(j.severity);
    if (rose) j.severity = severity;
    if (rose || j.count >= a.emittedCount * 2) {
      a.emittedCount = j.count;
      j.revision++;
      this.emit(a);
    }
  }

  private close(a: OpenAlert): void {
    a.closed = true;
    this.materialise(a);
    a.json.state = 'closed';
    a.json.revision++;
    this.stats.closed++;
    this.emit(a);
    if (this.archive === null) return;
    if (this.archive.size < ALERT_MAX_KEPT) this.archive.add(a.json, a.seq);
    else this.stats.dropped++;
  }

  private emit(a: OpenAlert): void {
    this.materialise(a);
    this.stats.revisions++;
    // Sinks get a snapshot (the open alert keeps changing); with no sink, nothing is copied.
    if (this.sink !== undefined) this.sink(structuredClone(a.json));
  }
}

/** `due` may hold this many times the open alerts (closed ones not yet come out) before a rebuild. */
const DUE_REBUILD_FACTOR = 2;

function applySources(j: AlertJson, input: RaiseInput): void {
  if (input.sources === undefined) return;
  const raw = typeof input.sources === 'function' ? input.sources() : input.sources;
  const list = [...raw].sort((a, b) => b.count - a.count || (a.ip < b.ip ? -1 : 1));
  j.sources = list.slice(0, ALERT_MAX_SOURCES).map((s) => ({ ip: s.ip, count: s.count }));
  const total = input.sourcesTotal ?? list.length;
  if (total > j.sources.length) j.sourcesTotal = total;
  else delete j.sourcesTotal;
}

const RANK: Record<Severity, number> = { info: 0, low: 1, medium: 2, high: 3, critical: 4 };
function severityRankOf(s: Severity): number {
  return RANK[s];
}

/** Stable alert id: the first 16 hex digits of SHA-256(rule, key, firstSeen). */
export function alertId(rule: string, key: string, firstSeenMs: number): string {
  return createHash('sha256')
    .update(`${rule}\u0000${key}\u0000${Math.floor(firstSeenMs)}`)
    .digest('hex')
    .slice(0, 16);
}
