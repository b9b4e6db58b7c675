/**
 * IPv4 and IPv6 headers (with IPv6 extension headers) and address text. Parsers fill a reusable
 * IpHeader and return an anomaly code or null; addresses become strings only when a payload is
 * emitted.
 */

/** IP protocol numbers the decoder follows. */
export const IPPROTO_HOPOPTS = 0;
export const IPPROTO_IPIP = 4;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_IPV6 = 41;
export const IPPROTO_ROUTING = 43;
export const IPPROTO_FRAGMENT = 44;
export const IPPROTO_GRE = 47;
export const IPPROTO_AH = 51;
export const IPPROTO_DSTOPTS = 60;
export const IPPROTO_MOBILITY = 135;
export const IPPROTO_HIP = 139;
export const IPPROTO_SHIM6 = 140;

import { u16, u32 } from './link.js';

const EMPTY = Buffer.alloc(0);

/** One parsed IP header; reused from packet to packet (one per encapsulation depth). */
export class IpHeader {
  version = 4;
  /** Buffer holding the addresses; source and destination are adjacent (dstOff = srcOff + length). */
  addrBuf: Buffer = EMPTY;
  srcOff = 0;
  dstOff = 0;
  /** Upper-layer protocol (after IPv6 extension headers; for a fragment, of the fragmented data). */
  proto = 0;
  payloadOff = 0;
  payloadEnd = 0;
  /** Bytes the length field declares beyond what the frame holds (capture snap length). */
  missing = 0;
  /** True for a real fragment (not IPv4 offset 0 without MF, not an IPv6 atomic fragment). */
  fragment = false;
  /** Fragment offset in bytes. */
  fragOffset = 0;
  moreFragments = false;
  /** IPv4 identification (16 bits) or IPv6 fragment identification (32 bits). */
  fragId = 0;
  /** Extension headers walked so far (IPv6), across reassembly. */
  extCount = 0;
}

/** Parses an IPv4 header at buf[off, end). */
export function parseIPv4(buf: Buffer, off: number, end: number, h: IpHeader): string | null {
  if (end - off < 20) return 'ipv4_bad_header_length';
  const b0 = buf[off] ?? 0;
  if (b0 >> 4 !== 4) return 'ip_bad_version';
  const ihl = (b0 & 15) << 2;
  if (ihl < 20 || off + ihl > end) return 'ipv4_bad_header_length';
  const total = u16(buf, off + 2);
  h.version = 4;
  h.addrBuf = buf;
  h.srcOff = off + 12;
  h.dstOff = off + 16;
  h.proto = buf[off + 9] ?? 0;
  h.payloadOff = off + ihl;
  h.missing = 0;
  if (total === 0) {
    // Captured on the sender before TCP segmentation offload: the length is not filled in yet.
    h.payloadEnd = end;
  } else if (total < ihl) {
    return 'ipv4_bad_total_length';
  } else if (off + total > end) {
    h.missing = off + total - end;
    h.payloadEnd = end;
  } else {
    h.payloadEnd = off + total;
  }
  const frag = u16(buf, off + 6);
  h.moreFragments = (frag & 0x2000) !== 0;
  h.fragOffset = (frag & 0x1fff) << 3;
  h.fragment = h.moreFragments || h.fragOffset !== 0;
  h.fragId = u16(buf, off + 4);
  h.extCount = 0;
  return null;
}

/** Parses an IPv6 header at buf[off, end) and walks its extension headers up to the upper layer. */
export function parseIPv6(buf: Buffer, off: number, end: number, h: IpHeader, maxExt: number): string | null {
  if (end - off < 40) return 'ipv6_truncated';
  if ((buf[off] ?? 0) >> 4 !== 6) return 'ip_bad_version';
  const plen = u16(buf, off + 4);
  h.version = 6;
  h.addrBuf = buf;
  h.srcOff = off + 8;
  h.dstOff = off + 24;
  h.missing = 0;
  h.fragment = false;
  h.moreFragments = false;
  h.fragOffset = 0;
  h.fragId = 0;
  h.extCount = 0;
  let pend: number;
  if (plen === 0) {
    pend = end; // jumbogram or segmentation offload: the frame says how long it is
  } else if (off + 40 + plen > end) {
    h.missing = off + 40 + plen - end;
    pend = end;
  } else {
    pend = off + 40 + plen;
  }
  return walkIPv6Extensions(buf, off + 40, pend, buf[off + 6] ?? 0, h, maxExt);
}

/**
 * Walks IPv6 extension headers from `next` at buf[off, end) and sets h.proto / h.payloadOff /
 * h.payloadEnd. Stops after a fragment header (the rest belongs to the fragmented data) and marks
 * h.fragment; an atomic fragment (offset 0, no more fragments) is walked through (RFC 6946).
 */
