/** Hand-written SIP traffic for rule tests: INVITEs and their answers, REGISTERs, the usual hosts. */
import type { Detector } from '../../src/detect/rule.js';
import type { RuleHarness } from './rule-harness.js';

/** Event time the rule tests start at. */
export const T0 = Date.UTC(2026, 10, 24, 9, 0, 0);
/** The PBX every test call and login goes to. */
export const PBX = '198.51.100.2';
/** A SIP trunk (the site model names it in tests about trunk traffic). */
export const TRUNK = '198.51.100.50';
/** An internet phone of the site. */
export const PHONE = '203.0.113.20';

/** What the builders need of a harness: sending one message. */
export type Sender = Pick<RuleHarness<Detector>, 'send'>;

// Unique branches, tags and Call-IDs; each test file runs in its own process, so its numbering starts at 1.
let seq = 0;

/** An INVITE built for the test, with the header lines a reply copies. */
export interface Invite {
  readonly text: string;
  readonly callId: string;
  readonly fromTag: string;
  readonly lines: readonly string[];
  readonly user: string;
  readonly to: string;
}

/** Options of `invite`: caller extension (default 101), credentials, SDP offer, Call-ID. */
export interface InviteOptions {
  fromUser?: string;
  auth?: string;
  sdp?: string;
  callId?: string;
}

const crlfLength = (body: string): number => Buffer.byteLength(body.replace(/\r?\n/g, '\r\n'), 'latin1');

/** An INVITE from `from` to `to` for `user` (LF line ends: the harness turns them into CRLF). */
export function invite(from: string, to: string, user: string, o: InviteOptions = {}): Invite {
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

/** The answer `status` (e.g. `180 Ringing`) to `inv`, with a To tag and an SDP body when given. */
export function reply(inv: Invite, status: string, toTag?: string, sdp = ''): string {
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

/** A call sent by `call`: its INVITE and the frame number the INVITE got. */
export interface SentCall extends Invite {
  readonly frame: number;
}

/**
 * A call `from` → `to` at `t`, answered with `statuses` 10 ms apart (a final or provisional answer
 * other than 100 carries To tag `x1`).
 */
export function call(
  h: Sender,
  t: number,
  from: string,
  to: string,
  user: string,
  statuses: readonly string[],
  o: { auth?: string } = {},
): SentCall {
  const inv = invite(from, to, user, o);
  const frame = h.send(t, from, to, inv.text);
  statuses.forEach((s, i) =>
    h.send(t + 10 * (i + 1), to, from, reply(inv, s, s.startsWith('100') ? undefined : 'x1')),
  );
  return { ...inv, frame };
}

/** A REGISTER from `src` for `user` with credentials (unless `auth` is ''), answered `status`. */
export function register(
  h: Sender,
  t: number,
  src: string,
  user: string,
  status: string,
  auth: string = user,
): number {
  seq++;
  const lines = [
    `Via: SIP/2.0/UDP ${src}:5060;branch=z9hG4bK-r${seq}`,
    `From: <sip:${user}@pbx.example>;tag=r${seq}`,
    `To: <sip:${user}@pbx.example>`,
    `Call-ID: reg${seq}@${src}`,
    `CSeq: ${seq} REGISTER`,
  ];
  const f = h.send(
    t,
    src,
    PBX,
    [
      'REGISTER sip:pbx.example SIP/2.0',
      ...lines,
      `Contact: <sip:${user}@${src}:5060>`,
      'User-Agent: Yealink SIP-T46S',
      ...(auth !== ''
        ? [
            `Authorization: Digest username="${auth}", realm="pbx", nonce="n${seq}", uri="sip:pbx.example", response="0123456789abcdef0123456789abcdef"`,
          ]
        : []),
      'Content-Length: 0',
      '',
      '',
    ].join('\n'),
  );
  h.send(t + 5, PBX, src, [`SIP/2.0 ${status}`, ...lines, 'Content-Length: 0', '', ''].join('\n'));
  return f;
}
