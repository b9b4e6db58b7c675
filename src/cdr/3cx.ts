/**
 * 3CX call detail records (CDR): one line per call, fields separated by commas, in the order the
 * admin chose under "CDR output fields" (3CX v18: Settings > CDR; v20: Advanced > CDR / Call Log).
 * The same lines come from all three outputs: the file (`cdr.log` in the CDRLogs folder), the
 * active socket (3CX connects to us) and the passive socket (we connect to 3CX). This module turns
 * one line into a `CdrCall`, or into an anomaly; it never throws on input.
 *
 * Documented by 3CX ("CDR - Call Data Records", https://www.3cx.com/blog/docs/cdr-call-data-records/):
 * the four outputs, the 27 field names and their one-line meanings, in the order this module takes
 * as the default (`THREECX_DEFAULT_FIELDS`), and that the admin may enable, disable and reorder them.
 *
 * Not documented by 3CX, learnt from lines that integrators published (each marked INFERRED where
 * it is used below):
 * - a record starts with the literal `Call ` (`Call 612504,00000C21DE5C2470_6531,00:05:36,...`),
 *   in v18 before `historyid` and in v20 before whatever field is first: `linePrefix`;
 * - times are `YYYY/MM/DD hh:mm:ss` in the PBX's local time (no zone): read in `timeZone`; other
 *   shapes seen in exports (`DD/MM/YYYY hh:mm`, ISO 8601 with a zone) are read too;
 * - `duration` is `hh:mm:ss` and equals time-end − time-answered (talking time);
 * - numbers: an extension is written `Ext.101`, an outside number as received or dialled
 *   (`+353861777149`, `00441234567890`); `from-dn`/`to-dn` of a trunk are its line DN (`10021`);
 * - `reason-terminated` values: v18 `TerminatedBySrc`, `TerminatedByDst`, `Failed`,
 *   `Failed_cancelled`, `NoAnswerTimeout`, `TargetBusy`, `RouteBusy`, `NoRouteExists`,
 *   `RouteNotFound`, `TargetNotFound`, `TerminatedByRule`, `Redirected`, ...; v20 snake_case
 *   `src_participant_terminated`, `dst_participant_terminated`, `cancelled`, `declined`,
 *   `no_route`, `not_found`, `busy`, `timeout`, `failed`, `continued_in`, ... (mixed case seen);
 * - `*-type` values: v18 `Extension`, `Line`, `Queue`, `IVR`, `RingGroup`, `VMail`, ...; v20
 *   lowercase `extension`, `external_line`, `provider`, `outbound_rule`, `ivr`, `queue`, ...;
 * - an empty `time-answered` means the call was never answered;
 * - 3CX does not quote fields: a display name holding a comma adds a field. Quoted fields
 *   (RFC 4180, from a relay or an export) are read too, and extra fields are recovered around
 *   the free-text fields (see `mapFields`).
 * v20 installations were seen sending a 20-field default without historyid, callid or billing
 * (`THREECX_V20_SEEN_FIELDS`); nothing here depends on which fields are present beyond
 * `time-start` and one destination number, so the admin's order is what must be configured.
 */
import { CDR_MAX_FIELD_CHARS, CDR_MAX_FIELDS } from '../config/limits.js';
import type { Anomaly, CallOutcome, CdrCall, Provenance } from '../core/records.js';
import { wallTimeToEpoch } from '../logs/time.js';

/** Every field 3CX's CDR output offers, in the order of 3CX's documentation. */
export const THREECX_CDR_FIELDS = [
  'historyid',
  'callid',
  'duration',
  'time-start',
  'time-answered',
  'time-end',
  'reason-terminated',
  'from-no',
  'to-no',
  'from-dn',
  'to-dn',
  'dial-no',
  'reason-changed',
  'final-number',
  'final-dn',
  'bill-code',
  'bill-rate',
  'bill-cost',
  'bill-name',
  'chain',
  'from-type',
  'to-type',
  'final-type',
  'from-dispname',
  'to-dispname',
  'final-dispname',
  'missed-queue-calls',
] as const;

