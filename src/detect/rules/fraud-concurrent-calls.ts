import {
  DETECT_CDR_CALL_HORIZON_MS,
  DETECT_CDR_CONCURRENT_GROUPS,
  DETECT_CDR_INTERVALS_PER_GROUP,
  DETECT_CDR_RECORDS_PER_ALERT,
  DETECT_FRAUD_NUMBERS_PER_CALLER,
  DETECT_MAX_CONCURRENT_DIALOGS,
} from '../../config/limits.js';
import { BoundedTable } from '../../core/bounded-table.js';
import { escapeText } from '../../core/escape.js';
import { isoTime } from '../../core/time.js';
import type { CdrCall } from '../../core/records.js';
import type { Call } from '../../track/call-table.js';
import type { Detector, DetectorContext, RuleModule } from '../rule.js';
import { CappedSet, pushFrame, sourceGroup } from '../window.js';
import { cdrCallerIsExtension, cdrCaller, cdrCallId, cdrRecordRef, cdrTime } from './fraud-cdr.js';

/** The calls one caller (identity, source or trunk) has up now. */
interface Group {
  open: number;
  peak: number;
  readonly limit: number;
  readonly firstTime: number;
  readonly numbers: CappedSet;
  readonly callers: CappedSet;
  readonly callIds: CappedSet;
  readonly frames: number[];
}

/** A group an answered call counts in: its key (also the shown name) and its limit. */
interface Membership {
  readonly key: string;
  readonly limit: number;
}

/** One answered call a CDR reported: up from its answer to its end. */
interface CdrInterval {
  readonly from: number;
  readonly to: number;
  /** The PBX's call id, else where the record was read: a call reported twice replaces itself. */
  readonly id: string;
  readonly callId: string;
  readonly record: string;
  readonly dialled: string;
}

/** The answered calls one caller or trunk had in CDRs, and the most that overlapped. */
interface CdrGroup {
  /** Bounded by DETECT_CDR_INTERVALS_PER_GROUP (the call that ended first leaves first). */
  readonly intervals: CdrInterval[];
  readonly limit: number;
  peak: number;
  latestEnd: number;
  readonly callers: CappedSet;
}

/** The detector, with the size of its CDR state (tests check the bounds). */
export interface ConcurrentCallsDetector extends Detector {
  readonly cdrStats: { groups: number; intervals: number; dropped: number };
}

/** The deepest overlap of `list` with [from, to] (the new call counted as one), and where it is. */
export function deepestOverlap(
  list: readonly { readonly from: number; readonly to: number }[],
  from: number,
  to: number,
): { depth: number; at: number } {
  const edges: number[][] = [];
  for (const x of list) {
    if (x.from < to && x.to > from) edges.push([Math.max(x.from, from), 1], [Math.min(x.to, to), -1]);
  }
  // A call ending when another is answered does not overlap it: ends sort first.
  edges.sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]!);
  let depth = 1;
  let best = 1;
  let at = from;
  for (const [t, d] of edges) {
    depth += d!;
    if (depth > best) {
      best = depth;
      at = t!;
    }
  }
  return { depth: best, at };
}

/**
 * The groups an answered call counts in: the identity of its first leg's credentials, its first
 * leg's source (unless the PBX or a trunk), and the trunk it came from or went out through (its
 * first leg's, else its onward legs').
 */
