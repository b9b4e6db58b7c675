/** Writes docs/rules/<id>.md for every rule from its declaration (`npm run docs`). */
import { mkdirSync, writeFileSync } from 'node:fs';
import { ALL_RULES } from '../src/detect/rules/index.js';
import { renderRulePage } from '../src/detect/rule-docs.js';

mkdirSync('docs/rules', { recursive: true });
for (const r of ALL_RULES) writeFileSync(`docs/rules/${r.meta.id}.md`, renderRulePage(r.meta));
process.stdout.write(`wrote ${ALL_RULES.length} rule pages to docs/rules/\n`);
