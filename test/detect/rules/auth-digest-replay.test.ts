/**
 * auth.digest-replay through the real pipeline (parser → tracker → engine → alert book): digests
 * reused from another source, nonce counts going backwards, nonces never issued; and what is not a
 * replay (retransmissions, the same request re-sent, relays, a device's own stale nonce).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { AlertJson } from '../../../src/core/alert.js';
import type { RuleSettings } from '../../../src/detect/engine.js';
import { authDigestReplay, ReplayDetector } from '../../../src/detect/rules/auth-digest-replay.js';
import { computeDigestResponse } from '../../../src/sip/digest.js';
import type { SipMessage } from '../../../src/sip/message.js';
import type { SipEvent } from '../../../src/track/sip-event.js';
import {
  DETECT_REPLAY_MAX_CREDENTIALS,
  DETECT_REPLAY_MAX_ISSUED_NONCES,
  DETECT_REPLAY_MAX_NONCE_COUNTS,
} from '../../../src/config/limits.js';
import { analyzeCapture } from '../../helpers/analyze-capture.js';
import { ruleHarness, unitEvent, type RuleHarness } from '../../helpers/rule-harness.js';

const PBX = '198.51.100.10';
const PHONE = '192.0.2.21';
const ATTACKER = '203.0.113.66';
const REALM = 'pbx.example';
const T0 = Date.UTC(2026, 10, 24, 9, 0, 0);

/** The pipeline with only this rule, recording every alert revision. */
function harness(settings: Record<string, RuleSettings> = {}): RuleHarness<ReplayDetector> {
  return ruleHarness<ReplayDetector>(authDigestReplay, settings);
}

/**
 * `base` at `time` carrying digest credentials number `i` with `nonce`: only the fields of
 * DigestCredentials the detector reads, so tens of thousands of them cost no header parsing.
 */
function withCredentials(base: SipEvent, nonce: string, i: number, time: number): SipEvent {
  const authorization = {
    isDigest: true,
    username: `u${i}`,
    realm: REALM,
    nonce,
    response: `r${i}`,
    qop: 'auth',
    nc: 1,
    cnonce: `c${i}`,
  };
  const msg = { authorization, proxyAuthorization: undefined, vias: base.msg.vias } as unknown as SipMessage;
  return { ...base, msg, time, branch: `z9hG4bK${nonce}` };
}

interface Req {
  method?: string;
  src: string;
  user?: string;
  callId: string;
  branch: string;
  cseq: number;
  auth?: string;
  vias?: string[];
}

function request(r: Req): string {
  const method = r.method ?? 'REGISTER';
  const user = r.user ?? '101';
  const vias = r.vias ?? [`Via: SIP/2.0/UDP ${r.src}:5060;branch=${r.branch}`];
  return (
    `${method} sip:${PBX} SIP/2.0\n${vias.join('\n')}\nMax-Forwards: 70\n` +
    `From: <sip:${user}@${PBX}>;tag=f${r.callId}\nTo: <sip:${user}@${PBX}>\nCall-ID: ${r.callId}\n` +
    `CSeq: ${r.cseq} ${method}\nContact: <sip:${user}@${r.src}:5060>\n${r.auth ?? ''}Content-Length: 0\n\n`
  );
}

/** A response to `req` (same Via, From, To, Call-ID, CSeq) with extra header lines. */
function answer(req: string, status: string, extra = ''): string {
  const keep = req.split('\n').filter((l) => /^(Via|From|To|Call-ID|CSeq):/.test(l));
  return `SIP/2.0 ${status}\n${keep.join('\n')}\n${extra}Content-Length: 0\n\n`;
}

function challenge(nonce: string, stale = false): string {
  return `WWW-Authenticate: Digest realm="${REALM}", nonce="${nonce}", qop="auth"${stale ? ', stale=true' : ''}\n`;
}

