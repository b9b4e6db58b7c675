/**
 * Kamailio log lines (syslog/journald `kamailio[pid]: LEVEL: module [file:line]: func(): text`,
 * or stderr ` 9(29) LEVEL: ...`):
 * - pike: `PIKE - BLOCKing ip X, node=...` → blocked;
 * - the sipwarden xlog line (defined here and in test/fixtures/logs/kamailio-xlog.md):
 *   `sipwarden: <kind> src=<ip> sport=<port> proto=<proto> method=<method> user=<from user>
 *   authuser=<digest user> ext=<target user> ua="<user agent>"`, where `<kind>` is any
 *   LogEventKind and only `src` is required (`src=1.2.3.4:5060` and `src=[2001:db8::1]:5060` are
 *   accepted too; a bare IPv6 `src` never carries a port, use `sport`);
 * - auth_db `no result for user '...'` (debug level) → unknown-user, only when the configured
 *   `log_prefix` carries `src=$si` (Kamailio's own auth messages name no source address).
 */

import type { LogEventKind, PbxLogEvent, Transport } from '../core/records.js';
import { parseHostPort, transportOf, type HostPort } from './address.js';
import {
  makeEvent,
  pickTime,
  prepareLine,
  type LogFinding,
  type LogLineParser,
  type LogParseContext,
} from './parser.js';

/**
 * Optional stderr `N(pid)`, optional `{log_prefix}`, optional level, optional `{log_prefix}` (Kamailio
 * 5.6 writes it after the level: ` 1(15903) WARNING: {1 2 REGISTER 1457794291} <script>: ...`),
 * optional module with
 * `[file:line]`, optional `func():`. Every part is bounded, so matching is linear and short.
 */
const HEADER =
  /^\s{0,4}(?:\d{1,3}\(\d{1,10}\)\s{1,4})?(?:\{([^{}]{0,256})\}\s{0,4})?(?:(?:EMERGENCY|ALERT|CRITICAL|CRIT|ERROR|WARNING|NOTICE|INFO|DEBUG|BUG|L_[A-Z]{1,8}):\s{1,4})?(?:\{([^{}]{0,256})\}\s{0,4})?(?:(?!sipwarden:)(?:<[\w-]{1,32}>|[\w-]{1,32})\s{0,4}(?:\[[^\]\s]{1,128}\])?:\s{1,4})?(?:\w{1,64}\(\):\s{1,4})?(?:\{([^{}]{0,256})\}\s{0,4})?/;

const PIKE = /^PIKE - BLOCKing ip (\S{1,64}?),? node=/;

const KINDS: ReadonlySet<string> = new Set<LogEventKind>([
  'auth-failed',
  'auth-succeeded',
  'unknown-user',
  'acl-rejected',
  'call-rejected',
  'blocked',
  'web-login-failed',
]);

/** `key=value` pairs of the sipwarden xlog line; the first occurrence of a key wins. */
function keyValues(s: string): Map<string, string> {
  const out = new Map<string, string>();
  let i = 0;
  for (let n = 0; n < 32 && i < s.length; n++) {
    while (i < s.length && s.charCodeAt(i) === 32) i++;
    const eq = s.indexOf('=', i);
    if (eq < 0 || eq - i > 16) break;
    const key = s.slice(i, eq);
    if (!/^[a-z_]{1,16}$/.test(key)) break;
    let v: string;
    if (s.charCodeAt(eq + 1) === 34) {
      // ua is last and attacker-chosen: it runs to the line's last quote, whatever it contains.
      const end = key === 'ua' ? s.lastIndexOf('"') : s.indexOf('"', eq + 2);
      if (end <= eq + 1) {
        v = s.slice(eq + 2);
        i = s.length;
      } else {
        v = s.slice(eq + 2, end);
        i = end + 1;
      }
    } else {
      let end = s.indexOf(' ', eq + 1);
      if (end < 0) end = s.length;
      v = s.slice(eq + 1, end);
      i = end;
    }
    if (!out.has(key)) out.set(key, v);
  }
  return out;
}

