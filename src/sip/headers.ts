/**
 * SIP header names (canonical names, compact forms, which fields are comma lists or single-valued)
 * and the byte-level lexical helpers every SIP grammar module shares (RFC 3261 section 25.1).
 * Everything here works on Buffer ranges [start, end) and allocates only the strings it returns.
 */
import { SIP_MAX_PARAMS } from '../config/limits.js';
import type { Anomaly } from '../core/records.js';

// ── byte classes ────────────────────────────────────────────────────────────────────────────────

/** RFC 3261 `token` character. */
export const C_TOKEN = 1;
/** SP, HTAB, CR, LF: inside an indexed header value a CR or LF can only be part of folding. */
export const C_WS = 2;
/** `unreserved` = alphanum / mark. */
export const C_UNRESERVED = 4;
/** Characters of a SIP URI user part (besides escapes). */
export const C_USER = 8;
/** Characters of a SIP URI password (besides escapes). */
export const C_PASSWORD = 16;
/** Characters of a SIP URI parameter name or value (besides escapes). */
export const C_PARAM = 32;
/** Characters of a SIP URI header name or value (besides escapes). */
export const C_HEADER = 64;
/** Characters of a hostname or IPv4 address. */
export const C_HOST = 128;
/** Hexadecimal digit. */
export const C_HEX = 256;
/** Decimal digit. */
export const C_DIGIT = 512;
/** `;` and `=`: separators between SIP URI parameters. */
export const C_PARAM_SEP = 1024;
/** `&` and `=`: separators between SIP URI headers. */
export const C_HEADER_SEP = 2048;

/** Class bits of each byte value (see the C_* constants). */
export const CHAR: Uint16Array = buildCharTable();

function buildCharTable(): Uint16Array {
  const t = new Uint16Array(256);
  const add = (chars: string, bits: number): void => {
    for (let i = 0; i < chars.length; i++) t[chars.charCodeAt(i)]! |= bits;
  };
  let alnum = '';
  for (let c = 0x30; c <= 0x39; c++) alnum += String.fromCharCode(c);
  for (let c = 0x41; c <= 0x5a; c++) alnum += String.fromCharCode(c, c + 0x20);
  const mark = "-_.!~*'()";
  add(alnum, C_TOKEN | C_UNRESERVED | C_USER | C_PASSWORD | C_PARAM | C_HEADER | C_HOST);
  add("-.!%*_+`'~", C_TOKEN);
  add(mark, C_UNRESERVED | C_USER | C_PASSWORD | C_PARAM | C_HEADER);
  add('&=+$,;?/', C_USER);
  add('&=+$,', C_PASSWORD);
  add('[]/:&+$', C_PARAM);
  add('[]/?:+$', C_HEADER);
  add('-.', C_HOST);
  add(' \t\r\n', C_WS);
  add('0123456789abcdefABCDEF', C_HEX);
  add('0123456789', C_DIGIT);
  add(';=', C_PARAM_SEP);
  add('&=', C_HEADER_SEP);
  return t;
}

/** Byte value of SP. */
export const SP = 0x20;
/** Byte value of HTAB. */
export const HTAB = 0x09;
/** Byte value of CR. */
export const CR = 0x0d;
/** Byte value of LF. */
export const LF = 0x0a;
/** Byte value of ':'. */
export const COLON = 0x3a;
/** Byte value of ';'. */
export const SEMI = 0x3b;
/** Byte value of ','. */
export const COMMA = 0x2c;
/** Byte value of '"'. */
export const DQUOTE = 0x22;
/** Byte value of '\\'. */
export const BACKSLASH = 0x5c;
/** Byte value of '<'. */
export const LAQUOT = 0x3c;
/** Byte value of '>'. */
export const RAQUOT = 0x3e;
/** Byte value of '='. */
export const EQUAL = 0x3d;
/** Byte value of '/'. */
export const SLASH = 0x2f;
/** Byte value of '%'. */
export const PERCENT = 0x25;
/** Byte value of '@'. */
export const AT = 0x40;
/** Byte value of '?'. */
export const QMARK = 0x3f;
/** Byte value of '['. */
export const LBRACKET = 0x5b;
/** Byte value of ']'. */
export const RBRACKET = 0x5d;

