/**
 * The web console check against tiny local servers on 127.0.0.96: HTTP 5000 redirects (same host)
 * to a 3CX-like login page whose assets carry the build, HTTPS 5001 (self-signed) names a vulnerable
 * 3CX build in its generator tag, HTTP 80 redirects to another host (127.0.0.97), which must never be
 * contacted. Also the page fingerprint on its own: negative cases and random input.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createTcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fingerprintConsole } from '../../src/audit/checks/web-console.js';
import { auditTarget } from '../../src/audit/run.js';
import { testOptions } from './lab-helper.js';

const skip =
  spawnSync('sh', ['-c', 'command -v openssl']).status === 0 ? undefined : 'openssl CLI not installed';
const LOGIN =
  '<!DOCTYPE html><html><head><title>3CX Phone System Management Console</title>' +
  '<link rel="stylesheet" href="styles.css?v=18.0.9.20"><script src="main.js?v=18.0.9.20"></script></head>' +
  '<body><form><input name="username"><input type="password" name="password"></form></body></html>';
const WEBCLIENT =
  '<html><head><meta name="generator" content="3CX Phone System 18.0.2.100"><title>3CX Webclient</title></head>' +
  '<body><input type="password"></body></html>';

function answer(head: Record<string, string>, body: string): HttpAnswerLike {
  const lines = ['HTTP/1.1 200 OK', ...Object.entries(head).map(([k, v]) => `${k}: ${v}`)];
  return {
    status: 200,
    contentType: 'text/html',
    body: Buffer.from(body, 'latin1'),
    truncated: false,
    location: undefined,
    server: head.Server,
    requestText: 'GET / HTTP/1.1\r\n\r\n',
    responseHead: `${lines.join('\r\n')}\r\n\r\n`,
  };
}
type HttpAnswerLike = Parameters<typeof fingerprintConsole>[0];

test('fingerprint: 3CX login page, generator tag, Server header; plain pages are not consoles', () => {
  const a = fingerprintConsole(answer({}, LOGIN));
  assert.equal(a.product, '3CX Phone System');
  assert.equal(a.version, '18.0.9.20');
  assert.equal(a.versionFrom, 'asset query');
  assert.equal(a.login, true);
  const b = fingerprintConsole(answer({}, WEBCLIENT));
  assert.equal(b.version, '18.0.2.100');
  assert.equal(b.versionFrom, 'generator');
  const c = fingerprintConsole(answer({ Server: 'nginx/1.18.0' }, '<title>Welcome</title>hello'));
  assert.equal(c.product, undefined);
  assert.equal(c.login, false);
  assert.equal(c.version, '1.18.0');
  const d = fingerprintConsole(answer({}, '<title>Shop 2.0</title>'));
  assert.equal(d.product, undefined);
  assert.equal(d.version, undefined, 'a number with no product marker is no version');
});

test('fingerprint fuzz: random bytes never throw and stay bounded', () => {
  let seed = 7;
  const rnd = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const alphabet = '<>="\'/ 3CXtitlepasswordinput.?v=0123456789\r\n\x00\x1b';
  for (let i = 0; i < 300; i++) {
    let s = '';
    const n = rnd(3000);
    for (let j = 0; j < n; j++) s += alphabet[rnd(alphabet.length)];
    const fp = fingerprintConsole(answer({ Server: s.slice(0, 100) }, s));
    assert.ok((fp.title ?? '').length <= 200);
    assert.ok((fp.version ?? '').length <= 40);
  }
});

function listen(
  server: HttpServer | ReturnType<typeof createTcpServer>,
  port: number,
  host: string,
): Promise<boolean> {
  return new Promise((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, host, () => resolve(true));
  });
}

test(
  'web console: HTTP and HTTPS login pages, version, certificate; off-host redirect not followed',
  { skip },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sw-audit-web-'));
    const key = join(dir, 'k.pem');
    const crt = join(dir, 'c.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '3',
        '-subj',
        '/CN=pbx.sipwarden.test',
        '-keyout',
        key,
        '-out',
        crt,
      ],
      { stdio: 'pipe' },
    );
    const seen: string[] = [];
    const http = createHttpServer((req, res) => {
      seen.push(`${req.method ?? ''} ${req.url ?? ''} ${req.headers['user-agent'] ?? ''}`);
      if (req.url === '/') {
        res.writeHead(302, { Location: '/login' });
        res.end();
        return;
      }
      res.writeHead(200, { 'Content-Type': 'text/html', Server: 'nginx' });
      res.end(LOGIN);
    });
    const https = createHttpsServer({ key: readFileSync(key), cert: readFileSync(crt) }, (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end(WEBCLIENT);
    });
    const off = createHttpServer((_req, res) => {
      res.writeHead(301, { Location: 'http://127.0.0.97/login' });
      res.end();
    });
    let decoyHits = 0;
    const decoy = createTcpServer((s) => {
      decoyHits++;
      s.destroy();
    });
    const up = [
      await listen(http, 5000, '127.0.0.96'),
      await listen(https as unknown as HttpServer, 5001, '127.0.0.96'),
    ];
    const with80 = (await listen(off, 80, '127.0.0.96')) && (await listen(decoy, 80, '127.0.0.97'));
    try {
      assert.deepEqual(up, [true, true]);
      const r = await auditTarget(
        { host: '127.0.0.96', port: undefined, address: '127.0.0.96', family: 4 },
        testOptions({
          checks: ['ports', 'web-console'],
          tcpPorts: [80, 5000, 5001],
          sni: 'pbx.sipwarden.test',
        }),
      );
      const consoles = r.findings.filter((f) => f.id === 'audit.web-console-exposed');
      assert.deepEqual(consoles.map((f) => `${String(f.evidence.url)} ${f.severity}`).sort(), [
        'http://127.0.0.96:5000/login medium',
        'https://127.0.0.96:5001/ low',
      ]);
      const http5000 = consoles.find((f) => String(f.evidence.url).includes(':5000'));
      assert.equal(http5000?.evidence.product, '3CX Phone System');
      assert.equal(http5000?.evidence.version, '18.0.9.20');
      assert.match(
        String(http5000?.evidence.request),
        /^GET \/login HTTP\/1\.1\nUser-Agent: sipwarden-audit/,
      );
      assert.match(String(http5000?.evidence.response), /^HTTP\/1\.1 200 OK\n/);
      const versions = r.findings
        .filter((f) => f.id === 'audit.version-disclosure')
        .map((f) => f.evidence.version);
      assert.deepEqual(versions.sort(), ['18.0.2.100', '18.0.9.20']);
      const vuln = r.findings.filter((f) => f.id === 'audit.vulnerable-version');
      assert.ok(
        vuln.some((f) => (f.evidence.ids as string[]).includes('CVE-2022-48482')),
        JSON.stringify(vuln),
      );
      const cert = r.findings.find((f) => f.id === 'audit.tls-certificate');
      assert.deepEqual(cert?.evidence.problems, ['self-signed']);
      assert.match(String(cert?.evidence.response), /^ServerHello TLSv1\.[23] .*CN=pbx\.sipwarden\.test/);
      assert.ok(
        seen.every((l) => /sipwarden-audit/.test(l)),
        'every GET says who it is',
      );
      assert.ok(
        !r.findings.some(
          (f) => f.id === 'audit.web-console-exposed' && String(f.evidence.url).includes(':80/'),
        ),
      );
      if (with80) {
        assert.equal(decoyHits, 0, 'the redirect target on another host is never contacted');
        assert.ok(r.parameters.redirectsNotFollowed >= 1);
        assert.ok(r.parameters.notes.some((n) => /127\.0\.0\.97\/login recorded, not followed/.test(n.note)));
      }
      for (const f of r.findings) {
        assert.equal(typeof f.evidence.request, 'string', f.id);
        assert.equal(typeof f.evidence.response, 'string', f.id);
      }
    } finally {
      for (const s of [http, https, off, decoy]) s.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
