/**
 * `sipwarden site [capture|log...] [--config FILE] [--format text|json]`: the site model — what the
 * configuration tells and what the inputs teach (docs/site.md) — with the evidence for each fact and
 * a configuration snippet for the inferred ones. Inputs go through the same pipeline as `analyze`.
 */
import type { InputSummary } from '../analyze/summary.js';
import { parseCdrSpec, type CdrFileSpec } from '../cdr/cdr-config.js';
import { ConfigError, defaultConfig, loadConfig, type Config } from '../config/config.js';
import { escapeText } from '../core/escape.js';
import type { RuleModule } from '../detect/rule.js';
import { ALL_RULES } from '../detect/rules/index.js';
import {
  configSnippet,
  siteFacts,
  type AddressFact,
  type Fact,
  type SiteFacts,
} from '../detect/site-facts.js';
import { SiteLearner } from '../detect/site-learner.js';
import { analyzeFiles } from './analyze.js';
import { parseCommandArgs } from './args.js';
import { EXIT_INPUT, EXIT_OK, EXIT_USAGE, UsageError } from './exit-codes.js';

/** The document `site --format json` prints (docs/site.md). */
export interface SiteJson extends SiteFacts {
  /** The inputs read (as in `analyze`'s summary). */
  readonly inputs: readonly InputSummary[];
  /** SIP messages read from all inputs. */
  readonly sipMessages: number;
  /** The inferred facts as configuration (YAML), low-confidence ones commented out. */
  readonly snippet: string;
}

/** What a `site` run produced. */
export interface SiteResult {
  readonly document: SiteJson;
  /** Input errors (one line each, naming the file). */
  readonly errors: readonly string[];
}

/** Runs the learner over the inputs (none: told facts only) and merges it with the configuration. */
export async function learnSite(
  files: readonly string[],
  options: { config?: Config; cdr?: readonly CdrFileSpec[] } = {},
): Promise<SiteResult> {
  const config = options.config ?? defaultConfig();
  const cdr = options.cdr ?? [];
  const reads = files.length > 0 || cdr.length > 0 || config.cdr.files.length > 0;
  let learned;
  let inputs: InputSummary[] = [];
  let sipMessages = 0;
  let errors: string[] = [];
  if (reads) {
    const learner = new SiteLearner({
      timeZone: config.timeZone !== 'UTC' ? config.timeZone : (config.businessHours?.timeZone ?? 'UTC'),
    });
    // The learner rides the analyze pipeline as its only detector: same decoding, tracking and
    // request outcomes as the rules see, and no rule runs.
    const module: RuleModule = { meta: LEARNER_META, create: () => learner.detector() };
    const r = await analyzeFiles(files, { config, rules: [module], cdr });
    inputs = r.document.summary.inputs;
    sipMessages = r.document.summary.sipMessages;
    errors = r.errors;
    r.dispose();
    learned = learner.infer({
      pbx: config.network.pbx,
      trunks: config.network.trunks,
      country: config.numbers.dialPlan?.country,
    });
  }
  const facts = siteFacts(config, learned);
  return { document: { ...facts, inputs, sipMessages, snippet: configSnippet(facts, config) }, errors };
}

/** The learner's place among detectors (never raises; not in the rule catalog). */
const LEARNER_META = {
  id: 'site.learner',
  title: 'Site learner',
  severity: 'info',
  description: 'Learns the site model from traffic (sipwarden site).',
  falsePositives: 'Raises nothing.',
  remediation: 'None.',
  references: [],
  thresholds: {},
  quietMs: 60_000,
} as const;

/** `sipwarden site`: parses flags, runs, prints, and returns the exit code. */
export async function runSite(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('site', args, {
    format: { type: 'string', short: 'f', default: 'text' },
    config: { type: 'string', short: 'c' },
    cdr: { type: 'string', multiple: true },
  });
  const format = values.format as string;
  if (format !== 'text' && format !== 'json')
    throw new UsageError(`site: --format must be text or json (got '${format}')`);
  const cdr: CdrFileSpec[] = [];
  for (const spec of (values.cdr as string[] | undefined) ?? []) {
    const c = parseCdrSpec(spec);
    if ('error' in c) throw new UsageError(`site: ${c.error}`);
    cdr.push(c);
  }
  let config: Config | undefined;
  const configPath = values.config as string | undefined;
  let result: SiteResult;
  try {
    if (configPath !== undefined)
      config = await loadConfig(configPath, new Set(ALL_RULES.map((r) => r.meta.id)));
    result = await learnSite(positionals, { ...(config !== undefined ? { config } : {}), cdr });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`sipwarden: ${err.message}\n`);
      return EXIT_USAGE;
    }
    throw err;
  }
  const text =
    format === 'json'
      ? `${JSON.stringify(result.document, null, 2)}\n`
      : siteTextLines(result.document).join('\n');
  await new Promise<void>((resolve, reject) =>
    process.stdout.write(text, (err) => (err ? reject(err) : resolve())),
  );
  for (const e of result.errors) process.stderr.write(`sipwarden: ${e}\n`);
  return result.errors.length > 0 ? EXIT_INPUT : EXIT_OK;
}

/** Extensions listed in the text report; the JSON has them all. */
const TEXT_MAX_EXTENSIONS = 50;

