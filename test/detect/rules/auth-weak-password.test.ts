/**
 * auth.weak-password: accepted digests cracked off the packet path, once per identity, with the
 * password never shown in clear; through the real pipeline and on the lab captures.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { test } from 'node:test';
import { DETECT_WEAK_PASSWORD_MAX_QUEUE, TRACK_COMPLETED_LINGER_MS } from '../../../src/config/limits.js';
import type { AlertJson } from '../../../src/core/alert.js';
import type { SipAttempt } from '../../../src/detect/attempts.js';
import type { RuleSettings } from '../../../src/detect/engine.js';
import type { DetectorContext, RaiseInput } from '../../../src/detect/rule.js';
import {
  authWeakPassword,
  bundledPasswordList,
  maskPassword,
  packageRoot,
  parsePasswordList,
  PASSWORD_LIST_PATH,
  WeakPasswordDetector,
} from '../../../src/detect/rules/auth-weak-password.js';
import { SiteModel } from '../../../src/detect/site.js';
import { computeDigestResponse, type DigestInput } from '../../../src/sip/digest.js';
import { parseSipMessage } from '../../../src/sip/message.js';
import { toSipEvent, type SipEvent } from '../../../src/track/sip-event.js';
import type { Transaction } from '../../../src/track/transactions.js';
import { analyzeCapture } from '../../helpers/analyze-capture.js';
import { ruleHarness, type RuleHarness } from '../../helpers/rule-harness.js';

const PBX = '198.51.100.10';
const PHONE = '192.0.2.31';
const REALM = 'pbx.example';
const T0 = Date.UTC(2026, 10, 24, 10, 0, 0);

/** The pipeline with only this rule, recording every alert revision. */
function harness(settings: Record<string, RuleSettings> = {}): RuleHarness<WeakPasswordDetector> {
  return ruleHarness<WeakPasswordDetector>(authWeakPassword, settings);
}

interface Login {
  method?: 'REGISTER' | 'INVITE';
  user?: string;
  identity?: string;
  password: string;
  algorithm?: string;
  qop?: 'auth' | 'auth-int' | undefined;
  body?: string;
  status?: string;
  callId?: string;
}

/** One authenticated request and its answer: request without credentials, 401/407, request with
 * credentials computed for `password`, final answer `status` (200 by default). */
