/**
 * Follows a PBX log file the way `tail -F` does, and emits its lines with provenance kind 'log',
 * the file and the line number.
 *
 * - Rotation by rename (logrotate's default): the path then names another file (dev/inode differ):
 *   the old file's remainder is read to its end (we still hold it open), then the new file from 0.
 * - Truncation and copytruncate: the size drops below our offset: reading restarts at 0. (A file
 *   truncated and refilled past our offset between two polls cannot be told from growth; polling
 *   often keeps that window small.)
 * - A missing file is waited for and read from its start once it appears.
 * - Polling every `pollIntervalMs` (LOG_TAIL_POLL_MS) is the mechanism; fs.watch on the directory
 *   is only a hint that makes a poll happen sooner (it misses events on NFS and some editors).
 * - Reads go by byte offset in chunks; lines split on LF (a CR before it is dropped); a line over
 *   `maxLineBytes` is delivered cut and the rest skipped (counted in `dropped`); UTF-8 is decoded
 *   leniently (bad bytes become U+FFFD).
 * - Starts at the end of an existing file by default (at the start of its last, unfinished line),
 *   or at its beginning (`fromStart`), or at a saved `TailPosition`, so a restart neither re-reads
 *   nor skips. A saved position whose file was rotated away meanwhile is finished from `PATH.1`
 *   when that is the same file.
 */
import { watch, type FSWatcher } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import {
  LOG_TAIL_MAX_BYTES_PER_POLL,
  LOG_TAIL_MAX_LINE_BYTES,
  LOG_TAIL_POLL_MS,
  LOG_TAIL_READ_CHUNK_BYTES,
} from '../config/limits.js';
import {
  describeError,
  emptyStats,
  wallClock,
  type Clock,
  type LiveSource,
  type LogLineHandler,
  type SourceStats,
} from './live-source.js';

/** Where a tail is in its file: enough to resume after a restart without re-reading or skipping. */
export interface TailPosition {
  readonly dev: number;
  readonly ino: number;
  /** Byte offset just past the last complete line delivered. */
  readonly offset: number;
  /** Number of the last line delivered (1-based; 0: none yet). */
  readonly line: number;
}

/** Settings of a log tail. */
export interface LogTailOptions {
  readonly path: string;
  /** Read an existing file from its beginning instead of its end (ignored when `position` applies). */
  readonly fromStart?: boolean;
  /** A position saved by `position()` before a restart. */
  readonly position?: TailPosition;
  readonly pollIntervalMs?: number;
  readonly maxLineBytes?: number;
  readonly readChunkBytes?: number;
  readonly maxBytesPerPoll?: number;
  /** Use fs.watch as a hint (default true). */
  readonly watch?: boolean;
  readonly name?: string;
  readonly now?: Clock;
}

/** Log tail counters beyond the common ones. */
export interface LogTailStats extends SourceStats {
  recognised: number;
  /** Files switched to after a rename or re-creation. */
  rotations: number;
  /** Times the file shrank and reading restarted at 0. */
  truncations: number;
  /** Lines cut at `maxLineBytes`. */
  cutLines: number;
}

interface OpenFile {
  readonly fh: FileHandle;
  readonly dev: number;
  readonly ino: number;
  readonly path: string;
}

/** Follows one log file across rotation and truncation; see the module comment. */
export class LogTail implements LiveSource {
  readonly name: string;
  readonly kind = 'log' as const;
  private readonly path: string;
  private readonly fromStart: boolean;
  private readonly saved: TailPosition | undefined;
  private readonly pollMs: number;
  private readonly maxLine: number;
  private readonly chunkBytes: number;
  private readonly maxPerPoll: number;
  private readonly useWatch: boolean;
  private readonly now: Clock;
  private readonly st: LogTailStats = {
    ...emptyStats(),
    recognised: 0,
    rotations: 0,
    truncations: 0,
    cutLines: 0,
  };
  private file: OpenFile | undefined;
  private offset = 0;
  private line = 0;
  // Bytes of the current unfinished line, and whether we are skipping the rest of a cut line.
  private partial: Buffer = Buffer.alloc(0);
  private partialLen = 0;
  private skipping = false;
  private readBuf: Buffer | undefined;
  private running = false;
  private polling: Promise<void> | undefined;
  private again = false;
  private timer: NodeJS.Timeout | undefined;
  private soon: NodeJS.Immediate | undefined;
  private watcher: FSWatcher | undefined;
  private first = true;

