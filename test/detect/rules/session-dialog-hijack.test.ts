import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sessionDialogHijack } from '../../../src/detect/rules/session-dialog-hijack.js';
import { DEFAULT_SITE, SiteModel } from '../../../src/detect/site.js';
import { ruleHarness } from '../../helpers/rule-harness.js';
import { call, inDialog, invite, PBX, PHONE, reply, T0 } from '../../helpers/call-traffic.js';

const site = new SiteModel({ ...DEFAULT_SITE, pbx: [PBX] });
const ATTACKER = '192.0.2.66';
const PROXY = '192.0.2.10';

test('a BYE from a third party that the phone accepted is high', () => {
  const h = ruleHarness(sessionDialogHijack, {}, site);
  const inv = call(h, T0, PHONE, PBX, '202', ['180 Ringing', '200 OK']);
  inDialog(h, T0 + 5000, ATTACKER, PHONE, inv, 'BYE', { status: '200 OK', fromCaller: false });
  const alerts = h.finish();
  assert.equal(alerts.length, 1);
  const a = alerts[0]!;
  assert.equal(a.rule, 'session.dialog-hijack');
  assert.equal(a.severity, 'high');
  assert.equal(a.count, 1);
  assert.equal(a.evidence.method, 'BYE');
  assert.equal(a.evidence.status, 200);
  assert.deepEqual((a.evidence.parties as string[]).slice(0, 2), [PHONE, PBX]);
  assert.match(a.title, /BYE from 192\.0\.2\.66 inside a call/);
});

test('re-INVITE and REFER from a stranger answered with another failure are medium', () => {
  const h = ruleHarness(sessionDialogHijack, {}, site);
  const inv = call(h, T0, PHONE, PBX, '202', ['200 OK']);
  inDialog(h, T0 + 1000, ATTACKER, PBX, inv, 'REFER', { status: '403 Forbidden' });
  const alerts = h.finish();
  assert.equal(alerts.length, 1);
  assert.equal(alerts[0]!.severity, 'medium');
  assert.deepEqual(alerts[0]!.evidence.statuses, { '403': 1 });
});

test('the parties, a proxy on the route set and a 481 answer are not hijacks', () => {
  const h = ruleHarness(sessionDialogHijack, {}, new SiteModel());
  const inv = call(h, T0, PHONE, PBX, '202', ['200 OK']);
  inDialog(h, T0 + 1000, PHONE, PBX, inv, 'INVITE', { status: '200 OK' });
  inDialog(h, T0 + 2000, PBX, PHONE, inv, 'UPDATE', { status: '200 OK', fromCaller: false });
  inDialog(h, T0 + 3000, ATTACKER, PHONE, inv, 'BYE', { status: '481 Call/Transaction Does Not Exist' });
  inDialog(h, T0 + 3500, ATTACKER, PHONE, inv, 'INFO', { status: '200 OK' });
  // A second call through a Record-Routing proxy: the proxy's BYE is legitimate.
  const inv2 = invite(PROXY, PBX, '203');
  h.send(T0 + 4000, PROXY, PBX, inv2.text);
  const ok = reply(inv2, '200 OK', 'x1').replace(
    'Content-Length',
    `Record-Route: <sip:${PROXY};lr>\nContent-Length`,
  );
  h.send(T0 + 4010, PBX, PROXY, ok);
  inDialog(h, T0 + 5000, PROXY, PBX, inv2, 'BYE', { status: '200 OK' });
  assert.deepEqual(h.finish(), []);
});

test('a request the receiver never answers is not reported', () => {
  const h = ruleHarness(sessionDialogHijack, {}, site);
  const inv = call(h, T0, PHONE, PBX, '202', ['200 OK']);
  inDialog(h, T0 + 1000, ATTACKER, PHONE, inv, 'BYE');
  assert.deepEqual(h.finish(), []);
});

