/** Times and durations as people type them on a command line or in a query string. */

const UNIT_MS: Record<string, number> = {
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

// Up to ten years: a larger number is a typo, and stays far inside the safe integer range.
const MAX_DURATION_MS = 3650 * 86_400_000;

/** Parses a duration such as `90s`, `15m`, `2h`, `7d`, `1w`; undefined when it is not one. */
export function parseDuration(text: string): number | undefined {
  const m = /^(\d{1,7})([smhdw])$/.exec(text.trim());
  if (m === null) return undefined;
  const ms = Number(m[1]) * (UNIT_MS[m[2] ?? ''] ?? 0);
  return ms > 0 && ms <= MAX_DURATION_MS ? ms : undefined;
}

/**
 * Parses a point in time: an ISO 8601 date or date-time (`2026-11-24`, `2026-11-24T05:00:00Z`), or a
 * duration meaning that long before `now` (`2h` = two hours ago). Undefined when it is neither.
 */
export function parseTimeSpec(text: string, now: number): number | undefined {
  const d = parseDuration(text);
  if (d !== undefined) return now - d;
  // Date.parse alone accepts too much ("1", "March 7"): insist on an ISO shape first.
  if (
    !/^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/.test(
      text.trim(),
    )
  )
    return undefined;
  const ms = Date.parse(text.trim());
  return Number.isFinite(ms) ? ms : undefined;
}
