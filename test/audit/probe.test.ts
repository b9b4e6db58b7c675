/**
 * The probe client against tiny UDP SIP responders on loopback: the declared rate holds (sends
 * counted over a window), a 302 to another host is recorded and not followed (nothing reaches the
 * other host), nothing is sent outside the scope, an unauthenticated INVITE that rings is cancelled
 * at the first provisional answer, and garbage answers never throw or hang.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { test } from 'node:test';
import { RateLimiter, SendBudgetExceeded, type LimiterClock } from '../../src/audit/rate-limiter.js';
import { auditTarget } from '../../src/audit/run.js';
import { Scope } from '../../src/audit/scope.js';
import { SipProbe, type SipEndpoint } from '../../src/audit/sip-probe.js';
import { parseSipMessage } from '../../src/sip/message.js';
import { testOptions } from './lab-helper.js';

interface Responder {
  readonly socket: Socket;
  readonly port: number;
  readonly received: { time: number; method: string; text: string }[];
  close(): Promise<void>;
}

/** A UDP listener on `address` that records requests and answers with `reply` (may send nothing). */
async function responder(
  address: string,
  reply: (req: string, method: string, send: (text: string) => void, rinfo: RemoteInfo) => void,
): Promise<Responder> {
  const socket = createSocket('udp4');
  const received: Responder['received'] = [];
  socket.on('message', (msg, rinfo) => {
    const text = msg.toString('latin1');
    const m = parseSipMessage(msg);
    received.push({ time: performance.now(), method: m.kind === 'request' ? m.method : `${m.status}`, text });
    reply(
      text,
      m.kind === 'request' ? m.method : '',
      (t) => socket.send(Buffer.from(t, 'latin1'), rinfo.port, rinfo.address),
      rinfo,
    );
  });
  await new Promise<void>((r) => socket.bind(0, address, () => r()));
  return {
    socket,
    port: socket.address().port,
    received,
    close: () => new Promise<void>((r) => socket.close(() => r())),
  };
}

/** A response to `req` echoing Via, From, To (with a tag), Call-ID and CSeq. */
function answer(req: string, status: string, extra: string[] = []): string {
  const h = (name: string): string => {
    const m = new RegExp(`^${name}:.*$`, 'im').exec(req);
    return m === null ? '' : m[0];
  };
  const to = h('To');
  return [
    `SIP/2.0 ${status}`,
    h('Via'),
    h('From'),
    /tag=/.test(to) ? to : `${to};tag=uas1`,
    h('Call-ID'),
    h('CSeq'),
    ...extra,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

function probeFor(addresses: string[], rate: number, timeoutMs = 800): SipProbe {
  const scope = new Scope(
    addresses.map((a) => ({ host: a, port: undefined, address: a, family: 4 as const })),
  );
  return new SipProbe({
    scope,
    limiter: new RateLimiter(rate),
    userAgent: 'sipwarden-audit/test',
    timeoutMs,
  });
}

test('token bucket: a fake clock sees at most rate x T + 1 grants', async () => {
  let now = 0;
  const clock: LimiterClock = {
    now: () => now,
    sleep: (ms) => {
      now += ms;
      return Promise.resolve();
    },
  };
  const l = new RateLimiter(5, clock);
  const times: number[] = [];
  for (let i = 0; i < 26; i++) {
    await l.take();
    times.push(now);
  }
  assert.equal(l.granted, 26);
  // 26 grants at 5/s starting with one token: the last comes at 5 s.
  assert.ok(Math.abs((times[25] as number) - 5000) < 1, `last grant at ${times[25]}`);
  for (let i = 1; i < times.length; i++) assert.ok((times[i] as number) - (times[i - 1] as number) >= 199.9);
  assert.throws(() => new RateLimiter(0), RangeError);
  assert.throws(() => new RateLimiter(1000), RangeError);
  const capped = new RateLimiter(100, clock, 1, 2);
  await capped.take();
  await capped.take();
  await assert.rejects(capped.take(), SendBudgetExceeded);
});

test('the declared rate holds on the wire (sends counted at the responder)', async () => {
  const r = await responder('127.0.0.81', (req, _m, send) => send(answer(req, '200 OK')));
  const p = probeFor(['127.0.0.81'], 20);
  const ep: SipEndpoint = { address: '127.0.0.81', port: r.port, transport: 'udp', host: '127.0.0.81' };
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: 16 }, () => p.request(ep, { method: 'OPTIONS', requestUri: 'sip:127.0.0.81' })),
  );
  const elapsed = performance.now() - t0;
  await p.close();
  await r.close();
  assert.equal(r.received.length, 16);
  // 16 sends at 20/s with one token in hand: at least 15 intervals of 50 ms.
  assert.ok(elapsed >= 15 * 50 - 5, `took ${elapsed} ms`);
  for (let i = 0; i < r.received.length; i++) {
    // In any window starting at a send, at most rate x T + 1 sends.
    const start = (r.received[i] as { time: number }).time;
    const inWindow = r.received.filter((x) => x.time >= start && x.time < start + 500).length;
    assert.ok(inWindow <= 20 * 0.5 + 1 + 1, `window at ${i}: ${inWindow}`);
  }
  assert.ok(r.received.every((x) => /User-Agent: sipwarden-audit/.test(x.text)));
});

