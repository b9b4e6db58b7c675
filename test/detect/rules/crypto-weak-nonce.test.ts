/**
 * crypto.weak-nonce and the randomness test it shares with crypto.predictable-identifiers: repeated
 * and predictable nonces are reported once per server; retransmitted challenges, PJSIP's per-second
 * nonces and timestamp-plus-hash nonces (Kamailio, in the lab captures) are healthy.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import {
  DETECT_NONCE_MAX_SERVERS,
  DETECT_NONCE_RECENT_PER_SERVER,
  DETECT_NONCE_SAMPLES_PER_SERVER,
} from '../../../src/config/limits.js';
import type { AlertJson } from '../../../src/core/alert.js';
import type { RuleModule } from '../../../src/detect/rule.js';
import {
  assessRandomness,
  cryptoWeakNonce,
  WeakNonceDetector,
} from '../../../src/detect/rules/crypto-weak-nonce.js';
import { analyzeCapture } from '../../helpers/analyze-capture.js';
import { ruleHarness } from '../../helpers/rule-harness.js';

const PBX = '198.51.100.20';
const T0 = Date.UTC(2026, 10, 24, 11, 0, 0);

/** Deterministic pseudo-random bytes (the tests must not depend on luck). */
function prng(seed: number): (n: number) => Buffer {
  let x = seed >>> 0;
  return (n) => {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      x >>>= 0;
      b[i] = x & 0xff;
    }
    return b;
  };
}

function harness() {
  const h = ruleHarness<WeakNonceDetector>(cryptoWeakNonce);
  const send = h.send;
  return {
    ...h,
    /** A REGISTER from `client` answered 401 with `nonce` by `server`; returns the 401's frame. */
    challenge(
      time: number,
      client: string,
      nonce: string,
      callId: string,
      branch = `z9hG4bK${callId}`,
      server = PBX,
    ): number {
      const req =
        `REGISTER sip:${server} SIP/2.0\nVia: SIP/2.0/UDP ${client}:5060;branch=${branch}\nMax-Forwards: 70\n` +
        `From: <sip:100@${server}>;tag=${callId}f\nTo: <sip:100@${server}>\nCall-ID: ${callId}\nCSeq: 1 REGISTER\nContent-Length: 0\n\n`;
      send(time, client, server, req);
      const keep = req.split('\n').filter((l) => /^(Via|From|To|Call-ID|CSeq):/.test(l));
      return send(
        time + 1,
        server,
        client,
        `SIP/2.0 401 Unauthorized\n${keep.join('\n')}\nWWW-Authenticate: Digest realm="pbx", nonce="${nonce}", qop="auth"\nContent-Length: 0\n\n`,
      );
    },
  };
}

