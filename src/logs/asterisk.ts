/**
 * Asterisk log lines (/var/log/asterisk/messages, full, security; syslog or journald wrapped):
 * chan_sip registration failures, chan_iax2 failures, calls to unknown extensions, res_security_log
 * security events, AMI (manager.c) login failures and PJSIP distributor rejections.
 *
 * A message is only recognised at the start of the line's text (after the `LEVEL[pid]` header and
 * the `file.c:line function:` source part), never anywhere in the line: the text after it carries
 * attacker-chosen values (From, Call-ID, extension) that could otherwise forge a second message
 * naming someone else's address.
 */

import { LOGS_MAX_MARKER_OCCURRENCES } from '../config/limits.js';
import type { LogEventKind, PbxLogEvent, Transport } from '../core/records.js';
import { parseHostPort, parseTransportAddress, transportOf } from './address.js';
import {
  makeEvent,
  pickTime,
  prepareLine,
  uriUser,
  type LogFinding,
  type LogLineParser,
  type LogParseContext,
} from './parser.js';
import { parseTimeAt } from './time.js';

/** `[time] LEVEL[pid][C-call]: ` — every part but the level optional; bounded quantifiers only. */
const HEADER =
  /^(?:\[([^\]]{1,40})\]:?\s{1,4})?(?:NOTICE|WARNING|SECURITY|ERROR|VERBOSE|DEBUG|DTMF)\s?\[\d{1,10}\](?:\[C-[0-9A-Fa-f]{1,16}\])?:?\s{1,4}/;

const IAX_HOST = /^Host (\S{1,64}) failed (?:to authenticate as|MD5 authentication for) '([^']{0,256})'/;
const IAX_NOREG = /^No registration for peer '([^']{0,256})' \(from ([^)\s]{1,64})\)/;
const AMI_FAIL =
  /^(\S{1,64}) (failed to authenticate as|tried to authenticate with nonexistent user) '([^']{0,256})'/;

/** chan_sip `Registration from ... failed ... - <reason>` → our kind (unlisted reasons: auth-failed). */
const REGISTRATION_REASONS: readonly (readonly [string, LogEventKind])[] = [
  ['Wrong password', 'auth-failed'],
  ['Username/auth name mismatch', 'auth-failed'],
  ['No matching peer found', 'unknown-user'],
  ['Device does not match ACL', 'acl-rejected'],
  ['Peer is not supposed to register', 'acl-rejected'],
  ['ACL error', 'acl-rejected'],
  ['Not a local domain', 'acl-rejected'],
];

/** PJSIP distributor reasons → our kind; other reasons are not reported. */
const PJSIP_REASONS: readonly (readonly [string, LogEventKind])[] = [
  ['No matching endpoint found', 'unknown-user'],
  ['Not match Endpoint ACL', 'acl-rejected'],
  ['Not match Endpoint Contact ACL', 'acl-rejected'],
  ['Failed to authenticate', 'auth-failed'],
  ['Error to authenticate', 'auth-failed'],
];

/**
 * res_security_log events → our kind (ChallengeSent is the normal first step of digest auth and
 * is not reported; unlisted events are not reported either).
 */
const SECURITY_EVENTS: Readonly<Record<string, LogEventKind>> = {
  InvalidAccountID: 'unknown-user',
  InvalidPassword: 'auth-failed',
  ChallengeResponseFailed: 'auth-failed',
  FailedACL: 'acl-rejected',
  SuccessfulAuth: 'auth-succeeded',
};

function serviceOfFile(file: string): string | undefined {
  if (file.startsWith('chan_sip')) return 'SIP';
  if (file.startsWith('chan_iax2')) return 'IAX2';
  if (file.startsWith('manager')) return 'AMI';
  if (file.includes('pjsip')) return 'PJSIP';
  return undefined;
}

