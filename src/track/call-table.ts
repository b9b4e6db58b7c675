/**
 * Calls as a phone bill would list them, built from the transaction and dialog layers: who called
 * which number, when it started, rang, was answered and ended, and how it ended. One call per
 * initial INVITE, with every leg that belongs to it:
 *
 * - a proxy's legs share the Call-ID and caller tag: they are the same call by key;
 * - a back-to-back PBX (3CX) places a second leg with its own Call-ID from the address that
 *   received the first, to the same number (as dialled, or re-written with or without prefixes),
 *   within TRACK_CALL_RELAY_WINDOW_MS while the first is still unanswered: that leg is paired with
 *   the first and the call is reported once, the onward leg's destination (the trunk, the callee's
 *   phone) recorded on it;
 * - an INVITE challenged with 401/407 stays open for the retry with credentials (same key);
 * - a call whose BYE was lost ends when its dialog expires (twice Session-Expires, or the idle
 *   timeout), with `endReason` 'expired' and the last activity as its end; one never answered ends
 *   after TRACK_CALL_SETUP_TIMEOUT_MS without a final answer, and an answered call whose dialog
 *   was never followed after TRACK_CALL_ANSWERED_BACKSTOP_MS.
 *
 * Bounded by TRACK_MAX_CALLS open calls (and as many calls waiting for their onward leg): past it the least recently active call is ended as
 * 'evicted', unless the new call's source is rarer than the evicted one's (frequency admission, so
 * an INVITE flood from spoofed addresses cannot end the calls that are up).
 */
import {
  TRACK_CALL_ANSWERED_BACKSTOP_MS,
  TRACK_CALL_NUMBER_SUFFIX_DIGITS,
  TRACK_CALL_RELAY_WINDOW_MS,
  TRACK_CALL_RELAYS_PER_KEY,
  TRACK_CALL_SETUP_TIMEOUT_MS,
  TRACK_MAX_CALL_LEGS,
  TRACK_MAX_CALLS,
} from '../config/limits.js';
import { FrequencySketch } from '../core/bounded-table.js';
import { FifoMap } from '../core/fifo-map.js';
import type { Provenance, Transport } from '../core/records.js';
import type { Dialog, PartyAddress } from './dialogs.js';
import type { SipEvent } from './sip-event.js';
import type { Transaction } from './transactions.js';

/** How a call ended (or that it has not). */
export type CallState =
  | 'trying'
  | 'ringing'
  | 'answered'
  | 'busy'
  | 'no-answer'
  | 'cancelled'
  | 'rejected'
  | 'unauthorized'
  | 'failed';

/** One leg of a call: an INVITE transaction chain between two addresses. */
export interface CallLeg {
  readonly callId: string;
  readonly from: PartyAddress;
  readonly to: PartyAddress;
  /** The Request-URI user this leg dialled. */
  readonly dialled: string;
  readonly start: number;
}

/** A call as the tracker sees it. */
export interface Call {
  /** Call-ID and caller tag of the first leg. */
  readonly key: string;
  readonly callId: string;
  /** From user of the first leg (extension or number). */
  readonly caller: string;
  /** Digest user name of the first leg's credentials ('' when none were sent). */
  identity: string;
  /** Request-URI user of the first leg: the number as dialled. */
  readonly dialled: string;
  /** Where the first leg came from and went to, and over which transport. */
  readonly from: PartyAddress;
  readonly to: PartyAddress;
  readonly transport: Transport;
  /** Onward legs (proxy copies and the paired legs of a back-to-back PBX), at most TRACK_MAX_CALL_LEGS. */
  readonly legs: CallLeg[];
  /** Call-ID and caller tag of every leg the table maps to this call (its own first). */
  readonly legKeys: string[];
  readonly start: number;
  ringing: number | undefined;
  answer: number | undefined;
  end: number | undefined;
  state: CallState;
  /** Final status of the first leg that ended it (0 while none). */
  status: number;
  /** Why an answered call ended: its BYE, its dialog expired (lost BYE) or was evicted. */
  endReason: 'bye' | 'expired' | 'evicted' | 'final' | 'timeout' | undefined;
  lastTime: number;
  readonly provenance: Provenance;
}

/** Seconds a call was up (answer to end), 0 when it was never answered or has not ended. */
export function callDuration(c: Call): number {
  return c.answer !== undefined && c.end !== undefined ? Math.max(0, (c.end - c.answer) / 1000) : 0;
}

