/**
 * `npm run bench`: builds (or reuses) the benchmark captures, then on each one times, as child
 * processes, the raw read of the file (`cat`, and our streaming reader without decoding), the
 * whole pipeline (`sipwarden analyze FILE --format json`) and tshark decoding the same SIP
 * (`tshark -r FILE -Y sip -T fields -e sip.Method -e sip.Call-ID`). It measures wall time, CPU
 * time and peak RSS (with `/usr/bin/time -v` when installed, else by polling /proc), checks that
 * every tool saw the SIP messages the generator wrote, and writes docs/benchmarks.md, keeping
 * the live-sensor section between `<!-- watch:begin -->` and `<!-- watch:end -->` (bench/watch.ts) as it was.
 *
 * Options: --repeat N (runs of each command, default 1), --only NAME (one capture), --no-tshark,
 * --messages N (capture size), --force (rebuild captures), --timeout S (per command, default 600),
 * --check (exit 1 when a target is missed), --out FILE (default docs/benchmarks.md).
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_MESSAGES, ensureCaptures, MIXES, OUT_DIR, type CaptureManifest } from './make-captures.js';
import { procStatusKib } from './proc.js';

/** The issue's targets. */
const TARGET_RATIO = 10;
const TARGET_RATE = 500_000;
/** The issue asks for peak RSS under 300 MB: decimal megabytes, 286.1 MiB. */
const TARGET_RSS_BYTES = 300e6;
const TARGET_RSS_MIB = TARGET_RSS_BYTES / 1048576;

const TIME_BIN = '/usr/bin/time';

/** Process group of the command being measured, stopped if the benchmark is interrupted. */
let running: number | undefined;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    if (running !== undefined) process.kill(-running, 'SIGKILL');
    process.exit(130);
  });
}

/** One timed run of one command. */
interface Run {
  wallSeconds: number;
  userSeconds: number;
  systemSeconds: number;
  maxRssKib: number;
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  /** 1-minute load average just before the run (other jobs share the cores). */
  loadBefore: number;
  stderr: string;
}

/** A command of the benchmark and its runs on one capture. */
interface Step {
  id: 'cat' | 'read' | 'analyze' | 'tshark';
  label: string;
  /** The command as a shell would show it. */
  display: string;
  runs: Run[];
}

interface CaptureResult {
  manifest: CaptureManifest;
  steps: Step[];
  /** SIP messages each tool reported (the generator's count is manifest.sipMessages). */
  seen: { analyzeSip?: number; analyzePackets?: number; readFrames?: number; tsharkLines?: number };
  alerts?: { total: number; byRule: Record<string, number> };
  /** CPU per pipeline stage on the capture's first STAGE_FRAMES frames (bench/stages.ts). */
  stages?: { messages: number; rows: { stage: string; cpu: number }[] };
  problems: string[];
}

/** Frames of each capture the per-stage breakdown runs on (each stage reruns the input). */
const STAGE_FRAMES = 100_000;

interface Options {
  repeat: number;
  only: string | undefined;
  tshark: boolean;
  messages: number;
  force: boolean;
  timeoutSeconds: number;
  check: boolean;
  out: string;
}