test('fuzz: random in-dialog traffic never throws and alerts name only strangers', () => {
  const h = ruleHarness(sessionDialogHijack, {}, site);
  let state = 7;
  const rnd = (): number => (state = (state * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const hosts = [PHONE, PBX, ATTACKER, '192.0.2.77'];
  const methods = ['INVITE', 'UPDATE', 'BYE', 'REFER', 'CANCEL', 'INFO', 'ACK'];
  const statuses = ['200 OK', '481 Call/Transaction Does Not Exist', '403 Forbidden', '100 Trying'];
  const calls = [call(h, T0, PHONE, PBX, '202', ['200 OK'])];
  for (let i = 0; i < 300; i++) {
    if (rnd() < 0.1) calls.push(call(h, T0 + i * 50, PHONE, PBX, `20${i}`, ['200 OK']));
    const inv = calls[Math.floor(rnd() * calls.length)]!;
    const src = hosts[Math.floor(rnd() * hosts.length)]!;
    assert.doesNotThrow(() =>
      inDialog(h, T0 + i * 50 + 1, src, PBX, inv, methods[Math.floor(rnd() * methods.length)]!, {
        status: statuses[Math.floor(rnd() * statuses.length)]!,
        fromCaller: rnd() < 0.5,
      }),
    );
  }
  const alerts = h.finish();
  assert.ok(alerts.length > 0);
  for (const a of alerts) assert.ok([ATTACKER, '192.0.2.77'].includes(a.source!.ip));
});

test('a proxied call: the caller behind NAT hangs up from its transport address, not its Contact', () => {
  // The proxy forwards the INVITE with the same Call-ID and tags, and the dialog is first seen on
  // the proxy-to-callee leg (the callee's 180 arrives before the proxy relays it): the caller's
  // transport address is only known from the first leg, and its Contact names a private address.
  const h = ruleHarness(sessionDialogHijack, {}, new SiteModel());
  const CALLEE = '203.0.113.30';
  const leg1 = invite(PHONE, PBX, '202');
  h.send(
    T0,
    PHONE,
    PBX,
    leg1.text.replace(`Contact: <sip:101@${PHONE}:5060>`, 'Contact: <sip:101@10.1.0.5:5060>'),
  );
  const leg2Via = `Via: SIP/2.0/UDP ${PBX}:5060;branch=z9hG4bK-leg2`;
  const leg2 = {
    ...leg1,
    lines: [leg2Via, `Via: SIP/2.0/UDP ${PHONE}:5060;branch=b0`, ...leg1.lines.slice(1)],
  };
  const leg2Text = leg1.text
    .replace(leg1.lines[0]!, `${leg2Via}\nVia: SIP/2.0/UDP ${PHONE}:5060;branch=b0`)
    .replace(`Contact: <sip:101@${PHONE}:5060>`, 'Contact: <sip:101@10.1.0.5:5060>');
  h.send(T0 + 1, PBX, CALLEE, leg2Text);
  h.send(T0 + 10, CALLEE, PBX, reply(leg2, '180 Ringing', 'x1'));
  h.send(T0 + 11, PBX, PHONE, reply(leg1, '180 Ringing', 'x1'));
  h.send(T0 + 20, CALLEE, PBX, reply(leg2, '200 OK', 'x1'));
  h.send(T0 + 21, PBX, PHONE, reply(leg1, '200 OK', 'x1'));
  inDialog(h, T0 + 5000, PHONE, PBX, leg1, 'BYE', { status: '200 OK' });
  inDialog(h, T0 + 5001, PBX, CALLEE, leg1, 'BYE', { status: '200 OK' });
  assert.deepEqual(h.finish(), []);
});

test('an outsider copying the INVITE does not become a party unless its copy is answered', () => {
  const h = ruleHarness(sessionDialogHijack, {}, new SiteModel());
  const inv = call(h, T0, PHONE, PBX, '202', ['200 OK']);
  // The attacker resends the initial INVITE (no To tag) with the dialog's identifiers: rejected.
  const copy = inv.text.replace(`Via: SIP/2.0/UDP ${PHONE}:5060`, `Via: SIP/2.0/UDP ${ATTACKER}:5060`);
  h.send(T0 + 1000, ATTACKER, PBX, copy.replace(/branch=[^\s;]+/, 'branch=z9hG4bK-copy'));
  h.send(
    T0 + 1010,
    PBX,
    ATTACKER,
    reply(
      {
        ...inv,
        lines: inv.lines.map((l) =>
          l.replace(/^Via: .*/, `Via: SIP/2.0/UDP ${ATTACKER}:5060;branch=z9hG4bK-copy`),
        ),
      },
      '482 Loop Detected',
      'x9',
    ),
  );
  inDialog(h, T0 + 2000, ATTACKER, PBX, inv, 'BYE', { status: '200 OK' });
  const alerts = h.finish();
  assert.equal(alerts.length, 1);
  assert.equal(alerts[0]!.source?.ip, ATTACKER);
});

test("a declared SBC relaying a phone's BYE is not a stranger; undeclared, it is", () => {
  const SBC = '192.0.2.30';
  for (const declared of [true, false]) {
    const h = ruleHarness(
      sessionDialogHijack,
      {},
      new SiteModel({ ...DEFAULT_SITE, pbx: [PBX], ...(declared ? { sbc: [SBC] } : {}) }),
    );
    const inv = call(h, T0, PHONE, PBX, '202', ['200 OK']);
    inDialog(h, T0 + 5000, SBC, PBX, inv, 'BYE', { status: '200 OK' });
    assert.equal(h.finish().length, declared ? 0 : 1);
  }
});
