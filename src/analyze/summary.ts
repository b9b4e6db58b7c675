import { countInto } from '../core/counts.js';
import { SUMMARY_MAX_TOP_KEYS, SUMMARY_TOP_N } from '../config/limits.js';
import { BoundedTable } from '../core/bounded-table.js';
import type { Anomaly, Transport } from '../core/records.js';
import type { SipEvent } from '../track/sip-event.js';

/** The `summary` object of `sipwarden analyze --format json` (DESIGN.md). Extend, never rename. */
export interface SummaryJson {
  packets: number;
  sipMessages: number;
  requests: Record<string, number>;
  responses: Record<string, number>;
  anomalies: Record<string, number>;
  transports: Record<string, number>;
  transactions: number;
  dialogs: number;
  registrations: number;
  /** Calls (src/track/call-table.ts): initial INVITEs, a back-to-back PBX's legs paired into one. */
  calls: CallsSummary;
  retransmissions: number;
  firstTime: string | null;
  lastTime: string | null;
  topSources: { ip: string; messages: number }[];
  topUserAgents: { userAgent: string; messages: number }[];
  inputs: InputSummary[];
}

/** What the call table saw. */
export interface CallsSummary {
  total: number;
  answered: number;
  /** Onward legs joined to a call (proxy copies, a back-to-back PBX's second leg). */
  pairedLegs: number;
  /** Ended calls by how they ended; `in-progress`: not ended when the input ended. */
  outcomes: Record<string, number>;
}

/** One input file's reading result, for the report. */
export interface InputSummary {
  file: string;
  /** capture format (pcap, pcapng, +gzip), `sip`, `log:<product>` for a PBX log, or `cdr:<product>`
   * for a CDR file. */
  format: string;
  /** Frames of a capture, messages of a SIP file, lines of a log. */
  frames: number;
  sipMessages: number;
  /** Security events read from a PBX log (failed logins, unknown users...). */
  logEvents?: number;
  /** Calls read from a CDR file, and those not already seen on the wire (the rules saw these). */
  cdrCalls?: number;
  cdrCallsCounted?: number;
  error?: string;
}

/** Counts what was read, as it is on the wire (retransmissions included), like tshark counts. */
export class Summary {
  packets = 0;
  sipMessages = 0;
  retransmissions = 0;
  readonly requests: Record<string, number> = Object.create(null) as Record<string, number>;
  readonly responses: Record<string, number> = Object.create(null) as Record<string, number>;
  readonly anomalies: Record<string, number> = Object.create(null) as Record<string, number>;
  readonly transports: Record<string, number> = Object.create(null) as Record<string, number>;
  readonly inputs: InputSummary[] = [];
  firstTime = Infinity;
  lastTime = -Infinity;
  private readonly sources = new BoundedTable<string, { n: number }>('summary-sources', SUMMARY_MAX_TOP_KEYS);
  private readonly agents = new BoundedTable<string, { n: number }>('summary-agents', SUMMARY_MAX_TOP_KEYS);

  /** Counts one parsed message. */
  message(ev: SipEvent, transport: Transport): void {
    this.sipMessages++;
    if (ev.time < this.firstTime) this.firstTime = ev.time;
    if (ev.time > this.lastTime) this.lastTime = ev.time;
    if (ev.isRequest) countInto(this.requests, ev.method);
    else countInto(this.responses, statusText(ev.status));
    countInto(this.transports, transport);
    const s = this.sources.touch(ev.frame.srcIp, newCount);
    if (s !== undefined) s.n++;
    const ua = ev.isRequest ? ev.msg.userAgent : (ev.msg.server ?? ev.msg.userAgent);
    if (ua !== undefined && ua !== '') {
      const a = this.agents.touch(ua, newCount);
      if (a !== undefined) a.n++;
    }
  }

  /** Counts anomalies (from any stage). */
  anomaly(a: Anomaly): void {
    countInto(this.anomalies, a.code);
  }

  /** The JSON shape, with tracking counts added by the caller. */
  toJson(track: {
    transactions: number;
    dialogs: number;
    registrations: number;
    calls: CallsSummary;
  }): SummaryJson {
    return {
      packets: this.packets,
      sipMessages: this.sipMessages,
      requests: sorted(this.requests),
      responses: sorted(this.responses),
      anomalies: sorted(this.anomalies),
      transports: sorted(this.transports),
      transactions: track.transactions,
      dialogs: track.dialogs,
      registrations: track.registrations,
      calls: track.calls,
      retransmissions: this.retransmissions,
      firstTime: Number.isFinite(this.firstTime) ? new Date(Math.floor(this.firstTime)).toISOString() : null,
      lastTime: Number.isFinite(this.lastTime) ? new Date(Math.floor(this.lastTime)).toISOString() : null,
      topSources: top(this.sources).map(([ip, n]) => ({ ip, messages: n })),
      topUserAgents: top(this.agents).map(([userAgent, n]) => ({ userAgent, messages: n })),
      inputs: this.inputs,
    };
  }
}

function newCount(): { n: number } {
  return { n: 0 };
}

// Status codes as text, made once: a response's status is a key of `responses` (the parser keeps
// codes to 100-699).
const STATUS_TEXT: string[] = [];
for (let c = 0; c < 700; c++) STATUS_TEXT.push(String(c));

function statusText(status: number): string {
  return STATUS_TEXT[status] ?? String(status);
}

function sorted(r: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of Object.keys(r).sort()) out[k] = r[k] as number;
  return out;
}

function top(t: BoundedTable<string, { n: number }>): [string, number][] {
  const all: [string, number][] = [];
  for (const [k, v] of t.entries()) all.push([k, v.n]);
  all.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  return all.slice(0, SUMMARY_TOP_N);
}
