import assert from 'node:assert/strict';
import { test } from 'node:test';
import { configureGeo } from '../../../src/detect/rules/geo-hosting-provider.js';
import { sessionMediaRedirect } from '../../../src/detect/rules/session-media-redirect.js';
import { DEFAULT_SITE, SiteModel } from '../../../src/detect/site.js';
import { ruleHarness } from '../../helpers/rule-harness.js';
import { inDialog, mediaCall, PBX, PHONE, sdpAt, T0, TRUNK } from '../../helpers/call-traffic.js';

const site = new SiteModel({ ...DEFAULT_SITE, pbx: [PBX], trunks: [TRUNK] });
const SINK = '192.0.2.99';
configureGeo(() => ({}));

test('an accepted re-INVITE moving the phone media to another /24 is high', () => {
  const h = ruleHarness(sessionMediaRedirect, {}, site);
  const inv = mediaCall(h, T0, PHONE, PBX, PHONE, PBX);
  inDialog(h, T0 + 5000, PHONE, PBX, inv, 'INVITE', {
    status: '200 OK',
    sdp: sdpAt(SINK),
    answerSdp: sdpAt(PBX),
  });
  const alerts = h.finish();
  assert.equal(alerts.length, 1);
  const a = alerts[0]!;
  assert.equal(a.rule, 'session.media-redirect');
  assert.equal(a.severity, 'high');
  assert.equal(a.evidence.from, PHONE);
  assert.equal(a.evidence.to, SINK);
  assert.equal(a.evidence.side, 'caller');
  assert.equal(a.evidence.change, 'network 203.0.113.0/24 → 192.0.2.0/24');
});

test('a country change is named when the geography databases know both addresses', () => {
  configureGeo((ip) => (ip === SINK ? { country: 'RU', asn: 1 } : { country: 'FR', asn: 2 }));
  const h = ruleHarness(sessionMediaRedirect, {}, site);
  const inv = mediaCall(h, T0, PHONE, PBX, PHONE, PBX);
  inDialog(h, T0 + 5000, PHONE, PBX, inv, 'UPDATE', { status: '200 OK', sdp: sdpAt(SINK) });
  const alerts = h.finish();
  assert.equal(alerts[0]?.evidence.change, 'country FR → RU');
  configureGeo(() => ({}));
});

test('same country and AS on both sides is no redirect', () => {
  configureGeo(() => ({ country: 'FR', asn: 2 }));
  const h = ruleHarness(sessionMediaRedirect, {}, site);
  const inv = mediaCall(h, T0, PHONE, PBX, PHONE, PBX);
  inDialog(h, T0 + 5000, PHONE, PBX, inv, 'INVITE', { status: '200 OK', sdp: sdpAt(SINK) });
  assert.deepEqual(h.finish(), []);
  configureGeo(() => ({}));
});

test('hold, resume, same network, rejected moves, transfers and trunk re-anchoring are silent', () => {
  const h = ruleHarness(sessionMediaRedirect, {}, site);
  const inv = mediaCall(h, T0, PHONE, PBX, PHONE, PBX);
  inDialog(h, T0 + 1000, PHONE, PBX, inv, 'INVITE', { status: '200 OK', sdp: sdpAt('0.0.0.0') });
  inDialog(h, T0 + 2000, PHONE, PBX, inv, 'INVITE', { status: '200 OK', sdp: sdpAt(SINK, 'sendonly') });
  inDialog(h, T0 + 3000, PHONE, PBX, inv, 'INVITE', { status: '200 OK', sdp: sdpAt(PHONE) });
  inDialog(h, T0 + 4000, PHONE, PBX, inv, 'INVITE', { status: '200 OK', sdp: sdpAt('203.0.113.77') });
  inDialog(h, T0 + 5000, PHONE, PBX, inv, 'INVITE', { status: '488 Not Acceptable Here', sdp: sdpAt(SINK) });
  inDialog(h, T0 + 6000, PHONE, PBX, inv, 'INVITE', { status: '200 OK', sdp: sdpAt('10.1.2.3') });
  // The PBX re-anchors the other side's media.
  inDialog(h, T0 + 7000, PBX, PHONE, inv, 'INVITE', {
    status: '200 OK',
    sdp: sdpAt('192.0.2.5'),
    fromCaller: false,
  });
  // A transfer: REFER then a re-INVITE to the new party's media.
  const t2 = mediaCall(h, T0 + 10_000, PHONE, PBX, PHONE, PBX);
  inDialog(h, T0 + 11_000, PHONE, PBX, t2, 'REFER', { status: '202 Accepted' });
  inDialog(h, T0 + 12_000, PHONE, PBX, t2, 'INVITE', { status: '200 OK', sdp: sdpAt(SINK) });
  const t3 = mediaCall(h, T0 + 20_000, PHONE, PBX, PHONE, PBX);
  inDialog(h, T0 + 21_000, PHONE, PBX, t3, 'INVITE', {
    status: '200 OK',
    sdp: sdpAt(SINK),
    extra: ['Referred-By: <sip:103@pbx.example>'],
  });
  const t4 = mediaCall(h, T0 + 30_000, TRUNK, PBX, TRUNK, PBX);
  inDialog(h, T0 + 31_000, TRUNK, PBX, t4, 'INVITE', { status: '200 OK', sdp: sdpAt(SINK) });
  assert.deepEqual(h.finish(), []);
});

