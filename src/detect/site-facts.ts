/**
 * The site model as facts: what the configuration tells (`told`) merged with what traffic taught
 * the learner (`inferred`, with confidence and evidence), what follows from either by default
 * (`default`: a country's own prefixes and emergency numbers, the UTC time zone), and what is not
 * known (`unknown`). Told always wins; disagreements between the two are listed as notes. Also
 * renders the inferred facts as a configuration snippet ready to paste (docs/site.md).
 */
import { addressMatcher } from './site.js';
import type { Config } from '../config/config.js';
import { escapeText } from '../core/escape.js';
import { bundledDataPath, readJsonFile } from '../enrich/data-files.js';
import { countryDialDefaults } from '../enrich/numbers.js';
import { confidenceOf, type Confidence, type LearnedAddress, type LearnedSite } from './site-learner.js';

/** Where a fact comes from. */
export type Origin = 'told' | 'inferred' | 'default' | 'unknown';

/** One fact of the site model. */
export interface Fact<T> {
  readonly value: T;
  readonly origin: Origin;
  /** Inferred facts only. */
  readonly confidence?: Confidence;
  /** Why: the configuration key, or what traffic showed. */
  readonly evidence: string;
  /** The counts behind an inferred fact (or traffic seen for a told one). */
  readonly counts?: Readonly<Record<string, number>>;
}

/** Address roles of the model. */
export type AddressRole = 'pbx' | 'trunk' | 'trusted' | 'sbc' | 'tunnel' | 'nat';

/** An address or network with its role. */
export interface AddressFact extends Fact<string> {
  readonly role: AddressRole;
  /** Told entries: whether an exchange with it (a request and its answer) was seen (absent when no
   * input was read). */
  readonly seen?: boolean;
  readonly ports?: readonly number[];
  readonly agents?: readonly string[];
}

/** An extension and what it uses. */
export interface ExtensionFact extends Fact<string> {
  readonly identities: readonly string[];
  readonly contacts: readonly string[];
  readonly userAgents: readonly string[];
  readonly registrations: number;
  readonly calls: number;
}

/** One entry of the identity map: digest user name (`value`) → extension. */
export interface IdentityFact extends Fact<string> {
  readonly extension: string;
}

/** Business hours as the configuration writes them. */
export interface HoursValue {
  readonly timeZone: string;
  readonly days: readonly (number | string)[];
  readonly start: string;
  readonly end: string;
}

/** The whole model (`sipwarden site --format json` prints it; docs/site.md). */
export interface SiteFacts {
  readonly schemaVersion: 1;
  readonly site: string;
  /** True when traffic was read (otherwise only told and default facts). */
  readonly learned: boolean;
  readonly addresses: {
    readonly pbx: readonly AddressFact[];
    readonly sbc: readonly AddressFact[];
    readonly trunks: readonly AddressFact[];
    readonly trusted: readonly AddressFact[];
  };
  readonly dids: readonly Fact<string>[];
  readonly extensions: readonly ExtensionFact[];
  readonly identities: readonly IdentityFact[];
  readonly homeCountry: Fact<string | null>;
  readonly timeZone: Fact<string>;
  readonly businessHours: Fact<HoursValue | null>;
  readonly dialPlan: {
    readonly outboundPrefixes: Fact<readonly string[]>;
    readonly nationalPrefix: Fact<string | null>;
    readonly internationalPrefixes: Fact<readonly string[]>;
    readonly emergencyNumbers: Fact<readonly string[]>;
  };
  readonly allowedCountries: Fact<readonly string[]>;
  readonly notes: readonly string[];
}

