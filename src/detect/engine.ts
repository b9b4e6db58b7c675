import type { Severity } from '../core/alert.js';
import type { Anomaly, CdrCall, PbxLogEvent, SipFrame, SourceHealthEvent } from '../core/records.js';
import { calledUser } from '../track/calls.js';
import type { Binding, Registration } from '../track/registrations.js';
import type { Call } from '../track/call-table.js';
import type { Dialog } from '../track/dialogs.js';
import type { SipEvent } from '../track/sip-event.js';
import type { TrackListener } from '../track/tracker.js';
import type { Transaction } from '../track/transactions.js';
import type { AlertBook } from './alert-book.js';
import { AttemptDedup } from './attempt-dedup.js';
import { CdrDedup } from './cdr-dedup.js';
import { attemptFromLog, classifyAttempt, type AuthAttempt } from './attempts.js';
import type { Detector, RaiseInput, RuleModule } from './rule.js';
import type { SiteModel } from './site.js';

/** Per-rule settings from the configuration. */
export interface RuleSettings {
  readonly enabled?: boolean | undefined;
  readonly severity?: Severity | undefined;
  readonly thresholds?: Readonly<Record<string, number>> | undefined;
}

/**
 * The detection stage: receives the tracker's events, derives request outcomes (attempts), and
 * hands both to every enabled rule's detector in event time. Detectors raise into the alert book.
 */
export class DetectionEngine implements TrackListener {
  private readonly detectors: Detector[] = [];
  private readonly onMessages: Detector[] = [];
  private readonly onAttempts: Detector[] = [];
  private readonly onTicks: Detector[] = [];
  private readonly onCdrCalls: Detector[] = [];
  /** Detectors that keep learned state across restarts, by rule id. */
  private readonly stateful = new Map<string, Detector>();
  private now = -Infinity;
  /** Recognises log lines that report attempts already seen on the wire. */
  readonly dedup = new AttemptDedup();
  /** Log events read, and those that reported an attempt. */
  readonly logStats = { events: 0, attempts: 0 };
  /** Recognises CDR records of calls already seen on the wire. */
  readonly cdrDedup = new CdrDedup();
  /** CDR records read, and those the rules saw (not copies of wire calls). */
  readonly cdrStats = { calls: 0, counted: 0 };

  constructor(
    rules: readonly RuleModule[],
    private readonly book: AlertBook,
    site: SiteModel,
    settings: Readonly<Record<string, RuleSettings>> = {},
  ) {
    for (const rule of rules) {
      const s = settings[rule.meta.id] ?? {};
      if (s.enabled === false) continue;
      const thresholds = { ...rule.meta.thresholds, ...(s.thresholds ?? {}) };
      const severity = s.severity;
      const d = rule.create({
        thresholds,
        site,
        raise: (input: RaiseInput) => book.raise(rule.meta, input, severity),
        touch: (key: string, time: number, count: number) => book.touch(rule.meta, key, time, count),
      });
      this.detectors.push(d);
      if (d.onMessage) this.onMessages.push(d);
      if (d.onAttempt) this.onAttempts.push(d);
      if (d.onTick) this.onTicks.push(d);
      if (d.onCdrCall) this.onCdrCalls.push(d);
      if (d.saveState && d.loadState) this.stateful.set(rule.meta.id, d);
    }
  }

  /** Ids of the enabled rules whose detectors keep learned state (see `saveStates`). */
  get statefulRules(): string[] {
    return [...this.stateful.keys()];
  }

