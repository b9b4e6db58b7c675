/**
 * The packet decoder: captured frames in, application payloads out (`datagram` for UDP,
 * `stream`/`stream-end` for TCP), with anomalies as data. It walks link headers, IPv4/IPv6 (with
 * extension headers), tunnels (IP-in-IP, GRE, ERSPAN), reassembles fragments and TCP streams, and
 * keeps only the traffic a SIP monitor needs: SIP and HEP ports, or payloads that look like SIP,
 * HEP or a WebSocket upgrade. Other UDP and TCP is counted and dropped before any string is built
 * (fragments are keyed before their content is known: they are rare).
 *
 * Payload `data` of a datagram, and of stream bytes delivered straight from a frame, is a view
 * into the frame buffer: valid during the sink call; a consumer that keeps bytes must copy them.
 * Reassembled datagrams and buffered stream bytes are owned copies.
 */
import type { LocatedAnomaly, Payload, Provenance } from '../core/records.js';
import {
  DECODE_MAX_ENCAPSULATION_DEPTH,
  DECODE_MAX_IPV6_EXTENSION_HEADERS,
  DECODE_MAX_LINK_TAGS,
  DECODE_MAX_UNKNOWN_LINK_TYPES,
  DECODE_SNIFF_BYTES,
  DECODE_SWEEP_INTERVAL_MS,
} from '../config/limits.js';
import { Defragmenter, type DefragLimits, type DefragStats } from './defrag.js';
import {
  formatIPv6,
  IPPROTO_GRE,
  IPPROTO_IPIP,
  IPPROTO_IPV6,
  IPPROTO_TCP,
  IPPROTO_UDP,
  IpHeader,
  IPv4TextCache,
  parseIPv4,
  parseIPv6,
  walkIPv6Extensions,
} from './ip.js';
import {
  decodeEthernet,
  decodeLinkHeader,
  ETHERTYPE_ERSPAN_2,
  ETHERTYPE_ERSPAN_3,
  ETHERTYPE_IPV4,
  ETHERTYPE_IPV6,
  ETHERTYPE_TEB,
  LinkCursor,
  NET_RAW_IP,
  u16,
  u32,
} from './link.js';
import { TcpReassembler, type TcpLimits, type TcpStats } from './tcp-reassembly.js';

/** Where decoded payloads and anomalies go. */
export interface DecodeSink {
  payload(p: Payload): void;
  anomaly(a: LocatedAnomaly): void;
}

/** Bounds of the decoder itself (defaults from src/config/limits.ts). */
export interface DecodeLimits {
  readonly maxLinkTags: number;
  readonly maxEncapsulationDepth: number;
  readonly maxIpv6ExtensionHeaders: number;
  readonly sniffBytes: number;
  readonly maxUnknownLinkTypes: number;
  readonly sweepIntervalMs: number;
}

/** Default decoder bounds. */
export const DEFAULT_DECODE_LIMITS: DecodeLimits = {
  maxLinkTags: DECODE_MAX_LINK_TAGS,
  maxEncapsulationDepth: DECODE_MAX_ENCAPSULATION_DEPTH,
  maxIpv6ExtensionHeaders: DECODE_MAX_IPV6_EXTENSION_HEADERS,
  sniffBytes: DECODE_SNIFF_BYTES,
  maxUnknownLinkTypes: DECODE_MAX_UNKNOWN_LINK_TYPES,
  sweepIntervalMs: DECODE_SWEEP_INTERVAL_MS,
};

/** Ports whose traffic is SIP whatever it looks like. */
export const DEFAULT_SIP_PORTS: readonly number[] = [5060, 5061, 5062, 5080, 5090, 5160, 6060];
/** Ports whose traffic is HEP (capture agents) whatever it looks like. */
export const DEFAULT_HEP_PORTS: readonly number[] = [9060, 9063];

