import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HepListener, isOptionsKeepalive, type HepListenerOptions } from '../../src/sources/hep-listener.js';
import { isKeepaliveDatagram, peekHepPayload } from '../../src/sources/hep-udp-worker.js';
import type { LocatedAnomaly, SipFrame } from '../../src/core/records.js';
import { hep2Packet, hep3Packet, haveTool, rng, sipText, waitFor } from './live-helpers.js';

function collect(): {
  frames: SipFrame[];
  anomalies: LocatedAnomaly[];
  handlers: { frame(f: SipFrame): void; anomaly(a: LocatedAnomaly): void };
} {
  const frames: SipFrame[] = [];
  const anomalies: LocatedAnomaly[] = [];
  return {
    frames,
    anomalies,
    handlers: { frame: (f) => frames.push(f), anomaly: (a) => anomalies.push(a) },
  };
}

function portOf(addr: string): number {
  return Number(addr.slice(addr.lastIndexOf(':') + 1));
}

async function sendUdp(
  port: number,
  packets: readonly Buffer[],
  from = '127.0.0.1',
  host = '127.0.0.1',
): Promise<void> {
  const s = createSocket(host.includes(':') ? 'udp6' : 'udp4');
  await new Promise<void>((r) => s.bind(0, from, () => r()));
  for (const p of packets) await new Promise<void>((r, j) => s.send(p, port, host, (e) => (e ? j(e) : r())));
  s.close();
}