/** An Authorization header computed for `password` over `method` and uri `sip:PBX`. */
function authorization(opts: {
  user?: string;
  nonce: string;
  nc?: number;
  cnonce?: string;
  password?: string;
  method?: string;
  qop?: boolean;
}): string {
  const qop = opts.qop ?? true;
  const ncRaw = (opts.nc ?? 1).toString(16).padStart(8, '0');
  const input = {
    username: opts.user ?? '101',
    realm: REALM,
    nonce: opts.nonce,
    uri: `sip:${PBX}`,
    algorithm: 'MD5',
    cnonce: qop ? (opts.cnonce ?? 'c0ffee') : undefined,
    qop: qop ? 'auth' : undefined,
    ncRaw: qop ? ncRaw : undefined,
  };
  const response = computeDigestResponse(
    input,
    opts.password ?? 'S3cure-Pass!',
    opts.method ?? 'REGISTER',
  ) as string;
  const q = qop ? `, qop=auth, nc=${ncRaw}, cnonce="${input.cnonce}"` : '';
  return `Authorization: Digest username="${input.username}", realm="${REALM}", nonce="${opts.nonce}", uri="${input.uri}", response="${response}", algorithm=MD5${q}\n`;
}

/** The phone registers: REGISTER, 401 with `nonce`, REGISTER with credentials, 200. Returns the
 * credentialed request's text and frame. */
function login(
  h: ReturnType<typeof harness>,
  time: number,
  nonce: string,
  id: string,
): { req: string; frame: number } {
  const r1 = request({ src: PHONE, callId: `reg-${id}`, branch: `z9hG4bKp${id}a`, cseq: 1 });
  h.send(time, PHONE, PBX, r1);
  h.send(time + 5, PBX, PHONE, answer(r1, '401 Unauthorized', challenge(nonce)));
  const r2 = request({
    src: PHONE,
    callId: `reg-${id}`,
    branch: `z9hG4bKp${id}b`,
    cseq: 2,
    auth: authorization({ nonce }),
  });
  const frame = h.send(time + 10, PHONE, PBX, r2);
  h.send(time + 15, PBX, PHONE, answer(r2, '200 OK'));
  return { req: r2, frame };
}

test('a digest captured from the phone and sent again from another host is a replay (and its acceptance counts)', () => {
  const h = harness();
  const { req, frame } = login(h, T0, 'n-7f3a9c21e8b04d6a', '1');
  // The attacker replays the credentialed REGISTER verbatim a minute later, and the PBX accepts it.
  const replay = req.replace(`${PHONE}:5060;branch=z9hG4bKp1b`, `${PHONE}:5060;branch=z9hG4bKevil1`);
  const replayFrame = h.send(T0 + 60_000, ATTACKER, PBX, replay);
  h.send(T0 + 60_005, PBX, ATTACKER, answer(replay, '200 OK'));
  const alerts = h.finish();
  assert.equal(alerts.length, 1);
  const a = alerts[0] as AlertJson;
  assert.equal(a.rule, 'auth.digest-replay');
  assert.equal(a.severity, 'high');
  assert.equal(a.source?.ip, ATTACKER);
  assert.equal(a.target?.ip, PBX);
  assert.equal(a.target?.identity, '101');
  assert.deepEqual(a.evidence.reasons, {
    'reused-from-other-source': 1,
    'qop-response-repeated': 0,
    'nonce-count-backwards': 0,
    'nonce-never-issued': 0,
  });
  assert.deepEqual(a.evidence.originalSources, [PHONE]);
  assert.deepEqual(a.evidence.frames, [replayFrame]);
  assert.deepEqual(a.evidence.originalFrames, [frame]);
  assert.equal(a.evidence.accepted, 1, 'the PBX accepted the replayed digest');
  assert.equal(a.raisedAt, new Date(T0 + 60_000).toISOString(), 'raised at the replayed request');
  // Digest responses and nonces never leave in clear.
  const json = JSON.stringify(alerts);
  assert.ok(!json.includes('n-7f3a9c21e8b04d6a'), 'the nonce is not in the alert');
  assert.ok(!/[0-9a-f]{32}/.test(json), 'no digest response in the alert');
});

