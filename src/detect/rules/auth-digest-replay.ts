import { countInto } from '../../core/counts.js';
import { HashedFifo } from '../../core/hashed-fifo.js';
import { hash } from 'node:crypto';
import {
  DETECT_MAX_AUTH_KEYS,
  DETECT_REPLAY_BRANCHES_PER_NONCE,
  DETECT_REPLAY_HOPS_PER_CREDENTIAL,
  DETECT_REPLAY_MAX_CREDENTIALS,
  DETECT_REPLAY_MAX_ISSUED_NONCES,
  DETECT_REPLAY_MAX_NONCE_COUNTS,
  DETECT_REPLAY_MAX_PENDING,
  DETECT_REPLAY_MAX_SERVERS,
  DETECT_REPLAY_OPEN_PER_SOURCE,
} from '../../config/limits.js';
import { BoundedTable, hashKey } from '../../core/bounded-table.js';
import { escapeText } from '../../core/escape.js';
import type { DigestCredentials } from '../../sip/message.js';
import type { SipEvent } from '../../track/sip-event.js';
import type { Transaction } from '../../track/transactions.js';
import { isSipAttempt, type AuthAttempt, type SipAttempt } from '../attempts.js';
import type { DetectorContext, RuleModule } from '../rule.js';
import { CappedSet, KeyedWindows, pushFrame, sourceGroup, WINDOW_SWEEP_PER_HIT } from '../window.js';

/** Why a request counts as a replay. */
export type ReplayReason =
  'reused-from-other-source' | 'qop-response-repeated' | 'nonce-count-backwards' | 'nonce-never-issued';

/**
 * The first copy of one digest (user + realm + nonce + response). A spoofed flood fills this table
 * to its bound, so an entry is kept flat: Call-ID and branches as 32-bit hashes (a replayer can copy
 * the original's Call-ID and Vias outright, so a crafted collision buys nothing more), and the
 * second and later branches and hops in arrays made only when there are some.
 */
interface SeenDigest {
  readonly group: string;
  readonly ip: string;
  readonly time: number;
  readonly frame: number | undefined;
  readonly callId: number;
  readonly cseq: number;
  /** Hashes of the branches of the first copy's Vias (a proxy forwarding it keeps them below its
   * own): the first, then the others (undefined: none, or none past the first). */
  readonly branch: number | undefined;
  readonly moreBranches: number[] | undefined;
  /** Receivers of the copies seen: a receiver that sends the digest on is a relay (proxy, SBC). */
  readonly hop: string;
  moreHops: string[] | undefined;
}

/** The highest nonce count seen for one (user, realm, nonce): RFC 7616 §3.4 counts per nonce,
 * whatever the cnonce (many clients draw a new cnonce for every request). */
interface NonceCount {
  max: number;
  maxTime: number;
  maxGroup: string;
  /** Hashes of the latest branches (at most DETECT_REPLAY_BRANCHES_PER_NONCE, oldest first): the
   * first inline, the rest in an array made for the second. */
  branch: number;
  moreBranches: number[] | undefined;
}

/** What is known of one challenger. */
interface ServerState {
  /** Event time of its first challenge seen: observation of its nonces starts there. */
  readonly firstTime: number;
  challenges: number;
  /** Longest time between a nonce's challenge and an accepted use of it: the server's real nonce
   * lifetime is at least this. */
  maxAcceptedAgeMs: number;
}

/** Requests of one source to one server not answered yet, and when one went unanswered. */
interface Pending {
  /** Undefined while none is open (most of the time): an empty array per source costs more than
   * the rest of the entry. */
  open: Transaction[] | undefined;
  /** Event time of the latest request that never got an answer we saw (a lost challenge?). */
  lostAt: number;
}

interface AlertState {
  readonly reasons: Record<ReplayReason, number>;
  readonly originalSources: CappedSet;
  readonly methods: Record<string, number>;
  readonly userAgents: CappedSet;
  readonly frames: number[];
  readonly originalFrames: number[];
  accepted: number;
}

/** What the detector decided about one request, kept until its outcome is known. */
interface Verdict {
  readonly reason: ReplayReason;
  readonly alertKey: string | undefined;
  readonly original: SeenDigest | undefined;
}

const NEVER: ReplayReason = 'nonce-never-issued';

