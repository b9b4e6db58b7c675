import assert from 'node:assert/strict';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { API_MAX_BODY_BYTES } from '../../src/config/limits.js';
import { AlertStore } from '../../src/store/alert-store.js';
import { createApiServer } from '../../src/web/api.js';
import { makeAlert, ms, tempDb } from '../store/store-fixtures.js';

const NOW = ms('2026-11-24T06:00:00Z');
const TOKEN = 's3cret-token';

interface Reply {
  status: number;
  type: string | undefined;
  body: string;
  json: () => Record<string, unknown>;
}

let port = 0;
let store: AlertStore;
let server: ReturnType<typeof createApiServer>;
let openServer: ReturnType<typeof createApiServer>;
let openPort = 0;

function call(
  method: string,
  path: string,
  opts: { body?: string; type?: string; token?: string; host?: string; port?: number } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {};
    if (opts.body !== undefined) headers['content-type'] = opts.type ?? 'application/json';
    if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`;
    if (opts.host !== undefined) headers.host = opts.host;
    const req = request(
      { host: '127.0.0.1', port: opts.port ?? port, method, path, headers, timeout: 3000 },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            type: res.headers['content-type'],
            body,
            json: () => JSON.parse(body) as Record<string, unknown>,
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end(opts.body);
  });
}

function listen(s: ReturnType<typeof createApiServer>): Promise<number> {
  return new Promise((resolve) => s.listen(0, '127.0.0.1', () => resolve((s.address() as AddressInfo).port)));
}

before(async () => {
  store = new AlertStore({ path: tempDb(), now: () => NOW });
  store.put(makeAlert({ id: 'a1', lastSeen: '2026-11-24T05:00:00Z' }));
  store.put(makeAlert({ id: 'a1', revision: 2, count: 90, lastSeen: '2026-11-24T05:10:00Z' }));
  store.put(
    makeAlert({
      id: 'b2',
      rule: 'scan.extensions',
      state: 'closed',
      source: { ip: '192.0.2.50' },
      firstSeen: '2026-11-20T00:00:00Z',
      raisedAt: '2026-11-20T00:00:00Z',
      lastSeen: '2026-11-20T01:00:00Z',
    }),
  );
  server = createApiServer({
    store,
    token: TOKEN,
    now: () => NOW,
    metrics: () => '# TYPE sipwarden_up gauge\nsipwarden_up 1\n',
    blocklist: () => '203.0.113.7\n',
  });
  port = await listen(server);
  openServer = createApiServer({ store, now: () => NOW });
  openPort = await listen(openServer);
});

after(async () => {
  await new Promise((r) => server.close(r));
  await new Promise((r) => openServer.close(r));
  store.close();
});

test('GET /api/alerts lists with filters; GET /api/alerts/:id shows revisions', async () => {
  const all = await call('GET', '/api/alerts');
  assert.equal(all.status, 200);
  assert.equal(all.type, 'application/json; charset=utf-8');
  const ids = (r: Reply) => (r.json().alerts as { alert: { id: string } }[]).map((a) => a.alert.id);
  assert.deepEqual(ids(all), ['a1', 'b2']);
  assert.deepEqual(ids(await call('GET', '/api/alerts?since=2h')), ['a1']);
  assert.deepEqual(ids(await call('GET', '/api/alerts?rule=scan.extensions')), ['b2']);
  assert.deepEqual(ids(await call('GET', '/api/alerts?state=closed&limit=5')), ['b2']);
  assert.deepEqual(ids(await call('GET', '/api/alerts?limit=1')), ['a1']);
  const one = await call('GET', '/api/alerts/a1');
  assert.equal(one.status, 200);
  const body = one.json() as { alert: { count: number }; revisions: { alert: { revision: number } }[] };
  assert.equal(body.alert.count, 90);
  assert.deepEqual(
    body.revisions.map((r) => r.alert.revision),
    [1, 2],
  );
  assert.equal((await call('GET', '/api/alerts/zz')).status, 404);
  for (const q of ['since=soon', 'state=new', 'limit=0', 'limit=x', 'severity=urgent'])
    assert.equal((await call('GET', `/api/alerts?${q}`)).status, 400, q);
});

test('writes need the bearer token; ack and suppressions round-trip', async () => {
  const ackBody = JSON.stringify({ by: 'alice', note: 'ok' });
  assert.equal((await call('POST', '/api/alerts/a1/ack', { body: ackBody })).status, 401);
  assert.equal(
    (await call('POST', '/api/alerts/a1/ack', { body: ackBody, token: 'wrong-token!' })).status,
    401,
  );
  const ack = await call('POST', '/api/alerts/a1/ack', { body: ackBody, token: TOKEN });
  assert.equal(ack.status, 200);
  assert.deepEqual(ack.json(), { n: 1, id: 'a1', by: 'alice', note: 'ok', at: NOW });
  assert.equal((await call('POST', '/api/alerts/zz/ack', { body: '{}', token: TOKEN })).status, 404);

  const sup = await call('POST', '/api/suppressions', {
    body: JSON.stringify({ source: '192.0.2.0/24', for: '24h', reason: 'monitoring' }),
    token: TOKEN,
  });
  assert.equal(sup.status, 201);
  const s = sup.json();
  assert.deepEqual(s, {
    n: s.n,
    source: '192.0.2.0/24',
    until: NOW + 86_400_000,
    reason: 'monitoring',
    created: NOW,
  });
  const listed = (await call('GET', '/api/suppressions')).json().suppressions as { n: number }[];
  assert.deepEqual(
    listed.map((x) => x.n),
    [s.n],
  );
  assert.deepEqual(
    ((await call('GET', '/api/alerts')).json().alerts as { alert: { id: string } }[]).map((a) => a.alert.id),
    ['a1'],
  );
  assert.equal((await call('DELETE', `/api/suppressions/${String(s.n)}`)).status, 401);
  assert.equal((await call('DELETE', `/api/suppressions/${String(s.n)}`, { token: TOKEN })).status, 204);
  assert.equal((await call('DELETE', `/api/suppressions/${String(s.n)}`, { token: TOKEN })).status, 404);
  assert.equal((await call('DELETE', '/api/suppressions/abc', { token: TOKEN })).status, 400);
  // Until as an ISO time.
  const iso = await call('POST', '/api/suppressions', {
    body: JSON.stringify({ rule: 'auth.*', until: '2026-11-25T00:00:00Z' }),
    token: TOKEN,
  });
  assert.equal(iso.json().until, ms('2026-11-25T00:00:00Z'));
});

test('bad bodies: invalid JSON, wrong type, missing fields, oversize', async () => {
  const post = (body: string, type?: string) =>
    call('POST', '/api/suppressions', { body, token: TOKEN, ...(type !== undefined ? { type } : {}) });
  const bad = await post('{"rule": ');
  assert.equal(bad.status, 400);
  assert.match(String(bad.json().error), /^request body is not valid JSON/);
  assert.equal((await post('[1,2]')).status, 400);
  assert.equal((await post('{"rule":"x"}', 'text/plain')).status, 415);
  assert.equal((await post('{"for":"1h"}')).status, 400);
  assert.equal((await post('{"rule":"x"}')).status, 400, 'no end time');
  assert.equal((await post('{"rule":"x","for":"forever"}')).status, 400);
  assert.equal((await post('{"rule":"x","until":"2h"}')).status, 400, 'until is not a duration');
  assert.equal((await post('{"source":"not-an-ip","for":"1h"}')).status, 400);
  assert.equal((await post('{"rule":5,"for":"1h"}')).status, 400);
  const big = await post(JSON.stringify({ rule: 'x', for: '1h', reason: 'r'.repeat(API_MAX_BODY_BYTES) }));
  assert.equal(big.status, 413);
  // The same without a Content-Length (chunked): cut while reading.
  const chunked = await new Promise<number>((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/api/suppressions',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('error', reject);
    req.write('{"reason":"');
    req.write('r'.repeat(API_MAX_BODY_BYTES));
    req.end('"}');
  });
  assert.equal(chunked, 413);
});

test('metrics, block list, health, unknown paths and methods, foreign Host headers', async () => {
  const m = await call('GET', '/metrics');
  assert.deepEqual(
    [m.status, m.type, m.body],
    [200, 'text/plain; version=0.0.4; charset=utf-8', '# TYPE sipwarden_up gauge\nsipwarden_up 1\n'],
  );
  const b = await call('GET', '/blocklist.txt');
  assert.deepEqual([b.status, b.body], [200, '203.0.113.7\n']);
  assert.deepEqual(
    [(await call('GET', '/healthz')).status, (await call('GET', '/healthz')).body],
    [200, 'ok\n'],
  );
  assert.equal((await call('GET', '/nope')).status, 404);
  assert.equal((await call('GET', '/api/nope')).status, 404);
  assert.equal((await call('DELETE', '/api/alerts')).status, 405);
  assert.equal((await call('GET', '/metrics', { port: openPort })).status, 404, 'metrics not configured');
  assert.equal((await call('GET', '/api/alerts', { host: 'evil.example:8080' })).status, 403);
  assert.equal((await call('GET', '/api/alerts', { host: 'localhost:8080' })).status, 200);
  assert.equal((await call('GET', '/api/alerts', { host: '[::1]:8080' })).status, 200);
});

test('without a token, writes are open (the loopback default)', async () => {
  const r = await call('POST', '/api/alerts/a1/ack', { body: '{}', port: openPort });
  assert.equal(r.status, 200);
  assert.equal(r.json().by, 'api');
});

test('fuzz: random paths and bodies never crash the server', async () => {
  let seed = 7;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const pieces = ['api', 'alerts', 'suppressions', 'ack', 'a1', '%00', '..', '%ff', '1', 'metrics', ''];
  for (let i = 0; i < 60; i++) {
    const path = '/' + Array.from({ length: rnd(5) }, () => pieces[rnd(pieces.length)]).join('/');
    const method = ['GET', 'POST', 'DELETE', 'PUT'][rnd(4)] ?? 'GET';
    const body =
      method === 'POST'
        ? Buffer.from(Array.from({ length: rnd(64) }, () => rnd(256))).toString('latin1')
        : undefined;
    const r = await call(method, path, { token: TOKEN, ...(body !== undefined ? { body } : {}) });
    assert.ok([200, 201, 204, 400, 404, 405, 409, 415].includes(r.status), `${method} ${path}: ${r.status}`);
  }
  assert.equal((await call('GET', '/healthz')).status, 200);
});
