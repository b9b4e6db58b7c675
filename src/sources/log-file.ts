/**
 * Reads a PBX log file line by line for `analyze`, in bounded memory: chunks are split on LF (CRLF
 * too), a line longer than LOG_TAIL_MAX_LINE_BYTES is cut there (the rest of it skipped and
 * counted), bytes are decoded as UTF-8 leniently.
 */
import { open } from 'node:fs/promises';
import { CAPTURE_READ_CHUNK_BYTES, LOG_TAIL_MAX_LINE_BYTES } from '../config/limits.js';

/** What reading a log file came to. */
export interface LogFileResult {
  lines: number;
  cutLines: number;
}

/** Calls `onLine(text, lineNo)` for every line of `file` (1-based line numbers). */
export async function readLogFile(
  file: string,
  onLine: (text: string, lineNo: number) => void,
): Promise<LogFileResult> {
  const fh = await open(file, 'r');
  const result: LogFileResult = { lines: 0, cutLines: 0 };
  const buf = Buffer.allocUnsafe(CAPTURE_READ_CHUNK_BYTES);
  let carry: Buffer[] = [];
  let carryBytes = 0;
  let skipping = false;
  const emit = (line: Buffer): void => {
    result.lines++;
    let end = line.length;
    if (end > 0 && line[end - 1] === 0x0d) end--;
    onLine(line.toString('utf8', 0, end), result.lines);
  };
  try {
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      let start = 0;
      while (start < bytesRead) {
        const nl = buf.indexOf(0x0a, start);
        const end = nl < 0 || nl >= bytesRead ? bytesRead : nl;
        if (!skipping) {
          const room = LOG_TAIL_MAX_LINE_BYTES - carryBytes;
          const take = Math.min(end - start, room);
          if (take > 0) {
            carry.push(Buffer.from(buf.subarray(start, start + take)));
            carryBytes += take;
          }
          if (end - start > room) {
            // Too long: keep the head, skip to the end of the line.
            skipping = true;
            result.cutLines++;
          }
        }
        if (nl < 0 || nl >= bytesRead) break;
        emit(Buffer.concat(carry, carryBytes));
        carry = [];
        carryBytes = 0;
        skipping = false;
        start = nl + 1;
      }
    }
    if (carryBytes > 0 || skipping) emit(Buffer.concat(carry, carryBytes));
  } finally {
    await fh.close();
  }
  return result;
}