function parseOptions(args: string[]): Options {
  const o: Options = {
    repeat: 1,
    only: undefined,
    tshark: true,
    messages: DEFAULT_MESSAGES,
    force: false,
    timeoutSeconds: 600,
    check: false,
    out: 'docs/benchmarks.md',
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const next = (): string => {
      const v = args[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--repeat') o.repeat = positive(a, next());
    else if (a === '--only') o.only = next();
    else if (a === '--no-tshark') o.tshark = false;
    else if (a === '--messages') o.messages = positive(a, next());
    else if (a === '--force') o.force = true;
    else if (a === '--timeout') o.timeoutSeconds = positive(a, next());
    else if (a === '--check') o.check = true;
    else if (a === '--out') o.out = next();
    else throw new Error(`unknown option ${a}`);
  }
  if (o.only !== undefined && !MIXES.some((m) => m.name === o.only)) {
    throw new Error(`--only: no capture named ${o.only} (${MIXES.map((m) => m.name).join(', ')})`);
  }
  return o;
}

function positive(name: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer (got ${v})`);
  return n;
}

// ---------------------------------------------------------------------------------------------
// Running and measuring a child process.

/**
 * Runs `argv` with stdout to `stdoutPath` and measures it. Under /usr/bin/time the figures are
 * the kernel's (wait4 rusage); without it peak RSS and CPU come from polling /proc every 20 ms.
 * The child runs in its own process group so a timeout can stop it and its children.
 */
async function measure(
  argv: readonly string[],
  stdoutPath: string,
  timeoutMs: number,
  haveTime: boolean,
): Promise<Run> {
  const stats = join(OUT_DIR, `time-${process.pid}.txt`);
  const out = openSync(stdoutPath, 'w');
  const loadBefore = loadavg()[0] ?? 0;
  const cmd = haveTime ? [TIME_BIN, '-v', '-o', stats, ...argv] : [...argv];
  const t0 = process.hrtime.bigint();
  const child = spawn(cmd[0]!, cmd.slice(1), { stdio: ['ignore', out, 'pipe'], detached: true });
  closeSync(out);
  running = child.pid;
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (d: string) => {
    if (stderr.length < 8192) stderr += d;
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
  }, timeoutMs);
  const polled = { rssKib: 0, user: 0, system: 0 };
  const poller = haveTime ? undefined : setInterval(() => pollProc(child.pid, polled), 20);
  const { code, signal } = await new Promise<{ code: number | null; signal: string | null }>((res, rej) => {
    child.on('error', rej);
    child.on('close', (c, s) => res({ code: c, signal: s }));
  });
  const wallSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
  running = undefined;
  clearTimeout(timer);
  if (poller !== undefined) clearInterval(poller);
  const run: Run = {
    wallSeconds,
    userSeconds: polled.user,
    systemSeconds: polled.system,
    maxRssKib: polled.rssKib,
    exitCode: code,
    signal,
    timedOut,
    loadBefore,
    stderr: stderr.trim(),
  };
  if (haveTime && existsSync(stats)) {
    const text = readFileSync(stats, 'utf8');
    rmSync(stats);
    run.userSeconds = field(text, 'User time (seconds)');
    run.systemSeconds = field(text, 'System time (seconds)');
    run.maxRssKib = field(text, 'Maximum resident set size (kbytes)');
    const status = /Exit status: (\d+)/.exec(text);
    if (status !== null) run.exitCode = Number(status[1]);
    const killed = /Command terminated by signal (\d+)/.exec(text);
    if (killed !== null) run.signal = `signal ${killed[1]}`;
  }
  return run;
}

function field(text: string, name: string): number {
  const m = new RegExp(`${name.replace(/[()]/g, '\\$&')}: ([0-9.]+)`).exec(text);
  return m === null ? NaN : Number(m[1]);
}

const CLOCK_TICKS = 100;

/** Fallback measurement: the child's VmHWM (peak RSS) and CPU ticks, read while it runs. */
function pollProc(pid: number | undefined, into: { rssKib: number; user: number; system: number }): void {
  if (pid === undefined) return;
  try {
    const hwm = procStatusKib(pid, 'VmHWM');
    if (!Number.isNaN(hwm)) into.rssKib = Math.max(into.rssKib, hwm);
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    into.user = Number(f[11]) / CLOCK_TICKS;
    into.system = Number(f[12]) / CLOCK_TICKS;
  } catch {
    // The process has just exited: keep the last reading.
  }
}

async function commandExists(name: string): Promise<boolean> {
  const r = await new Promise<number | null>((res) => {
    const c = spawn('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    c.on('error', () => res(1));
    c.on('close', res);
  });
  return r === 0;
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

// ---------------------------------------------------------------------------------------------
// The benchmark.

interface Machine {
  date: string;
  cpuModel: string;
  nproc: number;
  memGiB: number;
  kernel: string;
  node: string;
  tshark: string;
  timer: string;
  loadAtStart: number[];
  /** The sipwarden measured: commit, and whether src/ had uncommitted changes. */
  commit: string;
}

async function machine(haveTime: boolean, tshark: boolean): Promise<Machine> {
  let cpuModel = cpus()[0]?.model ?? 'unknown';
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m !== null) cpuModel = m[1]!.trim();
  } catch {
    // Not Linux: keep os.cpus().
  }
  const nproc = Number(await output(['nproc'])) || cpus().length;
  const head = await output(['git', 'rev-parse', '--short', 'HEAD']);
  const dirty = (await output(['git', 'status', '--porcelain', '--', 'src', 'bin'])) !== '';
  const tsharkVersion = tshark ? ((await output(['tshark', '--version'])).split('\n')[0] ?? '') : 'not run';
  return {
    date: new Date().toISOString(),
    cpuModel,
    nproc,
    memGiB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    node: process.version,
    tshark: tsharkVersion,
    timer: haveTime ? `${TIME_BIN} -v (kernel rusage)` : '/proc polling every 20 ms (no /usr/bin/time)',
    loadAtStart: loadavg().map((x) => Math.round(x * 100) / 100),
    commit: head === '' ? 'unknown' : `${head}${dirty ? ' with uncommitted changes in src/ or bin/' : ''}`,
  };
}

async function benchCapture(m: CaptureManifest, o: Options, haveTime: boolean): Promise<CaptureResult> {
  const file = m.file;
  const analyzeOut = join(OUT_DIR, `${m.name}.analyze.json`);
  const tsharkOut = join(OUT_DIR, `${m.name}.tshark.tsv`);
  const readOut = join(OUT_DIR, `${m.name}.read.json`);
  const node = process.execPath;
  const plan: { step: Step; argv: string[]; stdout: string }[] = [
    {
      step: { id: 'cat', label: 'raw read: cat', display: `cat ${file} > /dev/null`, runs: [] },
      argv: ['cat', file],
      stdout: '/dev/null',
    },
    {
      step: {
        id: 'read',
        label: 'raw read: our reader, no decoding',
        display: `node dist/bench/read-capture.js ${file} > ${readOut}`,
        runs: [],
      },
      argv: [node, 'dist/bench/read-capture.js', file],
      stdout: readOut,
    },
    {
      step: {
        id: 'analyze',
        label: 'sipwarden analyze (whole pipeline)',
        display: `node bin/sipwarden.js analyze ${file} --format json > ${analyzeOut}`,
        runs: [],
      },
      argv: [node, 'bin/sipwarden.js', 'analyze', file, '--format', 'json'],
      stdout: analyzeOut,
    },
  ];
  if (o.tshark) {
    plan.push({
      step: {
        id: 'tshark',
        label: 'tshark',
        display: `tshark -r ${file} -Y sip -T fields -e sip.Method -e sip.Call-ID > ${tsharkOut}`,
        runs: [],
      },
      argv: ['tshark', '-r', file, '-Y', 'sip', '-T', 'fields', '-e', 'sip.Method', '-e', 'sip.Call-ID'],
      stdout: tsharkOut,
    });
  }
  const result: CaptureResult = { manifest: m, steps: plan.map((p) => p.step), seen: {}, problems: [] };
  for (let rep = 1; rep <= o.repeat; rep++) {
    for (const p of plan) {
      log(`${m.name}: ${p.step.label}, run ${rep}/${o.repeat} ...`);
      const run = await measure(p.argv, p.stdout, o.timeoutSeconds * 1000, haveTime);
      p.step.runs.push(run);
      log(
        `${m.name}: ${p.step.label}: ${run.wallSeconds.toFixed(2)} s wall, ${(run.userSeconds + run.systemSeconds).toFixed(2)} s CPU, ` +
          `${(run.maxRssKib / 1024).toFixed(0)} MiB peak RSS, load ${run.loadBefore.toFixed(1)}`,
      );
      if (run.timedOut)
        result.problems.push(`${p.step.label} run ${rep} timed out after ${o.timeoutSeconds} s`);
      else if (run.exitCode !== 0 || run.signal !== null) {
        result.problems.push(
          `${p.step.label} run ${rep} failed (exit ${run.exitCode}, ${run.signal ?? 'no signal'}): ${run.stderr.slice(0, 300)}`,
        );
      }
    }
  }
  // What each tool saw, from the last run's output.
  try {
    const r = JSON.parse(readFileSync(readOut, 'utf8')) as { frames: number };
    result.seen.readFrames = r.frames;
  } catch {
    result.problems.push('our reader printed no result');
  }
  try {
    const doc = JSON.parse(readFileSync(analyzeOut, 'utf8')) as {
      summary: { sipMessages: number; packets: number };
      alerts: { rule: string }[];
    };
    result.seen.analyzeSip = doc.summary.sipMessages;
    result.seen.analyzePackets = doc.summary.packets;
    const byRule: Record<string, number> = {};
    for (const a of doc.alerts) byRule[a.rule] = (byRule[a.rule] ?? 0) + 1;
    result.alerts = { total: doc.alerts.length, byRule };
  } catch {
    result.problems.push('sipwarden analyze printed no JSON document');
  }
  const lines = o.tshark ? await countLines(tsharkOut) : undefined;
  if (lines !== undefined) result.seen.tsharkLines = lines;
  const expect = (what: string, got: number | undefined, want: number): void => {
    if (got !== undefined && got !== want)
      result.problems.push(`${what}: ${got}, the generator wrote ${want}`);
  };
  expect('SIP messages in the sipwarden summary', result.seen.analyzeSip, m.sipMessages);
  expect('packets in the sipwarden summary', result.seen.analyzePackets, m.frames);
  expect('frames read by our reader', result.seen.readFrames, m.frames);
  expect('SIP messages tshark printed', result.seen.tsharkLines, m.sipMessages);
  const stages = await stagesOf(m);
  if (stages !== undefined) result.stages = stages;
  return result;
}

/**
 * Where analyze's time goes: the first STAGE_FRAMES frames cut with editcap (Wireshark's, installed
 * with tshark) and run through bench/stages.ts, best of two runs per stage. Undefined without editcap.
 */
async function stagesOf(m: CaptureManifest): Promise<NonNullable<CaptureResult['stages']> | undefined> {
  if (!(await commandExists('editcap'))) return undefined;
  const slice = join(OUT_DIR, `${m.name}.slice.pcap`);
  log(`${m.name}: stages on the first ${int(STAGE_FRAMES)} frames ...`);
  await output(['editcap', '-r', m.file, slice, `1-${STAGE_FRAMES}`]);
  const out = await output([
    process.execPath,
    '--expose-gc',
    'dist/bench/stages.js',
    slice,
    '--repeat',
    '2',
    '--json',
  ]);
  rmSync(slice, { force: true });
  try {
    const r = JSON.parse(out.split('\n').pop() ?? '') as {
      messages: number;
      rows: { stage: string; cpu: number }[];
    };
    return { messages: r.messages, rows: r.rows };
  } catch {
    return undefined;
  }
}

async function countLines(path: string): Promise<number | undefined> {
  if (!existsSync(path)) return undefined;
  const { createReadStream } = await import('node:fs');
  let n = 0;
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    for (let i = chunk.indexOf(0x0a); i >= 0; i = chunk.indexOf(0x0a, i + 1)) n++;
  }
  return n;
}

// ---------------------------------------------------------------------------------------------
// The report.

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

const int = (n: number): string => Math.round(n).toLocaleString('en-US');
const fixed = (n: number, d = 2): string => (Number.isFinite(n) ? n.toFixed(d) : '—');

interface StepFigures {
  wall: number;
  walls: number[];
  cpu: number;
  rssMib: number;
  rate: number;
  mbps: number;
}

function figures(step: Step, m: CaptureManifest): StepFigures {
  const walls = step.runs.map((r) => r.wallSeconds);
  const wall = median(walls);
  return {
    wall,
    walls,
    cpu: median(step.runs.map((r) => r.userSeconds + r.systemSeconds)),
    rssMib: Math.max(...step.runs.map((r) => r.maxRssKib)) / 1024,
    rate: m.sipMessages / wall,
    mbps: m.bytes / 1e6 / wall,
  };
}

function renderMarkdown(machineInfo: Machine, results: readonly CaptureResult[], o: Options): string {
  const L: string[] = [];
  L.push('# Benchmarks');
  L.push('');
  L.push(
    '<!-- Generated file: written by `npm run bench` (bench/run.ts). Do not edit by hand; regenerate with `npm run bench`. -->',
  );
  L.push('');
  L.push(
    `Generated by \`npm run bench\` (bench/run.ts) on ${machineInfo.date}. Regenerate with \`npm run bench\` ` +
      '(options after `--`: `--repeat N`, `--only office|attack`, `--messages N`, `--force`); the captures are ' +
      'rebuilt under `bench/out/` only when the generator or the lab captures change.',
  );
  L.push('');
  L.push(
    `Targets: at least ${TARGET_RATIO}× faster than tshark, at least ${int(TARGET_RATE)} SIP messages per second, ` +
      `peak RSS under ${TARGET_RSS_BYTES / 1e6} MB (${fixed(TARGET_RSS_MIB, 1)} MiB) whatever the file size.`,
  );
  L.push('');
  L.push('## Machine');
  L.push('');
  L.push(
    `- CPU: ${machineInfo.cpuModel}, \`nproc\` = ${machineInfo.nproc}; ${machineInfo.memGiB} GiB RAM; Linux ${machineInfo.kernel}`,
  );
  L.push(`- Node ${machineInfo.node}; ${machineInfo.tshark}`);
  L.push(`- sipwarden: commit ${machineInfo.commit}`);
  L.push(`- Measured with ${machineInfo.timer}; wall time from the parent process (\`process.hrtime\`).`);
  const loads = results.flatMap((r) => r.steps.flatMap((s) => s.runs.map((x) => x.loadBefore)));
  L.push(
    `- Load average at the start: ${machineInfo.loadAtStart.join(', ')} (1, 5, 15 min); before each run: ` +
      `${fixed(Math.min(...loads), 1)} to ${fixed(Math.max(...loads), 1)}. The machine is shared: a load above ` +
      `${machineInfo.nproc} means other jobs competed for the cores, and wall times are then longer than CPU times.`,
  );
  L.push(
    `- Runs of each command: ${o.repeat}${o.repeat > 1 ? ' (the tables give the median wall time; peak RSS is the largest)' : ''}.`,
  );
  L.push('');
  for (const r of results) {
    const m = r.manifest;
    const byId = new Map(r.steps.map((s) => [s.id, figures(s, m)]));
    const tshark = byId.get('tshark');
    const analyze = byId.get('analyze');
    L.push(`## ${m.name}: ${m.title}`);
    L.push('');
    L.push(
      `\`${m.file}\`: ${int(m.sipMessages)} SIP messages in ${int(m.frames)} frames (${fixed(m.bytes / 1e6, 0)} MB), ` +
        `${int(m.replicas)} replicas of ${m.parts.length} lab captures, ${m.benignPercent}% benign messages, ` +
        `${m.firstTime} to ${m.lastTime}; ${int(m.phoneAddresses)} phone and ${int(m.attackerAddresses)} attacker addresses.`,
    );
    L.push('');
    L.push('| command | wall s | SIP msg/s | MB/s | CPU s | peak RSS MiB | tshark time ÷ time |');
    L.push('|---|---:|---:|---:|---:|---:|---:|');
    for (const s of r.steps) {
      const f = byId.get(s.id)!;
      const walls = f.walls.length > 1 ? ` (${f.walls.map((w) => fixed(w)).join(', ')})` : '';
      const ratio = tshark === undefined ? '—' : `${fixed(tshark.wall / f.wall, 1)}×`;
      L.push(
        `| ${s.label} | ${fixed(f.wall)}${walls} | ${int(f.rate)} | ${fixed(f.mbps, 0)} | ${fixed(f.cpu)} | ${fixed(f.rssMib, 0)} | ${ratio} |`,
      );
    }
    L.push('');
    if (analyze !== undefined) {
      const ok = (b: boolean): string => (b ? 'met' : '**missed**');
      const parts: string[] = [];
      if (tshark !== undefined) {
        const ratio = tshark.wall / analyze.wall;
        parts.push(
          `${TARGET_RATIO}× tshark: ${ok(ratio >= TARGET_RATIO)} (${fixed(ratio, 1)}×; in CPU time ${fixed(tshark.cpu / analyze.cpu, 1)}×)`,
        );
      }
      parts.push(`${int(TARGET_RATE)} msg/s: ${ok(analyze.rate >= TARGET_RATE)} (${int(analyze.rate)})`);
      parts.push(
        `RSS < ${TARGET_RSS_BYTES / 1e6} MB: ${ok(analyze.rssMib < TARGET_RSS_MIB)} ` +
          `(${fixed(analyze.rssMib, 0)} MiB = ${fixed((analyze.rssMib * 1048576) / 1e6, 0)} MB)`,
      );
      L.push(`Targets for \`sipwarden analyze\`: ${parts.join('; ')}.`);
      L.push('');
    }
    const seen: string[] = [`the generator wrote ${int(m.sipMessages)}`];
    if (r.seen.analyzeSip !== undefined) seen.push(`sipwarden's summary counts ${int(r.seen.analyzeSip)}`);
    if (r.seen.tsharkLines !== undefined) seen.push(`tshark printed ${int(r.seen.tsharkLines)}`);
    if (r.seen.readFrames !== undefined) seen.push(`our reader read ${int(r.seen.readFrames)} frames`);
    L.push(`SIP messages: ${seen.join(', ')}.`);
    if (r.alerts !== undefined) {
      const rules = Object.entries(r.alerts.byRule)
        .sort((a, b) => b[1] - a[1])
        .map(([k, v]) => `${k} ${int(v)}`)
        .join(', ');
      L.push(`sipwarden raised ${int(r.alerts.total)} alerts${rules === '' ? '' : `: ${rules}`}.`);
    }
    for (const p of r.problems) L.push(`- **Problem:** ${p}`);
    L.push('');
    if (r.stages !== undefined && r.stages.messages > 0) {
      const st = r.stages;
      L.push(
        `Where the time goes: CPU per SIP message, stage by stage, on the first ${int(STAGE_FRAMES)} frames ` +
          `(${int(st.messages)} SIP messages; \`node --expose-gc dist/bench/stages.js FILE --repeat 2\`, best of two, ` +
          'one process; each row includes the ones above it; `--rules` adds one row per rule):',
      );
      L.push('');
      L.push('| stage | CPU s | µs per message | this stage µs |');
      L.push('|---|---:|---:|---:|');
      let prev = 0;
      for (const x of st.rows) {
        const us = (x.cpu * 1e6) / st.messages;
        // "all rules" includes the engine row above it; the stages are cumulative.
        L.push(`| ${x.stage} | ${fixed(x.cpu)} | ${fixed(us, 1)} | ${fixed(us - prev, 1)} |`);
        prev = us;
      }
      L.push('');
    }
    L.push('Commands (from the project root):');
    L.push('');
    L.push('```');
    for (const s of r.steps) L.push(s.display);
    L.push('```');
    L.push('');
  }
  L.push('## How the captures are made');
  L.push('');
  L.push(
    '`bench/make-captures.ts` replays the UDP SIP frames of the lab captures in `test/fixtures/captures/` ' +
      '(real SIPp, SIPVicious and sipsak traffic against Kamailio; see its INDEX.md) many times. Each replica ' +
      'keeps its internal timing and gets its own start time, and the replicas are merged in time order; the ' +
      'phone side moves to fresh addresses in 10.0.0.0/8 and the attacker side to 198.18.0.0/15 per replica ' +
      '(PBX and trunk addresses kept), with the IPv4 checksum recomputed and the UDP checksum zeroed; every ' +
      'Call-ID and Via branch gets a replica tag written in place over a few characters (same length; digits ' +
      'stay digits in all-digit values so tool fingerprints survive), and SDP media ports move per replica ' +
      '(same digits and parity), so replicas are distinct calls and transactions, not retransmissions. ICMP errors quoting SIP and the TCP/TLS captures are left out. The ' +
      'file is written by a streaming writer in constant memory.',
  );
  L.push('');
  for (const r of results) {
    const m = r.manifest;
    L.push(
      `${m.name} (${m.replicas.toLocaleString('en-US')} replicas, generated in ${m.generateSeconds} s):`,
    );
    L.push('');
    L.push('| lab capture | replicas | SIP messages |');
    L.push('|---|---:|---:|');
    for (const p of m.parts) L.push(`| ${p.capture} | ${int(p.replicas)} | ${int(p.sipMessages)} |`);
    L.push('');
  }
  return `${L.join('\n')}\n`;
}

const WATCH_BEGIN = '<!-- watch:begin -->';
const WATCH_END = '<!-- watch:end -->';

/** Carries over the live-sensor section (written by bench/watch.ts) from the existing file, untouched. */
function keepWatchSection(path: string, doc: string): string {
  const old = existsSync(path) ? readFileSync(path, 'utf8') : '';
  const b = old.indexOf(WATCH_BEGIN);
  const e = old.indexOf(WATCH_END);
  if (b < 0 || e < b) return doc;
  return `${doc.replace(/\n*$/, '\n\n')}${old.slice(b, e + WATCH_END.length)}\n`;
}

function log(line: string): void {
  process.stderr.write(`bench: ${line}\n`);
}

async function main(args: string[]): Promise<number> {
  const o = parseOptions(args);
  const haveTime = existsSync(TIME_BIN);
  if (!haveTime) log(`${TIME_BIN} not found (Debian package \`time\`): measuring by polling /proc instead`);
  if (o.tshark && !(await commandExists('tshark'))) {
    log('tshark not found: running without it (no ratio)');
    o.tshark = false;
  }
  mkdirSync(OUT_DIR, { recursive: true });
  const manifests = (await ensureCaptures({ messages: o.messages, force: o.force, log })).filter(
    (m) => o.only === undefined || m.name === o.only,
  );
  const info = await machine(haveTime, o.tshark);
  log(
    `${info.cpuModel}, nproc ${info.nproc}, node ${info.node}, ${info.tshark}, load ${info.loadAtStart.join(' ')}`,
  );
  const results: CaptureResult[] = [];
  for (const m of manifests) results.push(await benchCapture(m, o, haveTime));
  const stamp = info.date.replace(/[:.]/g, '-');
  mkdirSync(join(OUT_DIR, 'results'), { recursive: true });
  writeFileSync(
    join(OUT_DIR, 'results', `${stamp}.json`),
    `${JSON.stringify({ machine: info, options: o, results }, null, 2)}\n`,
  );
  mkdirSync(dirname(o.out), { recursive: true });
  writeFileSync(o.out, keepWatchSection(o.out, renderMarkdown(info, results, o)));
  log(`wrote ${o.out} and ${join(OUT_DIR, 'results', `${stamp}.json`)}`);
  let code = 0;
  for (const r of results) {
    for (const p of r.problems) {
      log(`${r.manifest.name}: PROBLEM: ${p}`);
      code = 1;
    }
    const byId = new Map(r.steps.map((s) => [s.id, figures(s, r.manifest)]));
    const a = byId.get('analyze')!;
    const t = byId.get('tshark');
    const line =
      `${r.manifest.name}: sipwarden ${int(a.rate)} msg/s, ${fixed(a.rssMib, 0)} MiB peak RSS` +
      (t === undefined
        ? ''
        : `, ${fixed(t.wall / a.wall, 1)}× tshark (${fixed(t.wall)} s vs ${fixed(a.wall)} s)`);
    log(line);
    const missed =
      a.rate < TARGET_RATE ||
      a.rssMib >= TARGET_RSS_MIB ||
      (t !== undefined && t.wall / a.wall < TARGET_RATIO);
    if (o.check && missed) code = 1;
  }
  return code;
}

process.chdir(join(dirname(fileURLToPath(import.meta.url)), '..', '..'));
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 2;
  },
);