/** What the call table tells the tracker. */
export interface CallListener {
  callStarted(c: Call): void;
  /** The call is ringing or up: its first 180-189 or 2xx answer on any leg. */
  callRinging(c: Call): void;
  callAnswered(c: Call): void;
  callEnded(c: Call): void;
}

/** Counters of the call table. */
export interface CallStats {
  calls: number;
  answered: number;
  /** Second legs paired with a first (back-to-back PBX) or joined by key (proxy). */
  pairedLegs: number;
  /** Ended calls by final state. */
  readonly outcomes: Record<string, number>;
  expired: number;
  evictions: number;
  rejections: number;
}

/** The digits a number keeps across dial-plan rewriting: its last TRACK_CALL_NUMBER_SUFFIX_DIGITS. */
export function numberKey(user: string): string {
  const digits = user.replace(/^Ext\./i, '').replace(/[^0-9]/g, '');
  return digits.length > TRACK_CALL_NUMBER_SUFFIX_DIGITS
    ? digits.slice(-TRACK_CALL_NUMBER_SUFFIX_DIGITS)
    : digits;
}

/** The call state a final answer gives. */
export function finalState(status: number): CallState {
  if (status >= 200 && status < 300) return 'answered';
  if (status === 486 || status === 600) return 'busy';
  if (status === 408 || status === 480) return 'no-answer';
  if (status === 487) return 'cancelled';
  if (status === 401 || status === 407) return 'unauthorized';
  if (status === 403 || status === 603 || status === 404 || status === 484 || status === 488)
    return 'rejected';
  return 'failed';
}

/** First legs waiting for their B2BUA onward leg, oldest first. */
interface Relay {
  readonly calls: Call[];
  at: number;
}

/** Calls in progress and their outcome; see the file comment. */
export class CallTable {
  readonly stats: CallStats = {
    calls: 0,
    answered: 0,
    pairedLegs: 0,
    outcomes: {},
    expired: 0,
    evictions: 0,
    rejections: 0,
  };
  /** Open calls not yet answered, and answered, by key; each least recently active first. */
  private readonly unanswered = new Map<string, Call>();
  private readonly answered = new Map<string, Call>();
  /** Leg keys of open calls (the first's and paired legs'), for answers and dialog ends. */
  private readonly byLeg = new Map<string, Call>();
  /** Unanswered calls a back-to-back PBX may relay, by receiving address and number key. */
  private readonly relays = new FifoMap<string, Relay>();
  private readonly callers = new FrequencySketch(TRACK_MAX_CALLS);

  constructor(private readonly listener: CallListener) {}

  /** Calls waiting for a back-to-back PBX's onward leg, by (receiving address, number). */
  get relayKeys(): number {
    return this.relays.size;
  }

  /** Open calls. */
  get size(): number {
    return this.unanswered.size + this.answered.size;
  }

  /** An initial INVITE (first copy; no To tag). */
  onInvite(ev: SipEvent): void {
    this.callers.increment(ev.frame.srcIp);
    const legKey = `${ev.callId}\u0000${ev.fromTag}`;
    const known = this.byLeg.get(legKey);
    if (known !== undefined) {
      // The retry with credentials after a challenge, or a proxy's copy of the same INVITE.
      this.touch(known, ev.time);
      // Only the dialling phone's retry names its identity: a proxy forwarding the call may add
      // its own credentials for the trunk.
      if (ev.frame.srcIp !== known.from.ip) this.addLeg(known, ev);
      else {
        const auth = (ev.msg.authorization ?? ev.msg.proxyAuthorization)?.username;
        if (known.identity === '' && auth !== undefined) known.identity = auth;
        if (known.state === 'unauthorized') known.state = 'trying';
      }
      return;
    }
    const dialled = ev.msg.requestUri?.user ?? ev.msg.to?.uri?.user ?? '';
    const paired = this.pair(`${ev.frame.srcIp}\u0000${numberKey(dialled)}`, ev);
    if (paired !== undefined) {
      this.addLeg(paired, ev);
      paired.legKeys.push(legKey);
      this.byLeg.set(legKey, paired);
      this.touch(paired, ev.time);
      return;
    }
    if (!this.admit(ev)) return;
    const c: Call = {
      key: legKey,
      callId: ev.callId,
      caller: ev.msg.from?.uri?.user ?? '',
      identity: (ev.msg.authorization ?? ev.msg.proxyAuthorization)?.username ?? '',
      dialled,
      from: { ip: ev.frame.srcIp, port: ev.frame.srcPort },
      to: { ip: ev.frame.dstIp, port: ev.frame.dstPort },
      transport: ev.frame.transport,
      legs: [],
      legKeys: [legKey],
      start: ev.time,
      ringing: undefined,
      answer: undefined,
      end: undefined,
      state: 'trying',
      status: 0,
      endReason: undefined,
      lastTime: ev.time,
      provenance: ev.frame.provenance,
    };
    this.unanswered.set(legKey, c);
    this.byLeg.set(legKey, c);
    this.stats.calls++;
    if (numberKey(dialled) !== '')
      this.awaitRelay(`${ev.frame.dstIp}\u0000${numberKey(dialled)}`, c, ev.time);
    this.listener.callStarted(c);
  }