function login(h: ReturnType<typeof harness>, time: number, o: Login): number {
  const method = o.method ?? 'REGISTER';
  const user = o.user ?? '101';
  const identity = o.identity ?? user;
  const callId = o.callId ?? `c-${identity}-${time}`;
  const proxy = method === 'INVITE';
  const ruri = method === 'INVITE' ? `sip:0044123456@${PBX}` : `sip:${PBX}`;
  const body = o.body ?? '';
  const req = (cseq: number, branch: string, auth: string): string =>
    `${method} ${ruri} SIP/2.0\nVia: SIP/2.0/UDP ${PHONE}:5060;branch=${branch}\nMax-Forwards: 70\n` +
    `From: <sip:${user}@${PBX}>;tag=ft${time}\nTo: <${method === 'REGISTER' ? `sip:${user}@${PBX}` : ruri}>\n` +
    `Call-ID: ${callId}\nCSeq: ${cseq} ${method}\nContact: <sip:${user}@${PHONE}:5060>\n${auth}` +
    `${body === '' ? '' : 'Content-Type: text/plain\n'}Content-Length: ${body.length}\n\n${body}`;
  const ans = (r: string, status: string, extra = ''): string => {
    const keep = r.split('\n').filter((l) => /^(Via|From|To|Call-ID|CSeq):/.test(l));
    return `SIP/2.0 ${status}\n${keep.join('\n')}\n${extra}Content-Length: 0\n\n`;
  };
  const nonce = `nonce-${time.toString(16)}-7c1e`;
  const alg = o.algorithm === undefined ? '' : `, algorithm=${o.algorithm}`;
  const qopOffer = o.qop === undefined ? '' : `, qop="${o.qop}"`;
  const r1 = req(1, `z9hG4bK${time}a`, '');
  h.send(time, PHONE, PBX, r1);
  const hdr = proxy ? 'Proxy-Authenticate' : 'WWW-Authenticate';
  h.send(
    time + 2,
    PBX,
    PHONE,
    ans(
      r1,
      proxy ? '407 Proxy Authentication Required' : '401 Unauthorized',
      `${hdr}: Digest realm="${REALM}", nonce="${nonce}"${alg}${qopOffer}\n`,
    ),
  );
  const input: DigestInput = {
    username: identity,
    realm: REALM,
    nonce,
    uri: ruri,
    algorithm: o.algorithm,
    cnonce: o.qop === undefined ? undefined : '0a4f113b',
    qop: o.qop,
    ncRaw: o.qop === undefined ? undefined : '00000001',
  };
  const response = computeDigestResponse(input, o.password, method, Buffer.from(body)) as string;
  assert.ok(response !== undefined);
  const q = o.qop === undefined ? '' : `, qop=${o.qop}, nc=00000001, cnonce="0a4f113b"`;
  const auth = `${proxy ? 'Proxy-Authorization' : 'Authorization'}: Digest username="${identity}", realm="${REALM}", nonce="${nonce}", uri="${ruri}", response="${response}"${alg}${q}\n`;
  const r2 = req(2, `z9hG4bK${time}b`, auth);
  const frame = h.send(time + 4, PHONE, PBX, r2);
  h.send(time + 6, PBX, PHONE, ans(r2, o.status ?? '200 OK'));
  return frame;
}

test('masking keeps only the first and last character', () => {
  assert.equal(maskPassword('1234'), '1**4');
  assert.equal(maskPassword('103'), '1*3');
  assert.equal(maskPassword('ab'), '**');
  assert.equal(maskPassword('x'), '*');
  assert.equal(maskPassword('pässwörd'), 'p******d');
});

test('the bundled list loads from the repository and from the built package, with its classes', () => {
  const root = resolve('.');
  assert.equal(packageRoot(resolve('src/detect/rules')), root, 'from the sources');
  assert.equal(packageRoot(resolve('dist/src/detect/rules')), root, 'from the compiled location');
  assert.equal(packageRoot('/'), undefined);
  const list = bundledPasswordList();
  assert.equal(list.path, resolve(PASSWORD_LIST_PATH));
  assert.ok(list.entries.length >= 300, `a few hundred entries (${list.entries.length})`);
  const cls = (p: string): string | undefined => list.entries.find((e) => e.text === p)?.cls;
  assert.equal(cls('1234'), 'numeric-pin');
  assert.equal(cls('0000'), 'numeric-pin');
  assert.equal(cls('1997'), 'year');
  assert.equal(cls('qwerty'), 'keyboard-walk');
  assert.equal(cls('password'), 'common-word');
  assert.equal(cls('admin'), 'common-word');
  assert.ok(list.templates.some((t) => t.text === '{ext}{ext}' || t.text === '{ext}123'));
  assert.ok(list.templates.every((t) => t.cls === 'extension-derived' && t.text.includes('{ext}')));
  assert.equal(new Set(list.entries.map((e) => e.text)).size, list.entries.length, 'no duplicates');
});

test('the list format: comments, classes, CRLF, duplicates and over-long lines', () => {
  const l = parsePasswordList(
    '# hello\r\n# class: numeric-pin\r\n1234\r\n\r\n1234\r\n# class: extension-derived\r\n{ext}!\r\n' +
      'x'.repeat(200) +
      '\nplain\n',
  );
  assert.deepEqual(l.entries, [
    { text: '1234', cls: 'numeric-pin' },
    { text: 'plain', cls: 'extension-derived' },
  ]);
  assert.deepEqual(l.templates, [{ text: '{ext}!', cls: 'extension-derived' }]);
});

