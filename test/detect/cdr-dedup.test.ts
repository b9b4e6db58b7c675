import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DETECT_CDR_DEDUP_WINDOW_MS, DETECT_CDR_SEEN_CALL_IDS } from '../../src/config/limits.js';
import type { CdrCall } from '../../src/core/records.js';
import { CdrDedup } from '../../src/detect/cdr-dedup.js';

const T0 = Date.UTC(2026, 2, 10, 7, 0, 0);

function cdr(o: Partial<CdrCall> = {}): CdrCall {
  return {
    start: T0,
    caller: 'Ext.105',
    dialled: '900442079460001',
    callee: '00442079460001',
    direction: 'outbound',
    outcome: 'answered',
    callId: '48294:00000C21DE5CBCA6_7403',
    provenance: { kind: 'cdr', file: 'cdr.log', line: 1 },
    ...o,
  };
}

test('a CDR copies the wire INVITE of the same number and start, once', () => {
  const d = new CdrDedup();
  d.expectCdrs();
  d.sawWire('+442079460001', T0 + 1500);
  assert.equal(d.isCopy(cdr()), true);
  assert.equal(d.duplicates, 1);
  // The INVITE absorbed one record: a second call to the number at the same time is not a copy.
  assert.equal(d.isCopy(cdr({ callId: 'other' })), false);
});

test('a CDR whose start is outside the window, or another number, is not a copy', () => {
  const d = new CdrDedup();
  d.expectCdrs();
  d.sawWire('900442079460001', T0 - DETECT_CDR_DEDUP_WINDOW_MS - 1);
  d.sawWire('900442079460009', T0);
  assert.equal(d.isCopy(cdr()), false);
});

test('wire calls before the first CDR are not remembered unless CDRs are expected', () => {
  const d = new CdrDedup();
  d.sawWire('900442079460001', T0);
  assert.equal(d.isCopy(cdr()), false);
  assert.equal(d.size, 0);
});

test('the same record read twice counts once; the remembered ids stay bounded', () => {
  const d = new CdrDedup();
  assert.equal(d.isCopy(cdr()), false);
  assert.equal(d.isCopy(cdr({ provenance: { kind: 'cdr', file: 'cdr.log', line: 9 } })), true);
  assert.equal(d.repeats, 1);
  for (let i = 0; i < DETECT_CDR_SEEN_CALL_IDS + 10; i++) d.isCopy(cdr({ callId: `id${i}` }));
  // The first record was forgotten: read again, it counts again (documented limit).
  assert.equal(d.isCopy(cdr()), false);
});
