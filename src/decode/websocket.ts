/**
 * WebSocket (RFC 6455) deframing for SIP over WebSocket (RFC 7118), one direction of a TCP stream
 * at a time: detect and measure the HTTP upgrade head, then cut frames, unmask them and join
 * fragments into messages. Never throws; malformed input becomes an anomaly and the deframer
 * resynchronises on the next frame that carries a SIP start line.
 */

import type { Anomaly } from '../core/records.js';
import {
  WS_MAX_BUFFERED_BYTES,
  WS_MAX_FRAME_PAYLOAD_BYTES,
  WS_MAX_HANDSHAKE_BYTES,
  WS_MAX_MESSAGE_BYTES,
} from '../config/limits.js';

/** Anomaly codes of the WebSocket deframer, with what each means and what happens. */
export const WS_ANOMALIES: Record<string, string> = {
  ws_bad_frame_header:
    'a frame header is impossible (RSV bits without a negotiated extension, a reserved opcode, a 64-bit length with its top bit set): the stream is out of sync and the deframer resynchronises',
  ws_nonminimal_length: 'a payload length is not encoded in the fewest bytes (RFC 6455 5.2); decoded anyway',
  ws_mask_mismatch:
    'a frame is masked in the server direction or unmasked in the client direction (RFC 6455 5.1); decoded anyway',
  ws_bad_control_frame:
    'a control frame (close, ping, pong) is fragmented or longer than 125 bytes; it is skipped',
  ws_unexpected_continuation:
    'a continuation frame arrives with no fragmented message in progress; it is skipped',
  ws_unfinished_message:
    'a new text/binary frame arrives while a fragmented message still waits for its final fragment; the unfinished one is dropped',
  ws_frame_too_large:
    'a frame declares more than WS_MAX_FRAME_PAYLOAD_BYTES: treated as loss of sync, the deframer resynchronises',
  ws_message_too_large:
    'a fragmented message grows past WS_MAX_MESSAGE_BYTES (or WS_MAX_BUFFERED_BYTES); it is dropped and its other fragments skipped',
  ws_stream_gap:
    'TCP bytes were lost while a frame or a fragmented message was incomplete; it is dropped and the deframer resynchronises',
  ws_resync: 'bytes were skipped to find the next frame carrying a SIP start line (detail: how many)',
  ws_data_after_close: 'bytes follow a close frame in the same direction; they are ignored',
  ws_truncated: 'the stream ended inside a frame or a fragmented message; it is dropped',
};

/** What `detectWebSocketUpgrade` found at the start of one direction of a TCP stream. */
export type WebSocketUpgrade =
  | { readonly kind: 'request' | 'response'; readonly headerLength: number; readonly sipSubprotocol: boolean }
  | { readonly kind: 'incomplete' }
  | { readonly kind: 'none' };

const INCOMPLETE: WebSocketUpgrade = Object.freeze({ kind: 'incomplete' });
const NONE: WebSocketUpgrade = Object.freeze({ kind: 'none' });

const GET = Buffer.from('GET ', 'latin1');
const HTTP1 = Buffer.from('HTTP/1.', 'latin1');
const CR = 0x0d;
const LF = 0x0a;

/**
 * Recognises the HTTP upgrade that opens a WebSocket direction: a client `GET` with
 * `Upgrade: websocket`, or a server `101` with `Upgrade: websocket`. `headerLength` is the size
 * of the head (blank line included): skip it, then feed the rest to a `WebSocketDeframer`.
 * `sipSubprotocol` says `Sec-WebSocket-Protocol` lists `sip` (RFC 7118). Returns `incomplete`
 * while the head could still complete within WS_MAX_HANDSHAKE_BYTES, `none` otherwise.
 */