/** One 3CX CDR field name. */
export type ThreeCxCdrField = (typeof THREECX_CDR_FIELDS)[number];

/** A column of a layout: a 3CX field, or `-` for a column to ignore (a constant text, say). */
export type CdrLayoutField = ThreeCxCdrField | '-';

/** The default layout: all fields, in the order of 3CX's documentation. */
export const THREECX_DEFAULT_FIELDS: readonly CdrLayoutField[] = THREECX_CDR_FIELDS;

/**
 * INFERRED: the 20-field layout a v20 PBX was seen sending (no historyid, callid or billing;
 * time-start first). Offered as a named preset; configure the admin's real order when it differs.
 */
export const THREECX_V20_SEEN_FIELDS: readonly CdrLayoutField[] = [
  'time-start',
  'dial-no',
  'from-dn',
  'duration',
  'time-answered',
  'time-end',
  'reason-terminated',
  'reason-changed',
  'missed-queue-calls',
  'from-no',
  'to-no',
  'to-dn',
  'final-number',
  'final-dn',
  'from-type',
  'to-type',
  'final-type',
  'from-dispname',
  'to-dispname',
  'final-dispname',
];

/** Fields whose text is free (names, lists): the ones a stray comma lands in. */
const FREE_TEXT: ReadonlySet<CdrLayoutField> = new Set<CdrLayoutField>([
  'bill-name',
  'chain',
  'from-dispname',
  'to-dispname',
  'final-dispname',
  'missed-queue-calls',
]);

/** Anomaly codes of CDR parsing and CDR sources, with what each means and what happens to the line. */
export const CDR_ANOMALIES: Readonly<Record<string, string>> = {
  cdr_line_too_long: 'a line is longer than CDR_MAX_LINE_BYTES; it is dropped (the rest up to LF is skipped)',
  cdr_field_count:
    'a line has more or fewer fields than the configured layout: fewer are read as empty; more are recovered around the free-text fields when the layout has any, else the line is dropped',
  cdr_bad_quote: 'a quoted field is never closed; the line is split on every comma instead',
  cdr_bad_time:
    'time-start is empty or unreadable (the line is dropped), or time-answered / time-end is unreadable (that time is ignored)',
  cdr_time_order:
    'time-answered or time-end lies before time-start (or time-end before time-answered); it is ignored',
  cdr_bad_duration: 'duration is not hh:mm:ss (nor seconds); it is ignored',
  cdr_missing_destination:
    'dial-no, to-no and final-number are all empty: no destination, the line is dropped',
  cdr_gzip_error: 'a gzip-compressed CDR file is corrupt or ends early; the lines before it were read',
};

/** A CDR anomaly with where it was seen (file and line, or the socket's line count). */
export interface CdrAnomaly extends Anomaly {
  readonly provenance: Provenance;
}

/** What one line gave: a call (with anomalies that did not stop it), an anomaly, or nothing. */
export type CdrLineResult =
  | { readonly kind: 'call'; readonly call: CdrCall; readonly anomalies: readonly CdrAnomaly[] }
  | { readonly kind: 'anomaly'; readonly anomaly: CdrAnomaly }
  /** An empty line, or a header line naming the fields (an export with column names). */
  | { readonly kind: 'blank' };

/** How lines are read (from configuration: src/cdr/cdr-config.ts). */
export interface ThreeCxCdrOptions {
  /** Column order as set in 3CX's "CDR output fields"; default THREECX_DEFAULT_FIELDS. */
  readonly fields?: readonly CdrLayoutField[];
  /** IANA zone of times without an offset (the PBX's zone); default UTC. */
  readonly timeZone?: string;
  /** Order of `NN/NN/YYYY` dates (the PBX's locale); `YYYY/MM/DD` needs none. Default day first. */
  readonly dateOrder?: 'dmy' | 'mdy';
  /** Literal text in front of every record, removed when present; default `Call `. */
  readonly linePrefix?: string;
}

/** Bad time text (distinct from an absent one). */
const BAD = Number.NaN;

