/**
 * Bytes of one CDR byte stream (a file, a TCP connection) to parsed records: lines end at LF (a CR
 * before it, NULs and blanks around a line are dropped by the parser), a line longer than
 * CDR_MAX_LINE_BYTES is reported as `cdr_line_too_long` and skipped up to its LF, and bytes are
 * decoded as UTF-8 leniently. However the bytes are split into chunks, the records are the same
 * (the socket sources depend on it: TCP keeps no message boundaries).
 */
import { CDR_MAX_LINE_BYTES } from '../config/limits.js';
import type { CdrCall, Provenance } from '../core/records.js';
import type { CdrAnomaly, ThreeCxCdrParser } from './3cx.js';

/** Where parsed CDR records go. Called synchronously from `push`/`end`. */
export interface CdrSink {
  call(call: CdrCall): void;
  anomaly(anomaly: CdrAnomaly): void;
}

/** Running counts of what a stream (or several sharing one object) read. */
export interface CdrCounts {
  /** Lines seen (blank ones and cut ones included). */
  lines: number;
  /** Lines that gave a call. */
  calls: number;
  /** Lines that gave no call because of an anomaly (too long included). */
  rejected: number;
  /** Lines longer than the bound. */
  tooLong: number;
  /** Empty and header lines. */
  blank: number;
  /** Anomalies reported (a call may carry some). */
  anomalies: number;
}

/** A zeroed counts record. */
export function emptyCdrCounts(): CdrCounts {
  return { lines: 0, calls: 0, rejected: 0, tooLong: 0, blank: 0, anomalies: 0 };
}

/** Settings of one stream. */
export interface CdrLineStreamOptions {
  /** File path for provenance (files); sockets leave it out. */
  readonly file?: string;
  /** Line counter, shared by the connections of one socket source so line numbers stay unique. */
  readonly counter?: { line: number };
  /** Counts to add to (shared the same way); a fresh record by default. */
  readonly counts?: CdrCounts;
  readonly maxLineBytes?: number;
}

/** One byte stream's line splitter and parser; see the module comment. */
export class CdrLineStream {
  /** What this stream (or the sharing group) read so far. */
  readonly counts: CdrCounts;
  private readonly counter: { line: number };
  private readonly max: number;
  private readonly file: string | undefined;
  private buf: Buffer = Buffer.alloc(0);
  private len = 0;
  private skipping = false;

  constructor(
    private readonly parser: ThreeCxCdrParser,
    private readonly sink: CdrSink,
    options: CdrLineStreamOptions = {},
  ) {
    this.counts = options.counts ?? emptyCdrCounts();
    this.counter = options.counter ?? { line: 0 };
    this.max = options.maxLineBytes ?? CDR_MAX_LINE_BYTES;
    this.file = options.file;
  }

  /** Bytes held for an unfinished line. */
  get buffered(): number {
    return this.len;
  }

  /** Feeds the next bytes of the stream. */
  push(chunk: Buffer): void {
    let start = 0;
    const n = chunk.length;
    while (start < n) {
      const nl = chunk.indexOf(0x0a, start);
      const end = nl < 0 ? n : nl;
      if (!this.skipping) {
        if (this.len + (end - start) > this.max) this.tooLong();
        else this.append(chunk, start, end);
      }
      if (nl < 0) break;
      if (this.skipping) this.skipping = false;
      else this.line();
      start = nl + 1;
    }
  }

  /** The stream ended: a last line without LF is still read (3CX may close after a record). */
  end(): void {
    if (!this.skipping && this.len > 0) this.line();
    this.len = 0;
    this.skipping = false;
  }

  private where(): Provenance {
    const line = ++this.counter.line;
    this.counts.lines++;
    return this.file === undefined ? { kind: 'cdr', line } : { kind: 'cdr', file: this.file, line };
  }

  private tooLong(): void {
    this.skipping = true;
    this.len = 0;
    this.counts.tooLong++;
    this.counts.rejected++;
    this.counts.anomalies++;
    this.sink.anomaly({
      code: 'cdr_line_too_long',
      detail: `longer than ${this.max} bytes`,
      provenance: this.where(),
    });
  }

  private append(src: Buffer, from: number, to: number): void {
    const need = this.len + (to - from);
    if (need > this.buf.length) {
      const next = Buffer.allocUnsafe(Math.min(Math.max(need, this.buf.length * 2, 512), this.max));
      this.buf.copy(next, 0, 0, this.len);
      this.buf = next;
    }
    src.copy(this.buf, this.len, from, to);
    this.len = need;
  }

  private line(): void {
    const text = this.buf.toString('utf8', 0, this.len);
    this.len = 0;
    deliverCdrLine(this.parser, text, this.where(), this.sink, this.counts);
  }
}

/** Parses one line and hands what it gave to `sink`, counting it in `counts` (not in `lines`). */
export function deliverCdrLine(
  parser: ThreeCxCdrParser,
  text: string,
  where: Provenance,
  sink: CdrSink,
  counts: CdrCounts,
): void {
  const r = parser.parse(text, where);
  if (r.kind === 'blank') counts.blank++;
  else if (r.kind === 'anomaly') {
    counts.rejected++;
    counts.anomalies++;
    sink.anomaly(r.anomaly);
  } else {
    counts.calls++;
    counts.anomalies += r.anomalies.length;
    for (const a of r.anomalies) sink.anomaly(a);
    sink.call(r.call);
  }
}
