/**
 * The interface every PBX log line parser implements, and the helpers they share to prepare a
 * line and build a bounded PbxLogEvent from what it says.
 */

import { z } from 'zod';
import { LOGS_MAX_DETAIL_CHARS, LOGS_MAX_FIELD_CHARS } from '../config/limits.js';
import type { LogEventKind, LogProduct, PbxLogEvent, Transport } from '../core/records.js';
import { cutLine, splitSyslog, stripAnsi } from './line.js';
import { isValidTimeZone } from './time.js';

/** What a parser needs besides the line: the zone and year for incomplete stamps, a fallback time. */
export interface LogParseContext {
  /** IANA zone for stamps without an offset (the site's zone). */
  readonly timeZone: string;
  /** Year for stamps without one (the receiver's year). */
  readonly year: number;
  /** Time given to an event whose line has no readable time (e.g. the previous line's). */
  readonly fallbackTime: number;
  /** Log file path for provenance. */
  readonly file?: string;
}

/** One product's line parser: a security-relevant event for the line, or undefined. Never throws. */
export interface LogLineParser {
  readonly product: LogProduct;
  parse(line: string, lineNo: number, ctx: LogParseContext): PbxLogEvent | undefined;
}

/** The PBX products with a log parser, as named in configuration. */
export const LOG_KINDS = [
  '3cx',
  'asterisk',
  'freeswitch',
  'kamailio',
] as const satisfies readonly LogProduct[];

/** Configuration of one PBX log input (wired into the main config by the lead). */
export const PbxLogConfigSchema = z.object({
  /** Which product wrote the log. */
  product: z.enum(LOG_KINDS),
  /** IANA zone of stamps without an offset; defaults to UTC. */
  timeZone: z
    .string()
    .default('UTC')
    .refine((tz) => isValidTimeZone(tz), { message: 'unknown IANA time zone' }),
});

/** A line ready for a product parser: cut, ANSI-free, syslog prefix peeled. */
export interface PreparedLine {
  readonly text: string;
  /** Syslog prefix time (NaN when present but unreadable). */
  readonly prefixTime: number | undefined;
  readonly program: string | undefined;
  readonly hadPri: boolean;
}

/** Cut, strip colour, peel syslog. */
export function prepareLine(line: string, ctx: LogParseContext): PreparedLine {
  const clean = stripAnsi(cutLine(line));
  const split = splitSyslog(clean, ctx);
  return { text: split.message, prefixTime: split.prefixTime, program: split.program, hadPri: split.hadPri };
}

/**
 * The event time: the line's own stamp when readable, else the syslog prefix's, else the caller's
 * fallback (a non-finite fallback becomes 0, so the time is always finite).
 */
export function pickTime(own: number | undefined, prefix: number | undefined, ctx: LogParseContext): number {
  if (own !== undefined && Number.isFinite(own)) return own;
  if (prefix !== undefined && Number.isFinite(prefix)) return prefix;
  return Number.isFinite(ctx.fallbackTime) ? ctx.fallbackTime : 0;
}

/** Cut wire-derived text to a bound, marking the cut. */
export function bounded(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

/** What a product parser found on a line, before time and provenance are attached. */
export interface LogFinding {
  readonly kind: LogEventKind;
  readonly srcIp: string;
  readonly srcPort?: number | undefined;
  readonly method?: string | undefined;
  readonly identity?: string | undefined;
  readonly extension?: string | undefined;
  readonly userAgent?: string | undefined;
  readonly transport?: Transport | undefined;
  readonly service?: string | undefined;
  readonly detail: string;
}

function field(s: string | undefined): string | undefined {
  if (s === undefined) return undefined;
  const t = s.trim();
  return t.length === 0 ? undefined : bounded(t, LOGS_MAX_FIELD_CHARS);
}

/** Assemble the event: bound every text field, attach time and provenance (line number, file). */
export function makeEvent(
  product: LogProduct,
  f: LogFinding,
  time: number,
  lineNo: number,
  ctx: LogParseContext,
  hadPri: boolean,
): PbxLogEvent {
  const method = field(f.method);
  const identity = field(f.identity);
  const extension = field(f.extension);
  const userAgent = field(f.userAgent);
  const service = field(f.service);
  return {
    time,
    kind: f.kind,
    product,
    srcIp: f.srcIp,
    ...(f.srcPort !== undefined ? { srcPort: f.srcPort } : {}),
    ...(method !== undefined ? { method: method.toUpperCase() } : {}),
    ...(identity !== undefined ? { identity } : {}),
    ...(extension !== undefined ? { extension } : {}),
    ...(userAgent !== undefined ? { userAgent } : {}),
    ...(f.transport !== undefined ? { transport: f.transport } : {}),
    ...(service !== undefined ? { service } : {}),
    detail: bounded(f.detail.trim(), LOGS_MAX_DETAIL_CHARS),
    provenance: {
      kind: hadPri ? 'syslog' : 'log',
      ...(ctx.file !== undefined ? { file: ctx.file } : {}),
      ...(Number.isInteger(lineNo) && lineNo > 0 ? { line: lineNo } : {}),
    },
  };
}

/**
 * The user part of the first `sip:`/`sips:` URI in `s` (`"100" <sip:100@10.0.0.1>` → `100`), or
 * the text before `@` when there is no scheme (`[1001@192.168.2.51]` style), or undefined.
 */
export function uriUser(s: string): string | undefined {
  let i = s.indexOf('sip:');
  let skip = 4;
  const j = s.indexOf('sips:');
  if (j >= 0 && (i < 0 || j < i)) {
    i = j;
    skip = 5;
  }
  const start = i >= 0 ? i + skip : 0;
  const at = s.indexOf('@', start);
  if (at < 0) return i >= 0 ? undefined : s.length > 0 ? s : undefined;
  const user = s.slice(start, at);
  return user.length > 0 ? user : undefined;
}