export function detectWebSocketUpgrade(firstBytes: Buffer): WebSocketUpgrade {
  const n = firstBytes.length;
  if (n === 0) return INCOMPLETE;
  let kind: 'request' | 'response';
  if (firstBytes[0] === 0x47) kind = 'request';
  else if (firstBytes[0] === 0x48) kind = 'response';
  else return NONE;
  const prefix = kind === 'request' ? GET : HTTP1;
  const m = Math.min(n, prefix.length);
  for (let i = 0; i < m; i++) if (firstBytes[i] !== prefix[i]) return NONE;
  if (n < prefix.length) return INCOMPLETE;

  const limit = Math.min(n, WS_MAX_HANDSHAKE_BYTES);
  // First line.
  let eol = firstBytes.indexOf(LF, 0);
  if (eol < 0 || eol >= limit) return n >= WS_MAX_HANDSHAKE_BYTES ? NONE : INCOMPLETE;
  if (kind === 'response') {
    // "HTTP/1.x 101 ..."
    const s = prefix.length + 2;
    if (eol < s + 3 || firstBytes[s - 1] !== 0x20) return NONE;
    if (firstBytes[s] !== 0x31 || firstBytes[s + 1] !== 0x30 || firstBytes[s + 2] !== 0x31) return NONE;
    if (s + 3 < eol && firstBytes[s + 3] !== 0x20 && firstBytes[s + 3] !== CR) return NONE;
  }
  let upgrade = false;
  let sip = false;
  let line = eol + 1;
  for (;;) {
    if (line >= limit) return n >= WS_MAX_HANDSHAKE_BYTES ? NONE : INCOMPLETE;
    eol = firstBytes.indexOf(LF, line);
    if (eol < 0 || eol >= limit) return n >= WS_MAX_HANDSHAKE_BYTES ? NONE : INCOMPLETE;
    const end = eol > line && firstBytes[eol - 1] === CR ? eol - 1 : eol;
    if (end === line) {
      // Blank line: the head is complete.
      if (!upgrade) return NONE;
      return { kind, headerLength: eol + 1, sipSubprotocol: sip };
    }
    if (headerNameIs(firstBytes, line, end, UPGRADE)) {
      if (hasToken(firstBytes, line + UPGRADE.length + 1, end, WEBSOCKET)) upgrade = true;
    } else if (headerNameIs(firstBytes, line, end, PROTOCOL)) {
      if (hasToken(firstBytes, line + PROTOCOL.length + 1, end, SIP)) sip = true;
    }
    line = eol + 1;
  }
}

const UPGRADE = Buffer.from('upgrade', 'latin1');
const PROTOCOL = Buffer.from('sec-websocket-protocol', 'latin1');
const WEBSOCKET = Buffer.from('websocket', 'latin1');
const SIP = Buffer.from('sip', 'latin1');

// Whether the header line [s, e) is named `name` (lower-case) followed by ':' (optional spaces).
function headerNameIs(b: Buffer, s: number, e: number, name: Buffer): boolean {
  if (e - s <= name.length) return false;
  for (let i = 0; i < name.length; i++) if (((b[s + i] as number) | 0x20) !== name[i]) return false;
  return b[s + name.length] === 0x3a;
}

// Whether the comma-separated value list in [s, e) holds `token` (ASCII case-insensitive).
function hasToken(b: Buffer, s: number, e: number, token: Buffer): boolean {
  let i = s;
  while (i < e) {
    while (i < e && (b[i] === 0x20 || b[i] === 0x09 || b[i] === 0x2c)) i++;
    const start = i;
    while (i < e && b[i] !== 0x2c) i++;
    let stop = i;
    while (stop > start && (b[stop - 1] === 0x20 || b[stop - 1] === 0x09)) stop--;
    if (stop - start === token.length) {
      let same = true;
      for (let k = 0; k < token.length; k++) {
        if (((b[start + k] as number) | 0x20) !== token[k]) {
          same = false;
          break;
        }
      }
      if (same) return true;
    }
  }
  return false;
}

/** Receives what a `WebSocketDeframer` finds. Methods are called on the sink object itself. */
export interface WebSocketSink {
  /** One complete message (fragments joined, unmasked). `offset`: stream offset of its first frame. */
  onMessage(data: Buffer, binary: boolean, offset: number): void;
  /** A malformation; `offset` is a position in this direction's stream (bytes pushed so far). */
  onAnomaly(anomaly: Anomaly): void;
  /** A close frame arrived (`code` from its payload when present): the direction has ended. */
  onClose(code: number | undefined): void;
}

/** Bounds of one deframer (defaults from src/config/limits.ts). */
export interface WebSocketLimits {
  readonly maxFramePayload: number;
  readonly maxMessage: number;
  readonly maxBuffered: number;
}

