/**
 * TCP stream reassembly: per connection and direction, delivers the next in-order bytes as
 * `stream` payloads and closes directions with `stream-end`.
 *
 * Policies:
 * - Pick-up: a direction starts at its SYN (ISN + 1) or, mid-stream, at its first payload segment.
 * - Retransmitted bytes (before the next expected byte) are dropped and counted; bytes already
 *   delivered are not kept, so they cannot be compared.
 * - Overlaps among buffered (out-of-order) bytes keep the first-seen bytes; `tcp_overlap_mismatch`
 *   when the overlapping bytes differ (a sign of evasion: the receiver may keep the other copy).
 * - Holes: out-of-order segments wait in a bounded buffer. Delivery skips ahead (`gap: true`,
 *   anomaly `tcp_gap`) when the buffer bound is reached, when the hole outlasts the gap timeout in
 *   event time, or at once when the receiver acknowledged the missing bytes (the capture lost them).
 * - Provenance: bytes made deliverable by a frame carry that frame, including buffered segments a
 *   frame released by filling a hole; bytes released by a timeout carry the frame they arrived in.
 * - Table bound: eviction takes a closed connection first, then the longest idle connection that
 *   has neither completed a handshake nor carried data both ways, and an established one only when
 *   nothing else is left: a flood of spoofed one-way connections only evicts its own kind.
 * All time is event time (frame times, made monotonic); there are no timers.
 */
import type { LocatedAnomaly, Payload, Provenance } from '../core/records.js';
import {
  TCP_CLOSED_LINGER_MS,
  TCP_GAP_TIMEOUT_MS,
  TCP_IDLE_TIMEOUT_MS,
  TCP_MAX_BUFFERED_BYTES_PER_STREAM,
  TCP_MAX_BUFFERED_BYTES_TOTAL,
  TCP_MAX_BUFFERED_SEGMENTS_PER_STREAM,
  TCP_MAX_CONNECTIONS,
  TCP_UNESTABLISHED_IDLE_TIMEOUT_MS,
} from '../config/limits.js';
import { formatIp } from './ip.js';

/** TCP flag bits (byte 13 of the header). */
export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_ACK = 0x10;

/** Bounds and timeouts of stream reassembly (defaults from src/config/limits.ts). */
export interface TcpLimits {
  readonly maxConnections: number;
  readonly maxBufferedBytesPerStream: number;
  readonly maxBufferedSegmentsPerStream: number;
  readonly maxBufferedBytesTotal: number;
  readonly gapTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly unestablishedIdleTimeoutMs: number;
  readonly closedLingerMs: number;
}

/** Default reassembly bounds. */
export const DEFAULT_TCP_LIMITS: TcpLimits = {
  maxConnections: TCP_MAX_CONNECTIONS,
  maxBufferedBytesPerStream: TCP_MAX_BUFFERED_BYTES_PER_STREAM,
  maxBufferedSegmentsPerStream: TCP_MAX_BUFFERED_SEGMENTS_PER_STREAM,
  maxBufferedBytesTotal: TCP_MAX_BUFFERED_BYTES_TOTAL,
  gapTimeoutMs: TCP_GAP_TIMEOUT_MS,
  idleTimeoutMs: TCP_IDLE_TIMEOUT_MS,
  unestablishedIdleTimeoutMs: TCP_UNESTABLISHED_IDLE_TIMEOUT_MS,
  closedLingerMs: TCP_CLOSED_LINGER_MS,
};

/** Receives what reassembly produces. */
export interface StreamSink {
  payload(p: Payload): void;
  anomaly(a: LocatedAnomaly): void;
}

/** Counters of stream reassembly. */
export interface TcpStats {
  /** Segments handed to the reassembler (on tracked or candidate connections). */
  segments: number;
  /** Segments of flows that are not tracked (not SIP-like, no state). */
  untracked: number;
  connections: number;
  midstreamPickups: number;
  /** A SYN with a new ISN, or new data after a close, on a known 4-tuple: state restarted. */
  restarts: number;
  payloads: number;
  bytesDelivered: number;
  outOfOrder: number;
  retransmissions: number;
  overlaps: number;
  overlapMismatches: number;
  gaps: number;
  /** Delivery moved back to the receiver's acknowledged position after a skip (`tcp_resync`). */
  resyncs: number;
  gapBytes: number;
  streamEnds: number;
  /** Segments after the direction's FIN, or after the connection closed. */
  afterClose: number;
  evictions: number;
  establishedEvictions: number;
  timeouts: number;
  /** Buffered bytes dropped when a connection was evicted. */
  droppedBytes: number;
}

