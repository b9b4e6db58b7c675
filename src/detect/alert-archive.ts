/**
 * The final revisions of closed alerts, kept for the end-of-run report of `analyze` in bounded
 * memory: each is kept as its JSON text, in memory up to ALERT_ARCHIVE_MEMORY_BYTES and past that
 * in an unlinked temporary file, so a long capture's thousands of alerts cost an index entry each
 * (an alert as objects was about 6 KiB; 50 MiB of an office capture's heap, bench/out/office.pcap).
 */
import { randomUUID } from 'node:crypto';
import { closeSync, openSync, readSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ALERT_ARCHIVE_MEMORY_BYTES } from '../config/limits.js';
import type { AlertJson } from '../core/alert.js';

/** Where one archived alert is: its report order and its text (in memory or at a file offset). */
interface Entry {
  readonly raisedAtMs: number;
  readonly seq: number;
  /** The JSON text while in memory; undefined once spilled. */
  readonly text: string | undefined;
  readonly pos: number;
  readonly len: number;
}

/** Closed alerts in report order (raisedAt, then the order they were opened). */
export class AlertArchive {
  private readonly entries: Entry[] = [];
  private memoryBytes = 0;
  private fd: number | undefined = undefined;
  private fileBytes = 0;

  constructor(private readonly memoryBudget = ALERT_ARCHIVE_MEMORY_BYTES) {}

  /** Alerts archived. */
  get size(): number {
    return this.entries.length;
  }

  /** Bytes written to the temporary file (0 while everything fits in memory). */
  get spilledBytes(): number {
    return this.fileBytes;
  }

  /** Archives a closed alert's final revision; `seq` orders alerts raised in the same millisecond. */
  add(alert: AlertJson, seq: number): void {
    const text = JSON.stringify(alert);
    const raisedAtMs = Date.parse(alert.raisedAt);
    if (this.memoryBytes + text.length <= this.memoryBudget) {
      this.memoryBytes += text.length;
      this.entries.push({ raisedAtMs, seq, text, pos: 0, len: 0 });
      return;
    }
    const fd = (this.fd ??= openSpillFile());
    const bytes = Buffer.from(text, 'utf8');
    writeSync(fd, bytes, 0, bytes.length, this.fileBytes);
    this.entries.push({ raisedAtMs, seq, text: undefined, pos: this.fileBytes, len: bytes.length });
    this.fileBytes += bytes.length;
  }

  /** Archived alerts merged with `open` (still-open alerts, with their seq), in report order. */
  *inOrder(open: readonly { json: AlertJson; seq: number }[] = []): Generator<AlertJson> {
    const all: (Entry | { raisedAtMs: number; seq: number; json: AlertJson })[] = [...this.entries];
    for (const o of open) all.push({ raisedAtMs: Date.parse(o.json.raisedAt), seq: o.seq, json: o.json });
    all.sort((a, b) => a.raisedAtMs - b.raisedAtMs || a.seq - b.seq);
    for (const e of all) {
      if ('json' in e) yield e.json;
      else yield JSON.parse(e.text ?? this.read(e)) as AlertJson;
    }
  }

  /** Releases the temporary file. */
  dispose(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private read(e: Entry): string {
    const buf = Buffer.allocUnsafe(e.len);
    let done = 0;
    while (done < e.len) {
      const n = readSync(this.fd!, buf, done, e.len - done, e.pos + done);
      if (n === 0) throw new Error(`alert archive: temporary file ended at ${e.pos + done}`);
      done += n;
    }
    return buf.toString('utf8');
  }
}

/** Opens a temporary file and unlinks it at once: it disappears with the process, whatever happens. */
function openSpillFile(): number {
  const path = join(tmpdir(), `sipwarden-alerts-${process.pid}-${randomUUID()}`);
  const fd = openSync(path, 'wx+', 0o600);
  unlinkSync(path);
  return fd;
}
