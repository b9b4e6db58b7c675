import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { renderRulePage } from '../../src/detect/rule-docs.js';
import { ALL_RULES } from '../../src/detect/rules/index.js';

// The rule ids and default severities of DESIGN.md's catalog: a contract users' scripts rely on.
const CATALOG: Record<string, string> = {
  'scan.tool-fingerprint': 'medium',
  'recon.extension-enumeration': 'high',
  'exposure.enumeration-oracle': 'medium',
  'auth.bruteforce': 'high',
  'auth.credential-stuffing': 'high',
  'auth.distributed-bruteforce': 'high',
  'auth.low-and-slow': 'medium',
  'auth.stale-credentials': 'low',
  'auth.success-after-failures': 'critical',
  'auth.digest-replay': 'high',
  'auth.weak-password': 'critical',
  'crypto.weak-nonce': 'medium',
  'crypto.predictable-identifiers': 'low',
  'exposure.cleartext-signaling': 'low',
  'exposure.unencrypted-media': 'low',
  'exposure.vulnerable-version': 'medium',
  'dos.flood': 'high',
  'protocol.malformed': 'low',
  'protocol.injection': 'high',
  'call.unauthenticated-accepted': 'critical',
  'session.dialog-hijack': 'high',
  'session.media-redirect': 'high',
  'registration.hijack': 'high',
  'fraud.premium-destination': 'critical',
  'fraud.international-destination': 'medium',
  'fraud.prefix-probing': 'high',
  'fraud.call-volume': 'high',
  'fraud.concurrent-calls': 'high',
  'fraud.off-hours': 'medium',
  'fraud.sequential-dialing': 'medium',
  'geo.new-country': 'medium',
  'geo.hosting-provider': 'medium',
  // Beyond DESIGN.md's catalog (an extension, not a rename): watch's own sources failing.
  'sensor.source-health': 'high',
};

test('every shipped rule is in the catalog with its default severity, once', () => {
  const ids = ALL_RULES.map((r) => r.meta.id);
  assert.equal(new Set(ids).size, ids.length, 'duplicate rule id');
  for (const r of ALL_RULES) assert.equal(r.meta.severity, CATALOG[r.meta.id], r.meta.id);
});

test('every rule has its docs/rules page, up to date with its declaration (npm run docs)', () => {
  for (const r of ALL_RULES) {
    const path = `docs/rules/${r.meta.id}.md`;
    assert.ok(existsSync(path), `${path} is missing`);
    assert.equal(readFileSync(path, 'utf8'), renderRulePage(r.meta), `${path} is stale: run npm run docs`);
  }
});

test('every rule declares a remediation naming the 3CX setting and the generic fix, and references', () => {
  for (const r of ALL_RULES) {
    assert.match(r.meta.remediation, /3CX/, r.meta.id);
    assert.match(r.meta.remediation, /Any PBX|Asterisk|Kamailio/, r.meta.id);
    assert.ok(r.meta.references.length > 0, r.meta.id);
    assert.ok(r.meta.description.length > 40 && r.meta.falsePositives.length > 20, r.meta.id);
  }
});
