import {
  TRACK_COMPLETED_LINGER_MS,
  TRACK_MAX_RESPONSES_PER_TRANSACTION,
  TRACK_MAX_TRANSACTIONS,
  TRACK_INVITE_TRANSACTION_TIMEOUT_MS,
  TRACK_TRANSACTION_TIMEOUT_MS,
} from '../config/limits.js';
import { FifoMap } from '../core/fifo-map.js';
import { FrequencySketch } from '../core/bounded-table.js';
import { frameWithData } from '../core/records.js';
import { parseSipMessage } from '../sip/message.js';
import type { SipEvent } from './sip-event.js';

/** RFC 3261 branch prefix: a branch with it identifies a transaction on its own. */
const MAGIC_COOKIE = 'z9hG4bK';

/**
 * A request and the responses to it, as an observer between client and server sees them.
 *
 * Slimmed once answered: after the first final answer of a non-INVITE transaction has been handed
 * to every listener, `request`, `final` and `provisional` are replaced by copies that keep their
 * event fields (time, addresses, transport, provenance, method, status, Call-ID, CSeq, branch,
 * sent-by, tags) but not the message: their `msg` is an empty placeholder and their frame holds no
 * bytes. What stays of the transaction (seconds of linger, to recognise retransmissions) then costs
 * a few hundred bytes instead of two whole messages, and the messages die young. A listener reads
 * what it needs from a message while that message is being handed out, or keeps the event itself
 * (the copies replace the transaction's references; the events are not changed). INVITE
 * transactions are not slimmed: their ACK and forked 2xx answers read the request later.
 */
export interface Transaction {
  readonly key: string;
  readonly method: string;
  readonly callId: string;
  readonly cseq: number;
  /** The first copy of the request (slimmed once answered, see above). */
  request: SipEvent;
  readonly firstTime: number;
  lastTime: number;
  /** Copies of the request seen, retransmissions included. */
  requestCopies: number;
  /** Distinct response statuses in arrival order (bounded). Replaced by a list of one at the first
   * response: an empty array grows to 17 slots at its first push, and nearly every transaction
   * gets one status. */
  statuses: readonly number[];
  /** The first final response (>= 200), if any. */
  final: SipEvent | undefined;
  /** The latest provisional response, if any. */
  provisional: SipEvent | undefined;
  /** True once the transaction left the table (final + linger, timeout or eviction). */
  closed: boolean;
}

/** What the transaction table tells its listener. */
export interface TransactionListener {
  /** A request; `retransmission` when an earlier copy of it was seen in the same transaction. */
  request(ev: SipEvent, tx: Transaction | undefined, retransmission: boolean): void;
  /** A response; `tx` undefined when its request was never seen (capture started late, spoofing). */
  response(ev: SipEvent, tx: Transaction | undefined, retransmission: boolean): void;
  /** The transaction left the table; `answered` false when no final response ever came. */
  closed(tx: Transaction, reason: 'completed' | 'timeout' | 'evicted'): void;
}

/** Counters of the transaction table. */
export interface TransactionStats {
  transactions: number;
  requestRetransmissions: number;
  responseRetransmissions: number;
  orphanResponses: number;
  /** A final answer unlike the first to a non-INVITE request already answered (handed on as an
   * orphan: see `Transaction`). */
  extraFinals: number;
  timeouts: number;
  evictions: number;
  rejections: number;
}

/**
 * Matches requests and responses into transactions (RFC 3261 §17.1.3/§17.2.3), recognises
 * retransmissions so that detectors count each attempt once, and closes transactions in event time.
 *
 * Bound: at most TRACK_MAX_TRANSACTIONS open. When full, the oldest transaction is evicted only if
 * the new request's source is more frequent than the oldest one's (a sketch over source addresses):
 * a flood of spoofed one-off sources cannot push out the open transactions of a real attacker.
 */
