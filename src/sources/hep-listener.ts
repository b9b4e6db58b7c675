/**
 * HEP listener: receives HEP v2/v3 from capture agents (Kamailio siptrace, heplify, OpenSIPS,
 * FreeSWITCH, Asterisk res_hep) over UDP and TCP and hands the SIP messages they carry to the
 * pipeline as `SipFrame`s, timed by the agent's capture timestamp.
 *
 * Security: the agent auth key (HEP3 chunk 0x000e) and a sender allow-list decide who may inject
 * "observed" traffic; everything else is counted and dropped. TCP is bounded in connections, idle
 * time and buffer (one HEP packet per connection, by HepStreamFramer). TCP carries HEP3 only: v1/v2
 * have no length field to frame a stream with, and agents send them over UDP.
 *
 * Overload: frames wait in a bounded queue between the sockets and the consumer, drained in
 * batches per event-loop turn. When it is full, OPTIONS keepalives (the bulk of idle SIP traffic
 * and the least useful to detection) are shed before anything else; every shed frame is counted
 * per reason.
 */
import type { LocatedAnomaly, SipFrame, Transport } from '../core/records.js';
import { decodeHep, HEP_PROTO_TYPE, HepStreamFramer, type HepDecodeOptions } from '../decode/hep.js';
import {
  HEP_LISTEN_DRAIN_BATCH,
  HEP_LISTEN_QUEUE_MAX,
  HEP_LISTEN_QUEUE_MAX_BYTES,
} from '../config/limits.js';
import {
  emptyStats,
  SocketListener,
  type Clock,
  type LiveSource,
  type SocketListenerOptions,
  type SourceStats,
} from './live-source.js';

/** Settings of a HEP listener (`allow`: the capture agents' addresses/CIDRs). */
export interface HepListenerOptions extends SocketListenerOptions {
  /** Expected agent key; when set, packets without it or with another one are rejected. */
  readonly authKey?: string;
  readonly queueMax?: number;
  readonly queueMaxBytes?: number;
  /** Source name; default `hep <addresses>`. */
  readonly name?: string;
}

/** Where a HEP listener delivers. */
export interface HepListenerHandlers {
  /** One SIP message carried by an accepted HEP packet (provenance kind 'hep' with the agent id). */
  frame(frame: SipFrame): void;
  /** A HEP decoding anomaly (malformed packet, resync in a TCP stream), timed by the wall clock. */
  anomaly?(anomaly: LocatedAnomaly): void;
}

/** Frames shed by the overload policy, per reason. */
export interface HepShedCounts {
  /** OPTIONS keepalives shed to make room (queued or arriving). */
  options: number;
  /** Other frames dropped because the queue was full of non-OPTIONS frames. */
  overflow: number;
}

/** HEP listener counters beyond the common ones. */
export interface HepListenerStats extends SourceStats {
  rejectedAuth: number;
  rejectedAllow: number;
  /** Accepted HEP packets whose payload is not SIP (RTCP reports, logs): ignored. */
  nonSip: number;
  shed: HepShedCounts;
  /** Frames waiting for the consumer now. */
  queued: number;
  /** Open TCP connections now, and connections closed at once because of the limit. */
  connections: number;
  connectionsRefused: number;
  /** SO_RCVBUF the kernel granted on each UDP socket (Linux reports twice the usable size). */
  recvBufferBytes: number[];
}

const OPTIONS_BYTES = Buffer.from('OPTIONS', 'latin1');
const CSEQ_BYTES = Buffer.from('\nCSeq:', 'latin1');
// Responses name their method only in CSeq; look for it in the first bytes only (peek, not parse).
const PEEK_BYTES = 2048;

