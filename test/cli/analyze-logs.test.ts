/**
 * `analyze` on PBX logs: each CrowdSec scenario log of the corpus (a leaky bucket that bans the
 * source) raises the matching sipwarden alert against the same source; the parser-only logs, whose
 * lines stay under every threshold, raise nothing at medium or above. The scenario's expected source
 * is read from its scenario.assert, not restated here.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { severityRank } from '../../src/core/alert.js';
import { analyzeFiles } from '../../src/cli/analyze.js';

const DIR = '../shared/corpus/pbx-logs/crowdsec-hub/tests';

// CrowdSec scenario → the sipwarden rule that covers it.
const EXPECTED_RULE: Record<string, string> = {
  'asterisk-bf': 'auth.bruteforce',
  // Six distinct accounts from one source: rejected across many identities.
  'asterisk-user-enum': 'auth.credential-stuffing',
  'freeswitch-bf': 'auth.bruteforce',
  // The same unknown account six times: failed logins of one identity from one source.
  'freeswitch-user-enumeration': 'auth.bruteforce',
  // The ACL refused the source 16 times; the log names no account.
  'freeswitch-acl-reject': 'auth.bruteforce',
};

function logOf(dir: string): string {
  const f = readdirSync(join(DIR, dir)).find((n) => n.endsWith('.log'));
  assert.ok(f, `${dir} has a log`);
  return join(DIR, dir, f);
}

for (const dir of readdirSync(DIR).sort()) {
  const scenario = readFileSync(join(DIR, dir, 'scenario.assert'), 'utf8');
  if (scenario.trim() === '') {
    test(`crowdsec ${dir}: parser-only log raises nothing at medium or above`, async () => {
      const { document, errors } = await analyzeFiles([logOf(dir)]);
      assert.deepEqual(errors, []);
      assert.match(document.summary.inputs[0]!.format, /^log:/);
      assert.ok((document.summary.inputs[0]!.logEvents ?? 0) > 0, 'lines were recognised');
      assert.deepEqual(
        document.alerts.filter((a) => severityRank(a.severity) >= severityRank('medium')).map((a) => a.rule),
        [],
      );
    });
    continue;
  }
  test(`crowdsec ${dir}: the scenario's ban is a sipwarden alert on the same source`, async () => {
    const source = /"([0-9a-f.:]+)" in results\[0\]\.Overflow\.GetSources\(\)/.exec(scenario)?.[1];
    assert.ok(source, 'scenario.assert names the banned source');
    const events = [...scenario.matchAll(/Alert\.Events\[(\d+)\]/g)].map((m) => Number(m[1]));
    const expectedEvents = Math.max(...events) + 1;
    const { document, errors } = await analyzeFiles([logOf(dir)]);
    assert.deepEqual(errors, []);
    const rule = EXPECTED_RULE[dir];
    assert.ok(rule, `no expectation for ${dir}`);
    const hit = document.alerts.filter((a) => a.rule === rule && a.source?.ip === source);
    assert.equal(
      hit.length,
      1,
      `${rule} from ${source}: ${JSON.stringify(document.alerts.map((a) => a.rule))}`,
    );
    assert.equal(hit[0]!.count, expectedEvents, 'every event of the scenario counted');
  });
}

test('analyze tells a PBX log from a capture and a SIP file, and names an unrecognised text file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sw-analyze-logs-'));
  const junk = join(dir, 'notes.txt');
  writeFileSync(junk, 'hello\nthis is not a log sipwarden knows\n');
  const { document, errors } = await analyzeFiles([junk]);
  assert.equal(document.summary.inputs[0]!.format, 'unknown');
  assert.equal(errors.length, 1);
  assert.match(errors[0]!, /notes\.txt: not a capture .* PBX log/);
});

test('a PBX log and a SIP-free capture run together: log failures count with the wire', async () => {
  const { document } = await analyzeFiles([logOf('asterisk-bf'), logOf('freeswitch-bf')]);
  const sources = document.alerts.filter((a) => a.rule === 'auth.bruteforce').map((a) => a.source?.ip);
  assert.deepEqual(sources.sort(), ['1.2.3.4', '172.17.0.1']);
});
