import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PbxLogEvent } from '../../src/core/records.js';
import { AttemptDedup } from '../../src/detect/attempt-dedup.js';
import { attemptFromLog, type AuthAttempt } from '../../src/detect/attempts.js';
import { DETECT_LOG_DEDUP_MAX_KEYS, DETECT_LOG_DEDUP_WINDOW_MS } from '../../src/config/limits.js';

function logEvent(over: Partial<PbxLogEvent> = {}, without: (keyof PbxLogEvent)[] = []): PbxLogEvent {
  const e: Record<string, unknown> = {
    time: 1_000_000,
    kind: 'auth-failed',
    product: 'asterisk',
    srcIp: '203.0.113.7',
    identity: '101',
    detail: 'Wrong password',
    provenance: { kind: 'log', file: 'messages', line: 1 },
    ...over,
  };
  for (const k of without) delete e[k];
  return e as unknown as PbxLogEvent;
}

function wire(a: AuthAttempt, time: number): AuthAttempt {
  return { ...a, origin: 'sip', time };
}

test('log events map to attempts: failures, unknown accounts and ACL refusals count as rejections', () => {
  assert.equal(attemptFromLog(logEvent())?.outcome, 'rejected');
  const unknown = attemptFromLog(logEvent({ kind: 'unknown-user', identity: 'admin' }));
  assert.deepEqual([unknown?.outcome, unknown?.credentials, unknown?.identity], ['not-found', true, 'admin']);
  assert.equal(attemptFromLog(logEvent({ kind: 'acl-rejected' }, ['identity']))?.identity, '');
  assert.equal(attemptFromLog(logEvent({ kind: 'auth-succeeded' }))?.outcome, 'accepted');
  assert.equal(attemptFromLog(logEvent({ kind: 'blocked' })), undefined);
  const web = attemptFromLog(logEvent({ kind: 'web-login-failed', service: 'AMI' }, ['method']));
  assert.equal(web?.method, 'AMI-LOGIN');
  assert.equal(attemptFromLog(logEvent())?.provenance.line, 1);
});

test('a log line that reports an attempt already seen on the wire is a copy, once', () => {
  const d = new AttemptDedup();
  const fromLog = attemptFromLog(logEvent())!;
  // Before any log line, the wire is not remembered (capture-only runs pay nothing).
  d.sawWire(wire(fromLog, 999_000));
  assert.equal(d.isCopy(fromLog), false);
  d.sawWire(wire(fromLog, 1_000_400));
  assert.equal(d.isCopy({ ...fromLog, time: 1_001_000 }), true, 'within the window');
  assert.equal(d.isCopy({ ...fromLog, time: 1_001_000 }), false, 'each wire attempt absorbs one line');
  d.sawWire(wire(fromLog, 1_000_000));
  assert.equal(d.isCopy({ ...fromLog, time: 1_000_000 + DETECT_LOG_DEDUP_WINDOW_MS + 1 }), false);
  assert.equal(d.isCopy({ ...fromLog, srcIp: '198.51.100.1' }), false, 'another source');
  assert.equal(d.duplicates, 1);
});

test('the dedup table stays within its bound under a flood of distinct keys', () => {
  const d = new AttemptDedup();
  const base = attemptFromLog(logEvent())!;
  d.isCopy(base);
  for (let i = 0; i < DETECT_LOG_DEDUP_MAX_KEYS + 500; i++)
    d.sawWire({ ...wire(base, 1), srcIp: `10.0.${i >> 8}.${i & 255}` });
  assert.equal(d.evictions, 500);
});