/** True for an RFC 3261 token character. */
export function isTokenChar(c: number): boolean {
  return (CHAR[c]! & C_TOKEN) !== 0;
}

/** First index in [p, e) that is not SP/HTAB/CR/LF (e when none). */
export function skipLws(buf: Buffer, p: number, e: number): number {
  while (p < e && (CHAR[buf[p]!]! & C_WS) !== 0) p++;
  return p;
}

/** End of [s, e) with trailing SP/HTAB/CR/LF removed. */
export function trimLwsEnd(buf: Buffer, s: number, e: number): number {
  while (e > s && (CHAR[buf[e - 1]!]! & C_WS) !== 0) e--;
  return e;
}

/** End of the token starting at p (p itself when none). */
export function scanToken(buf: Buffer, p: number, e: number): number {
  while (p < e && (CHAR[buf[p]!]! & C_TOKEN) !== 0) p++;
  return p;
}

/**
 * Given p at an opening DQUOTE, the index just past the closing one, honouring quoted-pairs;
 * -1 when the string is not terminated before e.
 */
export function scanQuoted(buf: Buffer, p: number, e: number): number {
  p++;
  while (p < e) {
    const c = buf[p]!;
    if (c === DQUOTE) return p + 1;
    p += c === BACKSLASH ? 2 : 1;
  }
  return -1;
}

/** True when [s, e) holds a byte that is not 7-bit printable ASCII (so the fast paths do not apply). */
function hasSpecial(buf: Buffer, s: number, e: number): boolean {
  for (let i = s; i < e; i++) {
    const c = buf[i]!;
    if (c === CR || c === LF) return true;
  }
  return false;
}

interface FastSlices {
  utf8Slice(start: number, end: number): string;
}
const HAS_UTF8_SLICE = typeof (Buffer.prototype as unknown as Partial<FastSlices>).utf8Slice === 'function';

/** Bytes [s, e) as UTF-8 text, verbatim. */
export function text(buf: Buffer, s: number, e: number): string {
  if (e <= s) return '';
  // utf8Slice skips toString's argument normalisation: ~15% per call (bench/parser.ts).
  return HAS_UTF8_SLICE ? (buf as unknown as FastSlices).utf8Slice(s, e) : buf.toString('utf8', s, e);
}

/**
 * Header value bytes [s, e) as text with folding undone: every run of LWS that contains a line
 * break becomes one SP (RFC 3261 section 7.3.1).
 */
export function unfoldText(buf: Buffer, s: number, e: number): string {
  if (!hasSpecial(buf, s, e)) return text(buf, s, e);
  let out = '';
  let runStart = s;
  let i = s;
  while (i < e) {
    const c = buf[i]!;
    if (c === CR || c === LF) {
      let a = i;
      while (a > runStart && (buf[a - 1] === SP || buf[a - 1] === HTAB)) a--;
      out += text(buf, runStart, a);
      let b = i;
      while (b < e && (CHAR[buf[b]!]! & C_WS) !== 0) b++;
      out += ' ';
      i = b;
      runStart = b;
    } else i++;
  }
  return out + text(buf, runStart, e);
}

/**
 * Content of the quoted-string starting at s (an opening DQUOTE) and ending before e, unescaped;
 * an unterminated string runs to e.
 */