test('an accepted qop=auth MD5 REGISTER with a keyboard-walk password: critical alert, password masked', () => {
  const h = harness();
  const frame = login(h, T0, { password: 'qwerty', qop: 'auth' });
  const alerts = h.finish();
  assert.equal(alerts.length, 1);
  const a = alerts[0] as AlertJson;
  assert.equal(a.rule, 'auth.weak-password');
  assert.equal(a.severity, 'critical');
  assert.equal(a.source?.ip, PHONE);
  assert.deepEqual(a.target, { ip: PBX, port: 5060, extension: '101', identity: '101' });
  assert.equal(a.evidence.passwordMasked, 'q****y');
  assert.equal(a.evidence.matchedClass, 'keyboard-walk');
  assert.equal(a.evidence.qop, 'auth');
  assert.equal(a.evidence.algorithm, 'MD5');
  assert.deepEqual(a.evidence.frames, [frame]);
  assert.ok(!JSON.stringify(h.revisions).includes('qwerty'), 'the password never appears in clear');
});

test("RFC 2069 digests (no qop) on an INVITE: the password equal to the caller's extension", () => {
  const h = harness();
  login(h, T0, { method: 'INVITE', user: '205', password: '205' });
  const [a] = h.finish();
  assert.ok(a !== undefined);
  assert.equal(a.evidence.matchedClass, 'equals-extension');
  assert.equal(a.evidence.passwordMasked, '2*5');
  assert.equal(a.evidence.method, 'INVITE');
  assert.equal(a.evidence.qop, 'none');
  assert.equal(a.target?.extension, '205');
});

test('SHA-256 and auth-int digests are cracked too', () => {
  const h = harness();
  login(h, T0, { user: '301', password: '2024', algorithm: 'SHA-256', qop: 'auth' });
  login(h, T0 + 1000, {
    method: 'INVITE',
    user: '302',
    password: 'admin',
    algorithm: 'SHA-256',
    qop: 'auth-int',
    body: 'v=0\r\no=- 1 1 IN IP4 192.0.2.31\r\n',
  });
  const alerts = h.finish();
  const by = new Map(alerts.map((a) => [a.target?.identity, a]));
  assert.equal(by.get('301')?.evidence.matchedClass, 'year');
  assert.equal(by.get('301')?.evidence.algorithm, 'SHA-256');
  assert.equal(by.get('302')?.evidence.matchedClass, 'common-word');
  assert.equal(by.get('302')?.evidence.qop, 'auth-int');
  assert.equal(by.get('302')?.evidence.passwordMasked, 'a***n');
});

test('a 3CX Auth ID: the extension comes from the To user, and derivations of it are tried', () => {
  const h = harness();
  login(h, T0, { user: '101', identity: 'Hx7pQ2mZ', password: '101101', qop: 'auth' });
  const [a] = h.finish();
  assert.ok(a !== undefined);
  assert.equal(
    a.title,
    'Weak password for extension 101 (Auth ID Hx7pQ2mZ): cracked from its accepted digest',
  );
  assert.equal(a.evidence.matchedClass, 'extension-derived');
  assert.deepEqual(a.target, { ip: PBX, port: 5060, extension: '101', identity: 'Hx7pQ2mZ' });
});

test('strong or rejected passwords raise nothing; each identity is tested once', () => {
  const h = harness();
  login(h, T0, { password: 'Vx9!rT2mKp-long', qop: 'auth' });
  login(h, T0 + 60_000, { password: 'Vx9!rT2mKp-long', qop: 'auth' });
  // A weak guess the PBX rejected is not a weak password of the account.
  login(h, T0 + 120_000, { user: '102', password: '1234', qop: 'auth', status: '403 Forbidden' });
  assert.deepEqual(h.finish(), []);
  assert.equal(h.detector.stats.queued, 1, 'one identity queued once');
  assert.equal(h.detector.stats.tested, 1);
  assert.equal(h.detector.stats.cracked, 0);
  assert.ok(h.detector.stats.candidates >= bundledPasswordList().entries.length, 'the whole list was tried');
});

