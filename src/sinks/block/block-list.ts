/**
 * The block list: which sources to block, for how long, and why not when not. Pure logic: the
 * caller passes the time (`now`, wall-clock milliseconds) and owns all I/O (see writer.ts).
 *
 * Safety first: a source is blocked only when it proved a return path (it completed a transaction,
 * so a forged UDP packet "from" a provider cannot get the provider blocked), and never when it is a
 * trusted network, a PBX or trunk address of any configured site, or a special address (loopback,
 * unspecified, multicast, link-local, reserved). The list is bounded (BLOCK_MAX_ENTRIES).
 */
import { isSeverity, severityRank, type AlertJson, type Severity } from '../../core/alert.js';
import {
  BLOCK_MAX_DURATION_CEILING_MS,
  BLOCK_MAX_ENTRIES,
  BLOCK_MAX_HISTORY,
  BLOCK_MAX_SOURCES_PER_ALERT,
  BLOCK_REPEAT_WINDOW_MS,
} from '../../config/limits.js';
import { classifyAddress } from '../../detect/net.js';
import { SiteModel, type SiteConfig } from '../../detect/site.js';
import { blockKey, canonicalAddress, netsOverlap, parseNet, sortKey, type ParsedNet } from './address.js';
import { DEFAULT_BLOCK_DURATION_MS, DEFAULT_BLOCK_MAX_DURATION_MS, DEFAULT_BLOCK_RULES } from './config.js';

/** Why a source was not blocked. */
export type SkipReason =
  | 'disabled'
  | 'rule-not-configured'
  | 'below-severity'
  | 'stale-alert'
  | 'no-source'
  | 'invalid-address'
  | 'special-address'
  | 'trusted'
  | 'pbx'
  | 'trunk'
  | 'protected'
  | 'no-return-path'
  | 'unblocked-by-admin'
  | 'list-full';

/** What happened to one source of an alert. */
export type SourceDecision =
  | {
      readonly ip: string;
      readonly outcome: 'blocked' | 'refreshed';
      readonly entry: BlockEntry;
      /** How much later the block now ends than before (a new block: its whole duration). */
      readonly extendedMs: number;
    }
  | {
      readonly ip: string;
      readonly outcome: 'skipped';
      readonly reason: SkipReason;
      readonly detail?: string;
    };

/** What `consider` did with one alert: blocked if any source was newly blocked. */
export interface Decision {
  readonly alertId: string;
  readonly rule: string;
  readonly outcome: 'blocked' | 'refreshed' | 'skipped';
  /** For 'skipped': the alert-level reason, or the first source's. */
  readonly reason?: SkipReason;
  readonly sources: readonly SourceDecision[];
  /** Entries removed to make room (replaced by a higher-severity block). */
  readonly replaced: readonly BlockEntry[];
}

/** One blocked address or network. Times are wall-clock milliseconds since the epoch. */
export interface BlockEntry {
  /** What the firewall matches: an address, or an IPv6 network "2001:db8:1:2::/64". */
  readonly key: string;
  readonly family: 4 | 6;
  /** The source address that caused the block (inside `key`). */
  readonly address: string;
  readonly rule: string;
  readonly alertId: string;
  readonly severity: Severity;
  readonly since: number;
  readonly expiresAt: number;
  /** 1 for a first block; the duration doubles with each strike. */
  readonly strikes: number;
  /** Added by an admin (`sipwarden block add`), not by an alert. */
  readonly manual: boolean;
}

/** Counters of the list's decisions, for metrics and the log. */
export interface BlockCounters {
  considered: number;
  blocked: number;
  refreshed: number;
  expired: number;
  unblocked: number;
  replaced: number;
  refused: number;
  sourcesIgnored: number;
  historyEvictions: number;
  skipped: Partial<Record<SkipReason, number>>;
}

