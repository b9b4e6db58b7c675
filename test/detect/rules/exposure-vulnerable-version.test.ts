import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { AlertJson } from '../../../src/core/alert.js';
import { AlertBook } from '../../../src/detect/alert-book.js';
import { DetectionEngine } from '../../../src/detect/engine.js';
import type { RuleModule } from '../../../src/detect/rule.js';
import {
  createVulnerableVersionRule,
  exposureVulnerableVersion,
} from '../../../src/detect/rules/exposure-vulnerable-version.js';
import { SiteModel } from '../../../src/detect/site.js';
import { parseVersionList } from '../../../src/detect/versions.js';
import { Pipeline } from '../../../src/pipeline.js';
import { readCaptureFile } from '../../../src/sources/capture-file.js';

const T0 = Date.UTC(2026, 10, 24, 9, 0, 0);

function harness(rule: RuleModule = exposureVulnerableVersion) {
  const revisions: AlertJson[] = [];
  const book = new AlertBook('default', 'test', (a) => revisions.push(a));
  const engine = new DetectionEngine([rule], book, new SiteModel());
  const pipeline = new Pipeline({ listener: engine });
  let frame = 0;
  const send = (src: string, dst: string, text: string): void => {
    frame++;
    pipeline.sipFrame({
      time: T0 + frame * 10,
      srcIp: src,
      srcPort: 5060,
      dstIp: dst,
      dstPort: 5060,
      transport: 'udp',
      provenance: { kind: 'capture', file: 'synthetic', frame },
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
function options(from: string, to: string, ua?: string): string {
  seq++;
  return (
    `OPTIONS sip:100@${to} SIP/2.0\nVia: SIP/2.0/UDP ${from}:5060;branch=z9hG4bK-v${seq}\nMax-Forwards: 70\n` +
    `From: <sip:probe@${from}>;tag=f${seq}\nTo: <sip:100@${to}>\nCall-ID: v${seq}@${from}\nCSeq: 1 OPTIONS\n` +
    (ua !== undefined ? `User-Agent: ${ua}\n` : '') +
    'Content-Length: 0\n\n'
  );
}

function ok(req: string, server?: string, ua?: string): string {
  const keep = req.split('\n').filter((l) => /^(Via|From|To|Call-ID|CSeq):/.test(l));
  return (
    `SIP/2.0 200 OK\n${keep.join('\n')}\n` +
    (server !== undefined ? `Server: ${server}\n` : '') +
    (ua !== undefined ? `User-Agent: ${ua}\n` : '') +
    'Content-Length: 0\n\n'
  );
}

test('an end-of-life Asterisk answering probes is reported once per (address, product, version)', () => {
  const h = harness();
  for (let i = 0; i < 20; i++) {
    const req = options('203.0.113.50', '198.51.100.2');
    h.send('203.0.113.50', '198.51.100.2', req);
    h.send('198.51.100.2', '203.0.113.50', ok(req, 'Asterisk PBX 18.20.0'));
  }
  // The same server later shows another version: that is another finding.
  const req = options('203.0.113.50', '198.51.100.2');
  h.send('203.0.113.50', '198.51.100.2', req);
  h.send('198.51.100.2', '203.0.113.50', ok(req, 'Asterisk PBX 20.8.0'));
  const alerts = h.finish();
  assert.deepEqual(
    alerts.map((a) => [a.severity, a.title]),
    [
      [
        'medium',
        'Asterisk 18.20.0 at 198.51.100.2: known vulnerabilities (CVE-2023-49786), past end of life',
      ],
      ['medium', 'Asterisk 20.8.0 at 198.51.100.2: known vulnerabilities (CVE-2024-35190, CVE-2025-57767)'],
    ],
  );
  const a = alerts[0] as AlertJson;
  assert.equal(a.rule, 'exposure.vulnerable-version');
  assert.deepEqual(a.target, { ip: '198.51.100.2', port: 5060 });
  assert.equal(a.source, undefined, 'the disclosing host is the asset, not an attacker');
  assert.equal(a.evidence.header, 'Server');
  assert.equal(a.evidence.value, 'Asterisk PBX 18.20.0');
  assert.equal(a.evidence.message, '200 (OPTIONS)');
  assert.deepEqual(a.evidence.frames, [2]);
  const findings = a.evidence.findings as {
    reason: string;
    ids: string[];
    source: string;
    affected: string;
  }[];
  assert.deepEqual(
    findings.map((f) => [f.reason, f.ids, f.affected]),
    [
      ['end-of-life', [], '<20'],
      ['cve', ['CVE-2023-49786'], '>=18.0.0 <18.20.1 || >=19.0.0 <20.5.1 || =21.0.0'],
    ],
  );
  assert.ok(findings.every((f) => f.source.startsWith('https://')));
  // Once per key: the 19 later answers added no revision.
  assert.equal(h.revisions.filter((r) => r.id === a.id).length, 2, 'opened, then closed at the end');
});

test('a compromised 3CX desktop-app build in a client User-Agent is raised as high', () => {
  const h = harness();
  const reg =
    'REGISTER sip:198.51.100.2 SIP/2.0\nVia: SIP/2.0/TLS 203.0.113.80:50123;branch=z9hG4bK-r1\nMax-Forwards: 70\n' +
    'From: <sip:105@198.51.100.2>;tag=a\nTo: <sip:105@198.51.100.2>\nCall-ID: r1@x\nCSeq: 1 REGISTER\n' +
    'User-Agent: 3CXDesktopApp/18.12.416 (Windows)\n' +
    'Authorization: Digest username="105", realm="pbx", nonce="n", uri="sip:198.51.100.2", response="00"\n' +
    'Content-Length: 0\n\n';
  h.send('203.0.113.80', '198.51.100.2', reg);
  h.send('198.51.100.2', '203.0.113.80', ok(reg));
  const [a] = h.finish();
  assert.equal(a?.severity, 'high');
  assert.equal(a?.title, '3CX Desktop App 18.12.416 at 203.0.113.80: compromised build');
  assert.equal(a?.evidence.header, 'User-Agent');
  assert.deepEqual((a?.evidence.findings as { ids: string[] }[])[0]?.ids, ['CVE-2023-29059']);
});

test('a User-Agent in requests that were challenged, rejected, unanswered or are OPTIONS is not reported', () => {
  const h = harness();
  const ua = 'Asterisk PBX 16.0.0';
  const reg = (n: number, cred: boolean): string =>
    `REGISTER sip:198.51.100.2 SIP/2.0\nVia: SIP/2.0/UDP 203.0.113.9:5060;branch=z9hG4bK-s${n}\nMax-Forwards: 70\n` +
    `From: <sip:1${n}@198.51.100.2>;tag=s${n}\nTo: <sip:1${n}@198.51.100.2>\nCall-ID: s${n}@x\nCSeq: 1 REGISTER\n` +
    `User-Agent: ${ua}\n` +
    (cred ? 'Authorization: Digest username="1", realm="p", nonce="n", uri="sip:x", response="00"\n' : '') +
    'Content-Length: 0\n\n';
  const challenged = reg(1, false);
  h.send('203.0.113.9', '198.51.100.2', challenged);
  h.send('198.51.100.2', '203.0.113.9', ok(challenged).replace('200 OK', '401 Unauthorized'));
  const rejected = reg(2, true);
  h.send('203.0.113.9', '198.51.100.2', rejected);
  h.send('198.51.100.2', '203.0.113.9', ok(rejected).replace('200 OK', '403 Forbidden'));
  h.send('203.0.113.9', '198.51.100.2', reg(3, true)); // never answered
  const probe = options('203.0.113.9', '198.51.100.2', ua);
  h.send('203.0.113.9', '198.51.100.2', probe);
  h.send('198.51.100.2', '203.0.113.9', ok(probe));
  assert.deepEqual(h.finish(), []);
  // The same User-Agent with accepted credentials is a real device: reported.
  const h2 = harness();
  const accepted = reg(4, true);
  h2.send('203.0.113.9', '198.51.100.2', accepted);
  h2.send('198.51.100.2', '203.0.113.9', ok(accepted));
  assert.deepEqual(
    h2.finish().map((a) => a.title),
    ['Asterisk 16.0.0 at 203.0.113.9: past end of life'],
  );
});

test('current versions, unknown products, hidden versions and forged garbage raise nothing', () => {
  const h = harness();
  const banners = [
    'Asterisk PBX 22.5.2',
    'FreeSWITCH-mod_sofia/1.10.12-release~64bit',
    'kamailio (5.6.3 (x86_64/linux))',
    '3CXPhoneSystem 18.0.9.20 (20)',
    '3CXPhoneSystem 20.0.9.995 (995)',
    'OpenSIPS (3.4.1 (x86_64/linux))',
    'Yealink SIP-T46S 66.86.0.15',
    '3CX',
    '',
    'Asterisk PBX ' + '9'.repeat(5000),
    '\u001b[31mAsterisk PBX\u0000 1.6',
  ];
  for (const b of banners) {
    const req = options('203.0.113.50', '198.51.100.2', 'friendly-scanner');
    h.send('203.0.113.50', '198.51.100.2', req);
    h.send('198.51.100.2', '203.0.113.50', ok(req, b, b));
  }
  assert.deepEqual(h.finish(), []);
});

test('a newer list file the user points at is used instead of the shipped one', () => {
  const list = parseVersionList(
    JSON.stringify({
      updated: '2027-01-01',
      entries: [
        {
          product: 'Kamailio',
          match: '\\bkamailio \\((\\d+\\.\\d+\\.\\d+)',
          versions: '5.6.x',
          reason: 'end-of-life',
          ids: [],
          summary: 'A hypothetical later list that marks 5.6 as past end of life.',
          source: 'https://example.org/kamailio-lifecycle',
          checked: '2027-01-01',
        },
      ],
    }),
    'newer.json',
  );
  assert.ok(list.ok);
  const h = harness(createVulnerableVersionRule(list.list));
  const req = options('127.0.2.11', '127.0.0.10');
  h.send('127.0.2.11', '127.0.0.10', req);
  h.send('127.0.0.10', '127.0.2.11', ok(req, 'kamailio (5.6.3 (x86_64/linux))'));
  const [a] = h.finish();
  assert.equal(a?.title, 'Kamailio 5.6.3 at 127.0.0.10: past end of life');
  assert.equal(a?.evidence.listUpdated, '2027-01-01');
});

async function runCapture(file: string): Promise<{ alerts: AlertJson[]; messages: number }> {
  const book = new AlertBook('default', 'test');
  const engine = new DetectionEngine([exposureVulnerableVersion], book, new SiteModel());
  const pipeline = new Pipeline({ listener: engine });
  await readCaptureFile(file, (f) =>
    pipeline.frame(f.linkType, f.data, f.time, { kind: 'capture', file, frame: f.frame }),
  );
  pipeline.finish();
  engine.flush();
  return { alerts: book.alerts(), messages: pipeline.summary.sipMessages };
}

test('lab captures: Kamailio 5.6.3 and the 3cx-like banner 3CXPhoneSystem 18.0.9.20 raise nothing (no source lists them)', async () => {
  const cases: [string, string][] = [
    ['benign-call-udp-leaky.pcap', 'Server: kamailio (5.6.3 (x86_64/linux))'],
    ['svwar-options-leaky.pcap', 'Server: kamailio (5.6.3 (x86_64/linux))'],
    ['benign-phones-register-3cx.pcap', 'User-Agent: 3CXPhoneSystem 18.0.9.20 (20)'],
    ['svwar-options-3cx.pcap', 'User-Agent: 3CXPhoneSystem 18.0.9.20 (20)'],
  ];
  for (const [file, header] of cases) {
    const path = `test/fixtures/captures/${file}`;
    assert.ok(readFileSync(path).includes(header), `${file} carries ${header}`);
    const { alerts, messages } = await runCapture(path);
    assert.ok(messages > 0, `${file} has SIP messages`);
    assert.deepEqual(alerts, [], file);
  }
});

test('public captures: Asterisk 1.6, Kamailio 5.2.1, OpenSIPS 2.4 and FreeSWITCH 1.8 banners are reported with their sources', async () => {
  const corpus = '../shared/corpus/pcap';
  const digium = await runCapture(`${corpus}/snort3_demo/digium.pcap`);
  assert.deepEqual(
    digium.alerts.map((a) => a.title),
    ['Asterisk 1.6.1.21 at 172.16.8.103: past end of life'],
  );
  const kam = await runCapture(`${corpus}/suricata-verify/sip-tcp-method/sip-tcp.pcap`);
  assert.deepEqual(
    kam.alerts.map((a) => a.title),
    ['Kamailio 5.2.1 at 127.0.0.1: known vulnerabilities (CVE-2020-28361)'],
  );
  const ws = await runCapture(`${corpus}/heplify/sip_tcp_websocket.pcap`);
  assert.deepEqual(ws.alerts.map((a) => a.title).sort(), [
    'FreeSWITCH 1.8.2 at 10.243.0.143: known vulnerabilities (CVE-2021-37624, CVE-2023-51443)',
    'FreeSWITCH 1.8.2 at 10.243.0.157: known vulnerabilities (CVE-2021-37624, CVE-2023-51443)',
    'OpenSIPS 2.4.2 at 10.243.1.36: known vulnerabilities (CVE-2023-28098)',
    'OpenSIPS 2.4.3 at 10.243.0.157: known vulnerabilities (CVE-2023-28098)',
  ]);
});

test('fuzz: random header values from random addresses never throw and each finding is reported once', () => {
  const h = harness();
  const parts = [
    'Asterisk PBX ',
    '16.',
    '18.',
    '20.',
    '1',
    '2',
    '0',
    '.',
    ' ',
    'kamailio (',
    '5.',
    '3CXDesktopApp/',
    '18.12.',
    '416',
    '407',
    'x',
    ')',
    '\\',
    '"',
  ];
  let seed = 3;
  const rnd = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % n;
  };
  for (let i = 0; i < 3000; i++) {
    let v = '';
    for (let j = rnd(8); j > 0; j--) v += parts[rnd(parts.length)];
    const src = `203.0.113.${rnd(4)}`;
    const req = options(src, '198.51.100.2', v);
    h.send(src, '198.51.100.2', req);
    h.send('198.51.100.2', src, ok(req, v));
  }
  const alerts = h.finish();
  const keys = alerts.map((a) => `${a.target?.ip} ${a.evidence.product} ${a.evidence.version}`);
  assert.equal(new Set(keys).size, keys.length, 'one alert per (address, product, version)');
  assert.ok(alerts.length > 0, 'some random banners name listed versions');
});

test('values answered in turn by several servers are each judged for what they say', () => {
  const h = harness();
  const servers: [string, string | undefined][] = [
    ['198.51.100.21', 'Asterisk PBX 18.20.0'],
    ['198.51.100.22', 'Asterisk PBX 18.20.0'],
    ['198.51.100.23', 'FPBX-16.0.40(22.1.0)'],
    ['198.51.100.24', undefined],
    ['198.51.100.21', 'Asterisk PBX 20.8.0'],
  ];
  for (let round = 0; round < 3; round++) {
    for (const [ip, server] of servers) {
      const req = options('203.0.113.50', ip);
      h.send('203.0.113.50', ip, req);
      h.send(ip, '203.0.113.50', ok(req, server));
    }
  }
  const alerts = h.finish();
  assert.deepEqual(alerts.map((a) => [a.target?.ip, a.evidence.value]).sort(), [
    ['198.51.100.21', 'Asterisk PBX 18.20.0'],
    ['198.51.100.21', 'Asterisk PBX 20.8.0'],
    ['198.51.100.22', 'Asterisk PBX 18.20.0'],
  ]);
});
