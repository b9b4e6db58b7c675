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

/**
 * The international prefix most of the world dials (ITU-T E.164 recommends 00): read at every site
 * that does not list it, after the site's own prefixes.
 */
const GENERAL_INTERNATIONAL = '00';

/** The North American Numbering Plan's calling code: its sites dial 011 for abroad. */
const NANP_CALLING_CODE = '1';

/** The NANP international prefix: general at NANP sites (and without a home country). */
const NANP_INTERNATIONAL = '011';

/**
 * Prefixes of other plans (NANP's 011, Australia's 0011) that an intruder probes a PBX with: read
 * only when the site's own plan gives no possible reading (a UK 0113 number is not 011 + 3...).
 */
const FOREIGN_INTERNATIONAL = ['0011', '011'];

/**
 * Fewest digits after an international prefix (calling code and subscriber number): the shortest
 * numbers in service (Niue, +683 xxxx) have 7. Fewer is an extension or a short code, never a call
 * abroad.
 */
const INTERNATIONAL_MIN_DIGITS = 7;

/** Country codes of satellite services (ITU-T E.164: Inmarsat, GMSS). */
const SATELLITE_CODES = new Set(['870', '881']);

/** Non-geographic codes that are premium rate whole (ITU-T E.169.3, universal premium rate). */
const PREMIUM_CODES = new Set(['979']);

/**
 * How far each reading of a dialled string is believed; the highest wins, the first of equals
 * (readings after an outbound prefix come before the whole string: the PBX strips its outbound
 * prefix first). A valid number beats a merely possible one; the site's own prefixes beat prefixes
 * it does not list.
 */
const SCORE = {
  /** The home country's emergency number (or one configured). */
  emergency: 100,
  /** Valid after the site's own prefix: `+`, its international or national prefix, or none. */
  validOwn: 90,
  /** Valid as a subscriber number without the national prefix: below the number with it. */
  validLocal: 89,
  /** Valid after the general international prefix the site does not list (00; 011 in NANP). */
  validGeneral: 80,
  /** `+` or the site's international prefix before an assigned calling code; not a valid number. */
  ownAssigned: 70,
  /** A short number of the home country (premium, toll-free, service) or a feature code. */
  short: 60,
  /** A national or subscriber number libphonenumber finds possible (length fits), not valid. */
  possibleNational: 50,
  /** Valid only after a prefix of another plan (011 outside NANP, 0011): a probe's form. */
  validForeign: 40,
  /** The general international prefix before an assigned calling code; not valid. */
  generalAssigned: 30,
  /** A foreign prefix before an assigned calling code; not valid. */
  foreignAssigned: 20,
  /** `+` or the site's international prefix before no assigned calling code. */
  ownUnassigned: 10,
  /** A national reading libphonenumber parsed but finds impossible (an extension, a typo). */
  impossibleNational: 5,
  /** Nothing read. */
  none: 0,
} as const;

/** Where the international prefix of a reading comes from. */
type PrefixTrust = 'own' | 'general' | 'foreign';

/** Score of a valid number after an international prefix. */
const VALID_AFTER: Readonly<Record<PrefixTrust, number>> = {
  own: SCORE.validOwn,
  general: SCORE.validGeneral,
  foreign: SCORE.validForeign,
};

/** Score of an assigned calling code, not a valid number, after an international prefix. */
const ASSIGNED_AFTER: Readonly<Record<PrefixTrust, number>> = {
  own: SCORE.ownAssigned,
  general: SCORE.generalAssigned,
  foreign: SCORE.foreignAssigned,
};

/** Score of no assigned calling code after an international prefix. */
const UNASSIGNED_AFTER: Readonly<Record<PrefixTrust, number>> = {
  own: SCORE.ownUnassigned,
  general: SCORE.none,
  foreign: SCORE.none,
};

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
  readonly generalInternational: readonly string[];
  readonly foreignInternational: readonly string[];
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

/**
 * A country's national trunk prefix and international prefix from libphonenumber's metadata
 * (`{ national: '0', international: ['00'] }` for GB); undefined for a country it does not know.
 * `international` is empty when the metadata gives only a pattern with no preferred digits.
 */
