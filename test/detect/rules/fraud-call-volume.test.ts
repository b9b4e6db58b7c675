import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fraudCallVolume } from '../../../src/detect/rules/fraud-call-volume.js';
import { DEFAULT_SITE, SiteModel } from '../../../src/detect/site.js';
import { ruleHarness } from '../../helpers/rule-harness.js';

const T0 = Date.UTC(2026, 10, 24, 9, 0, 0);
let seq = 0;

/** An INVITE built for the test, with the header lines a reply copies. */
interface Invite {
  readonly text: string;
  readonly callId: string;
  readonly fromTag: string;
  readonly lines: readonly string[];
  readonly user: string;
  readonly to: string;
}

const crlfLength = (body: string): number => Buffer.byteLength(body.replace(/\r?\n/g, '\r\n'), 'latin1');

function invite(
  from: string,
  to: string,
  user: string,
  o: { fromUser?: string; auth?: string; sdp?: string; callId?: string } = {},
): Invite {
  seq++;
  const callId = o.callId ?? `c${seq}@${from}`;
  const fromUser = o.fromUser ?? '101';
  const body = o.sdp ?? '';
  const lines = [
    `Via: SIP/2.0/UDP ${from}:5060;branch=z9hG4bK-${seq}`,
    `From: <sip:${fromUser}@${to}>;tag=f${seq}`,
    `Call-ID: ${callId}`,
    'CSeq: 1 INVITE',
  ];
  const text = [
    `INVITE sip:${user}@${to} SIP/2.0`,
    ...lines,
    'Max-Forwards: 70',
    `To: <sip:${user}@${to}>`,
    `Contact: <sip:${fromUser}@${from}:5060>`,
    ...(o.auth !== undefined
      ? [
          `Proxy-Authorization: Digest username="${o.auth}", realm="pbx", nonce="n${seq}", uri="sip:${user}@${to}", response="0123456789abcdef0123456789abcdef"`,
        ]
      : []),
    ...(body !== '' ? ['Content-Type: application/sdp'] : []),
    `Content-Length: ${crlfLength(body)}`,
    '',
    body,
  ].join('\n');
  return { text, callId, fromTag: `f${seq}`, lines, user, to };
}

function reply(inv: Invite, status: string, toTag?: string, sdp = ''): string {
  return [
    `SIP/2.0 ${status}`,
    ...inv.lines,
    `To: <sip:${inv.user}@${inv.to}>${toTag !== undefined ? `;tag=${toTag}` : ''}`,
    ...(sdp !== '' ? ['Content-Type: application/sdp'] : []),
    `Content-Length: ${crlfLength(sdp)}`,
    '',
    sdp,
  ].join('\n');
}

const PBX = '198.51.100.2';
const TRUNK = '198.51.100.50';
const PHONE = '203.0.113.20';
const site = new SiteModel({ ...DEFAULT_SITE, pbx: [PBX], trunks: [TRUNK] });

type H = ReturnType<typeof ruleHarness>;

function call(
  h: H,
  t: number,
  from: string,
  to: string,
  user: string,
  statuses: string[],
  o: { auth?: string } = {},
): Invite {
  const inv = invite(from, to, user, o);
  h.send(t, from, to, inv.text);
  statuses.forEach((s, i) =>
    h.send(t + 10 * (i + 1), to, from, reply(inv, s, s.startsWith('100') ? undefined : 'x1')),
  );
  return inv;
}

test('sixty authenticated calls within an hour from one extension are high', () => {
  const h = ruleHarness(fraudCallVolume, {}, site);
  for (let i = 0; i < 61; i++)
    call(h, T0 + i * 30_000, PHONE, PBX, `+3314268${1000 + i}`, ['180 Ringing', '200 OK'], { auth: '101' });
  const alerts = h.finish();
  assert.equal(alerts.length, 2, 'per extension and per source');
  const ext = alerts.find((a) => a.evidence.group === 'extension 101')!;
  assert.equal(ext.rule, 'fraud.call-volume');
  assert.equal(ext.severity, 'high');
  assert.equal(ext.count, 61);
  assert.equal(ext.evidence.cap, 60);
  assert.deepEqual(ext.evidence.outcomes, { accepted: 61 });
  assert.equal(
    h.revisions[0]?.raisedAt,
    new Date(T0 + 59 * 30_000 + 20).toISOString(),
    'raised at the 60th call',
  );
});

test('challenged INVITEs and a normal day stay silent', () => {
  const h = ruleHarness(fraudCallVolume, {}, site);
  for (let i = 0; i < 100; i++) {
    call(h, T0 + i * 120_000, PHONE, PBX, `+3314268${1000 + i}`, ['407 Proxy Authentication Required']);
    call(h, T0 + i * 120_000 + 50, PHONE, PBX, `+3314268${1000 + i}`, ['200 OK'], { auth: '101' });
  }
  assert.deepEqual(h.finish(), [], '30 calls an hour is under the cap');
});

test('unauthenticated calls count per source; the PBX counts per trunk only', () => {
  const h = ruleHarness(
    fraudCallVolume,
    { 'fraud.call-volume': { thresholds: { callsPerHour: 5, trunkCallsPerHour: 8 } } },
    site,
  );
  for (let i = 0; i < 5; i++)
    call(h, T0 + i, '203.0.113.99', PBX, `+3314268${1000 + i}`, ['180 Ringing', '200 OK']);
  for (let i = 0; i < 8; i++)
    call(h, T0 + 100 + i, PBX, TRUNK, `+3314268${2000 + i}`, ['200 OK'], { auth: 'trunkuser' });
  const alerts = h.finish();
  const groups = alerts.map((a) => a.evidence.group).sort();
  assert.deepEqual(groups, ['source 203.0.113.99', `trunk ${TRUNK}`]);
});

test('the hour slides: calls spread over two hours at half the cap are not reported', () => {
  const h = ruleHarness(fraudCallVolume, { 'fraud.call-volume': { thresholds: { callsPerHour: 10 } } }, site);
  for (let i = 0; i < 12; i++)
    call(h, T0 + i * 600_000, PHONE, PBX, `+3314268${1000 + i}`, ['200 OK'], { auth: '101' });
  assert.deepEqual(h.finish(), []);
});

test('fuzz: random outcomes never throw and alerts stay per group', () => {
  const h = ruleHarness(fraudCallVolume, { 'fraud.call-volume': { thresholds: { callsPerHour: 20 } } }, site);
  let state = 17;
  const rnd = (): number => (state = (state * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const answers = ['200 OK', '486 Busy Here', '401 Unauthorized', '503 Service Unavailable', '180 Ringing'];
  for (let i = 0; i < 300; i++) {
    const src = `203.0.113.${i % 3}`;
    assert.doesNotThrow(() =>
      call(
        h,
        T0 + i * 1000,
        src,
        PBX,
        String(Math.floor(rnd() * 1e9)),
        [answers[Math.floor(rnd() * answers.length)]!],
        rnd() < 0.5 ? { auth: `u${i % 2}` } : {},
      ),
    );
  }
  const alerts = h.finish();
  assert.ok(alerts.length <= 5, `${alerts.length}`);
});
