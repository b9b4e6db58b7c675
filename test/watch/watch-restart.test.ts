/**
 * A restart forgets nothing: 3 rejected guesses reach watch over HEP, watch is killed with SIGKILL,
 * a new watch on the same store receives 3 more rejected guesses from the same attacker, and the
 * brute force (threshold 5) must be raised: only the journal replay can carry the first 3 over.
 * After the restart no alert revision is stored or delivered twice and alerts continue under their
 * ids.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import type { AlertJson } from '../../src/core/alert.js';
import { AlertStore } from '../../src/store/alert-store.js';
import { decodeJournalBatch, type JournalRecord } from '../../src/watch/journal.js';
import {
  cleanup,
  freePort,
  metrics,
  metricValue,
  missingTools,
  readJsonl,
  authFailures,
  runSvUntil,
  startLabPbx,
  startWatch,
  tempDir,
  waitFor,
} from './watch-helpers.js';

const PBX = '127.0.0.161';
const ATTACKER = '127.0.2.161';
const skip = missingTools(['kamailio', 'sipsak', 'svcrack', 'openssl']);

/**
 * How many 403 answers to `attacker` the store's journal holds (read-only connection: watch is
 * writing). The sensor flushes its journal once a second, so a SIGKILL loses at most the last
 * second: the test kills only once the rejections are in the journal.
 */
function journalled403(db: string, attacker: string): number {
  const c = new Database(db, { readonly: true, fileMustExist: true });
  try {
    const rows = c.prepare("SELECT data FROM journal WHERE kind = 'records'").all() as { data: Buffer }[];
    let n = 0;
    const out: JournalRecord[] = [];
    for (const r of rows) {
      out.length = 0;
      decodeJournalBatch(r.data, out);
      for (const rec of out)
        if (
          rec.kind === 'frame' &&
          rec.frame.dstIp === attacker &&
          rec.frame.data.subarray(0, 11).toString('latin1') === 'SIP/2.0 403'
        )
          n++;
    }
    return n;
  } finally {
    c.close();
  }
}

test(
  'watch killed with SIGKILL mid brute force: the restarted sensor raises it at the 5th rejection',
  { skip, timeout: 40_000 },
  async () => {
    const dir = tempDir('restart');
    const db = join(dir, 'watch.db');
    const jsonl = join(dir, 'alerts.jsonl');
    // 3 wrong passwords each run (101's is 1234): 3 rejections per run, 6 in all.
    writeFileSync(join(dir, 'words1.txt'), 'letmein\nqwerty\npassword\n');
    writeFileSync(join(dir, 'words2.txt'), 'admin\nsecret\n000000\n');
    const hepPort = await freePort('udp');
    const args = [
      '--hep',
      `udp://127.0.0.1:${hepPort}`,
      '--db',
      db,
      '--jsonl',
      jsonl,
      '--http',
      '127.0.0.1:0',
      '--quiet',
      '--duration',
      '30',
    ];
    const mine = (a: AlertJson) => a.source?.ip === ATTACKER;
    let pbx: ReturnType<typeof startLabPbx> | undefined;
    const first = await startWatch(args);
    let second: Awaited<ReturnType<typeof startWatch>> | undefined;
    try {
      pbx = startLabPbx('leaky', PBX, dir, `127.0.0.1:${hepPort}`);
      const log = pbx.log;
      await runSvUntil(
        'svcrack',
        ATTACKER,
        ['-u', '101', '-d', join(dir, 'words1.txt'), '-x', ATTACKER, PBX],
        () => authFailures(log, ATTACKER) >= 3,
      );
      assert.equal(authFailures(log, ATTACKER), 3, 'the PBX rejected 3 guesses');
      // 3 rejections seen, below the threshold.
      await waitFor('the scanner alert of run 1', 8000, () =>
        readJsonl(jsonl).some(mine) ? true : undefined,
      );
      await waitFor('the 3 rejections in the journal', 5000, () =>
        journalled403(db, ATTACKER) >= 3 ? true : undefined,
      );
      assert.equal(journalled403(db, ATTACKER), 3);
      assert.equal(
        readJsonl(jsonl).filter((a) => a.rule === 'auth.bruteforce').length,
        0,
        'no brute force after 3 rejections',
      );
      const killed = await first.w.kill9();
      assert.equal(killed.signal, 'SIGKILL');
      const beforeRestart = readJsonl(jsonl);

      second = await startWatch(args);
      assert.match(second.w.stderr(), /replayed \d+ journal records/);
      await runSvUntil(
        'svcrack',
        ATTACKER,
        ['-u', '101', '-d', join(dir, 'words2.txt'), '-x', ATTACKER, PBX],
        () => authFailures(log, ATTACKER) >= 6,
      );
      assert.equal(authFailures(log, ATTACKER), 6, 'the PBX rejected 3 more guesses');
      const brute = await waitFor('auth.bruteforce after the restart', 8000, () =>
        readJsonl(jsonl).find((a) => a.rule === 'auth.bruteforce' && mine(a)),
      );
      assert.equal(brute.target?.identity, '101');
      assert.equal(brute.count, 5, 'raised at the 5th rejection: 3 before the kill, 2 after');
      const m = await metrics(second.http);
      assert.ok(metricValue(m, 'sipwarden_packets_total', 'source="hep"') > 0);
      // Nothing delivered before the kill is delivered again.
      const after = readJsonl(jsonl);
      const seen = new Set<string>();
      for (const a of after) {
        const key = `${a.id}#${a.revision}`;
        assert.ok(!seen.has(key), `revision ${key} delivered twice`);
        seen.add(key);
      }
      assert.deepEqual(after.slice(0, beforeRestart.length), beforeRestart);
    } finally {
      pbx?.stop();
      await first.w.kill9();
      if (second !== undefined) {
        const end = await second.w.stop();
        assert.equal(end.code, 0, second.w.stderr());
      }
    }
    try {
      const store = new AlertStore({ path: db });
      const revs = store.readAfter(0, 10_000).map((r) => r.alert);
      const keys = revs.map((a) => `${a.id}#${a.revision}`);
      assert.equal(new Set(keys).size, keys.length, 'a revision stored twice');
      // Each alert's revisions are 1..n, in order, its count never going back.
      const byId = new Map<string, AlertJson[]>();
      for (const a of revs) byId.set(a.id, [...(byId.get(a.id) ?? []), a]);
      for (const [id, list] of byId) {
        assert.deepEqual(
          list.map((a) => a.revision),
          list.map((_, i) => i + 1),
          `revisions of ${id}`,
        );
        for (let i = 1; i < list.length; i++)
          assert.ok(list[i]!.count >= list[i - 1]!.count, `count of ${id} went back`);
      }
      // The scanner alert continued across the restart: one alert for this attacker, not two.
      const scans = new Set(
        revs.filter((a) => a.rule === 'scan.tool-fingerprint' && mine(a)).map((a) => a.id),
      );
      assert.equal(scans.size, 1);
      const brutes = store
        .list({})
        .map((s) => s.alert)
        .filter((a) => a.rule === 'auth.bruteforce' && mine(a));
      assert.equal(brutes.length, 1);
      assert.ok(brutes[0]!.count >= 5);
      store.close();
    } finally {
      cleanup(dir);
    }
  },
);
