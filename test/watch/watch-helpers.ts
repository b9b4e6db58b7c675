/**
 * Shared pieces of the `sipwarden watch` end-to-end tests: the watch process as a child, a lab
 * Kamailio in a private runtime directory (optionally mirroring SIP as HEP), SIPVicious bound to one
 * loopback address, free ports, and polling with a deadline. Every wait here is bounded.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AlertJson } from '../../src/core/alert.js';

/** Why these tests cannot run here (a missing command), or undefined. */
export function missingTools(cmds: readonly string[]): string | undefined {
  for (const cmd of cmds) {
    const r = spawnSync('sh', ['-c', `command -v ${cmd}`]);
    if (r.status !== 0)
      return `${cmd} is not installed (see test/lab/README.md: apt-get install kamailio sipsak sipvicious tcpdump)`;
  }
  if (cmds.includes('svcrack') || cmds.includes('svwar')) {
    if (!existsSync('/usr/share/sipvicious/sipvicious'))
      return 'the Debian sipvicious package is not installed';
  }
  return undefined;
}

/** A private scratch directory (removed by the caller). */
export function tempDir(tag: string): string {
  return mkdtempSync(join(tmpdir(), `sw-watch-${tag}-`));
}

/** A UDP (or TCP) port on 127.0.0.1 that was free a moment ago. */
export async function freePort(kind: 'udp' | 'tcp' = 'udp'): Promise<number> {
  if (kind === 'udp') {
    const s = createSocket('udp4');
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
    const port = s.address().port;
    await new Promise<void>((r) => s.close(() => r()));
    return port;
  }
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const a = srv.address();
  const port = typeof a === 'object' && a !== null ? a.port : 0;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/** Sleeps `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `fn` until it returns a value other than undefined, or throws `what` after `ms`. */
export async function waitFor<T>(
  what: string,
  ms: number,
  fn: () => T | undefined | Promise<T | undefined>,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(100);
  }
}

/** A running `sipwarden watch`. */
export interface WatchProcess {
  readonly child: ChildProcess;
  /** Everything it wrote to standard error so far. */
  stderr(): string;
  /** Resolves with the exit code/signal. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Waits until standard error matches `re` (rejects on timeout or early exit). */
  waitErr(re: RegExp, ms: number): Promise<RegExpMatchArray>;
  /** SIGTERM and wait (SIGKILL after 8 s). */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILL and wait. */
  kill9(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Spawns `node bin/sipwarden.js watch ARGS` (cwd: the project root). */
export function spawnWatch(args: readonly string[]): WatchProcess {
  const child = spawn(process.execPath, ['bin/sipwarden.js', 'watch', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  let done: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d: string) => (err += d));
  child.stdout.resume();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => {
      done = { code, signal };
      resolve(done);
    });
  });
  const waitEnd = async (ms: number) => {
    const t = setTimeout(() => child.kill('SIGKILL'), ms);
    const r = await exited;
    clearTimeout(t);
    return r;
  };
  return {
    child,
    stderr: () => err,
    exited,
    waitErr: (re, ms) =>
      waitFor(`watch stderr ${String(re)}`, ms, () => {
        const m = re.exec(err);
        if (m !== null) return m;
        if (done !== undefined)
          throw new Error(`watch exited (${done.code ?? done.signal}) before ${String(re)}:\n${err}`);
        return undefined;
      }),
    stop: () => {
      if (done === undefined) child.kill('SIGTERM');
      return waitEnd(8000);
    },
    kill9: () => {
      if (done === undefined) child.kill('SIGKILL');
      return waitEnd(3000);
    },
  };
}

/** Starts watch and waits for its HTTP address (pass `--http 127.0.0.1:0`). */
export async function startWatch(args: readonly string[]): Promise<{ w: WatchProcess; http: string }> {
  const w = spawnWatch(args);
  const m = await w.waitErr(/listening: http (\S+) /, 10_000);
  return { w, http: m[1]! };
}