export class TransactionTable {
  readonly stats: TransactionStats = {
    transactions: 0,
    requestRetransmissions: 0,
    responseRetransmissions: 0,
    orphanResponses: 0,
    extraFinals: 0,
    timeouts: 0,
    evictions: 0,
    rejections: 0,
  };
  /**
   * Open transactions in creation order: the head is always the oldest. A FifoMap, not a Map:
   * `values()` of a Map starts at its first slot and walks every hole that closing and evicting
   * at the head left there, and `expire` starts there for every message (under a spoofed flood,
   * 6% of the pipeline's time).
   */
  private readonly open = new FifoMap<string, Transaction>();
  private readonly sources = new FrequencySketch(TRACK_MAX_TRANSACTIONS);

  constructor(private readonly listener: TransactionListener) {}

  get size(): number {
    return this.open.size;
  }

  /** Feeds one message; expires transactions whose time is past. */
  add(ev: SipEvent): void {
    this.expire(ev.time);
    if (ev.isRequest) this.addRequest(ev);
    else this.addResponse(ev);
  }

  /** Closes every transaction that timed out by `now` (event time). */
  expire(now: number): void {
    for (let tx = this.open.oldest(); tx !== undefined; tx = this.open.oldest()) {
      const limit =
        tx.final !== undefined
          ? TRACK_COMPLETED_LINGER_MS
          : tx.method === 'INVITE'
            ? TRACK_INVITE_TRANSACTION_TIMEOUT_MS
            : TRACK_TRANSACTION_TIMEOUT_MS;
      // Head-of-line: creation order approximates expiry order; a long INVITE at the head delays
      // the others by at most the INVITE timeout, which keeps this O(expired) per call.
      if (tx.lastTime + limit > now) break;
      this.close(tx, tx.final === undefined ? 'timeout' : 'completed');
    }
  }

  /** Closes everything (end of input). */
  flush(): void {
    // `close` takes each out of the table, oldest first.
    for (let tx = this.open.oldest(); tx !== undefined; tx = this.open.oldest())
      this.close(tx, tx.final === undefined ? 'timeout' : 'completed');
  }

  private addRequest(ev: SipEvent): void {
    const srcFreq = this.sources.increment(ev.frame.srcIp);
    // ACK to a non-2xx final belongs to the INVITE transaction; ACK to 2xx has its own branch.
    const method = ev.method === 'ACK' ? 'INVITE' : ev.method;
    const key = transactionKey(ev, method);
    const tx = this.open.get(key);
    if (tx !== undefined) {
      if (ev.method === 'ACK' && tx.method === 'INVITE') {
        tx.lastTime = ev.time;
        this.listener.request(ev, tx, false);
        return;
      }
      if (ev.cseq === tx.cseq) {
        tx.requestCopies++;
        tx.lastTime = ev.time;
        this.stats.requestRetransmissions++;
        this.listener.request(ev, tx, true);
        return;
      }
      // Same branch, new CSeq: a broken client reusing branches; treat as a new transaction.
      this.close(tx, tx.final === undefined ? 'timeout' : 'completed');
    }
    if (ev.method === 'ACK') {
      // ACK for a 2xx (or for a transaction we never saw): no response follows, nothing to track.
      this.listener.request(ev, undefined, false);
      return;
    }
    if (this.open.size >= TRACK_MAX_TRANSACTIONS) {
      const oldest = this.open.oldest() as Transaction;
      if (srcFreq <= this.sources.estimate(oldest.request.frame.srcIp)) {
        this.stats.rejections++;
        this.listener.request(ev, undefined, false);
        return;
      }
      this.stats.evictions++;
      this.close(oldest, 'evicted');
    }
    const created: Transaction = {
      key,
      method,
      callId: ev.callId,
      cseq: ev.cseq,
      request: ev,
      firstTime: ev.time,
      lastTime: ev.time,
      requestCopies: 1,
      statuses: NO_STATUSES,
      final: undefined,
      provisional: undefined,
      closed: false,
    };
    this.open.set(key, created);
    this.stats.transactions++;
    this.listener.request(ev, created, false);
  }

