import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  CDR_ANOMALIES,
  cdrOutcome,
  parseCdrDuration,
  parseCdrTime,
  THREECX_CDR_FIELDS,
  THREECX_DEFAULT_FIELDS,
  ThreeCxCdrParser,
  type CdrAnomaly,
  type CdrLineResult,
} from '../../src/cdr/3cx.js';
import { cdrParserOptions, validateCdrConfig } from '../../src/cdr/cdr-config.js';
import { CdrLineStream, type CdrSink } from '../../src/cdr/line-stream.js';
import type { CdrCall, Provenance } from '../../src/core/records.js';
import { rng } from '../sources/live-helpers.js';

const DIR = 'test/fixtures/cdr';
const AT: Provenance = { kind: 'cdr', file: 'test', line: 1 };

interface Expected {
  readonly line: number;
  readonly anomaly?: string;
  readonly blank?: boolean;
  readonly anomalies?: readonly string[];
  readonly caller?: string;
  readonly dialled?: string;
  readonly callee?: string;
  readonly trunk?: string;
  readonly direction?: string;
  readonly outcome?: string;
  readonly callId?: string;
  readonly start?: string;
  readonly answer?: string;
  readonly end?: string;
}

interface FixtureFile {
  readonly options: { fields: unknown; timeZone: string; linePrefix?: string };
  readonly expected: readonly Expected[];
  readonly lineCount: number;
}

const EXPECTED = JSON.parse(readFileSync(`${DIR}/expected.json`, 'utf8')) as {
  files: Record<string, FixtureFile>;
};

function parserFor(f: FixtureFile): ThreeCxCdrParser {
  const cfg = validateCdrConfig(f.options);
  return new ThreeCxCdrParser(cdrParserOptions(cfg, 'UTC'));
}

/** Runs a whole file through a line stream, collecting what each line gave by line number. */
function runFile(
  name: string,
  parser: ThreeCxCdrParser,
): { calls: Map<number, CdrCall>; anomalies: Map<number, string[]> } {
  const calls = new Map<number, CdrCall>();
  const anomalies = new Map<number, string[]>();
  const sink: CdrSink = {
    call: (c) => calls.set(c.provenance.line ?? 0, c),
    anomaly: (a) => {
      const l = a.provenance.line ?? 0;
      anomalies.set(l, [...(anomalies.get(l) ?? []), a.code]);
    },
  };
  const s = new CdrLineStream(parser, sink, { file: name });
  s.push(readFileSync(`${DIR}/${name}`));
  s.end();
  return { calls, anomalies };
}

function iso(t: number | undefined): string | undefined {
  return t === undefined ? undefined : new Date(t).toISOString();
}

function parseOne(parser: ThreeCxCdrParser, line: string): CdrLineResult {
  return parser.parse(line, AT);
}

function anomaliesOf(r: CdrLineResult): readonly CdrAnomaly[] {
  return r.kind === 'call' ? r.anomalies : [];
}

function callOf(r: CdrLineResult): CdrCall {
  assert.equal(r.kind, 'call', `expected a call, got ${JSON.stringify(r)}`);
  return (r as { call: CdrCall }).call;
}

