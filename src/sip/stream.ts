/**
 * Frames SIP messages out of one direction of a TCP/TLS byte stream (RFC 3261 section 18.3): a
 * message ends after the empty line that ends its headers plus Content-Length body bytes.
 *
 * CRLF keep-alives between messages (RFC 5626) are skipped. Every message must begin with a
 * plausible start line; when it does not (junk, a gap, a Content-Length that lied), the framer
 * skips whole lines until one is found and reports how much it skipped. Memory is bounded: at most
 * SIP_STREAM_MAX_HEADER_BYTES wait for a header terminator, a message whose length is known is
 * assembled in one exact-size buffer (at most headers + SIP_STREAM_MAX_BODY_BYTES), and a larger
 * declared body is skipped without being stored. The result does not depend on how the stream is
 * split into chunks.
 */
import { SIP_STREAM_MAX_BODY_BYTES, SIP_STREAM_MAX_HEADER_BYTES } from '../config/limits.js';
import type { Anomaly } from '../core/records.js';
import { CHAR, COLON, CR, C_DIGIT, C_TOKEN, HTAB, LF, SP, equalsLower } from './headers.js';

/** Receives what a `SipStreamFramer` finds. */
export interface SipStreamSink {
  /** One whole message (start line to end of body). The framer never reuses its bytes: keep it. */
  onMessage(message: Buffer): void;
  /** A framing anomaly; `offset` is the byte position in the stream. */
  onAnomaly(anomaly: Anomaly): void;
}

/** Counters of one `SipStreamFramer`. */
export interface SipStreamStats {
  messages: number;
  /** Resynchronisation episodes (each reported once as `sip_stream_resync`). */
  resyncs: number;
  /** Bytes skipped while resynchronising. */
  bytesSkipped: number;
  /** Bytes of messages dropped (gap, oversize, end of stream). */
  bytesDropped: number;
}

const MISSING = -1;
const INVALID = -2;
const NEED_MORE = -1;
const OVERSIZE = -2;

// What the bytes held in `pend` are.
const PEND_NONE = 0;
/** Start of a message whose first line has no LF yet; hint: scanned up to here without an LF. */
const PEND_LINE = 1;
/** A message with a plausible first line whose header terminator has not arrived; hint: next LF to examine. */
const PEND_HEAD = 2;
/** A partial line while resynchronising; hint: scanned up to here without an LF. */
const PEND_RESYNC = 3;

const EMPTY = Buffer.alloc(0);

/** Index of the first LF in d[from, d.length), -1 when none. */
function lineFeed(d: Buffer, from: number): number {
  return from >= d.length ? -1 : d.indexOf(LF, from);
}

/**
 * True when d[s, lf) (lf at the LF) looks like a start line: `SIP/d.d ddd ...` or
 * `token SP ... SP SIP/d.d` (trailing SP tolerated). Used to accept a message and to resynchronise.
 */
export function isPlausibleStartLine(d: Buffer, s: number, lf: number): boolean {
  let e = lf;
  if (e > s && d[e - 1] === CR) e--;
  if (e - s < 11 || e - s > SIP_STREAM_MAX_HEADER_BYTES) return false;
  if (d[s] === 0x53 && d[s + 1] === 0x49 && d[s + 2] === 0x50 && d[s + 3] === 0x2f) {
    // SIP/x.y SP 3DIGIT
    let i = s + 4;
    while (i < e && (CHAR[d[i]!]! & C_DIGIT) !== 0) i++;
    if (i === s + 4 || d[i] !== 0x2e) return false;
    const j = ++i;
    while (i < e && (CHAR[d[i]!]! & C_DIGIT) !== 0) i++;
    if (i === j || d[i] !== SP) return false;
    return (
      i + 3 < e + 1 &&
      (CHAR[d[i + 1]!]! & C_DIGIT) !== 0 &&
      (CHAR[d[i + 2]!]! & C_DIGIT) !== 0 &&
      (CHAR[d[i + 3]!]! & C_DIGIT) !== 0 &&
      (i + 4 === e || d[i + 4] === SP)
    );
  }
  let m = s;
  while (m < e && (CHAR[d[m]!]! & C_TOKEN) !== 0) m++;
  if (m === s || m - s > 64 || d[m] !== SP) return false;
  while (e > m && (d[e - 1] === SP || d[e - 1] === HTAB)) e--;
  // ... SP SIP/digit.digit
  let v = e;
  while (v > m && (CHAR[d[v - 1]!]! & C_DIGIT) !== 0) v--;
  if (v === e || d[v - 1] !== 0x2e) return false;
  v--;
  const majorEnd = v;
  while (v > m && (CHAR[d[v - 1]!]! & C_DIGIT) !== 0) v--;
  if (v === majorEnd || v - 5 <= m) return false;
  return d[v - 1] === 0x2f && d[v - 2] === 0x50 && d[v - 3] === 0x49 && d[v - 4] === 0x53 && d[v - 5] === SP;
}

