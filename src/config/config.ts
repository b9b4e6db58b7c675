/**
 * The configuration file: one YAML document validated against a schema. Errors name the file, the
 * field path and what was expected; unknown keys are errors (a typo must not silently disable a
 * setting).
 */
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { SEVERITIES } from '../core/alert.js';
import { GeoConfigSchema } from '../enrich/geo.js';
import { DialPlanSchema } from '../enrich/numbers.js';
import { BusinessHoursSchema } from '../detect/rules/fraud-off-hours.js';
import { isValidTimeZone } from '../logs/time.js';
import { CdrConfigSchema } from '../cdr/cdr-config.js';
import { BlockingConfigSchema } from '../sinks/block/config.js';
import { SinksConfigSchema } from '../sinks/sinks-config.js';
import { LiveSourcesConfigSchema } from '../sources/live-config.js';
import { StoreConfigSchema } from '../store/store-config.js';

const cidr = z.string().refine(
  (s) => {
    const [addr = '', bits, extra] = s.split('/');
    const family = isIP(addr);
    if (family === 0 || extra !== undefined) return false;
    if (bits === undefined) return true;
    const n = Number(bits);
    return Number.isInteger(n) && n >= 0 && n <= (family === 6 ? 128 : 32);
  },
  { message: 'expected an IP address or CIDR (e.g. 203.0.113.7 or 10.0.0.0/8)' },
);

const port = z.number().int().min(1).max(65535);

const ruleSettings = z
  .object({
    enabled: z.boolean().optional(),
    severity: z.enum(SEVERITIES).optional(),
    thresholds: z.record(z.string(), z.number().nonnegative()).optional(),
  })
  .strict();

/** The configuration schema (documented in README "Configuration"). */
export const ConfigSchema = z
  .object({
    site: z.string().min(1).max(64).default('default'),
    sensor: z.string().min(1).max(64).default('local'),
    network: z
      .object({
        pbx: z.array(cidr).default([]),
        trunks: z.array(cidr).default([]),
        trusted: z.array(cidr).default([]),
        /** SBC, 3CX tunnel and NAT addresses many of the site's phones reach the PBX through. */
        sbc: z.array(cidr).default([]),
      })
      .strict()
      .default({ pbx: [], trunks: [], trusted: [], sbc: [] }),
    /** Digest user name (3CX Auth ID) → extension. */
    identities: z.record(z.string(), z.string()).default({}),
    rules: z.record(z.string(), ruleSettings).default({}),
    decode: z
      .object({
        sipPorts: z.array(port).optional(),
        hepPorts: z.array(port).optional(),
      })
      .strict()
      .default({}),
    hep: z.object({ authKey: z.string().optional() }).strict().default({}),
    /** The site's IANA time zone: PBX log and RFC 3164 syslog times without an offset are read in it. */
    timeZone: z
      .string()
      .refine(isValidTimeZone, { message: 'expected an IANA time zone such as Europe/Berlin or UTC' })
      .default('UTC'),
    /** Dialled numbers: the site's dial plan, the countries calls may go to, the high-risk list. */
    numbers: z
      .object({
        dialPlan: DialPlanSchema.optional(),
        allowedCountries: z
          .array(z.string().regex(/^[A-Z]{2}$/, 'expected an ISO 3166 alpha-2 code'))
          .optional(),
        /** A newer high-risk (IRSF) list in the format of data/irsf/high-risk-ranges.json. */
        riskList: z.string().min(1).optional(),
        /** The site's own numbers (DIDs), as the provider delivers them (+E.164 or national). */
        dids: z
          .array(z.string().regex(/^\+?[0-9]{3,20}$/, 'expected a number: digits, optionally after +'))
          .default([]),
      })
      .strict()
      .prefault({}),
    /** Business hours and their time zone (fraud.off-hours; absent: that rule stays silent). */
    businessHours: BusinessHoursSchema.optional(),
    /** Country and ASN of sources (geo.* rules). Absent: the geo rules stay off (loading the bundled
     * databases costs about 2.5 s and 240 MB); `geo: {}` turns them on with the bundled databases. */
    geo: GeoConfigSchema.optional(),
    /** `watch`: what it listens to (HEP, syslog, log files, interfaces) and how sources are watched. */
    sources: LiveSourcesConfigSchema.prefault({}),
    /** 3CX call detail records: field order, files, active/passive socket (docs/cdr.md). */
    cdr: CdrConfigSchema.prefault({}),
    /** `watch`: the SQLite store every alert revision is committed to before any sink. */
    store: StoreConfigSchema.prefault({}),
    /** `watch`: where alerts go once stored (stdout, JSONL, syslog/CEF, webhooks, email). */
    sinks: SinksConfigSchema.prefault({}),
    /** `watch`: block lists fed by chosen rules (off by default, dry run first). */
    blocking: BlockingConfigSchema.prefault({}),
    /** `watch`: the HTTP API and /metrics; `listen: ""` turns it off. */
    http: z
      .object({
        listen: z.string().default('127.0.0.1:8080'),
        /** Bearer token required for writes (acknowledge, suppress). */
        token: z.string().min(16).optional(),
      })
      .strict()
      .prefault({}),
  })
  .strict();

/** A validated configuration. */
export type Config = z.infer<typeof ConfigSchema>;

/** The configuration used when no file is given. */
export function defaultConfig(): Config {
  return ConfigSchema.parse({});
}

/** A configuration that could not be used: the message names the file and the field. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Parses and validates configuration text; `source` names it in errors. */
export function parseConfig(text: string, source: string, knownRules?: ReadonlySet<string>): Config {
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    const where = e?.linePos?.[0]
      ? `line ${e.linePos[0].line}, column ${e.linePos[0].col}`
      : 'unknown position';
    throw new ConfigError(
      `${source}: ${where}: ${e?.code ?? 'YAML error'}: ${(e?.message ?? '').split('\n')[0]}`,
    );
  }
  const raw: unknown = doc.toJS() ?? {};
  const r = ConfigSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    const path = issue === undefined || issue.path.length === 0 ? '(top level)' : issue.path.join('.');
    throw new ConfigError(`${source}: ${path}: ${issue?.message ?? 'invalid'}`);
  }
  if (knownRules !== undefined) {
    for (const id of Object.keys(r.data.rules)) {
      if (!knownRules.has(id))
        throw new ConfigError(`${source}: rules.${id}: no such rule (see 'sipwarden rules')`);
    }
  }
  return r.data;
}

/** Reads and validates a configuration file. */
export async function loadConfig(path: string, knownRules?: ReadonlySet<string>): Promise<Config> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`${path}: cannot read: ${err instanceof Error ? err.message : String(err)}`, {
      cause: err,
    });
  }
  return parseConfig(text, path, knownRules);
}
