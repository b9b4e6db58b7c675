/**
 * The audit against the lab's real Kamailio in the leaky profile (unknown users answered 404, a
 * Server header with the version, no rate limiting, 101 and 103 with weak passwords) on 127.0.0.70.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { auditTarget } from '../../src/audit/run.js';
import { labUnavailable, startPbx, testOptions, type LabPbx } from './lab-helper.js';

const ADDR = '127.0.0.70';
const skip = labUnavailable();
const target = { host: ADDR, port: undefined, address: ADDR, family: 4 as const };
let pbx: LabPbx | undefined;

before(() => {
  if (skip === undefined) pbx = startPbx('leaky', ADDR);
});
after(() => pbx?.stop());

test('leaky: version disclosure and the enumeration oracle on every method', { skip }, async () => {
  const r = await auditTarget(
    target,
    testOptions({
      checks: ['fingerprint', 'enumeration', 'challenges', 'tls'],
      extensions: ['100', '101'],
      rate: 100,
    }),
  );
  const ids = r.findings.map((f) => f.id);
  assert.ok(ids.includes('audit.version-disclosure'), ids.join(', '));
  const vd = r.findings.find((f) => f.id === 'audit.version-disclosure');
  assert.match(JSON.stringify(vd?.evidence), /kamailio \(5\.6/);
  const oracle = r.findings.filter((f) => f.id === 'audit.enumeration-oracle');
  assert.deepEqual(oracle.map((f) => f.evidence.method).sort(), ['INVITE', 'OPTIONS', 'REGISTER']);
  const reg = oracle.find((f) => f.evidence.method === 'REGISTER');
  assert.equal(reg?.evidence.unknownAnswer, '404');
  assert.match(String(reg?.evidence.knownAnswer), /^401 WWW-Authenticate/);
  // Kamailio's nonces (timestamp + HMAC) are healthy; MD5 only is reported.
  assert.ok(!ids.includes('audit.weak-nonce'));
  assert.ok(ids.includes('audit.digest-md5-only'));
  assert.match(String(reg?.evidence.response), /^SIP\/2\.0 401 Unauthorized\n/);
  assert.match(String(reg?.evidence.response), /nonce="\(masked\)"/);
  const cert = r.findings.find((f) => f.id === 'audit.tls-certificate');
  assert.deepEqual(cert?.evidence.problems, ['self-signed', 'wrong-name']);
  assert.equal(r.target.vantage.kind, 'same-host');
  assert.equal(r.parameters.refusedOutOfScope, 0);
  assert.ok(r.score < 100 && r.score >= 0);
});

test('leaky (intrusive): weak passwords found and hidden, no rate limit', { skip }, async () => {
  const r = await auditTarget(
    target,
    testOptions({
      checks: ['fingerprint', 'weak-password', 'rate-limit'],
      intrusive: true,
      extensions: ['101', '103', '105'],
      // The lab's wordlist, which holds 101's password.
      wordlist: readFileSync('test/lab/wordlists/small.txt', 'utf8')
        .split('\n')
        .filter((w) => w !== ''),
      rate: 100,
      rateLimitAttempts: 12,
    }),
  );
  const weak = r.findings.filter((f) => f.id === 'audit.weak-password');
  assert.deepEqual(weak.map((f) => f.evidence.extension).sort(), ['101', '103']);
  const text = JSON.stringify(r);
  assert.ok(!text.includes('"1234"'), 'a guessed password never appears without --show-passwords');
  const nrl = r.findings.find((f) => f.id === 'audit.no-rate-limit');
  assert.ok(nrl, 'no-rate-limit expected');
  assert.equal(nrl.evidence.failedLogins, 12);
  assert.equal(nrl.evidence.blocked, false);
});

test('leaky (intrusive): --show-passwords shows what was guessed', { skip }, async () => {
  const r = await auditTarget(
    target,
    testOptions({
      checks: ['fingerprint', 'weak-password'],
      intrusive: true,
      extensions: ['103'],
      showPasswords: true,
    }),
  );
  const f = r.findings.find((x) => x.id === 'audit.weak-password');
  assert.deepEqual(f?.evidence.found, { password: '103', source: 'the extension number' });
});

test('leaky: intrusive checks are skipped without --intrusive', { skip }, async () => {
  const r = await auditTarget(
    target,
    testOptions({ checks: ['fingerprint', 'weak-password', 'rate-limit'] }),
  );
  assert.deepEqual(
    r.parameters.skipped.filter((s) => /needs --intrusive/.test(s.reason)).map((s) => s.check),
    ['weak-password', 'rate-limit'],
  );
  assert.deepEqual(r.parameters.checksRun, ['fingerprint']);
  assert.ok(r.findings.every((f) => f.id !== 'audit.weak-password' && f.id !== 'audit.no-rate-limit'));
});
