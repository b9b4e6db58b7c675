import assert from 'node:assert/strict';
import { test } from 'node:test';
import { STORE_COUNTER_TOP_N } from '../../src/config/limits.js';
import { SEVERITIES, type AlertJson } from '../../src/core/alert.js';
import { AlertStore, StoreError } from '../../src/store/alert-store.js';
import { SCHEMA_VERSION } from '../../src/store/migrations.js';
import { makeAlert, ms, tempDb } from './store-fixtures.js';

const NOW = ms('2026-11-24T06:00:00Z');
const HOUR = 3_600_000;

function open(path = tempDb(), extra: Partial<ConstructorParameters<typeof AlertStore>[0]> = {}) {
  return new AlertStore({ path, now: () => NOW, ...extra });
}

test('put stores a revision, get returns the latest, revisions returns them all in order', () => {
  const s = open();
  const seq1 = s.put(makeAlert());
  const seq2 = s.put(makeAlert({ revision: 2, count: 120, severity: 'critical' }));
  assert.ok(seq2 > seq1 && seq1 >= 1);
  const got = s.get('ab41f0c2e9d7a3b1');
  assert.equal(got?.seq, seq2);
  assert.equal(got?.alert.revision, 2);
  assert.equal(got?.alert.count, 120);
  assert.deepEqual(got?.alert.evidence, { userAgent: 'friendly-scanner', methods: { REGISTER: 57 } });
  assert.deepEqual(got?.acks, []);
  assert.deepEqual(
    s.revisions('ab41f0c2e9d7a3b1').map((r) => [r.seq, r.alert.revision, r.alert.count]),
    [
      [seq1, 1, 57],
      [seq2, 2, 120],
    ],
  );
  assert.equal(s.get('nope'), undefined);
  assert.deepEqual(s.revisions('nope'), []);
  assert.equal(s.journalMode, 'wal');
  assert.equal(s.schemaVersion, SCHEMA_VERSION);
  s.close();
});

test('replaying revisions is idempotent and an older revision never replaces a newer one', () => {
  const path = tempDb();
  const s = open(path);
  const r1 = makeAlert();
  const r2 = makeAlert({ revision: 2, count: 99, state: 'closed' });
  const [a, b] = s.putMany([r1, r2]);
  s.close();
  const s2 = open(path);
  // A restart replays both (in the wrong order): same seqs back, nothing new stored.
  assert.equal(s2.put(r2), b);
  assert.equal(s2.put(r1), a);
  assert.equal(s2.stats.duplicates, 2);
  assert.equal(s2.revisions(r1.id).length, 2);
  assert.equal(s2.readAfter(0, 100).length, 2);
  assert.equal(s2.get(r1.id)?.alert.revision, 2);
  assert.equal(s2.get(r1.id)?.alert.state, 'closed');
  // A revision arriving late (3 then an unseen 0) keeps the latest at 3.
  s2.put(makeAlert({ revision: 3, count: 200 }));
  s2.put(makeAlert({ revision: 0, count: 1 }));
  assert.equal(s2.get(r1.id)?.alert.revision, 3);
  assert.equal(s2.revisions(r1.id).length, 4);
  s2.close();
});

test('putMany is one transaction: an invalid revision stores none of the batch', () => {
  const s = open();
  assert.throws(
    () => s.putMany([makeAlert({ id: 'good' }), makeAlert({ id: 'bad', lastSeen: 'yesterday' })]),
    (e: unknown) => e instanceof StoreError && e.code === 'invalid' && /lastSeen/.test(e.message),
  );
  assert.equal(s.get('good'), undefined);
  assert.deepEqual(s.readAfter(0, 10), []);
  assert.throws(() => s.put(makeAlert({ id: '' })), /without an id/);
  assert.throws(() => s.put({ ...makeAlert(), severity: 'urgent' } as unknown as AlertJson), /severity/);
  s.close();
});

test('an alert larger than the bound is stored with its evidence cut', () => {
  const s = open();
  s.put(makeAlert({ evidence: { blob: 'x'.repeat(300 * 1024) } }));
  assert.equal(s.stats.truncated, 1);
  const e = s.get('ab41f0c2e9d7a3b1')?.alert.evidence;
  assert.ok(typeof e?.truncated === 'number' && e.truncated > 300 * 1024);
  s.close();
});

