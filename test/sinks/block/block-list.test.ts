import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AlertJson, Severity } from '../../../src/core/alert.js';
import { BlockList, type BlockEntry } from '../../../src/sinks/block/block-list.js';
import { BLOCK_MAX_ENTRIES } from '../../../src/config/limits.js';

const T0 = Date.parse('2026-11-24T10:00:00.000Z');
const H = 3600_000;

function alert(ip: string | undefined, over: Partial<AlertJson> = {}): AlertJson {
  return {
    schemaVersion: 1,
    id: over.id ?? `id-${ip ?? 'none'}`,
    revision: 1,
    state: 'open',
    rule: 'auth.bruteforce',
    severity: 'high',
    title: 'Password guessing',
    site: 'default',
    sensor: 'test',
    firstSeen: '2026-11-24T09:58:00.000Z',
    raisedAt: '2026-11-24T09:59:00.000Z',
    lastSeen: '2026-11-24T09:59:59.000Z',
    count: 20,
    ...(ip === undefined ? {} : { source: { ip } }),
    evidence: {},
    remediation: '',
    references: [],
    ...over,
  };
}

const SITE = {
  name: 'hq',
  pbx: ['198.51.100.2'],
  trunks: ['192.0.2.10', '2001:db8:aaaa:1::5'],
  trusted: ['203.0.113.128/25'],
  identities: {},
};

test('a source that proved a return path is blocked for the base duration', () => {
  const list = new BlockList({ hasReturnPath: () => true });
  const d = list.consider(alert('203.0.113.7', { id: 'ab41' }), T0);
  assert.equal(d.outcome, 'blocked');
  assert.deepEqual(list.list(T0), [
    {
      key: '203.0.113.7',
      family: 4,
      address: '203.0.113.7',
      rule: 'auth.bruteforce',
      alertId: 'ab41',
      severity: 'high',
      since: T0,
      expiresAt: T0 + 24 * H,
      strikes: 1,
      manual: false,
    },
  ]);
  assert.equal(list.counters().blocked, 1);
});

test('a forged source (no return path) is never blocked, and the default is to fail closed', () => {
  const seen: string[] = [];
  const list = new BlockList({
    hasReturnPath: (ip) => {
      seen.push(ip);
      return ip === '203.0.113.9';
    },
  });
  const d = list.consider(alert('203.0.113.7'), T0);
  assert.equal(d.outcome, 'skipped');
  assert.equal(d.reason, 'no-return-path');
  assert.deepEqual(seen, ['203.0.113.7']);
  assert.equal(list.size, 0);
  const closed = new BlockList();
  assert.equal(closed.consider(alert('203.0.113.7'), T0).reason, 'no-return-path');
  assert.equal(closed.size, 0);
  assert.equal(closed.counters().skipped['no-return-path'], 1);
});

test('trusted networks, PBX, trunks, the alert target and learned roles are never blocked', () => {
  const list = new BlockList({
    sites: [SITE],
    hasReturnPath: () => true,
    isProtected: (ip) => ip === '203.0.113.50',
  });
  const cases: [string, string][] = [
    ['203.0.113.200', 'trusted'],
    ['198.51.100.2', 'pbx'],
    ['192.0.2.10', 'trunk'],
    ['2001:db8:aaaa:1::5', 'trunk'],
    ['203.0.113.50', 'protected'],
  ];
  for (const [ip, reason] of cases) {
    const d = list.consider(alert(ip), T0);
    assert.equal(d.outcome, 'skipped', ip);
    assert.equal(d.reason, reason, ip);
  }
  const t = list.consider(alert('203.0.113.60', { target: { ip: '203.0.113.60' } }), T0);
  assert.equal(t.reason, 'pbx');
  assert.equal(list.size, 0);
  // The same site's neighbours are not protected.
  assert.equal(list.consider(alert('203.0.113.127'), T0).outcome, 'blocked');
});