/** auth.digest-replay: a digest reused from another source, a qop response repeated in a new
 * transaction, a nonce count going backwards, or credentials for a nonce the server never issued
 * (only when all its challenges were seen). */
export const authDigestReplay: RuleModule = {
  meta: {
    id: 'auth.digest-replay',
    title: 'Digest credentials replayed',
    severity: 'high',
    description:
      'A digest is used again by someone else: (1) the same user, nonce and response sent from a second source ' +
      'address (an IPv6 /64 counts as one) within `memorySeconds`; (2) the same qop digest response (user, nonce, ' +
      'response) sent again in a new transaction (another branch) more than `reorderSeconds` after the first, ' +
      'even from the same address: a correct client never repeats a qop response, since each request carries ' +
      'a new nonce count; (3) the nonce count of one user and nonce going backwards, whatever the cnonce (RFC 7616 ' +
      '§3.4 counts the requests sent with a nonce), from another source or more than `reorderSeconds` after the ' +
      'higher count; (4) credentials the server accepted for a nonce it never issued — ' +
      "claimed only when the detector has watched that server's challenges for longer than the assumed nonce " +
      'lifetime (`nonceLifetimeSeconds`, or twice the oldest nonce the server was seen to accept), has seen at ' +
      'least `minChallenges` of them, dropped none that could still be valid, and saw every earlier request of that ' +
      'source answered.',
    falsePositives:
      'UDP retransmissions and the same request re-sent with the same branch are not replays; nor is a proxy or SBC ' +
      'forwarding the credentials (it sends them from the address they were sent to, or keeps the original Via ' +
      'below its own), nor a dual-stack client retrying the same request over the other address family. A device ' +
      'reusing its own old nonce with a lower count, or repeating its own response, is answered stale=true by a ' +
      'server that checks counts, and for (2) and (3) a request answered stale=true never counts; a device that ' +
      'repeats credentials without qop (no count) is not (2). ' +
      'A phone whose address changes (mobile roaming) while reusing a nonce without qop may look like (1), as may one ' +
      'account on two devices when the server hands both the same nonce (itself a crypto.weak-nonce finding): their ' +
      'counts then interleave and also look like (3). For (4), ' +
      'a server is judged with twice the oldest nonce it was seen to accept when that is longer than assumed; a ' +
      'server whose nonces stay valid for hours should get a larger `nonceLifetimeSeconds` before it shows that.',
    remediation:
      "3CX: block the replaying source (IP Blocklist), change the identity's Auth ID and password, and have remote " +
      'extensions use TLS (SIP over TLS for 3CX apps and provisioned phones) or the 3CX SBC so digests cannot be ' +
      'captured. Any PBX (Asterisk, Kamailio, FreeSWITCH): require qop=auth and check nonce counts (Kamailio ' +
      'nonce_count / one_time_nonce), bind nonces to the client address and keep them short-lived, reject nonces ' +
      'the server did not issue, and carry signaling over TLS.',
    references: [
      'RFC 7616 §3.3 and §5.5 (nonce count, replay attacks)',
      'RFC 3261 §22.4',
      'RFC 8760 (digest algorithms for SIP)',
      'Kamailio auth module: nonce_count, one_time_nonce, nonce_expire',
    ],
    thresholds: {
      memorySeconds: 3600,
      reorderSeconds: 2,
      nonceLifetimeSeconds: 3600,
      minChallenges: 3,
    },
    quietMs: 3_600_000,
  },
  create(ctx) {
    return new ReplayDetector(ctx);
  },
};