const UNESTABLISHED = 0;
const ESTABLISHED = 1;
const CLOSED = 2;

interface Segment {
  seq: number;
  data: Buffer;
  time: number;
  provenance: Provenance;
}

class Direction {
  initialized = false;
  nextSeq = 0;
  isn = 0;
  synSeen = false;
  finSeen = false;
  finSeq = 0;
  ended = false;
  delivered = false;
  sawData = false;
  pendingGap = false;
  /** Highest acknowledgment the peer sent for this direction (valid when peerAckSeen). */
  peerAck = 0;
  peerAckSeen = false;
  readonly segs: Segment[] = [];
  bytes = 0;
  holeSince = 0;
  /** The last skipped range [skipFrom, skipTo) while the receiver has not acknowledged past it. */
  skipActive = false;
  skipFrom = 0;
  skipTo = 0;
  constructor(
    readonly streamId: number,
    readonly srcIp: string,
    readonly srcPort: number,
    readonly dstIp: string,
    readonly dstPort: number,
    /** Frame of the last bytes delivered (or of the first segment): where a timed-out end points. */
    public lastProvenance: Provenance,
  ) {}
}

class Connection {
  state = UNESTABLISHED;
  lastSeen = 0;
  prev: Connection | null = null;
  next: Connection | null = null;
  list: ConnList | null = null;
  clientDir = -1;
  synAckSeen = false;
  constructor(
    readonly key0: string,
    readonly key1: string,
    readonly dir0: Direction,
    readonly dir1: Direction,
    readonly nonPort: boolean,
  ) {}
}

/** Intrusive doubly linked list in last-activity order (head = longest idle). */
class ConnList {
  head: Connection | null = null;
  tail: Connection | null = null;
  size = 0;

  append(c: Connection): void {
    c.list = this;
    c.prev = this.tail;
    c.next = null;
    if (this.tail === null) this.head = c;
    else this.tail.next = c;
    this.tail = c;
    this.size++;
  }

  unlink(c: Connection): void {
    if (c.prev === null) this.head = c.next;
    else c.prev.next = c.next;
    if (c.next === null) this.tail = c.prev;
    else c.next.prev = c.prev;
    c.prev = null;
    c.next = null;
    c.list = null;
    this.size--;
  }
}

/** Connection table and per-direction reassembly for the TCP flows worth following. */
export class TcpReassembler {
  /** Counters; read freely. */
  readonly stats: TcpStats = {
    segments: 0,
    untracked: 0,
    connections: 0,
    midstreamPickups: 0,
    restarts: 0,
    payloads: 0,
    bytesDelivered: 0,
    outOfOrder: 0,
    retransmissions: 0,
    overlaps: 0,
    overlapMismatches: 0,
    gaps: 0,
    resyncs: 0,
    gapBytes: 0,
    streamEnds: 0,
    afterClose: 0,
    evictions: 0,
    establishedEvictions: 0,
    timeouts: 0,
    droppedBytes: 0,
  };
  private readonly table = new Map<string, Connection>();
  private readonly unestablished = new ConnList();
  private readonly established = new ConnList();
  private readonly closed = new ConnList();
  /** Directions holding out-of-order segments, in the order their buffering began. */
  private readonly holes = new Set<Direction>();
  /** Per port: tracked connections that were admitted by content, not by port (pre-filter). */
  private readonly portRefs = new Uint32Array(65536);
  private totalBuffered = 0;
  private nextStreamId = 1;
  private now = -Infinity;
  private readonly limits: TcpLimits;

  /** Creates an empty table delivering to `sink`. */
  constructor(
    private readonly sink: StreamSink,
    limits: Partial<TcpLimits> = {},
  ) {
    this.limits = { ...DEFAULT_TCP_LIMITS, ...limits };
  }

  /** Connections tracked now. */
  get connectionCount(): number {
    return this.unestablished.size + this.established.size + this.closed.size;
  }

