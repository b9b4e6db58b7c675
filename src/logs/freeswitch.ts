/**
 * FreeSWITCH log lines (freeswitch.log, console, syslog/journald wrapped) from mod_sofia:
 * `SIP auth failure (REGISTER|INVITE) ...` (profile param log-auth-failures=true), `Can't find
 * user [u@d] from X`, `IP X Rejected by register acl` and `IP X Rejected by acl "name"`.
 *
 * Not events: `SIP auth challenge (...)` — the 401/407 every legitimate client receives first
 * (fail2ban's "ddos" mode counts it; sipwarden does not, a challenge is not a failure) — and
 * `Rejected by acl "x". Falling back to Digest auth.`, which only says digest auth follows.
 */

import type { LogEventKind, PbxLogEvent } from '../core/records.js';
import { parseHostPort } from './address.js';
import {
  makeEvent,
  pickTime,
  prepareLine,
  type LogFinding,
  type LogLineParser,
  type LogParseContext,
} from './parser.js';
import { parseTimeAt } from './time.js';

/** After the stamp: optional CPU idle `97.60%`, `[LEVEL]`, optional `[SOFIA]`, `file.c:123` or `[file.c:123]`. */
const HEADER =
  /^\s{0,4}(?:\d{1,3}\.\d{1,2}%\s{1,4})?\[[A-Z]{1,12}\](?:\s\[[A-Z]{1,16}\])?\s\[?[\w.]{1,64}:\d{1,6}\]?\s/;

const AUTH = /^SIP auth (failure|challenge) \(([A-Za-z]{1,32})\) on sofia profile '[^']{0,128}' for \[/;
const ACL = /^IP (\S{1,64}) Rejected by (register )?acl/;

function authLine(body: string): LogFinding | undefined {
  const m = AUTH.exec(body);
  if (m === null || m[1] === 'challenge') return undefined;
  // The address is the last token; the bracketed user before it is the caller's and may hold `]`.
  const at = body.lastIndexOf('] from ip ');
  if (at < m[0].length) return undefined;
  const hp = parseHostPort(body.slice(at + 10).trim());
  if (hp === undefined) return undefined;
  const method = (m[2] as string).toUpperCase();
  const target = body.slice(m[0].length, at);
  const at2 = target.lastIndexOf('@');
  const user = at2 < 0 ? target : target.slice(0, at2);
  return {
    kind: 'auth-failed',
    srcIp: hp.ip,
    srcPort: hp.port,
    method,
    // mod_sofia logs the To user: the account for REGISTER, the dialled number for INVITE.
    ...(method === 'REGISTER' ? { identity: user } : { extension: user }),
    service: 'sofia',
    detail: `SIP auth failure (${method})`,
  };
}

function cantFindUser(body: string): LogFinding | undefined {
  const at = body.lastIndexOf('] from ');
  if (at < 17) return undefined;
  const hp = parseHostPort(body.slice(at + 7).trim());
  if (hp === undefined) return undefined;
  const target = body.slice(17, at);
  const at2 = target.lastIndexOf('@');
  return {
    kind: 'unknown-user',
    srcIp: hp.ip,
    srcPort: hp.port,
    identity: at2 < 0 ? target : target.slice(0, at2),
    service: 'sofia',
    detail: "Can't find user",
  };
}

function aclLine(body: string): LogFinding | undefined {
  const m = ACL.exec(body);
  if (m === null || body.includes('Falling back to Digest auth')) return undefined;
  const hp = parseHostPort(m[1] as string);
  if (hp === undefined) return undefined;
  const register = m[2] !== undefined;
  const kind: LogEventKind = 'acl-rejected';
  return {
    kind,
    srcIp: hp.ip,
    srcPort: hp.port,
    ...(register ? { method: 'REGISTER' } : {}),
    service: 'sofia',
    detail: register ? 'Rejected by register acl' : body.slice(m[0].length - 15),
  };
}

/** Parse one FreeSWITCH line; see the module comment. */
function parseFreeswitch(line: string, lineNo: number, ctx: LogParseContext): PbxLogEvent | undefined {
  const prepared = prepareLine(line, ctx);
  const text = prepared.text;
  const t = parseTimeAt(text, 0, ctx);
  const from = t === undefined ? 0 : t.end;
  const header = HEADER.exec(from === 0 ? text : text.slice(from));
  if (header === null) return undefined;
  const body = text.slice(from + header[0].length);
  let finding: LogFinding | undefined;
  if (body.startsWith('SIP auth ')) finding = authLine(body);
  else if (body.startsWith("Can't find user [")) finding = cantFindUser(body);
  else if (body.startsWith('IP ')) finding = aclLine(body);
  if (finding === undefined) return undefined;
  return makeEvent(
    'freeswitch',
    finding,
    pickTime(t?.time, prepared.prefixTime, ctx),
    lineNo,
    ctx,
    prepared.hadPri,
  );
}

/** FreeSWITCH (mod_sofia) log line parser. */
export const freeswitchParser: LogLineParser = { product: 'freeswitch', parse: parseFreeswitch };