/** Decoder options; every field has a default. */
export interface DecoderOptions {
  readonly sipPorts?: readonly number[];
  readonly hepPorts?: readonly number[];
  readonly limits?: Partial<DecodeLimits>;
  readonly defrag?: Partial<DefragLimits>;
  readonly tcp?: Partial<TcpLimits>;
}

/** Decoder counters, per layer. Sub-objects are live views of the reassemblers' counters. */
export interface DecodeStats {
  frames: number;
  /** Frames not decoded: unknown link type or a malformed link header. */
  undecoded: number;
  /** Frames of link types the decoder does not read. */
  unknownLinkType: number;
  /** Frames with VLAN tags or MPLS labels. */
  tagged: number;
  /** Frames or tunnelled packets that carry no IP (ARP, LLC, other loopback families, ...). */
  nonIp: number;
  ipv4: number;
  ipv6: number;
  /** Packets whose IP length says more than the frame holds (snap length). */
  ipTruncated: number;
  /** Tunnels opened: IP-in-IP, IPv6-in-IP, GRE. */
  tunnels: number;
  gre: number;
  udp: number;
  /** UDP datagrams delivered as payloads. */
  datagrams: number;
  /** UDP datagrams dropped as not SIP/HEP (RTP, DNS, ...) or empty. */
  udpDropped: number;
  /** Of udpDropped: RTP/RTCP (version 2 first byte) on a SIP or HEP port. */
  rtpOnSipPort: number;
  /** TCP segments with a valid header. */
  tcp: number;
  /** Packets of other IP protocols (ICMP, SCTP, ESP, ...). */
  otherProtocol: number;
  /** Packets dropped for a malformed header (each with an anomaly). */
  malformed: number;
  anomalies: number;
  /**
   * Frames and packets that gave no payload: undecoded, non-IP, malformed, other IP protocols,
   * UDP that is not SIP/HEP, TCP of flows not followed, fragments dropped.
   */
  readonly dropped: number;
  readonly defrag: DefragStats;
  readonly tcpStreams: TcpStats;
  /** Evictions per bounded table: `ip-fragments`, `tcp-connections`. */
  readonly evictions: Readonly<Record<string, number>>;
}

const PORT_SIP = 1;
const PORT_HEP = 2;
const EMPTY_PROVENANCE: Provenance = { kind: 'capture' };

/** Decodes frames into payloads; one instance per input (state is per capture or interface). */
export class PacketDecoder {
  /** Counters; read freely. */
  readonly stats: DecodeStats;
  private readonly defrag: Defragmenter;
  private readonly tcp: TcpReassembler;
  private readonly ports = new Uint8Array(65536);
  private readonly link = new LinkCursor();
  private readonly ipHeaders: IpHeader[] = [];
  private readonly names = new IPv4TextCache();
  private readonly unknownLinkTypes = new Set<number>();
  private readonly lim: DecodeLimits;
  private time = 0;
  private now = -Infinity;
  private nextSweep = -Infinity;
  private prov: Provenance = EMPTY_PROVENANCE;

  /** Creates a decoder sending payloads and anomalies to `sink`. */
  constructor(
    private readonly sink: DecodeSink,
    options: DecoderOptions = {},
  ) {
    this.lim = { ...DEFAULT_DECODE_LIMITS, ...options.limits };
    for (const p of options.sipPorts ?? DEFAULT_SIP_PORTS) this.ports[p & 0xffff] = PORT_SIP;
    for (const p of options.hepPorts ?? DEFAULT_HEP_PORTS) this.ports[p & 0xffff] = PORT_HEP;
    for (let i = 0; i <= this.lim.maxEncapsulationDepth; i++) this.ipHeaders.push(new IpHeader());
    const counted: DecodeSink = {
      payload: (p) => sink.payload(p),
      anomaly: (a) => {
        this.stats.anomalies++;
        sink.anomaly(a);
      },
    };
    this.defrag = new Defragmenter(counted, options.defrag);
    this.tcp = new TcpReassembler(counted, options.tcp);
    const defragStats = this.defrag.stats;
    const tcpStats = this.tcp.stats;
    this.stats = {
      frames: 0,
      undecoded: 0,
      unknownLinkType: 0,
      tagged: 0,
      nonIp: 0,
      ipv4: 0,
      ipv6: 0,
      ipTruncated: 0,
      tunnels: 0,
      gre: 0,
      udp: 0,
      datagrams: 0,
      udpDropped: 0,
      rtpOnSipPort: 0,
      tcp: 0,
      otherProtocol: 0,
      malformed: 0,
      anomalies: 0,
      get dropped(): number {
        return (
          this.undecoded +
          this.nonIp +
          this.malformed +
          this.otherProtocol +
          this.udpDropped +
          tcpStats.untracked +
          defragStats.dropped
        );
      },
      defrag: defragStats,
      tcpStreams: tcpStats,
      evictions: {
        get 'ip-fragments'(): number {
          return defragStats.evictions;
        },
        get 'tcp-connections'(): number {
          return tcpStats.evictions;
        },
      },
    };
  }