/** The detector behind `authDigestReplay` (exported for tests and metrics). */
export class ReplayDetector {
  private readonly memoryMs: number;
  private readonly reorderMs: number;
  private readonly lifetimeMs: number;
  private readonly minChallenges: number;
  private readonly digests = new BoundedTable<string, SeenDigest>(
    'auth.digest-replay credentials',
    DETECT_REPLAY_MAX_CREDENTIALS,
  );
  private readonly counts = new BoundedTable<string, NonceCount>(
    'auth.digest-replay nonce counts',
    DETECT_REPLAY_MAX_NONCE_COUNTS,
  );
  private readonly servers = new BoundedTable<string, ServerState>(
    'auth.digest-replay servers',
    DETECT_REPLAY_MAX_SERVERS,
  );
  private readonly pending = new BoundedTable<string, Pending>(
    'auth.digest-replay pending',
    DETECT_REPLAY_MAX_PENDING,
  );
  /** Known nonces, oldest first, to the event time they became known: as is for one issued in a
   * challenge we saw, as `-1 - time` for one first met in credentials (event times are never
   * negative). Under a flood of challenges every new nonce gives up the oldest of 100,000: a
   * HashedFifo keeps them in typed arrays, by a 64-bit hash (12.6 MiB of analyze's heap on
   * bench/out/office.pcap as a map of the nonce strings). */
  private readonly known = new HashedFifo(DETECT_REPLAY_MAX_ISSUED_NONCES);
  /** The latest receiver address seen: copies of the digests of one PBX share one string. */
  private lastHop = '';
  /** The "never issued" test is off until then: a nonce that may still be valid was forgotten. */
  private knownIncompleteUntil = -Infinity;
  /** Longest accepted nonce age over all servers (for the forgetting rule above). */
  private maxAcceptedAgeMs = 0;
  /** Decisions awaiting the request's outcome; entries vanish with their transactions. */
  private readonly verdicts = new WeakMap<Transaction, Verdict>();
  private readonly alerts = new KeyedWindows<AlertState>(
    'auth.digest-replay',
    DETECT_MAX_AUTH_KEYS,
    3_600_000,
    () => ({
      reasons: {
        'reused-from-other-source': 0,
        'qop-response-repeated': 0,
        'nonce-count-backwards': 0,
        'nonce-never-issued': 0,
      },
      originalSources: new CappedSet(16),
      methods: {},
      userAgents: new CappedSet(4),
      frames: [],
      originalFrames: [],
      accepted: 0,
    }),
  );
  /** Counters (for metrics and tests). */
  readonly stats = { knownEvictions: 0, relays: 0, retransmissions: 0 };
  /**
   * Event time of the request being looked at, read by the predicates below: the tables are swept
   * a few entries per request (BoundedTable.sweep), so an entry whose time is over leaves within a
   * round instead of holding its memory until a newer key evicts it. Each predicate says exactly
   * when the entry would be read as absent anyway.
   */
  private now = 0;
  /** A first copy older than `memorySeconds` is forgotten by `reuse`. */
  private readonly digestOver = (d: SeenDigest): boolean => this.now - d.time > this.memoryMs;
  /** A count older than `memorySeconds` starts again at the next use (`nonceCount`). */
  private readonly countOver = (c: NonceCount): boolean => this.now - c.maxTime > this.memoryMs;
  /** Nothing open, and no lost answer recent enough for `allSeen` to read (it uses each server's
   * lifetime, never more than the longest over all servers): the same as a new entry. */
  private readonly pendingOver = (p: Pending): boolean =>
    p.open === undefined && this.now - p.lostAt > Math.max(this.lifetimeMs, 2 * this.maxAcceptedAgeMs);

  constructor(private readonly ctx: DetectorContext) {
    this.memoryMs = (ctx.thresholds.memorySeconds ?? 3600) * 1000;
    this.reorderMs = (ctx.thresholds.reorderSeconds ?? 2) * 1000;
    this.lifetimeMs = (ctx.thresholds.nonceLifetimeSeconds ?? 3600) * 1000;
    this.minChallenges = ctx.thresholds.minChallenges ?? 3;
  }

  /** Entries held by each bounded table (for metrics and tests). */
  sizes(): {
    credentials: number;
    nonceCounts: number;
    servers: number;
    pending: number;
    knownNonces: number;
  } {
    return {
      credentials: this.digests.size,
      nonceCounts: this.counts.size,
      servers: this.servers.size,
      pending: this.pending.size,
      knownNonces: this.known.size,
    };
  }

