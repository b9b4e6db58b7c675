/**
 * Helpers shared by the live-source tests: HEP packet builders, a seeded PRNG, polling until a
 * condition holds (bounded in time), and a check for installed tools.
 */
import { spawnSync } from 'node:child_process';

/** Options of `hep3Packet`. */
export interface Hep3Fields {
  readonly src?: string;
  readonly dst?: string;
  readonly srcPort?: number;
  readonly dstPort?: number;
  readonly sec?: number;
  readonly usec?: number;
  readonly protoType?: number;
  readonly protocol?: number;
  readonly captureId?: number;
  readonly authKey?: string;
}

function chunk(type: number, value: Buffer): Buffer {
  const h = Buffer.alloc(6);
  h.writeUInt16BE(0, 0);
  h.writeUInt16BE(type, 2);
  h.writeUInt16BE(6 + value.length, 4);
  return Buffer.concat([h, value]);
}

function u(v: number, size: 1 | 2 | 4): Buffer {
  const b = Buffer.alloc(size);
  b.writeUIntBE(v, 0, size);
  return b;
}

/** A HEP3 packet (IPv4) carrying `payload`. */
export function hep3Packet(payload: Buffer, f: Hep3Fields = {}): Buffer {
  const ip = (s: string): Buffer => Buffer.from(s.split('.').map(Number));
  const parts = [
    chunk(0x01, u(2, 1)),
    chunk(0x02, u(f.protocol ?? 17, 1)),
    chunk(0x03, ip(f.src ?? '203.0.113.7')),
    chunk(0x04, ip(f.dst ?? '198.51.100.2')),
    chunk(0x07, u(f.srcPort ?? 5071, 2)),
    chunk(0x08, u(f.dstPort ?? 5060, 2)),
    chunk(0x09, u(f.sec ?? 1_700_000_000, 4)),
    chunk(0x0a, u(f.usec ?? 250_000, 4)),
    chunk(0x0b, u(f.protoType ?? 1, 1)),
    chunk(0x0c, u(f.captureId ?? 42, 4)),
  ];
  if (f.authKey !== undefined) parts.push(chunk(0x0e, Buffer.from(f.authKey, 'utf8')));
  parts.push(chunk(0x0f, payload));
  const body = Buffer.concat(parts);
  const head = Buffer.from('HEP3\0\0', 'latin1');
  head.writeUInt16BE(6 + body.length, 4);
  return Buffer.concat([head, body]);
}

/** A HEP v2 packet (IPv4, little-endian time header as agents send it). */
export function hep2Packet(payload: Buffer, sec = 1_600_000_000, agent = 7): Buffer {
  const h = Buffer.alloc(8);
  h[0] = 2;
  h[1] = 16;
  h[2] = 2;
  h[3] = 17;
  h.writeUInt16BE(5062, 4);
  h.writeUInt16BE(5060, 6);
  const t = Buffer.alloc(12);
  t.writeUInt32LE(sec, 0);
  t.writeUInt32LE(0, 4);
  t.writeUInt16LE(agent, 8);
  return Buffer.concat([h, Buffer.from([192, 0, 2, 1, 192, 0, 2, 2]), t, payload]);
}

/** A small SIP request (or, with `response`, a 200 answering it). */
export function sipText(method: string, callId = 'c1@test', response = false): Buffer {
  const start = response ? 'SIP/2.0 200 OK' : `${method} sip:100@198.51.100.2 SIP/2.0`;
  return Buffer.from(
    `${start}\r\nVia: SIP/2.0/UDP 203.0.113.7:5071;branch=z9hG4bK-${callId}\r\n` +
      `From: <sip:200@203.0.113.7>;tag=a\r\nTo: <sip:100@198.51.100.2>\r\nCall-ID: ${callId}\r\n` +
      `CSeq: 1 ${method}\r\nContent-Length: 0\r\n\r\n`,
    'latin1',
  );
}

/** Deterministic PRNG (mulberry32) so a failing fuzz case can be replayed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Resolves once `cond()` is true; rejects after `timeoutMs` with `what` in the message. */
export async function waitFor(cond: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Whether an executable is on PATH. */
export function haveTool(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}