test('retransmissions, and a digest without qop re-sent by the same source, are not replays', () => {
  const h = harness();
  const { req } = login(h, T0, 'n-retrans', '2');
  // UDP retransmission of the credentialed request (same branch), answered again, also late.
  h.send(T0 + 500, PHONE, PBX, req);
  h.send(T0 + 505, PBX, PHONE, answer(req, '200 OK'));
  h.send(T0 + 4_000, PHONE, PBX, req);
  // A digest without qop (no nonce count) re-sent by the same phone in a new transaction: RFC 2069
  // clients have no count to raise, so a repeat proves nothing.
  const plain = request({
    src: PHONE,
    callId: 'plain-1',
    branch: 'z9hG4bKpl1',
    cseq: 1,
    auth: authorization({ nonce: 'n-plain', qop: false }),
  });
  h.send(T0 + 10_000, PHONE, PBX, plain);
  h.send(T0 + 10_005, PBX, PHONE, answer(plain, '200 OK'));
  const plainAgain = plain.replace('branch=z9hG4bKpl1', 'branch=z9hG4bKpl2').replace('CSeq: 1', 'CSeq: 2');
  h.send(T0 + 40_000, PHONE, PBX, plainAgain);
  h.send(T0 + 40_005, PBX, PHONE, answer(plainAgain, '200 OK'));
  assert.deepEqual(h.finish(), []);
});

test('a qop response repeated in a new transaction from the same address is a replay (a client never repeats one)', () => {
  const h = harness();
  const { req } = login(h, T0, 'n-same-addr', '3');
  // Within the reorder tolerance a second transaction with the same response is not judged.
  const quick = req.replace('branch=z9hG4bKp3b', 'branch=z9hG4bKp3q');
  h.send(T0 + 1_000, PHONE, PBX, quick);
  h.send(T0 + 1_005, PBX, PHONE, answer(quick, '200 OK'));
  assert.equal(h.revisions.length, 0);
  // 40 s later, same address (an attacker behind the phone's NAT), new branch: the PBX accepts it.
  const again = req.replace('branch=z9hG4bKp3b', 'branch=z9hG4bKp3c');
  const f = h.send(T0 + 40_000, PHONE, PBX, again);
  h.send(T0 + 40_005, PBX, PHONE, answer(again, '200 OK'));
  // Answered stale=true, the same repeat would be a device refreshing: not counted.
  const stale = req.replace('branch=z9hG4bKp3b', 'branch=z9hG4bKp3d');
  h.send(T0 + 80_000, PHONE, PBX, stale);
  h.send(T0 + 80_005, PBX, PHONE, answer(stale, '401 Unauthorized', challenge('n-same-addr-2', true)));
  const alerts = h.finish();
  assert.equal(alerts.length, 1);
  const a = alerts[0] as AlertJson;
  assert.equal(a.source?.ip, PHONE);
  assert.equal(a.title, 'Digest response of identity 101 repeated in a new request from 192.0.2.21');
  assert.deepEqual(a.evidence.reasons, {
    'reused-from-other-source': 0,
    'qop-response-repeated': 1,
    'nonce-count-backwards': 0,
    'nonce-never-issued': 0,
  });
  assert.equal(a.evidence.accepted, 1);
  assert.deepEqual(a.evidence.frames, [f]);
});

test('nonce counts are per user and nonce whatever the cnonce: a lower count later from the same address is a replay', () => {
  const h = harness();
  const nonce = 'n-per-nonce';
  const mk = (nc: number, cnonce: string, branch: string): string =>
    request({ src: PHONE, callId: 'pn', branch, cseq: nc, auth: authorization({ nonce, nc, cnonce }) });
  // The phone draws a new cnonce per request (as SIPp does): nc=1 then nc=2.
  const r1 = mk(1, '6b8b4567', 'z9hG4bKpn1');
  h.send(T0, PHONE, PBX, r1);
  h.send(T0 + 5, PBX, PHONE, answer(r1, '200 OK'));
  const r2 = mk(2, '327b23c6', 'z9hG4bKpn2');
  h.send(T0 + 1_000, PHONE, PBX, r2);
  h.send(T0 + 1_005, PBX, PHONE, answer(r2, '200 OK'));
  assert.equal(h.revisions.length, 0);
  // Someone behind the same address sends nc=1 again with yet another cnonce 5 s later.
  const r1b = mk(1, '643c9869', 'z9hG4bKpn3');
  const f = h.send(T0 + 6_000, PHONE, PBX, r1b);
  h.send(T0 + 6_005, PBX, PHONE, answer(r1b, '200 OK'));
  const alerts = h.finish();
  assert.equal(alerts.length, 1);
  const a = alerts[0] as AlertJson;
  assert.match(a.title, /^Nonce count went backwards for identity 101/);
  assert.equal((a.evidence.reasons as Record<string, number>)['nonce-count-backwards'], 1);
  assert.deepEqual(a.evidence.frames, [f]);
});

