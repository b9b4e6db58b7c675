/**
 * The audit against the lab's real Kamailio in the hardened profile (every user challenged alike,
 * no Server header, pike blocking more than 30 requests in 2 s) on 127.0.0.71.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { auditTarget } from '../../src/audit/run.js';
import { labUnavailable, startPbx, testOptions, type LabPbx } from './lab-helper.js';

const ADDR = '127.0.0.71';
const skip = labUnavailable();
const target = { host: ADDR, port: undefined, address: ADDR, family: 4 as const };
let pbx: LabPbx | undefined;

before(() => {
  if (skip === undefined) pbx = startPbx('hardened', ADDR);
});
after(() => pbx?.stop());

test('hardened: no enumeration oracle, no version disclosure', { skip }, async () => {
  // Below pike's threshold (15 requests/s), from an address of its own.
  const r = await auditTarget(
    target,
    testOptions({
      checks: ['fingerprint', 'enumeration', 'tls'],
      extensions: ['101'],
      rate: 12,
      localAddress: '127.0.0.72',
    }),
  );
  const ids = r.findings.map((f) => f.id);
  assert.ok(!ids.includes('audit.enumeration-oracle'), ids.join(', '));
  assert.ok(!ids.includes('audit.version-disclosure'), ids.join(', '));
  const cert = r.findings.find((f) => f.id === 'audit.tls-certificate');
  assert.ok((cert?.evidence.problems as string[]).includes('self-signed'));
  const methods = (r.checks.enumeration as { methods: { method: string; unknownAnswer: string }[] }).methods;
  assert.deepEqual(
    methods.map((m) => `${m.method} ${m.unknownAnswer}`),
    [
      'REGISTER 401 WWW-Authenticate realm=sipwarden.lab',
      'INVITE 407 Proxy-Authenticate realm=sipwarden.lab',
      'OPTIONS 200',
    ],
  );
});

test('hardened (intrusive): the rate-limit test sees the block and stops', { skip }, async () => {
  const logs: string[] = [];
  const r = await auditTarget(
    target,
    testOptions({
      checks: ['fingerprint', 'rate-limit'],
      intrusive: true,
      extensions: ['100'],
      rate: 60,
      localAddress: '127.0.0.73',
      rateLimitAttempts: 40,
      timeoutMs: 300,
      log: (l) => logs.push(l),
    }),
  );
  assert.ok(!r.findings.some((f) => f.id === 'audit.no-rate-limit'));
  const rl = r.checks['rate-limit'] as { blocked: boolean; blockedAfterAttempts: number };
  assert.equal(rl.blocked, true);
  assert.ok(rl.blockedAfterAttempts < 40, `blocked after ${rl.blockedAfterAttempts}`);
  assert.ok(
    logs.some((l) => /may block this address/.test(l)),
    'the test is announced',
  );
});
