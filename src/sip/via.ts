/**
 * Via values (RFC 3261 sections 18.2.1, 20.42, 25.1): `sent-protocol LWS sent-by *(SEMI via-params)`,
 * several per field separated by commas, LWS allowed around the slashes.
 */
import {
  CHAR,
  COLON,
  COMMA,
  C_DIGIT,
  C_HOST,
  C_WS,
  LBRACKET,
  PARAM_OFFSETS,
  RBRACKET,
  SEMI,
  SLASH,
  equalsLower,
  paramMap,
  paramScanEnd,
  scanParams,
  scanQuoted,
  scanToken,
  skipLws,
  text,
  tokenOrQuoted,
} from './headers.js';
import type { HostType } from './uri.js';
import { isIpv4, isIpv6 } from './uri.js';

/** RFC 3261 section 8.1.1.7: a branch starting with it was made by an RFC 3261 element. */
export const MAGIC_COOKIE = 'z9hG4bK';

const EMPTY_MAP: ReadonlyMap<string, string> = new Map();

/** One Via value. Host, branch and received are decoded when first read. */
export class Via {
  /** `SIP/2.0` (as `name/version`, LWS removed). */
  readonly protocol: string;
  /** Upper-case transport: UDP, TCP, TLS, SCTP, WS, WSS, or whatever was written. */
  readonly transport: string;
  readonly port: number | undefined;
  /** `rport`: the port number, or true when present without a value (RFC 3581). */
  readonly rport: number | true | undefined;
  readonly #buf: Buffer;
  readonly #hostStart: number;
  readonly #hostEnd: number;
  readonly #ipv6: boolean;
  readonly #branchStart: number;
  readonly #branchEnd: number;
  readonly #receivedStart: number;
  readonly #receivedEnd: number;
  readonly #paramStart: number;
  readonly #paramEnd: number;
  // End of `host:port` when the bytes read exactly so (no LWS, no leading zero), else -1.
  readonly #sentByEnd: number;
  #host: string | undefined = undefined;
  #branch: string | undefined | null = null;
  #paramValues: ReadonlyMap<string, string> | undefined = undefined;

  constructor(
    buf: Buffer,
    protocol: string,
    transport: string,
    hostStart: number,
    hostEnd: number,
    ipv6: boolean,
    port: number | undefined,
    branchStart: number,
    branchEnd: number,
    receivedStart: number,
    receivedEnd: number,
    rport: number | true | undefined,
    paramStart: number,
    paramEnd: number,
    sentByEnd: number,
  ) {
    this.#buf = buf;
    this.protocol = protocol;
    this.transport = transport;
    this.#hostStart = hostStart;
    this.#hostEnd = hostEnd;
    this.#ipv6 = ipv6;
    this.port = port;
    this.#branchStart = branchStart;
    this.#branchEnd = branchEnd;
    this.#receivedStart = receivedStart;
    this.#receivedEnd = receivedEnd;
    this.rport = rport;
    this.#paramStart = paramStart;
    this.#paramEnd = paramEnd;
    this.#sentByEnd = sentByEnd;
  }