  onMessage(ev: SipEvent, tx: Transaction | undefined, retransmission: boolean): void {
    if (!ev.isRequest) {
      this.response(ev, tx, retransmission);
      return;
    }
    if (retransmission) {
      this.stats.retransmissions++;
      return;
    }
    if (ev.method === 'ACK') return;
    if (ev.time > this.now) this.now = ev.time;
    this.track(ev, tx);
    const cred = credentialsOf(ev);
    if (cred === undefined) return;
    const user = cred.username ?? '';
    const nonce = cred.nonce ?? '';
    const response = cred.response ?? '';
    if (user === '' || nonce === '' || response === '') return;
    const realm = cred.realm ?? '';
    const group = sourceGroup(ev.frame.srcIp);
    const qop = cred.qop !== undefined && cred.nc !== undefined;
    let verdict: Verdict | undefined = this.reuse(ev, user, realm, nonce, response.toLowerCase(), group, qop);
    if (verdict?.reason !== 'reused-from-other-source') {
      // A count going backwards says more than a repeated response: it is preferred when both hold.
      verdict = this.nonceCount(ev, cred, user, realm, nonce, group) ?? verdict;
    }
    if (verdict === undefined) return;
    if (tx === undefined) this.report(ev, verdict, user, realm, false, ev.time);
    else if (verdict.reason === 'reused-from-other-source') {
      // Reuse by another host is a replay whatever the answer: report it now, count acceptance later.
      const key = this.report(ev, verdict, user, realm, false, ev.time);
      this.verdicts.set(tx, { ...verdict, alertKey: key });
    } else this.verdicts.set(tx, verdict);
  }

  onAttempt(a: AuthAttempt): void {
    // Log lines carry no digest to compare.
    if (!isSipAttempt(a)) return;
    const verdict = this.verdicts.get(a.tx);
    if (verdict !== undefined) {
      this.verdicts.delete(a.tx);
      if (verdict.reason === 'reused-from-other-source') {
        if (a.outcome === 'accepted' && verdict.alertKey !== undefined) this.accepted(a, verdict.alertKey);
      } else if (a.outcome !== 'stale') {
        // A count going backwards that the server answered stale=true is a device refreshing its nonce.
        this.report(a.request, verdict, a.identity, a.realm, a.outcome === 'accepted', a.time);
      }
    }
    if (!a.credentials || a.nonce === '') return;
    this.neverIssued(a);
  }

  onTransactionClosed(tx: Transaction, reason: 'completed' | 'timeout' | 'evicted'): void {
    if (tx.final !== undefined) return;
    const p = this.pending.get(pairKey(tx.request.frame.dstIp, tx.request.frame.srcIp));
    if (p === undefined) return;
    closeOpen(p, tx);
    // No answer seen: it may have been a challenge lost by the capture.
    if (reason !== 'completed' && tx.firstTime > p.lostAt) p.lostAt = tx.firstTime;
  }

  /** Challenges (what nonces were issued) and answers (which requests are still waiting). */
  private response(ev: SipEvent, tx: Transaction | undefined, retransmission: boolean): void {
    if (tx !== undefined && ev.status >= 200 && !retransmission) {
      const p = this.pending.get(pairKey(ev.frame.srcIp, ev.frame.dstIp));
      if (p !== undefined) closeOpen(p, tx);
    }
    if (retransmission || (ev.status !== 401 && ev.status !== 407)) return;
    const challenges = ev.status === 407 ? ev.msg.proxyAuthenticate : ev.msg.wwwAuthenticate;
    let issued = false;
    for (const c of challenges) {
      if (!c.isDigest || c.nonce === undefined || c.nonce === '') continue;
      this.remember(c.nonce, ev.time, true);
      issued = true;
    }
    if (!issued) return;
    const s = this.servers.touch(ev.frame.srcIp, () => ({
      firstTime: ev.time,
      challenges: 0,
      maxAcceptedAgeMs: 0,
    }));
    if (s !== undefined) s.challenges++;
  }

  /** Requests to a known server wait for their answer: an unanswered one may hide a lost challenge. */
  private track(ev: SipEvent, tx: Transaction | undefined): void {
    if (tx === undefined || this.servers.get(ev.frame.dstIp) === undefined) return;
    const key = pairKey(ev.frame.dstIp, ev.frame.srcIp);
    this.pending.sweep(WINDOW_SWEEP_PER_HIT, this.pendingOver);
    const p = this.pending.touch(key, newPending);
    if (p === undefined) return;
    const open = p.open;
    if (open === undefined) {
      p.open = [tx];
      return;
    }
    if (open.length >= DETECT_REPLAY_OPEN_PER_SOURCE) {
      // Too many open at once to follow: treat the oldest as possibly lost.
      const oldest = open.shift() as Transaction;
      if (oldest.firstTime > p.lostAt) p.lostAt = oldest.firstTime;
    }
    open.push(tx);
  }

