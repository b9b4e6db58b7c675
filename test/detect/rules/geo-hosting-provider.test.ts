import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { GeoInfo } from '../../../src/enrich/geo.js';
import {
  configureGeo,
  geoDatabaseOpens,
  geoHostingProvider,
  geoLookup,
  networkOf,
} from '../../../src/detect/rules/geo-hosting-provider.js';
import { DEFAULT_SITE, SiteModel } from '../../../src/detect/site.js';
import { ruleHarness } from '../../helpers/rule-harness.js';
import { register, T0 } from '../../helpers/call-traffic.js';

/** Test geography: 203.0.113.0/24 and 2001:db8:1::/48 are a cloud (AS64500), the rest an ISP. */
function fakeGeo(ip: string): GeoInfo {
  if (ip.startsWith('203.0.113.') || ip.startsWith('2001:db8:1:'))
    return { country: 'NL', asn: 64500, asnName: 'Cloud BV', hosting: true };
  if (ip.startsWith('192.168.')) return { class: 'private' };
  return { country: 'GB', asn: 64501, asnName: 'Home ISP', hosting: false };
}

test('networkOf groups IPv4 by /24 and IPv6 by /64', () => {
  assert.equal(networkOf('203.0.113.77'), '203.0.113.0/24');
  assert.equal(networkOf('2001:db8:1:2::5'), '2001:db8:1:2::/64');
});

test('logins from a hosting network: one alert per (network, identity) and day', () => {
  configureGeo(fakeGeo);
  const h = ruleHarness(geoHostingProvider);
  const f = register(h, T0, '203.0.113.7', '101', '401 Unauthorized');
  register(h, T0 + 1000, '203.0.113.8', '101', '403 Forbidden');
  register(h, T0 + 2000, '203.0.113.9', '101', '200 OK');
  register(h, T0 + 3000, '203.0.113.9', '102', '401 Unauthorized');
  register(h, T0 + 90_000_000, '203.0.113.9', '101', '200 OK');
  const alerts = h.finish();
  assert.equal(alerts.length, 3, '101 on day one, 102, 101 on day two');
  const first = alerts.find((a) => a.target?.identity === '101' && a.count === 3)!;
  assert.equal(first.rule, 'geo.hosting-provider');
  assert.equal(first.severity, 'medium');
  assert.equal(first.title, 'Authentication as 101 from hosting network AS64500 (Cloud BV)');
  assert.equal(first.evidence.network, '203.0.113.0/24');
  assert.deepEqual(first.evidence.outcomes, { rejected: 2, accepted: 1 });
  assert.deepEqual(first.evidence.sources, ['203.0.113.7', '203.0.113.8', '203.0.113.9']);
  assert.deepEqual(first.evidence.userAgents, ['Yealink SIP-T46S']);
  assert.equal((first.evidence.frames as number[])[0], f);
});

test('access networks, requests without credentials, trusted and private sources are not reported', () => {
  configureGeo(fakeGeo);
  const h = ruleHarness(
    geoHostingProvider,
    {},
    new SiteModel({ ...DEFAULT_SITE, trusted: ['203.0.113.50'] }),
  );
  register(h, T0, '81.2.69.142', '101', '200 OK');
  register(h, T0 + 1, '203.0.113.7', '101', '401 Unauthorized', '');
  register(h, T0 + 2, '203.0.113.50', '101', '200 OK');
  register(h, T0 + 3, '192.168.1.20', '101', '200 OK');
  assert.deepEqual(h.finish(), []);
});

test('the bundled databases load lazily once and know a cloud resolver', () => {
  configureGeo({});
  const h = ruleHarness(geoHostingProvider);
  register(h, T0, '8.8.8.8', '101', '401 Unauthorized');
  const alerts = h.finish();
  assert.equal(alerts.length, 1);
  assert.equal(alerts[0]!.evidence.asn, 15169);
  assert.equal(alerts[0]!.evidence.country, 'US');
  configureGeo(fakeGeo);
});

test('the source carries its country and AS number', () => {
  configureGeo(fakeGeo);
  const h = ruleHarness(geoHostingProvider);
  register(h, T0, '203.0.113.7', '101', '401 Unauthorized');
  const [a] = h.finish();
  assert.deepEqual(a?.source, { ip: '203.0.113.7', port: 5060, transport: 'udp', country: 'NL', asn: 64500 });
});

test('an SBC or tunnel the site declares relays its phones: not reported, whatever network it is in', () => {
  configureGeo(fakeGeo);
  const site = new SiteModel({ ...DEFAULT_SITE, sbc: ['203.0.113.200'], pbx: ['203.0.113.1'] });
  const h = ruleHarness(geoHostingProvider, {}, site);
  register(h, T0, '203.0.113.200', '101', '200 OK');
  register(h, T0 + 1000, '203.0.113.200', '102', '401 Unauthorized');
  register(h, T0 + 2000, '203.0.113.1', '103', '200 OK');
  register(h, T0 + 3000, '203.0.113.201', '104', '200 OK');
  const alerts = h.finish();
  assert.deepEqual(
    alerts.map((a) => a.source?.ip),
    ['203.0.113.201'],
    'only the undeclared neighbour in the same cloud network is reported',
  );
});

test('the databases open once for one configuration, again for another', () => {
  configureGeo({});
  assert.equal(geoLookup('8.8.8.8').hosting, true);
  const opens = geoDatabaseOpens();
  configureGeo(fakeGeo);
  configureGeo({});
  assert.equal(geoLookup('8.8.8.8').asn, 15169);
  assert.equal(geoDatabaseOpens(), opens, 'the same configuration keeps the open databases');
  configureGeo({ notHostingAsns: [15169] });
  assert.equal(geoLookup('8.8.8.8').hosting, false);
  assert.equal(geoDatabaseOpens(), opens + 1);
  configureGeo(fakeGeo);
});

test('fuzz: random identities and outcomes never throw; alerts stay per (network, identity)', () => {
  configureGeo(fakeGeo);
  const h = ruleHarness(geoHostingProvider);
  let state = 23;
  const rnd = (): number => (state = (state * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const answers = ['200 OK', '401 Unauthorized', '403 Forbidden', '500 Server Error'];
  for (let i = 0; i < 300; i++) {
    const src =
      rnd() < 0.5 ? `203.0.113.${Math.floor(rnd() * 255)}` : `198.51.100.${Math.floor(rnd() * 255)}`;
    assert.doesNotThrow(() =>
      register(h, T0 + i * 100, src, `u${i % 7}`, answers[Math.floor(rnd() * answers.length)]!),
    );
  }
  const alerts = h.finish();
  assert.ok(alerts.length <= 7, `${alerts.length}`);
});
