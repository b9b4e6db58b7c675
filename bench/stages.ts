/**
 * Where the pipeline's time goes, stage by stage and rule by rule, in one process on one capture:
 * read, decode, parse (with validation), tracking, the detection engine with no rules, then each
 * rule alone (its cost over the no-rule run) and all rules together. CPU time per SIP message.
 * Run after `npm run bench` (which builds the captures), or on any capture:
 * `node --expose-gc dist/bench/stages.js [attack|office|FILE] [--rules] [--repeat N] [--json]`.
 * `--rules` adds the per-rule rows (one run per rule: slow on a large capture); `--json` prints the
 * rows as JSON (`npm run bench` reads that) instead of a table.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { analyzeFiles } from '../src/cli/analyze.js';
import type { Payload } from '../src/core/records.js';
import { PacketDecoder } from '../src/decode/decoder.js';
import { ALL_RULES } from '../src/detect/rules/index.js';
import { Pipeline } from '../src/pipeline.js';
import { parseSipMessage } from '../src/sip/message.js';
import { readCaptureFile } from '../src/sources/capture-file.js';
import { OUT_DIR } from './make-captures.js';

const gc = (globalThis as { gc?: () => void }).gc;

async function cpu(run: () => Promise<void>, repeat: number): Promise<number> {
  let best = Infinity;
  for (let i = 0; i < repeat; i++) {
    gc?.();
    const t0 = process.cpuUsage();
    await run();
    const t = process.cpuUsage(t0);
    best = Math.min(best, (t.user + t.system) / 1e6);
  }
  return best;
}

async function main(args: string[]): Promise<void> {
  let target = 'attack';
  let rules = false;
  let repeat = 1;
  let json = false;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--rules') rules = true;
    else if (args[i] === '--json') json = true;
    else if (args[i] === '--repeat') repeat = Number(args[++i]);
    else target = args[i]!;
  }
  const file = existsSync(target) ? target : join(OUT_DIR, `${target}.pcap`);
  if (!existsSync(file)) throw new Error(`${file} not found: run \`npm run bench\` first`);
  if (gc === undefined) process.stderr.write('stages: run node with --expose-gc for steadier figures\n');

  let messages = 0;
  const rows: [string, number][] = [];
  const row = (name: string, s: number): void => {
    rows.push([name, s]);
    process.stderr.write(`${name.padEnd(44)} ${s.toFixed(2).padStart(7)} s\n`);
  };

  row(
    'read frames',
    await cpu(async () => {
      await readCaptureFile(file, () => undefined);
    }, repeat),
  );
  const decodeOnly = async (onPayload: (p: Payload) => void): Promise<void> => {
    const d = new PacketDecoder({ payload: onPayload, anomaly: () => undefined }, {});
    await readCaptureFile(file, (f) =>
      d.decodeFrame(f.linkType, f.data, f.time, { kind: 'capture', file, frame: f.frame }),
    );
  };
  row('+ decode', await cpu(() => decodeOnly(() => undefined), repeat));
  row(
    '+ parse and validate',
    await cpu(
      () =>
        decodeOnly((p) => {
          if (p.kind !== 'datagram') return;
          const m = parseSipMessage(p.data);
          if (m.anomalies.length > 1000) throw new Error('unreachable');
        }),
      repeat,
    ),
  );
  row(
    '+ events and tracking (Pipeline, no listener)',
    await cpu(async () => {
      const p = new Pipeline();
      await readCaptureFile(file, (f) =>
        p.frame(f.linkType, f.data, f.time, { kind: 'capture', file, frame: f.frame }),
      );
      p.finish();
      messages = p.summary.sipMessages;
    }, repeat),
  );
  const base = await cpu(async () => {
    await analyzeFiles([file], { rules: [] });
  }, repeat);
  row('+ detection engine, no rules (analyze)', base);
  if (rules) {
    for (const r of ALL_RULES) {
      const s = await cpu(async () => {
        await analyzeFiles([file], { rules: [r] });
      }, repeat);
      row(`  rule ${r.meta.id}`, s - base);
    }
  }
  row(
    'all rules (analyze)',
    await cpu(async () => {
      await analyzeFiles([file], {});
    }, repeat),
  );

  if (json) {
    process.stdout.write(
      `${JSON.stringify({ file, messages, rows: rows.map(([stage, cpu]) => ({ stage, cpu })) })}\n`,
    );
    return;
  }
  process.stdout.write(`\n${file}: ${messages.toLocaleString('en-US')} SIP messages\n\n`);
  process.stdout.write('| stage | CPU s | µs per message |\n|---|---:|---:|\n');
  for (const [name, s] of rows) {
    process.stdout.write(
      `| ${name} | ${s.toFixed(2)} | ${((s * 1e6) / Math.max(1, messages)).toFixed(1)} |\n`,
    );
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`stages: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