function present(v: string | undefined): string | undefined {
  return v === undefined || v === '' || v === '<null>' || v === '-' ? undefined : v;
}

function srcOf(kv: Map<string, string>): HostPort | undefined {
  const src = present(kv.get('src'));
  if (src === undefined) return undefined;
  const hp = parseHostPort(src);
  if (hp === undefined) return undefined;
  const sport = Number(kv.get('sport'));
  if (hp.port === undefined && Number.isInteger(sport) && sport >= 0 && sport <= 65535)
    return { ip: hp.ip, port: sport };
  return hp;
}

function xlogLine(body: string): LogFinding | undefined {
  const sp = body.indexOf(' ', 11);
  const kind = body.slice(11, sp < 0 ? body.length : sp);
  if (!KINDS.has(kind)) return undefined;
  const kv = keyValues(sp < 0 ? '' : body.slice(sp + 1));
  const src = srcOf(kv);
  if (src === undefined) return undefined;
  const proto = present(kv.get('proto'));
  const transport: Transport | undefined = proto === undefined ? undefined : transportOf(proto);
  const reason = present(kv.get('reason'));
  return {
    kind: kind as LogEventKind,
    srcIp: src.ip,
    srcPort: src.port,
    transport,
    method: present(kv.get('method')),
    identity: present(kv.get('authuser')) ?? present(kv.get('user')),
    extension: present(kv.get('ext')),
    userAgent: present(kv.get('ua')),
    service: 'SIP',
    detail: reason === undefined ? `sipwarden ${kind}` : `sipwarden ${kind}: ${reason}`,
  };
}

function pikeLine(body: string): LogFinding | undefined {
  const m = PIKE.exec(body);
  if (m === null) return undefined;
  const hp = parseHostPort(m[1] as string);
  if (hp === undefined) return undefined;
  return { kind: 'blocked', srcIp: hp.ip, service: 'pike', detail: 'PIKE - BLOCKing ip' };
}

function authDbLine(body: string, prefix: string | undefined): LogFinding | undefined {
  if (prefix === undefined) return undefined;
  const kv = keyValues(prefix.slice(Math.max(0, prefix.indexOf('src='))));
  const src = srcOf(kv);
  if (src === undefined) return undefined;
  const end = body.indexOf("'", 20);
  const who = end < 0 ? undefined : body.slice(20, end);
  const at = who === undefined ? -1 : who.lastIndexOf('@');
  return {
    kind: 'unknown-user',
    srcIp: src.ip,
    srcPort: src.port,
    identity: who === undefined ? undefined : at < 0 ? who : who.slice(0, at),
    service: 'auth_db',
    detail: 'no result for user',
  };
}

/** Parse one Kamailio line; see the module comment. */
function parseKamailio(line: string, lineNo: number, ctx: LogParseContext): PbxLogEvent | undefined {
  const prepared = prepareLine(line, ctx);
  const text = prepared.text;
  const header = HEADER.exec(text);
  const at = header === null ? 0 : header[0].length;
  const body = text.slice(at);
  let finding: LogFinding | undefined;
  if (body.startsWith('sipwarden: ')) finding = xlogLine(body);
  else if (body.startsWith('PIKE - BLOCKing ip ')) finding = pikeLine(body);
  else if (body.startsWith("no result for user '"))
    finding = authDbLine(body, header?.[1] ?? header?.[2] ?? header?.[3]);
  if (finding === undefined) return undefined;
  return makeEvent(
    'kamailio',
    finding,
    pickTime(undefined, prepared.prefixTime, ctx),
    lineNo,
    ctx,
    prepared.hadPri,
  );
}

/** Kamailio log line parser. */
export const kamailioParser: LogLineParser = { product: 'kamailio', parse: parseKamailio };