test('special and malformed addresses are refused', () => {
  const list = new BlockList({ hasReturnPath: () => true });
  for (const ip of [
    '127.0.0.1',
    '0.0.0.0',
    '224.0.0.1',
    '::1',
    '::',
    'ff02::1',
    'fe80::1',
    '255.255.255.255',
  ]) {
    const d = list.consider(alert(ip), T0);
    assert.equal(d.reason, 'special-address', ip);
  }
  for (const ip of ['fe80::1%eth0', 'not-an-ip', '1.2.3.256', '', '01.2.3.4']) {
    assert.equal(list.consider(alert(ip), T0).reason, 'invalid-address', ip);
  }
  assert.equal(list.consider(alert(undefined), T0).reason, 'no-source');
  assert.equal(list.size, 0);
});

test('only configured rules at or above the severity, and not stale revisions', () => {
  const list = new BlockList({ hasReturnPath: () => true, minSeverity: 'high' });
  assert.equal(
    list.consider(alert('203.0.113.7', { rule: 'exposure.cleartext-signaling' }), T0).reason,
    'rule-not-configured',
  );
  assert.equal(
    list.consider(alert('203.0.113.7', { rule: 'scan.tool-fingerprint', severity: 'medium' }), T0).reason,
    'below-severity',
  );
  assert.equal(
    list.consider(alert('203.0.113.7', { lastSeen: new Date(T0 - 25 * H).toISOString() }), T0).reason,
    'stale-alert',
  );
  assert.equal(list.consider(alert('203.0.113.7', { lastSeen: 'garbage' }), T0).reason, 'stale-alert');
  assert.equal(list.size, 0);
  assert.equal(list.consider(alert('203.0.113.7', { severity: 'critical' }), T0).outcome, 'blocked');
  const custom = new BlockList({ hasReturnPath: () => true, rules: ['auth.distributed-bruteforce'] });
  assert.equal(custom.consider(alert('203.0.113.7'), T0).reason, 'rule-not-configured');
});

test('expiry, and repeat offenders doubled up to the cap', () => {
  const list = new BlockList({ hasReturnPath: () => true, durationMs: 24 * H, maxDurationMs: 72 * H });
  const at = (t: number, id: string) =>
    list.consider(alert('203.0.113.7', { id, lastSeen: new Date(t - 1000).toISOString() }), t);
  at(T0, 'a1');
  assert.equal(list.list(T0 + 24 * H - 1).length, 1);
  assert.equal(list.list(T0 + 24 * H).length, 0);
  assert.deepEqual(
    list.expire(T0 + 24 * H).map((e) => e.key),
    ['203.0.113.7'],
  );
  assert.equal(list.size, 0);
  const t2 = T0 + 30 * H;
  const d2 = at(t2, 'a2');
  assert.equal(d2.outcome, 'blocked');
  assert.equal(list.list(t2)[0]?.strikes, 2);
  assert.equal(list.list(t2)[0]?.expiresAt, t2 + 48 * H);
  list.expire(t2 + 48 * H);
  const t3 = t2 + 50 * H;
  at(t3, 'a3');
  assert.equal(list.list(t3)[0]?.strikes, 3);
  assert.equal(list.list(t3)[0]?.expiresAt, t3 + 72 * H, '96 h capped at 72 h');
  assert.equal(list.counters().expired, 2);
  assert.equal(list.durationFor(10), 72 * H);
});

test('a new alert while blocked refreshes the block without doubling', () => {
  const list = new BlockList({ hasReturnPath: () => true });
  list.consider(alert('203.0.113.7', { id: 'a1' }), T0);
  const later = T0 + 2 * H;
  const d = list.consider(
    alert('203.0.113.7', { id: 'a2', severity: 'critical', lastSeen: new Date(later).toISOString() }),
    later,
  );
  assert.equal(d.outcome, 'refreshed');
  const e = list.list(later)[0] as BlockEntry;
  assert.equal(e.strikes, 1);
  assert.equal(e.expiresAt, later + 24 * H);
  assert.equal(e.severity, 'critical');
  assert.equal(e.alertId, 'a1');
  assert.equal(d.sources[0]?.outcome === 'refreshed' && d.sources[0].extendedMs, 2 * H);
});

