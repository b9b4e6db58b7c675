import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseRetryAfter, slackBody, teamsBody, WebhookSink } from '../../src/sinks/webhook.js';
import { SinkError, SinkRunner } from '../../src/sinks/sink.js';
import { makeAlert, MemOutbox } from './helpers.js';

interface Got {
  headers: IncomingMessage['headers'];
  body: string;
}

/** An HTTP receiver answering each request with the next scripted reply. */
async function receiver(
  replies: ((res: ServerResponse) => void)[],
): Promise<{ url: string; got: Got[]; close: () => Promise<void> }> {
  const got: Got[] = [];
  const srv = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (body += d));
    req.on('end', () => {
      got.push({ headers: req.headers, body });
      const r = replies.shift();
      if (r === undefined) res.writeHead(200).end('ok');
      else r(res);
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    got,
    close: () =>
      new Promise<void>((r) => {
        srv.closeAllConnections();
        srv.close(() => r());
      }),
  };
}

test('generic: fails twice with 500/503, then the runner gets it through', async () => {
  const rx = await receiver([(res) => res.writeHead(500).end(), (res) => res.writeHead(503).end()]);
  const box = new MemOutbox();
  const secret = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
  box.add(makeAlert(1, { evidence: { response: secret } }));
  const sink = new WebhookSink({ url: rx.url, headers: { 'X-Token': 't0k' } });
  const r = new SinkRunner(box, [sink], { retryBaseMs: 5, retryMaxMs: 20 });
  r.notify();
  for (let i = 0; i < 200 && box.cursor(sink.name) < 1; i++) await new Promise((res) => setTimeout(res, 5));
  assert.equal(await r.close(1000), true);
  await rx.close();
  assert.equal(rx.got.length, 3);
  assert.equal(box.cursor(sink.name), 1);
  const s = r.stats()[0];
  assert.equal(s?.sent, 1);
  assert.equal(s?.failed, 2);
  assert.equal(s?.retried, 2);
  const last = rx.got[2] as Got;
  assert.equal(last.headers['content-type'], 'application/json');
  assert.equal(last.headers['x-token'], 't0k');
  const body = JSON.parse(last.body) as { id: string; evidence: { response: string } };
  assert.equal(body.id, 'a000000000000001');
  assert.notEqual(body.evidence.response, secret);
  assert.ok(!last.body.includes(secret));
});

test('429 carries Retry-After; 400 is a rejection; redirects are not followed', async () => {
  const rx = await receiver([
    (res) => res.writeHead(429, { 'Retry-After': '7' }).end(),
    (res) => res.writeHead(400).end('bad'),
    (res) => res.writeHead(302, { Location: 'http://127.0.0.1:1/' }).end(),
  ]);
  const sink = new WebhookSink({ url: rx.url });
  await assert.rejects(sink.send([makeAlert(1)]), (e: unknown) => {
    assert.ok(e instanceof SinkError);
    assert.equal(e.retryable, true);
    assert.equal(e.retryAfterMs, 7000);
    return true;
  });
  await assert.rejects(sink.send([makeAlert(1)]), (e: unknown) => e instanceof SinkError && !e.retryable);
  await assert.rejects(sink.send([makeAlert(1)]), (e: unknown) => e instanceof SinkError && !e.retryable);
  assert.equal(sink.stats.rejected, 2);
  assert.equal(rx.got.length, 3);
  await rx.close();
});

test('a 400 through the runner is dropped and counted, and the next alert goes', async () => {
  const rx = await receiver([(res) => res.writeHead(400).end()]);
  const box = new MemOutbox();
  box.add(makeAlert(1));
  box.add(makeAlert(2));
  const sink = new WebhookSink({ url: rx.url, name: 'hook' });
  const r = new SinkRunner(box, [sink], { retryBaseMs: 5 });
  r.notify();
  for (let i = 0; i < 200 && box.cursor('hook') < 2; i++) await new Promise((res) => setTimeout(res, 5));
  await r.close(1000);
  await rx.close();
  const s = r.stats()[0];
  assert.equal(s?.dropped, 1);
  assert.equal(s?.sent, 1);
  assert.equal(s?.retried, 0);
  assert.equal(box.cursor('hook'), 2);
});

test('a receiver that never answers times out as a retryable error', async () => {
  const rx = await receiver([() => undefined]);
  const sink = new WebhookSink({ url: rx.url, timeoutMs: 150 });
  const t0 = Date.now();
  await assert.rejects(sink.send([makeAlert(1)]), (e: unknown) => e instanceof SinkError && e.retryable);
  assert.ok(Date.now() - t0 < 2000);
  await rx.close();
});

test('slack and teams bodies: one message per batch, wire text made inert', async () => {
  const rx = await receiver([]);
  const evil = makeAlert(1, { title: '<!channel> <http://evil.example|click> [x](http://evil) *b*' });
  const batch = [evil, ...Array.from({ length: 14 }, (_, i) => makeAlert(i + 2, { severity: 'medium' }))];
  const slack = new WebhookSink({ url: rx.url, format: 'slack' });
  await slack.send(batch);
  const teams = new WebhookSink({ url: rx.url, format: 'teams' });
  await teams.send(batch);
  await rx.close();
  assert.equal(rx.got.length, 2);
  const s = JSON.parse((rx.got[0] as Got).body) as {
    text: string;
    blocks: { type: string; text?: { text: string } }[];
  };
  assert.match(s.text, /^sipwarden: 15 alerts \(1 high, 14 medium\)/);
  assert.equal(s.blocks[0]?.type, 'header');
  assert.equal(s.blocks.filter((b) => b.type === 'section').length, 10);
  assert.equal(s.blocks[s.blocks.length - 1]?.type, 'context');
  assert.ok(!(rx.got[0] as Got).body.includes('<!channel>'));
  assert.ok((s.blocks[1]?.text?.text ?? '').includes('&lt;!channel&gt;'));
  const t = JSON.parse((rx.got[1] as Got).body) as {
    type: string;
    attachments: { contentType: string; content: { type: string; body: { text?: string }[] } }[];
  };
  assert.equal(t.type, 'message');
  assert.equal(t.attachments[0]?.contentType, 'application/vnd.microsoft.card.adaptive');
  assert.equal(t.attachments[0]?.content.type, 'AdaptiveCard');
  const texts = t.attachments[0]?.content.body.map((b) => b.text ?? '').join('\n') ?? '';
  assert.ok(texts.includes('\\[x\\]\\(http://evil\\)'), texts);
  assert.ok(texts.includes('and 5 more'));
  assert.deepEqual(slackBody([]), {
    text: 'sipwarden: 0 alerts ()',
    blocks: [{ type: 'header', text: { type: 'plain_text', text: 'sipwarden: 0 alerts ()' } }],
  });
  assert.equal((teamsBody([makeAlert(1)]) as { type: string }).type, 'message');
});

test('Retry-After parsing and URL checks', () => {
  const now = Date.parse('2026-11-24T05:00:00Z');
  assert.equal(parseRetryAfter('120', now), 120_000);
  assert.equal(parseRetryAfter('Tue, 24 Nov 2026 05:00:30 GMT', now), 30_000);
  assert.equal(parseRetryAfter('Tue, 24 Nov 2026 04:00:00 GMT', now), 0);
  assert.equal(parseRetryAfter('soon', now), undefined);
  assert.equal(parseRetryAfter(null, now), undefined);
  assert.equal(parseRetryAfter('-5', now), undefined);
  assert.throws(() => new WebhookSink({ url: 'ftp://127.0.0.1/' }), /http/);
});
