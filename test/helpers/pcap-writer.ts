/**
 * Builds captures for tests: pcap and pcapng files, and the frames inside them (link headers,
 * IPv4/IPv6 with extension headers and fragments, UDP, TCP, GRE/ERSPAN). Everything is plain bytes,
 * so tests state exactly what is on the wire. Times are milliseconds since the Unix epoch.
 */

/** One record of a capture file. */
export interface CaptureRecord {
  /** Milliseconds since the epoch (fractions are kept to the file's resolution). */
  readonly time: number;
  readonly data: Buffer;
  /** Length on the wire; defaults to data.length. */
  readonly origLen?: number;
}

/** Options of a classic pcap file. */
export interface PcapOptions {
  /** LINKTYPE_* value; default 1 (Ethernet). */
  readonly linkType?: number;
  /** Nanosecond timestamps (magic a1b23c4d); default microseconds. */
  readonly nanos?: boolean;
  /** Write big-endian; default little-endian. */
  readonly bigEndian?: boolean;
  readonly snaplen?: number;
  /** Override the version major number (to test version checks). */
  readonly versionMajor?: number;
}

/** Writes a classic pcap file holding `records`. */
export function pcapFile(records: readonly CaptureRecord[], options: PcapOptions = {}): Buffer {
  const be = options.bigEndian === true;
  const parts: Buffer[] = [];
  const head = Buffer.alloc(24);
  const u32 = (b: Buffer, v: number, at: number): number =>
    be ? b.writeUInt32BE(v >>> 0, at) : b.writeUInt32LE(v >>> 0, at);
  const u16 = (b: Buffer, v: number, at: number): number =>
    be ? b.writeUInt16BE(v, at) : b.writeUInt16LE(v, at);
  u32(head, options.nanos === true ? 0xa1b23c4d : 0xa1b2c3d4, 0);
  u16(head, options.versionMajor ?? 2, 4);
  u16(head, 4, 6);
  u32(head, 0, 8);
  u32(head, 0, 12);
  u32(head, options.snaplen ?? 262144, 16);
  u32(head, options.linkType ?? 1, 20);
  parts.push(head);
  for (const r of records) {
    const h = Buffer.alloc(16);
    const sec = Math.floor(r.time / 1000);
    const frac =
      options.nanos === true
        ? Math.round((r.time - sec * 1000) * 1e6)
        : Math.round((r.time - sec * 1000) * 1e3);
    u32(h, sec, 0);
    u32(h, frac, 4);
    u32(h, r.data.length, 8);
    u32(h, r.origLen ?? r.data.length, 12);
    parts.push(h, r.data);
  }
  return Buffer.concat(parts);
}

/** Options of one pcapng interface (IDB). */
export interface PcapngInterfaceOptions {
  readonly snaplen?: number;
  /** if_tsresol byte: 6 = microseconds (default), 9 = nanoseconds, 0x80 | n = 2^-n seconds. */
  readonly tsresol?: number;
  /** if_tsoffset in seconds. */
  readonly tsoffset?: number;
  /** if_name option, to exercise option skipping. */
  readonly name?: string;
}

/** Builds a pcapng file block by block (several sections, byte orders, interfaces allowed). */
export class PcapngWriter {
  private readonly parts: Buffer[] = [];
  private be: boolean;
  private resolutions: number[] = [];
  private offsets: number[] = [];

  constructor(options: { readonly bigEndian?: boolean } = {}) {
    this.be = options.bigEndian === true;
  }

  /** Starts a section (SHB); later blocks use its byte order. */
  section(options: { readonly bigEndian?: boolean; readonly comment?: string } = {}): this {
    this.be = options.bigEndian ?? this.be;
    this.resolutions = [];
    this.offsets = [];
    const opts =
      options.comment === undefined ? Buffer.alloc(0) : this.options([[1, Buffer.from(options.comment)]]);
    const body = Buffer.alloc(16);
    this.w32(body, 0x1a2b3c4d, 0);
    this.w16(body, 1, 4);
    this.w16(body, 0, 6);
    body.writeInt32LE(-1, 8); // section length unknown (-1), same in both byte orders
    body.writeInt32LE(-1, 12);
    return this.block(0x0a0d0d0a, Buffer.concat([body, opts]));
  }

