import type { SipFrame } from '../core/records.js';
import { parseSdp, type Sdp } from '../sdp/parser.js';
import type { SipMessage } from '../sip/message.js';

/**
 * One parsed SIP message with the fields every tracker and detector keys on, extracted once.
 * Responses carry the CSeq method in `method`.
 */
export interface SipEvent {
  readonly time: number;
  readonly frame: SipFrame;
  readonly msg: SipMessage;
  readonly isRequest: boolean;
  readonly method: string;
  readonly status: number;
  readonly callId: string;
  readonly cseq: number;
  /** Top Via branch ('' when absent). */
  readonly branch: string;
  /** Top Via sent-by, `host:port` ('' when absent). */
  readonly sentBy: string;
  readonly fromTag: string;
  readonly toTag: string;
}

/** Builds the event for a parsed message; undefined when it is not a usable request or response. */
export function toSipEvent(frame: SipFrame, msg: SipMessage): SipEvent | undefined {
  if (msg.kind === 'invalid') return undefined;
  const isRequest = msg.kind === 'request';
  const cseq = msg.cseq;
  const via = msg.vias[0];
  return {
    time: frame.time,
    frame,
    msg,
    isRequest,
    method: isRequest ? msg.method : (cseq?.method ?? ''),
    status: isRequest ? 0 : msg.status,
    callId: msg.callId ?? '',
    cseq: cseq?.seq ?? -1,
    branch: via?.branch ?? '',
    sentBy: via === undefined ? '' : via.sentBy,
    fromTag: msg.from?.tag ?? '',
    toTag: msg.to?.tag ?? '',
  };
}

// The last message whose SDP was parsed, and that SDP: the stages that read a body (the dialog
// table, then the media rules) all read it while that message is being handled, so one slot
// serves them without a WeakMap entry per message for the collector to trace.
let lastMsg: SipMessage | undefined;
let lastSdp: Sdp | undefined;

/**
 * The SDP body of a message, parsed once however many stages read it (the dialog table and the
 * media rules all do); undefined when the message carries none.
 */
export function sdpOf(ev: SipEvent): Sdp | undefined {
  const msg = ev.msg;
  if (msg.bodyLength === 0) return undefined;
  if (msg === lastMsg) return lastSdp;
  if (msg.mediaType !== 'application/sdp') return undefined;
  const sdp = parseSdp(msg.body);
  lastMsg = msg;
  lastSdp = sdp;
  return sdp;
}