/** Merges the configuration's facts with the learner's (`learned` absent: told facts only). */
export function siteFacts(config: Config, learned?: LearnedSite): SiteFacts {
  const notes: string[] = [];
  const seenIps = learned?.addresses ?? [];
  const told = config.network;

  const addressFacts = (
    entries: readonly string[],
    role: 'pbx' | 'trunk',
    key: string,
    inferred: readonly LearnedAddress[],
  ): AddressFact[] => {
    const out: AddressFact[] = [];
    for (const entry of entries) {
      const within = matcher([entry]);
      const seen = learned === undefined ? undefined : seenIps.some((ip) => within(ip));
      const agreeing = inferred.filter((a) => within(a.ip));
      out.push({
        value: entry,
        origin: 'told',
        role,
        evidence:
          `configuration ${key}` +
          (agreeing.length > 0
            ? `; traffic agrees: ${agreeing.map((a) => a.evidence.detail).join('; ')}`
            : ''),
        ...(seen !== undefined ? { seen } : {}),
        ...(agreeing.length > 0 ? { counts: agreeing[0]!.evidence.counts } : {}),
      });
      if (seen === false)
        notes.push(
          `${key} ${entry} is configured but no exchange with it (a request and its answer) was seen`,
        );
    }
    const toldAll = matcher(entries);
    for (const a of inferred) {
      if (toldAll(a.ip)) continue;
      out.push({
        value: a.ip,
        origin: 'inferred',
        role,
        confidence: a.evidence.confidence,
        evidence: a.evidence.detail,
        counts: a.evidence.counts,
        ports: a.ports,
        agents: a.agents,
      });
      notes.push(
        `${a.ip} acts as a ${role === 'pbx' ? 'PBX' : 'trunk'} (${a.evidence.detail}) but ${key} does not list it` +
          (a.evidence.confidence === 'low' ? ' (low confidence: check it)' : ''),
      );
    }
    return out;
  };
  const pbx = addressFacts(told.pbx, 'pbx', 'network.pbx', learned?.pbx ?? []);
  const trunks = addressFacts(told.trunks, 'trunk', 'network.trunks', learned?.trunks ?? []);
  // A told trunk that behaves as a PBX (or the reverse) is worth a look.
  const isToldTrunk = matcher(told.trunks);
  for (const a of learned?.pbx ?? [])
    if (isToldTrunk(a.ip))
      notes.push(`${a.ip} is configured as a trunk but acts as a PBX (${a.evidence.detail})`);
  const isToldPbx = matcher(told.pbx);
  for (const a of learned?.trunks ?? [])
    if (isToldPbx(a.ip))
      notes.push(`${a.ip} is configured as a PBX but acts as a trunk (${a.evidence.detail})`);
  const trusted: AddressFact[] = told.trusted.map((entry) => ({
    value: entry,
    origin: 'told',
    role: 'trusted',
    evidence: 'configuration network.trusted (exempt from blocking, never from detection)',
    ...(learned !== undefined ? { seen: seenIps.some(matcher([entry])) } : {}),
  }));
  const toldSbc = matcher(told.sbc);
  const sbc: AddressFact[] = told.sbc.map((entry) => ({
    value: entry,
    origin: 'told',
    role: 'sbc',
    evidence:
      'configuration network.sbc' +
      ((learned?.shared ?? []).some((s) => matcher([entry])(s.ip))
        ? '; traffic agrees: several extensions register through it'
        : ''),
    ...(learned !== undefined ? { seen: seenIps.some(matcher([entry])) } : {}),
  }));
  for (const s of learned?.shared ?? []) {
    if (toldSbc(s.ip)) continue;
    sbc.push({
      value: s.ip,
      origin: 'inferred',
      role: s.kind,
      confidence: s.evidence.confidence,
      evidence: s.evidence.detail,
      counts: s.evidence.counts,
      ports: s.ports,
    });
  }

  // The identity map: told entries, then learned ones the configuration does not have.
  const identities: IdentityFact[] = Object.entries(config.identities).map(([identity, extension]) => ({
    value: identity,
    extension,
    origin: 'told',
    evidence: 'configuration identities',
  }));
  for (const l of learned?.identities ?? []) {
    const toldExt = config.identities[l.identity];
    if (toldExt !== undefined) {
      if (toldExt !== l.extension)
        notes.push(
          `identity ${escapeText(l.identity, 64)} is configured as extension ${escapeText(toldExt, 64)} but authenticated as ${escapeText(l.extension, 64)} (${l.count} times)`,
        );
      continue;
    }
    identities.push({
      value: l.identity,
      extension: l.extension,
      origin: 'inferred',
      confidence: confidenceOf(l.count),
      evidence: `${l.count} accepted exchange(s) of extension ${escapeText(l.extension, 64)} used it`,
      counts: { accepted: l.count },
    });
  }
  const extensions: ExtensionFact[] = (learned?.extensions ?? []).map((e) => ({
    value: e.extension,
    origin: 'inferred',
    confidence: confidenceOf(e.registrations + e.calls),
    evidence: `${e.registrations} accepted registration(s), ${e.calls} authenticated call(s)`,
    counts: { registrations: e.registrations, calls: e.calls },
    identities: e.identities,
    contacts: e.contacts,
    userAgents: e.userAgents,
    registrations: e.registrations,
    calls: e.calls,
  }));
  const toldDids = config.numbers.dids;
  const didKey = (n: string): string => n.replace(/[^0-9]/g, '').slice(-9);
  const dids: Fact<string>[] = toldDids.map((n) => ({
    value: n,
    origin: 'told',
    evidence: 'configuration numbers.dids',
  }));
  for (const d of learned?.dids ?? []) {
    if (toldDids.some((n) => didKey(n) === didKey(d.number))) continue;
    dids.push({
      value: d.number,
      origin: 'inferred',
      confidence: confidenceOf(d.calls),
      evidence:
        d.via === 'cdr'
          ? `${d.calls} inbound call(s) to it in the CDRs`
          : `${d.calls} answered call(s) to it from trunk ${d.via}`,
      counts: { calls: d.calls },
    });
  }

  // Home country and what follows from it.
  const plan = config.numbers.dialPlan;
  let homeCountry: Fact<string | null>;
  if (plan !== undefined) {
    homeCountry = { value: plan.country, origin: 'told', evidence: 'configuration numbers.dialPlan.country' };
    const l = learned?.homeCountry;
    // A low-confidence guess (callers' numbers) does not contradict what was told.
    if (l !== undefined && l.country !== plan.country && l.evidence.confidence !== 'low')
      notes.push(
        `numbers.dialPlan.country is ${plan.country} but traffic suggests ${l.country} (${l.evidence.detail})`,
      );
  } else if (learned?.homeCountry !== undefined) {
    const l = learned.homeCountry;
    homeCountry = {
      value: l.country,
      origin: 'inferred',
      confidence: l.evidence.confidence,
      evidence: l.evidence.detail,
      counts: l.evidence.counts,
    };
  } else {
    homeCountry = {
      value: null,
      origin: 'unknown',
      evidence:
        learned === undefined
          ? 'not configured (numbers.dialPlan.country)'
          : 'not configured, and no DID or caller number in international form was seen',
    };
  }
  const country = homeCountry.value;
  // Values that follow from the country: default when it was told, inferred (as sure as the
  // country) when it was inferred.
  const derived = (evidence: string): { origin: Origin; confidence?: Confidence; evidence: string } =>
    homeCountry.origin === 'told'
      ? { origin: 'default', evidence }
      : { origin: 'inferred', confidence: homeCountry.confidence ?? 'low', evidence };
  const defaults = country !== null ? countryDialDefaults(country) : undefined;
  const forms = learned?.trunkNumberForms ?? {};

  let outboundPrefixes: Fact<readonly string[]>;
  if (plan !== undefined && (plan.outboundPrefixes ?? []).length > 0) {
    outboundPrefixes = {
      value: plan.outboundPrefixes ?? [],
      origin: 'told',
      evidence: 'configuration numbers.dialPlan.outboundPrefixes',
    };
    for (const p of learned?.outboundPrefixes?.prefixes ?? [])
      if (!(plan.outboundPrefixes ?? []).includes(p))
        notes.push(
          `phones dial outside numbers with prefix ${p}, which numbers.dialPlan.outboundPrefixes lacks`,
        );
  } else if (learned?.outboundPrefixes !== undefined) {
    const l = learned.outboundPrefixes;
    outboundPrefixes = {
      value: l.prefixes,
      origin: 'inferred',
      confidence: l.evidence.confidence,
      evidence: l.evidence.detail,
      counts: l.evidence.counts,
    };
  } else {
    outboundPrefixes = {
      value: [],
      origin: plan !== undefined ? 'default' : 'unknown',
      evidence:
        plan !== undefined
          ? 'none configured (numbers.dialPlan.outboundPrefixes)'
          : 'no call sent to a trunk with a prefix stripped was seen',
    };
  }

  let nationalPrefix: Fact<string | null>;
  if (plan?.nationalPrefix !== undefined) {
    nationalPrefix = {
      value: plan.nationalPrefix,
      origin: 'told',
      evidence: 'configuration numbers.dialPlan.nationalPrefix',
    };
  } else if (defaults !== undefined) {
    nationalPrefix = {
      value: defaults.national,
      ...derived(
        `the national trunk prefix of ${country ?? ''}` +
          (forms['0'] !== undefined ? `; ${forms['0']} number(s) sent to trunks begin with 0` : ''),
      ),
    };
  } else if ((forms['0'] ?? 0) > 0) {
    nationalPrefix = {
      value: '0',
      origin: 'inferred',
      confidence: 'low',
      evidence: `${forms['0']} number(s) sent to trunks begin with a single 0`,
      counts: { numbers: forms['0'] ?? 0 },
    };
  } else {
    nationalPrefix = { value: null, origin: 'unknown', evidence: 'no home country, no national number seen' };
  }

  const seenIdd = ['00', '011'].filter((p) => (forms[p] ?? 0) > 0);
  let internationalPrefixes: Fact<readonly string[]>;
  if (plan?.internationalPrefixes !== undefined) {
    internationalPrefixes = {
      value: plan.internationalPrefixes,
      origin: 'told',
      evidence: 'configuration numbers.dialPlan.internationalPrefixes',
    };
  } else if (seenIdd.length > 0) {
    const n = seenIdd.reduce((s, p) => s + (forms[p] ?? 0), 0);
    internationalPrefixes = {
      value: [...new Set([...seenIdd, ...(defaults?.international ?? [])])],
      origin: 'inferred',
      confidence: confidenceOf(n),
      evidence: seenIdd.map((p) => `${forms[p]} number(s) sent to trunks begin with ${p}`).join(', '),
      counts: Object.fromEntries(seenIdd.map((p) => [p, forms[p] ?? 0])),
    };
  } else if (defaults !== undefined) {
    internationalPrefixes = {
      value: defaults.international,
      ...derived(`the international prefix of ${country ?? ''}`),
    };
  } else {
    internationalPrefixes = {
      value: [],
      origin: 'unknown',
      evidence: 'no home country and no number in international form sent to a trunk',
    };
  }

  const toldEmergency = plan?.emergencyNumbers ?? [];
  const countryEmergency = country !== null ? emergencyNumbersOf(country) : [];
  const emergencyNumbers: Fact<readonly string[]> =
    toldEmergency.length > 0
      ? {
          value: [...new Set([...toldEmergency, ...countryEmergency])],
          origin: 'told',
          evidence: `configuration numbers.dialPlan.emergencyNumbers${countryEmergency.length > 0 ? `, with ${country ?? ''}'s own` : ''}`,
        }
      : country !== null
        ? {
            value: countryEmergency,
            ...derived(`the emergency numbers of ${country} (libphonenumber short-number metadata)`),
          }
        : { value: [], origin: 'unknown', evidence: 'no home country' };
  const emergencyCalls = Object.entries(learned?.emergencyCalls ?? {});
  if (emergencyCalls.length > 0)
    notes.push(
      `calls to emergency numbers were sent to trunks: ${emergencyCalls.map(([n, c]) => `${n} (${c})`).join(', ')}`,
    );

  let allowedCountries: Fact<readonly string[]>;
  const toldAllowed = config.numbers.allowedCountries;
  if (toldAllowed !== undefined) {
    allowedCountries = {
      value: toldAllowed,
      origin: 'told',
      evidence: 'configuration numbers.allowedCountries',
    };
  } else if (country !== null) {
    // Only the home country: destinations seen in traffic may be the fraud this list is meant to stop.
    allowedCountries = {
      value: [country],
      ...(homeCountry.origin === 'told'
        ? { origin: 'default' as const, evidence: "the dial plan's home country (the default)" }
        : {
            origin: 'inferred' as const,
            confidence: homeCountry.confidence ?? 'low',
            evidence: 'the home country only: allow other destinations by telling them',
          }),
    };
  } else {
    allowedCountries = {
      value: [],
      origin: 'unknown',
      evidence: 'no home country: no destination is judged foreign',
    };
  }
  const allowed = new Set(allowedCountries.value);
  const foreign = (learned?.destinationCountries ?? []).filter((d) => !allowed.has(d.country));
  if (foreign.length > 0 && allowed.size > 0)
    notes.push(
      `calls sent to trunks went to countries outside the allowed list: ${foreign.map((d) => `${d.country} (${d.calls})`).join(', ')}`,
    );

  // Time zone: told, or the UTC default; never inferred (capture times are UTC).
  const toldZone = config.timeZone !== 'UTC' ? config.timeZone : config.businessHours?.timeZone;
  const timeZone: Fact<string> =
    toldZone !== undefined
      ? {
          value: toldZone,
          origin: 'told',
          evidence:
            config.timeZone !== 'UTC' ? 'configuration timeZone' : 'configuration businessHours.timeZone',
        }
      : {
          value: 'UTC',
          origin: 'default',
          evidence: 'not configured; it cannot be inferred from traffic, whose times are UTC (set timeZone)',
        };

  let businessHours: Fact<HoursValue | null>;
  const bh = config.businessHours;
  if (bh !== undefined) {
    businessHours = {
      value: {
        timeZone: bh.timeZone,
        days: bh.days ?? [1, 2, 3, 4, 5],
        start: bh.start ?? '08:00',
        end: bh.end ?? '19:00',
      },
      origin: 'told',
      evidence: 'configuration businessHours',
    };
  } else if (learned?.businessHours !== undefined) {
    const h = learned.businessHours;
    businessHours = {
      value: { timeZone: h.timeZone, days: h.days, start: h.start, end: h.end },
      origin: 'inferred',
      confidence: h.evidence.confidence,
      evidence:
        h.evidence.detail +
        (timeZone.origin === 'told' ? '' : ' (hours in UTC: set timeZone to count them in local time)'),
      counts: h.evidence.counts,
    };
  } else {
    businessHours = {
      value: null,
      origin: 'unknown',
      evidence:
        learned === undefined
          ? 'not configured (businessHours): fraud.off-hours stays silent'
          : `not configured, and ${learned.answeredCalls} answered call(s) are too few to suggest hours`,
    };
  }

  if (learned !== undefined) {
    for (const [table, s] of Object.entries(learned.tableStats)) {
      if (s.evictions + s.rejections > 0)
        notes.push(
          `the learner's ${table} table was full: ${s.evictions} evicted, ${s.rejections} refused (a flood, or a site larger than its bound)`,
        );
    }
  }

  return {
    schemaVersion: 1,
    site: config.site,
    learned: learned !== undefined,
    addresses: { pbx, sbc, trunks, trusted },
    dids,
    extensions,
    identities,
    homeCountry,
    timeZone,
    businessHours,
    dialPlan: { outboundPrefixes, nationalPrefix, internationalPrefixes, emergencyNumbers },
    allowedCountries,
    notes,
  };
}