/** Options of a `WebSocketDeframer`. */
export interface WebSocketDeframerOptions {
  /** true for the client→server direction (frames must be masked), false for server→client;
   * learned from the first frame when absent. */
  readonly masked?: boolean;
  readonly limits?: Partial<WebSocketLimits>;
}

/** Counters of one `WebSocketDeframer`. */
export interface WebSocketStats {
  frames: number;
  messages: number;
  controlFrames: number;
  resyncs: number;
  bytesSkipped: number;
  messagesDropped: number;
}

// Deframer states.
const S_HEADER = 0;
const S_PAYLOAD = 1;
const S_RESYNC = 2;
const S_CLOSED = 3;

// Where the current frame's payload goes.
const TO_MESSAGE = 0;
const TO_CONTROL = 1;
const TO_NOWHERE = 2;

const OP_CONTINUATION = 0;
const OP_BINARY = 2;
const OP_CLOSE = 8;

const MAX_HEADER = 14;
const MAX_CONTROL = 125;
// A resync candidate needs its header and 4 payload bytes to be judged.
const RESYNC_PROBE = 4;
const RESYNC_WINDOW = MAX_HEADER + RESYNC_PROBE;
// Fixed scratch that counts against maxBuffered besides the message itself.
const SCRATCH = MAX_HEADER + MAX_CONTROL + RESYNC_WINDOW;

/**
 * Deframes one direction of a WebSocket connection (after its upgrade head). Push the stream's
 * bytes in order; messages, anomalies and the close come back through the sink. Memory is
 * bounded by `maxBuffered` and grows with bytes received, not with lengths claimed.
 */
export class WebSocketDeframer {
  /** Counters since creation. */
  readonly stats: WebSocketStats = {
    frames: 0,
    messages: 0,
    controlFrames: 0,
    resyncs: 0,
    bytesSkipped: 0,
    messagesDropped: 0,
  };
  private readonly sink: WebSocketSink;
  private readonly maxFrame: number;
  private readonly maxMessage: number;
  private readonly maxBuffered: number;
  private expectMask: boolean | undefined;

  private state = S_HEADER;
  private streamPos = 0;

  // Partial header.
  private readonly hdr = Buffer.alloc(MAX_HEADER);
  private hdrLen = 0;
  private hdrNeed = 2;
  private frameStart = 0;

  // Current frame.
  private fin = false;
  private opcode = 0;
  private masked = false;
  private readonly mask = Buffer.alloc(4);
  private payloadLen = 0;
  private payloadDone = 0;
  private dest = TO_NOWHERE;

  // Message being reassembled.
  private inMessage = false;
  private dropping = false;
  private msgBinary = false;
  private msgStart = 0;
  private acc: Buffer = Buffer.alloc(0);
  private accLen = 0;

  // Control frame payload.
  private readonly ctl = Buffer.alloc(MAX_CONTROL);
  private ctlLen = 0;

  // Resync window carried between pushes, and the skipped-bytes episode.
  private readonly tail = Buffer.alloc(RESYNC_WINDOW);
  private tailLen = 0;
  private tailStart = 0;
  private skipStart = -1;
  private skipCount = 0;
  private afterClose = false;

  constructor(sink: WebSocketSink, options?: WebSocketDeframerOptions) {
    this.sink = sink;
    this.expectMask = options?.masked;
    this.maxFrame = options?.limits?.maxFramePayload ?? WS_MAX_FRAME_PAYLOAD_BYTES;
    this.maxMessage = options?.limits?.maxMessage ?? WS_MAX_MESSAGE_BYTES;
    this.maxBuffered = options?.limits?.maxBuffered ?? WS_MAX_BUFFERED_BYTES;
  }

  /** Whether a close frame ended this direction. */
  get ended(): boolean {
    return this.state === S_CLOSED;
  }

  /** Bytes held for incomplete frames and messages; never above `maxBuffered`. */
  get buffered(): number {
    return this.accLen + this.hdrLen + this.ctlLen + this.tailLen;
  }

