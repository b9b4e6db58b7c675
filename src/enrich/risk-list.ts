/**
 * The high-risk (IRSF) destination list: E.164 prefixes with why they are risky and a source for
 * each. The bundled list is data/irsf/high-risk-ranges.json; a user may point at an updated copy.
 */
import { z } from 'zod';
import { ENRICH_RISK_LIST_MAX_ENTRIES } from '../config/limits.js';
import { bundledDataPath, EnrichDataError, readJsonFile } from './data-files.js';

/** What kind of range an entry is. */
export const RISK_CATEGORIES = [
  'satellite',
  'international-network',
  'premium-rate',
  'irsf-destination',
] as const;

/** One list entry (a prefix of E.164 digits, country code first, no `+`). */
export const RiskEntrySchema = z
  .object({
    prefix: z.string().regex(/^[1-9]\d{0,14}$/, 'expected 1 to 15 digits, country code first, no +'),
    country: z
      .string()
      .regex(/^[A-Z]{2}$/, 'expected an ISO 3166 alpha-2 code')
      .optional(),
    network: z.string().min(1).max(200),
    category: z.enum(RISK_CATEGORIES),
    /** `high`: ranges no ordinary office calls; `elevated`: whole countries often abused. */
    risk: z.enum(['high', 'elevated']),
    why: z.string().min(1).max(1_000),
    sources: z.array(z.string().min(1).max(1_000)).min(1).max(20),
  })
  .strict();

/** A risk list entry. */
export type RiskEntry = z.infer<typeof RiskEntrySchema>;

/** The list file: a version, the date of its last review, and the entries. */
export const RiskListFileSchema = z
  .object({
    version: z.literal(1),
    updated: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date YYYY-MM-DD'),
    note: z.string().max(4_000).optional(),
    entries: z.array(z.unknown()).max(ENRICH_RISK_LIST_MAX_ENTRIES),
  })
  .strict();

/** Longest-prefix lookup over validated entries. */
export class RiskList {
  private readonly byPrefix = new Map<string, RiskEntry>();
  private readonly maxLength: number;

  /** Builds a list; duplicate prefixes are an error naming `source`. */
  constructor(
    entries: readonly RiskEntry[],
    readonly source: string,
    readonly updated?: string,
  ) {
    let max = 0;
    for (const [i, e] of entries.entries()) {
      if (this.byPrefix.has(e.prefix)) {
        throw new EnrichDataError(`${source}: entries[${i}] (prefix ${e.prefix}): duplicate prefix`);
      }
      this.byPrefix.set(e.prefix, e);
      if (e.prefix.length > max) max = e.prefix.length;
    }
    this.maxLength = max;
  }

  /** Entries in the list. */
  get size(): number {
    return this.byPrefix.size;
  }

  /** The entry with the longest prefix of `e164` (digits, with or without a leading `+`). */
  match(e164: string): RiskEntry | undefined {
    const digits = e164.startsWith('+') ? e164.slice(1) : e164;
    for (let n = Math.min(this.maxLength, digits.length); n > 0; n--) {
      const hit = this.byPrefix.get(digits.slice(0, n));
      if (hit !== undefined) return hit;
    }
    return undefined;
  }
}

/** Path of the bundled list. */
export const BUNDLED_RISK_LIST = bundledDataPath('irsf/high-risk-ranges.json');

/** Loads and validates a risk list file (the bundled one by default); errors name file and entry. */
export function loadRiskList(path: string = BUNDLED_RISK_LIST): RiskList {
  const raw = readJsonFile(path);
  const file = RiskListFileSchema.safeParse(raw);
  if (!file.success) {
    const issue = file.error.issues[0];
    const where = issue === undefined || issue.path.length === 0 ? '(top level)' : issue.path.join('.');
    throw new EnrichDataError(`${path}: ${where}: ${issue?.message ?? 'invalid'}`);
  }
  const entries: RiskEntry[] = [];
  for (const [i, e] of file.data.entries.entries()) {
    const r = RiskEntrySchema.safeParse(e);
    if (!r.success) {
      const issue = r.error.issues[0];
      const prefix =
        typeof e === 'object' && e !== null && typeof (e as { prefix?: unknown }).prefix === 'string'
          ? ` (prefix ${(e as { prefix: string }).prefix})`
          : '';
      const field = issue === undefined || issue.path.length === 0 ? '' : `.${issue.path.join('.')}`;
      throw new EnrichDataError(`${path}: entries[${i}]${prefix}${field}: ${issue?.message ?? 'invalid'}`);
    }
    entries.push(r.data);
  }
  return new RiskList(entries, path, file.data.updated);
}

let bundled: RiskList | undefined;

/** The bundled list, loaded once. */
export function defaultRiskList(): RiskList {
  bundled ??= loadRiskList();
  return bundled;
}
