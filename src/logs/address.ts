/** Address helpers for log parsers: normalise the IP a log line blames and split host:port forms. */

import type { Transport } from '../core/records.js';

/** An address read from a log line: normalised IP and, when the line gave one, the port. */
export interface HostPort {
  readonly ip: string;
  readonly port?: number;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function isHex(c: number): boolean {
  return isDigit(c) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
}

/** Dotted-quad IPv4 with each octet 0..255 (leading zeros dropped), or undefined. */
export function normaliseIpv4(s: string): string | undefined {
  if (s.length < 7 || s.length > 15) return undefined;
  const out: number[] = [];
  let value = 0;
  let digits = 0;
  for (let i = 0; i <= s.length; i++) {
    const c = i < s.length ? s.charCodeAt(i) : 46;
    if (c === 46) {
      if (digits === 0 || value > 255) return undefined;
      out.push(value);
      value = 0;
      digits = 0;
    } else if (isDigit(c) && digits < 3) {
      value = value * 10 + (c - 48);
      digits++;
    } else {
      return undefined;
    }
  }
  return out.length === 4 ? out.join('.') : undefined;
}

/**
 * RFC 5952 text of an IPv6 address (lower case, longest zero run compressed), or undefined.
 * A zone id (`%eth0`) is dropped: it names a local interface, not the peer. IPv4-mapped addresses
 * (`::ffff:1.2.3.4`) become the IPv4 address, so a dual-stack PBX and a capture agree on the key.
 */
export function normaliseIpv6(input: string): string | undefined {
  let s = input;
  const pct = s.indexOf('%');
  if (pct >= 0) s = s.slice(0, pct);
  if (s.length < 2 || s.length > 45) return undefined;
  const groups: number[] = [];
  let gap = -1;
  let i = 0;
  if (s.startsWith('::')) {
    gap = 0;
    i = 2;
    if (s.length === 2) return '::';
  } else if (s.charCodeAt(0) === 58) {
    return undefined;
  }
  while (i < s.length) {
    // An embedded IPv4 tail counts as two groups.
    let j = i;
    while (j < s.length && s.charCodeAt(j) !== 58) j++;
    const part = s.slice(i, j);
    if (part.includes('.')) {
      if (j !== s.length) return undefined;
      const v4 = normaliseIpv4(part);
      if (v4 === undefined) return undefined;
      const o = v4.split('.').map(Number);
      groups.push(((o[0] ?? 0) << 8) | (o[1] ?? 0), ((o[2] ?? 0) << 8) | (o[3] ?? 0));
      break;
    }
    if (part.length === 0 || part.length > 4) return undefined;
    let v = 0;
    for (let k = 0; k < part.length; k++) {
      const c = part.charCodeAt(k);
      if (!isHex(c)) return undefined;
      v = v * 16 + parseInt(part[k] as string, 16);
    }
    groups.push(v);
    if (j === s.length) break;
    // j is at ':'
    if (s.charCodeAt(j + 1) === 58) {
      if (gap >= 0) return undefined;
      gap = groups.length;
      i = j + 2;
      if (i === s.length) break;
    } else {
      i = j + 1;
      if (i === s.length) return undefined;
    }
  }
  if (groups.length > 8) return undefined;
  if (gap >= 0) {
    if (groups.length > 7) return undefined;
    const fill = new Array<number>(8 - groups.length).fill(0);
    groups.splice(gap, 0, ...fill);
  } else if (groups.length !== 8) {
    return undefined;
  }
  // IPv4-mapped ::ffff:a.b.c.d
  if (
    groups[0] === 0 &&
    groups[1] === 0 &&
    groups[2] === 0 &&
    groups[3] === 0 &&
    groups[4] === 0 &&
    groups[5] === 0xffff
  ) {
    const hi = groups[6] ?? 0;
    const lo = groups[7] ?? 0;
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  let bestStart = -1;
  let bestLen = 0;
  for (let k = 0; k < 8;) {
    if (groups[k] !== 0) {
      k++;
      continue;
    }
    let e = k;
    while (e < 8 && groups[e] === 0) e++;
    if (e - k > bestLen) {
      bestStart = k;
      bestLen = e - k;
    }
    k = e;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestLen < 2) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/** Normalised IPv4 or IPv6 text (brackets allowed around IPv6), or undefined for anything else. */
export function normaliseIp(s: string): string | undefined {
  if (s.length > 2 && s.charCodeAt(0) === 91 && s.charCodeAt(s.length - 1) === 93) {
    return normaliseIpv6(s.slice(1, -1));
  }
  return s.includes(':') ? normaliseIpv6(s) : normaliseIpv4(s);
}

function parsePort(s: string): number | undefined {
  if (s.length === 0 || s.length > 5) return undefined;
  let v = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (!isDigit(c)) return undefined;
    v = v * 10 + (c - 48);
  }
  return v <= 65535 ? v : undefined;
}

/**
 * Parse `1.2.3.4`, `1.2.3.4:5060`, `[2001:db8::1]`, `[2001:db8::1]:5060` or a bare IPv6 address
 * (a bare IPv6 text never carries a port: its last group would be ambiguous).
 */
export function parseHostPort(s: string): HostPort | undefined {
  if (s.length === 0 || s.length > 64) return undefined;
  if (s.charCodeAt(0) === 91) {
    const close = s.indexOf(']');
    if (close < 0) return undefined;
    // Asterisk writes `[1.2.3.4]:5060` too: brackets are not only for IPv6 there.
    const inner = s.slice(1, close);
    const ip = inner.includes(':') ? normaliseIpv6(inner) : normaliseIpv4(inner);
    if (ip === undefined) return undefined;
    if (close === s.length - 1) return { ip };
    if (s.charCodeAt(close + 1) !== 58) return undefined;
    const port = parsePort(s.slice(close + 2));
    return port === undefined ? undefined : { ip, port };
  }
  const first = s.indexOf(':');
  if (first < 0) {
    const ip = normaliseIpv4(s);
    return ip === undefined ? undefined : { ip };
  }
  if (s.indexOf(':', first + 1) < 0) {
    const ip = normaliseIpv4(s.slice(0, first));
    const port = parsePort(s.slice(first + 1));
    return ip === undefined || port === undefined ? undefined : { ip, port };
  }
  const ip = normaliseIpv6(s);
  return ip === undefined ? undefined : { ip };
}

/** Our Transport for a log's transport word (UDP, tcp, TLS, WS, WSS, SCTP), or undefined. */
export function transportOf(word: string): Transport | undefined {
  switch (word.toLowerCase()) {
    case 'udp':
      return 'udp';
    case 'tcp':
      return 'tcp';
    case 'tls':
      return 'tls';
    case 'ws':
      return 'ws';
    case 'wss':
      return 'wss';
    case 'sctp':
      return 'sctp';
    default:
      return undefined;
  }
}

/**
 * Parse `TRANSPORT:addr` (Asterisk `UDP:1.2.3.4:5060`, `TCP:[::1]:5060`, 3CX `udp:1.2.3.4:5060`)
 * or a plain address. The transport is returned when the prefix names one.
 */
export function parseTransportAddress(s: string): (HostPort & { transport?: Transport }) | undefined {
  const colon = s.indexOf(':');
  if (colon > 1 && colon <= 4) {
    const transport = transportOf(s.slice(0, colon));
    if (transport !== undefined) {
      const hp = parseHostPort(s.slice(colon + 1));
      return hp === undefined ? undefined : { ...hp, transport };
    }
  }
  return parseHostPort(s);
}

/** Index just past the end of an address-like token (hex digits, dots, colons, brackets, %zone). */
export function addressTokenEnd(s: string, from: number): number {
  let i = from;
  while (i < s.length && i - from < 64) {
    const c = s.charCodeAt(i);
    if (isHex(c) || c === 46 || c === 58 || c === 91 || c === 93) i++;
    else break;
  }
  return i;
}

/**
 * The first IPv4 or IPv6 address (with optional port) found in text at or after `from`,
 * scanning at most `limit` candidate tokens. Used for tolerant formats (3CX) whose exact wording
 * is not documented.
 */
export function findAddress(text: string, from = 0, limit = 32): HostPort | undefined {
  let i = from;
  let tries = 0;
  while (i < text.length && tries < limit) {
    const c = text.charCodeAt(i);
    const prev = i > 0 ? text.charCodeAt(i - 1) : 32;
    const startsToken = isHex(c) || c === 91 || (c === 58 && text.charCodeAt(i + 1) === 58);
    // Not in the middle of a word or of another address (`udp:1.2.3.4` is fine: `p` is no hex digit).
    const boundary = !(
      isHex(prev) ||
      prev === 46 ||
      (prev >= 71 && prev <= 90) ||
      (prev >= 103 && prev <= 122) ||
      (prev === 58 && i > 1 && isHex(text.charCodeAt(i - 2)))
    );
    if (startsToken && boundary) {
      tries++;
      let end = addressTokenEnd(text, i);
      // A trailing ':' or '.' is punctuation, not part of the address.
      while (end > i && (text.charCodeAt(end - 1) === 58 || text.charCodeAt(end - 1) === 46)) {
        if (text.charCodeAt(end - 1) === 58 && text.charCodeAt(end - 2) === 58) break;
        end--;
      }
      const hp = parseHostPort(text.slice(i, end));
      if (hp !== undefined && (hp.ip.includes('.') || hp.ip.includes(':'))) return hp;
      i = end > i ? end : i + 1;
    } else {
      i++;
    }
  }
  return undefined;
}
