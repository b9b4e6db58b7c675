import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fraudCallVolume } from '../../../src/detect/rules/fraud-call-volume.js';
import { DEFAULT_SITE, SiteModel } from '../../../src/detect/site.js';
import { ruleHarness } from '../../helpers/rule-harness.js';
import { call, PBX, PHONE, T0, TRUNK } from '../../helpers/call-traffic.js';

const site = new SiteModel({ ...DEFAULT_SITE, pbx: [PBX], trunks: [TRUNK] });

test('sixty authenticated calls within an hour from one extension are high', () => {
  const h = ruleHarness(fraudCallVolume, {}, site);
  for (let i = 0; i < 61; i++)
    call(h, T0 + i * 30_000, PHONE, PBX, `+3314268${1000 + i}`, ['180 Ringing', '200 OK'], { auth: '101' });
  const alerts = h.finish();
  assert.equal(alerts.length, 2, 'per extension and per source');
  const ext = alerts.find((a) => a.evidence.group === 'extension 101')!;
  assert.equal(ext.rule, 'fraud.call-volume');
  assert.equal(ext.severity, 'high');
  assert.equal(ext.count, 61);
  assert.equal(ext.evidence.cap, 60);
  assert.deepEqual(ext.evidence.outcomes, { accepted: 61 });
  assert.equal(
    h.revisions[0]?.raisedAt,
    new Date(T0 + 59 * 30_000 + 20).toISOString(),
    'raised at the 60th call',
  );
});

test('challenged INVITEs and a normal day stay silent', () => {
  const h = ruleHarness(fraudCallVolume, {}, site);
  for (let i = 0; i < 100; i++) {
    call(h, T0 + i * 120_000, PHONE, PBX, `+3314268${1000 + i}`, ['407 Proxy Authentication Required']);
    call(h, T0 + i * 120_000 + 50, PHONE, PBX, `+3314268${1000 + i}`, ['200 OK'], { auth: '101' });
  }
  assert.deepEqual(h.finish(), [], '30 calls an hour is under the cap');
});

test('unauthenticated calls count per source; the PBX counts per trunk only', () => {
  const h = ruleHarness(
    fraudCallVolume,
    { 'fraud.call-volume': { thresholds: { callsPerHour: 5, trunkCallsPerHour: 8 } } },
    site,
  );
  for (let i = 0; i < 5; i++)
    call(h, T0 + i, '203.0.113.99', PBX, `+3314268${1000 + i}`, ['180 Ringing', '200 OK']);
  for (let i = 0; i < 8; i++)
    call(h, T0 + 100 + i, PBX, TRUNK, `+3314268${2000 + i}`, ['200 OK'], { auth: 'trunkuser' });
  const alerts = h.finish();
  const groups = alerts.map((a) => a.evidence.group).sort();
  assert.deepEqual(groups, ['source 203.0.113.99', `trunk ${TRUNK}`]);
});

test('the hour slides: calls spread over two hours at half the cap are not reported', () => {
  const h = ruleHarness(fraudCallVolume, { 'fraud.call-volume': { thresholds: { callsPerHour: 10 } } }, site);
  for (let i = 0; i < 12; i++)
    call(h, T0 + i * 600_000, PHONE, PBX, `+3314268${1000 + i}`, ['200 OK'], { auth: '101' });
  assert.deepEqual(h.finish(), []);
});

test('fuzz: random outcomes never throw and alerts stay per group', () => {
  const h = ruleHarness(fraudCallVolume, { 'fraud.call-volume': { thresholds: { callsPerHour: 20 } } }, site);
  let state = 17;
  const rnd = (): number => (state = (state * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const answers = ['200 OK', '486 Busy Here', '401 Unauthorized', '503 Service Unavailable', '180 Ringing'];
  for (let i = 0; i < 300; i++) {
    const src = `203.0.113.${i % 3}`;
    assert.doesNotThrow(() =>
      call(
        h,
        T0 + i * 1000,
        src,
        PBX,
        String(Math.floor(rnd() * 1e9)),
        [answers[Math.floor(rnd() * answers.length)]!],
        rnd() < 0.5 ? { auth: `u${i % 2}` } : {},
      ),
    );
  }
  const alerts = h.finish();
  assert.ok(alerts.length <= 5, `${alerts.length}`);
});
