/**
 * IP address classification for detectors: which addresses are reachable from the internet and
 * which are private, loopback, link-local, shared (CGNAT) or set aside for documentation. Built on
 * node:net BlockList over the IANA special-purpose registries (RFC 6890 and its updates); the lists
 * are fixed at load time, so nothing here grows with input. Never throws on input: a string that is
 * not an address is classified 'invalid'.
 */
import { BlockList, isIPv4, isIPv6 } from 'node:net';

/**
 * What an address is, as far as exposure goes.
 * - public: globally routable unicast;
 * - private: RFC 1918, IPv6 unique-local (fc00::/7), deprecated site-local, local-use NAT64;
 * - loopback, link-local, unspecified, multicast;
 * - cgnat: shared address space 100.64.0.0/10 (RFC 6598), behind a carrier's NAT;
 * - documentation: 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32, 3fff::/20;
 * - reserved: other special-purpose ranges (240/4, benchmarking, IETF protocol assignments, discard);
 * - invalid: not an IP address.
 */
export type AddressKind =
  | 'public'
  | 'private'
  | 'loopback'
  | 'link-local'
  | 'cgnat'
  | 'documentation'
  | 'unspecified'
  | 'multicast'
  | 'reserved'
  | 'invalid';

type Range = readonly [string, number, Exclude<AddressKind, 'public' | 'invalid'>];

const V4: readonly Range[] = [
  ['0.0.0.0', 8, 'unspecified'],
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'cgnat'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local'],
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'reserved'],
  ['192.0.2.0', 24, 'documentation'],
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'reserved'],
  ['198.51.100.0', 24, 'documentation'],
  ['203.0.113.0', 24, 'documentation'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved'],
];

const V6: readonly Range[] = [
  ['::', 128, 'unspecified'],
  ['::1', 128, 'loopback'],
  ['64:ff9b:1::', 48, 'private'],
  ['100::', 64, 'reserved'],
  ['2001:2::', 48, 'reserved'],
  ['2001:db8::', 32, 'documentation'],
  ['3fff::', 20, 'documentation'],
  ['fc00::', 7, 'private'],
  ['fe80::', 10, 'link-local'],
  ['fec0::', 10, 'private'],
  ['ff00::', 8, 'multicast'],
];

/** Checked in this order: the kinds met most often in real traffic first. */
const KINDS = [
  'private',
  'loopback',
  'link-local',
  'cgnat',
  'documentation',
  'reserved',
  'multicast',
  'unspecified',
] as const;

/**
 * One BlockList of every special range (a public address, the common case, costs one lookup of
 * about 2–3 µs), then one per kind and family to name the range of the others.
 */
const SPECIAL: { v4: BlockList; v6: BlockList } = { v4: new BlockList(), v6: new BlockList() };
const LISTS: ReadonlyMap<string, { v4: BlockList; v6: BlockList }> = (() => {
  const m = new Map<string, { v4: BlockList; v6: BlockList }>();
  for (const k of KINDS) m.set(k, { v4: new BlockList(), v6: new BlockList() });
  for (const [net, bits, kind] of V4) {
    m.get(kind)?.v4.addSubnet(net, bits, 'ipv4');
    SPECIAL.v4.addSubnet(net, bits, 'ipv4');
  }
  for (const [net, bits, kind] of V6) {
    m.get(kind)?.v6.addSubnet(net, bits, 'ipv6');
    SPECIAL.v6.addSubnet(net, bits, 'ipv6');
  }
  return m;
})();

/** Classifies an IPv4 or IPv6 address (IPv4-mapped and NAT64 IPv6 by their embedded IPv4). */
export function classifyAddress(ip: string): AddressKind {
  let addr = ip;
  const zone = addr.indexOf('%');
  if (zone >= 0) {
    // A zone id (fe80::1%eth0) names the interface, not the address; an empty one is malformed.
    if (!/^[\w.-]+$/.test(addr.slice(zone + 1))) return 'invalid';
    addr = addr.slice(0, zone);
  }
  if (isIPv4(addr)) return lookup(addr, 'v4');
  if (!isIPv6(addr)) return 'invalid';
  const embedded = embeddedIpv4(addr);
  if (embedded !== undefined) return classifyAddress(embedded);
  return lookup(addr, 'v6');
}

/** IPv4 ranges as [first, last, kind] integers: a dotted quad is classified without allocating
 * (BlockList.check builds a SocketAddress per call, measured at about 6 µs under load). */
