import {
  DETECT_CDR_DEDUP_MAX_NUMBERS,
  DETECT_CDR_DEDUP_PER_NUMBER,
  DETECT_CDR_DEDUP_WINDOW_MS,
  DETECT_CDR_SEEN_CALL_IDS,
} from '../config/limits.js';
import type { CdrCall } from '../core/records.js';
import { numberKey } from '../track/call-table.js';
import { FifoMap } from '../core/fifo-map.js';

/**
 * Recognises a CDR record of a call already seen on the wire, so the fraud rules count it once
 * (DESIGN.md: one event, several sources, counted once). Wire INVITEs are remembered only once a
 * CDR source has spoken, so capture-only runs pay nothing; a CDR that arrives first (no wire copy
 * yet) is counted, as with log lines.
 *
 * Matching is by number and start time: a CDR's dialled or routed number and an initial INVITE's
 * Request-URI user are compared on their last TRACK_CALL_NUMBER_SUFFIX_DIGITS digits (so 9 + 0 +
 * national, +49..., 0049... and the trunk leg's form all meet), with the INVITE's time within
 * DETECT_CDR_DEDUP_WINDOW_MS of the CDR's start. Each wire INVITE absorbs at most one record.
 * A CDR comes at hang-up, hours after its INVITE, so entries are not aged out by time: they leave
 * by the table bound, least recently dialled number first.
 */
export class CdrDedup {
  /** Wire INVITE times by number key, oldest first; the least recently dialled key leaves first. */
  private readonly wire = new FifoMap<string, number[]>();
  private active = false;
  /** CDR records dropped as copies of wire calls. */
  duplicates = 0;
  /** CDR records dropped because the same record was read before. */
  repeats = 0;
  /** PBX call ids (with start) of recent records, oldest first (bounded by DETECT_CDR_SEEN_CALL_IDS). */
  private readonly seen = new Set<string>();
  /** Numbers forgotten to stay within DETECT_CDR_DEDUP_MAX_NUMBERS. */
  evictions = 0;

  /** True once wire calls are remembered (a CDR was seen or is expected). */
  get remembering(): boolean {
    return this.active;
  }

  /** Starts remembering wire calls before the first CDR (analyze reads CDR files after captures). */
  expectCdrs(): void {
    this.active = true;
  }

  /** Remembers an initial INVITE dialling `user` at `time` (no-op until a CDR was seen). */
  sawWire(user: string, time: number): void {
    if (!this.active) return;
    const key = numberKey(user);
    if (key === '') return;
    let times = this.wire.get(key);
    if (times === undefined) {
      if (this.wire.size >= DETECT_CDR_DEDUP_MAX_NUMBERS) {
        this.wire.shift();
        this.evictions++;
      }
      times = [];
      this.wire.set(key, times);
    } else {
      // Refresh the key's place so a busy number is not the first forgotten.
      this.wire.set(key, times);
    }
    if (times.length >= DETECT_CDR_DEDUP_PER_NUMBER) times.shift();
    times.push(time);
  }

  /**
   * True when this CDR record copies a remembered wire call (whose entry it then consumes), or is a
   * record already read (same PBX call id and start: a socket output resending after a reconnect,
   * a file read twice).
   */
  isCopy(c: CdrCall): boolean {
    this.active = true;
    if (c.callId !== undefined && c.callId !== '') {
      const id = `${c.callId}\u0000${c.start}`;
      if (this.seen.has(id)) {
        this.repeats++;
        return true;
      }
      if (this.seen.size >= DETECT_CDR_SEEN_CALL_IDS) {
        const oldest = this.seen.values().next().value as string;
        this.seen.delete(oldest);
      }
      this.seen.add(id);
    }
    for (const n of c.callee !== undefined && c.callee !== c.dialled ? [c.dialled, c.callee] : [c.dialled]) {
      const key = numberKey(n);
      const times = key === '' ? undefined : this.wire.get(key);
      if (times === undefined) continue;
      for (let i = 0; i < times.length; i++) {
        if (Math.abs(times[i]! - c.start) <= DETECT_CDR_DEDUP_WINDOW_MS) {
          times.splice(i, 1);
          if (times.length === 0) this.wire.delete(key);
          this.duplicates++;
          return true;
        }
      }
    }
    return false;
  }

  /** Numbers remembered (bounded by DETECT_CDR_DEDUP_MAX_NUMBERS). */
  get size(): number {
    return this.wire.size;
  }
}