export function walkIPv6Extensions(
  buf: Buffer,
  off: number,
  end: number,
  next: number,
  h: IpHeader,
  maxExt: number,
): string | null {
  let nh = next;
  let p = off;
  for (;;) {
    switch (nh) {
      case IPPROTO_HOPOPTS:
      case IPPROTO_ROUTING:
      case IPPROTO_DSTOPTS:
      case IPPROTO_MOBILITY:
      case IPPROTO_HIP:
      case IPPROTO_SHIM6: {
        if (++h.extCount > maxExt) return 'ipv6_extension_chain_too_long';
        if (end - p < 8) return 'ipv6_bad_extension_header';
        const len = ((buf[p + 1] ?? 0) + 1) << 3;
        if (p + len > end) return 'ipv6_bad_extension_header';
        nh = buf[p] ?? 0;
        p += len;
        continue;
      }
      case IPPROTO_AH: {
        if (++h.extCount > maxExt) return 'ipv6_extension_chain_too_long';
        if (end - p < 8) return 'ipv6_bad_extension_header';
        const len = ((buf[p + 1] ?? 0) + 2) << 2;
        if (p + len > end) return 'ipv6_bad_extension_header';
        nh = buf[p] ?? 0;
        p += len;
        continue;
      }
      case IPPROTO_FRAGMENT: {
        if (++h.extCount > maxExt) return 'ipv6_extension_chain_too_long';
        if (end - p < 8) return 'ipv6_bad_extension_header';
        const fo = u16(buf, p + 2);
        nh = buf[p] ?? 0;
        const offset = fo & 0xfff8;
        const more = (fo & 1) !== 0;
        h.fragId = u32(buf, p + 4);
        p += 8;
        if (offset === 0 && !more) continue;
        h.fragment = true;
        h.fragOffset = offset;
        h.moreFragments = more;
        h.proto = nh;
        h.payloadOff = p;
        h.payloadEnd = end;
        return null;
      }
      default:
        h.proto = nh;
        h.payloadOff = p;
        h.payloadEnd = end;
        return null;
    }
  }
}

/** Dotted-quad text of the IPv4 address at buf[off]. */
export function formatIPv4(buf: Buffer, off: number): string {
  return `${buf[off] ?? 0}.${buf[off + 1] ?? 0}.${buf[off + 2] ?? 0}.${buf[off + 3] ?? 0}`;
}

/** RFC 5952 canonical text of the IPv6 address at buf[off] (lower case, longest zero run as ::). */
export function formatIPv6(buf: Buffer, off: number): string {
  let bestStart = -1;
  let bestLen = 0;
  let runStart = -1;
  for (let i = 0; i < 8; i++) {
    if (u16(buf, off + 2 * i) === 0) {
      if (runStart < 0) runStart = i;
      const len = i - runStart + 1;
      if (len > bestLen) {
        bestLen = len;
        bestStart = runStart;
      }
    } else {
      runStart = -1;
    }
  }
  // RFC 5952 §5: IPv4-mapped addresses keep the dotted quad.
  if (bestStart === 0 && bestLen === 5 && u16(buf, off + 10) === 0xffff) {
    return `::ffff:${formatIPv4(buf, off + 12)}`;
  }
  if (bestLen < 2) bestStart = -1; // a single zero group is not shortened (§4.2.2)
  let s = '';
  let colon = false;
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      s += '::';
      colon = false;
      i += bestLen - 1;
      continue;
    }
    if (colon) s += ':';
    s += u16(buf, off + 2 * i).toString(16);
    colon = true;
  }
  return s;
}

/** Text of an address of `version` at buf[off]. */
export function formatIp(buf: Buffer, off: number, version: number): string {
  return version === 4 ? formatIPv4(buf, off) : formatIPv6(buf, off);
}

const CACHE_SIZE = 1024;

/**
 * Direct-mapped cache of IPv4 address text: SIP traffic repeats a few addresses, and this spares
 * four number-to-string conversions per payload. Fixed size, so input cannot grow it.
 */
export class IPv4TextCache {
  private readonly keys = new Int32Array(CACHE_SIZE);
  private readonly names: (string | undefined)[] = new Array<string | undefined>(CACHE_SIZE).fill(undefined);

  /** Text of the IPv4 address at buf[off]. */
  text(buf: Buffer, off: number): string {
    const k = u32(buf, off) | 0;
    const i = (k ^ (k >>> 10) ^ (k >>> 20)) & (CACHE_SIZE - 1);
    const hit = this.names[i];
    if (hit !== undefined && this.keys[i] === k) return hit;
    const name = formatIPv4(buf, off);
    this.keys[i] = k;
    this.names[i] = name;
    return name;
  }
}
