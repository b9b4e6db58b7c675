/**
 * `npm run bench:watch`: measures the live sensor (`sipwarden watch`, spawned as its own process)
 * fed HEP3 over UDP on 127.0.0.1 by a paced sender process (bench/hep-blast.ts), and writes the
 * section between `<!-- watch:begin -->` and `<!-- watch:end -->` of docs/benchmarks.md:
 * 1. the loss curve at 10k/50k/100k/200k packets per second (received = packets the listener
 *    handed to the pipeline + packets it shed, in its UDP receive thread or its queue; the rest
 *    died in the kernel socket buffer);
 * 2. which kinds were lost under overload (an in-process Sensor, to count frames per kind);
 * 3. packet-to-stored-alert latency for a brute force under 10k pps of background load;
 * 4. peak RSS with 1,000 extensions registering under a flood from 1,000,000 spoofed sources.
 *
 * Options: --only loss|kinds|latency|memory (repeatable), --seconds S (per rate, default 5),
 * --max N (packets per rate, default 1,000,000), --rates a,b,c, --flood-rate R,
 * --flood-seconds S (bound on the memory flood, default 300: the million sources at 7,400 pps
 * or more), --cpu-prof,
 * --out FILE (default docs/benchmarks.md), --rmem BYTES (sysctl net.core.rmem_max for the run,
 * restored after; the watch is then configured to ask for that much).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { buildBlaster, parseBlast, writePacketFile, type BlastResult } from './hep-blast.js';
import { procStatusKib } from './proc.js';
import type { TrafficKind, TrafficOptions } from './sip-traffic.js';

const OUT = 'bench/out/watch';
const BEGIN = '<!-- watch:begin -->';
const END = '<!-- watch:end -->';

interface Options {
  only: Set<string>;
  seconds: number;
  max: number;
  rates: number[];
  floodRate: number | undefined;
  cpuProf: boolean;
  out: string;
  rmem: number | undefined;
  latencyRates: number[];
  floodSeconds: number;
}

function parseOptions(args: string[]): Options {
  const o: Options = {
    only: new Set(),
    seconds: 5,
    max: 1_000_000,
    rates: [10_000, 50_000, 100_000, 200_000],
    floodRate: undefined,
    cpuProf: false,
    out: 'docs/benchmarks.md',
    rmem: undefined,
    latencyRates: [1_000, 10_000],
    // The flood's rate is the pipeline's measured throughput: on a slow host 90 s sent only a third
    // of the million sources, and the memory target was not measured.
    floodSeconds: 300,
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const next = (): string => {
      const v = args[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--only') o.only.add(next());
    else if (a === '--seconds') o.seconds = Number(next());
    else if (a === '--max') o.max = Number(next());
    else if (a === '--rates') o.rates = next().split(',').map(Number);
    else if (a === '--flood-rate') o.floodRate = Number(next());
    else if (a === '--cpu-prof') o.cpuProf = true;
    else if (a === '--out') o.out = next();
    else if (a === '--rmem') o.rmem = Number(next());
    else if (a === '--latency-rates') o.latencyRates = next().split(',').map(Number);
    else if (a === '--flood-seconds') o.floodSeconds = Number(next());
    else throw new Error(`unknown option ${a}`);
  }
  return o;
}

function log(line: string): void {
  process.stderr.write(`bench:watch: ${line}\n`);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function freePort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  const p = s.address().port;
  s.close();
  return p;
}

// ---------------------------------------------------------------------------------------------
// The watch process.

const children = new Set<ChildProcess>();
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    for (const c of children) c.kill('SIGKILL');
    restoreRmem();
    process.exit(130);
  });
}

interface Watch {
  child: ChildProcess;
  hepPort: number;
  httpPort: number;
  argv: string[];
  stderr: () => string;
}

async function startWatch(tag: string, o: Options, profDir?: string): Promise<Watch> {
  const dir = join(OUT, tag);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const hepPort = await freePort();
  const httpPort = await freePort();
  const args = [
    'bin/sipwarden.js',
    'watch',
    '--hep',
    `udp://127.0.0.1:${hepPort}`,
    '--db',
    join(dir, 'watch.db'),
    '--http',
    `127.0.0.1:${httpPort}`,
    '--quiet',
  ];
  if (o.rmem !== undefined) {
    writeFileSync(join(dir, 'watch.yaml'), `sources:\n  hep:\n    recvBufferBytes: ${o.rmem}\n`);
    args.push('--config', join(dir, 'watch.yaml'));
  }
  const nodeArgs = profDir !== undefined ? ['--cpu-prof', '--cpu-prof-dir', profDir] : [];
  const child = spawn(process.execPath, [...nodeArgs, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  children.add(child);
  child.on('exit', () => children.delete(child));
  let err = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (d: string) => {
    if (err.length < 20_000) err += d;
  });
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`watch exited: ${err}`);
    try {
      const r = await fetch(`http://127.0.0.1:${httpPort}/healthz`);
      if (r.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`watch did not start: ${err}`);
    await sleep(100);
  }
  return { child, hepPort, httpPort, argv: ['node', ...nodeArgs, ...args], stderr: () => err };
}

async function stopWatch(w: Watch): Promise<void> {
  if (w.child.exitCode !== null) return;
  const exited = new Promise<void>((r) => w.child.once('exit', () => r()));
  w.child.kill('SIGTERM');
  const t = setTimeout(() => w.child.kill('SIGKILL'), 30_000);
  await exited;
  clearTimeout(t);
}

interface Metrics {
  packetsHep: number;
  droppedHep: number;
  sipMessages: number;
  alerts: number;
}

async function metrics(w: Watch): Promise<Metrics> {
  const text = await (await fetch(`http://127.0.0.1:${w.httpPort}/metrics`)).text();
  const sum = (re: RegExp): number => {
    let n = 0;
    for (const m of text.matchAll(re)) n += Number(m[1]);
    return n;
  };
  return {
    packetsHep: sum(/^sipwarden_packets_total\{source="hep"\} (\S+)$/gm),
    droppedHep: sum(/^sipwarden_dropped_total\{stage="source:hep"\} (\S+)$/gm),
    sipMessages: sum(/^sipwarden_sip_messages_total(?:\{\})? (\S+)$/gm),
    alerts: sum(/^sipwarden_alerts_total\{[^}]*\} (\S+)$/gm),
  };
}

/** Waits until the watch has handled everything it will (its counters stop moving for 1.5 s). */
async function settle(w: Watch, maxMs: number): Promise<Metrics> {
  const deadline = Date.now() + maxMs;
  let last = await metrics(w);
  let stableSince = Date.now();
  while (Date.now() < deadline) {
    await sleep(250);
    const m = await metrics(w);
    if (m.packetsHep !== last.packetsHep || m.droppedHep !== last.droppedHep) stableSince = Date.now();
    last = m;
    if (Date.now() - stableSince >= 1500) break;
  }
  return last;
}

