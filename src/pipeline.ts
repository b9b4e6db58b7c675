/**
 * The pipeline every input feeds: decode → SIP parse → track → detect → alerts. `analyze` and
 * `watch` both drive it, so the same traffic gives the same alerts live and offline.
 * One direction only: each stage sees the next one through a small interface.
 */
import { PIPELINE_MAX_STREAMS } from './config/limits.js';
import type {
  Anomaly,
  DatagramPayload,
  Payload,
  Provenance,
  SipFrame,
  StreamPayload,
} from './core/records.js';
import { frameWithData } from './core/records.js';
import { decodeHep, HepStreamFramer, HEP_PROTO_TYPE } from './decode/hep.js';
import { PacketDecoder, type DecoderOptions } from './decode/decoder.js';
import { detectWebSocketUpgrade, WebSocketDeframer } from './decode/websocket.js';
import { parseSipMessage } from './sip/message.js';
import { SipStreamFramer } from './sip/stream.js';
import { Summary } from './analyze/summary.js';
import { toSipEvent } from './track/sip-event.js';
import { Tracker, type TrackListener } from './track/tracker.js';
import { FifoMap } from './core/fifo-map.js';

/** Options of a pipeline. */
export interface PipelineOptions {
  readonly decoder?: Partial<DecoderOptions>;
  /** Expected HEP agent key; packets with another key are dropped and counted. */
  readonly hepAuthKey?: string;
  /** Receives tracking events (the detection engine). */
  readonly listener?: TrackListener;
}

const HEP3 = 0x48455033;
const EMPTY = Buffer.alloc(0);

/** Per-direction state of a TCP stream: what protocol it carries and its framer. */
interface StreamState {
  mode: 'probe' | 'sip' | 'ws-head' | 'ws' | 'hep';
  head: Buffer | undefined;
  sip: SipStreamFramer | undefined;
  ws: WebSocketDeframer | undefined;
  hep: HepStreamFramer | undefined;
  /** The payload being pushed: addressing and provenance for messages the framers emit. */
  current: StreamPayload | undefined;
}

/** Pipeline counters beyond the summary. */
export interface PipelineStats {
  streams: number;
  streamEvictions: number;
  hepPackets: number;
  hepAuthFailures: number;
  hepNonSip: number;
  nonSipDatagrams: number;
}

/** Wires the stages; feed it frames (captures) or payloads (HEP listener) in event-time order. */
export class Pipeline {
  readonly summary = new Summary();
  readonly tracker: Tracker;
  readonly decoder: PacketDecoder;
  readonly stats: PipelineStats = {
    streams: 0,
    streamEvictions: 0,
    hepPackets: 0,
    hepAuthFailures: 0,
    hepNonSip: 0,
    nonSipDatagrams: 0,
  };
  private readonly streams = new FifoMap<number, StreamState>();
  private readonly hepAuthKey: string | undefined;
  private readonly listener: TrackListener | undefined;
  private lastTime = 0;

  constructor(options: PipelineOptions = {}) {
    this.tracker = new Tracker(options.listener);
    this.hepAuthKey = options.hepAuthKey;
    this.listener = options.listener;
    this.decoder = new PacketDecoder(
      {
        payload: (p: Payload) => this.payload(p),
        anomaly: (a) => this.summary.anomaly(a),
      },
      options.decoder ?? {},
    );
  }

  /** One captured frame. */
  frame(linkType: number, data: Buffer, time: number, provenance: Provenance): void {
    this.summary.packets++;
    this.lastTime = time;
    this.decoder.decodeFrame(linkType, data, time, provenance);
  }

  /** One application payload from the decoder (or from a HEP listener). */
  payload(p: Payload): void {
    switch (p.kind) {
      case 'datagram':
        this.datagram(p);
        return;
      case 'stream':
        this.stream(p);
        return;
      case 'stream-end': {
        const s = this.streams.get(p.streamId);
        if (s === undefined) return;
        // Report what the stream left unfinished (a message cut off, a resync in progress).
        s.current = { ...p, kind: 'stream', transport: 'tcp', data: EMPTY, gap: false };
        s.sip?.end();
        s.ws?.end();
        s.hep?.end();
        this.streams.delete(p.streamId);
        return;
      }
    }
  }

  /** One framed SIP message (a UDP datagram holds one): parse, count, track. False: not SIP. */
  sipFrame(f: SipFrame): boolean {
    // Own the bytes: tracking keeps messages for seconds, and a view would pin the whole capture
    // read chunk (1 MiB) it points into. A frame that already owns an exact-size block (the HEP
    // listener copies each datagram out of its receive batch) is kept as is.
    let data = f.data;
    if (data.byteOffset !== 0 || data.buffer.byteLength !== data.length) {
      data = Buffer.allocUnsafe(f.data.length);
      f.data.copy(data);
    }
    f = frameWithData(f, data);
    const msg = parseSipMessage(data);
    for (const a of msg.anomalies) this.summary.anomaly(a);
    const ev = toSipEvent(f, msg);
    if (msg.anomalies.length > 0 && (ev !== undefined || looksLikeSip(f.data))) {
      this.listener?.malformed?.(f, msg.anomalies, ev);
    }
    if (ev === undefined) return false;
    this.summary.message(ev, f.transport);
    this.tracker.add(ev);
    msg.shed();
    return true;
  }

