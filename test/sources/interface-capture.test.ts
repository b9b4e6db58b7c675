import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  buildCaptureFilter,
  captureArgs,
  findExecutable,
  InterfaceCapture,
} from '../../src/sources/interface-capture.js';
import { ethernet, ipPacket, pcapFile, udp } from '../helpers/pcap-writer.js';
import { sipText, waitFor } from './live-helpers.js';

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'sipwarden-cap-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function script(name: string, body: string): string {
  const p = join(dir, name);
  writeFileSync(p, `#!/bin/sh\n${body}\n`);
  chmodSync(p, 0o755);
  return p;
}

describe('capture filter and command line', () => {
  it('builds a BPF filter from the ports that keeps fragments', () => {
    assert.equal(
      buildCaptureFilter([5060, 5090], [9060, 5060]),
      'udp port 5060 or tcp port 5060 or udp port 5090 or tcp port 5090 or udp port 9060 or tcp port 9060 or (ip[6:2] & 0x1fff != 0) or (ip6 and ip6[6] == 44)',
    );
    assert.throws(() => buildCaptureFilter([], []), /no ports/);
    assert.throws(() => buildCaptureFilter([0], []), /bad port 0/);
    assert.throws(
      () =>
        buildCaptureFilter(
          Array.from({ length: 65 }, (_, i) => i + 1),
          [],
        ),
      /at most 64/,
    );
    assert.deepEqual(captureArgs('tcpdump', 'lo', 'udp'), [
      '-U',
      '--immediate-mode',
      '-n',
      '-s',
      '0',
      '-i',
      'lo',
      '-w',
      '-',
      'udp',
    ]);
    assert.deepEqual(captureArgs('dumpcap', 'lo', 'udp'), ['-q', '-i', 'lo', '-f', 'udp', '-P', '-w', '-']);
    assert.throws(
      () => new InterfaceCapture({ interface: '-w/etc/x' }, () => undefined),
      /bad interface name/,
    );
  });
});

describe('InterfaceCapture with stand-in tools', () => {
  it('rejects start() naming the interface with the tool stderr when it dies at once', async () => {
    const tool = script('nodev.sh', 'echo "tcpdump: nosuchif: No such device exists" >&2; exit 1');
    const c = new InterfaceCapture(
      { interface: 'nosuchif', toolPath: tool, tool: 'tcpdump' },
      () => undefined,
    );
    await assert.rejects(
      c.start(),
      (e: Error) =>
        /nosuchif/.test(e.message) && /code 1/.test(e.message) && /No such device/.test(e.message),
    );
    assert.equal(c.stats().up, false);
    const missing = new InterfaceCapture({ interface: 'lo', toolPath: join(dir, 'absent') }, () => undefined);
    await assert.rejects(missing.start(), (e: Error) => /on lo/.test(e.message) && /ENOENT/.test(e.message));
  });

  it('delivers frames, marks the source down when the tool dies, and restarts it with backoff', async () => {
    const payload = sipText('OPTIONS', 'standin');
    const frame = ethernet(0x0800, ipPacket('192.0.2.1', '192.0.2.2', 17, udp(5062, 5060, payload)));
    const pcap = join(dir, 'one.pcap');
    writeFileSync(pcap, pcapFile([{ time: 1_700_000_000_000, data: frame }]));
    const tool = script('dies.sh', `cat '${pcap}'; echo "boom" >&2; exit 3`);
    const got: { seq: number; frame: number; time: number; link: number; data: Buffer }[] = [];
    const c = new InterfaceCapture(
      { interface: 'lo', toolPath: tool, restartMinMs: 30, restartMaxMs: 60, startTimeoutMs: 2000 },
      (f, seq) =>
        got.push({ seq, frame: f.frame, time: f.time, link: f.linkType, data: Buffer.from(f.data) }),
    );
    await c.start();
    try {
      await waitFor(() => c.stats().restarts >= 2 && got.length >= 3, 'two restarts');
      assert.deepEqual(
        got.slice(0, 3).map((g) => [g.seq, g.frame]),
        [
          [1, 1],
          [2, 1],
          [3, 1],
        ],
      );
      assert.equal(got[0]?.time, 1_700_000_000_000);
      assert.equal(got[0]?.link, 1);
      assert.ok(got[0]?.data.equals(frame));
      const st = c.stats();
      assert.match(st.lastExit ?? '', /exited with code 3: boom/);
      assert.ok(st.accepted >= 3);
    } finally {
      await c.stop();
    }
    const restarts = c.stats().restarts;
    await new Promise((r) => setTimeout(r, 120));
    assert.equal(c.stats().restarts, restarts, 'no restart after stop()');
    assert.equal(c.stats().up, false);
  });

  it('restarts a tool whose stream is corrupt', async () => {
    const tool = script('junk.sh', 'printf "this is not a pcap stream at all"; exec sleep 5');
    const c = new InterfaceCapture(
      { interface: 'lo', toolPath: tool, restartMinMs: 30, startTimeoutMs: 300 },
      () => undefined,
    );
    await assert.rejects(c.start(), /on lo: .*stream unreadable: .*pcap magic/);
    const d = new InterfaceCapture(
      {
        interface: 'lo',
        toolPath: script(
          'hdr-junk.sh',
          `head -c 24 '${join(dir, 'one.pcap')}'; sleep 0.05; printf 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'; exec sleep 5`,
        ),
        restartMinMs: 30,
      },
      () => undefined,
    );
    await d.start();
    try {
      await waitFor(
        () => d.stats().malformed >= 1 && d.stats().restarts >= 1,
        'a restart after a corrupt stream',
      );
    } finally {
      await d.stop();
    }
  });
});

