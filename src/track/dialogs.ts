import { countInto } from '../core/counts.js';
import {
  TRACK_DIALOG_IDLE_TIMEOUT_MS,
  TRACK_EARLY_DIALOG_TIMEOUT_MS,
  TRACK_MAX_DIALOGS,
} from '../config/limits.js';
import { FrequencySketch } from '../core/bounded-table.js';
import { mediaAddress } from '../sdp/parser.js';
import { sdpOf, type SipEvent } from './sip-event.js';
import type { Transaction } from './transactions.js';

/** A signaling address of a dialog party. */
export interface PartyAddress {
  readonly ip: string;
  readonly port: number;
}

/** An INVITE dialog (RFC 3261 §12) as an observer sees it. */
export interface Dialog {
  readonly key: string;
  readonly callId: string;
  /** The INVITE's From tag (caller) and the answer's To tag (callee). */
  readonly callerTag: string;
  readonly calleeTag: string;
  /** Where the initial INVITE came from and went to. */
  readonly caller: PartyAddress;
  readonly callee: PartyAddress;
  readonly invite: SipEvent;
  state: 'early' | 'confirmed' | 'terminated';
  readonly createdAt: number;
  confirmedAt: number | undefined;
  endedAt: number | undefined;
  lastTime: number;
  /** Record-Route of the dialog-creating answer: the proxies on the path, in order. */
  routeSet: string[];
  /** Each party's media address, from the SDP it last sent (offer or answer; a hold's 0.0.0.0
   * included), undefined until one was seen. */
  readonly media: { caller: string | undefined; callee: string | undefined };
  /** Session timer interval (RFC 4028) in seconds, when negotiated. */
  sessionExpires: number | undefined;
  /** In-dialog requests seen after creation, by method. */
  readonly inDialog: Record<string, number>;
}

/** Dialog lifecycle notifications. */
export interface DialogListener {
  dialogCreated(d: Dialog, ev: SipEvent): void;
  dialogConfirmed(d: Dialog, ev: SipEvent): void;
  /** An in-dialog request (re-INVITE, UPDATE, BYE, REFER, INFO, ...) for a known dialog. */
  dialogRequest(d: Dialog, ev: SipEvent, tx: Transaction | undefined): void;
  dialogEnded(d: Dialog, reason: 'bye' | 'rejected' | 'cancelled' | 'expired' | 'evicted'): void;
}

/** Counters of the dialog table. */
export interface DialogStats {
  dialogs: number;
  confirmed: number;
  expired: number;
  evictions: number;
  rejections: number;
}

/**
 * Tracks INVITE dialogs from the transactions they are made of: created by a 1xx/2xx with a To
 * tag, confirmed by a 2xx, ended by BYE, a failure answer, or — when the BYE was lost — by idle
 * time in event time (twice the Session-Expires interval when negotiated).
 */
export class DialogTable {
  readonly stats: DialogStats = { dialogs: 0, confirmed: 0, expired: 0, evictions: 0, rejections: 0 };
  /** Every open dialog, for lookups. */
  private readonly dialogs = new Map<string, Dialog>();
  /** Open dialogs by state, ordered by last activity (re-inserted on activity): each head is the
   * least recently active of its state, so expiry checks only heads. */
  private readonly early = new Map<string, Dialog>();
  private readonly confirmed = new Map<string, Dialog>();
  /** Early dialogs by Call-ID and caller tag: the forks of one INVITE, ended together by a failure. */
  private readonly earlyByInvite = new Map<string, Dialog[]>();
  private readonly callers = new FrequencySketch(TRACK_MAX_DIALOGS);

  constructor(private readonly listener: DialogListener) {}

  get size(): number {
    return this.dialogs.size;
  }

  /** The dialog an in-dialog message belongs to, if known. */
  find(callId: string, tagA: string, tagB: string): Dialog | undefined {
    return this.dialogs.get(dialogKey(callId, tagA, tagB));
  }

  /** A request seen by the transaction layer (first copies only). */
  onRequest(ev: SipEvent, tx: Transaction | undefined): void {
    this.expire(ev.time);
    if (ev.toTag === '') {
      if (ev.method === 'INVITE') this.callers.increment(ev.frame.srcIp);
      return;
    }
    const d = this.dialogs.get(dialogKey(ev.callId, ev.fromTag, ev.toTag));
    if (d === undefined) return;
    this.touch(d, ev.time);
    countInto(d.inDialog, ev.method);
    this.noteMedia(d, ev, ev.fromTag === d.callerTag ? 'caller' : 'callee');
    this.listener.dialogRequest(d, ev, tx);
    if (ev.method === 'BYE') this.end(d, ev.time, 'bye');
  }

  /** A response that belongs to a transaction (first copies only). */
  onResponse(ev: SipEvent, tx: Transaction): void {
    if (tx.method !== 'INVITE' || ev.toTag === '') {
      if (tx.method === 'INVITE' && ev.status >= 300) this.failInvite(ev, tx);
      return;
    }
    const invite = tx.request;
    const key = dialogKey(ev.callId, ev.fromTag, ev.toTag);
    let d = this.dialogs.get(key);
    if (d === undefined) {
      // A re-INVITE's answer for an unknown dialog (capture started mid-call) creates nothing.
      if (invite.toTag !== '' || ev.status >= 300) {
        if (ev.status >= 300) this.failInvite(ev, tx);
        return;
      }
      d = this.create(key, ev, invite);
      if (d === undefined) return;
    }
    this.touch(d, ev.time);
    // The answer comes from the side the request went to.
    this.noteMedia(d, ev, invite.fromTag === d.callerTag ? 'callee' : 'caller');
    if (ev.status >= 200 && ev.status < 300 && d.state === 'early') {
      d.state = 'confirmed';
      this.early.delete(d.key);
      this.indexEarly(d, false);
      this.confirmed.set(d.key, d);
      d.confirmedAt = ev.time;
      d.routeSet = ev.msg.headers('Record-Route');
      const se = parseInt(ev.msg.header('Session-Expires') ?? '', 10);
      if (se > 0) d.sessionExpires = se;
      this.stats.confirmed++;
      this.listener.dialogConfirmed(d, ev);
    } else if (ev.status >= 300 && d.state === 'early') {
      this.end(d, ev.time, ev.status === 487 ? 'cancelled' : 'rejected');
    }
  }

