import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Anomaly } from '../../src/core/records.js';
import { WS_MAX_BUFFERED_BYTES, WS_MAX_HANDSHAKE_BYTES } from '../../src/config/limits.js';
import { WS_ANOMALIES, WebSocketDeframer, detectWebSocketUpgrade } from '../../src/decode/websocket.js';
import type { WebSocketDeframerOptions, WebSocketSink } from '../../src/decode/websocket.js';

// Every anomaly code the tests see must be documented.
const seenCodes = new Set<string>();

class Collector implements WebSocketSink {
  messages: string[] = [];
  raw: Buffer[] = [];
  binary: boolean[] = [];
  offsets: number[] = [];
  anomalies: Anomaly[] = [];
  closes: (number | undefined)[] = [];
  onMessage(data: Buffer, binary: boolean, offset: number): void {
    this.raw.push(Buffer.from(data));
    this.messages.push(data.toString('latin1'));
    this.binary.push(binary);
    this.offsets.push(offset);
  }
  onAnomaly(anomaly: Anomaly): void {
    seenCodes.add(anomaly.code);
    this.anomalies.push(anomaly);
  }
  onClose(code: number | undefined): void {
    this.closes.push(code);
  }
  codes(): string[] {
    return this.anomalies.map((a) => a.code);
  }
}

function deframer(options?: WebSocketDeframerOptions): [WebSocketDeframer, Collector] {
  const c = new Collector();
  return [new WebSocketDeframer(c, options), c];
}

interface FrameSpec {
  payload: Buffer | string;
  opcode?: number;
  fin?: boolean;
  mask?: Buffer | null;
  /** Force a length encoding: 7, 16 or 64 bits. */
  lenBits?: 7 | 16 | 64;
  rsv?: number;
}

const MASK = Buffer.from([0x37, 0xfa, 0x21, 0x3d]);

