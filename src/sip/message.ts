/**
 * The SIP message parser (RFC 3261 section 7, 25; RFC 4475 and RFC 5118 torture tests).
 *
 * `parseSipMessage` reads the start line and indexes every header field in one pass over the
 * bytes (offsets in an Int32Array, folding resolved, names matched case-insensitively with their
 * compact forms); values are decoded only when an accessor reads them, and each accessor caches its
 * result. It never throws: malformed input becomes anomalies (src/sip/anomalies.ts) and the parser
 * keeps everything it could read. Framing anomalies are found while indexing; the deeper checks
 * (addresses, URIs, Via, CSeq, scalars, duplicates, missing headers) run once, when `anomalies` is
 * first read.
 */
import {
  SIP_MAX_AUTH_CHALLENGES,
  SIP_MAX_HEADERS,
  SIP_MAX_HEADER_FIELD_BYTES,
  SIP_MAX_LIST_VALUES,
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
  C_WS,
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
  SP,
  equalsLower,
  hashStep,
  headerId,
  headerIdFromBytes,
  isListHeader,
  paramMap,
  parseDecimal,
  pushAnomaly,
  scanToken,
  skipLws,
  splitList,
  startsWithLower,
  text,
  trimLwsEnd,
  unfoldText,
} from './headers.js';
import { MAX_DELTA_SECONDS, NameAddr, parseNameAddr } from './name-addr.js';
import { SipUri, parseUri } from './uri.js';
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

/** CSeq value: sequence number (-1 when unreadable or over 2^31-1) and method. */
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

// Index layout: six int32 per header field.
const STRIDE = 6;
const NAME_START = 0;
const NAME_END = 1;
const VALUE_START = 2;
const VALUE_END = 3;
const ID = 4;
const FLAGS = 5;
const FOLDED = 1;

/** Scratch index shared by all parses (the per-message index is an exact-size copy). */
const SCRATCH = new Int32Array(SIP_MAX_HEADERS * STRIDE);
const EMPTY_BUFFER = Buffer.alloc(0);
const MAX_CSEQ = 2147483647;
const MAX_FORWARDS_LIMIT = 255;

