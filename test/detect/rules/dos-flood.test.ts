/**
 * dos.flood: requests of one method from one source, and from all sources together, above their
 * rate; retransmissions and ACKs do not count.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dosFlood } from '../../../src/detect/rules/dos-flood.js';
import { ruleHarness } from '../../helpers/rule-harness.js';

const PBX = '198.51.100.30';
const T0 = Date.UTC(2026, 10, 24, 12, 0, 0);

function options(src: string, i: number): string {
  return (
    `OPTIONS sip:${PBX} SIP/2.0\nVia: SIP/2.0/UDP ${src}:5060;branch=z9hG4bK-o${i}\nMax-Forwards: 70\n` +
    `From: <sip:probe@${src}>;tag=f${i}\nTo: <sip:${PBX}>\nCall-ID: o${i}@${src}\nCSeq: 1 OPTIONS\n` +
    `User-Agent: flooder\nContent-Length: 0\n\n`
  );
}

test('one source over 300 OPTIONS in 10 s is a flood; its evidence counts requests and keeps the first frames', () => {
  const h = ruleHarness(dosFlood);
  const src = '203.0.113.80';
  const frames: number[] = [];
  for (let i = 0; i < 400; i++) {
    const text = options(src, i);
    frames.push(h.send(T0 + i * 20, src, PBX, text));
    // The same request again (a retransmission) is not counted.
    if (i % 10 === 0) h.send(T0 + i * 20 + 1, src, PBX, text);
  }
  const alerts = h.finish();
  assert.equal(alerts.length, 1);
  const a = alerts[0]!;
  assert.equal(a.rule, 'dos.flood');
  assert.equal(a.source?.ip, src);
  assert.equal(a.count, 400);
  assert.equal(a.evidence.method, 'OPTIONS');
  assert.equal(a.evidence.requests, 400);
  assert.equal(a.evidence.userAgent, 'flooder');
  assert.deepEqual(a.evidence.frames, frames.slice(0, 20));
  // Raised by the 301st request, 6 s after the first.
  assert.equal(Date.parse(a.raisedAt) - T0, 300 * 20);
});

test('many sources under the per-source rate together over 3,000 in 10 s are an overall flood', () => {
  const h = ruleHarness(dosFlood);
  for (let i = 0; i < 3200; i++) {
    const src = `10.1.${(i >> 8) & 0xff}.${i & 0xff}`;
    h.send(T0 + i * 2, src, PBX, options(src, i));
  }
  const alerts = h.finish();
  assert.equal(alerts.length, 1);
  const a = alerts[0]!;
  assert.equal(a.title.startsWith('OPTIONS flood from many sources'), true);
  assert.equal(a.count, 3200);
  // Sources are remembered up to 1,024 per method (the alert lists the first 50 of them).
  assert.equal(a.sourcesTotal, 1024);
  assert.deepEqual(a.sources?.[0], { ip: '10.1.0.0', count: 1 });
});
