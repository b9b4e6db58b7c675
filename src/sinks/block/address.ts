/**
 * Address handling for block lists: canonical text (firewalls compare strings in tests and admins
 * grep them), IPv6 networks by prefix, and overlap tests between a network and configured CIDRs.
 * Never throws on input: what is not an address is `undefined`.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { ipv4ToInt } from '../../detect/net.js';

/** A parsed address or network: IPv4 as one 32-bit number, IPv6 as eight 16-bit groups. */
export interface ParsedNet {
  readonly family: 4 | 6;
  /** IPv4: one element (the 32-bit value); IPv6: eight 16-bit groups. */
  readonly words: readonly number[];
  readonly prefix: number;
}

/** A source address in canonical form (IPv4-mapped IPv6 becomes IPv4). */
export interface CanonicalAddress {
  readonly ip: string;
  readonly family: 4 | 6;
}

/** Canonical text of an address (lower case, RFC 5952 compression, ::ffff:a.b.c.d as a.b.c.d);
 * undefined for anything else, zone ids included (a firewall cannot match them). */
export function canonicalAddress(ip: string): CanonicalAddress | undefined {
  if (isIPv4(ip)) {
    const n = ipv4ToInt(ip);
    return n === undefined ? undefined : { ip: formatV4(n), family: 4 };
  }
  const groups = ipv6Groups(ip);
  if (groups === undefined) return undefined;
  if (isV4Mapped(groups)) {
    const n = (groups[6] as number) * 65536 + (groups[7] as number);
    return { ip: formatV4(n), family: 4 };
  }
  return { ip: formatV6(groups), family: 6 };
}

/** The block key of an address: the address itself, or its IPv6 network when `ipv6Prefix` < 128. */
export function blockKey(addr: CanonicalAddress, ipv6Prefix: number): string {
  if (addr.family === 4 || ipv6Prefix >= 128) return addr.ip;
  const groups = ipv6Groups(addr.ip) as number[];
  return `${formatV6(maskGroups(groups, ipv6Prefix))}/${ipv6Prefix}`;
}

/** Parses an address or CIDR ("10.0.0.0/8", "2001:db8::/32", "203.0.113.7"); undefined if malformed. */
export function parseNet(text: string): ParsedNet | undefined {
  const slash = text.indexOf('/');
  const addr = slash < 0 ? text : text.slice(0, slash);
  const bitsText = slash < 0 ? undefined : text.slice(slash + 1);
  let family: 4 | 6;
  let words: number[];
  if (isIPv4(addr)) {
    const n = ipv4ToInt(addr);
    if (n === undefined) return undefined;
    family = 4;
    words = [n];
  } else {
    const g = ipv6Groups(addr);
    if (g === undefined) return undefined;
    family = 6;
    words = g;
  }
  const max = family === 4 ? 32 : 128;
  let prefix = max;
  if (bitsText !== undefined) {
    if (!/^\d{1,3}$/.test(bitsText)) return undefined;
    prefix = Number(bitsText);
    if (prefix > max) return undefined;
  }
  return { family, words, prefix };
}

/** True when two networks share at least one address (same family, equal leading bits up to the
 * shorter prefix). */
export function netsOverlap(a: ParsedNet, b: ParsedNet): boolean {
  if (a.family !== b.family) return false;
  const bits = Math.min(a.prefix, b.prefix);
  const width = a.family === 4 ? 32 : 16;
  let left = bits;
  for (let i = 0; i < a.words.length && left > 0; i++) {
    const take = Math.min(width, left);
    const shift = width - take;
    const wa = Math.floor((a.words[i] as number) / 2 ** shift);
    const wb = Math.floor((b.words[i] as number) / 2 ** shift);
    if (wa !== wb) return false;
    left -= take;
  }
  return true;
}

/** A string that sorts addresses numerically (IPv4 before IPv6, then by value, then prefix). */
export function sortKey(key: string): string {
  const net = parseNet(key);
  if (net === undefined) return `9${key}`;
  const hex = net.words.map((w) => w.toString(16).padStart(net.family === 4 ? 8 : 4, '0')).join('');
  return `${net.family}${hex}/${String(net.prefix).padStart(3, '0')}`;
}

function formatV4(n: number): string {
  return `${Math.floor(n / 16777216) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

function isV4Mapped(g: readonly number[]): boolean {
  return g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff;
}

/** Eight 16-bit groups of an IPv6 address (embedded dotted quad accepted), or undefined. */
function ipv6Groups(ip: string): number[] | undefined {
  if (!isIPv6(ip)) return undefined;
  let s = ip.toLowerCase();
  const lastColon = s.lastIndexOf(':');
  const tail = s.slice(lastColon + 1);
  if (tail.includes('.')) {
    const n = ipv4ToInt(tail);
    if (n === undefined) return undefined;
    s = `${s.slice(0, lastColon + 1)}${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const head = halves[0] === '' ? [] : (halves[0] as string).split(':');
  const rest = halves.length === 2 && halves[1] !== '' ? (halves[1] as string).split(':') : [];
  const fill = 8 - head.length - rest.length;
  if (halves.length === 1 ? fill !== 0 : fill < 1) return undefined;
  const all = [...head, ...new Array<string>(halves.length === 2 ? fill : 0).fill('0'), ...rest];
  const out: number[] = [];
  for (const part of all) {
    if (!/^[0-9a-f]{1,4}$/.test(part)) return undefined;
    out.push(parseInt(part, 16));
  }
  return out.length === 8 ? out : undefined;
}

function maskGroups(groups: readonly number[], prefix: number): number[] {
  return groups.map((g, i) => {
    const keep = Math.max(0, Math.min(16, prefix - i * 16));
    return keep === 0 ? 0 : g & ((0xffff << (16 - keep)) & 0xffff);
  });
}

/** RFC 5952 text: lower case, no leading zeros, the first longest run (≥ 2) of zero groups as "::". */
function formatV6(groups: readonly number[]): string {
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}
