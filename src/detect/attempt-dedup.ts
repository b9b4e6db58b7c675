import {
  DETECT_LOG_DEDUP_MAX_KEYS,
  DETECT_LOG_DEDUP_PER_KEY,
  DETECT_LOG_DEDUP_WINDOW_MS,
} from '../config/limits.js';
import type { AttemptOutcome, AuthAttempt } from './attempts.js';
import { FifoMap } from '../core/fifo-map.js';

/** Outcomes a PBX log line can report; only these are worth remembering from the wire. */
const LOGGED: ReadonlySet<AttemptOutcome> = new Set(['rejected', 'accepted', 'not-found', 'forbidden']);

/**
 * Recognises a log line that reports an attempt already seen on the wire (DESIGN.md: the same
 * message seen over HEP and in a log is counted once). Wire attempts are remembered only once a log
 * source has spoken, so capture-only runs pay nothing. Matching is by source address, user and
 * outcome within DETECT_LOG_DEDUP_WINDOW_MS; each wire attempt absorbs at most one line.
 *
 * A line that arrives before its wire copy is counted (log tails usually lag the wire, and a wire
 * attempt carries more than a line: digests, User-Agent), so the rare reverse order double-counts.
 */
export class AttemptDedup {
  /** Wire attempts by key: times, oldest first; the oldest key leaves first. */
  private readonly wire = new FifoMap<string, number[]>();
  private active = false;
  /** Log attempts dropped as copies of wire attempts. */
  duplicates = 0;
  evictions = 0;

  /** Remembers a wire attempt (no-op until a log line was seen). */
  sawWire(a: AuthAttempt): void {
    if (!this.active || !LOGGED.has(a.outcome)) return;
    const key = keyOf(a);
    let times = this.wire.get(key);
    if (times === undefined) {
      if (this.wire.size >= DETECT_LOG_DEDUP_MAX_KEYS) {
        this.wire.shift();
        this.evictions++;
      }
      times = [];
      this.wire.set(key, times);
    }
    if (times.length >= DETECT_LOG_DEDUP_PER_KEY) times.shift();
    times.push(a.time);
  }

  /** True when this log attempt copies a remembered wire attempt (which it then consumes). */
  isCopy(a: AuthAttempt): boolean {
    this.active = true;
    const key = keyOf(a);
    const times = this.wire.get(key);
    if (times === undefined) return false;
    for (let i = 0; i < times.length; i++) {
      if (Math.abs(times[i]! - a.time) <= DETECT_LOG_DEDUP_WINDOW_MS) {
        times.splice(i, 1);
        if (times.length === 0) this.wire.delete(key);
        this.duplicates++;
        return true;
      }
    }
    return false;
  }
}

function keyOf(a: AuthAttempt): string {
  // Logs name the account or the extension, not always both: the wire attempt is matched on the
  // identity when it has credentials, else on the user it aimed at.
  const user = a.credentials ? a.identity : a.extension;
  return `${a.srcIp}|${user}|${a.outcome}`;
}
