import assert from 'node:assert/strict';
import { test } from 'node:test';
import { analyzeFiles } from '../../src/cli/analyze.js';
import { countInto, OTHER_KEY } from '../../src/core/counts.js';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';

test('a counter record keeps at most its bound of keys and counts the rest under (other)', () => {
  const r: Record<string, number> = {};
  for (let i = 0; i < 1000; i++) countInto(r, `M${i}`, 8);
  countInto(r, 'M3', 8);
  assert.equal(Object.keys(r).length, 9);
  assert.equal(r[OTHER_KEY], 992);
  assert.equal(r.M3, 2);
});

test('methods named after Object.prototype members are counted like any other token', () => {
  const r: Record<string, number> = {};
  for (const m of ['constructor', '__proto__', 'toString', 'constructor', '__proto__', 'hasOwnProperty'])
    countInto(r, m);
  assert.deepEqual(JSON.parse(JSON.stringify(r)), {
    constructor: 2,
    ['__proto__']: 2,
    toString: 1,
    hasOwnProperty: 1,
  });
  assert.equal(Object.getPrototypeOf(r), Object.prototype);
  assert.equal(Object.keys(r).length, 4);
});

test('a file of 1000 invented methods cannot grow the summary', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sipwarden-'));
  const file = join(dir, 'methods.sip');
  let text = '';
  for (let i = 0; i < 1000; i++) {
    text +=
      `X${i}FLOOD sip:100@192.0.2.1 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.9;branch=z9hG4bK${i}\r\nMax-Forwards: 70\r\n` +
      `From: <sip:a@b>;tag=${i}\r\nTo: <sip:100@192.0.2.1>\r\nCall-ID: c${i}\r\nCSeq: 1 X${i}FLOOD\r\nContent-Length: 0\r\n\r\n`;
  }
  writeFileSync(file, text);
  const { document } = await analyzeFiles([file]);
  assert.equal(document.summary.sipMessages, 1000);
  assert.ok(Object.keys(document.summary.requests).length <= 65);
  assert.ok((document.summary.requests[OTHER_KEY] ?? 0) >= 936);
});
