import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DETECT_MAX_CLEARTEXT_PAIRS } from '../../../src/config/limits.js';
import type { AlertJson } from '../../../src/core/alert.js';
import type { Transport } from '../../../src/core/records.js';
import { AlertBook } from '../../../src/detect/alert-book.js';
import { DetectionEngine } from '../../../src/detect/engine.js';
import type { RaiseInput, RuleModule } from '../../../src/detect/rule.js';
import { exposureCleartextSignaling } from '../../../src/detect/rules/exposure-cleartext-signaling.js';
import { SiteModel } from '../../../src/detect/site.js';
import { Pipeline } from '../../../src/pipeline.js';
import { parseSipMessage } from '../../../src/sip/message.js';
import { readCaptureFile } from '../../../src/sources/capture-file.js';
import { toSipEvent, type SipEvent } from '../../../src/track/sip-event.js';

const T0 = Date.UTC(2026, 10, 24, 9, 0, 0);

/** The real pipeline with only the rules under test; every revision the book emits is kept. */
function harness(rules: readonly RuleModule[] = [exposureCleartextSignaling]) {
  const revisions: AlertJson[] = [];
  const book = new AlertBook('default', 'test', (a) => revisions.push(a));
  const engine = new DetectionEngine(rules, book, new SiteModel());
  const pipeline = new Pipeline({ listener: engine });
  let frame = 0;
  let time = T0;
  const send = (
    src: string,
    dst: string,
    text: string,
    transport: Transport = 'udp',
    srcPort = 5060,
    dstPort = 5060,
  ): void => {
    time += 10;
    pipeline.sipFrame({
      time,
      srcIp: src,
      srcPort,
      dstIp: dst,
      dstPort,
      transport,
      provenance: { kind: 'capture', file: 'synthetic', frame: ++frame },
      data: Buffer.from(text.replace(/\n/g, '\r\n')),
    });
  };
  const finish = (): AlertJson[] => {
    pipeline.finish();
    engine.flush();
    return book.alerts();
  };
  return { send, finish, revisions };
}

let seq = 0;
function request(
  method: string,
  from: string,
  to: string,
  opts: { auth?: string; via?: string; user?: string } = {},
): string {
  seq++;
  const user = opts.user ?? '101';
  return (
    `${method} sip:${user}@${to} SIP/2.0\n` +
    `Via: SIP/2.0/${opts.via ?? 'UDP'} ${from}:5060;branch=z9hG4bK-c${seq}\n` +
    `Max-Forwards: 70\nFrom: <sip:${user}@${to}>;tag=f${seq}\nTo: <sip:${user}@${to}>\n` +
    `Call-ID: call-${seq}@${from}\nCSeq: ${seq} ${method}\n` +
    (opts.auth !== undefined ? `${opts.auth}\n` : '') +
    `Content-Length: 0\n\n`
  );
}

function answer(req: string, status: string): string {
  const keep = req.split('\n').filter((l) => /^(Via|From|To|Call-ID|CSeq):/.test(l));
  return `SIP/2.0 ${status}\n${keep.join('\n')}\nContent-Length: 0\n\n`;
}

const AUTH =
  'Authorization: Digest username="101", realm="pbx", nonce="n1", uri="sip:pbx", response="0123456789abcdef0123456789abcdef"';

/** A request, its answer, and a second request: a proven two-way exchange. */
function exchange(
  h: ReturnType<typeof harness>,
  a: string,
  b: string,
  transport: Transport = 'udp',
  via = 'UDP',
): void {
  const r1 = request('OPTIONS', a, b, { via });
  h.send(a, b, r1, transport);
  h.send(b, a, answer(r1, '200 OK'), transport);
  const r2 = request('OPTIONS', a, b, { via });
  h.send(a, b, r2, transport);
  h.send(b, a, answer(r2, '200 OK'), transport);
}

test('clear-text SIP with a public peer is reported once per pair, at low', () => {
  const h = harness();
  for (let i = 0; i < 50; i++) exchange(h, '203.0.113.7', '198.51.100.2');
  const alerts = h.finish();
  assert.equal(alerts.length, 1);
  const a = alerts[0] as AlertJson;
  assert.equal(a.rule, 'exposure.cleartext-signaling');
  assert.equal(a.severity, 'low');
  assert.equal(a.title, 'Clear-text SIP (UDP) between 203.0.113.7 and 198.51.100.2');
  assert.deepEqual(a.target, { ip: '198.51.100.2', port: 5060 });
  assert.equal(a.evidence.credentials, false);
  assert.deepEqual(a.evidence.methods, { OPTIONS: 2 });
  assert.deepEqual(a.evidence.frames, [1, 2, 3]);
  assert.equal(a.count, 1, 'the count is the peers reported: one');
  assert.deepEqual(a.sources, [{ ip: '203.0.113.7', count: 1 }]);
  // Speaking once: one raise, then only the close at the end of input.
  assert.deepEqual(
    h.revisions.map((r) => [r.revision, r.state]),
    [
      [1, 'open'],
      [2, 'closed'],
    ],
  );
});