test('the randomness test: counters, clocks and short values are predictable; hashes and UUIDs are not', () => {
  const rnd = prng(42);
  const n = 16;
  const series = (f: (i: number) => string): string[] => Array.from({ length: n }, (_, i) => f(i));
  const ts = 1_790_000_000;
  const md5 = (i: number): string => createHash('md5').update(rnd(8)).update(String(i)).digest('hex');
  const cases: [string, string[], string][] = [
    ['small integers', series((i) => String(i + 1)), 'sequential'],
    ['hex counter', series((i) => (0x5f3a0000 + i).toString(16)), 'sequential'],
    ['bare clock (s)', series((i) => String(ts + i * 7)), 'sequential'],
    ['bare clock (ms)', series((i) => String(ts * 1000 + i * 7123 + (rnd(1)[0] as number))), 'sequential'],
    ['counter in text', series((i) => `nonce-${i}`), 'sequential'],
    ['SIPp Call-ID', series((i) => `${i + 1}-12345@127.0.0.1`), 'sequential'],
    ['SIPp branch', series((i) => `z9hG4bK-12345-${1 + (i >> 1)}-${(i & 1) * 5}`), 'sequential'],
    ['16 random bits', series(() => rnd(2).toString('hex')), 'low-entropy'],
    [
      'one random char',
      series((i) => `abcdefgh${'0123456789abcdef'[(rnd(1)[0] as number) & 15]}-${'x'.repeat(i % 2)}`),
      'low-entropy',
    ],
    [
      'Kamailio (time, time, MD5, index, flags)',
      series((i) => {
        const b = Buffer.alloc(29);
        b.writeUInt32BE(ts + 300 + i * 3);
        b.writeUInt32BE(ts + i * 3, 4);
        rnd(16).copy(b, 8);
        b.writeUInt32BE(0x0a14d0e5 + i * 0x101, 24);
        b[28] = 0x80;
        return b.toString('base64');
      }),
      'healthy',
    ],
    ['PJSIP / Asterisk (time/MD5)', series((i) => `${ts + i * 2}/${md5(i)}`), 'healthy'],
    ['MD5 then time (libre)', series((i) => `${md5(i)}${(ts + i).toString(16)}`), 'healthy'],
    [
      'time then 9 random digits',
      series((i) => `${ts + i * 3}${String(rnd(4).readUInt32BE() % 1e9).padStart(9, '0')}`),
      'healthy',
    ],
    ['32 random bits in hex (chan_sip)', series(() => rnd(4).toString('hex')), 'healthy'],
    ['random decimal tags', series(() => String(rnd(4).readUInt32BE())), 'healthy'],
    ['prefix + random hex', series(() => `as${rnd(4).toString('hex')}`), 'healthy'],
    [
      'UUID',
      series(() => {
        const h = rnd(16).toString('hex');
        return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
      }),
      'healthy',
    ],
  ];
  for (const [name, values, kind] of cases) {
    const v = assessRandomness(values, 8, 24);
    assert.equal(v.kind, kind, `${name}: ${JSON.stringify(v)} for ${values[0]}, ${values[1]}`);
    assert.equal(v.samples >= 8, true, name);
  }
  assert.equal(assessRandomness(['a', 'b', 'c'], 8, 24).kind, 'undetermined', 'too few values');
  assert.equal(assessRandomness([], 8, 24).kind, 'undetermined');
});

test('random series of every shape, many times: the healthy ones are never called weak', () => {
  const rnd = prng(7);
  const shapes: ((r: (n: number) => Buffer) => string)[] = [
    (r) => r(4).toString('hex'),
    (r) => String(r(4).readUInt32BE()),
    (r) => `${r(8).toString('hex')}@192.168.1.10`,
    (r) => `z9hG4bK-${r(4).readUInt32BE()}`,
    (r) => r(9).toString('base64'),
  ];
  let weak = 0;
  for (let trial = 0; trial < 300; trial++) {
    for (const shape of shapes) {
      const v = assessRandomness(
        Array.from({ length: 8 + (trial % 9) }, () => shape(rnd)),
        8,
        24,
      );
      if (v.kind !== 'healthy') weak++;
    }
  }
  assert.equal(weak, 0);
});

test('the same nonce issued to other clients is a repeat; one alert per server', () => {
  const h = harness();
  const frames: number[] = [];
  for (let i = 0; i < 30; i++)
    frames.push(h.challenge(T0 + i * 1000, `192.0.2.${10 + i}`, 'static-nonce-0001', `call-${i}`));
  const alerts = h.finish();
  assert.equal(alerts.length, 1, 'spoken once');
  const a = alerts[0] as AlertJson;
  assert.equal(a.rule, 'crypto.weak-nonce');
  assert.equal(a.severity, 'medium');
  assert.deepEqual(a.target, { ip: PBX, port: 5060 });
  assert.deepEqual(a.evidence.reasons, ['repeated']);
  assert.equal(a.evidence.repeats, 2, 'raised at the second repeat');
  assert.equal(a.evidence.server, PBX);
  assert.deepEqual(a.evidence.frames, [frames[1], frames[2]]);
  assert.ok(!JSON.stringify(alerts).includes('static-nonce-0001'), 'nonces are not shown');
  assert.equal(h.revisions.filter((r) => r.state === 'open').length, 1, 'no further revision');
});

