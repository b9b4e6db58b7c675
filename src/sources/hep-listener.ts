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
 * Overload: UDP sockets are read by a worker thread (hep-udp-worker.ts), so they are drained
 * whatever the pipeline on this thread is doing; it posts datagrams here in batches and sheds
 * OPTIONS keepalives first when the backlog this thread has not consumed passes its bounds. Frames
 * wait in a bounded queue between the sockets and the consumer, drained in batches per event-loop
 * turn. When it is full, OPTIONS keepalives (the bulk of idle SIP traffic and the least useful to
 * detection) are shed before anything else; every shed frame is counted per reason. If the worker
 * cannot start, UDP is read on this thread as before (`udpThread: 'main'` asks for that).
 */
import { Worker } from 'node:worker_threads';
import type { LocatedAnomaly, SipFrame, Transport } from '../core/records.js';
import { decodeHep, HEP_PROTO_TYPE, HepStreamFramer, type HepDecodeOptions } from '../decode/hep.js';
import {
  HEP_LISTEN_DELAY_MIN_QUEUE,
  HEP_LISTEN_OPTIONS_DELAY_SHARE,
  HEP_LISTEN_DRAIN_BATCH,
  HEP_LISTEN_MAX_QUEUE_DELAY_MS,
  HEP_LISTEN_QUEUE_MAX,
  HEP_LISTEN_QUEUE_MAX_BYTES,
  HEP_UDP_BACKLOG_MAX_BYTES,
  HEP_UDP_BACKLOG_MAX_PACKETS,
  HEP_UDP_BACKLOG_OPTIONS_BYTES,
  HEP_UDP_BACKLOG_OPTIONS_PACKETS,
  HEP_UDP_RESTART_MAX_MS,
  HEP_UDP_RESTART_MIN_MS,
  HEP_UDP_BATCH_BYTES,
  HEP_UDP_BATCH_PACKETS,
  HEP_UDP_FLUSH_MS,
  HEP_UDP_STOP_TIMEOUT_MS,
  HEP_UDP_THREAD_NICE,
  LIVE_UDP_RECV_BUFFER_BYTES,
} from '../config/limits.js';
import {
  emptyStats,
  SocketListener,
  type Clock,
  type LiveSource,
  type SocketListenerOptions,
  type SourceStats,
} from './live-source.js';
import type { HepUdpCounters, HepUdpIn, HepUdpOut, HepUdpWorkerConfig } from './hep-udp-worker.js';

/** Settings of a HEP listener (`allow`: the capture agents' addresses/CIDRs). */
export interface HepListenerOptions extends SocketListenerOptions {
  /** Expected agent key; when set, packets without it or with another one are rejected. */
  readonly authKey?: string;
  readonly queueMax?: number;
  readonly queueMaxBytes?: number;
  /** Longest a frame waits for the consumer before it is shed (default HEP_LISTEN_MAX_QUEUE_DELAY_MS; 0: none). */
  readonly maxQueueDelayMs?: number;
  /**
   * Where UDP sockets are read: `worker` (default) a thread of their own, falling back to `main`
   * (this thread) when the worker cannot start.
   */
  readonly udpThread?: 'worker' | 'main';
  /** Nice value the UDP thread asks for (default HEP_UDP_THREAD_NICE; needs CAP_SYS_NICE). */
  readonly udpThreadNice?: number;
  /** The UDP thread's module (default hep-udp-worker.js beside this one; tests point it elsewhere). */
  readonly udpWorkerModule?: URL;
  /** UDP thread backlog bounds (default HEP_UDP_BACKLOG_*; the hard ones capped by the queue's). */
  readonly backlogOptionsPackets?: number;
  readonly backlogOptionsBytes?: number;
  readonly backlogMaxPackets?: number;
  readonly backlogMaxBytes?: number;
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
  /** Frames that waited longer than the queue's delay bound, shed at its head unprocessed. */
  delay: number;
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
  /** Whether UDP is read by the worker thread (false: on the main thread). */
  udpWorker: boolean;
  /** Why the worker thread could not start, when UDP fell back to the main thread. */
  udpWorkerError?: string;
  /** The worker thread's nice value (HEP_UDP_THREAD_NICE when privileged), when known. */
  udpWorkerNice?: number;
  /** Times the worker thread was started again after it died while running. */
  udpWorkerRestarts: number;
  /** UDP packets and bytes the worker has posted and this thread not yet consumed (last report). */
  backlog: { packets: number; bytes: number };
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

/**
 * A copy with a memory block of its own, as a datagram read on this thread has: a frame the
 * pipeline keeps then holds only its own bytes, not a pooled slab shared with other frames.
 */
function ownCopy(b: Buffer): Buffer {
  const c = Buffer.allocUnsafeSlow(b.length);
  b.copy(c);
  return c;
}

/**
 * FIFO ring of frames with the arrival sequence of each (two rings merge back in order) and the
 * UDP-thread bytes each stands for (0 when it came another way), acknowledged when it leaves.
 */
class FrameRing {
  size = 0;
  /** UDP-thread bytes of the frame `shift` returned last. */
  shiftedWire = 0;
  /** When the frame `shift` returned last was received. */
  shiftedAt = 0;
  private head = 0;
  private readonly items: (SipFrame | undefined)[];
  private readonly seqs: Float64Array;
  private readonly wires: Float64Array;
  private readonly ats: Float64Array;

