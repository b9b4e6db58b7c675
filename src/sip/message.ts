/**
 * The SIP message parser (RFC 3261 sections 7 and 25; RFC 4475 and RFC 5118 torture tests).
 *
 * `parseSipMessage` reads the start line and indexes every header field in one pass over the
 * bytes (offsets packed in a small array, folding resolved, names matched case-insensitively with
 * their compact forms); values are decoded only when an accessor reads them, and each accessor
 * caches its result. It never throws: malformed input becomes anomalies (src/sip/anomalies.ts) and
 * the parser keeps everything it could read. Framing anomalies are found while indexing; the
 * deeper checks (addresses, URIs, Via, CSeq, scalars, duplicates, missing headers) run once, when
 * `anomalies` is first read.
 */
import {
  SIP_MAX_AUTH_CHALLENGES,
  SIP_MAX_HEADERS,
  SIP_MAX_HEADER_FIELD_BYTES,
  SIP_MAX_LIST_VALUES,
  SIP_MAX_MESSAGE_BYTES,
  SIP_MAX_VIAS,
} from '../config/limits.js';
import type { Anomaly } from '../core/records.js';
import { DigestChallenge, DigestCredentials, parseChallenges, parseCredentials } from './digest.js';
import {
  CHAR,
  COLON,
  CR,
  C_DIGIT,
  C_TOKEN,
  HEADER_DEFS,
  HTAB,
  H_AUTHORIZATION,
  H_CALL_ID,
  H_CONTACT,
  H_CONTENT_LENGTH,
  H_CONTENT_TYPE,
  H_CSEQ,
  H_DATE,
  H_EXPIRES,
  H_FROM,
  H_MAX_FORWARDS,
  H_MIN_EXPIRES,
  H_PROXY_AUTHENTICATE,
  H_PROXY_AUTHORIZATION,
  H_RECORD_ROUTE,
  H_RETRY_AFTER,
  H_ROUTE,
  H_SERVER,
  H_SESSION_EXPIRES,
  H_TO,
  H_USER_AGENT,
  H_VIA,
  H_WARNING,
  H_WWW_AUTHENTICATE,
  LAQUOT,
  LF,
  NOT_A_NUMBER,
  RAQUOT,
  SEMI,
  SINGLE_HEADER,
  SP,
  equalsLower,
  headerId,
  knownHeaderAt,
  isListHeader,
  paramMap,
  parseDecimal,
  scanToken,
  skipLws,
  splitList,
  startsWithLower,
  text,
  trimLwsEnd,
  unfoldText,
} from './headers.js';
import { MAX_DELTA_SECONDS, NameAddr, parseNameAddr } from './name-addr.js';
import { SipUri, parseUri, requestUriIssues } from './uri.js';
import { MAGIC_COOKIE, Via, parseVias } from './via.js';

/** What the start line says the message is; `invalid` when it is neither a request nor a response. */
export type SipMessageKind = 'request' | 'response' | 'invalid';

/** Options of `parseSipMessage`. */
export interface SipParseOptions {
  /**
   * The bytes were framed from a TCP/TLS stream: without Content-Length the body is empty (the
   * stream framer reports that) instead of the rest of the datagram.
   */
  readonly stream?: boolean;
}

/** CSeq value: sequence number (-1 when over 2^31-1) and method. */
export class CSeq {
  constructor(
    readonly seq: number,
    readonly method: string,
  ) {}
}

/** Session-Expires value (RFC 4028). */
export class SessionExpires {
  constructor(
    readonly seconds: number,
    readonly refresher: string | undefined,
  ) {}
}

// Index layout, four small integers per header field: name start; name end | (id + 1) << 22 |
// folded << 29; value start; value end. Offsets fit 22 bits (SIP_MAX_MESSAGE_BYTES).
const STRIDE = 4;
const OFFSET_MASK = 0x3fffff;
const ID_SHIFT = 22;
const ID_MASK = 0x7f;
const FOLDED = 1 << 29;

/** Scratch index shared by all parses; each message keeps an exact-size copy. */
const SCRATCH = new Int32Array(SIP_MAX_HEADERS * STRIDE);
/** Scratch for the issue codes a value parser reports. */
const ISSUES: string[] = [];
const PAIRS: number[] = [];
const EMPTY_BUFFER = Buffer.alloc(0);
const NO_ANOMALIES: readonly Anomaly[] = Object.freeze([]);
const MAX_CSEQ = 2147483647;
const MAX_FORWARDS_LIMIT = 255;

/** Methods interned so a hot accessor does not allocate for them. */
function methodName(buf: Buffer, s: number, e: number): string {
  switch (e - s) {
    case 3:
      if (same(buf, s, 'ACK')) return 'ACK';
      if (same(buf, s, 'BYE')) return 'BYE';
      break;
    case 4:
      if (same(buf, s, 'INFO')) return 'INFO';
      break;
    case 5:
      if (same(buf, s, 'PRACK')) return 'PRACK';
      if (same(buf, s, 'REFER')) return 'REFER';
      break;
    case 6:
      if (same(buf, s, 'INVITE')) return 'INVITE';
      if (same(buf, s, 'CANCEL')) return 'CANCEL';
      if (same(buf, s, 'UPDATE')) return 'UPDATE';
      if (same(buf, s, 'NOTIFY')) return 'NOTIFY';
      break;
    case 7:
      if (same(buf, s, 'OPTIONS')) return 'OPTIONS';
      if (same(buf, s, 'MESSAGE')) return 'MESSAGE';
      if (same(buf, s, 'PUBLISH')) return 'PUBLISH';
      break;
    case 8:
      if (same(buf, s, 'REGISTER')) return 'REGISTER';
      break;
    case 9:
      if (same(buf, s, 'SUBSCRIBE')) return 'SUBSCRIBE';
      break;
  }
  return text(buf, s, e);
}

function same(buf: Buffer, s: number, word: string): boolean {
  for (let i = 0; i < word.length; i++) if (buf[s + i] !== word.charCodeAt(i)) return false;
  return true;
}

