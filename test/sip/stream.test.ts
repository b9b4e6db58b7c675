import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { SIP_STREAM_MAX_BODY_BYTES, SIP_STREAM_MAX_HEADER_BYTES } from '../../src/config/limits.js';
import type { Anomaly } from '../../src/core/records.js';
import { SIP_ANOMALIES } from '../../src/sip/anomalies.js';
import { parseSipMessage } from '../../src/sip/message.js';
import { SipStreamFramer, isPlausibleStartLine } from '../../src/sip/stream.js';

interface Run {
  messages: Buffer[];
  anomalies: Anomaly[];
  framer: SipStreamFramer;
  maxBuffered: number;
}

function framer(): Run {
  const run: Run = {
    messages: [],
    anomalies: [],
    framer: undefined as unknown as SipStreamFramer,
    maxBuffered: 0,
  };
  run.framer = new SipStreamFramer({
    onMessage: (m) => run.messages.push(m),
    onAnomaly: (a) => run.anomalies.push(a),
  });
  return run;
}

function push(run: Run, chunk: Buffer, gap = false): void {
  run.framer.push(chunk, gap);
  run.maxBuffered = Math.max(run.maxBuffered, run.framer.buffered);
}

/** Feeds `data` cut at the given positions. */
function feed(data: Buffer, cuts: number[]): Run {
  const run = framer();
  let prev = 0;
  for (const c of [...cuts, data.length]) {
    push(run, data.subarray(prev, c));
    prev = c;
  }
  return run;
}

const text = (bufs: Buffer[]): string[] => bufs.map((b) => b.toString('latin1'));
const codes = (run: Run): string[] => run.anomalies.map((a) => a.code);

const CORPUS = '../shared/corpus';
function corpusFile(dir: string, f: string): Buffer {
  return readFileSync(`${CORPUS}/${dir}/${f}`);
}

/** Corpus messages a stream can carry as they are: a start line and an exact Content-Length. */
const STREAMABLE: Buffer[] = [
  ...['valid.txt', 'semantic.txt', 'invalid.txt'].flatMap((list) =>
    readFileSync(`${CORPUS}/rfc4475/${list}`, 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '' && !l.startsWith('#'))
      .map((l) => corpusFile('rfc4475', l.split('\t')[0]!)),
  ),
].filter((d) => {
  const m = parseSipMessage(d);
  const nl = d.indexOf(0x0a);
  const he = d.indexOf('\r\n\r\n');
  return he > 0 && he + 4 + (m.contentLength ?? -1) === d.length && isPlausibleStartLine(d, 0, nl);
});

const REGISTER = Buffer.from(
  'REGISTER sip:pbx.example.com SIP/2.0\r\nVia: SIP/2.0/TCP 192.0.2.45:5062;branch=z9hG4bK1\r\nCall-ID: r1\r\nl: 0\r\n\r\n',
);
const INVITE = Buffer.from(
  'INVITE sip:100@pbx.example.com SIP/2.0\r\nVia: SIP/2.0/TCP 192.0.2.45:5062;branch=z9hG4bK2\r\nContent-Type: application/sdp\r\nContent-Length: 10\r\n\r\nv=0\r\ns=-\r\n',
);
const OK = Buffer.from(
  'SIP/2.0 200 OK\r\nVia: SIP/2.0/TCP 192.0.2.45:5062;branch=z9hG4bK2\r\nContent-Length:   3\r\n\r\nabc',
);

