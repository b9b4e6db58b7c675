/**
 * The audit's global rate limiter: a token bucket that every packet-producing action (a SIP
 * request, a retransmission, a TCP connect, a TLS handshake, an HTTP request) takes one token from.
 * The bucket holds at most `burst` tokens (1 by default), so over any window of T seconds at most
 * rate × T + burst actions leave: the declared rate is a ceiling, not an average.
 */
import { AUDIT_MAX_RATE, AUDIT_MAX_TOTAL_SENDS } from '../config/limits.js';

/** Clock and timer the limiter uses (injectable for tests). */
export interface LimiterClock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

/** The wall clock (an I/O edge: only the probe client uses it). */
export const REAL_CLOCK: LimiterClock = {
  now: () => performance.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** Raised when the run's hard cap of sends (AUDIT_MAX_TOTAL_SENDS) is reached. */
export class SendBudgetExceeded extends Error {
  override readonly name = 'SendBudgetExceeded';
}

/** A token bucket shared by every probe of one audit run. */
export class RateLimiter {
  readonly rate: number;
  readonly burst: number;
  private tokens: number;
  private last: number;
  /** Serialises waiters so tokens are handed out in call order. */
  private queue: Promise<void> = Promise.resolve();
  private sent = 0;

  constructor(
    rate: number,
    private readonly clock: LimiterClock = REAL_CLOCK,
    burst = 1,
    private readonly maxSends = AUDIT_MAX_TOTAL_SENDS,
  ) {
    if (!(rate > 0) || rate > AUDIT_MAX_RATE) throw new RangeError(`rate must be in (0, ${AUDIT_MAX_RATE}]`);
    this.rate = rate;
    this.burst = Math.max(1, Math.floor(burst));
    this.tokens = this.burst;
    this.last = clock.now();
  }

  /** Actions granted so far. */
  get granted(): number {
    return this.sent;
  }

  /** Waits for a token; rejects with SendBudgetExceeded once the run's cap is spent. */
  take(): Promise<void> {
    const next = this.queue.then(() => this.wait());
    // A rejection must not poison the queue for later callers.
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async wait(): Promise<void> {
    if (this.sent >= this.maxSends) throw new SendBudgetExceeded(`send budget of ${this.maxSends} spent`);
    for (;;) {
      const now = this.clock.now();
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.rate) / 1000);
      this.last = now;
      if (this.tokens >= 1) {
        this.tokens -= 1;
        this.sent++;
        return;
      }
      await this.clock.sleep(Math.max(1, ((1 - this.tokens) * 1000) / this.rate));
    }
  }
}
