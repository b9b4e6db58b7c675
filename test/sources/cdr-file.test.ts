import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { ThreeCxCdrParser, type CdrAnomaly } from '../../src/cdr/3cx.js';
import type { CdrSink } from '../../src/cdr/line-stream.js';
import type { CdrCall } from '../../src/core/records.js';
import { CdrTail, readCdrFile } from '../../src/sources/cdr-file.js';
import { waitFor } from './live-helpers.js';

const FIXTURE = 'test/fixtures/cdr/3cx-v18-toll-fraud-night.log';
const EXPECTED = JSON.parse(readFileSync('test/fixtures/cdr/expected.json', 'utf8')) as {
  files: Record<string, { expected: { line: number; dialled?: string; anomaly?: string }[] }>;
};

function collector(): CdrSink & { calls: CdrCall[]; anomalies: CdrAnomaly[] } {
  const calls: CdrCall[] = [];
  const anomalies: CdrAnomaly[] = [];
  return { calls, anomalies, call: (c) => calls.push(c), anomaly: (a) => anomalies.push(a) };
}

const parser = new ThreeCxCdrParser({ timeZone: 'Europe/Berlin' });

describe('readCdrFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sipwarden-cdr-'));
  it('reads a 3CX CDR file in order, with file and line provenance', async () => {
    const sink = collector();
    const sum = await readCdrFile(FIXTURE, parser, sink);
    const exp = EXPECTED.files['3cx-v18-toll-fraud-night.log']?.expected ?? [];
    assert.equal(sum.gzip, false);
    assert.equal(sum.lines, exp.length);
    assert.equal(sum.calls, exp.length);
    assert.equal(sink.anomalies.length, 0);
    assert.deepEqual(
      sink.calls.map((c) => [c.provenance.file, c.provenance.line, c.dialled]),
      exp.map((e) => [FIXTURE, e.line, e.dialled]),
    );
  });

  it('reads the same records from a gzip-compressed copy, and reports a cut-off one', async () => {
    const data = readFileSync(FIXTURE);
    const gz = join(dir, 'cdr.log.gz');
    writeFileSync(gz, gzipSync(data));
    const plain = collector();
    await readCdrFile(FIXTURE, parser, plain);
    const zipped = collector();
    const sum = await readCdrFile(gz, parser, zipped);
    assert.equal(sum.gzip, true);
    assert.deepEqual(
      zipped.calls.map((c) => ({ ...c, provenance: undefined })),
      plain.calls.map((c) => ({ ...c, provenance: undefined })),
    );
    const cut = join(dir, 'cut.log.gz');
    const full = gzipSync(Buffer.concat([data, data, data, data]));
    writeFileSync(cut, full.subarray(0, Math.floor(full.length * 0.6)));
    const partial = collector();
    const psum = await readCdrFile(cut, parser, partial);
    assert.ok(partial.calls.length > 0 && partial.calls.length < 4 * plain.calls.length);
    assert.equal(partial.anomalies.at(-1)?.code, 'cdr_gzip_error');
    assert.equal(partial.anomalies.at(-1)?.provenance.file, cut);
    assert.equal(psum.anomalies, partial.anomalies.length);
  });

  it('goes on after bad lines and counts what each line gave', async () => {
    const sink = collector();
    const sum = await readCdrFile('test/fixtures/cdr/3cx-bad-lines.log', parser, sink);
    const exp = EXPECTED.files['3cx-bad-lines.log']?.expected ?? [];
    assert.equal(sum.lines, exp.length);
    assert.equal(sum.rejected, exp.filter((e) => e.anomaly !== undefined).length);
    assert.equal(sum.tooLong, 1);
    assert.equal(sum.blank, 2);
    assert.equal(sink.calls.at(-1)?.provenance.line, exp.length, 'the last line is still read');
    assert.ok(sink.anomalies.every((a) => a.provenance.file === 'test/fixtures/cdr/3cx-bad-lines.log'));
  });

  it('rejects an unreadable file with an error naming it', async () => {
    await assert.rejects(
      readCdrFile(join(dir, 'missing.log'), parser, collector()),
      /cannot open CDR file .*missing\.log: no such file/,
    );
  });

  it('cleans up', () => rmSync(dir, { recursive: true, force: true }));
});

describe('CdrTail', () => {
  it('follows a CDR file as 3CX appends calls, counting recognised lines for health', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sipwarden-cdrtail-'));
    const file = join(dir, 'cdr.log');
    const lines = readFileSync(FIXTURE, 'utf8')
      .split('\r\n')
      .filter((l) => l.length > 0);
    writeFileSync(file, `${lines[0]}\r\n`); // already there: not read (watch starts at the end)
    const sink = collector();
    const tail = new CdrTail({ path: file, pollIntervalMs: 20 }, parser, sink);
    assert.equal(tail.kind, 'cdr');
    assert.equal(tail.name, `cdr 3cx tail ${file}`);
    await tail.start();
    try {
      await new Promise((r) => setTimeout(r, 60));
      appendFileSync(file, `${lines[1]}\r\n${lines[2]}\r\nnot a record\r\n`);
      appendFileSync(file, `Call ${'1'.repeat(20_000)}\r\n${lines[3]}\r\n`);
      await waitFor(
        () => sink.calls.length === 3 && sink.anomalies.length === 2,
        'three calls and two anomalies',
      );
      assert.deepEqual(
        sink.calls.map((c) => c.provenance.line),
        [2, 3, 6],
      );
      assert.deepEqual(
        sink.anomalies.map((a) => [a.code, a.provenance.line]),
        [
          ['cdr_bad_time', 4],
          ['cdr_line_too_long', 5],
        ],
      );
      const st = tail.stats();
      assert.equal(st.recognised, 3);
      assert.equal(st.cdr.calls, 3);
      assert.equal(st.cdr.tooLong, 1);
      assert.equal(st.up, true);
    } finally {
      await tail.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