  /** Established connections tracked now. */
  get establishedCount(): number {
    return this.established.size;
  }

  /** Out-of-order bytes buffered now across all streams. */
  get bufferedBytes(): number {
    return this.totalBuffered;
  }

  /**
   * Cheap pre-filter for flows on ports outside the SIP set: false means no connection admitted by
   * content uses this port pair, so the segment can be dropped without building a key.
   */
  mayTrack(sport: number, dport: number): boolean {
    return (this.portRefs[sport] ?? 0) > 0 && (this.portRefs[dport] ?? 0) > 0;
  }

  /**
   * Handles one TCP segment. Addresses are `addrLen` bytes at addrBuf[srcOff] (source, then
   * destination right after it); the payload is buf[pOff, pEnd) and `missing` more bytes the
   * capture cut off. `create` allows new state for this flow; `nonPort` says it was admitted by
   * content rather than by port.
   */
  segment(
    addrBuf: Buffer,
    srcOff: number,
    addrLen: number,
    sport: number,
    dport: number,
    seq: number,
    ack: number,
    flags: number,
    buf: Buffer,
    pOff: number,
    pEnd: number,
    missing: number,
    create: boolean,
    nonPort: boolean,
    time: number,
    prov: Provenance,
  ): void {
    if (time > this.now) this.now = time;
    const st = this.stats;
    const key = addrBuf.toString('latin1', srcOff, srcOff + 2 * addrLen) + String.fromCharCode(sport, dport);
    let conn = this.table.get(key);
    const len = pEnd - pOff;
    if (conn !== undefined && conn.state === CLOSED) {
      const d0 = conn.key0 === key ? conn.dir0 : conn.dir1;
      const newSyn = (flags & (TCP_SYN | TCP_ACK)) === TCP_SYN;
      const newData = len > 0 && (!d0.initialized || ((seq + len - d0.nextSeq) | 0) > 0);
      if (create && (newSyn || newData)) {
        this.close(conn, this.now, prov, true);
        this.remove(conn);
        st.restarts++;
        conn = undefined;
      } else {
        st.segments++;
        st.afterClose++;
        return;
      }
    }
    if (conn === undefined) {
      if (!create || (flags & TCP_RST) !== 0 || (len === 0 && (flags & TCP_SYN) === 0)) {
        st.untracked++;
        return;
      }
      conn = this.create(key, addrBuf, srcOff, addrLen, sport, dport, nonPort, prov);
    }
    st.segments++;
    this.touch(conn);
    const fwd = conn.key0 === key;
    const dir = fwd ? conn.dir0 : conn.dir1;
    const rev = fwd ? conn.dir1 : conn.dir0;
    let dataSeq = seq;

    if ((flags & TCP_SYN) !== 0) {
      dataSeq = (seq + 1) >>> 0;
      if (!dir.initialized || (!dir.delivered && dir.segs.length === 0)) {
        dir.initialized = true;
        dir.nextSeq = dataSeq;
        dir.isn = seq;
        dir.synSeen = true;
      } else if ((flags & TCP_ACK) === 0 && !(dir.synSeen && seq === dir.isn)) {
        // The 4-tuple is reused by a new connection: finish the old streams, start new ones.
        this.close(conn, this.now, prov, true);
        this.remove(conn);
        st.restarts++;
        st.segments--;
        this.segment(
          addrBuf,
          srcOff,
          addrLen,
          sport,
          dport,
          seq,
          ack,
          flags,
          buf,
          pOff,
          pEnd,
          missing,
          create,
          nonPort,
          time,
          prov,
        );
        return;
      }
      if ((flags & TCP_ACK) === 0) {
        conn.clientDir = fwd ? 0 : 1;
      } else if (rev.synSeen && ack === (rev.isn + 1) >>> 0) {
        conn.synAckSeen = true;
      }
    } else if (
      (flags & TCP_ACK) !== 0 &&
      conn.synAckSeen &&
      conn.state === UNESTABLISHED &&
      conn.clientDir === (fwd ? 0 : 1) &&
      ack === (rev.isn + 1) >>> 0
    ) {
      this.establish(conn);
    }

    if ((flags & TCP_ACK) !== 0 && rev.initialized) {
      if (!rev.peerAckSeen || ((ack - rev.peerAck) | 0) > 0) {
        rev.peerAck = ack;
        rev.peerAckSeen = true;
        if (rev.skipActive && !rev.ended) {
          if (((ack - rev.skipTo) | 0) >= 0) rev.skipActive = false;
          else if (((ack - rev.skipFrom) | 0) > 0) this.resync(rev, ack, time, prov);
        }
      }
      // The receiver acknowledged bytes that never reached the capture: no retransmission will come.
      if (rev.segs.length > 0 && ((ack - rev.nextSeq) | 0) > 0) {
        this.skipAhead(rev, time, prov, 'acknowledged by the receiver but never captured', false);
      }
    }

    if (len > 0 || missing > 0) {
      if (!dir.initialized) {
        dir.initialized = true;
        dir.nextSeq = dataSeq;
        st.midstreamPickups++;
      }
      dir.sawData = true;
      if (rev.sawData && conn.state === UNESTABLISHED) this.establish(conn);
      if (dir.ended) st.afterClose++;
      else this.data(dir, dataSeq, buf, pOff, pEnd, missing, time, prov);
    }

    if ((flags & TCP_FIN) !== 0 && !dir.ended) {
      if (dir.initialized) {
        dir.finSeen = true;
        dir.finSeq = (dataSeq + len + missing) >>> 0;
        this.checkFin(dir, time, prov);
      } else {
        dir.ended = true;
      }
    }
    if ((flags & TCP_RST) !== 0) {
      this.close(conn, time, prov, true);
      this.setList(conn, this.closed);
      conn.state = CLOSED;
      return;
    }
    if (dir.ended && rev.ended && conn.state !== CLOSED) {
      this.setList(conn, this.closed);
      conn.state = CLOSED;
      return;
    }
    if (dir.segs.length > 0 && time - dir.holeSince > this.limits.gapTimeoutMs) {
      this.skipAhead(dir, time, prov, 'hole outlasted the gap timeout');
    }
  }

