/**
 * Number intelligence: what a dialled string is once the site's dial plan is understood (outbound
 * prefix, national trunk prefix, international prefixes), classified with libphonenumber's full
 * metadata (country, premium rate, shared cost, satellite, ...) and matched against the high-risk
 * (IRSF) list. Never throws on input: any string from the wire or a CDR gives a `NumberInfo`.
 */
import {
  Metadata,
  getCountryCallingCode,
  isSupportedCountry,
  parsePhoneNumberFromString,
  type CountryCode,
  type PhoneNumber,
} from 'libphonenumber-js/max';
import { z } from 'zod';
import { ENRICH_DIALLED_MAX_CHARS, ENRICH_DIALLED_MAX_DIGITS } from '../config/limits.js';
import { bundledDataPath, readJsonFile } from './data-files.js';
import { defaultRiskList, type RiskEntry, type RiskList } from './risk-list.js';

const digitString = (max: number) =>
  z.string().regex(new RegExp(`^\\d{1,${max}}$`), `expected 1 to ${max} digits`);

/** The site's dial plan (configuration `dialPlan`); unset fields take the home country's defaults. */
export const DialPlanSchema = z
  .object({
    /** Home country, ISO 3166 alpha-2 (e.g. GB, US, DE). */
    country: z
      .string()
      .regex(/^[A-Z]{2}$/, 'expected an ISO 3166 alpha-2 country code such as GB')
      .refine((c) => isSupportedCountry(c), { message: 'not a country libphonenumber knows' }),
    /** Digits users dial to get an outside line (3CX: often 9 or 0); none by default. */
    outboundPrefixes: z.array(digitString(4)).max(8).default([]),
    /** National trunk prefix (0 in most of Europe, 1 in NANP); default from the country. */
    nationalPrefix: z
      .string()
      .regex(/^\d{0,3}$/, 'expected up to 3 digits')
      .optional(),
    /** International prefixes (00, 011, ...); default from the country. `+` is always understood. */
    internationalPrefixes: z.array(digitString(5)).max(8).optional(),
    /** Emergency numbers in addition to the country's own (from libphonenumber's short numbers). */
    emergencyNumbers: z.array(digitString(6)).max(32).default([]),
  })
  .strict();

/** A dial plan as written in configuration (defaults not yet applied). */
export type DialPlan = z.input<typeof DialPlanSchema>;

/** What kind of number was dialled. */
export type NumberType =
  | 'premium-rate'
  | 'shared-cost'
  | 'toll-free'
  | 'satellite'
  | 'non-geographic'
  | 'mobile'
  | 'fixed-line'
  | 'fixed-line-or-mobile'
  | 'voip'
  | 'personal'
  | 'uan'
  | 'pager'
  | 'voicemail'
  | 'emergency'
  | 'short-code'
  | 'unknown';

/** Why a dialled string was not read as a number. */
export type NumberProblem = 'empty' | 'letters' | 'too_long' | 'not_a_number';

/** The prefixes found in front of the number. */
export interface PrefixesUsed {
  /** Outbound (outside line) prefix, e.g. `9`; also digits before a `+` that the plan does not list. */
  readonly outbound?: string;
  /** International prefix: `+`, `00`, `011`, ... */
  readonly international?: string;
  /** National trunk prefix, e.g. `0` or `1`. */
  readonly national?: string;
}

/** What a dialled string is. */
export interface NumberInfo {
  /** The string as given (cut to `ENRICH_DIALLED_MAX_CHARS`). */
  readonly dialled: string;
  /** Digits (and `+`, `*`, `#`) once URI syntax and visual separators are gone. */
  readonly digits: string;
  /** `digits` without the outbound prefix: what the PBX sends to its trunk. */
  readonly stripped: string;
  /** Normalized E.164 (`+4490...`) when the number could be read. */
  readonly e164?: string;
  /** Destination country, ISO 3166 alpha-2 (absent for non-geographic codes such as +881). */
  readonly country?: string;
  /** Destination country calling code (`44`, `1`, `881`). */
  readonly callingCode?: string;
  readonly type: NumberType;
  /** International: the destination is outside the home country (or non-geographic). */
  readonly scope: 'international' | 'national' | 'unknown';
  /** libphonenumber judged the number valid for its country. */
  readonly valid: boolean;
  /** The high-risk (IRSF) list entry the number falls in. */
  readonly risk?: RiskEntry;
  readonly prefixes: PrefixesUsed;
  /**
   * The prefix form as one label (`9 011`, `+`, `9 +`, `00`, `0` (national), `local`): the same
   * target tried under many forms is prefix probing.
   */
  readonly form: string;
  /** Why the string is not a number (then `type` is `unknown`). */
  readonly problem?: NumberProblem;
}

