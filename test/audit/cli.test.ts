/**
 * `sipwarden audit` end to end through runAudit: usage errors, a JSON report written with -o, a
 * second run against it as --baseline in HTML, and --fail-on. The PBX is a UDP responder on loopback.
 */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { AuditReport } from '../../src/audit/report.js';
import { parseAuthIds, runAudit } from '../../src/cli/audit.js';
import { UsageError } from '../../src/cli/exit-codes.js';
import { parseSipMessage } from '../../src/sip/message.js';

test('usage errors', async () => {
  const bad = [
    [],
    ['127.0.0.1', '--format', 'pdf'],
    ['10.0.0.0/24'],
    ['127.0.0.1', '--wordlist', 'words.txt'],
    ['127.0.0.1', '--rate', '1000'],
    ['127.0.0.1', '--checks', 'ports,nmap'],
    ['127.0.0.1', '--test-number', '12; rm'],
    ['127.0.0.1', '--fail-on', 'bad'],
    ['127.0.0.1', '--auth-id', '101'],
    ['127.0.0.1', '--auth-id', '101=a b'],
  ];
  for (const args of bad) await assert.rejects(runAudit(args), UsageError, args.join(' '));
  assert.deepEqual(
    [...parseAuthIds(['101=xK3p9qL2,102=Lp4Wn8Rz', '103=Zt6Yc1Hb'])],
    [
      ['101', 'xK3p9qL2'],
      ['102', 'Lp4Wn8Rz'],
      ['103', 'Zt6Yc1Hb'],
    ],
  );
});

test('json report, then an html report against it as baseline, and --fail-on', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sw-audit-cli-'));
  const sock = createSocket('udp4');
  sock.on('message', (msg, rinfo) => {
    if (parseSipMessage(msg).kind !== 'request') return;
    const text = msg.toString('latin1');
    const pick = (n: string): string => new RegExp(`^${n}:.*$`, 'im').exec(text)?.[0] ?? '';
    const resp = [
      'SIP/2.0 200 OK',
      pick('Via'),
      pick('From'),
      `${pick('To')};tag=x`,
      pick('Call-ID'),
      pick('CSeq'),
      'Server: EvilPBX 1.2.3 <script>alert(1)</script>',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
    sock.send(resp, rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => sock.bind(0, '127.0.0.93', () => r()));
  const port = String(sock.address().port);
  const json = join(dir, 'q3.json');
  const htmlFile = join(dir, 'q4.html');
  const common = ['--checks', 'fingerprint', '--rate', '50', '--timeout', '300', '--tls-port', port];
  const stderr = process.stderr.write.bind(process.stderr);
  process.stderr.write = () => true;
  try {
    assert.equal(await runAudit([`127.0.0.93:${port}`, ...common, '--format', 'json', '-o', json]), 0);
    const doc = JSON.parse(readFileSync(json, 'utf8')) as AuditReport;
    assert.equal(doc.target.address, '127.0.0.93');
    assert.equal(doc.target.sipPort, Number(port));
    assert.deepEqual(
      doc.findings.map((f) => f.id),
      ['audit.version-disclosure'],
    );
    assert.equal(doc.score, 97);
    // Add a finding the next run will not see: it is "fixed" (its check ran again).
    doc.findings.push({
      ...doc.findings[0],
      key: 'audit.vulnerable-version|old',
      id: 'audit.vulnerable-version',
      title: 'old',
    } as never);
    writeFileSync(json, JSON.stringify(doc));
    assert.equal(
      await runAudit([
        `127.0.0.93:${port}`,
        ...common,
        '--format',
        'html',
        '-o',
        htmlFile,
        '--baseline',
        json,
      ]),
      0,
    );
    const out = readFileSync(htmlFile, 'utf8');
    assert.match(out, /unchanged/);
    assert.match(out, /1 fixed/);
    assert.ok(!out.includes('<script>'));
    assert.equal(
      await runAudit([`127.0.0.93:${port}`, ...common, '--format', 'json', '-o', json, '--fail-on', 'low']),
      1,
    );
    assert.equal(
      await runAudit([`127.0.0.93:${port}`, ...common, '--baseline', join(dir, 'missing.json')]),
      3,
    );
  } finally {
    process.stderr.write = stderr;
    sock.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
