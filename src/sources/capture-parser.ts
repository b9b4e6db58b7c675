/**
 * Streaming reader of pcap and pcapng captures. It is a push parser (bytes in, frames out) so the
 * same code reads a file, a gzip stream or `tcpdump -w -` from a pipe, in constant memory: only the
 * bytes of one incomplete record are carried over between chunks, and that carry-over is bounded
 * by CAPTURE_MAX_RECORD_BYTES. Errors in the file are data (`CaptureError`), never thrown.
 */
import type { Anomaly } from '../core/records.js';
import { CAPTURE_MAX_INTERFACES, CAPTURE_MAX_RECORD_BYTES } from '../config/limits.js';

/** Container format of a capture. */
export type CaptureFormat = 'pcap' | 'pcapng';

/**
 * One captured frame, as handed to the frame callback. The object is reused and `data` may be a
 * view into the pushed chunk: both are valid ONLY during the callback; copy what you keep.
 */
export interface CaptureFrame {
  /** 1-based frame number, counted as tshark counts them (every packet record of every section). */
  readonly frame: number;
  /** Capture time, milliseconds since the Unix epoch (fractional). */
  readonly time: number;
  /** LINKTYPE_* value of the interface that captured the frame. */
  readonly linkType: number;
  /** Captured bytes (possibly fewer than `origLen` when the capture used a snap length). */
  readonly data: Buffer;
  /** Length of the frame on the wire. */
  readonly origLen: number;
}

/** Why reading a capture stopped early or ended badly. Returned and recorded, never thrown. */
export interface CaptureError {
  /** Anomaly code from CAPTURE_ANOMALIES (`capture_not_a_capture`, `capture_truncated`, ...). */
  readonly code: string;
  /** Format being read when the error happened (`unknown` before the magic was recognised). */
  readonly format: CaptureFormat | 'unknown';
  /** Byte offset in the (decompressed) capture stream of the record at fault. */
  readonly offset: number;
  /** What the reader expected to find there. */
  readonly expected: string;
  /** One line for a human: names the offset and what was expected. */
  readonly message: string;
  /** True when reading stopped before the end of the input; false for a truncated final record. */
  readonly fatal: boolean;
}

/** Tunables of the capture parser (defaults from src/config/limits.ts). */
export interface CaptureParserOptions {
  /** Largest record accepted; bounds the carry-over buffer. */
  readonly maxRecordBytes?: number;
  /** Interfaces kept per pcapng section. */
  readonly maxInterfaces?: number;
  /** Non-fatal findings (an unreadable option, an unexpected version); offsets are stream offsets. */
  readonly onNotice?: (notice: Anomaly) => void;
}

/** Callback receiving each frame; see CaptureFrame for the lifetime of its argument. */
export type FrameHandler = (frame: CaptureFrame) => void;

const STATE_START = 0;
const STATE_PCAP = 1;
const STATE_PCAPNG = 2;
const STATE_FAILED = 3;

const NEED_MORE = -1;
const FATAL = -2;
/** Enough bytes to hold any record header (pcap file header 24, modified pcap record header 24). */
const HEADER_PROBE = 32;

const BLOCK_SHB = 0x0a0d0d0a;
const BLOCK_IDB = 1;
const BLOCK_PB = 2;
const BLOCK_SPB = 3;
const BLOCK_EPB = 6;
const BLOCK_SYSTEMD_JOURNAL = 9;
const BLOCK_CUSTOM = 0x00000bad;
const BLOCK_CUSTOM_NO_COPY = 0x40000bad;
const BOM = 0x1a2b3c4d;
const BOM_SWAPPED = 0x4d3c2b1a;

const EMPTY = Buffer.alloc(0);

const PCAP_EXPECTED =
  'a pcap magic (a1b2c3d4 or a1b23c4d, either byte order) or a pcapng Section Header Block (0a0d0d0a)';

/** Mutable frame handed to the callback; reused to avoid an allocation per frame. */
class FrameSlot implements CaptureFrame {
  frame = 0;
  time = 0;
  linkType = 0;
  data: Buffer = Buffer.alloc(0);
  origLen = 0;
}