const V4_INT: readonly (readonly [number, number, AddressKind])[] = V4.map(([net, bits, kind]) => {
  const first = ipv4ToInt(net) as number;
  const size = 2 ** (32 - bits);
  return [first, first + size - 1, kind] as const;
});

/** The 32-bit value of a dotted quad (undefined if it is not one). */
export function ipv4ToInt(ip: string): number | undefined {
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < ip.length; i++) {
    const c = ip.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || dots === 3) return undefined;
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
    } else if (c >= 48 && c <= 57) {
      if (digits === 3 || (digits > 0 && octet === 0)) return undefined;
      octet = octet * 10 + (c - 48);
      if (octet > 255) return undefined;
      digits++;
    } else return undefined;
  }
  if (dots !== 3 || digits === 0) return undefined;
  return value * 256 + octet;
}

// The same ranges as flat columns: the lookup runs for most messages, and an indexed loop over
// numbers avoids the iterator and the destructuring of each row.
const V4_FIRST = Float64Array.from(V4_INT, (r) => r[0]);
const V4_LAST = Float64Array.from(V4_INT, (r) => r[1]);
const V4_KIND: readonly AddressKind[] = V4_INT.map((r) => r[2]);

function lookupV4(n: number): AddressKind {
  for (let i = 0; i < V4_FIRST.length; i++) {
    if (n >= V4_FIRST[i]! && n <= V4_LAST[i]!) return V4_KIND[i]!;
  }
  return 'public';
}

function lookup(addr: string, family: 'v4' | 'v6'): AddressKind {
  if (family === 'v4') {
    const n = ipv4ToInt(addr);
    if (n !== undefined) return lookupV4(n);
  }
  const type = family === 'v4' ? 'ipv4' : 'ipv6';
  if (!SPECIAL[family].check(addr, type)) return 'public';
  for (const k of KINDS) {
    const l = LISTS.get(k);
    if (l !== undefined && l[family].check(addr, type)) return k;
  }
  return 'public';
}

/** The IPv4 address inside an IPv4-mapped (::ffff:a.b.c.d) or well-known NAT64 (64:ff9b::/96) one. */
function embeddedIpv4(addr: string): string | undefined {
  const lower = addr.toLowerCase();
  let rest: string;
  if (lower.startsWith('::ffff:')) rest = lower.slice(7);
  else if (lower.startsWith('64:ff9b::')) rest = lower.slice(9);
  else return undefined;
  if (isIPv4(rest)) return rest;
  // Hex form: two groups of 16 bits.
  const m = /^([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(rest);
  if (m === null) return undefined;
  const hi = parseInt(m[1] as string, 16);
  const lo = parseInt(m[2] as string, 16);
  return `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
}

/** Options of the public/internal checks. */
export interface PublicOptions {
  /**
   * Count the documentation ranges as public. They never appear on the real internet, so only
   * synthetic traffic (tests, examples, the design's sample alert) carries them; rules that want
   * such traffic to behave like internet traffic set this.
   */
  readonly documentationIsPublic?: boolean;
}

/** True when the address is reachable from the internet (globally routable unicast). */
export function isPublicAddress(ip: string, options: PublicOptions = {}): boolean {
  // Detectors ask this of every message: dotted quads take the integer path.
  const n = ipv4ToInt(ip);
  if (n !== undefined) {
    const k = lookupV4(n);
    return k === 'public' || (k === 'documentation' && options.documentationIsPublic === true);
  }
  const zone = ip.indexOf('%');
  const addr = zone >= 0 ? ip.slice(0, zone) : ip;
  const family = isIPv4(addr) ? 'v4' : isIPv6(addr) && embeddedIpv4(addr) === undefined ? 'v6' : undefined;
  if (family === undefined) {
    const k = classifyAddress(ip);
    return k === 'public' || (k === 'documentation' && options.documentationIsPublic === true);
  }
  const type = family === 'v4' ? 'ipv4' : 'ipv6';
  if (!SPECIAL[family].check(addr, type)) return true;
  return (
    options.documentationIsPublic === true && LISTS.get('documentation')?.[family].check(addr, type) === true
  );
}

/** True for addresses of a local network: private, loopback, link-local or shared (CGNAT). */
export function isInternalAddress(ip: string): boolean {
  const k = classifyAddress(ip);
  return k === 'private' || k === 'loopback' || k === 'link-local' || k === 'cgnat';
}
