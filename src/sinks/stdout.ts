/** The stdout sink: JSON lines, or one escaped text line per alert revision. */
import type { Writable } from 'node:stream';
import type { AlertJson } from '../core/alert.js';
import { alertLine } from './format.js';
import { redactAlert } from './redact.js';
import { alertFilter, type AlertFilter, type AlertSink } from './sink.js';

/** Options of the stdout sink. */
export interface StdoutSinkOptions extends AlertFilter {
  readonly name?: string;
  /** `json`: one AlertJson per line; `text`: `alertLine`. */
  readonly format?: 'json' | 'text';
  /** Show passwords in clear (the operator's own terminal). */
  readonly revealPasswords?: boolean;
  /** Where to write (defaults to process.stdout). */
  readonly stream?: Writable;
}

/** Writes each revision as one line; waits for the stream to drain so memory stays bounded. */
export class StdoutSink implements AlertSink {
  readonly name: string;
  readonly accepts: (a: AlertJson) => boolean;
  private readonly format: 'json' | 'text';
  private readonly reveal: boolean;
  private readonly stream: Writable;

  constructor(opts: StdoutSinkOptions = {}) {
    this.name = opts.name ?? 'stdout';
    this.format = opts.format ?? 'json';
    this.reveal = opts.revealPasswords === true;
    this.stream = opts.stream ?? process.stdout;
    this.accepts = alertFilter(opts);
  }

  async send(batch: readonly AlertJson[]): Promise<void> {
    let text = '';
    for (const a of batch) {
      const r = redactAlert(a, { revealPasswords: this.reveal });
      text += `${this.format === 'json' ? JSON.stringify(r) : alertLine(r)}\n`;
    }
    await write(this.stream, text);
  }

  async close(): Promise<void> {
    // stdout is not ours to end.
  }
}

/** Writes and resolves once the data is handed on (or the stream has drained). */
export function write(stream: Writable, text: string | Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const ok = stream.write(text, (err) => {
      if (err) reject(err);
      else if (ok) resolve();
    });
    if (!ok) stream.once('drain', () => resolve());
  });
}