  constructor(private readonly capacity: number) {
    this.items = new Array<SipFrame | undefined>(capacity);
    this.seqs = new Float64Array(capacity);
    this.wires = new Float64Array(capacity);
    this.ats = new Float64Array(capacity);
  }

  push(f: SipFrame, seq: number, wire: number, receivedAt: number): void {
    const at = (this.head + this.size) % this.capacity;
    this.items[at] = f;
    this.seqs[at] = seq;
    this.wires[at] = wire;
    this.ats[at] = receivedAt;
    this.size++;
  }

  /** Forgets which frames came from the UDP thread (that thread died: nothing to acknowledge). */
  forgetWires(): void {
    this.wires.fill(0);
  }

  headSeq(): number {
    return this.size === 0 ? Infinity : (this.seqs[this.head] as number);
  }

  /** When the frame at the head was received (Infinity when empty). */
  headAt(): number {
    return this.size === 0 ? Infinity : (this.ats[this.head] as number);
  }

  shift(): SipFrame {
    const f = this.items[this.head] as SipFrame;
    this.shiftedWire = this.wires[this.head] as number;
    this.shiftedAt = this.ats[this.head] as number;
    this.items[this.head] = undefined;
    this.head = (this.head + 1) % this.capacity;
    this.size--;
    return f;
  }
}

/** The UDP thread's counters before it counted anything (the thread starts from these too). */
export function emptyUdpCounters(): HepUdpCounters {
  return {
    received: 0,
    bytes: 0,
    rejectedAllow: 0,
    shedOptions: 0,
    shedOverflow: 0,
    lastReceivedAt: 0,
    backlogPackets: 0,
    backlogBytes: 0,
  };
}

const NO_COUNTERS: HepUdpCounters = emptyUdpCounters();

/** Adds the UDP thread's counters into the listener's (its own stats, or a snapshot of them). */
function addUdpCounters(st: HepListenerStats, c: HepUdpCounters): void {
  st.received += c.received;
  st.bytes += c.bytes;
  st.rejected += c.rejectedAllow;
  st.rejectedAllow += c.rejectedAllow;
  st.dropped += c.shedOptions + c.shedOverflow;
  st.shed.options += c.shedOptions;
  st.shed.overflow += c.shedOverflow;
}

/** A HEP v2/v3 listener over UDP and TCP; see the module comment for its policies. */
export class HepListener implements LiveSource {
  readonly name: string;
  readonly kind = 'hep' as const;
  /** Every address: validates them, serves `ingest`, and runs the sockets when UDP is read here. */
  private readonly net: SocketListener;
  /** The TCP addresses alone, when the UDP thread reads the UDP ones. */
  private readonly tcp: SocketListener | undefined;
  private readonly workerConfig: HepUdpWorkerConfig | undefined;
  private readonly workerModule: URL;
  private readonly decodeOptions: HepDecodeOptions | undefined;
  private readonly now: Clock;
  /** Whether `now` was injected (tests): then it times everything, not the UDP thread's clock. */
  private readonly injectedClock: boolean;
  private readonly queueMax: number;
  private readonly queueMaxBytes: number;
  /** HEP_LISTEN_MAX_QUEUE_DELAY_MS or as configured; Infinity when off. */
  private readonly maxQueueDelayMs: number;
  private readonly st: HepListenerStats = {
    ...emptyStats(),
    rejectedAuth: 0,
    rejectedAllow: 0,
    nonSip: 0,
    shed: { options: 0, overflow: 0, delay: 0 },
    queued: 0,
    connections: 0,
    connectionsRefused: 0,
    recvBufferBytes: [],
    udpWorker: false,
    udpWorkerRestarts: 0,
    backlog: { packets: 0, bytes: 0 },
  };
  private readonly options: FrameRing;
  private readonly others: FrameRing;
  private queuedBytes = 0;
  private seq = 0;
  private drainScheduled = false;
  private readonly drainBound = (): void => this.drain(HEP_LISTEN_DRAIN_BATCH);
  private worker: Worker | undefined;
  private workerClosed: (() => void) | undefined;
  private workerAddresses: string[] = [];
  /** The UDP thread's counters as of its last message. */
  private wc: HepUdpCounters = NO_COUNTERS;
  /** UDP-thread packets and bytes consumed since the last acknowledgement. */
  private ackPackets = 0;
  private ackBytes = 0;
  /** The next restart of a UDP thread that died (pending while it waits), and its delay. */
  private restartTimer: NodeJS.Timeout | undefined;
  private restartDelayMs: number = HEP_UDP_RESTART_MIN_MS;
  /** The UDP thread's settings for a restart: the addresses its predecessor had bound. */
  private restartConfig: HepUdpWorkerConfig | undefined;
  /** Calls of `stop()` so far: a restart that was under way when one came ends its thread. */
  private stops = 0;