/** Frames SIP messages from one direction of a TCP/TLS stream; see the module comment. */
export class SipStreamFramer {
  /** Counters since creation. */
  readonly stats: SipStreamStats = { messages: 0, resyncs: 0, bytesSkipped: 0, bytesDropped: 0 };
  private readonly sink: SipStreamSink;
  // Bytes of an incomplete message start or partial line (capacity grows to at most the bound).
  private pend: Buffer = EMPTY;
  private pendLen = 0;
  private pendKind = PEND_NONE;
  private pendHint = 0;
  // Stream offset of pend[0] (or of msg[0]).
  private pendStart = 0;
  // A message whose total length is known, assembled in place.
  private msg: Buffer | undefined = undefined;
  private msgLen = 0;
  // Declared body bytes of an oversized message still to skip.
  private skip = 0;
  private resync = false;
  private discardLine = false;
  private skipStart = -1;
  private skipCount = 0;
  private streamPos = 0;
  // Outputs of frame() about the incomplete item it stopped at.
  private outKind = PEND_NONE;
  private outHint = 0;
  private outTotal = 0;

  constructor(sink: SipStreamSink) {
    this.sink = sink;
  }

  /** Bytes currently held (never above the bounds in src/config/limits.ts). */
  get buffered(): number {
    return this.msg !== undefined ? this.msgLen : this.pendLen;
  }

  /** Feeds the next bytes of the stream; `gap` says bytes were lost before these. */
  push(chunk: Buffer, gap = false): void {
    const chunkStart = this.streamPos;
    this.streamPos += chunk.length;
    if (gap) this.dropPartial('sip_stream_gap', chunkStart);
    const n = chunk.length;
    let off = 0;
    while (off < n) {
      if (this.skip > 0) {
        const k = Math.min(this.skip, n - off);
        this.skip -= k;
        this.stats.bytesDropped += k;
        off += k;
        continue;
      }
      const msg = this.msg;
      if (msg !== undefined) {
        const k = Math.min(msg.length - this.msgLen, n - off);
        chunk.copy(msg, this.msgLen, off, off + k);
        this.msgLen += k;
        off += k;
        if (this.msgLen === msg.length) {
          this.msg = undefined;
          this.msgLen = 0;
          this.emit(msg);
        }
        continue;
      }
      if (this.pendLen === 0) {
        const r = this.frame(chunk, off, chunkStart, PEND_NONE, 0);
        if (r < n) this.keep(chunk, r, chunkStart + r, false);
        break;
      }
      // Append no more than the bound allows, so `pend` never grows past it.
      const k = Math.min(n - off, SIP_STREAM_MAX_HEADER_BYTES + 4 - this.pendLen);
      this.append(chunk, off, k);
      off += k;
      const view = this.pend.subarray(0, this.pendLen);
      const base = this.pendStart;
      const r = this.frame(view, 0, base, this.pendKind, this.pendHint);
      if (r < view.length) this.keep(view, r, base + r, true);
      else this.clearPend();
    }
  }

  /** The stream ended: a partial message is dropped (`sip_stream_truncated`). */
  end(): void {
    this.dropPartial('sip_stream_truncated', this.streamPos);
    this.endSkip();
    this.resync = false;
    this.discardLine = false;
    this.skip = 0;
  }

  private emit(message: Buffer): void {
    this.stats.messages++;
    this.sink.onMessage(message);
  }

  private anomaly(code: string, offset: number, detail?: string): void {
    this.sink.onAnomaly(detail === undefined ? { code, offset } : { code, offset, detail });
  }

  private dropPartial(code: string, offset: number): void {
    this.endSkip();
    const held = this.msg !== undefined ? this.msgLen : this.pendKind === PEND_RESYNC ? 0 : this.pendLen;
    if (this.pendKind === PEND_RESYNC && this.pendLen > 0) {
      // A partial line while resynchronising was junk already: count it as skipped.
      this.stats.bytesSkipped += this.pendLen;
    }
    if (held > 0 || this.skip > 0) {
      this.anomaly(code, offset, `${held + this.skip} bytes`);
      this.stats.bytesDropped += held;
    }
    this.msg = undefined;
    this.msgLen = 0;
    this.clearPend();
    this.skip = 0;
    this.discardLine = false;
    this.resync = true;
  }

