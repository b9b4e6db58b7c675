import { test } from 'node:test';
import assert from 'node:assert/strict';
import { maskSecret, REDACTED, redactAlert, redactText } from '../../src/sinks/redact.js';
import { makeAlert } from './helpers.js';

const SECRETS = [
  '6629fae49393a05397450978507c4ef1', // digest response
  'dcd98b7102dd2f0e8b11d0f600bfb0c093', // nonce
  '0a4f113b', // cnonce
  'hunter22', // clear password
  'nextn0nceXYZ',
  'rsp4uth0001',
];

function crafted() {
  return makeAlert(1, {
    title: 'Replay seen: response="6629fae49393a05397450978507c4ef1" from 203.0.113.7',
    evidence: {
      response: '6629fae49393a05397450978507c4ef1',
      nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093',
      cnonce: '0a4f113b',
      password: 'hunter22',
      passwordMasked: 'h******2',
      matchedClass: 'common-word',
      candidatesTried: 17,
      distinctNonces: 7,
      nonceCounts: 3,
      reasons: { 'nonce-count-backwards': 2, 'reused-from-other-source': 1 },
      responses: { '401': 5, '200': 1 },
      nonces: { dcd98b7102dd2f0e8b11d0f600bfb0c093: 3 },
      numericNonce: 123456789,
      request: {
        headers: [
          'Via: SIP/2.0/UDP 203.0.113.7:5071;branch=z9hG4bK-1',
          'Authorization: Digest username="101", realm="3CXPhoneSystem", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="sip:pbx", response="6629fae49393a05397450978507c4ef1", cnonce="0a4f113b", nc=00000001, qop=auth',
          'Proxy-Authorization: Digest username="101",response=6629fae49393a05397450978507c4ef1',
        ],
        note: 'server said Authentication-Info: nextnonce="nextn0nceXYZ", rspauth="rsp4uth0001"',
        json: '{"user":"101","password":"hunter22","nonce":"dcd98b7102dd2f0e8b11d0f600bfb0c093"}',
        cfg: 'secret=hunter22;context=from-internal',
      },
      deep: [[{ digest: { cnonce: '0a4f113b' } }]],
      frames: [12, 14],
    },
  });
}

test('removes digest responses, nonces, cnonces and clear passwords everywhere', () => {
  const a = crafted();
  const before = JSON.stringify(a);
  const r = redactAlert(a);
  const text = JSON.stringify(r);
  for (const s of SECRETS) assert.ok(!text.includes(s), `${s} leaked: ${text}`);
  assert.equal(JSON.stringify(a), before, 'the input is not modified');
  const ev = r.evidence as Record<string, unknown>;
  assert.equal(ev.response, REDACTED);
  assert.equal(ev.nonce, REDACTED);
  assert.equal(ev.cnonce, REDACTED);
  assert.equal(ev.password, 'h******2');
  assert.equal(ev.passwordMasked, 'h******2');
  assert.equal(ev.numericNonce, REDACTED);
  // Counts and statuses are not secrets.
  assert.equal(ev.candidatesTried, 17);
  assert.equal(ev.distinctNonces, 7);
  assert.equal(ev.nonceCounts, 3);
  assert.deepEqual(ev.reasons, { 'nonce-count-backwards': 2, 'reused-from-other-source': 1 });
  assert.deepEqual(ev.responses, { '401': 5, '200': 1 });
  // Under a digest key even the numbers go (a nonce may be numeric), and the keys too.
  assert.deepEqual(ev.nonces, { [`${REDACTED}#1`]: REDACTED });
  assert.deepEqual(ev.frames, [12, 14]);
  const req = ev.request as { headers: string[]; note: string; json: string; cfg: string };
  assert.equal(req.headers[0], 'Via: SIP/2.0/UDP 203.0.113.7:5071;branch=z9hG4bK-1');
  assert.equal(req.headers[1], `Authorization: Digest ${REDACTED}`);
  assert.equal(req.headers[2], `Proxy-Authorization: Digest ${REDACTED}`);
  assert.equal(req.note, `server said Authentication-Info: nextnonce="${REDACTED}", rspauth="${REDACTED}"`);
  assert.equal(req.json, `{"user":"101","password":"${REDACTED}","nonce":"${REDACTED}"}`);
  assert.equal(req.cfg, 'secret=h******2;context=from-internal');
  assert.equal(r.title, `Replay seen: response="${REDACTED}" from 203.0.113.7`);
  // Everything else is untouched.
  assert.equal(r.id, a.id);
  assert.deepEqual(r.source, a.source);
  assert.deepEqual(r.target, a.target);
  assert.equal(r.remediation, a.remediation);
});