export function callGroups(ctx: DetectorContext, c: Call, perCaller: number, perTrunk: number): Membership[] {
  const out: Membership[] = [];
  const src = c.from.ip;
  const dst = c.to.ip;
  const site = ctx.site;
  // Credentials sent to a provider are the trunk's account, not an extension's.
  if (c.identity !== '' && !site.isTrunk(dst))
    out.push({ key: `extension ${escapeText(site.extensionOf(c.identity), 64)}`, limit: perCaller });
  // The PBX and the trunks carry everybody's calls: counted per trunk, not as one caller.
  if (!site.isPbx(src) && !site.isTrunk(src))
    out.push({ key: `source ${sourceGroup(src)}`, limit: perCaller });
  let trunk: string | undefined;
  if (site.isTrunk(src)) trunk = src;
  else if (site.isTrunk(dst)) trunk = dst;
  // Else a proxy's or back-to-back PBX's onward leg to a trunk (after a failover, the last one
  // tried is the one that answered).
  else for (const l of c.legs) if (site.isTrunk(l.to.ip)) trunk = l.to.ip;
  if (trunk !== undefined) out.push({ key: `trunk ${trunk}`, limit: perTrunk });
  return out;
}

/**
 * fraud.concurrent-calls: more simultaneous answered calls for one extension, source or trunk than its
 * limit. Calls whose BYE was lost end when the dialog tracker expires them.
 */