test('a 302 to another host is recorded and not followed', async () => {
  const other = await responder('127.0.0.82', () => undefined);
  const r = await responder('127.0.0.81', (req, method, send) => {
    if (method === 'ACK') return;
    send(answer(req, '302 Moved Temporarily', [`Contact: <sip:100@127.0.0.82:${other.port}>`]));
  });
  const p = probeFor(['127.0.0.81'], 50);
  const ep: SipEndpoint = { address: '127.0.0.81', port: r.port, transport: 'udp', host: '127.0.0.81' };
  const inv = await p.request(ep, { method: 'INVITE', requestUri: 'sip:100@127.0.0.81' });
  const opt = await p.request(ep, { method: 'OPTIONS', requestUri: 'sip:100@127.0.0.81' });
  // And a direct attempt at the other host is refused by the scope.
  const direct = await p.request(
    { ...ep, address: '127.0.0.82', port: other.port },
    { method: 'OPTIONS', requestUri: 'sip:x' },
  );
  await new Promise((res) => setTimeout(res, 150));
  await p.close();
  assert.equal(inv.final?.status, 302);
  assert.equal(opt.final?.status, 302);
  assert.equal(p.stats.redirectsNotFollowed, 2);
  assert.match(direct.error ?? '', /not a target/);
  assert.equal(other.received.length, 0, 'nothing reached the redirect target');
  // The INVITE's failure was acknowledged (ACK on the same branch), and nothing else was sent.
  assert.deepEqual(
    r.received.map((x) => x.method),
    ['INVITE', 'ACK', 'OPTIONS'],
  );
  await r.close();
  await other.close();
});

test('an unauthenticated INVITE that rings is cancelled at the first provisional answer', async () => {
  const r = await responder('127.0.0.83', (req, method, send) => {
    if (method === 'INVITE') {
      send(answer(req, '100 Trying'));
      send(answer(req, '180 Ringing'));
    } else if (method === 'CANCEL') {
      send(answer(req, '200 OK'));
      const invite = r.received.find((x) => x.method === 'INVITE');
      if (invite !== undefined) send(answer(invite.text, '487 Request Terminated'));
    } else if (method === 'MESSAGE') send(answer(req, '202 Accepted'));
    else if (method === 'OPTIONS') send(answer(req, '200 OK'));
  });
  const report = await auditTarget(
    { host: '127.0.0.83', port: undefined, address: '127.0.0.83', family: 4 },
    testOptions({
      checks: ['fingerprint', 'unauthenticated'],
      sipPort: r.port,
      tlsPort: r.port,
      testNumber: '0015550100',
    }),
  );
  await r.close();
  const methods = r.received.map((x) => x.method);
  assert.ok(methods.includes('CANCEL'), methods.join(','));
  assert.ok(methods.indexOf('CANCEL') > methods.indexOf('INVITE'));
  assert.ok(methods.includes('ACK'), 'the 487 is acknowledged');
  assert.ok(!methods.includes('BYE'), 'never answered, so no BYE');
  const call = report.findings.find(
    (f) => f.id === 'audit.unauthenticated-call' && f.evidence.method === 'INVITE',
  );
  assert.ok(call, 'unauthenticated-call expected');
  assert.equal(call.severity, 'critical');
  assert.equal(call.evidence.answered, false);
  const msg = report.findings.find(
    (f) => f.id === 'audit.unauthenticated-call' && f.evidence.method === 'MESSAGE',
  );
  assert.equal(msg?.severity, 'medium');
  // The INVITE went only to the test number.
  assert.ok(
    r.received.filter((x) => x.method === 'INVITE').every((x) => x.text.startsWith('INVITE sip:0015550100@')),
  );
});

test('garbage answers and answers from elsewhere never throw, hang, or match', async () => {
  let seed = 7;
  const rnd = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const stranger = createSocket('udp4');
  await new Promise<void>((res) => stranger.bind(0, '127.0.0.85', () => res()));
  const r = await responder('127.0.0.84', (req, _m, send, rinfo) => {
    const good = answer(req, '200 OK');
    // A well-formed answer from an address that is not the target must be ignored.
    stranger.send(Buffer.from(good, 'latin1'), rinfo.port, rinfo.address);
    const kind = rnd(3);
    if (kind === 0) send(randomBytes(1 + rnd(1500)).toString('latin1'));
    else if (kind === 1) send(good.slice(0, rnd(good.length)));
    else send(good.replace(/branch=[^;\r\n]+/, `branch=z9hG4bK-${rnd(1e6)}`));
  });
  const p = probeFor(['127.0.0.84'], 100, 200);
  const ep: SipEndpoint = { address: '127.0.0.84', port: r.port, transport: 'udp', host: '127.0.0.84' };
  const t0 = performance.now();
  const results = [];
  for (let i = 0; i < 8; i++)
    results.push(await p.request(ep, { method: 'OPTIONS', requestUri: 'sip:127.0.0.84' }));
  await p.close();
  stranger.close();
  await r.close();
  assert.ok(performance.now() - t0 < 8 * 200 + 1000, 'bounded in time');
  assert.ok(p.stats.foreign >= 8, `foreign answers ignored: ${p.stats.foreign}`);
  assert.ok(results.every((x) => x.final === undefined && x.timedOut));
  assert.ok(
    results.every((x) => x.sends >= 1 && x.sends <= 2),
    'retransmissions bounded by the timeout',
  );
});