test('a proxy or SBC forwarding the credentials is a relay, not a replay', () => {
  const h = harness();
  const PROXY = '198.51.100.2';
  const UPSTREAM = '198.51.100.99';
  // The phone talks to the proxy (the proxy is the request's receiver).
  const r = request({
    src: PHONE,
    callId: 'relay-1',
    branch: 'z9hG4bKph1',
    cseq: 2,
    auth: authorization({ nonce: 'n-relay' }),
  });
  h.send(T0, PHONE, PROXY, r);
  // 1) The proxy sends it on from the address it received it at, its own Via on top.
  const fwd = r.replace(
    'Via: SIP/2.0/UDP',
    `Via: SIP/2.0/UDP ${PROXY}:5060;branch=z9hG4bKpx1\nVia: SIP/2.0/UDP`,
  );
  h.send(T0 + 3, PROXY, PBX, fwd);
  // 2) A second hop from another address (the SBC's other interface), keeping the phone's Via below.
  const fwd2 = fwd.replace(
    'Via: SIP/2.0/UDP',
    `Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKsbc1\nVia: SIP/2.0/UDP`,
  );
  h.send(T0 + 6, '10.0.0.2', UPSTREAM, fwd2);
  // 3) Topology hiding: the original Vias stripped, sent at once from yet another interface.
  const hidden = r.replace(
    `Via: SIP/2.0/UDP ${PHONE}:5060;branch=z9hG4bKph1`,
    'Via: SIP/2.0/UDP 172.16.0.9:5060;branch=z9hG4bKth1',
  );
  h.send(T0 + 9, '172.16.0.9', UPSTREAM, hidden);
  assert.deepEqual(h.finish(), []);
});

test('the same nonce and cnonce with a lower count from another source is a replay; swapped arrivals are not', () => {
  const h = harness();
  const nonce = 'n-count-1';
  const mk = (nc: number, branch: string, src: string, callId: string): string =>
    request({ src, callId, branch, cseq: 10 + nc, auth: authorization({ nonce, nc }) });
  // Two requests sent together, arriving swapped (3 then 2) from the same phone: not a replay.
  const r3 = mk(3, 'z9hG4bKn3', PHONE, 'c-3');
  const r2 = mk(2, 'z9hG4bKn2', PHONE, 'c-2');
  h.send(T0, PHONE, PBX, r3);
  h.send(T0 + 40, PHONE, PBX, r2);
  h.send(T0 + 50, PBX, PHONE, answer(r3, '200 OK'));
  h.send(T0 + 60, PBX, PHONE, answer(r2, '200 OK'));
  assert.equal(h.revisions.length, 0);
  // Later the phone goes on to nc=5; a capture of nc=4 is sent from elsewhere: backwards.
  const r5 = mk(5, 'z9hG4bKn5', PHONE, 'c-5');
  h.send(T0 + 10_000, PHONE, PBX, r5);
  h.send(T0 + 10_010, PBX, PHONE, answer(r5, '200 OK'));
  const r4 = mk(4, 'z9hG4bKx4', ATTACKER, 'c-4');
  const f4 = h.send(T0 + 20_000, ATTACKER, PBX, r4);
  h.send(T0 + 20_010, PBX, ATTACKER, answer(r4, '401 Unauthorized', challenge('n-count-2')));
  const alerts = h.finish();
  assert.equal(alerts.length, 1);
  const a = alerts[0] as AlertJson;
  assert.equal(a.source?.ip, ATTACKER);
  assert.equal((a.evidence.reasons as Record<string, number>)['nonce-count-backwards'], 1);
  assert.deepEqual(a.evidence.frames, [f4]);
  assert.equal(a.evidence.accepted, 0);
});