/** Options of a BlockList; every field but `hasReturnPath` has a documented default. */
export interface BlockListOptions {
  /** Rules whose alerts may block (default DEFAULT_BLOCK_RULES). */
  readonly rules?: readonly string[];
  /** Lowest alert severity that blocks (default medium). */
  readonly minSeverity?: Severity;
  /** First block duration (default 24 h); doubled per strike up to `maxDurationMs` (default 7 d). */
  readonly durationMs?: number;
  readonly maxDurationMs?: number;
  /** Block IPv6 sources by this prefix (default 128: the address alone). */
  readonly ipv6Prefix?: number;
  /** Bound on entries (default BLOCK_MAX_ENTRIES; tests use less). */
  readonly maxEntries?: number;
  /** Sites whose PBX, trunk and trusted addresses are never blocked (all sites, whatever the
   * alert's site: one firewall protects them all). */
  readonly sites?: readonly SiteConfig[];
  /** True when the source completed a transaction (received and answered something). Without it
   * no alert blocks anything: forged sources fail closed. */
  readonly hasReturnPath?: (ip: string) => boolean;
  /** Addresses learned to be trunks, SBCs or the PBX (roles inferred from traffic): never blocked. */
  readonly isProtected?: (ip: string) => boolean;
}

/** Serialised list (the state file and the store's snapshot). */
export interface BlockListJson {
  readonly version: 1;
  readonly settings: {
    readonly ipv6Prefix: number;
    readonly durationMs: number;
    readonly maxDurationMs: number;
  };
  readonly entries: readonly BlockEntryJson[];
  readonly history: readonly HistoryJson[];
}

/** A BlockEntry with ISO times. */
export interface BlockEntryJson extends Omit<BlockEntry, 'since' | 'expiresAt'> {
  readonly since: string;
  readonly expiresAt: string;
}

interface HistoryJson {
  readonly key: string;
  readonly strikes: number;
  readonly lastBlockedAt: string;
  readonly unblockedAt?: string;
}

interface History {
  strikes: number;
  lastBlockedAt: number;
  unblockedAt?: number;
}

/** What `restore` kept and dropped. */
export interface RestoreResult {
  readonly restored: number;
  readonly dropped: number;
}

type Protection = 'trusted' | 'pbx' | 'trunk';

const NEVER_BLOCKED_KINDS = new Set(['loopback', 'unspecified', 'multicast', 'link-local', 'reserved']);

/** The bounded block list with its decisions (see the file comment). */
export class BlockList {
  readonly ipv6Prefix: number;
  readonly durationMs: number;
  readonly maxDurationMs: number;
  readonly maxEntries: number;
  private readonly rules: ReadonlySet<string>;
  private readonly minRank: number;
  private readonly models: readonly SiteModel[];
  private readonly protectedNets: readonly { net: ParsedNet; why: Protection }[];
  private readonly hasReturnPath: (ip: string) => boolean;
  private readonly isProtected: ((ip: string) => boolean) | undefined;
  private readonly entries = new Map<string, BlockEntry>();
  private readonly history = new Map<string, History>();
  private readonly stats: BlockCounters = {
    considered: 0,
    blocked: 0,
    refreshed: 0,
    expired: 0,
    unblocked: 0,
    replaced: 0,
    refused: 0,
    sourcesIgnored: 0,
    historyEvictions: 0,
    skipped: {},
  };

  constructor(options: BlockListOptions = {}) {
    this.rules = new Set(options.rules ?? DEFAULT_BLOCK_RULES);
    this.minRank = severityRank(options.minSeverity ?? 'medium');
    this.durationMs = clampDuration(options.durationMs ?? DEFAULT_BLOCK_DURATION_MS);
    this.maxDurationMs = Math.max(
      this.durationMs,
      clampDuration(options.maxDurationMs ?? DEFAULT_BLOCK_MAX_DURATION_MS),
    );
    const prefix = options.ipv6Prefix ?? 128;
    this.ipv6Prefix = Number.isInteger(prefix) && prefix >= 1 && prefix <= 128 ? prefix : 128;
    this.maxEntries = Math.max(1, Math.min(options.maxEntries ?? BLOCK_MAX_ENTRIES, BLOCK_MAX_ENTRIES));
    const sites = options.sites ?? [];
    this.models = sites.map((s) => new SiteModel(s));
    const nets: { net: ParsedNet; why: Protection }[] = [];
    for (const s of sites) {
      for (const [list, why] of [
        [s.trusted, 'trusted'],
        [s.pbx, 'pbx'],
        [s.trunks, 'trunk'],
      ] as const) {
        for (const text of list) {
          const net = parseNet(text);
          if (net !== undefined) nets.push({ net, why });
        }
      }
    }
    this.protectedNets = nets;
    this.hasReturnPath = options.hasReturnPath ?? (() => false);
    this.isProtected = options.isProtected;
  }