  /** Feeds the next in-order bytes of this direction; `gap` says bytes were lost before them. */
  push(chunk: Buffer, gap: boolean): void {
    const base = this.streamPos;
    this.streamPos += chunk.length;
    if (this.state === S_CLOSED) {
      this.ignoreAfterClose(chunk.length, base);
      return;
    }
    if (gap) {
      if (this.hdrLen > 0 || this.state === S_PAYLOAD || this.inMessage) {
        this.sink.onAnomaly({
          code: 'ws_stream_gap',
          offset: base,
          detail: this.inMessage ? 'partial message dropped' : 'partial frame dropped',
        });
        if (this.inMessage && !this.dropping) this.stats.messagesDropped++;
      }
      this.resetMessage();
      this.hdrLen = 0;
      this.ctlLen = 0;
      this.enterResync(base);
    }
    this.run(chunk, 0, base);
  }

  /** The stream ended (FIN, RST or eviction): anything incomplete is dropped and reported. */
  end(): void {
    if (this.state === S_CLOSED) return;
    if (this.hdrLen > 0 || this.state === S_PAYLOAD || this.inMessage) {
      this.sink.onAnomaly({ code: 'ws_truncated', offset: this.frameStart });
      if (this.inMessage && !this.dropping) this.stats.messagesDropped++;
    }
    if (this.state === S_RESYNC) {
      this.skip(this.tailStart, this.tailLen);
      this.tailLen = 0;
    }
    this.endSkip();
    this.resetMessage();
    this.hdrLen = 0;
    this.ctlLen = 0;
    this.state = S_HEADER;
  }

  // The byte loop over one buffer; `base` is the stream offset of buf[0].
  private run(input: Buffer, start: number, inputBase: number): void {
    let buf = input;
    let base = inputBase;
    let off = start;
    let n = buf.length;
    while (off < n) {
      const state = this.state;
      if (state === S_HEADER) {
        if (this.hdrLen === 0 && n - off >= 2) {
          const need = headerSize(buf[off + 1] as number);
          if (n - off >= need) {
            // Whole header in this buffer: parse it in place.
            this.frameStart = base + off;
            if (!this.beginFrame(buf, off)) {
              this.enterResync(base + off + 1);
              this.skip(base + off, 1);
              off += 1;
              continue;
            }
            off += need;
            if (this.payloadLen === 0) this.endFrame();
            continue;
          }
        }
        if (this.hdrLen === 0) this.frameStart = base + off;
        this.hdr[this.hdrLen++] = buf[off++] as number;
        if (this.hdrLen === 2) this.hdrNeed = headerSize(this.hdr[1] as number);
        if (this.hdrLen >= 2 && this.hdrLen === this.hdrNeed) {
          const len = this.hdrLen;
          this.hdrLen = 0;
          if (!this.beginFrame(this.hdr, 0)) {
            // Rescan the header bytes after its first one, then go on with this buffer.
            this.enterResync(this.frameStart + 1);
            this.skip(this.frameStart, 1);
            this.hdr.copy(this.tail, 0, 1, len);
            this.tailLen = len - 1;
            this.tailStart = this.frameStart + 1;
            continue;
          }
          if (this.payloadLen === 0) this.endFrame();
        }
        continue;
      }
      if (state === S_PAYLOAD) {
        const avail = n - off;
        const left = this.payloadLen - this.payloadDone;
        const take = avail < left ? avail : left;
        const dest = this.dest;
        if (dest === TO_MESSAGE) {
          if (this.fin && this.accLen === 0 && this.payloadDone === 0 && take === left) {
            // Fast path: a whole unfragmented message in this buffer.
            let data: Buffer;
            if (this.masked) {
              data = Buffer.allocUnsafe(take);
              unmaskInto(data, 0, buf, off, take, this.mask, 0);
            } else data = buf.subarray(off, off + take);
            off += take;
            this.payloadDone = this.payloadLen;
            this.deliver(data);
            continue;
          }
          this.reserve(this.accLen + take);
          if (this.masked) unmaskInto(this.acc, this.accLen, buf, off, take, this.mask, this.payloadDone);
          else buf.copy(this.acc, this.accLen, off, off + take);
          this.accLen += take;
        } else if (dest === TO_CONTROL) {
          if (this.masked) unmaskInto(this.ctl, this.ctlLen, buf, off, take, this.mask, this.payloadDone);
          else buf.copy(this.ctl, this.ctlLen, off, off + take);
          this.ctlLen += take;
        }
        off += take;
        this.payloadDone += take;
        if (this.payloadDone === this.payloadLen) this.endFrame();
        continue;
      }
      if (state === S_RESYNC) {
        const found = this.resync(buf, off, base);
        if (found === undefined) return;
        // Continue on the window that holds the candidate (the tail joined with this buffer).
        buf = found.buf;
        off = found.off;
        base = found.base;
        n = buf.length;
        continue;
      }
      // S_CLOSED
      this.ignoreAfterClose(n - off, base + off);
      return;
    }
  }