// Sticky-free, anchored patterns over a trimmed field of at most CDR_MAX_FIELD_CHARS: linear.
const YMD =
  /^(\d{4})([-/.])(\d{1,2})\2(\d{1,2})(?:[ T]+|$)(?:(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)? ?([AaPp][Mm])?)? ?(Z|UTC|GMT|[+-]\d{2}:?\d{2})?$/;
const XDY =
  /^(\d{1,2})([-/.])(\d{1,2})\2(\d{4}|\d{2})[ T]+(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)? ?([AaPp][Mm])?$/;
const HMS = /^(?:(\d{1,5})[.:])?(\d{1,3}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?$/;
const MS = /^(\d{1,4}):(\d{2})$/;
const SECONDS = /^\d{1,9}$/;

function fractionMs(frac: string | undefined): number {
  return frac === undefined ? 0 : Math.floor(Number(`0.${frac}`) * 1000);
}

function zoneOffset(zone: string | undefined): number | undefined {
  if (zone === undefined) return undefined;
  const z = zone.toUpperCase();
  if (z === 'Z' || z === 'UTC' || z === 'GMT') return 0;
  const sign = zone.charCodeAt(0) === 45 ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  const h = Number(digits.slice(0, 2));
  const m = Number(digits.slice(2, 4));
  return h > 23 || m > 59 ? BAD : sign * (h * 60 + m) * 60_000;
}

function hour24(h: number, ampm: string | undefined): number {
  if (ampm === undefined) return h;
  if (h < 1 || h > 12) return -1;
  const pm = ampm.charCodeAt(0) === 80 || ampm.charCodeAt(0) === 112;
  return (h % 12) + (pm ? 12 : 0);
}

/**
 * Epoch milliseconds of a CDR time field: undefined when empty, NaN when unreadable. Zone-less
 * times are read in `timeZone`; `NN/NN/YYYY` as `dateOrder` says unless only the other order fits.
 */
export function parseCdrTime(
  text: string,
  timeZone: string,
  dateOrder: 'dmy' | 'mdy' = 'dmy',
): number | undefined {
  if (text.length === 0) return undefined;
  let m = YMD.exec(text);
  if (m !== null) {
    if (m[5] === undefined) return BAD; // a date alone is no call time
    const off = zoneOffset(m[10]);
    if (Number.isNaN(off)) return BAD;
    const h = hour24(Number(m[5]), m[9]);
    return wallTimeToEpoch(
      Number(m[1]),
      Number(m[3]),
      Number(m[4]),
      h,
      Number(m[6]),
      Number(m[7] ?? 0),
      fractionMs(m[8]),
      timeZone,
      off,
    );
  }
  m = XDY.exec(text);
  if (m !== null) {
    let a = Number(m[1]);
    let b = Number(m[3]);
    if (dateOrder === 'mdy') [a, b] = [b, a];
    // a is the day, b the month; swap when only the other reading is a date.
    if (b > 12 && a <= 12) [a, b] = [b, a];
    const y = m[4] as string;
    const year = y.length === 2 ? 2000 + Number(y) : Number(y);
    return wallTimeToEpoch(
      year,
      b,
      a,
      hour24(Number(m[5]), m[9]),
      Number(m[6]),
      Number(m[7] ?? 0),
      fractionMs(m[8]),
      timeZone,
    );
  }
  return BAD;
}

/**
 * Milliseconds of a duration field: `hh:mm:ss`, .NET's `d.hh:mm:ss` past a day, optional
 * fraction, `mm:ss`, or whole seconds. Undefined when empty, NaN when unreadable.
 */
export function parseCdrDuration(text: string): number | undefined {
  if (text.length === 0) return undefined;
  let m = HMS.exec(text);
  if (m !== null) {
    const min = Number(m[3]);
    const sec = Number(m[4]);
    if (min > 59 || sec > 59) return BAD;
    const days = m[1] === undefined ? 0 : Number(m[1]);
    return ((days * 24 + Number(m[2])) * 3600 + min * 60 + sec) * 1000 + fractionMs(m[5]);
  }
  m = MS.exec(text);
  if (m !== null) {
    const sec = Number(m[2]);
    return sec > 59 ? BAD : (Number(m[1]) * 60 + sec) * 1000;
  }
  if (SECONDS.test(text)) return Number(text) * 1000;
  return BAD;
}

/** How a `*-type` value places a party: outside the PBX (a trunk), inside, or unknown. */
type Side = 'external' | 'internal' | 'unknown' | undefined;

const EXTERNAL_TYPES = new Set([
  'line',
  'externalline',
  'external',
  'provider',
  'trunk',
  'gateway',
  'bridge',
  'outboundrule',
]);
const INTERNAL_TYPES = new Set([
  'extension',
  'queue',
  'ivr',
  'script',
  'ringgroup',
  'ringgroupringall',
  'ringgrouphunt',
  'ringgroupparalel',
  'group',
  'vmail',
  'voicemail',
  'fax',
  'confplace',
  'conference',
  'parking',
  'park',
  'inboundrouting',
  'specialmenu',
  'routepoint',
  'callflow',
  'webmeeting',
  'system',
]);

/** INFERRED: 3CX `*-type` tokens (v18 CamelCase, v20 snake_case, any case) to a side. */
function sideOf(type: string | undefined): Side {
  if (type === undefined || type.length === 0) return undefined;
  const key = type.toLowerCase().replace(/[^a-z]/g, '');
  if (EXTERNAL_TYPES.has(key)) return 'external';
  if (INTERNAL_TYPES.has(key)) return 'internal';
  return 'unknown';
}

/** INFERRED: unanswered calls' `reason-terminated` to an outcome (see the module comment). */
const OUTCOMES: ReadonlyMap<string, CallOutcome> = new Map<string, CallOutcome>([
  // The caller gave up before an answer.
  ['terminatedbysrc', 'cancelled'],
  ['srcparticipantterminated', 'cancelled'],
  ['failedcancelled', 'cancelled'],
  ['cancelled', 'cancelled'],
  ['canceled', 'cancelled'],
  // The callee, a rule or the routing refused it (for SIP: 403/404/484/603).
  ['terminatedbydst', 'rejected'],
  ['dstparticipantterminated', 'rejected'],
  ['declined', 'rejected'],
  ['rejected', 'rejected'],
  ['terminatedbyrule', 'rejected'],
  ['norouteexists', 'rejected'],
  ['noroute', 'rejected'],
  ['routenotfound', 'rejected'],
  ['targetnotfound', 'rejected'],
  ['notfound', 'rejected'],
  ['busy', 'busy'],
  ['targetbusy', 'busy'],
  ['routebusy', 'busy'],
  ['noanswertimeout', 'no-answer'],
  ['noanswer', 'no-answer'],
  ['timeout', 'no-answer'],
  ['polling', 'no-answer'],
  ['failed', 'failed'],
  ['terminatedbysync', 'failed'],
  ['connected', 'answered'],
]);

/** Outcome of a call: answered when 3CX stamped an answer, else from `reason-terminated`. */
export function cdrOutcome(reason: string | undefined, answered: boolean): CallOutcome {
  if (answered) return 'answered';
  if (reason === undefined || reason.length === 0) return 'unknown';
  return OUTCOMES.get(reason.toLowerCase().replace(/[^a-z]/g, '')) ?? 'unknown';
}

/** INFERRED: `Ext.101` is an extension; anything else with 7+ digits an outside number. */
function looksExternal(n: string | undefined): boolean {
  if (n === undefined || n.length === 0 || n.startsWith('Ext.')) return false;
  let digits = 0;
  for (let i = 0; i < n.length; i++) {
    const c = n.charCodeAt(i);
    if (c >= 48 && c <= 57) digits++;
  }
  return digits >= 7;
}

function looksInternal(n: string | undefined): boolean {
  return n !== undefined && n.startsWith('Ext.');
}

/** Splits on commas with RFC 4180 quotes; `bad` when a quote never closes. At most `max` fields. */
function splitQuoted(text: string, max: number): { readonly fields: string[]; readonly bad: boolean } {
  const fields: string[] = [];
  let i = 0;
  const n = text.length;
  while (fields.length <= max) {
    // Skip blanks before a field so ` "a, b"` is still quoted (fixed-width output pads).
    let j = i;
    while (j < n && text.charCodeAt(j) === 32) j++;
    if (j < n && text.charCodeAt(j) === 34) {
      let v = '';
      let k = j + 1;
      let closed = false;
      while (k < n) {
        const q = text.indexOf('"', k);
        if (q < 0) break;
        v += text.slice(k, q);
        if (text.charCodeAt(q + 1) === 34) {
          v += '"';
          k = q + 2;
        } else {
          k = q + 1;
          closed = true;
          break;
        }
      }
      if (!closed) return { fields: [], bad: true };
      // Text between the closing quote and the comma is kept (lenient).
      const comma = text.indexOf(',', k);
      const end = comma < 0 ? n : comma;
      fields.push(v + text.slice(k, end));
      if (comma < 0) break;
      i = comma + 1;
    } else {
      const comma = text.indexOf(',', i);
      fields.push(text.slice(i, comma < 0 ? n : comma));
      if (comma < 0) break;
      i = comma + 1;
    }
  }
  return { fields, bad: false };
}

function splitPlain(text: string, max: number): string[] {
  const out: string[] = [];
  let i = 0;
  while (out.length <= max) {
    const comma = text.indexOf(',', i);
    out.push(text.slice(i, comma < 0 ? text.length : comma));
    if (comma < 0) break;
    i = comma + 1;
  }
  return out;
}

/** Trims blanks and control characters (CR, NUL, fixed-width padding) off both ends. */
function trimControl(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && s.charCodeAt(a) <= 32) a++;
  while (b > a && s.charCodeAt(b - 1) <= 32) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}