test('list filters by time range, rule, state, severity, site and limit, newest first', () => {
  const s = open();
  s.put(makeAlert({ id: 'a', rule: 'auth.bruteforce', severity: 'high', lastSeen: '2026-11-24T05:00:00Z' }));
  s.put(
    makeAlert({
      id: 'b',
      rule: 'scan.extensions',
      severity: 'medium',
      state: 'closed',
      firstSeen: '2026-11-23T01:00:00Z',
      raisedAt: '2026-11-23T01:00:00Z',
      lastSeen: '2026-11-23T02:00:00Z',
    }),
  );
  s.put(
    makeAlert({
      id: 'c',
      rule: 'auth.bruteforce',
      severity: 'low',
      site: 'tenant-2',
      lastSeen: '2026-11-24T05:30:00Z',
    }),
  );
  const ids = (q: Parameters<AlertStore['list']>[0]) => s.list(q).map((a) => a.alert.id);
  assert.deepEqual(ids({}), ['c', 'a', 'b']);
  assert.deepEqual(ids({ since: NOW - 2 * HOUR }), ['c', 'a']);
  assert.deepEqual(ids({ until: ms('2026-11-23T12:00:00Z') }), ['b']);
  assert.deepEqual(ids({ rule: 'auth.bruteforce' }), ['c', 'a']);
  assert.deepEqual(ids({ state: 'closed' }), ['b']);
  assert.deepEqual(ids({ severity: 'medium' }), ['a', 'b']);
  assert.deepEqual(ids({ site: 'tenant-2' }), ['c']);
  assert.deepEqual(ids({ limit: 1 }), ['c']);
  assert.deepEqual(ids({ rule: 'none' }), []);
  s.close();
});

test('ack records who and why, keeps a bounded history, and refuses unknown ids', () => {
  const s = open();
  s.put(makeAlert());
  const a = s.ack('ab41f0c2e9d7a3b1', 'alice', 'blocked at the firewall');
  assert.deepEqual(a, {
    n: a?.n,
    id: 'ab41f0c2e9d7a3b1',
    by: 'alice',
    note: 'blocked at the firewall',
    at: NOW,
  });
  assert.equal(s.ack('unknown', 'alice'), undefined);
  for (let i = 0; i < 120; i++) s.ack('ab41f0c2e9d7a3b1', `u${i}`);
  const acks = s.get('ab41f0c2e9d7a3b1')?.acks ?? [];
  assert.equal(acks.length, 100);
  assert.equal(acks[acks.length - 1]?.by, 'u119');
  assert.equal(s.list()[0]?.acks.length, 100);
  s.close();
});

test('suppressions match by CIDR, single address, IPv6, identity, rule prefix, and expire', () => {
  const s = open();
  const alert = makeAlert();
  const until = NOW + HOUR;
  const cases: [Parameters<AlertStore['suppress']>[0], boolean][] = [
    [{ source: '203.0.113.0/24', until }, true],
    [{ source: '203.0.113.7', until }, true],
    [{ source: '203.0.112.0/24', until }, false],
    [{ source: '2001:db8::/32', until }, false],
    [{ identity: '101', until }, true],
    [{ identity: '102', until }, false],
    [{ rule: 'auth.*', until }, true],
    [{ rule: 'auth.bruteforce', source: '10.0.0.0/8', until }, false],
    [{ rule: 'scan.*', until }, false],
    [{ rule: 'auth.bruteforce', until: NOW - 1 }, false],
  ];
  for (const [input, expected] of cases) {
    const sup = s.suppress(input);
    assert.equal(s.isSuppressed(alert, NOW), expected, JSON.stringify(input));
    assert.equal(s.suppressionFor(alert, NOW)?.n, expected ? sup.n : undefined);
    assert.equal(s.unsuppress(sup.n), true);
  }
  const v6 = makeAlert({ source: { ip: '2001:db8::5' } });
  const sup = s.suppress({ source: '2001:DB8::/32', until, reason: 'lab' });
  assert.equal(sup.source, '2001:db8::/32');
  assert.equal(s.isSuppressed(v6, NOW), true);
  assert.equal(s.isSuppressed(v6, until), false, 'expires at until');
  assert.equal(s.isSuppressed(alert, NOW), false);
  // A distributed alert (no main source) is silenced only when every source is in range.
  const dist = makeAlert({
    sources: [
      { ip: '2001:db8::1', count: 3 },
      { ip: '2001:db8::2', count: 2 },
    ],
  });
  delete dist.source;
  assert.equal(s.isSuppressed(dist, NOW), true);
  dist.sources?.push({ ip: '192.0.2.1', count: 1 });
  assert.equal(s.isSuppressed(dist, NOW), false);
  assert.equal(s.unsuppress(999), false);
  s.close();
});

