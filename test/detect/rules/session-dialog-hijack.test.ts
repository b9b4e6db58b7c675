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
