import type { LogEventKind, PbxLogEvent, Provenance } from '../core/records.js';
import type { SipEvent } from '../track/sip-event.js';
import type { Transaction } from '../track/transactions.js';

/**
 * What a request's transaction came to, from the point of view of authentication.
 * - challenged: no credentials, answered 401/407 — the normal first step of the handshake;
 * - stale: credentials answered with a `stale=true` challenge — a nonce refresh, not a failure;
 * - rejected: credentials answered 401/407 again or 403 — a failed password;
 * - accepted: credentials that passed (2xx, or a non-auth answer after routing);
 * - open: no credentials and served anyway (2xx/18x);
 * - forbidden: no credentials, 403;
 * - not-found: 404/604, the user or number does not exist;
 * - failed: any other failure;
 * - unanswered: no final answer before the transaction timed out.
 */
export type AttemptOutcome =
  | 'challenged'
  | 'stale'
  | 'rejected'
  | 'accepted'
  | 'open'
  | 'forbidden'
  | 'not-found'
  | 'failed'
  | 'unanswered';

/**
 * One request and its outcome: what authentication and enumeration rules count. Attempts come from
 * SIP transactions (`origin` 'sip': `tx` and `request` set) or from PBX log lines that report an
 * outcome (`origin` 'log': the line's event in `log`, no message to read).
 */
export interface AuthAttempt {
  /** Event time of the outcome (final answer, or the time-out). */
  readonly time: number;
  readonly origin: 'sip' | 'log';
  readonly tx: Transaction | undefined;
  readonly request: SipEvent | undefined;
  readonly final: SipEvent | undefined;
  readonly log: PbxLogEvent | undefined;
  /** Where the request was seen: capture frame, HEP agent, or log file and line. */
  readonly provenance: Provenance;
  readonly method: string;
  readonly status: number;
  readonly outcome: AttemptOutcome;
  readonly credentials: boolean;
  /** Digest user name of the credentials ('' when none). */
  readonly identity: string;
  readonly realm: string;
  readonly nonce: string;
  /** The user the request aims at: To user for REGISTER, Request-URI user otherwise. */
  readonly extension: string;
  readonly srcIp: string;
  readonly srcPort: number;
  readonly dstIp: string;
  readonly dstPort: number;
  readonly transport: string;
  readonly userAgent: string;
}

const CHALLENGE = new Set([401, 407]);
const NOT_FOUND = new Set([404, 604]);

/** Classifies a transaction that got a final answer (`final`) or timed out (`final` undefined). */
export function classifyAttempt(tx: Transaction, final: SipEvent | undefined, time: number): AuthAttempt {
  const req = tx.request;
  const msg = req.msg;
  const cred = msg.authorization ?? msg.proxyAuthorization;
  const credentials = cred !== undefined && cred.scheme.toLowerCase() === 'digest';
  const status = final?.status ?? 0;
  let outcome: AttemptOutcome;
  if (final === undefined) outcome = 'unanswered';
  else if (credentials) {
    if (CHALLENGE.has(status)) outcome = isStale(final) ? 'stale' : 'rejected';
    else if (status === 403) outcome = 'rejected';
    else if (NOT_FOUND.has(status)) outcome = 'not-found';
    else if (status < 300) outcome = 'accepted';
    else if (tx.method === 'REGISTER' || status === 400 || status >= 500) outcome = 'failed';
    // An INVITE/MESSAGE that passed authentication and then failed downstream (busy, cancelled).
    else outcome = 'accepted';
  } else if (CHALLENGE.has(status)) outcome = 'challenged';
  else if (status === 403) outcome = 'forbidden';
  else if (NOT_FOUND.has(status)) outcome = 'not-found';
  else if (status < 300) outcome = 'open';
  else outcome = 'failed';
  return {
    time,
    origin: 'sip',
    tx,
    request: req,
    final,
    log: undefined,
    provenance: req.frame.provenance,
    method: tx.method,
    status,
    outcome,
    credentials,
    identity: credentials ? (cred?.username ?? '') : '',
    realm: credentials ? (cred?.realm ?? '') : '',
    nonce: credentials ? (cred?.nonce ?? '') : '',
    extension: targetUser(req),
    srcIp: req.frame.srcIp,
    srcPort: req.frame.srcPort,
    dstIp: req.frame.dstIp,
    dstPort: req.frame.dstPort,
    transport: req.frame.transport,
    userAgent: msg.userAgent ?? '',
  };
}

