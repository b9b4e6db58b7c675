/**
 * CDR files: `readCdrFile` reads one whole (gzip-compressed or not) for `analyze`, streaming in
 * bounded memory; `CdrTail` follows one as 3CX appends to it (3CX's "single file for all calls"
 * output, `cdr.log` in the CDRLogs folder) for `watch`, across rotation, through LogTail.
 * Records carry provenance kind 'cdr' with the file and its 1-based line number.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { pipeline, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { CAPTURE_READ_CHUNK_BYTES, CDR_MAX_LINE_BYTES } from '../config/limits.js';
import type { ThreeCxCdrParser } from '../cdr/3cx.js';
import {
  CdrLineStream,
  deliverCdrLine,
  emptyCdrCounts,
  type CdrCounts,
  type CdrSink,
} from '../cdr/line-stream.js';
import { describeError, type Clock, type LiveSource } from './live-source.js';
import { LogTail, type LogTailStats, type TailPosition } from './log-tail.js';

/** What reading one CDR file came to. */
export interface CdrFileSummary extends CdrCounts {
  /** The file was gzip-compressed. */
  readonly gzip: boolean;
}

/**
 * Streams the CDR file at `path` through `parser` into `sink` (calls and anomalies, in file
 * order). A corrupt gzip stream ends reading with a `cdr_gzip_error` anomaly; an unreadable file
 * rejects with an Error naming the path.
 */
export async function readCdrFile(
  path: string,
  parser: ThreeCxCdrParser,
  sink: CdrSink,
): Promise<CdrFileSummary> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    throw new Error(`cannot open CDR file ${path}: ${describeError(err)}`, { cause: err });
  }
  const stream = new CdrLineStream(parser, sink, { file: path });
  let gzip: boolean;
  try {
    const probe = Buffer.alloc(2);
    let head: number;
    try {
      head = (await fh.read(probe, 0, 2, 0)).bytesRead;
    } catch (err) {
      throw new Error(`cannot read CDR file ${path}: ${describeError(err)}`, { cause: err });
    }
    gzip = head === 2 && probe[0] === 0x1f && probe[1] === 0x8b;
    const raw = fh.createReadStream({ start: 0, autoClose: false, highWaterMark: CAPTURE_READ_CHUNK_BYTES });
    // pipeline forwards a read error of the file to the gunzip stream, so the loop sees it.
    const input: Readable = gzip ? pipeline(raw, createGunzip(), () => undefined) : raw;
    try {
      for await (const chunk of input) stream.push(chunk as Buffer);
      stream.end();
    } catch (err) {
      raw.destroy();
      if (!gzip) throw new Error(`cannot read CDR file ${path}: ${describeError(err)}`, { cause: err });
      stream.end();
      stream.counts.anomalies++;
      sink.anomaly({
        code: 'cdr_gzip_error',
        detail: describeError(err),
        provenance: { kind: 'cdr', file: path, line: stream.counts.lines },
      });
    }
  } finally {
    await fh.close();
  }
  return { ...stream.counts, gzip };
}

/** Settings of a CDR file tail. */
export interface CdrTailOptions {
  readonly path: string;
  /** Read an existing file from its start instead of its end (default: only new calls). */
  readonly fromStart?: boolean;
  /** A position saved by `position()` before a restart. */
  readonly position?: TailPosition;
  readonly pollIntervalMs?: number;
  readonly name?: string;
  readonly now?: Clock;
}

/** A CDR tail's counters: LogTail's (lines as `accepted`, calls as `recognised`) and the CDR counts. */
export interface CdrTailStats extends LogTailStats {
  readonly cdr: CdrCounts;
}

/**
 * Follows one 3CX CDR file (`tail -F` semantics, from LogTail) and parses each new line. Health:
 * `recognised` counts lines that gave a call, so a changed field order (every line now failing)
 * shows as a parse collapse.
 */
export class CdrTail implements LiveSource {
  readonly name: string;
  readonly kind = 'cdr' as const;
  private readonly tail: LogTail;
  private readonly counts = emptyCdrCounts();

  constructor(
    options: CdrTailOptions,
    private readonly parser: ThreeCxCdrParser,
    private readonly sink: CdrSink,
  ) {
    this.name = options.name ?? `cdr 3cx tail ${options.path}`;
    // One byte over the CDR bound: LogTail delivers long lines cut, and a cut line is too long.
    this.tail = new LogTail(
      {
        path: options.path,
        maxLineBytes: CDR_MAX_LINE_BYTES + 1,
        name: this.name,
        ...(options.fromStart !== undefined ? { fromStart: options.fromStart } : {}),
        ...(options.position !== undefined ? { position: options.position } : {}),
        ...(options.pollIntervalMs !== undefined ? { pollIntervalMs: options.pollIntervalMs } : {}),
        ...(options.now !== undefined ? { now: options.now } : {}),
      },
      (l) => this.line(l.text, l.provenance.file ?? options.path, l.provenance.line ?? 0),
    );
  }

  /** Opens the file (or waits for it) and starts following. */
  start(): Promise<void> {
    return this.tail.start();
  }

  /** Stops following; no callback after it resolves. */
  stop(): Promise<void> {
    return this.tail.stop();
  }

  /** Where the tail is, to resume after a restart. */
  position(): TailPosition | undefined {
    return this.tail.position();
  }

  /** A snapshot of the counters. */
  stats(): CdrTailStats {
    const s = this.tail.stats();
    return { ...s, recognised: this.counts.calls, cdr: { ...this.counts } };
  }

  private line(text: string, file: string, line: number): void {
    const c = this.counts;
    c.lines++;
    const where = { kind: 'cdr' as const, file, line };
    if (Buffer.byteLength(text, 'utf8') > CDR_MAX_LINE_BYTES) {
      c.tooLong++;
      c.rejected++;
      c.anomalies++;
      this.sink.anomaly({
        code: 'cdr_line_too_long',
        detail: `longer than ${CDR_MAX_LINE_BYTES} bytes`,
        provenance: where,
      });
      return;
    }
    deliverCdrLine(this.parser, text, where, this.sink, c);
  }
}