  /** End of input: flush decoder state, close transactions. */
  finish(): void {
    this.decoder.flush(this.lastTime);
    this.tracker.flush();
  }

  private datagram(p: DatagramPayload): void {
    const d = p.data;
    if ((d.length >= 4 && d.readUInt32BE(0) === HEP3) || ((d[0] === 1 || d[0] === 2) && isHepPort(p))) {
      this.hep(d, p.provenance);
      return;
    }
    if (!this.sipFrame(p)) this.stats.nonSipDatagrams++;
  }

  private hep(d: Buffer, provenance: Provenance): void {
    const r = decodeHep(d, this.hepAuthKey === undefined ? undefined : { authKey: this.hepAuthKey });
    if (!r.ok) {
      this.summary.anomaly(r.anomaly);
      return;
    }
    const h = r.packet;
    this.stats.hepPackets++;
    for (const a of h.anomalies) this.summary.anomaly(a);
    if (h.authOk === false) {
      this.stats.hepAuthFailures++;
      return;
    }
    if (h.protoType !== HEP_PROTO_TYPE.sip) {
      this.stats.hepNonSip++;
      return;
    }
    const transport = h.protocol === 6 ? 'tcp' : h.protocol === 132 ? 'sctp' : 'udp';
    const sip = this.sipFrame({
      time: h.time ?? this.lastTime,
      srcIp: h.srcIp,
      srcPort: h.srcPort,
      dstIp: h.dstIp,
      dstPort: h.dstPort,
      transport,
      provenance: { ...provenance, agent: h.captureId },
      data: h.payload,
    });
    if (!sip) this.stats.nonSipDatagrams++;
  }

  private stream(p: StreamPayload): void {
    let s = this.streams.get(p.streamId);
    if (s === undefined) {
      if (this.streams.size >= PIPELINE_MAX_STREAMS) {
        // The decoder bounds connections too; this guards a HEP/TCP source feeding us directly.
        this.streams.shift();
        this.stats.streamEvictions++;
      }
      s = {
        mode: 'probe',
        head: undefined,
        sip: undefined,
        ws: undefined,
        hep: undefined,
        current: undefined,
      };
      this.streams.set(p.streamId, s);
      this.stats.streams++;
    }
    s.current = p;
    this.feed(s, p.data, p.gap);
  }

  private feed(s: StreamState, data: Buffer, gap: boolean): void {
    switch (s.mode) {
      case 'sip':
        (s.sip as SipStreamFramer).push(data, gap);
        return;
      case 'ws':
        (s.ws as WebSocketDeframer).push(data, gap);
        return;
      case 'hep':
        (s.hep as HepStreamFramer).push(data, gap);
        return;
      case 'probe':
      case 'ws-head':
        this.probe(s, data, gap);
        return;
    }
  }

  /** Decides what a stream carries from its first bytes: SIP, a WebSocket upgrade, or HEP. */
  private probe(s: StreamState, data: Buffer, gap: boolean): void {
    const head = s.head === undefined ? data : Buffer.concat([s.head, data]);
    if (head.length >= 4 && head.readUInt32BE(0) === HEP3) {
      s.mode = 'hep';
      s.head = undefined;
      s.hep = new HepStreamFramer({
        onPacket: (pkt) => this.hep(pkt, (s.current as StreamPayload).provenance),
        onAnomaly: (a) => this.summary.anomaly(a),
      });
      s.hep.push(head);
      return;
    }
    const up = detectWebSocketUpgrade(head);
    if (up.kind === 'incomplete') {
      s.mode = 'ws-head';
      // Own the bytes: the decoder's payloads are views into the capture's read buffer.
      s.head = Buffer.from(head);
      return;
    }
    if (up.kind === 'request' || up.kind === 'response') {
      s.mode = 'ws';
      s.head = undefined;
      s.ws = new WebSocketDeframer(
        {
          onMessage: (msg) => this.streamMessage(s, msg, 'ws'),
          onAnomaly: (a) => this.summary.anomaly(a),
          onClose: () => undefined,
        },
        { masked: up.kind === 'request' },
      );
      if (head.length > up.headerLength) s.ws.push(head.subarray(up.headerLength), false);
      return;
    }
    s.mode = 'sip';
    s.head = undefined;
    s.sip = new SipStreamFramer({
      onMessage: (msg: Buffer) => this.streamMessage(s, msg, (s.current as StreamPayload).transport),
      onAnomaly: (a: Anomaly) => this.summary.anomaly(a),
    });
    s.sip.push(head, gap);
  }

  private streamMessage(s: StreamState, data: Buffer, transport: SipFrame['transport']): void {
    const p = s.current as StreamPayload;
    this.sipFrame({
      time: p.time,
      srcIp: p.srcIp,
      srcPort: p.srcPort,
      dstIp: p.dstIp,
      dstPort: p.dstPort,
      transport,
      provenance: p.provenance,
      data,
    });
  }
}

/** A datagram that failed to parse still counts as malformed SIP when it starts like SIP text. */
function looksLikeSip(d: Buffer): boolean {
  let i = 0;
  while (i < d.length && i < 16 && (d[i] === 0x0d || d[i] === 0x0a || d[i] === 0)) i++;
  const c = d[i];
  return c !== undefined && c >= 0x41 && c <= 0x5a;
}

function isHepPort(p: DatagramPayload): boolean {
  return p.dstPort === 9060 || p.dstPort === 9063 || p.srcPort === 9060;
}