function isSip20(buf: Buffer, s: number, e: number): boolean {
  return e - s === 7 && equalsLower(buf, s, e, 'sip/2.0');
}

const RFC1123 =
  /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/;

/** A parsed SIP message: start line fields, lazily decoded headers, body, anomalies. */
export class SipMessage {
  /** The bytes given to the parser (the message starts after any CRLF keep-alive or junk). */
  readonly data: Buffer;
  readonly kind: SipMessageKind;
  /** Request method ('' for responses and unreadable start lines). */
  readonly method: string;
  /** Response status code (0 for requests and invalid messages). */
  readonly status: number;
  /** Offset in `data` just past this message: headers + body as framed by Content-Length. */
  readonly length: number;
  readonly #bodyStart: number;
  readonly #bodyEnd: number;
  #body: Buffer | undefined = undefined;
  /** The first Content-Length value, undefined when absent or not a number. */
  readonly contentLength: number | undefined;
  /** Number of header fields indexed. */
  readonly headerCount: number;
  /** The input held only CR/LF: an RFC 5626 keep-alive, not a message (kind `invalid`, no anomaly). */
  readonly keepAlive: boolean;
  /** Offset of the start line in `data`. */
  readonly start: number;

  readonly #index: number[];
  #anomalyList: Anomaly[] | null;
  #validated = false;
  // Pairs (header name, anomaly code) reported while an accessor parsed a value.
  #notes: string[] | null = null;
  readonly #lineEnd: number;
  readonly #part2Start: number;
  readonly #part2End: number;
  readonly #part3Start: number;
  // Index offsets of the first field of the headers read most (-1: absent).
  readonly #firstVia: number;
  readonly #firstFrom: number;
  readonly #firstTo: number;
  readonly #firstCallId: number;
  readonly #firstCSeq: number;
  readonly #firstUserAgent: number;
  readonly #firstServer: number;

  #callId: string | undefined | null = null;
  #cseq: CSeq | undefined | null = null;
  #from: NameAddr | undefined | null = null;
  #to: NameAddr | undefined | null = null;
  #vias: Via[] | null = null;
  #contacts: NameAddr[] | null = null;
  #routes: NameAddr[] | null = null;
  #recordRoutes: NameAddr[] | null = null;
  #userAgent: string | undefined | null = null;
  #server: string | undefined | null = null;
  #requestUri: SipUri | undefined | null = null;
  #authorization: DigestCredentials | undefined | null = null;
  #proxyAuthorization: DigestCredentials | undefined | null = null;
  #wwwAuthenticate: DigestChallenge[] | null = null;
  #proxyAuthenticate: DigestChallenge[] | null = null;
  #uri: string | undefined = undefined;
  #mediaType: string | undefined | null = null;
  #reason: string | undefined = undefined;

