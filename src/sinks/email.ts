/**
 * The email sink: one plain-text mail per batch over SMTP (nodemailer). The subject gives the
 * counts and the top severity; the body lists each revision with its evidence (redacted) and the
 * fix. Batches linger (SINK_EMAIL_LINGER_MS by default) so an attack in progress makes one mail,
 * not one per revision.
 */
import { createTransport, type Transporter } from 'nodemailer';
import type { AlertJson } from '../core/alert.js';
import { escapeText } from '../core/escape.js';
import { SINK_EMAIL_LINGER_MS, SINK_WEBHOOK_TIMEOUT_MS } from '../config/limits.js';
import { alertLine, severityCounts, topSeverity } from './format.js';
import { redactAlert } from './redact.js';
import { alertFilter, SinkError, type AlertFilter, type AlertSink } from './sink.js';

/** SMTP server settings. */
export interface SmtpSettings {
  readonly host: string;
  readonly port: number;
  /** TLS from the first byte (port 465); otherwise STARTTLS when the server offers it. */
  readonly secure?: boolean;
  /** Refuse to send without STARTTLS. */
  readonly requireTLS?: boolean;
  readonly user?: string;
  readonly pass?: string;
  /** Verify the server's certificate (on by default). */
  readonly rejectUnauthorized?: boolean;
  readonly timeoutMs?: number;
}

/** Options of the email sink. */
export interface EmailSinkOptions extends AlertFilter {
  readonly name?: string;
  readonly smtp: SmtpSettings;
  readonly from: string;
  readonly to: readonly string[];
  readonly lingerMs?: number;
  readonly batchMax?: number;
}

/** Evidence characters shown per alert in a mail (the store has the rest). */
const EVIDENCE_MAX_CHARS = 2000;

/** The subject of a batch: `[sipwarden] HIGH: 3 alerts (1 high, 2 medium): <first title>`. */
export function emailSubject(batch: readonly AlertJson[]): string {
  const n = batch.length;
  const first = batch[0];
  const head = `[sipwarden] ${topSeverity(batch).toUpperCase()}: ${n} alert${n === 1 ? '' : 's'} (${severityCounts(batch)})`;
  return first === undefined ? head : `${head}: ${escapeText(first.title, 120)}`;
}

/** The plain-text body of a batch (alerts already redacted). */
export function emailBody(batch: readonly AlertJson[]): string {
  const out: string[] = [`${batch.length} alert revision(s) from sipwarden.`, ''];
  for (const a of batch) {
    out.push(alertLine(a));
    out.push(
      `  first seen ${escapeText(a.firstSeen, 40)}, raised ${escapeText(a.raisedAt, 40)}, last seen ${escapeText(a.lastSeen, 40)}`,
    );
    const ev = JSON.stringify(a.evidence);
    out.push(`  evidence: ${ev.length > EVIDENCE_MAX_CHARS ? `${ev.slice(0, EVIDENCE_MAX_CHARS)}…` : ev}`);
    if (a.remediation !== '') out.push(`  fix: ${escapeText(a.remediation, 2000)}`);
    out.push('');
  }
  return out.join('\n');
}

/** Mails batches of alerts. */
export class EmailSink implements AlertSink {
  readonly name: string;
  readonly accepts: (a: AlertJson) => boolean;
  readonly lingerMs: number;
  readonly batchMax: number;
  private readonly from: string;
  private readonly to: string[];
  private readonly transport: Transporter;

  constructor(opts: EmailSinkOptions) {
    if (opts.to.length === 0) throw new Error('email sink needs at least one recipient');
    this.name = opts.name ?? 'email';
    this.lingerMs = opts.lingerMs ?? SINK_EMAIL_LINGER_MS;
    this.batchMax = opts.batchMax ?? 100;
    this.from = opts.from;
    this.to = [...opts.to];
    this.accepts = alertFilter(opts);
    const s = opts.smtp;
    const timeout = s.timeoutMs ?? SINK_WEBHOOK_TIMEOUT_MS;
    this.transport = createTransport({
      host: s.host,
      port: s.port,
      secure: s.secure ?? false,
      requireTLS: s.requireTLS ?? false,
      ...(s.user === undefined ? {} : { auth: { user: s.user, pass: s.pass ?? '' } }),
      tls: { rejectUnauthorized: s.rejectUnauthorized ?? true },
      connectionTimeout: timeout,
      greetingTimeout: timeout,
      socketTimeout: timeout,
    });
  }

  async send(batch: readonly AlertJson[]): Promise<void> {
    if (batch.length === 0) return;
    const clean = batch.map((a) => redactAlert(a));
    try {
      await this.transport.sendMail({
        from: this.from,
        to: this.to,
        subject: emailSubject(clean),
        text: emailBody(clean),
      });
    } catch (err) {
      // 5xx SMTP replies (bad recipient, authentication refused) do not improve with retries.
      const code = (err as { responseCode?: number }).responseCode;
      const permanent = typeof code === 'number' && code >= 500 && code < 600;
      throw new SinkError(`email ${this.name}: ${(err as Error).message}`, !permanent);
    }
  }

  async close(): Promise<void> {
    this.transport.close();
  }
}