test('digest credentials in the pair raise the same alert to medium', () => {
  const h = harness();
  exchange(h, '203.0.113.7', '198.51.100.2');
  const reg = request('REGISTER', '203.0.113.7', '198.51.100.2', { auth: AUTH });
  h.send('203.0.113.7', '198.51.100.2', reg);
  h.send('198.51.100.2', '203.0.113.7', answer(reg, '200 OK'));
  // More credentials later change nothing.
  h.send('203.0.113.7', '198.51.100.2', request('REGISTER', '203.0.113.7', '198.51.100.2', { auth: AUTH }));
  const alerts = h.finish();
  assert.equal(alerts.length, 1);
  const a = alerts[0] as AlertJson;
  assert.equal(a.severity, 'medium');
  assert.equal(a.title, 'Digest credentials in clear-text SIP (UDP) between 203.0.113.7 and 198.51.100.2');
  assert.equal(a.evidence.credentials, true);
  assert.equal(a.evidence.identity, '101');
  assert.equal(a.evidence.credentialFrame, 5);
  assert.deepEqual(
    h.revisions.map((r) => [r.revision, r.severity, r.state]),
    [
      [1, 'low', 'open'],
      [2, 'medium', 'open'],
      [3, 'medium', 'closed'],
    ],
  );
  // The digest response itself is never part of the alert.
  assert.ok(!JSON.stringify(h.revisions).includes('0123456789abcdef'));
});

test('a private phone behind NAT talking to a public provider counts, at low with its credentials named (DESIGN: medium only from public addresses)', () => {
  const h = harness();
  const reg = request('REGISTER', '192.168.1.2', '212.242.33.35', { auth: AUTH });
  h.send('192.168.1.2', '212.242.33.35', reg);
  h.send('212.242.33.35', '192.168.1.2', answer(reg, '401 Unauthorized'));
  h.send('192.168.1.2', '212.242.33.35', request('REGISTER', '192.168.1.2', '212.242.33.35', { auth: AUTH }));
  const [a] = h.finish();
  assert.equal(a?.severity, 'low');
  assert.equal(a?.evidence.credentials, true);
  assert.equal(a?.title, 'Digest credentials in clear-text SIP (UDP) between 192.168.1.2 and 212.242.33.35');
  assert.deepEqual(a?.evidence.client, { ip: '192.168.1.2', port: 5060, scope: 'private' });
  assert.deepEqual(a?.evidence.server, { ip: '212.242.33.35', port: 5060, scope: 'public' });
});

test('IPv6 documentation addresses count as public; TCP and WS are clear text too', () => {
  const h = harness();
  exchange(h, '2001:db8::7', 'fd00::5', 'tcp', 'TCP');
  exchange(h, '203.0.113.9', '10.0.0.5', 'ws', 'WS');
  const alerts = h.finish();
  assert.deepEqual(alerts.map((a) => a.title).sort(), [
    'Clear-text SIP (TCP) between 2001:db8::7 and fd00::5',
    'Clear-text SIP (WS) between 203.0.113.9 and 10.0.0.5',
  ]);
});

test('nothing for private, loopback or CGNAT pairs, TLS/WSS, decrypted TLS copies, or one-shot exchanges', () => {
  const h = harness();
  exchange(h, '10.0.0.5', '192.168.1.10'); // office LAN
  exchange(h, '127.0.1.1', '127.0.0.10'); // the lab
  exchange(h, '100.64.1.1', '10.0.0.1'); // behind a carrier NAT
  exchange(h, 'fd00::1', 'fe80::2');
  exchange(h, '203.0.113.7', '198.51.100.2', 'tls', 'TLS');
  exchange(h, '203.0.113.8', '198.51.100.2', 'wss', 'WSS');
  // A HEP copy of a TLS hop reported as TCP: its Via still says TLS.
  exchange(h, '203.0.113.9', '198.51.100.2', 'tcp', 'TLS');
  // A scanner's single OPTIONS and its answer, and a forged source that never answers.
  const r = request('OPTIONS', '203.0.113.66', '198.51.100.2');
  h.send('203.0.113.66', '198.51.100.2', r);
  h.send('198.51.100.2', '203.0.113.66', answer(r, '200 OK'));
  for (let i = 0; i < 5; i++)
    h.send('203.0.113.67', '198.51.100.2', request('INVITE', '203.0.113.67', '198.51.100.2', { auth: AUTH }));
  assert.deepEqual(h.finish(), []);
});