  /** Adds an interface (IDB) of `linkType`. */
  iface(linkType: number, options: PcapngInterfaceOptions = {}): this {
    const body = Buffer.alloc(8);
    this.w16(body, linkType, 0);
    this.w16(body, 0, 2);
    this.w32(body, options.snaplen ?? 0, 4);
    const list: [number, Buffer][] = [];
    if (options.name !== undefined) list.push([2, Buffer.from(options.name)]);
    if (options.tsresol !== undefined) list.push([9, Buffer.from([options.tsresol])]);
    if (options.tsoffset !== undefined) {
      const b = Buffer.alloc(8);
      if (this.be) b.writeBigInt64BE(BigInt(options.tsoffset));
      else b.writeBigInt64LE(BigInt(options.tsoffset));
      list.push([14, b]);
    }
    this.resolutions.push(options.tsresol ?? 6);
    this.offsets.push(options.tsoffset ?? 0);
    return this.block(1, Buffer.concat([body, list.length === 0 ? Buffer.alloc(0) : this.options(list)]));
  }

  /** Adds an Enhanced Packet Block. */
  packet(ifId: number, time: number, data: Buffer, origLen?: number): this {
    const body = Buffer.alloc(20);
    this.w32(body, ifId, 0);
    this.timestamp(body, 4, ifId, time);
    this.w32(body, data.length, 12);
    this.w32(body, origLen ?? data.length, 16);
    return this.block(6, Buffer.concat([body, pad4(data)]));
  }

  /** Adds an obsolete Packet Block (type 2). */
  obsoletePacket(ifId: number, time: number, data: Buffer, origLen?: number): this {
    const body = Buffer.alloc(20);
    this.w16(body, ifId, 0);
    this.w16(body, 0, 2);
    this.timestamp(body, 4, ifId, time);
    this.w32(body, data.length, 12);
    this.w32(body, origLen ?? data.length, 16);
    return this.block(2, Buffer.concat([body, pad4(data)]));
  }

  /** Adds a Simple Packet Block (interface 0, no timestamp). */
  simplePacket(data: Buffer, origLen?: number): this {
    const body = Buffer.alloc(4);
    this.w32(body, origLen ?? data.length, 0);
    return this.block(3, Buffer.concat([body, pad4(data)]));
  }

  /** Adds any block (`body` is padded to 4 bytes); `lengthOverride` writes a wrong length on purpose. */
  block(type: number, body: Buffer, lengthOverride?: number): this {
    const b = pad4(body);
    const len = b.length + 12;
    const head = Buffer.alloc(8);
    if (type === 0x0a0d0d0a) head.writeUInt32LE(type, 0);
    else this.w32(head, type, 0);
    this.w32(head, lengthOverride ?? len, 4);
    const tail = Buffer.alloc(4);
    this.w32(tail, lengthOverride ?? len, 0);
    this.parts.push(head, b, tail);
    return this;
  }

  /** Raw bytes appended as they are (to build corrupt files). */
  raw(bytes: Buffer): this {
    this.parts.push(bytes);
    return this;
  }

  toBuffer(): Buffer {
    return Buffer.concat(this.parts);
  }