  /** Every stateful detector's learned state by rule id (JSON values, for the store's snapshots). */
  saveStates(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [id, d] of this.stateful) {
      const s = d.saveState?.();
      if (s !== undefined) out[id] = s;
    }
    return out;
  }

  /**
   * Restores states saved by `saveStates` (before any event); a rule not listed, disabled or not
   * stateful is skipped. Returns the refusals: that rule's detector starts fresh.
   */
  loadStates(states: Readonly<Record<string, unknown>>): { rule: string; reason: string }[] {
    const refused: { rule: string; reason: string }[] = [];
    for (const [id, d] of this.stateful) {
      if (!Object.hasOwn(states, id)) continue;
      let reason: string | undefined;
      try {
        reason = d.loadState?.(states[id]);
      } catch (err) {
        // A detector must not throw on a bad snapshot; if one does, it is a refusal, not a crash.
        reason = `failed: ${err instanceof Error ? err.message : String(err)}`;
      }
      if (reason !== undefined) refused.push({ rule: id, reason });
    }
    return refused;
  }

  /** Moves event time forward (messages and idle ticks): detectors and the book close windows. */
  tick(now: number): void {
    if (now <= this.now) return;
    this.now = now;
    for (const d of this.onTicks) d.onTick?.(now);
    this.book.tick(now);
  }

  /** Sees every message after the detectors (watch's return-path table and counters use it). */
  readonly messageTaps: ((ev: SipEvent, tx: Transaction | undefined, retransmission: boolean) => void)[] = [];

  message(ev: SipEvent, tx: Transaction | undefined, retransmission: boolean): void {
    this.tick(ev.time);
    if (
      this.cdrDedup.remembering &&
      ev.isRequest &&
      ev.method === 'INVITE' &&
      ev.toTag === '' &&
      !retransmission
    )
      this.cdrDedup.sawWire(calledUser(ev), ev.time);
    for (const d of this.onMessages) d.onMessage?.(ev, tx, retransmission);
    for (let i = 0; i < this.messageTaps.length; i++) this.messageTaps[i]!(ev, tx, retransmission);
    // A request's outcome is known at its first final answer.
    if (
      !ev.isRequest &&
      !retransmission &&
      tx !== undefined &&
      tx.final === ev &&
      this.onAttempts.length > 0
    ) {
      this.attempt(classifyAttempt(tx, ev, ev.time));
    }
  }

  /**
   * One event read from a PBX log: the outcome it reports counts like a SIP attempt, unless the same
   * attempt was already seen on the wire. Log time may lag the wire's; windows take it as it is.
   */
  logEvent(e: PbxLogEvent): void {
    this.logStats.events++;
    this.tick(e.time);
    const a = attemptFromLog(e);
    if (a === undefined) return;
    if (this.dedup.isCopy(a)) return;
    this.logStats.attempts++;
    for (const d of this.onAttempts) d.onAttempt?.(a);
  }

  /**
   * One call a CDR reported. Event time moves to its end (CDRs are written at hang-up); the rules
   * read its start, answer and end themselves. A copy of a call seen on the wire is dropped.
   */
  cdrCall(c: CdrCall): void {
    this.cdrStats.calls++;
    this.tick(c.end ?? c.answer ?? c.start);
    if (this.cdrDedup.isCopy(c)) return;
    this.cdrStats.counted++;
    for (const d of this.onCdrCalls) d.onCdrCall?.(c);
  }

  /** A live source's health changed. */
  sourceHealth(e: SourceHealthEvent): void {
    for (const d of this.detectors) d.onSourceHealth?.(e);
  }

  /** Sees every attempt (SIP and log) after the detectors: watch's return-path table uses it. */
  readonly attemptTaps: ((a: AuthAttempt) => void)[] = [];

  private attempt(a: AuthAttempt): void {
    this.dedup.sawWire(a);
    for (const d of this.onAttempts) d.onAttempt?.(a);
    for (const t of this.attemptTaps) t(a);
  }

  transactionClosed(tx: Transaction, reason: 'completed' | 'timeout' | 'evicted'): void {
    if (reason === 'timeout' && tx.method !== 'ACK' && this.onAttempts.length > 0) {
      this.attempt(classifyAttempt(tx, undefined, tx.lastTime));
    }
    for (const d of this.detectors) d.onTransactionClosed?.(tx, reason);
  }

  dialogCreated(d: Dialog, ev: SipEvent): void {
    for (const x of this.detectors) x.onDialogCreated?.(d, ev);
  }

  dialogConfirmed(d: Dialog, ev: SipEvent): void {
    for (const x of this.detectors) x.onDialogConfirmed?.(d, ev);
  }

  dialogRequest(d: Dialog, ev: SipEvent, tx: Transaction | undefined): void {
    for (const x of this.detectors) x.onDialogRequest?.(d, ev, tx);
  }

  dialogEnded(d: Dialog, reason: string): void {
    for (const x of this.detectors) x.onDialogEnded?.(d, reason);
  }

  callStarted(c: Call): void {
    for (const x of this.detectors) x.onCallStarted?.(c);
  }

  callRinging(c: Call): void {
    for (const x of this.detectors) x.onCallRinging?.(c);
  }

  callAnswered(c: Call): void {
    for (const x of this.detectors) x.onCallAnswered?.(c);
  }

  callEnded(c: Call): void {
    for (const x of this.detectors) x.onCallEnded?.(c);
  }

  bindingAdded(reg: Registration, b: Binding, ev: SipEvent, existing: readonly Binding[]): void {
    for (const x of this.detectors) x.onBindingAdded?.(reg, b, ev, existing);
  }

  malformed(frame: SipFrame, anomalies: readonly Anomaly[], ev: SipEvent | undefined): void {
    this.tick(frame.time);
    for (const x of this.detectors) x.onMalformed?.(frame, anomalies, ev);
  }

  /** End of input: detectors see the last time, then every open alert is closed. */
  flush(): void {
    for (const d of this.detectors) d.onFlush?.();
    this.book.flush();
  }
}