/** A matcher for addresses inside any of `entries` (addresses or CIDRs, validated by the schema). */
const matcher = (entries: readonly string[]): ((ip: string) => boolean) =>
  addressMatcher(entries, 'configuration');

/** Longest emergency number enumerated from the metadata's pattern (a few countries use 6 digits). */
const EMERGENCY_MAX_DIGITS = 6;
/** Emergency numbers kept per country (the dial plan's own bound). */
const EMERGENCY_MAX_NUMBERS = 32;

let shortNumbers: Readonly<Record<string, { emergency?: string }>> | undefined;

/** A country's emergency numbers, enumerated from libphonenumber's short-number pattern for it. */
export function emergencyNumbersOf(country: string): string[] {
  if (shortNumbers === undefined) {
    const raw = readJsonFile(bundledDataPath('short-numbers/short-numbers.json')) as { regions?: unknown };
    shortNumbers =
      typeof raw.regions === 'object' && raw.regions !== null
        ? (raw.regions as Record<string, { emergency?: string }>)
        : {};
  }
  const pattern = shortNumbers[country]?.emergency;
  if (pattern === undefined) return [];
  const re = new RegExp(`^(?:${pattern})$`);
  const out: string[] = [];
  // The patterns are short alternations; enumerating every string up to 6 digits (1.1 M tests, run
  // once per `site` command) is simpler than expanding the pattern and cannot miss a branch.
  for (let len = 2; len <= EMERGENCY_MAX_DIGITS && out.length < EMERGENCY_MAX_NUMBERS; len++) {
    const end = 10 ** len;
    for (let i = 0; i < end && out.length < EMERGENCY_MAX_NUMBERS; i++) {
      const s = String(i).padStart(len, '0');
      if (re.test(s)) out.push(s);
    }
  }
  return out;
}