/** Per-interface facts of a pcapng section that frames need. */
interface CaptureInterface {
  readonly linkType: number;
  readonly snaplen: number;
  /** Ticks are divided by this to get milliseconds... */
  readonly tickDivisor: number;
  /** ...then multiplied by this (one of the two is 1). */
  readonly tickMultiplier: number;
  readonly offsetMs: number;
}

/** Push parser for pcap and pcapng: `push(chunk)` as bytes arrive, `end()` when the input ends. */
export class CaptureParser {
  private state = STATE_START;
  private le = true;
  private nanos = false;
  private pcapRecordHeader = 16;
  private pcapLinkType = 0;
  private readonly interfaces: CaptureInterface[] = [];
  private carry: Buffer = EMPTY;
  private carryLen = 0;
  /** Stream offset of the first byte not yet consumed (start of the carry-over, if any). */
  private offset = 0;
  private received = 0;
  private frameCount = 0;
  private nonPacketRecords = 0;
  private lastTime = 0;
  private ended = false;
  private failure: CaptureError | undefined;
  private fmt: CaptureFormat | undefined;
  private readonly slot = new FrameSlot();
  private readonly maxRecord: number;
  private readonly maxInterfaces: number;
  private readonly onNotice: ((notice: Anomaly) => void) | undefined;

  /** Creates a parser that calls `onFrame` for every complete packet record. */
  constructor(
    private readonly onFrame: FrameHandler,
    options: CaptureParserOptions = {},
  ) {
    this.maxRecord = options.maxRecordBytes ?? CAPTURE_MAX_RECORD_BYTES;
    this.maxInterfaces = options.maxInterfaces ?? CAPTURE_MAX_INTERFACES;
    this.onNotice = options.onNotice;
  }

  /** Format recognised from the magic, once known. */
  get format(): CaptureFormat | undefined {
    return this.fmt;
  }

  /** Frame numbers used so far (the last frame number): packets delivered plus non-packet records. */
  get frames(): number {
    return this.frameCount;
  }

  /** pcapng records that tshark numbers as frames but that hold no packet (custom, journal, sysdig). */
  get skippedRecords(): number {
    return this.nonPacketRecords;
  }

  /** Bytes consumed (complete records) so far. */
  get bytes(): number {
    return this.offset;
  }

  /** Bytes pushed so far, consumed or not. */
  get bytesReceived(): number {
    return this.received;
  }

  /** The error that stopped or ended reading, if any. */
  get error(): CaptureError | undefined {
    return this.failure;
  }

  /** Feeds the next bytes of the capture. Returns false once a fatal error stopped parsing. */
  push(chunk: Buffer): boolean {
    if (this.state === STATE_FAILED || this.ended) return false;
    this.received += chunk.length;
    const n = chunk.length;
    let pos = 0;
    while (this.carryLen > 0 && pos < n) {
      const need = this.recordSize(this.carry, 0, this.carryLen);
      if (need === FATAL) return false;
      const want = need === NEED_MORE ? HEADER_PROBE : need;
      const take = Math.min(want - this.carryLen, n - pos);
      if (take <= 0) break; // unreachable: a complete record never stays in the carry-over
      this.ensureCarry(this.carryLen + take);
      chunk.copy(this.carry, this.carryLen, pos, pos + take);
      this.carryLen += take;
      pos += take;
      const used = this.feed(this.carry, 0, this.carryLen);
      if (this.state === STATE_FAILED) return false;
      if (used > 0) this.keep(this.carry, used, this.carryLen);
    }
    if (pos < n) {
      const used = this.feed(chunk, pos, n);
      if (this.state === STATE_FAILED) return false;
      if (used < n) this.keep(chunk, used, n);
    }
    return true;
  }

