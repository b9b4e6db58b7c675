import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fraudPrefixProbing } from '../../../src/detect/rules/fraud-prefix-probing.js';
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
const ATTACKER = '203.0.113.66';

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

test('one number tried as 9 0, 9 00, 9 011, + and 00 from one source is high', () => {
  configureNumbers({ dialPlan: { country: 'GB', outboundPrefixes: ['9'] } });
  const h = ruleHarness(fraudPrefixProbing);
  const forms = ['902071838750', '900442071838750', '9011442071838750', '+442071838750', '00442071838750'];
  const frames = forms.map((u, i) => call(h, T0 + i * 1000, ATTACKER, PBX, u, ['404 Not Found']));
  const alerts = h.finish();
  configureNumbers();
  assert.equal(alerts.length, 1);
  const a = alerts[0]!;
  assert.equal(a.rule, 'fraud.prefix-probing');
  assert.equal(a.severity, 'high');
  assert.equal(a.count, 5);
  assert.equal(a.title, `+442071838750 dialled with many prefixes by source ${ATTACKER}`);
  assert.deepEqual([...(a.evidence.forms as string[])].sort(), ['+', '00', '9 0', '9 00', '9 011']);
  assert.equal(a.evidence.attempts, 5);
  assert.deepEqual(a.evidence.frames, frames);
  assert.equal(h.revisions[0]?.raisedAt, new Date(T0 + 2000).toISOString(), 'raised at the third form');
});

test('without a dial plan +, 00 and 011 are three forms', () => {
  configureNumbers();
  const h = ruleHarness(fraudPrefixProbing);
  for (const [i, u] of ['+33142681234', '0033142681234', '01133142681234'].entries())
    call(h, T0 + i, ATTACKER, PBX, u, []);
  const alerts = h.finish();
  assert.equal(alerts.length, 1);
  assert.equal(alerts[0]!.target?.extension, '+33142681234');
});

test('an identity probing from several addresses is reported by identity', () => {
  configureNumbers();
  const h = ruleHarness(fraudPrefixProbing);
  const us = ['+33142681234', '0033142681234', '01133142681234'];
  us.forEach((u, i) => call(h, T0 + i, `203.0.113.${70 + i}`, PBX, u, [], { auth: '105' }));
  const alerts = h.finish();
  assert.equal(alerts.length, 1);
  assert.equal(alerts[0]!.title, '+33142681234 dialled with many prefixes by identity 105');
});

test('redials in the same form, two forms, different numbers and different sources are not probing', () => {
  configureNumbers({ dialPlan: { country: 'GB', outboundPrefixes: ['9'] } });
  const h = ruleHarness(fraudPrefixProbing);
  for (let i = 0; i < 5; i++) call(h, T0 + i, ATTACKER, PBX, '902071838750', ['200 OK']);
  call(h, T0 + 10, ATTACKER, PBX, '+442071838750', ['200 OK']);
  call(h, T0 + 20, ATTACKER, PBX, '0033142681234', []);
  call(h, T0 + 30, '203.0.113.90', PBX, '00442071838750', []);
  call(h, T0 + 40, '203.0.113.91', PBX, '9011442071838750', []);
  call(h, T0 + 50, ATTACKER, PBX, '100', []);
  assert.deepEqual(h.finish(), []);
  configureNumbers();
});

test('forms spread beyond the quiet window do not add up', () => {
  configureNumbers();
  const h = ruleHarness(fraudPrefixProbing, {
    'fraud.prefix-probing': { thresholds: { windowSeconds: 60 } },
  });
  call(h, T0, ATTACKER, PBX, '+33142681234', []);
  call(h, T0 + 120_000, ATTACKER, PBX, '0033142681234', []);
  call(h, T0 + 240_000, ATTACKER, PBX, '01133142681234', []);
  assert.deepEqual(h.finish(), []);
});

test('fuzz: random dialled strings never throw, alerts stay one per (caller, number)', () => {
  configureNumbers({ dialPlan: { country: 'US', outboundPrefixes: ['9'] } });
  const h = ruleHarness(fraudPrefixProbing);
  let state = 3;
  const rnd = (): number => (state = (state * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const prefixes = ['', '9', '+', '00', '011', '9011', '1', '91'];
  for (let i = 0; i < 300; i++) {
    const user = prefixes[Math.floor(rnd() * prefixes.length)]! + String(Math.floor(rnd() * 1e10));
    assert.doesNotThrow(() => call(h, T0 + i, `203.0.113.${i % 4}`, PBX, user, []));
  }
  const alerts = h.finish();
  configureNumbers();
  const keys = alerts.map((a) => a.title);
  assert.equal(new Set(keys).size, keys.length);
});