  /** Closes dialogs idle past their timeout at `now` (event time). */
  expire(now: number): void {
    for (const d of this.early.values()) {
      if (d.lastTime + TRACK_EARLY_DIALOG_TIMEOUT_MS > now) break;
      this.stats.expired++;
      this.end(d, d.lastTime, 'expired');
    }
    // Session-Expires shortens some confirmed dialogs' limit; scanning from the head stops at the
    // first live one, so such a dialog may outlive its limit by at most the default idle timeout.
    for (const d of this.confirmed.values()) {
      if (d.lastTime + idleLimit(d) > now) break;
      this.stats.expired++;
      this.end(d, d.lastTime, 'expired');
    }
  }

  /** Ends every open dialog as expired (end of input is not the end of the calls; callers decide). */
  flush(): void {
    for (const d of [...this.dialogs.values()]) this.end(d, d.lastTime, 'expired');
  }

  private create(key: string, ev: SipEvent, invite: SipEvent): Dialog | undefined {
    if (this.dialogs.size >= TRACK_MAX_DIALOGS) {
      const oldest = (this.early.values().next().value ?? this.confirmed.values().next().value) as Dialog;
      if (this.callers.estimate(invite.frame.srcIp) <= this.callers.estimate(oldest.caller.ip)) {
        this.stats.rejections++;
        return undefined;
      }
      this.stats.evictions++;
      this.end(oldest, ev.time, 'evicted');
    }
    const d: Dialog = {
      key,
      callId: ev.callId,
      callerTag: ev.fromTag,
      calleeTag: ev.toTag,
      caller: { ip: invite.frame.srcIp, port: invite.frame.srcPort },
      callee: { ip: invite.frame.dstIp, port: invite.frame.dstPort },
      invite,
      state: 'early',
      createdAt: ev.time,
      confirmedAt: undefined,
      endedAt: undefined,
      lastTime: ev.time,
      routeSet: [],
      media: { caller: sdpMediaAddress(invite), callee: undefined },
      sessionExpires: undefined,
      inDialog: {},
    };
    this.dialogs.set(key, d);
    this.early.set(key, d);
    this.indexEarly(d, true);
    this.stats.dialogs++;
    this.listener.dialogCreated(d, ev);
    return d;
  }

  private failInvite(ev: SipEvent, tx: Transaction): void {
    // Early dialogs of a forked INVITE share the Call-ID and From tag; a failure ends them all.
    if (tx.request.toTag !== '') return;
    const forks = this.earlyByInvite.get(`${ev.callId}\u0000${ev.fromTag}`);
    if (forks === undefined) return;
    for (const d of [...forks]) this.end(d, ev.time, ev.status === 487 ? 'cancelled' : 'rejected');
  }

  /** Records the media address an SDP body of `side` names. */
  private noteMedia(d: Dialog, ev: SipEvent, side: 'caller' | 'callee'): void {
    const a = sdpMediaAddress(ev);
    if (a !== undefined) d.media[side] = a;
  }

  private indexEarly(d: Dialog, add: boolean): void {
    const k = `${d.callId}\u0000${d.callerTag}`;
    const list = this.earlyByInvite.get(k);
    if (add) {
      if (list === undefined) this.earlyByInvite.set(k, [d]);
      else list.push(d);
      return;
    }
    if (list === undefined) return;
    const i = list.indexOf(d);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.earlyByInvite.delete(k);
  }

  private touch(d: Dialog, time: number): void {
    d.lastTime = time;
    const byState = d.state === 'early' ? this.early : this.confirmed;
    byState.delete(d.key);
    byState.set(d.key, d);
  }

  private end(
    d: Dialog,
    time: number,
    reason: 'bye' | 'rejected' | 'cancelled' | 'expired' | 'evicted',
  ): void {
    if (d.state === 'terminated') return;
    d.state = 'terminated';
    d.endedAt = time;
    this.dialogs.delete(d.key);
    if (this.early.delete(d.key)) this.indexEarly(d, false);
    this.confirmed.delete(d.key);
    this.listener.dialogEnded(d, reason);
  }
}

/** The first media section's address of a message's SDP body, if it has one. */
export function sdpMediaAddress(ev: SipEvent): string | undefined {
  const first = sdpOf(ev)?.media[0];
  return first !== undefined ? mediaAddress(first) : undefined;
}

function idleLimit(d: Dialog): number {
  if (d.sessionExpires !== undefined) return Math.min(TRACK_DIALOG_IDLE_TIMEOUT_MS, d.sessionExpires * 2000);
  return TRACK_DIALOG_IDLE_TIMEOUT_MS;
}

/** Dialog id independent of direction: Call-ID and the two tags in a fixed order. */
export function dialogKey(callId: string, tagA: string, tagB: string): string {
  return tagA < tagB ? `${callId}\u0000${tagA}\u0000${tagB}` : `${callId}\u0000${tagB}\u0000${tagA}`;
}