export function unquote(buf: Buffer, s: number, e: number): string {
  // One pass for the usual string: it ends at the first DQUOTE when no backslash or line break
  // comes before it (the same end scanQuoted finds), or at e when unterminated.
  let i = s + 1;
  for (; i < e; i++) {
    const c = buf[i]!;
    if (c === DQUOTE) return text(buf, s + 1, i);
    if (c === BACKSLASH || c === CR || c === LF) break;
  }
  if (i >= e) return text(buf, s + 1, e);
  let a = s + 1;
  const q = scanQuoted(buf, s, e);
  const b = q < 0 ? e : q - 1;
  const bytes: number[] = [];
  while (a < b) {
    let c = buf[a]!;
    if (c === BACKSLASH && a + 1 < b) {
      a++;
      c = buf[a]!;
    } else if (c === CR || c === LF) {
      // Folding inside a quoted string is LWS: one SP.
      while (a < b && (CHAR[buf[a]!]! & C_WS) !== 0) a++;
      while (bytes.length > 0 && (bytes[bytes.length - 1] === SP || bytes[bytes.length - 1] === HTAB))
        bytes.pop();
      bytes.push(SP);
      continue;
    }
    bytes.push(c);
    a++;
  }
  return Buffer.from(bytes).toString('utf8');
}

/** Value of the quoted-string or plain token [s, e): quotes removed and escapes resolved. */
export function tokenOrQuoted(buf: Buffer, s: number, e: number): string {
  return e > s && buf[s] === DQUOTE ? unquote(buf, s, e) : text(buf, s, e);
}

/** Marker returned by `parseDecimal` for a range that is empty or holds a non-digit. */
export const NOT_A_NUMBER = -1;

/**
 * Decimal digits [s, e) as a number; NOT_A_NUMBER when the range is empty or has a non-digit.
 * Overlong values saturate at 2^53 so callers can compare them with their bound.
 */
export function parseDecimal(buf: Buffer, s: number, e: number): number {
  if (e <= s) return NOT_A_NUMBER;
  let n = 0;
  for (let i = s; i < e; i++) {
    const d = buf[i]! - 0x30;
    if (d < 0 || d > 9) return NOT_A_NUMBER;
    if (n < 1e15) n = n * 10 + d;
    else n = 2 ** 53;
  }
  return n;
}

/** True when [s, e) equals the lower-case ASCII `lower`, ignoring the case of the buffer bytes. */
export function equalsLower(buf: Buffer, s: number, e: number, lower: string): boolean {
  const n = lower.length;
  if (e - s !== n) return false;
  for (let i = 0; i < n; i++) {
    const c = buf[s + i]!;
    const l = c >= 0x41 && c <= 0x5a ? c | 0x20 : c;
    if (l !== lower.charCodeAt(i)) return false;
  }
  return true;
}

/** True when [s, e) starts with the lower-case ASCII `lower`, ignoring case. */
export function startsWithLower(buf: Buffer, s: number, e: number, lower: string): boolean {
  return e - s >= lower.length && equalsLower(buf, s, s + lower.length, lower);
}

/**
 * Splits the comma list [s, e) into elements, respecting quoted strings and <...>, trimming LWS.
 * Element bounds go to `out` as start,end pairs; at most `max` elements are kept. Empty elements
 * are skipped and reported through `issues` as `sip_extraneous_header_separator`. Returns the
 * number of elements found (which may exceed max).
 */
export function splitList(
  buf: Buffer,
  s: number,
  e: number,
  out: number[],
  max: number,
  issues: string[] | null,
): number {
  // Most values hold one element: a native search for a comma avoids walking every byte.
  const comma = buf.indexOf(COMMA, s);
  if (comma < 0 || comma >= e) {
    const a = skipLws(buf, s, e);
    const b = trimLwsEnd(buf, a, e);
    if (a === b) return 0;
    if (max > 0) out.push(a, b);
    return 1;
  }
  let count = 0;
  let elemStart = s;
  let angle = false;
  let i = s;
  while (i <= e) {
    const c = i < e ? buf[i]! : COMMA;
    if (c === DQUOTE && !angle) {
      const q = scanQuoted(buf, i, e);
      i = q < 0 ? e : q;
      continue;
    }
    if (c === LAQUOT) angle = true;
    else if (c === RAQUOT) angle = false;
    else if (c === COMMA && (!angle || i === e)) {
      const a = skipLws(buf, elemStart, i);
      const b = trimLwsEnd(buf, a, i);
      if (a < b) {
        if (count < max) out.push(a, b);
        count++;
      } else if (i < e || count > 0 || elemStart > s) {
        if (issues !== null) issues.push('sip_extraneous_header_separator');
      }
      elemStart = i + 1;
      angle = false;
    }
    i++;
  }
  return count;
}

