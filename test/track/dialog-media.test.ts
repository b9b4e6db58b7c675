import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Pipeline } from '../../src/pipeline.js';
import type { Dialog } from '../../src/track/dialogs.js';
import { inDialog, mediaCall, PBX, PHONE, sdpAt, T0 } from '../helpers/call-traffic.js';
import { unitFrame } from '../helpers/rule-harness.js';

test("a dialog keeps each party's media address from the SDP it last sent", () => {
  const seen: Dialog[] = [];
  const pipeline = new Pipeline({ listener: { dialogConfirmed: (d) => seen.push(d) } });
  let frame = 0;
  const h = {
    send: (time: number, src: string, dst: string, text: string): number => {
      pipeline.sipFrame(unitFrame(++frame, time, src, dst, text));
      return frame;
    },
  };
  const inv = mediaCall(h, T0, PHONE, PBX, '203.0.113.20', '198.51.100.80');
  assert.equal(seen.length, 1);
  const d = seen[0]!;
  assert.deepEqual(d.media, { caller: '203.0.113.20', callee: '198.51.100.80' });
  // The callee holds (0.0.0.0), then the caller moves its media; each side's answer is its own.
  inDialog(h, T0 + 1000, PBX, PHONE, inv, 'INVITE', {
    fromCaller: false,
    sdp: sdpAt('0.0.0.0', 'sendonly'),
    status: '200 OK',
    answerSdp: sdpAt('203.0.113.20', 'recvonly'),
  });
  assert.deepEqual(d.media, { caller: '203.0.113.20', callee: '0.0.0.0' });
  inDialog(h, T0 + 2000, PHONE, PBX, inv, 'INVITE', {
    sdp: sdpAt('192.0.2.44'),
    status: '200 OK',
    answerSdp: sdpAt('198.51.100.80'),
  });
  assert.deepEqual(d.media, { caller: '192.0.2.44', callee: '198.51.100.80' });
});