function origin(f: Fact<unknown>): string {
  return f.origin === 'inferred' ? `inferred, ${f.confidence ?? 'low'}` : f.origin;
}

function row(label: string, value: string, f: Fact<unknown>, width = 24): string {
  return `  ${label.padEnd(width)} ${value.padEnd(18)} ${origin(f).padEnd(16)} ${f.evidence}`;
}

function addressRow(a: AddressFact): string {
  const extra: string[] = [];
  if (a.seen === false) extra.push('not seen in the inputs');
  if (a.ports !== undefined && a.ports.length > 0) extra.push(`ports ${a.ports.join(', ')}`);
  if (a.agents !== undefined && a.agents.length > 0)
    extra.push(`agents ${a.agents.map((x) => `"${escapeText(x, 60)}"`).join(', ')}`);
  return `${row(a.role, escapeText(a.value, 45), a, 8)}${extra.length > 0 ? ` [${extra.join('; ')}]` : ''}`;
}

/** The text report: each fact with its value, origin and evidence; notes; the snippet. */
export function siteTextLines(d: SiteJson): string[] {
  const out: string[] = [];
  const read = d.inputs.length;
  out.push(
    `Site ${escapeText(d.site, 64)}: ` +
      (d.learned
        ? `${read} input(s) read, ${d.sipMessages} SIP message(s); told = configuration, inferred = learned from traffic`
        : "no input read: the configuration's facts only (give captures or logs to learn from)"),
  );
  out.push('', 'Addresses');
  const addresses = [...d.addresses.pbx, ...d.addresses.sbc, ...d.addresses.trunks, ...d.addresses.trusted];
  if (addresses.length === 0) out.push('  (none told or inferred)');
  for (const a of addresses) out.push(addressRow(a));

  out.push('', `Extensions (${d.extensions.length})`);
  if (d.extensions.length === 0) out.push('  (none seen)');
  for (const e of d.extensions.slice(0, TEXT_MAX_EXTENSIONS)) {
    const parts = [
      `identities ${e.identities.map((x) => escapeText(x, 40)).join(', ') || '-'}`,
      `contacts ${e.contacts.map((x) => escapeText(x, 50)).join(', ') || '-'}`,
    ];
    if (e.userAgents.length > 0)
      parts.push(`agents ${e.userAgents.map((x) => `"${escapeText(x, 60)}"`).join(', ')}`);
    out.push(
      `  ${escapeText(e.value, 20).padEnd(10)} ${origin(e).padEnd(16)} ${e.evidence}; ${parts.join('; ')}`,
    );
  }
  if (d.extensions.length > TEXT_MAX_EXTENSIONS)
    out.push(`  ... ${d.extensions.length - TEXT_MAX_EXTENSIONS} more (--format json lists them all)`);

  out.push('', 'Identity map (digest user name -> extension)');
  if (d.identities.length === 0) out.push('  (none told or seen)');
  for (const i of d.identities.slice(0, TEXT_MAX_EXTENSIONS))
    out.push(row(`${escapeText(i.value, 40)} -> ${escapeText(i.extension, 20)}`, '', i, 30));
  if (d.identities.length > TEXT_MAX_EXTENSIONS)
    out.push(`  ... ${d.identities.length - TEXT_MAX_EXTENSIONS} more (--format json lists them all)`);

  out.push('', 'DIDs');
  if (d.dids.length === 0)
    out.push('  (none seen: no call from a trunk to a number other than an extension)');
  for (const n of d.dids.slice(0, TEXT_MAX_EXTENSIONS)) out.push(row(escapeText(n.value, 30), '', n));
  if (d.dids.length > TEXT_MAX_EXTENSIONS)
    out.push(`  ... ${d.dids.length - TEXT_MAX_EXTENSIONS} more (--format json lists them all)`);

  out.push('', 'Location and hours');
  out.push(row('home country', d.homeCountry.value ?? '-', d.homeCountry));
  out.push(row('time zone', d.timeZone.value, d.timeZone));
  const bh = d.businessHours.value;
  out.push(
    row(
      'business hours',
      bh === null ? '-' : `${bh.start}-${bh.end} days ${bh.days.join(',')}`,
      d.businessHours,
    ),
  );

  out.push('', 'Dial plan');
  const list = (xs: readonly string[]): string => (xs.length === 0 ? '-' : xs.join(', '));
  out.push(row('outbound prefixes', list(d.dialPlan.outboundPrefixes.value), d.dialPlan.outboundPrefixes));
  out.push(row('national prefix', d.dialPlan.nationalPrefix.value ?? '-', d.dialPlan.nationalPrefix));
  out.push(
    row(
      'international prefixes',
      list(d.dialPlan.internationalPrefixes.value),
      d.dialPlan.internationalPrefixes,
    ),
  );
  out.push(row('emergency numbers', list(d.dialPlan.emergencyNumbers.value), d.dialPlan.emergencyNumbers));
  out.push(row('allowed countries', list(d.allowedCountries.value), d.allowedCountries));

  if (d.notes.length > 0) {
    out.push('', 'Notes');
    for (const n of d.notes) out.push(`  - ${n}`);
  }
  if (d.snippet !== '') {
    out.push(
      '',
      'Configuration for the inferred facts (low confidence commented out; check before use):',
      '',
    );
    out.push(...d.snippet.trimEnd().split('\n'));
  }
  out.push('');
  return out;
}