  /** A response to an initial INVITE (first copy). */
  onInviteResponse(ev: SipEvent, tx: Transaction): void {
    if (tx.request.toTag !== '') return;
    const c = this.byLeg.get(`${ev.callId}\u0000${ev.fromTag}`);
    if (c === undefined || c.end !== undefined) return;
    this.touch(c, ev.time);
    const firstLeg = tx.request.frame.srcIp === c.from.ip && tx.request.callId === c.callId;
    if (ev.status >= 180 && ev.status < 200) {
      if (c.ringing === undefined) {
        c.ringing = ev.time;
        this.listener.callRinging(c);
      }
      if (c.state === 'trying') c.state = 'ringing';
      return;
    }
    if (ev.status < 200) return;
    if (ev.status < 300) {
      if (c.answer === undefined) {
        if (c.ringing === undefined) {
          // Answered without ringing first: progressed all the same.
          c.ringing = ev.time;
          this.listener.callRinging(c);
        }
        c.answer = ev.time;
        c.state = 'answered';
        this.unanswered.delete(c.key);
        this.answered.set(c.key, c);
        this.stats.answered++;
        this.listener.callAnswered(c);
      }
      return;
    }
    // A failure on an onward leg may be followed by another (hunt groups, trunk failover): only
    // the first leg's final answer ends the call; a challenge waits for the retry. Once answered,
    // only the dialog's end ends it.
    if (!firstLeg || c.answer !== undefined) return;
    if (ev.status === 401 || ev.status === 407) {
      c.state = 'unauthorized';
      c.status = ev.status;
      return;
    }
    c.status = ev.status;
    this.finish(c, ev.time, finalState(ev.status), 'final');
  }

  /** An in-dialog request of a call's dialog: the call is still up. */
  onDialogActivity(d: Dialog, time: number): void {
    const c = this.byLeg.get(`${d.callId}\u0000${d.callerTag}`);
    if (c !== undefined && c.end === undefined) this.touch(c, time);
  }

  /** An INVITE transaction ended without a final answer (timed out or was evicted). */
  onInviteClosed(tx: Transaction): void {
    if (tx.final !== undefined || tx.request.toTag !== '') return;
    const c = this.byLeg.get(`${tx.callId}\u0000${tx.request.fromTag}`);
    if (c === undefined || c.end !== undefined || c.answer !== undefined) return;
    if (tx.request.frame.srcIp !== c.from.ip) return;
    this.finish(c, tx.lastTime, c.ringing !== undefined ? 'no-answer' : 'failed', 'timeout');
  }

  /** A dialog ended: an answered call ends with its first dialog to end. */
  onDialogEnded(d: Dialog, reason: string): void {
    const c = this.byLeg.get(`${d.callId}\u0000${d.callerTag}`);
    if (c === undefined || c.end !== undefined) return;
    if (c.answer === undefined) {
      // A fork or an onward leg that failed; the call itself ends with the first leg's answer.
      return;
    }
    if (reason === 'expired') this.stats.expired++;
    this.finish(
      c,
      d.endedAt ?? d.lastTime,
      'answered',
      reason === 'bye' ? 'bye' : reason === 'evicted' ? 'evicted' : 'expired',
    );
  }