  constructor(
    options: LogTailOptions,
    private readonly onLine: LogLineHandler,
  ) {
    this.path = options.path;
    this.fromStart = options.fromStart === true;
    this.saved = options.position;
    this.pollMs = options.pollIntervalMs ?? LOG_TAIL_POLL_MS;
    this.maxLine = options.maxLineBytes ?? LOG_TAIL_MAX_LINE_BYTES;
    this.chunkBytes = options.readChunkBytes ?? LOG_TAIL_READ_CHUNK_BYTES;
    this.maxPerPoll = options.maxBytesPerPoll ?? LOG_TAIL_MAX_BYTES_PER_POLL;
    this.useWatch = options.watch ?? true;
    this.now = options.now ?? wallClock;
    this.name = options.name ?? `tail ${options.path}`;
  }

  /**
   * Opens the file (a missing one is waited for) and reads what the start position calls for.
   * Rejects naming the file when it exists but cannot be read (permission, not a file).
   */
  async start(): Promise<void> {
    if (this.running) return;
    try {
      const s = await stat(this.path);
      if (!s.isFile()) throw Object.assign(new Error('not a regular file'), { code: 'ENOTFILE' });
      const fh = await open(this.path, 'r');
      await fh.close();
    } catch (err) {
      if ((err as { code?: unknown }).code !== 'ENOENT') {
        const why =
          (err as { code?: unknown }).code === 'ENOTFILE' ? 'not a regular file' : describeError(err);
        throw new Error(`log tail: cannot read ${this.path}: ${why}`, { cause: err });
      }
    }
    this.running = true;
    this.st.up = true;
    await this.poll();
    this.timer = setInterval(() => this.kick(), this.pollMs);
    if (this.useWatch) {
      try {
        const name = basename(this.path);
        this.watcher = watch(dirname(this.path), { persistent: false }, (_ev, f) => {
          if (f === null || f === name) this.kickSoon();
        });
        this.watcher.on('error', () => this.closeWatcher());
      } catch {
        // No inotify (or the directory is missing): polling alone still works.
      }
    }
  }

  /** Stops polling and closes the file; the position stays readable. */
  async stop(): Promise<void> {
    this.running = false;
    this.st.up = false;
    if (this.timer !== undefined) clearInterval(this.timer);
    if (this.soon !== undefined) clearImmediate(this.soon);
    this.timer = undefined;
    this.soon = undefined;
    this.closeWatcher();
    if (this.polling !== undefined) await this.polling;
    const f = this.file;
    this.file = undefined;
    if (f !== undefined) await f.fh.close();
  }

  /** Checks the file now and reads what is new; concurrent calls share one pass. */
  poll(): Promise<void> {
    if (this.polling !== undefined) {
      this.again = true;
      return this.polling;
    }
    this.polling = this.pollLoop().finally(() => {
      this.polling = undefined;
    });
    return this.polling;
  }

  /** The position to save for a restart; undefined before a file was opened. */
  position(): TailPosition | undefined {
    const f = this.file;
    if (f === undefined) return undefined;
    return { dev: f.dev, ino: f.ino, offset: this.offset - this.partialLen, line: this.line };
  }

  /** The consumer's log parser recognised `n` more lines (feeds the parse-collapse health check). */
  noteRecognised(n = 1): void {
    this.st.recognised += n;
  }

