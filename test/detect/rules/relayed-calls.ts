/**
 * Calls a PBX passes on to its trunk, for the fraud rules' tests: a proxy's copy of the INVITE (same
 * Call-ID and tags, its own Via on top) and a back-to-back PBX's onward leg (its own Call-ID, the
 * number re-written), each answered by the trunk and the answer relayed to the phone.
 */
import { call, invite, reply, type Invite, type Sender } from '../../helpers/call-traffic.js';

let seq = 0;

/** `inv` (sent by a phone to `pbx`) copied by the proxy `pbx` to `trunk` for `user`, answered `statuses`. */
export function proxyOnward(
  h: Sender,
  t: number,
  inv: Invite,
  pbx: string,
  trunk: string,
  statuses: readonly string[],
  o: { user?: string; auth?: string } = {},
): number {
  seq++;
  const via = `Via: SIP/2.0/UDP ${pbx}:5060;branch=z9hG4bK-px${seq}`;
  const user = o.user ?? inv.user;
  const [requestLine, ...rest] = inv.text.split('\n');
  const copy = [
    requestLine!.replace(`sip:${inv.user}@`, `sip:${user}@`),
    via,
    ...rest.filter((l) => !l.startsWith('Proxy-Authorization:')),
  ];
  if (o.auth !== undefined)
    copy.splice(
      copy.indexOf('Max-Forwards: 70'),
      0,
      `Proxy-Authorization: Digest username="${o.auth}", realm="trunk", nonce="t${seq}", uri="sip:${user}@${trunk}", response="0123456789abcdef0123456789abcdef"`,
    );
  const frame = h.send(t, pbx, trunk, copy.join('\n'));
  statuses.forEach((s, i) => {
    const tag = s.startsWith('100') ? '' : ';tag=x1';
    h.send(
      t + 10 * (i + 1),
      trunk,
      pbx,
      [
        `SIP/2.0 ${s}`,
        via,
        ...inv.lines,
        `To: <sip:${inv.user}@${inv.to}>${tag}`,
        'Content-Length: 0',
        '',
        '',
      ].join('\n'),
    );
    h.send(t + 10 * (i + 1) + 2, pbx, senderOf(inv), reply(inv, s, tag === '' ? undefined : 'x1'));
  });
  return frame;
}

/** A back-to-back PBX's onward leg for `inv`: a new call `pbx` → `trunk` for `user`, answered
 * `statuses`, each answer relayed to the phone on the first leg. */
export function b2buaOnward(
  h: Sender,
  t: number,
  inv: Invite,
  pbx: string,
  trunk: string,
  user: string,
  statuses: readonly string[],
): number {
  const onward = call(h, t, pbx, trunk, user, statuses);
  statuses.forEach((s, i) =>
    h.send(t + 10 * (i + 1) + 2, pbx, senderOf(inv), reply(inv, s, s.startsWith('100') ? undefined : 'x1')),
  );
  return onward.frame;
}

/** The challenge of `inv` (407 from `pbx`) and the phone's retry with the credentials of `auth`. */
export function challengeAndRetry(h: Sender, t: number, inv: Invite, pbx: string, auth: string): Invite {
  h.send(t, pbx, senderOf(inv), reply(inv, '407 Proxy Authentication Required', 'ch'));
  const retry = invite(senderOf(inv), pbx, inv.user, { auth, callId: inv.callId });
  const text = retry.text
    .replace(`tag=${retry.fromTag}`, `tag=${inv.fromTag}`)
    .replace('CSeq: 1 INVITE', 'CSeq: 2 INVITE');
  const lines = retry.lines.map((l) =>
    l.replace(`tag=${retry.fromTag}`, `tag=${inv.fromTag}`).replace('CSeq: 1 INVITE', 'CSeq: 2 INVITE'),
  );
  h.send(t + 5, senderOf(inv), pbx, text);
  return { ...retry, text, lines, fromTag: inv.fromTag };
}

/** The address that sent `inv` (its Via's sent-by). */
function senderOf(inv: Invite): string {
  const m = /^Via: SIP\/2\.0\/UDP ([^:;]+)/.exec(inv.lines[0]!);
  return m![1]!;
}
