import { DETECT_MAX_AUTH_KEYS } from '../../config/limits.js';
import { escapeText } from '../../core/escape.js';
import type { SipMessage } from '../../sip/message.js';
import type { SipEvent } from '../../track/sip-event.js';
import type { RuleModule } from '../rule.js';
import { KeyedWindows, sourceGroup } from '../window.js';

/** Header fields an attacker controls and a PBX stores, logs or shows (CDRs, web console, CRM). */
const FIELDS = [
  'From',
  'To',
  'Contact',
  'User-Agent',
  'Subject',
  'Call-ID',
  'Reason',
  'Referred-By',
  'Refer-To',
];
/** Bytes of a field examined (a longer value is examined up to here). */
const MAX_FIELD_BYTES = 2048;

interface Pattern {
  readonly kind: 'sql' | 'shell' | 'script' | 'format-string';
  readonly re: RegExp;
}

// Patterns that mean code, not names: each needs the syntax of an injection, not just a quote.
// Exported for the test that every word they need is in its payload generator (which checks the
// byte screen below against them).
export const PATTERNS: readonly Pattern[] = [
  { kind: 'sql', re: /'\s*(?:or|and)\s+(?:'[^']*'|\d+)\s*(?:=|like)\s*(?:'[^']*'|\d+)/i },
  { kind: 'sql', re: /\bunion\b[\s/*]+(?:all[\s/*]+)?select\b/i },
  { kind: 'sql', re: /(?:'|\d)\s*;\s*(?:drop|insert|update|delete|select|exec|shutdown)\b/i },
  { kind: 'sql', re: /\b(?:sleep|benchmark|pg_sleep|waitfor\s+delay)\s*\(/i },
  { kind: 'sql', re: /'\s*(?:--|#|\/\*)/ },
  { kind: 'shell', re: /\(\)\s*\{\s*:?\s*;\s*\}\s*;/ },
  { kind: 'shell', re: /\$\([^)]{1,200}\)|`[^`]{1,200}`/ },
  {
    kind: 'shell',
    re: /[;|&]\s*(?:\/bin\/|\/usr\/bin\/)?(?:sh|bash|nc|ncat|wget|curl|cat|rm|chmod|python3?|perl)\b[^;|&]{0,100}(?:\/|\s-)/i,
  },
  {
    kind: 'script',
    re: /<\s*(?:script|img|svg|iframe|body)\b|javascript\s*:|\bon(?:error|load|mouseover)\s*=/i,
  },
  { kind: 'format-string', re: /(?:%[0-9$]*[nsxp]){4,}|%n/ },
];

// Cheap precheck of one field: every pattern needs one of these characters.
const PRECHECK = /['`$<%(){}|&;]/;

interface Hit {
  readonly kind: string;
  readonly field: string;
  readonly sample: string;
}

interface State {
  readonly kinds: Record<string, number>;
  readonly samples: Hit[];
  readonly frames: number[];
}

/** protocol.injection: SQL, shell, script or format-string payloads in headers and URIs. */
export const protocolInjection: RuleModule = {
  meta: {
    id: 'protocol.injection',
    title: 'Injection payload in SIP headers',
    severity: 'high',
    description:
      'A request or response carries SQL, shell, script (XSS) or format-string syntax in a field that PBXs store or ' +
      'display: the Request-URI user, From/To/Contact display names and users, User-Agent, Subject, Call-ID. Such ' +
      'payloads target CDR databases, web consoles and log viewers behind the PBX.',
    falsePositives:
      "Display names with apostrophes (O'Brien) or percent-escapes do not match: a pattern needs the syntax of an " +
      'injection (quote then OR/UNION/comment, command substitution, tags, repeated %n/%s).',
    remediation:
      '3CX: keep it updated and block the source; never expose the management console to the internet. Any PBX: ' +
      'update it and the CDR/CRM/billing tools that read SIP fields, use parameterised queries and output encoding ' +
      'there, and block the source at the edge.',
    references: ['RFC 3261 §26 (security considerations)', 'OWASP Injection'],
    thresholds: {},
    quietMs: 600_000,
  },
  create(ctx) {
    const windows = new KeyedWindows<State>('protocol.injection', DETECT_MAX_AUTH_KEYS, 600_000, () => ({
      kinds: {},
      samples: [],
      frames: [],
    }));
    return {
      onMessage(ev: SipEvent, _tx, retransmission): void {
        if (retransmission) return;
        const hit = findInjection(ev);
        if (hit === undefined) return;
        const group = sourceGroup(ev.frame.srcIp);
        const w = windows.hit(group, ev.time);
        if (w === undefined) return;
        w.data.kinds[hit.kind] = (w.data.kinds[hit.kind] ?? 0) + 1;
        if (w.data.samples.length < 5) w.data.samples.push(hit);
        const frame = ev.frame.provenance.frame;
        if (frame !== undefined && w.data.frames.length < 20) w.data.frames.push(frame);
        ctx.raise({
          key: group,
          time: ev.time,
          firstTime: w.firstTime,
          count: w.count,
          title: `${hit.kind} injection attempt in ${hit.field} from ${ev.frame.srcIp}`,
          source: { ip: ev.frame.srcIp, port: ev.frame.srcPort, transport: ev.frame.transport },
          target: { ip: ev.frame.dstIp, port: ev.frame.dstPort },
          evidence: () => ({
            kinds: { ...w.data.kinds },
            samples: [...w.data.samples],
            frames: [...w.data.frames],
          }),
        });
      },
    };
  },
};

/** The first injection pattern found in the message's attacker-controlled fields, if any. */
export function findInjection(ev: SipEvent): Hit | undefined {
  // Ordinary messages fail the screen (phones' From, To, Contact and User-Agent hold none of the
  // bytes it needs), and it reads the header bytes once instead of decoding nine fields.
  if (!mayHoldInjection(ev.msg)) return undefined;
  return findInjectionInFields(ev);
}

/** `findInjection` without the byte screen: every field decoded and matched (the reference). */
export function findInjectionInFields(ev: SipEvent): Hit | undefined {
  const msg = ev.msg;
  if (ev.isRequest) {
    const h = check('Request-URI', msg.uri);
    if (h !== undefined) return h;
  }
  for (const f of FIELDS) {
    const v = msg.header(f);
    if (v === undefined) continue;
    const h = check(f, v);
    if (h !== undefined) return h;
  }
  return undefined;
}

function check(field: string, raw: string): Hit | undefined {
  const v = raw.length > MAX_FIELD_BYTES ? raw.slice(0, MAX_FIELD_BYTES) : raw;
  if (!PRECHECK.test(v)) return undefined;
  const decoded = v.includes('%') ? percentDecode(v) : v;
  for (const p of PATTERNS) {
    if (p.re.test(decoded) || (decoded !== v && p.kind === 'format-string' && p.re.test(v))) {
      return { kind: p.kind, field, sample: escapeText(decoded, 120) };
    }
  }
  return undefined;
}

function percentDecode(s: string): string {
  return s.replace(/%([0-9a-fA-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
}

// ── The byte screen ──────────────────────────────────────────────────────────────────────────
// A necessary condition for any pattern above to match any examined field, checked on the raw
// header bytes (start line included): every field value is those bytes decoded as UTF-8 with
// folds turned into one space, so what a pattern needs literally (a quote, `$(`, `<script`,
// `; drop`, `union`...) is in the bytes, with more whitespace at most. Where a pattern allows
// `\s`, the screen also skips bytes >= 0x80 (Unicode spaces arrive as multi-byte sequences).
// A `%` anywhere passes: percent-decoding can make any character.

/** What a byte asks of the screen (0: nothing). */
const B_ALWAYS = 1;
const B_PAREN = 2;
const B_LT = 3;
const B_SEMI = 4;
const B_EQUAL = 5;
const B_J = 6;
const B_U = 7;
const B_LF = 8;

const BYTE_CLASS = (() => {
  const t = new Uint8Array(256);
  for (const c of "'`%|&$") t[c.charCodeAt(0)] = B_ALWAYS;
  t[0x28] = B_PAREN;
  t[0x3c] = B_LT;
  t[0x3b] = B_SEMI;
  t[0x3d] = B_EQUAL;
  t[0x4a] = B_J;
  t[0x6a] = B_J;
  t[0x55] = B_U;
  t[0x75] = B_U;
  t[0x0a] = B_LF;
  return t;
})();

/** Words (lower case) the patterns need after `;` (`|` and `&` always pass): SQL after a statement
 * end, commands after a separator (`sh` covers shutdown, `nc` ncat), or `/` for a path. */
const AFTER_SEMI = [
  'sh',
  'bash',
  'nc',
  'wget',
  'curl',
  'cat',
  'rm',
  'chmod',
  'python',
  'perl',
  'drop',
  'insert',
  'update',
  'delete',
  'select',
  'exec',
];
/** Tags after `<`. */
const AFTER_LT = ['script', 'img', 'svg', 'iframe', 'body'];
/** Calls before `(` (pg_sleep ends in sleep, `waitfor delay` in delay). */
const BEFORE_PAREN = ['sleep', 'benchmark', 'delay'];
/** Event handlers before `=`. */
const BEFORE_EQUAL = ['onerror', 'onload', 'onmouseover'];
/** `javascript` after its `j` (the `:` that must follow is not checked). */
const AVASCRIPT = ['avascript'];
/** `union` after its `u`. */
const NION = ['nion'];

/** Lower-case first (or, for BEFORE_*, last) letters of each list: most bytes fail this test. */
function letters(words: readonly string[], last: boolean): Uint8Array {
  const t = new Uint8Array(256);
  for (const w of words) {
    const c = w.charCodeAt(last ? w.length - 1 : 0);
    t[c] = 1;
    if (c >= 0x61 && c <= 0x7a) t[c - 0x20] = 1;
  }
  return t;
}
/** Names (lower case) of the examined fields: a header line starting otherwise is not read. */
const FIELD_NAMES = FIELDS.map((f) => f.toLowerCase());
/** Compact forms of the examined fields (From f, To t, Contact m, Subject s, Call-ID i,
 * Referred-By b, Refer-To r), each followed by `:` or white space on its line. */
const FIELD_COMPACT = letters(['f', 't', 'm', 's', 'i', 'b', 'r'], false);
const FIELD_FIRST = letters(FIELD_NAMES, false);

const SEMI_FIRST = letters(AFTER_SEMI, false);
SEMI_FIRST[0x2f] = 1;
const LT_FIRST = letters(AFTER_LT, false);
const PAREN_LAST = letters(BEFORE_PAREN, true);
const EQUAL_LAST = letters(BEFORE_EQUAL, true);

/** True for bytes a pattern's `\s` may stand for (ASCII white space, or part of a Unicode space). */
function spaceLike(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d) || c >= 0x80;
}

/** True when one of `words` (lower-case letters) is written, in any case, from p on. */
function wordAt(buf: Buffer, p: number, end: number, words: readonly string[]): boolean {
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    const n = w.length;
    if (p + n > end) continue;
    let k = 0;
    while (k < n && (buf[p + k]! | 0x20) === w.charCodeAt(k)) k++;
    if (k === n) return true;
  }
  return false;
}

/** True when one of `words` (lower-case letters) is written, in any case, just before p. */
function wordBefore(buf: Buffer, start: number, p: number, words: readonly string[]): boolean {
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    const n = w.length;
    if (p - n < start) continue;
    let k = 1;
    while (k <= n && (buf[p - k]! | 0x20) === w.charCodeAt(n - k)) k++;
    if (k > n) return true;
  }
  return false;
}

/**
 * False when no examined field of the message can match an injection pattern, read from the
 * header bytes alone; true means "look closer" (`findInjectionInFields` decides).
 */
export function mayHoldInjection(msg: SipMessage): boolean {
  const buf = msg.data;
  const start = msg.start;
  // The header block: the body (SDP) is not examined.
  const end = Math.min(buf.length, msg.length - msg.bodyLength);
  for (let i = start; i < end; i++) {
    const cls = BYTE_CLASS[buf[i]!]!;
    if (cls === 0) continue;
    if (cls === B_LF) {
      // Lines of other fields (Via, Authorization, CSeq...: most of the bytes) are skipped whole.
      let next = i + 1;
      while (next < end && !examinedLine(buf, next, end)) {
        const lf = buf.indexOf(0x0a, next);
        if (lf < 0 || lf >= end) return false;
        next = lf + 1;
      }
      i = next - 1;
    } else if (cls === B_ALWAYS) return true;
    else if (cls === B_SEMI || cls === B_LT) {
      let a = i + 1;
      while (a < end && spaceLike(buf[a]!)) a++;
      if (a === end) continue;
      if (cls === B_SEMI) {
        if (SEMI_FIRST[buf[a]!] === 1 && (buf[a] === 0x2f || wordAt(buf, a, end, AFTER_SEMI))) return true;
      } else if (LT_FIRST[buf[a]!] === 1 && wordAt(buf, a, end, AFTER_LT)) return true;
    } else if (cls === B_EQUAL || cls === B_PAREN) {
      if (cls === B_PAREN && i + 1 < end && buf[i + 1] === 0x29) return true;
      let b = i;
      while (b > start && spaceLike(buf[b - 1]!)) b--;
      if (b === start) continue;
      if (cls === B_EQUAL) {
        if (EQUAL_LAST[buf[b - 1]!] === 1 && wordBefore(buf, start, b, BEFORE_EQUAL)) return true;
      } else if (PAREN_LAST[buf[b - 1]!] === 1 && wordBefore(buf, start, b, BEFORE_PAREN)) return true;
    } else if (cls === B_J) {
      if (wordAt(buf, i + 1, end, AVASCRIPT)) return true;
    } else if (i + 1 < end && (buf[i + 1]! | 0x20) === 0x6e && wordAt(buf, i + 1, end, NION)) return true;
  }
  return false;
}

/**
 * False when the line starting at p is a header field the rule does not examine. The parser reads
 * a field's name at the start of its line (a known name or compact form, any case, then `:` or
 * white space); a line starting with white space continues the field above and is read.
 */
function examinedLine(buf: Buffer, p: number, end: number): boolean {
  const c = buf[p]!;
  if (c === 0x20 || c === 0x09 || c === 0x0d) return true;
  if (p + 1 < end && FIELD_COMPACT[c] === 1) {
    const after = buf[p + 1];
    if (after === 0x3a || after === 0x20 || after === 0x09) return true;
  }
  return FIELD_FIRST[c] === 1 && wordAt(buf, p, end, FIELD_NAMES);
}
