import type { Anomaly, SipFrame } from '../core/records.js';
import type { Binding, Registration, RegistrationListener } from './registrations.js';
import { RegistrationTable } from './registrations.js';
import { CallTable, type Call, type CallListener } from './call-table.js';
import type { Dialog, DialogListener } from './dialogs.js';
import { DialogTable } from './dialogs.js';
import type { SipEvent } from './sip-event.js';
import type { Transaction, TransactionListener } from './transactions.js';
import { TransactionTable } from './transactions.js';

/** Everything the tracking stage tells later stages (detectors). All optional. */
export interface TrackListener {
  /** Every message, retransmissions included (flagged), with its transaction when known. */
  message?(ev: SipEvent, tx: Transaction | undefined, retransmission: boolean): void;
  transactionClosed?(tx: Transaction, reason: 'completed' | 'timeout' | 'evicted'): void;
  dialogCreated?(d: Dialog, ev: SipEvent): void;
  dialogConfirmed?(d: Dialog, ev: SipEvent): void;
  dialogRequest?(d: Dialog, ev: SipEvent, tx: Transaction | undefined): void;
  dialogEnded?(d: Dialog, reason: string): void;
  bindingAdded?(reg: Registration, b: Binding, ev: SipEvent, existing: readonly Binding[]): void;
  bindingRefreshed?(reg: Registration, b: Binding, ev: SipEvent): void;
  bindingRemoved?(reg: Registration, b: Binding, reason: string): void;
  /** A call's first INVITE; its answer; its end (BYE, failure, expiry: see src/track/call-table.ts). */
  callStarted?(c: Call): void;
  callRinging?(c: Call): void;
  callAnswered?(c: Call): void;
  callEnded?(c: Call): void;
  /** Parser anomalies of one framed message; `ev` when it still parsed as a request or response. */
  malformed?(frame: SipFrame, anomalies: readonly Anomaly[], ev: SipEvent | undefined): void;
}

/** The tracking stage: transactions, dialogs, registrations and calls fed from one message stream. */
export class Tracker implements TransactionListener, DialogListener, RegistrationListener, CallListener {
  readonly transactions: TransactionTable;
  readonly dialogs: DialogTable;
  readonly registrations: RegistrationTable;
  readonly calls: CallTable;
  private readonly out: TrackListener;

  constructor(downstream: TrackListener = {}) {
    this.out = downstream;
    this.transactions = new TransactionTable(this);
    this.dialogs = new DialogTable(this);
    this.registrations = new RegistrationTable(this);
    this.calls = new CallTable(this);
  }

  /** Feeds one parsed message in event-time order. */
  add(ev: SipEvent): void {
    this.transactions.add(ev);
  }

  /** Advances event time without a message (idle sources tick), closing what timed out. */
  tick(now: number): void {
    this.transactions.expire(now);
    this.dialogs.expire(now);
    this.calls.expire(now);
  }

  /** End of input: close every open transaction (dialogs stay as they are, for reporting). */
  flush(): void {
    this.transactions.flush();
  }

  request(ev: SipEvent, tx: Transaction | undefined, retransmission: boolean): void {
    if (!retransmission) {
      this.dialogs.onRequest(ev, tx);
      if (ev.method === 'INVITE' && ev.toTag === '') {
        this.calls.expire(ev.time);
        this.calls.onInvite(ev);
      }
    }
    this.out.message?.(ev, tx, retransmission);
  }

  response(ev: SipEvent, tx: Transaction | undefined, retransmission: boolean): void {
    if (tx !== undefined && !retransmission) {
      this.dialogs.onResponse(ev, tx);
      if (tx.method === 'INVITE') this.calls.onInviteResponse(ev, tx);
      else if (ev.status >= 200 && tx.final === ev) this.registrations.onFinal(tx, ev);
    }
    this.out.message?.(ev, tx, retransmission);
  }

  closed(tx: Transaction, reason: 'completed' | 'timeout' | 'evicted'): void {
    this.out.transactionClosed?.(tx, reason);
    if (tx.method === 'INVITE') this.calls.onInviteClosed(tx);
  }

  dialogCreated(d: Dialog, ev: SipEvent): void {
    this.out.dialogCreated?.(d, ev);
  }

  dialogConfirmed(d: Dialog, ev: SipEvent): void {
    this.out.dialogConfirmed?.(d, ev);
  }

  dialogRequest(d: Dialog, ev: SipEvent, tx: Transaction | undefined): void {
    this.calls.onDialogActivity(d, ev.time);
    this.out.dialogRequest?.(d, ev, tx);
  }

  dialogEnded(d: Dialog, reason: string): void {
    this.out.dialogEnded?.(d, reason);
    this.calls.onDialogEnded(d, reason);
  }

  callStarted(c: Call): void {
    this.out.callStarted?.(c);
  }

  callRinging(c: Call): void {
    this.out.callRinging?.(c);
  }

  callAnswered(c: Call): void {
    this.out.callAnswered?.(c);
  }

  callEnded(c: Call): void {
    this.out.callEnded?.(c);
  }

  bindingAdded(reg: Registration, b: Binding, ev: SipEvent, existing: readonly Binding[]): void {
    this.out.bindingAdded?.(reg, b, ev, existing);
  }

  bindingRefreshed(reg: Registration, b: Binding, ev: SipEvent): void {
    this.out.bindingRefreshed?.(reg, b, ev);
  }

  bindingRemoved(reg: Registration, b: Binding, reason: string): void {
    this.out.bindingRemoved?.(reg, b, reason);
  }
}