  /** Expires idle connections and long-lived holes at event time `now`. */
  expire(now: number): void {
    if (now > this.now) this.now = now;
    const t = this.now;
    const lim = this.limits;
    for (let c = this.closed.head; c !== null && t - c.lastSeen > lim.closedLingerMs; c = this.closed.head) {
      this.remove(c);
    }
    for (
      let c = this.unestablished.head;
      c !== null && t - c.lastSeen > lim.unestablishedIdleTimeoutMs;
      c = this.unestablished.head
    ) {
      this.stats.timeouts++;
      this.close(c, t, null, true);
      this.remove(c);
    }
    for (
      let c = this.established.head;
      c !== null && t - c.lastSeen > lim.idleTimeoutMs;
      c = this.established.head
    ) {
      this.stats.timeouts++;
      this.close(c, t, null, true);
      this.remove(c);
    }
    for (const dir of this.holes) {
      while (dir.segs.length > 0 && t - dir.holeSince > lim.gapTimeoutMs) {
        this.skipAhead(dir, t, null, 'hole outlasted the gap timeout');
      }
    }
  }

  /** End of input: delivers what is buffered (with gaps), ends every stream, empties the table. */
  flush(now: number): void {
    if (now > this.now) this.now = now;
    for (const list of [this.closed, this.unestablished, this.established]) {
      for (let c = list.head; c !== null; c = list.head) {
        this.close(c, this.now, null, true);
        this.remove(c);
      }
    }
  }

  private create(
    key: string,
    addrBuf: Buffer,
    srcOff: number,
    addrLen: number,
    sport: number,
    dport: number,
    nonPort: boolean,
    prov: Provenance,
  ): Connection {
    if (this.connectionCount >= this.limits.maxConnections) this.evictOne();
    const dstOff = srcOff + addrLen;
    const version = addrLen === 4 ? 4 : 6;
    const srcIp = formatIp(addrBuf, srcOff, version);
    const dstIp = formatIp(addrBuf, dstOff, version);
    const key1 =
      addrBuf.toString('latin1', dstOff, dstOff + addrLen) +
      addrBuf.toString('latin1', srcOff, srcOff + addrLen) +
      String.fromCharCode(dport, sport);
    const conn = new Connection(
      key,
      key1,
      new Direction(this.nextStreamId++, srcIp, sport, dstIp, dport, prov),
      new Direction(this.nextStreamId++, dstIp, dport, srcIp, sport, prov),
      nonPort,
    );
    this.table.set(key, conn);
    this.table.set(key1, conn);
    conn.lastSeen = this.now;
    this.unestablished.append(conn);
    if (nonPort) {
      this.portRefs[sport] = (this.portRefs[sport] ?? 0) + 1;
      this.portRefs[dport] = (this.portRefs[dport] ?? 0) + 1;
    }
    this.stats.connections++;
    return conn;
  }