/** Whether a SIP payload is an OPTIONS request or a response to one, judged from a few bytes. */
export function isOptionsKeepalive(d: Buffer): boolean {
  if (d.length >= 8 && d[7] === 0x20 && d.compare(OPTIONS_BYTES, 0, 7, 0, 7) === 0) return true;
  // "SIP/2.0 " status line: find the CSeq method.
  if (d.length < 12 || d[0] !== 0x53 || d[1] !== 0x49 || d[2] !== 0x50 || d[3] !== 0x2f) return false;
  const head = d.length > PEEK_BYTES ? d.subarray(0, PEEK_BYTES) : d;
  const at = head.indexOf(CSEQ_BYTES);
  if (at < 0) return false;
  let i = at + CSEQ_BYTES.length;
  while (i < head.length && (head[i] === 0x20 || head[i] === 0x09)) i++;
  while (i < head.length && (head[i] as number) >= 0x30 && (head[i] as number) <= 0x39) i++;
  while (i < head.length && (head[i] === 0x20 || head[i] === 0x09)) i++;
  return head.length - i >= 7 && head.compare(OPTIONS_BYTES, 0, 7, i, i + 7) === 0;
}

/** FIFO ring of frames with the arrival sequence of each (two rings merge back in order). */
class FrameRing {
  size = 0;
  private head = 0;
  private readonly items: (SipFrame | undefined)[];
  private readonly seqs: Float64Array;

  constructor(private readonly capacity: number) {
    this.items = new Array<SipFrame | undefined>(capacity);
    this.seqs = new Float64Array(capacity);
  }

  push(f: SipFrame, seq: number): void {
    const at = (this.head + this.size) % this.capacity;
    this.items[at] = f;
    this.seqs[at] = seq;
    this.size++;
  }

  headSeq(): number {
    return this.size === 0 ? Infinity : (this.seqs[this.head] as number);
  }

  shift(): SipFrame {
    const f = this.items[this.head] as SipFrame;
    this.items[this.head] = undefined;
    this.head = (this.head + 1) % this.capacity;
    this.size--;
    return f;
  }
}

/** A HEP v2/v3 listener over UDP and TCP; see the module comment for its policies. */
export class HepListener implements LiveSource {
  readonly name: string;
  readonly kind = 'hep' as const;
  private readonly net: SocketListener;
  private readonly decodeOptions: HepDecodeOptions | undefined;
  private readonly now: Clock;
  private readonly queueMax: number;
  private readonly queueMaxBytes: number;
  private readonly st: HepListenerStats = {
    ...emptyStats(),
    rejectedAuth: 0,
    rejectedAllow: 0,
    nonSip: 0,
    shed: { options: 0, overflow: 0 },
    queued: 0,
    connections: 0,
    connectionsRefused: 0,
    recvBufferBytes: [],
  };
  private readonly options: FrameRing;
  private readonly others: FrameRing;
  private queuedBytes = 0;
  private seq = 0;
  private drainScheduled = false;
  private readonly drainBound = (): void => this.drain(HEP_LISTEN_DRAIN_BATCH);

  /** Validates the settings (throws on a bad listen address or allow entry: configuration errors). */
  constructor(
    options: HepListenerOptions,
    private readonly handlers: HepListenerHandlers,
  ) {
    this.net = new SocketListener('HEP listener', options, this.st, {
      // A datagram buffer is the packet's own: frames may keep views into it.
      datagram: (msg) => this.packet(msg, false),
      stream: () => this.framer(),
      refused: () => this.st.rejectedAllow++,
      udpBound: (s) => this.st.recvBufferBytes.push(s.getRecvBufferSize()),
      stopped: () => this.drain(Infinity),
    });
    this.decodeOptions =
      options.authKey !== undefined && options.authKey !== '' ? { authKey: options.authKey } : undefined;
    this.now = this.net.now;
    this.queueMax = options.queueMax ?? HEP_LISTEN_QUEUE_MAX;
    this.queueMaxBytes = options.queueMaxBytes ?? HEP_LISTEN_QUEUE_MAX_BYTES;
    this.options = new FrameRing(this.queueMax);
    this.others = new FrameRing(this.queueMax);
    this.name = options.name ?? `hep ${options.listen.join(',')}`;
  }

  /** Binds every listen address; rejects naming the address that failed (and closes the others). */
  start(): Promise<void> {
    return this.net.start();
  }

  /** Closes sockets and connections, then delivers the frames still queued. */
  stop(): Promise<void> {
    return this.net.stop();
  }

  /** The addresses actually bound (ports resolved when 0 was asked), as `udp://host:port`. */
  addresses(): string[] {
    return this.net.addresses();
  }