  constructor(data: Buffer, options?: SipParseOptions) {
    this.data = data;
    const buf = data;
    let end = data.length;
    let anomalies: Anomaly[] | null = null;
    if (end > SIP_MAX_MESSAGE_BYTES) {
      end = SIP_MAX_MESSAGE_BYTES;
      anomalies = [{ code: 'sip_message_too_large', offset: end, detail: `${data.length} bytes` }];
    }

    // RFC 5626 CRLF keep-alives before a message are silently skipped.
    let p = 0;
    while (p < end && (buf[p] === CR || buf[p] === LF)) p++;
    const junkStart = p;
    while (p < end && (CHAR[buf[p]!]! & C_TOKEN) === 0) p++;
    if (p > junkStart) {
      while (p < end && (buf[p] === CR || buf[p] === LF)) p++;
      (anomalies ??= []).push({
        code: 'sip_junk_before_request',
        offset: junkStart,
        detail: `${p - junkStart} bytes`,
      });
    }
    this.start = p;
    this.keepAlive = junkStart === end;

    // Start line.
    let nl = buf.indexOf(LF, p);
    if (nl < 0 || nl >= end) nl = end;
    let le = nl;
    if (le > p && buf[le - 1] === CR) le--;
    let bareLf = nl < end && le === nl;
    let kind: SipMessageKind = 'invalid';
    let method = '';
    let status = 0;
    let part2Start = le;
    let part2End = le;
    let part3Start = le;
    if (p === end) {
      if (!this.keepAlive)
        (anomalies ??= []).push({ code: 'sip_bad_start_line', offset: p, detail: 'empty' });
    } else if (le - p >= 4 && startsWithLower(buf, p, le, 'sip/')) {
      // Status-Line = SIP-Version SP Status-Code SP Reason-Phrase
      let v = p;
      while (v < le && buf[v] !== SP) v++;
      if (!isSip20(buf, p, v)) (anomalies ??= []).push({ code: 'sip_bad_version', offset: p });
      let c = v;
      while (c < le && buf[c] === SP) c++;
      if (c - v > 1) (anomalies ??= []).push({ code: 'sip_multiple_sp_in_start_line', offset: v });
      let ce = c;
      while (ce < le && (CHAR[buf[ce]!]! & C_DIGIT) !== 0) ce++;
      const code = parseDecimal(buf, c, ce);
      part2Start = c;
      part2End = ce;
      part3Start = ce < le ? ce + 1 : le;
      if (v === le || ce - c !== 3 || code < 100 || code > 699 || (ce < le && buf[ce] !== SP)) {
        (anomalies ??= []).push({ code: v === le ? 'sip_bad_start_line' : 'sip_bad_status_code', offset: c });
      } else {
        kind = 'response';
        status = code;
      }
    } else {
      // Request-Line = Method SP Request-URI SP SIP-Version
      const m = scanToken(buf, p, le);
      let t = le;
      while (t > m && (buf[t - 1] === SP || buf[t - 1] === HTAB)) t--;
      let lastSp = t - 1;
      while (lastSp > m && buf[lastSp] !== SP && buf[lastSp] !== HTAB) lastSp--;
      if (m === p || m >= le || buf[m] !== SP) {
        (anomalies ??= []).push({ code: 'sip_bad_start_line', offset: p });
      } else if (lastSp <= m || !startsWithLower(buf, lastSp + 1, t, 'sip/')) {
        method = methodName(buf, p, m);
        part2Start = m + 1;
        part2End = t;
        (anomalies ??= []).push({ code: 'sip_bad_start_line', offset: p, detail: 'no SIP-Version' });
      } else {
        method = methodName(buf, p, m);
        kind = 'request';
        if (t < le) (anomalies ??= []).push({ code: 'sip_trailing_sp_in_start_line', offset: t });
        if (!isSip20(buf, lastSp + 1, t))
          (anomalies ??= []).push({ code: 'sip_bad_version', offset: lastSp + 1 });
        let us = m + 1;
        let ue = lastSp;
        if (buf[us] === SP || buf[us] === HTAB || buf[ue - 1] === SP || buf[ue - 1] === HTAB) {
          while (us < ue && (buf[us] === SP || buf[us] === HTAB)) us++;
          while (ue > us && (buf[ue - 1] === SP || buf[ue - 1] === HTAB)) ue--;
          (anomalies ??= []).push({ code: 'sip_multiple_sp_in_start_line', offset: m });
        }
        if (us === ue) {
          kind = 'invalid';
          (anomalies ??= []).push({ code: 'sip_bad_start_line', offset: m, detail: 'no Request-URI' });
        }
        // An embedded HTAB is left to the URI check (sip_bad_uri): this scan is on the hot path.
        const sp = buf.indexOf(SP, us);
        if (sp >= 0 && sp < ue) (anomalies ??= []).push({ code: 'sip_uri_embedded_lws', offset: sp });
        if (ue - us >= 2 && buf[us] === LAQUOT && buf[ue - 1] === RAQUOT) {
          (anomalies ??= []).push({ code: 'sip_uri_enclosed_in_brackets', offset: us });
        }
        part2Start = us;
        part2End = ue;
        part3Start = lastSp + 1;
      }
    }
    this.kind = kind;
    this.method = method;
    this.status = status;
    this.#lineEnd = le;
    this.#part2Start = part2Start;
    this.#part2End = part2End;
    this.#part3Start = part3Start;

    // Header fields, indexed in one pass: names byte by byte, values by a native LF search.
    const ix = SCRATCH;
    let n = 0;
    let bodyStart = -1;
    let firstVia = -1;
    let firstFrom = -1;
    let firstTo = -1;
    let firstCallId = -1;
    let firstCSeq = -1;
    let firstUserAgent = -1;
    let firstServer = -1;
    let firstCl = -1;
    let clCount = 0;
    let tooMany = false;
    let tooLong = false;
    p = nl < end ? nl + 1 : end;
    while (p < end) {
      let c = buf[p]!;
      if (c === CR && p + 1 < end && buf[p + 1] === LF) {
        bodyStart = p + 2;
        break;
      }
      if (c === LF) {
        bareLf = true;
        bodyStart = p + 1;
        break;
      }
      const ns = p;
      const known = knownHeaderAt(buf, p, end);
      let id = -1;
      if (known !== 0) {
        id = (known & 0xff) - 1;
        p += known >>> 8;
      } else {
        while ((CHAR[c]! & C_TOKEN) !== 0) {
          if (++p === end) break;
          c = buf[p]!;
        }
      }
      const ne = p;
      while (p < end && (buf[p] === SP || buf[p] === HTAB)) p++;
      if (p === end || buf[p] !== COLON || ne === ns) {
        // Not a header field: report it and skip the line.
        let lf = buf.indexOf(LF, p);
        if (lf < 0 || lf >= end) lf = end;
        const colon = buf.indexOf(COLON, p);
        const code = colon >= 0 && colon < lf ? 'sip_bad_header_name' : 'sip_header_without_colon';
        anomalies ??= [];
        let seen = false;
        for (let i = 0; i < anomalies.length; i++) if (anomalies[i]!.code === code) seen = true;
        if (!seen) anomalies.push({ code, offset: ns });
        p = lf < end ? lf + 1 : end;
        continue;
      }
      const vs = p + 1;
      let folded = 0;
      let lf = buf.indexOf(LF, vs);
      for (;;) {
        if (lf < 0 || lf >= end) {
          lf = end;
          break;
        }
        const after = buf[lf + 1];
        if (after !== SP && after !== HTAB) break;
        folded = FOLDED;
        lf = buf.indexOf(LF, lf + 1);
      }
      if (lf < end) {
        if (buf[lf - 1] !== CR) bareLf = true;
        p = lf + 1;
      } else p = end;
      // The value keeps its surrounding LWS here; readers trim it (#start/#end), which saves ~10%
      // of the parse for the fields nobody reads (bench/parser.ts).
      const ve = lf;
      if (lf - ns > SIP_MAX_HEADER_FIELD_BYTES && !tooLong) {
        tooLong = true;
        (anomalies ??= []).push({ code: 'sip_header_too_long', offset: ns });
      }
      if (n === SIP_MAX_HEADERS) {
        if (!tooMany) {
          tooMany = true;
          (anomalies ??= []).push({ code: 'sip_too_many_headers', offset: ns });
        }
        continue;
      }
      const o = n * STRIDE;
      switch (id) {
        case H_VIA:
          if (firstVia < 0) firstVia = o;
          break;
        case H_FROM:
          if (firstFrom < 0) firstFrom = o;
          break;
        case H_TO:
          if (firstTo < 0) firstTo = o;
          break;
        case H_CALL_ID:
          if (firstCallId < 0) firstCallId = o;
          break;
        case H_CSEQ:
          if (firstCSeq < 0) firstCSeq = o;
          break;
        case H_USER_AGENT:
          if (firstUserAgent < 0) firstUserAgent = o;
          break;
        case H_SERVER:
          if (firstServer < 0) firstServer = o;
          break;
        case H_CONTENT_LENGTH:
          if (firstCl < 0) firstCl = o;
          clCount++;
          break;
      }
      ix[o] = ns;
      ix[o + 1] = ne | ((id + 1) << ID_SHIFT) | folded;
      ix[o + 2] = vs;
      ix[o + 3] = ve;
      n++;
    }
    this.headerCount = n;
    const index = new Array<number>(n * STRIDE);
    for (let i = 0; i < n * STRIDE; i++) index[i] = ix[i]!;
    this.#index = index;
    this.#firstVia = firstVia;
    this.#firstFrom = firstFrom;
    this.#firstTo = firstTo;
    this.#firstCallId = firstCallId;
    this.#firstCSeq = firstCSeq;
    this.#firstUserAgent = firstUserAgent;
    this.#firstServer = firstServer;
    if (bareLf) (anomalies ??= []).push({ code: 'sip_bare_lf' });
    if (bodyStart < 0) {
      bodyStart = end;
      if (!this.keepAlive) (anomalies ??= []).push({ code: 'sip_headers_unterminated', offset: end });
    }

    // Body framing by Content-Length.
    let bodyEnd = options?.stream === true ? bodyStart : end;
    let contentLength: number | undefined;
    if (firstCl >= 0) {
      const s = skipLws(buf, ix[firstCl + 2]!, ix[firstCl + 3]!);
      const e = trimLwsEnd(buf, s, ix[firstCl + 3]!);
      const v = parseDecimal(buf, s, e);
      if (v === NOT_A_NUMBER) {
        const negative = e > s && buf[s] === 0x2d && parseDecimal(buf, s + 1, e) !== NOT_A_NUMBER;
        (anomalies ??= []).push({
          code: negative ? 'sip_negative_content_length' : 'sip_bad_content_length',
          offset: s,
        });
      } else {
        contentLength = v;
        if (bodyStart + v > end) {
          (anomalies ??= []).push({
            code: 'sip_body_truncated',
            offset: end,
            detail: `${end - bodyStart} of ${v} bytes`,
          });
          bodyEnd = end;
        } else bodyEnd = bodyStart + v;
      }
      if (clCount > 1) (anomalies ??= []).push({ code: 'sip_multiple_content_length', offset: s });
    }
    this.#anomalyList = anomalies;
    this.contentLength = contentLength;
    this.length = this.keepAlive ? end : bodyEnd;
    this.#bodyStart = bodyStart;
    this.#bodyEnd = bodyEnd;
  }