  private clearPend(): void {
    this.pendLen = 0;
    this.pendKind = PEND_NONE;
    this.pendHint = 0;
  }

  private append(src: Buffer, s: number, k: number): void {
    const need = this.pendLen + k;
    if (need > this.pend.length) {
      const cap = Math.min(Math.max(need, this.pend.length * 2, 1024), SIP_STREAM_MAX_HEADER_BYTES + 4);
      // Its own allocation: the pooled slab is shared, and these bytes are overwritten.
      const next = Buffer.allocUnsafeSlow(cap);
      this.pend.copy(next, 0, 0, this.pendLen);
      this.pend = next;
    }
    src.copy(this.pend, this.pendLen, s, s + k);
    this.pendLen = need;
  }

  /** Keeps d[s, end) (what frame() could not finish), as an exact-size message or in `pend`. */
  private keep(d: Buffer, s: number, streamOffset: number, fromPend: boolean): void {
    const len = d.length - s;
    if (this.outTotal > 0) {
      const m = Buffer.allocUnsafe(this.outTotal);
      d.copy(m, 0, s);
      this.msg = m;
      this.msgLen = len;
      this.clearPend();
      this.pendStart = streamOffset;
      return;
    }
    if (fromPend) {
      this.pend.copyWithin(0, s, s + len);
      this.pendLen = len;
    } else {
      this.pendLen = 0;
      this.append(d, s, len);
    }
    this.pendStart = streamOffset;
    this.pendKind = this.outKind;
    this.pendHint = this.outHint - s;
  }

  private addSkip(count: number, offset: number): void {
    if (count <= 0) return;
    if (this.skipStart < 0) this.skipStart = offset;
    this.skipCount += count;
    this.stats.bytesSkipped += count;
  }

  private endSkip(): void {
    if (this.skipStart >= 0) {
      this.stats.resyncs++;
      this.anomaly('sip_stream_resync', this.skipStart, `${this.skipCount} bytes`);
    }
    this.skipStart = -1;
    this.skipCount = 0;
  }

  /**
   * Frames d[p, d.length): emits every complete message and returns where the unfinished part
   * starts (d.length when nothing is left). `kind`/`hint` describe the item at p from a previous
   * call (PEND_*). Sets outKind/outHint/outTotal for the unfinished item.
   */
  private frame(d: Buffer, p: number, base: number, kind: number, hint: number): number {
    const e = d.length;
    this.outTotal = 0;
    for (;;) {
      if (this.discardLine) {
        // The rest of a line too long to be a start line.
        const lf = lineFeed(d, p);
        if (lf < 0) {
          this.addSkip(e - p, base + p);
          return e;
        }
        this.addSkip(lf + 1 - p, base + p);
        p = lf + 1;
        this.discardLine = false;
        kind = PEND_NONE;
      }
      if (this.resync) {
        let ls = p;
        let from = kind === PEND_RESYNC ? Math.max(p, hint) : p;
        let found = false;
        for (;;) {
          const lf = lineFeed(d, from);
          if (lf < 0) break;
          if (isPlausibleStartLine(d, ls, lf)) {
            found = true;
            break;
          }
          ls = lf + 1;
          from = ls;
        }
        if (!found) {
          this.addSkip(ls - p, base + p);
          if (e - ls > SIP_STREAM_MAX_HEADER_BYTES) {
            this.addSkip(e - ls, base + ls);
            this.discardLine = true;
            return e;
          }
          this.outKind = PEND_RESYNC;
          this.outHint = e;
          return ls;
        }
        this.addSkip(ls - p, base + p);
        this.endSkip();
        this.resync = false;
        p = ls;
        kind = PEND_NONE;
      }
      // CRLF keep-alives (RFC 5626 section 4.4.1).
      const q = p;
      while (p < e && (d[p] === CR || d[p] === LF)) p++;
      if (p !== q) kind = PEND_NONE;
      if (p >= e) return e;
      const lf = lineFeed(d, kind === PEND_LINE ? Math.max(p, hint) : p);
      if (lf < 0) {
        if (e - p > SIP_STREAM_MAX_HEADER_BYTES) {
          // Too long for a start line whatever follows: skip it as resynchronisation would.
          this.resync = true;
          this.discardLine = true;
          this.addSkip(e - p, base + p);
          return e;
        }
        this.outKind = PEND_LINE;
        this.outHint = e;
        return p;
      }
      if (!isPlausibleStartLine(d, p, lf)) {
        this.resync = true;
        kind = PEND_NONE;
        continue;
      }
      const he = this.headerEnd(
        d,
        kind === PEND_HEAD ? Math.max(lf, hint) : lf,
        p + SIP_STREAM_MAX_HEADER_BYTES,
      );
      if (he === NEED_MORE) {
        this.outKind = PEND_HEAD;
        this.outHint = this.scanResume;
        return p;
      }
      if (he === OVERSIZE) {
        this.anomaly('sip_stream_headers_too_large', base + p);
        this.stats.bytesDropped += lf + 1 - p;
        this.resync = true;
        p = lf + 1;
        kind = PEND_NONE;
        continue;
      }
      let cl = contentLength(d, lf + 1, he);
      if (cl === MISSING) {
        this.anomaly('sip_missing_content_length', base + p);
        cl = 0;
      } else if (cl === INVALID) cl = 0; // the parser reports the value itself
      kind = PEND_NONE;
      if (cl > SIP_STREAM_MAX_BODY_BYTES) {
        this.anomaly('sip_stream_body_too_large', base + p, `${cl} bytes`);
        this.stats.bytesDropped += he - p;
        const avail = e - he;
        if (cl <= avail) {
          this.stats.bytesDropped += cl;
          p = he + cl;
          continue;
        }
        this.stats.bytesDropped += avail;
        this.skip = cl - avail;
        return e;
      }
      const total = he - p + cl;
      if (total > e - p) {
        this.outTotal = total;
        return p;
      }
      const m = Buffer.allocUnsafe(total);
      d.copy(m, 0, p, p + total);
      this.emit(m);
      p += total;
    }
  }

