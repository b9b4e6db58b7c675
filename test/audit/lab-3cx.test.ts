/**
 * The audit against the lab's real Kamailio in the 3cx-like profile (407 challenges, realm
 * 3CXPhoneSystem, 403 for wrong credentials, Auth IDs that differ from the extension numbers,
 * "User-Agent: 3CXPhoneSystem 18.0.9.20" in every answer, TLS on 5061 with a self-signed
 * certificate) on 127.0.0.74. A decoy on 127.0.0.75 (UDP and TCP 5060, TCP 5061) counts what reaches
 * it: nothing may.
 */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { after, before, test } from 'node:test';
import { auditTarget } from '../../src/audit/run.js';
import { labUnavailable, startPbx, testOptions, type LabPbx } from './lab-helper.js';

const ADDR = '127.0.0.74';
const DECOY = '127.0.0.75';
const skip = labUnavailable();
const target = { host: ADDR, port: undefined, address: ADDR, family: 4 as const };
const words = readFileSync('test/lab/wordlists/small.txt', 'utf8')
  .split('\n')
  .filter((w) => w !== '');
let pbx: LabPbx | undefined;
let decoyHits = 0;
const udp = createSocket('udp4');
const tcp = [createServer(), createServer()];

before(async () => {
  if (skip !== undefined) return;
  udp.on('message', () => decoyHits++);
  await new Promise<void>((r) => udp.bind(5060, DECOY, () => r()));
  for (const [i, s] of tcp.entries()) {
    s.on('connection', (c) => {
      decoyHits++;
      c.destroy();
    });
    await new Promise<void>((r) => s.listen(i === 0 ? 5060 : 5061, DECOY, () => r()));
  }
  pbx = startPbx('3cx-like', ADDR);
});
after(() => {
  pbx?.stop();
  if (skip === undefined) {
    udp.close();
    for (const s of tcp) s.close();
  }
});

test(
  '3cx-like: 407 realm 3CXPhoneSystem for everyone, version disclosed, self-signed TLS',
  { skip },
  async () => {
    const r = await auditTarget(
      target,
      testOptions({ checks: ['fingerprint', 'enumeration', 'tls'], extensions: ['100', '101'], rate: 100 }),
    );
    const ids = r.findings.map((f) => f.id);
    const methods = (
      r.checks.enumeration as {
        methods: { method: string; unknownAnswer: string; known: { answer: string }[] }[];
      }
    ).methods;
    for (const m of methods.filter((x) => x.method !== 'OPTIONS')) {
      assert.equal(m.unknownAnswer, '407 Proxy-Authenticate realm=3CXPhoneSystem', m.method);
      assert.ok(
        m.known.every((k) => k.answer === m.unknownAnswer),
        m.method,
      );
    }
    assert.ok(!ids.includes('audit.enumeration-oracle'), ids.join(', '));
    const vd = r.findings.find((f) => f.id === 'audit.version-disclosure');
    assert.ok(vd, ids.join(', '));
    assert.match(JSON.stringify(vd.evidence.headers), /3CXPhoneSystem 18\.0\.9\.20/);
    assert.match(String(vd.evidence.response), /^SIP\/2\.0 200 OK\n[\s\S]*3CXPhoneSystem 18\.0\.9\.20/);
    assert.match(String(vd.evidence.request), /^OPTIONS sip:127\.0\.0\.74 SIP\/2\.0\n/);
    const cert = r.findings.find((f) => f.id === 'audit.tls-certificate');
    assert.ok(cert?.evidence.problems instanceof Array && cert.evidence.problems.includes('self-signed'));
    const tls = (r.checks.fingerprint as { transports: { transport: string; status: number | null }[] })
      .transports;
    assert.deepEqual(
      tls.map((t) => `${t.transport} ${t.status}`),
      ['udp 200', 'tcp 200', 'tls 200'],
    );
  },
);

test(
  '3cx-like (intrusive): wrong credentials 403; the weak password found only with --auth-id',
  { skip },
  async () => {
    const r = await auditTarget(
      target,
      testOptions({
        checks: ['fingerprint', 'weak-password', 'rate-limit'],
        intrusive: true,
        extensions: ['101', '102'],
        authIds: new Map([['101', 'xK3p9qL2']]),
        wordlist: words,
        rate: 100,
        rateLimitAttempts: 5,
        udpPorts: [],
        timeoutMs: 800,
      }),
    );
    const weak = r.findings.filter((f) => f.id === 'audit.weak-password');
    assert.deepEqual(
      weak.map((f) => f.evidence.extension),
      ['101'],
    );
    const w = weak[0];
    assert.equal(w?.evidence.digestUser, 'the Auth ID given with --auth-id');
    assert.match(
      String(w?.evidence.request),
      /Proxy-Authorization: Digest username="xK3p9qL2".*response="\(masked\)"/,
    );
    assert.ok(!JSON.stringify(r).includes('"1234"'), 'the password stays hidden');
    const rl = r.checks['rate-limit'] as { answers: Record<string, number>; blocked: boolean };
    assert.deepEqual(rl.answers, { '403': 5 });
    assert.equal(rl.blocked, false);
    assert.ok(r.findings.some((f) => f.id === 'audit.no-rate-limit'));
    // Without the Auth ID, the extension number is the digest user: 403, nothing found.
    const r2 = await auditTarget(
      target,
      testOptions({
        checks: ['fingerprint', 'weak-password'],
        intrusive: true,
        extensions: ['101'],
        wordlist: ['1234'],
        rate: 100,
      }),
    );
    assert.ok(!r2.findings.some((f) => f.id === 'audit.weak-password'));
    assert.deepEqual(
      (r2.checks['weak-password'] as { extensions: { result: string }[] }).extensions.map((e) => e.result),
      ['not guessed'],
    );
  },
);

test('3cx-like: nothing reached the decoy address', { skip }, () => {
  assert.equal(decoyHits, 0);
});
