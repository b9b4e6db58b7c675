/**
 * SDP (RFC 8866) parser: session and media descriptions, with typed views of the attributes a
 * security monitor needs (RFC 4568 crypto, RFC 8122 fingerprint, RFC 4145 setup, direction, rtpmap)
 * and helpers for the effective media address and whether media is encrypted. It never throws:
 * malformed lines become anomalies (src/sdp/anomalies.ts) and parsing goes on.
 *
 * Keys are never kept: `a=crypto` key material, `k=` keys and `a=key-mgmt` data are replaced by
 * `<redacted>` in every string this module returns.
 */
import { SDP_MAX_LINES, SDP_MAX_MEDIA } from '../config/limits.js';
import type { Anomaly } from '../core/records.js';
import { text } from '../sip/headers.js';

/** Media direction (RFC 8866 section 6.7). */
export type SdpDirection = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

/** `o=` line. */
export interface SdpOrigin {
  readonly username: string;
  readonly sessionId: string;
  readonly sessionVersion: string;
  readonly netType: string;
  readonly addrType: string;
  readonly address: string;
  /** The line's value as written. */
  readonly raw: string;
}

/** `c=` line. A multicast address carries its TTL (IP4) and address count. */
export interface SdpConnection {
  readonly netType: string;
  readonly addrType: string;
  /** Address without the `/ttl/count` suffix. */
  readonly address: string;
  readonly ttl: number | undefined;
  readonly count: number | undefined;
  readonly raw: string;
}

/** `b=` line. */
export interface SdpBandwidth {
  readonly type: string;
  /** Kilobits per second (bits for TIAS), NaN when not a number. */
  readonly value: number;
  readonly raw: string;
}

/** `t=` line with its `r=` lines. Times are NTP seconds as written (0 = unbounded). */
export interface SdpTime {
  readonly start: string;
  readonly stop: string;
  readonly repeats: readonly string[];
  readonly raw: string;
}

/** One `a=` line: name and value (undefined for a property attribute). Keys are redacted. */
export interface SdpAttribute {
  readonly name: string;
  readonly value: string | undefined;
}

/** `a=crypto` (RFC 4568 section 9.1) without its key material. */
export interface SdpCrypto {
  readonly tag: number;
  readonly suite: string;
  /** Key method of each key-param (`inline`), with the key itself left out. */
  readonly keyMethods: readonly string[];
  /** Lifetime and MKI parts of the key-params (`2^20`, `1:4`), which are not secret. */
  readonly keyInfo: readonly string[];
  readonly sessionParams: readonly string[];
}

/** `a=fingerprint` (RFC 8122): DTLS certificate hash. */
export interface SdpFingerprint {
  readonly hashFunction: string;
  readonly fingerprint: string;
}

/** `a=rtpmap`. */
export interface SdpRtpMap {
  readonly payloadType: number;
  readonly encoding: string;
  readonly clockRate: number;
  readonly channels: number | undefined;
}

/** One media section (`m=` and the lines after it). */
export interface SdpMedia {
  /** `audio`, `video`, `application`, `image`, `text`, `message`... */
  readonly media: string;
  readonly port: number;
  readonly portCount: number | undefined;
  /** Transport protocol: `RTP/AVP`, `RTP/SAVP`, `RTP/SAVPF`, `UDP/TLS/RTP/SAVPF`, `udptl`... */
  readonly proto: string;
  readonly formats: readonly string[];
  readonly raw: string;
  readonly info: string | undefined;
  /** Media-level `c=` lines (usually none or one). */
  readonly connections: readonly SdpConnection[];
  /** The session-level `c=`, which applies when the section has none. */
  readonly sessionConnection: SdpConnection | undefined;
  readonly bandwidths: readonly SdpBandwidth[];
  /** `k=` method (`prompt`, `clear`, `base64`, `uri`), the key itself left out. */
  readonly keyMethod: string | undefined;
  readonly attributes: readonly SdpAttribute[];
  /** Effective direction: the section's attribute, else the session's, else sendrecv. */
  readonly direction: SdpDirection;
  readonly crypto: readonly SdpCrypto[];
  /** Media-level fingerprints, else the session's. */
  readonly fingerprints: readonly SdpFingerprint[];
  /** `a=setup` (actpass, active, passive, holdconn), media level else session level. */
  readonly setup: string | undefined;
  readonly rtpmaps: readonly SdpRtpMap[];
  /** Offset of the `m=` line in the body. */
  readonly offset: number;
}