/** Methods interned so a hot accessor does not allocate for them. */
function methodName(buf: Buffer, s: number, e: number): string {
  const c = buf[s];
  switch (e - s) {
    case 3:
      if (c === 0x41 && buf[s + 1] === 0x43 && buf[s + 2] === 0x4b) return 'ACK';
      if (c === 0x42 && buf[s + 1] === 0x59 && buf[s + 2] === 0x45) return 'BYE';
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

const RFC1123 = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/;

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
  /** The body as framed (a view into `data`). */
  readonly body: Buffer;
  /** The first valid Content-Length value, undefined when absent or unreadable. */
  readonly contentLength: number | undefined;
  /** Number of header fields indexed. */
  readonly headerCount: number;
  /** The input held only CR/LF: an RFC 5626 keep-alive, not a message (kind `invalid`, no anomaly). */
  readonly keepAlive: boolean;
  /** Offset of the start line in `data`. */
  readonly start: number;

  private readonly index: Int32Array;
  private readonly anomalyList: Anomaly[];
  private validated: boolean;
  private readonly lineStart: number;
  private readonly lineEnd: number;
  private readonly part2Start: number;
  private readonly part2End: number;
  private readonly part3Start: number;

  private callIdCache: string | undefined | null = null;
  private cseqCache: CSeq | undefined | null = null;
  private cseqIssue: string | undefined = undefined;
  private fromCache: NameAddr | undefined | null = null;
  private toCache: NameAddr | undefined | null = null;
  private viaCache: Via[] | null = null;
  private viaIssues: string[] = [];
  private contactCache: NameAddr[] | null = null;
  private routeCache: NameAddr[] | null = null;
  private recordRouteCache: NameAddr[] | null = null;
  private listIssues: string[][] = [];
  private userAgentCache: string | undefined | null = null;
  private serverCache: string | undefined | null = null;
  private requestUriCache: SipUri | undefined | null = null;
  private authorizationCache: DigestCredentials | undefined | null = null;
  private proxyAuthorizationCache: DigestCredentials | undefined | null = null;
  private wwwAuthenticateCache: DigestChallenge[] | null = null;
  private proxyAuthenticateCache: DigestChallenge[] | null = null;
  private uriText: string | undefined = undefined;
  private reasonText: string | undefined = undefined;

  constructor(data: Buffer, options?: SipParseOptions) {
    this.data = data;
    const buf = data;
    const end = data.length;
    const anomalies: Anomaly[] = [];
    this.anomalyList = anomalies;
    this.validated = false;

    // RFC 5626 CRLF keep-alives before a message are silently skipped.
    let p = 0;
    while (p < end && (buf[p] === CR || buf[p] === LF)) p++;
    const junkStart = p;
    while (p < end && (CHAR[buf[p]!]! & C_TOKEN) === 0) p++;
    if (p > junkStart) {
      while (p < end && (buf[p] === CR || buf[p] === LF)) p++;
      anomalies.push({ code: 'sip_junk_before_request', offset: junkStart, detail: `${p - junkStart} bytes` });
    }
    this.start = p;
    this.keepAlive = p === end && junkStart === end;

    // Start line.
    let le = p;
    while (le < end && buf[le] !== LF) le++;
    const next = le < end ? le + 1 : end;
    if (le > p && buf[le - 1] === CR) le--;
    this.lineStart = p;
    this.lineEnd = le;
    let kind: SipMessageKind = 'invalid';
    let method = '';
    let status = 0;
    let part2Start = le;
    let part2End = le;
    let part3Start = le;
    if (p === end) {
      if (!this.keepAlive) anomalies.push({ code: 'sip_bad_start_line', offset: p, detail: 'empty' });
    } else if (le - p >= 4 && startsWithLower(buf, p, le, 'sip/')) {
      // Status-Line = SIP-Version SP Status-Code SP Reason-Phrase
      let v = p;
      while (v < le && buf[v] !== SP) v++;
      if (!isSip20(buf, p, v)) anomalies.push({ code: 'sip_bad_version', offset: p });
      let c = v;
      while (c < le && buf[c] === SP) c++;
      if (c - v > 1) anomalies.push({ code: 'sip_multiple_sp_in_start_line', offset: v });
      let ce = c;
      while (ce < le && (CHAR[buf[ce]!]! & C_DIGIT) !== 0) ce++;
      const code = parseDecimal(buf, c, ce);
      part2Start = c;
      part2End = ce;
      part3Start = ce < le ? ce + 1 : le;
      if (v === le || ce - c !== 3 || code < 100 || code > 699 || (ce < le && buf[ce] !== SP)) {
        anomalies.push({ code: v === le ? 'sip_bad_start_line' : 'sip_bad_status_code', offset: c });
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
        anomalies.push({ code: 'sip_bad_start_line', offset: p });
      } else if (lastSp <= m || !startsWithLower(buf, lastSp + 1, t, 'sip/')) {
        method = methodName(buf, p, m);
        part2Start = m + 1;
        part2End = t;
        anomalies.push({ code: 'sip_bad_start_line', offset: p, detail: 'no SIP-Version' });
      } else {
        method = methodName(buf, p, m);
        kind = 'request';
        if (t < le) anomalies.push({ code: 'sip_trailing_sp_in_start_line', offset: t });
        if (!isSip20(buf, lastSp + 1, t)) anomalies.push({ code: 'sip_bad_version', offset: lastSp + 1 });
        let us = m + 1;
        let ue = lastSp;
        while (us < ue && (buf[us] === SP || buf[us] === HTAB)) us++;
        while (ue > us && (buf[ue - 1] === SP || buf[ue - 1] === HTAB)) ue--;
        if (us !== m + 1 || ue !== lastSp) anomalies.push({ code: 'sip_multiple_sp_in_start_line', offset: m });
        if (us === ue) {
          kind = 'invalid';
          anomalies.push({ code: 'sip_bad_start_line', offset: m, detail: 'no Request-URI' });
        }
        for (let i = us; i < ue; i++) {
          if (buf[i] === SP || buf[i] === HTAB) {
            anomalies.push({ code: 'sip_uri_embedded_lws', offset: i });
            break;
          }
        }
        if (ue - us >= 2 && buf[us] === LAQUOT && buf[ue - 1] === RAQUOT) {
          anomalies.push({ code: 'sip_uri_enclosed_in_brackets', offset: us });
        }
        part2Start = us;
        part2End = ue;
        part3Start = lastSp + 1;
      }
    }
    this.kind = kind;
    this.method = method;
    this.status = status;
    this.part2Start = part2Start;
    this.part2End = part2End;
    this.part3Start = part3Start;

    // Header fields, indexed in one pass.
    const ix = SCRATCH;
    let n = 0;
    let bodyStart = -1;
    let clFirst = -1;
    let clCount = 0;
    let bareLf = le < end && next > 0 && buf[next - 1] === LF && next - 2 >= p && buf[next - 2] !== CR;
    let tooMany = false;
    let tooLong = false;
    p = next;
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
      let h = 0;
      while ((CHAR[c]! & C_TOKEN) !== 0) {
        h = hashStep(h, c);
        if (++p === end) break;
        c = buf[p]!;
      }
      const ne = p;
      while (p < end && (buf[p] === SP || buf[p] === HTAB)) p++;
      if (p === end || buf[p] !== COLON || ne === ns) {
        // Not a header field: report it and skip the line.
        let colon = false;
        while (p < end && buf[p] !== LF) {
          if (buf[p] === COLON) colon = true;
          p++;
        }
        const code = !colon ? 'sip_header_without_colon' : 'sip_bad_header_name';
        pushAnomaly(anomalies, code, undefined, ns);
        if (p < end) p++;
        continue;
      }
      p++;
      let vs = p;
      let flags = 0;
      for (;;) {
        while (p < end && buf[p] !== LF) p++;
        if (p + 1 < end && (buf[p + 1] === SP || buf[p + 1] === HTAB)) {
          flags = FOLDED;
          p++;
          continue;
        }
        break;
      }
      const lineEnd = p;
      if (p < end) {
        if (buf[p - 1] !== CR) bareLf = true;
        p++;
      }
      let ve = lineEnd;
      while (ve > vs && (CHAR[buf[ve - 1]!]! & C_WS) !== 0) ve--;
      while (vs < ve && (CHAR[buf[vs]!]! & C_WS) !== 0) vs++;
      if (lineEnd - ns > SIP_MAX_HEADER_FIELD_BYTES && !tooLong) {
        tooLong = true;
        anomalies.push({ code: 'sip_header_too_long', offset: ns });
      }
      const id = headerIdFromBytes(buf, ns, ne, h);
      if (id === H_CONTENT_LENGTH) {
        if (clCount === 0) clFirst = n;
        clCount++;
      }
      if (n < SIP_MAX_HEADERS) {
        const o = n * STRIDE;
        ix[o + NAME_START] = ns;
        ix[o + NAME_END] = ne;
        ix[o + VALUE_START] = vs;
        ix[o + VALUE_END] = ve;
        ix[o + ID] = id;
        ix[o + FLAGS] = flags;
        n++;
      } else if (!tooMany) {
        tooMany = true;
        anomalies.push({ code: 'sip_too_many_headers', offset: ns });
      }
    }
    this.headerCount = n;
    this.index = ix.slice(0, n * STRIDE);
    if (bareLf) anomalies.push({ code: 'sip_bare_lf' });
    if (bodyStart < 0) {
      bodyStart = end;
      if (!this.keepAlive && p > this.start) anomalies.push({ code: 'sip_headers_unterminated', offset: end });
    }

    // Body framing by Content-Length.
    let bodyEnd = options?.stream === true ? bodyStart : end;
    let contentLength: number | undefined;
    if (clCount > 0 && clFirst >= 0) {
      const o = clFirst * STRIDE;
      const s = ix[o + VALUE_START]!;
      const e = ix[o + VALUE_END]!;
      const v = parseDecimal(buf, s, e);
      if (v === NOT_A_NUMBER) {
        const negative = e > s && buf[s] === 0x2d && parseDecimal(buf, s + 1, e) !== NOT_A_NUMBER;
        anomalies.push({ code: negative ? 'sip_negative_content_length' : 'sip_bad_content_length', offset: s });
      } else {
        contentLength = v;
        if (bodyStart + v > end) {
          anomalies.push({ code: 'sip_body_truncated', offset: end, detail: `${end - bodyStart} of ${v} bytes` });
          bodyEnd = end;
        } else bodyEnd = bodyStart + v;
      }
      if (clCount > 1) anomalies.push({ code: 'sip_multiple_content_length', offset: s });
    }
    this.contentLength = contentLength;
    this.length = this.keepAlive ? end : bodyEnd;
    this.body = bodyEnd > bodyStart ? data.subarray(bodyStart, bodyEnd) : EMPTY_BUFFER;
  }

  // ── start line ──────────────────────────────────────────────────────────────────────────────

  /** Request-URI exactly as written (may hold LWS or <> when malformed); '' for responses. */
  get uri(): string {
    if (this.uriText === undefined) {
      this.uriText = this.kind === 'response' ? '' : text(this.data, this.part2Start, this.part2End);
    }
    return this.uriText;
  }

  /** SIP-Version as written ('' when the start line has none). */
  get version(): string {
    const d = this.data;
    if (this.kind === 'response') {
      let v = this.lineStart;
      while (v < this.lineEnd && d[v] !== SP) v++;
      return isSip20(d, this.lineStart, v) ? 'SIP/2.0' : text(d, this.lineStart, v);
    }
    if (this.kind === 'request') {
      let t = this.lineEnd;
      while (t > this.part3Start && (d[t - 1] === SP || d[t - 1] === HTAB)) t--;
      return isSip20(d, this.part3Start, t) ? 'SIP/2.0' : text(d, this.part3Start, t);
    }
    return '';
  }

  /** Response reason phrase ('' for requests). */
  get reason(): string {
    if (this.reasonText === undefined) {
      this.reasonText = this.kind === 'response' ? text(this.data, this.part3Start, this.lineEnd) : '';
    }
    return this.reasonText;
  }

  /** Request-URI parsed (angle brackets and embedded LWS removed first); undefined for responses. */
  get requestUri(): SipUri | undefined {
    if (this.requestUriCache === null) {
      let s = this.part2Start;
      let e = this.part2End;
      if (this.kind !== 'request' || s >= e) this.requestUriCache = undefined;
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
          this.requestUriCache = parseUri(cleaned, 0, cleaned.length);
        } else this.requestUriCache = parseUri(d, s, e);
      }
    }
    return this.requestUriCache;
  }

  // ── generic header access ───────────────────────────────────────────────────────────────────

  private findFirst(id: number): number {
    const ix = this.index;
    for (let o = ID; o < ix.length; o += STRIDE) if (ix[o] === id) return o - ID;
    return -1;
  }

  private valueAt(o: number): string {
    const ix = this.index;
    const s = ix[o + VALUE_START]!;
    const e = ix[o + VALUE_END]!;
    return (ix[o + FLAGS]! & FOLDED) !== 0 ? unfoldText(this.data, s, e) : text(this.data, s, e);
  }

  private matches(o: number, id: number, lower: string): boolean {
    const ix = this.index;
    if (id >= 0) return ix[o + ID] === id;
    return ix[o + ID] === -1 && equalsLower(this.data, ix[o + NAME_START]!, ix[o + NAME_END]!, lower);
  }

  /** First value of a header (any case, compact forms accepted), folding undone; undefined when absent. */
  header(name: string): string | undefined {
    const id = headerId(name);
    const lower = id < 0 ? name.toLowerCase() : '';
    for (let o = 0; o < this.index.length; o += STRIDE) if (this.matches(o, id, lower)) return this.valueAt(o);
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
    const ix = this.index;
    const pairs: number[] = [];
    for (let o = 0; o < ix.length && out.length < SIP_MAX_LIST_VALUES; o += STRIDE) {
      if (!this.matches(o, id, lower)) continue;
      if (!list) {
        out.push(this.valueAt(o));
        continue;
      }
      pairs.length = 0;
      splitList(this.data, ix[o + VALUE_START]!, ix[o + VALUE_END]!, pairs, SIP_MAX_LIST_VALUES, null);
      for (let i = 0; i < pairs.length && out.length < SIP_MAX_LIST_VALUES; i += 2) {
        out.push(unfoldText(this.data, pairs[i]!, pairs[i + 1]!));
      }
    }
    return out;
  }

  /** Header names exactly as written, in wire order (one per field; compact forms kept). */
  headerNames(): string[] {
    const out: string[] = [];
    const ix = this.index;
    for (let o = 0; o < ix.length; o += STRIDE) out.push(text(this.data, ix[o + NAME_START]!, ix[o + NAME_END]!));
    return out;
  }

  /** True when the header is present. */
  has(name: string): boolean {
    const id = headerId(name);
    const lower = id < 0 ? name.toLowerCase() : '';
    for (let o = 0; o < this.index.length; o += STRIDE) if (this.matches(o, id, lower)) return true;
    return false;
  }

  // ── typed accessors (cached) ────────────────────────────────────────────────────────────────

  /** Call-ID value. */
  get callId(): string | undefined {
    if (this.callIdCache === null) {
      const o = this.findFirst(H_CALL_ID);
      this.callIdCache = o < 0 ? undefined : this.valueAt(o);
    }
    return this.callIdCache;
  }

  /** CSeq sequence number and method; undefined when absent or unreadable. */
  get cseq(): CSeq | undefined {
    if (this.cseqCache === null) this.cseqCache = this.parseCSeq();
    return this.cseqCache;
  }

  private parseCSeq(): CSeq | undefined {
    const o = this.findFirst(H_CSEQ);
    if (o < 0) return undefined;
    const d = this.data;
    const s = this.index[o + VALUE_START]!;
    const e = this.index[o + VALUE_END]!;
    let p = s;
    while (p < e && (CHAR[d[p]!]! & C_DIGIT) !== 0) p++;
    let seq = parseDecimal(d, s, p);
    const ms = skipLws(d, p, e);
    const me = scanToken(d, ms, e);
    if (seq === NOT_A_NUMBER || ms === p || me === ms || me !== e) {
      this.cseqIssue = 'sip_bad_cseq';
      if (seq === NOT_A_NUMBER || me === ms) return undefined;
    }
    if (seq > MAX_CSEQ) {
      this.cseqIssue = 'sip_overlarge_value';
      seq = -1;
    }
    return new CSeq(seq, methodName(d, ms, me));
  }

  private nameAddr(id: number): NameAddr | undefined {
    const o = this.findFirst(id);
    if (o < 0) return undefined;
    return parseNameAddr(this.data, this.index[o + VALUE_START]!, this.index[o + VALUE_END]!, false);
  }

  /** From: display name, URI, tag, params. */
  get from(): NameAddr | undefined {
    if (this.fromCache === null) this.fromCache = this.nameAddr(H_FROM);
    return this.fromCache;
  }

  /** To: display name, URI, tag, params. */
  get to(): NameAddr | undefined {
    if (this.toCache === null) this.toCache = this.nameAddr(H_TO);
    return this.toCache;
  }

  /** Every Via value, top first (at most SIP_MAX_VIAS). */
  get vias(): readonly Via[] {
    if (this.viaCache === null) {
      const out: Via[] = [];
      const ix = this.index;
      let dropped = 0;
      for (let o = 0; o < ix.length; o += STRIDE) {
        if (ix[o + ID] !== H_VIA) continue;
        dropped += parseVias(this.data, ix[o + VALUE_START]!, ix[o + VALUE_END]!, out, SIP_MAX_VIAS, this.viaIssues);
      }
      if (dropped > 0) this.viaIssues.push('sip_too_many_vias');
      this.viaCache = out;
    }
    return this.viaCache;
  }

  private addressList(id: number, contact: boolean): NameAddr[] {
    const out: NameAddr[] = [];
    const issues: string[] = [];
    const ix = this.index;
    const pairs: number[] = [];
    let total = 0;
    for (let o = 0; o < ix.length; o += STRIDE) {
      if (ix[o + ID] !== id) continue;
      pairs.length = 0;
      total += splitList(this.data, ix[o + VALUE_START]!, ix[o + VALUE_END]!, pairs, SIP_MAX_LIST_VALUES, issues);
      for (let i = 0; i < pairs.length && out.length < SIP_MAX_LIST_VALUES; i += 2) {
        out.push(parseNameAddr(this.data, pairs[i]!, pairs[i + 1]!, contact));
      }
    }
    if (total > SIP_MAX_LIST_VALUES) issues.push('sip_too_many_values');
    issues.unshift(HEADER_DEFS[id]!.name);
    this.listIssues.push(issues);
    return out;
  }

  /** Contact values (a `*` has `star` set), with their expires and q parameters. */
  get contacts(): readonly NameAddr[] {
    if (this.contactCache === null) this.contactCache = this.addressList(H_CONTACT, true);
    return this.contactCache;
  }

  /** Route values, in order. */
  get routes(): readonly NameAddr[] {
    if (this.routeCache === null) this.routeCache = this.addressList(H_ROUTE, false);
    return this.routeCache;
  }

  /** Record-Route values, in order. */
  get recordRoutes(): readonly NameAddr[] {
    if (this.recordRouteCache === null) this.recordRouteCache = this.addressList(H_RECORD_ROUTE, false);
    return this.recordRouteCache;
  }

  /** Content-Type value as written (parameters included). */
  get contentType(): string | undefined {
    const o = this.findFirst(H_CONTENT_TYPE);
    return o < 0 ? undefined : this.valueAt(o);
  }

  /** Lower-case `type/subtype` of Content-Type, without parameters. */
  get mediaType(): string | undefined {
    const o = this.findFirst(H_CONTENT_TYPE);
    if (o < 0) return undefined;
    const s = this.index[o + VALUE_START]!;
    let e = s;
    const end = this.index[o + VALUE_END]!;
    while (e < end && this.data[e] !== SEMI) e++;
    return text(this.data, s, trimLwsEnd(this.data, s, e)).replace(/\s+/g, '').toLowerCase();
  }

  private scalar(id: number): number | undefined {
    const o = this.findFirst(id);
    if (o < 0) return undefined;
    const v = parseDecimal(this.data, this.index[o + VALUE_START]!, this.index[o + VALUE_END]!);
    return v === NOT_A_NUMBER ? undefined : v;
  }

  /** Expires header in seconds (clamped to 2^32-1); undefined when absent or not a number. */
  get expires(): number | undefined {
    const v = this.scalar(H_EXPIRES);
    return v === undefined ? undefined : Math.min(v, MAX_DELTA_SECONDS);
  }

  /** Max-Forwards value; undefined when absent or not a number. */
  get maxForwards(): number | undefined {
    return this.scalar(H_MAX_FORWARDS);
  }

  /** User-Agent value. */
  get userAgent(): string | undefined {
    if (this.userAgentCache === null) {
      const o = this.findFirst(H_USER_AGENT);
      this.userAgentCache = o < 0 ? undefined : this.valueAt(o);
    }
    return this.userAgentCache;
  }

  /** Server value. */
  get server(): string | undefined {
    if (this.serverCache === null) {
      const o = this.findFirst(H_SERVER);
      this.serverCache = o < 0 ? undefined : this.valueAt(o);
    }
    return this.serverCache;
  }

  private credentials(id: number, issues: string[] | null): DigestCredentials | undefined {
    const o = this.findFirst(id);
    if (o < 0) return undefined;
    return parseCredentials(this.data, this.index[o + VALUE_START]!, this.index[o + VALUE_END]!, issues ?? []);
  }

  private challenges(id: number, issues: string[] | null): DigestChallenge[] {
    const out: DigestChallenge[] = [];
    const ix = this.index;
    for (let o = 0; o < ix.length; o += STRIDE) {
      if (ix[o + ID] !== id) continue;
      parseChallenges(this.data, ix[o + VALUE_START]!, ix[o + VALUE_END]!, out, SIP_MAX_AUTH_CHALLENGES, issues ?? []);
    }
    return out;
  }

  /** Authorization credentials (first field). */
  get authorization(): DigestCredentials | undefined {
    if (this.authorizationCache === null) this.authorizationCache = this.credentials(H_AUTHORIZATION, null);
    return this.authorizationCache;
  }

  /** Proxy-Authorization credentials (first field). */
  get proxyAuthorization(): DigestCredentials | undefined {
    if (this.proxyAuthorizationCache === null) {
      this.proxyAuthorizationCache = this.credentials(H_PROXY_AUTHORIZATION, null);
    }
    return this.proxyAuthorizationCache;
  }

  /** Every WWW-Authenticate challenge. */
  get wwwAuthenticate(): readonly DigestChallenge[] {
    if (this.wwwAuthenticateCache === null) this.wwwAuthenticateCache = this.challenges(H_WWW_AUTHENTICATE, null);
    return this.wwwAuthenticateCache;
  }

  /** Every Proxy-Authenticate challenge. */
  get proxyAuthenticate(): readonly DigestChallenge[] {
    if (this.proxyAuthenticateCache === null) {
      this.proxyAuthenticateCache = this.challenges(H_PROXY_AUTHENTICATE, null);
    }
    return this.proxyAuthenticateCache;
  }

  /** Session-Expires (RFC 4028): seconds and refresher. */
  get sessionExpires(): SessionExpires | undefined {
    const o = this.findFirst(H_SESSION_EXPIRES);
    if (o < 0) return undefined;
    const d = this.data;
    const s = this.index[o + VALUE_START]!;
    const e = this.index[o + VALUE_END]!;
    let p = s;
    while (p < e && (CHAR[d[p]!]! & C_DIGIT) !== 0) p++;
    const v = parseDecimal(d, s, p);
    if (v === NOT_A_NUMBER) return undefined;
    const refresher = paramMap(d, p, e).get('refresher');
    return new SessionExpires(Math.min(v, MAX_DELTA_SECONDS), refresher);
  }

  /** Option tags of every Supported field. */
  get supported(): string[] {
    return this.headers('Supported');
  }

  /** Methods of every Allow field. */
  get allow(): string[] {
    return this.headers('Allow');
  }

  // ── anomalies ───────────────────────────────────────────────────────────────────────────────

  /**
   * Every anomaly of the message. Framing anomalies are found by the parse; the first read also
   * runs the full validation of the headers (cached afterwards).
   */
  get anomalies(): readonly Anomaly[] {
    if (!this.validated) {
      this.validated = true;
      if (this.kind !== 'invalid') this.validate();
    }
    return this.anomalyList;
  }

  private flag(code: string, detail: string, o: number): void {
    pushAnomaly(this.anomalyList, code, detail, o >= 0 ? this.index[o + NAME_START] : undefined);
  }

  private flagAll(codes: readonly string[], detail: string, o: number): void {
    for (let i = 0; i < codes.length; i++) this.flag(codes[i]!, detail, o);
  }

  private validate(): void {
    const ix = this.index;
    const d = this.data;
    const counts = new Uint8Array(HEADER_DEFS.length);
    for (let o = 0; o < ix.length; o += STRIDE) {
      const id = ix[o + ID]!;
      if (id < 0) continue;
      if (counts[id]! < 255) counts[id]!++;
      if (counts[id] === 2 && HEADER_DEFS[id]!.single && id !== H_CONTENT_LENGTH) {
        this.flag('sip_duplicate_single_header', HEADER_DEFS[id]!.name, o);
      }
    }

    // Vias first: an RFC 2543 element (top Via without the magic cookie) omits Max-Forwards legally.
    const vias = this.vias;
    const top = vias[0];
    const rfc2543 = top !== undefined && (top.branch === undefined || !top.branch.startsWith(MAGIC_COOKIE));
    const required =
      this.kind === 'request' && !rfc2543
        ? [H_CALL_ID, H_CSEQ, H_FROM, H_TO, H_VIA, H_MAX_FORWARDS]
        : [H_CALL_ID, H_CSEQ, H_FROM, H_TO, H_VIA];
    for (const id of required) if (counts[id] === 0) this.flag('sip_missing_header', HEADER_DEFS[id]!.name, -1);
    const viaField = this.findFirst(H_VIA);
    this.flagAll(this.viaIssues, 'Via', viaField);
    if (top !== undefined && (top.branch === MAGIC_COOKIE || top.branch === '')) {
      this.flag('sip_missing_branch', 'Via', viaField);
    }

    const cseq = this.cseq;
    const cseqField = this.findFirst(H_CSEQ);
    if (this.cseqIssue !== undefined) this.flag(this.cseqIssue, 'CSeq', cseqField);
    if (cseq !== undefined && this.kind === 'request' && cseq.method !== this.method) {
      this.flag('sip_cseq_method_mismatch', 'CSeq', cseqField);
    }

    const from = this.from;
    if (from !== undefined) this.checkAddress(from, 'From', this.findFirst(H_FROM));
    const to = this.to;
    if (to !== undefined) this.checkAddress(to, 'To', this.findFirst(H_TO));
    for (const c of this.contacts) this.checkAddress(c, 'Contact', this.findFirst(H_CONTACT));
    for (const r of this.routes) this.checkAddress(r, 'Route', this.findFirst(H_ROUTE));
    for (const r of this.recordRoutes) this.checkAddress(r, 'Record-Route', this.findFirst(H_RECORD_ROUTE));
    for (const list of this.listIssues) {
      const name = list[0]!;
      for (let i = 1; i < list.length; i++) this.flag(list[i]!, name, this.findFirst(headerId(name)));
    }

    const mf = this.findFirst(H_MAX_FORWARDS);
    if (mf >= 0) {
      const v = parseDecimal(d, ix[mf + VALUE_START]!, ix[mf + VALUE_END]!);
      if (v === NOT_A_NUMBER) this.flag('sip_bad_number', 'Max-Forwards', mf);
      else if (v > MAX_FORWARDS_LIMIT) this.flag('sip_overlarge_value', 'Max-Forwards', mf);
    }
    for (const id of [H_EXPIRES, H_MIN_EXPIRES]) {
      const o = this.findFirst(id);
      if (o < 0) continue;
      const v = parseDecimal(d, ix[o + VALUE_START]!, ix[o + VALUE_END]!);
      if (v === NOT_A_NUMBER) this.flag('sip_bad_number', HEADER_DEFS[id]!.name, o);
      else if (v > MAX_DELTA_SECONDS) this.flag('sip_overlarge_value', HEADER_DEFS[id]!.name, o);
    }
    for (const id of [H_RETRY_AFTER, H_SESSION_EXPIRES]) {
      const o = this.findFirst(id);
      if (o < 0) continue;
      const s = ix[o + VALUE_START]!;
      let p = s;
      while (p < ix[o + VALUE_END]! && (CHAR[d[p]!]! & C_DIGIT) !== 0) p++;
      const v = parseDecimal(d, s, p);
      if (v === NOT_A_NUMBER) this.flag('sip_bad_number', HEADER_DEFS[id]!.name, o);
      else if (v > MAX_DELTA_SECONDS) this.flag('sip_overlarge_value', HEADER_DEFS[id]!.name, o);
    }
    for (let o = 0; o < ix.length; o += STRIDE) {
      if (ix[o + ID] !== H_WARNING) continue;
      const pairs: number[] = [];
      splitList(d, ix[o + VALUE_START]!, ix[o + VALUE_END]!, pairs, SIP_MAX_LIST_VALUES, null);
      for (let i = 0; i < pairs.length; i += 2) {
        const s = pairs[i]!;
        let p = s;
        while (p < pairs[i + 1]! && (CHAR[d[p]!]! & C_DIGIT) !== 0) p++;
        if (p - s > 3) this.flag('sip_overlarge_value', 'Warning', o);
        else if (p - s !== 3) this.flag('sip_bad_number', 'Warning', o);
      }
    }
    const date = this.findFirst(H_DATE);
    if (date >= 0 && !RFC1123.test(this.valueAt(date))) this.flag('sip_bad_date', 'Date', date);

    if (this.kind === 'request') {
      const ru = this.requestUri;
      if (ru !== undefined) {
        for (const code of ru.issues) pushAnomaly(this.anomalyList, code, 'Request-URI', this.part2Start);
        if (ru.hasHeaders && ru.isSip) {
          pushAnomaly(this.anomalyList, 'sip_escaped_headers_in_request_uri', 'Request-URI', this.part2Start);
        }
      }
    }

    const authIssues: string[] = [];
    for (const id of [H_AUTHORIZATION, H_PROXY_AUTHORIZATION]) {
      for (let o = 0; o < ix.length; o += STRIDE) {
        if (ix[o + ID] !== id) continue;
        authIssues.length = 0;
        parseCredentials(d, ix[o + VALUE_START]!, ix[o + VALUE_END]!, authIssues);
        this.flagAll(authIssues, HEADER_DEFS[id]!.name, o);
      }
    }
    for (const id of [H_WWW_AUTHENTICATE, H_PROXY_AUTHENTICATE]) {
      authIssues.length = 0;
      this.challenges(id, authIssues);
      this.flagAll(authIssues, HEADER_DEFS[id]!.name, this.findFirst(id));
    }
  }

  private checkAddress(a: NameAddr, name: string, o: number): void {
    this.flagAll(a.issues, name, o);
    const u = a.uri;
    if (u !== undefined) this.flagAll(u.issues, name, o);
  }
}

/** Parses one framed SIP message (a datagram payload or a stream frame). Never throws. */
export function parseSipMessage(data: Buffer, options?: SipParseOptions): SipMessage {
  return new SipMessage(data, options);
}

// Re-exported so consumers import the message's value types from one place.
export type { DigestChallenge, DigestCredentials } from './digest.js';
export type { NameAddr } from './name-addr.js';
export type { SipUri } from './uri.js';
export type { Via } from './via.js';
