import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CaptureParser, type CaptureError, type CaptureFrame } from '../../src/sources/capture-parser.js';
import { CAPTURE_ANOMALIES } from '../../src/decode/anomalies.js';
import { PcapngWriter, pcapFile, pcapngFile, type CaptureRecord } from '../helpers/pcap-writer.js';

interface Got {
  frame: number;
  time: number;
  linkType: number;
  data: Buffer;
  origLen: number;
}

function parse(
  chunks: readonly Buffer[],
  keepViews = false,
): { frames: Got[]; error: CaptureError | undefined } {
  const frames: Got[] = [];
  const p = new CaptureParser((f: CaptureFrame) => {
    frames.push({ ...f, data: keepViews ? f.data : Buffer.from(f.data) });
  });
  for (const c of chunks) p.push(c);
  return { frames, error: p.end() };
}

function splitRandom(buf: Buffer, rnd: () => number, maxChunk: number): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  while (at < buf.length) {
    const n = 1 + Math.floor(rnd() * maxChunk);
    out.push(buf.subarray(at, at + n));
    at += n;
  }
  return out;
}

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

const T0 = 1700000000123.456;
const records: CaptureRecord[] = [
  { time: T0, data: Buffer.from('frame one, 20 bytes!') },
  { time: T0 + 1.5, data: Buffer.from('second'), origLen: 1500 },
  { time: T0 + 1000, data: Buffer.alloc(0) },
  { time: T0 + 2000.25, data: Buffer.from([1, 2, 3, 4, 5, 6, 7]) },
];

describe('CaptureParser: pcap', () => {
  it('reads little-endian microsecond pcap: numbers, times, link type, bytes, original length', () => {
    const { frames, error } = parse([pcapFile(records, { linkType: 113 })]);
    assert.equal(error, undefined);
    assert.deepEqual(
      frames.map((f) => [f.frame, f.linkType, f.data.toString('latin1'), f.origLen]),
      [
        [1, 113, 'frame one, 20 bytes!', 20],
        [2, 113, 'second', 1500],
        [3, 113, '', 0],
        [4, 113, '\x01\x02\x03\x04\x05\x06\x07', 7],
      ],
    );
    assert.ok(Math.abs((frames[0] as Got).time - T0) < 1e-3);
    assert.ok(Math.abs((frames[3] as Got).time - (T0 + 2000.25)) < 1e-3);
  });

  it('reads big-endian nanosecond pcap with nanosecond precision', () => {
    const t = 1700000000123 + 0.456789;
    const { frames, error } = parse([
      pcapFile([{ time: t, data: Buffer.from('x') }], { nanos: true, bigEndian: true, linkType: 101 }),
    ]);
    assert.equal(error, undefined);
    assert.equal(frames.length, 1);
    assert.equal((frames[0] as Got).linkType, 101);
    assert.ok(Math.abs((frames[0] as Got).time - t) < 1e-5, `time ${(frames[0] as Got).time}`);
  });

  it('masks the FCS bits out of the pcap link-type field', () => {
    const file = pcapFile([{ time: T0, data: Buffer.from('x') }], { linkType: 1 });
    file.writeUInt32LE(0x14000001, 20); // FCS length 4 present bits + Ethernet
    const { frames } = parse([file]);
    assert.equal((frames[0] as Got).linkType, 1);
  });

  it('reads the modified (Kuznetzov) pcap format with 24-byte record headers', () => {
    const head = Buffer.alloc(24);
    head.writeUInt32LE(0xa1b2cd34, 0);
    head.writeUInt16LE(2, 4);
    head.writeUInt16LE(4, 6);
    head.writeUInt32LE(65535, 16);
    head.writeUInt32LE(1, 20);
    const rec = Buffer.alloc(24);
    rec.writeUInt32LE(1700000000, 0);
    rec.writeUInt32LE(250000, 4);
    rec.writeUInt32LE(3, 8);
    rec.writeUInt32LE(3, 12);
    const { frames, error } = parse([
      Buffer.concat([head, rec, Buffer.from('abc'), rec, Buffer.from('def')]),
    ]);
    assert.equal(error, undefined);
    assert.deepEqual(
      frames.map((f) => f.data.toString()),
      ['abc', 'def'],
    );
    assert.equal((frames[1] as Got).time, 1700000000250);
  });

  it('reports a pcap version other than 2 but still reads the file', () => {
    const notices: string[] = [];
    const p = new CaptureParser(() => undefined, { onNotice: (n) => notices.push(n.code) });
    p.push(pcapFile(records, { versionMajor: 3 }));
    assert.equal(p.end(), undefined);
    assert.equal(p.frames, 4);
    assert.deepEqual(notices, ['capture_unsupported_version']);
  });

  it('delivers every complete frame, then reports the truncated final record with its offset', () => {
    const file = pcapFile(records);
    const thirdEnd = 24 + (16 + 20) + (16 + 6) + 16;
    const cut = file.subarray(0, thirdEnd + 10); // inside the 4th record's header
    const { frames, error } = parse([cut]);
    assert.equal(frames.length, 3);
    assert.ok(error);
    assert.equal(error.code, 'capture_truncated');
    assert.equal(error.offset, thirdEnd);
    assert.equal(error.fatal, false);
    assert.match(error.message, new RegExp(`^truncated at offset ${thirdEnd}: `));
    const cut2 = file.subarray(0, file.length - 3); // inside the 4th record's data
    const r2 = parse([cut2]);
    assert.equal(r2.frames.length, 3);
    assert.equal(r2.error?.code, 'capture_truncated');
    assert.match(r2.error?.message ?? '', /record of 23 bytes, only 20 present/);
  });

  it('refuses a record larger than the bound as soon as its header is read (no allocation)', () => {
    const file = pcapFile([{ time: T0, data: Buffer.alloc(5000) }]);
    const p = new CaptureParser(() => assert.fail('no frame expected'), { maxRecordBytes: 1000 });
    assert.equal(p.push(file.subarray(0, 24 + 16)), false);
    assert.equal(p.error?.code, 'capture_record_too_large');
    assert.equal(p.error?.offset, 24);
    assert.equal(p.error?.fatal, true);
    assert.equal(p.push(file.subarray(40)), false);
    assert.equal(p.end()?.code, 'capture_record_too_large');
  });

  it('refuses a 4 GiB pcap record length with the default bound', () => {
    const file = pcapFile([{ time: T0, data: Buffer.from('abc') }]);
    file.writeUInt32LE(0xfffffff0, 24 + 8);
    const { frames, error } = parse([file]);
    assert.equal(frames.length, 0);
    assert.equal(error?.code, 'capture_record_too_large');
    assert.match(error?.message ?? '', /at offset 24: expected a captured length of at most/);
  });
});