  /** A snapshot of the counters. */
  stats(): LogTailStats {
    return { ...this.st };
  }

  private kick(): void {
    if (this.running) void this.poll();
  }

  private kickSoon(): void {
    if (!this.running || this.soon !== undefined) return;
    this.soon = setImmediate(() => {
      this.soon = undefined;
      this.kick();
    });
  }

  private closeWatcher(): void {
    this.watcher?.close();
    this.watcher = undefined;
  }

  private async pollLoop(): Promise<void> {
    do {
      this.again = false;
      await this.pollOnce();
    } while (this.again && this.running);
  }

  private async pollOnce(): Promise<void> {
    let s: Awaited<ReturnType<typeof stat>> | undefined;
    try {
      s = await stat(this.path);
      if (this.st.error !== undefined && this.st.up) delete this.st.error;
    } catch (err) {
      s = undefined;
      this.st.error =
        (err as { code?: unknown }).code === 'ENOENT'
          ? `waiting for ${this.path} to appear`
          : `${this.path}: ${describeError(err)}`;
    }
    const cur = this.file;
    if (cur !== undefined) {
      if (s !== undefined && s.dev === cur.dev && s.ino === cur.ino) {
        if (s.size < this.offset) {
          // Truncated in place (copytruncate): what was not read before is gone; start over.
          this.st.truncations++;
          this.offset = 0;
          this.line = 0;
          this.partialLen = 0;
          this.skipping = false;
        }
        await this.readAvailable(cur, false);
        return;
      }
      // Renamed away or deleted: we still hold the old file: finish it, then switch.
      await this.readAvailable(cur, true);
      this.flushPartial(cur.path);
      this.file = undefined;
      await cur.fh.close();
      if (s === undefined) return;
      this.st.rotations++;
      await this.openCurrent(0, 0);
      return;
    }
    if (s === undefined) {
      this.first = false;
      return;
    }
    if (this.first) {
      this.first = false;
      await this.openInitial(s.dev, s.ino, s.size);
      return;
    }
    await this.openCurrent(0, 0);
  }

  private async openInitial(dev: number, ino: number, size: number): Promise<void> {
    const p = this.saved;
    if (p !== undefined) {
      if (p.dev === dev && p.ino === ino && p.offset <= size) {
        await this.openCurrent(p.offset, p.line);
        return;
      }
      // Rotated while we were down: finish the old file if it is now PATH.1.
      const old = `${this.path}.1`;
      try {
        const o = await stat(old);
        if (o.dev === p.dev && o.ino === p.ino && p.offset <= o.size) {
          const fh = await open(old, 'r');
          const f: OpenFile = { fh, dev: o.dev, ino: o.ino, path: old };
          this.offset = p.offset;
          this.line = p.line;
          await this.readAvailable(f, true);
          this.flushPartial(old);
          await fh.close();
          this.st.rotations++;
        }
      } catch {
        // No PATH.1: its rest is gone; read the new file whole.
      }
      await this.openCurrent(0, 0);
      return;
    }
    if (this.fromStart) {
      await this.openCurrent(0, 0);
      return;
    }
    await this.openCurrent(-1, 0);
  }

  /** Opens the path; offset -1: at the start of the last unfinished line, counting lines before it. */
  private async openCurrent(offset: number, line: number): Promise<void> {
    let fh: FileHandle;
    try {
      fh = await open(this.path, 'r');
    } catch (err) {
      this.st.error = `${this.path}: ${describeError(err)}`;
      return;
    }
    const s = await fh.stat();
    const f: OpenFile = { fh, dev: s.dev, ino: s.ino, path: this.path };
    this.file = f;
    this.partialLen = 0;
    this.skipping = false;
    if (offset >= 0) {
      this.offset = offset;
      this.line = line;
    } else {
      const [end, lines] = await this.countLines(fh, s.size);
      this.offset = end;
      this.line = lines;
    }
    delete this.st.error;
    await this.readAvailable(f, false);
  }

