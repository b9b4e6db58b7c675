import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { AuthAttempt } from '../../src/detect/attempts.js';
import { RejectionProfile, STALE_MIN_INTERVAL_MS } from '../../src/detect/auth-profile.js';

const T0 = Date.UTC(2026, 2, 3, 1, 0, 0);

/** A rejected REGISTER seen on the wire (frame set) or in a log (no request, no frame). */
function attempt(o: {
  time: number;
  callId?: string;
  ua?: string;
  method?: string;
  status?: number;
  frame?: number;
  line?: number;
}): AuthAttempt {
  return {
    time: o.time,
    origin: o.callId === undefined ? 'log' : 'sip',
    request: o.callId === undefined ? undefined : { callId: o.callId, time: o.time },
    provenance:
      o.callId === undefined
        ? { kind: 'log', file: '/var/log/pbx.log', line: o.line ?? 1 }
        : { kind: 'capture', frame: o.frame },
    method: o.method ?? 'REGISTER',
    status: o.status ?? 401,
    userAgent: o.ua ?? '',
    outcome: 'rejected',
    credentials: true,
    identity: '100',
  } as unknown as AuthAttempt;
}

test('a profile of one rejection gives the evidence of that rejection', () => {
  const p = new RejectionProfile();
  assert.deepEqual(p.evidence(), {
    methods: {},
    statuses: {},
    userAgents: [],
    callIds: 0,
    medianIntervalSeconds: null,
    frames: [],
  });
  p.add(attempt({ time: T0, callId: 'a@x', ua: 'friendly-scanner', frame: 7 }));
  assert.equal(p.rejections, 1);
  assert.deepEqual(p.evidence(), {
    methods: { REGISTER: 1 },
    statuses: { '401': 1 },
    userAgents: ['friendly-scanner'],
    callIds: 1,
    medianIntervalSeconds: null,
    frames: [7],
  });
  // One rejection shows no pace yet, so nothing tells it from a device with an old password.
  assert.equal(p.staleLike(), true);
});

test('from the second rejection on, the first one is counted with the rest', () => {
  const p = new RejectionProfile();
  p.add(attempt({ time: T0, callId: 'a@x', ua: 'ua-1', method: 'INVITE', status: 407, frame: 3 }));
  p.add(attempt({ time: T0 + 1500, callId: 'b@x', ua: 'ua-2', frame: 9 }));
  p.add(attempt({ time: T0 + 2500, callId: 'b@x', ua: 'ua-2', status: 403 }));
  assert.equal(p.rejections, 3);
  assert.deepEqual(p.evidence(), {
    methods: { INVITE: 1, REGISTER: 2 },
    statuses: { '401': 1, '403': 1, '407': 1 },
    userAgents: ['ua-2', 'ua-1'],
    callIds: 2,
    medianIntervalSeconds: 1.5,
    frames: [3, 9],
  });
  assert.equal(p.staleLike(), false);
});

test('a device retrying one Call-ID slowly is stale-like; log lines count as a Call-ID each', () => {
  const stale = new RejectionProfile();
  for (let i = 0; i < 4; i++)
    stale.add(attempt({ time: T0 + i * STALE_MIN_INTERVAL_MS * 2, callId: 'phone@x', frame: i + 1 }));
  assert.equal(stale.staleLike(), true);
  assert.equal(stale.evidence().callIds, 1);
  const logged = new RejectionProfile();
  for (let i = 0; i < 4; i++) logged.add(attempt({ time: T0 + i * STALE_MIN_INTERVAL_MS * 2, line: i + 1 }));
  assert.equal(logged.evidence().callIds, 4);
  assert.deepEqual(logged.evidence().frames, []);
  assert.equal(logged.staleLike(), false);
});

test('a profile of one rejection is small: a spoofed flood makes one per forged source and rule', () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const n = 20_000;
  const attempts = Array.from({ length: 2 * n }, (_, i) =>
    attempt({ time: T0 + i, callId: `c${i}@x`, ua: 'friendly-scanner', frame: i + 1 }),
  );
  const bytes = (rejections: number): number => {
    gc();
    const before = process.memoryUsage().heapUsed;
    const kept: RejectionProfile[] = [];
    for (let i = 0; i < n; i++) {
      const p = new RejectionProfile();
      for (let r = 0; r < rejections; r++) p.add(attempts[2 * i + r] as AuthAttempt);
      kept.push(p);
    }
    gc();
    const per = (process.memoryUsage().heapUsed - before) / n;
    assert.equal(kept.length, n);
    return per;
  };
  const one = bytes(1);
  const two = bytes(2);
  assert.ok(one < 160, `one rejection: ${one.toFixed(0)} bytes per profile`);
  assert.ok(two > 2 * one, `two rejections: ${two.toFixed(0)} bytes, one: ${one.toFixed(0)}`);
});
