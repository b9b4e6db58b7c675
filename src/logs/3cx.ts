/**
 * 3CX Phone System log lines (v18 `dd/mm/yyyy hh:mm:ss.mmm|...`, v20 `date|thread|level| [component]
 * text`, or the bare message as the management console shows it).
 *
 * Documented by 3CX ("Analyzing registration", https://www.3cx.com/blog/docs/analyzing-registration/):
 * - `[CM102001] Authentication failed for SipReq: REGISTER ... from(wire); Reason: Credentials don't
 *   match, ...` → auth-failed (an "unknown / not found" reason → unknown-user);
 * - `[CM504001] Ext.100: new contact is registered. Contact(s): [sip:100@1.2.3.4:5060...]` → auth-succeeded;
 * - `[CM504002] Ext.100: a contact is unregistered` → not an event.
 * Not documented publicly (no sample found; matched tolerantly, by wording, see
 * test/fixtures/logs/3cx.log): unknown-extension lines, IP blacklist lines (→ blocked) and web
 * console login failures (→ web-login-failed). The bracketed code and the text after it are what
 * count; the header fields before them are skipped whatever their order.
 */

import type { LogEventKind, PbxLogEvent, Transport } from '../core/records.js';
import { findAddress, transportOf, type HostPort } from './address.js';
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

/** `[CM102001]`, `[CM102001]:`, `[Flow]` — the component/code in front of the text. */
const CODE = /^\[([A-Za-z0-9_.:-]{1,40})\]:?\s{0,4}/;
const REGISTERED = /^Ext\.(\S{1,64}): new contact is registered/;
const UNKNOWN_REASON =
  /not found|unknown (?:user|extension)|does not exist|doesn't exist|no such|not registered in/i;
const UNKNOWN_EXT =
  /(?:unknown|non-?existent|not existing) (?:extension|user)|extension (?:\S{1,64} )?(?:was )?not found/i;
const BLOCK_WORD = /blacklist|blocklist|blocked|banned/i;
const UNBLOCK_WORD = /unblock|removed|whitelist|allowlist|expired|lifted/i;
const IP_WORD = /\bIP(?:v[46])?(?: address)?[:= ]{1,3}/;
const WEB_LOGIN =
  /failed login|login failed|invalid login|failed to log ?in|login attempt failed|authentication failed for user/i;
const WEB_USER = /\buser(?:name)?[:= ]{1,3}'?"?([^'"\s,;]{1,64})/i;

/** Skip the `|`-separated header fields (thread id, level) that sit between the stamp and the message. */
function messageStart(text: string, from: number): number {
  let p = from;
  for (let n = 0; n < 6; n++) {
    while (p < text.length && text.charCodeAt(p) === 32) p++;
    if (text.charCodeAt(p) === 124) {
      p++;
      continue;
    }
    let q = p;
    while (q < text.length && q - p < 40) {
      const c = text.charCodeAt(q);
      if (c === 124 || c === 32 || c === 91) break;
      q++;
    }
    let r = q;
    while (r < text.length && text.charCodeAt(r) === 32) r++;
    if (q > p && text.charCodeAt(r) === 124) {
      p = r + 1;
      continue;
    }
    break;
  }
  while (p < text.length && text.charCodeAt(p) === 32) p++;
  return p;
}

