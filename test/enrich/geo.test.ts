import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ENRICH_GEO_CACHE_ENTRIES } from '../../src/config/limits.js';
import { classifyAddress } from '../../src/detect/net.js';
import { addressClass, GeoConfigSchema, openGeo } from '../../src/enrich/geo.js';

const geo = openGeo();

test('well-known public addresses: country, ASN, hosting', () => {
  assert.deepEqual(geo.lookup('8.8.8.8'), {
    country: 'US',
    asn: 15169,
    asnName: 'Google LLC',
    hosting: true,
  });
  const cf = geo.lookup('1.1.1.1');
  assert.equal(cf.asn, 13335);
  assert.equal(typeof cf.country, 'string');
  assert.equal(geo.lookup('5.9.0.1').hosting, true); // Hetzner, AS24940
  const v6 = geo.lookup('2001:4860:4860::8888');
  assert.equal(v6.country, 'US');
  assert.equal(v6.asn, 15169);
  assert.equal(geo.lookup('2606:4700:4700::1111').asn, 13335);
  assert.deepEqual(geo.lookup('::ffff:8.8.8.8'), geo.lookup('8.8.8.8'));
});

test('special-purpose addresses get a class, not a country', () => {
  const cases: [string, string][] = [
    ['10.1.2.3', 'private'],
    ['172.20.0.1', 'private'],
    ['192.168.1.10', 'private'],
    ['127.0.0.1', 'loopback'],
    ['::1', 'loopback'],
    ['169.254.10.1', 'link-local'],
    ['fe80::1', 'link-local'],
    ['100.64.0.1', 'cgnat'],
    ['192.0.2.7', 'documentation'],
    ['203.0.113.9', 'documentation'],
    ['2001:db8::5', 'documentation'],
    ['fd00::1', 'private'],
    ['224.0.0.1', 'multicast'],
  ];
  for (const [ip, cls] of cases) assert.deepEqual(geo.lookup(ip), { class: cls }, ip);
  assert.equal(addressClass('8.8.8.8'), undefined);
});

test('garbage is invalid, never a throw', () => {
  for (const s of ['garbage', '', '1.2.3', '999.1.1.1', '::ffff:zz', 'x'.repeat(10_000), '8.8.8.8 ']) {
    const r = geo.lookup(s);
    assert.ok(r.class === 'invalid' || r.country !== undefined, s.slice(0, 20));
  }
  assert.deepEqual(geo.lookup(undefined as unknown as string), { class: 'invalid' });
});

test('database dates and sources are exposed', () => {
  const info = geo.databaseInfo();
  const kinds = info.map((i) => i.kind);
  assert.deepEqual(kinds, ['country', 'asn', 'asn6', 'hosting']);
  for (const i of info) {
    assert.equal(typeof i.builtAt, 'number', i.kind);
    assert.ok((i.builtAt ?? 0) > Date.UTC(2024, 0, 1), i.kind);
  }
  assert.match(info[0]?.package ?? '', /^@ip-location-db\/geo-whois-asn-country-mmdb@/);
  assert.equal(info[0]?.builtFrom, 'mmdb-build-epoch');
  assert.ok((info[1]?.entries ?? 0) > 100_000);
  assert.ok((info[3]?.entries ?? 0) > 500);
});

test('the cache is bounded and evicts the least recently used', () => {
  const g = openGeo({ asnDb: writeAsn(), asnDb6: writeAsn() });
  for (let i = 0; i < ENRICH_GEO_CACHE_ENTRIES + 50; i++)
    g.lookup(`11.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
  const s = g.stats();
  assert.equal(s.size, ENRICH_GEO_CACHE_ENTRIES);
  assert.equal(s.evictions, 50);
  g.lookup('11.0.0.1');
  assert.equal(g.stats().hits, 0); // 11.0.0.1 was evicted first
});

const dir = mkdtempSync(join(tmpdir(), 'sipwarden-geo-'));
function writeAsn(): string {
  const p = join(dir, 'asn.csv');
  writeFileSync(p, '16777216,16777471,13335,"Cloudflare, Inc."\n134744064,134744319,15169,Google LLC\n');
  return p;
}

test('configured databases and hosting overrides', () => {
  const g = openGeo({ asnDb: writeAsn(), notHostingAsns: [15169], extraHostingAsns: [13335] });
  assert.deepEqual(g.lookup('8.8.8.8'), { country: 'US', asn: 15169, asnName: 'Google LLC', hosting: false });
  assert.equal(g.lookup('1.0.0.1').hosting, true);
  assert.equal(g.lookup('9.9.9.9').asn, undefined);
  assert.equal(g.databaseInfo()[1]?.builtFrom, 'file-mtime');
  const bad = join(dir, 'bad.csv');
  writeFileSync(bad, '5,4,x,y\n');
  assert.throws(() => openGeo({ asnDb: bad }), /bad\.csv: line 1: bad AS number/);
  const unsorted = join(dir, 'unsorted.csv');
  writeFileSync(unsorted, '20,30,1,a\n10,15,2,b\n');
  assert.throws(() => openGeo({ asnDb: unsorted }), /unsorted\.csv: line 2: ranges are not sorted/);
  assert.throws(() => openGeo({ countryDb: bad }), /bad\.csv: not a MaxMind DB/);
  assert.equal(GeoConfigSchema.safeParse({ countryDb: 'x', typo: 1 }).success, false);
});

test('fuzz: random address-like strings never throw', () => {
  const alphabet = '0123456789abcdef:.%xffABCDEF ';
  let seed = 11;
  const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
  for (let i = 0; i < 5_000; i++) {
    let s = '';
    const len = Math.floor(rnd() * 45);
    for (let j = 0; j < len; j++) s += alphabet[Math.floor(rnd() * alphabet.length)] ?? '';
    const r = geo.lookup(s);
    assert.equal(typeof r, 'object');
  }
  assert.ok(geo.stats().size <= ENRICH_GEO_CACHE_ENTRIES);
});

test("geo's address class is the detectors' classification (detect/net.ts), public aside", () => {
  const cases: [string, string | undefined][] = [
    ['8.8.8.8', undefined],
    ['100.127.255.255', 'cgnat'],
    ['100.128.0.0', undefined],
    ['198.19.255.255', 'reserved'],
    ['::ffff:10.0.0.1', 'private'],
    ['64:ff9b:1::5', 'private'],
    ['fec0::1', 'private'],
    ['fe80::1%eth0', 'link-local'],
    ['2001:4860::8888', undefined],
    ['garbage', 'invalid'],
  ];
  for (const [ip, cls] of cases) {
    assert.equal(addressClass(ip), cls, ip);
    const kind = classifyAddress(ip);
    assert.equal(addressClass(ip), kind === 'public' ? undefined : kind, ip);
  }
});
