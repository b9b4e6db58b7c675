import assert from 'node:assert/strict';
import { test } from 'node:test';
import { exposureEnumerationOracle } from '../../../src/detect/rules/exposure-enumeration-oracle.js';
import { ruleHarness } from '../../helpers/rule-harness.js';
import { PBX, T0 } from '../../helpers/call-traffic.js';

const PROBER = '203.0.113.66';

let seq = 0;

/** `method` from PROBER to PBX for `user` (with a To tag when `toTag` is given), answered `status`. */
function ask(
  h: ReturnType<typeof ruleHarness>,
  t: number,
  method: string,
  user: string,
  status: string,
  toTag?: string,
): number {
  seq++;
  const lines = [
    `Via: SIP/2.0/UDP ${PROBER}:5060;branch=z9hG4bK-o${seq}`,
    `From: <sip:prober@${PROBER}>;tag=p${seq}`,
    `To: <sip:${user}@${PBX}>${toTag !== undefined ? `;tag=${toTag}` : ''}`,
    `Call-ID: o${seq}@${PROBER}`,
    `CSeq: ${seq} ${method}`,
  ];
  const f = h.send(
    t,
    PROBER,
    PBX,
    [`${method} sip:${user}@${PBX} SIP/2.0`, ...lines, 'Max-Forwards: 70', 'Content-Length: 0', '', ''].join(
      '\n',
    ),
  );
  h.send(t + 5, PBX, PROBER, [`SIP/2.0 ${status}`, ...lines, 'Content-Length: 0', '', ''].join('\n'));
  return f;
}

test('OPTIONS answered 404 for one extension and 200 for another is the oracle', () => {
  const h = ruleHarness(exposureEnumerationOracle);
  const unknown = ask(h, T0, 'OPTIONS', '999', '404 Not Found');
  ask(h, T0 + 100, 'OPTIONS', '100', '200 OK');
  const alerts = h.finish();
  assert.equal(alerts.length, 1);
  const a = alerts[0]!;
  assert.equal(
    a.title,
    `${PBX} answers OPTIONS for unknown extensions with 404 and for existing ones with 200`,
  );
  assert.deepEqual(a.evidence.unknownExtensions, { '999': 404 });
  assert.deepEqual(a.evidence.existingExtensions, { '100': 200 });
  assert.deepEqual(
    a.evidence.frames,
    [unknown + 2, unknown + 3],
    'the request that completed the picture, and its answer',
  );
});

test('in-dialog requests (To tag) are not extension probes: a BYE answered 404 by a proxy is no oracle', () => {
  const h = ruleHarness(exposureEnumerationOracle);
  // A proxy that forgot a dialog answers its BYE 404; another dialog's BYE is answered 200.
  ask(h, T0, 'BYE', '102', '404 Not Found', 'd1');
  ask(h, T0 + 100, 'BYE', '105', '200 OK', 'd2');
  // Re-INVITEs in dialogs the PBX no longer knows, and one it challenges.
  ask(h, T0 + 200, 'INVITE', '103', '404 Not Found', 'd3');
  ask(h, T0 + 300, 'INVITE', '104', '407 Proxy Authentication Required', 'd4');
  assert.deepEqual(h.finish(), []);
  // The same answers out of dialog are the oracle.
  const o = ruleHarness(exposureEnumerationOracle);
  ask(o, T0, 'INVITE', '103', '404 Not Found');
  ask(o, T0 + 100, 'INVITE', '104', '407 Proxy Authentication Required');
  assert.equal(o.finish().length, 1);
});
