import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { GeoInfo } from '../../../src/enrich/geo.js';
import { configureGeo } from '../../../src/detect/rules/geo-hosting-provider.js';
import { geoNewCountry } from '../../../src/detect/rules/geo-new-country.js';
import { ruleHarness } from '../../helpers/rule-harness.js';
import { register, T0 } from '../../helpers/call-traffic.js';

/** Test geography: the third octet of 198.51.x.y picks the country. */
const COUNTRIES = [
  'GB',
  'FR',
  'DE',
  'NG',
  'US',
  'ES',
  'IT',
  'NL',
  'BE',
  'CH',
  'AT',
  'PL',
  'SE',
  'NO',
  'DK',
  'FI',
  'IE',
  'PT',
  'GR',
  'CZ',
];
function fakeGeo(ip: string): GeoInfo {
  if (ip.startsWith('192.168.')) return { class: 'private' };
  const n = Number(ip.split('.')[2]);
  return { country: COUNTRIES[n % COUNTRIES.length]!, asn: 64500 + n, hosting: false };
}

test('an accepted login from a new country after three from home is medium', () => {
  configureGeo(fakeGeo);
  const h = ruleHarness(geoNewCountry);
  for (let i = 0; i < 3; i++) register(h, T0 + i * 60_000, '198.51.0.10', '101', '200 OK');
  const f = register(h, T0 + 600_000, '198.51.3.10', '101', '200 OK');
  register(h, T0 + 660_000, '198.51.3.11', '101', '200 OK');
  const alerts = h.finish();
  assert.equal(alerts.length, 1);
  const a = alerts[0]!;
  assert.equal(a.rule, 'geo.new-country');
  assert.equal(a.severity, 'medium');
  assert.equal(a.title, '101 logged in from NG, never seen before');
  assert.deepEqual(a.evidence.knownCountries, { GB: 3 });
  assert.equal(a.evidence.acceptedLogins, 3);
  assert.deepEqual(a.evidence.frames, [f]);
});

test('no history yet, rejected logins, private addresses and known countries are not reported', () => {
  configureGeo(fakeGeo);
  const h = ruleHarness(geoNewCountry);
  register(h, T0, '198.51.0.10', '101', '200 OK');
  register(h, T0 + 1, '198.51.1.10', '101', '200 OK');
  register(h, T0 + 2, '198.51.2.10', '101', '200 OK');
  for (let i = 0; i < 5; i++) register(h, T0 + 10 + i, '198.51.0.10', '102', '200 OK');
  register(h, T0 + 20, '198.51.3.10', '102', '401 Unauthorized');
  register(h, T0 + 21, '198.51.3.10', '102', '403 Forbidden');
  register(h, T0 + 22, '192.168.1.5', '102', '200 OK');
  register(h, T0 + 23, '198.51.20.10', '102', '200 OK');
  assert.deepEqual(
    h.finish(),
    [],
    '198.51.20 is GB again, 101 never had three logins before each new country',
  );
});

test('each identity remembers a bounded set of countries', () => {
  configureGeo(fakeGeo);
  const h = ruleHarness(geoNewCountry);
  for (let i = 0; i < 3; i++) register(h, T0 + i, '198.51.0.10', '101', '200 OK');
  for (let c = 1; c < 20; c++) register(h, T0 + 100 + c, `198.51.${c}.10`, '101', '200 OK');
  const alerts = h.finish();
  assert.equal(alerts.length, 19);
  const last = alerts.find((a) => a.evidence.country === 'CZ')!;
  assert.ok(Object.keys(last.evidence.knownCountries as object).length <= 16);
  assert.ok((last.evidence.forgottenCountries as number) >= 3);
});

test('fuzz: random countries and outcomes never throw', () => {
  configureGeo(fakeGeo);
  const h = ruleHarness(geoNewCountry);
  let state = 31;
  const rnd = (): number => (state = (state * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  for (let i = 0; i < 300; i++) {
    const src = `198.51.${Math.floor(rnd() * 40)}.${Math.floor(rnd() * 255)}`;
    assert.doesNotThrow(() =>
      register(h, T0 + i * 100, src, `u${i % 5}`, rnd() < 0.8 ? '200 OK' : '401 Unauthorized'),
    );
  }
  const alerts = h.finish();
  for (const a of alerts) assert.equal(a.rule, 'geo.new-country');
  assert.ok(alerts.length <= 5 * 20);
});