function frame(spec: FrameSpec): Buffer {
  const payload = typeof spec.payload === 'string' ? Buffer.from(spec.payload, 'latin1') : spec.payload;
  const n = payload.length;
  const bits = spec.lenBits ?? (n < 126 ? 7 : n < 65536 ? 16 : 64);
  const mask = spec.mask === undefined ? null : spec.mask;
  const head: number[] = [((spec.fin ?? true) ? 0x80 : 0) | ((spec.rsv ?? 0) << 4) | (spec.opcode ?? 1)];
  const m = mask ? 0x80 : 0;
  if (bits === 7) head.push(m | n);
  else if (bits === 16) head.push(m | 126, n >> 8, n & 0xff);
  else {
    head.push(m | 127, 0, 0, 0, 0);
    head.push((n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
  }
  const body = Buffer.from(payload);
  if (mask) {
    for (let i = 0; i < body.length; i++) body[i] = (body[i] as number) ^ (mask[i & 3] as number);
    return Buffer.concat([Buffer.from(head), mask, body]);
  }
  return Buffer.concat([Buffer.from(head), body]);
}

function sipMessage(method: string, size: number): string {
  const head = `${method} sip:100@example.com SIP/2.0\r\nCall-ID: x\r\nContent-Length: `;
  const bodyLen = Math.max(0, size - head.length - 10);
  const body = 'v'.repeat(bodyLen);
  return `${head}${String(bodyLen).padStart(6, '0')}\r\n\r\n${body}`;
}

// Deterministic PRNG so a failing case can be replayed.
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function firstLine(s: string): string {
  const i = s.indexOf('\r\n');
  return i < 0 ? s : s.slice(0, i);
}

// ── the real capture ──────────────────────────────────────────────────────────────────────────

// Fixtures made by test/fixtures/hep/make-fixtures.sh from heplify's sip_tcp_websocket.pcap.
const SEGMENTS = readFileSync('test/fixtures/hep/ws-sip-segments.tsv', 'utf8')
  .trim()
  .split('\n')
  .map((line) => {
    const [frameNo, port, hex] = line.split('\t');
    return { frame: Number(frameNo), port: Number(port), data: Buffer.from(hex ?? '', 'hex') };
  });
const EXPECTED = readFileSync('test/fixtures/hep/ws-sip-expected.tsv', 'utf8')
  .trim()
  .split('\n')
  .map((line) => {
    const [frameNo, port, method, status] = line.split('\t');
    return { frame: Number(frameNo), port: Number(port), what: (method !== '' ? method : status) ?? '' };
  });

const CLIENT_PORT = 43380;
const SERVER_PORT = 8080;

function direction(port: number): Buffer[] {
  return SEGMENTS.filter((s) => s.port === port).map((s) => s.data);
}

// What a stream consumer does: find the upgrade head, skip it, deframe the rest.
function deframeDirection(segments: Buffer[], masked: boolean): Collector {
  const [d, c] = deframer({ masked });
  let head = Buffer.alloc(0);
  let upgraded = false;
  for (const seg of segments) {
    if (upgraded) {
      d.push(seg, false);
      continue;
    }
    head = Buffer.concat([head, seg]);
    const u = detectWebSocketUpgrade(head);
    if (u.kind === 'incomplete') continue;
    assert.notEqual(u.kind, 'none');
    if (u.kind === 'request' || u.kind === 'response') {
      assert.equal(u.sipSubprotocol, true);
      upgraded = true;
      d.push(head.subarray(u.headerLength), false);
    }
  }
  assert.equal(upgraded, true);
  assert.equal(d.buffered, 0);
  return c;
}

function whatOf(msg: string): string {
  const line = firstLine(msg);
  return line.startsWith('SIP/2.0 ') ? line.slice(8, 11) : line.slice(0, line.indexOf(' '));
}

describe('WebSocket on the SIP.js ↔ OpenSIPS capture', () => {
  it('finds the messages tshark finds, per direction and in order', () => {
    const client = deframeDirection(direction(CLIENT_PORT), true);
    const server = deframeDirection(direction(SERVER_PORT), false);
    const want = (port: number): string[] => EXPECTED.filter((e) => e.port === port).map((e) => e.what);
    assert.deepEqual(client.messages.map(whatOf), want(CLIENT_PORT));
    assert.deepEqual(server.messages.map(whatOf), want(SERVER_PORT));
    assert.deepEqual(client.messages.map(whatOf), ['INVITE', 'ACK', 'INVITE', 'ACK', 'BYE']);
    assert.deepEqual(server.messages.map(whatOf), ['407', '100', '180', '183', '200', '200']);
    assert.deepEqual(client.anomalies, []);
    assert.deepEqual(server.anomalies, []);
    assert.deepEqual(client.binary, [false, false, false, false, false]);
    // Each SIP message is whole: its Content-Length matches the body after the head.
    for (const m of [...client.messages, ...server.messages]) {
      const cl = Number(/\r\nContent-Length: *(\d+)/i.exec(m)?.[1]);
      assert.equal(m.length - (m.indexOf('\r\n\r\n') + 4), cl, firstLine(m));
    }
    assert.equal(
      firstLine(client.messages[0] ?? ''),
      'INVITE sip:+12263382742@dev-mike.tncp.textnow.com SIP/2.0',
    );
  });

  it('reads the upgrade heads of both directions', () => {
    const req = Buffer.concat(direction(CLIENT_PORT));
    const res = Buffer.concat(direction(SERVER_PORT));
    assert.deepEqual(detectWebSocketUpgrade(req), {
      kind: 'request',
      headerLength: 988,
      sipSubprotocol: true,
    });
    assert.deepEqual(detectWebSocketUpgrade(res), {
      kind: 'response',
      headerLength: 158,
      sipSubprotocol: true,
    });
    for (let n = 0; n < 988; n++) {
      assert.equal(detectWebSocketUpgrade(req.subarray(0, n)).kind, 'incomplete', `prefix ${n}`);
    }
  });

  it('gives the same messages for random splits and for one byte at a time', () => {
    const stream = Buffer.concat(direction(CLIENT_PORT)).subarray(988);
    const whole = deframeDirection(direction(CLIENT_PORT), true).messages;
    const rand = rng(7);
    for (let trial = 0; trial < 100; trial++) {
      const [d, c] = deframer({ masked: true });
      let off = 0;
      while (off < stream.length) {
        const n = 1 + Math.floor(rand() * (rand() < 0.5 ? 20 : 2000));
        d.push(stream.subarray(off, off + n), false);
        off += n;
      }
      assert.deepEqual(c.messages, whole);
      assert.deepEqual(c.anomalies, []);
    }
    const [d, c] = deframer();
    for (let i = 0; i < stream.length; i++) d.push(stream.subarray(i, i + 1), false);
    assert.deepEqual(c.messages, whole);
  });
});

// ── upgrade detection ─────────────────────────────────────────────────────────────────────────

describe('detectWebSocketUpgrade', () => {
  const req = 'GET /ws HTTP/1.1\r\nHost: pbx\r\nupgrade: WebSocket\r\nConnection: Upgrade\r\n';
  it('recognises requests and 101 responses, with or without the sip subprotocol', () => {
    const a = Buffer.from(`${req}Sec-WebSocket-Protocol: chat, SIP\r\n\r\n\x81\x05hello`, 'latin1');
    assert.deepEqual(detectWebSocketUpgrade(a), {
      kind: 'request',
      headerLength: a.length - 7,
      sipSubprotocol: true,
    });
    const b = Buffer.from(`${req}\r\n`);
    assert.deepEqual(detectWebSocketUpgrade(b), {
      kind: 'request',
      headerLength: b.length,
      sipSubprotocol: false,
    });
    const c = Buffer.from(
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nSec-WebSocket-Protocol: sip\r\n\r\n',
    );
    assert.deepEqual(detectWebSocketUpgrade(c), {
      kind: 'response',
      headerLength: c.length,
      sipSubprotocol: true,
    });
    // Bare LF line ends are tolerated.
    const d = Buffer.from('HTTP/1.0 101\nUpgrade: websocket\nSec-WebSocket-Protocol:sip\n\n');
    assert.deepEqual(detectWebSocketUpgrade(d), {
      kind: 'response',
      headerLength: d.length,
      sipSubprotocol: true,
    });
    // "sips" or "x-sip" is not "sip".
    const e = Buffer.from(`${req}Sec-WebSocket-Protocol: sips, x-sip\r\n\r\n`);
    assert.equal((detectWebSocketUpgrade(e) as { sipSubprotocol: boolean }).sipSubprotocol, false);
  });

  it('says none for what is not a WebSocket upgrade', () => {
    const none = [
      'POST / HTTP/1.1\r\n\r\n',
      'INVITE sip:1@2 SIP/2.0\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: x\r\n\r\n',
      'HTTP/1.1 200 OK\r\nUpgrade: websocket\r\n\r\n',
      'HTTP/1.1 1010 Odd\r\nUpgrade: websocket\r\n\r\n',
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n',
      'HTTP/2 101\r\n\r\n',
      'GEX',
      '\x81\x05hello',
    ];
    for (const s of none) assert.equal(detectWebSocketUpgrade(Buffer.from(s, 'latin1')).kind, 'none', s);
  });

  it('waits for a head that may still complete, up to WS_MAX_HANDSHAKE_BYTES', () => {
    for (const s of ['', 'G', 'GET', 'HTTP/1', 'GET / HTTP/1.1\r\nUpgrade: websocket\r\n']) {
      assert.equal(detectWebSocketUpgrade(Buffer.from(s)).kind, 'incomplete', s);
    }
    const long = Buffer.from(`GET / HTTP/1.1\r\nCookie: ${'a'.repeat(WS_MAX_HANDSHAKE_BYTES)}\r\n\r\n`);
    assert.equal(detectWebSocketUpgrade(long).kind, 'none');
    assert.equal(detectWebSocketUpgrade(long.subarray(0, 1000)).kind, 'incomplete');
  });
});

// ── frames ────────────────────────────────────────────────────────────────────────────────────

describe('WebSocketDeframer', () => {
  it('unmasks client frames and passes server frames through', () => {
    const msg = sipMessage('REGISTER', 300);
    const [d, c] = deframer({ masked: true });
    d.push(frame({ payload: msg, mask: MASK }), false);
    assert.deepEqual(c.messages, [msg]);
    const [d2, c2] = deframer({ masked: false });
    const wire = frame({ payload: msg });
    d2.push(wire, false);
    assert.deepEqual(c2.messages, [msg]);
    assert.deepEqual(c.anomalies, []);
    assert.deepEqual(c2.anomalies, []);
    // The unmasked, unfragmented case is a view into the pushed buffer (no copy).
    let view: Buffer | undefined;
    const d3 = new WebSocketDeframer({
      onMessage(data: Buffer) {
        view = data;
      },
      onAnomaly() {},
      onClose() {},
    });
    d3.push(wire, false);
    assert.equal(view?.buffer, wire.buffer);
  });

  it('reads 7-, 16- and 64-bit lengths and reports non-minimal ones', () => {
    for (const size of [0, 5, 125, 126, 127, 1000, 65535, 65536, 100_000]) {
      const payload = size === 0 ? '' : sipMessage('MESSAGE', size).slice(0, size);
      const [d, c] = deframer();
      d.push(frame({ payload, mask: MASK }), false);
      assert.equal(c.messages.length, 1, `size ${size}`);
      assert.equal(c.messages[0], payload);
      assert.deepEqual(c.anomalies, []);
    }
    const [d, c] = deframer();
    d.push(frame({ payload: 'OPTIONS x', lenBits: 16 }), false);
    d.push(frame({ payload: 'OPTIONS y', lenBits: 64 }), false);
    d.push(frame({ payload: 'z'.repeat(300), lenBits: 64 }), false);
    assert.deepEqual(c.messages, ['OPTIONS x', 'OPTIONS y', 'z'.repeat(300)]);
    assert.deepEqual(c.codes(), ['ws_nonminimal_length', 'ws_nonminimal_length', 'ws_nonminimal_length']);
  });

  it('joins fragments across interleaved control frames', () => {
    const msg = sipMessage('INVITE', 500);
    const wire = Buffer.concat([
      frame({ payload: msg.slice(0, 100), fin: false, mask: MASK }),
      frame({ payload: 'ping!', opcode: 9, mask: MASK }),
      frame({ payload: msg.slice(100, 101), opcode: 0, fin: false, mask: MASK }),
      frame({ payload: '', opcode: 0, fin: false, mask: MASK }),
      frame({ payload: '', opcode: 10, mask: MASK }),
      frame({ payload: msg.slice(101), opcode: 0, mask: MASK }),
      frame({ payload: Buffer.from([0, 1, 2, 255]), opcode: 2, mask: MASK }),
    ]);
    const [d, c] = deframer({ masked: true });
    d.push(wire, false);
    assert.deepEqual(c.messages, [msg, '\x00\x01\x02\xff']);
    assert.deepEqual(c.binary, [false, true]);
    assert.deepEqual(c.offsets, [0, wire.length - 10]);
    assert.deepEqual(c.anomalies, []);
    assert.equal(d.stats.frames, 7);
    assert.equal(d.stats.controlFrames, 2);
    assert.equal(d.stats.messages, 2);
  });

  it('gives the same result for a split at every byte position', () => {
    const msgs = [sipMessage('INVITE', 200), sipMessage('ACK', 140), sipMessage('BYE', 90)];
    const wire = Buffer.concat([
      frame({ payload: msgs[0] as string, mask: MASK }),
      frame({ payload: (msgs[1] as string).slice(0, 7), fin: false, mask: MASK }),
      frame({ payload: 'p', opcode: 9, mask: MASK }),
      frame({ payload: (msgs[1] as string).slice(7), opcode: 0, mask: MASK }),
      frame({ payload: msgs[2] as string, mask: MASK, lenBits: 64 }),
    ]);
    for (let i = 0; i <= wire.length; i++) {
      const [d, c] = deframer({ masked: true });
      d.push(wire.subarray(0, i), false);
      d.push(wire.subarray(i), false);
      assert.deepEqual(c.messages, msgs, `split at ${i}`);
      assert.deepEqual(c.codes(), ['ws_nonminimal_length']);
      assert.equal(d.buffered, 0);
    }
  });

  it('ends on a close frame and ignores what follows', () => {
    const close = Buffer.from([0x03, 0xe8, 0x62, 0x79, 0x65]); // 1000 "bye"
    const [d, c] = deframer();
    d.push(
      Buffer.concat([
        frame({ payload: 'OPTIONS a' }),
        frame({ payload: close, opcode: 8 }),
        frame({ payload: 'OPTIONS b' }),
      ]),
      false,
    );
    d.push(frame({ payload: 'OPTIONS c' }), false);
    assert.deepEqual(c.messages, ['OPTIONS a']);
    assert.deepEqual(c.closes, [1000]);
    assert.equal(d.ended, true);
    assert.deepEqual(c.codes(), ['ws_data_after_close']);
    const [d2, c2] = deframer();
    d2.push(frame({ payload: '', opcode: 8, mask: MASK }), false);
    assert.deepEqual(c2.closes, [undefined]);
    assert.equal(d2.ended, true);
  });

  it('reports protocol violations and keeps going', () => {
    const [d, c] = deframer({ masked: true });
    d.push(
      Buffer.concat([
        frame({ payload: 'x'.repeat(126), opcode: 9, mask: MASK }), // control too long
        frame({ payload: 'pi', opcode: 9, fin: false, mask: MASK }), // fragmented control
        frame({ payload: 'orphan', opcode: 0, mask: MASK }), // continuation without a message
        frame({ payload: 'INVITE part', fin: false, mask: MASK }), // never finished ...
        frame({ payload: 'OPTIONS sip:a SIP/2.0', mask: MASK }), // ... replaced by a new message
        frame({ payload: 'REGISTER sip:a SIP/2.0' }), // unmasked from the client
      ]),
      false,
    );
    assert.deepEqual(c.messages, ['OPTIONS sip:a SIP/2.0', 'REGISTER sip:a SIP/2.0']);
    assert.deepEqual(c.codes(), [
      'ws_bad_control_frame',
      'ws_bad_control_frame',
      'ws_unexpected_continuation',
      'ws_unfinished_message',
      'ws_mask_mismatch',
    ]);
    assert.equal(d.stats.messagesDropped, 1);
  });

  it('resynchronises on an impossible header at the next SIP frame', () => {
    const good = frame({ payload: 'SIP/2.0 200 OK\r\n\r\n' });
    const next = frame({ payload: 'BYE sip:a SIP/2.0\r\n\r\n' });
    for (const bad of [
      Buffer.from([0xc1, 0x03, 0x41, 0x42, 0x43]), // RSV1 (no extension negotiated)
      Buffer.from([0x83, 0x03, 0x41, 0x42, 0x43]), // reserved opcode 3
      Buffer.from([0x81, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 1]), // 64-bit length, top bit set
      Buffer.from('garbage \x81\x02AB more garbage'),
    ]) {
      const wire = Buffer.concat([good, bad, next]);
      for (let i = 0; i <= wire.length; i++) {
        const [d, c] = deframer({ masked: false });
        d.push(wire.subarray(0, i), false);
        d.push(wire.subarray(i), false);
        assert.deepEqual(
          c.messages,
          ['SIP/2.0 200 OK\r\n\r\n', 'BYE sip:a SIP/2.0\r\n\r\n'],
          `${bad.toString('hex')} at ${i}`,
        );
        assert.equal(c.codes().at(-1), 'ws_resync');
        assert.equal(c.anomalies.at(-1)?.offset, good.length);
        assert.equal(c.anomalies.at(-1)?.detail, `${bad.length} bytes skipped`);
        assert.equal(d.stats.resyncs, 1);
      }
    }
  });

  it('drops what a TCP gap cut and recovers', () => {
    const a = frame({ payload: sipMessage('INVITE', 400), mask: MASK });
    const b = frame({ payload: sipMessage('CANCEL', 300), mask: MASK });
    const c3 = frame({ payload: sipMessage('ACK', 200), mask: MASK });
    const [d, c] = deframer({ masked: true });
    d.push(a.subarray(0, 150), false);
    // The rest of `a` and the start of `b` were lost.
    d.push(Buffer.concat([b.subarray(40), c3]), true);
    assert.deepEqual(c.messages.map(whatOf), ['ACK']);
    assert.deepEqual(c.codes(), ['ws_stream_gap', 'ws_resync']);
    assert.equal(c.anomalies[0]?.offset, 150);
    assert.equal(d.stats.messagesDropped, 1);
    // A gap at a frame boundary loses nothing more.
    const [d2, c2] = deframer();
    d2.push(frame({ payload: 'OPTIONS 1' }), false);
    d2.push(frame({ payload: 'OPTIONS 2' }), true);
    assert.deepEqual(c2.messages, ['OPTIONS 1', 'OPTIONS 2']);
    assert.deepEqual(c2.codes(), []);
  });

  it('enforces frame, message and buffer bounds', () => {
    const limits = { maxFramePayload: 200, maxMessage: 300, maxBuffered: 2000 };
    const [d, c] = deframer({ limits });
    d.push(
      Buffer.concat([
        frame({ payload: sipMessage('INVITE', 250) }), // frame too large: resync
        frame({ payload: 'OPTIONS after big frame' }),
        frame({ payload: 'x'.repeat(200), fin: false }), // message grows past 300: dropped
        frame({ payload: 'y'.repeat(150), opcode: 0, fin: false }),
        frame({ payload: 'z'.repeat(10), opcode: 0 }),
        frame({ payload: 'OPTIONS after big message' }),
      ]),
      false,
    );
    assert.deepEqual(c.messages, ['OPTIONS after big frame', 'OPTIONS after big message']);
    assert.deepEqual(c.codes(), ['ws_frame_too_large', 'ws_resync', 'ws_message_too_large']);
    // The buffered bound caps messages too, counting the fixed scratch.
    const [d2, c2] = deframer({ limits: { maxFramePayload: 5000, maxMessage: 5000, maxBuffered: 1000 } });
    d2.push(frame({ payload: 'a'.repeat(900), fin: false }), false);
    assert.deepEqual(c2.codes(), ['ws_message_too_large']);
    assert.ok(d2.buffered <= 1000);
  });

  it('buffers what arrived, not what a header claims', () => {
    const [d, c] = deframer();
    const wire = frame({ payload: sipMessage('INVITE', 200_000) });
    d.push(wire.subarray(0, 2000), false);
    assert.ok(d.buffered <= 2000);
    const acc = (d as unknown as { acc: Buffer }).acc;
    assert.ok(acc.length <= 4096, `${acc.length}`);
    d.push(wire.subarray(2000), false);
    assert.equal(c.messages[0]?.length, 200_000);
    assert.equal(d.buffered, 0);
  });

  it('reports a stream that ends inside a frame', () => {
    const [d, c] = deframer();
    d.push(frame({ payload: 'OPTIONS sip:a SIP/2.0' }).subarray(0, 10), false);
    d.end();
    assert.deepEqual(c.codes(), ['ws_truncated']);
    assert.equal(d.buffered, 0);
    const [d2, c2] = deframer();
    d2.push(frame({ payload: 'OPTIONS sip:a SIP/2.0' }), false);
    d2.end();
    assert.deepEqual(c2.codes(), []);
  });
});

// ── fuzz ──────────────────────────────────────────────────────────────────────────────────────

describe('WebSocket fuzz', () => {
  it('never throws, hangs or outgrows its bounds on random and mutated input', () => {
    const rand = rng(2024);
    const real = Buffer.concat(direction(CLIENT_PORT)).subarray(988);
    const limits = { maxFramePayload: 4000, maxMessage: 6000, maxBuffered: 8000 };
    const started = Date.now();
    for (let trial = 0; trial < 300; trial++) {
      let input: Buffer;
      const kind = trial % 3;
      if (kind === 0) {
        input = Buffer.alloc(Math.floor(rand() * 3000));
        for (let i = 0; i < input.length; i++) input[i] = Math.floor(rand() * 256);
      } else {
        input = Buffer.from(real);
        const flips = 1 + Math.floor(rand() * (kind === 1 ? 3 : 40));
        for (let k = 0; k < flips; k++) input[Math.floor(rand() * input.length)] = Math.floor(rand() * 256);
      }
      const [d, c] = deframer(rand() < 0.5 ? { limits } : { limits, masked: true });
      let off = 0;
      while (off < input.length) {
        const n = 1 + Math.floor(rand() * 700);
        d.push(input.subarray(off, off + n), rand() < 0.03);
        off += n;
        assert.ok(d.buffered <= limits.maxBuffered, `buffered ${d.buffered}`);
      }
      d.end();
      for (const m of c.raw) assert.ok(m.length <= limits.maxMessage);
      for (const a of c.anomalies) assert.ok(WS_ANOMALIES[a.code], a.code);
      // With a few flips, most of the real messages still come out.
      if (kind === 1) assert.ok(c.messages.length >= 2, `trial ${trial}: ${c.messages.length}`);
    }
    assert.ok(Date.now() - started < 4000);
  });

  it('respects the default buffer bound under a stream of partial frames', () => {
    const [d] = deframer();
    const rand = rng(5);
    for (let i = 0; i < 200; i++) {
      const size = Math.floor(rand() * 300_000);
      const f = frame({ payload: Buffer.alloc(size, 0x41), fin: rand() < 0.5, opcode: rand() < 0.5 ? 1 : 0 });
      d.push(f.subarray(0, Math.floor(rand() * f.length)), rand() < 0.5);
      assert.ok(d.buffered <= WS_MAX_BUFFERED_BYTES);
    }
  });
});

describe('WebSocket anomaly table', () => {
  it('documents every code the tests produced', () => {
    for (const code of seenCodes) assert.ok(WS_ANOMALIES[code], `undocumented ${code}`);
    assert.ok(seenCodes.size >= 11);
    for (const code of Object.keys(WS_ANOMALIES)) assert.match(code, /^ws_[a-z0-9_]+$/);
  });
});
