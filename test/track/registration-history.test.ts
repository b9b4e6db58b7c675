import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TRACK_REGISTRATION_HISTORY } from '../../src/config/limits.js';
import { Pipeline } from '../../src/pipeline.js';
import { registerContact, T0 } from '../helpers/call-traffic.js';
import { unitFrame } from '../helpers/rule-harness.js';

test('a registration keeps the history of its bindings: added, unregistered, expired; bounded', () => {
  const pipeline = new Pipeline();
  let frame = 0;
  const h = {
    send: (time: number, src: string, dst: string, text: string): number => {
      pipeline.sipFrame(unitFrame(++frame, time, src, dst, text));
      return frame;
    },
  };
  registerContact(h, T0, '203.0.113.20', '101', { ua: 'Yealink SIP-T46S', expires: 60 });
  registerContact(h, T0 + 1000, '198.51.100.7', '101', { ua: 'Zoiper 5', expires: 3600 });
  registerContact(h, T0 + 2000, '198.51.100.7', '101', {
    ua: 'Zoiper 5',
    expires: 0,
    contact: '<sip:101@198.51.100.7:5060>',
  });
  // 61 s later the first binding has expired: seen at the next registration of the same AOR.
  registerContact(h, T0 + 70_000, '203.0.113.21', '101', { ua: 'Yealink SIP-T46S', expires: 60 });
  const reg = pipeline.tracker.registrations.get('101@pbx.example');
  assert.ok(reg !== undefined);
  assert.deepEqual(
    reg.history.map((e) => [e.change, e.srcIp, e.userAgent]),
    [
      ['added', '203.0.113.20', 'Yealink SIP-T46S'],
      ['added', '198.51.100.7', 'Zoiper 5'],
      ['unregistered', '198.51.100.7', 'Zoiper 5'],
      ['expired', '203.0.113.20', 'Yealink SIP-T46S'],
      ['added', '203.0.113.21', 'Yealink SIP-T46S'],
    ],
  );
  assert.equal(reg.history[3]!.time, T0 + 5 + 60_000, 'expired at its expiry time (from the 200 OK)');
  for (let i = 0; i < 40; i++)
    registerContact(h, T0 + 80_000 + i * 1000, `192.0.2.${i + 1}`, '101', { ua: 'x', expires: 3600 });
  assert.equal(reg.history.length, TRACK_REGISTRATION_HISTORY);
});