  private timestamp(b: Buffer, at: number, ifId: number, time: number): void {
    const res = this.resolutions[ifId] ?? 6;
    const offsetMs = (this.offsets[ifId] ?? 0) * 1000;
    const ms = time - offsetMs;
    let ticks: bigint;
    if ((res & 0x80) !== 0) {
      ticks = BigInt(Math.round((ms / 1000) * 2 ** (res & 0x7f)));
    } else {
      // Whole milliseconds exactly, the fraction rounded to the resolution.
      const whole = Math.floor(ms);
      const scale = 10n ** BigInt(res);
      ticks = (BigInt(whole) * scale) / 1000n + BigInt(Math.round(((ms - whole) / 1000) * Number(scale)));
    }
    const hi = Number(ticks >> 32n);
    const lo = Number(ticks & 0xffffffffn);
    this.w32(b, hi, at);
    this.w32(b, lo, at + 4);
  }

  private options(list: readonly [number, Buffer][]): Buffer {
    const parts: Buffer[] = [];
    for (const [code, value] of list) {
      const h = Buffer.alloc(4);
      this.w16(h, code, 0);
      this.w16(h, value.length, 2);
      parts.push(h, pad4(value));
    }
    parts.push(Buffer.alloc(4)); // opt_endofopt
    return Buffer.concat(parts);
  }

  private w32(b: Buffer, v: number, at: number): void {
    if (this.be) b.writeUInt32BE(v >>> 0, at);
    else b.writeUInt32LE(v >>> 0, at);
  }

  private w16(b: Buffer, v: number, at: number): void {
    if (this.be) b.writeUInt16BE(v, at);
    else b.writeUInt16LE(v, at);
  }
}

/** A one-section, one-interface pcapng file holding `records`. */
export function pcapngFile(
  records: readonly CaptureRecord[],
  options: PcapngInterfaceOptions & { readonly linkType?: number; readonly bigEndian?: boolean } = {},
): Buffer {
  const w = new PcapngWriter(options.bigEndian === undefined ? {} : { bigEndian: options.bigEndian });
  w.section().iface(options.linkType ?? 1, options);
  for (const r of records) w.packet(0, r.time, r.data, r.origLen);
  return w.toBuffer();
}

function pad4(b: Buffer): Buffer {
  const r = b.length % 4;
  return r === 0 ? b : Buffer.concat([b, Buffer.alloc(4 - r)]);
}

// ── link layers ─────────────────────────────────────────────────────────────────────────────────

/** LINKTYPE_* values, for readability in tests. */
export const LINK = {
  NULL: 0,
  ETHERNET: 1,
  RAW: 101,
  LOOP: 108,
  LINUX_SLL: 113,
  IPV4: 228,
  IPV6: 229,
  LINUX_SLL2: 276,
} as const;

/** EtherType values. */
export const ETH = {
  IPV4: 0x0800,
  IPV6: 0x86dd,
  ARP: 0x0806,
  VLAN: 0x8100,
  QINQ: 0x88a8,
  QINQ_OLD: 0x9100,
  MPLS: 0x8847,
  PPPOE: 0x8864,
  TEB: 0x6558,
  ERSPAN2: 0x88be,
  ERSPAN3: 0x22eb,
} as const;

/** One VLAN tag: its TPID (0x8100, 0x88a8, 0x9100) and VLAN id. */
export interface VlanTag {
  readonly tpid: number;
  readonly id: number;
}

/** An Ethernet II frame carrying `payload` as `etherType`, behind optional VLAN tags (outermost first). */
export function ethernet(etherType: number, payload: Buffer, vlans: readonly VlanTag[] = []): Buffer {
  const head = Buffer.alloc(14 + 4 * vlans.length);
  Buffer.from([0x00, 0x11, 0x22, 0x33, 0x44, 0x55]).copy(head, 0);
  Buffer.from([0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb]).copy(head, 6);
  let at = 12;
  for (const v of vlans) {
    head.writeUInt16BE(v.tpid, at);
    head.writeUInt16BE(v.id & 0x0fff, at + 2);
    at += 4;
  }
  head.writeUInt16BE(etherType, at);
  return Buffer.concat([head, payload]);
}