  /** A snapshot of the counters. */
  stats(): HepListenerStats {
    return {
      ...this.st,
      shed: { ...this.st.shed },
      queued: this.options.size + this.others.size,
      connections: this.net.connections,
      recvBufferBytes: [...this.st.recvBufferBytes],
    };
  }

  /**
   * Handles one HEP datagram from `peer` as if it had arrived on a UDP socket (the sockets call
   * it; tests and embedders may too). `datagram` must not be reused by the caller afterwards.
   */
  ingest(msg: Buffer, peer: string): void {
    this.net.datagram(msg, peer);
  }

  /** The framer of one accepted TCP connection. */
  private framer(): HepStreamFramer {
    const st = this.st;
    return new HepStreamFramer({
      onPacket: (pkt) => {
        st.received++;
        // The framer's packet may be a view into a socket chunk shared with the next packets.
        this.packet(pkt, true);
      },
      onAnomaly: (an) => {
        st.malformed++;
        this.anomaly(an.code, an.detail);
      },
    });
  }

  private anomaly(code: string, detail: string | undefined): void {
    const h = this.handlers.anomaly;
    if (h === undefined) return;
    const base = { code, time: this.now(), provenance: { kind: 'hep' as const } };
    h(detail === undefined ? base : { ...base, detail });
  }

  private packet(data: Buffer, copy: boolean): void {
    const st = this.st;
    const r = decodeHep(data, this.decodeOptions);
    if (!r.ok) {
      st.malformed++;
      this.anomaly(r.anomaly.code, r.anomaly.detail);
      return;
    }
    const h = r.packet;
    if (h.authOk === false) {
      st.rejected++;
      st.rejectedAuth++;
      return;
    }
    for (const an of h.anomalies) this.anomaly(an.code, an.detail);
    if (h.protoType !== HEP_PROTO_TYPE.sip) {
      st.nonSip++;
      return;
    }
    const transport: Transport = h.protocol === 6 ? 'tcp' : h.protocol === 132 ? 'sctp' : 'udp';
    const payload = copy && !h.compressed ? Buffer.from(h.payload) : h.payload;
    this.enqueue({
      time: h.time ?? this.now(),
      srcIp: h.srcIp,
      srcPort: h.srcPort,
      dstIp: h.dstIp,
      dstPort: h.dstPort,
      transport,
      provenance: { kind: 'hep', agent: h.captureId },
      data: payload,
    });
  }

  private enqueue(f: SipFrame): void {
    const st = this.st;
    const len = f.data.length;
    const keepalive = isOptionsKeepalive(f.data);
    // Make room by shedding queued keepalives, oldest first.
    while (
      this.options.size > 0 &&
      (this.options.size + this.others.size >= this.queueMax || this.queuedBytes + len > this.queueMaxBytes)
    ) {
      this.queuedBytes -= this.options.shift().data.length;
      st.shed.options++;
      st.dropped++;
    }
    if (
      this.options.size + this.others.size >= this.queueMax ||
      this.queuedBytes + len > this.queueMaxBytes
    ) {
      if (keepalive) st.shed.options++;
      else st.shed.overflow++;
      st.dropped++;
      return;
    }
    (keepalive ? this.options : this.others).push(f, this.seq++);
    this.queuedBytes += len;
    if (!this.drainScheduled) {
      this.drainScheduled = true;
      setImmediate(this.drainBound);
    }
  }

  /** Delivers up to `max` frames in arrival order; reschedules itself while frames remain. */
  private drain(max: number): void {
    this.drainScheduled = false;
    const st = this.st;
    let n = 0;
    while (n < max && this.options.size + this.others.size > 0) {
      const ring = this.options.headSeq() < this.others.headSeq() ? this.options : this.others;
      const f = ring.shift();
      this.queuedBytes -= f.data.length;
      st.accepted++;
      n++;
      this.handlers.frame(f);
    }
    if (this.options.size + this.others.size > 0 && !this.drainScheduled && max !== Infinity) {
      this.drainScheduled = true;
      setImmediate(this.drainBound);
    }
  }
}