  /** Size of the decoder's bounded state now (for tests and metrics). */
  get state(): {
    fragmentDatagrams: number;
    fragmentBytes: number;
    tcpConnections: number;
    tcpBufferedBytes: number;
  } {
    return {
      fragmentDatagrams: this.defrag.pendingDatagrams,
      fragmentBytes: this.defrag.pendingBytes,
      tcpConnections: this.tcp.connectionCount,
      tcpBufferedBytes: this.tcp.bufferedBytes,
    };
  }

  /** Decodes one frame of `linkType` captured at `time` (ms since the epoch). */
  decodeFrame(linkType: number, data: Buffer, time: number, provenance: Provenance): void {
    const st = this.stats;
    st.frames++;
    this.time = time;
    this.prov = provenance;
    if (time > this.now) {
      this.now = time;
      if (time >= this.nextSweep) this.sweep();
    }
    const c = this.link;
    const err = decodeLinkHeader(linkType, data, data.length, c, this.lim.maxLinkTags);
    if (err !== null) {
      st.undecoded++;
      if (err === 'link_unknown_type') this.unknownLink(linkType);
      else this.anomaly(err, 0, `link type ${linkType}, ${data.length} bytes`);
      return;
    }
    if (c.tags > 0) st.tagged++;
    this.network(c.etherType, data, c.offset, data.length, 0);
  }

  /** Event time moved on without a frame (an idle live source ticking): expires timed-out state. */
  tick(time: number): void {
    if (time > this.now) {
      this.now = time;
      if (time >= this.nextSweep) this.sweep();
    }
  }

  /** End of input at event time `time`: expires fragments, delivers buffered bytes, ends streams. */
  flush(time: number): void {
    if (time > this.now) this.now = time;
    const t = this.now === -Infinity ? time : this.now;
    this.defrag.flush(t);
    this.tcp.flush(t);
  }

  private sweep(): void {
    this.nextSweep = this.now + this.lim.sweepIntervalMs;
    this.defrag.expire(this.now);
    this.tcp.expire(this.now);
  }

  private unknownLink(linkType: number): void {
    this.stats.unknownLinkType++;
    const seen = this.unknownLinkTypes;
    if (seen.has(linkType) || seen.size >= this.lim.maxUnknownLinkTypes) return;
    seen.add(linkType);
    this.anomaly('link_unknown_type', 0, `link type ${linkType}`);
  }

  private network(etherType: number, buf: Buffer, off: number, end: number, depth: number): void {
    switch (etherType) {
      case ETHERTYPE_IPV4:
        this.ipv4(buf, off, end, depth);
        return;
      case ETHERTYPE_IPV6:
        this.ipv6(buf, off, end, depth);
        return;
      case NET_RAW_IP: {
        if (off >= end) {
          this.drop('link_truncated', off, 'no IP header');
          return;
        }
        const v = (buf[off] ?? 0) >> 4;
        if (v === 4) this.ipv4(buf, off, end, depth);
        else if (v === 6) this.ipv6(buf, off, end, depth);
        else this.drop('ip_bad_version', off, `version ${v}`);
        return;
      }
      default:
        this.stats.nonIp++;
    }
  }