  // Reads a complete header at b[o..]; false when it cannot be a frame (loss of sync).
  private beginFrame(b: Buffer, o: number): boolean {
    const b0 = b[o] as number;
    const b1 = b[o + 1] as number;
    const opcode = b0 & 0x0f;
    const at = this.frameStart;
    if ((b0 & 0x70) !== 0) return this.badHeader(at, 'RSV bits set');
    if ((opcode > OP_BINARY && opcode < OP_CLOSE) || opcode > 0x0a)
      return this.badHeader(at, `opcode ${opcode}`);
    const len7 = b1 & 0x7f;
    let payloadLen = len7;
    let p = o + 2;
    if (len7 === 126) {
      payloadLen = b.readUInt16BE(p);
      p += 2;
      if (payloadLen < 126) this.sink.onAnomaly({ code: 'ws_nonminimal_length', offset: at });
    } else if (len7 === 127) {
      const hi = b.readUInt32BE(p);
      if (hi >= 0x80000000) return this.badHeader(at, '64-bit length with the top bit set');
      payloadLen = hi * 0x100000000 + b.readUInt32BE(p + 4);
      p += 8;
      if (payloadLen < 65536) this.sink.onAnomaly({ code: 'ws_nonminimal_length', offset: at });
    }
    if (payloadLen > this.maxFrame) {
      this.sink.onAnomaly({ code: 'ws_frame_too_large', offset: at, detail: `${payloadLen} bytes` });
      return false;
    }
    const masked = (b1 & 0x80) !== 0;
    if (this.expectMask === undefined) this.expectMask = masked;
    else if (masked !== this.expectMask) {
      this.sink.onAnomaly({ code: 'ws_mask_mismatch', offset: at, detail: masked ? 'masked' : 'unmasked' });
    }
    if (masked) b.copy(this.mask, 0, p, p + 4);
    this.stats.frames++;
    this.fin = (b0 & 0x80) !== 0;
    this.opcode = opcode;
    this.masked = masked;
    this.payloadLen = payloadLen;
    this.payloadDone = 0;
    this.state = S_PAYLOAD;
    this.route(at);
    return true;
  }

  // Decides where the new frame's payload goes.
  private route(at: number): void {
    const opcode = this.opcode;
    if (opcode >= OP_CLOSE) {
      this.stats.controlFrames++;
      if (!this.fin || this.payloadLen > MAX_CONTROL) {
        this.sink.onAnomaly({
          code: 'ws_bad_control_frame',
          offset: at,
          detail: `opcode ${opcode}, ${this.payloadLen} bytes`,
        });
        this.dest = TO_NOWHERE;
      } else {
        this.dest = TO_CONTROL;
        this.ctlLen = 0;
      }
      return;
    }
    if (opcode === OP_CONTINUATION) {
      if (!this.inMessage) {
        this.sink.onAnomaly({ code: 'ws_unexpected_continuation', offset: at });
        this.dest = TO_NOWHERE;
        return;
      }
    } else {
      if (this.inMessage) {
        if (!this.dropping) {
          this.sink.onAnomaly({ code: 'ws_unfinished_message', offset: this.msgStart });
          this.stats.messagesDropped++;
        }
        this.resetMessage();
      }
      this.inMessage = true;
      this.msgBinary = opcode === OP_BINARY;
      this.msgStart = at;
    }
    if (this.dropping) {
      this.dest = TO_NOWHERE;
      return;
    }
    const cap = Math.min(this.maxMessage, this.maxBuffered - SCRATCH);
    if (this.accLen + this.payloadLen > cap) {
      this.sink.onAnomaly({
        code: 'ws_message_too_large',
        offset: this.msgStart,
        detail: `over ${cap} bytes`,
      });
      this.stats.messagesDropped++;
      this.acc = Buffer.alloc(0);
      this.accLen = 0;
      this.dropping = true;
      this.dest = TO_NOWHERE;
      return;
    }
    this.dest = TO_MESSAGE;
  }