function cut(s: string): string {
  return s.length > CDR_MAX_FIELD_CHARS ? s.slice(0, CDR_MAX_FIELD_CHARS) : s;
}

/** Field values by name for one line; a name absent from the layout (or unrecoverable) is undefined. */
type Values = Partial<Record<ThreeCxCdrField, string>>;

interface Mapped {
  readonly values: Values;
  /** Why the field count did not match, when it did not. */
  readonly mismatch?: string;
  /** The line cannot be mapped (more fields and no free-text field to absorb them). */
  readonly fatal?: boolean;
}

/**
 * Assigns split fields to the layout's names. Fewer fields: the missing ones are empty. More
 * fields (a comma inside a display name, 3CX does not quote): fields before the first free-text
 * column are read from the left, fields after the last one from the right; a single free-text
 * column gets the joined middle back exactly, several get nothing (unknown).
 */
function mapFields(
  layout: readonly CdrLayoutField[],
  free: readonly number[],
  fields: readonly string[],
): Mapped {
  const values: Values = {};
  const n = fields.length;
  const m = layout.length;
  const put = (name: CdrLayoutField, raw: string): void => {
    if (name !== '-') values[name] = cut(trimControl(raw));
  };
  if (n <= m) {
    for (let i = 0; i < m; i++) put(layout[i] as CdrLayoutField, i < n ? (fields[i] as string) : '');
    return n === m ? { values } : { values, mismatch: `${n} fields, the layout has ${m}` };
  }
  const first = free[0];
  const last = free[free.length - 1];
  if (first === undefined || last === undefined || n > CDR_MAX_FIELDS)
    return {
      values,
      fatal: true,
      mismatch: `${n > CDR_MAX_FIELDS ? `over ${CDR_MAX_FIELDS}` : n} fields, the layout has ${m}`,
    };
  for (let i = 0; i < first; i++) put(layout[i] as CdrLayoutField, fields[i] as string);
  const tail = m - 1 - last;
  for (let k = 0; k < tail; k++) put(layout[m - 1 - k] as CdrLayoutField, fields[n - 1 - k] as string);
  if (first === last) put(layout[first] as CdrLayoutField, fields.slice(first, n - tail).join(','));
  return { values, mismatch: `${n} fields, the layout has ${m}: read around the free-text fields` };
}

