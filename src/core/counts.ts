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
  const n = record[key];
  if (n !== undefined) {
    record[key] = n + 1;
    return;
  }
  // Only a new key pays for the size check, bounded by `max`.
  if (Object.keys(record).length >= max) record[OTHER_KEY] = (record[OTHER_KEY] ?? 0) + 1;
  else record[key] = 1;
}
