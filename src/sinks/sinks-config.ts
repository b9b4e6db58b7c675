/** Configuration of the alert sinks (the `sinks:` section the lead wires in) and their factory. */
import { z } from 'zod';
import { SEVERITIES } from '../core/alert.js';
import { SINK_EMAIL_LINGER_MS, SINK_MAX_WEBHOOKS, SINK_WEBHOOK_TIMEOUT_MS } from '../config/limits.js';
import { EmailSink } from './email.js';
import { JsonlSink } from './jsonl.js';
import type { AlertSink } from './sink.js';
import { StdoutSink } from './stdout.js';
import { parseSyslogUrl, SYSLOG_FACILITIES, SyslogSink, type SyslogFacility } from './syslog.js';
import { WebhookSink } from './webhook.js';

const ruleId = z
  .string()
  .regex(/^[a-z0-9-]+(\.[a-z0-9-]+)*(\.\*?)?$/, 'expected a rule id or a prefix such as auth.*');

/** Every sink can keep only alerts at or above a severity and of listed rules (or `auth.*`). */
const filter = {
  minSeverity: z.enum(SEVERITIES).optional(),
  rules: z.array(ruleId).max(256).optional(),
};

const sinkName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/)
  .optional();

const facility = z.union([
  z.enum(Object.keys(SYSLOG_FACILITIES) as [SyslogFacility, ...SyslogFacility[]]),
  z.number().int().min(0).max(23),
]);

/** A header name and value safe to put on the wire (no CR/LF injection through configuration). */
const headers = z
  .record(z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/), z.string().regex(/^[^\r\n\0]*$/))
  .default({});

const timeoutMs = z.number().int().min(100).max(120_000);

/** Settings of every sink; each section is optional (no section: that sink is off). */
export const SinksConfigSchema = z
  .object({
    stdout: z
      .object({
        enabled: z.boolean().default(true),
        format: z.enum(['json', 'text']).default('text'),
        /** Show weak passwords in clear on this terminal. */
        revealPasswords: z.boolean().default(false),
        ...filter,
      })
      .strict()
      .optional(),
    jsonl: z
      .object({
        path: z.string().min(1),
        /** `batch`: fsync after every batch (default); `none`: leave it to the OS. */
        fsync: z.enum(['batch', 'none']).default('batch'),
        ...filter,
      })
      .strict()
      .optional(),
    syslog: z
      .object({
        url: z
          .string()
          .refine((u) => parseSyslogUrl(u) !== undefined, 'expected udp://host:port or tcp://host:port'),
        format: z.enum(['rfc5424', 'cef']).default('rfc5424'),
        facility: facility.default('local0'),
        /** HOSTNAME field; defaults to the machine's name. */
        hostname: z.string().min(1).max(255).optional(),
        timeoutMs: timeoutMs.default(SINK_WEBHOOK_TIMEOUT_MS),
        ...filter,
      })
      .strict()
      .optional(),
    webhooks: z
      .array(
        z
          .object({
            name: sinkName,
            url: z.url({ protocol: /^https?$/ }),
            format: z.enum(['generic', 'slack', 'teams']).default('generic'),
            headers,
            timeoutMs: timeoutMs.default(SINK_WEBHOOK_TIMEOUT_MS),
            ...filter,
          })
          .strict(),
      )
      .max(SINK_MAX_WEBHOOKS)
      .default([]),
    email: z
      .object({
        smtp: z
          .object({
            host: z.string().min(1),
            port: z.number().int().min(1).max(65535).default(587),
            secure: z.boolean().default(false),
            requireTLS: z.boolean().default(true),
            user: z.string().optional(),
            pass: z.string().optional(),
            rejectUnauthorized: z.boolean().default(true),
            timeoutMs: timeoutMs.default(SINK_WEBHOOK_TIMEOUT_MS),
          })
          .strict(),
        from: z.string().min(3),
        to: z.array(z.string().min(3)).min(1).max(64),
        /** Seconds one mail waits to gather more alerts. */
        lingerSeconds: z
          .number()
          .min(0)
          .max(3600)
          .default(SINK_EMAIL_LINGER_MS / 1000),
        ...filter,
      })
      .strict()
      .optional(),
  })
  .strict();

/** A validated sinks configuration. */
export type SinksConfig = z.infer<typeof SinksConfigSchema>;

/** What `createSinks` needs besides the configuration. */
export interface CreateSinksOptions {
  /** sipwarden's version, for CEF headers. */
  readonly version?: string;
  /** Wall clock (syslog timestamps, Retry-After dates). */
  readonly now?: () => number;
}

/** Copies only the filter fields that are set (exactOptionalPropertyTypes). */
function filterOf(c: {
  minSeverity?: (typeof SEVERITIES)[number] | undefined;
  rules?: string[] | undefined;
}): {
  minSeverity?: (typeof SEVERITIES)[number];
  rules?: string[];
} {
  return {
    ...(c.minSeverity === undefined ? {} : { minSeverity: c.minSeverity }),
    ...(c.rules === undefined ? {} : { rules: c.rules }),
  };
}

/** The sinks a configuration declares, in a fixed order (stdout, jsonl, syslog, webhooks, email). */
export function createSinks(config: SinksConfig, opts: CreateSinksOptions = {}): AlertSink[] {
  const sinks: AlertSink[] = [];
  const now = opts.now ?? Date.now;
  const c = config;
  if (c.stdout !== undefined && c.stdout.enabled) {
    sinks.push(
      new StdoutSink({
        format: c.stdout.format,
        revealPasswords: c.stdout.revealPasswords,
        ...filterOf(c.stdout),
      }),
    );
  }
  if (c.jsonl !== undefined)
    sinks.push(new JsonlSink({ path: c.jsonl.path, fsync: c.jsonl.fsync, ...filterOf(c.jsonl) }));
  if (c.syslog !== undefined) {
    sinks.push(
      new SyslogSink({
        url: c.syslog.url,
        format: c.syslog.format,
        facility: c.syslog.facility,
        timeoutMs: c.syslog.timeoutMs,
        version: opts.version ?? '0',
        now,
        ...(c.syslog.hostname === undefined ? {} : { hostname: c.syslog.hostname }),
        ...filterOf(c.syslog),
      }),
    );
  }
  const names = new Set<string>();
  c.webhooks.forEach((w, i) => {
    // Two webhooks to one host need distinct cursors: number them when no name is given.
    let name = w.name ?? `webhook:${new URL(w.url).host}`;
    if (names.has(name)) name = `${name}#${i + 1}`;
    names.add(name);
    sinks.push(
      new WebhookSink({
        name,
        url: w.url,
        format: w.format,
        headers: w.headers,
        timeoutMs: w.timeoutMs,
        now,
        ...filterOf(w),
      }),
    );
  });
  if (c.email !== undefined) {
    const s = c.email.smtp;
    sinks.push(
      new EmailSink({
        smtp: {
          host: s.host,
          port: s.port,
          secure: s.secure,
          requireTLS: s.requireTLS,
          rejectUnauthorized: s.rejectUnauthorized,
          timeoutMs: s.timeoutMs,
          ...(s.user === undefined ? {} : { user: s.user }),
          ...(s.pass === undefined ? {} : { pass: s.pass }),
        },
        from: c.email.from,
        to: c.email.to,
        lingerMs: c.email.lingerSeconds * 1000,
        ...filterOf(c.email),
      }),
    );
  }
  return sinks;
}
