import assert from 'node:assert/strict';
import { test } from 'node:test';
import { exposureUnencryptedMedia } from '../../../src/detect/rules/exposure-unencrypted-media.js';
import { ruleHarness } from '../../helpers/rule-harness.js';
import { invite, PBX, reply, T0 } from '../../helpers/call-traffic.js';

const PHONE = '203.0.113.5';

function sdp(addr: string, media: string, extra = ''): string {
  return `v=0\no=- 1 1 IN IP4 ${addr}\ns=-\nc=IN IP4 ${addr}\nt=0 0\n${media}\na=rtpmap:0 PCMU/8000\n${extra}`;
}

const PLAIN = 'm=audio 40000 RTP/AVP 0';

test('plain RTP offered between internet peers is reported once per peer pair', () => {
  const h = ruleHarness(exposureUnencryptedMedia);
  const a = invite(PHONE, PBX, '200', { sdp: sdp(PHONE, PLAIN) });
  const f = h.send(T0, PHONE, PBX, a.text);
  h.send(T0 + 10, PBX, PHONE, reply(a, '200 OK', 'p1', sdp(PBX, PLAIN)));
  const b = invite(PBX, PHONE, '201', { sdp: sdp(PBX, PLAIN) });
  h.send(T0 + 20, PBX, PHONE, b.text);
  const alerts = h.finish();
  assert.equal(alerts.length, 1);
  const x = alerts[0]!;
  assert.equal(x.rule, 'exposure.unencrypted-media');
  assert.equal(x.severity, 'low');
  assert.equal(x.title, `Unencrypted audio (RTP/AVP) between ${PHONE} and ${PBX}`);
  assert.equal(x.evidence.mediaAddress, PHONE);
  assert.equal(x.evidence.mediaPort, 40000);
  assert.equal(x.evidence.message, 'INVITE');
  assert.deepEqual(x.evidence.codecs, ['PCMU']);
  assert.deepEqual(x.evidence.frames, [f]);
});

test('an answer with plain RTP is reported when the offer was not', () => {
  const h = ruleHarness(exposureUnencryptedMedia);
  const a = invite('203.0.113.9', PBX, '200');
  h.send(T0, '203.0.113.9', PBX, a.text);
  h.send(
    T0 + 10,
    PBX,
    '203.0.113.9',
    reply(a, '183 Session Progress', 'p1', sdp(PBX, 'm=audio 41000 RTP/AVPF 0')),
  );
  const alerts = h.finish();
  assert.equal(alerts.length, 1);
  assert.equal(alerts[0]!.evidence.message, '183 INVITE');
  assert.equal(alerts[0]!.evidence.proto, 'RTP/AVPF');
});

test('encrypted, held, refused, fax and LAN-only media are not reported', () => {
  const h = ruleHarness(exposureUnencryptedMedia);
  const cases: [string, string, string][] = [
    [
      PHONE,
      PBX,
      sdp(
        PHONE,
        'm=audio 40000 RTP/SAVP 0',
        'a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz\n',
      ),
    ],
    [
      '203.0.113.6',
      PBX,
      sdp(
        '203.0.113.6',
        PLAIN,
        'a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz\n',
      ),
    ],
    [
      '203.0.113.7',
      PBX,
      sdp('203.0.113.7', 'm=audio 40000 UDP/TLS/RTP/SAVPF 0', 'a=fingerprint:sha-256 AB:CD\n'),
    ],
    ['203.0.113.8', PBX, sdp('203.0.113.8', PLAIN, 'a=fingerprint:sha-256 AB:CD\n')],
    ['203.0.113.10', PBX, sdp('0.0.0.0', PLAIN)],
    ['203.0.113.11', PBX, sdp('203.0.113.11', PLAIN, 'a=sendonly\n')],
    ['203.0.113.12', PBX, sdp('203.0.113.12', 'm=audio 0 RTP/AVP 0')],
    ['203.0.113.13', PBX, sdp('203.0.113.13', 'm=image 40000 udptl t38')],
    ['192.168.1.10', '192.168.1.2', sdp('192.168.1.10', PLAIN)],
    ['10.0.0.5', '10.0.0.1', sdp('172.16.0.5', PLAIN)],
  ];
  for (const [src, dst, body] of cases) h.send(T0, src, dst, invite(src, dst, '200', { sdp: body }).text);
  assert.deepEqual(h.finish(), []);
});

