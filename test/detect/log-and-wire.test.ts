/**
 * A failed login the PBX logs and the sensor also sees on the wire is one attempt, not two
 * (DESIGN.md: the same message seen over HEP and in a log is counted once): auth.bruteforce fed
 * both copies of four rejections stays under its threshold of five, while four wire rejections
 * plus one log line that has no wire copy reach it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PbxLogEvent } from '../../src/core/records.js';
import { authBruteforce } from '../../src/detect/rules/auth-bruteforce.js';
import { register, T0 } from '../helpers/call-traffic.js';
import { ruleHarness } from '../helpers/rule-harness.js';

const ATTACKER = '203.0.113.66';

function logLine(time: number, line: number): PbxLogEvent {
  return {
    time,
    kind: 'auth-failed',
    product: 'kamailio',
    srcIp: ATTACKER,
    srcPort: 5060,
    method: 'REGISTER',
    identity: '101',
    detail: 'sipwarden auth-failed',
    provenance: { kind: 'log', file: 'kamailio.log', line },
  };
}

test('a rejection seen on the wire and in the log counts once', () => {
  const h = ruleHarness(authBruteforce);
  // The log speaks first (an earlier line of another attempt), so wire attempts are remembered.
  h.engine.logEvent({ ...logLine(T0, 1), identity: '999' });
  for (let i = 0; i < 4; i++) {
    const t = T0 + 1000 + i * 2000;
    register(h, t, ATTACKER, '101', '403 Forbidden');
    // The PBX's log line for that rejection, a second later (log times have second precision).
    h.engine.logEvent(logLine(t + 1000, i + 2));
  }
  assert.equal(h.engine.dedup.duplicates, 4, 'each log line matched its wire copy');
  assert.deepEqual(
    h.finish().filter((a) => a.rule === 'auth.bruteforce'),
    [],
    'four rejections, not eight',
  );
});

test('a log line with no wire copy still counts', () => {
  const h = ruleHarness(authBruteforce);
  h.engine.logEvent({ ...logLine(T0, 1), identity: '999' });
  for (let i = 0; i < 4; i++) register(h, T0 + 1000 + i * 2000, ATTACKER, '101', '403 Forbidden');
  // Twenty seconds later: outside the matching window, a fifth rejection only the log saw.
  h.engine.logEvent(logLine(T0 + 30_000, 9));
  const alerts = h.finish().filter((a) => a.rule === 'auth.bruteforce');
  assert.equal(alerts.length, 1);
  assert.equal(alerts[0]!.count, 5);
  assert.equal(alerts[0]!.source?.ip, ATTACKER);
});
