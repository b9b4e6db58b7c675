/**
 * Where `sipwarden analyze` spends its time: runs it under `node --cpu-prof` on a benchmark capture
 * and prints the functions with the most self time, then the same summed per source file.
 * Run after `npm run bench` (which builds the captures):
 * `node dist/bench/profile.js [attack|office|FILE] [--top N]`. The profile is kept in
 * bench/out/profile/ (open it in Chrome DevTools for the call tree).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OUT_DIR } from './make-captures.js';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

interface CpuProfile {
  nodes: { id: number; callFrame: CallFrame }[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

async function main(args: string[]): Promise<void> {
  let target = 'attack';
  let top = 15;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--top') top = Number(args[++i]);
    else target = args[i]!;
  }
  const file = existsSync(target) ? target : join(OUT_DIR, `${target}.pcap`);
  if (!existsSync(file)) throw new Error(`${file} not found: run \`npm run bench\` first`);
  const dir = join(OUT_DIR, 'profile');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const argv = ['--cpu-prof', '--cpu-prof-dir', dir, 'bin/sipwarden.js', 'analyze', file, '--format', 'json'];
  process.stderr.write(`profile: node ${argv.join(' ')} > /dev/null\n`);
  const t0 = process.hrtime.bigint();
  const code = await new Promise<number | null>((res, rej) => {
    const c = spawn(process.execPath, argv, { stdio: ['ignore', 'ignore', 'inherit'] });
    c.on('error', rej);
    c.on('close', res);
  });
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const name = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (name === undefined) throw new Error(`no profile written (exit ${code})`);
  const prof = JSON.parse(readFileSync(join(dir, name), 'utf8')) as CpuProfile;

  // Each sample stands for the time until the next one.
  const byNode = new Map<number, number>();
  for (let i = 0; i < prof.samples.length; i++) {
    const dt = (prof.timeDeltas[i + 1] ?? 0) / 1000;
    byNode.set(prof.samples[i]!, (byNode.get(prof.samples[i]!) ?? 0) + dt);
  }
  const root = process.cwd();
  const where = (cf: CallFrame): string => {
    if (cf.url === '') return '';
    const path = cf.url.startsWith('file://') ? relative(root, fileURLToPath(cf.url)) : cf.url;
    return `${path}:${cf.lineNumber + 1}`;
  };
  const byFunction = new Map<string, { ms: number; fn: string; at: string }>();
  const byFile = new Map<string, number>();
  let total = 0;
  for (const n of prof.nodes) {
    const ms = byNode.get(n.id) ?? 0;
    if (ms === 0) continue;
    total += ms;
    const at = where(n.callFrame);
    const fn = n.callFrame.functionName === '' ? '(anonymous)' : n.callFrame.functionName;
    const key = `${fn} ${at}`;
    const e = byFunction.get(key) ?? { ms: 0, fn, at };
    e.ms += ms;
    byFunction.set(key, e);
    const f = at === '' ? fn : at.slice(0, at.lastIndexOf(':'));
    byFile.set(f, (byFile.get(f) ?? 0) + ms);
  }
  const out: string[] = [];
  out.push(
    `${file}: ${wall.toFixed(1)} s wall under the profiler, ${(total / 1000).toFixed(1)} s sampled, exit ${code}`,
  );
  out.push('');
  out.push(`Top ${top} functions by self time:`);
  out.push('| # | self ms | self % | function | where |');
  out.push('|---:|---:|---:|---|---|');
  [...byFunction.values()]
    .sort((a, b) => b.ms - a.ms)
    .slice(0, top)
    .forEach((e, i) =>
      out.push(
        `| ${i + 1} | ${e.ms.toFixed(0)} | ${((100 * e.ms) / total).toFixed(1)} | ${e.fn} | ${e.at} |`,
      ),
    );
  out.push('');
  out.push(`Top ${top} source files by self time:`);
  out.push('| # | self ms | self % | file |');
  out.push('|---:|---:|---:|---|');
  [...byFile.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .forEach(([f, ms], i) =>
      out.push(`| ${i + 1} | ${ms.toFixed(0)} | ${((100 * ms) / total).toFixed(1)} | ${f} |`),
    );
  process.stdout.write(`${out.join('\n')}\n`);
}

process.chdir(join(dirname(fileURLToPath(import.meta.url)), '..', '..'));
main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`profile: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