/** Index after the next `: ` at or after `from` within `span` chars, with no quote or bracket before it. */
function afterColonSpace(s: string, from: number, span: number): number {
  const stop = Math.min(s.length - 1, from + span);
  for (let i = from; i < stop; i++) {
    const c = s.charCodeAt(i);
    if (c === 39 || c === 34 || c === 40 || c === 61) return -1;
    if (c === 58 && s.charCodeAt(i + 1) === 32) {
      let j = i + 1;
      while (j < s.length && s.charCodeAt(j) === 32) j++;
      return j;
    }
  }
  return -1;
}

function pick(
  reasons: readonly (readonly [string, LogEventKind])[],
  reason: string,
): LogEventKind | undefined {
  for (const [text, kind] of reasons) if (reason.startsWith(text)) return kind;
  return undefined;
}

/** Value of `,Key="...` (first occurrence) up to the next quote. */
function kvFirst(body: string, key: string): string | undefined {
  const marker = `,${key}="`;
  const i = body.indexOf(marker);
  if (i < 0) return undefined;
  const start = i + marker.length;
  const end = body.indexOf('"', start);
  return end < 0 ? undefined : body.slice(start, end);
}

/**
 * The RemoteAddress of a security event. The SessionID before it is the caller's Call-ID and may
 * contain `",RemoteAddress="…` itself; like fail2ban we take the last occurrence whose closing
 * quote ends the line or starts the next `,Key="` field.
 */