  /** Decides on one alert revision, blocking its sources that qualify. */
  consider(alert: AlertJson, now: number): Decision {
    this.stats.considered++;
    const base = { alertId: alert.id, rule: alert.rule };
    if (!this.rules.has(alert.rule)) return this.skipAlert(base, 'rule-not-configured');
    if (!isSeverity(alert.severity) || severityRank(alert.severity) < this.minRank) {
      return this.skipAlert(base, 'below-severity');
    }
    const lastSeen = Date.parse(alert.lastSeen);
    // Re-sent old revisions (a store replaying to its sinks) must not block again what expired.
    if (!Number.isFinite(lastSeen) || lastSeen + this.durationMs <= now)
      return this.skipAlert(base, 'stale-alert');
    const ips = alertSources(alert);
    if (ips.length === 0) return this.skipAlert(base, 'no-source');
    if (ips.length > BLOCK_MAX_SOURCES_PER_ALERT) {
      this.stats.sourcesIgnored += ips.length - BLOCK_MAX_SOURCES_PER_ALERT;
      ips.length = BLOCK_MAX_SOURCES_PER_ALERT;
    }
    const targetIp = alert.target?.ip === undefined ? undefined : canonicalAddress(alert.target.ip)?.ip;
    const sources: SourceDecision[] = [];
    const replaced: BlockEntry[] = [];
    for (const ip of ips) sources.push(this.considerSource(ip, alert, lastSeen, targetIp, now, replaced));
    const outcome = sources.some((s) => s.outcome === 'blocked')
      ? 'blocked'
      : sources.some((s) => s.outcome === 'refreshed')
        ? 'refreshed'
        : 'skipped';
    const first = sources[0];
    if (outcome === 'skipped' && first !== undefined && first.outcome === 'skipped') {
      return { ...base, outcome, reason: first.reason, sources, replaced };
    }
    return { ...base, outcome, sources, replaced };
  }

  /** Blocks an address by hand (an admin's decision: no alert, no return path needed). Special
   * addresses and the sites' protected addresses are still refused. */
  add(
    ip: string,
    now: number,
    options: { durationMs?: number; rule?: string; alertId?: string } = {},
  ): SourceDecision & { replaced?: readonly BlockEntry[] } {
    const addr = canonicalAddress(ip);
    if (addr === undefined) return this.skipSource(ip, 'invalid-address');
    const special = this.specialOrProtected(addr.ip, undefined);
    if (special !== undefined) return this.skipSource(ip, special.reason, special.detail);
    const key = this.keyFor(addr);
    const duration = Math.min(
      clampDuration(options.durationMs ?? this.durationMs),
      BLOCK_MAX_DURATION_CEILING_MS,
    );
    const entry: BlockEntry = {
      key,
      family: addr.family,
      address: addr.ip,
      rule: options.rule ?? 'manual',
      alertId: options.alertId ?? 'manual',
      severity: 'critical',
      since: now,
      expiresAt: now + duration,
      strikes: Math.max(1, this.history.get(key)?.strikes ?? 1),
      manual: true,
    };
    const replaced: BlockEntry[] = [];
    const existing = this.entries.get(key);
    if (existing === undefined && !this.makeRoom('critical', now, replaced)) {
      return this.skipSource(ip, 'list-full');
    }
    this.entries.set(key, entry);
    this.stats.blocked++;
    return {
      ip,
      outcome: existing === undefined ? 'blocked' : 'refreshed',
      entry,
      extendedMs: entry.expiresAt - (existing?.expiresAt ?? now),
      replaced,
    };
  }

  /** Removes the entry holding `ipOrKey` (an address inside it or its exact key). An alert seen
   * before this moment will not block it again; a later one will. */
  unblock(ipOrKey: string, now: number): BlockEntry | undefined {
    const key = this.findKey(ipOrKey);
    if (key === undefined) return undefined;
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    this.entries.delete(key);
    this.stats.unblocked++;
    // An admin's unblock says "this was wrong": strikes start over, evidence before now is spent.
    this.remember(key, { strikes: 0, lastBlockedAt: entry.since, unblockedAt: now });
    return entry;
  }