/** Bytes that end an unquoted parameter value: ';' and LWS, plus ',' inside a comma list. */
const STOP_VALUE = new Uint8Array(256);
const STOP_LIST = new Uint8Array(256);
for (const c of [SEMI, SP, HTAB, CR, LF]) STOP_VALUE[c] = STOP_LIST[c] = 1;
STOP_LIST[COMMA] = 1;

/**
 * Offsets of the parameters found by the last `scanParams` call, four per parameter: name start,
 * name end, value start, value end (value start is -1 for a valueless parameter; a quoted value
 * keeps its quotes). Reused by every call: read it before the next one.
 */
export const PARAM_OFFSETS = new Int32Array(SIP_MAX_PARAMS * 4);
/** Index where the last `scanParams` call stopped (e, or the comma that ended the value). */
export let paramScanEnd = 0;

/**
 * Scans `*( SEMI generic-param )` (RFC 3261 section 25.1) from s, up to e or, when `stopAtComma`,
 * up to a comma outside quotes. Offsets go to PARAM_OFFSETS (at most SIP_MAX_PARAMS); returns
 * how many were stored. Problems are reported through `issues`: empty parameters
 * (`sip_extraneous_header_separator`), text that is not a parameter (`sip_bad_param`), an open
 * quoted value (`sip_unterminated_quote`), too many (`sip_too_many_params`).
 */
export function scanParams(
  buf: Buffer,
  s: number,
  e: number,
  stopAtComma: boolean,
  issues: string[] | null,
): number {
  let n = 0;
  let p = s;
  for (;;) {
    p = skipLws(buf, p, e);
    if (p >= e) break;
    let c = buf[p]!;
    if (c === COMMA && stopAtComma) break;
    if (c !== SEMI) {
      if (issues !== null) issues.push('sip_bad_param');
      // Skip to the next separator so one bad byte does not hide the rest.
      while (p < e && buf[p] !== SEMI && !(stopAtComma && buf[p] === COMMA)) p++;
      continue;
    }
    p = skipLws(buf, p + 1, e);
    c = p < e ? buf[p]! : SEMI;
    if (c === SEMI || (c === COMMA && stopAtComma) || p >= e) {
      if (issues !== null) issues.push('sip_extraneous_header_separator');
      continue;
    }
    const ns = p;
    p = scanToken(buf, p, e);
    const ne = p;
    if (ns === ne) {
      if (issues !== null) issues.push('sip_bad_param');
      p++;
      continue;
    }
    let vs = -1;
    let ve = -1;
    let q = skipLws(buf, p, e);
    if (q < e && buf[q] === EQUAL) {
      q = skipLws(buf, q + 1, e);
      vs = q;
      if (q < e && buf[q] === DQUOTE) {
        const end = scanQuoted(buf, q, e);
        if (end < 0) {
          if (issues !== null) issues.push('sip_unterminated_quote');
          q = e;
        } else q = end;
      } else {
        const stop = stopAtComma ? STOP_LIST : STOP_VALUE;
        while (q < e && stop[buf[q]!] === 0) q++;
      }
      ve = q;
      if (vs === ve && issues !== null) issues.push('sip_bad_param');
      p = q;
    }
    if (n < SIP_MAX_PARAMS) {
      const o = n * 4;
      PARAM_OFFSETS[o] = ns;
      PARAM_OFFSETS[o + 1] = ne;
      PARAM_OFFSETS[o + 2] = vs;
      PARAM_OFFSETS[o + 3] = ve;
      n++;
    } else if (issues !== null) issues.push('sip_too_many_params');
  }
  paramScanEnd = p;
  return n;
}

