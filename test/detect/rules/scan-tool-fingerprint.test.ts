/**
 * scan.tool-fingerprint through the real pipeline: one alert per campaign (tool + target address),
 * naming every source of a distributed scan; one source sweeping many addresses is one campaign;
 * single weak marks raise nothing. Real SIPVicious captures from the lab.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ALERT_MAX_SOURCES } from '../../../src/config/limits.js';
import type { AlertJson } from '../../../src/core/alert.js';
import { scanToolFingerprint, toolMarks } from '../../../src/detect/rules/scan-tool-fingerprint.js';
import { parseSipMessage } from '../../../src/sip/message.js';
import { toSipEvent, type SipEvent } from '../../../src/track/sip-event.js';
import { analyzeCapture } from '../../helpers/analyze-capture.js';
import { ruleHarness } from '../../helpers/rule-harness.js';

const PBX = '198.51.100.40';
const T0 = Date.UTC(2026, 10, 24, 6, 0, 0);

let seq = 0;
/** A SIPVicious-like REGISTER (friendly-scanner, decimal Call-ID and branch) or a phone's. */
function register(src: string, dst: string, o: { ua?: string; user?: string } = {}): string {
  seq++;
  const ua = o.ua ?? 'friendly-scanner';
  const user = o.user ?? '107';
  return (
    `REGISTER sip:${dst} SIP/2.0\nVia: SIP/2.0/UDP ${src}:5060;branch=z9hG4bK-${100000 + seq};rport\n` +
    `Max-Forwards: 70\nFrom: "${user}" <sip:${user}@${dst}>;tag=${(7000 + seq).toString(16)}\n` +
    `To: "${user}" <sip:${user}@${dst}>\nCall-ID: ${900000000 + seq}\nCSeq: 1 REGISTER\n` +
    `Contact: <sip:${user}@${src}:5060>\nUser-Agent: ${ua}\nContent-Length: 0\n\n`
  );
}

function harness() {
  return ruleHarness(scanToolFingerprint);
}

test('a scan spread over many sources against one PBX is one campaign alert listing its sources', () => {
  const h = harness();
  const sources: string[] = [];
  for (let k = 0; k < 80; k++) sources.push(`203.0.${k}.${k + 1}`);
  // One guess every 10 minutes, each from the next address, as in a low-and-slow botnet.
  for (let i = 0; i < 160; i++) {
    const src = sources[i % sources.length] as string;
    h.send(T0 + i * 600_000, src, PBX, register(src, PBX));
  }
  const alerts = h.finish();
  assert.equal(alerts.length, 1, 'one alert, not one per source');
  const a = alerts[0] as AlertJson;
  assert.equal(a.rule, 'scan.tool-fingerprint');
  assert.equal(a.severity, 'medium');
  assert.equal(a.title, `SIPVicious from 80 sources against ${PBX}`);
  assert.equal(a.count, 160);
  assert.equal(a.target?.ip, PBX);
  assert.equal(a.sources?.length, ALERT_MAX_SOURCES, 'the list is capped');
  assert.equal(a.sourcesTotal, 80);
  assert.ok(a.sources?.every((s) => sources.includes(s.ip) && s.count === 2));
  assert.equal(a.evidence.sourcesTotal, 80);
  assert.deepEqual(a.evidence.servers, [PBX]);
  assert.deepEqual(a.evidence.targets, ['107']);
});

test('a single-source scan is one alert naming that source; a sweep of many addresses stays one campaign', () => {
  const h = harness();
  const SCANNER = '203.0.113.5';
  for (let i = 0; i < 8; i++) {
    const dst = `198.51.100.${8 + i}`;
    h.send(T0 + i * 50, SCANNER, dst, register(SCANNER, dst));
  }
  const alerts = h.finish();
  assert.equal(alerts.length, 1);
  const a = alerts[0] as AlertJson;
  assert.equal(a.title, `SIPVicious from ${SCANNER}`);
  assert.equal(a.source?.ip, SCANNER);
  assert.deepEqual(a.sources, [{ ip: SCANNER, count: 8 }]);
  assert.equal(a.sourcesTotal, undefined, 'not cut');
  assert.equal(a.target?.ip, '198.51.100.8', 'keyed by the first target');
  assert.equal(a.evidence.serversTotal, 8);
});

test('different tools, or different target PBXs attacked from different sources, are different campaigns', () => {
  const h = harness();
  const PBX2 = '198.51.100.41';
  h.send(T0, '203.0.113.1', PBX, register('203.0.113.1', PBX));
  h.send(T0 + 10, '203.0.113.2', PBX, register('203.0.113.2', PBX, { ua: 'sipcli/v1.8' }));
  h.send(T0 + 20, '203.0.113.3', PBX2, register('203.0.113.3', PBX2));
  h.send(T0 + 30, '203.0.113.4', PBX2, register('203.0.113.4', PBX2));
  const alerts = h.finish();
  const got = alerts.map((a) => [a.title, a.sourcesTotal ?? a.sources?.length]).sort();
  assert.deepEqual(got, [
    [`SIPVicious from 2 sources against ${PBX2}`, 2],
    ['SIPVicious from 203.0.113.1', 1],
    ['sipcli from 203.0.113.2', 1],
  ]);
});