  /** Entries still in force at `now`, sorted by address. */
  list(now: number): BlockEntry[] {
    const out: BlockEntry[] = [];
    for (const e of this.entries.values()) if (e.expiresAt > now) out.push(e);
    return sortEntries(out);
  }

  /** The entry for an address or key, if blocked at `now`. */
  lookup(ipOrKey: string, now: number): BlockEntry | undefined {
    const key = this.findKey(ipOrKey);
    const e = key === undefined ? undefined : this.entries.get(key);
    return e !== undefined && e.expiresAt > now ? e : undefined;
  }

  /** The key of the entry an address falls in, or of the entry a CIDR names. */
  private findKey(ipOrKey: string): string | undefined {
    if (this.entries.has(ipOrKey)) return ipOrKey;
    const addr = canonicalAddress(ipOrKey);
    if (addr !== undefined) {
      const key = this.keyFor(addr);
      if (this.entries.has(key)) return key;
      return this.entries.has(addr.ip) ? addr.ip : undefined;
    }
    const net = parseNet(ipOrKey);
    if (net === undefined) return undefined;
    for (const k of this.entries.keys()) {
      const other = parseNet(k);
      if (other !== undefined && other.prefix === net.prefix && netsOverlap(other, net)) return k;
    }
    return undefined;
  }

  /** Drops the entries whose time is up and returns them. */
  expire(now: number): BlockEntry[] {
    const out: BlockEntry[] = [];
    for (const [k, e] of this.entries) {
      if (e.expiresAt <= now) {
        this.entries.delete(k);
        out.push(e);
      }
    }
    this.stats.expired += out.length;
    return out;
  }

  /** Entries held (expired ones included until `expire`). */
  get size(): number {
    return this.entries.size;
  }

  /** A copy of the counters. */
  counters(): BlockCounters {
    return { ...this.stats, skipped: { ...this.stats.skipped } };
  }

  /** The list and the repeat-offender history, for the state file or the store. */
  toJSON(): BlockListJson {
    return {
      version: 1,
      settings: {
        ipv6Prefix: this.ipv6Prefix,
        durationMs: this.durationMs,
        maxDurationMs: this.maxDurationMs,
      },
      entries: sortEntries([...this.entries.values()]).map((e) => ({
        ...e,
        since: new Date(e.since).toISOString(),
        expiresAt: new Date(e.expiresAt).toISOString(),
      })),
      history: [...this.history].map(([key, h]) => ({
        key,
        strikes: h.strikes,
        lastBlockedAt: new Date(h.lastBlockedAt).toISOString(),
        ...(h.unblockedAt === undefined ? {} : { unblockedAt: new Date(h.unblockedAt).toISOString() }),
      })),
    };
  }

  /** Replaces the content with a snapshot. Malformed, expired, special or protected entries are
   * dropped (a hand-edited file is input); entries are re-keyed with this list's IPv6 prefix; past
   * the bound the highest severities, then the latest expiries, are kept. Never throws. */
  restore(json: unknown, now: number): RestoreResult {
    this.entries.clear();
    this.history.clear();
    const root = isRecord(json) ? json : {};
    const rawEntries = Array.isArray(root.entries) ? (root.entries as unknown[]) : [];
    const candidates: BlockEntry[] = [];
    let dropped = 0;
    for (const raw of rawEntries.slice(0, BLOCK_MAX_ENTRIES * 2)) {
      const e = this.parseEntry(raw, now);
      if (e === undefined) dropped++;
      else candidates.push(e);
    }
    dropped += Math.max(0, rawEntries.length - BLOCK_MAX_ENTRIES * 2);
    candidates.sort(
      (a, b) => severityRank(b.severity) - severityRank(a.severity) || b.expiresAt - a.expiresAt,
    );
    for (const e of candidates) {
      const existing = this.entries.get(e.key);
      if (existing !== undefined) {
        // Two addresses of one /64 (a prefix change): one entry, the later expiry.
        if (e.expiresAt > existing.expiresAt)
          this.entries.set(e.key, { ...existing, expiresAt: e.expiresAt });
        dropped++;
      } else if (this.entries.size >= this.maxEntries) dropped++;
      else this.entries.set(e.key, e);
    }
    const rawHistory = Array.isArray(root.history) ? (root.history as unknown[]) : [];
    for (const raw of rawHistory.slice(-BLOCK_MAX_HISTORY)) {
      if (!isRecord(raw) || typeof raw.key !== 'string') continue;
      const strikes = raw.strikes;
      const last = typeof raw.lastBlockedAt === 'string' ? Date.parse(raw.lastBlockedAt) : NaN;
      if (typeof strikes !== 'number' || !Number.isInteger(strikes) || strikes < 0 || strikes > 64) continue;
      if (!Number.isFinite(last) || now - last > BLOCK_REPEAT_WINDOW_MS) continue;
      const unblockedAt = typeof raw.unblockedAt === 'string' ? Date.parse(raw.unblockedAt) : NaN;
      this.remember(raw.key, {
        strikes,
        lastBlockedAt: last,
        ...(Number.isFinite(unblockedAt) ? { unblockedAt } : {}),
      });
    }
    return { restored: this.entries.size, dropped };
  }