test('a lower count the PBX answers stale=true is the device refreshing its nonce, not a replay', () => {
  const h = harness();
  const nonce = 'n-stale-1';
  const hi = request({
    src: PHONE,
    callId: 's-1',
    branch: 'z9hG4bKs1',
    cseq: 1,
    auth: authorization({ nonce, nc: 9 }),
  });
  h.send(T0, PHONE, PBX, hi);
  h.send(T0 + 5, PBX, PHONE, answer(hi, '200 OK'));
  // After a reboot the phone reuses its stored nonce and cnonce with the count restarted at 1.
  const lo = request({
    src: PHONE,
    callId: 's-2',
    branch: 'z9hG4bKs2',
    cseq: 1,
    auth: authorization({ nonce, nc: 1 }),
  });
  h.send(T0 + 1_800_000, PHONE, PBX, lo);
  h.send(T0 + 1_800_005, PBX, PHONE, answer(lo, '401 Unauthorized', challenge('n-stale-2', true)));
  assert.deepEqual(h.finish(), []);
});

test('accepted credentials for a nonce never issued, once every challenge has been watched long enough', () => {
  const h = harness({ 'auth.digest-replay': { thresholds: { nonceLifetimeSeconds: 300 } } });
  // The PBX's challenges are watched for longer than the assumed lifetime (300 s).
  for (let i = 0; i < 4; i++) login(h, T0 + i * 100_000, `n-issued-${i}`, `w${i}`);
  // A request from the same phone whose answer the capture never saw: a lost challenge?
  const lost = request({ src: PHONE, callId: 'lost', branch: 'z9hG4bKlost', cseq: 1 });
  h.send(T0 + 320_000, PHONE, PBX, lost);
  const early = request({
    src: PHONE,
    callId: 'lost',
    branch: 'z9hG4bKlost2',
    cseq: 2,
    auth: authorization({ nonce: 'n-from-lost' }),
  });
  h.send(T0 + 320_010, PHONE, PBX, early);
  h.send(T0 + 320_020, PBX, PHONE, answer(early, '200 OK'));
  assert.equal(h.revisions.length, 0, 'not claimed while a request of that source is unanswered');
  // Now the attacker presents credentials for a nonce the PBX never issued, and the PBX accepts them.
  const forged = request({
    src: ATTACKER,
    user: '102',
    callId: 'forged',
    branch: 'z9hG4bKf1',
    cseq: 1,
    auth: authorization({ user: '102', nonce: 'n-made-up' }),
  });
  h.send(T0 + 500_000, ATTACKER, PBX, forged);
  h.send(T0 + 500_010, PBX, ATTACKER, answer(forged, '200 OK'));
  // A second use of that nonce is no longer "never issued" (it was met once).
  const forged2 = forged.replace('z9hG4bKf1', 'z9hG4bKf2').replace('CSeq: 1', 'CSeq: 2');
  h.send(T0 + 501_000, ATTACKER, PBX, forged2);
  h.send(T0 + 501_010, PBX, ATTACKER, answer(forged2, '200 OK'));
  const alerts = h.finish();
  assert.equal(alerts.length, 1);
  const a = alerts[0] as AlertJson;
  assert.equal(a.source?.ip, ATTACKER);
  assert.equal(a.target?.identity, '102');
  assert.deepEqual(a.evidence.reasons, {
    'reused-from-other-source': 0,
    'qop-response-repeated': 0,
    'nonce-count-backwards': 0,
    'nonce-never-issued': 1,
  });
  assert.equal(a.evidence.accepted, 1);
  assert.match(a.title, /never issued/);
});

