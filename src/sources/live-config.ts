/**
 * Configuration schema of the live sources of `sipwarden watch` (the lead wires it into
 * src/config/config.ts under `sources`). Defaults come from src/config/limits.ts.
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import { parseListenAddress } from './live-source.js';

const listen = z.string().refine((s) => !('error' in parseListenAddress(s)), {
  message: 'expected udp://HOST:PORT or tcp://HOST:PORT with an IP address (IPv6 in [ ])',
});

const cidr = z.string().refine(
  (s) => {
    const [addr = '', bits, extra] = s.split('/');
    const family = isIP(addr);
    if (family === 0 || extra !== undefined) return false;
    if (bits === undefined) return true;
    const n = Number(bits);
    return /^\d+$/.test(bits) && n <= (family === 6 ? 128 : 32);
  },
  { message: 'expected an IP address or CIDR (e.g. 203.0.113.7 or 10.0.0.0/8)' },
);

const port = z.number().int().min(1).max(65535);
const positiveMs = z.number().int().positive();

/** HEP listener settings. */
export const HepSourceConfigSchema = z
  .object({
    listen: z.array(listen).min(1),
    authKey: z.string().min(1).optional(),
    allow: z.array(cidr).default([]),
    recvBufferBytes: z.number().int().positive().optional(),
    /** Longest a frame may wait for the pipeline before it is shed (ms; 0: no bound). */
    maxQueueDelayMs: z.number().int().nonnegative().max(3_600_000).optional(),
  })
  .strict();

/** Syslog receiver settings. */
export const SyslogSourceConfigSchema = z
  .object({
    listen: z.array(listen).min(1),
    allow: z.array(cidr).default([]),
    /** Product whose lines arrive here (the lead picks the parser). */
    kind: z.enum(['3cx', 'asterisk', 'freeswitch', 'kamailio']).optional(),
  })
  .strict();

/** One tailed log file. */
export const LogSourceConfigSchema = z
  .object({
    kind: z.enum(['3cx', 'asterisk', 'freeswitch', 'kamailio']),
    path: z.string().min(1),
    fromStart: z.boolean().default(false),
    pollIntervalMs: positiveMs.optional(),
  })
  .strict();

/** One captured interface. */
export const InterfaceSourceConfigSchema = z
  .object({
    name: z
      .string()
      .regex(/^[A-Za-z0-9_.:@][A-Za-z0-9_.:@-]{0,63}$/, 'expected an interface name such as eth0'),
    /** A complete BPF filter; default: built from the SIP and HEP ports (fragments kept). */
    filter: z.string().min(1).optional(),
    tool: z.enum(['auto', 'dumpcap', 'tcpdump']).default('auto'),
    sipPorts: z.array(port).max(64).optional(),
    hepPorts: z.array(port).max(64).optional(),
  })
  .strict();

/** Health monitor settings: quiet periods per source kind (per source: `quietMs` by name). */
export const HealthConfigSchema = z
  .object({
    checkIntervalMs: positiveMs.default(30_000),
    quietMs: z
      .object({
        log: z.number().int().nonnegative().optional(),
        syslog: z.number().int().nonnegative().optional(),
        hep: z.number().int().nonnegative().optional(),
        capture: z.number().int().nonnegative().optional(),
        /** CDR sources (default CDR_DEFAULT_QUIET_MS: a night without calls is normal). */
        cdr: z.number().int().nonnegative().optional(),
      })
      .strict()
      .default({}),
    /** Per-source overrides, keyed by source name. 0 disables the silence check. */
    sources: z.record(z.string(), z.object({ quietMs: z.number().int().nonnegative() }).strict()).default({}),
  })
  .strict();

/** Everything `watch` listens to. */
export const LiveSourcesConfigSchema = z
  .object({
    hep: HepSourceConfigSchema.optional(),
    syslog: SyslogSourceConfigSchema.optional(),
    logs: z.array(LogSourceConfigSchema).default([]),
    interfaces: z.array(InterfaceSourceConfigSchema).default([]),
    health: HealthConfigSchema.default({ checkIntervalMs: 30_000, quietMs: {}, sources: {} }),
  })
  .strict();

/** Validated live-source settings. */
export type LiveSourcesConfig = z.infer<typeof LiveSourcesConfigSchema>;