  private considerSource(
    ip: string,
    alert: AlertJson,
    lastSeen: number,
    targetIp: string | undefined,
    now: number,
    replaced: BlockEntry[],
  ): SourceDecision {
    const addr = canonicalAddress(ip);
    if (addr === undefined) return this.skipSource(ip, 'invalid-address');
    const special = this.specialOrProtected(addr.ip, targetIp);
    if (special !== undefined) return this.skipSource(ip, special.reason, special.detail);
    // The caller's tracking knows the address as the alert spelled it.
    if (!this.hasReturnPath(ip)) return this.skipSource(ip, 'no-return-path');
    const key = this.keyFor(addr);
    const severity = alert.severity;
    const existing = this.entries.get(key);
    if (existing !== undefined && existing.expiresAt > now) {
      const until = Math.max(existing.expiresAt, now + this.durationFor(existing.strikes));
      const entry: BlockEntry = {
        ...existing,
        expiresAt: until,
        severity: severityRank(severity) > severityRank(existing.severity) ? severity : existing.severity,
      };
      this.entries.set(key, entry);
      this.stats.refreshed++;
      return { ip, outcome: 'refreshed', entry, extendedMs: until - existing.expiresAt };
    }
    const past = this.history.get(key);
    if (past?.unblockedAt !== undefined && lastSeen <= past.unblockedAt) {
      return this.skipSource(ip, 'unblocked-by-admin');
    }
    if (existing !== undefined) this.entries.delete(key);
    const strikes =
      past !== undefined && past.strikes > 0 && now - past.lastBlockedAt <= BLOCK_REPEAT_WINDOW_MS
        ? past.strikes + 1
        : 1;
    if (!this.makeRoom(severity, now, replaced)) return this.skipSource(ip, 'list-full');
    const entry: BlockEntry = {
      key,
      family: addr.family,
      address: addr.ip,
      rule: alert.rule,
      alertId: alert.id,
      severity,
      since: now,
      expiresAt: now + this.durationFor(strikes),
      strikes,
      manual: false,
    };
    this.entries.set(key, entry);
    this.remember(key, { strikes, lastBlockedAt: now });
    this.stats.blocked++;
    return { ip, outcome: 'blocked', entry, extendedMs: entry.expiresAt - now };
  }

  /** Duration of a block at its n-th strike: base × 2^(n−1), capped. */
  durationFor(strikes: number): number {
    const factor = 2 ** Math.min(Math.max(strikes - 1, 0), 30);
    return Math.min(this.durationMs * factor, this.maxDurationMs);
  }

  private keyFor(addr: { ip: string; family: 4 | 6 }): string {
    const key = blockKey(addr, this.ipv6Prefix);
    if (key === addr.ip) return key;
    // The /64 would also cover a protected address: block the source alone instead.
    const net = parseNet(key);
    if (net !== undefined && this.protectedNets.some((p) => netsOverlap(p.net, net))) return addr.ip;
    return key;
  }

  private specialOrProtected(
    ip: string,
    targetIp: string | undefined,
  ): { reason: SkipReason; detail?: string } | undefined {
    const kind = classifyAddress(ip);
    if (NEVER_BLOCKED_KINDS.has(kind)) return { reason: 'special-address', detail: kind };
    for (const m of this.models) {
      if (m.isTrusted(ip)) return { reason: 'trusted', detail: m.name };
      if (m.isPbx(ip)) return { reason: 'pbx', detail: m.name };
      if (m.isTrunk(ip)) return { reason: 'trunk', detail: m.name };
    }
    if (ip === targetIp) return { reason: 'pbx', detail: 'alert target' };
    if (this.isProtected?.(ip) === true) return { reason: 'protected' };
    return undefined;
  }