  /** sent-by host as written (IPv6 references keep their brackets). */
  get host(): string {
    if (this.#host === undefined) this.#host = text(this.#buf, this.#hostStart, this.#hostEnd);
    return this.#host;
  }

  /** What the sent-by host is (worked out when read). */
  get hostType(): HostType {
    if (this.#ipv6) return 'ipv6';
    return isIpv4(this.#buf, this.#hostStart, this.#hostEnd) ? 'ipv4' : 'hostname';
  }

  /** `branch` parameter ('' when written without a value), undefined when absent. */
  get branch(): string | undefined {
    if (this.#branch === null) {
      const s = this.#branchStart;
      this.#branch =
        s === ABSENT ? undefined : s === NO_VALUE ? '' : tokenOrQuoted(this.#buf, s, this.#branchEnd);
    }
    return this.#branch;
  }

  /** `received` address, brackets removed (RFC 5118 section 4.5 tolerates them). */
  get received(): string | undefined {
    return this.#receivedStart < 0 ? undefined : text(this.#buf, this.#receivedStart, this.#receivedEnd);
  }

  /** All via-params: lower-case names, unquoted values ('' when valueless). */
  get params(): ReadonlyMap<string, string> {
    if (this.#paramValues === undefined) {
      this.#paramValues =
        this.#paramStart < this.#paramEnd ? paramMap(this.#buf, this.#paramStart, this.#paramEnd) : EMPTY_MAP;
    }
    return this.#paramValues;
  }

  /** `host` or `host:port`, the key a transaction matches on. */
  get sentBy(): string {
    if (this.port === undefined) return this.host;
    // The bytes as written are the same text as host + ':' + port when they read exactly so: one
    // string instead of three.
    if (this.#sentByEnd >= 0) return text(this.#buf, this.#hostStart, this.#sentByEnd);
    return `${this.host}:${this.port}`;
  }
}

const ABSENT = -1;
const NO_VALUE = -2;

function transportName(buf: Buffer, s: number, e: number): string {
  switch (e - s) {
    case 3: {
      // Upper case as sent by nearly everyone: three byte compares.
      const a = buf[s];
      const b = buf[s + 1];
      const c = buf[s + 2];
      if (a === 0x55 && b === 0x44 && c === 0x50) return 'UDP';
      if (a === 0x54 && b === 0x43 && c === 0x50) return 'TCP';
      if (a === 0x54 && b === 0x4c && c === 0x53) return 'TLS';
      if (equalsLower(buf, s, e, 'udp')) return 'UDP';
      if (equalsLower(buf, s, e, 'tcp')) return 'TCP';
      if (equalsLower(buf, s, e, 'tls')) return 'TLS';
      if (equalsLower(buf, s, e, 'wss')) return 'WSS';
      break;
    }
    case 2:
      if (equalsLower(buf, s, e, 'ws')) return 'WS';
      break;
    case 4:
      if (equalsLower(buf, s, e, 'sctp')) return 'SCTP';
      break;
  }
  return text(buf, s, e).toUpperCase();
}

/** Skips to just past the next comma outside quotes (or e). */
function skipToComma(buf: Buffer, p: number, e: number): number {
  while (p < e) {
    const c = buf[p]!;
    if (c === COMMA) return p + 1;
    if (c === 0x22) {
      const q = scanQuoted(buf, p, e);
      p = q < 0 ? e : q;
    } else p++;
  }
  return e;
}

/**
 * Parses the Via values of one field value [s, e) into `out`, stopping once `out` holds `max`.
 * Returns how many values the field holds beyond that bound (0 normally). Issues go to `issues`:
 * `sip_bad_via`, `sip_bad_version`, `sip_extraneous_header_separator`,
 * `sip_ipv6_reference_without_brackets`, `sip_bad_ipv6_reference` and the parameter scanner's codes.
 */
export function parseVias(
  buf: Buffer,
  s: number,
  e: number,
  out: Via[],
  max: number,
  issues: string[],
): number {
  let dropped = 0;
  let p = s;
  for (;;) {
    p = skipLws(buf, p, e);
    if (p >= e) break;
    const c = buf[p]!;
    if (c === COMMA || c === SEMI) {
      issues.push('sip_extraneous_header_separator');
      p = skipToComma(buf, p, e);
      continue;
    }
    if (out.length >= max) {
      dropped++;
      p = skipToComma(buf, p, e);
      continue;
    }
    // sent-protocol = protocol-name SLASH protocol-version SLASH transport, SLASH = SWS "/" SWS
    let protocol = 'SIP/2.0';
    let ts = -1;
    let te = -1;
    if (
      e - p > 8 &&
      (buf[p]! | 0x20) === 0x73 &&
      (buf[p + 1]! | 0x20) === 0x69 &&
      (buf[p + 2]! | 0x20) === 0x70 &&
      buf[p + 3] === SLASH &&
      buf[p + 4] === 0x32 &&
      buf[p + 5] === 0x2e &&
      buf[p + 6] === 0x30 &&
      buf[p + 7] === SLASH
    ) {
      ts = p + 8;
      te = scanToken(buf, ts, e);
      p = te;
    } else {
      // LWS around the slashes, or another protocol or version (RFC 4475 wsinv.dat, badvers.dat).
      const ns = p;
      const ne = scanToken(buf, p, e);
      p = skipLws(buf, ne, e);
      let vs = -1;
      let ve = -1;
      if (ne > ns && p < e && buf[p] === SLASH) {
        vs = skipLws(buf, p + 1, e);
        ve = scanToken(buf, vs, e);
        p = skipLws(buf, ve, e);
        if (ve > vs && p < e && buf[p] === SLASH) {
          ts = skipLws(buf, p + 1, e);
          te = scanToken(buf, ts, e);
          p = te;
        }
      }
      if (te > ts && ts >= 0) {
        const sip = equalsLower(buf, ns, ne, 'sip');
        const v20 = ve - vs === 3 && buf[vs] === 0x32 && buf[vs + 1] === 0x2e && buf[vs + 2] === 0x30;
        if (!sip || !v20) {
          issues.push('sip_bad_version');
          protocol = `${text(buf, ns, ne)}/${text(buf, vs, ve)}`;
        }
      }
    }
    if (te <= ts || ts < 0) {
      issues.push('sip_bad_via');
      p = skipToComma(buf, p, e);
      continue;
    }
    const transport = transportName(buf, ts, te);
    // sent-by = host [ COLON port ], after the LWS that must follow the transport
    const hs = skipLws(buf, p, e);
    if (hs === p || hs >= e) {
      issues.push('sip_bad_via');
      p = skipToComma(buf, hs, e);
      continue;
    }
    p = hs;
    const hostStart = p;
    let hostEnd: number;
    let ipv6 = false;
    let port: number | undefined;
    let portStart = -1;
    let sentByEnd = -1;
    if (buf[p] === LBRACKET) {
      let rb = p + 1;
      while (rb < e && buf[rb] !== RBRACKET && buf[rb] !== SEMI && buf[rb] !== COMMA) rb++;
      ipv6 = true;
      if (rb >= e || buf[rb] !== RBRACKET) {
        issues.push('sip_bad_ipv6_reference');
        hostEnd = rb;
        p = rb;
      } else {
        if (!isIpv6(buf, p + 1, rb)) issues.push('sip_bad_ipv6_reference');
        hostEnd = rb + 1;
        p = rb + 1;
      }
      const q = skipLws(buf, p, e);
      if (q < e && buf[q] === COLON) portStart = skipLws(buf, q + 1, e);
    } else {
      let he = p;
      let colons = 0;
      let firstColon = -1;
      for (; he < e; he++) {
        const c = buf[he]!;
        if (c === COLON) {
          if (colons++ === 0) firstColon = he;
        } else if ((CHAR[c]! & C_HOST) === 0) break;
      }
      if (colons >= 2) {
        issues.push('sip_ipv6_reference_without_brackets');
        hostEnd = he;
        ipv6 = true;
        p = he;
      } else {
        const hEnd = colons === 0 ? he : firstColon;
        if (hEnd === p) issues.push('sip_bad_via');
        hostEnd = hEnd;
        p = hEnd;
        const q = skipLws(buf, p, e);
        if (q < e && buf[q] === COLON) portStart = skipLws(buf, q + 1, e);
      }
    }
    if (portStart >= 0) {
      let n = 0;
      let i = portStart;
      while (i < e && (CHAR[buf[i]!]! & C_DIGIT) !== 0 && n <= 65535) n = n * 10 + buf[i++]! - 0x30;
      if (i === portStart || n > 65535) issues.push('sip_bad_via');
      else {
        port = n;
        // `host:port` with nothing between and the port's canonical digits (String(port)).
        if (portStart === hostEnd + 1 && (buf[portStart] !== 0x30 || i === portStart + 1)) sentByEnd = i;
      }
      p = i;
    }
    // via-params
    const paramStart = p;
    const n = scanParams(buf, p, e, true, issues);
    const paramEnd = paramScanEnd;
    let branchStart = ABSENT;
    let branchEnd = ABSENT;
    let receivedStart = ABSENT;
    let receivedEnd = ABSENT;
    let rport: number | true | undefined;
    for (let i = 0; i < n; i++) {
      const o = i * 4;
      const ps = PARAM_OFFSETS[o]!;
      const pe = PARAM_OFFSETS[o + 1]!;
      const qs = PARAM_OFFSETS[o + 2]!;
      const qe = PARAM_OFFSETS[o + 3]!;
      const len = pe - ps;
      if (len === 6 && equalsLower(buf, ps, pe, 'branch')) {
        if (branchStart === ABSENT) {
          branchStart = qs < 0 || qs === qe ? NO_VALUE : qs;
          branchEnd = qe;
        }
      } else if (len === 8 && equalsLower(buf, ps, pe, 'received')) {
        if (qs >= 0 && receivedStart === ABSENT) {
          let a = qs;
          let b = qe;
          if (b - a >= 2 && buf[a] === LBRACKET && buf[b - 1] === RBRACKET) {
            a++;
            b--;
          }
          receivedStart = a;
          receivedEnd = b;
        }
      } else if (len === 5 && equalsLower(buf, ps, pe, 'rport')) {
        if (qs < 0 || qs === qe) rport = true;
        else {
          let v = 0;
          let i2 = qs;
          while (i2 < qe && (CHAR[buf[i2]!]! & C_DIGIT) !== 0 && v <= 65535) v = v * 10 + buf[i2++]! - 0x30;
          if (i2 !== qe || v > 65535) issues.push('sip_bad_via');
          else rport = v;
        }
      }
    }
    out.push(
      new Via(
        buf,
        protocol,
        transport,
        hostStart,
        hostEnd,
        ipv6,
        port,
        branchStart,
        branchEnd,
        receivedStart,
        receivedEnd,
        rport,
        paramStart,
        paramEnd,
        sentByEnd,
      ),
    );
    p = skipLws(buf, paramEnd, e);
    if (p < e) {
      if (buf[p] === COMMA) p++;
      else if ((CHAR[buf[p]!]! & C_WS) === 0) {
        issues.push('sip_bad_via');
        p = skipToComma(buf, p, e);
      }
    }
  }
  return dropped;
}
