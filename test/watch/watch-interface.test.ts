/**
 * `watch --interface lo`: the sensor captures SIP on the loopback interface itself (tcpdump or
 * dumpcap, default BPF filter on the SIP ports) while svwar enumerates and svcrack guesses against a
 * lab PBX that sends no HEP. Other tests may send on `lo` at the same time, so only alerts about
 * this test's own addresses are looked at.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import type { AlertJson } from '../../src/core/alert.js';
import { AlertStore } from '../../src/store/alert-store.js';
import {
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

const PBX = '127.0.0.167';
const CRACKER = '127.0.2.167';
const WARDIALER = '127.0.2.168';
const skip =
  missingTools(['kamailio', 'sipsak', 'svcrack', 'svwar', 'openssl', 'tcpdump']) ??
  (process.getuid?.() !== 0 ? 'capturing on lo needs root (or capture rights for tcpdump)' : undefined);

test('watch --interface lo sees svwar and svcrack against a lab PBX', { skip, timeout: 40_000 }, async () => {
  const dir = tempDir('iface');
  const db = join(dir, 'watch.db');
  const jsonl = join(dir, 'alerts.jsonl');
  const { w, http } = await startWatch([
    '--interface',
    'lo',
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
  let pbx: ReturnType<typeof startLabPbx> | undefined;
  const from = (ip: string, rule: string) => (a: AlertJson) => a.rule === rule && a.source?.ip === ip;
  try {
    assert.match(w.stderr(), /listening: .*lo/);
    assert.doesNotMatch(w.stderr(), /listening: hep/, 'an interface given: no default HEP listener');
    pbx = startLabPbx('leaky', PBX, dir);
    await sleep(300);
    // svwar: extensions 100-109 exist (leaky answers 404 for the rest).
    const war = await runSvUntil(
      'svwar',
      WARDIALER,
      ['-e', '95-125', '-m', 'REGISTER', '-x', WARDIALER, PBX],
      () => false,
      15_000,
    );
    assert.match(war, /\b101\b/, 'svwar found extension 101 (the scan really ran)');
    const crack = await runSvUntil(
      'svcrack',
      CRACKER,
      ['-u', '101', '-d', 'test/lab/wordlists/small.txt', '-x', CRACKER, PBX],
      () => false,
      10_000,
    );
    assert.match(crack, /101\s*\|\s*1234/);

    const lines = await waitFor('alerts for both attackers in the JSONL', 10_000, () => {
      const all = readJsonl(jsonl);
      return all.some(from(CRACKER, 'auth.bruteforce')) && all.some(from(WARDIALER, 'scan.tool-fingerprint'))
        ? all
        : undefined;
    });
    const brute = lines.find(from(CRACKER, 'auth.bruteforce'))!;
    assert.equal(brute.target?.identity, '101');
    assert.equal(brute.target?.ip, PBX);
    assert.equal(brute.count, 5);
    // svwar's enumeration is told apart from the password guessing (a scanner alert is one per
    // tool and PBX, revised as its count doubles, so the cracker's later packets may not show in it).
    assert.ok(lines.some(from(WARDIALER, 'recon.extension-enumeration')));
    assert.ok(!lines.some(from(WARDIALER, 'auth.bruteforce')));
    // Nothing about this test's attackers is blamed on the PBX.
    assert.ok(
      !lines.some(
        (a) =>
          a.source?.ip === PBX && a.target?.ip !== undefined && [CRACKER, WARDIALER].includes(a.target.ip),
      ),
    );
    const m = await metrics(http);
    assert.ok(metricValue(m, 'sipwarden_packets_total', 'source="capture"') > 0, m);
    assert.equal(metricValue(m, 'sipwarden_packets_total', 'source="hep"'), 0);
  } finally {
    pbx?.stop();
    const end = await w.stop();
    assert.equal(end.code, 0, w.stderr());
  }
  try {
    const store = new AlertStore({ path: db });
    const mine = store
      .list({})
      .map((s) => s.alert)
      .filter((a) => a.source?.ip === CRACKER || a.source?.ip === WARDIALER);
    const rules = new Set(mine.map((a) => `${a.rule} ${a.source?.ip}`));
    assert.ok(rules.has(`auth.bruteforce ${CRACKER}`), [...rules].join(', '));
    assert.ok(rules.has(`scan.tool-fingerprint ${WARDIALER}`), [...rules].join(', '));
    store.close();
  } finally {
    cleanup(dir);
  }
});
