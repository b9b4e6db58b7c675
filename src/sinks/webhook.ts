/**
 * The webhook sink: HTTP(S) POST of alert revisions as the generic AlertJson (one revision per
 * request), a Slack message (text and blocks) or a Microsoft Teams message (an Adaptive Card, the
 * payload Teams Workflows webhooks take). 2xx is success; 429 and 5xx are retried (Retry-After
 * honoured); other answers, redirects included (never followed: the URL is the trust boundary),
 * are rejections the runner drops and counts.
 */
import type { AlertJson } from '../core/alert.js';
import { escapeText } from '../core/escape.js';
import { SINK_CHAT_MAX_ALERTS_PER_MESSAGE, SINK_WEBHOOK_TIMEOUT_MS } from '../config/limits.js';
import { endpointText, severityCounts, topSeverity } from './format.js';
import { redactAlert } from './redact.js';
import { alertFilter, SinkError, type AlertFilter, type AlertSink } from './sink.js';

/** Body formats of the webhook sink. */
export type WebhookFormat = 'generic' | 'slack' | 'teams';

/** Options of the webhook sink. */
export interface WebhookSinkOptions extends AlertFilter {
  readonly name?: string;
  readonly url: string;
  readonly format?: WebhookFormat;
  /** Extra request headers (an Authorization token for the receiver, for instance). */
  readonly headers?: Readonly<Record<string, string>>;
  readonly timeoutMs?: number;
  /** Wall clock, for Retry-After given as an HTTP date. */
  readonly now?: () => number;
}

/**
 * Milliseconds a Retry-After value asks for (delta seconds or an HTTP date); undefined when it is
 * absent or unreadable.
 */
export function parseRetryAfter(v: string | null | undefined, now: number): number | undefined {
  if (v === null || v === undefined) return undefined;
  const t = v.trim();
  if (/^[0-9]{1,10}$/.test(t)) return Number(t) * 1000;
  // An HTTP date names its day and month; anything else (`-5`) is unreadable, not a year.
  const d = /^[A-Za-z]{3}, /.test(t) ? Date.parse(t) : NaN;
  if (!Number.isFinite(d)) return undefined;
  return Math.max(0, d - now);
}

/** Slack mrkdwn control characters (`<!channel>`, `<url|text>` links) made inert. */
function slackText(s: string, max = 200): string {
  return escapeText(s, max).replace(/[&<>]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : '&gt;'));
}

/** Markdown characters that Teams would render (links, emphasis) escaped. */
function teamsText(s: string, max = 200): string {
  return escapeText(s, max).replace(/[\\`*_[\]()#<>~|]/g, (c) => `\\${c}`);
}

function headline(batch: readonly AlertJson[]): string {
  const n = batch.length;
  return `sipwarden: ${n} alert${n === 1 ? '' : 's'} (${severityCounts(batch)})`;
}

function whereText(a: AlertJson): string {
  const src = endpointText(a.source?.ip, a.source?.port);
  const dst = endpointText(a.target?.ip, a.target?.port);
  return `${src === '' ? '' : `from ${src} `}${dst === '' ? '' : `to ${dst} `}count ${a.count}, site ${a.site}`;
}

/** The Slack body for a batch (already redacted). */
export function slackBody(batch: readonly AlertJson[]): unknown {
  const shown = batch.slice(0, SINK_CHAT_MAX_ALERTS_PER_MESSAGE);
  const blocks: unknown[] = [
    { type: 'header', text: { type: 'plain_text', text: slackText(headline(batch), 150) } },
  ];
  for (const a of shown) {
    blocks.push({
      type: 'section',
      text: {
        type: 'mrkdwn',
        text:
          `*${a.severity.toUpperCase()}* \`${slackText(a.rule, 64)}\` ${slackText(a.title)}\n` +
          `${slackText(whereText(a), 300)} (id ${slackText(a.id, 40)} rev ${a.revision}, ${a.state})`,
      },
    });
  }
  if (batch.length > shown.length) {
    blocks.push({
      type: 'context',
      elements: [{ type: 'mrkdwn', text: `and ${batch.length - shown.length} more` }],
    });
  }
  const first = batch[0];
  const text = `${headline(batch)}${first === undefined ? '' : `: ${first.title}`}`;
  return { text: slackText(text, 300), blocks };
}

