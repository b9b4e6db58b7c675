/** Configuration of the alert store (the `store:` section the lead wires into the config file). */
import { z } from 'zod';
import { STORE_JOURNAL_MAX_AGE_MS, STORE_JOURNAL_MAX_BYTES } from '../config/limits.js';

/** Where the store lives, how long it keeps things, and how hard it syncs. */
export const StoreConfigSchema = z
  .object({
    /** The SQLite file (WAL mode: `-wal` and `-shm` files appear beside it). */
    path: z.string().min(1).default('./sipwarden.db'),
    /** Alert revisions, closed alerts, per-minute counters and expired suppressions older than this are pruned. */
    retentionDays: z.number().positive().max(3650).default(30),
    /**
     * `normal`: a committed alert survives the process being killed (kill -9, OOM, crash) but the
     * last commits may be lost on power failure or kernel panic; `full`: fsync on every commit,
     * survives power loss too, at one fsync per write (see alert-store.ts).
     */
    synchronous: z.enum(['normal', 'full']).default('normal'),
    /** Bytes of recent events the journal keeps for replay after a restart. */
    journalMaxBytes: z
      .number()
      .int()
      .positive()
      .max(4 * 1024 * 1024 * 1024)
      .default(STORE_JOURNAL_MAX_BYTES),
    /** Minutes of recent events the journal keeps. */
    journalMaxAgeMinutes: z
      .number()
      .positive()
      .max(24 * 60)
      .default(STORE_JOURNAL_MAX_AGE_MS / 60_000),
  })
  .strict();

/** A validated store configuration. */
export type StoreConfig = z.infer<typeof StoreConfigSchema>;