/** International prefixes tried after the plan's own: an intruder probes them all. */
const WELL_KNOWN_INTERNATIONAL = ['0011', '011', '00'];

/** Country codes of satellite services (ITU-T E.164: Inmarsat, GMSS). */
const SATELLITE_CODES = new Set(['870', '881']);

interface ShortNumberRegion {
  readonly emergency?: string;
  readonly premiumRate?: string;
  readonly tollFree?: string;
  readonly shortCode?: string;
}

interface ResolvedPlan {
  readonly country: CountryCode | undefined;
  readonly callingCode: string | undefined;
  readonly outbound: readonly string[];
  readonly national: string;
  readonly international: readonly string[];
  readonly fallbackInternational: readonly string[];
  readonly emergency: ReadonlySet<string>;
  readonly emergencyRe: RegExp | undefined;
  readonly premiumShortRe: RegExp | undefined;
  readonly tollFreeShortRe: RegExp | undefined;
  readonly shortRe: RegExp | undefined;
}

let shortNumbers: Readonly<Record<string, ShortNumberRegion>> | undefined;

function shortNumberRegion(country: string): ShortNumberRegion {
  if (shortNumbers === undefined) {
    const raw = readJsonFile(bundledDataPath('short-numbers/short-numbers.json'));
    const regions = (raw as { regions?: unknown }).regions;
    shortNumbers =
      typeof regions === 'object' && regions !== null ? (regions as Record<string, ShortNumberRegion>) : {};
  }
  return shortNumbers[country] ?? {};
}

const fullMatch = (pattern: string | undefined): RegExp | undefined =>
  pattern === undefined ? undefined : new RegExp(`^(?:${pattern})$`);

const longestFirst = (a: string, b: string): number => b.length - a.length;

const resolved = new WeakMap<DialPlan, ResolvedPlan>();

/** The plan with the home country's defaults filled in (cached per plan object). */
function resolvePlan(plan: DialPlan): ResolvedPlan {
  const hit = resolved.get(plan);
  if (hit !== undefined) return hit;
  const country = isSupportedCountry(plan.country) ? plan.country : undefined;
  let national = plan.nationalPrefix;
  let idd: string | undefined;
  if (country !== undefined) {
    const md = new Metadata();
    md.selectNumberingPlan(country);
    // nationalPrefix() exists at run time but is missing from the library's type declarations.
    const np = md.numberingPlan as unknown as { nationalPrefix?: () => string | undefined } | undefined;
    national ??= np?.nationalPrefix?.() ?? '';
    const raw = md.numberingPlan?.IDDPrefix() ?? '';
    const preferred = md.numberingPlan?.defaultIDDPrefix();
    // The metadata's prefix is a pattern in some countries; take the plain digits form when there is one.
    idd = /^\d+$/.test(raw)
      ? raw
      : preferred !== undefined && /^\d{2,}$/.test(preferred)
        ? preferred
        : undefined;
  }
  const international = [...(plan.internationalPrefixes ?? (idd !== undefined ? [idd] : ['00']))].sort(
    longestFirst,
  );
  const region = country !== undefined ? shortNumberRegion(country) : {};
  const r: ResolvedPlan = {
    country,
    callingCode: country !== undefined ? getCountryCallingCode(country) : undefined,
    outbound: [...(plan.outboundPrefixes ?? [])].sort(longestFirst),
    national: national ?? '',
    international,
    fallbackInternational: WELL_KNOWN_INTERNATIONAL.filter((p) => !international.includes(p)),
    emergency: new Set(plan.emergencyNumbers ?? []),
    emergencyRe: fullMatch(region.emergency),
    premiumShortRe: fullMatch(region.premiumRate),
    tollFreeShortRe: fullMatch(region.tollFree),
    shortRe: fullMatch(region.shortCode),
  };
  resolved.set(plan, r);
  return r;
}

interface Cleaned {
  readonly digits: string;
  readonly problem?: NumberProblem;
}

/** The user part of a SIP/tel URI (or the string itself), without parameters. */
function userPart(s: string): { text: string; uri: boolean } {
  let t = s.trim();
  const lt = t.indexOf('<');
  if (lt >= 0) {
    const gt = t.indexOf('>', lt + 1);
    t = t.slice(lt + 1, gt < 0 ? t.length : gt);
  }
  const lower = t.slice(0, 5).toLowerCase();
  const scheme = lower.startsWith('sip:') || lower.startsWith('tel:') ? 4 : lower.startsWith('sips:') ? 5 : 0;
  const uri = scheme > 0;
  if (uri) {
    t = t.slice(scheme);
    const at = t.indexOf('@');
    if (at >= 0) t = t.slice(0, at);
    const semi = t.indexOf(';');
    if (semi >= 0) t = t.slice(0, semi);
    const q = t.indexOf('?');
    if (q >= 0) t = t.slice(0, q);
  }
  return { text: t, uri };
}