  /**
   * Moves the incomplete record buf[from, to) into a fresh carry-over buffer. Bytes already handed
   * out as frames are never overwritten, so a consumer that kept a view by mistake still reads
   * the right bytes (one allocation per chunk boundary, not per frame).
   */
  private keep(buf: Buffer, from: number, to: number): void {
    const rest = to - from;
    if (rest === 0) {
      this.carry = EMPTY;
      this.carryLen = 0;
      return;
    }
    const need = this.recordSize(buf, from, to);
    const cap = Math.max(rest, need > 0 ? need : HEADER_PROBE);
    const next = Buffer.allocUnsafe(cap);
    buf.copy(next, 0, from, to);
    this.carry = next;
    this.carryLen = rest;
  }

  /** Signals the end of the input; returns the error that ended reading, if any. */
  end(): CaptureError | undefined {
    if (this.ended) return this.failure;
    this.ended = true;
    if (this.state === STATE_FAILED) return this.failure;
    if (this.state === STATE_START && this.carryLen < 4) {
      this.fail(
        'capture_not_a_capture',
        0,
        PCAP_EXPECTED,
        this.received === 0 ? 'the input is empty' : `only ${this.received} bytes`,
        true,
      );
      return this.failure;
    }
    if (this.carryLen > 0) {
      const need = this.recordSize(this.carry, 0, this.carryLen);
      if (need === FATAL) return this.failure;
      const what =
        need === NEED_MORE
          ? `a record header, only ${this.carryLen} bytes present`
          : `a record of ${need} bytes, only ${this.carryLen} present`;
      this.fail('capture_truncated', this.offset, what, '', false);
    }
    this.carry = EMPTY;
    this.carryLen = 0;
    return this.failure;
  }

  private ensureCarry(size: number): void {
    if (this.carry.length >= size) return;
    const cap = Math.min(Math.max(size, this.carry.length * 2, 4096), this.maxRecord + HEADER_PROBE);
    const next = Buffer.allocUnsafe(Math.max(cap, size));
    this.carry.copy(next, 0, 0, this.carryLen);
    this.carry = next;
  }

  /** Consumes every complete record in buf[start, end); returns where the first incomplete one starts. */
  private feed(buf: Buffer, start: number, end: number): number {
    let pos = start;
    for (;;) {
      const size = this.recordSize(buf, pos, end);
      if (size < 0 || end - pos < size) break;
      this.handleRecord(buf, pos, size);
      if (this.state === STATE_FAILED) break;
      pos += size;
      this.offset += size;
    }
    return pos;
  }

  /** Size of the record at pos, NEED_MORE if its header is incomplete, FATAL after recording an error. */
  private recordSize(buf: Buffer, pos: number, end: number): number {
    const avail = end - pos;
    if (this.state === STATE_PCAP) {
      const hl = this.pcapRecordHeader;
      if (avail < hl) return NEED_MORE;
      const incl = this.r32(buf, pos + 8);
      if (incl > this.maxRecord - hl) {
        return this.fail(
          'capture_record_too_large',
          this.offset,
          `a captured length of at most ${this.maxRecord - hl} bytes`,
          `record says ${incl}`,
          true,
        );
      }
      return hl + incl;
    }
    if (this.state === STATE_PCAPNG) {
      if (avail < 8) return NEED_MORE;
      if (buf.readUInt32LE(pos) === BLOCK_SHB) return this.sectionSize(buf, pos, avail);
      return this.blockSize(this.r32(buf, pos + 4));
    }
    if (this.state === STATE_START) {
      if (avail < 4) return NEED_MORE;
      const magic = buf.readUInt32LE(pos);
      if (magic === BLOCK_SHB) {
        this.fmt = 'pcapng';
        return this.sectionSize(buf, pos, avail);
      }
      if (this.pcapMagic(magic)) {
        this.fmt = 'pcap';
        return 24;
      }
      return this.fail(
        'capture_not_a_capture',
        this.offset,
        PCAP_EXPECTED,
        `found ${buf.toString('hex', pos, pos + 4)}`,
        true,
      );
    }
    return FATAL;
  }