  /** (1) The same digest from a second source. */
  private reuse(
    ev: SipEvent,
    user: string,
    realm: string,
    nonce: string,
    response: string,
    group: string,
    qop: boolean,
  ): Verdict | undefined {
    const key = hash('sha256', `${user}\u0000${realm}\u0000${nonce}\u0000${response}`, 'base64');
    this.digests.sweep(WINDOW_SWEEP_PER_HIT, this.digestOver);
    const seen = this.digests.get(key);
    if (seen === undefined) {
      this.digests.touch(key, () => this.firstCopy(ev, group));
      return undefined;
    }
    if (ev.time - seen.time > this.memoryMs) {
      this.digests.set(key, this.firstCopy(ev, group));
      return undefined;
    }
    this.digests.touch(key, () => seen);
    const src = ev.frame.srcIp;
    if (seen.group === group) {
      // Without qop a client may legitimately send the same response again (no count to raise).
      // With qop each request carries a new count, hence a new response: a repeat in a new
      // transaction (another branch), later than a reordering, is the old request replayed.
      if (!qop || ev.time - seen.time <= this.reorderMs) return undefined;
      if (ev.branch !== '' && hasBranch(seen, branchHash(ev.branch), false)) return undefined;
      if (lowerViaForwards(ev, seen)) return undefined;
      return { reason: 'qop-response-repeated', alertKey: undefined, original: seen };
    }
    const forwarded =
      hasHop(seen, src) ||
      lowerViaForwards(ev, seen) ||
      (ev.branch !== '' && hasBranch(seen, branchHash(ev.branch), true));
    if (forwarded) {
      this.stats.relays++;
      const dst = ev.frame.dstIp;
      if (!hasHop(seen, dst)) {
        const more = seen.moreHops;
        if (more === undefined) seen.moreHops = [dst];
        else if (more.length + 1 < DETECT_REPLAY_HOPS_PER_CREDENTIAL) more.push(dst);
      }
      return undefined;
    }
    if (seen.callId === (hashKey(ev.callId) | 0) && seen.cseq === ev.cseq) {
      // The very same request moments later: an SBC relaying it from its other interface, or a
      // dual-stack client retrying over the other address family. A replay comes later.
      if (ev.time - seen.time <= this.reorderMs || src.includes(':') !== seen.ip.includes(':')) {
        this.stats.relays++;
        return undefined;
      }
    }
    return { reason: 'reused-from-other-source', alertKey: undefined, original: seen };
  }

  /** (3) The nonce count of one user and nonce going backwards, whatever the cnonce. */
  private nonceCount(
    ev: SipEvent,
    cred: DigestCredentials,
    user: string,
    realm: string,
    nonce: string,
    group: string,
  ): Verdict | undefined {
    const nc = cred.nc;
    if (nc === undefined || cred.cnonce === undefined || cred.qop === undefined) return undefined;
    const key = hash('sha256', `${user}\u0000${realm}\u0000${nonce}`, 'base64');
    const b = branchHash(ev.branch);
    this.counts.sweep(WINDOW_SWEEP_PER_HIT, this.countOver);
    const s = this.counts.touch(key, () => ({
      max: nc,
      maxTime: ev.time,
      maxGroup: group,
      branch: b,
      moreBranches: undefined,
    }));
    if (s === undefined) return undefined;
    // The same request sent again (same branch) carries the same count: not a replay.
    if (!rememberBranch(s, b)) return undefined;
    if (nc > s.max || ev.time - s.maxTime > this.memoryMs) {
      s.max = nc;
      s.maxTime = ev.time;
      s.maxGroup = group;
      return undefined;
    }
    if (nc === s.max) return undefined;
    // Two requests sent together may arrive swapped: only a later or foreign lower count counts.
    if (s.maxGroup === group && ev.time - s.maxTime <= this.reorderMs) return undefined;
    return { reason: 'nonce-count-backwards', alertKey: undefined, original: undefined };
  }

