/**
 * dos.flood: requests of one method from one source, and from all sources together, above their
 * rate; retransmissions and ACKs do not count.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AlertJson } from '../../../src/core/alert.js';
import { tableTotals } from '../../../src/core/bounded-table.js';
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

test("a flood's entry outlives its run until its last answers are in, then leaves; the next run's evidence is its own", () => {
  const expirations = (): number => tableTotals().get('dos.flood')?.expirations ?? 0;
  const before = expirations();
  const h = ruleHarness(dosFlood);
  const src = '203.0.113.81';
  const ticker = '198.51.100.99';
  // 400 OPTIONS in 8 s that the PBX never answers (it blocked the source): each goes unanswered
  // at its transaction timeout, 32 s later, long after the rate's two windows have passed.
  for (let i = 0; i < 400; i++) h.send(T0 + i * 20, src, PBX, options(src, i));
  // Another source keeps time moving (and the table swept) for ten minutes.
  for (let i = 0; i < 120; i++) h.send(T0 + 10_000 + i * 5_000, ticker, PBX, options(ticker, 10_000 + i));
  // The same source floods again, with the first run's entry long gone.
  const second: number[] = [];
  for (let i = 0; i < 400; i++)
    second.push(h.send(T0 + 660_000 + i * 20, src, PBX, options(src, 20_000 + i)));
  // And again 100 s later: its rate started again, but its entry is still there (answers pending).
  const third: number[] = [];
  for (let i = 0; i < 400; i++) third.push(h.send(T0 + 760_000 + i * 20, src, PBX, options(src, 30_000 + i)));
  const alerts = h.finish().filter((a) => a.source?.ip === src);
  assert.equal(alerts.length, 3);
  const [first, next, last] = alerts as [AlertJson, AlertJson, AlertJson];
  // Every request of the first run was counted as blocked, though its answers came after the run.
  assert.equal(first.evidence.requests, 400);
  assert.equal(first.evidence.blocked, 400);
  assert.equal(first.evidence.answered, 0);
  // The first run's entry was swept (the ticker's stays: its run never paused).
  assert.equal(expirations() - before >= 1, true);
  // The second run counts from its own first request, and lists its own frames.
  assert.equal(next.evidence.requests, 400);
  assert.deepEqual(next.evidence.frames, second.slice(0, 20));
  assert.equal(last.evidence.requests, 400);
  assert.deepEqual(last.evidence.frames, third.slice(0, 20));
});