test('nonces past the bound or the repeat window are forgotten: their reuse is not a repeat', () => {
  const h = harness();
  const rnd = prng(7);
  const nonces = Array.from({ length: 300 }, () => rnd(16).toString('hex'));
  const client = (i: number): string => `192.0.2.${(i % 200) + 1}`;
  // 300 distinct nonces, one a second: the oldest 44 leave the bound of 256.
  nonces.forEach((n, i) => h.challenge(T0 + i * 1000, client(i), n, `c${i}`));
  assert.equal(h.detector.sizes().maxRecent, DETECT_NONCE_RECENT_PER_SERVER);
  // Nonce 10 was dropped by the bound: given again to someone else, it is new, not a repeat.
  h.challenge(T0 + 300_000, '203.0.113.1', nonces[10] as string, 'again-10');
  // After more than the repeat window (600 s) of quiet every nonce held expires at once.
  h.challenge(T0 + 1_000_000, '203.0.113.2', rnd(16).toString('hex'), 'late');
  assert.equal(h.detector.sizes().maxRecent, 1);
  h.challenge(T0 + 1_001_000, '203.0.113.3', nonces[299] as string, 'again-299');
  // Two real repeats of a fresh nonce raise the alert.
  const fresh = rnd(16).toString('hex');
  h.challenge(T0 + 1_002_000, '203.0.113.4', fresh, 'fresh-1');
  const f1 = h.challenge(T0 + 1_003_000, '203.0.113.5', fresh, 'fresh-2');
  const f2 = h.challenge(T0 + 1_004_000, '203.0.113.6', fresh, 'fresh-3');
  const alerts = h.finish();
  assert.equal(alerts.length, 1);
  const a = alerts[0] as AlertJson;
  assert.deepEqual(a.evidence.reasons, ['repeated']);
  assert.equal(a.evidence.repeats, 2);
  assert.equal(a.evidence.repeatedToClients, 2);
  assert.deepEqual(a.evidence.frames, [f1, f2]);
});

test('not repeats: retransmitted challenges, re-challenges within one Call-ID, one client within a second', () => {
  const h = harness();
  const rnd = prng(3);
  for (let i = 0; i < 12; i++) {
    const nonce = rnd(16).toString('hex');
    const client = `192.0.2.${50 + i}`;
    h.challenge(T0 + i * 10_000, client, nonce, `rt-${i}`);
    // The request retransmitted (same branch) and the challenge with it: a retransmission.
    h.challenge(T0 + i * 10_000 + 500, client, nonce, `rt-${i}`);
    // A new transaction in the same Call-ID re-challenged with the same nonce.
    h.challenge(T0 + i * 10_000 + 900, client, nonce, `rt-${i}`, `z9hG4bKagain${i}`);
    // PJSIP: the same client, another Call-ID, the same second.
    h.challenge(T0 + i * 10_000 + 990, client, nonce, `rt2-${i}`);
  }
  assert.deepEqual(h.finish(), []);
});

test('sequential and low-entropy nonces are predictable', () => {
  const h = harness();
  for (let i = 0; i < 10; i++)
    h.challenge(T0 + i * 5000, `192.0.2.${i + 1}`, String(1000 + i), `s-${i}`, undefined, '198.51.100.21');
  const rnd = prng(5);
  for (let i = 0; i < 10; i++)
    h.challenge(
      T0 + i * 5000,
      `192.0.2.${i + 1}`,
      rnd(2).toString('hex'),
      `l-${i}`,
      undefined,
      '198.51.100.22',
    );
  const alerts = h.finish();
  const by = new Map(alerts.map((a) => [a.target?.ip, a]));
  assert.equal(alerts.length, 2);
  assert.deepEqual(by.get('198.51.100.21')?.evidence.reasons, ['sequential']);
  assert.equal(by.get('198.51.100.21')?.evidence.samplesJudged, 8, 'judged at the eighth nonce');
  assert.deepEqual(by.get('198.51.100.22')?.evidence.reasons, ['low-entropy']);
  assert.ok((by.get('198.51.100.22')?.evidence.estimatedRandomBits as number) < 24);
});