test('an admin unblock spends the evidence so far and resets strikes', () => {
  const list = new BlockList({ hasReturnPath: () => true });
  list.consider(alert('203.0.113.7', { id: 'a1' }), T0);
  assert.equal(list.unblock('203.0.113.7', T0 + 1000)?.key, '203.0.113.7');
  assert.equal(list.unblock('203.0.113.7', T0 + 1000), undefined);
  assert.equal(list.consider(alert('203.0.113.7', { id: 'a1' }), T0 + 2000).reason, 'unblocked-by-admin');
  const t = T0 + H;
  const d = list.consider(alert('203.0.113.7', { id: 'a9', lastSeen: new Date(t).toISOString() }), t);
  assert.equal(d.outcome, 'blocked');
  assert.equal(list.list(t)[0]?.strikes, 1);
  assert.equal(list.counters().unblocked, 1);
});

test('IPv6 by /64 when configured, but never a /64 that holds a protected address', () => {
  const list = new BlockList({ hasReturnPath: () => true, ipv6Prefix: 64, sites: [SITE] });
  list.consider(alert('2001:DB8:1:2:0:0:0:99'), T0);
  assert.deepEqual(
    list.list(T0).map((e) => [e.key, e.address]),
    [['2001:db8:1:2::/64', '2001:db8:1:2::99']],
  );
  // Another address of the same /64 is the same entry.
  assert.equal(list.consider(alert('2001:db8:1:2::1234', { id: 'x' }), T0).outcome, 'refreshed');
  // The trunk 2001:db8:aaaa:1::5 shares this /64: only the attacker's address is blocked.
  list.consider(alert('2001:db8:aaaa:1::66'), T0);
  assert.ok(list.lookup('2001:db8:aaaa:1::66', T0));
  assert.equal(list.lookup('2001:db8:aaaa:1::5', T0), undefined);
  assert.deepEqual(
    list.list(T0).map((e) => e.key),
    ['2001:db8:1:2::/64', '2001:db8:aaaa:1::66'],
  );
  // IPv4-mapped IPv6 is the IPv4 address.
  list.consider(alert('::ffff:198.51.100.77'), T0);
  assert.equal(list.lookup('198.51.100.77', T0)?.family, 4);
  assert.equal(list.unblock('2001:db8:1:2::/64', T0)?.key, '2001:db8:1:2::/64');
});

test('distributed alerts block each listed source that has a return path', () => {
  const list = new BlockList({ hasReturnPath: (ip) => ip !== '203.0.113.3', sites: [SITE] });
  const d = list.consider(
    alert('203.0.113.1', {
      rule: 'auth.credential-stuffing',
      sources: [
        { ip: '203.0.113.1', count: 5 },
        { ip: '203.0.113.2', count: 4 },
        { ip: '203.0.113.3', count: 3 },
        { ip: '192.0.2.10', count: 2 },
      ],
    }),
    T0,
  );
  assert.equal(d.outcome, 'blocked');
  assert.deepEqual(
    d.sources.map((s) => [s.ip, s.outcome === 'skipped' ? s.reason : s.outcome]),
    [
      ['203.0.113.1', 'blocked'],
      ['203.0.113.2', 'blocked'],
      ['203.0.113.3', 'no-return-path'],
      ['192.0.2.10', 'trunk'],
    ],
  );
  assert.equal(list.size, 2);
});

