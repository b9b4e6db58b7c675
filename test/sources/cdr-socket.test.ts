// The 3CX CDR socket outputs end to end on loopback: small Node clients and servers stand in for
// 3CX (each with its own 127.x address), every loop bounded in count and time.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { ThreeCxCdrParser, type CdrAnomaly } from '../../src/cdr/3cx.js';
import type { CdrSink } from '../../src/cdr/line-stream.js';
import type { CdrCall } from '../../src/core/records.js';
import { CdrClient, CdrListener } from '../../src/sources/cdr-socket.js';
import { createCdrSources } from '../../src/sources/cdr-sources.js';
import { validateCdrConfig } from '../../src/cdr/cdr-config.js';
import { SourceHealth } from '../../src/sources/source-health.js';
import { waitFor } from './live-helpers.js';

const LINES = readFileSync('test/fixtures/cdr/3cx-v18-toll-fraud-night.log', 'utf8')
  .split('\r\n')
  .filter((l) => l.length > 0);
const parser = new ThreeCxCdrParser({ timeZone: 'Europe/Berlin' });

function collector(): CdrSink & { calls: CdrCall[]; anomalies: CdrAnomaly[] } {
  const calls: CdrCall[] = [];
  const anomalies: CdrAnomaly[] = [];
  return { calls, anomalies, call: (c) => calls.push(c), anomaly: (a) => anomalies.push(a) };
}

function portOf(addr: string): number {
  return Number(addr.slice(addr.lastIndexOf(':') + 1));
}

/** A TCP client from `localAddress`, resolved once connected. */
function client(port: number, localAddress: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, localAddress }, () => resolve(s));
    s.once('error', reject);
  });
}

function closed(s: Socket): Promise<void> {
  return new Promise((r) => (s.destroyed ? r() : s.once('close', () => r())));
}

function listen(server: Server, host: string, port = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const a = server.address();
      resolve(a !== null && typeof a === 'object' ? a.port : 0);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((r) => server.close(() => r()));
}

describe('CdrListener (active socket: 3CX connects to sipwarden)', () => {
  it('reads records from kept-open and one-record connections, from allowed peers only', async () => {
    const sink = collector();
    const l = new CdrListener(
      { listen: 'tcp://127.0.0.1:0', allow: ['127.0.0.2', '127.0.0.3/32'], maxLineBytes: 4096 },
      parser,
      sink,
    );
    assert.equal(l.kind, 'cdr');
    await l.start();
    const port = portOf(l.addresses()[0] ?? '');
    try {
      // 3CX keeping one connection open, records split at arbitrary points.
      const a = await client(port, '127.0.0.2');
      const stream = Buffer.from(`${LINES.slice(0, 5).join('\r\n')}\r\n`);
      for (let at = 0; at < stream.length; at += 97) a.write(stream.subarray(at, at + 97));
      a.write(`Call ${'8'.repeat(5000)}\r\n`);
      await waitFor(() => sink.calls.length === 5, 'five calls on the open connection');
      // 3CX opening a connection per record, the last line without LF.
      for (const line of LINES.slice(5, 8)) {
        const b = await client(port, '127.0.0.3');
        b.end(line);
        await closed(b);
      }
      await waitFor(() => sink.calls.length === 8, 'three more calls, one per connection');
      // Someone else: refused before any byte is read.
      const c = await client(port, '127.0.0.9');
      c.on('error', () => undefined);
      c.write(`${LINES[8]}\r\n`);
      await closed(c);
      await waitFor(() => l.stats().rejected === 1, 'the stranger refused');
      assert.equal(sink.calls.length, 8);
      assert.deepEqual(
        sink.calls.map((x) => x.dialled),
        LINES.slice(0, 8).map((x) => x.split(',')[11]),
      );
      // Line numbers count across connections (the too-long line is line 6).
      assert.deepEqual(
        sink.calls.map((x) => x.provenance.line),
        [1, 2, 3, 4, 5, 7, 8, 9],
      );
      assert.deepEqual(
        sink.anomalies.map((x) => [x.code, x.provenance.line]),
        [['cdr_line_too_long', 6]],
      );
      const st = l.stats();
      assert.equal(st.up, true);
      assert.equal(st.recognised, 8);
      assert.equal(st.accepted, 9);
      assert.equal(st.dropped, 1);
      assert.equal(st.connects, 4);
      assert.equal(st.connections, 1);
      assert.ok(st.lastReceivedAt !== undefined);
      a.destroy();
    } finally {
      await l.stop();
    }
    assert.equal(l.stats().up, false);
  });

  it('refuses connections past its bound, and drops a line cut by stop', async () => {
    const sink = collector();
    const l = new CdrListener({ listen: 'tcp://127.0.0.1:0', maxConnections: 1 }, parser, sink);
    await l.start();
    const port = portOf(l.addresses()[0] ?? '');
    const a = await client(port, '127.0.0.2');
    try {
      a.write(`${LINES[0]}\r\n${(LINES[1] ?? '').slice(0, 40)}`);
      await waitFor(() => sink.calls.length === 1, 'first call');
      const b = await client(port, '127.0.0.3');
      b.on('error', () => undefined);
      await closed(b);
      await waitFor(() => l.stats().connectionsRefused === 1, 'second connection refused');
      assert.equal(l.stats().dropped, 1);
    } finally {
      await l.stop();
      await closed(a);
    }
    assert.equal(sink.calls.length, 1);
    assert.equal(sink.anomalies.length, 0, 'the unfinished line is not parsed at stop');
  });

  it('fails to start naming the address when it is taken', async () => {
    const blocker = createServer();
    const port = await listen(blocker, '127.0.0.1');
    const l = new CdrListener({ listen: `tcp://127.0.0.1:${port}` }, parser, collector());
    await assert.rejects(
      l.start(),
      new RegExp(`cdr listener: cannot listen on tcp://127.0.0.1:${port}: address in use`),
    );
    await closeServer(blocker);
    assert.throws(() => new CdrListener({ listen: 'udp://127.0.0.1:0' }, parser, collector()), /TCP only/);
  });
});

