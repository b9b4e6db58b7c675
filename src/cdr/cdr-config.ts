/**
 * Configuration of the CDR inputs (the lead wires it into src/config/config.ts under `cdr`):
 *
 * ```yaml
 * cdr:
 *   product: 3cx                # whose CDR format (only 3cx today)
 *   fields: [historyid, callid, duration, time-start, ...]   # or "historyid,callid,..." or a preset
 *   timeZone: Europe/Berlin     # the PBX's zone; default: the site's `timeZone`
 *   dateOrder: dmy              # NN/NN/YYYY dates: dmy (default) or mdy
 *   linePrefix: "Call "         # literal text before each record (3CX writes "Call ")
 *   files: [/var/lib/3cxpbx/Instance1/Data/Logs/CDRLogs/cdr.log]   # analyze reads, watch follows
 *   listen: tcp://0.0.0.0:5015  # active socket: 3CX connects to sipwarden
 *   allow: [192.0.2.10]         # who may connect (required unless listen is loopback)
 *   connect: tcp://192.0.2.10:5015   # passive socket: sipwarden connects to 3CX
 * ```
 *
 * Every key is optional; `fields` defaults to 3CX's documented order (THREECX_DEFAULT_FIELDS).
 * Field names are case-insensitive and `_` may stand for `-` (`time_start`), because people copy
 * them from database columns; anything else is refused with the key and the names expected.
 */
import { z } from 'zod';
import { CDR_MAX_CONNECTIONS, CDR_MAX_FIELDS } from '../config/limits.js';
import { isValidTimeZone } from '../logs/time.js';
import { parseListenAddress } from '../sources/live-source.js';
import { isIP } from 'node:net';
import {
  THREECX_CDR_FIELDS,
  THREECX_DEFAULT_FIELDS,
  THREECX_V20_SEEN_FIELDS,
  type CdrLayoutField,
  type ThreeCxCdrOptions,
} from './3cx.js';

/** Named layouts `fields` may give instead of a list. */
export const CDR_FIELD_PRESETS: Readonly<Record<string, readonly CdrLayoutField[]>> = {
  /** All 27 fields in the order of 3CX's CDR documentation (the default). */
  '3cx-documented': THREECX_DEFAULT_FIELDS,
  /** The 20-field order a v20 PBX was seen sending (see THREECX_V20_SEEN_FIELDS). */
  '3cx-v20-seen': THREECX_V20_SEEN_FIELDS,
};

const KNOWN = new Set<string>(THREECX_CDR_FIELDS);

/** `Time_Start` → `time-start`. */
function normalizeName(s: string): string {
  return s.trim().toLowerCase().replace(/_/g, '-');
}

const fieldName = z.string().transform((s, ctx): CdrLayoutField => {
  const n = normalizeName(s);
  if (n === '-' || KNOWN.has(n)) return n as CdrLayoutField;
  ctx.addIssue({
    code: 'custom',
    message: `unknown 3CX CDR field '${s.slice(0, 40)}' (expected one of ${THREECX_CDR_FIELDS.join(', ')}, or - for a column to ignore)`,
  });
  return z.NEVER;
});

const fieldsSchema = z
  .preprocess((v) => {
    if (typeof v !== 'string') return v;
    const preset = CDR_FIELD_PRESETS[v.trim()];
    return preset !== undefined ? [...preset] : v.split(/[\s,;]+/).filter((s) => s.length > 0);
  }, z.array(fieldName).min(1).max(CDR_MAX_FIELDS))
  .superRefine((fields, ctx) => {
    const seen = new Set<string>();
    for (const f of fields) {
      if (f !== '-' && seen.has(f)) ctx.addIssue({ code: 'custom', message: `field '${f}' is listed twice` });
      seen.add(f);
    }
    if (!seen.has('time-start'))
      ctx.addIssue({ code: 'custom', message: 'time-start is required (a call needs its time)' });
    if (!seen.has('dial-no') && !seen.has('to-no') && !seen.has('final-number'))
      ctx.addIssue({
        code: 'custom',
        message: 'one of dial-no, to-no or final-number is required (the number called)',
      });
  });

const tcpListen = z.string().refine(
  (s) => {
    const a = parseListenAddress(s);
    return !('error' in a) && a.transport === 'tcp';
  },
  { message: 'expected tcp://HOST:PORT with an IP address (IPv6 in [ ]); 3CX sends CDRs over TCP only' },
);

/** A `tcp://host:port` to connect to: host is an IP address (IPv6 in [ ]) or a DNS name. */
export interface ConnectAddress {
  readonly host: string;
  readonly port: number;
  readonly text: string;
}

/** Parses a connect address; returns an error message instead of throwing. */
export function parseConnectAddress(text: string): ConnectAddress | { readonly error: string } {
  const m = /^tcp:\/\/(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9](?:[A-Za-z0-9.-]{0,252})?)):(\d{1,5})$/.exec(text);
  if (m === null) return { error: `connect address '${text}': expected tcp://HOST:PORT (IPv6 in [ ])` };
  const host = m[1] ?? m[2] ?? '';
  const port = Number(m[3]);
  if (m[1] !== undefined && isIP(host) !== 6)
    return { error: `connect address '${text}': '${host}' is not an IPv6 address` };
  if (port < 1 || port > 65535) return { error: `connect address '${text}': port ${port} is out of range` };
  return { host, port, text };
}