/** A double-quoted YAML string that is also safe on a terminal (JSON escapes plus DEL, C1 and
 * bidirectional controls as \\u escapes, which YAML reads back). */
function yamlString(s: string): string {
  return JSON.stringify(s).replace(
    /[\u007f-\u009f\u2028-\u202e]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** YAML of a scalar: plain when safe, else double-quoted (JSON strings are valid YAML). */
function yamlScalar(s: string): string {
  return /^[A-Za-z0-9_./:-]+$/.test(s) &&
    !/^[0-9.:]+$/.test(s) &&
    !/^(?:true|false|null|yes|no|on|off|~)$/i.test(s)
    ? s
    : yamlString(s);
}

function flowList(xs: readonly string[]): string {
  return `[${xs.map((x) => yamlString(x)).join(', ')}]`;
}

function active(f: Fact<unknown>): boolean {
  return f.origin === 'inferred' && f.confidence !== 'low';
}

function why(f: Fact<unknown>): string {
  return `inferred (${f.confidence ?? 'low'}): ${f.evidence}`.replace(/\s+/g, ' ').slice(0, 160);
}

/** One line of a snippet section: `on` false writes it commented out. */
interface SnippetLine {
  readonly text: string;
  readonly on: boolean;
}

/** A mapping section: `key:` and its lines, or `key: {}` (and the commented lines) when none is on. */
function section(key: string, body: readonly SnippetLine[], indent = ''): string[] {
  const on = body.some((l) => l.on);
  const out = [on ? `${indent}${key}:` : `${indent}${key}: {}`];
  for (const l of body) out.push(l.on ? `${indent}  ${l.text}` : `${indent}  # ${l.text}`);
  return out;
}

/**
 * The inferred facts as configuration to paste (YAML). Each section that gains inferred values is
 * written whole, told values included, so it replaces the file's section; low-confidence values
 * are commented out until checked. Empty when nothing was inferred.
 */
export function configSnippet(facts: SiteFacts, config: Config): string {
  const lines: string[] = [];
  const addrInferred = [...facts.addresses.pbx, ...facts.addresses.trunks].some(
    (f) => f.origin === 'inferred',
  );
  if (addrInferred || facts.addresses.sbc.length > 0) {
    lines.push('network:');
    for (const [key, list] of [
      ['pbx', facts.addresses.pbx],
      ['trunks', facts.addresses.trunks],
    ] as const) {
      const on = list.filter((f) => f.origin === 'told' || active(f));
      lines.push(on.length === 0 ? `  ${key}: []` : `  ${key}:`);
      for (const f of list) {
        if (f.origin === 'told') lines.push(`    - ${yamlScalar(f.value)}   # told`);
        else if (active(f)) lines.push(`    - ${yamlScalar(f.value)}   # ${why(f)}`);
        else lines.push(`    # - ${yamlScalar(f.value)}   # ${why(f)}`);
      }
    }
    const trusted = config.network.trusted;
    lines.push(trusted.length === 0 ? '  trusted: []' : '  trusted:');
    for (const t of trusted) lines.push(`    - ${yamlScalar(t)}   # told`);
    const sbcOn = facts.addresses.sbc.filter((f) => f.origin === 'told' || active(f));
    lines.push(sbcOn.length === 0 ? '  sbc: []' : '  sbc:');
    for (const s of facts.addresses.sbc) {
      if (s.origin === 'told') lines.push(`    - ${yamlScalar(s.value)}   # told`);
      else if (active(s)) lines.push(`    - ${yamlScalar(s.value)}   # ${s.role} address: ${why(s)}`);
      else lines.push(`    # - ${yamlScalar(s.value)}   # ${s.role} address: ${why(s)}`);
    }
  }
  const newIds = facts.identities.filter((i) => i.origin === 'inferred' && i.value !== i.extension);
  if (newIds.length > 0) {
    const body: SnippetLine[] = [];
    for (const i of facts.identities) {
      const text = `${yamlString(i.value)}: ${yamlString(i.extension)}`;
      if (i.origin === 'told') body.push({ text: `${text}   # told`, on: true });
      else if (i.value !== i.extension) body.push({ text: `${text}   # ${why(i)}`, on: active(i) });
    }
    lines.push(...section('identities', body));
  }
  const dp = facts.dialPlan;
  const planFacts = [facts.homeCountry, dp.outboundPrefixes, dp.internationalPrefixes, dp.nationalPrefix];
  if (planFacts.some((f) => f.origin === 'inferred') || facts.allowedCountries.origin === 'inferred') {
    const body: SnippetLine[] = [];
    const country = facts.homeCountry.value;
    if (country !== null) {
      // The dial plan needs its country: without a usable one the whole plan stays commented.
      const planOn = facts.homeCountry.origin === 'told' || active(facts.homeCountry);
      const plan: SnippetLine[] = [
        {
          text: `country: ${country}   # ${facts.homeCountry.origin === 'told' ? 'told' : why(facts.homeCountry)}`,
          on: planOn,
        },
      ];
      const item = (key: string, f: Fact<unknown>, value: string): void => {
        if (f.origin === 'told') plan.push({ text: `${key}: ${value}   # told`, on: planOn });
        else if (f.origin === 'inferred')
          plan.push({ text: `${key}: ${value}   # ${why(f)}`, on: planOn && active(f) });
      };
      item('outboundPrefixes', dp.outboundPrefixes, flowList(dp.outboundPrefixes.value));
      if (dp.nationalPrefix.value !== null)
        item('nationalPrefix', dp.nationalPrefix, yamlString(dp.nationalPrefix.value));
      item('internationalPrefixes', dp.internationalPrefixes, flowList(dp.internationalPrefixes.value));
      if (dp.emergencyNumbers.origin === 'told')
        plan.push({
          text: `emergencyNumbers: ${flowList(config.numbers.dialPlan?.emergencyNumbers ?? [])}   # told`,
          on: planOn,
        });
      if (planOn) {
        body.push({ text: 'dialPlan:', on: true });
        for (const l of plan) body.push({ text: l.on ? `  ${l.text}` : `  # ${l.text}`, on: true });
      } else {
        body.push({ text: 'dialPlan:', on: false });
        for (const l of plan) body.push({ text: `  ${l.text}`, on: false });
      }
    }
    const a = facts.allowedCountries;
    if (a.origin === 'told') body.push({ text: `allowedCountries: ${flowList(a.value)}   # told`, on: true });
    else if (a.origin === 'inferred')
      body.push({ text: `allowedCountries: ${flowList(a.value)}   # ${why(a)}`, on: active(a) });
    if (config.numbers.riskList !== undefined)
      body.push({ text: `riskList: ${yamlString(config.numbers.riskList)}   # told`, on: true });
    lines.push(...section('numbers', body));
  }
  const bh = facts.businessHours;
  if (bh.origin === 'inferred' && bh.value !== null) {
    const v = bh.value;
    lines.push(`# ${why(bh)}`);
    lines.push('# businessHours:');
    lines.push(`#   timeZone: ${v.timeZone}`);
    lines.push(`#   days: ${JSON.stringify(v.days)}`);
    lines.push(`#   start: "${v.start}"`);
    lines.push(`#   end: "${v.end}"`);
  }
  const newDids = facts.dids.filter((d) => d.origin === 'inferred');
  if (newDids.length > 0) {
    lines.push('# DIDs seen (numbers.dids; add them once checked):');
    for (const d of facts.dids.slice(0, 20))
      lines.push(`#   - ${yamlString(d.value)}   # ${d.origin === 'told' ? 'told' : d.evidence}`);
  }
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}