/** Reason phrases with which servers say the nonce, not the password, was the problem. */
const STALE_REASON = /stale|nonce (?:has )?(?:changed|expired)|expired nonce|nonce is (?:stale|expired)/i;

/**
 * A challenge to credentials that only refreshes the nonce: `stale=true` (RFC 2617 §3.2.1), or a
 * reason phrase that says so (e.g. "401 nonce has changed", seen from real registrars that omit the
 * parameter when a user took too long to type the password).
 */
function isStale(final: SipEvent): boolean {
  const challenges = final.status === 407 ? final.msg.proxyAuthenticate : final.msg.wwwAuthenticate;
  for (const c of challenges) if (c.stale === true) return true;
  return STALE_REASON.test(final.msg.reason);
}

/** The user part a request targets: the To user for REGISTER, the Request-URI user otherwise. */
export function targetUser(req: SipEvent): string {
  const msg = req.msg;
  if (req.method === 'REGISTER') return msg.to?.uri?.user ?? '';
  return msg.requestUri?.user ?? msg.to?.uri?.user ?? '';
}

/** An attempt read from a SIP transaction: its request (and transaction) are there to read. */
export type SipAttempt = AuthAttempt & { readonly tx: Transaction; readonly request: SipEvent };

/** True when the attempt came from SIP, so its messages can be read. */
export function isSipAttempt(a: AuthAttempt): a is SipAttempt {
  return a.tx !== undefined && a.request !== undefined;
}

/**
 * What each kind of log event means as a request outcome; undefined: not an attempt. A PBX logs a
 * login to an account that does not exist (Asterisk InvalidAccountID, FreeSWITCH "Can't find user")
 * and a login its ACL refused as failed logins of that source: on the wire they are credentials
 * answered 404/403, which the authentication rules count as rejections too.
 */
const LOG_OUTCOME: Record<LogEventKind, { outcome: AttemptOutcome; credentials: boolean } | undefined> = {
  'auth-failed': { outcome: 'rejected', credentials: true },
  'auth-succeeded': { outcome: 'accepted', credentials: true },
  'unknown-user': { outcome: 'not-found', credentials: true },
  'acl-rejected': { outcome: 'rejected', credentials: true },
  'call-rejected': { outcome: 'not-found', credentials: false },
  'web-login-failed': { outcome: 'rejected', credentials: true },
  blocked: undefined,
};

/** The attempt a PBX log line reports (a failed password, an unknown user...), if it reports one. */
export function attemptFromLog(e: PbxLogEvent): AuthAttempt | undefined {
  const m = LOG_OUTCOME[e.kind];
  if (m === undefined) return undefined;
  const method =
    e.method ?? (e.kind === 'web-login-failed' ? `${(e.service ?? 'web').toUpperCase()}-LOGIN` : 'REGISTER');
  const identity = m.credentials ? (e.identity ?? e.extension ?? '') : '';
  return {
    time: e.time,
    origin: 'log',
    tx: undefined,
    request: undefined,
    final: undefined,
    log: e,
    provenance: e.provenance,
    method,
    status: 0,
    outcome: m.outcome,
    credentials: m.credentials,
    identity,
    realm: '',
    nonce: '',
    extension: e.extension ?? e.identity ?? '',
    srcIp: e.srcIp,
    srcPort: e.srcPort ?? 0,
    dstIp: '',
    dstPort: 0,
    transport: e.transport ?? '',
    userAgent: e.userAgent ?? '',
  };
}