  private evictOne(): void {
    const victim = this.closed.head ?? this.unestablished.head ?? this.established.head;
    if (victim === null) return;
    if (victim.state !== CLOSED) {
      this.stats.evictions++;
      if (victim.state === ESTABLISHED) this.stats.establishedEvictions++;
    }
    this.close(victim, this.now, null, false);
    this.remove(victim);
  }

  private touch(conn: Connection): void {
    conn.lastSeen = this.now;
    const list = conn.list;
    if (list !== null && list.tail !== conn) {
      list.unlink(conn);
      list.append(conn);
    }
  }

  private setList(conn: Connection, list: ConnList): void {
    if (conn.list === list) return;
    if (conn.list !== null) conn.list.unlink(conn);
    list.append(conn);
  }

  private establish(conn: Connection): void {
    conn.state = ESTABLISHED;
    this.setList(conn, this.established);
  }

  /** Ends both directions; buffered bytes are delivered after a gap, or dropped (eviction). */
  private close(conn: Connection, time: number, prov: Provenance | null, deliver: boolean): void {
    this.closeDir(conn.dir0, time, prov, deliver);
    this.closeDir(conn.dir1, time, prov, deliver);
  }

  private closeDir(dir: Direction, time: number, prov: Provenance | null, deliver: boolean): void {
    if (dir.ended) return;
    if (!deliver && dir.segs.length > 0) this.stats.droppedBytes += dir.bytes;
    while (deliver && dir.segs.length > 0 && !dir.ended) {
      this.skipAhead(dir, time, prov, 'connection closed with bytes missing');
    }
    this.endDir(dir, time, prov ?? dir.lastProvenance);
  }

  private remove(conn: Connection): void {
    this.table.delete(conn.key0);
    this.table.delete(conn.key1);
    if (conn.list !== null) conn.list.unlink(conn);
    if (conn.nonPort) {
      const a = conn.dir0.srcPort;
      const b = conn.dir0.dstPort;
      this.portRefs[a] = (this.portRefs[a] ?? 1) - 1;
      this.portRefs[b] = (this.portRefs[b] ?? 1) - 1;
    }
    this.dropSegments(conn.dir0);
    this.dropSegments(conn.dir1);
  }

  private dropSegments(dir: Direction): void {
    if (dir.segs.length === 0) return;
    this.totalBuffered -= dir.bytes;
    dir.bytes = 0;
    dir.segs.length = 0;
    this.holes.delete(dir);
  }

  private data(
    dir: Direction,
    seq: number,
    buf: Buffer,
    off: number,
    end: number,
    missing: number,
    time: number,
    prov: Provenance,
  ): void {
    const st = this.stats;
    let start = off;
    let diff = (seq - dir.nextSeq) | 0;
    if (diff < 0) {
      if (diff + (end - start) <= 0) {
        if (end > start) st.retransmissions++;
        return;
      }
      start -= diff;
      diff = 0;
      st.overlaps++;
    }
    if (dir.segs.length === 0) {
      if (diff === 0) {
        if (end > start) this.emit(dir, buf.subarray(start, end), time, prov);
        dir.nextSeq = (dir.nextSeq + (end - start)) >>> 0;
        if (missing > 0) {
          dir.nextSeq = (dir.nextSeq + missing) >>> 0;
          this.gap(dir, missing, time, prov, 'segment cut short by the capture');
        }
        return;
      }
      st.outOfOrder++;
      this.insert(dir, diff, buf, start, end, time, prov);
    } else {
      if (diff === 0) {
        const first = dir.segs[0] as Segment;
        const room = (first.seq - dir.nextSeq) | 0;
        const n = Math.min(end - start, room);
        if (n > 0) {
          this.emit(dir, buf.subarray(start, start + n), time, prov);
          dir.nextSeq = (dir.nextSeq + n) >>> 0;
          start += n;
          // The hole is shrinking: it is being filled, not abandoned.
          dir.holeSince = time;
        }
      } else {
        st.outOfOrder++;
      }
      if (end > start) this.insert(dir, (seq + (start - off) - dir.nextSeq) | 0, buf, start, end, time, prov);
      this.drain(dir, time, prov);
    }
    this.enforceBounds(dir, time, prov);
  }