test('the work is off the packet path: nothing on the accept, at most the budget per tick', () => {
  const raised: RaiseInput[] = [];
  const ctx: DetectorContext = {
    thresholds: { candidatesPerTick: 5 },
    site: new SiteModel(),
    raise: (r) => raised.push(r),
  };
  const list = parsePasswordList(
    ['# class: common-word', ...Array.from({ length: 30 }, (_, i) => `word${i}`)].join('\n'),
  );
  const d = new WeakPasswordDetector(ctx, list);
  d.onAttempt(acceptedAttempt('alice', 'word17'));
  assert.equal(d.stats.candidates, 0, 'the accept itself tries nothing');
  assert.equal(d.stats.queued, 1);
  let ticks = 0;
  while (raised.length === 0 && ticks < 100) {
    const before = d.stats.candidates;
    d.onTick(T0 + ++ticks);
    assert.ok(d.stats.candidates - before <= 5, 'no more than the budget in one tick');
  }
  assert.equal(raised.length, 1);
  // alice, alicealice, ecila, then word0..word17: 21 candidates, 5 per tick.
  assert.equal(ticks, 5);
  assert.equal(evidenceOf(raised[0]).candidatesTried, 21);
  assert.equal(evidenceOf(raised[0]).passwordMasked, 'w****7');
});

test('end of input: a job still pending is finished by the engine flush, not by closing its transaction', () => {
  const raised: RaiseInput[] = [];
  const ctx: DetectorContext = {
    thresholds: { candidatesPerTick: 1 },
    site: new SiteModel(),
    raise: (r) => raised.push(r),
  };
  const d = new WeakPasswordDetector(ctx, bundledPasswordList());
  const a = acceptedAttempt('101', '1234');
  d.onAttempt(a);
  d.onTick(T0 + 1);
  assert.equal(raised.length, 0);
  // Closing the transaction does no work on the packet path.
  d.onTransactionClosed(a.tx);
  assert.equal(raised.length, 0);
  // End of input: no tick will follow, so the flush finishes the job.
  d.onFlush();
  assert.equal(raised.length, 1);
  assert.equal(evidenceOf(raised[0]).passwordMasked, '1**4');
  assert.equal(evidenceOf(raised[0]).matchedClass, 'numeric-pin');
  assert.equal(d.stats.tested, 1);
});

test('a transaction that expires normally leaves its job to the ticks (nothing on the packet path)', () => {
  const raised: RaiseInput[] = [];
  const ctx: DetectorContext = {
    thresholds: { candidatesPerTick: 20 },
    site: new SiteModel(),
    raise: (r) => raised.push(r),
  };
  const d = new WeakPasswordDetector(ctx, bundledPasswordList());
  const a = acceptedAttempt('101', '1234');
  d.onAttempt(a);
  d.onTick(T0 + TRACK_COMPLETED_LINGER_MS + 1);
  const before = d.stats.candidates;
  d.onTransactionClosed(a.tx);
  assert.equal(d.stats.candidates, before, 'no work at the close');
  assert.equal(raised.length, 0);
  for (let t = 2; t < 20 && raised.length === 0; t++) d.onTick(T0 + TRACK_COMPLETED_LINGER_MS + t);
  assert.equal(raised.length, 1);
  assert.equal(evidenceOf(raised[0]).passwordMasked, '1**4');
});