  private ipv4(buf: Buffer, off: number, end: number, depth: number): void {
    const h = this.ipHeaders[depth] as IpHeader;
    const err = parseIPv4(buf, off, end, h);
    if (err !== null) {
      this.drop(err, off, `${end - off} bytes`);
      return;
    }
    this.stats.ipv4++;
    if (h.missing > 0) this.truncated(h, off);
    if (h.fragment) {
      if (h.missing > 0) return; // a cut fragment cannot be reassembled faithfully
      const key =
        '4' + h.addrBuf.toString('latin1', h.srcOff, h.srcOff + 8) + String.fromCharCode(h.fragId, h.proto);
      const r = this.defrag.add(
        key,
        false,
        h.fragOffset,
        h.moreFragments,
        h.proto,
        buf,
        h.payloadOff,
        h.payloadEnd,
        this.now,
        this.prov,
      );
      if (r !== null) this.transport(h, this.defrag.proto, r, 0, r.length, 0, depth);
      return;
    }
    this.transport(h, h.proto, buf, h.payloadOff, h.payloadEnd, h.missing, depth);
  }

  private ipv6(buf: Buffer, off: number, end: number, depth: number): void {
    const h = this.ipHeaders[depth] as IpHeader;
    const err = parseIPv6(buf, off, end, h, this.lim.maxIpv6ExtensionHeaders);
    if (err !== null) {
      this.drop(err, off, `${end - off} bytes`);
      return;
    }
    this.stats.ipv6++;
    if (h.missing > 0) this.truncated(h, off);
    if (h.fragment) {
      if (h.missing > 0) return;
      // RFC 8200 keys reassembly on (source, destination, identification) only.
      const key = '6' + h.addrBuf.toString('latin1', h.srcOff, h.srcOff + 32) + String(h.fragId);
      const r = this.defrag.add(
        key,
        true,
        h.fragOffset,
        h.moreFragments,
        h.proto,
        buf,
        h.payloadOff,
        h.payloadEnd,
        this.now,
        this.prov,
      );
      if (r === null) return;
      h.fragment = false;
      const err2 = walkIPv6Extensions(r, 0, r.length, this.defrag.proto, h, this.lim.maxIpv6ExtensionHeaders);
      if (err2 !== null) {
        this.drop(err2, 0, 'in a reassembled datagram');
        return;
      }
      if (h.fragment) {
        this.drop('ipv6_nested_fragment', h.payloadOff, 'fragment header inside a reassembled datagram');
        return;
      }
      this.transport(h, h.proto, r, h.payloadOff, h.payloadEnd, 0, depth);
      return;
    }
    this.transport(h, h.proto, buf, h.payloadOff, h.payloadEnd, h.missing, depth);
  }

  private truncated(h: IpHeader, off: number): void {
    this.stats.ipTruncated++;
    this.anomaly('ip_truncated', off, `IPv${h.version} length is ${h.missing} bytes beyond the frame`);
  }

  private transport(
    h: IpHeader,
    proto: number,
    buf: Buffer,
    off: number,
    end: number,
    missing: number,
    depth: number,
  ): void {
    switch (proto) {
      case IPPROTO_UDP:
        this.udp(h, buf, off, end, missing);
        return;
      case IPPROTO_TCP:
        this.tcpSegment(h, buf, off, end, missing);
        return;
      case IPPROTO_IPIP:
      case IPPROTO_IPV6:
      case IPPROTO_GRE:
        if (depth >= this.lim.maxEncapsulationDepth) {
          this.drop('ip_encapsulation_too_deep', off, `over ${this.lim.maxEncapsulationDepth} levels`);
          return;
        }
        this.stats.tunnels++;
        if (proto === IPPROTO_IPIP) this.ipv4(buf, off, end, depth + 1);
        else if (proto === IPPROTO_IPV6) this.ipv6(buf, off, end, depth + 1);
        else this.gre(buf, off, end, depth + 1);
        return;
      default:
        this.stats.otherProtocol++;
    }
  }