  /** (4) Accepted credentials for a nonce never issued, when the server's challenges were all seen. */
  private neverIssued(a: SipAttempt): void {
    const nonce = a.nonce;
    const known = this.known.get(nonce);
    const t = a.request.time;
    if (known !== undefined) {
      // A challenged nonce is stored as its time (>= 0), one first met in credentials as -1 - time.
      if (a.outcome === 'accepted' && known >= 0) {
        const s = this.servers.get(a.dstIp);
        const age = t - known;
        if (s !== undefined && age > s.maxAcceptedAgeMs) s.maxAcceptedAgeMs = age;
        if (age > this.maxAcceptedAgeMs) this.maxAcceptedAgeMs = age;
      }
      return;
    }
    if (a.outcome === 'accepted' && this.allSeen(a, t)) {
      this.report(
        a.request,
        { reason: NEVER, alertKey: undefined, original: undefined },
        a.identity,
        a.realm,
        true,
        a.time,
      );
    }
    // From now on this nonce is known: its next uses are the same device's (or reuse, caught by (1)).
    this.remember(nonce, t, false);
  }

  /** True when every challenge of the server that could have issued a still-valid nonce was seen. */
  private allSeen(a: AuthAttempt, t: number): boolean {
    const s = this.servers.get(a.dstIp);
    if (s === undefined || s.challenges < this.minChallenges) return false;
    const lifetime = Math.max(this.lifetimeMs, 2 * s.maxAcceptedAgeMs);
    if (t - s.firstTime <= lifetime || t <= this.knownIncompleteUntil) return false;
    const p = this.pending.get(pairKey(a.dstIp, a.srcIp));
    if (p === undefined) return false;
    if (t - p.lostAt <= lifetime) return false;
    // Another request of this source still waiting for its answer: its challenge may be lost.
    if (p.open !== undefined) for (const o of p.open) if (o !== a.tx && o.firstTime <= t) return false;
    return true;
  }

  private remember(nonce: string, time: number, challenged: boolean): void {
    const had = this.known.get(nonce);
    if (had !== undefined) {
      if (had >= 0 || !challenged) return;
      this.known.delete(nonce);
    }
    if (this.known.size >= DETECT_REPLAY_MAX_ISSUED_NONCES) {
      const old = this.known.shift() as number;
      this.stats.knownEvictions++;
      const oldTime = old >= 0 ? old : -1 - old;
      const until = oldTime + Math.max(this.lifetimeMs, 2 * this.maxAcceptedAgeMs);
      if (until > this.knownIncompleteUntil) this.knownIncompleteUntil = until;
    }
    this.known.set(nonce, challenged ? time : -1 - time);
  }

  /** What is remembered of the first copy of a digest. */
  private firstCopy(ev: SipEvent, group: string): SeenDigest {
    const vias = ev.msg.vias;
    let branch: number | undefined;
    let moreBranches: number[] | undefined;
    for (let i = 0; i < vias.length && i < DETECT_REPLAY_HOPS_PER_CREDENTIAL; i++) {
      const b = vias[i]?.branch;
      if (b === undefined || b === '') continue;
      if (branch === undefined) branch = branchHash(b);
      else (moreBranches ??= []).push(branchHash(b));
    }
    let hop = ev.frame.dstIp;
    if (hop === this.lastHop) hop = this.lastHop;
    else this.lastHop = hop;
    return {
      group,
      ip: ev.frame.srcIp,
      time: ev.time,
      frame: ev.frame.provenance.frame,
      callId: hashKey(ev.callId) | 0,
      cseq: ev.cseq,
      branch,
      moreBranches,
      hop,
      moreHops: undefined,
    };
  }

  private report(
    ev: SipEvent,
    v: Verdict,
    user: string,
    realm: string,
    accepted: boolean,
    time: number,
  ): string | undefined {
    const group = sourceGroup(ev.frame.srcIp);
    const key = `${group}|${user}`;
    const w = this.alerts.hit(key, time);
    if (w === undefined) return undefined;
    const s = w.data;
    s.reasons[v.reason]++;
    if (accepted) s.accepted++;
    countInto(s.methods, ev.method);
    if (ev.msg.userAgent !== undefined) s.userAgents.add(escapeText(ev.msg.userAgent, 80));
    pushFrame(s.frames, ev.frame.provenance.frame);
    if (v.original !== undefined) {
      s.originalSources.add(v.original.ip);
      pushFrame(s.originalFrames, v.original.frame);
    }
    this.raise(key, w.firstTime, w.count, time, ev, v.reason, user, realm, s);
    return key;
  }

