import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { GeoInfo } from '../../../src/enrich/geo.js';
import { configureGeo } from '../../../src/detect/rules/geo-hosting-provider.js';
import { geoNewCountry } from '../../../src/detect/rules/geo-new-country.js';
import { DEFAULT_SITE, SiteModel } from '../../../src/detect/site.js';
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

test('the alert names the source with its country and AS number', () => {
  configureGeo(fakeGeo);
  const h = ruleHarness(geoNewCountry);
  for (let i = 0; i < 3; i++) register(h, T0 + i, '198.51.0.10', '101', '200 OK');
  register(h, T0 + 10, '198.51.4.10', '101', '200 OK');
  const [a] = h.finish();
  assert.deepEqual(a?.source, { ip: '198.51.4.10', port: 5060, transport: 'udp', country: 'US', asn: 64504 });
  assert.equal(a?.evidence.asn, 64504);
});

test('networks the site declares (trusted, SBC, PBX, trunk) are neither judged nor history', () => {
  configureGeo(fakeGeo);
  const site = new SiteModel({
    ...DEFAULT_SITE,
    trusted: ['198.51.1.0/24'],
    sbc: ['198.51.2.10'],
    pbx: ['198.51.5.1'],
    trunks: ['198.51.6.1'],
  });
  const h = ruleHarness(geoNewCountry, {}, site);
  for (let i = 0; i < 3; i++) register(h, T0 + i, '198.51.0.10', '101', '200 OK');
  // A company VPN exit in FR, an SBC in DE, the PBX in ES, a trunk in IT: the site's own networks.
  register(h, T0 + 10, '198.51.1.10', '101', '200 OK');
  register(h, T0 + 11, '198.51.2.10', '101', '200 OK');
  register(h, T0 + 12, '198.51.5.1', '101', '200 OK');
  register(h, T0 + 13, '198.51.6.1', '101', '200 OK');
  // 102's logins through the SBC build no history: its first direct login from ES is not judged.
  for (let i = 0; i < 5; i++) register(h, T0 + 20 + i, '198.51.2.10', '102', '200 OK');
  register(h, T0 + 30, '198.51.5.10', '102', '200 OK');
  // 101's next login from an undeclared FR address is new: the trusted FR network was not history.
  register(h, T0 + 40, '198.51.21.10', '101', '200 OK');
  const alerts = h.finish();
  assert.deepEqual(
    alerts.map((a) => `${a.target?.identity} ${a.evidence.country as string} ${a.source?.ip}`),
    ['101 FR 198.51.21.10'],
  );
  assert.deepEqual(alerts[0]!.evidence.knownCountries, { GB: 3 });
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