  /** Validates the settings (throws on a bad listen address or allow entry: configuration errors). */
  constructor(
    options: HepListenerOptions,
    private readonly handlers: HepListenerHandlers,
  ) {
    const hooks = {
      // A datagram buffer is the packet's own: frames may keep views into it.
      datagram: (msg: Buffer) => this.packet(msg, false),
      stream: () => this.framer(),
      refused: () => this.st.rejectedAllow++,
      udpBound: (s: { getRecvBufferSize(): number }) => this.st.recvBufferBytes.push(s.getRecvBufferSize()),
      stopped: () => this.drain(Infinity),
    };
    this.net = new SocketListener('HEP listener', options, this.st, hooks);
    this.decodeOptions =
      options.authKey !== undefined && options.authKey !== '' ? { authKey: options.authKey } : undefined;
    this.now = this.net.now;
    this.injectedClock = options.now !== undefined;
    this.queueMax = options.queueMax ?? HEP_LISTEN_QUEUE_MAX;
    this.queueMaxBytes = options.queueMaxBytes ?? HEP_LISTEN_QUEUE_MAX_BYTES;
    const delay = options.maxQueueDelayMs ?? HEP_LISTEN_MAX_QUEUE_DELAY_MS;
    this.maxQueueDelayMs = delay > 0 ? delay : Infinity;
    this.options = new FrameRing(this.queueMax);
    this.others = new FrameRing(this.queueMax);
    this.name = options.name ?? `hep ${options.listen.join(',')}`;
    this.workerModule = options.udpWorkerModule ?? new URL('./hep-udp-worker.js', import.meta.url);

    // The addresses are valid here (SocketListener checked them): the scheme tells the transport.
    const udp = options.listen.filter((t) => t.startsWith('udp://'));
    const tcp = options.listen.filter((t) => t.startsWith('tcp://'));
    if ((options.udpThread ?? 'worker') === 'worker' && udp.length > 0) {
      // The hard bounds stay within the queue's, so UDP traffic never overflows the queue.
      const maxPackets = Math.min(options.backlogMaxPackets ?? HEP_UDP_BACKLOG_MAX_PACKETS, this.queueMax);
      const maxBytes = Math.min(options.backlogMaxBytes ?? HEP_UDP_BACKLOG_MAX_BYTES, this.queueMaxBytes);
      this.workerConfig = {
        role: 'hep-udp',
        label: 'HEP listener',
        listen: udp,
        allow: options.allow ?? [],
        recvBufferBytes: options.recvBufferBytes ?? LIVE_UDP_RECV_BUFFER_BYTES,
        optionsPackets: Math.min(
          options.backlogOptionsPackets ?? HEP_UDP_BACKLOG_OPTIONS_PACKETS,
          maxPackets,
        ),
        optionsBytes: Math.min(options.backlogOptionsBytes ?? HEP_UDP_BACKLOG_OPTIONS_BYTES, maxBytes),
        maxPackets,
        maxBytes,
        batchBytes: HEP_UDP_BATCH_BYTES,
        batchPackets: HEP_UDP_BATCH_PACKETS,
        flushMs: HEP_UDP_FLUSH_MS,
        nice: options.udpThreadNice ?? HEP_UDP_THREAD_NICE,
      };
      this.tcp =
        tcp.length > 0
          ? new SocketListener('HEP listener', { ...options, listen: tcp }, this.st, hooks)
          : undefined;
    }
  }

