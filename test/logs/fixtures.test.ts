// sipwarden's own 3CX and Kamailio fixtures, fail2ban style: `# expect: {...}` before each line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { logParserFor } from '../../src/logs/index.js';
import type { PbxLogEvent } from '../../src/core/records.js';
import type { LogParseContext } from '../../src/logs/parser.js';

const DIR = 'test/fixtures/logs';
const FIELDS = [
  'kind',
  'srcIp',
  'srcPort',
  'method',
  'identity',
  'extension',
  'userAgent',
  'transport',
  'service',
] as const;

interface Outcome {
  readonly positives: number;
  readonly negatives: number;
}

function runFixture(file: string, kind: string): Outcome {
  const parser = logParserFor(kind);
  assert.ok(parser);
  let ctx: LogParseContext = { timeZone: 'UTC', year: 2024, fallbackTime: 0, file };
  let pending: Record<string, unknown> | undefined;
  let positives = 0;
  let negatives = 0;
  readFileSync(`${DIR}/${file}`, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      const c = /^# context: (.*)$/.exec(line);
      if (c !== null) {
        ctx = { ...ctx, ...(JSON.parse(c[1] as string) as Partial<LogParseContext>) };
        return;
      }
      const m = /^# expect: (.*)$/.exec(line);
      if (m !== null) {
        pending = JSON.parse(m[1] as string) as Record<string, unknown>;
        return;
      }
      if (line.startsWith('#') || line.trim() === '') return;
      assert.ok(pending, `${file}:${i + 1} has no # expect`);
      const ev = parser.parse(line, i + 1, ctx);
      const where = `${file}:${i + 1}`;
      if (pending.match === false) {
        assert.equal(ev, undefined, `${where} must not match`);
        negatives++;
      } else {
        assert.ok(ev, `${where} must match: ${line}`);
        for (const f of FIELDS) {
          if (f in pending) assert.equal(ev[f as keyof PbxLogEvent], pending[f], `${where} ${f}`);
        }
        if (typeof pending.time === 'string')
          assert.equal(ev.time, Date.parse(pending.time), `${where} time`);
        assert.equal(ev.provenance.line, i + 1);
        assert.equal(ev.provenance.file, file);
        assert.equal(ev.product, kind);
        positives++;
      }
      pending = undefined;
    });
  return { positives, negatives };
}

test('3CX fixture: v18 and v20 headers, ANSI, syslog, documented and assumed formats, negatives', () => {
  assert.deepEqual(runFixture('3cx.log', '3cx'), { positives: 15, negatives: 5 });
});

test('Kamailio fixture: pike, the sipwarden xlog line, auth_db with log_prefix src=, negatives', () => {
  assert.deepEqual(runFixture('kamailio.log', 'kamailio'), { positives: 8, negatives: 6 });
});

test('3CX: provenance kind is syslog when the line came with a <PRI> header', () => {
  const p = logParserFor('3cx');
  assert.ok(p);
  const ev = p.parse(
    '<30>Jun  5 04:03:02 pbx 3CXPhoneSystem[812]: [CM504001] Ext.106: new contact is registered. Contact(s): [sip:106@198.51.100.11:5060 / 106]',
    7,
    { timeZone: 'UTC', year: 2024, fallbackTime: 0 },
  );
  assert.equal(ev?.provenance.kind, 'syslog');
  assert.equal(ev?.provenance.line, 7);
});

test('logParserFor: the four kinds, nothing else', () => {
  for (const k of ['3cx', 'asterisk', 'freeswitch', 'kamailio']) assert.equal(logParserFor(k)?.product, k);
  assert.equal(logParserFor('opensips'), undefined);
  assert.equal(logParserFor('__proto__'), undefined);
  assert.equal(logParserFor(''), undefined);
});
