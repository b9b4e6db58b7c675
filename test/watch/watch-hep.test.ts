/**
 * End to end over HEP: a lab Kamailio mirrors all its SIP (siptrace, HEP3) to `sipwarden watch`,
 * svcrack guesses extension 101's password from its own loopback address; the alerts must be in
 * the SQLite store and the JSONL sink with the attacker's address and the identity attacked, and
 * /metrics must count the HEP packets and the alerts.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import type { AlertJson } from '../../src/core/alert.js';
import { AlertStore } from '../../src/store/alert-store.js';
import {
  cleanup,
  freePort,
  metrics,
  metricValue,
  missingTools,
  readJsonl,
  runSv,
  startLabPbx,
  startWatch,
  tempDir,
  waitFor,
} from './watch-helpers.js';

const PBX = '127.0.0.160';
const ATTACKER = '127.0.2.160';
const skip = missingTools(['kamailio', 'sipsak', 'svcrack', 'openssl']);

test(
  'watch over HEP: svcrack against a Kamailio raises alerts in the store, JSONL and metrics',
  { skip, timeout: 30_000 },
  async () => {
    const dir = tempDir('hep');
    const db = join(dir, 'watch.db');
    const jsonl = join(dir, 'alerts.jsonl');
    const hepPort = await freePort('udp');
    const { w, http } = await startWatch([
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
      '25',
    ]);
    let pbx: ReturnType<typeof startLabPbx> | undefined;
    try {
      pbx = startLabPbx('leaky', PBX, dir, `127.0.0.1:${hepPort}`);
      const out = runSv('svcrack', ATTACKER, [
        '-u',
        '101',
        '-d',
        'test/lab/wordlists/small.txt',
        '-x',
        ATTACKER,
        PBX,
      ]);
      assert.match(out, /101\s*\|\s*1234/, 'svcrack found the lab password (the attack really ran)');

      const mine = (a: AlertJson) => a.source?.ip === ATTACKER;
      const lines = await waitFor(
        'auth.bruteforce and auth.success-after-failures in the JSONL sink',
        10_000,
        () => {
          const all = readJsonl(jsonl).filter(mine);
          const rules = new Set(all.map((a) => a.rule));
          return rules.has('auth.bruteforce') &&
            rules.has('auth.success-after-failures') &&
            rules.has('scan.tool-fingerprint')
            ? all
            : undefined;
        },
      );
      const brute = lines.find((a) => a.rule === 'auth.bruteforce')!;
      assert.equal(brute.target?.identity, '101');
      assert.equal(brute.target?.ip, PBX);
      assert.equal(brute.revision, 1);
      assert.equal(brute.count, 5, 'raised at the 5th rejection (default threshold)');
      const success = lines.find((a) => a.rule === 'auth.success-after-failures')!;
      assert.equal(success.target?.identity, '101');

      const m = await metrics(http);
      assert.ok(metricValue(m, 'sipwarden_packets_total', 'source="hep"') > 0, m);
      assert.ok(metricValue(m, 'sipwarden_alerts_total', 'rule="auth.bruteforce"') >= 1, m);
      assert.equal(metricValue(m, 'sipwarden_packets_total', 'source="capture"'), 0);
    } finally {
      pbx?.stop();
      const end = await w.stop();
      assert.equal(end.code, 0, w.stderr());
    }
    try {
      // The store, read back after a clean stop, holds the same alerts.
      const store = new AlertStore({ path: db });
      const stored = store
        .list({})
        .map((s) => s.alert)
        .filter((a) => a.source?.ip === ATTACKER);
      const byRule = new Map(stored.map((a) => [a.rule, a]));
      assert.equal(byRule.get('auth.bruteforce')?.target?.identity, '101');
      assert.ok((byRule.get('auth.bruteforce')?.count ?? 0) >= 5);
      assert.equal(byRule.get('auth.success-after-failures')?.target?.identity, '101');
      assert.equal(byRule.get('scan.tool-fingerprint')?.source?.ip, ATTACKER);
      // Every JSONL line is a stored revision (the sink reads the store's outbox).
      const revs = new Set(store.readAfter(0, 10_000).map((r) => `${r.alert.id}#${r.alert.revision}`));
      for (const a of readJsonl(jsonl))
        assert.ok(revs.has(`${a.id}#${a.revision}`), `${a.id}#${a.revision} not in store`);
      store.close();
      // The CLI reads the same store.
      const cli = spawnSync(
        process.execPath,
        ['bin/sipwarden.js', 'alerts', '--db', db, '--format', 'json'],
        {
          encoding: 'utf8',
          timeout: 10_000,
        },
      );
      const listed = JSON.parse(cli.stdout) as AlertJson[];
      assert.ok(
        listed.some(
          (a) => a.rule === 'auth.bruteforce' && a.source?.ip === ATTACKER && a.target?.identity === '101',
        ),
      );
    } finally {
      cleanup(dir);
    }
  },
);
