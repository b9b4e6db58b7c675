import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { VERSION_LIST_MAX_BYTES, VERSION_LIST_MAX_ENTRIES } from '../../src/config/limits.js';
import {
  compareVersions,
  defaultVersionList,
  inRange,
  loadVersionList,
  matchVersions,
  parseRange,
  parseVersion,
  parseVersionList,
  type VersionList,
} from '../../src/detect/versions.js';

function range(expr: string) {
  const r = parseRange(expr);
  assert.ok(r.ok, `range '${expr}' parses`);
  return r.range;
}

function inR(v: string, expr: string): boolean {
  return inRange(parseVersion(v) ?? [], range(expr));
}

test('versions parse from their leading dotted digits and compare numerically', () => {
  assert.deepEqual(parseVersion('5.6.3 (x86_64/linux))'), [5, 6, 3]);
  assert.deepEqual(parseVersion('1.10.7-release~64bit'), [1, 10, 7]);
  assert.deepEqual(parseVersion('1.8.2-3-a98a958ac3~64bit'), [1, 8, 2]);
  assert.deepEqual(parseVersion('18.0.9.20'), [18, 0, 9, 20]);
  assert.deepEqual(parseVersion('v20.5.1'), [20, 5, 1]);
  assert.equal(parseVersion('certified-18.9'), undefined);
  assert.equal(parseVersion(''), undefined);
  assert.ok(compareVersions([1, 10, 7], [1, 9, 12]) > 0, '10 > 9 numerically, not as text');
  assert.equal(compareVersions([18, 12], [18, 12, 0]), 0, 'missing components are 0');
  assert.ok(compareVersions([18, 0, 2, 315], [18, 0, 2]) > 0);
  assert.ok(compareVersions([1, 6, 1, 21], [20]) < 0);
});

test('range expressions: comparators, conjunctions, alternatives, exact lists, wildcards', () => {
  assert.equal(inR('5.3.9', '<5.4.0'), true);
  assert.equal(inR('5.4.0', '<5.4.0'), false);
  assert.equal(inR('5.6.3', '<5.4.0'), false);
  const asterisk = '>=18.0.0 <18.20.1 || >=19.0.0 <20.5.1 || =21.0.0';
  assert.equal(inR('18.20.0', asterisk), true);
  assert.equal(inR('18.20.1', asterisk), false);
  assert.equal(inR('19.8.0', asterisk), true);
  assert.equal(inR('20.5.1', asterisk), false);
  assert.equal(inR('21.0.0', asterisk), true);
  assert.equal(inR('21.0.1', asterisk), false);
  assert.equal(inR('16.30.0', asterisk), false, 'series before the advisory are not claimed');
  assert.equal(inR('18.12.407', '18.12.407 || 18.12.416'), true);
  assert.equal(inR('18.12.408', '18.12.407 || 18.12.416'), false);
  assert.equal(inR('18.12.416.0', '18.12.407 || 18.12.416'), true);
  assert.equal(inR('21.10.1', '21.x'), true);
  assert.equal(inR('22.0.0', '21.x'), false);
  assert.equal(inR('18.0.7', '18.0.x'), true);
  assert.equal(inR('18.1.0', '18.0.x'), false);
  assert.equal(inR('0.0.1', '*'), true);
  assert.equal(inR('5.0.6', '<=5.0.6'), true);
  assert.equal(inR('5.0.7', '>5.0.6'), true);
  for (const bad of ['', '||', '<', '<=x', '>=1.0 <', '=1.x', '1..2', 'abc', '1.2.3-rc1', '<1.0 ||']) {
    assert.equal(parseRange(bad).ok, false, `'${bad}' is rejected`);
  }
});

const LIST = defaultVersionList();

function found(header: string, list: VersionList = LIST): string[] {
  return matchVersions(list, header).flatMap((f) => [
    `${f.entry.product} ${f.version} ${f.entry.reason}`,
    ...f.entry.ids,
  ]);
}