  /**
   * Ends, at event time `now`, the calls that can no longer progress: unanswered ones quiet for
   * TRACK_CALL_SETUP_TIMEOUT_MS (a challenge never retried, an INVITE never answered), answered
   * ones whose dialog end never came within TRACK_CALL_ANSWERED_BACKSTOP_MS. Scans only heads.
   */
  expire(now: number): void {
    for (const c of this.unanswered.values()) {
      if (c.lastTime + TRACK_CALL_SETUP_TIMEOUT_MS > now) break;
      const state =
        c.state === 'unauthorized' ? 'unauthorized' : c.ringing !== undefined ? 'no-answer' : 'failed';
      this.finish(c, c.lastTime, state, 'timeout');
    }
    for (const c of this.answered.values()) {
      if (c.lastTime + TRACK_CALL_ANSWERED_BACKSTOP_MS > now) break;
      this.stats.expired++;
      this.finish(c, c.lastTime, 'answered', 'expired');
    }
    for (let o = this.relays.peek(); o !== undefined; o = this.relays.peek()) {
      if (now - o[1].at <= TRACK_CALL_RELAY_WINDOW_MS) break;
      this.relays.shift();
    }
  }

  /** Calls not ended yet (end of input: their end is unknown). */
  *openCalls(): IterableIterator<Call> {
    yield* this.answered.values();
    yield* this.unanswered.values();
  }

  private awaitRelay(key: string, c: Call, time: number): void {
    const r = this.relays.get(key);
    if (r === undefined) {
      // Entries outlive their calls by up to the relay window: an INVITE flood with a new number
      // each time would grow the map with the rate, so it is bounded like the calls themselves.
      if (this.relays.size >= TRACK_MAX_CALLS) this.relays.shift();
      this.relays.set(key, { calls: [c], at: time });
      return;
    }
    if (r.calls.length >= TRACK_CALL_RELAYS_PER_KEY) r.calls.shift();
    r.calls.push(c);
    r.at = time;
    // Keep the map ordered by last use, so expiry scans stop at the first fresh entry.
    this.relays.set(key, r);
  }

  /** The oldest unanswered call this INVITE relays onward (sent by the address that received it). */
  private pair(key: string, ev: SipEvent): Call | undefined {
    const r = this.relays.get(key);
    if (r === undefined) return undefined;
    while (r.calls.length > 0) {
      const c = r.calls.shift()!;
      if (
        c.end === undefined &&
        c.answer === undefined &&
        c.from.ip !== ev.frame.srcIp &&
        ev.time - c.start <= TRACK_CALL_RELAY_WINDOW_MS
      ) {
        if (r.calls.length === 0) this.relays.delete(key);
        return c;
      }
    }
    this.relays.delete(key);
    return undefined;
  }

  private admit(ev: SipEvent): boolean {
    if (this.size < TRACK_MAX_CALLS) return true;
    const oldest = (this.unanswered.values().next().value ?? this.answered.values().next().value) as Call;
    if (this.callers.estimate(ev.frame.srcIp) <= this.callers.estimate(oldest.from.ip)) {
      this.stats.rejections++;
      return false;
    }
    this.stats.evictions++;
    this.finish(oldest, ev.time, oldest.answer !== undefined ? 'answered' : 'failed', 'evicted');
    return true;
  }

  private addLeg(c: Call, ev: SipEvent): void {
    this.stats.pairedLegs++;
    if (c.legs.length >= TRACK_MAX_CALL_LEGS) return;
    c.legs.push({
      callId: ev.callId,
      from: { ip: ev.frame.srcIp, port: ev.frame.srcPort },
      to: { ip: ev.frame.dstIp, port: ev.frame.dstPort },
      dialled: ev.msg.requestUri?.user ?? '',
      start: ev.time,
    });
  }

  private touch(c: Call, time: number): void {
    if (time > c.lastTime) c.lastTime = time;
    const m = c.answer === undefined ? this.unanswered : this.answered;
    m.delete(c.key);
    m.set(c.key, c);
  }

  private finish(c: Call, time: number, state: CallState, reason: Call['endReason']): void {
    if (c.end !== undefined) return;
    c.end = Math.max(time, c.start);
    c.state = state;
    c.endReason = reason;
    this.unanswered.delete(c.key);
    this.answered.delete(c.key);
    for (const k of c.legKeys) this.byLeg.delete(k);
    this.stats.outcomes[state] = (this.stats.outcomes[state] ?? 0) + 1;
    this.listener.callEnded(c);
  }
}