test('the lab captures (loopback) raise nothing', async () => {
  const files = [
    'benign-call-udp-leaky.pcap',
    'benign-phones-register-3cx.pcap',
    'svcrack-leaky.pcap',
    'benign-options-keepalive-tcp-leaky.pcap',
  ];
  for (const f of files) {
    const h = harness();
    let n = 0;
    const pipeline = new Pipeline({
      listener: new DetectionEngine(
        [exposureCleartextSignaling],
        new AlertBook('default', 't', (a) => h.revisions.push(a)),
        new SiteModel(),
      ),
    });
    await readCaptureFile(`test/fixtures/captures/${f}`, (fr) => {
      n++;
      pipeline.frame(fr.linkType, fr.data, fr.time, { kind: 'capture', file: f, frame: fr.frame });
    });
    pipeline.finish();
    assert.ok(n > 0 && pipeline.summary.sipMessages > 0, `${f} has SIP`);
    assert.deepEqual(h.revisions, [], f);
  }
});

test('a public capture (Wireshark sample, a phone behind NAT registering to a provider over UDP) raises low, naming the credentials', async () => {
  const revisions: AlertJson[] = [];
  const book = new AlertBook('default', 't', (a) => revisions.push(a));
  const engine = new DetectionEngine([exposureCleartextSignaling], book, new SiteModel());
  const pipeline = new Pipeline({ listener: engine });
  const file = '../shared/corpus/pcap/zeek/wireshark.pcap';
  await readCaptureFile(file, (fr) =>
    pipeline.frame(fr.linkType, fr.data, fr.time, { kind: 'capture', file, frame: fr.frame }),
  );
  pipeline.finish();
  engine.flush();
  const byTitle = new Map(book.alerts().map((a) => [a.title, a]));
  const reg = byTitle.get('Digest credentials in clear-text SIP (UDP) between 192.168.1.2 and 212.242.33.35');
  assert.ok(reg !== undefined, [...byTitle.keys()].join('; '));
  assert.equal(reg.severity, 'low');
  assert.equal(reg.evidence.credentials, true);
});