function isSeparator(c: number): boolean {
  // space, tab, ( ) - . / and the NBSP some softphones paste
  return c === 32 || c === 9 || c === 40 || c === 41 || c === 45 || c === 46 || c === 47 || c === 160;
}

function clean(input: string): Cleaned {
  const { text } = userPart(input);
  let out = '';
  let count = 0;
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i);
    if (c === 37 /* % */ && i + 2 < text.length) {
      const hex = text.slice(i + 1, i + 3).toUpperCase();
      const decoded = hex === '2B' ? 43 : hex === '20' ? 32 : hex === '23' ? 35 : hex === '2A' ? 42 : -1;
      if (decoded < 0) return { digits: out, problem: 'not_a_number' };
      c = decoded;
      i += 2;
    }
    if (c >= 48 && c <= 57) {
      out += String.fromCharCode(c);
      if (++count > ENRICH_DIALLED_MAX_DIGITS) return { digits: out, problem: 'too_long' };
    } else if (c === 43 /* + */ || c === 42 /* * */ || c === 35 /* # */) {
      out += String.fromCharCode(c);
    } else if (isSeparator(c)) {
      continue;
    } else if ((c >= 65 && c <= 90) || (c >= 97 && c <= 122)) {
      return { digits: out, problem: 'letters' };
    } else {
      return { digits: out, problem: 'not_a_number' };
    }
  }
  if (count === 0) return { digits: out, problem: out.length === 0 ? 'empty' : 'not_a_number' };
  const plus = out.indexOf('+');
  if (plus >= 0 && out.indexOf('+', plus + 1) >= 0) return { digits: out, problem: 'not_a_number' };
  return { digits: out };
}

function mapType(p: PhoneNumber): NumberType {
  const cc = p.countryCallingCode;
  const t = p.getType();
  if (t === 'PREMIUM_RATE') return 'premium-rate';
  if (SATELLITE_CODES.has(cc)) return 'satellite';
  switch (t) {
    case 'SHARED_COST':
      return 'shared-cost';
    case 'TOLL_FREE':
      return 'toll-free';
    case 'MOBILE':
      return 'mobile';
    case 'FIXED_LINE':
      return 'fixed-line';
    case 'FIXED_LINE_OR_MOBILE':
      return 'fixed-line-or-mobile';
    case 'VOIP':
      return p.country === undefined ? 'non-geographic' : 'voip';
    case 'PERSONAL_NUMBER':
      return 'personal';
    case 'UAN':
      return 'uan';
    case 'PAGER':
      return 'pager';
    case 'VOICEMAIL':
      return 'voicemail';
    default:
      return p.country === undefined ? 'non-geographic' : 'unknown';
  }
}

interface Candidate {
  readonly score: number;
  readonly info: Omit<NumberInfo, 'dialled' | 'digits' | 'risk' | 'form'>;
}

function formOf(p: PrefixesUsed): string {
  const parts: string[] = [];
  if (p.outbound !== undefined) parts.push(p.outbound);
  if (p.international !== undefined) parts.push(p.international);
  else if (p.national !== undefined) parts.push(p.national);
  else parts.push('local');
  return parts.join(' ');
}

function scopeOf(plan: ResolvedPlan, country: string | undefined, callingCode: string): NumberInfo['scope'] {
  if (country === undefined) return callingCode === plan.callingCode ? 'unknown' : 'international';
  return country === plan.country ? 'national' : 'international';
}