test('suppress refuses what would silence everything or is not an address', () => {
  const s = open();
  const invalid = (e: unknown) => e instanceof StoreError && e.code === 'invalid';
  assert.throws(() => s.suppress({ until: NOW + HOUR }), invalid);
  assert.throws(() => s.suppress({ rule: '  ', until: NOW + HOUR }), invalid);
  assert.throws(() => s.suppress({ source: '203.0.113.0/33', until: NOW + HOUR }), invalid);
  assert.throws(() => s.suppress({ source: 'example.com', until: NOW + HOUR }), invalid);
  assert.throws(() => s.suppress({ rule: 'x', until: NaN }), invalid);
  assert.deepEqual(s.suppressions(), []);
  s.close();
});

test('list hides suppressed alerts unless asked, and sees suppressions another process added', () => {
  const path = tempDb();
  const s = open(path);
  s.put(makeAlert({ id: 'a' }));
  s.put(makeAlert({ id: 'b', source: { ip: '192.0.2.9' } }));
  assert.equal(s.list().length, 2);
  const other = open(path); // the CLI, in another connection
  const sup = other.suppress({ source: '192.0.2.0/24', until: NOW + HOUR, reason: 'our monitoring' });
  assert.deepEqual(
    s.list().map((a) => a.alert.id),
    ['a'],
  );
  const all = s.list({ includeSuppressed: true });
  assert.deepEqual(
    all.map((a) => [a.alert.id, a.suppressedBy]),
    [
      ['b', sup.n],
      ['a', undefined],
    ],
  );
  assert.deepEqual(s.suppressions(), [
    { n: sup.n, source: '192.0.2.0/24', until: NOW + HOUR, reason: 'our monitoring', created: NOW },
  ]);
  other.unsuppress(sup.n);
  assert.equal(s.list().length, 2);
  other.close();
  s.close();
});

test('the outbox: readAfter in commit order, cursors per sink survive a reopen', () => {
  const path = tempDb();
  const s = open(path);
  const seqs = s.putMany(Array.from({ length: 25 }, (_, i) => makeAlert({ id: `id${i}` })));
  assert.equal(s.cursor('syslog'), 0);
  // A sink delivering in batches of 10.
  const delivered: string[] = [];
  for (;;) {
    const batch = s.readAfter(s.cursor('syslog'), 10);
    if (batch.length === 0) break;
    delivered.push(...batch.map((r) => r.alert.id));
    s.setCursor('syslog', batch[batch.length - 1]?.seq ?? 0);
  }
  assert.equal(delivered.length, 25);
  assert.deepEqual(delivered.slice(0, 3), ['id0', 'id1', 'id2']);
  assert.equal(s.cursor('syslog'), seqs[24]);
  assert.equal(s.cursor('webhook'), 0);
  assert.throws(() => s.setCursor('x', -1), StoreError);
  s.close();
  const s2 = open(path);
  assert.equal(s2.cursor('syslog'), seqs[24]);
  const more = s2.put(makeAlert({ id: 'late' }));
  assert.deepEqual(
    s2.readAfter(s2.cursor('syslog'), 10).map((r) => [r.seq, r.alert.id]),
    [[more, 'late']],
  );
  s2.close();
});

