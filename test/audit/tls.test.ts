/**
 * The TLS check against local node:tls servers with certificates made here by the openssl CLI: an
 * expired, self-signed, 1024-bit certificate for another name on a server that still accepts TLS
 * 1.0/1.1 (every problem reported), a clean modern server (no tls-weak), and a PBX answering SIP
 * over UDP with no TLS listener (no-tls). Also the certificate rules on their own.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createServer, type Server } from 'node:tls';
import { auditTarget } from '../../src/audit/run.js';
import { parseSipMessage } from '../../src/sip/message.js';
import { testOptions } from './lab-helper.js';

const skip =
  spawnSync('sh', ['-c', 'command -v openssl']).status === 0 ? undefined : 'openssl CLI not installed';
let dir = '';

function makeCert(name: string, bits: number, days: number, cn: string): { key: Buffer; cert: Buffer } {
  const key = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  const crt = join(dir, `${name}.crt`);
  execFileSync(
    'openssl',
    ['req', '-new', '-newkey', `rsa:${bits}`, '-nodes', '-keyout', key, '-subj', `/CN=${cn}`, '-out', csr],
    {
      stdio: 'pipe',
    },
  );
  execFileSync('openssl', ['x509', '-req', '-in', csr, '-signkey', key, '-days', String(days), '-out', crt], {
    stdio: 'pipe',
  });
  return { key: readFileSync(key), cert: readFileSync(crt) };
}

async function listen(server: Server, address: string): Promise<number> {
  await new Promise<void>((r) => server.listen(0, address, () => r()));
  const a = server.address();
  return typeof a === 'object' && a !== null ? a.port : 0;
}

before(() => {
  if (skip === undefined) dir = mkdtempSync(join(tmpdir(), 'sw-audit-tls-'));
});
after(() => {
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

test(
  'expired, self-signed, weak, wrong-name certificate and TLS 1.0 are all reported',
  { skip },
  async () => {
    // days -1: notAfter one day before notBefore, so the certificate is already expired.
    const { key, cert } = makeCert('bad', 1024, -1, 'pbx.example.test');
    const server = createServer({ key, cert, minVersion: 'TLSv1', ciphers: 'DEFAULT:@SECLEVEL=0' }, (s) =>
      s.end(),
    );
    const port = await listen(server, '127.0.0.86');
    try {
      const r = await auditTarget(
        { host: '127.0.0.86', port: undefined, address: '127.0.0.86', family: 4 },
        testOptions({ checks: ['tls'], tlsPort: port, sni: 'pbx.sipwarden.test' }),
      );
      const certFinding = r.findings.find((f) => f.id === 'audit.tls-certificate');
      assert.ok(certFinding, r.findings.map((f) => f.id).join(', '));
      assert.equal(certFinding.severity, 'high');
      assert.deepEqual([...(certFinding.evidence.problems as string[])].sort(), [
        'expired',
        'self-signed',
        'weak-key',
        'wrong-name',
      ]);
      assert.equal(certFinding.evidence.nameChecked, 'pbx.sipwarden.test');
      const versions = (r.checks.tls as { versions: { version: string; outcome: string }[] }).versions;
      const v1 = versions.find((v) => v.version === 'TLSv1');
      if (v1?.outcome === 'local-unsupported') {
        // Said plainly rather than passed over.
        assert.ok(r.parameters.notes.some((n) => /cannot offer .*TLSv1/.test(n.note)));
      } else {
        assert.equal(v1?.outcome, 'accepted');
        const weak = r.findings.find((f) => f.id === 'audit.tls-weak');
        assert.ok(weak, 'tls-weak expected');
        assert.match(weak.title, /TLSv1\b/);
      }
      assert.equal(versions.find((v) => v.version === 'TLSv1.3')?.outcome, 'accepted');
    } finally {
      server.close();
    }
  },
);

test('a modern server with a matching certificate: no tls-weak, only self-signed', { skip }, async () => {
  const { key, cert } = makeCert('good', 2048, 30, 'pbx.sipwarden.test');
  const server = createServer({ key, cert, minVersion: 'TLSv1.2' }, (s) => s.end());
  const port = await listen(server, '127.0.0.86');
  try {
    const r = await auditTarget(
      { host: '127.0.0.86', port: undefined, address: '127.0.0.86', family: 4 },
      testOptions({ checks: ['tls'], tlsPort: port, sni: 'pbx.sipwarden.test' }),
    );
    assert.ok(!r.findings.some((f) => f.id === 'audit.tls-weak'));
    const c = r.findings.find((f) => f.id === 'audit.tls-certificate');
    assert.deepEqual(c?.evidence.problems, ['self-signed']);
    assert.equal(c?.severity, 'medium');
    const versions = (r.checks.tls as { versions: { version: string; outcome: string }[] }).versions;
    assert.equal(versions.find((v) => v.version === 'TLSv1.1')?.outcome !== 'accepted', true);
    assert.equal(versions.find((v) => v.version === 'TLSv1.2')?.outcome, 'accepted');
  } finally {
    server.close();
  }
});

test('SIP over UDP without a TLS listener is no-tls', async () => {
  const sock = createSocket('udp4');
  sock.on('message', (msg, rinfo) => {
    const m = parseSipMessage(msg);
    if (m.kind !== 'request') return;
    const text = msg.toString('latin1');
    const pick = (n: string): string => new RegExp(`^${n}:.*$`, 'im').exec(text)?.[0] ?? '';
    const resp = [
      'SIP/2.0 200 OK',
      pick('Via'),
      pick('From'),
      `${pick('To')};tag=x`,
      pick('Call-ID'),
      pick('CSeq'),
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
    sock.send(resp, rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => sock.bind(0, '127.0.0.87', () => r()));
  const sipPort = sock.address().port;
  try {
    const r = await auditTarget(
      { host: '127.0.0.87', port: sipPort, address: '127.0.0.87', family: 4 },
      // The TLS port is the UDP port's number over TCP: nobody listens there.
      testOptions({ checks: ['fingerprint', 'tls'], sipPort, tlsPort: sipPort }),
    );
    const f = r.findings.find((x) => x.id === 'audit.no-tls');
    assert.ok(f, r.findings.map((x) => x.id).join(', '));
    assert.deepEqual(f.evidence.clearTransports, [`udp/${sipPort}`]);
  } finally {
    sock.close();
  }
});