test('bounds: the queue holds at most its limit; the rest are dropped and counted', () => {
  const ctx: DetectorContext = { thresholds: {}, site: new SiteModel(), raise: () => undefined };
  const d = new WeakPasswordDetector(ctx, parsePasswordList('x\ny\n'));
  const n = DETECT_WEAK_PASSWORD_MAX_QUEUE + 44;
  for (let i = 0; i < n; i++) d.onAttempt(acceptedAttempt(`u${i}`, 'Strong-Pass-9'));
  assert.equal(d.stats.queued, DETECT_WEAK_PASSWORD_MAX_QUEUE);
  assert.equal(d.stats.queueDrops, 44);
  for (let t = 1; t <= 20; t++) d.onTick(T0 + t * 1000);
  assert.equal(d.stats.tested, DETECT_WEAK_PASSWORD_MAX_QUEUE);
  // Dropped identities are tried again at their next accepted login.
  d.onAttempt(acceptedAttempt(`u${n - 1}`, 'Strong-Pass-9'));
  assert.equal(d.stats.queued, DETECT_WEAK_PASSWORD_MAX_QUEUE + 1);
});

test('fuzz: garbage and half-formed credentials never throw nor crack', () => {
  const ctx: DetectorContext = {
    thresholds: {},
    site: new SiteModel(),
    raise: () => assert.fail('nothing to crack'),
  };
  const d = new WeakPasswordDetector(ctx, bundledPasswordList());
  let seed = 11;
  const rnd = (n: number): number => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed % n;
  };
  const params = [
    'username="u"',
    'realm="r"',
    'nonce="n"',
    'uri="sip:x"',
    'response="00"',
    'qop=auth',
    'qop=auth-int',
    'nc=00000001',
    'cnonce="c"',
    'algorithm=SHA-512-256',
    'algorithm=MD5-sess',
    'algorithm=ROT13',
    'userhash=true',
  ];
  for (let i = 0; i < 300; i++) {
    const picked = params.filter(() => rnd(2) === 0);
    const hdr = `Digest ${picked.join(', ')}`.replace('u"', `u${i}"`);
    d.onAttempt(acceptedAttempt(`u${i}`, 'unused', hdr));
    d.onTick(T0 + i);
  }
  for (let t = 0; t < 200; t++) d.onTick(T0 + 1000 + t);
  assert.ok(d.stats.unsupported > 0, 'unsupported digests counted');
});

/** The evidence of a raise (it may be given lazily). */
function evidenceOf(r: RaiseInput | undefined): Record<string, unknown> {
  assert.ok(r !== undefined, 'raised');
  return typeof r.evidence === 'function' ? r.evidence() : r.evidence;
}

/** An accepted attempt for `user` whose REGISTER carries a digest for `password` (or `header`). */
function acceptedAttempt(user: string, password: string, header?: string): SipAttempt {
  const nonce = 'abc123';
  const input: DigestInput = {
    username: user,
    realm: REALM,
    nonce,
    uri: `sip:${PBX}`,
    algorithm: undefined,
    cnonce: 'cc',
    qop: 'auth',
    ncRaw: '00000001',
  };
  const response = computeDigestResponse(input, password, 'REGISTER') as string;
  const cred =
    header ??
    `Digest username="${user}", realm="${REALM}", nonce="${nonce}", uri="sip:${PBX}", response="${response}", qop=auth, nc=00000001, cnonce="cc"`;
  const text =
    `REGISTER sip:${PBX} SIP/2.0\r\nVia: SIP/2.0/UDP ${PHONE};branch=z9hG4bK${user}\r\nFrom: <sip:${user}@${PBX}>;tag=1\r\n` +
    `To: <sip:${user}@${PBX}>\r\nCall-ID: ${user}\r\nCSeq: 2 REGISTER\r\nAuthorization: ${cred}\r\nContent-Length: 0\r\n\r\n`;
  const msg = parseSipMessage(Buffer.from(text));
  const ev = toSipEvent(
    {
      time: T0,
      srcIp: PHONE,
      srcPort: 5060,
      dstIp: PBX,
      dstPort: 5060,
      transport: 'udp',
      provenance: { kind: 'capture', frame: 7 },
      data: msg.data,
    },
    msg,
  ) as SipEvent;
  const tx: Transaction = {
    key: user,
    method: 'REGISTER',
    callId: user,
    cseq: 2,
    request: ev,
    firstTime: T0,
    lastTime: T0,
    requestCopies: 1,
    statuses: [200],
    final: undefined,
    provisional: undefined,
    closed: false,
  };
  const identity = msg.authorization?.username ?? '';
  return {
    time: T0,
    origin: 'sip',
    tx,
    request: ev,
    final: undefined,
    log: undefined,
    provenance: ev.frame.provenance,
    method: 'REGISTER',
    status: 200,
    outcome: 'accepted',
    credentials: true,
    identity,
    realm: REALM,
    nonce,
    extension: user,
    srcIp: PHONE,
    srcPort: 5060,
    dstIp: PBX,
    dstPort: 5060,
    transport: 'udp',
    userAgent: '',
  };
}