  /** The body as framed (a view into `data`, made on first read: a Buffer view costs ~50 ns). */
  get body(): Buffer {
    if (this.#body === undefined) {
      this.#body =
        this.#bodyEnd > this.#bodyStart ? this.data.subarray(this.#bodyStart, this.#bodyEnd) : EMPTY_BUFFER;
    }
    return this.#body;
  }

  /** Body size in bytes, without making the body view. */
  get bodyLength(): number {
    return this.#bodyEnd - this.#bodyStart;
  }

  // ── start line ──────────────────────────────────────────────────────────────────────────────

  /** Request-URI exactly as written (may hold LWS or <> when malformed); '' for responses. */
  get uri(): string {
    if (this.#uri === undefined) {
      this.#uri = this.kind === 'response' ? '' : text(this.data, this.#part2Start, this.#part2End);
    }
    return this.#uri;
  }

  /** SIP-Version as written ('' when the start line has none). */
  get version(): string {
    const d = this.data;
    if (this.kind === 'response') {
      let v = this.start;
      while (v < this.#lineEnd && d[v] !== SP) v++;
      return isSip20(d, this.start, v) ? 'SIP/2.0' : text(d, this.start, v);
    }
    if (this.kind === 'request') {
      let t = this.#lineEnd;
      while (t > this.#part3Start && (d[t - 1] === SP || d[t - 1] === HTAB)) t--;
      return isSip20(d, this.#part3Start, t) ? 'SIP/2.0' : text(d, this.#part3Start, t);
    }
    return '';
  }

  /** Response reason phrase ('' for requests). */
  get reason(): string {
    if (this.#reason === undefined) {
      this.#reason = this.kind === 'response' ? text(this.data, this.#part3Start, this.#lineEnd) : '';
    }
    return this.#reason;
  }

  /** Request-URI parsed (angle brackets and embedded LWS removed first); undefined for responses. */
  get requestUri(): SipUri | undefined {
    if (this.#requestUri === null) {
      let s = this.#part2Start;
      let e = this.#part2End;
      if (this.kind !== 'request' || s >= e) this.#requestUri = undefined;
      else {
        const d = this.data;
        if (e - s >= 2 && d[s] === LAQUOT && d[e - 1] === RAQUOT) {
          s++;
          e--;
        }
        let lws = false;
        for (let i = s; i < e; i++) if (d[i] === SP || d[i] === HTAB) lws = true;
        if (lws) {
          const cleaned = Buffer.from(text(d, s, e).replace(/[ \t]+/g, ''), 'utf8');
          this.#requestUri = parseUri(cleaned, 0, cleaned.length);
        } else this.#requestUri = parseUri(d, s, e);
      }
    }
    return this.#requestUri;
  }

  // ── generic header access ───────────────────────────────────────────────────────────────────

  #findFirst(id: number): number {
    const ix = this.#index;
    const key = id + 1;
    for (let o = 0; o < ix.length; o += STRIDE) if (((ix[o + 1]! >>> ID_SHIFT) & ID_MASK) === key) return o;
    return -1;
  }

  /** Start of the value of the field at index offset o, leading LWS skipped. */
  #vs(o: number): number {
    const ix = this.#index;
    return skipLws(this.data, ix[o + 2]!, ix[o + 3]!);
  }

  /** End of the value of the field at index offset o, trailing LWS (and the CR) removed. */
  #ve(o: number): number {
    const ix = this.#index;
    return trimLwsEnd(this.data, ix[o + 2]!, ix[o + 3]!);
  }

