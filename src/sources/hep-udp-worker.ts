/**
 * The HEP listener's UDP receive thread. The main thread runs the whole pipeline (its packets per
 * CPU second are in docs/benchmarks.md's watch section), so UDP sockets read there overflow in the
 * kernel, uncounted, long before the listener's own queue could shed anything. Here a worker thread binds
 * the UDP sockets and drains them continuously whatever the pipeline does: it applies the sender
 * allow-list, copies each datagram into a batch buffer and posts the batch (one transferred
 * ArrayBuffer plus an offset/length/receive-time index) to the main thread, which decodes HEP,
 * checks the auth key and queues frames as before.
 *
 * Flow control: the main thread acknowledges packets as it consumes them (handed to the pipeline,
 * or dropped by its own checks). Past HEP_UDP_BACKLOG_OPTIONS_* unacknowledged packets or bytes,
 * arriving OPTIONS keepalives are shed here; past the hard bound, every arriving packet is. Each
 * shed packet is counted per reason; the counters travel with every batch.
 */
import { isMainThread, parentPort, workerData, type MessagePort } from 'node:worker_threads';
import type { Socket as UdpSocket } from 'node:dgram';
import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import { emptyUdpCounters, isOptionsKeepalive } from './hep-listener.js';
import { decodeHep, HEP_PROTO_TYPE } from '../decode/hep.js';
import { AllowList, boundAddresses, describeError, openUdp, parseListenAddress } from './live-source.js';

/** What the main thread gives the UDP thread (as workerData). */
export interface HepUdpWorkerConfig {
  /** Marks the workerData as ours. */
  readonly role: 'hep-udp';
  /** Error-message label (`HEP listener`). */
  readonly label: string;
  /** `udp://` listen addresses, validated by the main thread already. */
  readonly listen: readonly string[];
  readonly allow: readonly string[];
  readonly recvBufferBytes: number;
  /** Backlog bounds: OPTIONS shed past the first pair, everything past the second. */
  readonly optionsPackets: number;
  readonly optionsBytes: number;
  readonly maxPackets: number;
  readonly maxBytes: number;
  readonly batchBytes: number;
  readonly batchPackets: number;
  readonly flushMs: number;
  /** Nice value to ask for this thread (HEP_UDP_THREAD_NICE). */
  readonly nice: number;
}

/** Cumulative counters of the UDP thread. */
export interface HepUdpCounters {
  received: number;
  bytes: number;
  rejectedAllow: number;
  shedOptions: number;
  shedOverflow: number;
  /** Wall time of the last datagram (0 before the first). */
  lastReceivedAt: number;
  /** Packets and bytes posted and not yet acknowledged, when these counters were sent. */
  backlogPackets: number;
  backlogBytes: number;
}

/** Messages from the UDP thread. */
export type HepUdpOut =
  | {
      readonly t: 'bound';
      readonly addresses: string[];
      readonly recvBufferBytes: number[];
      /** This thread's nice value, when it could be read. */
      readonly nice: number | undefined;
    }
  | { readonly t: 'error'; readonly message: string }
  | { readonly t: 'fault'; readonly message: string }
  | {
      readonly t: 'batch';
      /** Datagrams back to back; undefined when only counters changed. */
      readonly data: ArrayBuffer | undefined;
      /** Per datagram: offset, length, receive time (ms since the epoch). */
      readonly index: Float64Array | undefined;
      readonly count: number;
      readonly counters: HepUdpCounters;
    }
  | { readonly t: 'closed'; readonly counters: HepUdpCounters };

/** Messages to the UDP thread. */
export type HepUdpIn =
  { readonly t: 'ack'; readonly packets: number; readonly bytes: number } | { readonly t: 'stop' };

/**
 * The SIP payload a HEP packet carries, by the same decoder the main thread uses (so both judge a
 * packet alike); undefined when it is malformed or not SIP. Run only once the backlog is past the
 * OPTIONS bound, to tell keepalives from the rest.
 */
export function peekHepPayload(d: Buffer): Buffer | undefined {
  const r = decodeHep(d);
  return r.ok && r.packet.protoType === HEP_PROTO_TYPE.sip ? r.packet.payload : undefined;
}

/** Whether a HEP datagram carries an OPTIONS keepalive (request or response). */
export function isKeepaliveDatagram(d: Buffer): boolean {
  const p = peekHepPayload(d);
  return p !== undefined && isOptionsKeepalive(p);
}

/**
 * Asks for `nice` on this thread alone (on Linux a thread id is a setpriority target); refused
 * without CAP_SYS_NICE, which leaves the inherited value. Returns the value in force.
 */
function setThreadNice(nice: number): number | undefined {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (!Number.isInteger(tid) || tid <= 0) return undefined;
    try {
      if (getPriority(tid) > nice) setPriority(tid, nice);
    } catch {
      // Not privileged: keep the inherited priority.
    }
    return getPriority(tid);
  } catch {
    return undefined;
  }
}

