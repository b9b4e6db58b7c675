import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TRACK_CALL_SETUP_TIMEOUT_MS, TRACK_MAX_CALLS } from '../../src/config/limits.js';
import { Pipeline } from '../../src/pipeline.js';
import { callDuration, numberKey, type Call } from '../../src/track/call-table.js';
import { inDialog, invite, PBX, PHONE, reply, T0, TRUNK, type Invite } from '../helpers/call-traffic.js';
import { unitFrame } from '../helpers/rule-harness.js';

/** The pipeline with a listener recording the calls it reports. */
function harness() {
  const ended: Call[] = [];
  const answered: Call[] = [];
  const started: Call[] = [];
  const ringing: Call[] = [];
  const pipeline = new Pipeline({
    listener: {
      callStarted: (c) => started.push(c),
      callRinging: (c) => ringing.push(c),
      callAnswered: (c) => answered.push(c),
      callEnded: (c) => ended.push(c),
    },
  });
  let frame = 0;
  const send = (time: number, src: string, dst: string, text: string): number => {
    pipeline.sipFrame(unitFrame(++frame, time, src, dst, text));
    return frame;
  };
  return { pipeline, ended, answered, started, ringing, send, calls: pipeline.tracker.calls };
}

/** `inv` as the same INVITE retried with credentials (new branch, CSeq 2). */
function withCredentials(inv: Invite): string {
  return inv.text
    .replace(/branch=([^\s;]+)/, 'branch=$1-auth')
    .replace('CSeq: 1 INVITE', 'CSeq: 2 INVITE')
    .replace(
      'Content-Length',
      `Proxy-Authorization: Digest username="101", realm="pbx", nonce="n", uri="sip:x", response="00112233445566778899aabbccddeeff"\nContent-Length`,
    );
}

function authed(inv: Invite): Invite {
  const lines = inv.lines.map((l) =>
    l.replace(/branch=([^\s;]+)/, 'branch=$1-auth').replace('CSeq: 1 INVITE', 'CSeq: 2 INVITE'),
  );
  return { ...inv, lines };
}

test('a back-to-back PBX call: challenge, retry, onward leg to the trunk, answer and BYE make one call', () => {
  const h = harness();
  const leg1 = invite(PHONE, PBX, '900442079460001');
  h.send(T0, PHONE, PBX, leg1.text);
  h.send(T0 + 5, PBX, PHONE, reply(leg1, '407 Proxy Authentication Required', 'p1'));
  h.send(T0 + 20, PHONE, PBX, withCredentials(leg1));
  const leg1b = authed(leg1);
  // The PBX places its own leg: new Call-ID and tags, the number without the outbound prefix.
  const leg2 = invite(PBX, TRUNK, '+442079460001', { fromUser: '+4930123456' });
  h.send(T0 + 40, PBX, TRUNK, leg2.text);
  h.send(T0 + 60, TRUNK, PBX, reply(leg2, '180 Ringing', 't1'));
  h.send(T0 + 61, PBX, PHONE, reply(leg1b, '180 Ringing', 'x1'));
  h.send(T0 + 3000, TRUNK, PBX, reply(leg2, '200 OK', 't1'));
  h.send(T0 + 3001, PBX, PHONE, reply(leg1b, '200 OK', 'x1'));
  inDialog(h, T0 + 63_001, PHONE, PBX, leg1b, 'BYE', { status: '200 OK' });
  h.pipeline.finish();
  assert.equal(h.started.length, 1, 'the onward leg is not a second call');
  assert.equal(h.ringing.length, 1, 'ringing once, at the first 180 of any leg');
  assert.equal(h.ringing[0]!.ringing, T0 + 60);
  assert.equal(h.started[0]!.transport, 'udp');
  assert.equal(h.answered.length, 1);
  assert.equal(h.ended.length, 1);
  const c = h.ended[0]!;
  assert.equal(c.caller, '101');
  assert.equal(c.identity, '101');
  assert.equal(c.dialled, '900442079460001');
  assert.equal(c.from.ip, PHONE);
  assert.equal(c.legs.length, 1);
  assert.equal(c.legs[0]!.to.ip, TRUNK);
  assert.equal(c.legs[0]!.dialled, '+442079460001');
  assert.equal(c.start, T0);
  assert.equal(c.ringing, T0 + 60);
  assert.equal(c.answer, T0 + 3000);
  assert.equal(c.end, T0 + 63_001);
  assert.equal(callDuration(c), 60.001);
  assert.equal(c.state, 'answered');
  assert.equal(c.endReason, 'bye');
  assert.equal(h.calls.stats.pairedLegs, 1);
  assert.equal(h.calls.size, 0);
});