describe('HepListener over UDP', () => {
  it('emits SIP frames timed by the HEP timestamp with the agent id; v2 too', async () => {
    const c = collect();
    const l = new HepListener({ listen: ['udp://127.0.0.1:0'], now: () => 5 }, c.handlers);
    await l.start();
    try {
      const port = portOf(l.addresses()[0] as string);
      await sendUdp(port, [
        hep3Packet(sipText('INVITE', 'inv1'), { captureId: 77, sec: 1_700_000_001, usec: 500 }),
        hep2Packet(sipText('REGISTER', 'reg1')),
      ]);
      await waitFor(() => c.frames.length === 2, 'two frames');
      const [a, b] = c.frames as [SipFrame, SipFrame];
      assert.equal(a.srcIp, '203.0.113.7');
      assert.equal(a.srcPort, 5071);
      assert.equal(a.dstIp, '198.51.100.2');
      assert.equal(a.dstPort, 5060);
      assert.equal(a.transport, 'udp');
      assert.equal(a.time, 1_700_000_001_000.5);
      assert.deepEqual(a.provenance, { kind: 'hep', agent: 77 });
      assert.equal(a.data.toString('latin1'), sipText('INVITE', 'inv1').toString('latin1'));
      assert.equal(b.time, 1_600_000_000_000);
      assert.deepEqual(b.provenance, { kind: 'hep', agent: 7 });
      const st = l.stats();
      assert.equal(st.received, 2);
      assert.equal(st.accepted, 2);
      assert.equal(st.lastReceivedAt, 5);
      assert.equal(st.up, true);
      assert.ok((st.recvBufferBytes[0] ?? 0) > 0);
    } finally {
      await l.stop();
    }
    assert.equal(l.stats().up, false);
  });

  it('checks the auth key: missing or wrong keys are rejected and counted', async () => {
    const c = collect();
    const l = new HepListener({ listen: ['udp://127.0.0.1:0'], authKey: 's3cret' }, c.handlers);
    await l.start();
    try {
      const port = portOf(l.addresses()[0] as string);
      await sendUdp(port, [
        hep3Packet(sipText('INVITE', 'nokey')),
        hep3Packet(sipText('INVITE', 'wrong'), { authKey: 's3cre' }),
        hep2Packet(sipText('INVITE', 'v2')),
        hep3Packet(sipText('INVITE', 'good'), { authKey: 's3cret' }),
      ]);
      await waitFor(() => l.stats().received === 4, 'four packets');
      await waitFor(() => c.frames.length === 1, 'one frame');
      assert.match(c.frames[0]?.data.toString('latin1') ?? '', /Call-ID: good/);
      const st = l.stats();
      assert.equal(st.rejected, 3);
      assert.equal(st.rejectedAuth, 3);
      assert.equal(st.accepted, 1);
    } finally {
      await l.stop();
    }
  });

  it('applies the agent allow-list (address and CIDR) and ignores non-SIP payloads', async () => {
    const c = collect();
    const l = new HepListener(
      { listen: ['udp://127.0.0.1:0'], allow: ['127.0.0.2', '10.0.0.0/8', '2001:db8::/32'] },
      c.handlers,
    );
    await l.start();
    try {
      const port = portOf(l.addresses()[0] as string);
      await sendUdp(port, [hep3Packet(sipText('INVITE', 'denied'))], '127.0.0.1');
      await sendUdp(port, [hep3Packet(sipText('INVITE', 'allowed'))], '127.0.0.2');
      await waitFor(() => l.stats().received === 2, 'two packets');
      l.ingest(hep3Packet(sipText('INVITE', 'cidr')), '10.1.2.3');
      l.ingest(hep3Packet(sipText('INVITE', 'mapped')), '::ffff:10.9.9.9');
      l.ingest(hep3Packet(sipText('INVITE', 'v6')), '2001:db8::5');
      l.ingest(hep3Packet(sipText('INVITE', 'v6-no')), '2001:db9::5');
      l.ingest(hep3Packet(sipText('INVITE', 'v4-no')), '11.0.0.1');
      l.ingest(hep3Packet(Buffer.from('RTCP'), { protoType: 5 }), '10.0.0.1');
      l.ingest(hep3Packet(Buffer.from('{"log":1}'), { protoType: 100 }), '10.0.0.1');
      await waitFor(() => c.frames.length === 4, 'four frames');
      assert.deepEqual(
        c.frames.map((f) => /Call-ID: (\S+)/.exec(f.data.toString('latin1'))?.[1]),
        ['allowed', 'cidr', 'mapped', 'v6'],
      );
      const st = l.stats();
      assert.equal(st.rejectedAllow, 3);
      assert.equal(st.rejected, 3);
      assert.equal(st.nonSip, 2);
      assert.equal(st.accepted, 4);
    } finally {
      await l.stop();
    }
  });

  it('listens on IPv6 loopback', async () => {
    const c = collect();
    const l = new HepListener({ listen: ['udp://[::1]:0'] }, c.handlers);
    await l.start();
    try {
      const addr = l.addresses()[0] as string;
      assert.match(addr, /^udp:\/\/\[::1\]:\d+$/);
      await sendUdp(portOf(addr), [hep3Packet(sipText('OPTIONS'))], '::1', '::1');
      await waitFor(() => c.frames.length === 1, 'one frame');
    } finally {
      await l.stop();
    }
  });

  it('counts malformed packets and reports them as anomalies', async () => {
    const c = collect();
    const l = new HepListener({ listen: ['udp://127.0.0.1:0'], now: () => 9 }, c.handlers);
    l.ingest(Buffer.from('not hep at all'), '127.0.0.1');
    l.ingest(hep3Packet(sipText('INVITE')).subarray(0, 30), '127.0.0.1');
    const st = l.stats();
    assert.equal(st.malformed, 2);
    assert.equal(st.accepted, 0);
    assert.deepEqual(
      c.anomalies.map((a) => [a.code, a.time, a.provenance.kind]),
      [
        ['hep_bad_magic', 9, 'hep'],
        ['hep_bad_length', 9, 'hep'],
      ],
    );
  });

  it('rejects start() naming the address when it is in use, and on a bad address', async () => {
    const a = new HepListener({ listen: ['udp://127.0.0.1:0', 'tcp://127.0.0.1:0'] }, collect().handlers);
    await a.start();
    try {
      const [u, t] = a.addresses() as [string, string];
      const b = new HepListener({ listen: [u] }, collect().handlers);
      await assert.rejects(
        b.start(),
        (e: Error) => e.message.includes(u) && /address in use/.test(e.message),
      );
      const d = new HepListener({ listen: ['udp://127.0.0.1:0', t] }, collect().handlers);
      await assert.rejects(d.start(), (e: Error) => e.message.includes(t) && /EADDRINUSE/.test(e.message));
      assert.deepEqual(d.addresses(), [], 'the address that did bind is closed again');
    } finally {
      await a.stop();
    }
    assert.throws(
      () => new HepListener({ listen: ['udp://host.example:9060'] }, collect().handlers),
      /not|expected/,
    );
    assert.throws(
      () => new HepListener({ listen: ['udp://127.0.0.1:70000'] }, collect().handlers),
      /out of range/,
    );
    assert.throws(() => new HepListener({ listen: [] }, collect().handlers), /no listen address/);
  });
});