describe('3CX CDR fixtures (test/fixtures/cdr, expected.json written by make-fixtures.mjs)', () => {
  for (const [name, f] of Object.entries(EXPECTED.files)) {
    it(`${name}: every line gives its expected call or anomaly, and nothing else`, () => {
      const { calls, anomalies } = runFile(name, parserFor(f));
      const seenLines = new Set<number>();
      for (const e of f.expected) {
        const where = `${name}:${e.line}`;
        seenLines.add(e.line);
        if (e.blank === true) {
          assert.equal(calls.get(e.line), undefined, `${where} is no call`);
          assert.equal(anomalies.get(e.line), undefined, `${where} raises nothing`);
          continue;
        }
        if (e.anomaly !== undefined) {
          assert.equal(calls.get(e.line), undefined, `${where} is dropped`);
          assert.deepEqual(anomalies.get(e.line), [e.anomaly], `${where} anomaly`);
          continue;
        }
        const c = calls.get(e.line);
        assert.ok(c, `${where} gives a call`);
        assert.deepEqual(anomalies.get(e.line) ?? [], e.anomalies ?? [], `${where} anomalies`);
        assert.equal(c.caller, e.caller, `${where} caller`);
        assert.equal(c.dialled, e.dialled, `${where} dialled`);
        assert.equal(c.callee, e.callee, `${where} callee`);
        assert.equal(c.trunk, e.trunk, `${where} trunk`);
        assert.equal(c.direction, e.direction, `${where} direction`);
        assert.equal(c.outcome, e.outcome, `${where} outcome`);
        assert.equal(c.callId, e.callId, `${where} callId`);
        assert.equal(iso(c.start), e.start, `${where} start`);
        assert.equal(iso(c.answer), e.answer, `${where} answer`);
        assert.equal(iso(c.end), e.end, `${where} end`);
        assert.deepEqual(c.provenance, { kind: 'cdr', file: name, line: e.line });
      }
      for (const l of [...calls.keys(), ...anomalies.keys()])
        assert.ok(seenLines.has(l), `${name}:${l} unexpected`);
    });
  }

  it('the toll-fraud night is what its README says: probing forms, premium bursts, sequential numbers', () => {
    const f = EXPECTED.files['3cx-v18-toll-fraud-night.log'] as FixtureFile;
    const { calls } = runFile('3cx-v18-toll-fraud-night.log', parserFor(f));
    const all = [...calls.values()];
    const probing = all.filter((c) => c.dialled.endsWith('252615550101'));
    assert.deepEqual(
      new Set(probing.map((c) => c.dialled.slice(0, -12))),
      new Set(['00', '011', '+', '0', '', '9011', '9+', '900']),
    );
    assert.equal(probing.filter((c) => c.outcome === 'rejected').length, 7);
    // Overlapping answered calls from Ext.105: at the busiest instant many are up at once.
    const up = all.filter((c) => c.caller === 'Ext.105' && c.answer !== undefined && c.end !== undefined);
    const peak = Math.max(
      ...up.map(
        (c) =>
          up.filter(
            (d) => (d.answer as number) <= (c.answer as number) && (d.end as number) > (c.answer as number),
          ).length,
      ),
    );
    assert.ok(peak >= 10, `peak concurrency ${peak}`);
    const seq = all
      .filter((c) => c.caller === 'Ext.107')
      .map((c) => Number(c.dialled.slice(-2)))
      .sort((a, b) => a - b);
    assert.deepEqual(
      seq,
      Array.from({ length: 24 }, (_, i) => i + 1),
    );
  });
});