export const fraudConcurrentCalls: RuleModule = {
  meta: {
    id: 'fraud.concurrent-calls',
    title: 'Too many simultaneous calls',
    severity: 'high',
    description:
      'Counts answered calls that are up at the same time, per extension (the identity of the credentials the ' +
      'calling phone sent, shown as its extension), per source (the calling phone\u2019s address; an IPv6 /64 counts ' +
      'as one; the PBX and declared trunks excepted, as they carry everybody\u2019s calls) and per declared trunk ' +
      '(the one the call came from or went out through). A call is counted once whatever its legs: a proxying ' +
      'PBX\u2019s copy of the INVITE and a back-to-back PBX\u2019s onward leg to the trunk are the same call, counted ' +
      'under the phone that dialled it. More than `maxPerCaller` calls for one extension or source, or ' +
      '`maxPerTrunk` on one trunk, is what toll fraud looks like: an intruder runs as many channels as the trunk ' +
      'allows. A call is up from its answer to its BYE, or until the tracker expires it (no BYE seen: idle ' +
      'timeout or twice the Session-Expires interval). From CDRs ' +
      '(docs/cdr.md), each answered call is up from its answer to its end, and calls whose intervals overlap are ' +
      'simultaneous, per caller (`Ext.105` is extension 105; inbound calls excepted, an inbound call forwarded out ' +
      'counts for its caller) and per trunk (line DN). CDRs come at hang-up and out of start order: the overlap is ' +
      'measured whatever the order, and known once the calls that make it have ended.',
    falsePositives:
      'A reception desk, call centre agent or queue extension may hold many calls at once: raise its limit per ' +
      'site. Calls that were never answered do not count. A back-to-back PBX\u2019s onward leg is joined to the call ' +
      'it relays when it leaves from the address that received the call, for the same number (with or without ' +
      'prefixes), while that call is still unanswered; an onward leg the tracker cannot pair (a number rewritten ' +
      'beyond recognition) is a call of its own from the PBX, counted for the trunk only once the PBX is ' +
      'declared. From CDRs, a record without an answer or an end (a socket reporting a call still up) does not count, and a call reported twice (same PBX call id) counts once.',
    remediation:
      '3CX: set the maximum simultaneous calls on each trunk to what the business needs (trunk → Settings: ' +
      'Simultaneous calls), restrict outbound rules to the extensions that need them, and hang up unknown calls ' +
      'from Active Calls; then change the extension\u2019s password. Any PBX: limit channels per endpoint and per ' +
      'trunk (Asterisk: GROUP()/GROUP_COUNT or call-limit; Kamailio: dialog module profiles; FreeSWITCH: limit ' +
      'application), and ask the provider for a channel cap.',
    references: [
      'RFC 3261 §12 (dialogs)',
      'RFC 4028 (session timers)',
      'CFCA Global Telecommunications Fraud Loss Survey',
    ],
    thresholds: { maxPerCaller: 10, maxPerTrunk: 30 },
    quietMs: 3_600_000,
  },
  create(ctx) {
    const perCaller = ctx.thresholds.maxPerCaller ?? 10;
    const perTrunk = ctx.thresholds.maxPerTrunk ?? 30;
    // Answered calls up and the groups each counts in. Bounded by the call table (every call it
    // answers it also ends) and by DETECT_MAX_CONCURRENT_DIALOGS in case it is larger.
    const calls = new Map<string, Membership[]>();
    const groups = new Map<string, Group>();
    let dropped = 0;
    // CDR calls: answered intervals per caller and trunk. They come at hang-up, in end-time order,
    // so a call answered hours ago may arrive after calls answered since: each new interval is
    // measured against every kept one, whatever their order. The deepest overlap of all is the
    // deepest found when its last-reported call was added (that call saw all the others).
    const cdrGroups = new BoundedTable<string, CdrGroup>(
      'fraud.concurrent-calls.cdr',
      DETECT_CDR_CONCURRENT_GROUPS,
    );
    let cdrDropped = 0;
    let lastSweep = -Infinity;
    const sweep = (now: number): void => {
      if (now - lastSweep < DETECT_CDR_CALL_HORIZON_MS / 24) return;
      lastSweep = now;
      for (const [k, g] of [...cdrGroups.entries()])
        if (g.latestEnd < now - DETECT_CDR_CALL_HORIZON_MS) cdrGroups.delete(k, true);
    };
    const countCdr = (c: CdrCall, key: string, limit: number, from: number, to: number): void => {
      const g = cdrGroups.touch(key, () => ({
        intervals: [],
        limit,
        peak: 0,
        latestEnd: -Infinity,
        callers: new CappedSet(8),
      }));
      if (g === undefined) {
        cdrDropped++;
        return;
      }
      const now = cdrTime(c);
      const id = c.callId ?? cdrRecordRef(c);
      const list = g.intervals;
      for (let i = list.length - 1; i >= 0; i--) {
        const x = list[i]!;
        if (x.id === id || x.to < now - DETECT_CDR_CALL_HORIZON_MS) list.splice(i, 1);
      }
      const { depth, at } = deepestOverlap(list, from, to);
      const mine: CdrInterval = {
        from,
        to,
        id,
        callId: cdrCallId(c),
        record: cdrRecordRef(c),
        dialled: escapeText(c.dialled, 40),
      };
      list.push(mine);
      if (list.length > DETECT_CDR_INTERVALS_PER_GROUP) {
        let first = 0;
        for (let i = 1; i < list.length; i++) if (list[i]!.to < list[first]!.to) first = i;
        list.splice(first, 1);
        cdrDropped++;
      }
      g.latestEnd = Math.max(g.latestEnd, to);
      g.callers.add(escapeText(c.caller, 40));
      // A call that overlaps none of the kept ones starts a new burst: its peak is measured afresh.
      if (depth === 1) g.peak = 0;
      if (depth <= g.peak) return;
      g.peak = depth;
      if (depth <= g.limit) return;
      if (ctx.touch?.(key, now, depth) === true) return;
      // The calls up at the deepest point, as they were when it was found.
      const up = list.filter((x) => x.from <= at && x.to > at);
      const numbers = new CappedSet(DETECT_FRAUD_NUMBERS_PER_CALLER);
      for (const x of up) numbers.add(x.dialled);
      const first = Math.min(...up.map((x) => x.from));
      const callers = g.callers.top(8).map((x) => x.value);
      ctx.raise({
        key,
        time: now,
        firstTime: first,
        count: depth,
        title: `${depth} simultaneous calls for ${key} (limit ${g.limit}) (CDR)`,
        target: { identity: escapeText(c.caller, 64) },
        evidence: {
          group: key,
          concurrent: depth,
          peak: depth,
          peakAt: isoTime(at),
          limit: g.limit,
          dialled: numbers.top(20).map((x) => x.value),
          callers,
          callIds: up
            .map((x) => x.callId)
            .filter((x) => x !== '')
            .slice(0, 20),
          cdrRecords: up.map((x) => x.record).slice(0, DETECT_CDR_RECORDS_PER_ALERT),
          untracked: cdrDropped,
        },
      });
    };
    const detector: ConcurrentCallsDetector = {
      get cdrStats() {
        let intervals = 0;
        for (const g of cdrGroups.values()) intervals += g.intervals.length;
        return { groups: cdrGroups.size, intervals, dropped: cdrDropped };
      },
      // Only answered calls with an end count (a socket's record of a call still up has none; its
      // final record does). The caller's calls count unless they came in from outside (an inbound
      // call forwarded out is outbound); every call that used a trunk counts for that trunk.
      onCdrCall(c: CdrCall): void {
        const from = c.answer;
        const to = c.end;
        if (from === undefined || to === undefined || to <= from) return;
        sweep(cdrTime(c));
        if (c.direction !== 'inbound') {
          const caller = escapeText(cdrCaller(c), 64);
          countCdr(c, `${cdrCallerIsExtension(c) ? 'extension' : 'caller'} ${caller}`, perCaller, from, to);
        }
        if (c.trunk !== undefined) countCdr(c, `trunk ${escapeText(c.trunk, 64)}`, perTrunk, from, to);
      },
      // A call counts from its answer to its end (BYE, failure of the dialog, or expiry when the
      // BYE was lost), under its first leg: a proxy's and a back-to-back PBX's onward legs are the
      // same call, so the dialling phone's identity and address are the caller, not the PBX.
      onCallAnswered(c: Call): void {
        if (calls.has(c.key)) return;
        if (calls.size >= DETECT_MAX_CONCURRENT_DIALOGS) {
          dropped++;
          return;
        }
        const time = c.answer ?? c.lastTime;
        const members = callGroups(ctx, c, perCaller, perTrunk);
        calls.set(c.key, members);
        for (const m of members) {
          let g = groups.get(m.key);
          if (g === undefined) {
            g = {
              open: 0,
              peak: 0,
              limit: m.limit,
              firstTime: time,
              numbers: new CappedSet(DETECT_FRAUD_NUMBERS_PER_CALLER),
              callers: new CappedSet(8),
              callIds: new CappedSet(20),
              frames: [],
            };
            groups.set(m.key, g);
          }
          g.open++;
          g.numbers.add(escapeText(c.dialled, 40));
          g.callers.add(escapeText(c.caller, 40));
          g.callIds.add(escapeText(c.callId, 80));
          pushFrame(g.frames, c.provenance.frame);
          if (g.open <= g.peak) continue;
          g.peak = g.open;
          if (g.open <= g.limit) continue;
          if (ctx.touch?.(m.key, time, g.peak) === true) continue;
          const group = g;
          ctx.raise({
            key: m.key,
            time,
            firstTime: g.firstTime,
            count: g.peak,
            title: `${g.open} simultaneous calls for ${m.key} (limit ${g.limit})`,
            source: { ip: c.from.ip, port: c.from.port },
            target: { ip: c.to.ip, port: c.to.port },
            evidence: () => ({
              group: m.key,
              concurrent: group.open,
              peak: group.peak,
              limit: group.limit,
              dialled: group.numbers.top(20).map((x) => x.value),
              callers: group.callers.top(8).map((x) => x.value),
              callIds: group.callIds.top(20).map((x) => x.value),
              frames: [...group.frames],
              untracked: dropped,
            }),
          });
        }
      },
      onCallEnded(c: Call): void {
        const members = calls.get(c.key);
        if (members === undefined) return;
        calls.delete(c.key);
        for (const m of members) {
          const g = groups.get(m.key);
          if (g === undefined) continue;
          g.open--;
          // A group lives while it has calls up: the table never outgrows the open calls.
          if (g.open <= 0) groups.delete(m.key);
        }
      },
    };
    return detector;
  },
};