/** A parsed session description. */
export interface Sdp {
  readonly version: number | undefined;
  readonly origin: SdpOrigin | undefined;
  readonly sessionName: string | undefined;
  readonly info: string | undefined;
  readonly uri: string | undefined;
  readonly emails: readonly string[];
  readonly phones: readonly string[];
  readonly connection: SdpConnection | undefined;
  readonly bandwidths: readonly SdpBandwidth[];
  readonly times: readonly SdpTime[];
  /** `z=` value as written. */
  readonly timezones: string | undefined;
  readonly keyMethod: string | undefined;
  /** Session-level attributes. */
  readonly attributes: readonly SdpAttribute[];
  /** Session-level direction attribute (sendrecv when none). */
  readonly direction: SdpDirection;
  readonly media: readonly SdpMedia[];
  readonly anomalies: readonly Anomaly[];
}

const CR = 0x0d;
const LF = 0x0a;

const REDACTED = '<redacted>';

function isIpv4Text(s: string): boolean {
  // A character loop: split() and a regex per part cost more than the rest of a c= line.
  let parts = 0;
  let digits = 0;
  let v = 0;
  for (let i = 0; i <= s.length; i++) {
    const c = i < s.length ? s.charCodeAt(i) : 0x2e;
    if (c === 0x2e) {
      if (digits === 0 || v > 255 || ++parts > 4) return false;
      digits = 0;
      v = 0;
    } else if (c >= 0x30 && c <= 0x39 && digits < 3) {
      v = v * 10 + c - 0x30;
      digits++;
    } else return false;
  }
  return parts === 4;
}

function isIpv6Text(s: string): boolean {
  if (s.length < 2 || !/^[0-9A-Fa-f:.]+$/.test(s)) return false;
  const halves = s.split('::');
  if (halves.length > 2) return false;
  let count = 0;
  for (let h = 0; h < halves.length; h++) {
    const half = halves[h]!;
    if (half === '') continue;
    const groups = half.split(':');
    for (let i = 0; i < groups.length; i++) {
      const g = groups[i]!;
      if (h === halves.length - 1 && i === groups.length - 1 && g.includes('.')) {
        if (!isIpv4Text(g)) return false;
        count += 2;
      } else if (!/^[0-9A-Fa-f]{1,4}$/.test(g)) return false;
      else count++;
    }
  }
  return halves.length === 2 ? count <= 7 : count === 8;
}

function isFqdn(s: string): boolean {
  return /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.?$/.test(
    s,
  );
}

function addressMatches(addrType: string, address: string): boolean {
  const t = addrType.toUpperCase();
  if (t === 'IP4') return isIpv4Text(address) || (isFqdn(address) && !/^[\d.]+$/.test(address));
  if (t === 'IP6') return isIpv6Text(address) || (isFqdn(address) && !/^[\d.]+$/.test(address));
  return address.length > 0;
}

function words(v: string): string[] {
  // Single spaces between words is the norm: split alone does it.
  if (v.indexOf('  ') < 0 && v.charCodeAt(0) !== 0x20 && v.charCodeAt(v.length - 1) !== 0x20 && v !== '') {
    return v.split(' ');
  }
  const out: string[] = [];
  for (const w of v.split(' ')) if (w !== '') out.push(w);
  return out;
}

const DIRECTIONS: ReadonlySet<string> = new Set(['sendrecv', 'sendonly', 'recvonly', 'inactive']);

/** Mutable builder for one media section. */
interface MediaBuilder {
  media: string;
  port: number;
  portCount: number | undefined;
  proto: string;
  formats: string[];
  raw: string;
  info: string | undefined;
  connections: SdpConnection[];
  bandwidths: SdpBandwidth[];
  keyMethod: string | undefined;
  attributes: SdpAttribute[];
  direction: SdpDirection | undefined;
  crypto: SdpCrypto[];
  fingerprints: SdpFingerprint[];
  setup: string | undefined;
  rtpmaps: SdpRtpMap[];
  offset: number;
  seen: string;
}

/** Parser state shared by the line handlers (no closures on the hot path). */
interface State {
  anomalies: Anomaly[];
  lines: number;
  linesFlagged: boolean;
  sessionAttrs: SdpAttribute[];
  sessionDirection: SdpDirection | undefined;
  sessionFingerprints: SdpFingerprint[];
  sessionSetup: string | undefined;
  sessionSeen: string;
}