  private endFrame(): void {
    this.state = S_HEADER;
    const opcode = this.opcode;
    if (opcode >= OP_CLOSE) {
      if (this.dest !== TO_CONTROL) return;
      if (opcode === OP_CLOSE) {
        const code = this.ctlLen >= 2 ? this.ctl.readUInt16BE(0) : undefined;
        this.ctlLen = 0;
        if (this.inMessage && !this.dropping) this.stats.messagesDropped++;
        this.resetMessage();
        this.state = S_CLOSED;
        this.sink.onClose(code);
        return;
      }
      // Ping and pong carry nothing for SIP.
      this.ctlLen = 0;
      return;
    }
    if (!this.fin || !this.inMessage) return;
    if (this.dropping) {
      this.resetMessage();
      return;
    }
    let data: Buffer;
    if (this.accLen === this.acc.length) data = this.acc;
    else {
      data = Buffer.allocUnsafe(this.accLen);
      this.acc.copy(data, 0, 0, this.accLen);
    }
    this.acc = Buffer.alloc(0);
    this.accLen = 0;
    this.deliver(data);
  }

  private deliver(data: Buffer): void {
    const binary = this.msgBinary;
    const at = this.msgStart;
    this.state = S_HEADER;
    this.inMessage = false;
    this.dropping = false;
    this.stats.messages++;
    this.sink.onMessage(data, binary, at);
  }

  private resetMessage(): void {
    this.inMessage = false;
    this.dropping = false;
    this.acc = Buffer.alloc(0);
    this.accLen = 0;
  }

  // Grows the message buffer with the bytes that arrived (doubling), never past the cap.
  private reserve(size: number): void {
    if (this.acc.length >= size) return;
    const cap = Math.min(this.maxMessage, this.maxBuffered - SCRATCH);
    const grown = Math.min(Math.max(size, this.acc.length * 2, 1024), cap);
    const next = Buffer.allocUnsafe(grown);
    this.acc.copy(next, 0, 0, this.accLen);
    this.acc = next;
  }

  private badHeader(at: number, detail: string): false {
    this.sink.onAnomaly({ code: 'ws_bad_frame_header', offset: at, detail });
    return false;
  }

  private enterResync(at: number): void {
    if (this.inMessage && !this.dropping) this.stats.messagesDropped++;
    this.resetMessage();
    this.state = S_RESYNC;
    this.tailLen = 0;
    this.tailStart = at;
  }

  /**
   * Looks for the next plausible frame start in the carried window plus buf[off..]. Returns the
   * buffer and position to continue from, or undefined when it needs more bytes (the window then
   * keeps at most RESYNC_WINDOW - 1 bytes).
   */
  private resync(
    buf: Buffer,
    off: number,
    base: number,
  ): { buf: Buffer; off: number; base: number } | undefined {
    let win: Buffer;
    let winBase: number;
    if (this.tailLen > 0) {
      // Only while out of sync: join the few carried bytes with this buffer.
      win = Buffer.concat([this.tail.subarray(0, this.tailLen), buf.subarray(off)]);
      winBase = this.tailStart;
    } else {
      win = off === 0 ? buf : buf.subarray(off);
      winBase = base + off;
    }
    this.tailLen = 0;
    const n = win.length;
    for (let q = 0; q < n; q++) {
      const verdict = this.candidate(win, q);
      if (verdict === 1) {
        this.skip(winBase, q);
        this.endSkip();
        this.state = S_HEADER;
        return { buf: win, off: q, base: winBase };
      }
      if (verdict === 0) {
        // Undecided until more bytes come: carry win[q..].
        this.skip(winBase, q);
        win.copy(this.tail, 0, q, n);
        this.tailLen = n - q;
        this.tailStart = winBase + q;
        return undefined;
      }
    }
    this.skip(winBase, n);
    this.tailStart = winBase + n;
    return undefined;
  }

