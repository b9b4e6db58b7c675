import {
  DETECT_NONCE_MAX_SERVERS,
  DETECT_NONCE_RECENT_PER_SERVER,
  DETECT_NONCE_SAMPLES_PER_SERVER,
  DETECT_RANDOMNESS_MAX_CHARS,
} from '../../config/limits.js';
import { BoundedTable } from '../../core/bounded-table.js';
import { escapeText } from '../../core/escape.js';
import type { DigestChallenge } from '../../sip/message.js';
import type { SipEvent } from '../../track/sip-event.js';
import type { Transaction } from '../../track/transactions.js';
import type { DetectorContext, RuleModule } from '../rule.js';
import { CappedSet, pushFrame } from '../window.js';

// ── the randomness test (shared with crypto.predictable-identifiers) ─────────────────────────────

/** What a series of values (in issue order) looks like to an observer trying to predict the next. */
export type RandomnessKind = 'sequential' | 'low-entropy' | 'healthy' | 'undetermined';

/** The verdict of `assessRandomness`. */
export interface RandomnessVerdict {
  readonly kind: RandomnessKind;
  /** Unpredictable bits per value (from the steps of its numbers, or position by position);
   * undefined when not measured. */
  readonly estimatedBits: number | undefined;
  /** Values the verdict rests on (the group of one shape or one length). */
  readonly samples: number;
}

/** Share of a group needed for its shape to speak for the whole series. */
const DOMINANT_SHARE = 0.75;
/** Share of steps that must go forward for a number to count as a counter or a clock (the rest:
 * requests that arrived swapped). */
const FORWARD_SHARE = 0.9;

/**
 * Judges how predictable a series of distinct values is, in the order they were issued:
 * 1. Numbers: when most values share one shape once their digit runs are blanked
 *    (`N-12345@127.0.0.1`), or are all one hex number, each number's unpredictability is the size
 *    of its typical step, log2(median |step| + 1): a counter moves by 1 (≈1 bit), a clock by the time
 *    between values, a random number by about its range. Below `minBits` in all: `sequential` when a
 *    number counts forward (SIPp's Call-IDs, counters, bare clocks), else `low-entropy`.
 * 2. Otherwise position by position over the values of the most common length: a position counts
 *    when it changes almost every time, is not a counter digit (small forward steps) and takes as
 *    many distinct values as chance predicts; the sum of their bits below `minBits` is `low-entropy`.
 *    A slowly increasing prefix (a timestamp before an HMAC, as Kamailio, PJSIP and Asterisk build
 *    nonces) adds almost nothing, and the hash after it carries the bits: healthy.
 * Fewer than `minSamples` comparable values: `undetermined`.
 */
export function assessRandomness(
  values: readonly string[],
  minSamples: number,
  minBits: number,
): RandomnessVerdict {
  const vals = values.map((v) =>
    v.length > DETECT_RANDOMNESS_MAX_CHARS ? v.slice(0, DETECT_RANDOMNESS_MAX_CHARS) : v,
  );
  const num = numbersByShape(vals, minSamples) ?? numbersAsHex(vals, minSamples);
  if (num !== undefined) {
    const bits = round1(num.bits);
    const kind: RandomnessKind = num.bits >= minBits ? 'healthy' : num.forward ? 'sequential' : 'low-entropy';
    return { kind, estimatedBits: bits, samples: num.samples };
  }
  const pos = positionalBits(vals, minSamples);
  if (pos === undefined) return { kind: 'undetermined', estimatedBits: undefined, samples: vals.length };
  return {
    kind: pos.bits < minBits ? 'low-entropy' : 'healthy',
    estimatedBits: round1(pos.bits),
    samples: pos.samples,
  };
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}

/** Bits an observer must guess to get the next number from the previous ones, and whether it counts
 * forward (not constant, steps mostly >= 0). */