/** Map of the parameters in [s, e) (lower-case names; values unquoted, '' when valueless). */
export function paramMap(buf: Buffer, s: number, e: number): Map<string, string> {
  const map = new Map<string, string>();
  if (s >= e) return map;
  const n = scanParams(buf, s, e, false, null);
  for (let i = 0; i < n; i++) {
    const o = i * 4;
    const name = text(buf, PARAM_OFFSETS[o]!, PARAM_OFFSETS[o + 1]!).toLowerCase();
    const vs = PARAM_OFFSETS[o + 2]!;
    if (!map.has(name)) map.set(name, vs < 0 ? '' : tokenOrQuoted(buf, vs, PARAM_OFFSETS[o + 3]!));
  }
  return map;
}

/** Adds `{ code, detail }` to a message's anomalies unless the same pair is already there. */
export function pushAnomaly(list: Anomaly[], code: string, detail?: string, offset?: number): void {
  for (let i = 0; i < list.length; i++) {
    const a = list[i]!;
    if (a.code === code && a.detail === detail) return;
  }
  const a: { code: string; detail?: string; offset?: number } = { code };
  if (offset !== undefined) a.offset = offset;
  if (detail !== undefined) a.detail = detail;
  list.push(a);
}

// ── header names ────────────────────────────────────────────────────────────────────────────────

/** One known header: canonical name, compact form, and how its values combine. */
export interface HeaderDef {
  readonly name: string;
  readonly compact?: string;
  /** Values are comma-separated lists (RFC 3261 section 7.3.1): `headers()` splits them. */
  readonly list: boolean;
  /** At most one field may appear (a second is anomaly `sip_duplicate_single_header`). */
  readonly single: boolean;
}

// Ids (indexes in HEADER_DEFS) of the headers the parser reads itself; unknown headers have id -1.
/** Header id of Via. */
export const H_VIA = 0;
/** Header id of From. */
export const H_FROM = 1;
/** Header id of To. */
export const H_TO = 2;
/** Header id of Call-ID. */
export const H_CALL_ID = 3;
/** Header id of CSeq. */
export const H_CSEQ = 4;
/** Header id of Contact. */
export const H_CONTACT = 5;
/** Header id of Content-Length. */
export const H_CONTENT_LENGTH = 6;
/** Header id of Content-Type. */
export const H_CONTENT_TYPE = 7;
/** Header id of Max-Forwards. */
export const H_MAX_FORWARDS = 8;
/** Header id of Expires. */
export const H_EXPIRES = 9;
/** Header id of User-Agent. */
export const H_USER_AGENT = 10;
/** Header id of Server. */
export const H_SERVER = 11;
/** Header id of Authorization. */
export const H_AUTHORIZATION = 12;
/** Header id of Proxy-Authorization. */
export const H_PROXY_AUTHORIZATION = 13;
/** Header id of WWW-Authenticate. */
export const H_WWW_AUTHENTICATE = 14;
/** Header id of Proxy-Authenticate. */
export const H_PROXY_AUTHENTICATE = 15;
/** Header id of Route. */
export const H_ROUTE = 16;
/** Header id of Record-Route. */
export const H_RECORD_ROUTE = 17;
/** Header id of Session-Expires. */
export const H_SESSION_EXPIRES = 18;
/** Header id of Supported. */
export const H_SUPPORTED = 19;
/** Header id of Allow. */
export const H_ALLOW = 20;
/** Header id of Date. */
export const H_DATE = 21;
/** Header id of Min-Expires. */
export const H_MIN_EXPIRES = 22;
/** Header id of Retry-After. */
export const H_RETRY_AFTER = 23;
/** Header id of Warning. */
export const H_WARNING = 24;