/** MPLS label stack entries followed by `payload` (the last label gets the bottom-of-stack bit). */
export function mpls(labels: readonly number[], payload: Buffer): Buffer {
  const head = Buffer.alloc(4 * labels.length);
  labels.forEach((label, i) => {
    head.writeUInt32BE(((label << 12) | (i === labels.length - 1 ? 0x100 : 0) | 64) >>> 0, 4 * i);
  });
  return Buffer.concat([head, payload]);
}

/** A PPPoE session header and PPP protocol (0x0021 IPv4, 0x0057 IPv6) before `payload`. */
export function pppoe(pppProtocol: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head[0] = 0x11;
  head.writeUInt16BE(1, 2);
  head.writeUInt16BE(payload.length + 2, 4);
  head.writeUInt16BE(pppProtocol, 6);
  return Buffer.concat([head, payload]);
}

/** A Linux cooked (SLL, link type 113) header before `payload`. */
export function linuxSll(protocol: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(16);
  head.writeUInt16BE(0, 0); // to us
  head.writeUInt16BE(1, 2); // ARPHRD_ETHER
  head.writeUInt16BE(6, 4);
  Buffer.from([0x00, 0x11, 0x22, 0x33, 0x44, 0x55]).copy(head, 6);
  head.writeUInt16BE(protocol, 14);
  return Buffer.concat([head, payload]);
}

/** A Linux cooked v2 (SLL2, link type 276) header before `payload`. */
export function linuxSll2(protocol: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(20);
  head.writeUInt16BE(protocol, 0);
  head.writeUInt32BE(2, 4); // interface index
  head.writeUInt16BE(1, 8); // ARPHRD_ETHER
  head[10] = 0;
  head[11] = 6;
  Buffer.from([0x00, 0x11, 0x22, 0x33, 0x44, 0x55]).copy(head, 12);
  return Buffer.concat([head, payload]);
}

/** A BSD loopback (link type 0) header: `family` in the writer's byte order (little-endian default). */
export function nullLoopback(family: number, payload: Buffer, bigEndian = false): Buffer {
  const head = Buffer.alloc(4);
  if (bigEndian) head.writeUInt32BE(family, 0);
  else head.writeUInt32LE(family, 0);
  return Buffer.concat([head, payload]);
}

/** An OpenBSD LOOP (link type 108) header: `family` in network byte order. */
export function loop(family: number, payload: Buffer): Buffer {
  return nullLoopback(family, payload, true);
}

// ── IP ──────────────────────────────────────────────────────────────────────────────────────────

/** IP protocol numbers. */
export const PROTO = {
  HOPOPTS: 0,
  ICMP: 1,
  IPIP: 4,
  TCP: 6,
  UDP: 17,
  IPV6: 41,
  ROUTING: 43,
  FRAGMENT: 44,
  GRE: 47,
  DSTOPTS: 60,
  SCTP: 132,
} as const;

/** Bytes of a dotted-quad IPv4 address. */
export function ipv4Bytes(text: string): Buffer {
  const parts = text.split('.').map((p) => Number(p));
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) {
    throw new Error(`bad IPv4 address ${text}`);
  }
  return Buffer.from(parts);
}

/** Bytes of an IPv6 address in any RFC 4291 text form (with ::, with a trailing dotted quad). */
export function ipv6Bytes(text: string): Buffer {
  let s = text;
  const lastColon = s.lastIndexOf(':');
  if (s.slice(lastColon + 1).includes('.')) {
    const v4 = ipv4Bytes(s.slice(lastColon + 1));
    s = `${s.slice(0, lastColon + 1)}${v4.readUInt16BE(0).toString(16)}:${v4.readUInt16BE(2).toString(16)}`;
  }
  const halves = s.split('::');
  if (halves.length > 2) throw new Error(`bad IPv6 address ${text}`);
  const parse = (h: string | undefined): number[] =>
    h === undefined || h === '' ? [] : h.split(':').map((g) => parseInt(g, 16));
  const head = parse(halves[0]);
  const rest = halves.length === 2 ? parse(halves[1]) : [];
  const zeros = halves.length === 2 ? 8 - head.length - rest.length : 0;
  const groups = [...head, ...new Array<number>(Math.max(0, zeros)).fill(0), ...rest];
  if (groups.length !== 8 || groups.some((g) => !Number.isInteger(g) || g < 0 || g > 0xffff)) {
    throw new Error(`bad IPv6 address ${text}`);
  }
  const b = Buffer.alloc(16);
  groups.forEach((g, i) => b.writeUInt16BE(g, 2 * i));
  return b;
}