test('no "never issued" claim before the server was watched for one nonce lifetime, nor for rejected credentials', () => {
  const h = harness();
  login(h, T0, 'n-a', 'x1');
  login(h, T0 + 1000, 'n-b', 'x2');
  login(h, T0 + 2000, 'n-c', 'x3');
  // Credentials for an unknown nonce 10 minutes in: the nonce may predate the capture (3600 s assumed).
  const r = request({
    src: PHONE,
    callId: 'pre',
    branch: 'z9hG4bKpre',
    cseq: 5,
    auth: authorization({ nonce: 'n-before-capture' }),
  });
  h.send(T0 + 600_000, PHONE, PBX, r);
  h.send(T0 + 600_010, PBX, PHONE, answer(r, '200 OK'));
  // Two hours in: an unknown nonce rejected (403) is the PBX doing its job, not a replay.
  const bad = request({
    src: ATTACKER,
    callId: 'bad',
    branch: 'z9hG4bKbad',
    cseq: 1,
    auth: authorization({ nonce: 'n-junk' }),
  });
  h.send(T0 + 7_200_000, ATTACKER, PBX, bad);
  h.send(T0 + 7_200_010, PBX, ATTACKER, answer(bad, '403 Forbidden'));
  assert.deepEqual(h.finish(), []);
});

test('a PBX seen accepting old nonces raises the lifetime assumed for it', () => {
  const h = harness({ 'auth.digest-replay': { thresholds: { nonceLifetimeSeconds: 300 } } });
  for (let i = 0; i < 3; i++) login(h, T0 + i * 1000, `n-old-${i}`, `o${i}`);
  // The phone uses the nonce it got at T0 two hours later (preemptive authentication): accepted.
  const late = request({
    src: PHONE,
    callId: 'late',
    branch: 'z9hG4bKlate',
    cseq: 9,
    auth: authorization({ nonce: 'n-old-0', nc: 2 }),
  });
  h.send(T0 + 7_200_000, PHONE, PBX, late);
  h.send(T0 + 7_200_010, PBX, PHONE, answer(late, '200 OK'));
  // Three hours in, another phone's nonce from before the capture: not claimed (lifetime now >= 4 h).
  const other = request({
    src: '192.0.2.22',
    user: '103',
    callId: 'o',
    branch: 'z9hG4bKo',
    cseq: 3,
    auth: authorization({ user: '103', nonce: 'n-pre' }),
  });
  h.send(T0 + 10_800_000, '192.0.2.22', PBX, other);
  h.send(T0 + 10_800_010, PBX, '192.0.2.22', answer(other, '200 OK'));
  assert.deepEqual(h.finish(), []);
});

test('fuzz: random and mutated messages never throw, and the credential tables stay bounded', () => {
  const h = harness();
  let seed = 7;
  const rnd = (n: number): number => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed % n;
  };
  const base = request({
    src: PHONE,
    callId: 'fz',
    branch: 'z9hG4bKfz',
    cseq: 1,
    auth: authorization({ nonce: 'n-fz', nc: 3 }),
  });
  for (let i = 0; i < 1000; i++) {
    let text: string;
    if (i % 3 === 0) {
      const bytes = Buffer.alloc(rnd(300));
      for (let k = 0; k < bytes.length; k++) bytes[k] = rnd(256);
      text = bytes.toString('latin1');
    } else {
      const chars = [...base];
      for (let k = 0; k < 6; k++) chars[rnd(chars.length)] = String.fromCharCode(32 + rnd(95));
      text = chars
        .join('')
        .replace('n-fz', `n-${rnd(50)}`)
        .replace('fz', `fz${i}`);
    }
    const src = `203.0.${rnd(4)}.${rnd(250)}`;
    h.send(T0 + i * 10, src, PBX, text);
    if (i % 2 === 0)
      h.send(
        T0 + i * 10 + 1,
        PBX,
        src,
        answer(text, rnd(2) === 0 ? '200 OK' : '401 Unauthorized', challenge(`n-${rnd(50)}`)),
      );
  }
  const alerts = h.finish();
  for (const a of alerts) assert.equal(a.rule, 'auth.digest-replay');
  assert.ok(alerts.length > 0, 'digests reused across the random sources were seen');
  const sizes = h.detector.sizes();
  assert.ok(sizes.credentials > 0 && sizes.credentials <= DETECT_REPLAY_MAX_CREDENTIALS);
  assert.ok(sizes.nonceCounts <= DETECT_REPLAY_MAX_NONCE_COUNTS);
  assert.ok(sizes.knownNonces > 0 && sizes.knownNonces <= DETECT_REPLAY_MAX_ISSUED_NONCES);
});