describe('HepListener overload policy', () => {
  it('sheds queued OPTIONS first, oldest first, then arriving frames; order is kept', async () => {
    const c = collect();
    const l = new HepListener({ listen: ['udp://127.0.0.1:0'], queueMax: 4 }, c.handlers);
    // Nothing drains while we push synchronously: the queue fills.
    const push = (m: string, id: string, response = false): void =>
      l.ingest(hep3Packet(sipText(m, id, response)), '127.0.0.1');
    push('OPTIONS', 'o1');
    push('INVITE', 'i1');
    push('OPTIONS', 'o2', true);
    push('REGISTER', 'r1');
    push('INVITE', 'i2'); // full: sheds o1
    push('BYE', 'b1'); // full: sheds o2 (a response to OPTIONS)
    push('OPTIONS', 'o3'); // full of non-OPTIONS: the arriving keepalive is shed
    push('ACK', 'a1'); // full of non-OPTIONS: overflow
    let st = l.stats();
    assert.equal(st.queued, 4);
    assert.deepEqual(st.shed, { options: 3, overflow: 1, delay: 0 });
    assert.equal(st.dropped, 4);
    await waitFor(() => c.frames.length === 4, 'drain');
    assert.deepEqual(
      c.frames.map((f) => /Call-ID: (\S+)/.exec(f.data.toString('latin1'))?.[1]),
      ['i1', 'r1', 'i2', 'b1'],
    );
    st = l.stats();
    assert.equal(st.accepted, 4);
    assert.equal(st.queued, 0);
  });

  it('keeps the arrival order across the two queues and bounds bytes', async () => {
    const c = collect();
    const l = new HepListener({ listen: ['udp://127.0.0.1:0'], queueMaxBytes: 1000 }, c.handlers);
    const ids = ['o1', 'i1', 'o2', 'i2', 'o3'];
    for (const id of ids)
      l.ingest(hep3Packet(sipText(id[0] === 'o' ? 'OPTIONS' : 'INVITE', id)), '127.0.0.1');
    const st = l.stats();
    // Each payload is ~220 bytes: four fit under 1000, the fifth (an OPTIONS) sheds the oldest one.
    assert.equal(st.queued, 4);
    assert.equal(st.shed.options, 1);
    await waitFor(() => c.frames.length === 4, 'drain');
    assert.deepEqual(
      c.frames.map((f) => /Call-ID: (\S+)/.exec(f.data.toString('latin1'))?.[1]),
      ['i1', 'o2', 'i2', 'o3'],
    );
  });

  it('sheds frames that waited past the delay bound at the head, unprocessed, and counts them', async () => {
    const c = collect();
    let t = 1_000;
    const l = new HepListener(
      { listen: ['udp://127.0.0.1:0'], now: () => t, maxQueueDelayMs: 75 },
      c.handlers,
    );
    const push = (m: string, id: string): void => l.ingest(hep3Packet(sipText(m, id)), '127.0.0.1');
    // A backed-up queue: 200 frames, then 100 more 50 ms later.
    for (let i = 0; i < 200; i++) push(i % 2 === 0 ? 'REGISTER' : 'OPTIONS', `old${i}`);
    t += 50;
    for (let i = 0; i < 100; i++) push('INVITE', `young${i}`);
    // The consumer comes back 80 ms after the first ones arrived, 30 ms after the others.
    t += 30;
    await waitFor(() => l.stats().queued === 0, 'drain');
    const got = c.frames.map(callIdOf);
    const st = l.stats();
    // The 100 old keepalives go first (they waited past half the bound); then old REGISTERs are
    // shed while the queue is still backed up (128 or more waiting behind them); once it is
    // short, the rest of them pass, and every young frame does.
    assert.equal(st.shed.options, 100);
    assert.equal(st.shed.delay, 72, 'old frames shed until fewer than 128 remained');
    assert.equal(got.filter((id) => id.startsWith('young')).length, 100);
    assert.equal(st.shed.options + st.shed.delay + got.length, 300);
    assert.deepEqual(
      got.slice(0, 28),
      Array.from({ length: 28 }, (_, i) => `old${144 + 2 * i}`),
    );
    assert.equal(st.dropped, st.shed.delay + st.shed.options);
    assert.equal(st.accepted, got.length);
  });

  it('sheds waiting keepalives at half the delay bound, before the traffic queued with them', async () => {
    const c = collect();
    let t = 1_000;
    const l = new HepListener(
      { listen: ['udp://127.0.0.1:0'], now: () => t, maxQueueDelayMs: 80 },
      c.handlers,
    );
    for (let i = 0; i < 300; i++)
      l.ingest(hep3Packet(sipText(i % 2 === 0 ? 'REGISTER' : 'OPTIONS', `f${i}`)), '127.0.0.1');
    // 50 ms: past half the bound (40), within the bound.
    t += 50;
    await waitFor(() => l.stats().queued === 0, 'drain');
    const got = c.frames.map(callIdOf);
    const st = l.stats();
    assert.equal(st.shed.options, 150);
    assert.equal(st.shed.delay, 0);
    assert.deepEqual(
      got,
      Array.from({ length: 150 }, (_, i) => `f${2 * i}`),
    );
  });

  it('does not shed by delay from a short queue (a stalled process, not an overload)', async () => {
    const c = collect();
    let t = 0;
    const l = new HepListener({ listen: ['udp://127.0.0.1:0'], now: () => t }, c.handlers);
    for (let i = 0; i < 100; i++) l.ingest(hep3Packet(sipText('REGISTER', `r${i}`)), '127.0.0.1');
    t += 10_000;
    await waitFor(() => c.frames.length === 100, 'drain');
    assert.equal(l.stats().shed.delay, 0);
  });

  it('keeps every frame, however old, when the delay bound is off', async () => {
    const c = collect();
    let t = 0;
    const l = new HepListener(
      { listen: ['udp://127.0.0.1:0'], now: () => t, maxQueueDelayMs: 0 },
      c.handlers,
    );
    for (let i = 0; i < 5; i++) l.ingest(hep3Packet(sipText('REGISTER', `r${i}`)), '127.0.0.1');
    t += 3_600_000;
    await waitFor(() => c.frames.length === 5, 'drain');
    assert.equal(l.stats().shed.delay, 0);
  });

  it('peeks OPTIONS requests and responses cheaply', () => {
    assert.equal(isOptionsKeepalive(sipText('OPTIONS')), true);
    assert.equal(isOptionsKeepalive(sipText('OPTIONS', 'x', true)), true);
    assert.equal(isOptionsKeepalive(sipText('INVITE', 'x', true)), false);
    assert.equal(isOptionsKeepalive(sipText('INVITE')), false);
    assert.equal(isOptionsKeepalive(Buffer.from('OPTIONSX sip:a SIP/2.0\r\n')), false);
    assert.equal(isOptionsKeepalive(Buffer.from('SIP/2.0 200 OK\r\nCSeq: 7\r\n')), false);
    assert.equal(isOptionsKeepalive(Buffer.alloc(0)), false);
  });
});