test('timestamp-and-hash nonces (Kamailio, PJSIP) are healthy', () => {
  const h = harness();
  const rnd = prng(9);
  const ts = 1_790_000_000;
  for (let i = 0; i < 40; i++) {
    const b = Buffer.alloc(29);
    b.writeUInt32BE(ts + 300 + i);
    b.writeUInt32BE(ts + i, 4);
    rnd(16).copy(b, 8);
    b.writeUInt32BE(0x0a14d0e5 + i, 24);
    b[28] = 0x80;
    h.challenge(T0 + i * 1000, `192.0.2.${(i % 5) + 1}`, b.toString('base64'), `k-${i}`);
    h.challenge(
      T0 + i * 1000,
      `192.0.2.${(i % 5) + 1}`,
      `${ts + i}/${rnd(16).toString('hex')}`,
      `p-${i}`,
      undefined,
      '198.51.100.23',
    );
  }
  assert.deepEqual(h.finish(), []);
});

test('fuzz: garbage challenges never throw; the server table stays bounded', () => {
  const h = harness();
  const rnd = prng(13);
  for (let i = 0; i < 2000; i++) {
    const b = rnd(1 + ((rnd(1)[0] as number) % 40));
    const nonce = b.toString('latin1').replace(/["\\\r\n]/g, 'x');
    const server = `198.18.${i % 8}.${(i >> 3) % 200}`;
    h.challenge(T0 + i, `192.0.2.${i % 250}`, nonce, `f-${i}`, undefined, server);
    if (i % 7 === 0) h.send(T0 + i, server, '192.0.2.1', b.toString('latin1'));
  }
  const alerts = h.finish();
  for (const a of alerts) assert.equal(a.rule, 'crypto.weak-nonce');
  const sizes = h.detector.sizes();
  assert.ok(sizes.servers > 100 && sizes.servers <= DETECT_NONCE_MAX_SERVERS, `servers ${sizes.servers}`);
  assert.ok(
    sizes.maxRecent <= DETECT_NONCE_RECENT_PER_SERVER && sizes.maxSamples <= DETECT_NONCE_SAMPLES_PER_SERVER,
  );
});

// ── lab captures: real Kamailio nonces ────────────────────────────────────────────────────────

const CAPTURES = 'test/fixtures/captures';
const expected = (
  JSON.parse(readFileSync(`${CAPTURES}/expected.json`, 'utf8')) as {
    captures: { file: string; attacks: string[]; findings: string[] }[];
  }
).captures;

/** A rule that only collects the nonces of challenges, in order. */
function nonceCollector(out: string[]): RuleModule {
  return {
    meta: { ...cryptoWeakNonce.meta, id: 'test.nonces' },
    create: () => ({
      onMessage(ev, _tx, retransmission): void {
        if (ev.isRequest || retransmission) return;
        for (const c of [...ev.msg.wwwAuthenticate, ...ev.msg.proxyAuthenticate])
          if (c.nonce !== undefined) out.push(c.nonce);
      },
    }),
  };
}

test("lab captures: Kamailio's real nonces are judged healthy and raise nothing", async () => {
  let judged = 0;
  for (const c of expected) {
    const nonces: string[] = [];
    const alerts = await analyzeCapture(`${CAPTURES}/${c.file}`, [cryptoWeakNonce, nonceCollector(nonces)]);
    const mine = alerts.filter((a) => a.rule === 'crypto.weak-nonce');
    const staged = [...c.attacks, ...c.findings].includes('crypto.weak-nonce');
    if (staged) assert.ok(mine.length > 0, c.file);
    else
      assert.deepEqual(
        mine.map((a) => a.title),
        [],
        c.file,
      );
    const distinct = [...new Set(nonces)];
    if (staged) {
      // Staged weak nonces (Kamailio with nonce_count off, the SIPp counter registrar): a series long
      // enough to judge must not pass for healthy.
      if (distinct.length >= 8)
        assert.notEqual(assessRandomness(distinct.slice(0, 32), 8, 24).kind, 'healthy', c.file);
      continue;
    }
    if (distinct.length < 8) continue;
    const v = assessRandomness(distinct.slice(0, 32), 8, 24);
    assert.equal(v.kind, 'healthy', `${c.file}: ${JSON.stringify(v)}`);
    assert.ok((v.estimatedBits ?? 0) > 64, `${c.file}: ${v.estimatedBits} bits`);
    judged++;
  }
  assert.ok(judged >= 5, `Kamailio nonces judged in ${judged} captures`);
});
