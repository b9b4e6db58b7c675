import assert from 'node:assert/strict';
import { test } from 'node:test';
import { reconExtensionEnumeration } from '../../../src/detect/rules/recon-extension-enumeration.js';
import { ruleHarness } from '../../helpers/rule-harness.js';
import { invite, PBX, reply, T0 } from '../../helpers/call-traffic.js';

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