function transportBefore(s: string): Transport | undefined {
  const m = /\b(udp|tcp|tls|wss|ws)[:(]/i.exec(s.slice(0, 80));
  return m === null ? undefined : transportOf(m[1] as string);
}

/** The user in front of the last `@` of `s` (`contact=100@1.2.3.4` → `100`). */
function userBeforeLastAt(s: string): string | undefined {
  const at = s.lastIndexOf('@');
  if (at <= 0) return undefined;
  let i = at;
  while (i > 0 && at - i < 64 && /[A-Za-z0-9_.+*#-]/.test(s[i - 1] as string)) i--;
  return i < at ? s.slice(i, at) : undefined;
}

function sipReqFailure(text: string): LogFinding | undefined {
  const req = text.indexOf('SipReq:');
  const wire = text.indexOf('from(wire', req);
  let addr: HostPort | undefined;
  let transport: Transport | undefined;
  if (wire >= 0) {
    const stop = text.indexOf(';', wire);
    const seg = text.slice(wire + 9, stop < 0 ? Math.min(text.length, wire + 120) : stop);
    addr = findAddress(seg);
    transport = transportBefore(seg);
  }
  const head = text.slice(req + 7, wire < 0 ? text.length : wire);
  if (addr === undefined) {
    // The documented form ends the request summary with `contact-user@ip:port / cseq from(wire)`.
    const at = head.lastIndexOf('@');
    if (at >= 0) addr = findAddress(head, at + 1);
  }
  if (addr === undefined) return undefined;
  const method = /^\s{0,4}([A-Z]{3,16})\b/.exec(head)?.[1];
  const uri = /sips?:[^\s;>]{1,128}/.exec(head)?.[0];
  const extension = (uri !== undefined ? uriUser(uri) : undefined) ?? userBeforeLastAt(head);
  const r = text.indexOf('Reason:');
  const reason = r >= 0 ? text.slice(r + 7).trim() : 'Authentication failed';
  const kind: LogEventKind = UNKNOWN_REASON.test(reason) ? 'unknown-user' : 'auth-failed';
  return {
    kind,
    srcIp: addr.ip,
    srcPort: addr.port,
    transport,
    method,
    extension,
    service: 'SIP',
    detail: reason,
  };
}

function registered(text: string, ext: string): LogFinding | undefined {
  const c = text.indexOf('Contact(s):');
  if (c < 0) return undefined;
  const at = text.indexOf('@', c);
  const addr = findAddress(text, at < 0 ? c + 11 : at + 1);
  if (addr === undefined) return undefined;
  return {
    kind: 'auth-succeeded',
    srcIp: addr.ip,
    srcPort: addr.port,
    transport: transportOf(/;transport=(\w{2,4})/i.exec(text)?.[1] ?? ''),
    method: 'REGISTER',
    extension: ext,
    service: 'SIP',
    detail: 'new contact is registered',
  };
}

function blocked(text: string): LogFinding | undefined {
  if (UNBLOCK_WORD.test(text)) return undefined;
  const ipWord = IP_WORD.exec(text);
  if (ipWord === null) return undefined;
  const addr = findAddress(text, ipWord.index + ipWord[0].length, 2);
  if (addr === undefined) return undefined;
  return { kind: 'blocked', srcIp: addr.ip, service: 'anti-hacking', detail: text };
}

function webLogin(text: string): LogFinding | undefined {
  const ipWord = IP_WORD.exec(text);
  const addr = findAddress(text, ipWord === null ? 0 : ipWord.index + ipWord[0].length);
  if (addr === undefined) return undefined;
  return {
    kind: 'web-login-failed',
    srcIp: addr.ip,
    srcPort: addr.port,
    identity: WEB_USER.exec(text)?.[1],
    service: 'web',
    detail: text,
  };
}

function unknownExtension(text: string): LogFinding | undefined {
  if (text.includes('SipReq:')) {
    const f = sipReqFailure(text);
    return f === undefined ? undefined : { ...f, kind: 'unknown-user' };
  }
  const ipWord = IP_WORD.exec(text);
  const addr = findAddress(text, ipWord === null ? 0 : ipWord.index + ipWord[0].length);
  if (addr === undefined) return undefined;
  const ext = /(?:extension|user)\s{1,3}'?"?([^'"\s,;]{1,64})/i.exec(text)?.[1];
  return {
    kind: 'unknown-user',
    srcIp: addr.ip,
    srcPort: addr.port,
    extension: ext,
    service: 'SIP',
    detail: text,
  };
}

/** Parse one 3CX line; see the module comment. */
function parse3cx(line: string, lineNo: number, ctx: LogParseContext): PbxLogEvent | undefined {
  const prepared = prepareLine(line, ctx);
  const raw = prepared.text;
  const t = parseTimeAt(raw, 0, ctx);
  let text = raw.slice(messageStart(raw, t === undefined ? 0 : t.end));
  let code = '';
  const m = CODE.exec(text);
  if (m !== null) {
    code = m[1] as string;
    text = text.slice(m[0].length);
  }
  let finding: LogFinding | undefined;
  const reg = REGISTERED.exec(text);
  if (code === 'CM102001' || text.startsWith('Authentication failed for SipReq:')) {
    finding = UNKNOWN_EXT.test(text) ? unknownExtension(text) : sipReqFailure(text);
  } else if (reg !== null) {
    finding = registered(text, reg[1] as string);
  } else if (code === 'CM504002' || text.includes('unregistered')) {
    finding = undefined;
  } else {
    // "IP x blocked after failed logins" is a block, so the block wording is tried first.
    if (BLOCK_WORD.test(text)) finding = blocked(text);
    if (finding === undefined && WEB_LOGIN.test(text)) finding = webLogin(text);
    if (finding === undefined && UNKNOWN_EXT.test(text)) finding = unknownExtension(text);
  }
  if (finding === undefined) return undefined;
  return makeEvent('3cx', finding, pickTime(t?.time, prepared.prefixTime, ctx), lineNo, ctx, prepared.hadPri);
}

/** 3CX log line parser. */
export const threecxParser: LogLineParser = { product: '3cx', parse: parse3cx };