test('not raised: a phone, or a single weak structural mark (SIPp-like branch, decimal Call-ID alone)', () => {
  const h = harness();
  const phone =
    `REGISTER sip:${PBX} SIP/2.0\nVia: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-2798-1-0\n` +
    `From: <sip:101@${PBX}>;tag=a8f3c1\nTo: <sip:101@${PBX}>\nCall-ID: 1-2798@192.0.2.10\nCSeq: 1 REGISTER\n` +
    `User-Agent: Yealink SIP-T46S 66.86.0.15\nContent-Length: 0\n\n`;
  h.send(T0, '192.0.2.10', PBX, phone);
  const decimalOnly = phone.replace('Call-ID: 1-2798@192.0.2.10', 'Call-ID: 123456789');
  h.send(T0 + 10, '192.0.2.11', PBX, decimalOnly);
  assert.deepEqual(h.finish(), []);
});

test('fuzz: random bytes and mutated scanner requests never throw; marks stay a bounded list', () => {
  let x = 0x9e3779b9;
  const rnd = (n: number): number => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
  const h = harness();
  const base = register('203.0.113.9', PBX);
  for (let i = 0; i < 600; i++) {
    let text: string;
    if (i % 3 === 0) {
      const bytes = Buffer.alloc(rnd(300));
      for (let j = 0; j < bytes.length; j++) bytes[j] = rnd(256);
      text = bytes.toString('latin1');
    } else {
      const chars = [...base];
      for (let k = 0; k < 4; k++) chars[rnd(chars.length)] = String.fromCharCode(rnd(128));
      text = chars.join('');
    }
    const src = `203.0.${rnd(250)}.${rnd(250)}`;
    assert.doesNotThrow(() => h.send(T0 + i, src, PBX, text));
    const msg = parseSipMessage(Buffer.from(text.replace(/\n/g, '\r\n'), 'latin1'));
    const ev = toSipEvent(
      {
        time: T0,
        srcIp: src,
        srcPort: 5060,
        dstIp: PBX,
        dstPort: 5060,
        transport: 'udp',
        provenance: { kind: 'capture' },
        data: msg.data,
      },
      msg,
    ) as SipEvent | undefined;
    if (ev !== undefined && ev.isRequest) assert.ok(toolMarks(ev).marks.length <= 8);
  }
  const alerts = h.finish();
  for (const a of alerts) assert.ok((a.sources?.length ?? 0) <= ALERT_MAX_SOURCES);
});

const CAPTURES = 'test/fixtures/captures';
const expected = (
  JSON.parse(readFileSync(`${CAPTURES}/expected.json`, 'utf8')) as {
    captures: { file: string; attacks: string[]; mustNotFind: string[]; benign: boolean }[];
  }
).captures;

test('lab: svcrack low-and-slow from 100 addresses is one campaign (was 146 alerts); svmap sweep is one', async () => {
  const slow = await analyzeCapture(`${CAPTURES}/svcrack-low-and-slow-leaky.pcap`, [scanToolFingerprint]);
  assert.equal(slow.length, 1);
  const a = slow[0] as AlertJson;
  assert.equal(a.title, 'SIPVicious from 100 sources against 127.0.0.10');
  assert.equal(a.severity, 'medium');
  assert.equal(a.sourcesTotal, 100);
  assert.equal(a.sources?.length, ALERT_MAX_SOURCES);
  assert.ok(a.sources?.every((s) => s.ip.startsWith('127.100.')));
  assert.equal(a.evidence.passwordGuessesInTags, 144);
  const sweep = await analyzeCapture(`${CAPTURES}/svmap-scan.pcap`, [scanToolFingerprint]);
  assert.deepEqual(
    sweep.map((s) => [s.title, s.source?.ip, s.evidence.serversTotal]),
    [['SIPVicious from 127.0.2.1', '127.0.2.1', 8]],
  );
});

test('lab: raised where a tool was used, one alert per capture; never on benign captures', async () => {
  for (const c of expected) {
    const alerts = await analyzeCapture(`${CAPTURES}/${c.file}`, [scanToolFingerprint]);
    if (c.attacks.includes('scan.tool-fingerprint')) {
      assert.equal(alerts.length, 1, `${c.file}: ${alerts.map((a) => a.title).join('; ')}`);
    } else if (c.benign || c.mustNotFind.includes('scan.tool-fingerprint')) {
      assert.deepEqual(
        alerts.map((a) => a.title),
        [],
        c.file,
      );
    }
  }
});