  // Where headerEnd() stopped when it returned NEED_MORE: where to search for the next LF.
  private scanResume = 0;

  /**
   * Offset just past the empty line that ends the headers, examining LFs from `from` on;
   * NEED_MORE when it has not arrived, OVERSIZE when it cannot end by `limit`.
   */
  private headerEnd(d: Buffer, from: number, limit: number): number {
    const e = d.length;
    let i = lineFeed(d, from);
    for (;;) {
      if (i < 0) {
        // A terminator still to come ends at least two bytes after the next LF.
        if (e + 2 > limit) return OVERSIZE;
        this.scanResume = e;
        return NEED_MORE;
      }
      if (i + 2 > limit) return OVERSIZE;
      if (i + 1 >= e) {
        this.scanResume = i;
        return NEED_MORE;
      }
      const c = d[i + 1];
      if (c === LF) return i + 2;
      if (c === CR) {
        if (i + 2 >= e) {
          this.scanResume = i;
          return NEED_MORE;
        }
        if (d[i + 2] === LF) return i + 3 > limit ? OVERSIZE : i + 3;
      }
      i = lineFeed(d, i + 1);
    }
  }
}

/**
 * Content-Length (or `l`) of the header lines in d[s, he): the first field's value, MISSING when
 * there is none, INVALID when it is not a number. Folded values are followed.
 */
function contentLength(d: Buffer, s: number, he: number): number {
  let p = s;
  while (p < he) {
    const ns = p;
    while (p < he && (CHAR[d[p]!]! & C_TOKEN) !== 0) p++;
    const ne = p;
    const isCl = (ne - ns === 1 && (d[ns]! | 0x20) === 0x6c) || equalsLower(d, ns, ne, 'content-length');
    if (isCl && ne > ns) {
      while (p < he && (d[p] === SP || d[p] === HTAB)) p++;
      if (p < he && d[p] === COLON) {
        p++;
        while (p < he && (d[p] === SP || d[p] === HTAB || d[p] === CR || d[p] === LF)) p++;
        let n = 0;
        const ds = p;
        while (p < he && (CHAR[d[p]!]! & C_DIGIT) !== 0) {
          if (n <= SIP_STREAM_MAX_BODY_BYTES) n = n * 10 + d[p]! - 0x30;
          p++;
        }
        while (p < he && (d[p] === SP || d[p] === HTAB)) p++;
        if (p === ds || (p < he && d[p] !== CR && d[p] !== LF)) return INVALID;
        return n;
      }
    }
    // Next line that does not continue this field.
    for (;;) {
      while (p < he && d[p] !== LF) p++;
      p++;
      if (p < he && (d[p] === SP || d[p] === HTAB)) continue;
      break;
    }
  }
  return MISSING;
}
