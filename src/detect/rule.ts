import type { Anomaly, CdrCall, SipFrame, SourceHealthEvent } from '../core/records.js';
import type { AlertEndpoint, AlertTarget, Severity } from '../core/alert.js';
import type { Binding, Registration } from '../track/registrations.js';
import type { Call } from '../track/call-table.js';
import type { Dialog } from '../track/dialogs.js';
import type { SipEvent } from '../track/sip-event.js';
import type { Transaction } from '../track/transactions.js';
import type { AuthAttempt } from './attempts.js';
import type { SiteModel } from './site.js';

/** What a rule declares about itself: shown by `sipwarden rules` and in docs/rules/<id>.md. */
export interface RuleMeta {
  /** Stable dotted id (a contract: never renamed). */
  readonly id: string;
  readonly title: string;
  readonly severity: Severity;
  /** What the rule sees, in a sentence or two. */
  readonly description: string;
  /** What does not count, and known false positives. */
  readonly falsePositives: string;
  /** The fix: the 3CX setting to change and the generic SIP fix. */
  readonly remediation: string;
  readonly references: readonly string[];
  /** Default thresholds, overridable per site; each documented in the rule's page. */
  readonly thresholds: Readonly<Record<string, number>>;
  /** An open alert closes after this much quiet event time. */
  readonly quietMs: number;
}

/** A detector: a pure state machine fed events in event time; no I/O, no timers, no wall clock. */
export interface Detector {
  /** Every message (retransmissions flagged). */
  onMessage?(ev: SipEvent, tx: Transaction | undefined, retransmission: boolean): void;
  /** A request's outcome once its transaction has a final answer or timed out. */
  onAttempt?(a: AuthAttempt): void;
  onTransactionClosed?(tx: Transaction, reason: 'completed' | 'timeout' | 'evicted'): void;
  onDialogCreated?(d: Dialog, ev: SipEvent): void;
  onDialogConfirmed?(d: Dialog, ev: SipEvent): void;
  onDialogRequest?(d: Dialog, ev: SipEvent, tx: Transaction | undefined): void;
  onDialogEnded?(d: Dialog, reason: string): void;
  /**
   * Calls from the call table (src/track/call-table.ts): one per call whatever its legs (a proxy's
   * copies and a back-to-back PBX's onward leg are joined to the first leg, so `from`, `caller` and
   * `identity` are the dialling phone's). Started at its first INVITE, ringing at its first 18x
   * (or 2xx), answered at its first 2xx,
   * ended at its BYE, failure or expiry.
   */
  onCallStarted?(c: Call): void;
  /** The call is ringing or up (first 180-189 or 2xx on any of its legs). */
  onCallRinging?(c: Call): void;
  onCallAnswered?(c: Call): void;
  onCallEnded?(c: Call): void;
  onBindingAdded?(reg: Registration, b: Binding, ev: SipEvent, existing: readonly Binding[]): void;
  /** Parser anomalies of one message (`ev` when it still parsed). */
  onMalformed?(frame: SipFrame, anomalies: readonly Anomaly[], ev: SipEvent | undefined): void;
  /**
   * A call a PBX's CDR reported (3CX CDR file or socket output), at hang-up, so in end-time order:
   * its start may be hours behind event time. Calls already seen on the wire are not given (see
   * src/detect/cdr-dedup.ts), so a rule counts each call once whichever source saw it.
   */
  onCdrCall?(c: CdrCall): void;
  /** A live source's health changed (watch only; timed by the wall clock at the sensor). */
  onSourceHealth?(e: SourceHealthEvent): void;
  /** Event time moved on (every message, and idle ticks). */
  onTick?(now: number): void;
  /** End of input (analyze): finish deferred work such as queued password checks. */
  onFlush?(): void;
  /**
   * Learned state worth keeping across restarts (a baseline), as a JSON value carrying its own
   * format and version; `watch` saves it in the store. Implemented together with `loadState`.
   */
  saveState?(): unknown;
  /**
   * Restores a `saveState` value before any event; returns why it was refused (another version, a
   * changed setting, corrupt data), in which case the detector keeps its fresh state. Never throws.
   */
  loadState?(state: unknown): string | undefined;
}

/** What a detector reports: one call per threshold crossing or growth of an alert. */
export interface RaiseInput {
  /** What the alert groups by (source, identity, both): one alert per (rule, key) and window. */
  readonly key: string;
  readonly time: number;
  /** Event time of the first event that counted (defaults to `time` on the first raise). */
  readonly firstTime?: number;
  /** Total events counted so far for this key (absolute, not a delta). */
  readonly count: number;
  readonly title: string;
  readonly source?: AlertEndpoint;
  /** Per-source counts for rules that group many sources (absolute counts). A function is only
   * called when a revision is sent, which keeps per-event raises cheap. */
  readonly sources?:
    readonly { ip: string; count: number }[] | (() => readonly { ip: string; count: number }[]);
  readonly sourcesTotal?: number;
  readonly target?: AlertTarget;
  /** Counts, methods, User-Agents, frames...; a function is only called when a revision is sent. */
  readonly evidence: Record<string, unknown> | (() => Record<string, unknown>);
  /** Overrides the rule's severity for this alert (e.g. credentials from a public address). */
  readonly severity?: Severity;
  /** Closes the alert with this revision (the condition ended, e.g. a source recovered). */
  readonly close?: boolean;
}

/** What the engine gives a detector. */
export interface DetectorContext {
  readonly thresholds: Readonly<Record<string, number>>;
  readonly site: SiteModel;
  raise(input: RaiseInput): void;
  /** For an open alert: updates count and time and returns true when no revision is due (then the
   * detector skips building the raise); false: call `raise`. */
  touch?(key: string, time: number, count: number): boolean;
}

/** A rule module: its metadata and a factory for its detector. */
export interface RuleModule {
  readonly meta: RuleMeta;
  create(ctx: DetectorContext): Detector;
}
