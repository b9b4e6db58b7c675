/**
 * SIP, SIPS and tel URIs (RFC 3261 section 19.1, RFC 3966; IPv6 references per RFC 5118), parsed
 * from a Buffer range. Other schemes are kept raw. Parsing never throws: what breaks the grammar is
 * listed in `issues` as anomaly codes, and what could be read is kept.
 */
import { SIP_MAX_PARAMS } from '../config/limits.js';
import {
  AT,
  CHAR,
  COLON,
  C_DIGIT,
  C_HEADER,
  C_HEADER_SEP,
  C_HEX,
  C_HOST,
  C_PARAM,
  C_PARAM_SEP,
  C_PASSWORD,
  C_USER,
  C_WS,
  LBRACKET,
  PERCENT,
  QMARK,
  RBRACKET,
  SEMI,
  equalsLower,
  text,
} from './headers.js';

/** What the host of a URI is. `none` for schemes without a host (tel, unknown schemes). */
export type HostType = 'hostname' | 'ipv4' | 'ipv6' | 'none';

const EMPTY_MAP: ReadonlyMap<string, string> = new Map();

// Issue bits found by scanUri; `uriIssueCodes` turns them into anomaly codes.
const BAD_URI = 1;
const IPV6_NO_BRACKETS = 2;
const BAD_IPV6 = 4;
const ISSUE_SETS: readonly (readonly string[])[] = buildIssueSets();

function buildIssueSets(): (readonly string[])[] {
  const sets: (readonly string[])[] = [];
  for (let bits = 0; bits < 8; bits++) {
    const codes: string[] = [];
    if ((bits & BAD_URI) !== 0) codes.push('sip_bad_uri');
    if ((bits & IPV6_NO_BRACKETS) !== 0) codes.push('sip_ipv6_reference_without_brackets');
    if ((bits & BAD_IPV6) !== 0) codes.push('sip_bad_ipv6_reference');
    sets.push(Object.freeze(codes));
  }
  return sets;
}

const HOST_TYPES: readonly HostType[] = ['hostname', 'ipv4', 'ipv6', 'none'];
const H_NAME = 0;
const H_V4 = 1;
const H_V6 = 2;
const H_NONE = 3;

/**
 * A parsed URI. Its parts are located by the parse and decoded to strings only when read (then
 * cached); `issues` holds anomaly codes.
 */
export class SipUri {
  /** Lower-case scheme (`sip`, `sips`, `tel`, or any other), '' when there is none. */
  readonly scheme: string;
  readonly port: number | undefined;
  readonly #buf: Buffer;
  readonly #start: number;
  readonly #end: number;
  readonly #userStart: number;
  readonly #userEnd: number;
  readonly #passwordStart: number;
  readonly #hostStart: number;
  readonly #hostEnd: number;
  readonly #hostType: number;
  readonly #paramStart: number;
  readonly #paramEnd: number;
  readonly #headerStart: number;
  readonly #issueBits: number;
  #user: string | undefined | null = null;
  #host: string | undefined = undefined;
  #rawText: string | undefined = undefined;
  #paramMap: ReadonlyMap<string, string> | undefined = undefined;
  #headerMap: ReadonlyMap<string, string> | undefined = undefined;

  constructor(buf: Buffer, start: number, end: number, scheme: string, port: number | undefined) {
    this.#buf = buf;
    this.#start = start;
    this.#end = end;
    this.scheme = scheme;
    this.port = port;
    this.#userStart = scan.userStart;
    this.#userEnd = scan.userEnd;
    this.#passwordStart = scan.passwordStart;
    this.#hostStart = scan.hostStart;
    this.#hostEnd = scan.hostEnd;
    this.#hostType = scan.hostType;
    this.#paramStart = scan.paramStart;
    this.#paramEnd = scan.paramEnd;
    this.#headerStart = scan.headerStart;
    this.#issueBits = scan.issues;
  }

  /** User part with %-escapes decoded (a tel URI's number goes here too); undefined when absent. */
  get user(): string | undefined {
    if (this.#user === null) {
      this.#user = this.#userStart < 0 ? undefined : decodeEscapes(this.#buf, this.#userStart, this.#userEnd);
    }
    return this.#user;
  }