/**
 * Parser of one site's 3CX CDR lines (its layout, zone and date order). Stateless between lines,
 * so one parser serves every source of the site.
 */
export class ThreeCxCdrParser {
  private readonly layout: readonly CdrLayoutField[];
  private readonly free: readonly number[];
  private readonly timeZone: string;
  private readonly dateOrder: 'dmy' | 'mdy';
  private readonly prefix: string;
  private readonly startIndex: number;

  /** The layout must name `time-start` (the configuration schema checks it; a throw here is a bug). */
  constructor(options: ThreeCxCdrOptions = {}) {
    this.layout = options.fields ?? THREECX_DEFAULT_FIELDS;
    if (this.layout.length === 0 || this.layout.length > CDR_MAX_FIELDS)
      throw new Error(`3CX CDR layout: 1 to ${CDR_MAX_FIELDS} fields expected`);
    this.startIndex = this.layout.indexOf('time-start');
    if (this.startIndex < 0) throw new Error('3CX CDR layout: time-start is required');
    const free: number[] = [];
    this.layout.forEach((f, i) => {
      if (FREE_TEXT.has(f)) free.push(i);
    });
    this.free = free;
    this.timeZone = options.timeZone ?? 'UTC';
    this.dateOrder = options.dateOrder ?? 'dmy';
    this.prefix = options.linePrefix ?? 'Call ';
  }