test('a call whose BYE was lost ends when its dialog expires (Session-Expires), at its last activity', () => {
  const h = harness();
  const inv = invite(PHONE, PBX, '202');
  h.send(T0, PHONE, PBX, inv.text);
  const ok = reply(inv, '200 OK', 'x1').replace(
    'Content-Length',
    'Session-Expires: 90;refresher=uac\nContent-Length',
  );
  h.send(T0 + 1000, PBX, PHONE, ok);
  // A session refresh at 60 s, then silence (the BYE went another way).
  inDialog(h, T0 + 60_000, PHONE, PBX, inv, 'UPDATE', { status: '200 OK' });
  assert.equal(h.ended.length, 0);
  // Twice the interval after the last activity, a message from elsewhere moves event time on.
  h.send(T0 + 60_005 + 181_000, '192.0.2.200', PBX, invite('192.0.2.200', PBX, '300').text);
  const c = h.ended.find((x) => x.callId === inv.callId);
  assert.ok(c !== undefined, 'the call ended');
  assert.equal(c.endReason, 'expired');
  assert.equal(c.state, 'answered');
  assert.equal(c.end, T0 + 60_000);
  assert.equal(h.calls.stats.expired, 1);
});

test('outcomes: busy, cancelled, declined, a challenge never retried, a call rung out', () => {
  const h = harness();
  const busy = invite(PHONE, PBX, '201');
  h.send(T0, PHONE, PBX, busy.text);
  h.send(T0 + 10, PBX, PHONE, reply(busy, '486 Busy Here', 'b'));
  const cancelled = invite(PHONE, PBX, '202');
  h.send(T0 + 100, PHONE, PBX, cancelled.text);
  h.send(T0 + 110, PBX, PHONE, reply(cancelled, '180 Ringing', 'c'));
  h.send(T0 + 5000, PBX, PHONE, reply(cancelled, '487 Request Terminated', 'c'));
  const declined = invite(PHONE, PBX, '203');
  h.send(T0 + 200, PHONE, PBX, declined.text);
  h.send(T0 + 210, PBX, PHONE, reply(declined, '603 Decline', 'd'));
  const challenged = invite('192.0.2.66', PBX, '0046812345678');
  h.send(T0 + 300, '192.0.2.66', PBX, challenged.text);
  h.send(T0 + 310, PBX, '192.0.2.66', reply(challenged, '407 Proxy Authentication Required', 'e'));
  const rung = invite(PHONE, PBX, '204');
  h.send(T0 + 400, PHONE, PBX, rung.text);
  h.send(T0 + 410, PBX, PHONE, reply(rung, '180 Ringing', 'f'));
  // Event time moves past every timeout.
  h.send(T0 + TRACK_CALL_SETUP_TIMEOUT_MS + 10_000, '192.0.2.9', PBX, invite('192.0.2.9', PBX, '1').text);
  const byCallee = new Map(h.ended.map((c) => [c.dialled, c]));
  assert.equal(byCallee.get('201')?.state, 'busy');
  assert.equal(byCallee.get('201')?.status, 486);
  assert.equal(byCallee.get('202')?.state, 'cancelled');
  assert.equal(byCallee.get('202')?.ringing, T0 + 110);
  assert.equal(byCallee.get('203')?.state, 'rejected');
  assert.equal(byCallee.get('0046812345678')?.state, 'unauthorized');
  assert.equal(byCallee.get('204')?.state, 'no-answer');
  assert.equal(h.answered.length, 0);
  assert.deepEqual(h.calls.stats.outcomes, {
    busy: 1,
    cancelled: 1,
    rejected: 1,
    unauthorized: 1,
    'no-answer': 1,
  });
});

test('two callers dialling the same number: each onward leg pairs with the oldest waiting call', () => {
  const h = harness();
  const other = '203.0.113.21';
  const a = invite(PHONE, PBX, '900442079460002');
  const b = invite(other, PBX, '900442079460002', { fromUser: '102' });
  h.send(T0, PHONE, PBX, a.text);
  h.send(T0 + 100, other, PBX, b.text);
  h.send(T0 + 200, PBX, TRUNK, invite(PBX, TRUNK, '00442079460002').text);
  h.send(T0 + 300, PBX, TRUNK, invite(PBX, TRUNK, '+442079460002').text);
  assert.equal(h.started.length, 2);
  assert.equal(h.calls.stats.pairedLegs, 2);
  const [first, second] = h.started;
  assert.equal(first!.legs[0]!.dialled, '00442079460002');
  assert.equal(second!.legs[0]!.dialled, '+442079460002');
  // A third leg with nobody waiting is a call of its own (the PBX calling out by itself).
  h.send(T0 + 400, PBX, TRUNK, invite(PBX, TRUNK, '+442079460002').text);
  assert.equal(h.started.length, 3);
  assert.equal(h.started[2]!.from.ip, PBX);
});