describe('SipStreamFramer', () => {
  it('has streamable corpus messages to work with', () => {
    assert.ok(STREAMABLE.length >= 30, `${STREAMABLE.length}`);
  });

  it('frames several messages in one chunk, skipping CRLF keep-alives', () => {
    const run = feed(Buffer.concat([REGISTER, Buffer.from('\r\n\r\n'), INVITE, Buffer.from('\r\n'), OK]), []);
    assert.deepEqual(text(run.messages), text([REGISTER, INVITE, OK]));
    assert.deepEqual(run.anomalies, []);
    assert.equal(run.framer.stats.messages, 3);
    assert.equal(run.framer.buffered, 0);
  });

  it('gives the same message whatever byte it is split at', () => {
    for (const m of [INVITE, OK, STREAMABLE[0]!]) {
      for (let cut = 0; cut <= m.length; cut++) {
        const run = feed(m, [cut]);
        assert.deepEqual(text(run.messages), text([m]), `cut at ${cut}`);
        assert.deepEqual(run.anomalies, []);
      }
    }
  });

  it('hands over messages that stay valid after the input is reused', () => {
    const run = framer();
    const chunk = Buffer.from(INVITE);
    push(run, chunk.subarray(0, 30));
    push(run, chunk.subarray(30));
    const copy = Buffer.from(REGISTER);
    push(run, copy);
    chunk.fill(0x78);
    copy.fill(0x78);
    assert.deepEqual(text(run.messages), text([INVITE, REGISTER]));
  });

  it('property: random splits of a stream of corpus messages give exactly the same messages', () => {
    let s = 12345;
    const rand = (n: number): number => {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      return (s >>> 8) % n;
    };
    const t0 = Date.now();
    for (let round = 0; round < 60; round++) {
      const parts: Buffer[] = [];
      const expected: Buffer[] = [];
      for (let i = 0; i < 12; i++) {
        const m = STREAMABLE[rand(STREAMABLE.length)]!;
        if (rand(4) === 0) parts.push(Buffer.from('\r\n\r\n'.slice(0, 2 + 2 * rand(2))));
        parts.push(m);
        expected.push(m);
      }
      const stream = Buffer.concat(parts);
      const whole = feed(stream, []);
      assert.deepEqual(text(whole.messages), text(expected));
      assert.deepEqual(whole.anomalies, []);
      const cuts: number[] = [];
      for (let p = 0; p < stream.length;) {
        p += 1 + rand(rand(3) === 0 ? 8 : 400);
        if (p < stream.length) cuts.push(p);
      }
      const split = feed(stream, cuts);
      assert.deepEqual(text(split.messages), text(expected), `round ${round}`);
      assert.deepEqual(split.anomalies, []);
    }
    assert.ok(Date.now() - t0 < 4000);
  });

  it('property: with junk between messages, splits still give the same messages and anomalies', () => {
    let s = 777;
    const rand = (n: number): number => {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      return (s >>> 8) % n;
    };
    for (let round = 0; round < 40; round++) {
      const parts: Buffer[] = [];
      for (let i = 0; i < 8; i++) {
        parts.push(STREAMABLE[rand(STREAMABLE.length)]!);
        if (rand(3) === 0) {
          const junk = Buffer.alloc(1 + rand(200));
          for (let j = 0; j < junk.length; j++) junk[j] = rand(5) === 0 ? 0x0a : 0x20 + rand(90);
          parts.push(junk);
        }
      }
      const stream = Buffer.concat(parts);
      const whole = feed(stream, []);
      const cuts: number[] = [];
      for (let p = 0; p < stream.length;) {
        p += 1 + rand(300);
        if (p < stream.length) cuts.push(p);
      }
      const split = feed(stream, cuts);
      assert.deepEqual(text(split.messages), text(whole.messages), `round ${round}`);
      assert.deepEqual(split.anomalies, whole.anomalies, `round ${round}`);
      for (const a of whole.anomalies) assert.ok(a.code in SIP_ANOMALIES);
    }
  });

  it('resynchronises on the next start line after junk', () => {
    const run = feed(Buffer.concat([Buffer.from('garbage line\r\nmore\r\n'), REGISTER]), [5]);
    assert.deepEqual(text(run.messages), text([REGISTER]));
    assert.deepEqual(run.anomalies, [{ code: 'sip_stream_resync', offset: 0, detail: '20 bytes' }]);
  });

  it('drops the partial message on a gap and resynchronises', () => {
    const run = framer();
    push(run, INVITE.subarray(0, 50));
    // Bytes were lost: this chunk starts inside another message's body, then a whole message.
    push(run, Buffer.concat([Buffer.from('o=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\n'), OK]), true);
    assert.deepEqual(text(run.messages), text([OK]));
    assert.deepEqual(codes(run), ['sip_stream_gap', 'sip_stream_resync']);
    assert.equal(run.anomalies[0]?.detail, '50 bytes');
    assert.equal(run.anomalies[1]?.offset, 50);
    // A gap between messages costs nothing.
    push(run, REGISTER, true);
    assert.equal(run.messages.length, 2);
    assert.equal(run.anomalies.length, 2);
  });

  it('treats a message without Content-Length as having no body, and says so', () => {
    const noCl = Buffer.from('OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h\r\n\r\n');
    const run = feed(Buffer.concat([noCl, REGISTER]), []);
    assert.deepEqual(text(run.messages), text([noCl, REGISTER]));
    assert.deepEqual(codes(run), ['sip_missing_content_length']);
  });

  it('assembles a 64 KiB body arriving in TCP-sized segments (suricata sip-body-large)', () => {
    const body = Buffer.alloc(65536, 0x58);
    const big = Buffer.concat([
      Buffer.from(`INVITE sip:x@y SIP/2.0\r\nVia: SIP/2.0/TCP h\r\nContent-Length: ${body.length}\r\n\r\n`),
      body,
    ]);
    const cuts: number[] = [];
    for (let p = 1460; p < big.length; p += 1460) cuts.push(p);
    const run = feed(Buffer.concat([big, OK]), cuts);
    assert.equal(run.messages.length, 2);
    assert.equal(parseSipMessage(run.messages[0]!).body.length, 65536);
    assert.deepEqual(run.anomalies, []);
  });

  it('drops headers past SIP_STREAM_MAX_HEADER_BYTES without growing, then recovers', () => {
    const huge = Buffer.concat([
      Buffer.from('OPTIONS sip:a@b SIP/2.0\r\n'),
      Buffer.from(`X-Pad: ${'a'.repeat(100)}\r\n`.repeat(Math.ceil(SIP_STREAM_MAX_HEADER_BYTES / 100) + 10)),
      Buffer.from('\r\n'),
    ]);
    const stream = Buffer.concat([huge, REGISTER]);
    const cuts: number[] = [];
    for (let p = 1000; p < stream.length; p += 1000) cuts.push(p);
    const run = feed(stream, cuts);
    assert.deepEqual(text(run.messages), text([REGISTER]));
    assert.deepEqual(codes(run), ['sip_stream_headers_too_large', 'sip_stream_resync']);
    assert.ok(run.maxBuffered <= SIP_STREAM_MAX_HEADER_BYTES + 4, `${run.maxBuffered}`);
  });

  it('skips a body past SIP_STREAM_MAX_BODY_BYTES without storing it', () => {
    const n = SIP_STREAM_MAX_BODY_BYTES + 1000;
    const head = Buffer.from(`MESSAGE sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h\r\nContent-Length: ${n}\r\n\r\n`);
    const stream = Buffer.concat([head, Buffer.alloc(n, 0x41), REGISTER]);
    const cuts: number[] = [];
    for (let p = 4096; p < stream.length; p += 4096) cuts.push(p);
    const run = feed(stream, cuts);
    assert.deepEqual(text(run.messages), text([REGISTER]));
    assert.deepEqual(codes(run), ['sip_stream_body_too_large']);
    assert.ok(run.maxBuffered < 8192, `${run.maxBuffered}`);
    assert.equal(run.framer.stats.bytesDropped, head.length + n);
  });

  it('drops an unfinished message at the end of the stream', () => {
    const run = framer();
    push(run, INVITE.subarray(0, INVITE.length - 3));
    run.framer.end();
    assert.deepEqual(run.messages, []);
    assert.deepEqual(codes(run), ['sip_stream_truncated']);
    assert.equal(run.framer.buffered, 0);
  });

  it('recognises plausible start lines', () => {
    const yes = [
      'INVITE sip:a@b SIP/2.0\r\n',
      'SIP/2.0 200 OK\r\n',
      'SIP/2.0 100 \r\n',
      'SIP/2.0 200\r\n',
      'OPTIONS sip:x SIP/2.0  \r\n',
      'NEWMETHOD sip:x SIP/2.0\n',
    ];
    const no = [
      'v=0\r\n',
      'INVITE sip:a@b\r\n',
      'SIP/2.0 2000 OK\r\n',
      'GET / HTTP/1.1\r\n',
      ' INVITE sip:a SIP/2.0\r\n',
      'a=rtpmap:0 PCMU/8000\r\n',
    ];
    for (const l of yes) assert.ok(isPlausibleStartLine(Buffer.from(l), 0, l.indexOf('\n')), l);
    for (const l of no) assert.ok(!isPlausibleStartLine(Buffer.from(l), 0, l.indexOf('\n')), l);
  });

  it('fuzz: random bytes never throw, hang or exceed the bounds', () => {
    let s = 4242;
    const rand = (n: number): number => {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      return (s >>> 8) % n;
    };
    const pieces = [
      Buffer.from('SIP/2.0 200 OK\r\n'),
      Buffer.from('INVITE sip:a SIP/2.0\r\n'),
      Buffer.from('\r\n\r\n'),
      Buffer.from('Content-Length: 99999999\r\n'),
      Buffer.from('l: 5\r\n'),
    ];
    const t0 = Date.now();
    for (let round = 0; round < 200; round++) {
      const run = framer();
      for (let c = 0; c < 30; c++) {
        const chunk = rand(3) === 0 ? pieces[rand(pieces.length)]! : Buffer.alloc(rand(3000));
        if (chunk.length > 30) for (let i = 0; i < chunk.length; i++) chunk[i] = rand(256);
        push(run, chunk, rand(20) === 0);
        assert.ok(run.framer.buffered <= SIP_STREAM_MAX_HEADER_BYTES + SIP_STREAM_MAX_BODY_BYTES);
      }
      run.framer.end();
      assert.equal(run.framer.buffered, 0);
      for (const a of run.anomalies) assert.ok(a.code in SIP_ANOMALIES, a.code);
    }
    assert.ok(Date.now() - t0 < 4000);
  });
});
