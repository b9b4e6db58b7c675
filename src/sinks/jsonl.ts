/**
 * The JSONL file sink: one redacted AlertJson per line, appended.
 *
 * fsync policy: with `fsync: 'batch'` (the default) every batch is written with one write call and
 * then fsynced before `send` resolves, so the cursor never passes a revision that a power cut could
 * still lose; alert revisions are rare, so the cost is one fsync per batch. With `'none'` the
 * operating system flushes when it likes (a crash may lose the last batches; the store still has
 * them, but the cursor has moved on).
 * Log rotation: rename the file, then call `reopen()` (on SIGHUP): the next batch goes to a new
 * file at the configured path.
 */
import { open, type FileHandle } from 'node:fs/promises';
import type { AlertJson } from '../core/alert.js';
import { redactAlert } from './redact.js';
import { alertFilter, type AlertFilter, type AlertSink, type OverflowPolicy } from './sink.js';

/** Options of the JSONL sink. */
export interface JsonlSinkOptions extends AlertFilter {
  readonly name?: string;
  readonly path: string;
  readonly fsync?: 'batch' | 'none';
  /** File mode when the file is created: alerts name users and addresses, so owner-only. */
  readonly mode?: number;
}

/** Appends JSON lines to a file; serialises writes and reopens on request. */
export class JsonlSink implements AlertSink {
  readonly name: string;
  readonly accepts: (a: AlertJson) => boolean;
  /** A SIEM reads this file: it should get every revision, so a full queue waits on the outbox. */
  readonly overflow: OverflowPolicy = 'wait';
  private readonly path: string;
  private readonly fsync: boolean;
  private readonly mode: number;
  private handle: FileHandle | undefined;
  /** Every file operation runs after the previous one (write, reopen and close never interleave). */
  private chain: Promise<void> = Promise.resolve();

  constructor(opts: JsonlSinkOptions) {
    this.name = opts.name ?? 'jsonl';
    this.path = opts.path;
    this.fsync = (opts.fsync ?? 'batch') === 'batch';
    this.mode = opts.mode ?? 0o600;
    this.accepts = alertFilter(opts);
  }

  send(batch: readonly AlertJson[]): Promise<void> {
    let text = '';
    for (const a of batch) text += `${JSON.stringify(redactAlert(a))}\n`;
    return this.serial(async () => {
      const h = await this.file();
      try {
        await h.appendFile(text, 'utf8');
        if (this.fsync) await h.sync();
      } catch (err) {
        // A broken handle (disk full, file system gone) is reopened by the next attempt.
        this.handle = undefined;
        await h.close().catch(() => undefined);
        throw err;
      }
    });
  }

  /** Closes the file; the next batch opens the configured path again (after logrotate's rename). */
  reopen(): Promise<void> {
    return this.serial(async () => {
      const h = this.handle;
      this.handle = undefined;
      if (h !== undefined) await h.close();
    });
  }

  close(): Promise<void> {
    return this.reopen();
  }

  private async file(): Promise<FileHandle> {
    this.handle ??= await open(this.path, 'a', this.mode);
    return this.handle;
  }

  private serial(op: () => Promise<void>): Promise<void> {
    const p = this.chain.then(op);
    this.chain = p.catch(() => undefined);
    return p;
  }
}