test('revealPasswords shows passwords but never digest material; a masked one stays masked', () => {
  const r = redactAlert(crafted(), { revealPasswords: true });
  const ev = r.evidence as Record<string, unknown>;
  assert.equal(ev.password, 'hunter22');
  assert.equal(ev.passwordMasked, 'h******2');
  assert.equal(ev.response, REDACTED);
  assert.equal((ev.request as { cfg: string }).cfg, 'secret=hunter22;context=from-internal');
  const text = JSON.stringify(r);
  for (const s of SECRETS.filter((x) => x !== 'hunter22')) assert.ok(!text.includes(s), `${s} leaked`);
});

test('a masked field holding a clear value is masked anyway', () => {
  const r = redactAlert(makeAlert(1, { evidence: { passwordMasked: 'letmein', pin: 1 } }));
  assert.equal((r.evidence as { passwordMasked: string }).passwordMasked, 'l*****n');
  assert.equal(maskSecret('ab'), '**');
  assert.equal(maskSecret('1234'), '1**4');
});

test('evidence the rules emit today passes through unchanged', () => {
  const weak = {
    passwordMasked: '1**4',
    matchedClass: 'pin',
    candidatesTried: 3,
    listEntries: 400,
    identity: '101',
    realm: '3CXPhoneSystem',
    method: 'REGISTER',
    status: 200,
    algorithm: 'MD5',
    qop: 'auth',
    userAgent: 'Yealink SIP-T46S',
    frames: [7],
  };
  const replay = {
    reasons: { 'reused-from-other-source': 1, 'nonce-count-backwards': 0, 'nonce-never-issued': 0 },
    identity: '101',
    realm: 'r',
    server: '198.51.100.2',
    originalSources: ['203.0.113.9'],
    accepted: 1,
    methods: { REGISTER: 2 },
    userAgents: ['friendly-scanner'],
    frames: [3],
    originalFrames: [1],
  };
  for (const ev of [weak, replay]) {
    const r = redactAlert(makeAlert(1, { evidence: ev }));
    assert.deepEqual(r.evidence, ev);
  }
});

test('redactText leaves ordinary text alone and handles unterminated quotes', () => {
  assert.equal(
    redactText('Password guessing against extension 101'),
    'Password guessing against extension 101',
  );
  assert.equal(redactText('no answer (response timeout)'), 'no answer (response timeout)');
  assert.equal(redactText('nonce="abc'), `nonce="${REDACTED}"`);
  assert.equal(redactText('NONCE = abc, x'), `NONCE = ${REDACTED}, x`);
});

test('fuzz: random nested evidence never throws and never leaks a planted secret', () => {
  let seed = 99;
  const rnd = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const randStr = (): string => {
    let s = '';
    const len = rnd(30);
    for (let i = 0; i < len; i++) s += String.fromCharCode(rnd(4) === 0 ? rnd(0x3000) : 32 + rnd(95));
    return s;
  };
  const secret = 'S3CRETd1g3st';
  const plant = (): string => {
    const forms = [
      `response="${secret}"`,
      `nonce=${secret}`,
      `Authorization: Digest username="x", response="${secret}"`,
      `"cnonce":"${secret}"`,
      `password=${secret}`,
    ];
    return `${randStr()} ${forms[rnd(forms.length)] as string}`;
  };
  const build = (depth: number): unknown => {
    const k = rnd(depth > 40 ? 3 : 7);
    if (k === 0) return randStr();
    if (k === 1) return rnd(1000);
    if (k === 2) return rnd(3) === 0 ? plant() : null;
    if (k === 3) return Array.from({ length: rnd(4) }, () => build(depth + 1));
    const o: Record<string, unknown> = {};
    for (let i = 0; i < rnd(4); i++) o[rnd(5) === 0 ? 'nonce' : randStr()] = build(depth + 1);
    if (rnd(4) === 0) o.response = secret;
    return o;
  };
  for (let i = 0; i < 300; i++) {
    const ev = { root: build(0) } as Record<string, unknown>;
    const r = redactAlert(makeAlert(i, { evidence: ev }));
    const text = JSON.stringify(r);
    assert.ok(!text.includes(secret), text);
  }
  // Depth is bounded: a very deep value is cut, not walked.
  let deep: unknown = 'x';
  for (let i = 0; i < 1000; i++) deep = { d: deep };
  const r = redactAlert(makeAlert(1, { evidence: { deep } }));
  assert.ok(JSON.stringify(r).includes('[truncated]'));
});