// ── lab captures ──────────────────────────────────────────────────────────────────────────────

interface Expected {
  file: string;
  benign: boolean;
  attacks: string[];
  findings: string[];
  mayFind: string[];
  mustNotFind: string[];
  mayFindWeak?: string[];
  weakPassword: { identity: string; extension: string; password: string } | null;
}

const CAPTURES = 'test/fixtures/captures';
const lab = JSON.parse(readFileSync(`${CAPTURES}/expected.json`, 'utf8')) as {
  captures: Expected[];
  users: Record<string, { authId3cx?: string; password?: string; weak?: boolean }>;
};

/** Digest user name (extension or 3CX Auth ID) → password, for the lab's users. */
const passwords = new Map<string, { password: string; weak: boolean }>();
for (const [ext, u] of Object.entries(lab.users)) {
  if (!/^\d+$/.test(ext) || u.password === undefined) continue;
  passwords.set(ext, { password: u.password, weak: u.weak === true });
  if (u.authId3cx !== undefined) passwords.set(u.authId3cx, { password: u.password, weak: u.weak === true });
}

test('lab captures: every weak password the tools found is reported, masked; no strong one ever is', async () => {
  let cracked = 0;
  for (const c of lab.captures) {
    const alerts = (await analyzeCapture(`${CAPTURES}/${c.file}`, [authWeakPassword])).filter(
      (a) => a.rule === 'auth.weak-password',
    );
    for (const a of alerts) {
      const id = a.target?.identity ?? '';
      const known = passwords.get(id);
      assert.ok(known !== undefined && known.weak, `${c.file}: ${id} is not a weak lab user`);
      assert.equal(a.evidence.passwordMasked, maskPassword(known.password), `${c.file}: ${id}`);
      // Never in clear (an identity that is its own password is the identity, not a leak).
      for (const [k, v] of Object.entries(a.evidence))
        if (k !== 'identity') assert.notEqual(v, known.password, k);
      assert.equal(a.severity, 'critical');
    }
    const ids = alerts.map((a) => a.target?.identity);
    if (c.weakPassword !== null) {
      assert.ok(
        ids.includes(c.weakPassword.identity),
        `${c.file}: ${c.weakPassword.identity} (${c.weakPassword.password}) must be cracked`,
      );
      const a = alerts.find((x) => x.target?.identity === c.weakPassword?.identity) as AlertJson;
      assert.equal(a.target?.extension, c.weakPassword.extension);
      cracked++;
    }
    if (c.mustNotFind.includes('auth.weak-password'))
      assert.deepEqual(ids, [], `${c.file}: must not find auth.weak-password`);
    // Raised only where the lab says a weak password is in use (must or may find).
    const listed =
      [...c.attacks, ...c.findings, ...c.mayFind].includes('auth.weak-password') ||
      (c.mayFindWeak ?? []).length > 0;
    if (ids.length > 0) assert.ok(listed, `${c.file}: unexpected auth.weak-password for ${ids.join(', ')}`);
  }
  assert.ok(cracked >= 1, 'at least one capture stages a weak password');
});