/** The Teams body for a batch (already redacted): a message with one Adaptive Card. */
export function teamsBody(batch: readonly AlertJson[]): unknown {
  const shown = batch.slice(0, SINK_CHAT_MAX_ALERTS_PER_MESSAGE);
  const top = topSeverity(batch);
  const body: unknown[] = [
    {
      type: 'TextBlock',
      size: 'Large',
      weight: 'Bolder',
      wrap: true,
      color: top === 'critical' || top === 'high' ? 'Attention' : top === 'medium' ? 'Warning' : 'Default',
      text: teamsText(headline(batch), 150),
    },
  ];
  for (const a of shown) {
    body.push({
      type: 'TextBlock',
      wrap: true,
      weight: 'Bolder',
      separator: true,
      text: `${a.severity.toUpperCase()} ${teamsText(a.rule, 64)}: ${teamsText(a.title)}`,
    });
    body.push({
      type: 'FactSet',
      facts: [
        { title: 'Where', value: teamsText(whereText(a), 300) },
        { title: 'Seen', value: teamsText(`${a.firstSeen} to ${a.lastSeen}`, 100) },
        { title: 'Alert', value: teamsText(`${a.id} rev ${a.revision} (${a.state})`, 100) },
      ],
    });
  }
  if (batch.length > shown.length) {
    body.push({ type: 'TextBlock', wrap: true, text: `and ${batch.length - shown.length} more` });
  }
  return {
    type: 'message',
    attachments: [
      {
        contentType: 'application/vnd.microsoft.card.adaptive',
        contentUrl: null,
        content: {
          $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
          type: 'AdaptiveCard',
          version: '1.4',
          body,
        },
      },
    ],
  };
}

/** POSTs alerts to one URL. */
export class WebhookSink implements AlertSink {
  readonly name: string;
  readonly accepts: (a: AlertJson) => boolean;
  /** Generic: one AlertJson per request; chat: one message per batch. */
  readonly batchMax: number;
  /** Counters for tests and logs. */
  readonly stats = { requests: 0, rejected: 0, lastStatus: 0 };
  private readonly url: string;
  private readonly format: WebhookFormat;
  private readonly headers: Record<string, string>;
  private readonly timeoutMs: number;
  private readonly now: () => number;

  constructor(opts: WebhookSinkOptions) {
    const u = new URL(opts.url);
    if (u.protocol !== 'http:' && u.protocol !== 'https:')
      throw new Error(`webhook url must be http(s): ${opts.url}`);
    this.url = u.href;
    this.name = opts.name ?? `webhook:${u.host}`;
    this.format = opts.format ?? 'generic';
    this.batchMax = this.format === 'generic' ? 1 : SINK_CHAT_MAX_ALERTS_PER_MESSAGE * 2;
    this.headers = { ...opts.headers, 'content-type': 'application/json' };
    this.timeoutMs = opts.timeoutMs ?? SINK_WEBHOOK_TIMEOUT_MS;
    this.now = opts.now ?? Date.now;
    this.accepts = alertFilter(opts);
  }

  async send(batch: readonly AlertJson[]): Promise<void> {
    const clean = batch.map((a) => redactAlert(a));
    if (this.format === 'generic') {
      for (const a of clean) await this.post(JSON.stringify(a));
    } else if (clean.length > 0) {
      await this.post(JSON.stringify(this.format === 'slack' ? slackBody(clean) : teamsBody(clean)));
    }
  }

  async close(): Promise<void> {
    // fetch keeps no state of ours.
  }

  private async post(body: string): Promise<void> {
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), this.timeoutMs);
    this.stats.requests++;
    let res: Response;
    try {
      res = await fetch(this.url, {
        method: 'POST',
        headers: this.headers,
        body,
        redirect: 'manual',
        signal: ac.signal,
      });
    } catch (err) {
      clearTimeout(timer);
      const why = ac.signal.aborted ? `timed out after ${this.timeoutMs} ms` : (err as Error).message;
      throw new SinkError(`webhook ${this.name}: ${why}`, true);
    }
    clearTimeout(timer);
    this.stats.lastStatus = res.status;
    // The answer's body is not needed; cancelling frees the connection.
    await res.body?.cancel().catch(() => undefined);
    if (res.status >= 200 && res.status < 300) return;
    if (res.status === 429 || res.status >= 500) {
      throw new SinkError(
        `webhook ${this.name}: HTTP ${res.status}`,
        true,
        parseRetryAfter(res.headers.get('retry-after'), this.now()),
      );
    }
    this.stats.rejected++;
    throw new SinkError(`webhook ${this.name}: HTTP ${res.status}`, false);
  }
}