function numberBits(nums: readonly bigint[]): { bits: number; forward: boolean } {
  const steps: bigint[] = [];
  let forward = 0;
  let moving = false;
  for (let k = 1; k < nums.length; k++) {
    const d = (nums[k] as bigint) - (nums[k - 1] as bigint);
    if (d !== 0n) moving = true;
    if (d >= 0n) forward++;
    steps.push(d < 0n ? -d : d);
  }
  steps.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const median = steps[steps.length >> 1] ?? 0n;
  const bits = Math.log2(Number(median) + 1);
  return {
    bits: Number.isFinite(bits) ? bits : 1024,
    forward: moving && forward >= steps.length * FORWARD_SHARE,
  };
}

interface NumericVerdict {
  readonly bits: number;
  readonly forward: boolean;
  readonly samples: number;
}

/** The group of values sharing one digit-blanked shape, judged by its numbers; undefined when no
 * shape dominates or it holds no number. */
function numbersByShape(vals: readonly string[], minSamples: number): NumericVerdict | undefined {
  const need = Math.max(minSamples, vals.length * DOMINANT_SHARE);
  if (!mayShareShape(vals, need)) return undefined;
  // Values grouped by shape first; the numbers are read only from the dominant group, when there is
  // one (random nonces, base64 with digits here and there, have none: no number is read at all).
  const groups = new Map<string, string[]>();
  for (const v of vals) {
    const shape = v.replace(/[0-9]+/g, '#');
    const g = groups.get(shape);
    if (g === undefined) groups.set(shape, [v]);
    else g.push(v);
  }
  let dominant: string[] = [];
  for (const g of groups.values()) if (g.length > dominant.length) dominant = g;
  if (dominant.length < minSamples || dominant.length < vals.length * DOMINANT_SHARE) return undefined;
  const best = dominant.map((v) => v.match(/[0-9]+/g) ?? []);
  const slots = best[0]?.length ?? 0;
  if (slots === 0) return undefined;
  let bits = 0;
  let forward = false;
  for (let s = 0; s < slots; s++) {
    const r = numberBits(best.map((n) => BigInt(n[s] ?? '0')));
    bits += r.bits;
    forward ||= r.forward;
  }
  return { bits, forward, samples: best.length };
}

/**
 * False when no `need` values can share one shape: values of one shape have the same count of
 * non-digit characters and of digit runs, so when no such pair of counts is that common, no shape
 * is either (random nonces end here, without a regular expression per value).
 */
function mayShareShape(vals: readonly string[], need: number): boolean {
  const signatures = new Map<number, number>();
  for (const v of vals) {
    let other = 0;
    let runs = 0;
    let inRun = false;
    for (let i = 0; i < v.length; i++) {
      const c = v.charCodeAt(i);
      const digit = c >= 0x30 && c <= 0x39;
      if (!digit) other++;
      else if (!inRun) runs++;
      inRun = digit;
    }
    const sig = other * 1024 + runs;
    const n = (signatures.get(sig) ?? 0) + 1;
    if (n >= need) return true;
    signatures.set(sig, n);
  }
  return false;
}