/**
 * Sends the packets as fast as the socket takes them, 50 at a time without waiting in between (so
 * even a small default receive buffer holds what the reader has not taken yet).
 */
async function burstUdp(port: number, packets: readonly Buffer[]): Promise<void> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  for (let i = 0; i < packets.length; i += 50) {
    await Promise.all(
      packets
        .slice(i, i + 50)
        .map((p) => new Promise<void>((r, j) => s.send(p, port, '127.0.0.1', (e) => (e ? j(e) : r())))),
    );
  }
  s.close();
}

/** Sends a burst to the listener and waits until it read every datagram and delivered or shed each. */
async function sendAndDrain(l: HepListener, packets: readonly Buffer[]): Promise<void> {
  await burstUdp(portOf(l.addresses()[0] as string), packets);
  await waitFor(() => l.stats().received === packets.length, 'every datagram read', 5000);
  await waitFor(
    () => {
      const st = l.stats();
      return st.accepted + st.dropped === packets.length && st.queued === 0;
    },
    'every packet delivered or shed',
    10_000,
  );
}

/** Keeps this thread busy for `ms` (a consumer slower than the wire). */
function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

const callIdOf = (f: SipFrame): string => /Call-ID: (\S+)/.exec(f.data.toString('latin1'))?.[1] ?? '';

/**
 * Runs `body` with a started UDP listener on 127.0.0.1 whose consumer spends `busyMs` on each frame
 * (slower than the wire), then stops it. `seen` is told of each frame first (to sample the queue).
 */
async function withSlowConsumer(
  options: Omit<HepListenerOptions, 'listen'>,
  busyMs: number,
  body: (l: HepListener, frames: SipFrame[]) => Promise<void>,
  seen?: (l: HepListener) => void,
): Promise<void> {
  const frames: SipFrame[] = [];
  const l: HepListener = new HepListener(
    { listen: ['udp://127.0.0.1:0'], ...options },
    {
      frame: (f) => {
        busy(busyMs);
        seen?.(l);
        frames.push(f);
      },
    },
  );
  await l.start();
  try {
    await body(l, frames);
  } finally {
    await l.stop();
  }
}

