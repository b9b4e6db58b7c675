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
import { CappedSet, StatusTally } from './window.js';
import type { AuthAttempt } from './attempts.js';

/** Intervals between rejections remembered per profile (the most recent ones). */
const PROFILE_INTERVALS = 16;
/** Call-IDs remembered per profile (beyond that, only the distinct count grows). */
const PROFILE_CALL_IDS = 8;

/** A device retrying at least this far apart (median) is slow enough to be a stale registration. */
export const STALE_MIN_INTERVAL_MS = 15_000;
/** ...and reuses at most this many Call-IDs. */
export const STALE_MAX_CALL_IDS = 2;

/**
 * Rejections of one key (source, identity, or both) in one window. Six rules keep one per key, and
 * a spoofed flood makes a key per forged source, each seeing one rejection: so what only a second
 * rejection needs (intervals, more statuses) or what may never come (User-Agents, frames) is made
 * when it comes.
 */
export class RejectionProfile {
  readonly callIds = new CappedSet(PROFILE_CALL_IDS);
  private userAgents: CappedSet | undefined = undefined;
  readonly methods: Record<string, number> = {};
  private readonly statuses = new StatusTally();
  private frames: number[] | undefined = undefined;
  private intervals: number[] | undefined = undefined;
  private last = -Infinity;

  /** Records one rejected attempt. */
  add(a: AuthAttempt): void {
    // Log lines carry no Call-ID: each counts as its own.
    this.callIds.add(a.request?.callId ?? `${a.provenance.file ?? ''}:${a.provenance.line ?? 0}`);
    if (a.userAgent !== '') (this.userAgents ??= new CappedSet(4)).add(a.userAgent);
    countInto(this.methods, a.method);
    this.statuses.add(a.status);
    const frame = a.provenance.frame;
    if (frame !== undefined) {
      if (this.frames === undefined) this.frames = [frame];
      else if (this.frames.length < 20) this.frames.push(frame);
    }
    const t = a.request?.time ?? a.time;
    if (Number.isFinite(this.last)) {
      const iv = (this.intervals ??= []);
      if (iv.length >= PROFILE_INTERVALS) iv.shift();
      iv.push(t - this.last);
    }
    this.last = t;
  }

  /** Median interval between rejections (Infinity with fewer than two). */
  medianIntervalMs(): number {
    if (this.intervals === undefined) return Infinity;
    const s = [...this.intervals].sort((a, b) => a - b);
    return s[s.length >> 1] as number;
  }

  /** True when the rejections look like one device retrying an old password. */
  staleLike(): boolean {
    return this.callIds.distinct <= STALE_MAX_CALL_IDS && this.medianIntervalMs() >= STALE_MIN_INTERVAL_MS;
  }

  /** Evidence common to the authentication rules. */
  evidence(): Record<string, unknown> {
    return {
      methods: { ...this.methods },
      statuses: this.statuses.toRecord(),
      userAgents: this.userAgents === undefined ? [] : this.userAgents.top(4).map((u) => u.value),
      callIds: this.callIds.distinct,
      medianIntervalSeconds: Number.isFinite(this.medianIntervalMs())
        ? Math.round(this.medianIntervalMs() / 100) / 10
        : null,
      frames: this.frames === undefined ? [] : [...this.frames],
    };
  }
}

/** True for attempts that are failed guesses: credentials rejected, or credentials for an
 * identity the PBX says does not exist. */
export function isRejection(a: AuthAttempt): boolean {
  return a.outcome === 'rejected' || (a.credentials && a.outcome === 'not-found');
}
