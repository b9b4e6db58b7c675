/**
 * The raw read of a capture through our streaming reader, without decoding: readCaptureFile with
 * an empty frame callback. The benchmark times it as the floor under `sipwarden analyze`.
 * Prints `{ "frames": N, "bytes": N }`. Run: `node dist/bench/read-capture.js FILE`.
 */
import { readCaptureFile } from '../src/sources/capture-file.js';

const file = process.argv[2];
if (file === undefined) {
  process.stderr.write('usage: read-capture FILE\n');
  process.exitCode = 2;
} else {
  const summary = await readCaptureFile(file, () => {});
  process.stdout.write(`${JSON.stringify({ frames: summary.frames, bytes: summary.bytes })}\n`);
  if (summary.error !== undefined) {
    process.stderr.write(`read-capture: ${summary.error.message}\n`);
    process.exitCode = 3;
  }
}