  /** The layout this parser reads. */
  get fields(): readonly CdrLayoutField[] {
    return this.layout;
  }

  /** Parses one line (without its LF); `where` is its provenance (kind 'cdr', file, line). */
  parse(line: string, where: Provenance): CdrLineResult {
    let text = trimControl(line);
    if (text.charCodeAt(0) === 0xfeff) text = trimControl(text.slice(1));
    if (text.length === 0) return { kind: 'blank' };
    if (this.prefix.length > 0 && text.startsWith(this.prefix)) text = text.slice(this.prefix.length);

    const anomalies: CdrAnomaly[] = [];
    const bad = (code: string, detail: string): CdrAnomaly => ({ code, detail, provenance: where });
    let fields: string[];
    if (text.indexOf('"') >= 0) {
      const q = splitQuoted(text, CDR_MAX_FIELDS);
      if (q.bad) {
        anomalies.push(bad('cdr_bad_quote', 'a quoted field is not closed'));
        fields = splitPlain(text, CDR_MAX_FIELDS);
      } else fields = q.fields;
    } else fields = splitPlain(text, CDR_MAX_FIELDS);

    // A header line (an export with column names) is not a call.
    if (trimControl(fields[this.startIndex] ?? '').toLowerCase() === 'time-start') return { kind: 'blank' };

    const mapped = mapFields(this.layout, this.free, fields);
    if (mapped.mismatch !== undefined) {
      const a = bad('cdr_field_count', mapped.mismatch);
      if (mapped.fatal === true) return { kind: 'anomaly', anomaly: a };
      anomalies.push(a);
    }
    const v = mapped.values;

    // A rejected line reports one anomaly; a field-count mismatch is then the likely cause.
    const also = mapped.mismatch === undefined ? '' : ` (${mapped.mismatch})`;
    const start = parseCdrTime(v['time-start'] ?? '', this.timeZone, this.dateOrder);
    if (start === undefined || Number.isNaN(start))
      return {
        kind: 'anomaly',
        anomaly: bad('cdr_bad_time', `time-start is ${start === undefined ? 'empty' : 'not a time'}${also}`),
      };

    const dialled = first(v['dial-no'], v['to-no'], v['final-number']);
    if (dialled === undefined)
      return {
        kind: 'anomaly',
        anomaly: bad('cdr_missing_destination', `dial-no, to-no and final-number are empty${also}`),
      };

    let answer = this.optionalTime(v, 'time-answered', anomalies, bad);
    let end = this.optionalTime(v, 'time-end', anomalies, bad);
    if (answer !== undefined && answer < start) {
      anomalies.push(bad('cdr_time_order', 'time-answered is before time-start'));
      answer = undefined;
    }
    if (end !== undefined && (end < start || (answer !== undefined && end < answer))) {
      anomalies.push(bad('cdr_time_order', 'time-end is before the call started or was answered'));
      end = undefined;
    }
    let duration = parseCdrDuration(v.duration ?? '');
    if (duration !== undefined && Number.isNaN(duration)) {
      anomalies.push(bad('cdr_bad_duration', 'duration is not hh:mm:ss'));
      duration = undefined;
    }
    // INFERRED: duration is talking time, so it dates the end of an answered call without time-end.
    if (end === undefined && answer !== undefined && duration !== undefined) end = answer + duration;
    // 3CX stamps time-answered only on answered calls, so an unreadable stamp still says answered.
    // INFERRED: without a time-answered column, talking time above zero means it was answered.
    const answeredText = v['time-answered'];
    const answered =
      (answeredText !== undefined && answeredText.length > 0) ||
      (answeredText === undefined && duration !== undefined && duration > 0);

    const fromSide = sideOf(v['from-type']);
    const toSide = sideOf(v['to-type']);
    const finalSide = sideOf(v['final-type']);
    const direction = directionOf(fromSide, toSide, finalSide, v, dialled);
    const trunk =
      direction === 'outbound'
        ? toSide === 'external'
          ? nonEmpty(v['to-dn'])
          : finalSide === 'external'
            ? nonEmpty(v['final-dn'])
            : undefined
        : direction === 'inbound' && fromSide === 'external'
          ? nonEmpty(v['from-dn'])
          : undefined;
    const callee = [v['final-number'], v['to-no']].find(
      (x) => x !== undefined && x.length > 0 && x !== dialled,
    );
    const ids = [v.historyid, v.callid].filter((x): x is string => x !== undefined && x.length > 0);

    const call: {
      -readonly [K in keyof CdrCall]: CdrCall[K];
    } = {
      start,
      caller: first(v['from-no'], v['from-dn']) ?? '',
      dialled,
      direction,
      outcome: cdrOutcome(v['reason-terminated'], answered),
      provenance: where,
    };
    if (answer !== undefined) call.answer = answer;
    if (end !== undefined) call.end = end;
    if (callee !== undefined) call.callee = callee;
    if (trunk !== undefined) call.trunk = trunk;
    if (ids.length > 0) call.callId = ids.join(':');
    return { kind: 'call', call, anomalies };
  }

