/**
 * Reads a pcap or pcapng file (optionally gzip-compressed) as a stream and hands its frames to a
 * callback. Memory stays constant whatever the file size: the file is read in large chunks and
 * the push parser keeps only the carry-over of one incomplete record.
 */
import { open, type FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { CAPTURE_READ_CHUNK_BYTES } from '../config/limits.js';
import {
  CaptureParser,
  type CaptureFormat,
  type CaptureParserOptions,
  type FrameHandler,
} from './capture-parser.js';

/** What reading one capture gave: its format, how many frames and bytes, and the error if any. */
export interface CaptureSummary {
  /** Recognised format; `unknown` when the input is not a capture. */
  readonly format: CaptureFormat | 'unknown';
  /** The file was gzip-compressed (offsets then refer to the decompressed bytes). */
  readonly gzip: boolean;
  /** Frames delivered to the callback. */
  readonly frames: number;
  /** Capture bytes consumed (decompressed), i.e. up to the end of the last complete record. */
  readonly bytes: number;
  /** Why reading ended early or badly: corrupt data, not-a-capture, truncated final record. */
  readonly error?: { readonly code: string; readonly offset: number; readonly message: string };
}

/** Options of readCaptureFile / readCaptureStream. */
export interface ReadCaptureOptions extends CaptureParserOptions {
  /** Read chunk size; defaults to CAPTURE_READ_CHUNK_BYTES. */
  readonly highWaterMark?: number;
}

/**
 * Streams the capture file at `path` into `onFrame` (see CaptureFrame for the callback's lifetime
 * rules). Errors inside the file are returned in the summary; an unreadable file rejects with an
 * Error naming the path.
 */
export async function readCaptureFile(
  path: string,
  onFrame: FrameHandler,
  options: ReadCaptureOptions = {},
): Promise<CaptureSummary> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    throw new Error(`cannot open capture file ${path}: ${errorText(err)}`, { cause: err });
  }
  try {
    let head: Buffer;
    try {
      const probe = Buffer.alloc(2);
      const { bytesRead } = await fh.read(probe, 0, 2, 0);
      head = probe.subarray(0, bytesRead);
    } catch (err) {
      throw new Error(`cannot read capture file ${path}: ${errorText(err)}`, { cause: err });
    }
    const gzip = head.length === 2 && head[0] === 0x1f && head[1] === 0x8b;
    const input = fh.createReadStream({
      start: 0,
      autoClose: false,
      highWaterMark: options.highWaterMark ?? CAPTURE_READ_CHUNK_BYTES,
    });
    return await readCaptureStream(input, onFrame, { ...options, gzip, name: path });
  } finally {
    await fh.close();
  }
}

/**
 * Streams a capture from any readable (a file, a pipe from `tcpdump -w -`) into `onFrame`.
 * `gzip` says the bytes are gzip-compressed; `name` is used in I/O error messages.
 */
export async function readCaptureStream(
  input: Readable,
  onFrame: FrameHandler,
  options: ReadCaptureOptions & { readonly gzip?: boolean; readonly name?: string } = {},
): Promise<CaptureSummary> {
  const parser = new CaptureParser(onFrame, options);
  const gzip = options.gzip === true;
  const name = options.name ?? 'capture stream';
  let gzipError: unknown;
  const consume = async (source: AsyncIterable<Buffer>): Promise<void> => {
    for await (const chunk of source) {
      if (!parser.push(chunk)) return;
    }
  };
  try {
    if (gzip) {
      const gunzip = createGunzip({ chunkSize: 256 * 1024 });
      gunzip.on('error', (err) => {
        gzipError = err;
      });
      await pipeline(input, gunzip, consume);
    } else {
      await pipeline(input, consume);
    }
  } catch (err) {
    if (gzipError === undefined || err !== gzipError) {
      throw new Error(`cannot read capture file ${name}: ${errorText(err)}`, { cause: err });
    }
  }
  const base: CaptureSummary = {
    format: parser.format ?? 'unknown',
    gzip,
    frames: parser.frames,
    bytes: parser.bytes,
  };
  if (gzipError !== undefined && parser.error === undefined) {
    const offset = parser.bytesReceived;
    return {
      ...base,
      error: {
        code: 'capture_gzip_error',
        offset,
        message: `gzip data corrupt or cut short after ${offset} decompressed bytes: ${errorText(gzipError)}`,
      },
    };
  }
  const error = parser.end();
  if (error === undefined) return base;
  return { ...base, error: { code: error.code, offset: error.offset, message: error.message } };
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
