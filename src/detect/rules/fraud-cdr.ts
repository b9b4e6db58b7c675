/**
 * What the fraud rules read from a call detail record (3CX CDR) when they see no signaling: who
 * called, the number that left the site, whether the call rang or was answered, and where the
 * record was read. CDRs come at hang-up, so in end-time order: every rule dates a call by its own
 * start, answer and end, and reports at the record's time (`cdrTime`).
 */
import { DETECT_CDR_RECORDS_PER_ALERT } from '../../config/limits.js';
import { escapeText } from '../../core/escape.js';
import type { CdrCall } from '../../core/records.js';
import type { NumberInfo } from '../../enrich/numbers.js';
import { classifyNumber } from '../../track/calls.js';
import type { KeyedWindows, WindowState } from '../window.js';

/** The event time a CDR is reported at: its end, else its answer, else its start (as the engine ticks). */
export function cdrTime(c: CdrCall): number {
  return c.end ?? c.answer ?? c.start;
}

/** The caller as the wire names it: `Ext.105` is extension 105 (a SIP From user), a number stays. */
export function cdrCaller(c: CdrCall): string {
  const s = c.caller.trim();
  return /^ext\./i.test(s) ? s.slice(4).trim() : s;
}

/** True when the caller is one of the PBX's extensions (`Ext.105`, or a short number). */
export function cdrCallerIsExtension(c: CdrCall): boolean {
  return /^ext\./i.test(c.caller.trim()) || /^\d{1,6}$/.test(c.caller.trim());
}

/** True for a call that can cost the site: it left through a trunk (also an inbound call
 * forwarded out) or the CDR cannot tell. */
export function cdrLeavesSite(c: CdrCall): boolean {
  return c.direction === 'outbound' || c.direction === 'unknown';
}

/**
 * True when the call rang or was answered, as the wire's 18x/2xx: answered; rang until the no-answer
 * timeout; or abandoned by the caller after the PBX handed it to a trunk. Busy, rejected (no route,
 * declined, an outbound rule) and failed calls did not progress, nor a caller's hang-up before a
 * trunk took the call.
 */
export function cdrProgressed(c: CdrCall): boolean {
  if (c.answer !== undefined || c.outcome === 'answered' || c.outcome === 'no-answer') return true;
  return c.outcome === 'cancelled' && c.trunk !== undefined;
}

/** The number a call went to and how it reads under the site's dial plan. */
export interface CdrDestination {
  /** The string read: the dialled number, or the routed one (`callee`). */
  readonly number: string;
  readonly info: NumberInfo;
  /** The E.164 number it reads as. */
  readonly e164: string;
}

/**
 * The destination the fraud rules judge of a number `dialled` that the PBX sent on as `routed` (a
 * CDR's `callee`, the onward legs' Request-URI users on the wire): the number as dialled when it
 * reads as a valid number, or as an international one with a real calling code (9 00 979 ... is
 * shown as dialled, not as the trunk got it); otherwise the first routed form that reads as a
 * number (the provider's form, the outbound prefix already stripped); otherwise the dialled reading
 * if it has an E.164 number at all. Undefined when none reads as a number (an extension).
 */
export function readDestination(dialled: string, routed: readonly string[]): CdrDestination | undefined {
  const d = classifyNumber(dialled);
  if (d.e164 !== undefined && (d.valid || (d.scope === 'international' && d.callingCode !== undefined)))
    return { number: dialled, info: d, e164: d.e164 };
  for (const r of routed) {
    if (r === dialled || r === '') continue;
    const k = classifyNumber(r);
    if (k.e164 !== undefined) return { number: r, info: k, e164: k.e164 };
  }
  return d.e164 !== undefined ? { number: dialled, info: d, e164: d.e164 } : undefined;
}

/** The destination of a CDR call: its dialled number, or its `callee` (see `readDestination`). */
export function cdrDestination(c: CdrCall): CdrDestination | undefined {
  return readDestination(c.dialled, c.callee !== undefined ? [c.callee] : []);
}

/**
 * Counts a CDR call in `windows` (session windows closing after `gapMs` of quiet) at its start.
 * CDRs come in end-time order, so a start may be hours behind the window's latest: it is counted
 * when it is within the gap of the window's first event (the window then begins with it), and not
 * counted when it is older (the window it belonged to has closed).
 */
export function hitAtStart<S>(
  windows: KeyedWindows<S>,
  key: string,
  start: number,
  gapMs: number,
): WindowState<S> | undefined {
  const open = windows.peek(key, start);
  if (open !== undefined && start < open.firstTime - gapMs) return undefined;
  const w = windows.hit(key, start);
  if (w !== undefined && start < w.firstTime) w.firstTime = start;
  return w;
}

/** Where a record was read (`file:line`), escaped. */
export function cdrRecordRef(c: CdrCall): string {
  const p = c.provenance;
  const where = p.file !== undefined ? escapeText(p.file, 120) : p.kind;
  return p.line !== undefined ? `${where}:${p.line}` : where;
}

/** Keeps the first DETECT_CDR_RECORDS_PER_ALERT record references of an alert (where it began). */
export function pushRecord(records: string[], c: CdrCall): void {
  if (records.length < DETECT_CDR_RECORDS_PER_ALERT) records.push(cdrRecordRef(c));
}

/** The PBX's call id of a record, escaped ('' when the layout has none). */
export function cdrCallId(c: CdrCall): string {
  return c.callId !== undefined ? escapeText(c.callId, 80) : '';
}
