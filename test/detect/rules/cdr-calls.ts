/** CDR calls for the fraud rules' CDR tests: what the 3CX parser gives, written by hand. */
import type { CallOutcome, CdrCall } from '../../../src/core/records.js';

/** What a test says of a call; everything else takes the defaults of an answered outbound call. */
export interface CdrCallOptions {
  readonly start: number;
  readonly caller?: string;
  readonly dialled?: string;
  readonly callee?: string;
  readonly trunk?: string | null;
  readonly direction?: CdrCall['direction'];
  readonly outcome?: CallOutcome;
  /** Ring time before the answer (default 5 s). */
  readonly ringMs?: number;
  /** Talking time (default 10 min); with outcome other than answered, the call rang this long. */
  readonly talkMs?: number;
  /** The PBX's call id (default: a new one); null: the layout has none. */
  readonly callId?: string | null;
  /** Omit the end (a socket's record of a call still up). */
  readonly noEnd?: boolean;
}

let line = 0;

/** One CDR call: answered outbound from Ext.105 through trunk 10000 unless told otherwise. */
export function cdrCall(o: CdrCallOptions): CdrCall {
  line++;
  const outcome = o.outcome ?? 'answered';
  const answered = outcome === 'answered';
  const answer = o.start + (o.ringMs ?? 5000);
  const end = answered ? answer + (o.talkMs ?? 600_000) : o.start + (o.talkMs ?? 20_000);
  const trunk = o.trunk === undefined ? '10000' : o.trunk;
  const callId = o.callId === undefined ? `${48000 + line}:00000C21DE5C_${line}` : o.callId;
  return {
    start: o.start,
    ...(answered ? { answer } : {}),
    ...(o.noEnd === true ? {} : { end }),
    caller: o.caller ?? 'Ext.105',
    dialled: o.dialled ?? '+8816123456789',
    ...(o.callee !== undefined ? { callee: o.callee } : {}),
    ...(trunk !== null ? { trunk } : {}),
    direction: o.direction ?? 'outbound',
    outcome,
    ...(callId !== null ? { callId } : {}),
    provenance: { kind: 'cdr', file: 'cdr.log', line },
  };
}

/** Calls in the order a PBX writes their CDRs: by end (then start), as at hang-up. */
export function inEndOrder(calls: readonly CdrCall[]): CdrCall[] {
  return [...calls].sort((a, b) => (a.end ?? a.start) - (b.end ?? b.start) || a.start - b.start);
}