  /** Password with %-escapes decoded (deprecated by RFC 3261, still seen in attacks). */
  get password(): string | undefined {
    return this.#passwordStart < 0
      ? undefined
      : decodeEscapes(this.#buf, this.#passwordStart, this.#hostStart - 1);
  }

  /** Host as written: hostname, IPv4, or IPv6 reference with its brackets (`[2001:db8::1]`); '' when none. */
  get host(): string {
    if (this.#host === undefined) this.#host = text(this.#buf, this.#hostStart, this.#hostEnd);
    return this.#host;
  }

  /** What the host is. */
  get hostType(): HostType {
    return HOST_TYPES[this.#hostType]!;
  }

  /** Anomaly codes for what breaks the grammar (empty when the URI is well formed). */
  get issues(): readonly string[] {
    return ISSUE_SETS[this.#issueBits]!;
  }

  /** The URI exactly as written. */
  get raw(): string {
    if (this.#rawText === undefined) this.#rawText = text(this.#buf, this.#start, this.#end);
    return this.#rawText;
  }

  /** True for sip: and sips: URIs. */
  get isSip(): boolean {
    return this.scheme === 'sip' || this.scheme === 'sips';
  }

  /** Everything after `scheme:` (the whole content of a URI of an unknown scheme). */
  get opaque(): string {
    let colon = this.#start;
    while (colon < this.#end && this.#buf[colon] !== COLON) colon++;
    return colon >= this.#end ? '' : text(this.#buf, colon + 1, this.#end);
  }

  /** URI parameters (`;lr;transport=tcp`): lower-case names, %-decoded values, '' when valueless. */
  get params(): ReadonlyMap<string, string> {
    if (this.#paramMap === undefined) {
      this.#paramMap =
        this.#paramStart >= this.#paramEnd
          ? EMPTY_MAP
          : splitPairs(this.#buf, this.#paramStart, this.#paramEnd, SEMI, true);
    }
    return this.#paramMap;
  }

  /** One URI parameter by (case-insensitive) name. */
  param(name: string): string | undefined {
    return this.params.get(name.toLowerCase());
  }

  /** URI headers (`?Route=...&Subject=...`), %-decoded. */
  get headers(): ReadonlyMap<string, string> {
    if (this.#headerMap === undefined) {
      this.#headerMap =
        this.#headerStart < 0
          ? EMPTY_MAP
          : splitPairs(this.#buf, this.#headerStart + 1, this.#end, 0x26, false);
    }
    return this.#headerMap;
  }

  /** True when the URI carries a `?headers` part. */
  get hasHeaders(): boolean {
    return this.#headerStart >= 0;
  }

  /** Host without IPv6 brackets, ready to compare with a packet address. */
  get hostAddress(): string {
    const h = this.host;
    return this.#hostType === H_V6 && h.charCodeAt(0) === LBRACKET ? h.slice(1, -1) : h;
  }
}

function splitPairs(
  buf: Buffer,
  s: number,
  e: number,
  sep: number,
  lowerNames: boolean,
): Map<string, string> {
  const map = new Map<string, string>();
  let i = s;
  while (i < e && map.size < SIP_MAX_PARAMS) {
    if (buf[i] === sep) {
      i++;
      continue;
    }
    let j = i;
    while (j < e && buf[j] !== sep) j++;
    let eq = i;
    while (eq < j && buf[eq] !== 0x3d) eq++;
    let name = decodeEscapes(buf, i, eq);
    if (lowerNames) name = name.toLowerCase();
    if (!map.has(name)) map.set(name, eq < j ? decodeEscapes(buf, eq + 1, j) : '');
    i = j;
  }
  return map;
}

function hexVal(c: number): number {
  if (c <= 0x39) return c - 0x30;
  return (c | 0x20) - 0x57;
}

/** Bytes [s, e) as text with %HH escapes decoded (as UTF-8); a `%` not followed by two hex digits stays. */
export function decodeEscapes(buf: Buffer, s: number, e: number): string {
  let i = s;
  while (i < e && buf[i] !== PERCENT) i++;
  if (i === e) return text(buf, s, e);
  const bytes = Buffer.allocUnsafe(e - s);
  let n = 0;
  for (i = s; i < e; i++) {
    const c = buf[i]!;
    if (
      c === PERCENT &&
      i + 2 < e &&
      (CHAR[buf[i + 1]!]! & C_HEX) !== 0 &&
      (CHAR[buf[i + 2]!]! & C_HEX) !== 0
    ) {
      bytes[n++] = hexVal(buf[i + 1]!) * 16 + hexVal(buf[i + 2]!);
      i += 2;
    } else bytes[n++] = c;
  }
  return bytes.toString('utf8', 0, n);
}

/** True when [s, e) is a dotted-quad IPv4 address. */
export function isIpv4(buf: Buffer, s: number, e: number): boolean {
  let parts = 0;
  let i = s;
  while (i < e) {
    const start = i;
    let n = 0;
    while (i < e && (CHAR[buf[i]!]! & C_DIGIT) !== 0 && i - start < 4) n = n * 10 + buf[i++]! - 0x30;
    if (i === start || i - start > 3 || n > 255) return false;
    parts++;
    if (i === e) break;
    if (buf[i] !== 0x2e || parts === 4) return false;
    i++;
    if (i === e) return false;
  }
  return parts === 4;
}

/** True when [s, e) is an IPv6 address (RFC 4291 text form, with an optional IPv4 tail). */
export function isIpv6(buf: Buffer, s: number, e: number): boolean {
  let i = s;
  let groups = 0;
  let compressed = false;
  if (e - s >= 2 && buf[s] === COLON && buf[s + 1] === COLON) {
    compressed = true;
    i += 2;
    if (i === e) return true;
  }
  for (;;) {
    const start = i;
    while (i < e && (CHAR[buf[i]!]! & C_HEX) !== 0 && i - start < 5) i++;
    if (i < e && buf[i] === 0x2e) {
      if (!isIpv4(buf, start, e)) return false;
      groups += 2;
      break;
    }
    if (i === start || i - start > 4) return false;
    groups++;
    if (i === e) break;
    if (buf[i] !== COLON) return false;
    i++;
    if (i < e && buf[i] === COLON) {
      if (compressed) return false;
      compressed = true;
      i++;
      if (i === e) break;
    } else if (i === e) return false;
  }
  return compressed ? groups <= 7 : groups === 8;
}

function lowerScheme(buf: Buffer, s: number, e: number): string {
  if (equalsLower(buf, s, e, 'sip')) return 'sip';
  if (equalsLower(buf, s, e, 'sips')) return 'sips';
  if (equalsLower(buf, s, e, 'tel')) return 'tel';
  return text(buf, s, e).toLowerCase();
}

// Byte classes of a hostport, one table lookup per byte (the host loop is the URI check's hot spot).
const HP_INVALID = 0;
const HP_NUMERIC = 1;
const HP_NAME = 2;
const HP_COLON = 3;
const HP_END = 4;
const HOSTPORT = new Uint8Array(256);
for (let c = 0; c < 256; c++) {
  if ((CHAR[c]! & C_DIGIT) !== 0 || c === 0x2e) HOSTPORT[c] = HP_NUMERIC;
  else if ((CHAR[c]! & C_HOST) !== 0) HOSTPORT[c] = HP_NAME;
  else HOSTPORT[c] = HP_INVALID;
}
HOSTPORT[COLON] = HP_COLON;
HOSTPORT[SEMI] = HP_END;
HOSTPORT[QMARK] = HP_END;

/** Where the last scanUri call found each part (-1: absent). Read right after the call. */
const scan = {
  schemeEnd: 0,
  userStart: -1,
  userEnd: -1,
  passwordStart: -1,
  hostStart: 0,
  hostEnd: 0,
  hostType: H_NONE,
  port: -1,
  paramStart: 0,
  paramEnd: 0,
  headerStart: -1,
  issues: 0,
};

const SCHEME_NONE = 0;
const SCHEME_SIP = 1;
const SCHEME_TEL = 2;
const SCHEME_OTHER = 3;

/**
 * Locates the parts of the URI in [s, e) into `scan` and returns the scheme kind; allocates
 * nothing. Grammar problems are left as bits in `scan.issues`.
 */
function scanUri(buf: Buffer, s: number, e: number): number {
  scan.userStart = -1;
  scan.userEnd = -1;
  scan.passwordStart = -1;
  scan.hostStart = e;
  scan.hostEnd = e;
  scan.hostType = H_NONE;
  scan.port = -1;
  scan.paramStart = e;
  scan.paramEnd = e;
  scan.headerStart = -1;
  let issues = 0;
  // scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
  let p = s;
  const c0 = p < e ? buf[p]! | 0x20 : 0;
  if (c0 >= 0x61 && c0 <= 0x7a) {
    p++;
    while (p < e) {
      const c = buf[p]!;
      if ((CHAR[c]! & C_HOST) !== 0 || c === 0x2b) p++;
      else break;
    }
  }
  scan.schemeEnd = p;
  if (p === s || p >= e || buf[p] !== COLON) {
    scan.issues = BAD_URI;
    return SCHEME_NONE;
  }
  const schemeEnd = p;
  p++;
  let kind = SCHEME_OTHER;
  const n = schemeEnd - s;
  if (
    (n === 3 || n === 4) &&
    equalsLower(buf, s, s + 3, 'sip') &&
    (n === 3 || (buf[s + 3]! | 0x20) === 0x73)
  ) {
    kind = SCHEME_SIP;
  } else if (n === 3 && equalsLower(buf, s, schemeEnd, 'tel')) kind = SCHEME_TEL;
  if (kind !== SCHEME_SIP) {
    // tel and other schemes are not validated beyond having no whitespace.
    for (let i = p; i < e; i++) {
      if ((CHAR[buf[i]!]! & C_WS) !== 0) {
        issues |= BAD_URI;
        break;
      }
    }
    if (kind === SCHEME_TEL) {
      let semi = p;
      while (semi < e && buf[semi] !== SEMI) semi++;
      if (semi === p) issues |= BAD_URI;
      scan.userStart = p;
      scan.userEnd = semi;
      scan.paramStart = semi;
    } else if (p === e) issues |= BAD_URI;
    scan.issues = issues;
    return kind;
  }

  // userinfo: neither user nor password may hold a raw '@', so the first one ends it. Every byte
  // of a SIP URI is checked against its part's class below, whitespace included.
  let at = buf.indexOf(AT, p);
  if (at >= e) at = -1;
  let hp = p;
  if (at >= 0) {
    let colon = -1;
    let i = p;
    for (; i < at; i++) {
      const c = buf[i]!;
      if (c === COLON) {
        colon = i;
        break;
      }
      if ((CHAR[c]! & C_USER) === 0 && !escapeAt(buf, i, at)) issues |= BAD_URI;
    }
    if (i === p) issues |= BAD_URI;
    scan.userStart = p;
    scan.userEnd = colon < 0 ? at : colon;
    if (colon >= 0) {
      for (i = colon + 1; i < at; i++) {
        if ((CHAR[buf[i]!]! & C_PASSWORD) === 0 && !escapeAt(buf, i, at)) issues |= BAD_URI;
      }
      scan.passwordStart = colon + 1;
    }
    hp = at + 1;
  }

  // hostport: one pass finds its end (';' or '?'), counts colons and classifies the characters.
  let hpEnd = hp;
  let colons = 0;
  let firstColon = -1;
  let numeric = true;
  let hostChars = true;
  if (hp < e && buf[hp] === LBRACKET) {
    while (hpEnd < e && buf[hpEnd] !== SEMI && buf[hpEnd] !== QMARK) hpEnd++;
  } else {
    for (; hpEnd < e; hpEnd++) {
      const k = HOSTPORT[buf[hpEnd]!]!;
      if (k === HP_NUMERIC) continue;
      if (k === HP_NAME) {
        if (colons === 0) numeric = false;
      } else if (k === HP_END) break;
      else if (k === HP_COLON) {
        if (colons++ === 0) firstColon = hpEnd;
      } else if (colons === 0) hostChars = false;
    }
  }
  let hostEnd = hpEnd;
  let hostType = H_NAME;
  let portStart = -1;
  if (hp < hpEnd && buf[hp] === LBRACKET) {
    let rb = hp + 1;
    while (rb < hpEnd && buf[rb] !== RBRACKET) rb++;
    hostType = H_V6;
    if (rb === hpEnd) issues |= BAD_IPV6;
    else {
      hostEnd = rb + 1;
      if (!isIpv6(buf, hp + 1, rb)) issues |= BAD_IPV6;
      if (rb + 1 < hpEnd) {
        if (buf[rb + 1] === COLON) portStart = rb + 2;
        else issues |= BAD_URI;
      }
    }
  } else if (colons >= 2) {
    // `sip:2001:db8::10`: the port cannot be told from the address (RFC 5118 section 4.2).
    issues |= IPV6_NO_BRACKETS;
    hostType = H_V6;
  } else {
    if (firstColon >= 0) {
      hostEnd = firstColon;
      portStart = firstColon + 1;
    }
    if (hostEnd === hp || !hostChars || buf[hp] === 0x2e || buf[hp] === 0x2d) issues |= BAD_URI;
    else if (numeric) {
      // Digits and dots only: meant as an IPv4 address, so an invalid one is an error.
      if (isIpv4(buf, hp, hostEnd)) hostType = H_V4;
      else issues |= BAD_URI;
    }
  }
  scan.hostStart = hp;
  scan.hostEnd = hostEnd;
  scan.hostType = hostType;
  if (portStart >= 0) {
    let v = 0;
    let i = portStart;
    for (; i < hpEnd && (CHAR[buf[i]!]! & C_DIGIT) !== 0 && v <= 65535; i++) v = v * 10 + buf[i]! - 0x30;
    if (i !== hpEnd || i === portStart || v > 65535) issues |= BAD_URI;
    else scan.port = v;
  }

  // uri-parameters up to '?', then headers; one pass validates both.
  let qm = e;
  let cls = C_PARAM | C_PARAM_SEP;
  for (let i = hpEnd; i < e; i++) {
    const c = buf[i]!;
    if (c === QMARK && qm === e) {
      qm = i;
      cls = C_HEADER | C_HEADER_SEP;
      continue;
    }
    if ((CHAR[c]! & cls) === 0 && !escapeAt(buf, i, e)) issues |= BAD_URI;
  }
  scan.paramStart = hpEnd;
  scan.paramEnd = qm;
  scan.headerStart = qm < e ? qm : -1;
  scan.issues = issues;
  return kind;
}

/** True when buf[i] starts a %HH escape that ends before e. */
function escapeAt(buf: Buffer, i: number, e: number): boolean {
  return (
    buf[i] === PERCENT &&
    i + 2 < e &&
    (CHAR[buf[i + 1]!]! & C_HEX) !== 0 &&
    (CHAR[buf[i + 2]!]! & C_HEX) !== 0
  );
}

/**
 * Parses the URI in bytes [s, e) (no surrounding LWS or angle brackets). Never throws; grammar
 * violations are listed in the result's `issues`: `sip_bad_uri`, `sip_ipv6_reference_without_brackets`,
 * `sip_bad_ipv6_reference`.
 */
export function parseUri(buf: Buffer, s: number, e: number): SipUri {
  const kind = scanUri(buf, s, e);
  const scheme =
    kind === SCHEME_NONE ? '' : kind === SCHEME_TEL ? 'tel' : lowerScheme(buf, s, scan.schemeEnd);
  return new SipUri(buf, s, e, scheme, scan.port < 0 ? undefined : scan.port);
}

/**
 * Anomaly codes of a Request-URI in [s, e), without building it; a SIP URI carrying ?headers adds
 * `sip_escaped_headers_in_request_uri` (RFC 3261 section 19.1.5).
 */
export function requestUriIssues(buf: Buffer, s: number, e: number): readonly string[] {
  const kind = scanUri(buf, s, e);
  const codes = ISSUE_SETS[scan.issues]!;
  if (kind !== SCHEME_SIP || scan.headerStart < 0) return codes;
  return [...codes, 'sip_escaped_headers_in_request_uri'];
}

/** Anomaly codes of the URI in [s, e), without building it. */
export function uriIssues(buf: Buffer, s: number, e: number): readonly string[] {
  scanUri(buf, s, e);
  return ISSUE_SETS[scan.issues]!;
}

/** Parses a URI given as text (tests, configuration). */
export function parseUriText(uri: string): SipUri {
  const b = Buffer.from(uri, 'utf8');
  return parseUri(b, 0, b.length);
}