  /** Frees a slot for a block of `severity`; false when the list is full of blocks at least as
   * severe (the refusal is counted). */
  private makeRoom(severity: Severity, now: number, replaced: BlockEntry[]): boolean {
    if (this.entries.size < this.maxEntries) return true;
    this.expire(now);
    if (this.entries.size < this.maxEntries) return true;
    let victim: BlockEntry | undefined;
    for (const e of this.entries.values()) {
      if (
        victim === undefined ||
        severityRank(e.severity) < severityRank(victim.severity) ||
        (e.severity === victim.severity && e.expiresAt < victim.expiresAt)
      ) {
        victim = e;
      }
    }
    if (victim === undefined || severityRank(severity) <= severityRank(victim.severity)) {
      this.stats.refused++;
      return false;
    }
    this.entries.delete(victim.key);
    this.stats.replaced++;
    replaced.push(victim);
    return true;
  }

  private remember(key: string, h: History): void {
    this.history.delete(key);
    this.history.set(key, h);
    if (this.history.size > BLOCK_MAX_HISTORY) {
      const oldest = this.history.keys().next().value;
      if (oldest !== undefined) this.history.delete(oldest);
      this.stats.historyEvictions++;
    }
  }

  private skipAlert(base: { alertId: string; rule: string }, reason: SkipReason): Decision {
    this.count(reason);
    return { ...base, outcome: 'skipped', reason, sources: [], replaced: [] };
  }

  private skipSource(ip: string, reason: SkipReason, detail?: string): SourceDecision {
    this.count(reason);
    return detail === undefined
      ? { ip, outcome: 'skipped', reason }
      : { ip, outcome: 'skipped', reason, detail };
  }

  private count(reason: SkipReason): void {
    this.stats.skipped[reason] = (this.stats.skipped[reason] ?? 0) + 1;
  }

  private parseEntry(raw: unknown, now: number): BlockEntry | undefined {
    if (!isRecord(raw)) return undefined;
    const { address, rule, alertId, severity, strikes, manual } = raw;
    if (typeof address !== 'string' || typeof rule !== 'string' || typeof alertId !== 'string')
      return undefined;
    if (typeof severity !== 'string' || !isSeverity(severity)) return undefined;
    if (typeof strikes !== 'number' || !Number.isInteger(strikes) || strikes < 1 || strikes > 64)
      return undefined;
    const since = typeof raw.since === 'string' ? Date.parse(raw.since) : NaN;
    const expiresAt = typeof raw.expiresAt === 'string' ? Date.parse(raw.expiresAt) : NaN;
    if (!Number.isFinite(since) || !Number.isFinite(expiresAt) || expiresAt <= now) return undefined;
    if (expiresAt - now > BLOCK_MAX_DURATION_CEILING_MS) return undefined;
    if (rule.length > 128 || alertId.length > 128) return undefined;
    const addr = canonicalAddress(address);
    if (addr === undefined || this.specialOrProtected(addr.ip, undefined) !== undefined) return undefined;
    return {
      key: this.keyFor(addr),
      family: addr.family,
      address: addr.ip,
      rule,
      alertId,
      severity,
      since,
      expiresAt,
      strikes,
      manual: manual === true,
    };
  }
}

/** The distinct source addresses of an alert: `source` first, then `sources`. */
function alertSources(alert: AlertJson): string[] {
  const seen = new Set<string>();
  if (typeof alert.source?.ip === 'string') seen.add(alert.source.ip);
  if (Array.isArray(alert.sources)) {
    for (const s of alert.sources) if (typeof s?.ip === 'string') seen.add(s.ip);
  }
  return [...seen];
}

function sortEntries(entries: BlockEntry[]): BlockEntry[] {
  const keyed = entries.map((e) => [sortKey(e.key), e] as const);
  keyed.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return keyed.map(([, e]) => e);
}

function clampDuration(ms: number): number {
  return Number.isFinite(ms) ? Math.min(Math.max(Math.floor(ms), 1000), BLOCK_MAX_DURATION_CEILING_MS) : 1000;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