  /** Buffers buf[start, end), which begins `rel` bytes after nextSeq, keeping first-seen bytes. */
  private insert(
    dir: Direction,
    rel: number,
    buf: Buffer,
    start: number,
    end: number,
    time: number,
    prov: Provenance,
  ): void {
    const segs = dir.segs;
    const re = rel + (end - start);
    let s = rel;
    let i = 0;
    let mismatch = false;
    while (i < segs.length && s < re) {
      const g = segs[i] as Segment;
      const gs = (g.seq - dir.nextSeq) | 0;
      const ge = gs + g.data.length;
      if (ge <= s) {
        i++;
        continue;
      }
      if (gs >= re) break;
      if (s < gs) {
        this.addSegment(dir, i, s, gs, buf, start - rel, time, prov);
        i++;
      }
      const os = s > gs ? s : gs;
      const oe = re < ge ? re : ge;
      this.stats.overlaps++;
      if (!mismatch && buf.compare(g.data, os - gs, oe - gs, start + os - rel, start + oe - rel) !== 0) {
        mismatch = true;
      }
      s = ge;
      i++;
    }
    if (s < re) this.addSegment(dir, i, s, re, buf, start - rel, time, prov);
    if (mismatch) {
      this.stats.overlapMismatches++;
      this.anomaly(
        'tcp_overlap_mismatch',
        time,
        prov,
        `stream ${dir.streamId}: overlapping bytes differ from the ones buffered first (kept)`,
      );
    }
  }

  private addSegment(
    dir: Direction,
    index: number,
    s: number,
    e: number,
    buf: Buffer,
    base: number,
    time: number,
    prov: Provenance,
  ): void {
    const n = e - s;
    const data = Buffer.allocUnsafe(n);
    buf.copy(data, 0, base + s, base + e);
    dir.segs.splice(index, 0, { seq: (dir.nextSeq + s) >>> 0, data, time, provenance: prov });
    if (dir.bytes === 0 && dir.segs.length === 1) {
      dir.holeSince = time;
      this.holes.add(dir);
    }
    dir.bytes += n;
    this.totalBuffered += n;
  }

  /** Delivers buffered segments that now start at or before nextSeq. */
  private drain(dir: Direction, time: number, prov: Provenance | null): void {
    const segs = dir.segs;
    let progressed = false;
    while (segs.length > 0) {
      const g = segs[0] as Segment;
      const rel = (g.seq - dir.nextSeq) | 0;
      if (rel > 0) break;
      segs.shift();
      const n = g.data.length;
      dir.bytes -= n;
      this.totalBuffered -= n;
      if (rel + n <= 0) continue;
      this.emit(dir, rel < 0 ? g.data.subarray(-rel) : g.data, time, prov ?? g.provenance);
      dir.nextSeq = (g.seq + n) >>> 0;
      progressed = true;
    }
    if (segs.length === 0) {
      this.holes.delete(dir);
      dir.holeSince = 0;
    } else if (progressed) {
      // A frame made progress: the next hole gets a full timeout. After a timeout, the next hole is
      // as old as the segment behind it, so a run of stale holes is skipped at once.
      dir.holeSince = prov === null ? (segs[0] as Segment).time : time;
    }
    this.checkFin(dir, time, prov);
  }

  /** Skips the hole before the first buffered segment and delivers what follows it. */
  /** `guess` says the skip rests on a timeout or a bound, not on the receiver's acknowledgment. */
  private skipAhead(dir: Direction, time: number, prov: Provenance | null, why: string, guess = true): void {
    const first = dir.segs[0];
    if (first === undefined) return;
    const missing = (first.seq - dir.nextSeq) | 0;
    if (missing > 0) {
      dir.skipActive = guess;
      dir.skipFrom = dir.nextSeq;
      dir.skipTo = first.seq;
      dir.nextSeq = first.seq;
      this.gap(dir, missing, time, prov ?? first.provenance, why);
    }
    this.drain(dir, time, prov);
  }

