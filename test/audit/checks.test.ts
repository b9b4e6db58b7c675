/**
 * The port and provisioning checks against local servers on loopback: a TCP port that accepts is
 * open (and a finding when it should not face the internet), a refused one closed; an HTTP GET is
 * made without credentials, a redirect is recorded and not followed, a catch-all page is not a leak.
 */
import assert from 'node:assert/strict';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { test } from 'node:test';
import type { AuditFacts, CheckContext } from '../../src/audit/context.js';
import { runPortCheck } from '../../src/audit/checks/ports.js';
import { httpGet, looksLikeConfig } from '../../src/audit/checks/provisioning.js';
import { RateLimiter } from '../../src/audit/rate-limiter.js';
import { Scope } from '../../src/audit/scope.js';
import { SipProbe } from '../../src/audit/sip-probe.js';
import { testOptions } from './lab-helper.js';

function context(address: string, tcpPorts: number[]): CheckContext {
  const target = { host: address, port: undefined, address, family: 4 as const };
  const scope = new Scope([target]);
  const probe = new SipProbe({ scope, limiter: new RateLimiter(100), userAgent: 'test', timeoutMs: 500 });
  const facts: AuditFacts = {
    openTcp: new Set(),
    sipEndpoint: undefined,
    answering: [],
    sdpAnswers: [],
    blocked: false,
  };
  return { target, probe, facts, options: testOptions({ checks: ['ports'], tcpPorts, timeoutMs: 500 }) };
}

test('ports: open and closed TCP ports; an open unlisted port is reported', async () => {
  const server = createServer((s) => s.destroy());
  await new Promise<void>((r) => server.listen(0, '127.0.0.90', () => r()));
  const open = (server.address() as AddressInfo).port;
  const closedServer = createServer();
  await new Promise<void>((r) => closedServer.listen(0, '127.0.0.90', () => r()));
  const closed = (closedServer.address() as AddressInfo).port;
  await new Promise<void>((r) => closedServer.close(() => r()));
  const ctx = context('127.0.0.90', [open, closed]);
  const out = await runPortCheck(ctx);
  await ctx.probe.close();
  server.close();
  const rows = out.data.ports as { port: number; state: string }[];
  assert.deepEqual(
    rows.map((r) => r.state),
    ['open', 'closed'],
  );
  assert.ok(ctx.facts.openTcp.has(open) && !ctx.facts.openTcp.has(closed));
  assert.equal(out.findings.length, 1);
  assert.equal(out.findings[0]?.id, 'audit.port-exposed');
  assert.equal(out.findings[0]?.evidence.port, open);
});

test('provisioning: GET without credentials, redirects not followed, catch-alls ignored', async () => {
  const seen: string[] = [];
  const server = createHttpServer((req, res) => {
    seen.push(req.url ?? '');
    if (req.url === '/y000000000000.cfg') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('#!version:1.0.0.1\naccount.1.sip_server.1.address = pbx\naccount.1.password = secret\n');
    } else if (req.url === '/provisioning/') {
      res.writeHead(302, { location: 'http://127.0.0.91:1/elsewhere' });
      res.end();
    } else {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<!doctype html><html><body>app</body></html>');
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.90', () => r()));
  const port = (server.address() as AddressInfo).port;
  const ctx = context('127.0.0.90', []);
  const cfg = await httpGet(ctx, 'http', port, '/y000000000000.cfg');
  const redirect = await httpGet(ctx, 'http', port, '/provisioning/');
  const page = await httpGet(ctx, 'http', port, '/XMLDefault.cnf.xml');
  await ctx.probe.close();
  server.close();
  assert.ok(!('error' in cfg) && cfg.status === 200);
  assert.ok(!('error' in cfg) && looksLikeConfig('/y000000000000.cfg', cfg));
  assert.ok(
    !('error' in redirect) &&
      redirect.status === 302 &&
      redirect.location === 'http://127.0.0.91:1/elsewhere',
  );
  assert.ok(
    !('error' in page) && !looksLikeConfig('/XMLDefault.cnf.xml', page),
    'an HTML app page is not a config',
  );
  assert.deepEqual(
    seen,
    ['/y000000000000.cfg', '/provisioning/', '/XMLDefault.cnf.xml'],
    'the redirect was not followed',
  );
  // Out of scope: refused before any connection.
  const other = context('127.0.0.92', []);
  const refused = await httpGet(
    { ...other, target: { ...other.target, address: '127.0.0.90' } },
    'http',
    port,
    '/',
  );
  assert.deepEqual(refused, { error: 'not a target' });
  await other.probe.close();
});