test('bounded: a flood of new public pairs does not push out a pair already seen, and nothing throws on garbage', () => {
  // The detector is driven directly (the pipeline adds nothing here and would make the flood slow).
  const raised: RaiseInput[] = [];
  const d = exposureCleartextSignaling.create({
    thresholds: {},
    site: new SiteModel(),
    raise: (r) => raised.push(r),
  });
  const ev = (src: string, dst: string, text: string, time: number): SipEvent => {
    const msg = parseSipMessage(Buffer.from(text.replace(/\n/g, '\r\n')));
    const frame = {
      time,
      srcIp: src,
      srcPort: 5060,
      dstIp: dst,
      dstPort: 5060,
      transport: 'udp' as const,
      provenance: { kind: 'capture' as const },
      data: msg.data,
    };
    return toSipEvent(frame, msg) as SipEvent;
  };
  // A real pair talks (the exchange is proven and reported at low)...
  let t = T0;
  for (let i = 0; i < 4; i++) {
    const r = request('OPTIONS', '203.0.113.7', '198.51.100.2');
    d.onMessage?.(ev('203.0.113.7', '198.51.100.2', r, t++), undefined, false);
    d.onMessage?.(ev('198.51.100.2', '203.0.113.7', answer(r, '200 OK'), t++), undefined, false);
  }
  assert.deepEqual(
    raised.map((r) => `${r.severity} ${r.title}`),
    ['low Clear-text SIP (UDP) between 203.0.113.7 and 198.51.100.2'],
  );
  // ...then more one-off forged sources than the table holds send unanswered requests (one parsed
  // message reused with new addresses: only the addresses matter here)...
  const flood = parseSipMessage(
    Buffer.from(request('OPTIONS', '8.0.0.1', '198.51.100.2').replace(/\n/g, '\r\n')),
  );
  for (let i = 0; i < DETECT_MAX_CLEARTEXT_PAIRS + 2_000; i++) {
    const src = `8.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
    const frame = {
      time: t++,
      srcIp: src,
      srcPort: 5060,
      dstIp: '198.51.100.2',
      dstPort: 5060,
      transport: 'udp' as const,
      provenance: { kind: 'capture' as const },
      data: flood.data,
    };
    d.onMessage?.(toSipEvent(frame, flood) as SipEvent, undefined, false);
  }
  // ...and the real pair's state survived: its credentials now raise it to medium at once.
  d.onMessage?.(
    ev('203.0.113.7', '198.51.100.2', request('REGISTER', '203.0.113.7', '198.51.100.2', { auth: AUTH }), t),
    undefined,
    false,
  );
  assert.deepEqual(
    raised.map((r) => `${r.severity} ${r.title}`),
    [
      'low Clear-text SIP (UDP) between 203.0.113.7 and 198.51.100.2',
      'medium Digest credentials in clear-text SIP (UDP) between 203.0.113.7 and 198.51.100.2',
    ],
  );
  // Garbage and truncated messages with public addresses through the whole pipeline.
  const h = harness();
  let seed = 1;
  for (let i = 0; i < 2000; i++) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    const bytes = Buffer.alloc(seed % 200);
    for (let j = 0; j < bytes.length; j++) bytes[j] = (Math.imul(seed, j + 1) >>> 13) & 255;
    const text =
      i % 2 === 0
        ? bytes.toString('latin1')
        : request('OPTIONS', '203.0.113.5', '198.51.100.3').slice(0, seed % 120);
    h.send(i % 3 === 0 ? '198.51.100.3' : '203.0.113.5', i % 3 === 0 ? '203.0.113.5' : '198.51.100.3', text);
  }
  const alerts = h.finish();
  assert.ok(alerts.length <= 1, 'one pair, at most one alert');
});

test('many peers of one server are one alert listing them, not one alert per pair', () => {
  const h = harness();
  for (let i = 1; i <= 20; i++) exchange(h, `203.0.113.${i}`, '198.51.100.2');
  const alerts = h.finish();
  assert.equal(alerts.length, 1);
  const a = alerts[0] as AlertJson;
  assert.equal(a.title, 'Clear-text SIP (UDP) between 198.51.100.2 and 20 peers');
  assert.equal(a.count, 20);
  assert.equal(a.sourcesTotal ?? a.sources?.length, 20);
  assert.deepEqual(a.target, { ip: '198.51.100.2', port: 5060 });
  // Revisions come as the peers double, not one per peer.
  assert.ok(a.revision <= 7, `revision ${a.revision}`);
});

test("a PBX's keepalives to its phones are one alert for the PBX, however the roles first look", () => {
  // Phones on their own port (5062), the PBX on 5060: the PBX pings each phone first (so the
  // phone answers, as a server would), then the phone registers.
  const h = harness();
  for (let i = 1; i <= 16; i++) {
    const phone = `203.0.113.${i}`;
    for (let k = 0; k < 2; k++) {
      const o = request('OPTIONS', '198.51.100.2', phone);
      h.send('198.51.100.2', phone, o, 'udp', 5060, 5062);
      h.send(phone, '198.51.100.2', answer(o, '200 OK'), 'udp', 5062, 5060);
    }
    const r = request('REGISTER', phone, '198.51.100.2');
    h.send(phone, '198.51.100.2', r, 'udp', 5062, 5060);
    h.send('198.51.100.2', phone, answer(r, '200 OK'), 'udp', 5060, 5062);
  }
  const alerts = h.finish();
  assert.equal(alerts.length, 1);
  assert.deepEqual(alerts[0]?.target, { ip: '198.51.100.2', port: 5060 });
  assert.equal(alerts[0]?.count, 16);
  assert.ok(h.revisions.length <= 7, `${h.revisions.length} revisions`);

  // Both ends on 5060 and no REGISTER: the first request's destination stays the server; a
  // REGISTER before the pair is reported moves the role to the registrar.
  const g = harness();
  const o = request('OPTIONS', '198.51.100.9', '203.0.113.50');
  g.send('198.51.100.9', '203.0.113.50', o);
  g.send('203.0.113.50', '198.51.100.9', answer(o, '200 OK'));
  const r = request('REGISTER', '203.0.113.50', '198.51.100.9');
  g.send('203.0.113.50', '198.51.100.9', r);
  g.send('198.51.100.9', '203.0.113.50', answer(r, '401 Unauthorized'));
  const r2 = request('REGISTER', '203.0.113.50', '198.51.100.9');
  g.send('203.0.113.50', '198.51.100.9', r2);
  const [only] = g.finish();
  assert.deepEqual(only?.target, { ip: '198.51.100.9', port: 5060 });
});
