/**
 * The command line when its reader goes away (`sipwarden analyze big.pcap | head`): it stops
 * quietly with status 0 instead of dying on EPIPE with a stack trace.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';

const CAPTURE = 'test/fixtures/captures/benign-nat-office-storm-3cx.pcap';

function runWithClosedStdout(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/sipwarden.js', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // Closed before the report is written: every write the command makes meets a closed pipe.
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

test('analyze into a closed pipe ends quietly with status 0', async () => {
  for (const format of ['json', 'text']) {
    const r = await runWithClosedStdout(['analyze', CAPTURE, '--format', format]);
    assert.equal(r.stderr, '', `${format}: nothing on stderr`);
    assert.equal(r.code, 0, format);
  }
});