const L = true;
const S = true;
/** Known headers, indexed by id (the first entries match the H_* constants). */
export const HEADER_DEFS: readonly HeaderDef[] = [
  { name: 'Via', compact: 'v', list: L, single: false },
  { name: 'From', compact: 'f', list: false, single: S },
  { name: 'To', compact: 't', list: false, single: S },
  { name: 'Call-ID', compact: 'i', list: false, single: S },
  { name: 'CSeq', list: false, single: S },
  { name: 'Contact', compact: 'm', list: L, single: false },
  { name: 'Content-Length', compact: 'l', list: false, single: S },
  { name: 'Content-Type', compact: 'c', list: false, single: S },
  { name: 'Max-Forwards', list: false, single: S },
  { name: 'Expires', list: false, single: S },
  { name: 'User-Agent', list: false, single: S },
  { name: 'Server', list: false, single: S },
  // Several Authorization fields are legal (one per realm); their params hold commas, so no split.
  { name: 'Authorization', list: false, single: false },
  { name: 'Proxy-Authorization', list: false, single: false },
  { name: 'WWW-Authenticate', list: false, single: false },
  { name: 'Proxy-Authenticate', list: false, single: false },
  { name: 'Route', list: L, single: false },
  { name: 'Record-Route', list: L, single: false },
  { name: 'Session-Expires', compact: 'x', list: false, single: S },
  { name: 'Supported', compact: 'k', list: L, single: false },
  { name: 'Allow', list: L, single: false },
  { name: 'Date', list: false, single: S },
  { name: 'Min-Expires', list: false, single: S },
  { name: 'Retry-After', list: false, single: S },
  { name: 'Warning', list: L, single: false },
  { name: 'Require', list: L, single: false },
  { name: 'Proxy-Require', list: L, single: false },
  { name: 'Unsupported', list: L, single: false },
  { name: 'Subject', compact: 's', list: false, single: S },
  { name: 'Content-Encoding', compact: 'e', list: L, single: false },
  { name: 'Content-Language', list: L, single: false },
  { name: 'Content-Disposition', list: false, single: S },
  { name: 'Accept', list: L, single: false },
  { name: 'Accept-Encoding', list: L, single: false },
  { name: 'Accept-Language', list: L, single: false },
  { name: 'Allow-Events', compact: 'u', list: L, single: false },
  { name: 'Event', compact: 'o', list: false, single: S },
  { name: 'Refer-To', compact: 'r', list: false, single: S },
  { name: 'Referred-By', compact: 'b', list: false, single: S },
  { name: 'Accept-Contact', compact: 'a', list: L, single: false },
  { name: 'Reject-Contact', compact: 'j', list: L, single: false },
  { name: 'Request-Disposition', compact: 'd', list: L, single: false },
  { name: 'Identity', compact: 'y', list: false, single: S },
  { name: 'Identity-Info', compact: 'n', list: false, single: S },
  { name: 'Reply-To', list: false, single: S },
  { name: 'Organization', list: false, single: S },
  { name: 'Priority', list: false, single: S },
  { name: 'Timestamp', list: false, single: S },
  { name: 'MIME-Version', list: false, single: S },
  { name: 'Alert-Info', list: L, single: false },
  { name: 'Call-Info', list: L, single: false },
  { name: 'Error-Info', list: L, single: false },
  { name: 'In-Reply-To', list: L, single: false },
  { name: 'Path', list: L, single: false },
  { name: 'Service-Route', list: L, single: false },
  { name: 'P-Asserted-Identity', list: L, single: false },
  { name: 'P-Preferred-Identity', list: L, single: false },
  { name: 'Privacy', list: false, single: false },
  { name: 'Reason', list: L, single: false },
  { name: 'RSeq', list: false, single: S },
  { name: 'RAck', list: false, single: S },
  { name: 'Min-SE', list: false, single: S },
  { name: 'Authentication-Info', list: false, single: false },
  { name: 'History-Info', list: L, single: false },
  { name: 'Diversion', list: L, single: false },
  { name: 'Security-Client', list: L, single: false },
  { name: 'Security-Server', list: L, single: false },
  { name: 'Security-Verify', list: L, single: false },
  { name: 'Subscription-State', list: false, single: S },
  { name: 'Replaces', list: false, single: S },
];