test('a full list replaces its least severe, soonest-expiring entry only for a more severe block', () => {
  const list = new BlockList({ hasReturnPath: () => true, maxEntries: 3 });
  const sev = (ip: string, severity: Severity, t: number) =>
    list.consider(alert(ip, { severity, id: ip, lastSeen: new Date(t).toISOString() }), t);
  sev('203.0.113.1', 'high', T0);
  sev('203.0.113.2', 'high', T0 + 1000);
  sev('203.0.113.3', 'critical', T0 + 2000);
  const refused = sev('203.0.113.4', 'high', T0 + 3000);
  assert.equal(refused.reason, 'list-full');
  assert.equal(list.counters().refused, 1);
  const r = sev('203.0.113.5', 'critical', T0 + 4000);
  assert.equal(r.outcome, 'blocked');
  assert.deepEqual(
    r.replaced.map((e) => e.key),
    ['203.0.113.1'],
  );
  assert.deepEqual(
    list.list(T0 + 4000).map((e) => e.key),
    ['203.0.113.2', '203.0.113.3', '203.0.113.5'],
  );
  sev('203.0.113.6', 'critical', T0 + 5000);
  assert.equal(sev('203.0.113.7', 'critical', T0 + 6000).reason, 'list-full');
  assert.equal(list.size, 3);
  assert.equal(list.counters().replaced, 2);
  // Expired entries make room first, without counting a replacement.
  assert.equal(sev('203.0.113.8', 'medium', T0 + 25 * H).outcome, 'blocked');
  assert.equal(list.counters().replaced, 2);
});

test('manual add and its refusals', () => {
  const list = new BlockList({ sites: [SITE] });
  const r = list.add('203.0.113.7', T0, { durationMs: H });
  assert.ok(r.outcome === 'blocked');
  assert.equal(r.entry.expiresAt, T0 + H);
  assert.equal(r.entry.manual, true);
  assert.equal(r.entry.severity, 'critical');
  const trunk = list.add('192.0.2.10', T0);
  assert.equal(trunk.outcome === 'skipped' ? trunk.reason : '', 'trunk');
  const lo = list.add('127.0.0.1', T0);
  assert.equal(lo.outcome === 'skipped' ? lo.reason : '', 'special-address');
  const bad = list.add('nope', T0);
  assert.equal(bad.outcome === 'skipped' ? bad.reason : '', 'invalid-address');
});

test('toJSON and restore round-trip; restore drops what it must', () => {
  const list = new BlockList({ hasReturnPath: () => true, ipv6Prefix: 64 });
  list.consider(alert('203.0.113.7', { id: 'a1' }), T0);
  list.consider(alert('2001:db8:1:2::99', { id: 'a2', severity: 'critical' }), T0);
  list.add('198.51.100.40', T0, { durationMs: H });
  const json = JSON.parse(JSON.stringify(list.toJSON())) as ReturnType<BlockList['toJSON']>;
  assert.deepEqual(
    json.entries.map((e) => [e.key, e.expiresAt]),
    [
      ['198.51.100.40', '2026-11-24T11:00:00.000Z'],
      ['203.0.113.7', '2026-11-25T10:00:00.000Z'],
      ['2001:db8:1:2::/64', '2026-11-25T10:00:00.000Z'],
    ],
  );
  const copy = new BlockList({ ipv6Prefix: 64 });
  assert.deepEqual(copy.restore(json, T0 + 1000), { restored: 3, dropped: 0 });
  assert.deepEqual(copy.list(T0 + 1000), list.list(T0 + 1000));
  // Later, the manual 1 h entry has expired; a prefix of 128 re-keys the /64 entry.
  const narrow = new BlockList({ ipv6Prefix: 128 });
  assert.deepEqual(narrow.restore(json, T0 + 2 * H), { restored: 2, dropped: 1 });
  assert.deepEqual(
    narrow.list(T0 + 2 * H).map((e) => e.key),
    ['203.0.113.7', '2001:db8:1:2::99'],
  );
  // Repeat-offender history survives a restore.
  copy.expire(T0 + 25 * H);
  const t = T0 + 26 * H;
  const hasPath = new BlockList({ hasReturnPath: () => true });
  hasPath.restore(copy.toJSON(), t);
  hasPath.consider(alert('203.0.113.7', { id: 'a3', lastSeen: new Date(t).toISOString() }), t);
  assert.equal(hasPath.lookup('203.0.113.7', t)?.strikes, 2);
  // Garbage in, nothing thrown, nothing kept.
  const g = new BlockList();
  for (const junk of [
    null,
    42,
    'x',
    [],
    { entries: 'no' },
    { entries: [null, 1, { address: '127.0.0.1' }] },
  ]) {
    const r = g.restore(junk, T0);
    assert.equal(r.restored, 0);
  }
  const protectedRestore = new BlockList({ sites: [SITE] });
  const withTrunk = {
    entries: [{ ...json.entries[0], address: '192.0.2.10', key: '192.0.2.10' }],
    history: [],
  };
  assert.deepEqual(protectedRestore.restore(withTrunk, T0), { restored: 0, dropped: 1 });
});