/** Fields of an IPv4 header; anything omitted gets a sane default. */
export interface Ipv4Fields {
  readonly src: string;
  readonly dst: string;
  readonly proto: number;
  readonly id?: number;
  readonly ttl?: number;
  readonly dontFragment?: boolean;
  readonly moreFragments?: boolean;
  /** Fragment offset in bytes (a multiple of 8). */
  readonly fragOffset?: number;
  /** IP options (padded to 4 bytes). */
  readonly options?: Buffer;
  /** Override the total length field. */
  readonly totalLength?: number;
  /** Override the IHL field (in 32-bit words). */
  readonly ihl?: number;
}

/** An IPv4 packet carrying `payload` (header checksum computed). */
export function ipv4(f: Ipv4Fields, payload: Buffer): Buffer {
  const opts = f.options === undefined ? Buffer.alloc(0) : pad4(f.options);
  const hl = 20 + opts.length;
  const h = Buffer.alloc(hl);
  h[0] = 0x40 | (f.ihl ?? hl / 4);
  h.writeUInt16BE(f.totalLength ?? hl + payload.length, 2);
  h.writeUInt16BE(f.id ?? 0x1234, 4);
  const frag =
    (f.dontFragment === true ? 0x4000 : 0) |
    (f.moreFragments === true ? 0x2000 : 0) |
    ((f.fragOffset ?? 0) >> 3);
  h.writeUInt16BE(frag, 6);
  h[8] = f.ttl ?? 64;
  h[9] = f.proto;
  ipv4Bytes(f.src).copy(h, 12);
  ipv4Bytes(f.dst).copy(h, 16);
  opts.copy(h, 20);
  h.writeUInt16BE(checksum(h), 10);
  return Buffer.concat([h, payload]);
}

/** One IPv6 extension header: its type and its body after the next-header byte (and length byte). */
export interface Ipv6Extension {
  readonly type: number;
  /** For hop-by-hop / routing / destination options: the bytes after next-header and length. */
  readonly body?: Buffer;
}

/** Fields of an IPv6 header. */
export interface Ipv6Fields {
  readonly src: string;
  readonly dst: string;
  /** Upper-layer protocol after the extension headers. */
  readonly proto: number;
  readonly hopLimit?: number;
  readonly extensions?: readonly Ipv6Extension[];
  /** Override the payload length field. */
  readonly payloadLength?: number;
}

/** Encodes an options-style extension header (hop-by-hop, routing, destination options). */
function optionsHeader(next: number, body: Buffer | undefined): Buffer {
  // 6 bytes of body minimum so the header is 8 bytes; pad to a multiple of 8.
  const b = body ?? Buffer.from([1, 4, 0, 0, 0, 0]); // PadN option
  const len = Math.ceil((b.length + 2) / 8) * 8;
  const h = Buffer.alloc(len);
  h[0] = next;
  h[1] = len / 8 - 1;
  b.copy(h, 2);
  return h;
}

/** An IPv6 fragment header. */
export function ipv6FragmentHeader(next: number, offset: number, more: boolean, id: number): Buffer {
  const h = Buffer.alloc(8);
  h[0] = next;
  h.writeUInt16BE((offset & 0xfff8) | (more ? 1 : 0), 2);
  h.writeUInt32BE(id >>> 0, 4);
  return h;
}

