import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { EnrichDataError } from '../../src/enrich/data-files.js';
import { defaultRiskList, loadRiskList, RiskList, type RiskEntry } from '../../src/enrich/risk-list.js';

const dir = mkdtempSync(join(tmpdir(), 'sipwarden-risk-'));
const write = (name: string, body: unknown): string => {
  const p = join(dir, name);
  writeFileSync(p, typeof body === 'string' ? body : JSON.stringify(body));
  return p;
};
const entry = (prefix: string, extra: Partial<RiskEntry> = {}): RiskEntry => ({
  prefix,
  network: 'test',
  category: 'satellite',
  risk: 'high',
  why: 'test',
  sources: ['a test'],
  ...extra,
});

test('the bundled list loads, every entry has a source', () => {
  const list = defaultRiskList();
  assert.ok(list.size >= 10);
  assert.equal(list.updated, '2026-11-24');
  assert.equal(list.match('+881612345678')?.network.startsWith('Global Mobile Satellite'), true);
  assert.equal(list.match('5312345678')?.country, 'CU');
  assert.equal(list.match('+442079460958'), undefined);
});

test('longest prefix wins', () => {
  const list = new RiskList(
    [entry('1'), entry('1809', { network: 'DO' }), entry('18'), entry('88216')],
    'mem',
  );
  assert.equal(list.match('+18095551234')?.network, 'DO');
  assert.equal(list.match('18195551234')?.prefix, '18');
  assert.equal(list.match('12025550123')?.prefix, '1');
  assert.equal(list.match('+88216123456')?.prefix, '88216');
  assert.equal(list.match('+88234'), undefined);
  assert.equal(list.match(''), undefined);
});

test('a bad file is refused with the file and the entry named', () => {
  const good = { version: 1, updated: '2026-01-01', entries: [entry('870')] };
  assert.equal(loadRiskList(write('good.json', good)).size, 1);
  const noSource = write('nosource.json', {
    ...good,
    entries: [entry('870'), { ...entry('881'), sources: [] }],
  });
  assert.throws(
    () => loadRiskList(noSource),
    (e: unknown) => {
      assert.ok(e instanceof EnrichDataError);
      assert.match(e.message, /nosource\.json: entries\[1\] \(prefix 881\)\.sources/);
      return true;
    },
  );
  const plus = write('plus.json', { ...good, entries: [entry('+870')] });
  assert.throws(() => loadRiskList(plus), /plus\.json: entries\[0\] \(prefix \+870\)\.prefix/);
  const dup = write('dup.json', { ...good, entries: [entry('870'), entry('870')] });
  assert.throws(() => loadRiskList(dup), /dup\.json: entries\[1\] \(prefix 870\): duplicate prefix/);
  assert.throws(() => loadRiskList(write('syntax.json', '{')), /syntax\.json: not valid JSON/);
  assert.throws(() => loadRiskList(join(dir, 'missing.json')), /missing\.json: cannot read/);
  assert.throws(() => loadRiskList(write('v2.json', { ...good, version: 2 })), /v2\.json: version/);
});