/** Kernel drops and receive-queue size of the UDP socket bound to `port` (/proc/net/udp). */
function kernelSocket(port: number): { drops: number; rxQueue: number } | undefined {
  const want = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  for (const line of readFileSync('/proc/net/udp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f[1] === want) {
      const rx = parseInt((f[4] ?? '0:0').split(':')[1] ?? '0', 16);
      return { drops: Number(f[f.length - 1]), rxQueue: rx };
    }
  }
  return undefined;
}

/** SO_RCVBUF in force on the socket bound to `port`, from `ss -m` (skmem rb). */
async function granted(port: number): Promise<number | undefined> {
  const text = await output(['ss', '-u', '-a', '-n', '-m', 'sport', '=', `:${port}`]);
  const m = /rb(\d+)/.exec(text);
  return m === null ? undefined : Number(m[1]);
}

/** User + system CPU seconds of a process so far (/proc/PID/stat). */
function cpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return NaN;
  }
}

function vmHwmKib(pid: number | undefined): number {
  return procStatusKib(pid, 'VmHWM');
}

async function output(argv: readonly string[]): Promise<string> {
  return new Promise((res) => {
    const c = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'ignore'] });
    let s = '';
    c.stdout.setEncoding('utf8');
    c.stdout.on('data', (d: string) => (s += d));
    c.on('error', () => res(''));
    c.on('close', () => res(s.trim()));
  });
}