describe('CdrClient (passive socket: sipwarden connects to 3CX)', () => {
  it('reads records, reconnects when 3CX closes, and stops cleanly', async () => {
    let conns = 0;
    const peers: string[] = [];
    const pbx = createServer((s) => {
      conns++;
      peers.push(s.remoteAddress ?? '');
      if (conns === 1)
        s.end(`${LINES.slice(0, 3).join('\r\n')}\r\n`); // a restart after three calls
      else s.write(`${LINES.slice(3, 5).join('\r\n')}\r\n`); // then stays open
    });
    const port = await listen(pbx, '127.0.0.5');
    const sink = collector();
    const c = new CdrClient(
      { connect: `tcp://127.0.0.5:${port}`, minBackoffMs: 20, maxBackoffMs: 200 },
      parser,
      sink,
    );
    assert.equal(c.name, `cdr 3cx connect tcp://127.0.0.5:${port}`);
    await c.start();
    try {
      await waitFor(() => sink.calls.length === 5, 'five calls over two connections');
      assert.equal(conns, 2);
      assert.deepEqual(
        sink.calls.map((x) => x.provenance.line),
        [1, 2, 3, 4, 5],
      );
      await waitFor(() => c.stats().up, 'connected');
      const st = c.stats();
      assert.equal(st.connects, 2);
      assert.equal(st.recognised, 5);
      assert.equal(st.connections, 1);
    } finally {
      await c.stop();
      await closeServer(pbx);
    }
    assert.equal(c.stats().up, false);
    const after = conns;
    await new Promise((r) => setTimeout(r, 120));
    assert.equal(conns, after, 'no reconnection after stop');
  });

  it('backs off while 3CX is down, reports it to the health monitor, and recovers', async () => {
    // A port with nothing behind it: listen, note it, close.
    const probe = createServer();
    const port = await listen(probe, '127.0.0.6');
    await closeServer(probe);
    const sink = collector();
    const c = new CdrClient(
      { connect: `tcp://127.0.0.6:${port}`, minBackoffMs: 10, maxBackoffMs: 40 },
      parser,
      sink,
    );
    const health = new SourceHealth();
    health.add(c.name, c.kind, () => c.stats(), { quietMs: 0 });
    await c.start();
    let pbx: Server | undefined;
    try {
      await waitFor(() => c.backoffMs() === 40, 'backoff grown to its cap');
      const down = health.check(Date.now());
      assert.equal(down.length, 1);
      assert.equal(down[0]?.kind, 'down');
      assert.match(down[0]?.detail ?? '', new RegExp(`tcp://127.0.0.6:${port}: .*ECONNREFUSED`));
      pbx = createServer((s) => s.write(`${LINES[0]}\r\n`));
      await listen(pbx, '127.0.0.6', port);
      await waitFor(() => sink.calls.length === 1, 'a call once 3CX is back', 3000);
      await waitFor(() => c.backoffMs() === 10, 'backoff reset after data');
      const up = health.check(Date.now());
      assert.deepEqual(
        up.map((e) => e.kind),
        ['recovered'],
      );
    } finally {
      await c.stop();
      if (pbx !== undefined) await closeServer(pbx);
    }
  });
});

describe('createCdrSources', () => {
  it('builds the configured tails and sockets over one parser and sink', async () => {
    const cfg = validateCdrConfig({
      files: ['/nonexistent/cdr.log'],
      listen: 'tcp://127.0.0.1:0',
      connect: 'tcp://127.0.0.7:9',
    });
    const sink = collector();
    const sources = createCdrSources(cfg, 'Europe/Berlin', sink);
    assert.deepEqual(
      sources.map((s) => s.name),
      [
        'cdr 3cx tail /nonexistent/cdr.log',
        'cdr 3cx listen tcp://127.0.0.1:0',
        'cdr 3cx connect tcp://127.0.0.7:9',
      ],
    );
    assert.ok(sources.every((s) => s.kind === 'cdr'));
    const l = sources[1] as CdrListener;
    await l.start();
    try {
      const a = await client(portOf(l.addresses()[0] ?? ''), '127.0.0.2');
      a.end(`${LINES[0]}\r\n`);
      await waitFor(() => sink.calls.length === 1, 'a call through the configured listener');
      // Times read in the site zone given: the fixture's first call is 01:12:10 Berlin = 00:12:10Z.
      assert.equal(new Date(sink.calls[0]?.start ?? 0).toISOString(), '2026-03-14T00:12:10.000Z');
    } finally {
      await l.stop();
    }
  });
});