function flag(st: State, code: string, offset: number, detail?: string): void {
  for (const a of st.anomalies) if (a.code === code && a.detail === detail) return;
  st.anomalies.push(detail === undefined ? { code, offset } : { code, offset, detail });
}

/** True when one more stored line fits the bound (SDP_MAX_LINES); flags once when not. */
function room(st: State, offset: number): boolean {
  if (st.lines < SDP_MAX_LINES) {
    st.lines++;
    return true;
  }
  if (!st.linesFlagged) {
    st.linesFlagged = true;
    flag(st, 'sdp_too_many_lines', offset);
  }
  return false;
}

function parseConnection(v: string, st: State, offset: number): SdpConnection | undefined {
  const w = words(v);
  if (w.length !== 3) {
    flag(st, 'sdp_bad_connection', offset);
    return undefined;
  }
  const [netType, addrType, spec] = w as [string, string, string];
  const parts = spec.split('/');
  const address = parts[0]!;
  let ttl: number | undefined;
  let count: number | undefined;
  const isV4 = addrType.toUpperCase() === 'IP4';
  const nums: number[] = [];
  let bad = false;
  for (let i = 1; i < parts.length; i++) {
    const part = parts[i]!;
    if (/^\d{1,10}$/.test(part)) nums.push(Number(part));
    else bad = true;
  }
  if (bad || nums.length > 2 || (!isV4 && nums.length > 1)) {
    flag(st, 'sdp_bad_connection', offset);
  } else if (isV4) {
    ttl = nums[0];
    count = nums[1];
    if (ttl !== undefined && ttl > 255) flag(st, 'sdp_bad_connection', offset);
  } else count = nums[0];
  if (!addressMatches(addrType, address)) flag(st, 'sdp_bad_address', offset, `c=${addrType}`);
  return { netType, addrType, address, ttl, count, raw: v };
}

function parseBandwidth(v: string, st: State, offset: number): SdpBandwidth {
  const colon = v.indexOf(':');
  const type = colon < 0 ? v : v.slice(0, colon);
  const num = colon < 0 ? '' : v.slice(colon + 1);
  const ok = colon > 0 && /^\d{1,15}$/.test(num);
  if (!ok) flag(st, 'sdp_bad_bandwidth', offset);
  return { type, value: ok ? Number(num) : NaN, raw: v };
}

/** `inline:KEY||SALT|2^20|1:4` → method `inline`, info [`2^20`, `1:4`]; the key never leaves. */
function parseCrypto(
  v: string,
  st: State,
  offset: number,
): { crypto: SdpCrypto | undefined; redacted: string } {
  const w = words(v);
  const tag = w[0] !== undefined && /^\d{1,9}$/.test(w[0]) ? Number(w[0]) : NaN;
  const suite = w[1] ?? '';
  const keyParams = w[2];
  if (Number.isNaN(tag) || suite === '' || keyParams === undefined) {
    flag(st, 'sdp_bad_attribute', offset, 'crypto');
    return { crypto: undefined, redacted: w.length > 2 ? `${w[0]} ${w[1]} ${REDACTED}` : v };
  }
  const keyMethods: string[] = [];
  const keyInfo: string[] = [];
  const redactedParams: string[] = [];
  for (const kp of keyParams.split(';')) {
    const colon = kp.indexOf(':');
    const method = colon < 0 ? kp : kp.slice(0, colon);
    if (colon < 0 || method === '') flag(st, 'sdp_bad_attribute', offset, 'crypto');
    keyMethods.push(method);
    const info =
      colon < 0
        ? []
        : kp
            .slice(colon + 1)
            .split('|')
            .slice(1);
    keyInfo.push(...info);
    redactedParams.push([`${method}:${REDACTED}`, ...info].join('|'));
  }
  const sessionParams = w.slice(3);
  return {
    crypto: { tag, suite, keyMethods, keyInfo, sessionParams },
    redacted: [String(tag), suite, redactedParams.join(';'), ...sessionParams].join(' '),
  };
}

function parseRtpMap(v: string, st: State, offset: number): SdpRtpMap | undefined {
  const m = /^(\d{1,3}) +([^/ ]+)\/(\d{1,10})(?:\/(\d{1,3}))? *$/.exec(v);
  if (m === null || Number(m[1]) > 127) {
    flag(st, 'sdp_bad_attribute', offset, 'rtpmap');
    return undefined;
  }
  return {
    payloadType: Number(m[1]),
    encoding: m[2]!,
    clockRate: Number(m[3]),
    channels: m[4] === undefined ? undefined : Number(m[4]),
  };
}

