/**
 * Link-layer headers: find where the network layer starts in a frame and what it carries.
 * Functions fill a reusable LinkCursor and return an anomaly code or null, so walking a frame
 * allocates nothing.
 */

/** Big-endian 16-bit read by byte arithmetic (no argument validation: callers check bounds first). */
export function u16(b: Buffer, o: number): number {
  return ((b[o] as number) << 8) | (b[o + 1] as number);
}

/** Big-endian 32-bit read by byte arithmetic (no argument validation: callers check bounds first). */
export function u32(b: Buffer, o: number): number {
  return (
    (((b[o] as number) << 24) |
      ((b[o + 1] as number) << 16) |
      ((b[o + 2] as number) << 8) |
      (b[o + 3] as number)) >>>
    0
  );
}

/** LINKTYPE_* values read by the decoder (tcpdump.org/linktypes.html). */
export const LINKTYPE_NULL = 0;
export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_RAW_12 = 12;
export const LINKTYPE_RAW_14 = 14;
export const LINKTYPE_RAW = 101;
export const LINKTYPE_LOOP = 108;
export const LINKTYPE_LINUX_SLL = 113;
export const LINKTYPE_IPV4 = 228;
export const LINKTYPE_IPV6 = 229;
export const LINKTYPE_LINUX_SLL2 = 276;

/** EtherType values the decoder follows. */
export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_IPV6 = 0x86dd;
export const ETHERTYPE_VLAN = 0x8100;
export const ETHERTYPE_QINQ = 0x88a8;
export const ETHERTYPE_QINQ_OLD = 0x9100;
export const ETHERTYPE_QINQ_OLD2 = 0x9200;
export const ETHERTYPE_MPLS = 0x8847;
export const ETHERTYPE_MPLS_MULTICAST = 0x8848;
export const ETHERTYPE_PPPOE_SESSION = 0x8864;
export const ETHERTYPE_TEB = 0x6558;
export const ETHERTYPE_ERSPAN_2 = 0x88be;
export const ETHERTYPE_ERSPAN_3 = 0x22eb;

/** Pseudo EtherType: raw IP, the version nibble tells IPv4 from IPv6. */
export const NET_RAW_IP = -1;
/** Pseudo EtherType: not an IP packet (ARP, LLC, an unknown loopback family, ...). */
export const NET_OTHER = -2;

/** Where the network layer starts (`offset`) and what it is (`etherType`, or a NET_* pseudo type). */
export class LinkCursor {
  offset = 0;
  etherType = 0;
  /** VLAN tags and MPLS labels walked (for statistics). */
  tags = 0;
}

/** True for the link types decodeLinkHeader reads. */
export function isKnownLinkType(linkType: number): boolean {
  switch (linkType) {
    case LINKTYPE_NULL:
    case LINKTYPE_ETHERNET:
    case LINKTYPE_RAW_12:
    case LINKTYPE_RAW_14:
    case LINKTYPE_RAW:
    case LINKTYPE_LOOP:
    case LINKTYPE_LINUX_SLL:
    case LINKTYPE_IPV4:
    case LINKTYPE_IPV6:
    case LINKTYPE_LINUX_SLL2:
      return true;
    default:
      return false;
  }
}

/**
 * Reads the link header of a frame of `linkType` in buf[0, end). Returns null with `c` filled,
 * or an anomaly code (`link_unknown_type`, `link_truncated`, `link_too_many_tags`).
 */
