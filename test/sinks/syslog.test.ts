import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { cefLine, cefValue, cefHeader, parseSyslogUrl, SyslogSink } from '../../src/sinks/syslog.js';
import { SINK_SYSLOG_UDP_MAX_BYTES } from '../../src/config/limits.js';
import { REDACTED } from '../../src/sinks/redact.js';
import { makeAlert } from './helpers.js';

const NOW = Date.parse('2026-11-24T05:03:41.000Z');
const HEADER = /^<(\d{1,3})>1 (\S+) (\S+) (\S+) (\S+) (\S+) (\[.*?[^\\]\]) (.*)$/s;

test('UDP: one RFC 5424 datagram per alert, JSON message, redacted', async () => {
  const srv = createSocket('udp4');
  const got: string[] = [];
  await new Promise<void>((r) => srv.bind(0, '127.0.0.1', r));
  srv.on('message', (m) => got.push(m.toString('utf8')));
  const port = (srv.address() as AddressInfo).port;
  const sink = new SyslogSink({ url: `udp://127.0.0.1:${port}`, hostname: 'sensor one', now: () => NOW });
  const a = makeAlert(1, { evidence: { response: 'deadbeefdeadbeef' } });
  await sink.send([a, makeAlert(2, { severity: 'critical' })]);
  for (let i = 0; i < 100 && got.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
  await sink.close();
  srv.close();
  assert.equal(got.length, 2);
  const m = HEADER.exec(got[0] as string);
  assert.ok(m, got[0]);
  assert.equal(m[1], String(16 * 8 + 3), 'local0.err for high');
  assert.equal(m[2], '2026-11-24T05:03:41.000Z');
  assert.equal(m[3], 'sensorone', 'HOSTNAME printable ASCII without spaces');
  assert.equal(m[4], 'sipwarden');
  assert.equal(m[6], 'auth.bruteforce');
  assert.ok(
    (m[7] as string).startsWith('[sipwarden@32473 id="a000000000000001" rev="1" rule="auth.bruteforce"'),
  );
  const body = JSON.parse(m[8] as string) as { evidence: { response: string }; id: string };
  assert.equal(body.id, a.id);
  assert.equal(body.evidence.response, REDACTED);
  assert.ok(!(got[0] as string).includes('deadbeef'));
  assert.ok((got[1] as string).startsWith(`<${16 * 8 + 2}>1 `), 'critical maps to crit');
});

test('UDP: an oversized message is cut on a character boundary and counted', async () => {
  const srv = createSocket('udp4');
  const got: Buffer[] = [];
  await new Promise<void>((r) => srv.bind(0, '127.0.0.1', r));
  srv.on('message', (m) => got.push(m));
  const port = (srv.address() as AddressInfo).port;
  const sink = new SyslogSink({ url: `udp://127.0.0.1:${port}`, now: () => NOW });
  await sink.send([makeAlert(1, { evidence: { note: 'é'.repeat(10_000) } })]);
  for (let i = 0; i < 100 && got.length < 1; i++) await new Promise((r) => setTimeout(r, 10));
  await sink.close();
  srv.close();
  assert.equal(sink.stats.truncated, 1);
  assert.ok((got[0]?.length ?? 0) <= SINK_SYSLOG_UDP_MAX_BYTES);
  assert.ok(!(got[0] as Buffer).toString('utf8').includes('\ufffd'), 'no broken character');
});

/** A TCP syslog receiver that splits octet-counted frames strictly. */
async function tcpReceiver(): Promise<{
  port: number;
  frames: string[];
  sockets: Socket[];
  close: () => void;
}> {
  const frames: string[] = [];
  const sockets: Socket[] = [];
  const srv = createServer((s) => {
    sockets.push(s);
    let buf = Buffer.alloc(0);
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        const sp = buf.indexOf(0x20);
        if (sp < 0) break;
        const lenText = buf.subarray(0, sp).toString('ascii');
        assert.match(lenText, /^[1-9][0-9]*$/);
        const len = Number(lenText);
        if (buf.length < sp + 1 + len) break;
        frames.push(buf.subarray(sp + 1, sp + 1 + len).toString('utf8'));
        buf = buf.subarray(sp + 1 + len);
      }
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return {
    port: (srv.address() as AddressInfo).port,
    frames,
    sockets,
    close: () => {
      for (const s of sockets) s.destroy();
      srv.close();
    },
  };
}

test('TCP: octet-counting frames, CEF format, reconnect after the receiver drops', async () => {
  const rx = await tcpReceiver();
  const sink = new SyslogSink({
    url: `tcp://127.0.0.1:${rx.port}`,
    format: 'cef',
    facility: 'auth',
    version: '1.2.3',
    now: () => NOW,
  });
  const a = makeAlert(1, {
    title: 'Pipe | and back\\slash',
    target: { ip: '198.51.100.2', port: 5060, identity: 'us=er\\x', extension: '101' },
  });
  await sink.send([a, makeAlert(2)]);
  for (let i = 0; i < 100 && rx.frames.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(rx.frames.length, 2);
  const m = HEADER.exec(rx.frames[0] as string);
  assert.ok(m);
  assert.equal(m[1], String(4 * 8 + 3));
  const cef = m[8] as string;
  assert.ok(
    cef.startsWith('CEF:0|sipwarden|sipwarden|1.2.3|auth.bruteforce|Pipe \\| and back\\\\slash|8|'),
    cef,
  );
  assert.ok(cef.includes('src=203.0.113.7 spt=5071'), cef);
  assert.ok(cef.includes('dst=198.51.100.2 dpt=5060'), cef);
  assert.ok(cef.includes('suser=us\\=er\\\\x duser=101'), cef);
  assert.ok(cef.includes(`cnt=57 rt=${Date.parse(a.raisedAt)}`), cef);
  assert.equal(sink.stats.connects, 1);
  // The receiver drops the connection: the next attempt fails or reconnects, never hangs.
  for (const s of rx.sockets) s.destroy();
  await new Promise((r) => setTimeout(r, 50));
  let sent = false;
  for (let i = 0; i < 3 && !sent; i++) {
    try {
      await sink.send([makeAlert(3)]);
      sent = true;
    } catch {
      // a retry, as the runner would do
    }
  }
  for (let i = 0; i < 100 && rx.frames.length < 3; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(rx.frames.length, 3);
  assert.equal(sink.stats.connects, 2);
  await sink.close();
  rx.close();
});

test('TCP: a refused connection is a retryable error', async () => {
  const rx = await tcpReceiver();
  const port = rx.port;
  rx.close();
  await new Promise((r) => setTimeout(r, 20));
  const sink = new SyslogSink({ url: `tcp://127.0.0.1:${port}`, timeoutMs: 500 });
  await assert.rejects(
    sink.send([makeAlert(1)]),
    (e: Error & { retryable?: boolean }) => e.retryable === true,
  );
  await sink.close();
});

test('URLs, facilities and CEF escaping', () => {
  assert.deepEqual(parseSyslogUrl('udp://[::1]:514'), { transport: 'udp', host: '::1', port: 514 });
  assert.deepEqual(parseSyslogUrl('tcp://siem.example:6514'), {
    transport: 'tcp',
    host: 'siem.example',
    port: 6514,
  });
  for (const bad of [
    'http://x:1',
    'udp://x',
    'udp://x:0',
    'udp://x:70000',
    'tcp://a b:1',
    'udp://x:1/path',
  ]) {
    assert.equal(parseSyslogUrl(bad), undefined, bad);
  }
  assert.throws(() => new SyslogSink({ url: 'udp://x' }), /udp:\/\/host:port/);
  assert.throws(() => new SyslogSink({ url: 'udp://127.0.0.1:514', facility: 24 }), /facility/);
  assert.equal(cefHeader('a|b\\c'), 'a\\|b\\\\c');
  assert.equal(cefValue('a=b\\c\nd\x1b'), 'a\\=b\\\\c\\nd?');
  const line = cefLine(makeAlert(1, { source: { ip: '2001:db8::1' }, severity: 'info' }), '0');
  assert.match(line, /^CEF:0\|sipwarden\|sipwarden\|0\|auth\.bruteforce\|[^|]*\|1\|src=2001:db8::1 /);
});
