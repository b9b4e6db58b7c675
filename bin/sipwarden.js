#!/usr/bin/env node
// Entry point: the compiled command line lives in dist/ (run `npm run build` first).
import { main } from '../dist/src/cli/main.js';

// A reader that went away (`sipwarden analyze big.pcap | head`): the report stops there, quietly,
// as Unix tools stop on SIGPIPE. `watch` keeps running: its stdout sink sees the failed write and
// counts it like any sink's, and the store and the other sinks go on.
process.stdout.on('error', (err) => {
  if (err.code !== 'EPIPE') throw err;
  if (process.argv[2] !== 'watch') process.exit(process.exitCode ?? 0);
});

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(
      `sipwarden: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exitCode = 70;
  },
);