test('bounds: more distinct digests and nonces than the tables hold are refused or evicted, never grown', () => {
  const h = harness();
  const det = h.detector;
  // One parsed REGISTER, varied in its credentials only: the parser's cost is not what is measured.
  const base = unitEvent(
    T0,
    PHONE,
    PBX,
    request({ src: PHONE, callId: 'bound', branch: 'z9hG4bKbound', cseq: 1 }),
  );
  const n = DETECT_REPLAY_MAX_CREDENTIALS + 5_000;
  for (let i = 0; i < n; i++) det.onMessage(withCredentials(base, `nb${i}`, i, T0 + i), undefined, false);
  const sizes = det.sizes();
  assert.ok(
    sizes.credentials > 1000 && sizes.credentials <= DETECT_REPLAY_MAX_CREDENTIALS,
    `credentials ${sizes.credentials}`,
  );
  assert.ok(
    sizes.nonceCounts > 1000 && sizes.nonceCounts <= DETECT_REPLAY_MAX_NONCE_COUNTS,
    `nonce counts ${sizes.nonceCounts}`,
  );
  assert.equal(h.revisions.length, 0);
});

test('credentials and nonce counts older than memorySeconds leave the tables (swept as requests come)', () => {
  const h = harness({ 'auth.digest-replay': { thresholds: { memorySeconds: 60 } } });
  const det = h.detector;
  const base = unitEvent(
    T0,
    PHONE,
    PBX,
    request({ src: PHONE, callId: 'sweep', branch: 'z9hG4bKsweep', cseq: 1 }),
  );
  const send = (i: number, time: number): void =>
    det.onMessage(withCredentials(base, `ns${i}`, i, time), undefined, false);
  // 1,000 digests in 10 s, then 2,000 more two minutes later: by then the first are past memory.
  for (let i = 0; i < 1000; i++) send(i, T0 + i * 10);
  assert.deepEqual([det.sizes().credentials, det.sizes().nonceCounts], [1000, 1000]);
  for (let i = 0; i < 2000; i++) send(1000 + i, T0 + 120_000 + i * 10);
  assert.deepEqual([det.sizes().credentials, det.sizes().nonceCounts], [2000, 2000]);
  // Still within memory: the latest digest sent again from elsewhere is a replay.
  const replay = withCredentials(base, 'ns2999', 2999, T0 + 150_000);
  det.onMessage(
    { ...replay, frame: { ...replay.frame, srcIp: ATTACKER }, branch: 'z9hG4bKreplay' },
    undefined,
    false,
  );
  const alerts = h.finish();
  assert.equal(alerts.length, 1);
  assert.equal((alerts[0]?.evidence.reasons as Record<string, number>)['reused-from-other-source'], 1);
});

const CAPTURES = 'test/fixtures/captures';
const expected = (
  JSON.parse(readFileSync(`${CAPTURES}/expected.json`, 'utf8')) as {
    captures: { file: string; benign: boolean; attacks: string[]; mustNotFind: string[] }[];
  }
).captures;

test("lab capture: a replay from the phone's own address (nc=1 resent after nc=2 with one nonce) is seen", async () => {
  const alerts = await analyzeCapture(`${CAPTURES}/sipp-digest-replay-same-address-leaky.pcap`, [
    authDigestReplay,
  ]);
  assert.equal(alerts.length, 1);
  const a = alerts[0] as AlertJson;
  assert.equal(a.source?.ip, '127.0.1.4');
  assert.equal(a.source?.port, 5070, "the replaying socket, not the phone's");
  assert.equal(a.target?.identity, '104');
  assert.equal((a.evidence.reasons as Record<string, number>)['nonce-count-backwards'], 1);
  assert.equal(a.evidence.accepted, 1, 'the PBX (nonce_count off) accepted it');
});

test('lab captures: a replay only where one was staged; stale nonces and retransmissions are not replays', async () => {
  for (const c of expected) {
    const alerts = await analyzeCapture(`${CAPTURES}/${c.file}`, [authDigestReplay]);
    const raised = alerts.map((a) => `${a.rule}: ${a.title}`);
    if (c.attacks.includes('auth.digest-replay'))
      assert.ok(raised.length > 0, `${c.file}: the staged replay is seen`);
    else assert.deepEqual(raised, [], `${c.file}: no replay was staged`);
  }
});