  private gre(buf: Buffer, off: number, end: number, depth: number): void {
    if (end - off < 4) {
      this.drop('gre_truncated', off, `${end - off} bytes`);
      return;
    }
    const flags = u16(buf, off);
    const type = u16(buf, off + 2);
    if ((flags & 0x0007) !== 0 || (flags & 0x4000) !== 0) {
      this.drop('gre_unsupported', off, `flags 0x${flags.toString(16)}`);
      return;
    }
    let p = off + 4;
    if ((flags & 0x8000) !== 0) p += 4; // checksum + reserved
    if ((flags & 0x2000) !== 0) p += 4; // key
    const hasSeq = (flags & 0x1000) !== 0;
    if (hasSeq) p += 4;
    if (p > end) {
      this.drop('gre_truncated', off, 'optional fields past the packet');
      return;
    }
    this.stats.gre++;
    switch (type) {
      case ETHERTYPE_IPV4:
        this.ipv4(buf, p, end, depth);
        return;
      case ETHERTYPE_IPV6:
        this.ipv6(buf, p, end, depth);
        return;
      case ETHERTYPE_TEB:
        this.ethernet(buf, p, end, depth);
        return;
      case ETHERTYPE_ERSPAN_2:
        // ERSPAN type I has no header of its own and no GRE sequence number; type II has both.
        if (hasSeq) {
          if (end - p < 8) {
            this.drop('gre_truncated', p, 'ERSPAN II header');
            return;
          }
          if ((buf[p] ?? 0) >> 4 !== 1) {
            this.drop('gre_unsupported', p, `ERSPAN version ${(buf[p] ?? 0) >> 4}`);
            return;
          }
          p += 8;
        }
        this.ethernet(buf, p, end, depth);
        return;
      case ETHERTYPE_ERSPAN_3: {
        if (end - p < 12) {
          this.drop('gre_truncated', p, 'ERSPAN III header');
          return;
        }
        if ((buf[p] ?? 0) >> 4 !== 2) {
          this.drop('gre_unsupported', p, `ERSPAN version ${(buf[p] ?? 0) >> 4}`);
          return;
        }
        const w = u16(buf, p + 10);
        const frameType = (w >> 10) & 0x1f;
        p += (w & 1) !== 0 ? 20 : 12; // optional platform-specific subheader
        if (p > end) {
          this.drop('gre_truncated', p, 'ERSPAN III subheader');
          return;
        }
        if (frameType === 0) this.ethernet(buf, p, end, depth);
        else if (frameType === 2) this.network(NET_RAW_IP, buf, p, end, depth);
        else this.stats.nonIp++;
        return;
      }
      default:
        this.stats.nonIp++;
    }
  }

  private ethernet(buf: Buffer, off: number, end: number, depth: number): void {
    const c = this.link;
    const err = decodeEthernet(buf, off, end, c, this.lim.maxLinkTags);
    if (err !== null) {
      this.drop(err, off, 'inner Ethernet frame');
      return;
    }
    this.network(c.etherType, buf, c.offset, end, depth);
  }