  /** Binds every listen address; rejects naming the address that failed (and closes the others). */
  async start(): Promise<void> {
    if (this.st.up) return;
    // Which path reads UDP is decided again at each start (a restart may fall back).
    this.st.udpWorker = false;
    delete this.st.udpWorkerError;
    if (this.workerConfig === undefined || !(await this.startWorker(this.workerConfig))) {
      return this.net.start();
    }
    try {
      await this.tcp?.start();
    } catch (err) {
      await this.stopWorker();
      throw err;
    }
    this.st.up = true;
    delete this.st.error;
  }

  /** Closes sockets and connections (the UDP thread posts what it holds), then delivers the frames still queued. */
  async stop(): Promise<void> {
    this.stops++;
    if (this.restartTimer !== undefined) {
      clearTimeout(this.restartTimer);
      this.restartTimer = undefined;
    }
    if (this.st.udpWorker) {
      await Promise.all([this.stopWorker(), this.tcp?.stop()]);
      this.st.up = false;
      this.drain(Infinity);
      return;
    }
    return this.net.stop();
  }

  /** The addresses actually bound (ports resolved when 0 was asked), as `udp://host:port`. */
  addresses(): string[] {
    if (!this.st.udpWorker) return this.net.addresses();
    return [...this.workerAddresses, ...(this.tcp?.addresses() ?? [])];
  }

  /** A snapshot of the counters (the UDP thread's as of its last batch, at most HEP_UDP_FLUSH_MS old). */
  stats(): HepListenerStats {
    const st = this.st;
    const w = this.wc;
    const merged = { ...st, shed: { ...st.shed } };
    addUdpCounters(merged, w);
    return {
      ...merged,
      queued: this.options.size + this.others.size,
      connections: this.net.connections + (this.tcp?.connections ?? 0),
      recvBufferBytes: [...st.recvBufferBytes],
      backlog: { packets: w.backlogPackets, bytes: w.backlogBytes },
    };
  }

  /**
   * Handles one HEP datagram from `peer` as if it had arrived on a UDP socket read on this thread
   * (tests and embedders may call it). `datagram` must not be reused by the caller afterwards.
   */
  ingest(msg: Buffer, peer: string): void {
    this.net.datagram(msg, peer);
  }

