import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SipFrame } from '../../src/core/records.js';
import { parseSipMessage } from '../../src/sip/message.js';
import { toSipEvent, type SipEvent } from '../../src/track/sip-event.js';
import { Tracker } from '../../src/track/tracker.js';
import { isSlimmed, type Transaction } from '../../src/track/transactions.js';

const PBX = '192.0.2.10';
const PHONE = '192.0.2.101';
const T0 = Date.UTC(2026, 10, 24, 9, 0, 0);

interface Req {
  method: string;
  branch: string;
  cseq: number;
  callId?: string;
  fromTag?: string;
  toTag?: string;
  extra?: string;
  src?: string;
}

function request(r: Req): string {
  const src = r.src ?? PHONE;
  return (
    `${r.method} sip:${r.method === 'REGISTER' ? PBX : `102@${PBX}`} SIP/2.0\r\n` +
    `Via: SIP/2.0/UDP ${src}:5060;branch=z9hG4bK${r.branch}\r\nMax-Forwards: 70\r\n` +
    `From: <sip:101@${PBX}>;tag=${r.fromTag ?? 'f1'}\r\nTo: <sip:${r.method === 'REGISTER' ? 101 : 102}@${PBX}>${r.toTag !== undefined ? `;tag=${r.toTag}` : ''}\r\n` +
    `Call-ID: ${r.callId ?? 'call-1'}\r\nCSeq: ${r.cseq} ${r.method === 'ACK' ? 'ACK' : r.method}\r\n` +
    `Contact: <sip:101@${src}:5060>\r\n${r.extra ?? ''}Content-Length: 0\r\n\r\n`
  );
}

function response(req: string, status: string, toTag?: string): string {
  const lines = req.split('\r\n').filter((l) => /^(Via|From|To|Call-ID|CSeq):/.test(l));
  const out = lines.map((l) =>
    toTag !== undefined && l.startsWith('To:') && !l.includes(';tag=') ? `${l};tag=${toTag}` : l,
  );
  return `SIP/2.0 ${status}\r\n${out.join('\r\n')}\r\nContent-Length: 0\r\n\r\n`;
}

/** A tracker fed from text; `message` sees every message as the tracker hands it out. */
function harness(message?: (ev: SipEvent, tx: Transaction | undefined, retransmission: boolean) => void) {
  const closed: [Transaction, string][] = [];
  const dialogs: string[] = [];
  const bindings: string[] = [];
  const tracker = new Tracker({
    ...(message !== undefined ? { message } : {}),
    transactionClosed: (tx, reason) => closed.push([tx, reason]),
    dialogCreated: (d) => dialogs.push(`created ${d.state}`),
    dialogConfirmed: () => dialogs.push('confirmed'),
    dialogEnded: (_d, reason) => dialogs.push(`ended ${reason}`),
    bindingAdded: (reg, b) => bindings.push(`${reg.aor} ${b.contact}`),
  });
  let t = T0;
  const send = (text: string, fromPbx = false, dt = 10): SipEvent => {
    t += dt;
    const frame: SipFrame = {
      time: t,
      srcIp: fromPbx ? PBX : PHONE,
      srcPort: 5060,
      dstIp: fromPbx ? PHONE : PBX,
      dstPort: 5060,
      transport: 'udp',
      provenance: { kind: 'capture', file: 't', frame: 1 },
      data: Buffer.from(text),
    };
    const ev = toSipEvent(frame, parseSipMessage(frame.data));
    assert.ok(ev !== undefined, text.split('\r\n')[0]);
    tracker.add(ev);
    return ev;
  };
  return { tracker, send, closed, dialogs, bindings, now: () => t };
}

test('a registration with its challenge: two transactions, one binding, retransmissions counted once', () => {
  const h = harness();
  const r1 = request({ method: 'REGISTER', branch: 'a1', cseq: 1 });
  h.send(r1);
  h.send(r1); // UDP retransmission: same branch and CSeq
  h.send(response(r1, '401 Unauthorized', 'srv'), true);
  h.send(response(r1, '401 Unauthorized', 'srv'), true); // the answer retransmitted
  const r2 = request({
    method: 'REGISTER',
    branch: 'a2',
    cseq: 2,
    extra: `Authorization: Digest username="101", realm="pbx", nonce="n", uri="sip:${PBX}", response="00"\r\n`,
  });
  h.send(r2);
  h.send(response(r2, '200 OK', 'srv'), true);
  const s = h.tracker.transactions.stats;
  assert.equal(s.transactions, 2);
  assert.equal(s.requestRetransmissions, 1);
  assert.equal(s.responseRetransmissions, 1);
  assert.equal(h.tracker.registrations.stats.registrations, 1);
  assert.deepEqual(h.bindings, [`101@${PBX} sip:101@${PHONE}:5060`]);
  const reg = h.tracker.registrations.get(`101@${PBX}`);
  assert.equal(reg?.bindings[0]?.identity, '101');
});