describe('CaptureParser: not a capture', () => {
  it('names offset 0 and the magics it expected', () => {
    const { frames, error } = parse([Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')]);
    assert.equal(frames.length, 0);
    assert.ok(error);
    assert.equal(error.code, 'capture_not_a_capture');
    assert.equal(error.offset, 0);
    assert.equal(error.fatal, true);
    assert.equal(error.format, 'unknown');
    assert.match(
      error.message,
      /not a capture file at offset 0: expected a pcap magic .* or a pcapng Section Header Block/,
    );
    assert.match(error.message, /found 47455420/);
  });

  it('treats empty and very short inputs as not a capture', () => {
    assert.equal(parse([]).error?.code, 'capture_not_a_capture');
    assert.match(parse([]).error?.message ?? '', /input is empty/);
    assert.equal(parse([Buffer.from([0xd4, 0xc3])]).error?.code, 'capture_not_a_capture');
  });

  it('rejects a pcapng header with a bad byte-order magic', () => {
    const b = Buffer.alloc(28);
    b.writeUInt32LE(0x0a0d0d0a, 0);
    b.writeUInt32LE(28, 4);
    b.writeUInt32LE(0x11223344, 8);
    const { error } = parse([b]);
    assert.equal(error?.code, 'capture_not_a_capture');
    assert.equal(error?.offset, 8);
  });

  it('stops accepting bytes after a fatal error', () => {
    const p = new CaptureParser(() => undefined);
    assert.equal(p.push(Buffer.from('nope')), false);
    assert.equal(p.push(pcapFile(records)), false);
    assert.equal(p.frames, 0);
    assert.equal(p.end(), p.end());
  });
});

describe('CaptureParser: pcapng', () => {
  it('reads sections, interfaces with their own link types and resolutions, EPB/SPB/PB, skips unknown blocks', () => {
    const w = new PcapngWriter();
    w.section({ comment: 'first section' })
      .iface(1, { name: 'eth0' })
      .iface(101, { tsresol: 9 })
      .block(4, Buffer.from([0, 0, 0, 0])) // name resolution block: skipped
      .packet(0, T0, Buffer.from('eth frame'))
      .packet(1, T0 + 0.000123, Buffer.from('raw ip'), 60)
      .block(0x0bad, Buffer.from('custom unknown block body'))
      .simplePacket(Buffer.from('simple'))
      .obsoletePacket(1, T0 + 5, Buffer.from('old block'));
    w.section({ bigEndian: true })
      .iface(113, { tsresol: 0x80 | 10 })
      .packet(0, T0 + 10, Buffer.from('big endian'));
    const file = w.toBuffer();
    const { frames, error } = parse([file]);
    assert.equal(error, undefined);
    assert.deepEqual(
      frames.map((f) => [f.frame, f.linkType, f.data.toString(), f.origLen]),
      [
        [1, 1, 'eth frame', 9],
        [2, 101, 'raw ip', 60],
        [4, 1, 'simple', 6],
        [5, 101, 'old block', 9],
        [6, 113, 'big endian', 10],
      ],
    );
    const t = frames.map((f) => f.time);
    assert.ok(Math.abs((t[0] as number) - T0) < 1e-3);
    assert.ok(Math.abs((t[1] as number) - (T0 + 0.000123)) < 1e-5, `ns time ${t[1]}`);
    assert.equal(t[2], t[1], 'a Simple Packet Block takes the previous time');
    // tshark numbers the custom block (0x0bad) as frame 3: frames after it follow that numbering.
    assert.ok(Math.abs((t[3] as number) - (T0 + 5)) < 1e-5);
    assert.ok(Math.abs((t[4] as number) - (T0 + 10)) < 1, `binary resolution time ${t[4]}`);
  });

  it('numbers non-packet records (custom, systemd journal) as tshark does, without delivering them', () => {
    const body = Buffer.alloc(32, 0x41);
    const w = new PcapngWriter().section().iface(1).packet(0, T0, Buffer.from('one'));
    w.block(0x40000bad, body).block(9, body).block(5, Buffer.alloc(12)).block(0x1234, body);
    w.packet(0, T0 + 1, Buffer.from('two'));
    const seen: number[] = [];
    const q = new CaptureParser((f) => seen.push(f.frame));
    q.push(w.toBuffer());
    assert.equal(q.end(), undefined);
    assert.deepEqual(seen, [1, 4]);
    assert.equal(q.frames, 4);
    assert.equal(q.skippedRecords, 2);
  });

  it('applies if_tsoffset and power-of-two resolutions exactly', () => {
    const file = new PcapngWriter()
      .section()
      .iface(1, { tsresol: 0x80 | 3, tsoffset: 1000 }) // 1/8 s ticks, +1000 s
      .packet(0, 1_700_000_000_000 + 375, Buffer.from('a'))
      .toBuffer();
    const { frames } = parse([file]);
    assert.equal((frames[0] as Got).time, 1_700_000_000_375);
  });

  it('cuts a Simple Packet Block to the snap length of interface 0', () => {
    const file = new PcapngWriter()
      .section()
      .iface(1, { snaplen: 4 })
      .simplePacket(Buffer.from('abcdefgh'))
      .toBuffer();
    const { frames } = parse([file]);
    assert.equal((frames[0] as Got).data.toString(), 'abcd');
    assert.equal((frames[0] as Got).origLen, 8);
  });

  it('resets interfaces at a new section: a packet on an undefined interface is a fatal error', () => {
    const w = new PcapngWriter().section().iface(1).iface(1).packet(1, T0, Buffer.from('ok'));
    const secondSection = w.toBuffer().length;
    w.section().iface(1);
    const epbAt = w.toBuffer().length;
    w.packet(1, T0, Buffer.from('bad'));
    const { frames, error } = parse([w.toBuffer()]);
    assert.equal(frames.length, 1);
    assert.ok(secondSection < epbAt);
    assert.equal(error?.code, 'capture_bad_interface');
    assert.equal(error?.offset, epbAt + 8);
    assert.match(error?.message ?? '', /expected an interface id below 1/);
  });

  it('names the offset of a block with an impossible length', () => {
    const w = new PcapngWriter().section().iface(1).packet(0, T0, Buffer.from('fine'));
    const at = w.toBuffer().length;
    w.raw(Buffer.from([6, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0]));
    const { frames, error } = parse([w.toBuffer()]);
    assert.equal(frames.length, 1);
    assert.equal(error?.code, 'capture_bad_block_length');
    assert.equal(error?.offset, at);
    assert.match(
      error?.message ?? '',
      new RegExp(`at offset ${at}: expected a block length that is a multiple of 4`),
    );
  });

  it('rejects a block whose trailing length differs from the leading one', () => {
    const w = new PcapngWriter().section().iface(1);
    const at = w.toBuffer().length;
    const good = new PcapngWriter().section().iface(1).packet(0, T0, Buffer.from('abcd')).toBuffer();
    const block = Buffer.from(good.subarray(at));
    block.writeUInt32LE(block.length + 4, block.length - 4);
    const { error } = parse([Buffer.concat([w.toBuffer(), block])]);
    assert.equal(error?.code, 'capture_bad_block_length');
    assert.equal(error?.offset, at);
  });

  it('rejects a captured length that exceeds its block', () => {
    const w = new PcapngWriter().section().iface(1);
    const at = w.toBuffer().length;
    const file = Buffer.from(w.packet(0, T0, Buffer.from('abcd')).toBuffer());
    file.writeUInt32LE(400, at + 20);
    const { error } = parse([file]);
    assert.equal(error?.code, 'capture_bad_caplen');
    assert.equal(error?.offset, at + 20);
  });

  it('rejects an unsupported pcapng major version and a block above the record bound', () => {
    const file = Buffer.from(pcapngFile(records));
    file.writeUInt16LE(2, 12);
    assert.equal(parse([file]).error?.code, 'capture_unsupported_version');
    const big = new PcapngWriter().section().iface(1).packet(0, T0, Buffer.alloc(2000)).toBuffer();
    const p = new CaptureParser(() => undefined, { maxRecordBytes: 1024 });
    p.push(big);
    assert.equal(p.end()?.code, 'capture_record_too_large');
  });

  it('reports an SPB before any interface and a truncated pcapng block', () => {
    const spb = new PcapngWriter().section().simplePacket(Buffer.from('x')).toBuffer();
    assert.equal(parse([spb]).error?.code, 'capture_bad_interface');
    const file = pcapngFile(records);
    const { frames, error } = parse([file.subarray(0, file.length - 5)]);
    assert.equal(frames.length, 3);
    assert.equal(error?.code, 'capture_truncated');
  });
});

describe('CaptureParser: streaming', () => {
  const files: [string, Buffer][] = [
    ['pcap', pcapFile(records)],
    ['pcap-be-ns', pcapFile(records, { bigEndian: true, nanos: true })],
    ['pcapng', pcapngFile(records)],
    [
      'pcapng-2-sections',
      new PcapngWriter()
        .section()
        .iface(1)
        .packet(0, T0, Buffer.from('a'.repeat(300)))
        .section({ bigEndian: true })
        .iface(1, { tsresol: 9 })
        .packet(0, T0 + 1, Buffer.from('b'.repeat(77)))
        .simplePacket(Buffer.from('c'.repeat(5)))
        .toBuffer(),
    ],
  ];

  it('gives the same frames whatever the chunking, even 1-byte chunks (property)', () => {
    const rnd = rng(7);
    for (const [name, file] of files) {
      const whole = parse([file]).frames;
      assert.ok(whole.length > 0);
      const bytes = parse(splitRandom(file, () => 0, 1)).frames;
      assert.deepEqual(bytes, whole, `${name}: 1-byte chunks`);
      for (let i = 0; i < 50; i++) {
        const split = parse(splitRandom(file, rnd, 1 + Math.floor(rnd() * 64))).frames;
        assert.deepEqual(split, whole, `${name}: random split ${i}`);
      }
    }
  });

  it('never overwrites bytes it handed out, so views kept by mistake stay right', () => {
    const rnd = rng(11);
    const many: CaptureRecord[] = [];
    for (let i = 0; i < 200; i++)
      many.push({ time: T0 + i, data: Buffer.from(`frame-${i}-`.repeat(1 + (i % 7))) });
    const file = pcapFile(many);
    const { frames } = parse(splitRandom(file, rnd, 97), true);
    assert.equal(frames.length, 200);
    frames.forEach((f, i) => assert.equal(f.data.toString(), `frame-${i}-`.repeat(1 + (i % 7))));
  });

  it('random bytes, alone or after a valid header, never throw and always end (fuzz)', () => {
    const rnd = rng(3);
    const heads = [pcapFile([]), pcapngFile([]), Buffer.alloc(0)];
    for (let i = 0; i < 600; i++) {
      const junk = Buffer.alloc(Math.floor(rnd() * 400));
      for (let j = 0; j < junk.length; j++) junk[j] = Math.floor(rnd() * 256);
      const file = Buffer.concat([heads[i % 3] as Buffer, junk]);
      let count = 0;
      const p = new CaptureParser(
        (f) => {
          count++;
          assert.ok(f.data.length <= file.length);
        },
        { maxRecordBytes: 4096 },
      );
      for (const c of splitRandom(file, rnd, 50)) p.push(c);
      const err = p.end();
      assert.ok(count <= file.length);
      if (err !== undefined) {
        assert.ok(err.code in CAPTURE_ANOMALIES, err.code);
        assert.ok(err.offset >= 0 && err.offset <= file.length);
      }
    }
  });

  it('mutated valid captures never throw (fuzz)', () => {
    const rnd = rng(5);
    for (const [, file] of files) {
      for (let i = 0; i < 300; i++) {
        const m = Buffer.from(file);
        for (let k = 0; k < 1 + Math.floor(rnd() * 4); k++)
          m[Math.floor(rnd() * m.length)] = Math.floor(rnd() * 256);
        const r = parse(splitRandom(m, rnd, 40));
        assert.ok(r.frames.length <= 5);
      }
    }
  });
});