  /**
   * Starts the UDP thread; resolves true once it has bound every UDP address, false when the
   * thread itself could not start (UDP is then read here), and rejects on a bind failure.
   */
  private startWorker(cfg: HepUdpWorkerConfig): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      let w: Worker;
      try {
        w = new Worker(this.workerModule, { workerData: cfg });
      } catch (err) {
        this.st.udpWorkerError = err instanceof Error ? err.message : String(err);
        resolve(false);
        return;
      }
      // Set at once: with several addresses, the first one bound may post a batch before 'bound'.
      this.worker = w;
      let settled = false;
      const fallBack = (why: string): void => {
        settled = true;
        this.worker = undefined;
        this.st.udpWorkerError = why;
        void w.terminate();
        resolve(false);
      };
      w.on('message', (m: HepUdpOut) => {
        if (settled || (m.t !== 'bound' && m.t !== 'error')) {
          this.fromWorker(m);
        } else if (m.t === 'bound') {
          settled = true;
          this.st.udpWorker = true;
          this.workerAddresses = m.addresses;
          this.st.recvBufferBytes.push(...m.recvBufferBytes);
          if (m.nice !== undefined) this.st.udpWorkerNice = m.nice;
          this.restartDelayMs = HEP_UDP_RESTART_MIN_MS;
          resolve(true);
        } else {
          settled = true;
          this.worker = undefined;
          void w.terminate();
          reject(new Error(m.message));
        }
      });
      w.on('error', (err) => {
        if (!settled) fallBack(`UDP receive thread: ${err.message}`);
        else if (this.worker === w) this.workerLost(`UDP receive thread failed: ${err.message}`);
      });
      w.on('exit', (code) => {
        if (!settled) fallBack(`UDP receive thread exited (code ${code})`);
        else if (this.worker === w) this.workerLost(`UDP receive thread exited (code ${code})`);
        this.workerClosed?.();
      });
    });
  }

  /**
   * The UDP thread died while running: its counts become this listener's own, the frames it
   * handed over stay queued (nothing left to acknowledge them to), and a new thread is started
   * after HEP_UDP_RESTART_MIN_MS, doubling up to HEP_UDP_RESTART_MAX_MS while starts fail. Until
   * then the source is down (`up` false, `error` says why: source health reports it).
   */
  private workerLost(why: string): void {
    // The new thread binds the ports this one had (a port 0 was resolved when it first bound).
    const bound = this.workerAddresses;
    this.worker = undefined;
    this.workerAddresses = [];
    this.st.up = false;
    this.st.error = why;
    addUdpCounters(this.st, this.wc);
    this.wc = NO_COUNTERS;
    this.ackPackets = 0;
    this.ackBytes = 0;
    this.st.recvBufferBytes.length = 0;
    this.options.forgetWires();
    this.others.forgetWires();
    if (this.workerConfig !== undefined && bound.length > 0)
      this.restartConfig = { ...this.workerConfig, listen: bound };
    this.scheduleRestart();
  }

  private scheduleRestart(): void {
    const cfg = this.restartConfig ?? this.workerConfig;
    if (cfg === undefined || this.restartTimer !== undefined) return;
    const delay = this.restartDelayMs;
    this.restartDelayMs = Math.min(delay * 2, HEP_UDP_RESTART_MAX_MS);
    const stops = this.stops;
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      this.startWorker(cfg).then(
        (started) => {
          if (this.stops !== stops) {
            // Stopped meanwhile: this thread is not wanted.
            if (started) void this.stopWorker();
            return;
          }
          if (started) {
            this.st.udpWorkerRestarts++;
            this.st.up = true;
            delete this.st.error;
          } else {
            this.st.error = `UDP receive thread could not start again: ${this.st.udpWorkerError ?? ''}`;
            this.scheduleRestart();
          }
        },
        (err: unknown) => {
          if (this.stops !== stops) return;
          this.st.error = `UDP receive thread could not bind again: ${err instanceof Error ? err.message : String(err)}`;
          this.scheduleRestart();
        },
      );
    }, delay);
    this.restartTimer.unref();
  }

  /** Tells the UDP thread to close its sockets and post what it holds; ends it. */
  private async stopWorker(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    this.workerAddresses = [];
    if (w !== undefined) {
      const closed = new Promise<void>((r) => (this.workerClosed = r));
      const timer = setTimeout(() => void w.terminate(), HEP_UDP_STOP_TIMEOUT_MS);
      w.postMessage({ t: 'stop' } satisfies HepUdpIn);
      await closed;
      clearTimeout(timer);
      this.workerClosed = undefined;
      await w.terminate();
    }
    // Its counts become this listener's own (also when the thread died before), so a restarted
    // thread counts on from them.
    addUdpCounters(this.st, this.wc);
    this.wc = NO_COUNTERS;
  }

  private fromWorker(m: HepUdpOut): void {
    if (m.t === 'batch') this.batch(m);
    else if (m.t === 'closed') {
      this.counters(m.counters);
      this.workerClosed?.();
    } else if (m.t === 'fault') {
      this.st.up = false;
      this.st.error = m.message;
    }
  }

  private counters(c: HepUdpCounters): void {
    if (c.received > this.wc.received)
      this.st.lastReceivedAt = this.injectedClock ? this.now() : c.lastReceivedAt;
    this.wc = c;
  }

  /** One batch of datagrams from the UDP thread: decoded and queued like datagrams read here. */
  private batch(m: Extract<HepUdpOut, { t: 'batch' }>): void {
    this.counters(m.counters);
    const idx = m.index;
    if (m.data === undefined || idx === undefined) return;
    const data = Buffer.from(m.data);
    // A batch that waited in transit while the pipeline was busy: its packets already past the
    // delay bound would be shed at the head of the queue anyway; shed them here, undecoded.
    // (Arrival times come from the UDP thread's clock: not comparable with an injected one.)
    const now = this.injectedClock ? -Infinity : this.now();
    for (let i = 0, k = 0; i < m.count; i++, k += 3) {
      const off = idx[k] as number;
      const len = idx[k + 1] as number;
      const at = idx[k + 2] as number;
      if (this.overDelay(at, now, this.waiting + m.count - i)) {
        this.shed('delay', len);
        continue;
      }
      // The batch buffer is shared by all its packets: frames get copies, not views into it.
      this.packet(data.subarray(off, off + len), true, len, at);
    }
    this.acknowledge();
  }

  /** Counts `wire` bytes of one UDP-thread packet as consumed (0: not from that thread). */
  private release(wire: number): void {
    if (wire === 0) return;
    this.ackPackets++;
    this.ackBytes += wire;
  }

  private acknowledge(): void {
    if (this.ackPackets === 0) return;
    const m: HepUdpIn = { t: 'ack', packets: this.ackPackets, bytes: this.ackBytes };
    this.ackPackets = 0;
    this.ackBytes = 0;
    this.worker?.postMessage(m);
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

  /**
   * Decodes and queues one HEP packet. `copy`: `data` is shared with other packets. `wire`: its
   * size when it came from the UDP thread (0 otherwise), `at`: when that thread received it.
   */
  private packet(data: Buffer, copy: boolean, wire = 0, at?: number): void {
    const st = this.st;
    const r = decodeHep(data, this.decodeOptions);
    if (!r.ok) {
      st.malformed++;
      this.release(wire);
      this.anomaly(r.anomaly.code, r.anomaly.detail);
      return;
    }
    const h = r.packet;
    if (h.authOk === false) {
      st.rejected++;
      st.rejectedAuth++;
      this.release(wire);
      return;
    }
    for (const an of h.anomalies) this.anomaly(an.code, an.detail);
    if (h.protoType !== HEP_PROTO_TYPE.sip) {
      st.nonSip++;
      this.release(wire);
      return;
    }
    const transport: Transport = h.protocol === 6 ? 'tcp' : h.protocol === 132 ? 'sctp' : 'udp';
    // A copy with a block of its own (the pipeline then keeps it as is): a view would pin the
    // receive batch or the TCP chunk it points into. Decompressed payloads already own theirs.
    const payload = !copy || h.compressed ? h.payload : ownCopy(h.payload);
    const receivedAt = at !== undefined && !this.injectedClock ? at : this.now();
    this.enqueue(
      {
        time: h.time ?? receivedAt,
        srcIp: h.srcIp,
        srcPort: h.srcPort,
        dstIp: h.dstIp,
        dstPort: h.dstPort,
        transport,
        provenance: { kind: 'hep', agent: h.captureId },
        data: payload,
      },
      wire,
      receivedAt,
    );
  }

  /** True when the queue has no room for `len` more bytes. */
  private full(len: number): boolean {
    return this.waiting >= this.queueMax || this.queuedBytes + len > this.queueMaxBytes;
  }

  private enqueue(f: SipFrame, wire: number, receivedAt: number): void {
    const len = f.data.length;
    const keepalive = isOptionsKeepalive(f.data);
    // Make room by shedding queued keepalives, oldest first.
    while (this.options.size > 0 && this.full(len)) this.shedQueuedKeepalive();
    if (this.full(len)) {
      this.shed(keepalive ? 'options' : 'overflow', wire);
      return;
    }
    (keepalive ? this.options : this.others).push(f, this.seq++, wire, receivedAt);
    this.queuedBytes += len;
    if (!this.drainScheduled) {
      this.drainScheduled = true;
      setImmediate(this.drainBound);
    }
  }

  /** Frames waiting for the consumer. */
  private get waiting(): number {
    return this.options.size + this.others.size;
  }

  /** Counts one frame shed unprocessed, for `reason`, and acknowledges its UDP-thread bytes. */
  private shed(reason: keyof HepShedCounts, wire: number): void {
    this.st.shed[reason]++;
    this.st.dropped++;
    this.release(wire);
  }

  /** Sheds the oldest queued OPTIONS keepalive. */
  private shedQueuedKeepalive(): void {
    this.queuedBytes -= this.options.shift().data.length;
    this.shed('options', this.options.shiftedWire);
  }

  /** True for a frame that arrived at `since` and is past the delay bound at `now` while `queued`
   * frames wait: the bound sheds only from a backed-up queue. */
  private overDelay(since: number, now: number, queued: number): boolean {
    return queued >= HEP_LISTEN_DELAY_MIN_QUEUE && now - since > this.maxQueueDelayMs;
  }

  /**
   * Delivers up to `max` frames in arrival order; reschedules itself while frames remain. While
   * the queue is backed up (not at the final drain of a stop), OPTIONS keepalives that waited
   * longer than HEP_LISTEN_OPTIONS_DELAY_SHARE of the delay bound are shed first (`shed.options`),
   * and any other frame that waited longer than the whole bound is shed (`shed.delay`): under
   * overload the keepalives go before the registrations and the guesses behind them.
   */
  private drain(max: number): void {
    this.drainScheduled = false;
    const st = this.st;
    const bounded = max !== Infinity && this.maxQueueDelayMs !== Infinity;
    const optionsDelay = this.maxQueueDelayMs * HEP_LISTEN_OPTIONS_DELAY_SHARE;
    let n = 0;
    while (n < max && this.waiting > 0) {
      if (bounded && this.waiting >= HEP_LISTEN_DELAY_MIN_QUEUE) {
        const now = this.now();
        while (this.options.size > 0 && now - this.options.headAt() > optionsDelay)
          this.shedQueuedKeepalive();
        if (this.waiting === 0) break;
      }
      const ring = this.options.headSeq() < this.others.headSeq() ? this.options : this.others;
      const f = ring.shift();
      const wire = ring.shiftedWire;
      this.queuedBytes -= f.data.length;
      if (bounded && this.overDelay(ring.shiftedAt, this.now(), this.waiting)) {
        this.shed('delay', wire);
        continue;
      }
      st.accepted++;
      n++;
      this.handlers.frame(f);
      this.release(wire);
    }
    this.acknowledge();
    if (this.waiting > 0 && !this.drainScheduled && max !== Infinity) {
      this.drainScheduled = true;
      setImmediate(this.drainBound);
    }
  }
}