test('a LAN phone whose SDP names a public address is reported (media crosses the internet)', () => {
  const h = ruleHarness(exposureUnencryptedMedia);
  h.send(
    T0,
    '192.168.1.10',
    '192.168.1.2',
    invite('192.168.1.10', '192.168.1.2', '200', { sdp: sdp('198.51.100.77', PLAIN) }).text,
  );
  const alerts = h.finish();
  assert.equal(alerts.length, 1);
  assert.equal(alerts[0]!.evidence.mediaScope, 'documentation');
  assert.equal(alerts[0]!.evidence.signalingInternal, true);
});

test('fuzz: random SDP bodies never throw and raise at most one alert per pair', () => {
  const h = ruleHarness(exposureUnencryptedMedia);
  let state = 42;
  const rnd = (): number => (state = (state * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const pieces = [
    'm=audio 4000 RTP/AVP 0\n',
    'c=IN IP4 203.0.113.1\n',
    'a=crypto:x\n',
    'm=video 0 RTP/AVP\n',
    'garbage\n',
    'c=IN IP6 ::\n',
    'a=sendonly\n',
    '\u00ff\u0000',
  ];
  for (let i = 0; i < 300; i++) {
    let body = 'v=0\n';
    const n = Math.floor(rnd() * 8);
    for (let j = 0; j < n; j++) body += pieces[Math.floor(rnd() * pieces.length)]!;
    if (rnd() < 0.3)
      body += String.fromCharCode(...Array.from({ length: 20 }, () => Math.floor(rnd() * 256)));
    const src = `203.0.113.${1 + (i % 5)}`;
    assert.doesNotThrow(() => h.send(T0 + i, src, PBX, invite(src, PBX, '200', { sdp: body }).text));
  }
  const alerts = h.finish();
  assert.ok(alerts.length <= 5, `${alerts.length} alerts for 5 pairs`);
});

test('between LAN peers, a public media address is found in any form the SDP writes it', () => {
  const h = ruleHarness(exposureUnencryptedMedia);
  const lan = (k: number): [string, string] => [`192.168.7.${10 + k}`, '192.168.7.2'];
  const bodies = [
    // Session-level address with a multicast-style TTL, a media-level IPv6 address, tabs and CRs.
    sdp('203.0.113.90/127', PLAIN),
    `v=0\no=- 1 1 IN IP6 fd00::1\ns=-\nt=0 0\nm=audio 40000 RTP/AVP 0\nc=IN IP6 2001:4860:4860::8888\n`,
    `v=0\r\no=- 1 1 IN IP4 10.0.0.9\r\ns=-\r\nc=IN IP4 10.0.0.9\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\nc=IN IP4 198.51.100.3\r\n`,
    // Private or unreadable addresses everywhere: nothing to report.
    sdp('10.1.2.3', PLAIN),
    `v=0\no=- 1 1 IN IP4 pbx.example.net\ns=-\nc=IN IP4 pbx.example.net\nt=0 0\n${PLAIN}\n`,
    `v=0\no=- 1 1 IN IP6 fe80::1%eth0\ns=-\nc=IN IP6 fe80::1%eth0\nt=0 0\n${PLAIN}\na=rtpmap:8 PCMA/8000\n`,
  ];
  bodies.forEach((body, k) => {
    const [src, dst] = lan(k);
    h.send(T0 + k, src, dst, invite(src, dst, String(300 + k), { sdp: body }).text);
  });
  const alerts = h.finish();
  assert.deepEqual(alerts.map((a) => [a.source?.ip, a.evidence.mediaAddress, a.evidence.mediaScope]).sort(), [
    ['192.168.7.10', '203.0.113.90', 'documentation'],
    ['192.168.7.11', '2001:4860:4860::8888', 'public'],
    ['192.168.7.12', '198.51.100.3', 'documentation'],
  ]);
});
