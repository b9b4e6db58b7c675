import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { readCaptureFile, readCaptureStream } from '../../src/sources/capture-file.js';
import type { CaptureFrame } from '../../src/sources/capture-parser.js';
import { pcapFile, pcapngFile, type CaptureRecord } from '../helpers/pcap-writer.js';

const CORPUS = '../shared/corpus/pcap';
const T0 = 1700000000000.5;

interface Seen {
  frame: number;
  time: number;
  linkType: number;
  len: number;
  origLen: number;
  text: string;
}

function collector(): { seen: Seen[]; onFrame: (f: CaptureFrame) => void } {
  const seen: Seen[] = [];
  return {
    seen,
    onFrame: (f) =>
      seen.push({
        frame: f.frame,
        time: f.time,
        linkType: f.linkType,
        len: f.data.length,
        origLen: f.origLen,
        text: f.data.toString('latin1'),
      }),
  };
}

describe('readCaptureFile', () => {
  let dir = '';
  const records: CaptureRecord[] = [];
  for (let i = 0; i < 3000; i++)
    records.push({ time: T0 + i * 10, data: Buffer.from(`packet ${i} `.repeat(1 + (i % 13))) });
  const pcap = pcapFile(records, { linkType: 101 });

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'sipwarden-capture-'));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('streams a pcap file and sums it up', async () => {
    const path = join(dir, 'a.pcap');
    writeFileSync(path, pcap);
    const c = collector();
    const sum = await readCaptureFile(path, c.onFrame, { highWaterMark: 4096 });
    assert.deepEqual(sum, { format: 'pcap', gzip: false, frames: 3000, bytes: pcap.length });
    assert.equal(c.seen.length, 3000);
    c.seen.forEach((s, i) => {
      assert.equal(s.frame, i + 1);
      assert.equal(s.linkType, 101);
      assert.equal(s.text, `packet ${i} `.repeat(1 + (i % 13)));
    });
    assert.ok(Math.abs((c.seen[2999] as Seen).time - (T0 + 29990)) < 1e-3);
  });

  it('detects gzip (1f 8b) and decompresses on the fly; offsets then count decompressed bytes', async () => {
    const path = join(dir, 'a.pcap.gz');
    writeFileSync(path, gzipSync(pcap));
    const c = collector();
    const sum = await readCaptureFile(path, c.onFrame, { highWaterMark: 1000 });
    assert.deepEqual(sum, { format: 'pcap', gzip: true, frames: 3000, bytes: pcap.length });
    assert.equal((c.seen[1234] as Seen).text, 'packet 1234 '.repeat(1 + (1234 % 13)));
  });

  it('reads pcapng files', async () => {
    const path = join(dir, 'a.pcapng');
    const file = pcapngFile(records.slice(0, 10), { linkType: 113, tsresol: 9 });
    writeFileSync(path, file);
    const c = collector();
    const sum = await readCaptureFile(path, c.onFrame);
    assert.deepEqual(sum, { format: 'pcapng', gzip: false, frames: 10, bytes: file.length });
    assert.equal((c.seen[9] as Seen).linkType, 113);
  });

  it('reports a truncated file after delivering its complete frames', async () => {
    const path = join(dir, 'cut.pcap');
    const cut = pcap.subarray(0, pcap.length - 7);
    writeFileSync(path, cut);
    const c = collector();
    const sum = await readCaptureFile(path, c.onFrame, { highWaterMark: 333 });
    assert.equal(sum.frames, 2999);
    assert.equal(c.seen.length, 2999);
    const lastStart = pcap.length - (16 + (records[2999]?.data.length ?? 0));
    assert.equal(sum.error?.code, 'capture_truncated');
    assert.equal(sum.error?.offset, lastStart);
    assert.equal(sum.bytes, lastStart);
    assert.match(sum.error?.message ?? '', new RegExp(`^truncated at offset ${lastStart}: `));
  });

  it('reports a corrupt or cut gzip stream as data, keeping the frames before it', async () => {
    const path = join(dir, 'cut.pcap.gz');
    const gz = gzipSync(pcap);
    writeFileSync(path, gz.subarray(0, Math.floor(gz.length / 2)));
    const c = collector();
    const sum = await readCaptureFile(path, c.onFrame);
    assert.equal(sum.gzip, true);
    assert.equal(sum.error?.code, 'capture_gzip_error');
    assert.ok(sum.frames > 0 && sum.frames < 3000, `frames ${sum.frames}`);
    assert.equal(c.seen.length, sum.frames);
  });

  it('says what it expected when the file is not a capture', async () => {
    const path = join(dir, 'notes.txt');
    writeFileSync(path, 'just some text\n');
    const sum = await readCaptureFile(path, () => assert.fail('no frames'));
    assert.equal(sum.format, 'unknown');
    assert.equal(sum.frames, 0);
    assert.equal(sum.error?.code, 'capture_not_a_capture');
    assert.equal(sum.error?.offset, 0);
    assert.match(sum.error?.message ?? '', /expected a pcap magic/);
    const empty = join(dir, 'empty.pcap');
    writeFileSync(empty, '');
    assert.equal((await readCaptureFile(empty, () => undefined)).error?.code, 'capture_not_a_capture');
  });

  it('rejects an unreadable path with an error naming it', async () => {
    const missing = join(dir, 'does-not-exist.pcap');
    await assert.rejects(
      readCaptureFile(missing, () => undefined),
      (e: Error) => e.message.includes(missing),
    );
    await assert.rejects(
      readCaptureFile(dir, () => undefined),
      (e: Error) => e.message.includes(dir),
    );
  });

  it('reads from any stream (a pipe from tcpdump -w -)', async () => {
    const chunks: Buffer[] = [];
    for (let i = 0; i < pcap.length; i += 777) chunks.push(pcap.subarray(i, i + 777));
    const c = collector();
    const sum = await readCaptureStream(Readable.from(chunks), c.onFrame);
    assert.equal(sum.frames, 3000);
    assert.equal(sum.error, undefined);
  });
});

describe('readCaptureFile on the corpus (values checked with tshark)', () => {
  const cases: [string, string, number, number, number, number][] = [
    // file, format, frames, size, first frame time (ms since the epoch), last frame length
    ['snort3_demo/digium.pcap', 'pcap', 31, 30859, 1299021639492.973, 415],
    ['heplify/erspan_sip_ipv4_udp.pcapng', 'pcapng', 140, 113312, 1526006114962.51, 518],
    ['hep/hep3_compressed.pcap.pcapng', 'pcapng', 21, 17448, 1502941090317 + 0.366997, 807],
    ['ndpi/sip_hello.pcapng', 'pcapng', 30, 6680, 1645515834707.95, 56],
  ];
  for (const [file, format, frames, size, firstMs, lastLen] of cases) {
    it(file, async () => {
      const c = collector();
      const sum = await readCaptureFile(`${CORPUS}/${file}`, c.onFrame);
      assert.deepEqual(sum, { format, gzip: false, frames, bytes: size });
      assert.ok(Math.abs((c.seen[0] as Seen).time - firstMs) < 1e-3, `${(c.seen[0] as Seen).time}`);
      assert.equal((c.seen[frames - 1] as Seen).origLen, lastLen);
    });
  }
});