test('number keys meet across dial-plan forms', () => {
  assert.equal(numberKey('900442079460001'), numberKey('+442079460001'));
  assert.equal(numberKey('Ext.105'), '105');
  assert.equal(numberKey('anonymous'), '');
});

test('a flood of INVITEs from spoofed addresses stays within the bound and does not end a call that is up', () => {
  const h = harness();
  const inv = invite(PHONE, PBX, '202');
  // The phone's address has called before: it is more frequent than any spoofed one.
  for (let i = 0; i < 3; i++) {
    const x = invite(PHONE, PBX, `30${i}`);
    h.send(T0 + i, PHONE, PBX, x.text);
    h.send(T0 + i + 1, PBX, PHONE, reply(x, '486 Busy Here', `z${i}`));
  }
  h.send(T0 + 10, PHONE, PBX, inv.text);
  h.send(T0 + 20, PBX, PHONE, reply(inv, '200 OK', 'x1'));
  const n = TRACK_MAX_CALLS + 500;
  for (let i = 0; i < n; i++) {
    const src = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
    // A new number each time: every call waits for an onward leg under its own key.
    h.send(T0 + 30 + i / 100, src, PBX, invite(src, PBX, `0046812${String(i).padStart(6, '0')}`).text);
  }
  // Calls end with their INVITE transaction when the transaction table (smaller) evicts it, or
  // are refused or evicted by the call table's own bound.
  assert.ok(h.calls.size <= TRACK_MAX_CALLS);
  assert.ok(h.calls.relayKeys <= TRACK_MAX_CALLS, `${h.calls.relayKeys} relay keys`);
  assert.ok(h.ended.length + h.calls.stats.rejections >= 500);
  assert.equal(
    h.ended.find((c) => c.callId === inv.callId),
    undefined,
    'the answered call is still up',
  );
});

test('fuzz: random INVITE traffic never throws and every ended call is consistent', () => {
  const h = harness();
  let state = 11;
  const rnd = (): number => (state = (state * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const statuses = [
    '100 Trying',
    '180 Ringing',
    '200 OK',
    '407 Proxy Authentication Required',
    '486 Busy Here',
    '487 Request Terminated',
    '500 Server Error',
  ];
  const hosts = [PHONE, PBX, TRUNK, '192.0.2.66'];
  const invites: Invite[] = [];
  let t = T0;
  for (let i = 0; i < 2000; i++) {
    t += Math.floor(rnd() * 2000);
    const src = hosts[Math.floor(rnd() * hosts.length)]!;
    const dst = hosts[Math.floor(rnd() * hosts.length)]!;
    if (rnd() < 0.4 || invites.length === 0) {
      const inv = invite(src, dst, String(Math.floor(rnd() * 20)));
      invites.push(inv);
      if (invites.length > 50) invites.shift();
      h.send(t, src, dst, inv.text);
    } else {
      const inv = invites[Math.floor(rnd() * invites.length)]!;
      const s = statuses[Math.floor(rnd() * statuses.length)]!;
      if (rnd() < 0.2) inDialog(h, t, src, dst, inv, 'BYE', { status: '200 OK' });
      else h.send(t, dst, src, reply(inv, s, s.startsWith('100') ? undefined : 'x1'));
    }
  }
  h.pipeline.finish();
  for (const c of h.ended) {
    assert.ok(c.end !== undefined && c.end >= c.start);
    if (c.answer !== undefined) assert.ok(c.answer >= c.start && c.state === 'answered');
    assert.ok(c.legs.length <= 8);
  }
  assert.equal(h.calls.stats.calls, h.started.length);
});

test("a proxy's own credentials on its onward copy do not become the call's identity", () => {
  const h = harness();
  const inv = invite(PHONE, PBX, '900442079460003');
  h.send(T0, PHONE, PBX, inv.text);
  // The proxy forwards the same INVITE (same Call-ID and tag) with credentials for its trunk.
  const onward = inv.text
    .replace(/branch=([^\s;]+)/, 'branch=$1-px')
    .replace(
      'Content-Length',
      'Proxy-Authorization: Digest username="trunk-account", realm="provider", nonce="n", uri="sip:x", response="00112233445566778899aabbccddeeff"\nContent-Length',
    );
  h.send(T0 + 10, PBX, TRUNK, onward);
  assert.equal(h.started.length, 1);
  assert.equal(h.started[0]!.identity, '');
  assert.equal(h.started[0]!.legs.length, 1);
});