describe('HepListener UDP receive thread', () => {
  it(
    'sheds OPTIONS before REGISTERs when a slow consumer falls behind, and counts them',
    { timeout: 20_000 },
    async () => {
      // No delay bound: this test is about the backlog bounds (the consumer is slow on purpose).
      const bounds = { backlogOptionsPackets: 50, backlogMaxPackets: 1000, maxQueueDelayMs: 0 };
      await withSlowConsumer(bounds, 0.5, async (l, frames) => {
        assert.equal(l.stats().udpWorker, true, 'UDP is read by the worker thread');
        const packets: Buffer[] = [];
        let options = 0;
        let registers = 0;
        for (let i = 0; i < 2200; i++) {
          // Every 11th packet a REGISTER, the rest OPTIONS requests and answers.
          if (i % 11 === 5) packets.push(hep3Packet(sipText('REGISTER', `r${registers++}`)));
          else packets.push(hep3Packet(sipText('OPTIONS', `o${options++}`, i % 2 === 0)));
        }
        await sendAndDrain(l, packets);
        const st = l.stats();
        const got = frames.map(callIdOf);
        const gotRegisters = got.filter((id) => id.startsWith('r')).length;
        const gotOptions = got.filter((id) => id.startsWith('o')).length;
        assert.equal(registers, 200);
        assert.equal(gotRegisters, registers, 'no REGISTER was shed');
        assert.ok(gotOptions < options / 4, `most OPTIONS were shed (${gotOptions} of ${options} delivered)`);
        assert.equal(st.shed.options, options - gotOptions, 'every shed OPTIONS is counted');
        assert.equal(st.shed.overflow, 0);
        assert.equal(st.dropped, st.shed.options);
        assert.equal(st.accepted, frames.length);
        // Frames keep the order they arrived in.
        const regOrder = got.filter((id) => id.startsWith('r')).map((id) => Number(id.slice(1)));
        assert.deepEqual(
          regOrder,
          [...regOrder].sort((a, b) => a - b),
        );
        // The main thread acknowledged everything it consumed; the thread reports its backlog drained.
        await waitFor(() => l.stats().backlog.packets === 0 && l.stats().backlog.bytes === 0, 'backlog 0');
      });
    },
  );

  it(
    'past the hard bound sheds other packets too, as overflow, and the queue stays within it',
    { timeout: 20_000 },
    async () => {
      let deepest = 0;
      const bounds = { backlogOptionsPackets: 20, backlogMaxPackets: 200, maxQueueDelayMs: 0 };
      const sample = (l: HepListener): void => void (deepest = Math.max(deepest, l.stats().queued));
      await withSlowConsumer(
        bounds,
        0.5,
        async (l, frames) => {
          const packets = Array.from({ length: 1200 }, (_, i) => hep3Packet(sipText('REGISTER', `r${i}`)));
          await sendAndDrain(l, packets);
          const st = l.stats();
          assert.ok(st.shed.overflow > 0, 'REGISTERs shed past the hard bound');
          assert.equal(st.shed.options, 0);
          assert.equal(st.accepted + st.shed.overflow, packets.length);
          assert.equal(frames.length, st.accepted);
          assert.ok(deepest <= 200, `queue depth ${deepest} within the bound`);
        },
        sample,
      );
    },
  );

  it(
    'the byte bounds shed like the packet bounds: keepalives first, then everything',
    { timeout: 20_000 },
    async () => {
      let deepestBytes = 0;
      const packets: Buffer[] = [];
      for (let i = 0; i < 1500; i++)
        packets.push(hep3Packet(sipText(i % 3 === 0 ? 'REGISTER' : 'OPTIONS', `p${i}`)));
      const size = packets[0]!.length;
      // Packet bounds out of reach: only the byte bounds (about 20 and 200 packets) shed here.
      const bounds = {
        backlogOptionsPackets: 100_000,
        backlogMaxPackets: 100_000,
        backlogOptionsBytes: 20 * size,
        backlogMaxBytes: 200 * size,
        maxQueueDelayMs: 0,
      };
      const sample = (l: HepListener): void =>
        void (deepestBytes = Math.max(deepestBytes, l.stats().backlog.bytes));
      await withSlowConsumer(
        bounds,
        0.5,
        async (l, frames) => {
          await sendAndDrain(l, packets);
          const st = l.stats();
          assert.ok(st.shed.options > 0, 'keepalives shed past the byte bound');
          assert.ok(st.shed.overflow > 0, 'REGISTERs shed past the hard byte bound');
          assert.equal(st.accepted + st.shed.options + st.shed.overflow, packets.length);
          assert.equal(frames.length, st.accepted);
          const got = frames.map(callIdOf);
          const registers = got.filter((id) => Number(id.slice(1)) % 3 === 0).length;
          // REGISTERs lost only past the hard bound: they keep a larger share than the keepalives.
          assert.ok(
            registers / 500 > (got.length - registers) / 1000,
            `${registers} REGISTERs of 500 delivered`,
          );
          assert.ok(deepestBytes <= 200 * size + size, `backlog ${deepestBytes} bytes within the bound`);
        },
        sample,
      );
    },
  );

  it(
    'a slow consumer sheds what waited past the delay bound, in transit or queued, and counts it',
    { timeout: 20_000 },
    async () => {
      // Backlog bounds out of reach: only the delay bound sheds here.
      const bounds = { backlogOptionsPackets: 100_000, backlogMaxPackets: 100_000, maxQueueDelayMs: 50 };
      await withSlowConsumer(bounds, 1, async (l, frames) => {
        const packets = Array.from({ length: 1500 }, (_, i) => hep3Packet(sipText('REGISTER', `r${i}`)));
        await sendAndDrain(l, packets);
        const st = l.stats();
        assert.ok(st.shed.delay > 0, 'frames that waited too long were shed');
        assert.ok(frames.length > 0, 'the rest were delivered');
        assert.equal(st.shed.options + st.shed.overflow, 0);
        assert.equal(st.accepted + st.shed.delay, packets.length, 'each packet delivered or counted');
        assert.equal(st.dropped, st.shed.delay);
        const order = frames.map((f) => Number(callIdOf(f).slice(1)));
        assert.deepEqual(
          order,
          [...order].sort((a, b) => a - b),
        );
        await waitFor(() => l.stats().backlog.packets === 0, 'backlog 0');
      });
    },
  );

  it('stop() delivers every frame still queued, a second stop() is harmless, and a restart counts on', async () => {
    const frames: SipFrame[] = [];
    const l = new HepListener(
      // No delay bound: the slow consumer would otherwise shed the frames it falls behind on.
      { listen: ['udp://127.0.0.1:0'], maxQueueDelayMs: 0 },
      {
        frame: (f) => {
          busy(0.2);
          frames.push(f);
        },
      },
    );
    await l.start();
    const packets = Array.from({ length: 300 }, (_, i) => hep3Packet(sipText('INVITE', `i${i}`)));
    await burstUdp(portOf(l.addresses()[0] as string), packets);
    await waitFor(() => l.stats().received === packets.length, 'every datagram read', 5000);
    await l.stop();
    assert.equal(frames.length, 300);
    assert.deepEqual(
      frames.map(callIdOf),
      packets.map((_, i) => `i${i}`),
    );
    const st = l.stats();
    assert.equal(st.accepted, 300);
    assert.equal(st.queued, 0);
    assert.equal(st.up, false);
    await l.stop();
    assert.deepEqual(l.addresses(), []);
    // Restarted: a new thread, counting on from the first one's counts.
    await l.start();
    try {
      await burstUdp(portOf(l.addresses()[0] as string), [hep3Packet(sipText('INVITE', 'again'))]);
      await waitFor(() => frames.length === 301, 'the frame after the restart');
      assert.equal(l.stats().received, 301);
      assert.equal(l.stats().accepted, 301);
    } finally {
      await l.stop();
    }
  });

  it(
    'starts the UDP thread again when it dies, counting on from where it was',
    { timeout: 20_000 },
    async () => {
      const frames: SipFrame[] = [];
      const l = new HepListener({ listen: ['udp://127.0.0.1:0'] }, { frame: (f) => frames.push(f) });
      await l.start();
      try {
        const port = portOf(l.addresses()[0] as string);
        await burstUdp(port, [hep3Packet(sipText('REGISTER', 'before'))]);
        await waitFor(() => frames.length === 1, 'first frame');
        // The thread dies (as on a crash): the source is down and says why, then comes back.
        const dying = (l as unknown as { worker: { terminate(): Promise<number> } }).worker;
        await dying.terminate();
        await waitFor(() => !l.stats().up, 'down');
        assert.match(l.stats().error ?? '', /UDP receive thread exited/);
        await waitFor(() => l.stats().up, 'up again', 5000);
        const st = l.stats();
        assert.equal(st.udpWorker, true);
        assert.equal(st.udpWorkerRestarts, 1);
        assert.equal(st.error, undefined);
        assert.equal(st.received, 1, 'the dead thread’s count is kept');
        await burstUdp(port, [hep3Packet(sipText('REGISTER', 'after'))]);
        await waitFor(() => frames.length === 2, 'frame after the restart');
        assert.deepEqual(frames.map(callIdOf), ['before', 'after']);
        await waitFor(() => l.stats().received === 2, 'counted on');
        await waitFor(() => l.stats().backlog.packets === 0, 'backlog 0 on the new thread');
      } finally {
        await l.stop();
      }
    },
  );

  it('reads UDP on the main thread when asked (udpThread: main)', async () => {
    const c = collect();
    const l = new HepListener({ listen: ['udp://127.0.0.1:0'], udpThread: 'main' }, c.handlers);
    await l.start();
    try {
      assert.equal(l.stats().udpWorker, false);
      await sendUdp(portOf(l.addresses()[0] as string), [hep3Packet(sipText('INVITE', 'here'))]);
      await waitFor(() => c.frames.length === 1, 'one frame');
      assert.equal(callIdOf(c.frames[0] as SipFrame), 'here');
    } finally {
      await l.stop();
    }
  });

  it('falls back to the main thread when the worker cannot start, and says why', async () => {
    const c = collect();
    const l = new HepListener(
      {
        listen: ['udp://127.0.0.1:0'],
        udpWorkerModule: new URL('./no-such-hep-udp-worker.js', import.meta.url),
      },
      c.handlers,
    );
    await l.start();
    try {
      const st = l.stats();
      assert.equal(st.udpWorker, false);
      assert.match(st.udpWorkerError ?? '', /UDP receive thread/);
      assert.equal(st.up, true);
      await sendUdp(portOf(l.addresses()[0] as string), [hep3Packet(sipText('INVITE', 'fallback'))]);
      await waitFor(() => c.frames.length === 1, 'one frame');
      assert.equal(callIdOf(c.frames[0] as SipFrame), 'fallback');
    } finally {
      await l.stop();
    }
  });

  it('finds the SIP payload of v2/v3 packets without a full decode', () => {
    const sip = sipText('OPTIONS', 'k', true);
    assert.equal(peekHepPayload(hep3Packet(sip))?.toString('latin1'), sip.toString('latin1'));
    assert.equal(peekHepPayload(hep2Packet(sip))?.toString('latin1'), sip.toString('latin1'));
    assert.equal(isKeepaliveDatagram(hep3Packet(sip)), true);
    assert.equal(isKeepaliveDatagram(hep2Packet(sipText('OPTIONS'))), true);
    assert.equal(isKeepaliveDatagram(hep3Packet(sipText('REGISTER'))), false);
    // Not SIP (RTCP), truncated, or not HEP at all: never taken for a keepalive.
    assert.equal(isKeepaliveDatagram(hep3Packet(sipText('OPTIONS'), { protoType: 5 })), false);
    assert.equal(peekHepPayload(hep3Packet(sip).subarray(0, 40)), undefined);
    assert.equal(peekHepPayload(Buffer.from('OPTIONS sip:x SIP/2.0\r\n')), undefined);
    assert.equal(peekHepPayload(Buffer.alloc(0)), undefined);
  });
});