  /** Byte offset just past the last LF below `size`, and the number of LFs before it. */
  private async countLines(fh: FileHandle, size: number): Promise<[number, number]> {
    const buf = this.buffer();
    let lines = 0;
    let lastEnd = 0;
    for (let pos = 0; pos < size;) {
      const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, size - pos), pos);
      if (bytesRead === 0) break;
      let i = buf.indexOf(0x0a, 0);
      while (i >= 0 && i < bytesRead) {
        lines++;
        lastEnd = pos + i + 1;
        i = buf.indexOf(0x0a, i + 1);
      }
      pos += bytesRead;
    }
    return [lastEnd, lines];
  }

  private buffer(): Buffer {
    if (this.readBuf === undefined) this.readBuf = Buffer.allocUnsafe(this.chunkBytes);
    return this.readBuf;
  }

  /** Reads from the offset to the end (or the per-poll budget, unless `toEnd`). */
  private async readAvailable(f: OpenFile, toEnd: boolean): Promise<void> {
    const buf = this.buffer();
    let budget = this.maxPerPoll;
    for (;;) {
      if (!toEnd && budget <= 0) {
        // More is waiting: continue on the next turn rather than hold the loop.
        this.kickSoon();
        return;
      }
      let bytesRead: number;
      try {
        ({ bytesRead } = await f.fh.read(buf, 0, buf.length, this.offset));
      } catch (err) {
        this.st.error = `${f.path}: ${describeError(err)}`;
        return;
      }
      if (bytesRead === 0) return;
      this.st.bytes += bytesRead;
      this.st.lastReceivedAt = this.now();
      this.offset += bytesRead;
      budget -= bytesRead;
      this.split(buf, bytesRead, f.path);
    }
  }

  private split(buf: Buffer, n: number, file: string): void {
    let i = 0;
    while (i < n) {
      let j = buf.indexOf(0x0a, i);
      if (j < 0 || j >= n) j = -1;
      const segEnd = j < 0 ? n : j;
      if (this.skipping) {
        if (j >= 0) this.skipping = false;
      } else if (this.partialLen + (segEnd - i) > this.maxLine) {
        // Deliver the first maxLine bytes, skip the rest of the line.
        this.append(buf, i, i + (this.maxLine - this.partialLen));
        this.st.cutLines++;
        this.st.dropped++;
        this.emit(this.partial, this.partialLen, file);
        this.partialLen = 0;
        this.skipping = j < 0;
      } else if (j >= 0) {
        if (this.partialLen === 0) this.emit(buf.subarray(i, j), j - i, file);
        else {
          this.append(buf, i, j);
          this.emit(this.partial, this.partialLen, file);
          this.partialLen = 0;
        }
      } else {
        this.append(buf, i, n);
      }
      if (j < 0) return;
      i = j + 1;
    }
  }

  private append(src: Buffer, from: number, to: number): void {
    const need = this.partialLen + (to - from);
    if (need > this.partial.length) {
      const next = Buffer.allocUnsafe(Math.min(Math.max(need, this.partial.length * 2, 256), this.maxLine));
      this.partial.copy(next, 0, 0, this.partialLen);
      this.partial = next;
    }
    src.copy(this.partial, this.partialLen, from, to);
    this.partialLen = need;
  }

  /** The file ended for good (rotated away): its unfinished last line is a line. */
  private flushPartial(file: string): void {
    if (this.partialLen > 0) this.emit(this.partial, this.partialLen, file);
    this.partialLen = 0;
    this.skipping = false;
  }

  private emit(b: Buffer, len: number, file: string): void {
    let end = len;
    if (end > 0 && b[end - 1] === 0x0d) end--;
    this.line++;
    this.st.received++;
    this.st.accepted++;
    this.onLine({ text: b.toString('utf8', 0, end), provenance: { kind: 'log', file, line: this.line } });
  }
}