test('fuzz: random SDP bodies and re-INVITEs never throw, alerts move to external networks only', () => {
  const h = ruleHarness(sessionMediaRedirect, {}, site);
  let state = 11;
  const rnd = (): number => (state = (state * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const addrs = [PHONE, SINK, '0.0.0.0', '10.0.0.1', '2001:db8::5', '::', 'not-an-ip', '203.0.113.9'];
  const calls = [mediaCall(h, T0, PHONE, PBX, PHONE, PBX)];
  for (let i = 0; i < 300; i++) {
    if (rnd() < 0.1) calls.push(mediaCall(h, T0 + i * 100, PHONE, PBX, PHONE, PBX));
    const inv = calls[Math.floor(rnd() * calls.length)]!;
    const junk = Buffer.from(Array.from({ length: 40 }, () => 32 + Math.floor(rnd() * 90))).toString(
      'latin1',
    );
    const sdp =
      rnd() < 0.2
        ? junk
        : sdpAt(addrs[Math.floor(rnd() * addrs.length)]!, rnd() < 0.2 ? 'inactive' : undefined);
    assert.doesNotThrow(() =>
      inDialog(h, T0 + i * 100 + 1, PHONE, PBX, inv, rnd() < 0.5 ? 'INVITE' : 'UPDATE', {
        status: rnd() < 0.8 ? '200 OK' : '488 Not Acceptable Here',
        sdp,
      }),
    );
  }
  for (const a of h.finish())
    assert.ok([PHONE, SINK, '2001:db8::5', '203.0.113.9'].includes(a.evidence.to as string));
});

test('a re-INVITE a proxy passes on is one move, reported with its first sender, not the proxy', () => {
  // The site model does not name the PBX: its copy of the outsider's re-INVITE must not be blamed.
  const h = ruleHarness(sessionMediaRedirect, {}, new SiteModel());
  const inv = mediaCall(h, T0, PHONE, PBX, PHONE, PBX);
  const OUTSIDER = '192.0.2.66';
  const CALLEE = '203.0.113.30';
  const sdp = sdpAt(SINK);
  const length = Buffer.byteLength(sdp.replace(/\n/g, '\r\n'), 'latin1');
  const common = [
    `From: <sip:101@${inv.to}>;tag=${inv.fromTag}`,
    `To: <sip:${inv.user}@${inv.to}>;tag=x1`,
    `Call-ID: ${inv.callId}`,
    'CSeq: 77 INVITE',
  ];
  const viaOutsider = `Via: SIP/2.0/UDP ${OUTSIDER}:5060;branch=z9hG4bK-out1`;
  const viaPbx = `Via: SIP/2.0/UDP ${PBX}:5060;branch=z9hG4bK-relay1`;
  const request = (vias: string[]): string =>
    [
      `INVITE sip:202@${CALLEE} SIP/2.0`,
      ...vias,
      ...common,
      'Content-Type: application/sdp',
      `Content-Length: ${length}`,
      '',
      sdp,
    ].join('\n');
  const ok = (vias: string[]): string =>
    ['SIP/2.0 200 OK', ...vias, ...common, 'Content-Length: 0', '', ''].join('\n');
  const first = h.send(T0 + 5000, OUTSIDER, PBX, request([viaOutsider]));
  h.send(T0 + 5001, PBX, CALLEE, request([viaPbx, viaOutsider]));
  h.send(T0 + 5010, CALLEE, PBX, ok([viaPbx, viaOutsider]));
  const answer = h.send(T0 + 5011, PBX, OUTSIDER, ok([viaOutsider]));
  const alerts = h.finish();
  assert.equal(alerts.length, 1);
  const a = alerts[0]!;
  assert.equal(a.source?.ip, OUTSIDER);
  assert.equal(a.evidence.from, PHONE);
  assert.equal(a.evidence.to, SINK);
  assert.deepEqual(a.evidence.frames, [first, answer]);
});
