import type { RuleMeta } from './rule.js';

/** The docs/rules/<id>.md page of a rule, generated from its declaration so the two never drift. */
export function renderRulePage(meta: RuleMeta): string {
  const lines: string[] = [];
  lines.push(`# \`${meta.id}\` — ${meta.title}`, '');
  lines.push(
    `Default severity: **${meta.severity}**. An open alert closes after ${humanMs(meta.quietMs)} without new events.`,
    '',
  );
  lines.push('## What it sees', '', meta.description, '');
  lines.push('## Thresholds', '');
  const keys = Object.keys(meta.thresholds);
  if (keys.length === 0) lines.push('None: the rule speaks once per peer when its condition is met.');
  else {
    lines.push('| threshold | default |', '|---|---|');
    for (const k of keys) lines.push(`| \`${k}\` | ${meta.thresholds[k]} |`);
    lines.push(
      '',
      `Override per site in the configuration: \`rules: { "${meta.id}": { thresholds: { ... } } }\`.`,
    );
  }
  lines.push('', '## What does not count', '', meta.falsePositives, '');
  lines.push('## How to fix', '', meta.remediation, '');
  lines.push('## References', '');
  for (const r of meta.references) lines.push(`- ${r}`);
  lines.push('');
  return lines.join('\n');
}

function humanMs(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  return `${ms / 1000} s`;
}