describe('HepListener over TCP', () => {
  it('frames HEP3 packets split at random points, and bounds connections', async () => {
    const c = collect();
    const l = new HepListener({ listen: ['tcp://127.0.0.1:0'], maxConnections: 1 }, c.handlers);
    await l.start();
    try {
      const port = portOf(l.addresses()[0] as string);
      const stream = Buffer.concat(
        Array.from({ length: 20 }, (_, i) => hep3Packet(sipText('INVITE', `t${i}`), { protocol: 6 })),
      );
      const s = connect(port, '127.0.0.1');
      await new Promise<void>((r) => s.once('connect', () => r()));
      await waitFor(() => l.stats().connections === 1, 'connection accepted');
      const second = connect(port, '127.0.0.1');
      await new Promise<void>((r) => second.once('close', () => r()).once('error', () => undefined));
      await waitFor(() => l.stats().connectionsRefused === 1, 'second connection refused');
      const rand = rng(7);
      for (let off = 0; off < stream.length;) {
        const n = 1 + Math.floor(rand() * 300);
        s.write(stream.subarray(off, off + n));
        off += n;
      }
      await waitFor(() => c.frames.length === 20, '20 frames');
      assert.deepEqual(
        c.frames.map((f) => /Call-ID: (\S+)/.exec(f.data.toString('latin1'))?.[1]),
        Array.from({ length: 20 }, (_, i) => `t${i}`),
      );
      assert.ok(c.frames.every((f) => f.transport === 'tcp'));
      s.end();
      await waitFor(() => l.stats().connections === 0, 'connection closed');
    } finally {
      await l.stop();
    }
  });

  it('fuzz: random bytes and random splits never throw and keep the queue bounded', async () => {
    const c = collect();
    const l = new HepListener({ listen: ['tcp://127.0.0.1:0'], queueMax: 8 }, c.handlers);
    const rand = rng(99);
    const good = hep3Packet(sipText('INVITE'));
    for (let i = 0; i < 400; i++) {
      const len = Math.floor(rand() * 200);
      const junk = Buffer.from(Array.from({ length: len }, () => Math.floor(rand() * 256)));
      // Half the cases mutate a real packet, so the decoder goes deep.
      const pkt = i % 2 === 0 ? junk : Buffer.from(good);
      if (i % 2 === 1)
        for (let k = 0; k < 4; k++) pkt[Math.floor(rand() * pkt.length)] = Math.floor(rand() * 256);
      l.ingest(pkt, '127.0.0.1');
      assert.ok(l.stats().queued <= 8);
    }
    await l.start();
    try {
      const port = portOf(l.addresses()[0] as string);
      const s = connect(port, '127.0.0.1');
      await new Promise<void>((r) => s.once('connect', () => r()));
      let sent = 0;
      for (let i = 0; i < 100; i++) {
        const b = Buffer.concat([
          Buffer.from(Array.from({ length: Math.floor(rand() * 50) }, () => Math.floor(rand() * 256))),
          i % 3 === 0 ? good : Buffer.alloc(0),
        ]);
        sent += b.length;
        s.write(b);
      }
      await waitFor(() => l.stats().bytes >= sent, 'all bytes read');
      s.destroy();
      const st = l.stats();
      assert.ok(st.malformed > 0);
      assert.equal(st.accepted + st.dropped + st.queued, c.frames.length + st.dropped + st.queued);
    } finally {
      await l.stop();
    }
  });
});

