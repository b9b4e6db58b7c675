import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fraudSequentialDialing, smallStep } from '../../../src/detect/rules/fraud-sequential-dialing.js';
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
const SCANNER = '203.0.113.66';

type H = ReturnType<typeof ruleHarness>;

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

test('smallStep compares the last six digits of same-length numbers sharing the rest', () => {
  assert.equal(smallStep('442071838751', '442071838750', 10), 1);
  assert.equal(smallStep('442071838740', '442071838750', 10), -10);
  assert.equal(smallStep('442071838750', '442071838750', 10), undefined);
  assert.equal(smallStep('442071838790', '442071838750', 10), undefined);
  assert.equal(smallStep('442171838751', '442071838750', 10), undefined);
  assert.equal(smallStep('4420718387', '44207183875', 10), undefined);
  assert.equal(smallStep('123456', '123457', 10), undefined, 'too short to have a shared prefix');
});

test('ten numbers dialled one after the other are sequential dialling', () => {
  configureNumbers();
  const h = ruleHarness(fraudSequentialDialing);
  for (let i = 0; i < 12; i++)
    call(h, T0 + i * 500, SCANNER, PBX, `+4420718387${String(50 + i)}`, ['404 Not Found']);
  const alerts = h.finish();
  assert.equal(alerts.length, 1);
  const a = alerts[0]!;
  assert.equal(a.rule, 'fraud.sequential-dialing');
  assert.equal(a.severity, 'medium');
  assert.equal(a.count, 12);
  assert.deepEqual(a.evidence.range, ['442071838750', '442071838761']);
  assert.deepEqual(a.evidence.strides, { '+1': 11 });
  assert.equal(h.revisions[0]?.raisedAt, new Date(T0 + 9 * 500).toISOString(), 'raised at the tenth number');
});

test('gaps and reversed order still count; retries of one number do not', () => {
  configureNumbers();
  const h = ruleHarness(fraudSequentialDialing);
  const tails = [90, 88, 85, 84, 80, 79, 77, 70, 69, 66];
  tails.forEach((t, i) => call(h, T0 + i, SCANNER, PBX, `00331426812${t}`, []));
  const alerts = h.finish();
  assert.equal(alerts.length, 1);
  assert.equal(alerts[0]!.count, 10);

  const h2 = ruleHarness(fraudSequentialDialing);
  for (let i = 0; i < 30; i++) call(h2, T0 + i, SCANNER, PBX, '+33142681234', []);
  for (let i = 0; i < 5; i++) call(h2, T0 + 100 + i, SCANNER, PBX, `+3314268123${i}`, []);
  assert.deepEqual(h2.finish(), [], 'a retried number and five neighbours are under the threshold');
});

test('unrelated numbers, short extensions and different sources are not sequential', () => {
  configureNumbers();
  const h = ruleHarness(fraudSequentialDialing);
  const numbers = [
    '+442071838750',
    '+33142681234',
    '+12125551234',
    '+4930123456',
    '+34911234567',
    '+390612345678',
    '+4116681234',
    '+31201234567',
    '+4681234567',
    '+4522334455',
    '+3222345678',
  ];
  numbers.forEach((u, i) => call(h, T0 + i, SCANNER, PBX, u, ['200 OK']));
  for (let i = 0; i < 20; i++) call(h, T0 + 100 + i, SCANNER, PBX, String(200 + i), []);
  for (let i = 0; i < 12; i++) call(h, T0 + 200 + i, `203.0.113.${i + 1}`, PBX, `+4420718387${50 + i}`, []);
  assert.deepEqual(h.finish(), []);
});

test('fuzz: random numbers never throw and the per-source memory stays bounded', () => {
  configureNumbers();
  const h = ruleHarness(fraudSequentialDialing);
  let state = 11;
  const rnd = (): number => (state = (state * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  for (let i = 0; i < 400; i++) {
    const user =
      rnd() < 0.5
        ? `+44207183${String(Math.floor(rnd() * 10000)).padStart(4, '0')}`
        : `x${Math.floor(rnd() * 1e6)}`;
    assert.doesNotThrow(() => call(h, T0 + i, SCANNER, PBX, user, []));
  }
  const alerts = h.finish();
  assert.ok(alerts.length <= 1);
});