test('property: random alerts never push the list past its bound, and decisions stay consistent', () => {
  let seed = 0x5eed;
  const rnd = (n: number) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % n;
  };
  const severities: Severity[] = ['info', 'low', 'medium', 'high', 'critical'];
  const rules = ['auth.bruteforce', 'dos.flood', 'protocol.malformed', 'scan.tool-fingerprint'];
  const cap = 25;
  const list = new BlockList({
    maxEntries: cap,
    ipv6Prefix: 64,
    sites: [SITE],
    hasReturnPath: (ip) => ip.length % 3 !== 0,
  });
  let now = T0;
  const randomIp = () => {
    switch (rnd(5)) {
      case 0:
        return `203.0.113.${rnd(256)}`;
      case 1:
        return `${rnd(256)}.${rnd(256)}.${rnd(256)}.${rnd(256)}`;
      case 2:
        return `2001:db8:${rnd(4).toString(16)}:${rnd(65536).toString(16)}::${rnd(65536).toString(16)}`;
      case 3:
        return ['127.0.0.1', '::1', '192.0.2.10', '', 'x', '1.1.1', 'fe80::1%x', '::ffff:1.2.3.4'][
          rnd(8)
        ] as string;
      default:
        return `198.51.100.${rnd(256)}`;
    }
  };
  for (let i = 0; i < 4000; i++) {
    now += rnd(600_000);
    const srcs =
      rnd(4) === 0 ? Array.from({ length: rnd(70) }, () => ({ ip: randomIp(), count: 1 })) : undefined;
    const a = alert(randomIp(), {
      id: `a${rnd(500)}`,
      rule: rules[rnd(rules.length)] as string,
      severity: severities[rnd(5)] as Severity,
      lastSeen: new Date(now - rnd(3) * 3600_000).toISOString(),
      ...(srcs === undefined ? {} : { sources: srcs }),
    });
    const d = list.consider(a, now);
    assert.ok(list.size <= cap, `size ${list.size} at step ${i}`);
    for (const s of d.sources) {
      if (s.outcome !== 'skipped') {
        assert.ok(s.entry.expiresAt > now);
        assert.ok(!['127.0.0.1', '::1', '192.0.2.10'].includes(s.entry.address));
      }
    }
    if (rnd(50) === 0) list.unblock(randomIp(), now);
    if (rnd(100) === 0) list.restore(JSON.parse(JSON.stringify(list.toJSON())), now);
  }
  const c = list.counters();
  assert.ok(c.blocked > 0 && c.refused + c.replaced > 0, JSON.stringify(c));
  assert.ok(c.sourcesIgnored > 0);
  const keys = list.list(now).map((e) => e.key);
  assert.equal(new Set(keys).size, keys.length);
  assert.ok(BLOCK_MAX_ENTRIES >= cap);
});
