/**
 * Log time stamps: the formats PBX logs and syslog use, read in a configured IANA time zone
 * (offsets computed with Intl.DateTimeFormat, no dependency) and a configured year when the
 * stamp has none.
 */

import { LOGS_TZ_OFFSET_CACHE_ENTRIES } from '../config/limits.js';

/** Zone and year a time stamp without its own zone or year is read in. */
export interface TimeContext {
  /** IANA zone name (`Europe/Zurich`, `UTC`); an unknown name is read as UTC. */
  readonly timeZone: string;
  /** Year for stamps that carry none (RFC 3164, Asterisk `[Mmm dd hh:mm:ss]`): the receiver's year. */
  readonly year: number;
}

/** A time stamp read at some offset: `time` is NaN when the text looked like a stamp but was invalid. */
export interface ParsedTime {
  readonly time: number;
  /** Index just past the stamp. */
  readonly end: number;
}

const formatters = new Map<string, Intl.DateTimeFormat | null>();
const offsets = new Map<string, number>();
const QUARTER_HOUR_MS = 900_000;
/** Distinct zone names whose formatter is kept (a configuration has a handful). */
const MAX_FORMATTERS = 64;

function formatterFor(timeZone: string): Intl.DateTimeFormat | null {
  let f = formatters.get(timeZone);
  if (f !== undefined) return f;
  if (formatters.size >= MAX_FORMATTERS) formatters.clear();
  // Cold path (once per zone name): Intl throws RangeError on an unknown zone.
  try {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
  } catch {
    f = null;
  }
  formatters.set(timeZone, f);
  return f;
}

/** Whether `timeZone` is an IANA zone name this runtime knows (for configuration validation). */
export function isValidTimeZone(timeZone: string): boolean {
  return formatterFor(timeZone) !== null;
}

function isUtcName(timeZone: string): boolean {
  return timeZone === 'UTC' || timeZone === 'Etc/UTC' || timeZone === 'GMT' || timeZone === 'Z';
}