test('counters sum per minute, merge top lists to their bound, and read by range', () => {
  const s = open();
  const minute = ms('2026-11-24T05:00:00Z');
  const top = (n: number, prefix: string) =>
    Array.from({ length: n }, (_, i) => ({ key: `${prefix}${i}`, count: i + 1 }));
  s.addCounters([
    {
      minute: minute + 30_000,
      site: 'default',
      sensor: 's1',
      messages: 10,
      failures: 2,
      calls: 1,
      topSources: top(30, 'ip'),
      topIdentities: [{ key: '101', count: 2 }],
    },
    {
      minute: minute + 60_000,
      site: 'default',
      sensor: 's1',
      messages: 5,
      failures: 0,
      calls: 0,
      topSources: [],
      topIdentities: [],
    },
  ]);
  s.addCounters([
    {
      minute,
      site: 'default',
      sensor: 's1',
      messages: 1,
      failures: 1,
      calls: 2,
      topSources: [{ key: 'ip0', count: 100 }],
      topIdentities: [{ key: '101', count: 3 }],
    },
  ]);
  const rows = s.counters({ since: minute, until: minute + 120_000 });
  assert.equal(rows.length, 2);
  const r0 = rows[0];
  assert.equal(r0?.minute, minute);
  assert.deepEqual([r0?.messages, r0?.failures, r0?.calls], [11, 3, 3]);
  assert.equal(r0?.topSources.length, STORE_COUNTER_TOP_N);
  // The first list was cut to the 20 largest (ip10..ip29), so ip0's earlier count of 1 is gone.
  assert.deepEqual(r0?.topSources.slice(0, 2), [
    { key: 'ip0', count: 100 },
    { key: 'ip29', count: 30 },
  ]);
  assert.equal(
    r0?.topSources.some((e) => e.key === 'ip9'),
    false,
  );
  assert.deepEqual(r0?.topIdentities, [{ key: '101', count: 5 }]);
  assert.equal(s.counters({ since: minute + 60_000, until: minute + 120_000 }).length, 1);
  assert.equal(s.counters({ since: minute, until: minute + 120_000, sensor: 'other' }).length, 0);
  s.close();
});

test('snapshots keep JSON and binary state across a reopen, replacing by name', () => {
  const path = tempDb();
  const s = open(path);
  s.saveSnapshot('detector.auth', { windows: [{ key: '203.0.113.7', n: 4 }] });
  s.saveSnapshot('blocklist', Buffer.from([0, 1, 2, 255]));
  s.saveSnapshot('detector.auth', { windows: [] });
  s.close();
  const s2 = open(path);
  assert.deepEqual(s2.loadSnapshot('detector.auth'), { data: { windows: [] }, updatedAt: NOW });
  const b = s2.loadSnapshot('blocklist')?.data;
  assert.ok(Buffer.isBuffer(b));
  assert.deepEqual([...b], [0, 1, 2, 255]);
  assert.equal(s2.loadSnapshot('none'), undefined);
  s2.close();
});

test('fuzz: random revisions with hostile strings, duplicates and any order keep the invariants', () => {
  let seed = 12345;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const str = () => {
    let out = '';
    const len = rnd(40);
    for (let i = 0; i < len; i++) out += String.fromCharCode(rnd(4) === 0 ? rnd(0x10000) : rnd(0x80));
    return out;
  };
  const s = open();
  const maxRev = new Map<string, number>();
  const stored = new Map<string, AlertJson>();
  for (let i = 0; i < 600; i++) {
    const id = `id${rnd(40)}`;
    const revision = rnd(12);
    const a = makeAlert({
      id,
      revision,
      title: str(),
      rule: str() || 'r',
      severity: SEVERITIES[rnd(5)] ?? 'low',
      state: rnd(2) === 0 ? 'open' : 'closed',
      target: { identity: str() },
      evidence: { ua: str(), n: rnd(1000) },
    });
    const key = `${id}/${revision}`;
    const seq = s.put(a);
    assert.ok(Number.isInteger(seq) && seq > 0);
    if (!stored.has(key)) stored.set(key, a);
    maxRev.set(id, Math.max(maxRev.get(id) ?? -1, revision));
  }
  for (const [id, rev] of maxRev) {
    const g = s.get(id);
    assert.equal(g?.alert.revision, rev);
    assert.deepEqual(g?.alert, stored.get(`${id}/${rev}`));
  }
  assert.equal(s.readAfter(0, 10_000).length, stored.size);
  assert.equal(s.list({ limit: 10_000, includeSuppressed: true }).length, maxRev.size);
  s.close();
});