  /** Recognises a pcap magic and sets byte order and time precision; false if not one. */
  private pcapMagic(magic: number): boolean {
    switch (magic) {
      case 0xa1b2c3d4:
      case 0xd4c3b2a1:
        this.nanos = false;
        this.pcapRecordHeader = 16;
        break;
      case 0xa1b23c4d:
      case 0x4d3cb2a1:
        this.nanos = true;
        this.pcapRecordHeader = 16;
        break;
      case 0xa1b2cd34:
      case 0x34cdb2a1:
        // Alexey Kuznetzov's patched libpcap: 8 more bytes (ifindex, protocol, type) per record.
        this.nanos = false;
        this.pcapRecordHeader = 24;
        break;
      default:
        return false;
    }
    this.le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d || magic === 0xa1b2cd34;
    return true;
  }

  private sectionSize(buf: Buffer, pos: number, avail: number): number {
    if (avail < 12) return NEED_MORE;
    const bom = buf.readUInt32LE(pos + 8);
    if (bom !== BOM && bom !== BOM_SWAPPED) {
      return this.fail(
        this.state === STATE_START ? 'capture_not_a_capture' : 'capture_bad_section_header',
        this.offset + 8,
        'the pcapng byte-order magic 1a2b3c4d',
        `found ${buf.toString('hex', pos + 8, pos + 12)}`,
        true,
      );
    }
    const len = bom === BOM ? buf.readUInt32LE(pos + 4) : buf.readUInt32BE(pos + 4);
    if (len < 28 && len >= 12 && len % 4 === 0) {
      return this.fail(
        'capture_bad_section_header',
        this.offset,
        'a Section Header Block of at least 28 bytes',
        `length ${len}`,
        true,
      );
    }
    return this.blockSize(len);
  }

  private blockSize(len: number): number {
    if (len < 12 || len % 4 !== 0) {
      return this.fail(
        'capture_bad_block_length',
        this.offset,
        'a block length that is a multiple of 4 and at least 12',
        `length ${len}`,
        true,
      );
    }
    if (len > this.maxRecord) {
      return this.fail(
        'capture_record_too_large',
        this.offset,
        `a block of at most ${this.maxRecord} bytes`,
        `length ${len}`,
        true,
      );
    }
    return len;
  }

  private handleRecord(buf: Buffer, pos: number, size: number): void {
    if (this.state === STATE_PCAP) {
      const sec = this.r32(buf, pos);
      const frac = this.r32(buf, pos + 4);
      const orig = this.r32(buf, pos + 12);
      const time = sec * 1000 + (this.nanos ? frac / 1e6 : frac / 1e3);
      const start = pos + this.pcapRecordHeader;
      this.emit(this.pcapLinkType, time, buf, start, pos + size, orig);
      return;
    }
    if (this.state === STATE_PCAPNG) {
      const type = this.r32(buf, pos);
      const trailer = this.r32(buf, pos + size - 4);
      if (type !== BLOCK_SHB && trailer !== size) {
        this.fail(
          'capture_bad_block_length',
          this.offset,
          `a trailing block length of ${size}`,
          `found ${trailer}`,
          true,
        );
        return;
      }
      switch (type) {
        case BLOCK_SHB:
          this.handleSection(buf, pos, size);
          return;
        case BLOCK_IDB:
          this.handleInterface(buf, pos, size);
          return;
        case BLOCK_EPB:
        case BLOCK_PB:
          this.handlePacket(buf, pos, size, type === BLOCK_EPB);
          return;
        case BLOCK_SPB:
          this.handleSimplePacket(buf, pos, size);
          return;
        case BLOCK_SYSTEMD_JOURNAL:
        case BLOCK_CUSTOM:
        case BLOCK_CUSTOM_NO_COPY:
        case 0x204: // sysdig event blocks (v1, flags, v2, large)
        case 0x208:
        case 0x216:
        case 0x217:
        case 0x221:
        case 0x222:
          // Not packets, but tshark numbers them as frames: keep the numbering aligned.
          this.frameCount++;
          this.nonPacketRecords++;
          return;
        default:
          return; // name resolution, statistics, decryption secrets, unknown: skipped by length
      }
    }
    // STATE_START: the file header of a pcap, or the first Section Header Block.
    if (buf.readUInt32LE(pos) === BLOCK_SHB) {
      this.fmt = 'pcapng';
      this.state = STATE_PCAPNG;
      this.handleSection(buf, pos, size);
      return;
    }
    this.fmt = 'pcap';
    this.state = STATE_PCAP;
    const major = this.r16(buf, pos + 4);
    const network = this.r32(buf, pos + 20);
    // The upper bits of the link-type field carry FCS information, not the link type.
    this.pcapLinkType = network & 0xffff;
    if (major !== 2) this.notice('capture_unsupported_version', this.offset + 4, `pcap version ${major}`);
  }

