/**
 * Safety on the wire: a fake PBX on 127.0.0.98 (UDP SIP on one port, a TCP listener on the same
 * number) answers with a redirect, a Contact and a Record-Route naming 127.0.0.99, where a decoy
 * listens on the same ports and counts what arrives (nothing may). The target records the arrival
 * time of every datagram and connection: over any window of T ms at most rate × T / 1000 + 1 arrive.
 */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { auditTarget } from '../../src/audit/run.js';
import { testOptions } from './lab-helper.js';

const TARGET = '127.0.0.98';
const DECOY = '127.0.0.99';

test('the audit contacts only its target and keeps to its declared rate', async () => {
  const arrivals: number[] = [];
  let decoy = 0;
  const sip = createSocket('udp4');
  sip.on('message', (msg, rinfo) => {
    arrivals.push(performance.now());
    const text = msg.toString('latin1');
    const method = /^([A-Z]+) /.exec(text)?.[1];
    if (method === undefined || method === 'ACK') return;
    const pick = (n: string): string => new RegExp(`^${n}:.*$`, 'im').exec(text)?.[0] ?? '';
    const status =
      method === 'REGISTER' ? '401 Unauthorized' : method === 'INVITE' ? '302 Moved Temporarily' : '200 OK';
    const extra =
      method === 'REGISTER'
        ? [
            `WWW-Authenticate: Digest realm="fake", nonce="${Math.random().toString(36).slice(2)}", qop="auth"`,
          ]
        : [`Contact: <sip:100@${DECOY}:${port}>`, `Record-Route: <sip:${DECOY}:${port};lr>`];
    const resp = [
      `SIP/2.0 ${status}`,
      pick('Via'),
      pick('From'),
      `${pick('To')};tag=t1`,
      pick('Call-ID'),
      pick('CSeq'),
      ...extra,
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
    sip.send(resp, rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => sip.bind(0, TARGET, () => r()));
  const port = sip.address().port;
  const tcp = createServer((s) => {
    arrivals.push(performance.now());
    s.destroy();
  });
  const decoyUdp = createSocket('udp4');
  decoyUdp.on('message', () => decoy++);
  const decoyTcp = createServer((s) => {
    decoy++;
    s.destroy();
  });
  await new Promise<void>((r) => tcp.listen(port, TARGET, () => r()));
  await new Promise<void>((r) => decoyUdp.bind(port, DECOY, () => r()));
  await new Promise<void>((r) => decoyTcp.listen(port, DECOY, () => r()));
  const rate = 25;
  try {
    const r = await auditTarget(
      { host: TARGET, port, address: TARGET, family: 4 },
      testOptions({
        checks: [
          'ports',
          'fingerprint',
          'enumeration',
          'unauthenticated',
          'challenges',
          'tls',
          'weak-password',
          'rate-limit',
        ],
        rate,
        sipPort: port,
        tlsPort: port,
        tcpPorts: [port],
        udpPorts: [port],
        extensions: ['100'],
        testNumber: '5555',
        intrusive: true,
        wordlist: ['a', 'b'],
        rateLimitAttempts: 3,
        timeoutMs: 400,
      }),
    );
    assert.equal(decoy, 0, 'nothing reaches an address that was not given');
    assert.equal(r.parameters.refusedOutOfScope, 0);
    assert.ok(r.parameters.redirectsNotFollowed >= 1);
    assert.ok(arrivals.length >= 20, `only ${arrivals.length} arrivals`);
    assert.ok(
      arrivals.length <= r.parameters.sends,
      `${arrivals.length} arrived, ${r.parameters.sends} sent`,
    );
    // Every window [i, j] of arrivals: at most rate × (t_j − t_i) + 1, with 15 ms for timer and delivery jitter.
    let worst = 0;
    for (let i = 0; i < arrivals.length; i++) {
      for (let j = i; j < arrivals.length; j++) {
        const dt = (arrivals[j] as number) - (arrivals[i] as number);
        const allowed = (rate * (dt + 15)) / 1000 + 1;
        worst = Math.max(worst, j - i + 1 - allowed);
      }
    }
    assert.ok(worst <= 0, `a window exceeded the rate by ${worst.toFixed(2)} packets`);
    // Negative control: the same arrivals would break a rate half as high.
    let broken = false;
    for (let i = 0; i + 1 < arrivals.length && !broken; i++) {
      const dt = (arrivals[arrivals.length - 1] as number) - (arrivals[i] as number);
      if (arrivals.length - i > ((rate / 2) * dt) / 1000 + 1) broken = true;
    }
    assert.ok(broken);
  } finally {
    sip.close();
    tcp.close();
    decoyUdp.close();
    decoyTcp.close();
  }
});