async function blast(bin: string, file: string, port: number, rate: number, count: number, maxS: number) {
  const child = spawn(bin, [file, String(port), String(rate), String(count), String(maxS)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.add(child);
  let out = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (d: string) => (out += d));
  await new Promise<void>((r) => child.on('close', () => r()));
  children.delete(child);
  return parseBlast(out.trim());
}

// ---------------------------------------------------------------------------------------------
// Socket buffer limits.

const RMEM_MAX = '/proc/sys/net/core/rmem_max';
let rmemSaved: string | undefined;

function readRmem(): number {
  return Number(readFileSync(RMEM_MAX, 'utf8').trim());
}

function raiseRmem(bytes: number): boolean {
  rmemSaved = readFileSync(RMEM_MAX, 'utf8').trim();
  try {
    writeFileSync(RMEM_MAX, `${bytes}\n`);
    return readRmem() === bytes;
  } catch {
    rmemSaved = undefined;
    return false;
  }
}

function restoreRmem(): void {
  if (rmemSaved === undefined) return;
  try {
    writeFileSync(RMEM_MAX, `${rmemSaved}\n`);
  } catch {
    // reported by the caller's final check
  }
  rmemSaved = undefined;
}

// ---------------------------------------------------------------------------------------------
// The measurements.

interface LossRow {
  rate: number;
  sender: BlastResult;
  metrics: Metrics;
  kernelDrops: number;
  rcvbuf: number | undefined;
  hwmKib: number;
  settleSeconds: number;
  /** CPU seconds the watch used from the first packet to the end of catch-up. */
  cpu: number;
}

const MIX: TrafficOptions = { scenario: 'mix', seed: 1, phones: 5000, attackers: 5 };

async function lossCurve(o: Options, bin: string, file: string, profDir?: string): Promise<LossRow[]> {
  const rows: LossRow[] = [];
  for (const rate of o.rates) {
    const count = Math.min(o.max, Math.round(rate * o.seconds));
    const prof = profDir !== undefined && rate === Math.min(...o.rates) ? profDir : undefined;
    const w = await startWatch(`loss-${rate}`, o, prof);
    const rcvbuf = await granted(w.hepPort);
    const k0 = kernelSocket(w.hepPort)?.drops ?? 0;
    const c0 = cpuSeconds(w.child.pid);
    log(`loss: ${rate} pps, ${count} packets ...`);
    const sender = await blast(bin, file, w.hepPort, rate, count, o.seconds * 3 + 10);
    const t0 = Date.now();
    const m = await settle(w, 120_000);
    const settleSeconds = (Date.now() - t0) / 1000 - 1.5;
    const kernelDrops = (kernelSocket(w.hepPort)?.drops ?? 0) - k0;
    const hwmKib = vmHwmKib(w.child.pid);
    const cpu = cpuSeconds(w.child.pid) - c0;
    await stopWatch(w);
    const row = { rate, sender, metrics: m, kernelDrops, rcvbuf, hwmKib, settleSeconds, cpu };
    rows.push(row);
    log(
      `loss: ${rate} pps: sent ${sender.sent} at ${Math.round(sender.achievedRate)}/s, pipeline ${m.packetsHep}, shed ${m.droppedHep}, kernel drops ${kernelDrops}, settle ${settleSeconds.toFixed(1)} s`,
    );
  }
  return rows;
}

interface KindsRow {
  rate: number;
  sender: BlastResult;
  delivered: Partial<Record<TrafficKind, number>>;
  listener: {
    received: number;
    accepted: number;
    shedOptions: number;
    shedOverflow: number;
    /** Frames shed at the head of the queue for waiting past its delay bound. */
    shedDelay: number;
    rcvbuf: number[];
    /** Whether UDP was read by the listener's worker thread, and that thread's nice value. */
    udpWorker: boolean;
    udpWorkerNice: number | undefined;
  };
  kernelDrops: number;
}

/** In-process Sensor: counts the frames that reach the pipeline per kind of traffic. */
async function kindsUnderOverload(o: Options, bin: string, file: string): Promise<KindsRow[]> {
  const { Sensor } = await import('../src/watch/sensor.js');
  const { defaultConfig } = await import('../src/config/config.js');
  const rows: KindsRow[] = [];
  for (const rate of o.rates.filter((r) => r >= 100_000)) {
    const dir = join(OUT, `kinds-${rate}`);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const base = defaultConfig();
    const hepPort = await freePort();
    const sensor = new Sensor({
      config: {
        ...base,
        store: { ...base.store, path: join(dir, 'watch.db') },
        http: { ...base.http, listen: '' },
        sinks: { ...base.sinks, stdout: { enabled: false, format: 'text', revealPasswords: false } },
        ...(o.rmem !== undefined ? { sources: { ...base.sources, hep: { recvBufferBytes: o.rmem } } } : {}),
      } as typeof base,
    });
    const delivered: Partial<Record<TrafficKind, number>> = {};
    const frame = sensor.frame.bind(sensor);
    sensor.frame = (f) => {
      const k = kindOf(f.data);
      delivered[k] = (delivered[k] ?? 0) + 1;
      frame(f);
    };
    await sensor.start({ hep: [`udp://127.0.0.1:${hepPort}`] });
    const hep = (sensor as unknown as { sources: { stats(): Record<string, unknown> }[] }).sources[0]!;
    const k0 = kernelSocket(hepPort)?.drops ?? 0;
    const count = Math.min(o.max, Math.round(rate * o.seconds));
    log(`kinds: ${rate} pps in-process ...`);
    const sender = await blast(bin, file, hepPort, rate, count, o.seconds * 3 + 10);
    let before = -1;
    for (let i = 0; i < 480; i++) {
      await sleep(250);
      const st = hep.stats() as { accepted: number; queued: number };
      if (st.accepted === before && st.queued === 0) break;
      before = st.accepted;
    }
    const st = hep.stats() as {
      received: number;
      accepted: number;
      shed: { options: number; overflow: number; delay?: number };
      recvBufferBytes: number[];
      udpWorker?: boolean;
      udpWorkerNice?: number;
    };
    const kernelDrops = (kernelSocket(hepPort)?.drops ?? 0) - k0;
    await sensor.stop();
    rows.push({
      rate,
      sender,
      delivered,
      listener: {
        received: st.received,
        accepted: st.accepted,
        shedOptions: st.shed.options,
        shedOverflow: st.shed.overflow,
        shedDelay: st.shed.delay ?? 0,
        rcvbuf: st.recvBufferBytes,
        udpWorker: st.udpWorker === true,
        udpWorkerNice: st.udpWorkerNice,
      },
      kernelDrops,
    });
    log(
      `kinds: ${rate}: delivered ${JSON.stringify(delivered)}, shed ${JSON.stringify(st.shed)}, kernel ${kernelDrops}`,
    );
  }
  return rows;
}

const OPTIONS_RE = /^(?:OPTIONS |SIP\/2\.0 [^\r]*\r\n(?:[^\r]*\r\n)*?CSeq: \d+ OPTIONS)/;

/** Which kind of generated traffic a SIP payload belongs to (from the generator's markers). */
function kindOf(d: Buffer): TrafficKind {
  const s = d.toString('latin1', 0, Math.min(d.length, 600));
  if (OPTIONS_RE.test(s)) return 'options';
  if (s.includes('198.19.')) return 'brute';
  if (s.includes('198.18.')) return 'attack';
  if (s.includes('Via: SIP/2.0/UDP 10.')) return 'register';
  return 'flood';
}

const BRUTE_SOURCES = 40;

interface LatencyResult {
  rate: number;
  sender: BlastResult;
  samples: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  revisionsByRule: Record<string, number>;
  metrics: Metrics;
  kernelDrops: number;
}

function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function latency(o: Options, bin: string, rate: number): Promise<LatencyResult> {
  const seconds = 20;
  const file = join(OUT, 'brute.bin');
  writePacketFile(
    file,
    { ...MIX, scenario: 'brute', bruteSources: BRUTE_SOURCES, bruteShare: 0.1, seed: 3 },
    rate * seconds,
  );
  const w = await startWatch(`latency-${rate}`, o);
  const k0 = kernelSocket(w.hepPort)?.drops ?? 0;
  log(`latency: brute force under ${rate} pps for ${seconds} s ...`);
  const sender = await blast(bin, file, w.hepPort, rate, rate * seconds, seconds * 3);
  const m = await settle(w, 60_000);
  const kernelDrops = (kernelSocket(w.hepPort)?.drops ?? 0) - k0;
  await stopWatch(w);
  rmSync(file, { force: true });
  const db = new Database(join(OUT, `latency-${rate}`, 'watch.db'), { readonly: true });
  const rows = db
    .prepare('SELECT rule, last_seen_ms AS seen, stored_at_ms AS stored FROM alert_revisions')
    .all() as {
    rule: string;
    seen: number;
    stored: number;
  }[];
  db.close();
  const byRule: Record<string, number> = {};
  for (const r of rows) byRule[r.rule] = (byRule[r.rule] ?? 0) + 1;
  const lat = rows
    .filter((r) => r.rule === 'auth.bruteforce')
    .map((r) => r.stored - r.seen)
    .sort((a, b) => a - b);
  const res = {
    rate,
    sender,
    samples: lat.length,
    p50: pct(lat, 50),
    p90: pct(lat, 90),
    p99: pct(lat, 99),
    max: lat[lat.length - 1] ?? NaN,
    revisionsByRule: byRule,
    metrics: m,
    kernelDrops,
  };
  log(`latency: ${lat.length} samples, p50 ${res.p50} ms, p99 ${res.p99} ms, max ${res.max} ms`);
  return res;
}

interface MemoryResult {
  rate: number;
  sender: BlastResult;
  metrics: Metrics;
  kernelDrops: number;
  hwmKib: number;
  rssTrace: { s: number; kib: number }[];
}

async function memory(o: Options, bin: string, rate: number): Promise<MemoryResult> {
  const file = join(OUT, 'flood.bin');
  // 1,000,000 spoofed transactions (2 packets each) plus about 1 extension registration (4 packets)
  // per 20 of them, drawn at random: 0.5% more packets, so every one of the million sources is sent
  // (the first few thousand then send a second time).
  const count = Math.min(Math.round(2_000_000 * (44 / 40) * 1.005), Math.round(rate * o.floodSeconds));
  const kinds = writePacketFile(
    file,
    { scenario: 'flood', seed: 5, phones: 1000, attackers: 0, floodSources: 1_000_000 },
    count,
  );
  log(`memory: packet file ${JSON.stringify(kinds)}`);
  const w = await startWatch('memory', o);
  const k0 = kernelSocket(w.hepPort)?.drops ?? 0;
  const trace: { s: number; kib: number }[] = [];
  const t0 = Date.now();
  const poll = setInterval(() => {
    const kib = procStatusKib(w.child.pid, 'VmRSS');
    if (!Number.isNaN(kib)) trace.push({ s: (Date.now() - t0) / 1000, kib });
  }, 1000);
  log(`memory: flood at ${rate} pps, ${count} packets ...`);
  const sender = await blast(bin, file, w.hepPort, rate, count, o.floodSeconds);
  const m = await settle(w, 180_000);
  const kernelDrops = (kernelSocket(w.hepPort)?.drops ?? 0) - k0;
  const hwmKib = vmHwmKib(w.child.pid);
  clearInterval(poll);
  await stopWatch(w);
  rmSync(file, { force: true });
  log(
    `memory: VmHWM ${Math.round(hwmKib / 1024)} MiB, pipeline ${m.packetsHep}, kernel drops ${kernelDrops}`,
  );
  return { rate, sender, metrics: m, kernelDrops, hwmKib, rssTrace: trace };
}

// ---------------------------------------------------------------------------------------------
// CPU profile summary.

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  samples: number[];
  timeDeltas: number[];
}