describe('3CX CDR lines', () => {
  it('reads a line as published from a live 3CX (first 20 documented fields)', () => {
    // A line as a public 3CX integration published it (an Irish site), the caller's number replaced.
    const p = new ThreeCxCdrParser({
      fields: THREECX_DEFAULT_FIELDS.slice(0, 20),
      timeZone: 'Europe/Dublin',
    });
    const c = callOf(
      parseOne(
        p,
        "Call 612504,00000C21DE5C2470_6531,00:05:36,2023/09/19 13:33:54,2023/09/19 13:33:54,2023/09/19 13:39:31,TerminatedBySrc,+35315550149,Ext.960,10021,960,960,QFwdToDNA,Ext.504,504,,,,,Chain: +35315550149'Ext.960;Ext.963;Ext.509;Ext.504;",
      ),
    );
    assert.equal(c.start, Date.UTC(2023, 8, 19, 12, 33, 54)); // IST = UTC+1 in September
    assert.equal(c.answer, c.start);
    assert.equal(c.end, Date.UTC(2023, 8, 19, 12, 39, 31));
    assert.equal(c.caller, '+35315550149');
    assert.equal(c.dialled, '960');
    assert.equal(c.callee, 'Ext.504');
    assert.equal(c.direction, 'inbound'); // no type fields: from the numbers
    assert.equal(c.outcome, 'answered');
    assert.equal(c.callId, '612504:00000C21DE5C2470_6531');
  });

  it('reads types in any case and both versions, and places the trunk', () => {
    const fields = [
      'time-start',
      'from-no',
      'dial-no',
      'from-dn',
      'to-dn',
      'from-type',
      'to-type',
      'final-type',
    ] as const;
    const p = new ThreeCxCdrParser({ fields: [...fields], linePrefix: '' });
    const line = (types: string): CdrCall =>
      callOf(parseOne(p, `2024/01/02 03:04:05,Ext.101,123,101,10001,${types}`));
    assert.equal(line('Extension,Line,').direction, 'outbound');
    assert.equal(line('Extension,Line,').trunk, '10001');
    assert.equal(line('extension,external_line,').direction, 'outbound');
    assert.equal(line('EXTENSION,outbound_rule,').direction, 'outbound');
    assert.equal(line('Extension,Queue,Extension').direction, 'internal');
    assert.equal(line('Extension,ring_group_ring_all,').direction, 'internal');
    assert.equal(line('Line,IVR,Extension').direction, 'inbound');
    assert.equal(line('Line,IVR,Extension').trunk, '101');
    assert.equal(line('Line,Queue,Line').direction, 'outbound'); // forwarded out: costs as outbound
    assert.equal(line('Martian,Saucer,').direction, 'unknown');
    assert.equal(line(',,').direction, 'unknown'); // 123 is too short to be an outside number
  });

  it('maps reasons of unanswered calls to outcomes (v18 and v20 tokens, any case)', () => {
    const cases: [string, string][] = [
      ['TerminatedBySrc', 'cancelled'],
      ['src_participant_terminated', 'cancelled'],
      ['Failed_Cancelled', 'cancelled'],
      ['TerminatedbyDst', 'rejected'],
      ['NoRouteExists', 'rejected'],
      ['no_route', 'rejected'],
      ['not_found', 'rejected'],
      ['declined', 'rejected'],
      ['TargetBusy', 'busy'],
      ['busy', 'busy'],
      ['NoAnswerTimeout', 'no-answer'],
      ['timeout', 'no-answer'],
      ['Failed', 'failed'],
      ['continued_in', 'unknown'],
      ['', 'unknown'],
    ];
    for (const [reason, outcome] of cases) assert.equal(cdrOutcome(reason, false), outcome, reason);
    assert.equal(cdrOutcome('TargetBusy', true), 'answered');
  });

  it('honours quotes, doubled quotes and fixed-width padding', () => {
    const p = new ThreeCxCdrParser({
      fields: ['time-start', 'from-dispname', 'dial-no', 'to-dispname', 'from-no'],
      linePrefix: '',
    });
    const c = callOf(
      parseOne(p, ' 2024/05/06 07:08:09 , "Weber, Jonas" ,  "0301234567"  ,"say ""hi"", ok",  Ext.7   \r'),
    );
    assert.equal(c.dialled, '0301234567');
    assert.equal(c.caller, 'Ext.7');
    // An unclosed quote: split on every comma instead, so the line is still read.
    const r = parseOne(p, '2024/05/06 07:08:09,"unclosed, 0301234567,x,Ext.7');
    assert.equal(callOf(r).dialled, '0301234567');
    assert.deepEqual(
      anomaliesOf(r).map((a) => a.code),
      ['cdr_bad_quote'],
    );
  });

  it('recovers a comma in the one free-text column exactly, and drops lines that cannot be mapped', () => {
    const p = new ThreeCxCdrParser({
      fields: ['historyid', 'time-start', 'from-dispname', 'from-no', 'dial-no'],
    });
    const r = parseOne(p, 'Call 7,2024/05/06 07:08:09,Meyer, Anna, Dr.,Ext.101,900441234567');
    const c = callOf(r);
    assert.equal(c.caller, 'Ext.101');
    assert.equal(c.dialled, '900441234567');
    assert.equal(c.callId, '7');
    assert.equal(anomaliesOf(r)[0]?.code, 'cdr_field_count');
    const strict = new ThreeCxCdrParser({ fields: ['time-start', 'from-no', 'dial-no'], linePrefix: '' });
    const bad = parseOne(strict, '2024/05/06 07:08:09,Ext.1,123,extra');
    assert.equal(bad.kind, 'anomaly');
    assert.equal((bad as { anomaly: CdrAnomaly }).anomaly.code, 'cdr_field_count');
  });

  it('ignores - columns, strips only the configured prefix, skips header and blank lines', () => {
    const p = new ThreeCxCdrParser({ fields: ['-', 'time-start', 'dial-no'], linePrefix: 'CDR: ' });
    assert.equal(callOf(parseOne(p, 'CDR: anything,2024-01-01 00:00:00,5551234')).dialled, '5551234');
    assert.equal(callOf(parseOne(p, 'x,2024-01-01 00:00:00,5551234')).start, Date.UTC(2024, 0, 1));
    assert.equal(parseOne(p, '   \r').kind, 'blank');
    assert.equal(parseOne(p, 'skip,TIME-START,dial-no').kind, 'blank');
    assert.equal(parseOne(p, '\ufeff').kind, 'blank');
  });

  it('takes the answer plus the duration as the end when time-end is missing, and orders times', () => {
    const p = new ThreeCxCdrParser({
      fields: ['time-start', 'time-answered', 'time-end', 'duration', 'dial-no'],
      linePrefix: '',
    });
    const c = callOf(parseOne(p, '2024/01/02 10:00:00,2024/01/02 10:00:05,,01:02:03,0123456789'));
    assert.equal(c.end, Date.UTC(2024, 0, 2, 11, 2, 8));
    const r = parseOne(p, '2024/01/02 10:00:00,2024/01/02 09:00:00,2024/01/02 09:30:00,00:00:00,0123456789');
    const rc = callOf(r);
    assert.equal(rc.answer, undefined);
    assert.equal(rc.end, undefined);
    assert.deepEqual(
      anomaliesOf(r).map((a) => a.code),
      ['cdr_time_order', 'cdr_time_order'],
    );
    // No time-answered column: talking time above zero says answered.
    const q = new ThreeCxCdrParser({ fields: ['time-start', 'duration', 'dial-no'], linePrefix: '' });
    assert.equal(callOf(parseOne(q, '2024/01/02 10:00:00,00:00:07,0123456789')).outcome, 'answered');
    assert.equal(callOf(parseOne(q, '2024/01/02 10:00:00,00:00:00,0123456789')).outcome, 'unknown');
  });

  it('cuts long fields and keeps every anomaly code documented', () => {
    const p = new ThreeCxCdrParser({ fields: ['time-start', 'dial-no', 'from-no'], linePrefix: '' });
    const c = callOf(parseOne(p, `2024/01/02 10:00:00,0123456789,${'x'.repeat(5000)}`));
    assert.ok(c.caller.length <= 256);
    const src = readFileSync('src/cdr/3cx.ts', 'utf8') + readFileSync('src/cdr/line-stream.ts', 'utf8');
    const used = new Set([...src.matchAll(/'(cdr_[a-z_]+)'/g)].map((m) => m[1] as string));
    for (const code of used) assert.ok(code in CDR_ANOMALIES, `${code} is documented`);
    assert.ok(used.size >= 7);
  });

  it('refuses a layout without time-start (a configuration bug, checked by the schema too)', () => {
    assert.throws(() => new ThreeCxCdrParser({ fields: ['dial-no'] }), /time-start/);
  });
});