/** The thread's body: binds, reads, batches and sheds until told to stop. */
async function run(port: MessagePort, cfg: HepUdpWorkerConfig): Promise<void> {
  const allow = new AllowList(cfg.allow);
  const c: HepUdpCounters = emptyUdpCounters();
  let buf = new Uint8Array(cfg.batchBytes);
  let index = new Float64Array(cfg.batchPackets * 3);
  let count = 0;
  let used = 0;
  let timer: NodeJS.Timeout | undefined;
  let stopping = false;

  const flush = (): void => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    let data: ArrayBuffer | undefined;
    let idx: Float64Array | undefined;
    const transfer: ArrayBuffer[] = [];
    if (count > 0) {
      if (used * 2 >= buf.length) {
        // Full enough: hand over the buffer itself and start a new one.
        data = buf.buffer as ArrayBuffer;
        idx = index.subarray(0, count * 3);
        transfer.push(data, index.buffer as ArrayBuffer);
        buf = new Uint8Array(cfg.batchBytes);
        index = new Float64Array(cfg.batchPackets * 3);
      } else {
        data = buf.slice(0, used).buffer as ArrayBuffer;
        idx = index.slice(0, count * 3);
        transfer.push(data, idx.buffer as ArrayBuffer);
      }
    }
    const msg: HepUdpOut = { t: 'batch', data, index: idx, count, counters: { ...c } };
    port.postMessage(msg, transfer);
    count = 0;
    used = 0;
  };
  const schedule = (): void => {
    if (timer === undefined) timer = setTimeout(flush, cfg.flushMs);
  };

  const datagram = (msg: Buffer, peer: string): void => {
    if (stopping) return;
    const len = msg.length;
    c.received++;
    c.bytes += len;
    c.lastReceivedAt = Date.now();
    schedule();
    if (!allow.allows(peer)) {
      c.rejectedAllow++;
      return;
    }
    // Classify only under pressure: the peek costs nothing when the pipeline keeps up.
    if (c.backlogPackets >= cfg.optionsPackets || c.backlogBytes + len > cfg.optionsBytes) {
      const full = c.backlogPackets >= cfg.maxPackets || c.backlogBytes + len > cfg.maxBytes;
      if (isKeepaliveDatagram(msg)) {
        c.shedOptions++;
        return;
      }
      if (full) {
        c.shedOverflow++;
        return;
      }
    }
    if (used + len > buf.length) flush();
    buf.set(msg, used);
    const k = count * 3;
    index[k] = used;
    index[k + 1] = len;
    index[k + 2] = c.lastReceivedAt;
    count++;
    used += len;
    c.backlogPackets++;
    c.backlogBytes += len;
    if (count === cfg.batchPackets) flush();
  };

  const sockets: UdpSocket[] = [];
  try {
    for (const text of cfg.listen) {
      const a = parseListenAddress(text);
      if ('error' in a) throw new Error(`${cfg.label}: ${a.error}`);
      const s = await openUdp(a, cfg.recvBufferBytes, cfg.label);
      sockets.push(s);
      s.on('error', (err) => port.postMessage({ t: 'fault', message: `${a.text}: ${describeError(err)}` }));
      s.on('message', (msg, rinfo) => datagram(msg, rinfo.address));
    }
  } catch (err) {
    await Promise.all(sockets.map((s) => new Promise<void>((r) => s.close(() => r()))));
    port.postMessage({ t: 'error', message: err instanceof Error ? err.message : String(err) });
    port.close();
    return;
  }
  port.on('message', (m: HepUdpIn) => {
    if (m.t === 'ack') {
      c.backlogPackets = Math.max(0, c.backlogPackets - m.packets);
      c.backlogBytes = Math.max(0, c.backlogBytes - m.bytes);
      // Report the shrunk backlog too (at most one message per flush interval).
      if (!stopping) schedule();
    } else if (!stopping) {
      stopping = true;
      void Promise.all(sockets.map((s) => new Promise<void>((r) => s.close(() => r())))).then(() => {
        if (count > 0) flush();
        if (timer !== undefined) clearTimeout(timer);
        port.postMessage({ t: 'closed', counters: { ...c } } satisfies HepUdpOut);
        port.close();
      });
    }
  });
  const bound: HepUdpOut = {
    t: 'bound',
    addresses: boundAddresses(sockets, []),
    recvBufferBytes: sockets.map((s) => s.getRecvBufferSize()),
    nice: setThreadNice(cfg.nice),
  };
  port.postMessage(bound);
}

const data = workerData as Partial<HepUdpWorkerConfig> | undefined;
if (!isMainThread && parentPort !== null && data?.role === 'hep-udp') {
  void run(parentPort, data as HepUdpWorkerConfig);
}