function profileSummary(dir: string, top: number): { fn: string; pct: number }[][] {
  const f = readdirSync(dir).find((n) => n.endsWith('.cpuprofile'));
  if (f === undefined) return [[], []];
  const p = JSON.parse(readFileSync(join(dir, f), 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n.callFrame]));
  const self = new Map<string, number>();
  const files = new Map<string, number>();
  let total = 0;
  p.samples.forEach((id, i) => {
    const dt = p.timeDeltas[i] ?? 0;
    const cf = byId.get(id);
    if (cf === undefined) return;
    total += dt;
    const file = cf.url.replace(/^file:\/\/.*?\/dist\//, '').replace(/^node:/, 'node:') || '(native/vm)';
    const key = `${cf.functionName || '(anonymous)'} ${file}:${cf.lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + dt);
    files.set(file, (files.get(file) ?? 0) + dt);
  });
  const rank = (m: Map<string, number>) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([fn, t]) => ({ fn, pct: (100 * t) / total }));
  return [rank(self), rank(files)];
}

// ---------------------------------------------------------------------------------------------
// The report section.

const int = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '—');
const pc = (n: number, d: number): string => (d > 0 ? `${((100 * n) / d).toFixed(2)}%` : '—');

interface Report {
  date: string;
  machine: string;
  rmemMax: number;
  rmemNote: string;
  asked: number;
  loss?: LossRow[];
  kinds?: KindsRow[];
  lat?: LatencyResult[];
  mem?: MemoryResult;
  prof?: { fn: string; pct: number }[][];
  profRate?: number;
  commands: string[];
}

function render(r: Report): string {
  const L: string[] = [];
  L.push(BEGIN);
  L.push('## Live sensor: `sipwarden watch` fed HEP over UDP');
  L.push('');
  L.push(
    `Generated by \`npm run bench:watch\` (bench/watch.ts) on ${r.date}; ${r.machine}. ` +
      'The receiver is `sipwarden watch` spawned as its own process (`node bin/sipwarden.js watch --hep udp://127.0.0.1:PORT --db FILE --http 127.0.0.1:PORT --quiet`), ' +
      'except for the per-kind table, which runs the same `Sensor` in the benchmark process to count frames per kind. ' +
      'The sender is a separate process (bench/hep-blast.ts: packets generated beforehand by bench/sip-traffic.ts and bench/hep-encode.ts, sent by a small C program with sendmmsg, paced per 1 ms tick, ' +
      'each HEP3 packet stamped with its send time). Both run on the same 2 cores, so the sender takes one core away from the watch.',
  );
  L.push('');
  L.push(
    `Socket buffer: the HEP listener asks SO_RCVBUF = ${int(r.asked)} bytes; net.core.rmem_max = ${int(r.rmemMax)} (${r.rmemNote}); ` +
      'the kernel grants min(asked, rmem_max) and books twice that (the `rb` of `ss -m`, shown as "granted" below).',
  );
  L.push('');
  L.push(
    'Traffic (background mix): per transaction 55% OPTIONS keepalives from the PBX to one of 5,000 phones answered 200, 25% phone registrations ' +
      '(REGISTER, 401, REGISTER with credentials, 200), 20% password guesses (REGISTER with credentials answered 401) from 5 attackers; about 500 bytes per HEP packet.',
  );
  L.push('');
  if (r.loss !== undefined) {
    L.push('### Loss curve');
    L.push('');
    L.push(
      '"Pipeline" is `sipwarden_packets_total{source="hep"}` (frames the listener handed on), "shed" is `sipwarden_dropped_total{stage="source:hep"}`, ' +
        '"kernel drops" is the drops column of /proc/net/udp for the listener socket (receive buffer full), "lost" is sent − pipeline − shed. ' +
        '"Catch-up" is how long after the sender stopped the watch was still handing on queued packets. ' +
        'The listener reads UDP in a worker thread (src/sources/hep-udp-worker.ts), which sheds arriving OPTIONS keepalives once the main thread is ' +
        'HEP_UDP_BACKLOG_OPTIONS_PACKETS behind and every packet past HEP_UDP_BACKLOG_MAX_PACKETS, so what it sheds is counted; kernel drops are what even that thread did not read in time. ' +
        'While more than HEP_LISTEN_DELAY_MIN_QUEUE frames wait, the main thread sheds, unprocessed, OPTIONS keepalives that waited longer than half of HEP_LISTEN_MAX_QUEUE_DELAY_MS (50 ms) and any other frame that waited longer than all of it (counted in "shed" too). ' +
        '"Watch CPU s" counts every thread of the process, the UDP thread included.',
    );
    L.push('');
    L.push(
      '| asked pps | sent | achieved pps | pipeline | shed | kernel drops | lost | loss | catch-up s | granted rb | watch CPU s | pipeline pkt per CPU s | watch peak RSS MiB |',
    );
    L.push('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const x of r.loss) {
      const lost = x.sender.sent - x.metrics.packetsHep - x.metrics.droppedHep;
      L.push(
        `| ${int(x.rate)} | ${int(x.sender.sent)} | ${int(x.sender.achievedRate)} | ${int(x.metrics.packetsHep)} | ${int(x.metrics.droppedHep)} | ${int(x.kernelDrops)} | ${int(lost)} | ${pc(lost + x.metrics.droppedHep, x.sender.sent)} | ${Math.max(0, x.settleSeconds).toFixed(1)} | ${x.rcvbuf === undefined ? '—' : int(x.rcvbuf)} | ${x.cpu.toFixed(1)} | ${int(x.metrics.packetsHep / x.cpu)} | ${int(x.hwmKib / 1024)} |`,
      );
    }
    L.push('');
  }
  if (r.kinds !== undefined && r.kinds.length > 0) {
    L.push('### What is lost under overload, per kind (in-process Sensor)');
    L.push('');
    L.push('| asked pps | kind | sent | reached the pipeline | lost |');
    L.push('|---:|---|---:|---:|---:|');
    for (const x of r.kinds) {
      for (const [k, n] of Object.entries(x.sender.byKind)) {
        const d = x.delivered[k as TrafficKind] ?? 0;
        L.push(`| ${int(x.rate)} | ${k} | ${int(n)} | ${int(d)} | ${pc(n - d, n)} |`);
      }
    }
    L.push('');
    for (const x of r.kinds) {
      L.push(
        `- ${int(x.rate)} pps: listener received ${int(x.listener.received)} datagrams, handed on ${int(x.listener.accepted)}, shed ${int(x.listener.shedOptions)} OPTIONS (in the UDP thread past its backlog bound, or in the queue past half its delay bound), ${int(x.listener.shedOverflow)} others past the backlog bounds and ${int(x.listener.shedDelay)} others for waiting past the queue's delay bound; the kernel dropped ${int(x.kernelDrops)} (SO_RCVBUF granted ${x.listener.rcvbuf.map(int).join(', ')}; ` +
          `${x.listener.udpWorker ? `UDP read by the worker thread${x.listener.udpWorkerNice === undefined ? '' : ` at nice ${x.listener.udpWorkerNice}`}` : 'UDP read on the main thread'}).`,
      );
    }
    L.push('');
  }
  if (r.lat !== undefined && r.lat.length > 0) {
    L.push('### Packet to stored alert');
    L.push('');
    L.push(
      `A brute force from ${BRUTE_SOURCES} sources, each guessing one identity (REGISTER with credentials answered 401), mixed into the background mix ` +
        '(one transaction in ten is a guess), sent for 20 s. ' +
        'Each HEP packet carries its send time as capture time, which becomes the event time; the revision an auth.bruteforce alert gets (at 5, 10, 20, 40 rejections) has ' +
        '`last_seen_ms` = the capture time of the 401 that caused it, and the store writes `stored_at_ms` from the wall clock in the same synchronous transaction ' +
        '(read back from SQLite after the run). Latency = stored_at_ms − last_seen_ms, both whole milliseconds on the same clock (±1 ms).',
    );
    L.push('');
    L.push(
      '| total pps asked | achieved | guesses sent | packets reaching the pipeline | kernel drops | auth.bruteforce revisions (samples) | p50 ms | p90 ms | p99 ms | max ms |',
    );
    L.push('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const x of r.lat) {
      L.push(
        `| ${int(x.rate)} | ${int(x.sender.achievedRate)} | ${int((x.sender.byKind.brute ?? 0) / 2)} | ${int(x.metrics.packetsHep)} of ${int(x.sender.sent)} | ${int(x.kernelDrops)} | ${x.samples} | ${x.p50} | ${x.p90} | ${x.p99} | ${x.max} |`,
      );
    }
    L.push('');
    for (const x of r.lat) {
      L.push(
        `- ${int(x.rate)} pps: revisions stored by rule: ${Object.entries(x.revisionsByRule)
          .sort((a, b) => b[1] - a[1])
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')}.`,
      );
    }
    L.push('');
  }
  if (r.mem !== undefined) {
    const x = r.mem;
    L.push('### Memory under a spoofed flood');
    L.push('');
    const peakAt = x.rssTrace.reduce((a, b) => (b.kib > a.kib ? b : a), { s: 0, kib: 0 });
    L.push(
      `1,000 extensions registering normally (REGISTER, 401, REGISTER with credentials, 200; one registration per 20 flood transactions) under a flood from spoofed ` +
        `sources in 100.64.0.0/10, each sending one REGISTER with credentials answered 401 (the full test is 1,000,000 sources = 2,200,000 packets; this run sent ` +
        `${int((x.sender.byKind.flood ?? 0) / 2)} spoofed sources' transactions, bounded by --flood-seconds): ${int(x.sender.sent)} packets at ${int(x.rate)} pps asked, ${int(x.sender.achievedRate)} achieved, ` +
        `${int(x.metrics.packetsHep)} reached the pipeline, ${int(x.metrics.droppedHep)} shed, ${int(x.kernelDrops)} kernel drops. ` +
        `Peak RSS of the watch process (VmHWM from /proc/PID/status): **${int(x.hwmKib / 1024)} MiB** (RSS sampled each second peaked at ${int(peakAt.kib / 1024)} MiB after ${peakAt.s.toFixed(0)} s).`,
    );
    L.push('');
    L.push(
      `RSS over time (s: MiB): ${x.rssTrace
        .filter((_, i) => i % 10 === 0)
        .map((t) => `${t.s.toFixed(0)}: ${int(t.kib / 1024)}`)
        .join(', ')}.`,
    );
    L.push('');
  }
  if (r.prof !== undefined && r.prof[0]!.length > 0) {
    L.push(`### Where the watch spends its time (\`node --cpu-prof\`, the ${int(r.profRate ?? 0)} pps run)`);
    L.push('');
    L.push('| self time | function |');
    L.push('|---:|---|');
    for (const x of r.prof[0]!) L.push(`| ${x.pct.toFixed(1)}% | \`${x.fn}\` |`);
    L.push('');
    L.push('| self time | file |');
    L.push('|---:|---|');
    for (const x of r.prof[1]!) L.push(`| ${x.pct.toFixed(1)}% | \`${x.fn}\` |`);
    L.push('');
  }
  L.push('### Targets');
  L.push('');
  const ok = (b: boolean): string => (b ? 'met' : '**missed**');
  const at100 = r.loss?.find((x) => x.rate === 100_000);
  if (at100 !== undefined) {
    const lost = at100.sender.sent - at100.metrics.packetsHep;
    L.push(
      `- No loss at 100,000 pps: ${ok(lost === 0 && at100.sender.achievedRate >= 99_000)} (${int(lost)} of ${int(at100.sender.sent)} lost or shed, ${pc(lost, at100.sender.sent)}).`,
    );
  }
  if (r.kinds !== undefined && r.kinds.length > 0) {
    // Met only when the listener itself shed (and counted) OPTIONS, in its UDP thread or in its
    // queue, and they lost clearly more than the rest.
    const shedCounted = r.kinds.every((x) => x.listener.shedOptions > 0);
    const worst = r.kinds[r.kinds.length - 1]!;
    const lossOf = (k: TrafficKind): number => {
      const n = worst.sender.byKind[k] ?? 0;
      return n === 0 ? 0 : (n - (worst.delivered[k] ?? 0)) / n;
    };
    const before =
      lossOf('options') > lossOf('register') + 0.05 && lossOf('options') > lossOf('attack') + 0.05;
    L.push(
      `- OPTIONS shed before authentication traffic under overload, and counted: ${ok(before && shedCounted)} at ${int(worst.rate)} pps ` +
        `(OPTIONS lost ${(100 * lossOf('options')).toFixed(1)}%, registrations ${(100 * lossOf('register')).toFixed(1)}%, guesses ${(100 * lossOf('attack')).toFixed(1)}%; ` +
        `the listener shed ${int(worst.listener.shedOptions)} OPTIONS, ${int(worst.listener.shedOverflow)} others past its backlog bound and ${int(worst.listener.shedDelay)} others past its delay bound, the kernel dropped ${int(worst.kernelDrops)} uncounted by sipwarden's metrics).`,
    );
  }
  for (const x of r.lat ?? [])
    L.push(
      `- p99 packet-to-stored-alert under 100 ms, ${int(x.rate)} pps of load: ${ok(x.p99 < 100)} (${x.p99} ms over ${x.samples} revisions).`,
    );
  if (r.mem !== undefined)
    L.push(
      `- Memory under 512 MB with 1,000 extensions and 1,000,000 spoofed sources: ${(r.mem.sender.byKind.flood ?? 0) / 2 < 1_000_000 ? `**not measured at full size** (${int((r.mem.sender.byKind.flood ?? 0) / 2)} spoofed sources sent, of which the watch saw about ${pc(r.mem.metrics.packetsHep, r.mem.sender.sent)}); at that size ` : ''}${ok(r.mem.hwmKib * 1024 < 512e6)} (${int(r.mem.hwmKib / 1024)} MiB = ${int((r.mem.hwmKib * 1024) / 1e6)} MB).`,
    );
  L.push('');
  L.push('Commands (from the project root):');
  L.push('');
  L.push('```');
  for (const c of r.commands) L.push(c);
  L.push('```');
  L.push(END);
  return L.join('\n');
}

/** Replaces the watch section of `doc` (or appends it). */
export function spliceSection(doc: string, section: string): string {
  const b = doc.indexOf(BEGIN);
  const e = doc.indexOf(END);
  if (b >= 0 && e > b) return `${doc.slice(0, b)}${section}${doc.slice(e + END.length)}`;
  return `${doc.replace(/\n*$/, '\n\n')}${section}\n`;
}

async function main(args: string[]): Promise<number> {
  const o = parseOptions(args);
  const want = (what: string): boolean => o.only.size === 0 || o.only.has(what);
  mkdirSync(OUT, { recursive: true });
  const bin = buildBlaster(OUT);
  if (bin === undefined) throw new Error('cannot compile the C sender (is cc installed?)');
  let rmemNote = 'the system setting, not changed';
  if (o.rmem !== undefined) {
    const before = readRmem();
    if (raiseRmem(o.rmem))
      rmemNote = `raised from ${int(before)} with \`sysctl -w net.core.rmem_max=${o.rmem}\` for the run and restored after`;
    else {
      rmemNote = `could not be raised from ${int(before)} (no permission), so the ask is capped`;
      log(rmemNote);
    }
  }
  const report: Report = {
    date: new Date().toISOString(),
    machine: `${(/^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpus()[0]?.model ?? '').trim()}, nproc ${cpus().length}, Linux ${release()}, Node ${process.version}, load average at start ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
    rmemMax: readRmem(),
    rmemNote,
    asked: o.rmem ?? 8 * 1024 * 1024,
    commands: [`npm run bench:watch -- ${args.join(' ')}`.trim()],
  };
  try {
    let file: string | undefined;
    if (want('loss') || want('kinds')) {
      file = join(OUT, 'mix.bin');
      const n = Math.min(o.max, Math.round(Math.max(...o.rates) * o.seconds));
      log(`writing ${n} packets of background mix ...`);
      writePacketFile(file, MIX, n);
    }
    if (want('loss') && file !== undefined) {
      const profDir = o.cpuProf ? join(OUT, 'profile') : undefined;
      if (profDir !== undefined) {
        rmSync(profDir, { recursive: true, force: true });
        mkdirSync(profDir, { recursive: true });
      }
      report.loss = await lossCurve(o, bin, file, profDir);
      if (profDir !== undefined) {
        report.prof = profileSummary(profDir, 15);
        report.profRate = Math.min(...o.rates);
      }
      report.commands.push(
        `${bin} ${file} PORT RATE COUNT MAXSECONDS    # the sender, one run per rate`,
        `node${o.cpuProf ? ` --cpu-prof --cpu-prof-dir ${OUT}/profile` : ''} bin/sipwarden.js watch --hep udp://127.0.0.1:PORT --db ${OUT}/loss-RATE/watch.db --http 127.0.0.1:PORT --quiet${o.rmem !== undefined ? ` --config ${OUT}/loss-RATE/watch.yaml` : ''}`,
        `curl http://127.0.0.1:PORT/metrics; ss -u -a -n -m sport = :PORT; cat /proc/net/udp; grep VmHWM /proc/PID/status`,
      );
    }
    if (want('kinds') && file !== undefined) report.kinds = await kindsUnderOverload(o, bin, file);
    if (want('latency')) {
      report.lat = [];
      for (const rate of o.latencyRates) report.lat.push(await latency(o, bin, rate));
      report.commands.push(
        `sqlite3 ${OUT}/latency-RATE/watch.db "SELECT stored_at_ms - last_seen_ms FROM alert_revisions WHERE rule = 'auth.bruteforce'"`,
      );
    }
    if (want('memory')) {
      let rate = o.floodRate;
      if (rate === undefined) {
        // The highest lossless rate of the curve, else the throughput the watch showed there.
        const ok = (report.loss ?? []).filter(
          (x) => x.sender.sent - x.metrics.packetsHep <= x.sender.sent * 0.001,
        );
        const seen = (report.loss ?? []).map(
          (x) => x.metrics.packetsHep / (x.sender.seconds + Math.max(0, x.settleSeconds)),
        );
        rate =
          ok.length > 0
            ? Math.max(...ok.map((x) => x.rate))
            : seen.length > 0
              ? Math.max(1000, Math.round(Math.max(...seen) / 1000) * 1000)
              : 5_000;
      }
      report.mem = await memory(o, bin, rate);
    }
  } finally {
    for (const c of children) c.kill('SIGKILL');
    restoreRmem();
    if (file_exists(join(OUT, 'mix.bin'))) rmSync(join(OUT, 'mix.bin'), { force: true });
  }
  const section = render(report);
  const doc = existsSync(o.out) ? readFileSync(o.out, 'utf8') : '# Benchmarks\n';
  mkdirSync(dirname(o.out), { recursive: true });
  writeFileSync(o.out, spliceSection(doc, section));
  writeFileSync(
    join(OUT, `results-${report.date.replace(/[:.]/g, '-')}.json`),
    `${JSON.stringify(report, null, 2)}\n`,
  );
  log(`wrote the watch section of ${o.out}`);
  return 0;
}

function file_exists(p: string): boolean {
  return existsSync(p);
}

process.chdir(join(dirname(fileURLToPath(import.meta.url)), '..', '..'));
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`bench:watch: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    restoreRmem();
    process.exitCode = 2;
  },
);