  #valueAt(o: number): string {
    const ix = this.#index;
    const s = this.#vs(o);
    const e = this.#ve(o);
    return (ix[o + 1]! & FOLDED) !== 0 ? unfoldText(this.data, s, e) : text(this.data, s, e);
  }

  #matches(o: number, id: number, lower: string): boolean {
    const w = this.#index[o + 1]!;
    if (((w >>> ID_SHIFT) & ID_MASK) !== id + 1) return false;
    return id >= 0 || equalsLower(this.data, this.#index[o]!, w & OFFSET_MASK, lower);
  }

  /** First value of a header (any case, compact forms accepted), folding undone; undefined when absent. */
  header(name: string): string | undefined {
    const id = headerId(name);
    const lower = id < 0 ? name.toLowerCase() : '';
    for (let o = 0; o < this.#index.length; o += STRIDE)
      if (this.#matches(o, id, lower)) return this.#valueAt(o);
    return undefined;
  }

  /**
   * Every value of a header in order. Comma-list headers (Via, Contact, Route, Supported, ...) are
   * split into their elements, respecting quotes and <>; at most SIP_MAX_LIST_VALUES are returned.
   */
  headers(name: string): string[] {
    const id = headerId(name);
    const lower = id < 0 ? name.toLowerCase() : '';
    const list = isListHeader(id);
    const out: string[] = [];
    const ix = this.#index;
    for (let o = 0; o < ix.length && out.length < SIP_MAX_LIST_VALUES; o += STRIDE) {
      if (!this.#matches(o, id, lower)) continue;
      if (!list) {
        out.push(this.#valueAt(o));
        continue;
      }
      if (PAIRS.length !== 0) PAIRS.length = 0;
      splitList(this.data, this.#vs(o), this.#ve(o), PAIRS, SIP_MAX_LIST_VALUES, null);
      for (let i = 0; i < PAIRS.length && out.length < SIP_MAX_LIST_VALUES; i += 2) {
        out.push(unfoldText(this.data, PAIRS[i]!, PAIRS[i + 1]!));
      }
    }
    return out;
  }

  /** Header names exactly as written, in wire order (one per field; compact forms kept). */
  headerNames(): string[] {
    const out: string[] = [];
    const ix = this.#index;
    for (let o = 0; o < ix.length; o += STRIDE) out.push(text(this.data, ix[o]!, ix[o + 1]! & OFFSET_MASK));
    return out;
  }

  /** True when the header is present. */
  has(name: string): boolean {
    const id = headerId(name);
    const lower = id < 0 ? name.toLowerCase() : '';
    for (let o = 0; o < this.#index.length; o += STRIDE) if (this.#matches(o, id, lower)) return true;
    return false;
  }

  // ── typed accessors (cached) ────────────────────────────────────────────────────────────────

  /** Call-ID value. */
  get callId(): string | undefined {
    if (this.#callId === null)
      this.#callId = this.#firstCallId < 0 ? undefined : this.#valueAt(this.#firstCallId);
    return this.#callId;
  }

  /** CSeq sequence number and method; undefined when absent or unreadable. */
  get cseq(): CSeq | undefined {
    if (this.#cseq === null) this.#cseq = this.#parseCSeq();
    return this.#cseq;
  }

  #parseCSeq(): CSeq | undefined {
    const o = this.#firstCSeq;
    if (o < 0) return undefined;
    const d = this.data;
    const s = this.#vs(o);
    const e = this.#ve(o);
    let p = s;
    while (p < e && (CHAR[d[p]!]! & C_DIGIT) !== 0) p++;
    let seq = parseDecimal(d, s, p);
    const ms = skipLws(d, p, e);
    const me = scanToken(d, ms, e);
    if (seq === NOT_A_NUMBER || ms === p || me === ms || me !== e) {
      this.#note('CSeq', 'sip_bad_cseq');
      if (seq === NOT_A_NUMBER || me === ms) return undefined;
    }
    if (seq > MAX_CSEQ) {
      this.#note('CSeq', 'sip_overlarge_value');
      seq = -1;
    }
    return new CSeq(seq, methodName(d, ms, me));
  }

  #note(name: string, code: string): void {
    (this.#notes ??= []).push(name, code);
  }

  #noteAll(name: string, codes: readonly string[]): void {
    for (let i = 0; i < codes.length; i++) this.#note(name, codes[i]!);
  }

  /** From: display name, URI, tag, params. */
  get from(): NameAddr | undefined {
    if (this.#from === null) {
      const o = this.#firstFrom;
      this.#from = o < 0 ? undefined : parseNameAddr(this.data, this.#vs(o), this.#ve(o), false);
    }
    return this.#from;
  }

  /** To: display name, URI, tag, params. */
  get to(): NameAddr | undefined {
    if (this.#to === null) {
      const o = this.#firstTo;
      this.#to = o < 0 ? undefined : parseNameAddr(this.data, this.#vs(o), this.#ve(o), false);
    }
    return this.#to;
  }

  /** Every Via value, top first (at most SIP_MAX_VIAS). */
  get vias(): readonly Via[] {
    if (this.#vias === null) {
      const out: Via[] = [];
      const ix = this.#index;
      let dropped = 0;
      if (ISSUES.length !== 0) ISSUES.length = 0;
      for (let o = this.#firstVia; o >= 0 && o < ix.length; o += STRIDE) {
        if (((ix[o + 1]! >>> ID_SHIFT) & ID_MASK) !== H_VIA + 1) continue;
        dropped += parseVias(this.data, this.#vs(o), this.#ve(o), out, SIP_MAX_VIAS, ISSUES);
      }
      if (dropped > 0) ISSUES.push('sip_too_many_vias');
      if (ISSUES.length > 0) this.#noteAll('Via', ISSUES);
      this.#vias = out;
    }
    return this.#vias;
  }

  #addressList(id: number, contact: boolean): NameAddr[] {
    const out: NameAddr[] = [];
    const ix = this.#index;
    let total = 0;
    if (ISSUES.length !== 0) ISSUES.length = 0;
    for (let o = 0; o < ix.length; o += STRIDE) {
      if (((ix[o + 1]! >>> ID_SHIFT) & ID_MASK) !== id + 1) continue;
      if (PAIRS.length !== 0) PAIRS.length = 0;
      total += splitList(this.data, this.#vs(o), this.#ve(o), PAIRS, SIP_MAX_LIST_VALUES, ISSUES);
      for (let i = 0; i < PAIRS.length && out.length < SIP_MAX_LIST_VALUES; i += 2) {
        out.push(parseNameAddr(this.data, PAIRS[i]!, PAIRS[i + 1]!, contact));
      }
    }
    if (total > SIP_MAX_LIST_VALUES) ISSUES.push('sip_too_many_values');
    if (ISSUES.length > 0) this.#noteAll(HEADER_DEFS[id]!.name, ISSUES);
    return out;
  }

  /** Contact values (a `*` has `star` set), with their expires and q parameters. */
  get contacts(): readonly NameAddr[] {
    if (this.#contacts === null) this.#contacts = this.#addressList(H_CONTACT, true);
    return this.#contacts;
  }

  /** Route values, in order. */
  get routes(): readonly NameAddr[] {
    if (this.#routes === null) this.#routes = this.#addressList(H_ROUTE, false);
    return this.#routes;
  }

  /** Record-Route values, in order. */
  get recordRoutes(): readonly NameAddr[] {
    if (this.#recordRoutes === null) this.#recordRoutes = this.#addressList(H_RECORD_ROUTE, false);
    return this.#recordRoutes;
  }

  /** Content-Type value as written (parameters included). */
  get contentType(): string | undefined {
    const o = this.#findFirst(H_CONTENT_TYPE);
    return o < 0 ? undefined : this.#valueAt(o);
  }

  /** Lower-case `type/subtype` of Content-Type, without parameters. */
  get mediaType(): string | undefined {
    if (this.#mediaType === null) this.#mediaType = this.#parseMediaType();
    return this.#mediaType;
  }

  #parseMediaType(): string | undefined {
    const o = this.#findFirst(H_CONTENT_TYPE);
    if (o < 0) return undefined;
    const d = this.data;
    const s = this.#vs(o);
    const end = this.#ve(o);
    let e = s;
    while (e < end && d[e] !== SEMI) e++;
    e = trimLwsEnd(d, s, e);
    // The usual value, without the three strings below: same bytes, so the same result.
    if (equalsLower(d, s, e, 'application/sdp')) return 'application/sdp';
    return text(d, s, e).replace(/\s+/g, '').toLowerCase();
  }

  #scalar(id: number): number | undefined {
    const o = this.#findFirst(id);
    if (o < 0) return undefined;
    const v = parseDecimal(this.data, this.#vs(o), this.#ve(o));
    return v === NOT_A_NUMBER ? undefined : v;
  }

  /** Expires header in seconds (clamped to 2^32-1); undefined when absent or not a number. */
  get expires(): number | undefined {
    const v = this.#scalar(H_EXPIRES);
    return v === undefined ? undefined : Math.min(v, MAX_DELTA_SECONDS);
  }

  /** Max-Forwards value; undefined when absent or not a number. */
  get maxForwards(): number | undefined {
    return this.#scalar(H_MAX_FORWARDS);
  }

  /** User-Agent value. */
  get userAgent(): string | undefined {
    if (this.#userAgent === null) {
      this.#userAgent = this.#firstUserAgent < 0 ? undefined : this.#valueAt(this.#firstUserAgent);
    }
    return this.#userAgent;
  }

  /** Server value. */
  get server(): string | undefined {
    if (this.#server === null)
      this.#server = this.#firstServer < 0 ? undefined : this.#valueAt(this.#firstServer);
    return this.#server;
  }

  #credentials(id: number): DigestCredentials | undefined {
    const o = this.#findFirst(id);
    if (o < 0) return undefined;
    if (ISSUES.length !== 0) ISSUES.length = 0;
    const c = parseCredentials(this.data, this.#vs(o), this.#ve(o), ISSUES);
    if (ISSUES.length > 0) this.#noteAll(HEADER_DEFS[id]!.name, ISSUES);
    return c;
  }

  #challenges(id: number): DigestChallenge[] {
    const out: DigestChallenge[] = [];
    const ix = this.#index;
    if (ISSUES.length !== 0) ISSUES.length = 0;
    for (let o = 0; o < ix.length; o += STRIDE) {
      if (((ix[o + 1]! >>> ID_SHIFT) & ID_MASK) !== id + 1) continue;
      parseChallenges(this.data, this.#vs(o), this.#ve(o), out, SIP_MAX_AUTH_CHALLENGES, ISSUES);
    }
    if (ISSUES.length > 0) this.#noteAll(HEADER_DEFS[id]!.name, ISSUES);
    return out;
  }

  /** Authorization credentials (first field). */
  get authorization(): DigestCredentials | undefined {
    if (this.#authorization === null) this.#authorization = this.#credentials(H_AUTHORIZATION);
    return this.#authorization;
  }

  /** Proxy-Authorization credentials (first field). */
  get proxyAuthorization(): DigestCredentials | undefined {
    if (this.#proxyAuthorization === null)
      this.#proxyAuthorization = this.#credentials(H_PROXY_AUTHORIZATION);
    return this.#proxyAuthorization;
  }

  /** Every WWW-Authenticate challenge (at most SIP_MAX_AUTH_CHALLENGES). */
  get wwwAuthenticate(): readonly DigestChallenge[] {
    if (this.#wwwAuthenticate === null) this.#wwwAuthenticate = this.#challenges(H_WWW_AUTHENTICATE);
    return this.#wwwAuthenticate;
  }

  /** Every Proxy-Authenticate challenge (at most SIP_MAX_AUTH_CHALLENGES). */
  get proxyAuthenticate(): readonly DigestChallenge[] {
    if (this.#proxyAuthenticate === null) this.#proxyAuthenticate = this.#challenges(H_PROXY_AUTHENTICATE);
    return this.#proxyAuthenticate;
  }

  /** Session-Expires (RFC 4028): seconds and refresher. */
  get sessionExpires(): SessionExpires | undefined {
    const o = this.#findFirst(H_SESSION_EXPIRES);
    if (o < 0) return undefined;
    const d = this.data;
    const s = this.#vs(o);
    const e = this.#ve(o);
    let p = s;
    while (p < e && (CHAR[d[p]!]! & C_DIGIT) !== 0) p++;
    const v = parseDecimal(d, s, p);
    if (v === NOT_A_NUMBER) return undefined;
    return new SessionExpires(Math.min(v, MAX_DELTA_SECONDS), paramMap(d, p, e).get('refresher'));
  }

  /** Option tags of every Supported field. */
  get supported(): string[] {
    return this.headers('Supported');
  }

  /** Methods of every Allow field. */
  get allow(): string[] {
    return this.headers('Allow');
  }

  /**
   * Drops the parsed header values cached so far; a later read parses them again from the bytes.
   * Tracking keeps messages for seconds (transactions) to hours (dialogs) while detectors read their
   * headers within microseconds of arrival: shedding the caches once every stage has seen a message
   * lets them die young instead of being promoted and collected in the old generation (measured by
   * `npm run bench`: the largest single share of analyze's time was the garbage collector).
   */
  shed(): void {
    if (!this.#validated) return;
    this.#notes = null;
    this.#from = null;
    this.#to = null;
    this.#vias = null;
    this.#contacts = null;
    this.#routes = null;
    this.#recordRoutes = null;
    this.#requestUri = null;
    this.#authorization = null;
    this.#proxyAuthorization = null;
    this.#wwwAuthenticate = null;
    this.#proxyAuthenticate = null;
  }

  // ── anomalies ───────────────────────────────────────────────────────────────────────────────

  /**
   * Every anomaly of the message. Framing anomalies are found by the parse; the first read also
   * runs the full validation of the headers (cached afterwards).
   */
  get anomalies(): readonly Anomaly[] {
    if (!this.#validated) {
      this.#validated = true;
      if (this.kind !== 'invalid') this.#validate();
    }
    return this.#anomalyList ?? NO_ANOMALIES;
  }

  #flag(code: string, detail: string, o: number): void {
    const list = (this.#anomalyList ??= []);
    for (let i = 0; i < list.length; i++) {
      const a = list[i]!;
      if (a.code === code && a.detail === detail) return;
    }
    list.push(o >= 0 ? { code, offset: this.#index[o]!, detail } : { code, detail });
  }

  #flagAll(codes: readonly string[], detail: string, o: number): void {
    for (let i = 0; i < codes.length; i++) this.#flag(codes[i]!, detail, o);
  }

  /** Flags an address's issues at the first field of header `id` (found only when there are some). */
  #checkAddress(a: NameAddr, name: string, id: number): void {
    const own = a.issues;
    const u = a.uriIssues;
    if (own.length === 0 && u.length === 0) return;
    const o = this.#findFirst(id);
    if (own.length > 0) this.#flagAll(own, name, o);
    if (u.length > 0) this.#flagAll(u, name, o);
  }

  #validate(): void {
    const ix = this.#index;
    const d = this.data;
    // Which single-valued headers were seen, as bits over the header ids (HEADER_DEFS has < 96).
    let seen0 = 0;
    let seen1 = 0;
    let seen2 = 0;
    let warning = false;
    let date = -1;
    let minExpires = -1;
    let retryAfter = -1;
    let sessionExpires = -1;
    let expires = -1;
    let maxForwards = -1;
    let contact = false;
    let route = false;
    let recordRoute = false;
    let authorization = false;
    let proxyAuthorization = false;
    let challenge = false;
    let proxyChallenge = false;
    for (let o = 0; o < ix.length; o += STRIDE) {
      const id = ((ix[o + 1]! >>> ID_SHIFT) & ID_MASK) - 1;
      if (id < 0) continue;
      if (SINGLE_HEADER[id] === 1) {
        const bit = 1 << (id & 31);
        const word = id >> 5;
        const before = word === 0 ? seen0 : word === 1 ? seen1 : seen2;
        if ((before & bit) !== 0) {
          if (id !== H_CONTENT_LENGTH) this.#flag('sip_duplicate_single_header', HEADER_DEFS[id]!.name, o);
        } else if (word === 0) seen0 |= bit;
        else if (word === 1) seen1 |= bit;
        else seen2 |= bit;
      }
      switch (id) {
        case H_WARNING:
          warning = true;
          break;
        case H_DATE:
          if (date < 0) date = o;
          break;
        case H_EXPIRES:
          if (expires < 0) expires = o;
          break;
        case H_MIN_EXPIRES:
          if (minExpires < 0) minExpires = o;
          break;
        case H_RETRY_AFTER:
          if (retryAfter < 0) retryAfter = o;
          break;
        case H_SESSION_EXPIRES:
          if (sessionExpires < 0) sessionExpires = o;
          break;
        case H_MAX_FORWARDS:
          if (maxForwards < 0) maxForwards = o;
          break;
        case H_CONTACT:
          contact = true;
          break;
        case H_ROUTE:
          route = true;
          break;
        case H_RECORD_ROUTE:
          recordRoute = true;
          break;
        case H_AUTHORIZATION:
          authorization = true;
          break;
        case H_PROXY_AUTHORIZATION:
          proxyAuthorization = true;
          break;
        case H_WWW_AUTHENTICATE:
          challenge = true;
          break;
        case H_PROXY_AUTHENTICATE:
          proxyChallenge = true;
          break;
      }
    }

    // Vias first: an RFC 2543 element (top Via without the magic cookie) omits Max-Forwards legally.
    const top = this.vias[0];
    const rfc2543 = top !== undefined && (top.branch === undefined || !top.branch.startsWith(MAGIC_COOKIE));
    if (this.#firstCallId < 0) this.#flag('sip_missing_header', 'Call-ID', -1);
    if (this.#firstCSeq < 0) this.#flag('sip_missing_header', 'CSeq', -1);
    if (this.#firstFrom < 0) this.#flag('sip_missing_header', 'From', -1);
    if (this.#firstTo < 0) this.#flag('sip_missing_header', 'To', -1);
    if (this.#firstVia < 0) this.#flag('sip_missing_header', 'Via', -1);
    if (this.kind === 'request' && !rfc2543 && maxForwards < 0)
      this.#flag('sip_missing_header', 'Max-Forwards', -1);
    if (top !== undefined && (top.branch === MAGIC_COOKIE || top.branch === '')) {
      this.#flag('sip_missing_branch', 'Via', this.#firstVia);
    }

    const cseq = this.cseq;
    if (cseq !== undefined && this.kind === 'request' && cseq.method !== this.method) {
      this.#flag('sip_cseq_method_mismatch', 'CSeq', this.#firstCSeq);
    }
    const from = this.from;
    if (from !== undefined) this.#checkAddress(from, 'From', H_FROM);
    const to = this.to;
    if (to !== undefined) this.#checkAddress(to, 'To', H_TO);
    if (contact) for (const c of this.contacts) this.#checkAddress(c, 'Contact', H_CONTACT);
    if (route) for (const r of this.routes) this.#checkAddress(r, 'Route', H_ROUTE);
    if (recordRoute) for (const r of this.recordRoutes) this.#checkAddress(r, 'Record-Route', H_RECORD_ROUTE);
    if (authorization) void this.authorization;
    if (proxyAuthorization) void this.proxyAuthorization;
    if (challenge) void this.wwwAuthenticate;
    if (proxyChallenge) void this.proxyAuthenticate;

    if (maxForwards >= 0) {
      const v = parseDecimal(d, this.#vs(maxForwards), this.#ve(maxForwards));
      if (v === NOT_A_NUMBER) this.#flag('sip_bad_number', 'Max-Forwards', maxForwards);
      else if (v > MAX_FORWARDS_LIMIT) this.#flag('sip_overlarge_value', 'Max-Forwards', maxForwards);
    }
    if (expires >= 0) this.#checkDelta(expires, 'Expires', false);
    if (minExpires >= 0) this.#checkDelta(minExpires, 'Min-Expires', false);
    if (retryAfter >= 0) this.#checkDelta(retryAfter, 'Retry-After', true);
    if (sessionExpires >= 0) this.#checkDelta(sessionExpires, 'Session-Expires', true);
    if (warning) this.#checkWarnings();
    if (date >= 0 && !RFC1123.test(this.#valueAt(date))) this.#flag('sip_bad_date', 'Date', date);

    if (this.kind === 'request') {
      // A plain Request-URI is checked in place; one that needed cleaning goes through the parse.
      const d0 = this.data[this.#part2Start];
      const plain =
        this.#requestUri === null &&
        d0 !== LAQUOT &&
        this.data.indexOf(SP, this.#part2Start) >= this.#part2End;
      const codes = plain
        ? requestUriIssues(this.data, this.#part2Start, this.#part2End)
        : this.#requestUriCodes();
      if (codes.length > 0) this.#flagAll(codes, 'Request-URI', -1);
    }

    const notes = this.#notes;
    if (notes !== null) {
      for (let i = 0; i < notes.length; i += 2) {
        const name = notes[i]!;
        this.#flag(notes[i + 1]!, name, this.#findFirst(headerId(name)));
      }
    }
  }

  #requestUriCodes(): readonly string[] {
    const ru = this.requestUri;
    if (ru === undefined) return [];
    return ru.hasHeaders && ru.isSip ? [...ru.issues, 'sip_escaped_headers_in_request_uri'] : ru.issues;
  }

  /** delta-seconds, optionally followed by parameters (Retry-After, Session-Expires). */
  #checkDelta(o: number, name: string, params: boolean): void {
    const d = this.data;
    const s = this.#vs(o);
    let e = this.#ve(o);
    if (params) {
      let p = s;
      while (p < e && (CHAR[d[p]!]! & C_DIGIT) !== 0) p++;
      e = p;
    }
    const v = parseDecimal(d, s, e);
    if (v === NOT_A_NUMBER) this.#flag('sip_bad_number', name, o);
    else if (v > MAX_DELTA_SECONDS) this.#flag('sip_overlarge_value', name, o);
  }

  /** Warning codes must be 3 digits (RFC 3261 section 20.43). */
  #checkWarnings(): void {
    const ix = this.#index;
    const d = this.data;
    for (let o = 0; o < ix.length; o += STRIDE) {
      if (((ix[o + 1]! >>> ID_SHIFT) & ID_MASK) !== H_WARNING + 1) continue;
      if (PAIRS.length !== 0) PAIRS.length = 0;
      splitList(d, this.#vs(o), this.#ve(o), PAIRS, SIP_MAX_LIST_VALUES, null);
      for (let i = 0; i < PAIRS.length; i += 2) {
        const s = PAIRS[i]!;
        let p = s;
        while (p < PAIRS[i + 1]! && (CHAR[d[p]!]! & C_DIGIT) !== 0) p++;
        if (p - s > 3) this.#flag('sip_overlarge_value', 'Warning', o);
        else if (p - s !== 3) this.#flag('sip_bad_number', 'Warning', o);
      }
    }
  }
}

/** Parses one framed SIP message (a datagram payload or a stream frame). Never throws. */
export function parseSipMessage(data: Buffer, options?: SipParseOptions): SipMessage {
  return new SipMessage(data, options);
}

/** Credentials and challenges, re-exported so consumers import the message's types from one place. */
export type { DigestChallenge, DigestCredentials } from './digest.js';
/** An address value (From, To, Contact, Route). */
export type { NameAddr } from './name-addr.js';
/** A parsed URI. */
export type { SipUri } from './uri.js';
/** One Via value. */
export type { Via } from './via.js';
