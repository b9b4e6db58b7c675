/**
 * Counters keyed by values from the wire (methods are any token an attacker likes). A record keeps
 * at most COUNT_MAX_KEYS distinct keys; further new keys are counted under OTHER_KEY, so a flood of
 * invented methods cannot grow a summary, a dialog or an alert's evidence.
 */
import { COUNT_MAX_KEYS } from '../config/limits.js';

/** The key that collects values past the bound. */
export const OTHER_KEY = '(other)';

/** Adds one to `record[key]`, or to `record[OTHER_KEY]` when the record is full. */
export function countInto(record: Record<string, number>, key: string, max = COUNT_MAX_KEYS): void {
  // A method named `constructor` or `toString` reads Object.prototype's member: not a count.
  const n = record[key];
  if (typeof n === 'number') {
    record[key] = n + 1;
    return;
  }
  // Only a new key pays for the size check, bounded by `max`.
  if (Object.keys(record).length >= max) record[OTHER_KEY] = (record[OTHER_KEY] ?? 0) + 1;
  // Assigning `__proto__` would call Object.prototype's setter (and drop the count) instead of
  // making the key.
  else if (key === '__proto__')
    Object.defineProperty(record, key, { value: 1, writable: true, enumerable: true, configurable: true });
  else record[key] = 1;
}

/**
 * Counts per SIP status code. Not a record keyed "401": V8 stores integer-like keys as array
 * elements, and one status of 4xx made every profile carry a 3-5 KiB holey array (42 MiB of an
 * office capture's heap, bench/out/office.pcap). Bounded like `countInto`.
 */
export class StatusCounts {
  private readonly counts = new Map<number, number>();
  private other = 0;

  constructor(private readonly max = COUNT_MAX_KEYS) {}

  add(status: number): void {
    const n = this.counts.get(status);
    if (n !== undefined) this.counts.set(status, n + 1);
    else if (this.counts.size >= this.max) this.other++;
    else this.counts.set(status, 1);
  }

  /** As evidence: `{ "401": 3, ... }` in ascending status order, `(other)` last when used. */
  toRecord(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const k of [...this.counts.keys()].sort((a, b) => a - b)) out[String(k)] = this.counts.get(k)!;
    if (this.other > 0) out[OTHER_KEY] = this.other;
    return out;
  }
}