test('an INVITE dialog: early on 180, confirmed on 200, ACK in the INVITE transaction for a 407, ended by BYE', () => {
  const h = harness();
  const i1 = request({ method: 'INVITE', branch: 'i1', cseq: 1 });
  h.send(i1);
  h.send(response(i1, '407 Proxy Authentication Required', 'x'), true);
  h.send(request({ method: 'ACK', branch: 'i1', cseq: 1, toTag: 'x' })); // same branch: part of the INVITE transaction
  const i2 = request({ method: 'INVITE', branch: 'i2', cseq: 2 });
  h.send(i2);
  h.send(response(i2, '180 Ringing', 'callee'), true);
  h.send(response(i2, '200 OK', 'callee'), true);
  h.send(request({ method: 'ACK', branch: 'i3', cseq: 2, toTag: 'callee' }));
  const bye = request({ method: 'BYE', branch: 'b1', cseq: 3, toTag: 'callee' });
  h.send(bye, false, 3000);
  h.send(response(bye, '200 OK'), true);
  assert.deepEqual(h.dialogs, ['created early', 'confirmed', 'ended bye']);
  assert.equal(h.tracker.dialogs.stats.dialogs, 1);
  // INVITE(407)+ACK, INVITE(200), BYE: the ACK for the 2xx has no transaction of its own.
  assert.equal(h.tracker.transactions.stats.transactions, 3);
});

test('a request never answered closes as timed out after 32 s of event time; a failed INVITE ends its early dialog', () => {
  const h = harness();
  const o = request({ method: 'OPTIONS', branch: 'o1', cseq: 1, callId: 'opt' });
  h.send(o);
  const i = request({ method: 'INVITE', branch: 'i9', cseq: 1, callId: 'c9' });
  h.send(i, false, 31_000);
  h.send(response(i, '183 Session Progress', 'e1'), true);
  assert.equal(h.closed.length, 0, 'not yet');
  h.send(response(i, '486 Busy Here', 'e1'), true, 2_000);
  const timedOut = h.closed.find(([tx]) => tx.method === 'OPTIONS');
  assert.equal(timedOut?.[1], 'timeout');
  assert.deepEqual(h.dialogs, ['created early', 'ended rejected']);
  h.tracker.flush();
  const invite = h.closed.find(([tx]) => tx.method === 'INVITE');
  assert.equal(invite?.[1], 'completed');
  assert.equal(invite?.[0].final?.status, 486);
});

test('an answered non-INVITE transaction keeps its event fields but not its messages; retransmissions still match', () => {
  const seen: { ev: SipEvent; tx: Transaction | undefined; retransmission: boolean; requestMsg: string }[] =
    [];
  // What a listener reads while a message is handed out is whole, slimmed transaction or not.
  const { tracker, send, closed } = harness((ev, tx, retransmission) =>
    seen.push({ ev, tx, retransmission, requestMsg: tx?.request.msg.callId ?? '' }),
  );
  const r1 = request({ method: 'REGISTER', branch: 's1', cseq: 1, callId: 'reg-1' });
  const req = send(r1);
  send(response(r1, '100 Trying'), true);
  const answer = send(response(r1, '401 Unauthorized', 'srv'), true);
  // Handed out whole: the listener read the request's message at the answer.
  assert.equal(seen[2]?.ev, answer);
  assert.equal(seen[2]?.requestMsg, 'reg-1');
  const tx = seen[2]?.tx as Transaction;
  // After it: slimmed, fields kept, bytes and message gone; the events themselves untouched.
  assert.equal(isSlimmed(tx), true);
  assert.notEqual(tx.request, req);
  assert.equal(tx.request.callId, 'reg-1');
  assert.equal(tx.request.method, 'REGISTER');
  assert.equal(tx.request.cseq, 1);
  assert.equal(tx.request.frame.srcIp, PHONE);
  assert.equal(tx.request.frame.data.length, 0);
  assert.equal(tx.request.msg.callId, undefined);
  assert.equal(tx.final?.status, 401);
  assert.equal(tx.final?.toTag, 'srv');
  assert.equal(tx.provisional?.status, 100);
  assert.equal(req.msg.callId, 'reg-1');
  assert.ok(req.frame.data.length > 0);
  assert.equal(answer.msg.status, 401);
  // Retransmissions of the request and of the answer still match the slimmed transaction.
  send(r1);
  send(response(r1, '401 Unauthorized', 'srv'), true);
  assert.deepEqual(
    seen.slice(3).map((x) => [x.tx === tx, x.retransmission]),
    [
      [true, true],
      [true, true],
    ],
  );
  // A different final to the answered request: no fork exists for it, so it goes on as an orphan.
  send(response(r1, '200 OK', 'srv'), true);
  assert.equal(seen[5]?.tx, undefined);
  assert.equal(seen[5]?.retransmission, false);
  const s = tracker.transactions.stats;
  assert.equal(s.requestRetransmissions, 1);
  assert.equal(s.responseRetransmissions, 1);
  assert.equal(s.extraFinals, 1);
  // An INVITE transaction keeps its messages (its ACK and forked answers read them).
  const inv = request({ method: 'INVITE', branch: 'i1', cseq: 1, callId: 'call-9' });
  const invite = send(inv);
  send(response(inv, '486 Busy Here', 'b'), true);
  const itx = seen[seen.length - 1]?.tx as Transaction;
  assert.equal(isSlimmed(itx), false);
  assert.equal(itx.request, invite);
  tracker.flush();
  assert.deepEqual(
    closed.map(([c, reason]) => [c.method, reason]),
    [
      ['REGISTER', 'completed'],
      ['INVITE', 'completed'],
    ],
  );
});