const tools = (['tcpdump', 'dumpcap'] as const).filter((t) => findExecutable(t) !== undefined);
const notRoot =
  process.getuid?.() !== 0 ? 'needs root (or capture capabilities) to capture on lo' : undefined;

describe(
  'InterfaceCapture on the loopback interface',
  { skip: tools.length === 0 ? 'neither tcpdump nor dumpcap is installed' : notRoot },
  () => {
    for (const tool of tools) {
      it(`captures SIP datagrams sent to 127.0.0.x with ${tool}`, { timeout: 8000 }, async () => {
        const port = 30000 + Math.floor(Math.random() * 20000);
        const got: Buffer[] = [];
        const links = new Set<number>();
        const c = new InterfaceCapture({ interface: 'lo', tool, sipPorts: [port], hepPorts: [] }, (f) => {
          links.add(f.linkType);
          got.push(Buffer.from(f.data));
        });
        await c.start();
        try {
          assert.equal(c.stats().tool, tool);
          const s = createSocket('udp4');
          await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
          const sent = Array.from({ length: 5 }, (_, i) => sipText('OPTIONS', `lo-${tool}-${i}`));
          // The tool may need a moment after "listening" before packets flow: resend a bounded number of times.
          for (
            let round = 0;
            round < 10 && !sent.every((p) => got.some((g) => g.subarray(g.length - p.length).equals(p)));
            round++
          ) {
            for (const p of sent) await new Promise<void>((r) => s.send(p, port, '127.0.0.9', () => r()));
            await new Promise((r) => setTimeout(r, 200));
          }
          s.close();
          await waitFor(
            () => sent.every((p) => got.some((g) => g.subarray(g.length - p.length).equals(p))),
            'all five datagrams',
          );
          assert.deepEqual([...links], [1], 'Linux lo is Ethernet-framed');
          const first = got.find((g) =>
            g.subarray(g.length - (sent[0] as Buffer).length).equals(sent[0] as Buffer),
          ) as Buffer;
          // Ethernet 14 + IPv4 20 + UDP 8, then the payload.
          assert.equal(first.length, 42 + (sent[0] as Buffer).length);
          assert.equal(first.readUInt16BE(14 + 20 + 2), port);
          assert.equal(c.stats().up, true);
        } finally {
          await c.stop();
        }
        assert.equal(c.stats().up, false);
      });
    }
    it('rejects start() for an interface that does not exist', async () => {
      const c = new InterfaceCapture(
        { interface: 'nosuchif0', tool: tools[0] ?? 'tcpdump', startTimeoutMs: 4000 },
        () => undefined,
      );
      await assert.rejects(
        c.start(),
        (e: Error) => /nosuchif0/.test(e.message) && /exited with code/.test(e.message),
      );
    });
  },
);