/** Offset of `timeZone` from UTC at the instant `utcMs`, in milliseconds (east positive). */
export function zoneOffsetMs(timeZone: string, utcMs: number): number {
  if (isUtcName(timeZone) || !Number.isFinite(utcMs)) return 0;
  const bucket = Math.floor(utcMs / QUARTER_HOUR_MS);
  const key = `${timeZone}\u0000${bucket}`;
  const cached = offsets.get(key);
  if (cached !== undefined) return cached;
  const f = formatterFor(timeZone);
  let offset = 0;
  if (f !== null) {
    const at = bucket * QUARTER_HOUR_MS;
    let y = 0;
    let mo = 1;
    let d = 1;
    let h = 0;
    let mi = 0;
    let s = 0;
    for (const p of f.formatToParts(at)) {
      const v = Number(p.value);
      if (p.type === 'year') y = v;
      else if (p.type === 'month') mo = v;
      else if (p.type === 'day') d = v;
      else if (p.type === 'hour') h = v;
      else if (p.type === 'minute') mi = v;
      else if (p.type === 'second') s = v;
    }
    const wall = Date.UTC(y, mo - 1, d, h, mi, s);
    offset = Number.isFinite(wall) ? wall - at : 0;
  }
  if (offsets.size >= LOGS_TZ_OFFSET_CACHE_ENTRIES) offsets.clear();
  offsets.set(key, offset);
  return offset;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/**
 * Epoch milliseconds of a wall-clock time. `offsetMs` given: that fixed offset; otherwise the
 * wall time is read in `timeZone` (in a DST gap or overlap the result is deterministic: the
 * offset in force just before the transition is tried first). NaN for out-of-range fields.
 */
export function wallTimeToEpoch(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
  ms: number,
  timeZone: string,
  offsetMs?: number,
): number {
  if (
    !(year >= 1970 && year <= 2999) ||
    !(month >= 1 && month <= 12) ||
    !(day >= 1 && day <= daysInMonth(year, month)) ||
    !(hour >= 0 && hour <= 23) ||
    !(minute >= 0 && minute <= 59) ||
    !(second >= 0 && second <= 60)
  ) {
    return NaN;
  }
  // A leap second is read as the last second of its minute.
  const wall = Date.UTC(year, month - 1, day, hour, minute, Math.min(second, 59)) + ms;
  if (offsetMs !== undefined) return wall - offsetMs;
  const first = zoneOffsetMs(timeZone, wall);
  const guess = wall - first;
  const second2 = zoneOffsetMs(timeZone, guess);
  return second2 === first ? guess : wall - second2;
}

const MONTHS: Readonly<Record<string, number>> = {
  Jan: 1,
  Feb: 2,
  Mar: 3,
  Apr: 4,
  May: 5,
  Jun: 6,
  Jul: 7,
  Aug: 8,
  Sep: 9,
  Oct: 10,
  Nov: 11,
  Dec: 12,
};

// Sticky, bounded-quantifier patterns: each runs in time linear in its own short match.
/** 2013-12-31 17:39:54.767815, 2016-09-25T18:57:58+02:00, 2024/03/12 10:15:22.123 */
const YMD =
  /(\d{4})([-/])(\d{1,2})\2(\d{1,2})[ T](\d{1,2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?(?: ?(Z|[+-]\d{2}:?\d{2}))?/y;
/** 08-03 07:56:53.026292 (FreeSWITCH without year) */
const MD = /(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?/y;
/** Nov  4 18:30:40 (syslog, Asterisk `[Mmm dd ...]`), optionally with fractional seconds */
const MON =
  /(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) {1,2}(\d{1,2}) (\d{1,2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?/y;
/** 12/03/2021 10:15:22.123 or 12.03.2021 (3CX; day first unless the day field cannot be one) */
const DMY = /(\d{1,2})([/.])(\d{1,2})\2(\d{4})[ T](\d{1,2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?/y;

function fractionMs(frac: string | undefined): number {
  if (frac === undefined || frac.length === 0) return 0;
  return Number(`0.${frac}`) * 1000;
}

function offsetOf(zone: string | undefined): number | undefined {
  if (zone === undefined) return undefined;
  if (zone === 'Z') return 0;
  const sign = zone.charCodeAt(0) === 45 ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  const h = Number(digits.slice(0, 2));
  const m = Number(digits.slice(2, 4));
  if (h > 23 || m > 59) return NaN;
  return sign * (h * 60 + m) * 60_000;
}

/**
 * Read a time stamp starting exactly at `from` in any format the PBX logs use, or undefined when
 * none starts there. Stamps without a zone are read in `ctx.timeZone`, without a year in `ctx.year`.
 */
export function parseTimeAt(text: string, from: number, ctx: TimeContext): ParsedTime | undefined {
  const c = text.charCodeAt(from);
  if (!(c >= 48 && c <= 57)) {
    if (c >= 65 && c <= 90) {
      MON.lastIndex = from;
      const m = MON.exec(text);
      if (m === null) return undefined;
      const time = wallTimeToEpoch(
        ctx.year,
        MONTHS[m[1] as string] ?? 0,
        Number(m[2]),
        Number(m[3]),
        Number(m[4]),
        Number(m[5]),
        fractionMs(m[6]),
        ctx.timeZone,
      );
      return { time, end: MON.lastIndex };
    }
    return undefined;
  }
  YMD.lastIndex = from;
  let m = YMD.exec(text);
  if (m !== null) {
    const off = offsetOf(m[9]);
    const time = Number.isNaN(off)
      ? NaN
      : wallTimeToEpoch(
          Number(m[1]),
          Number(m[3]),
          Number(m[4]),
          Number(m[5]),
          Number(m[6]),
          Number(m[7]),
          fractionMs(m[8]),
          ctx.timeZone,
          off,
        );
    return { time, end: YMD.lastIndex };
  }
  DMY.lastIndex = from;
  m = DMY.exec(text);
  if (m !== null) {
    let day = Number(m[1]);
    let month = Number(m[3]);
    // Day first (3CX's European default); month first only when the second field cannot be a month.
    if (month > 12 && day <= 12) [day, month] = [month, day];
    const time = wallTimeToEpoch(
      Number(m[4]),
      month,
      day,
      Number(m[5]),
      Number(m[6]),
      Number(m[7]),
      fractionMs(m[8]),
      ctx.timeZone,
    );
    return { time, end: DMY.lastIndex };
  }
  MD.lastIndex = from;
  m = MD.exec(text);
  if (m !== null) {
    const time = wallTimeToEpoch(
      ctx.year,
      Number(m[1]),
      Number(m[2]),
      Number(m[3]),
      Number(m[4]),
      Number(m[5]),
      fractionMs(m[6]),
      ctx.timeZone,
    );
    return { time, end: MD.lastIndex };
  }
  return undefined;
}