  private udp(h: IpHeader, buf: Buffer, off: number, end: number, missing: number): void {
    const st = this.stats;
    if (end - off < 8) {
      this.drop('udp_truncated', off, `${end - off} bytes`);
      return;
    }
    st.udp++;
    const sport = u16(buf, off);
    const dport = u16(buf, off + 2);
    const ulen = u16(buf, off + 4);
    let pEnd = end;
    if (ulen < 8) {
      if (ulen !== 0 || h.version !== 6) this.anomaly('udp_bad_length', off + 4, `length ${ulen}`);
    } else if (off + ulen <= end) {
      pEnd = off + ulen;
    } else if (missing === 0) {
      this.anomaly('udp_truncated', off + 4, `length ${ulen}, ${end - off} bytes in the packet`);
    }
    const pOff = off + 8;
    if (pEnd <= pOff) {
      st.udpDropped++;
      return;
    }
    const ports = this.ports;
    if (((ports[sport] ?? 0) | (ports[dport] ?? 0)) === 0) {
      if (!looksLikeSip(buf, pOff, pEnd, this.lim.sniffBytes) && !looksLikeHep(buf, pOff, pEnd)) {
        st.udpDropped++;
        return;
      }
    } else if (((buf[pOff] ?? 0) & 0xc0) === 0x80) {
      // RTP/RTCP version 2 on a SIP port (phones reuse 5062 for media): neither SIP text nor HEP
      // can start with such a byte, and handing it on would make the SIP parser cry malformed.
      st.udpDropped++;
      st.rtpOnSipPort++;
      return;
    }
    st.datagrams++;
    this.sink.payload({
      kind: 'datagram',
      time: this.time,
      srcIp: h.version === 4 ? this.names.text(h.addrBuf, h.srcOff) : formatIPv6(h.addrBuf, h.srcOff),
      srcPort: sport,
      dstIp: h.version === 4 ? this.names.text(h.addrBuf, h.dstOff) : formatIPv6(h.addrBuf, h.dstOff),
      dstPort: dport,
      provenance: this.prov,
      transport: 'udp',
      data: buf.subarray(pOff, pEnd),
    });
  }

  private tcpSegment(h: IpHeader, buf: Buffer, off: number, end: number, missing: number): void {
    if (end - off < 20) {
      this.drop('tcp_truncated', off, `${end - off} bytes`);
      return;
    }
    const hl = ((buf[off + 12] ?? 0) >> 4) << 2;
    if (hl < 20 || off + hl > end) {
      this.drop('tcp_bad_header_length', off + 12, `data offset ${hl} bytes, ${end - off} in the packet`);
      return;
    }
    this.stats.tcp++;
    const sport = u16(buf, off);
    const dport = u16(buf, off + 2);
    const pOff = off + hl;
    const ports = this.ports;
    const addrLen = h.version === 4 ? 4 : 16;
    // On a SIP port every connection is tracked; elsewhere only those whose bytes look like SIP,
    // a WebSocket upgrade or HEP (or that the reassembler already follows).
    const onSipPort = ((ports[sport] ?? 0) | (ports[dport] ?? 0)) !== 0;
    let sniffed = true;
    if (!onSipPort) {
      sniffed = end > pOff && looksLikeStreamStart(buf, pOff, end, this.lim.sniffBytes);
      if (!sniffed && !this.tcp.mayTrack(sport, dport)) {
        this.tcp.stats.untracked++;
        return;
      }
    }
    this.tcp.segment(
      h.addrBuf,
      h.srcOff,
      addrLen,
      sport,
      dport,
      u32(buf, off + 4),
      u32(buf, off + 8),
      buf[off + 13] ?? 0,
      buf,
      pOff,
      end,
      missing,
      sniffed,
      !onSipPort,
      this.time,
      this.prov,
    );
  }

  private drop(code: string, offset: number, detail: string): void {
    this.stats.malformed++;
    this.anomaly(code, offset, detail);
  }

  private anomaly(code: string, offset: number, detail: string): void {
    this.stats.anomalies++;
    this.sink.anomaly({ code, offset, detail, time: this.time, provenance: this.prov });
  }
}

const SIP_VERSION_TAIL = Buffer.from(' SIP/2.0', 'latin1');
const SIP_VERSION_HEAD = Buffer.from('SIP/2.0 ', 'latin1');
const MAX_METHOD = 32;

/**
 * True when buf[off, end) starts like a SIP message: `SIP/2.0 ` (a response), or an upper-case
 * method token, a space, and a first line ending in ` SIP/2.0` within `maxScan` bytes.
 */
