/**
 * Suppression matching: which alerts a suppression silences. All the criteria a suppression names
 * must match (rule AND source AND identity); it is active while `now < until`.
 */
import { BlockList, isIP } from 'node:net';
import type { AlertJson } from '../core/alert.js';

/** A stored suppression. */
export interface Suppression {
  /** Its number, for `unsuppress`. */
  n: number;
  /** A rule id, or a prefix ending in `.*` (`auth.*`). */
  rule?: string;
  /** An address or CIDR range, normalised (`203.0.113.0/24`). */
  source?: string;
  /** A digest user name or extension (matches the alert's target identity or extension). */
  identity?: string;
  /** Milliseconds since the epoch at which it stops applying. */
  until: number;
  reason?: string;
  created: number;
}

/** A suppression checked against alerts many times: its range parsed once. */
export interface CompiledSuppression {
  readonly s: Suppression;
  readonly range?: BlockList;
  readonly family?: 'ipv4' | 'ipv6';
}

/**
 * Normalises an address or CIDR range (`10.1.2.3`, `10.0.0.0/8`, `2001:db8::/32`); undefined when
 * it is neither. Host bits are kept: `10.1.2.3/8` means the same range as `10.0.0.0/8`.
 */
export function normalizeSource(text: string): string | undefined {
  const t = text.trim();
  const slash = t.indexOf('/');
  const addr = slash < 0 ? t : t.slice(0, slash);
  const family = isIP(addr);
  if (family === 0) return undefined;
  if (slash < 0) return addr.toLowerCase();
  const bits = t.slice(slash + 1);
  if (!/^\d{1,3}$/.test(bits)) return undefined;
  const n = Number(bits);
  if (n > (family === 6 ? 128 : 32)) return undefined;
  return `${addr.toLowerCase()}/${n}`;
}

/** Parses a suppression's source range once. */
export function compileSuppression(s: Suppression): CompiledSuppression {
  if (s.source === undefined) return { s };
  const [addr = '', bits] = s.source.split('/');
  const family = isIP(addr) === 6 ? 'ipv6' : 'ipv4';
  const range = new BlockList();
  if (bits === undefined) range.addAddress(addr, family);
  else range.addSubnet(addr, Number(bits), family);
  return { s, range, family };
}

function inRange(c: CompiledSuppression, ip: string): boolean {
  const f = isIP(ip);
  if (f === 0 || c.range === undefined) return false;
  const family = f === 6 ? 'ipv6' : 'ipv4';
  // BlockList answers across families (an IPv4-mapped IPv6 address), but only for a valid pair.
  return c.range.check(ip, family);
}

/**
 * True when `c` silences `alert` at `now`. The source criterion looks at the alert's main source;
 * an alert without one (a distributed alert) matches only when every listed source is in range,
 * so silencing one known scanner never hides a campaign that also involves others.
 */
export function suppressionMatches(c: CompiledSuppression, alert: AlertJson, now: number): boolean {
  const s = c.s;
  if (!(now < s.until)) return false;
  if (s.rule !== undefined) {
    if (s.rule.endsWith('.*')) {
      if (!alert.rule.startsWith(s.rule.slice(0, -1))) return false;
    } else if (alert.rule !== s.rule) return false;
  }
  if (s.identity !== undefined) {
    const t = alert.target;
    if (t === undefined || (t.identity !== s.identity && t.extension !== s.identity)) return false;
  }
  if (s.source !== undefined) {
    if (alert.source !== undefined) {
      if (!inRange(c, alert.source.ip)) return false;
    } else {
      const list = alert.sources ?? [];
      if (list.length === 0 || (alert.sourcesTotal ?? 0) > list.length) return false;
      for (const e of list) if (!inRange(c, e.ip)) return false;
    }
  }
  return true;
}
