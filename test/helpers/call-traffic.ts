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

/** An SDP body with audio at `ip` (`direction` added as an attribute when given). */
export function sdpAt(ip: string, direction?: string): string {
  const v = ip.includes(':') ? 'IP6' : 'IP4';
  return [
    'v=0',
    `o=- 1 1 IN ${v} ${ip}`,
    's=-',
    `c=IN ${v} ${ip}`,
    't=0 0',
    'm=audio 40000 RTP/AVP 0',
    ...(direction !== undefined ? [`a=${direction}`] : []),
    '',
  ].join('\n');
}

/**
 * An in-dialog request of the dialog `inv` started (answered with To tag `x1`), sent `src` → `dst`
 * as the caller side (`fromCaller`) or the callee side, answered `status` (none when undefined).
 */
export function inDialog(
  h: Sender,
  t: number,
  src: string,
  dst: string,
  inv: Invite,
  method: string,
  o: { status?: string; fromCaller?: boolean; sdp?: string; answerSdp?: string; extra?: string[] } = {},
): number {
  seq++;
  const caller = o.fromCaller ?? true;
  const from = caller ? `<sip:101@${inv.to}>;tag=${inv.fromTag}` : `<sip:${inv.user}@${inv.to}>;tag=x1`;
  const to = caller ? `<sip:${inv.user}@${inv.to}>;tag=x1` : `<sip:101@${inv.to}>;tag=${inv.fromTag}`;
  const body = o.sdp ?? '';
  const lines = [
    `Via: SIP/2.0/UDP ${src}:5060;branch=z9hG4bK-d${seq}`,
    `From: ${from}`,
    `To: ${to}`,
    `Call-ID: ${inv.callId}`,
    `CSeq: ${100 + seq} ${method}`,
  ];
  const f = h.send(
    t,
    src,
    dst,
    [
      `${method} sip:x@${dst} SIP/2.0`,
      ...lines,
      ...(o.extra ?? []),
      ...(body !== '' ? ['Content-Type: application/sdp'] : []),
      `Content-Length: ${crlfLength(body)}`,
      '',
      body,
    ].join('\n'),
  );
  if (o.status !== undefined) {
    const ans = o.answerSdp ?? '';
    h.send(
      t + 5,
      dst,
      src,
      [
        `SIP/2.0 ${o.status}`,
        ...lines,
        ...(ans !== '' ? ['Content-Type: application/sdp'] : []),
        `Content-Length: ${crlfLength(ans)}`,
        '',
        ans,
      ].join('\n'),
    );
  }
  return f;
}

/** A call `from` → `to` answered 200 with SDP on both sides (offer at `offerIp`, answer at `answerIp`). */
export function mediaCall(
  h: Sender,
  t: number,
  from: string,
  to: string,
  offerIp: string,
  answerIp: string,
): Invite {
  const inv = invite(from, to, '202', { sdp: sdpAt(offerIp) });
  h.send(t, from, to, inv.text);
  h.send(t + 10, to, from, reply(inv, '200 OK', 'x1', sdpAt(answerIp)));
  return inv;
}

/** A REGISTER from `src` adding `contact` with User-Agent `ua`, answered 200 listing `listed` contacts. */
export function registerContact(
  h: Sender,
  t: number,
  src: string,
  user: string,
  o: { contact?: string; ua: string; expires?: number; listed?: string[]; extraContacts?: string[] },
): number {
  seq++;
  const contact = o.contact ?? `<sip:${user}@${src}:5060>`;
  const lines = [
    `Via: SIP/2.0/UDP ${src}:5060;branch=z9hG4bK-rc${seq}`,
    `From: <sip:${user}@pbx.example>;tag=rc${seq}`,
    `To: <sip:${user}@pbx.example>`,
    `Call-ID: regc${seq}@${src}`,
    `CSeq: ${seq} REGISTER`,
  ];
  const f = h.send(
    t,
    src,
    PBX,
    [
      'REGISTER sip:pbx.example SIP/2.0',
      ...lines,
      ...(o.extraContacts ?? []).map((c) => `Contact: ${c}`),
      `Contact: ${contact}`,
      `Expires: ${o.expires ?? 300}`,
      `User-Agent: ${o.ua}`,
      `Authorization: Digest username="${user}", realm="pbx", nonce="n${seq}", uri="sip:pbx.example", response="0123456789abcdef0123456789abcdef"`,
      'Content-Length: 0',
      '',
      '',
    ].join('\n'),
  );
  h.send(
    t + 5,
    PBX,
    src,
    [
      'SIP/2.0 200 OK',
      ...lines,
      ...(o.listed ?? []).map((c) => `Contact: ${c}`),
      'Content-Length: 0',
      '',
      '',
    ].join('\n'),
  );
  return f;
}