describe('CDR times and durations', () => {
  const tz = 'Europe/Berlin';
  it('reads 3CX stamps in the site zone, across DST', () => {
    assert.equal(parseCdrTime('2024/01/15 08:30:00', tz), Date.UTC(2024, 0, 15, 7, 30));
    assert.equal(parseCdrTime('2024/07/15 08:30:00', tz), Date.UTC(2024, 6, 15, 6, 30));
    assert.equal(parseCdrTime('2024-07-15 08:30:00.5', tz), Date.UTC(2024, 6, 15, 6, 30, 0, 500));
    assert.equal(parseCdrTime('2024-07-15T08:30:00Z', tz), Date.UTC(2024, 6, 15, 8, 30));
    assert.equal(parseCdrTime('2024-07-15T08:30:00-05:00', tz), Date.UTC(2024, 6, 15, 13, 30));
    assert.equal(parseCdrTime('2024/07/15 8:30', tz), Date.UTC(2024, 6, 15, 6, 30));
  });

  it('reads day-first or month-first dates, 12-hour clocks and two-digit years', () => {
    assert.equal(parseCdrTime('02/03/2024 10:00:00', 'UTC'), Date.UTC(2024, 2, 2, 10));
    assert.equal(parseCdrTime('02/03/2024 10:00:00', 'UTC', 'mdy'), Date.UTC(2024, 1, 3, 10));
    assert.equal(parseCdrTime('12/25/2023 11:59:59 PM', 'UTC'), Date.UTC(2023, 11, 25, 23, 59, 59));
    assert.equal(parseCdrTime('25.12.2023 12:00 AM', 'UTC'), Date.UTC(2023, 11, 25, 0, 0));
    assert.equal(parseCdrTime('19/09/23 13:33:54', 'UTC'), Date.UTC(2023, 8, 19, 13, 33, 54));
  });

  it('tells empty from unreadable', () => {
    assert.equal(parseCdrTime('', tz), undefined);
    for (const bad of [
      '2024/02/30 10:00:00',
      '2024/01/01',
      'yesterday',
      '2024/01/01 25:00:00',
      '13:00 PM 1/1/2024',
      '2024-01-01T10:00:00+25:00',
    ])
      assert.ok(Number.isNaN(parseCdrTime(bad, tz)), bad);
  });

  it('reads durations', () => {
    assert.equal(parseCdrDuration('00:05:36'), 336_000);
    assert.equal(parseCdrDuration('1.02:03:04'), (26 * 3600 + 184) * 1000);
    assert.equal(parseCdrDuration('100:00:00'), 360_000_000);
    assert.equal(parseCdrDuration('00:00:01.5'), 1500);
    assert.equal(parseCdrDuration('05:36'), 336_000);
    assert.equal(parseCdrDuration('336'), 336_000);
    assert.equal(parseCdrDuration(''), undefined);
    assert.ok(Number.isNaN(parseCdrDuration('00:61:00')));
    assert.ok(Number.isNaN(parseCdrDuration('five')));
  });
});