/** An IPv6 packet carrying `payload` behind optional extension headers. */
export function ipv6(f: Ipv6Fields, payload: Buffer): Buffer {
  const exts = f.extensions ?? [];
  const chain: Buffer[] = [];
  for (let i = 0; i < exts.length; i++) {
    const e = exts[i] as Ipv6Extension;
    const next = i + 1 < exts.length ? (exts[i + 1] as Ipv6Extension).type : f.proto;
    chain.push(optionsHeader(next, e.body));
  }
  const ext = Buffer.concat(chain);
  const h = Buffer.alloc(40);
  h.writeUInt32BE(0x60000000, 0);
  h.writeUInt16BE(f.payloadLength ?? ext.length + payload.length, 4);
  h[6] = exts.length > 0 ? (exts[0] as Ipv6Extension).type : f.proto;
  h[7] = f.hopLimit ?? 64;
  ipv6Bytes(f.src).copy(h, 8);
  ipv6Bytes(f.dst).copy(h, 24);
  return Buffer.concat([h, ext, payload]);
}

/** An IPv4 or IPv6 packet, chosen by the address form. */
export function ipPacket(src: string, dst: string, proto: number, payload: Buffer): Buffer {
  return src.includes(':') ? ipv6({ src, dst, proto }, payload) : ipv4({ src, dst, proto }, payload);
}

/** Splits an IPv4 datagram's payload into fragments of at most `size` bytes (rounded down to 8). */
export function fragmentIpv4(f: Ipv4Fields, payload: Buffer, size: number): Buffer[] {
  const step = Math.max(8, size - (size % 8));
  const out: Buffer[] = [];
  for (let off = 0; off < payload.length; off += step) {
    const end = Math.min(payload.length, off + step);
    out.push(
      ipv4({ ...f, fragOffset: off, moreFragments: end < payload.length }, payload.subarray(off, end)),
    );
  }
  return out;
}

/** Splits an IPv6 payload (`proto` data) into fragments of at most `size` bytes behind fragment headers. */
export function fragmentIpv6(f: Ipv6Fields, payload: Buffer, size: number, id: number): Buffer[] {
  const step = Math.max(8, size - (size % 8));
  const out: Buffer[] = [];
  for (let off = 0; off < payload.length; off += step) {
    const end = Math.min(payload.length, off + step);
    const fh = ipv6FragmentHeader(f.proto, off, end < payload.length, id);
    out.push(ipv6({ ...f, proto: PROTO.FRAGMENT }, Buffer.concat([fh, payload.subarray(off, end)])));
  }
  return out;
}

/** Internet checksum of `b`. */
export function checksum(b: Buffer): number {
  let sum = 0;
  for (let i = 0; i + 1 < b.length; i += 2) sum += b.readUInt16BE(i);
  if (b.length % 2 === 1) sum += (b[b.length - 1] ?? 0) << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

// ── transport and tunnels ───────────────────────────────────────────────────────────────────────

/** A UDP header (checksum 0) before `payload`; `length` overrides the length field. */
export function udp(sport: number, dport: number, payload: Buffer, length?: number): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16BE(sport, 0);
  h.writeUInt16BE(dport, 2);
  h.writeUInt16BE(length ?? payload.length + 8, 4);
  return Buffer.concat([h, payload]);
}

/** Fields of a TCP header. */
export interface TcpFields {
  readonly sport: number;
  readonly dport: number;
  readonly seq: number;
  readonly ack?: number;
  /** Letters among F S R P A U (e.g. 'S', 'SA', 'PA', 'FA', 'R'); default 'PA'. */
  readonly flags?: string;
  readonly window?: number;
  /** TCP options (padded to 4 bytes). */
  readonly options?: Buffer;
  /** Override the data offset (in 32-bit words). */
  readonly dataOffset?: number;
}