  private handleSection(buf: Buffer, pos: number, size: number): void {
    // The section's own byte-order magic decides how everything in it, this block included, is read.
    this.le = buf.readUInt32LE(pos + 8) === BOM;
    const trailer = this.r32(buf, pos + size - 4);
    if (trailer !== size) {
      this.fail(
        'capture_bad_block_length',
        this.offset,
        `a trailing block length of ${size}`,
        `found ${trailer}`,
        true,
      );
      return;
    }
    const major = this.r16(buf, pos + 12);
    if (major !== 1) {
      this.fail(
        'capture_unsupported_version',
        this.offset + 12,
        'pcapng major version 1',
        `found ${major}`,
        true,
      );
      return;
    }
    this.interfaces.length = 0;
  }

  private handleInterface(buf: Buffer, pos: number, size: number): void {
    if (size < 20) {
      this.fail(
        'capture_bad_block_length',
        this.offset,
        'an Interface Description Block of at least 20 bytes',
        `length ${size}`,
        true,
      );
      return;
    }
    if (this.interfaces.length >= this.maxInterfaces) {
      this.fail(
        'capture_too_many_interfaces',
        this.offset,
        `at most ${this.maxInterfaces} interfaces per section`,
        '',
        true,
      );
      return;
    }
    const le = this.le;
    const linkType = this.r16(buf, pos + 8);
    const snaplen = this.r32(buf, pos + 12);
    let tickDivisor = 1000; // default resolution: microseconds
    let tickMultiplier = 1;
    let offsetMs = 0;
    const optEnd = pos + size - 4;
    let p = pos + 16;
    while (p + 4 <= optEnd) {
      const code = this.r16(buf, p);
      const len = this.r16(buf, p + 2);
      if (code === 0) break;
      if (p + 4 + len > optEnd) {
        this.notice(
          'capture_bad_option',
          this.offset + (p - pos),
          `option ${code} of ${len} bytes overruns its block`,
        );
        break;
      }
      if (code === 9 && len >= 1) {
        const v = buf[p + 4] ?? 6;
        const exp = v & 0x7f;
        if ((v & 0x80) !== 0) {
          tickDivisor = 1;
          tickMultiplier = 1000 / 2 ** exp;
        } else if (exp >= 3) {
          tickDivisor = 10 ** (exp - 3);
          tickMultiplier = 1;
        } else {
          tickDivisor = 1;
          tickMultiplier = 10 ** (3 - exp);
        }
      } else if (code === 14 && len >= 8) {
        offsetMs = Number(le ? buf.readBigInt64LE(p + 4) : buf.readBigInt64BE(p + 4)) * 1000;
      }
      p += 4 + ((len + 3) & ~3);
    }
    this.interfaces.push({ linkType, snaplen, tickDivisor, tickMultiplier, offsetMs });
  }