/** The event of a REGISTER with the given From display/user, From tag, hosts and User-Agent. */
function marksOf(o: { display?: string; user?: string; tag: string; contactHost?: string; ua?: string }): {
  tool: string | undefined;
  marks: readonly string[];
  triedPassword: string | undefined;
} {
  const text =
    `REGISTER sip:${PBX} SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKa8f3c1d2\r\n` +
    `From: ${o.display ?? ''}<sip:${o.user ?? '101'}@${PBX}>;tag=${o.tag}\r\nTo: <sip:101@${PBX}>\r\n` +
    `Call-ID: 5c2e-77@192.0.2.10\r\nCSeq: 1 REGISTER\r\nContact: <sip:101@${o.contactHost ?? '192.0.2.10'}>\r\n` +
    `User-Agent: ${o.ua ?? 'Yealink SIP-T46S 66.86.0.15'}\r\nContent-Length: 0\r\n\r\n`;
  const msg = parseSipMessage(Buffer.from(text, 'latin1'));
  const frame = { time: T0, srcIp: '192.0.2.10', srcPort: 5060, dstIp: PBX, dstPort: 5060 };
  const ev = toSipEvent({ ...frame, transport: 'udp', provenance: { kind: 'capture' }, data: msg.data }, msg);
  assert.ok(ev !== undefined);
  return toolMarks(ev);
}

test('marks: an svcrack tag is decoded; hex tags of phones, even with its bytes, are not', () => {
  const svcrack = Buffer.from('107:secret\u00011234', 'latin1').toString('hex');
  assert.deepEqual(marksOf({ tag: svcrack }), {
    tool: undefined,
    marks: ['hex-encoded-tag'],
    triedPassword: 'secret',
  });
  assert.deepEqual(marksOf({ tag: svcrack.toUpperCase() }).marks, ['hex-encoded-tag']);
  // A 0x01 byte and a final digit, but an unprintable byte before the separator.
  assert.deepEqual(marksOf({ tag: '0a31013231' }).marks, []);
  // Random hex: no 0x01 byte; a 0x01 byte but a letter last; odd length.
  for (const tag of ['a8f3c1d29e', 'a8013c1d2f', '3101323'])
    assert.deepEqual(marksOf({ tag }).marks, [], tag);
});

test('marks: tool names in From (also %-escaped), the placeholder host in any address, tool agents', () => {
  assert.deepEqual(marksOf({ tag: 'a8f3c1', user: '%73ipvicious' }), {
    tool: 'SIPVicious',
    marks: ['from-name'],
    triedPassword: undefined,
  });
  assert.deepEqual(marksOf({ tag: 'a8f3c1', display: '"sipsscuser" ' }).marks, ['from-name']);
  assert.deepEqual(marksOf({ tag: 'a8f3c1', user: 'sipvicious2' }).marks, []);
  assert.deepEqual(marksOf({ tag: 'a8f3c1', contactHost: '1.1.1.1' }).marks, ['placeholder-host-1.1.1.1']);
  assert.deepEqual(marksOf({ tag: 'a8f3c1', contactHost: '11.1.1.1' }).marks, []);
  assert.deepEqual(marksOf({ tag: 'a8f3c1', user: '1.1.1.1' }).marks, []);
  // The verdict on a value is cached: the second reading answers the same.
  for (let i = 0; i < 2; i++) {
    assert.deepEqual(marksOf({ tag: 'a8f3c1', ua: 'sipcli/v1.8' }), {
      tool: 'sipcli',
      marks: ['user-agent'],
      triedPassword: undefined,
    });
  }
});

test('one structural mark raises only where the threshold asks for one; two always do', () => {
  const placeholder = (i: number, callId: string): string =>
    `OPTIONS sip:100@${PBX} SIP/2.0\nVia: SIP/2.0/UDP 192.0.2.20:5060;branch=z9hG4bKc0ffee${i}\n` +
    `From: <sip:101@${PBX}>;tag=b7${i}\nTo: <sip:100@${PBX}>\nCall-ID: ${callId}\nCSeq: 1 OPTIONS\n` +
    `Contact: <sip:101@1.1.1.1>\nUser-Agent: Yealink SIP-T46S 66.86.0.15\nContent-Length: 0\n\n`;
  for (const [marks, callId, raised] of [
    [2, 'a77f3@192.0.2.20', 0],
    [1, 'a77f3@192.0.2.20', 1],
    [2, '4711081542', 1],
    [3, '4711081542', 0],
  ] as const) {
    const h = ruleHarness(scanToolFingerprint, { 'scan.tool-fingerprint': { thresholds: { marks } } });
    h.send(T0, '192.0.2.20', PBX, placeholder(marks, callId));
    const alerts = h.finish();
    assert.equal(alerts.length, raised, `${marks} ${callId}`);
    if (raised === 1) {
      assert.equal(alerts[0]?.title, 'unknown tool (structural marks) from 192.0.2.20');
      assert.ok((alerts[0]?.evidence.marks as string[]).includes('placeholder-host-1.1.1.1'));
    }
  }
});