/** A TCP header (checksum 0) before `payload`. */
export function tcp(f: TcpFields, payload: Buffer = Buffer.alloc(0)): Buffer {
  const opts = f.options === undefined ? Buffer.alloc(0) : pad4(f.options);
  const h = Buffer.alloc(20 + opts.length);
  h.writeUInt16BE(f.sport, 0);
  h.writeUInt16BE(f.dport, 2);
  h.writeUInt32BE(f.seq >>> 0, 4);
  h.writeUInt32BE((f.ack ?? 0) >>> 0, 8);
  h[12] = (f.dataOffset ?? h.length / 4) << 4;
  let flags = 0;
  for (const c of f.flags ?? 'PA') {
    flags |=
      c === 'F' ? 1 : c === 'S' ? 2 : c === 'R' ? 4 : c === 'P' ? 8 : c === 'A' ? 16 : c === 'U' ? 32 : 0;
  }
  h[13] = flags;
  h.writeUInt16BE(f.window ?? 65535, 14);
  opts.copy(h, 20);
  return Buffer.concat([h, payload]);
}

/** A GRE header (RFC 2784/2890) with optional checksum, key and sequence number. */
export function gre(
  protocol: number,
  payload: Buffer,
  opts: {
    readonly key?: number;
    readonly seq?: number;
    readonly checksum?: boolean;
    readonly flags?: number;
  } = {},
): Buffer {
  let flags = opts.flags ?? 0;
  const fields: Buffer[] = [];
  if (opts.checksum === true) {
    flags |= 0x8000;
    fields.push(Buffer.alloc(4));
  }
  if (opts.key !== undefined) {
    flags |= 0x2000;
    const b = Buffer.alloc(4);
    b.writeUInt32BE(opts.key >>> 0);
    fields.push(b);
  }
  if (opts.seq !== undefined) {
    flags |= 0x1000;
    const b = Buffer.alloc(4);
    b.writeUInt32BE(opts.seq >>> 0);
    fields.push(b);
  }
  const h = Buffer.alloc(4);
  h.writeUInt16BE(flags, 0);
  h.writeUInt16BE(protocol, 2);
  return Buffer.concat([h, ...fields, payload]);
}

/** An ERSPAN type II header (8 bytes, version 1) before the mirrored Ethernet frame. */
export function erspan2(frame: Buffer, session = 1): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16BE(0x1000, 0); // version 1, VLAN 0
  h.writeUInt16BE(session & 0x3ff, 2);
  return Buffer.concat([h, frame]);
}

/** An ERSPAN type III header (12 bytes, version 2; `subheader` adds the 8-byte platform part). */
export function erspan3(
  inner: Buffer,
  opts: { readonly frameType?: number; readonly subheader?: boolean } = {},
): Buffer {
  const h = Buffer.alloc(opts.subheader === true ? 20 : 12);
  h.writeUInt16BE(0x2000, 0); // version 2
  h.writeUInt16BE(1, 2);
  h.writeUInt32BE(0x01020304, 4); // timestamp
  h.writeUInt16BE((((opts.frameType ?? 0) & 0x1f) << 10) | (opts.subheader === true ? 1 : 0), 10);
  return Buffer.concat([h, inner]);
}

/** A SIP request of about `bodyBytes` extra body, for payloads that must look like SIP. */
export function sipRequest(method = 'OPTIONS', bodyBytes = 0, callId = 'a84b4c76e66710'): Buffer {
  const body = 'x'.repeat(bodyBytes);
  return Buffer.from(
    `${method} sip:100@192.0.2.10 SIP/2.0\r\n` +
      'Via: SIP/2.0/UDP 192.0.2.20:5060;branch=z9hG4bK776asdhds\r\n' +
      'Max-Forwards: 70\r\n' +
      'To: <sip:100@192.0.2.10>\r\n' +
      'From: <sip:200@192.0.2.20>;tag=1928301774\r\n' +
      `Call-ID: ${callId}\r\n` +
      `CSeq: 1 ${method}\r\n` +
      `Content-Length: ${body.length}\r\n\r\n${body}`,
    'latin1',
  );
}