  private addResponse(ev: SipEvent): void {
    const tx = this.open.get(transactionKey(ev, ev.method));
    if (tx === undefined) {
      this.stats.orphanResponses++;
      this.listener.response(ev, undefined, false);
      return;
    }
    tx.lastTime = ev.time;
    const seen = tx.statuses.includes(ev.status);
    if (!seen && tx.statuses.length < TRACK_MAX_RESPONSES_PER_TRANSACTION)
      tx.statuses = tx.statuses.length === 0 ? [ev.status] : [...tx.statuses, ev.status];
    if (ev.status >= 200) {
      if (tx.final !== undefined) {
        // A second final: a retransmission when the same status, a forked 2xx otherwise.
        const retransmission = tx.final.status === ev.status;
        if (retransmission) this.stats.responseRetransmissions++;
        else if (isSlimmed(tx)) {
          // Another final to a non-INVITE request already answered (no fork can give one: a
          // forged or broken answer): handed on without the slimmed transaction, as an orphan.
          this.stats.extraFinals++;
          this.listener.response(ev, undefined, false);
          return;
        }
        this.listener.response(ev, tx, retransmission);
        return;
      }
      tx.final = ev;
    } else {
      const retransmission = seen && tx.provisional !== undefined && tx.provisional.status === ev.status;
      if (retransmission) this.stats.responseRetransmissions++;
      tx.provisional = isSlimmed(tx) ? slimmed(ev) : ev;
      this.listener.response(ev, tx, retransmission);
      return;
    }
    this.listener.response(ev, tx, false);
    if (isSlimmed(tx)) {
      tx.request = slimmed(tx.request);
      tx.final = slimmed(ev);
      if (tx.provisional !== undefined) tx.provisional = slimmed(tx.provisional);
    }
  }

  private close(tx: Transaction, reason: 'completed' | 'timeout' | 'evicted'): void {
    if (tx.closed) return;
    tx.closed = true;
    this.open.delete(tx.key);
    if (reason === 'timeout') this.stats.timeouts++;
    this.listener.closed(tx, reason);
  }
}

/**
 * True for a transaction whose events are (or, while its first final answer is handed out, are
 * about to be) slimmed: a non-INVITE one with a final answer (see `Transaction`).
 */
export function isSlimmed(tx: Transaction): boolean {
  return tx.final !== undefined && tx.method !== 'INVITE';
}

/** The statuses of a transaction not answered yet (shared: statuses are replaced, never pushed). */
const NO_STATUSES: readonly number[] = [];

/** The message of a slimmed event: nothing to read (see `Transaction`). */
const NO_MESSAGE = parseSipMessage(Buffer.alloc(0));
const NO_BYTES = Buffer.alloc(0);

/** `ev` without its message and bytes, its event fields kept (see `Transaction`). */
function slimmed(ev: SipEvent): SipEvent {
  return {
    time: ev.time,
    frame: frameWithData(ev.frame, NO_BYTES),
    msg: NO_MESSAGE,
    isRequest: ev.isRequest,
    method: ev.method,
    status: ev.status,
    callId: ev.callId,
    cseq: ev.cseq,
    branch: ev.branch,
    sentBy: ev.sentBy,
    fromTag: ev.fromTag,
    toTag: ev.toTag,
  };
}

/**
 * The transaction key: RFC 3261 branch + sent-by + method; for RFC 2543 peers (no magic cookie),
 * Call-ID + CSeq number + From tag + sent-by + method.
 */
export function transactionKey(ev: SipEvent, method: string): string {
  if (ev.branch.startsWith(MAGIC_COOKIE)) return `${ev.branch}\u0000${ev.sentBy}\u0000${method}`;
  return `\u0001${ev.callId}\u0000${ev.cseq}\u0000${ev.fromTag}\u0000${ev.sentBy}\u0000${method}`;
}