export function decodeLinkHeader(
  linkType: number,
  buf: Buffer,
  end: number,
  c: LinkCursor,
  maxTags: number,
): string | null {
  c.tags = 0;
  switch (linkType) {
    case LINKTYPE_ETHERNET:
      return decodeEthernet(buf, 0, end, c, maxTags);
    case LINKTYPE_LINUX_SLL:
      if (end < 16) return 'link_truncated';
      c.offset = 16;
      c.etherType = u16(buf, 14);
      return walkEtherType(buf, end, c, maxTags);
    case LINKTYPE_LINUX_SLL2:
      if (end < 20) return 'link_truncated';
      c.offset = 20;
      c.etherType = u16(buf, 0);
      return walkEtherType(buf, end, c, maxTags);
    case LINKTYPE_RAW:
    case LINKTYPE_RAW_12:
    case LINKTYPE_RAW_14:
      c.offset = 0;
      c.etherType = NET_RAW_IP;
      return null;
    case LINKTYPE_IPV4:
      c.offset = 0;
      c.etherType = ETHERTYPE_IPV4;
      return null;
    case LINKTYPE_IPV6:
      c.offset = 0;
      c.etherType = ETHERTYPE_IPV6;
      return null;
    case LINKTYPE_NULL: {
      if (end < 4) return 'link_truncated';
      // Host byte order of the capturing machine: a family never exceeds 16 bits, so a large
      // little-endian reading means the writer was big-endian.
      let family = buf.readUInt32LE(0);
      if (family > 0xffff) family = buf.readUInt32BE(0);
      c.offset = 4;
      c.etherType = loopbackFamily(family);
      return null;
    }
    case LINKTYPE_LOOP:
      if (end < 4) return 'link_truncated';
      c.offset = 4;
      c.etherType = loopbackFamily(buf.readUInt32BE(0));
      return null;
    default:
      return 'link_unknown_type';
  }
}

/** Maps a BSD loopback address family to an EtherType: AF_INET is 2 everywhere, AF_INET6 varies. */
function loopbackFamily(family: number): number {
  switch (family) {
    case 2:
      return ETHERTYPE_IPV4;
    case 10: // Linux
    case 24: // NetBSD, OpenBSD, BSD/OS
    case 28: // FreeBSD, DragonFly
    case 30: // Darwin
      return ETHERTYPE_IPV6;
    default:
      return NET_OTHER;
  }
}

/** Reads an Ethernet II header at buf[off] and any tags after it. */
export function decodeEthernet(
  buf: Buffer,
  off: number,
  end: number,
  c: LinkCursor,
  maxTags: number,
): string | null {
  if (end - off < 14) return 'link_truncated';
  c.offset = off + 14;
  c.etherType = u16(buf, off + 12);
  // Values up to 1500 are an 802.3 length (LLC follows), not a protocol.
  if (c.etherType <= 1500) {
    c.etherType = NET_OTHER;
    return null;
  }
  return walkEtherType(buf, end, c, maxTags);
}

/** Follows VLAN/QinQ tags, MPLS labels and PPPoE sessions from c.etherType at c.offset. */
export function walkEtherType(buf: Buffer, end: number, c: LinkCursor, maxTags: number): string | null {
  let off = c.offset;
  let et = c.etherType;
  for (;;) {
    if (
      et === ETHERTYPE_VLAN ||
      et === ETHERTYPE_QINQ ||
      et === ETHERTYPE_QINQ_OLD ||
      et === ETHERTYPE_QINQ_OLD2
    ) {
      if (++c.tags > maxTags) return 'link_too_many_tags';
      if (end - off < 4) return 'link_truncated';
      et = u16(buf, off + 2);
      off += 4;
      continue;
    }
    if (et === ETHERTYPE_MPLS || et === ETHERTYPE_MPLS_MULTICAST) {
      for (;;) {
        if (++c.tags > maxTags) return 'link_too_many_tags';
        if (end - off < 4) return 'link_truncated';
        const bottom = ((buf[off + 2] ?? 0) & 1) !== 0;
        off += 4;
        if (bottom) break;
      }
      // No type after the bottom label: IP is recognised by its version nibble.
      et = NET_RAW_IP;
      break;
    }
    if (et === ETHERTYPE_PPPOE_SESSION) {
      if (end - off < 8) return 'link_truncated';
      const ppp = u16(buf, off + 6);
      off += 8;
      et = ppp === 0x0021 ? ETHERTYPE_IPV4 : ppp === 0x0057 ? ETHERTYPE_IPV6 : NET_OTHER;
      break;
    }
    break;
  }
  c.offset = off;
  c.etherType = et;
  return null;
}