  private optionalTime(
    v: Values,
    name: 'time-answered' | 'time-end',
    anomalies: CdrAnomaly[],
    bad: (code: string, detail: string) => CdrAnomaly,
  ): number | undefined {
    const t = parseCdrTime(v[name] ?? '', this.timeZone, this.dateOrder);
    if (t !== undefined && Number.isNaN(t)) {
      anomalies.push(bad('cdr_bad_time', `${name} is not a time`));
      return undefined;
    }
    return t;
  }
}

function nonEmpty(s: string | undefined): string | undefined {
  return s === undefined || s.length === 0 ? undefined : s;
}

function first(...xs: (string | undefined)[]): string | undefined {
  for (const x of xs) if (x !== undefined && x.length > 0) return x;
  return undefined;
}

/**
 * Direction from the party types: a call that leaves through a trunk is outbound (also when it
 * came in through one: an inbound call forwarded out costs what an outbound one does), one that
 * only came in through a trunk inbound, one between internal parties internal. INFERRED when the
 * types are missing or unknown: from the numbers (`Ext.101` to a 7+ digit number is outbound).
 */
function directionOf(from: Side, to: Side, fin: Side, v: Values, dialled: string): CdrCall['direction'] {
  if (to === 'external' || fin === 'external') return 'outbound';
  if (from === 'external') return 'inbound';
  if (from === 'internal' && (to === 'internal' || (to === undefined && fin === 'internal')))
    return 'internal';
  const fromNo = first(v['from-no'], v['from-dn']);
  if (looksInternal(fromNo) && looksExternal(dialled)) return 'outbound';
  if (looksExternal(fromNo) && (looksInternal(v['to-no']) || to === 'internal')) return 'inbound';
  if (looksInternal(fromNo) && looksInternal(v['to-no'])) return 'internal';
  return 'unknown';
}
