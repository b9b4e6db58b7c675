/**
 * Line hygiene shared by every PBX log parser: cut to a bound, strip ANSI colour (real ESC bytes
 * and rsyslog's `#033` escaping of them), and peel an optional syslog or journald prefix.
 */

import { LOGS_MAX_LINE_CHARS } from '../config/limits.js';
import { parseTimeAt, type TimeContext } from './time.js';

/** Cut a line to LOGS_MAX_LINE_CHARS: later stages never look further. */
export function cutLine(line: string): string {
  return line.length > LOGS_MAX_LINE_CHARS ? line.slice(0, LOGS_MAX_LINE_CHARS) : line;
}

/** Index past an escape sequence's body starting at `i` (just after ESC), scanning at most 64 chars. */
function skipEscapeBody(s: string, i: number): number {
  const c = s.charCodeAt(i);
  if (c === 91) {
    // CSI: parameters 0x30–0x3F, intermediates 0x20–0x2F, one final byte 0x40–0x7E.
    let j = i + 1;
    const stop = Math.min(s.length, i + 64);
    while (j < stop) {
      const d = s.charCodeAt(j);
      if (d >= 0x40 && d <= 0x7e) return j + 1;
      if (d < 0x20 || d > 0x3f) return j;
      j++;
    }
    return j;
  }
  if (c === 93) {
    // OSC: up to BEL or ESC \.
    let j = i + 1;
    const stop = Math.min(s.length, i + 256);
    while (j < stop) {
      const d = s.charCodeAt(j);
      if (d === 7) return j + 1;
      if (d === 27) return s.charCodeAt(j + 1) === 92 ? j + 2 : j + 1;
      j++;
    }
    return j;
  }
  return i < s.length ? i + 1 : i;
}

/**
 * Remove ANSI escape sequences (ESC bytes, or rsyslog's literal `#033`) and replace other control
 * characters by spaces, so colour codes in Asterisk's console-style logs never break a pattern.
 */
export function stripAnsi(s: string): string {
  let needs = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 32 || c === 127 || (c === 35 && s.startsWith('#033', i))) {
      needs = true;
      break;
    }
  }
  if (!needs) return s;
  let out = '';
  let start = 0;
  let i = 0;
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c === 27) {
      out += s.slice(start, i);
      i = skipEscapeBody(s, i + 1);
      start = i;
    } else if (c === 35 && s.startsWith('#033', i)) {
      out += s.slice(start, i);
      i = skipEscapeBody(s, i + 4);
      start = i;
    } else if (c < 32 || c === 127) {
      out += s.slice(start, i);
      // Trailing CR/LF vanish; a tab or stray control becomes one space.
      if (c !== 13 && c !== 10) out += ' ';
      i++;
      start = i;
    } else {
      i++;
    }
  }
  return out + s.slice(start);
}

/** A line with any syslog / journald prefix removed. */
export interface SyslogSplit {
  /** The application's own text. */
  readonly message: string;
  /** The prefix's time stamp (NaN when present but invalid); undefined when there was no prefix time. */
  readonly prefixTime?: number;
  readonly host?: string;
  /** Tag / APP-NAME without the pid (`asterisk`, `freeswitch`, `kamailio`). */
  readonly program?: string;
  /** Whether the line carried a syslog `<PRI>` header (it came from a syslog receiver). */
  readonly hadPri: boolean;
}

/** `prog:` or `prog[pid]:` — the RFC 3164 TAG (no spaces, no brackets in the name). */
function tagName(token: string): string | undefined {
  if (token.length < 2 || token.length > 100 || token.charCodeAt(token.length - 1) !== 58) return undefined;
  const body = token.slice(0, -1);
  const open = body.indexOf('[');
  const name = open < 0 ? body : body.slice(0, open);
  if (name.length === 0 || name.length > 64 || name.includes(']') || name.includes(':')) return undefined;
  if (open >= 0) {
    if (body.charCodeAt(body.length - 1) !== 93) return undefined;
    const pid = body.slice(open + 1, -1);
    if (pid.length === 0 || pid.length > 32 || pid.includes('[') || pid.includes(']')) return undefined;
  }
  return name;
}

function nextToken(s: string, from: number): { token: string; end: number } | undefined {
  let i = from;
  while (i < s.length && s.charCodeAt(i) === 32) i++;
  if (i >= s.length) return undefined;
  let j = i;
  while (j < s.length && s.charCodeAt(j) !== 32 && j - i < 256) j++;
  return { token: s.slice(i, j), end: j };
}

function skipSpaces(s: string, i: number): number {
  while (i < s.length && s.charCodeAt(i) === 32) i++;
  return i;
}