export function looksLikeSip(buf: Buffer, off: number, end: number, maxScan: number): boolean {
  if (end - off < 8) return false;
  const c0 = buf[off] ?? 0;
  if (c0 < 0x41 || c0 > 0x5a) return false;
  if (c0 === 0x53 && buf.compare(SIP_VERSION_HEAD, 0, 8, off, off + 8) === 0) return true;
  let i = off + 1;
  const methodEnd = Math.min(end, off + MAX_METHOD);
  while (i < methodEnd) {
    const c = buf[i] ?? 0;
    if (c < 0x41 || c > 0x5a) break;
    i++;
  }
  if (i >= methodEnd || buf[i] !== 0x20) return false;
  const lim = Math.min(end, off + maxScan);
  let j = i + 1;
  while (j < lim) {
    const c = buf[j];
    if (c === 0x0d || c === 0x0a) break;
    j++;
  }
  if (j === lim && lim < end) return false; // first line longer than the scan bound
  // At least one request-URI byte between the method's space and " SIP/2.0".
  if (j - 8 < i + 2) return false;
  return buf.compare(SIP_VERSION_TAIL, 0, 8, j - 8, j) === 0;
}

/** True when buf[off, end) starts with a HEPv3 magic or has the shape of a HEPv2 header. */
export function looksLikeHep(buf: Buffer, off: number, end: number): boolean {
  const n = end - off;
  if (n < 4) return false;
  const b0 = buf[off] ?? 0;
  if (b0 === 0x48) return buf[off + 1] === 0x45 && buf[off + 2] === 0x50 && buf[off + 3] === 0x33;
  if (b0 !== 2 || n < 28) return false;
  const hl = buf[off + 1];
  const family = buf[off + 2];
  const proto = buf[off + 3];
  const shape = (hl === 28 && family === 2) || (hl === 52 && family === 10);
  return shape && (proto === 17 || proto === 6 || proto === 132) && n >= (hl ?? 0);
}

const GET_SP = Buffer.from('GET ', 'latin1');
const UPGRADE = Buffer.from('upgrade:', 'latin1');
const WEBSOCKET = Buffer.from('websocket', 'latin1');

/** Case-insensitive match of lower-case ASCII `word` at buf[at]. */
function matchLower(buf: Buffer, at: number, end: number, word: Buffer): boolean {
  if (end - at < word.length) return false;
  for (let k = 0; k < word.length; k++) {
    const c = buf[at + k] ?? 0;
    const lc = c >= 0x41 && c <= 0x5a ? c | 0x20 : c;
    if (lc !== word[k]) return false;
  }
  return true;
}

/** True for an HTTP `GET ` request whose headers (within `maxScan` bytes) hold `Upgrade: websocket`. */
export function looksLikeWebSocketUpgrade(buf: Buffer, off: number, end: number, maxScan: number): boolean {
  if (end - off < 4 || buf.compare(GET_SP, 0, 4, off, off + 4) !== 0) return false;
  const lim = Math.min(end, off + maxScan);
  for (let i = off + 4; i < lim; i++) {
    if (buf[i] !== 0x0a || !matchLower(buf, i + 1, lim, UPGRADE)) continue;
    let j = i + 1 + UPGRADE.length;
    while (j < lim && (buf[j] === 0x20 || buf[j] === 0x09)) j++;
    return matchLower(buf, j, lim, WEBSOCKET);
  }
  return false;
}

/** True when a TCP payload on a non-SIP port starts a stream worth following (SIP, SIP over WS, HEP). */
export function looksLikeStreamStart(buf: Buffer, off: number, end: number, maxScan: number): boolean {
  const c0 = buf[off] ?? 0;
  if (
    c0 === 0x48 &&
    end - off >= 4 &&
    buf[off + 1] === 0x45 &&
    buf[off + 2] === 0x50 &&
    buf[off + 3] === 0x33
  ) {
    return true;
  }
  if (c0 === 0x47 && looksLikeWebSocketUpgrade(buf, off, end, maxScan)) return true;
  return looksLikeSip(buf, off, end, maxScan);
}