/** Reads `rest` (what follows any outbound prefix) as an international, national or local number. */
function interpret(plan: ResolvedPlan, rest: string, outbound: string | undefined, plus: boolean): Candidate {
  const stripped = plus ? `+${rest}` : rest;
  const base = { stripped, valid: false, prefixes: outbound === undefined ? {} : { outbound } };
  if (!plus && (plan.emergency.has(rest) || plan.emergencyRe?.test(rest) === true)) {
    return { score: 10, info: { ...base, type: 'emergency', scope: 'national', valid: true } };
  }
  if (rest.includes('*') || rest.includes('#')) {
    return { score: 3, info: { ...base, type: 'short-code', scope: 'national' } };
  }
  let intl: string | undefined = plus ? '+' : undefined;
  let fallback = false;
  if (intl === undefined) {
    intl = plan.international.find((p) => rest.startsWith(p) && rest.length > p.length);
    if (intl === undefined) {
      intl = plan.fallbackInternational.find((p) => rest.startsWith(p) && rest.length > p.length);
      fallback = intl !== undefined;
    }
  }
  if (intl !== undefined) {
    const after = plus ? rest : rest.slice(intl.length);
    const prefixes = { ...base.prefixes, international: intl };
    const p = parsePhoneNumberFromString(`+${after}`);
    if (p === undefined) {
      return {
        score: fallback ? -1 : 0,
        info: { ...base, prefixes, type: 'unknown', scope: 'international' },
      };
    }
    const valid = p.isValid();
    const score = (valid ? 4 : p.isPossible() ? 2 : 1) - (fallback ? 1 : 0);
    const country = p.country;
    return {
      score,
      info: {
        ...base,
        prefixes,
        valid,
        e164: p.number,
        ...(country !== undefined ? { country } : {}),
        callingCode: p.countryCallingCode,
        type: valid ? mapType(p) : SATELLITE_CODES.has(p.countryCallingCode) ? 'satellite' : 'unknown',
        scope: scopeOf(plan, country, p.countryCallingCode),
      },
    };
  }
  const national = plan.national !== '' && rest.startsWith(plan.national) ? plan.national : undefined;
  const prefixes = national !== undefined ? { ...base.prefixes, national } : base.prefixes;
  if (national === undefined && rest.length <= 6) {
    if (plan.premiumShortRe?.test(rest) === true) {
      return { score: 3, info: { ...base, type: 'premium-rate', scope: 'national', valid: true } };
    }
    if (plan.tollFreeShortRe?.test(rest) === true) {
      return { score: 3, info: { ...base, type: 'toll-free', scope: 'national', valid: true } };
    }
    if (plan.shortRe?.test(rest) === true) {
      return { score: 3, info: { ...base, type: 'short-code', scope: 'national', valid: true } };
    }
  }
  if (plan.country === undefined)
    return { score: 0, info: { ...base, prefixes, type: 'unknown', scope: 'unknown' } };
  const p = parsePhoneNumberFromString(rest, { defaultCountry: plan.country, extract: false });
  if (p === undefined) return { score: 0, info: { ...base, prefixes, type: 'unknown', scope: 'unknown' } };
  const valid = p.isValid();
  const country = p.country;
  return {
    score: valid ? 4 : p.isPossible() ? 2 : 0,
    info: {
      ...base,
      prefixes,
      valid,
      e164: p.number,
      ...(country !== undefined ? { country } : {}),
      callingCode: p.countryCallingCode,
      type: valid ? mapType(p) : 'unknown',
      scope: valid ? scopeOf(plan, country, p.countryCallingCode) : 'unknown',
    },
  };
}

/**
 * Classifies a dialled string (digits, `+44 ...`, a SIP/tel URI or its user part) under a dial plan.
 * `risk` is the high-risk list to match (the bundled one by default).
 */
export function classifyDialled(
  dialled: string,
  plan: DialPlan,
  risk: RiskList = defaultRiskList(),
): NumberInfo {
  const shown = typeof dialled === 'string' ? dialled.slice(0, ENRICH_DIALLED_MAX_CHARS) : '';
  const p = resolvePlan(plan);
  const c: Cleaned =
    typeof dialled !== 'string'
      ? { digits: '', problem: 'not_a_number' }
      : dialled.length > ENRICH_DIALLED_MAX_CHARS
        ? { digits: '', problem: 'too_long' }
        : clean(dialled);
  if (c.problem !== undefined) {
    return {
      dialled: shown,
      digits: c.digits,
      stripped: c.digits,
      type: 'unknown',
      scope: 'unknown',
      valid: false,
      prefixes: {},
      form: 'none',
      problem: c.problem,
    };
  }
  const d = c.digits;
  const candidates: Candidate[] = [];
  const plusAt = d.indexOf('+');
  if (plusAt >= 0) {
    const before = d.slice(0, plusAt);
    candidates.push(interpret(p, d.slice(plusAt + 1), before === '' ? undefined : before, true));
  } else {
    // The whole string first for emergency numbers: with outbound prefix 9, "911" is not "9" + "11".
    if (p.emergency.has(d) || p.emergencyRe?.test(d) === true)
      candidates.push(interpret(p, d, undefined, false));
    for (const o of p.outbound) {
      if (d.startsWith(o) && d.length > o.length) candidates.push(interpret(p, d.slice(o.length), o, false));
    }
    candidates.push(interpret(p, d, undefined, false));
  }
  let best = candidates[0];
  for (const cand of candidates) if (best === undefined || cand.score > best.score) best = cand;
  const info = best?.info ?? {
    stripped: d,
    type: 'unknown' as const,
    scope: 'unknown' as const,
    valid: false,
    prefixes: {},
  };
  const hit = info.e164 !== undefined && info.type !== 'emergency' ? risk.match(info.e164) : undefined;
  return {
    dialled: shown,
    digits: d,
    ...info,
    ...(hit !== undefined ? { risk: hit } : {}),
    form: formOf(info.prefixes),
  };
}