// Candidate ids by the lower-cased first byte of the name; each candidate is verified byte by byte
// against NAME_BYTES. `c | 0x20` lower-cases a token byte and cannot turn another token byte into
// a letter, digit or '-', so it compares names case-insensitively.
const BUCKETS: number[][] = Array.from({ length: 128 }, () => []);
const NAME_OFFSETS: number[] = [];
const NAME_LENGTHS: number[] = [];
const NAME_IDS: number[] = [];
const NAME_TO_ID = new Map<string, number>();
let nameText = '';

function addName(lower: string, id: number): void {
  const k = NAME_IDS.length;
  NAME_OFFSETS.push(nameText.length);
  NAME_LENGTHS.push(lower.length);
  NAME_IDS.push(id);
  nameText += lower;
  BUCKETS[lower.charCodeAt(0)]!.push(k);
  NAME_TO_ID.set(lower, id);
}

HEADER_DEFS.forEach((d, id) => {
  addName(d.name.toLowerCase(), id);
  if (d.compact !== undefined) addName(d.compact, id);
  NAME_TO_ID.set(d.name, id);
  if (d.compact !== undefined) NAME_TO_ID.set(d.compact.toUpperCase(), id);
});
const NAME_BYTES = Buffer.from(nameText, 'latin1');

/** Id of the header name [s, e) (token bytes); -1 when unknown. */
export function headerIdFromBytes(buf: Buffer, s: number, e: number): number {
  const first = buf[s]! | 0x20;
  if (first >= 128) return -1;
  const bucket = BUCKETS[first]!;
  const len = e - s;
  for (let i = 0; i < bucket.length; i++) {
    const k = bucket[i]!;
    if (NAME_LENGTHS[k] !== len) continue;
    const base = NAME_OFFSETS[k]! - s;
    let j = s + 1;
    while (j < e && (buf[j]! | 0x20) === NAME_BYTES[base + j]) j++;
    if (j === e) return NAME_IDS[k]!;
  }
  return -1;
}

/**
 * Tries the known names against the bytes at p: a match must be followed by ':', SP or HTAB.
 * Returns `(id + 1) | (length << 8)`, or 0 when no known name is there (the caller then scans
 * the name as a token). Checking candidates directly saves scanning the name twice.
 */
export function knownHeaderAt(buf: Buffer, p: number, end: number): number {
  const first = buf[p]! | 0x20;
  if (first >= 128) return 0;
  const bucket = BUCKETS[first]!;
  for (let i = 0; i < bucket.length; i++) {
    const k = bucket[i]!;
    const len = NAME_LENGTHS[k]!;
    const e = p + len;
    if (e >= end) continue;
    const after = buf[e];
    if (after !== COLON && after !== SP && after !== HTAB) continue;
    const base = NAME_OFFSETS[k]! - p;
    let j = p + 1;
    while (j < e && (buf[j]! | 0x20) === NAME_BYTES[base + j]) j++;
    if (j === e) return (NAME_IDS[k]! + 1) | (len << 8);
  }
  return 0;
}

/** Id of a header name given as text (any case, compact forms too); -1 when unknown. */
export function headerId(name: string): number {
  const id = NAME_TO_ID.get(name);
  if (id !== undefined) return id;
  return NAME_TO_ID.get(name.toLowerCase()) ?? -1;
}

/** Canonical spelling of a header name (`i` → `Call-ID`, `via` → `Via`); unknown names unchanged. */
export function canonicalHeaderName(name: string): string {
  const id = headerId(name);
  return id < 0 ? name : HEADER_DEFS[id]!.name;
}

/** 1 for the ids of headers that may appear once (HEADER_DEFS[id].single), for fast checks. */
export const SINGLE_HEADER: Uint8Array = Uint8Array.from(HEADER_DEFS, (d) => (d.single ? 1 : 0));

/** True when the header's values are comma-separated lists. */
export function isListHeader(id: number): boolean {
  return id >= 0 && HEADER_DEFS[id]!.list;
}