export function countryDialDefaults(
  country: string,
): { national: string; international: string[] } | undefined {
  if (!isSupportedCountry(country)) return undefined;
  const md = new Metadata();
  md.selectNumberingPlan(country);
  // nationalPrefix() exists at run time but is missing from the library's type declarations.
  const np = md.numberingPlan as unknown as { nationalPrefix?: () => string | undefined } | undefined;
  const raw = md.numberingPlan?.IDDPrefix() ?? '';
  const preferred = md.numberingPlan?.defaultIDDPrefix();
  // The metadata's prefix is a pattern in some countries; take the plain digits form when there is one.
  const idd = /^\d+$/.test(raw)
    ? raw
    : preferred !== undefined && /^\d{2,}$/.test(preferred)
      ? preferred
      : undefined;
  return { national: np?.nationalPrefix?.() ?? '', international: idd !== undefined ? [idd] : [] };
}

const resolved = new WeakMap<DialPlan, ResolvedPlan>();

/** The plan with the home country's defaults filled in (cached per plan object). */
function resolvePlan(plan: DialPlan): ResolvedPlan {
  const hit = resolved.get(plan);
  if (hit !== undefined) return hit;
  const country = isSupportedCountry(plan.country) ? plan.country : undefined;
  const defaults = country !== undefined ? countryDialDefaults(country) : undefined;
  // Without a home country (or its prefix) no prefix is the site's own: 00 and 011 are then general.
  const international = [...(plan.internationalPrefixes ?? defaults?.international ?? [])].sort(longestFirst);
  const callingCode = country !== undefined ? getCountryCallingCode(country) : undefined;
  const general = [
    GENERAL_INTERNATIONAL,
    ...(callingCode === undefined || callingCode === NANP_CALLING_CODE ? [NANP_INTERNATIONAL] : []),
  ].filter((p) => !international.includes(p));
  const foreign = FOREIGN_INTERNATIONAL.filter((p) => !international.includes(p) && !general.includes(p));
  const region = country !== undefined ? shortNumberRegion(country) : {};
  const r: ResolvedPlan = {
    country,
    callingCode,
    outbound: [...(plan.outboundPrefixes ?? [])].sort(longestFirst),
    national: plan.nationalPrefix ?? defaults?.national ?? '',
    international,
    generalInternational: general.sort(longestFirst),
    foreignInternational: foreign.sort(longestFirst),
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

/** The type of a number libphonenumber does not find valid, from its calling code alone. */
function typeOfInvalid(callingCode: string): NumberType {
  if (SATELLITE_CODES.has(callingCode)) return 'satellite';
  if (PREMIUM_CODES.has(callingCode)) return 'premium-rate';
  return 'unknown';
}

type Base = Pick<Candidate['info'], 'stripped' | 'valid' | 'prefixes'>;

/** `after` (what follows an international prefix, or `+`) read as an international number. */
function internationalReading(
  plan: ResolvedPlan,
  base: Base,
  after: string,
  intl: string,
  trust: PrefixTrust,
): Candidate {
  const prefixes = { ...base.prefixes, international: intl };
  const p = parsePhoneNumberFromString(`+${after}`);
  if (p === undefined) {
    return {
      score: UNASSIGNED_AFTER[trust],
      info: { ...base, prefixes, type: 'unknown', scope: 'international' },
    };
  }
  const valid = p.isValid();
  const type = valid ? mapType(p) : typeOfInvalid(p.countryCallingCode);
  return {
    score: valid ? VALID_AFTER[trust] : ASSIGNED_AFTER[trust],
    info: numberInfo(plan, base, prefixes, p, valid, type, true),
  };
}

/** A reading's info for a number libphonenumber parsed; `scoped`: its scope is judged by the plan. */
function numberInfo(
  plan: ResolvedPlan,
  base: Base,
  prefixes: PrefixesUsed,
  p: PhoneNumber,
  valid: boolean,
  type: NumberType,
  scoped: boolean,
): Candidate['info'] {
  const country = p.country;
  return {
    ...base,
    prefixes,
    valid,
    e164: p.number,
    ...(country !== undefined ? { country } : {}),
    callingCode: p.countryCallingCode,
    type,
    scope: scoped ? scopeOf(plan, country, p.countryCallingCode) : 'unknown',
  };
}

/** `rest` read as a number of the home country (with its national prefix, or a subscriber number). */
function nationalReading(plan: ResolvedPlan, base: Base, rest: string): Candidate | undefined {
  const national = plan.national !== '' && rest.startsWith(plan.national) ? plan.national : undefined;
  const prefixes = national !== undefined ? { ...base.prefixes, national } : base.prefixes;
  if (national === undefined && rest.length <= 6) {
    if (plan.premiumShortRe?.test(rest) === true) {
      return { score: SCORE.short, info: { ...base, type: 'premium-rate', scope: 'national', valid: true } };
    }
    if (plan.tollFreeShortRe?.test(rest) === true) {
      return { score: SCORE.short, info: { ...base, type: 'toll-free', scope: 'national', valid: true } };
    }
    if (plan.shortRe?.test(rest) === true) {
      return { score: SCORE.short, info: { ...base, type: 'short-code', scope: 'national', valid: true } };
    }
  }
  if (plan.country === undefined) {
    return { score: SCORE.none, info: { ...base, prefixes, type: 'unknown', scope: 'unknown' } };
  }
  const p = parsePhoneNumberFromString(rest, { defaultCountry: plan.country, extract: false });
  if (p === undefined)
    return { score: SCORE.none, info: { ...base, prefixes, type: 'unknown', scope: 'unknown' } };
  // libphonenumber strips an international prefix it knows by itself: that is not a national reading.
  if (p.countryCallingCode !== plan.callingCode) return undefined;
  const valid = p.isValid();
  const possible = valid || p.isPossible();
  return {
    score: valid
      ? national !== undefined || plan.national === ''
        ? SCORE.validOwn
        : SCORE.validLocal
      : possible
        ? SCORE.possibleNational
        : SCORE.impossibleNational,
    // A possible number is national with the national prefix; a bare one may be an extension.
    info: numberInfo(
      plan,
      base,
      prefixes,
      p,
      valid,
      valid ? mapType(p) : 'unknown',
      valid || (possible && national !== undefined),
    ),
  };
}

/**
 * Every reading of `rest` (what follows any outbound prefix) into `out`: emergency, feature code,
 * international after each prefix it starts with, national or local, short number.
 */
function interpret(
  plan: ResolvedPlan,
  rest: string,
  outbound: string | undefined,
  plus: boolean,
  out: Candidate[],
): void {
  const base: Base = {
    stripped: plus ? `+${rest}` : rest,
    valid: false,
    prefixes: outbound === undefined ? {} : { outbound },
  };
  if (plus) {
    out.push(internationalReading(plan, base, rest, '+', 'own'));
    return;
  }
  if (plan.emergency.has(rest) || plan.emergencyRe?.test(rest) === true) {
    out.push({
      score: SCORE.emergency,
      info: { ...base, type: 'emergency', scope: 'national', valid: true },
    });
    return;
  }
  if (rest.includes('*') || rest.includes('#')) {
    out.push({ score: SCORE.short, info: { ...base, type: 'short-code', scope: 'national' } });
    return;
  }
  const international = (list: readonly string[], trust: PrefixTrust): void => {
    for (const intl of list) {
      if (rest.startsWith(intl) && rest.length - intl.length >= INTERNATIONAL_MIN_DIGITS)
        out.push(internationalReading(plan, base, rest.slice(intl.length), intl, trust));
    }
  };
  international(plan.international, 'own');
  const national = nationalReading(plan, base, rest);
  if (national !== undefined) out.push(national);
  international(plan.generalInternational, 'general');
  international(plan.foreignInternational, 'foreign');
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
    interpret(p, d.slice(plusAt + 1), before === '' ? undefined : before, true, candidates);
  } else {
    // The whole string first for emergency numbers: with outbound prefix 9, "911" is not "9" + "11".
    if (p.emergency.has(d) || p.emergencyRe?.test(d) === true) interpret(p, d, undefined, false, candidates);
    for (const o of p.outbound) {
      if (d.startsWith(o) && d.length > o.length) interpret(p, d.slice(o.length), o, false, candidates);
    }
    interpret(p, d, undefined, false, candidates);
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
