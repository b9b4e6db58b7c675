import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { JsonlSink } from '../../src/sinks/jsonl.js';
import { StdoutSink } from '../../src/sinks/stdout.js';
import { REDACTED } from '../../src/sinks/redact.js';
import { alertLine } from '../../src/sinks/format.js';
import { makeAlert } from './helpers.js';

function collect(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

test('stdout json: one redacted AlertJson per line', async () => {
  const out = collect();
  const sink = new StdoutSink({ stream: out.stream, format: 'json' });
  await sink.send([makeAlert(1, { evidence: { nonce: 'abcdef0123' } }), makeAlert(2)]);
  const lines = out.text().split('\n');
  assert.equal(lines.length, 3);
  assert.equal(lines[2], '');
  const a = JSON.parse(lines[0] as string) as { evidence: { nonce: string }; id: string };
  assert.equal(a.evidence.nonce, REDACTED);
  assert.equal((JSON.parse(lines[1] as string) as { id: string }).id, 'a000000000000002');
  await sink.close();
});

test('stdout text: escaped wire strings on one line; revealPasswords is per sink', async () => {
  const out = collect();
  const sink = new StdoutSink({ stream: out.stream, format: 'text', revealPasswords: true });
  const evil = makeAlert(1, {
    title: 'Scan by "x"\n\x1b]0;pwned\x07',
    target: { ip: '2001:db8::2', port: 5060, extension: '101', identity: 'u\u202eser' },
  });
  await sink.send([evil]);
  const t = out.text();
  assert.equal(t.split('\n').length, 2, 'exactly one line');
  assert.ok(!/[\x00-\x08\x0b-\x1f\x7f]/.test(t));
  assert.ok(t.includes('"Scan by \\"x\\"\\n\\x1b]0;pwned\\x07"'), t);
  assert.ok(t.includes('dst=[2001:db8::2]:5060 ext=101 identity=u\\u202eser'), t);
  assert.ok(t.startsWith('2026-11-24T05:01:04.870Z HIGH auth.bruteforce '));
  assert.equal(alertLine(makeAlert(1)).includes('src=203.0.113.7:5071'), true);
});

test('stdout honours its filter', () => {
  const sink = new StdoutSink({ stream: new PassThrough(), minSeverity: 'critical' });
  assert.equal(sink.accepts(makeAlert(1)), false);
  assert.equal(sink.accepts(makeAlert(1, { severity: 'critical' })), true);
});

test('jsonl: appends, fsyncs, reopens after rotation, creates owner-only files', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sipwarden-jsonl-'));
  try {
    const path = join(dir, 'alerts.jsonl');
    const sink = new JsonlSink({ path });
    await sink.send([makeAlert(1, { evidence: { response: 'cafebabecafebabe' } }), makeAlert(2)]);
    await sink.send([makeAlert(3)]);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    renameSync(path, `${path}.1`);
    // Before reopen the handle still points to the rotated file.
    await sink.send([makeAlert(4)]);
    await sink.reopen();
    await sink.send([makeAlert(5)]);
    await sink.close();
    const old = readFileSync(`${path}.1`, 'utf8').trim().split('\n');
    const cur = readFileSync(path, 'utf8').trim().split('\n');
    assert.deepEqual(
      old.map((l) => (JSON.parse(l) as { id: string }).id.slice(-1)),
      ['1', '2', '3', '4'],
    );
    assert.deepEqual(
      cur.map((l) => (JSON.parse(l) as { id: string }).id.slice(-1)),
      ['5'],
    );
    assert.ok(!old[0]?.includes('cafebabe'));
    assert.equal(sink.overflow, 'wait');
    // A path that cannot be opened is an error for the runner to retry.
    const bad = new JsonlSink({ path: join(dir, 'missing', 'x.jsonl') });
    await assert.rejects(bad.send([makeAlert(1)]));
    await bad.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