function remoteAddress(body: string): { ip: string; port?: number; transport?: Transport } | undefined {
  const marker = ',RemoteAddress="';
  let found: { ip: string; port?: number; transport?: Transport } | undefined;
  let from = 0;
  for (let n = 0; n < LOGS_MAX_MARKER_OCCURRENCES; n++) {
    const i = body.indexOf(marker, from);
    if (i < 0) break;
    from = i + marker.length;
    const end = body.indexOf('"', from);
    if (end < 0) break;
    const next = body.charCodeAt(end + 1);
    const closes =
      end + 1 === body.length || (next === 44 && /^,\w{1,40}="/.test(body.slice(end + 1, end + 44)));
    if (!closes) continue;
    const parts = body.slice(from, end).split('/');
    if (parts.length !== 4 || !(parts[0] === 'IPV4' || parts[0] === 'IPV6')) continue;
    const hp = parseHostPort(parts[2] as string);
    if (hp === undefined) continue;
    const port = Number(parts[3]);
    const transport = transportOf(parts[1] as string);
    found = {
      ip: hp.ip,
      ...(Number.isInteger(port) && port >= 0 && port <= 65535 ? { port } : {}),
      ...(transport !== undefined ? { transport } : {}),
    };
  }
  return found;
}

function securityEvent(body: string): LogFinding | undefined {
  const nameEnd = body.indexOf('"', 15);
  if (nameEnd < 0) return undefined;
  const name = body.slice(15, nameEnd);
  let kind = SECURITY_EVENTS[name];
  if (kind === undefined) return undefined;
  const addr = remoteAddress(body);
  if (addr === undefined) return undefined;
  const service = kvFirst(body, 'Service');
  const account = kvFirst(body, 'AccountID');
  // A refused AMI login is a manager-interface login failure, not a SIP one.
  if (service === 'AMI' && (kind === 'auth-failed' || kind === 'unknown-user')) kind = 'web-login-failed';
  return {
    kind,
    srcIp: addr.ip,
    srcPort: addr.port,
    transport: addr.transport,
    service,
    identity: account === '<unknown>' ? undefined : account,
    detail: `SecurityEvent ${name}`,
  };
}

function registration(body: string, service: string | undefined): LogFinding | undefined {
  const marker = "' failed for '";
  let from = 19;
  for (let n = 0; n < LOGS_MAX_MARKER_OCCURRENCES; n++) {
    const i = body.indexOf(marker, from);
    if (i < 0) return undefined;
    from = i + marker.length;
    const close = body.indexOf("' - ", from);
    if (close < 0 || close - from > 64) continue;
    const hp = parseHostPort(body.slice(from, close));
    if (hp === undefined) continue;
    const reason = body.slice(close + 4);
    return {
      kind: pick(REGISTRATION_REASONS, reason) ?? 'auth-failed',
      srcIp: hp.ip,
      srcPort: hp.port,
      method: 'REGISTER',
      identity: uriUser(body.slice(19, i)),
      service: service ?? 'SIP',
      detail: reason,
    };
  }
  return undefined;
}

const REJECTED = "' rejected because extension not found in context '";

function callRejected(body: string, service: string | undefined): LogFinding | undefined {
  const toExt = body.indexOf(") to extension '");
  if (toExt < 0) return undefined;
  const open = body.lastIndexOf('(', toExt);
  if (open < 0) return undefined;
  const addr = parseTransportAddress(body.slice(open + 1, toExt));
  if (addr === undefined) return undefined;
  const extStart = toExt + 16;
  const extEnd = body.indexOf(REJECTED, extStart);
  if (extEnd < 0) return undefined;
  const ctxStart = extEnd + REJECTED.length;
  const ctxEnd = body.indexOf("'", ctxStart);
  const context = ctxEnd < 0 ? body.slice(ctxStart) : body.slice(ctxStart, ctxEnd);
  return {
    kind: 'call-rejected',
    srcIp: addr.ip,
    srcPort: addr.port,
    transport: addr.transport,
    method: 'INVITE',
    extension: body.slice(extStart, extEnd),
    service,
    detail: `extension not found in context '${context}'`,
  };
}

function pjsipRequest(body: string): LogFinding | undefined {
  let i = 8;
  let method: string | undefined;
  if (body.charCodeAt(i) === 39) {
    const end = body.indexOf("' ", i + 1);
    if (end < 0 || end - i > 33) return undefined;
    method = body.slice(i + 1, end);
    i = end + 2;
  }
  if (!body.startsWith("from '", i)) return undefined;
  const fromStart = i + 6;
  const marker = "' failed for '";
  let from = fromStart;
  for (let n = 0; n < LOGS_MAX_MARKER_OCCURRENCES; n++) {
    const at = body.indexOf(marker, from);
    if (at < 0) return undefined;
    from = at + marker.length;
    const close = body.indexOf("' (callid: ", from);
    if (close < 0 || close - from > 64) continue;
    const hp = parseHostPort(body.slice(from, close));
    if (hp === undefined) continue;
    const callidEnd = body.indexOf(')', close + 11);
    if (callidEnd < 0 || !body.startsWith(' - ', callidEnd + 1)) return undefined;
    const reason = body.slice(callidEnd + 4);
    const kind = pick(PJSIP_REASONS, reason);
    if (kind === undefined) return undefined;
    return {
      kind,
      srcIp: hp.ip,
      srcPort: hp.port,
      method,
      identity: uriUser(body.slice(fromStart, at)),
      service: 'PJSIP',
      detail: reason,
    };
  }
  return undefined;
}

function rejectingUnknown(body: string): LogFinding | undefined {
  const start = body.charCodeAt(0) === 34 ? 39 : 38;
  let end = body.indexOf('"', start);
  if (end < 0) end = body.length;
  const hp = parseHostPort(body.slice(start, end).trim());
  if (hp === undefined) return undefined;
  return {
    kind: 'call-rejected',
    srcIp: hp.ip,
    srcPort: hp.port,
    method: 'INVITE',
    service: 'SIP',
    detail: 'Rejecting unknown SIP connection',
  };
}

function hackingAttempt(body: string): LogFinding | undefined {
  const end = body.indexOf("'", 26);
  if (end < 0) return undefined;
  const hp = parseHostPort(body.slice(26, end));
  if (hp === undefined) return undefined;
  return {
    kind: 'auth-failed',
    srcIp: hp.ip,
    srcPort: hp.port,
    service: 'SIP',
    detail: 'hacking attempt detected',
  };
}

function iaxOrAmi(body: string, file: string): LogFinding | undefined {
  let m = IAX_HOST.exec(body);
  if (m !== null) {
    const hp = parseHostPort(m[1] as string);
    if (hp === undefined) return undefined;
    return {
      kind: 'auth-failed',
      srcIp: hp.ip,
      srcPort: hp.port,
      identity: m[2],
      service: 'IAX2',
      detail: body.includes('MD5') ? 'failed MD5 authentication' : 'failed to authenticate',
    };
  }
  m = IAX_NOREG.exec(body);
  if (m !== null) {
    const hp = parseHostPort(m[2] as string);
    if (hp === undefined) return undefined;
    return {
      kind: 'unknown-user',
      srcIp: hp.ip,
      srcPort: hp.port,
      identity: m[1],
      service: 'IAX2',
      detail: 'No registration for peer',
    };
  }
  m = AMI_FAIL.exec(body);
  if (m !== null) {
    const hp = parseHostPort(m[1] as string);
    if (hp === undefined) return undefined;
    // Only manager.c writes this shape; another file's line of the same shape is not an AMI login.
    if (file !== '' && !file.startsWith('manager')) return undefined;
    return {
      kind: 'web-login-failed',
      srcIp: hp.ip,
      srcPort: hp.port,
      identity: m[3],
      service: 'AMI',
      detail: m[2] as string,
    };
  }
  return undefined;
}

function findingAt(body: string, file: string): LogFinding | undefined {
  const service = serviceOfFile(file);
  if (body.startsWith('SecurityEvent="')) return securityEvent(body);
  if (body.startsWith("Registration from '")) return registration(body, service);
  if (body.startsWith("Call from '") || body.startsWith('Call (')) return callRejected(body, service);
  if (body.startsWith('Request ')) return pjsipRequest(body);
  if (
    body.startsWith('"Rejecting unknown SIP connection from ') ||
    body.startsWith('Rejecting unknown SIP connection from ')
  ) {
    return rejectingUnknown(body);
  }
  if (body.startsWith("hacking attempt detected '")) return hackingAttempt(body);
  const c = body.charCodeAt(0);
  if (
    c === 72 ||
    c === 78 ||
    (c >= 48 && c <= 57) ||
    c === 91 ||
    (c >= 97 && c <= 102) ||
    (c >= 65 && c <= 70)
  ) {
    return iaxOrAmi(body, file);
  }
  return undefined;
}

/** Parse one Asterisk line; see the module comment for what is recognised. */
function parseAsterisk(line: string, lineNo: number, ctx: LogParseContext): PbxLogEvent | undefined {
  const prepared = prepareLine(line, ctx);
  const text = prepared.text;
  const header = HEADER.exec(text);
  let own: number | undefined;
  let p0 = 0;
  if (header !== null) {
    p0 = header[0].length;
    const stamp = header[1];
    if (stamp !== undefined) {
      const t = parseTimeAt(stamp, 0, ctx);
      own = t !== undefined && t.end === stamp.length ? t.time : NaN;
    }
  } else if (text.charCodeAt(0) === 91) {
    return undefined;
  }
  // Source part: `file.c:`, `file.c:123 func:`, `file.c:123 in func:`, `Ext. s:6 in @ ctx:`; the
  // PJSIP call line puts the endpoint name in front of its message (`anonymous: Call (...)`).
  const p1 = afterColonSpace(text, p0, 160);
  if (p1 < 0) return undefined;
  let file = text.slice(p0, text.indexOf(':', p0));
  if (file.startsWith('Ext. ') || file.includes(' ')) file = '';
  let finding = findingAt(text.slice(p1), file);
  if (finding === undefined) {
    const p2 = afterColonSpace(text, p1, 100);
    if (p2 > 0) finding = findingAt(text.slice(p2), file);
  }
  if (finding === undefined) return undefined;
  return makeEvent(
    'asterisk',
    finding,
    pickTime(own, prepared.prefixTime, ctx),
    lineNo,
    ctx,
    prepared.hadPri,
  );
}

/** Asterisk log line parser. */
export const asteriskParser: LogLineParser = { product: 'asterisk', parse: parseAsterisk };