/** RFC 5424: `<PRI>1 TIMESTAMP HOST APP PROCID MSGID SD [MSG]`, starting at `i` (after `<PRI>`). */
function split5424(s: string, i: number, ctx: TimeContext): SyslogSplit | undefined {
  // VERSION is 1..3 digits then a space.
  let j = i;
  while (j < s.length && j - i < 3 && s.charCodeAt(j) >= 48 && s.charCodeAt(j) <= 57) j++;
  if (j === i || s.charCodeAt(j) !== 32) return undefined;
  const ts = nextToken(s, j + 1);
  if (ts === undefined) return undefined;
  let prefixTime: number | undefined;
  if (ts.token !== '-') {
    const t = parseTimeAt(ts.token, 0, ctx);
    prefixTime = t === undefined || t.end !== ts.token.length ? NaN : t.time;
  }
  const host = nextToken(s, ts.end);
  const app = host === undefined ? undefined : nextToken(s, host.end);
  const procid = app === undefined ? undefined : nextToken(s, app.end);
  const msgid = procid === undefined ? undefined : nextToken(s, procid.end);
  if (host === undefined || app === undefined || procid === undefined || msgid === undefined)
    return undefined;
  let k = skipSpaces(s, msgid.end);
  if (s.charCodeAt(k) === 45) {
    k++;
  } else {
    // One or more SD-ELEMENTs; `\]` inside a quoted PARAM-VALUE does not close the element.
    while (s.charCodeAt(k) === 91) {
      k++;
      let quoted = false;
      while (k < s.length) {
        const c = s.charCodeAt(k);
        if (quoted && c === 92) k += 2;
        else {
          if (c === 34) quoted = !quoted;
          else if (c === 93 && !quoted) break;
          k++;
        }
      }
      k++;
    }
  }
  let message = s.slice(Math.min(k + 1, s.length));
  if (message.charCodeAt(0) === 0xfeff) message = message.slice(1);
  const split: SyslogSplit = {
    message,
    hadPri: true,
    ...(prefixTime !== undefined ? { prefixTime } : {}),
    ...(host.token !== '-' ? { host: host.token } : {}),
    ...(app.token !== '-' ? { program: app.token } : {}),
  };
  return split;
}

/**
 * Peel a syslog prefix: RFC 5424, RFC 3164 (`<PRI>Mmm dd hh:mm:ss host prog[pid]: `), or the
 * PRI-less form of /var/log/syslog and journald exports (`Mmm dd hh:mm:ss host prog[pid]: `, also
 * with an ISO or `YYYY-MM-DD hh:mm:ss.ffffff` stamp). Without `<PRI>`, a prefix is only taken when
 * a time stamp is followed by a host and a `prog[pid]:` tag, so a PBX's own leading time stamp
 * (FreeSWITCH `2013-12-31 17:39:54.767815 [WARNING] ...`) is never mistaken for one.
 */
export function splitSyslog(s: string, ctx: TimeContext): SyslogSplit {
  let i = 0;
  let hadPri = false;
  if (s.charCodeAt(0) === 60) {
    let j = 1;
    while (j < s.length && j <= 4 && s.charCodeAt(j) >= 48 && s.charCodeAt(j) <= 57) j++;
    if (j > 1 && s.charCodeAt(j) === 62) {
      hadPri = true;
      i = j + 1;
      const v5424 = split5424(s, i, ctx);
      if (v5424 !== undefined) return v5424;
    }
  }
  const t = parseTimeAt(s, i, ctx);
  if (t === undefined || s.charCodeAt(t.end) !== 32) {
    return hadPri ? { message: s.slice(i), hadPri } : { message: s, hadPri };
  }
  const first = nextToken(s, t.end);
  if (first === undefined)
    return { message: hadPri ? '' : s, hadPri, ...(hadPri ? { prefixTime: t.time } : {}) };
  const firstTag = tagName(first.token);
  if (firstTag !== undefined) {
    // `Mmm dd hh:mm:ss prog[pid]: msg` (no host, as some devices send).
    return { message: s.slice(skipSpaces(s, first.end)), prefixTime: t.time, program: firstTag, hadPri };
  }
  const second = nextToken(s, first.end);
  const secondTag = second === undefined ? undefined : tagName(second.token);
  if (second !== undefined && secondTag !== undefined) {
    return {
      message: s.slice(skipSpaces(s, second.end)),
      prefixTime: t.time,
      host: first.token,
      program: secondTag,
      hadPri,
    };
  }
  if (hadPri) {
    // RFC 3164 with no TAG: HOSTNAME then free text.
    return { message: s.slice(skipSpaces(s, first.end)), prefixTime: t.time, host: first.token, hadPri };
  }
  return { message: s, hadPri };
}
