/** Runs the whole analyze pipeline on one capture with a chosen rule list; the file must read cleanly. */
import assert from 'node:assert/strict';
import { analyzeFiles } from '../../src/cli/analyze.js';
import type { AlertJson } from '../../src/core/alert.js';
import type { RuleModule } from '../../src/detect/rule.js';

export async function analyzeCapture(file: string, rules: readonly RuleModule[]): Promise<AlertJson[]> {
  const { document, errors } = await analyzeFiles([file], { rules });
  assert.deepEqual(errors, [], `${file} reads cleanly`);
  return document.alerts;
}
