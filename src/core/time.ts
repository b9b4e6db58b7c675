/** Event-time helpers. Detectors read time from records, never from the wall clock. */

/** ISO 8601 text of an event time in milliseconds since the epoch. */
export function isoTime(ms: number): string {
  return new Date(Math.floor(ms)).toISOString();
}
