import { ALL_RULES } from '../detect/rules/index.js';
import { parseCommandArgs } from './args.js';
import { UsageError } from './exit-codes.js';

/** `sipwarden rules`: the catalog with default severities and thresholds. */
export function runRules(args: string[]): number {
  const { values } = parseCommandArgs('rules', args, {
    format: { type: 'string', short: 'f', default: 'text' },
  });
  const format = values.format as string;
  if (format === 'json') {
    const out = ALL_RULES.map((r) => ({
      id: r.meta.id,
      title: r.meta.title,
      severity: r.meta.severity,
      thresholds: r.meta.thresholds,
      quietSeconds: r.meta.quietMs / 1000,
      description: r.meta.description,
      remediation: r.meta.remediation,
      references: r.meta.references,
    }));
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    return 0;
  }
  if (format !== 'text') throw new UsageError(`rules: --format must be text or json (got '${format}')`);
  for (const r of ALL_RULES) {
    const t = Object.entries(r.meta.thresholds)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
    process.stdout.write(
      `${r.meta.id.padEnd(34)} ${r.meta.severity.padEnd(9)} ${r.meta.title}${t === '' ? '' : `  [${t}]`}\n`,
    );
  }
  process.stdout.write(`\n${ALL_RULES.length} rules; each is documented in docs/rules/<id>.md\n`);
  return 0;
}
