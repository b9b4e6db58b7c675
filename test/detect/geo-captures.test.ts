/**
 * The geography captures (test/fixtures/captures/geo/: real tools on loopback, given public addresses
 * by test/lab/bin/pcap-rewrite.py --map) read with the bundled country and ASN databases: the alerts
 * each entry of geo/expected.json requires are raised with the right source, country, AS and
 * evidence, and the benign ones stay silent at medium and above.
 */
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { test } from 'node:test';
import { isSeverity, severityRank, type AlertJson } from '../../src/core/alert.js';
import { analyzeFiles } from '../../src/cli/analyze.js';
import { parseConfig, type Config } from '../../src/config/config.js';
import { ALL_RULES } from '../../src/detect/rules/index.js';

/** One alert that must be raised: its rule and, as subsets, the fields it must carry. */
interface Required {
  rule: string;
  severity?: string;
  count?: number;
  source?: Record<string, unknown>;
  target?: Record<string, unknown>;
  evidence?: Record<string, unknown>;
}

interface Entry {
  name: string;
  file: string;
  benign: boolean;
  description: string;
  config: unknown;
  mustRaise: Required[];
  mustNotRaise: string[];
  mustNotRaiseAtOrAbove?: string;
  findings?: string[];
  mayRaise?: string[];
}

const DIR = 'test/fixtures/captures/geo';
const entries = (JSON.parse(readFileSync(`${DIR}/expected.json`, 'utf8')) as { captures: Entry[] }).captures;
const shipped = new Set(ALL_RULES.map((r) => r.meta.id));

/** An entry's site configuration, through the product's own loader (YAML is a superset of JSON). */
function siteConfig(e: Entry): Config {
  return parseConfig(JSON.stringify(e.config), `geo/expected.json: ${e.name}: config`, shipped);
}

/** True when `actual` holds every field of `wanted` (objects compared as subsets, arrays exactly). */
function matches(actual: unknown, wanted: unknown): boolean {
  if (wanted !== null && typeof wanted === 'object' && !Array.isArray(wanted)) {
    if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) return false;
    const a = actual as Record<string, unknown>;
    return Object.entries(wanted).every(([k, v]) => matches(a[k], v));
  }
  return JSON.stringify(actual) === JSON.stringify(wanted);
}

function fits(a: AlertJson, r: Required): boolean {
  return (
    a.rule === r.rule &&
    (r.severity === undefined || a.severity === r.severity) &&
    (r.count === undefined || a.count === r.count) &&
    matches(a.source ?? {}, r.source ?? {}) &&
    matches(a.target ?? {}, r.target ?? {}) &&
    matches(a.evidence, r.evidence ?? {})
  );
}

function describe(a: AlertJson): string {
  return `${a.rule} ${a.severity} ${a.source?.ip ?? '-'} ${a.target?.identity ?? '-'}: ${a.title}`;
}

test('geo/expected.json: every configuration is valid and every capture is there', () => {
  assert.ok(entries.length >= 5);
  for (const e of entries) {
    assert.ok(statSync(`${DIR}/${e.file}`).size > 24, `${e.file} has packets`);
    const c = siteConfig(e);
    assert.ok(c.geo !== undefined, `${e.name}: the geo rules are on`);
    for (const r of [...e.mustRaise.map((x) => x.rule), ...e.mustNotRaise]) {
      assert.ok(shipped.has(r), `${e.name}: ${r} is a shipped rule`);
    }
    if (e.mustNotRaiseAtOrAbove !== undefined) assert.ok(isSeverity(e.mustNotRaiseAtOrAbove));
  }
  const benign = entries.filter((e) => e.benign);
  const attacks = entries.filter((e) => !e.benign);
  assert.ok(benign.length >= 2 && attacks.length >= 3);
  for (const rule of ['geo.new-country', 'geo.hosting-provider']) {
    assert.ok(
      attacks.some((e) => e.mustRaise.some((r) => r.rule === rule)),
      `a capture must raise ${rule}`,
    );
    assert.ok(
      benign.every((e) => e.mustNotRaise.includes(rule)),
      `benign captures must not raise ${rule}`,
    );
  }
});

for (const e of entries) {
  test(`geo capture ${e.name}`, async () => {
    const { document, errors, dispose } = await analyzeFiles([`${DIR}/${e.file}`], {
      config: siteConfig(e),
    });
    try {
      assert.deepEqual(errors, []);
      assert.deepEqual(document.summary.anomalies, {}, 'the rewritten SIP parses cleanly');
      const alerts = document.alerts;
      const seen = alerts.map(describe).join('\n');
      for (const r of e.mustRaise) {
        assert.ok(
          alerts.some((a) => fits(a, r)),
          `${r.rule} must be raised as ${JSON.stringify(r)}; raised:\n${seen}`,
        );
      }
      // A required rule names only the sources and identities the entry lists (never the phones).
      for (const rule of new Set(e.mustRaise.map((r) => r.rule))) {
        const wanted = e.mustRaise.filter((r) => r.rule === rule);
        for (const a of alerts.filter((x) => x.rule === rule)) {
          assert.ok(
            wanted.some((r) => fits(a, r)),
            `unexpected ${describe(a)} ${JSON.stringify(a.evidence)}`,
          );
        }
      }
      for (const rule of e.mustNotRaise) {
        const found = alerts.filter((a) => a.rule === rule);
        assert.deepEqual(found.map(describe), [], `${rule} must not be raised`);
      }
      if (e.mustNotRaiseAtOrAbove !== undefined) {
        const floor = severityRank(e.mustNotRaiseAtOrAbove as AlertJson['severity']);
        const allowed = new Set([...(e.findings ?? []), ...(e.mayRaise ?? [])]);
        const loud = alerts.filter((a) => severityRank(a.severity) >= floor && !allowed.has(a.rule));
        assert.deepEqual(loud.map(describe), [], `nothing at ${e.mustNotRaiseAtOrAbove} or above`);
        for (const f of e.findings ?? []) {
          assert.ok(
            alerts.some((a) => a.rule === f),
            `${f} is a finding this traffic really has`,
          );
        }
      }
    } finally {
      dispose();
    }
  });
}
