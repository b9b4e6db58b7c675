import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fraudPremiumDestination } from '../../../src/detect/rules/fraud-premium-destination.js';
import { DEFAULT_SITE, SiteModel } from '../../../src/detect/site.js';
import { configureNumbers } from '../../../src/track/calls.js';
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
const site = new SiteModel({ ...DEFAULT_SITE, trunks: [TRUNK] });

type H = ReturnType<typeof ruleHarness>;

/** A call `from` → `to` answered with the given statuses; returns the INVITE's frame. */
function call(
  h: H,
  t: number,
  from: string,
  to: string,
  user: string,
  statuses: string[],
  o: { auth?: string } = {},
): number {
  const inv = invite(from, to, user, o);
  const f = h.send(t, from, to, inv.text);
  statuses.forEach((s, i) =>
    h.send(t + 10 * (i + 1), to, from, reply(inv, s, s.startsWith('100') ? undefined : 'x1')),
  );
  return f;
}

test('a satellite number the PBX rings is critical, raised at the first provisional answer', () => {
  configureNumbers();
  const h = ruleHarness(fraudPremiumDestination, {}, site);
  const f = call(h, T0, PHONE, PBX, '+8816123456789', ['100 Trying', '183 Session Progress', '200 OK'], {
    auth: '101',
  });
  const alerts = h.finish();
  assert.equal(alerts.length, 1);
  const a = alerts[0]!;
  assert.equal(a.rule, 'fraud.premium-destination');
  assert.equal(a.severity, 'critical');
  assert.equal(a.count, 1);
  assert.equal(a.title, `Call to high-risk number +8816123456789 (satellite) from 101 at ${PHONE}`);
  assert.equal(
    h.revisions[0]?.raisedAt,
    new Date(T0 + 20).toISOString(),
    'raised at the 183, before the answer',
  );
  assert.deepEqual(a.target, { ip: PBX, port: 5060, extension: '+8816123456789', identity: '101' });
  assert.deepEqual(a.evidence.dialled, ['+8816123456789 (+8816123456789)']);
  assert.deepEqual(a.evidence.types, { satellite: 1 });
  assert.deepEqual(a.evidence.riskRanges, [
    '881 Global Mobile Satellite System (Iridium 8816/8817, Globalstar 8818/8819, others) (satellite)',
  ]);
  assert.equal(a.evidence.answered, 1);
  assert.deepEqual(a.evidence.statuses, { '183': 1, '200': 1 });
  assert.deepEqual(a.evidence.frames, [f, f + 2, f + 3]);
});

test('premium-rate numbers by libphonenumber, in 00 form and under a dial plan with outbound prefix 9', () => {
  configureNumbers({ dialPlan: { country: 'GB', outboundPrefixes: ['9'] } });
  const h = ruleHarness(fraudPremiumDestination, {}, site);
  call(h, T0, PHONE, PBX, '00449098790000', ['180 Ringing']);
  call(h, T0 + 1000, PHONE, PBX, '909098790001', ['180 Ringing']);
  const alerts = h.finish();
  configureNumbers();
  assert.equal(alerts.length, 1, 'one alert per caller');
  assert.equal(alerts[0]!.count, 2);
  assert.deepEqual(alerts[0]!.evidence.types, { 'premium-rate': 2 });
  assert.deepEqual(alerts[0]!.evidence.countries, { GB: 2 });
});

test('ordinary, rejected, unanswered and inbound trunk calls are not reported', () => {
  configureNumbers();
  const h = ruleHarness(fraudPremiumDestination, {}, site);
  call(h, T0, PHONE, PBX, '+442071838750', ['180 Ringing', '200 OK']);
  call(h, T0 + 100, PHONE, PBX, '+8816123456789', ['100 Trying', '403 Forbidden']);
  call(h, T0 + 200, PHONE, PBX, '+8816123456789', ['407 Proxy Authentication Required']);
  call(h, T0 + 300, PHONE, PBX, '+8816123456789', ['100 Trying']);
  call(h, T0 + 400, TRUNK, PBX, '+8816123456789', ['180 Ringing', '200 OK']);
  call(h, T0 + 500, PHONE, PBX, '100', ['180 Ringing']);
  call(h, T0 + 600, PHONE, PBX, '09098790000', ['180 Ringing']);
  assert.deepEqual(h.finish(), [], 'without a dial plan a national form is not read');
});

test('the onward leg of a back-to-back PBX is the same call, counted once at the caller', () => {
  configureNumbers();
  const h = ruleHarness(fraudPremiumDestination, {}, site);
  const leg1 = invite(PHONE, PBX, '+8816123456789', { auth: '101' });
  h.send(T0, PHONE, PBX, leg1.text);
  h.send(T0 + 5, PBX, PHONE, reply(leg1, '100 Trying'));
  const leg2 = invite(PBX, TRUNK, '+8816123456789', { fromUser: '442071838750', auth: 'trunkuser' });
  h.send(T0 + 10, PBX, TRUNK, leg2.text);
  h.send(T0 + 200, TRUNK, PBX, reply(leg2, '183 Session Progress', 't2'));
  h.send(T0 + 210, PBX, PHONE, reply(leg1, '183 Session Progress', 'p1'));
  const alerts = h.finish();
  assert.equal(alerts.length, 1);
  assert.equal(alerts[0]!.source?.ip, PHONE);
  assert.equal(alerts[0]!.count, 1);
});

test('fuzz: random dialled strings and answers never throw', () => {
  configureNumbers({ dialPlan: { country: 'US', outboundPrefixes: ['9'] } });
  const h = ruleHarness(fraudPremiumDestination, {}, site);
  let state = 7;
  const rnd = (): number => (state = (state * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const alphabet = '0123456789+*#;%-.()abc@';
  for (let i = 0; i < 300; i++) {
    let user = '';
    const n = Math.floor(rnd() * 30);
    for (let j = 0; j < n; j++) user += alphabet[Math.floor(rnd() * alphabet.length)]!;
    if (user === '' || user.includes('@')) user = `+881${i}`;
    const statuses = rnd() < 0.5 ? ['180 Ringing', '200 OK'] : ['486 Busy Here'];
    assert.doesNotThrow(() => call(h, T0 + i * 10, `203.0.113.${i % 50}`, PBX, user, statuses));
  }
  const alerts = h.finish();
  configureNumbers();
  for (const a of alerts) assert.equal(a.rule, 'fraud.premium-destination');
  assert.ok(alerts.length <= 50, 'at most one alert per caller');
});