  /**
   * Whether a frame plausibly starts at w[q]: 1 yes, -1 no, 0 cannot tell yet. A candidate is a
   * final text/binary frame without RSV bits, a minimally encoded length within bounds, the
   * direction's masking, and a payload that begins like a SIP start line ("SIP/" or an upper-case
   * method), which is what RFC 7118 puts in every frame.
   */
  private candidate(w: Buffer, q: number): number {
    const n = w.length;
    const b0 = w[q] as number;
    if (b0 !== 0x81 && b0 !== 0x82) return -1;
    if (q + 1 >= n) return 0;
    const b1 = w[q + 1] as number;
    const masked = (b1 & 0x80) !== 0;
    if (this.expectMask !== undefined && masked !== this.expectMask) return -1;
    const len7 = b1 & 0x7f;
    const hsize = headerSize(b1);
    if (q + hsize + RESYNC_PROBE > n) {
      return len7 < RESYNC_PROBE ? -1 : 0;
    }
    let len = len7;
    if (len7 === 126) {
      len = w.readUInt16BE(q + 2);
      if (len < 126) return -1;
    } else if (len7 === 127) {
      const hi = w.readUInt32BE(q + 2);
      if (hi !== 0) return -1;
      len = w.readUInt32BE(q + 6);
      if (len < 65536) return -1;
    }
    if (len < RESYNC_PROBE || len > this.maxFrame) return -1;
    const p = q + hsize;
    const k = masked ? p - 4 : -1;
    let c0 = w[p] as number;
    let c1 = w[p + 1] as number;
    let c2 = w[p + 2] as number;
    let c3 = w[p + 3] as number;
    if (k >= 0) {
      c0 ^= w[k] as number;
      c1 ^= w[k + 1] as number;
      c2 ^= w[k + 2] as number;
      c3 ^= w[k + 3] as number;
    }
    return looksLikeSipStart(c0, c1, c2, c3) ? 1 : -1;
  }

  private skip(at: number, count: number): void {
    if (count === 0) return;
    if (this.skipStart < 0) this.skipStart = at;
    this.skipCount += count;
    this.stats.bytesSkipped += count;
  }

  private endSkip(): void {
    if (this.skipStart < 0) return;
    this.stats.resyncs++;
    this.sink.onAnomaly({
      code: 'ws_resync',
      offset: this.skipStart,
      detail: `${this.skipCount} bytes skipped`,
    });
    this.skipStart = -1;
    this.skipCount = 0;
  }

  private ignoreAfterClose(count: number, at: number): void {
    if (count === 0) return;
    this.stats.bytesSkipped += count;
    if (this.afterClose) return;
    this.afterClose = true;
    this.sink.onAnomaly({ code: 'ws_data_after_close', offset: at });
  }
}

// Header size from the second header byte: 2, plus the extended length, plus the mask key.
function headerSize(b1: number): number {
  const len7 = b1 & 0x7f;
  return 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + ((b1 & 0x80) !== 0 ? 4 : 0);
}

// XORs src[so, so+len) with the mask (its phase given by `done`, the payload bytes already seen).
function unmaskInto(
  dst: Buffer,
  dOff: number,
  src: Buffer,
  so: number,
  len: number,
  mask: Buffer,
  done: number,
): void {
  const m0 = mask[0] as number;
  const m1 = mask[1] as number;
  const m2 = mask[2] as number;
  const m3 = mask[3] as number;
  for (let i = 0; i < len; i++) {
    const phase = (done + i) & 3;
    const m = phase === 0 ? m0 : phase === 1 ? m1 : phase === 2 ? m2 : m3;
    dst[dOff + i] = (src[so + i] as number) ^ m;
  }
}

function isUpper(c: number): boolean {
  return c >= 0x41 && c <= 0x5a;
}

// "SIP/" (a response) or at least three upper-case letters then an upper-case letter, '-' or space.
function looksLikeSipStart(c0: number, c1: number, c2: number, c3: number): boolean {
  if (c0 === 0x53 && c1 === 0x49 && c2 === 0x50 && c3 === 0x2f) return true;
  return isUpper(c0) && isUpper(c1) && isUpper(c2) && (isUpper(c3) || c3 === 0x20 || c3 === 0x2d);
}
