import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TRACK_DIALOG_IDLE_TIMEOUT_MS } from '../../../src/config/limits.js';
import { fraudConcurrentCalls } from '../../../src/detect/rules/fraud-concurrent-calls.js';
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

function bye(h: H, t: number, inv: Invite, from: string, to: string): void {
  h.send(
    t,
    from,
    to,
    [
      `BYE sip:101@${to} SIP/2.0`,
      `Via: SIP/2.0/UDP ${from}:5060;branch=z9hG4bK-bye-${inv.callId}`,
      `From: <sip:${inv.user}@${inv.to}>;tag=x1`,
      `To: <sip:101@${inv.to}>;tag=${inv.fromTag}`,
      `Call-ID: ${inv.callId}`,
      'CSeq: 2 BYE',
      'Content-Length: 0',
      '',
      '',
    ].join('\n'),
  );
}

test('eleven answered calls up at once for one extension and source are high', () => {
  const h = ruleHarness(fraudConcurrentCalls, {}, site);
  for (let i = 0; i < 11; i++)
    call(h, T0 + i * 100, PHONE, PBX, `+3314268120${i}`, ['180 Ringing', '200 OK'], { auth: '101' });
  const alerts = h.finish();
  assert.equal(alerts.length, 2, 'one per extension, one per source');
  const byKey = new Map(alerts.map((a) => [a.evidence.group as string, a]));
  const ext = byKey.get('extension 101')!;
  assert.equal(ext.rule, 'fraud.concurrent-calls');
  assert.equal(ext.severity, 'high');
  assert.equal(ext.count, 11);
  assert.equal(ext.evidence.limit, 10);
  assert.equal((ext.evidence.dialled as string[]).length, 11);
  assert.equal(ext.title, '11 simultaneous calls for extension 101 (limit 10)');
  assert.ok(byKey.has(`source ${PHONE}`));
});

test('calls that end, unanswered calls and sequential calls stay under the limit', () => {
  const h = ruleHarness(fraudConcurrentCalls, {}, site);
  for (let i = 0; i < 30; i++) {
    const inv = call(h, T0 + i * 1000, PHONE, PBX, `+3314268120${i}`, ['180 Ringing', '200 OK'], {
      auth: '101',
    });
    bye(h, T0 + i * 1000 + 500, inv, PBX, PHONE);
  }
  for (let i = 0; i < 20; i++)
    call(h, T0 + 40_000 + i, PHONE, PBX, `+3314268121${i}`, ['180 Ringing', '486 Busy Here'], {
      auth: '101',
    });
  assert.deepEqual(h.finish(), []);
});

test('calls whose BYE was lost expire, and stop counting', () => {
  const h = ruleHarness(fraudConcurrentCalls, {}, site);
  for (let i = 0; i < 8; i++) call(h, T0 + i, PHONE, PBX, `+3314268120${i}`, ['200 OK'], { auth: '101' });
  const later = T0 + TRACK_DIALOG_IDLE_TIMEOUT_MS + 60_000;
  for (let i = 0; i < 8; i++) call(h, later + i, PHONE, PBX, `+3314268130${i}`, ['200 OK'], { auth: '101' });
  assert.deepEqual(h.finish(), []);
});

test('the PBX and trunks are counted per trunk with their own limit', () => {
  const h = ruleHarness(
    fraudConcurrentCalls,
    { 'fraud.concurrent-calls': { thresholds: { maxPerTrunk: 3 } } },
    site,
  );
  for (let i = 0; i < 4; i++) call(h, T0 + i, PBX, TRUNK, `+3314268120${i}`, ['200 OK']);
  for (let i = 0; i < 3; i++) call(h, T0 + 100 + i, TRUNK, PBX, `+44207183875${i}`, ['200 OK']);
  const alerts = h.finish();
  assert.equal(alerts.length, 1);
  assert.equal(alerts[0]!.evidence.group, `trunk ${TRUNK}`);
  assert.equal(alerts[0]!.count, 7);
});

test('fuzz: random call ends and answers never throw, open counts never go negative', () => {
  const h = ruleHarness(fraudConcurrentCalls, {}, site);
  let state = 5;
  const rnd = (): number => (state = (state * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const open: Invite[] = [];
  for (let i = 0; i < 300; i++) {
    if (open.length > 0 && rnd() < 0.5) {
      const inv = open.splice(Math.floor(rnd() * open.length), 1)[0]!;
      assert.doesNotThrow(() => bye(h, T0 + i * 10, inv, rnd() < 0.5 ? PBX : PHONE, PHONE));
    } else {
      const inv = call(
        h,
        T0 + i * 10,
        PHONE,
        PBX,
        `+331426${i}`,
        rnd() < 0.7 ? ['200 OK'] : ['404 Not Found'],
        { auth: '101' },
      );
      open.push(inv);
    }
  }
  const alerts = h.finish();
  for (const a of alerts) assert.ok((a.evidence.concurrent as number) > 0);
});