/** GET /metrics. */
export async function metrics(http: string): Promise<string> {
  const r = await fetch(`http://${http}/metrics`, { signal: AbortSignal.timeout(3000) });
  return await r.text();
}

/** The value of `name{labels}` in a Prometheus text exposition (0 when absent). */
export function metricValue(text: string, name: string, labels: string): number {
  const want = `${name}{${labels}} `;
  for (const line of text.split('\n')) if (line.startsWith(want)) return Number(line.slice(want.length));
  return 0;
}

/** Alert revisions in a JSONL file (none when it does not exist yet). */
export function readJsonl(path: string): AlertJson[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as AlertJson);
}

/** A lab Kamailio started with test/lab/pbx.sh in its own runtime directory. */
export interface LabPbx {
  readonly address: string;
  /** Its log file (kamailio.log). */
  readonly log: string;
  stop(): void;
}

/** Starts `profile` on `address`; `hep` = HOST:PORT mirrors every SIP message there as HEP3. */
export function startLabPbx(
  profile: 'leaky' | 'hardened' | '3cx-like',
  address: string,
  run: string,
  hep?: string,
): LabPbx {
  const env = { ...process.env, LAB_RUN: run, ...(hep !== undefined ? { HEP: hep } : {}) };
  const r = spawnSync('test/lab/pbx.sh', ['up', profile, address], {
    env,
    encoding: 'utf8',
    timeout: 20_000,
  });
  if (r.status !== 0) throw new Error(`pbx.sh up ${profile} ${address} failed: ${r.stderr}${r.stdout}`);
  return {
    address,
    log: join(run, `pbx-${profile}-${address}`, 'kamailio.log'),
    stop() {
      spawnSync('test/lab/pbx.sh', ['down', profile, address], { env, stdio: 'ignore', timeout: 10_000 });
    },
  };
}

/** Runs svcrack/svwar from `bind` (test/lab/bin/sv-bind), bounded by `timeoutMs`; returns stdout. */
export function runSv(
  tool: 'svcrack' | 'svwar',
  bind: string,
  args: readonly string[],
  timeoutMs = 15_000,
): string {
  const r = spawnSync('test/lab/bin/sv-bind', [tool, ...args], {
    env: { ...process.env, SV_BIND: bind },
    encoding: 'utf8',
    timeout: timeoutMs,
    killSignal: 'SIGKILL',
  });
  if (r.error !== undefined) throw r.error;
  if (r.status !== 0) throw new Error(`sv-bind ${tool} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

/**
 * Runs svcrack/svwar from `bind` until `done()` holds (then kills it: svcrack lingers about 10 s
 * after a list without the password), or `timeoutMs`; resolves to its stdout.
 */
export async function runSvUntil(
  tool: 'svcrack' | 'svwar',
  bind: string,
  args: readonly string[],
  done: () => boolean,
  timeoutMs = 15_000,
): Promise<string> {
  const child = spawn('test/lab/bin/sv-bind', [tool, ...args], {
    env: { ...process.env, SV_BIND: bind },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (d: string) => (out += d));
  child.stderr.resume();
  const exited = new Promise<void>((r) => child.on('exit', () => r()));
  let ended = false;
  void exited.then(() => (ended = true));
  const end = Date.now() + timeoutMs;
  while (!ended && !done() && Date.now() < end) await sleep(100);
  if (!ended) child.kill('SIGKILL');
  await exited;
  return out;
}

/** How many `sipwarden: auth-failed src=SRC` lines the lab Kamailio's log holds. */
export function authFailures(log: string, src: string): number {
  if (!existsSync(log)) return 0;
  const needle = `sipwarden: auth-failed src=${src} `;
  return readFileSync(log, 'utf8')
    .split('\n')
    .filter((l) => l.includes(needle)).length;
}

/** Removes a scratch directory. */
export function cleanup(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