/** `k=` value with the key removed: only the method is kept. */
function keyMethodOf(v: string): string {
  const colon = v.indexOf(':');
  return colon < 0 ? v : v.slice(0, colon);
}

/**
 * Handles one `a=` line for the session (m === undefined) or a media section. Returns the attribute
 * as stored (keys redacted).
 */
function attribute(value: string, m: MediaBuilder | undefined, st: State, offset: number): SdpAttribute {
  const colon = value.indexOf(':');
  const name = colon < 0 ? value : value.slice(0, colon);
  let v = colon < 0 ? undefined : value.slice(colon + 1);
  const lower = name.toLowerCase();
  if (DIRECTIONS.has(lower)) {
    if (v !== undefined) flag(st, 'sdp_bad_attribute', offset, lower);
    const d = lower as SdpDirection;
    if (m !== undefined) {
      if (m.direction !== undefined && m.direction !== d) flag(st, 'sdp_conflicting_direction', offset);
      m.direction = d;
    } else {
      if (st.sessionDirection !== undefined && st.sessionDirection !== d) {
        flag(st, 'sdp_conflicting_direction', offset);
      }
      st.sessionDirection = d;
    }
  } else if (lower === 'crypto') {
    const r = parseCrypto(v ?? '', st, offset);
    v = r.redacted;
    if (r.crypto !== undefined && m !== undefined) m.crypto.push(r.crypto);
  } else if (lower === 'key-mgmt') {
    // RFC 4567: the protocol id stays, its data (keys under MIKEY) does not.
    const w = words(v ?? '');
    v = w.length > 1 ? `${w[0]} ${REDACTED}` : v;
  } else if (lower === 'fingerprint') {
    const w = words(v ?? '');
    if (w.length !== 2 || !/^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2})+$/.test(w[1]!)) {
      flag(st, 'sdp_bad_attribute', offset, 'fingerprint');
    } else {
      const fp = { hashFunction: w[0]!.toLowerCase(), fingerprint: w[1]!.toUpperCase() };
      if (m !== undefined) m.fingerprints.push(fp);
      else st.sessionFingerprints.push(fp);
    }
  } else if (lower === 'setup') {
    const s = (v ?? '').trim().toLowerCase();
    if (s !== 'active' && s !== 'passive' && s !== 'actpass' && s !== 'holdconn') {
      flag(st, 'sdp_bad_attribute', offset, 'setup');
    }
    if (m !== undefined) m.setup = s;
    else st.sessionSetup = s;
  } else if (lower === 'rtpmap') {
    if (m === undefined) flag(st, 'sdp_bad_attribute', offset, 'rtpmap');
    else {
      const r = parseRtpMap(v ?? '', st, offset);
      if (r !== undefined) m.rtpmaps.push(r);
    }
  }
  return { name, value: v };
}

const SESSION_ONLY = 'vosuepzt';
const SINGLE_SESSION = 'vosiuckz';
const SINGLE_MEDIA = 'ik';
const KNOWN = 'vosiuepcbtrzkam';

function buildMedia(m: MediaBuilder, sessionConnection: SdpConnection | undefined, st: State): SdpMedia {
  return {
    media: m.media,
    port: m.port,
    portCount: m.portCount,
    proto: m.proto,
    formats: m.formats,
    raw: m.raw,
    info: m.info,
    connections: m.connections,
    sessionConnection,
    bandwidths: m.bandwidths,
    keyMethod: m.keyMethod,
    attributes: m.attributes,
    direction: m.direction ?? st.sessionDirection ?? 'sendrecv',
    crypto: m.crypto,
    fingerprints: m.fingerprints.length > 0 ? m.fingerprints : st.sessionFingerprints,
    setup: m.setup ?? st.sessionSetup,
    rtpmaps: m.rtpmaps,
    offset: m.offset,
  };
}

