/**
 * `watch --log kamailio:PATH` alone (no SIP source at all): a real Kamailio log, recorded from a lab
 * PBX while svcrack attacked it from two addresses, is replayed into a file the test controls.
 * Attacker A's lines are split across a rotation by rename (3 rejections in the old file, the rest in
 * the new one), so the brute force (threshold 5) is only seen when the tail follows the rotation;
 * attacker B's lines arrive after the file is truncated in place.
 */
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync, renameSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { AlertJson } from '../../src/core/alert.js';
import { kamailioParser } from '../../src/logs/kamailio.js';
import { AlertStore } from '../../src/store/alert-store.js';
import {
  authFailures,
  cleanup,
  metrics,
  metricValue,
  missingTools,
  readJsonl,
  runSvUntil,
  sleep,
  startLabPbx,
  startWatch,
  tempDir,
  waitFor,
} from './watch-helpers.js';

const PBX = '127.0.0.164';
const A = '127.0.2.164';
const B = '127.0.2.165';
const skip = missingTools(['kamailio', 'sipsak', 'svcrack', 'openssl']);

/** Records a real Kamailio log: svcrack from A, then from B (each finds 101's password, 12 failures first). */
async function recordLog(dir: string): Promise<{ a: string[]; b: string[] }> {
  const pbx = startLabPbx('leaky', PBX, dir);
  try {
    const words = ['-u', '101', '-d', 'test/lab/wordlists/small.txt'];
    await runSvUntil('svcrack', A, [...words, '-x', A, PBX], () => false, 10_000);
    await waitFor('A in the log', 3000, () => (authFailures(pbx.log, A) >= 12 ? true : undefined));
    const afterA = readFileSync(pbx.log, 'utf8').split('\n').length - 1;
    await runSvUntil('svcrack', B, [...words, '-x', B, PBX], () => false, 10_000);
    await waitFor('B in the log', 3000, () => (authFailures(pbx.log, B) >= 12 ? true : undefined));
    const lines = readFileSync(pbx.log, 'utf8').split('\n');
    lines.pop();
    return { a: lines.slice(0, afterA), b: lines.slice(afterA) };
  } finally {
    pbx.stop();
  }
}

test(
  'watch --log follows a real Kamailio log across rotation and truncation',
  { skip, timeout: 40_000 },
  async () => {
    const dir = tempDir('log');
    const path = join(dir, 'kamailio.log');
    const db = join(dir, 'watch.db');
    const jsonl = join(dir, 'alerts.jsonl');
    const { a, b } = await recordLog(join(dir, 'lab'));
    const failed = (src: string) => (l: string) => l.includes(`sipwarden: auth-failed src=${src} `);
    // 12 wrong guesses before 1234; on a loaded machine svcrack may resend a guess Kamailio was slow
    // to answer, and each copy is a logged failure (the steps below count lines, not guesses).
    assert.ok(a.filter(failed(A)).length >= 12, 'svcrack A made 12 wrong guesses before 1234');
    assert.equal(a.filter(failed(B)).length, 0);
    assert.ok(b.filter(failed(B)).length >= 12);
    // The parser must read the real line first (Kamailio 5.6 writes `LEVEL: {log_prefix} <script>:`).
    const sample = a.find(failed(A))!;
    const ev = kamailioParser.parse(sample, 1, { timeZone: 'UTC', year: 2026, fallbackTime: Date.now() });
    assert.ok(
      ev !== undefined,
      `src/logs/kamailio.ts does not recognise a real Kamailio line: ${JSON.stringify(sample)}`,
    );
    assert.equal(ev.kind, 'auth-failed');
    assert.equal(ev.srcIp, A);
    // The old file ends right after A's 3rd rejection.
    let seen = 0;
    const cut = a.findIndex((l) => failed(A)(l) && ++seen === 3) + 1;
    writeFileSync(path, a.slice(0, cut).join('\n') + '\n');

    const { w, http } = await startWatch([
      '--log',
      `kamailio:${path}`,
      '--from-start',
      '--db',
      db,
      '--jsonl',
      jsonl,
      '--http',
      '127.0.0.1:0',
      '--quiet',
      '--duration',
      '30',
    ]);
    const mine = (ip: string) => (x: AlertJson) => x.rule === 'auth.bruteforce' && x.source?.ip === ip;
    try {
      assert.doesNotMatch(w.stderr(), /listening: hep/, 'no SIP source: the log is the only input');
      await waitFor('the first file read', 5000, async () =>
        metricValue(await metrics(http), 'sipwarden_packets_total', 'source="log"') >= cut ? true : undefined,
      );
      await sleep(200);
      assert.equal(readJsonl(jsonl).filter(mine(A)).length, 0, 'no brute force from 3 rejections');

      // Rotation by rename, then the rest in a new file at the same path.
      renameSync(path, `${path}.1`);
      writeFileSync(path, a.slice(cut).join('\n') + '\n');
      const brute = await waitFor('auth.bruteforce from A', 8000, () => readJsonl(jsonl).find(mine(A)));
      assert.equal(brute.target?.identity, '101');
      assert.equal(brute.count, 5, 'raised at the 5th rejection: 3 from the old file, 2 from the new');

      // Truncation in place, then B's lines.
      const m = await metrics(http);
      const readSoFar = metricValue(m, 'sipwarden_packets_total', 'source="log"');
      assert.equal(readSoFar, a.length, 'every line of A read once');
      truncateSync(path, 0);
      await sleep(2500); // two polls: the tail sees the size drop before the file grows again
      appendFileSync(path, b.join('\n') + '\n');
      const bruteB = await waitFor('auth.bruteforce from B', 8000, () => readJsonl(jsonl).find(mine(B)));
      assert.equal(bruteB.target?.identity, '101');
      assert.notEqual(bruteB.id, brute.id);
      const m2 = await metrics(http);
      assert.equal(metricValue(m2, 'sipwarden_packets_total', 'source="log"'), a.length + b.length);
      assert.equal(metricValue(m2, 'sipwarden_packets_total', 'source="hep"'), 0);
    } finally {
      const end = await w.stop();
      assert.equal(end.code, 0, w.stderr());
    }
    try {
      const store = new AlertStore({ path: db });
      const alerts = store.list({}).map((s) => s.alert);
      const brutes = alerts.filter((x) => x.rule === 'auth.bruteforce');
      assert.deepEqual(brutes.map((x) => x.source?.ip).sort(), [A, B]);
      for (const x of brutes) {
        assert.equal(x.target?.identity, '101');
        // Revisions are not made for every rejection, so the stored count is at least the threshold.
        assert.ok(x.count >= 5, `${x.source?.ip}: count ${x.count}`);
      }
      store.close();
    } finally {
      cleanup(dir);
    }
  },
);
