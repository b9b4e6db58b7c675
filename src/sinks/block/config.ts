/**
 * Configuration of blocking (the `blocking:` section). Off by default; once enabled it runs as a
 * dry run (decisions logged and previewed in `*.dryrun` files) until the admin sets `dryRun: false`.
 */
import { z } from 'zod';
import { SEVERITIES } from '../../core/alert.js';
import { BLOCK_COMMAND_TIMEOUT_MS, BLOCK_MAX_DURATION_CEILING_MS } from '../../config/limits.js';

/** Rules whose alerts block by default: attacks a source cannot make by accident, from one address. */
export const DEFAULT_BLOCK_RULES: readonly string[] = [
  'auth.bruteforce',
  'auth.credential-stuffing',
  'recon.extension-enumeration',
  'scan.tool-fingerprint',
  'dos.flood',
  'auth.success-after-failures',
];

/** First block: 24 hours. */
export const DEFAULT_BLOCK_DURATION_MS = 24 * 3600_000;
/** Repeat offenders are blocked twice as long each time, up to 7 days. */
export const DEFAULT_BLOCK_MAX_DURATION_MS = 7 * 24 * 3600_000;

const path = z.string().min(1).max(4096);

/** The `blocking:` configuration section. */
export const BlockingConfigSchema = z
  .object({
    enabled: z.boolean().default(false),
    dryRun: z.boolean().default(true),
    rules: z
      .array(z.string().min(1).max(128))
      .max(256)
      .default([...DEFAULT_BLOCK_RULES]),
    /** scan.tool-fingerprint is medium by default and in the default rules: medium lets it block. */
    minSeverity: z.enum(SEVERITIES).default('medium'),
    durationMs: z
      .number()
      .int()
      .min(1000)
      .max(BLOCK_MAX_DURATION_CEILING_MS)
      .default(DEFAULT_BLOCK_DURATION_MS),
    maxDurationMs: z
      .number()
      .int()
      .min(1000)
      .max(BLOCK_MAX_DURATION_CEILING_MS)
      .default(DEFAULT_BLOCK_MAX_DURATION_MS),
    /** 128 blocks single IPv6 addresses; 64 blocks the source's /64 (one subscriber's LAN). */
    ipv6Prefix: z.number().int().min(48).max(128).default(128),
    outputs: z
      .object({
        nftables: path.optional(),
        ipset: path.optional(),
        fail2ban: path.optional(),
        plain: path.optional(),
      })
      .strict()
      .default({}),
    /** JSON state (the list and repeat-offender history), read at start and by `sipwarden block`. */
    stateFile: path.optional(),
    /** Run after each write, with the chosen output's path appended; never through a shell. */
    command: z
      .object({
        argv: z.array(z.string().min(1)).min(1).max(32),
        output: z.enum(['nftables', 'ipset']).default('nftables'),
        timeoutMs: z.number().int().min(100).max(600_000).default(BLOCK_COMMAND_TIMEOUT_MS),
      })
      .strict()
      .optional(),
  })
  .strict()
  .refine((c) => c.maxDurationMs >= c.durationMs, {
    message: 'maxDurationMs must be at least durationMs',
    path: ['maxDurationMs'],
  });

/** A validated `blocking:` section. */
export type BlockingConfig = z.infer<typeof BlockingConfigSchema>;