const tcpConnect = z.string().refine((s) => !('error' in parseConnectAddress(s)), {
  message: 'expected tcp://HOST:PORT (HOST an IP address, IPv6 in [ ], or a DNS name)',
});

const cidr = z.string().refine(
  (s) => {
    const [addr = '', bits, extra] = s.split('/');
    const family = isIP(addr);
    if (family === 0 || extra !== undefined) return false;
    if (bits === undefined) return true;
    return /^\d{1,3}$/.test(bits) && Number(bits) <= (family === 6 ? 128 : 32);
  },
  { message: 'expected an IP address or CIDR (e.g. 192.0.2.10 or 10.0.0.0/8)' },
);

function isLoopback(listen: string): boolean {
  const a = parseListenAddress(listen);
  if ('error' in a) return false;
  return a.family === 4 ? a.host.startsWith('127.') : a.host === '::1';
}

/** The `cdr` section of the configuration; see the module comment for each key. */
export const CdrConfigSchema = z
  .object({
    /** Whose CDR format the lines are in. */
    product: z.literal('3cx').default('3cx'),
    /** Column order exactly as in 3CX's "CDR output fields": a list, a comma-separated string or a preset name. */
    fields: fieldsSchema.optional(),
    /** IANA zone of CDR times without an offset; default: the site's `timeZone`. */
    timeZone: z
      .string()
      .refine(isValidTimeZone, { message: 'expected an IANA time zone such as Europe/Berlin or UTC' })
      .optional(),
    /** How NN/NN/YYYY dates are read: day first (dmy) or month first (mdy, US locale). */
    dateOrder: z.enum(['dmy', 'mdy']).default('dmy'),
    /** Literal text 3CX writes before each record; removed when present ("" to keep everything). */
    linePrefix: z.string().max(32).default('Call '),
    /** CDR files: `analyze` reads them whole (gzip too); `watch` follows them as they grow. */
    files: z.array(z.string().min(1)).default([]),
    /** Active socket: the TCP address sipwarden listens on for 3CX to connect to. */
    listen: tcpListen.optional(),
    /** Addresses/CIDRs allowed to connect to `listen` (the 3CX server). */
    allow: z.array(cidr).default([]),
    /** Passive socket: the TCP address of 3CX's CDR server that sipwarden connects to. */
    connect: tcpConnect.optional(),
    /** Connections `listen` accepts at once. */
    maxConnections: z.number().int().min(1).max(1024).default(CDR_MAX_CONNECTIONS),
  })
  .strict()
  .superRefine((c, ctx) => {
    // Forged CDRs raise forged fraud alerts: an open port must name who may use it.
    if (c.listen !== undefined && c.allow.length === 0 && !isLoopback(c.listen))
      ctx.addIssue({
        code: 'custom',
        path: ['allow'],
        message:
          'required when listen is not a loopback address: list the 3CX server (anyone else could forge calls)',
      });
  });

/** The validated `cdr` section. */
export type CdrConfig = z.infer<typeof CdrConfigSchema>;

/**
 * Validates a raw `cdr` section; throws an Error naming the key (`cdr.fields.3: unknown 3CX CDR
 * field 'time_strat' ...`). `where` is the key's path as the user wrote it.
 */
export function validateCdrConfig(raw: unknown, where = 'cdr'): CdrConfig {
  const r = CdrConfigSchema.safeParse(raw ?? {});
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const path = issue === undefined || issue.path.length === 0 ? where : `${where}.${issue.path.join('.')}`;
  throw new Error(`${path}: ${issue?.message ?? 'invalid'}`);
}

/** The parser settings of a validated section; `siteTimeZone` is the configuration's `timeZone`. */
export function cdrParserOptions(c: CdrConfig, siteTimeZone: string): ThreeCxCdrOptions {
  return {
    fields: c.fields ?? THREECX_DEFAULT_FIELDS,
    timeZone: c.timeZone ?? siteTimeZone,
    dateOrder: c.dateOrder,
    linePrefix: c.linePrefix,
  };
}

/** A `--cdr PRODUCT:FILE` argument of `analyze`. */
export interface CdrFileSpec {
  readonly product: '3cx';
  readonly path: string;
}

/** Parses `3cx:/path/cdr.log`; returns an error message instead of throwing. */
export function parseCdrSpec(spec: string): CdrFileSpec | { readonly error: string } {
  const colon = spec.indexOf(':');
  const product = colon < 0 ? '' : spec.slice(0, colon).toLowerCase();
  const path = colon < 0 ? '' : spec.slice(colon + 1);
  if (product !== '3cx' || path.length === 0)
    return { error: `--cdr '${spec}': expected 3cx:FILE (the only CDR format read today is 3CX's)` };
  return { product: '3cx', path };
}