/** Parses an SDP body. Never throws; problems are in `anomalies`. */
export function parseSdp(body: Buffer): Sdp {
  const st: State = {
    anomalies: [],
    lines: 0,
    linesFlagged: false,
    sessionAttrs: [],
    sessionDirection: undefined,
    sessionFingerprints: [],
    sessionSetup: undefined,
    sessionSeen: '',
  };
  let version: number | undefined;
  let origin: SdpOrigin | undefined;
  let sessionName: string | undefined;
  let info: string | undefined;
  let uri: string | undefined;
  const emails: string[] = [];
  const phones: string[] = [];
  let connection: SdpConnection | undefined;
  const bandwidths: SdpBandwidth[] = [];
  const times: SdpTime[] = [];
  let timezones: string | undefined;
  let keyMethod: string | undefined;
  const builders: MediaBuilder[] = [];
  let cur: MediaBuilder | undefined;
  let skipping = false;
  let first = true;
  let lineCount = 0;

  const end = body.length;
  let p = 0;
  while (p < end) {
    let lf = body.indexOf(LF, p);
    if (lf < 0) lf = end;
    let le = lf;
    if (le > p && body[le - 1] === CR) le--;
    const offset = p;
    p = lf + 1;
    if (le === offset) continue; // blank line (a trailing CRLF, or a keep-alive style pad)
    lineCount++;
    const type = body[offset]!;
    if (le - offset < 2 || body[offset + 1] !== 0x3d || type < 0x61 || type > 0x7a) {
      flag(st, 'sdp_bad_line', offset);
      continue;
    }
    const t = String.fromCharCode(type);
    const value = text(body, offset + 2, le);
    if (!KNOWN.includes(t)) {
      flag(st, 'sdp_unknown_type', offset, `${t}=`);
      continue;
    }
    if (first && t !== 'v') flag(st, 'sdp_line_out_of_order', offset, 'v= not first');
    first = false;

    if (t === 'm') {
      if (builders.length >= SDP_MAX_MEDIA) {
        if (!skipping) flag(st, 'sdp_too_many_media', offset);
        skipping = true;
        cur = undefined;
        continue;
      }
      const w = words(value);
      const portSpec = w[1] ?? '';
      const slash = portSpec.indexOf('/');
      const portText = slash < 0 ? portSpec : portSpec.slice(0, slash);
      const countText = slash < 0 ? undefined : portSpec.slice(slash + 1);
      const port = /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
      const portCount =
        countText !== undefined && /^\d{1,5}$/.test(countText) ? Number(countText) : undefined;
      if (
        w.length < 4 ||
        Number.isNaN(port) ||
        port > 65535 ||
        (countText !== undefined && portCount === undefined)
      ) {
        flag(st, 'sdp_bad_media', offset);
      }
      cur = {
        media: w[0] ?? '',
        port: Number.isNaN(port) ? -1 : port,
        portCount,
        proto: w[2] ?? '',
        formats: w.slice(3),
        raw: value,
        info: undefined,
        connections: [],
        bandwidths: [],
        keyMethod: undefined,
        attributes: [],
        direction: undefined,
        crypto: [],
        fingerprints: [],
        setup: undefined,
        rtpmaps: [],
        offset,
        seen: '',
      };
      builders.push(cur);
      continue;
    }
    if (skipping) continue;

    if (cur !== undefined) {
      // Media-level line.
      if (SESSION_ONLY.includes(t)) {
        flag(st, 'sdp_line_out_of_order', offset, `${t}= in media section`);
        continue;
      }
      if (SINGLE_MEDIA.includes(t) && cur.seen.includes(t)) flag(st, 'sdp_duplicate_line', offset, `${t}=`);
      cur.seen += t;
      switch (t) {
        case 'i':
          cur.info = value;
          break;
        case 'c': {
          const c = parseConnection(value, st, offset);
          if (c !== undefined && room(st, offset)) cur.connections.push(c);
          break;
        }
        case 'b': {
          const b = parseBandwidth(value, st, offset);
          if (room(st, offset)) cur.bandwidths.push(b);
          break;
        }
        case 'k':
          cur.keyMethod = keyMethodOf(value);
          break;
        case 'a': {
          const a = attribute(value, cur, st, offset);
          if (room(st, offset)) cur.attributes.push(a);
          break;
        }
      }
      continue;
    }

    // Session-level line.
    if (SINGLE_SESSION.includes(t) && st.sessionSeen.includes(t))
      flag(st, 'sdp_duplicate_line', offset, `${t}=`);
    st.sessionSeen += t;
    switch (t) {
      case 'v':
        version = /^\d{1,9}$/.test(value) ? Number(value) : NaN;
        if (version !== 0) flag(st, 'sdp_bad_version', offset);
        break;
      case 'o': {
        const w = words(value);
        if (w.length !== 6) flag(st, 'sdp_bad_origin', offset);
        else if (!addressMatches(w[4]!, w[5]!)) flag(st, 'sdp_bad_address', offset, `o=${w[4]}`);
        origin = {
          username: w[0] ?? '',
          sessionId: w[1] ?? '',
          sessionVersion: w[2] ?? '',
          netType: w[3] ?? '',
          addrType: w[4] ?? '',
          address: w[5] ?? '',
          raw: value,
        };
        break;
      }
      case 's':
        sessionName = value;
        break;
      case 'i':
        info = value;
        break;
      case 'u':
        uri = value;
        break;
      case 'e':
        if (room(st, offset)) emails.push(value);
        break;
      case 'p':
        if (room(st, offset)) phones.push(value);
        break;
      case 'c':
        connection = parseConnection(value, st, offset) ?? connection;
        break;
      case 'b': {
        const b = parseBandwidth(value, st, offset);
        if (room(st, offset)) bandwidths.push(b);
        break;
      }
      case 't': {
        const w = words(value);
        if (w.length !== 2 || !/^\d{1,20}$/.test(w[0]!) || !/^\d{1,20}$/.test(w[1]!)) {
          flag(st, 'sdp_bad_timing', offset);
        }
        if (room(st, offset)) times.push({ start: w[0] ?? '', stop: w[1] ?? '', repeats: [], raw: value });
        break;
      }
      case 'r': {
        const last = times[times.length - 1];
        if (!/^\d{1,20}[dhms]?( +-?\d{1,20}[dhms]?)+$/.test(value.trim())) flag(st, 'sdp_bad_timing', offset);
        if (last === undefined) flag(st, 'sdp_line_out_of_order', offset, 'r= before t=');
        else if (room(st, offset)) (last.repeats as string[]).push(value);
        break;
      }
      case 'z':
        if (!/^\d{1,20} +-?\d{1,20}[dhms]?( +\d{1,20} +-?\d{1,20}[dhms]?)*$/.test(value.trim())) {
          flag(st, 'sdp_bad_timing', offset);
        }
        timezones = value;
        break;
      case 'k':
        keyMethod = keyMethodOf(value);
        break;
      case 'a': {
        const a = attribute(value, undefined, st, offset);
        if (room(st, offset)) st.sessionAttrs.push(a);
        break;
      }
    }
  }

  if (lineCount === 0) flag(st, 'sdp_empty', 0);
  else {
    if (version === undefined) flag(st, 'sdp_missing_version', 0);
    if (origin === undefined) flag(st, 'sdp_missing_origin', 0);
    if (sessionName === undefined) flag(st, 'sdp_missing_session_name', 0);
    if (times.length === 0) flag(st, 'sdp_missing_timing', 0);
  }
  const media: SdpMedia[] = [];
  for (const b of builders) {
    if (connection === undefined && b.connections.length === 0) flag(st, 'sdp_missing_connection', b.offset);
    media.push(buildMedia(b, connection, st));
  }
  return {
    version,
    origin,
    sessionName,
    info,
    uri,
    emails,
    phones,
    connection,
    bandwidths,
    times,
    timezones,
    keyMethod,
    attributes: st.sessionAttrs,
    direction: st.sessionDirection ?? 'sendrecv',
    media,
    anomalies: st.anomalies,
  };
}