  /**
   * The receiver acknowledged bytes inside the range delivery skipped: it is reading the real
   * stream there, so what was delivered after the skip did not reach it (segments planted far ahead
   * by a sender that then waited, to make the monitor skip and drop the real data as
   * retransmissions). Delivery moves back to the receiver's position.
   */
  private resync(dir: Direction, ack: number, time: number, prov: Provenance): void {
    const back = (dir.nextSeq - ack) | 0;
    dir.skipActive = false;
    this.dropSegments(dir);
    dir.nextSeq = ack;
    dir.pendingGap = true;
    this.stats.resyncs++;
    this.anomaly(
      'tcp_resync',
      time,
      prov,
      `stream ${dir.streamId}: receiver acknowledged bytes inside a skipped range; moved back ${back} bytes`,
    );
  }

  private gap(dir: Direction, missing: number, time: number, prov: Provenance, why: string): void {
    dir.pendingGap = true;
    this.stats.gaps++;
    this.stats.gapBytes += missing;
    this.anomaly('tcp_gap', time, prov, `stream ${dir.streamId}: ${missing} bytes missing (${why})`);
  }

  private enforceBounds(dir: Direction, time: number, prov: Provenance): void {
    const lim = this.limits;
    if (dir.segs.length > 0 && dir.peerAckSeen && ((dir.peerAck - dir.nextSeq) | 0) > 0) {
      this.skipAhead(dir, time, prov, 'acknowledged by the receiver but never captured', false);
    }
    while (
      dir.segs.length > 0 &&
      (dir.bytes > lim.maxBufferedBytesPerStream || dir.segs.length > lim.maxBufferedSegmentsPerStream)
    ) {
      this.skipAhead(dir, time, prov, 'out-of-order buffer full');
    }
    if (this.totalBuffered > lim.maxBufferedBytesTotal) {
      while (dir.segs.length > 0 && this.totalBuffered > lim.maxBufferedBytesTotal) {
        this.skipAhead(dir, time, prov, 'total out-of-order buffer full');
      }
      for (const other of this.holes) {
        if (this.totalBuffered <= lim.maxBufferedBytesTotal) break;
        while (other.segs.length > 0 && this.totalBuffered > lim.maxBufferedBytesTotal) {
          this.skipAhead(other, time, null, 'total out-of-order buffer full');
        }
      }
    }
  }

  private checkFin(dir: Direction, time: number, prov: Provenance | null): void {
    if (dir.finSeen && !dir.ended && ((dir.nextSeq - dir.finSeq) | 0) >= 0) {
      this.endDir(dir, time, prov ?? dir.lastProvenance);
    }
  }

  private endDir(dir: Direction, time: number, prov: Provenance): void {
    if (dir.ended) return;
    dir.ended = true;
    this.dropSegments(dir);
    if (!dir.delivered) return;
    this.stats.streamEnds++;
    this.sink.payload({
      kind: 'stream-end',
      time,
      srcIp: dir.srcIp,
      srcPort: dir.srcPort,
      dstIp: dir.dstIp,
      dstPort: dir.dstPort,
      provenance: prov,
      streamId: dir.streamId,
    });
  }

  private emit(dir: Direction, data: Buffer, time: number, prov: Provenance): void {
    const gap = dir.pendingGap;
    dir.pendingGap = false;
    dir.delivered = true;
    dir.lastProvenance = prov;
    this.stats.payloads++;
    this.stats.bytesDelivered += data.length;
    this.sink.payload({
      kind: 'stream',
      time,
      srcIp: dir.srcIp,
      srcPort: dir.srcPort,
      dstIp: dir.dstIp,
      dstPort: dir.dstPort,
      provenance: prov,
      transport: 'tcp',
      streamId: dir.streamId,
      data,
      gap,
    });
  }

  private anomaly(code: string, time: number, provenance: Provenance, detail: string): void {
    this.sink.anomaly({ code, detail, time, provenance });
  }
}