  private handlePacket(buf: Buffer, pos: number, size: number, enhanced: boolean): void {
    if (size < 32) {
      this.fail(
        'capture_bad_block_length',
        this.offset,
        'a packet block of at least 32 bytes',
        `length ${size}`,
        true,
      );
      return;
    }
    const ifId = enhanced ? this.r32(buf, pos + 8) : this.r16(buf, pos + 8);
    const iface = this.interfaces[ifId];
    if (iface === undefined) {
      this.fail(
        'capture_bad_interface',
        this.offset + 8,
        `an interface id below ${this.interfaces.length} (the interfaces defined in this section)`,
        `found ${ifId}`,
        true,
      );
      return;
    }
    const hi = this.r32(buf, pos + 12);
    const lo = this.r32(buf, pos + 16);
    const caplen = this.r32(buf, pos + 20);
    const orig = this.r32(buf, pos + 24);
    if (caplen > size - 32) {
      this.fail(
        'capture_bad_caplen',
        this.offset + 20,
        `a captured length of at most ${size - 32} bytes (the block body)`,
        `found ${caplen}`,
        true,
      );
      return;
    }
    const time = ((hi * 4294967296 + lo) / iface.tickDivisor) * iface.tickMultiplier + iface.offsetMs;
    this.emit(iface.linkType, time, buf, pos + 28, pos + 28 + caplen, orig);
  }

  private handleSimplePacket(buf: Buffer, pos: number, size: number): void {
    if (size < 16) {
      this.fail(
        'capture_bad_block_length',
        this.offset,
        'a Simple Packet Block of at least 16 bytes',
        `length ${size}`,
        true,
      );
      return;
    }
    const iface = this.interfaces[0];
    if (iface === undefined) {
      this.fail(
        'capture_bad_interface',
        this.offset,
        'an Interface Description Block before a Simple Packet Block',
        '',
        true,
      );
      return;
    }
    const orig = this.r32(buf, pos + 8);
    let caplen = Math.min(orig, size - 16);
    if (iface.snaplen > 0 && caplen > iface.snaplen) caplen = iface.snaplen;
    // A Simple Packet Block has no timestamp: the previous frame's time keeps event time monotonic.
    this.emit(iface.linkType, this.lastTime, buf, pos + 12, pos + 12 + caplen, orig);
  }

  private emit(
    linkType: number,
    time: number,
    buf: Buffer,
    start: number,
    end: number,
    origLen: number,
  ): void {
    const slot = this.slot;
    slot.frame = ++this.frameCount;
    slot.time = time;
    slot.linkType = linkType;
    slot.data = buf.subarray(start, end);
    slot.origLen = origLen;
    this.lastTime = time;
    this.onFrame(slot);
  }

  /** 32-bit read in the current byte order, by byte arithmetic (bounds are checked by the caller). */
  private r32(b: Buffer, o: number): number {
    return this.le
      ? ((b[o] as number) |
          ((b[o + 1] as number) << 8) |
          ((b[o + 2] as number) << 16) |
          ((b[o + 3] as number) << 24)) >>>
          0
      : (((b[o] as number) << 24) |
          ((b[o + 1] as number) << 16) |
          ((b[o + 2] as number) << 8) |
          (b[o + 3] as number)) >>>
          0;
  }

  /** 16-bit read in the current byte order. */
  private r16(b: Buffer, o: number): number {
    return this.le
      ? (b[o] as number) | ((b[o + 1] as number) << 8)
      : ((b[o] as number) << 8) | (b[o + 1] as number);
  }

  private notice(code: string, offset: number, detail: string): void {
    if (this.onNotice !== undefined) this.onNotice({ code, offset, detail });
  }

  private fail(code: string, offset: number, expected: string, found: string, fatal: boolean): number {
    const what = code === 'capture_truncated' ? 'truncated' : (DESCRIPTIONS[code] ?? code);
    const message =
      code === 'capture_truncated'
        ? `truncated at offset ${offset}: expected ${expected}`
        : `${what} at offset ${offset}: expected ${expected}${found === '' ? '' : `, ${found}`}`;
    this.failure = { code, format: this.fmt ?? 'unknown', offset, expected, message, fatal };
    this.state = STATE_FAILED;
    return FATAL;
  }
}

const DESCRIPTIONS: Record<string, string> = {
  capture_not_a_capture: 'not a capture file',
  capture_record_too_large: 'record too large',
  capture_bad_block_length: 'bad block length',
  capture_bad_section_header: 'bad section header',
  capture_bad_caplen: 'bad captured length',
  capture_bad_interface: 'unknown interface',
  capture_too_many_interfaces: 'too many interfaces',
  capture_unsupported_version: 'unsupported version',
};