// ── A real sender: Kamailio 5.6 siptrace in HEP3 mode, driven by sipsak ─────────────────────────

const kamailioMissing = !haveTool('kamailio')
  ? 'kamailio is not installed'
  : !haveTool('sipsak')
    ? 'sipsak is not installed'
    : undefined;

describe('HepListener with Kamailio siptrace (HEP3, capture id, auth key)', { skip: kamailioMissing }, () => {
  const work = mkdtempSync(join(tmpdir(), 'sipwarden-hep-'));
  after(() => rmSync(work, { recursive: true, force: true }));

  async function withKamailio(
    hepUri: string,
    sipAddr: string,
    sipPort: number,
    body: () => Promise<void>,
  ): Promise<void> {
    // Kamailio sends HEP over TCP only from a TCP listening socket of its own.
    const tcpListen = hepUri.endsWith(';transport=tcp') ? ['-l', `tcp:${sipAddr}:${sipPort}`] : [];
    const child: ChildProcess = spawn(
      'kamailio',
      [
        '-f',
        'test/fixtures/hep/kamailio-siptrace.cfg',
        '-A',
        `HEP_URI="${hepUri}"`,
        '-A',
        'HEP_KEY="lab-key"',
        '-l',
        `udp:${sipAddr}:${sipPort}`,
        ...tcpListen,
        '-P',
        join(work, `k${sipPort}.pid`),
        '-Y',
        work,
        '-w',
        work,
        '-m',
        '32',
        '-M',
        '4',
        '-DD',
        '-E',
      ],
      { detached: true, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      if (stderr.length < 20_000) stderr += d.toString();
    });
    try {
      await body();
    } catch (err) {
      throw new Error(`${(err as Error).message}\nkamailio stderr:\n${stderr.slice(-2000)}`, { cause: err });
    } finally {
      // kamailio forks workers into its process group (detached: a group of its own).
      if (child.pid !== undefined && child.exitCode === null) process.kill(-child.pid, 'SIGTERM');
      await new Promise<void>((r) => (child.exitCode !== null ? r() : child.once('exit', () => r())));
    }
  }

  function sipsak(args: string[]): void {
    spawnSync('sipsak', args, { timeout: 3000, stdio: 'ignore' });
  }

  for (const transport of ['udp', 'tcp'] as const) {
    it(`receives what sipsak sent to Kamailio, over HEP/${transport}`, { timeout: 9000 }, async () => {
      const c = collect();
      const l = new HepListener(
        { listen: [`${transport}://127.0.0.1:0`], authKey: 'lab-key', allow: ['127.0.0.0/8'] },
        c.handlers,
      );
      await l.start();
      const sipAddr = transport === 'udp' ? '127.0.0.77' : '127.0.0.78';
      const sipPort = 20000 + Math.floor(Math.random() * 20000);
      const hepPort = portOf(l.addresses()[0] as string);
      const hepUri = `sip:127.0.0.1:${hepPort}${transport === 'tcp' ? ';transport=tcp' : ''}`;
      try {
        await withKamailio(hepUri, sipAddr, sipPort, async () => {
          // Kamailio answers once it is up: retry a bounded number of times.
          for (let i = 0; i < 30 && c.frames.length === 0; i++) {
            sipsak(['-s', `sip:probe@${sipAddr}:${sipPort}`, '--local-ip', '127.0.0.1']);
            if (c.frames.length === 0) await new Promise((r) => setTimeout(r, 200));
          }
          await waitFor(() => c.frames.length >= 2, 'the first OPTIONS and its 200', 3000);
          sipsak(['-s', `sip:second@${sipAddr}:${sipPort}`, '--local-ip', '127.0.0.1']);
          // sipsak -M crashes in this sipsak build: send the MESSAGE from a file instead.
          const msg = join(work, 'message.sip');
          writeFileSync(
            msg,
            `MESSAGE sip:text@${sipAddr}:${sipPort} SIP/2.0\r\n` +
              'Via: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bK-msg1\r\nFrom: <sip:lab@127.0.0.1>;tag=m1\r\n' +
              `To: <sip:text@${sipAddr}>\r\nCall-ID: msg1@lab\r\nCSeq: 1 MESSAGE\r\nMax-Forwards: 70\r\n` +
              'Content-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello',
          );
          sipsak(['-f', msg, '-s', `sip:text@${sipAddr}:${sipPort}`, '--local-ip', '127.0.0.1']);
          await waitFor(
            () => c.frames.some((f) => f.data.toString('latin1').startsWith('SIP/2.0 202')),
            'the MESSAGE answer',
            3000,
          );
          await waitFor(() => l.stats().nonSip >= 1, 'the hlog packet', 3000);
        });
      } finally {
        await l.stop();
      }
      const texts = c.frames.map((f) => f.data.toString('latin1'));
      const second = c.frames.find((f) => f.data.toString('latin1').startsWith('OPTIONS sip:second@'));
      assert.ok(
        second,
        `OPTIONS to second@ was traced; got ${texts.map((t) => t.split('\r\n')[0]).join(' | ')}`,
      );
      assert.equal(second.srcIp, '127.0.0.1');
      assert.equal(second.dstIp, sipAddr);
      assert.equal(second.dstPort, sipPort);
      assert.equal(second.transport, 'udp', 'the traced SIP travelled over UDP whatever carried the HEP');
      assert.deepEqual(second.provenance, { kind: 'hep', agent: 2345 });
      assert.ok(Math.abs(second.time - Date.now()) < 60_000, 'time from the HEP timestamp');
      const reply = c.frames.find(
        (f) =>
          f.srcIp === sipAddr &&
          f.dstPort === second.srcPort &&
          /^SIP\/2\.0 200/.test(f.data.toString('latin1')),
      );
      assert.ok(reply, 'the 200 to that OPTIONS, from Kamailio back to sipsak');
      assert.equal(reply.srcPort, sipPort);
      assert.ok(texts.some((t) => t.startsWith('MESSAGE sip:text@')));
      const st = l.stats();
      assert.equal(st.rejected, 0);
      assert.equal(st.malformed, 0);
      assert.ok(st.nonSip >= 1, 'the HEP log packet (hlog) is counted and ignored');
    });
  }
});