/** The connection address media of this section goes to: its own `c=`, else the session's. */
export function mediaAddress(section: SdpMedia): string | undefined {
  return (section.connections[0] ?? section.sessionConnection)?.address;
}

/**
 * True when the section's media is encrypted or offered encrypted: an SRTP profile (RTP/SAVP,
 * RTP/SAVPF, UDP/TLS/RTP/SAVP[F]: keys by SDES crypto or DTLS), a TLS/DTLS transport, or RTP/AVP
 * with `a=crypto` (best-effort SRTP, which the answer confirms).
 */
export function isSecure(section: SdpMedia): boolean {
  const proto = section.proto.toUpperCase();
  if (proto.includes('SAVP')) return true;
  if (proto.startsWith('UDP/TLS') || proto.startsWith('TCP/TLS') || proto.startsWith('TCP/DTLS')) return true;
  if (proto === 'DTLS/SCTP' || proto.endsWith('/DTLS/SCTP')) return true;
  return section.crypto.length > 0;
}

/**
 * True when the section puts the call on hold rather than moving media: a 0.0.0.0 (RFC 2543) or
 * `::` address, a sendonly or inactive direction, or port 0 (stream rejected or removed).
 */
export function isHold(section: SdpMedia): boolean {
  const a = mediaAddress(section);
  if (a === '0.0.0.0' || a === '::') return true;
  if (section.port === 0) return true;
  return section.direction === 'sendonly' || section.direction === 'inactive';
}