test('the shipped list loads, and every entry names its source, date and ids', () => {
  assert.match(LIST.updated, /^\d{4}-\d{2}-\d{2}$/);
  assert.ok(LIST.entries.length >= 10);
  const products = new Set(LIST.entries.map((e) => e.product));
  for (const p of ['3CX Phone System', '3CX Desktop App', 'Asterisk', 'FreeSWITCH', 'Kamailio', 'OpenSIPS']) {
    assert.ok(products.has(p), p);
  }
  for (const e of LIST.entries) {
    assert.match(e.source, /^https:\/\//, e.product);
    assert.match(e.checked, /^\d{4}-\d{2}-\d{2}$/);
    if (e.reason === 'cve' || e.reason === 'compromised-build')
      assert.ok(e.ids.length > 0, `${e.product} ${e.versions}`);
    assert.ok(e.summary.length > 40, `${e.product} ${e.versions} has a real summary`);
  }
});

test('3CX: the compromised desktop-app builds of CVE-2023-29059, per platform', () => {
  for (const v of ['18.12.407', '18.12.416']) {
    assert.deepEqual(found(`3CXDesktopApp/${v}`), [
      `3CX Desktop App ${v} compromised-build`,
      'CVE-2023-29059',
    ]);
    assert.deepEqual(found(`3CX Desktop App ${v} (Windows)`), [
      `3CX Desktop App ${v} compromised-build`,
      'CVE-2023-29059',
    ]);
  }
  // macOS-only builds: matched unless the header says Windows.
  for (const v of ['18.11.1213', '18.12.402']) {
    assert.deepEqual(found(`3CXDesktopApp/${v} (Macintosh; Intel Mac OS X)`), [
      `3CX Desktop App ${v} compromised-build`,
      'CVE-2023-29059',
    ]);
    assert.deepEqual(found(`3CXDesktopApp/${v} (Windows NT 10.0)`), []);
  }
  assert.deepEqual(found('3CXDesktopApp/18.12.422'), [], 'the clean rebuild is not listed');
  assert.deepEqual(found('3CXDesktopApp/18.12.425'), []);
});

test('3CX Phone System: V18 builds before the /Electron/download fixes; the lab banner 18.0.9.20 is not listed', () => {
  assert.deepEqual(found('3CXPhoneSystem 18.0.2.100 (100)'), [
    '3CX Phone System 18.0.2.100 cve',
    'CVE-2022-48482',
    '3CX Phone System 18.0.2.100 cve',
    'CVE-2022-28005',
  ]);
  assert.deepEqual(found('3CXPhoneSystem 18.0.2.315 (315)'), [
    '3CX Phone System 18.0.2.315 cve',
    'CVE-2022-28005',
  ]);
  assert.deepEqual(found('3CXPhoneSystem 18.0.7.312 (312)'), []);
  // What the 3cx-like lab PBX says: no source found claims a CVE or end of life for it.
  assert.deepEqual(found('3CXPhoneSystem 18.0.9.20 (20)'), []);
  assert.deepEqual(found('3CXPhoneSystem 20.0.9.995 (995)'), []);
  assert.deepEqual(found('3CXPhoneSystem 16.0.8.9 (9)'), [], 'older majors are not claimed without a source');
  assert.deepEqual(found('3CX'), []);
});

test('Asterisk: end-of-life series on the published schedule, and CVE ranges', () => {
  assert.deepEqual(found('Asterisk PBX 1.6.1.21'), ['Asterisk 1.6.1.21 end-of-life']);
  assert.deepEqual(found('Asterisk PBX 18.20.0'), [
    'Asterisk 18.20.0 end-of-life',
    'Asterisk 18.20.0 cve',
    'CVE-2023-49786',
  ]);
  assert.deepEqual(found('Asterisk PBX 20.8.0'), [
    'Asterisk 20.8.0 cve',
    'CVE-2024-35190',
    'Asterisk 20.8.0 cve',
    'CVE-2025-57767',
  ]);
  assert.deepEqual(found('Asterisk PBX 21.3.0'), [
    'Asterisk 21.3.0 end-of-life',
    'Asterisk 21.3.0 cve',
    'CVE-2024-35190',
    'Asterisk 21.3.0 cve',
    'CVE-2025-57767',
  ]);
  assert.deepEqual(found('Asterisk PBX 22.5.1'), ['Asterisk 22.5.1 cve', 'CVE-2025-57767']);
  assert.deepEqual(found('Asterisk PBX 22.5.2'), []);
  assert.deepEqual(found('Asterisk PBX 20.16.0'), []);
  assert.deepEqual(found('Asterisk PBX 23.0.0'), []);
  assert.deepEqual(found('Asterisk PBX certified-18.9-cert5'), [], 'certified builds are not guessed');
  assert.deepEqual(found('Asterisk PBX 18.9.10-cert5'), [], 'nor their numbers read partially');
});

test('FreeSWITCH, Kamailio, OpenSIPS: real banners from public captures and the lab', () => {
  assert.deepEqual(found('FreeSWITCH-mod_sofia/1.8.2-3-a98a958ac3~64bit'), [
    'FreeSWITCH 1.8.2 cve',
    'CVE-2021-37624',
    'FreeSWITCH 1.8.2 cve',
    'CVE-2023-51443',
  ]);
  assert.deepEqual(found('FreeSWITCH-mod_sofia/1.10.10-release~64bit'), [
    'FreeSWITCH 1.10.10 cve',
    'CVE-2023-51443',
  ]);
  assert.deepEqual(found('FreeSWITCH-mod_sofia/1.10.12-release~64bit'), []);
  assert.deepEqual(found('kamailio (5.2.1 (x86_64/linux))'), ['Kamailio 5.2.1 cve', 'CVE-2020-28361']);
  assert.deepEqual(found('kamailio (5.1.2 (x86_64/linux))'), [
    'Kamailio 5.1.2 cve',
    'CVE-2020-28361',
    'Kamailio 5.1.2 cve',
    'CVE-2018-14767',
    'CVE-2018-16657',
  ]);
  // The lab PBX. No CVE record found names 5.6.x, and Kamailio publishes no end-of-life date
  // for the 5.6 series that we could source: nothing is claimed.
  assert.deepEqual(found('kamailio (5.6.3 (x86_64/linux))'), []);
  assert.deepEqual(found('OpenSIPS (2.4.3 (x86_64/linux))'), ['OpenSIPS 2.4.3 cve', 'CVE-2023-28098']);
  assert.deepEqual(found('OpenSIPS (3.2.3 (x86_64/linux))'), ['OpenSIPS 3.2.3 cve', 'CVE-2023-28098']);
  assert.deepEqual(found('OpenSIPS (3.4.1 (x86_64/linux))'), []);
  assert.deepEqual(found('Yealink SIP-T46S 66.86.0.15'), []);
  assert.deepEqual(found('friendly-scanner'), []);
});

function listJson(entries: unknown[], updated: unknown = '2026-11-24'): string {
  return JSON.stringify({ updated, entries });
}

const GOOD = {
  product: 'Acme PBX',
  match: 'AcmePBX/(\\d+\\.\\d+\\.\\d+)',
  versions: '<2.0.0',
  reason: 'cve',
  ids: ['CVE-2099-12345'],
  summary: 'A made-up product for tests.',
  source: 'https://example.org/advisory',
  checked: '2026-11-24',
};

test('a user list is validated entry by entry, and errors name the file and the entry', () => {
  const ok = parseVersionList(
    listJson([
      GOOD,
      { ...GOOD, match: 'Acme(?<version>\\d+\\.\\d+)', versions: '1.x', reason: 'end-of-life', ids: [] },
    ]),
    'mine.json',
  );
  assert.ok(ok.ok);
  assert.equal(ok.list.entries.length, 2);
  assert.deepEqual(
    matchVersions(ok.list, 'AcmePBX/1.9.9 Acme1.5').map((f) => `${f.entry.reason} ${f.version}`),
    ['cve 1.9.9', 'end-of-life 1.5'],
  );
  const bad: [string, string][] = [
    ['{', 'mine.json: not JSON'],
    ['[]', "mine.json: expected an object with 'updated' and 'entries'"],
    [listJson([GOOD], '24.11.2026'), "mine.json: 'updated' must be a date YYYY-MM-DD"],
    [JSON.stringify({ updated: '2026-11-24', entries: {} }), "mine.json: 'entries' must be an array"],
    [listJson([GOOD, { ...GOOD, match: 'Acme(' }]), "mine.json: entries[1]: 'match' does not compile"],
    [listJson([{ ...GOOD, match: 'AcmePBX/\\d+' }]), "mine.json: entries[0]: 'match' needs a capture group"],
    [listJson([{ ...GOOD, versions: '<<2' }]), "mine.json: entries[0]: 'versions': bad term '<<2'"],
    [listJson([{ ...GOOD, reason: 'bad' }]), "mine.json: entries[0]: 'reason' must be one of"],
    [listJson([{ ...GOOD, ids: [] }]), "mine.json: entries[0]: a 'cve' entry names at least one id"],
    [listJson([{ ...GOOD, ids: ['CVE-1'] }]), "mine.json: entries[0]: 'ids' must be an array"],
    [
      listJson([{ ...GOOD, source: 'example.org' }]),
      "mine.json: entries[0]: 'source' must be an http(s) URL",
    ],
    [listJson([{ ...GOOD, checked: 'yesterday' }]), "mine.json: entries[0]: 'checked' must be a date"],
    [listJson([{ ...GOOD, product: ' ' }]), "mine.json: entries[0]: 'product' must be a non-empty string"],
    [
      listJson([{ ...GOOD, match: 'x'.repeat(600) }]),
      "mine.json: entries[0]: 'match' must be a regular expression",
    ],
    [listJson([7]), 'mine.json: entries[0]: expected an object'],
    [
      listJson(Array.from({ length: VERSION_LIST_MAX_ENTRIES + 1 }, () => GOOD)),
      `mine.json: ${VERSION_LIST_MAX_ENTRIES + 1} entries`,
    ],
  ];
  for (const [text, prefix] of bad) {
    const r = parseVersionList(text, 'mine.json');
    assert.equal(r.ok, false, prefix);
    if (!r.ok) assert.ok(r.error.startsWith(prefix), `${r.error} starts with ${prefix}`);
  }
});

test('loadVersionList reads a file the user points at, bounded in size', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sipwarden-versions-'));
  const path = join(dir, 'newer.json');
  writeFileSync(path, listJson([GOOD]));
  const r = loadVersionList(path);
  assert.ok(r.ok);
  assert.equal(r.list.origin, path);
  assert.equal(r.list.entries[0]?.product, 'Acme PBX');
  const missing = loadVersionList(join(dir, 'absent.json'));
  assert.ok(!missing.ok && missing.error.includes('absent.json: cannot read'));
  const big = join(dir, 'big.json');
  writeFileSync(big, Buffer.alloc(VERSION_LIST_MAX_BYTES + 1, 0x20));
  const tooBig = loadVersionList(big);
  assert.ok(!tooBig.ok && tooBig.error.includes('a version list may be at most'));
});

test('fuzz: random headers and range strings never throw, and long headers cost little', () => {
  let seed = 99;
  const rnd = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % n;
  };
  const pieces = [
    'Asterisk PBX ',
    'kamailio (',
    'FreeSWITCH-mod_sofia/',
    '3CXPhoneSystem ',
    '3CXDesktopApp/',
    'OpenSIPS (',
    '1',
    '.',
    '2',
    '0',
    ' ',
    '(',
    ')',
    '-cert',
    'win',
    '\u0000',
    'é',
    '||',
    '<',
    '>=',
    'x',
  ];
  for (let i = 0; i < 20_000; i++) {
    let s = '';
    const n = rnd(12);
    for (let j = 0; j < n; j++) s += pieces[rnd(pieces.length)];
    const f = matchVersions(LIST, s);
    assert.ok(Array.isArray(f));
    const r = parseRange(s);
    assert.equal(typeof r.ok, 'boolean');
  }
  const long = `${'Asterisk PBX 1.'.repeat(20_000)}x`;
  const t = performance.now();
  for (let i = 0; i < 100; i++) matchVersions(LIST, long);
  assert.ok(performance.now() - t < 1000, 'headers are cut before matching');
});