  private accepted(a: SipAttempt, key: string): void {
    const w = this.alerts.peek(key, a.time);
    if (w === undefined) return;
    w.data.accepted++;
    this.raise(
      key,
      w.firstTime,
      w.count,
      a.time,
      a.request,
      'reused-from-other-source',
      a.identity,
      a.realm,
      w.data,
    );
  }

  private raise(
    key: string,
    firstTime: number,
    count: number,
    time: number,
    ev: SipEvent,
    reason: ReplayReason,
    user: string,
    realm: string,
    s: AlertState,
  ): void {
    const extension = this.ctx.site.extensionOf(user);
    const who = extension === user ? `identity ${user}` : `extension ${extension} (Auth ID ${user})`;
    const from = ev.frame.srcIp;
    const server = ev.frame.dstIp;
    const title =
      reason === 'reused-from-other-source'
        ? `Digest of ${who} replayed from ${from}`
        : reason === 'qop-response-repeated'
          ? `Digest response of ${who} repeated in a new request from ${from}`
          : reason === 'nonce-count-backwards'
            ? `Nonce count went backwards for ${who} from ${from}`
            : `Credentials of ${who} for a nonce ${ev.frame.dstIp} never issued, from ${from}`;
    this.ctx.raise({
      key,
      time,
      firstTime,
      count,
      title,
      source: { ip: from, port: ev.frame.srcPort, transport: ev.frame.transport },
      target: { ip: ev.frame.dstIp, port: ev.frame.dstPort, extension, identity: user },
      evidence: () => ({
        reasons: { ...s.reasons },
        identity: user,
        realm,
        server,
        originalSources: s.originalSources.top(16).map((x) => x.value),
        accepted: s.accepted,
        methods: { ...s.methods },
        userAgents: s.userAgents.top(4).map((x) => x.value),
        // Digest responses and nonces are never shown: frames point to them in the capture.
        frames: [...s.frames],
        originalFrames: [...s.originalFrames],
      }),
    });
  }
}

/** A branch as a 32-bit hash (see SeenDigest). */
function branchHash(b: string): number {
  return hashKey(b) | 0;
}

/** True when the first copy carried branch `h`; `notFirst`: among its lower Vias only. */
function hasBranch(seen: SeenDigest, h: number, notFirst: boolean): boolean {
  if (!notFirst && seen.branch === h) return true;
  return seen.moreBranches !== undefined && seen.moreBranches.includes(h);
}

/** True when a Via below the top one of `ev` carries a branch of the first copy: a proxy or SBC
 * forwarding it. */
function lowerViaForwards(ev: SipEvent, seen: SeenDigest): boolean {
  if (seen.branch === undefined) return false;
  const vias = ev.msg.vias;
  for (let i = 1; i < vias.length; i++) {
    const b = vias[i]?.branch;
    if (b !== undefined && b !== '' && hasBranch(seen, branchHash(b), false)) return true;
  }
  return false;
}

function hasHop(seen: SeenDigest, ip: string): boolean {
  return seen.hop === ip || (seen.moreHops !== undefined && seen.moreHops.includes(ip));
}

/** Records branch `h` among a nonce's latest; false when it was there already (a re-send). */
function rememberBranch(s: NonceCount, h: number): boolean {
  if (s.branch === h) return false;
  const more = s.moreBranches;
  if (more === undefined) {
    s.moreBranches = [h];
    return true;
  }
  if (more.includes(h)) return false;
  if (more.length + 1 >= DETECT_REPLAY_BRANCHES_PER_NONCE) s.branch = more.shift() as number;
  more.push(h);
  return true;
}

function newPending(): Pending {
  return { open: undefined, lostAt: -Infinity };
}

/** The transaction got its answer (or left): no longer open. */
function closeOpen(p: Pending, tx: Transaction): void {
  const open = p.open;
  if (open === undefined) return;
  const i = open.indexOf(tx);
  if (i < 0) return;
  if (open.length === 1) p.open = undefined;
  else open.splice(i, 1);
}

function credentialsOf(ev: SipEvent): DigestCredentials | undefined {
  const c = ev.msg.authorization ?? ev.msg.proxyAuthorization;
  return c !== undefined && c.isDigest ? c : undefined;
}

function pairKey(server: string, source: string): string {
  return `${server}\u0000${source}`;
}
