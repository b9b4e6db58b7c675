/**
 * Bounded state under a spoofed flood: 1,000,000 requests from distinct forged sources, each with
 * its own identity, Call-ID and branch, answered with challenges and rejections. Inside the flood
 * one real attacker guesses one identity's password. Memory must stay flat and the attack must
 * still raise auth.bruteforce, by its fifth rejected guess.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { AlertJson } from '../../src/core/alert.js';
import { AlertBook } from '../../src/detect/alert-book.js';
import { DetectionEngine } from '../../src/detect/engine.js';
import { ALL_RULES } from '../../src/detect/rules/index.js';
import { SiteModel } from '../../src/detect/site.js';
import { Pipeline } from '../../src/pipeline.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const PBX = '192.0.2.10';
const FLOOD = Number(process.env.SIPWARDEN_FLOOD ?? 1_000_000);
const ATTACK_EVERY = 10_000;

function register(
  src: string,
  user: string,
  callId: string,
  branch: string,
  cseq: number,
  cred: boolean,
): Buffer {
  const auth = cred
    ? `Authorization: Digest username="${user}", realm="pbx", nonce="abc${cseq}", uri="sip:${PBX}", response="0123456789abcdef0123456789abcdef"\r\n`
    : '';
  return Buffer.from(
    `REGISTER sip:${PBX} SIP/2.0\r\nVia: SIP/2.0/UDP ${src}:5060;branch=z9hG4bK${branch}\r\nMax-Forwards: 70\r\n` +
      `From: <sip:${user}@${PBX}>;tag=t${branch}\r\nTo: <sip:${user}@${PBX}>\r\nCall-ID: ${callId}\r\nCSeq: ${cseq} REGISTER\r\n` +
      `Contact: <sip:${user}@${src}:5060>\r\n${auth}Content-Length: 0\r\n\r\n`,
  );
}

function answer(req: Buffer, status: string): Buffer {
  const text = req.toString('latin1');
  const keep = text.split('\r\n').filter((l) => /^(Via|From|To|Call-ID|CSeq):/.test(l));
  return Buffer.from(`SIP/2.0 ${status}\r\n${keep.join('\r\n')}\r\nContent-Length: 0\r\n\r\n`);
}

test('a million spoofed sources neither grow memory nor hide a real brute force', () => {
  const alerts: AlertJson[] = [];
  const book = new AlertBook('default', 'test', (a) => alerts.push(a));
  const engine = new DetectionEngine(ALL_RULES, book, new SiteModel());
  const pipeline = new Pipeline({ listener: engine });
  const t0 = Date.UTC(2026, 10, 24, 3, 0, 0);
  const send = (src: string, dst: string, data: Buffer, time: number): void => {
    pipeline.sipFrame({
      time,
      srcIp: src,
      srcPort: 5060,
      dstIp: dst,
      dstPort: 5060,
      transport: 'udp',
      provenance: { kind: 'capture', file: 'synthetic' },
      data,
    });
  };
  let guesses = 0;
  // The first reading is taken once every table is full (a fifth of the default flood); a smaller
  // SIPWARDEN_FLOOD moves it to a fifth of the flood.
  const settled = Math.min(200_000, Math.floor(FLOOD / 5));
  let heapSettled = 0;
  for (let i = 0; i < FLOOD; i++) {
    // 100 µs apart: the whole flood spans 100 s of event time, well inside every window.
    const time = t0 + i / 10;
    const src = `10.${(i >>> 16) & 0xff}.${(i >>> 8) & 0xff}.${i & 0xff}`;
    const req = register(src, `u${i}`, `c${i}@x`, `s${i}`, 1, true);
    send(src, PBX, req, time);
    send(PBX, src, answer(req, '401 Unauthorized'), time + 0.01);
    if (i % ATTACK_EVERY === 0) {
      guesses++;
      const areq = register('203.0.113.7', '101', 'attack-call', `a${guesses}`, guesses, true);
      send('203.0.113.7', PBX, areq, time + 0.02);
      send(PBX, '203.0.113.7', answer(areq, '403 Forbidden'), time + 0.03);
    }
    if (i === settled) {
      gc();
      heapSettled = process.memoryUsage().heapUsed;
    }
  }
  gc();
  const heapAtEnd = process.memoryUsage().heapUsed;
  const growthMb = (heapAtEnd - heapSettled) / 1e6;
  assert.ok(
    growthMb < 64,
    `heap grew ${growthMb.toFixed(1)} MB between ${settled} and ${FLOOD} spoofed sources`,
  );
  const brute = alerts.find((a) => a.rule === 'auth.bruteforce' && a.source?.ip === '203.0.113.7');
  assert.ok(brute !== undefined, 'the real brute force inside the flood raised auth.bruteforce');
  assert.equal(brute.revision, 1);
  assert.equal(brute.count, 5, 'raised at the fifth rejected guess');
  // The tables really were under pressure: admission refused or evicted spoofed keys.
  const t = pipeline.tracker.transactions;
  assert.ok(t.stats.evictions + t.stats.rejections > 0, 'admission control was exercised');
  assert.ok(t.size <= 20_000, 'the transaction table stayed within its bound');
});
