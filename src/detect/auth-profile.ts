/**
 * What the authentication rules remember about a run of rejected attempts, and the test that
 * tells a misconfigured device from a guesser.
 *
 * A phone left with an old password re-sends its REGISTER at its registration or retry interval,
 * keeping its Call-ID (RFC 3261 §10.2.4 asks a UA to reuse it across refreshes) and one
 * User-Agent. A guesser is fast or rotates Call-IDs. "Stale-like" = few Call-IDs AND a slow,
 * regular pace.
 */
import { countInto } from '../core/counts.js';
import { CappedSet, StatusTally, withFrame } from './window.js';
import type { AuthAttempt } from './attempts.js';

/** Intervals between rejections remembered per profile (the most recent ones). */
const PROFILE_INTERVALS = 16;
/** Call-IDs remembered per profile (beyond that, only the distinct count grows). */
const PROFILE_CALL_IDS = 8;

/** A device retrying at least this far apart (median) is slow enough to be a stale registration. */
export const STALE_MIN_INTERVAL_MS = 15_000;
/** ...and reuses at most this many Call-IDs. */
export const STALE_MAX_CALL_IDS = 2;

/** What a profile keeps from its second rejection on. */
class ProfileMore {
  readonly callIds = new CappedSet(PROFILE_CALL_IDS);
  userAgents: CappedSet | undefined = undefined;
  readonly methods: Record<string, number> = {};
  readonly statuses = new StatusTally();
  frames: number[] | undefined = undefined;
  readonly intervals: number[] = [];
}

/**
 * Rejections of one key (source, identity, or both) in one window. Six rules keep one per key, and
 * a spoofed flood makes a key per forged source, each seeing one rejection: so the first rejection
 * is kept in a few fields of the profile itself, and the sets and tallies a second one needs are
 * made when it comes (test/detect/auth-profile.test.ts holds a profile of one rejection under
 * 160 bytes).
 */
export class RejectionProfile {
  /** Rejections recorded. */
  private n = 0;
  // The first rejection, while it is the only one.
  private firstCallId = '';
  private firstAgent = '';
  private firstMethod = '';
  private firstStatus = 0;
  /** Its capture frame, or -1. */
  private firstFrame = -1;
  private last = -Infinity;
  private more: ProfileMore | undefined = undefined;

  /** Records one rejected attempt. */
  add(a: AuthAttempt): void {
    // Log lines carry no Call-ID: each counts as its own.
    const callId = a.request?.callId ?? `${a.provenance.file ?? ''}:${a.provenance.line ?? 0}`;
    const frame = a.provenance.frame ?? -1;
    const t = a.request?.time ?? a.time;
    if (this.n++ === 0) {
      this.firstCallId = callId;
      this.firstAgent = a.userAgent;
      this.firstMethod = a.method;
      this.firstStatus = a.status;
      this.firstFrame = frame;
      this.last = t;
      return;
    }
    let m = this.more;
    if (m === undefined) {
      m = this.more = new ProfileMore();
      this.record(m, this.firstCallId, this.firstAgent, this.firstMethod, this.firstStatus, this.firstFrame);
      this.firstCallId = this.firstAgent = this.firstMethod = '';
    }
    this.record(m, callId, a.userAgent, a.method, a.status, frame);
    const iv = m.intervals;
    if (iv.length >= PROFILE_INTERVALS) iv.shift();
    iv.push(t - this.last);
    this.last = t;
  }

  private record(
    m: ProfileMore,
    callId: string,
    agent: string,
    method: string,
    status: number,
    frame: number,
  ): void {
    m.callIds.add(callId);
    if (agent !== '') (m.userAgents ??= new CappedSet(4)).add(agent);
    countInto(m.methods, method);
    m.statuses.add(status);
    if (frame >= 0) m.frames = withFrame(m.frames, frame);
  }

  /** Rejections recorded in this window. */
  get rejections(): number {
    return this.n;
  }

  /** Distinct Call-IDs among the rejections. */
  private callIdsDistinct(): number {
    return this.more?.callIds.distinct ?? (this.n === 0 ? 0 : 1);
  }

  /** Median interval between rejections (Infinity with fewer than two). */
  medianIntervalMs(): number {
    if (this.more === undefined) return Infinity;
    const s = [...this.more.intervals].sort((a, b) => a - b);
    return s[s.length >> 1] as number;
  }

  /** True when the rejections look like one device retrying an old password. */
  staleLike(): boolean {
    return this.callIdsDistinct() <= STALE_MAX_CALL_IDS && this.medianIntervalMs() >= STALE_MIN_INTERVAL_MS;
  }

  /** Evidence common to the authentication rules. */
  evidence(): Record<string, unknown> {
    const m = this.more;
    const median = this.medianIntervalMs();
    const one = this.n > 0 && m === undefined;
    const statuses = m?.statuses.toRecord() ?? {};
    if (one) statuses[String(this.firstStatus)] = 1;
    return {
      methods: m !== undefined ? { ...m.methods } : one ? { [this.firstMethod]: 1 } : {},
      statuses,
      userAgents:
        m !== undefined
          ? (m.userAgents?.top(4).map((u) => u.value) ?? [])
          : one && this.firstAgent !== ''
            ? [this.firstAgent]
            : [],
      callIds: this.callIdsDistinct(),
      medianIntervalSeconds: Number.isFinite(median) ? Math.round(median / 100) / 10 : null,
      frames: m !== undefined ? [...(m.frames ?? [])] : one && this.firstFrame >= 0 ? [this.firstFrame] : [],
    };
  }
}

/** True for attempts that are failed guesses: credentials rejected, or credentials for an
 * identity the PBX says does not exist. */
export function isRejection(a: AuthAttempt): boolean {
  return a.outcome === 'rejected' || (a.credentials && a.outcome === 'not-found');
}
