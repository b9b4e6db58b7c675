/**
 * Memory under a spoofed flood, in process: the traffic `npm run bench:watch` sends for its memory
 * figure (1,000 extensions registering, one registration per 20 transactions from spoofed sources,
 * each sending one REGISTER with credentials answered 401; bench/sip-traffic.ts), fed straight
 * into the pipeline and every detector, without the network, the store or the sinks. It shows
 * what the detection state costs at the full million sources in a few minutes, where the live
 * benchmark reaches only the sources its throughput allows in its time bound.
 *
 * `node --expose-gc dist/bench/flood.js [--sources N] [--rate PPS] [--every N]`: event time advances at
 * --rate packets per second (default 6,000, about what `watch` processes); a line is printed every
 * --every spoofed sources (default 100,000) with the live heap after a full collection, the RSS,
 * and the fullest tables; the last line is the peak RSS (VmHWM).
 */
import { pathToFileURL } from 'node:url';
import { applyHeapPolicy } from '../src/cli/heap.js';
import type { AlertJson } from '../src/core/alert.js';
import { AlertBook } from '../src/detect/alert-book.js';
import { DetectionEngine } from '../src/detect/engine.js';
import { ALL_RULES } from '../src/detect/rules/index.js';
import { SiteModel } from '../src/detect/site.js';
import { Pipeline } from '../src/pipeline.js';
import { procStatusKib } from './proc.js';
import { SipTraffic } from './sip-traffic.js';

export interface Options {
  sources: number;
  rate: number;
  every: number;
}

export function parseOptions(args: string[]): Options {
  const o: Options = { sources: 1_000_000, rate: 6_000, every: 100_000 };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const v = Number(args[++i]);
    if (!Number.isInteger(v) || v < 1) throw new Error(`${a} needs a positive integer`);
    if (a === '--sources') o.sources = v;
    else if (a === '--rate') o.rate = v;
    else if (a === '--every') o.every = v;
    else throw new Error(`unknown option ${a}`);
  }
  return o;
}

const mib = (bytes: number): string => (bytes / 1048576).toFixed(0);

/** What the flood leaves in memory (kept alive for a heap snapshot). */
export interface FloodRun {
  readonly pipeline: Pipeline;
  readonly engine: DetectionEngine;
  readonly book: AlertBook;
  readonly packets: number;
  readonly revisions: Map<string, number>;
}

/**
 * Feeds the flood of `o.sources` spoofed sources through a pipeline and every detector; calls
 * `checkpoint` every `o.every` sources.
 */
export function runFlood(o: Options, checkpoint?: (sources: number, packets: number) => void): FloodRun {
  const revisions = new Map<string, number>();
  const book = new AlertBook(
    'default',
    'bench',
    (a: AlertJson) => {
      revisions.set(a.rule, (revisions.get(a.rule) ?? 0) + 1);
    },
    { report: false },
  );
  const engine = new DetectionEngine(ALL_RULES, book, new SiteModel());
  const pipeline = new Pipeline({ listener: engine });
  const traffic = new SipTraffic({
    scenario: 'flood',
    seed: 5,
    phones: 1000,
    attackers: 0,
    floodSources: o.sources,
  });
  const t0 = Date.UTC(2026, 10, 24, 3, 0, 0);
  let packets = 0;
  let flood = 0;
  let next = o.every;
  while (flood < 2 * o.sources) {
    const p = traffic.next();
    if (p.kind === 'flood') flood++;
    pipeline.sipFrame({
      time: t0 + (packets * 1000) / o.rate,
      srcIp: p.srcIp,
      srcPort: p.srcPort,
      dstIp: p.dstIp,
      dstPort: p.dstPort,
      transport: 'udp',
      provenance: { kind: 'capture', file: 'flood' },
      data: p.payload,
    });
    packets++;
    if (flood / 2 >= next) {
      next += o.every;
      checkpoint?.(flood / 2, packets);
    }
  }
  return { pipeline, engine, book, packets, revisions };
}

function main(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run with node --expose-gc');
  const o = parseOptions(process.argv.slice(2));
  // As `watch` runs (src/cli/watch.ts).
  applyHeapPolicy();
  const started = process.hrtime.bigint();
  console.log(
    '| spoofed sources | packets | live heap MiB | heap committed MiB | buffers MiB | RSS MiB | CPU s |',
  );
  console.log('|---:|---:|---:|---:|---:|---:|---:|');
  const run = runFlood(o, (sources, packets) => {
    gc();
    const cpu = process.cpuUsage();
    const mu = process.memoryUsage();
    console.log(
      `| ${sources.toLocaleString('en-US')} | ${packets.toLocaleString('en-US')} | ${mib(mu.heapUsed)} | ${mib(mu.heapTotal)} | ${mib(mu.arrayBuffers)} | ${(procStatusKib('self', 'VmRSS') / 1024).toFixed(0)} | ${((cpu.user + cpu.system) / 1e6).toFixed(1)} |`,
    );
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  console.log(
    `\npeak RSS (VmHWM) ${(procStatusKib('self', 'VmHWM') / 1024).toFixed(0)} MiB; ${run.packets.toLocaleString('en-US')} packets in ${seconds.toFixed(1)} s`,
  );
  console.log(
    `alert revisions: ${JSON.stringify(Object.fromEntries([...run.revisions].sort((a, b) => b[1] - a[1])))}`,
  );
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) main();