/** The series as hex numbers when every value is hex of one case (counters in hex); else undefined. */
function numbersAsHex(vals: readonly string[], minSamples: number): NumericVerdict | undefined {
  if (vals.length < minSamples) return undefined;
  const lower = vals.every((v) => /^[0-9a-f]{1,64}$/.test(v));
  const upper = vals.every((v) => /^[0-9A-F]{1,64}$/.test(v));
  if (!lower && !upper) return undefined;
  const r = numberBits(vals.map((v) => BigInt(`0x${v}`)));
  return { bits: r.bits, forward: r.forward, samples: vals.length };
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Bits of unpredictability per value, summed over positions, for the values of the most common
 * length; undefined with fewer than `minSamples` of them. */
function positionalBits(
  vals: readonly string[],
  minSamples: number,
): { bits: number; samples: number } | undefined {
  const byLength = new Map<number, number>();
  for (const v of vals) byLength.set(v.length, (byLength.get(v.length) ?? 0) + 1);
  let len = -1;
  let count = 0;
  for (const [l, c] of byLength) if (c > count || (c === count && l > len)) [len, count] = [l, c];
  if (count < minSamples || len <= 0) return undefined;
  const group = vals.filter((v) => v.length === len);
  const m = group.length;
  // Positions that move at all, and the alphabet seen there (constant text is not the alphabet).
  const moving: number[] = [];
  const first = group[0] as string;
  for (let i = 0; i < len; i++) {
    const c0 = first.charCodeAt(i);
    for (let k = 1; k < m; k++) {
      if ((group[k] as string).charCodeAt(i) !== c0) {
        moving.push(i);
        break;
      }
    }
  }
  const chars = new DistinctCodes();
  for (const i of moving) for (const v of group) chars.add(v.charCodeAt(i));
  const alpha = alphabet(chars.list);
  const symbolBits = Math.log2(alpha.size);
  const expectedDistinct = alpha.size * (1 - Math.pow(1 - 1 / alpha.size, m));
  const maxStep = Math.max(2, Math.floor(alpha.size / 8));
  let bits = 0;
  for (const i of moving) {
    let changes = 0;
    let forward = 0;
    const seen = new DistinctCodes();
    let prev = alpha.index(first.charCodeAt(i));
    seen.add(prev);
    for (let k = 1; k < m; k++) {
      const cur = alpha.index((group[k] as string).charCodeAt(i));
      seen.add(cur);
      if (cur !== prev) changes++;
      const step = (((cur - prev) % alpha.size) + alpha.size) % alpha.size;
      if (step >= 1 && step <= maxStep) forward++;
      prev = cur;
    }
    if (changes * 3 < (m - 1) * 2) continue; // a slowly moving digit (a clock's high digits)
    if (forward >= (m - 1) * FORWARD_SHARE) continue; // a counter's or clock's low digit
    const distinct = seen.list.length;
    bits += distinct >= expectedDistinct * 0.6 ? symbolBits : Math.log2(distinct);
  }
  return { bits, samples: m };
}

/** Stamps of the small values seen by the current DistinctCodes (one generation per set). */
const STAMPS = new Uint32Array(512);
let stampGeneration = 0;

/**
 * The distinct values among small non-negative integers (character codes, alphabet indexes), in
 * first-seen order: a stamp table instead of a Set per position (the Sets were most of the
 * randomness test's time). Values past the table go through a Set. One set in use at a time.
 */
class DistinctCodes {
  readonly list: number[] = [];
  private readonly generation: number;
  private large: Set<number> | undefined;

  constructor() {
    if (++stampGeneration === 0xffffffff) {
      STAMPS.fill(0);
      stampGeneration = 1;
    }
    this.generation = stampGeneration;
  }

  add(v: number): void {
    if (v < STAMPS.length) {
      if (STAMPS[v] === this.generation) return;
      STAMPS[v] = this.generation;
    } else {
      this.large ??= new Set();
      if (this.large.has(v)) return;
      this.large.add(v);
    }
    this.list.push(v);
  }
}

/** Order of a character code in B64, or 64 + the code when it is not there (what B64.indexOf gave). */
const B64_INDEX = ((): Int16Array => {
  const t = new Int16Array(128);
  for (let c = 0; c < 128; c++) t[c] = 64 + c;
  for (let k = 0; k < B64.length; k++) t[B64.charCodeAt(k)] = k;
  return t;
})();

/** The alphabet the moving characters (UTF-16 code units) come from, with an order for counting
 * steps. */
function alphabet(chars: readonly number[]): { size: number; index(code: number): number } {
  let digits = false;
  let hexLower = false;
  let hexUpper = false;
  let lower = false;
  let upper = false;
  let other = 0;
  for (const c of chars) {
    if (c >= 0x30 && c <= 0x39) digits = true;
    else if (c >= 0x61 && c <= 0x66) hexLower = true;
    else if (c >= 0x41 && c <= 0x46) hexUpper = true;
    else if (c >= 0x67 && c <= 0x7a) lower = true;
    else if (c >= 0x47 && c <= 0x5a) upper = true;
    else other++;
  }
  if (!lower && !upper && other === 0 && !(hexLower && hexUpper)) {
    // Decimal or hex of one case: order by numeric value so a counter's steps are small.
    const size = hexLower || hexUpper ? 16 : 10;
    return { size, index: (c) => (c <= 0x39 ? c - 0x30 : (c | 0x20) - 0x61 + 10) };
  }
  const size = (digits ? 10 : 0) + (lower ? 26 : hexLower ? 6 : 0) + (upper ? 26 : hexUpper ? 6 : 0) + other;
  return {
    size: Math.max(size, 2),
    index: (c) => (c < 128 ? (B64_INDEX[c] as number) : 64 + c),
  };
}

// ── the rule ─────────────────────────────────────────────────────────────────────────────────────

/** Where and to whom a nonce was first issued. */
interface Issue {
  readonly nonce: string;
  readonly client: string;
  readonly callId: string;
  readonly time: number;
}

interface ServerState {
  /** Latest distinct nonces, oldest first (a ring of DETECT_NONCE_SAMPLES_PER_SERVER). */
  samples: string[];
  distinct: number;
  nextAnalysis: number;
  /** Nonce → its first issue, in issue order (bounded, and none older than the repeat window). */
  readonly recent: Map<string, Issue>;
  /** The same issues in issue order, from `recentHead` on: entries leave `recent` only from its
   * oldest end, so this queue says which without iterating the map (V8 keeps a deleted entry's
   * slot until it rehashes: walking from the head of a map deleted from the head is slow). */
  recentQueue: Issue[];
  recentHead: number;
  challenges: number;
  repeats: number;
  readonly repeatClients: CappedSet;
  readonly clients: CappedSet;
  readonly frames: number[];
  readonly repeatFrames: number[];
  readonly firstTime: number;
  realm: string;
  port: number;
  transport: string;
  verdict: RandomnessVerdict | undefined;
  spoken: boolean;
}

/** crypto.weak-nonce: a server's digest nonces repeat or are predictable as a whole. */
export const cryptoWeakNonce: RuleModule = {
  meta: {
    id: 'crypto.weak-nonce',
    title: 'Weak digest nonces',
    severity: 'medium',
    description:
      'The PBX (the address that sends 401/407 challenges) issues nonces that repeat — the same nonce in challenges ' +
      'to other clients, or to other Call-IDs of one client more than `sameClientGapSeconds` apart, within ' +
      '`repeatWindowSeconds` — or that can be predicted as a whole: small sequential numbers, a bare clock, a ' +
      'counter inside fixed text, or fewer than `minRandomBits` bits that change unpredictably from one nonce to the ' +
      'next (measured position by position over at least `minSamples` nonces). A predictable nonce lets an attacker ' +
      'prepare or replay digests. Speaks once per server.',
    falsePositives:
      'A retransmitted challenge repeats its nonce and is ignored, as are re-challenges within one Call-ID. ' +
      "A timestamp before an HMAC or hash (Kamailio's auth module, PJSIP, Asterisk) is healthy: only the part that is " +
      "not a slowly increasing prefix is judged, and a counter after the hash (Kamailio's nonce index) does not " +
      "make it predictable. Asterisk's PJSIP nonce is the same for one address within one second: repeats to the " +
      'same client closer than `sameClientGapSeconds` do not count.',
    remediation:
      '3CX: update to a supported version (3CX generates its nonces itself; there is no setting) and put an SBC or ' +
      'the 3CX SBC in front of remote extensions; report a predictable nonce to 3CX support. Any PBX: use a nonce ' +
      'made of a timestamp and an HMAC with a secret (Kamailio auth with a random secret, Asterisk PJSIP), one per ' +
      'challenge, enable qop=auth with nonce-count checking (Kamailio nonce_count/one_time_nonce), keep nonce ' +
      'lifetimes short, and offer SHA-256 digests (RFC 8760).',
    references: [
      'RFC 7616 §3.3 and §5.4 (nonce construction and replay)',
      'RFC 3261 §22.4',
      'RFC 8760 (digest algorithms for SIP)',
      'Kamailio auth module: nonce_expire, nonce_count, one_time_nonce',
    ],
    thresholds: {
      repeats: 2,
      repeatWindowSeconds: 600,
      sameClientGapSeconds: 5,
      minSamples: 8,
      minRandomBits: 24,
    },
    quietMs: 3_600_000,
  },
  create(ctx) {
    return new WeakNonceDetector(ctx);
  },
};

/** The detector behind `cryptoWeakNonce` (exported for tests and metrics). */
export class WeakNonceDetector {
  private readonly repeatThreshold: number;
  private readonly windowMs: number;
  private readonly sameClientGapMs: number;
  private readonly minSamples: number;
  private readonly minBits: number;
  private readonly servers = new BoundedTable<string, ServerState>(
    'crypto.weak-nonce servers',
    DETECT_NONCE_MAX_SERVERS,
  );
  /** Nonces of the message being read (several algorithms may share one). */
  private readonly scratch = new Set<string>();

  constructor(private readonly ctx: DetectorContext) {
    this.repeatThreshold = ctx.thresholds.repeats ?? 2;
    this.windowMs = (ctx.thresholds.repeatWindowSeconds ?? 600) * 1000;
    this.sameClientGapMs = (ctx.thresholds.sameClientGapSeconds ?? 5) * 1000;
    this.minSamples = Math.max(3, ctx.thresholds.minSamples ?? 8);
    this.minBits = ctx.thresholds.minRandomBits ?? 24;
  }

  /** Servers followed, and the most nonces held for one of them (for metrics and tests). */
  sizes(): { servers: number; maxRecent: number; maxSamples: number } {
    let maxRecent = 0;
    let maxSamples = 0;
    for (const s of this.servers.values()) {
      maxRecent = Math.max(maxRecent, s.recent.size);
      maxSamples = Math.max(maxSamples, s.samples.length);
    }
    return { servers: this.servers.size, maxRecent, maxSamples };
  }

  onMessage(ev: SipEvent, _tx: Transaction | undefined, retransmission: boolean): void {
    // A retransmitted challenge repeats its nonce by design.
    if (ev.isRequest || retransmission || (ev.status !== 401 && ev.status !== 407)) return;
    const challenges: readonly DigestChallenge[] =
      ev.status === 407 ? ev.msg.proxyAuthenticate : ev.msg.wwwAuthenticate;
    if (challenges.length === 0) return;
    const server = ev.frame.srcIp;
    const s = this.servers.touch(server, () => this.newServer(ev));
    if (s === undefined) return;
    s.challenges++;
    const client = ev.frame.dstIp;
    s.clients.add(client);
    const frame = ev.frame.provenance.frame;
    pushFrame(s.frames, frame);
    const scratch = this.scratch;
    scratch.clear();
    for (const c of challenges) {
      if (!c.isDigest || c.nonce === undefined || c.nonce === '' || scratch.has(c.nonce)) continue;
      scratch.add(c.nonce);
      if (s.realm === '' && c.realm !== undefined) s.realm = escapeText(c.realm, 80);
      const nonce =
        c.nonce.length > DETECT_RANDOMNESS_MAX_CHARS
          ? c.nonce.slice(0, DETECT_RANDOMNESS_MAX_CHARS)
          : c.nonce;
      expire(s, ev.time - this.windowMs);
      const first = s.recent.get(nonce);
      if (first !== undefined) {
        // Re-challenges within one Call-ID, and one client within a second (PJSIP), are not repeats.
        if (
          first.callId !== ev.callId &&
          (first.client !== client || ev.time - first.time > this.sameClientGapMs)
        ) {
          s.repeats++;
          s.repeatClients.add(client);
          pushFrame(s.repeatFrames, frame);
        }
        continue;
      }
      if (s.recent.size >= DETECT_NONCE_RECENT_PER_SERVER) dropOldest(s);
      const issue = { nonce, client, callId: ev.callId, time: ev.time };
      s.recent.set(nonce, issue);
      s.recentQueue.push(issue);
      s.samples.push(nonce);
      if (s.samples.length > DETECT_NONCE_SAMPLES_PER_SERVER) s.samples.shift();
      s.distinct++;
      if (s.distinct >= s.nextAnalysis && !s.spoken) {
        s.verdict = assessRandomness(s.samples, this.minSamples, this.minBits);
        s.nextAnalysis =
          s.distinct < DETECT_NONCE_SAMPLES_PER_SERVER
            ? Math.min(s.distinct * 2, DETECT_NONCE_SAMPLES_PER_SERVER)
            : s.distinct + DETECT_NONCE_SAMPLES_PER_SERVER;
      }
    }
    this.speak(server, s, ev.time);
  }

  private newServer(ev: SipEvent): ServerState {
    return {
      samples: [],
      distinct: 0,
      nextAnalysis: this.minSamples,
      recent: new Map(),
      recentQueue: [],
      recentHead: 0,
      challenges: 0,
      repeats: 0,
      repeatClients: new CappedSet(16),
      clients: new CappedSet(64),
      frames: [],
      repeatFrames: [],
      firstTime: ev.time,
      realm: '',
      port: ev.frame.srcPort,
      transport: ev.frame.transport,
      verdict: undefined,
      spoken: false,
    };
  }

  /** Raises once per server, when nonces repeated or were judged predictable. */
  private speak(server: string, s: ServerState, time: number): void {
    if (s.spoken) return;
    const reasons: string[] = [];
    if (s.repeats >= this.repeatThreshold) reasons.push('repeated');
    if (s.verdict !== undefined && (s.verdict.kind === 'sequential' || s.verdict.kind === 'low-entropy')) {
      reasons.push(s.verdict.kind);
    }
    if (reasons.length === 0) return;
    s.spoken = true;
    // Samples are no longer needed once the server is judged.
    s.samples = [];
    this.ctx.raise({
      key: server,
      time,
      firstTime: s.firstTime,
      count: s.challenges,
      title: `Weak digest nonces from ${server}: ${reasons.join(' and ')}`,
      target: { ip: server, port: s.port },
      evidence: {
        server,
        realm: s.realm,
        reasons,
        challenges: s.challenges,
        distinctNonces: s.distinct,
        repeats: s.repeats,
        repeatedToClients: s.repeatClients.distinct,
        clients: s.clients.distinct,
        samplesJudged: s.verdict?.samples ?? 0,
        estimatedRandomBits: s.verdict?.estimatedBits ?? null,
        transport: s.transport,
        // The nonces themselves are not shown: one may belong to a login in progress.
        frames: s.repeatFrames.length > 0 ? [...s.repeatFrames] : [...s.frames],
      },
    });
  }
}

/** Drops nonces issued before `before` (the queue is in issue order). */
function expire(s: ServerState, before: number): void {
  // dropOldest may replace the queue: read it afresh each time.
  while (s.recentHead < s.recentQueue.length && (s.recentQueue[s.recentHead] as Issue).time < before) {
    dropOldest(s);
  }
}

/** Drops the oldest nonce held, keeping the queue within about twice the held count. */
function dropOldest(s: ServerState): void {
  const q = s.recentQueue;
  const issue = q[s.recentHead++] as Issue;
  s.recent.delete(issue.nonce);
  if (s.recentHead === q.length) {
    q.length = 0;
    s.recentHead = 0;
  } else if (s.recentHead >= 64 && s.recentHead * 2 >= q.length) {
    s.recentQueue = q.slice(s.recentHead);
    s.recentHead = 0;
  }
}
