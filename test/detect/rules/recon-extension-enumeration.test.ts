import assert from 'node:assert/strict';
import { test } from 'node:test';
import { reconExtensionEnumeration } from '../../../src/detect/rules/recon-extension-enumeration.js';
import { ruleHarness } from '../../helpers/rule-harness.js';
import { invite, PBX, register, reply, T0 } from '../../helpers/call-traffic.js';

const SCANNER = '192.0.2.66';

test('INVITEs to 20 extensions answered 404 or 407 are an enumeration', () => {
  const h = ruleHarness(reconExtensionEnumeration);
  for (let i = 0; i < 20; i++) {
    const inv = invite(SCANNER, PBX, `${200 + i}`);
    h.send(T0 + i * 1000, SCANNER, PBX, inv.text);
    h.send(
      T0 + i * 1000 + 5,
      PBX,
      SCANNER,
      reply(inv, i % 4 === 0 ? '407 Proxy Authentication Required' : '404 Not Found', `t${i}`),
    );
  }
  const alerts = h.finish();
  assert.equal(alerts.length, 1);
  assert.equal(alerts[0]!.source?.ip, SCANNER);
});

test('in-dialog requests (To tag) answered 404 are not extension probes', () => {
  const h = ruleHarness(reconExtensionEnumeration);
  for (let i = 0; i < 20; i++) {
    // A phone's re-INVITEs of 20 calls whose dialogs the PBX no longer knows.
    const inv = invite(SCANNER, PBX, `${200 + i}`);
    const withTag = (text: string): string => text.replace(/^(To: .*)$/m, '$1;tag=gone');
    h.send(T0 + i * 1000, SCANNER, PBX, withTag(inv.text));
    h.send(T0 + i * 1000 + 5, PBX, SCANNER, withTag(reply(inv, '404 Not Found')));
  }
  assert.deepEqual(h.finish(), []);
});

/** An OPTIONS from `from` to `user` at the PBX, with a User-Agent, and its answer `status`. */
function options(
  h: { send(t: number, s: string, d: string, text: string): number },
  t: number,
  user: string,
): void {
  const inv = invite(SCANNER, PBX, user);
  const text = inv.text
    .replace(/^INVITE /, 'OPTIONS ')
    .replace('CSeq: 1 INVITE', 'CSeq: 1 OPTIONS')
    .replace('Max-Forwards: 70', 'Max-Forwards: 70\nUser-Agent: friendly-scanner');
  h.send(t, SCANNER, PBX, text);
  h.send(t + 5, PBX, SCANNER, reply(inv, '200 OK', 'o1').replace('CSeq: 1 INVITE', 'CSeq: 1 OPTIONS'));
}

test('evidence of a mixed sweep: methods in first-seen order, statuses, User-Agents, unanswered challenges as probes', () => {
  const h = ruleHarness(reconExtensionEnumeration);
  let t = T0;
  for (let i = 0; i < 6; i++) options(h, (t += 1000), `${300 + i}`);
  // Challenges never answered: probes once CHALLENGE_FOLLOW_UP_MS has passed...
  for (let i = 0; i < 6; i++) register(h, (t += 1000), SCANNER, `${400 + i}`, '401 Unauthorized', '');
  // ...except 400's, answered with credentials that pass: a real login, not a probe.
  register(h, (t += 500), SCANNER, '400', '200 OK');
  for (let i = 0; i < 8; i++) {
    const inv = invite(SCANNER, PBX, `${500 + i}`);
    h.send((t += 1000), SCANNER, PBX, inv.text);
    h.send(t + 5, PBX, SCANNER, reply(inv, '404 Not Found', `n${i}`));
  }
  const alerts = h.finish();
  assert.equal(alerts.length, 1);
  const a = alerts[0]!;
  assert.equal(a.count, 6 + 5 + 8);
  const ev = a.evidence as Record<string, unknown>;
  assert.deepEqual(ev.methods, { OPTIONS: 6, REGISTER: 6, INVITE: 8 });
  assert.deepEqual(Object.keys(ev.methods as object), ['OPTIONS', 'REGISTER', 'INVITE']);
  assert.deepEqual(ev.statuses, { '200': 6, '401': 6, '404': 8 });
  assert.deepEqual(ev.userAgents, ['friendly-scanner', 'Yealink SIP-T46S']);
  assert.deepEqual(ev.extensionsTried, [
    ...['300', '301', '302', '303', '304', '305'],
    ...['401', '402', '403', '404', '405'],
    ...['500', '501', '502', '503', '504', '505', '506', '507'],
  ]);
  // The total as it stood when the alert was raised (the threshold, 10).
  assert.equal(ev.extensionsTotal, 10);
});