describe('CDR parsing never throws and does not depend on how bytes arrive', () => {
  const parser = new ThreeCxCdrParser({ timeZone: 'Europe/Berlin' });
  const sample = readFileSync(`${DIR}/3cx-v18-toll-fraud-night.log`);

  it('random bytes and mangled records give calls or anomalies, never a throw', () => {
    const r = rng(4242);
    const text = sample.toString('utf8');
    for (let i = 0; i < 3000; i++) {
      let line: string;
      if (i % 2 === 0) {
        const n = Math.floor(r() * 300);
        const b = Buffer.alloc(n);
        for (let k = 0; k < n; k++) b[k] = Math.floor(r() * 256);
        line = b.toString('utf8');
      } else {
        // A real record with characters replaced, deleted or commas/quotes inserted.
        const start = Math.floor(r() * (text.length - 400));
        const chars = [...(text.slice(start, start + 400).split('\n')[1] ?? '')];
        for (let k = 0; k < 6; k++) {
          const at = Math.floor(r() * chars.length);
          const op = r();
          if (op < 0.33) chars[at] = pickChar(r);
          else if (op < 0.66) chars.splice(at, 1);
          else chars.splice(at, 0, r() < 0.5 ? ',' : '"');
        }
        line = chars.join('');
      }
      const res = parser.parse(line, AT);
      if (res.kind === 'call') {
        assert.ok(Number.isFinite(res.call.start));
        assert.ok(res.call.dialled.length > 0 && res.call.dialled.length <= 256);
        if (res.call.end !== undefined) assert.ok(res.call.end >= res.call.start);
        if (res.call.answer !== undefined) assert.ok(res.call.answer >= res.call.start);
        for (const a of res.anomalies) assert.ok(a.code in CDR_ANOMALIES, a.code);
      } else if (res.kind === 'anomaly') assert.ok(res.anomaly.code in CDR_ANOMALIES, res.anomaly.code);
    }
  });

  it('any split of a stream into chunks gives the same records as the whole', () => {
    const collect = (chunks: Buffer[]): string[] => {
      const out: string[] = [];
      const s = new CdrLineStream(
        parser,
        {
          call: (c) => out.push(`call ${JSON.stringify(c)}`),
          anomaly: (a) => out.push(`anomaly ${JSON.stringify(a)}`),
        },
        { maxLineBytes: 600 },
      );
      for (const c of chunks) s.push(c);
      s.end();
      return out;
    };
    // Multi-byte names, CRLF, a blank line, an over-long line and a last line without LF.
    const data = Buffer.concat([
      sample,
      Buffer.from(
        '\r\n\r\nCall 1,x,00:00:01,2024/01/01 00:00:00,,,,Ext.1,0123456789,,,,,,,,,,,,,,,Jürgen Größe,,,\r\n',
      ),
      Buffer.from(`Call ${'7'.repeat(900)}\nCall 2,y,00:00:01,2024/01/01 00:00:01,,,,Ext.2,0123456788`),
    ]);
    const whole = collect([data]);
    assert.ok(whole.filter((l) => l.startsWith('call')).length > 40);
    assert.ok(whole.some((l) => l.includes('cdr_line_too_long')));
    const r = rng(99);
    for (let round = 0; round < 60; round++) {
      const chunks: Buffer[] = [];
      let at = 0;
      while (at < data.length) {
        const n = 1 + Math.floor(r() * (round % 3 === 0 ? 3 : 700));
        chunks.push(data.subarray(at, at + n));
        at += n;
      }
      assert.deepEqual(collect(chunks), whole, `round ${round}`);
    }
  });
});

function pickChar(r: () => number): string {
  const set = ['9', ':', '/', ' ', '\u0000', 'é', ',', '"', 'x', '-'];
  return set[Math.floor(r() * set.length)] as string;
}

describe('layout names', () => {
  it('offers the 27 documented fields', () => {
    assert.equal(THREECX_CDR_FIELDS.length, 27);
    assert.equal(new Set(THREECX_CDR_FIELDS).size, 27);
  });
});
