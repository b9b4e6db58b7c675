/**
 * The block list sink: feeds alerts to a BlockList, logs each decision, and on `flush()` writes
 * the configured outputs atomically (temporary file, fsync, rename) plus the JSON state file.
 * In a dry run (the default once enabled) every path gets a `.dryrun` suffix, so nothing a
 * firewall or fail2ban reads is touched, and the command hook never runs. The hook runs the
 * configured argv (no shell) with the output's path appended; it needs the admin's sudo rule,
 * e.g. `sipwarden ALL=(root) NOPASSWD: /usr/sbin/nft -f /var/lib/sipwarden/blocklist.nft`.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFile, open, readFile, rename, rm, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AlertJson } from '../../core/alert.js';
import {
  BLOCK_COMMAND_MAX_OUTPUT_BYTES,
  BLOCK_MAX_PENDING_LOG_LINES,
  BLOCK_MAX_STATE_FILE_BYTES,
  BLOCK_REFRESH_GRANULARITY_MS,
} from '../../config/limits.js';
import type { BlockEntry, BlockList, BlockListJson, Decision } from './block-list.js';
import type { BlockingConfig } from './config.js';
import { fail2banLine, PLAIN_CONTENT_TYPE, renderIpset, renderNftables, renderPlain } from './formats.js';

/** Suffix of every file written in a dry run. */
export const DRY_RUN_SUFFIX = '.dryrun';

/** The state file: the list plus where its outputs were written (so `sipwarden block` can rewrite
 * them). The command hook is deliberately not recorded: a writable state file must not be a way
 * to run commands. */
export interface BlockStateFile {
  readonly format: 'sipwarden-block-state';
  readonly version: 1;
  readonly savedAt: string;
  readonly dryRun: boolean;
  /** Paths as written (with the `.dryrun` suffix in a dry run). */
  readonly outputs: { nftables?: string; ipset?: string; fail2ban?: string; plain?: string };
  readonly list: BlockListJson;
}

/** Result of running the command hook. */
export interface CommandResult {
  readonly code: number | null;
  readonly output: string;
  readonly error?: string;
}

/** Runs argv without a shell, bounded in time and output. */
export type CommandRunner = (argv: readonly string[], timeoutMs: number) => Promise<CommandResult>;

/** What one flush did. */
export interface FlushReport {
  readonly written: readonly string[];
  readonly expired: readonly BlockEntry[];
  readonly command?: CommandResult;
  readonly errors: readonly string[];
}

/** Options of a BlockWriter. */
export interface BlockWriterOptions {
  readonly config: BlockingConfig;
  readonly list: BlockList;
  /** Wall clock (injectable for tests). */
  readonly now?: () => number;
  /** Where decisions and errors are logged, one line each. */
  readonly log?: (line: string) => void;
  readonly runCommand?: CommandRunner;
}

/** The blocking sink (see the file comment). The lead calls `handle` per alert revision and
 * `flush` on a timer (and at shutdown). */
export class BlockWriter {
  readonly list: BlockList;
  private readonly config: BlockingConfig;
  private readonly now: () => number;
  private readonly log: (line: string) => void;
  private readonly runCommand: CommandRunner;
  private dirty = false;
  private pendingLines: string[] = [];
  private linesDropped = 0;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(options: BlockWriterOptions) {
    this.config = options.config;
    this.list = options.list;
    this.now = options.now ?? Date.now;
    this.log = options.log ?? (() => undefined);
    this.runCommand = options.runCommand ?? runCommand;
  }

  /** True in a dry run: only `.dryrun` previews are written. */
  get dryRun(): boolean {
    return this.config.dryRun;
  }

  /** fail2ban lines dropped because the queue was full. */
  get logLinesDropped(): number {
    return this.linesDropped;
  }

  /** The path actually written for a configured path. */
  pathFor(path: string): string {
    return this.config.dryRun ? `${path}${DRY_RUN_SUFFIX}` : path;
  }

  /** Restores the list from the state file, if there is one. */
  async load(): Promise<{ restored: number; dropped: number } | undefined> {
    if (this.config.stateFile === undefined) return undefined;
    const state = await readStateFile(this.pathFor(this.config.stateFile));
    if (state === undefined) return undefined;
    return this.list.restore(state.list, this.now());
  }

  /** Considers one alert revision; logs the decision. No I/O: outputs follow at `flush`. */
  handle(alert: AlertJson): Decision {
    if (!this.config.enabled) {
      return {
        alertId: alert.id,
        rule: alert.rule,
        outcome: 'skipped',
        reason: 'disabled',
        sources: [],
        replaced: [],
      };
    }
    const now = this.now();
    const d = this.list.consider(alert, now);
    const mode = this.config.dryRun ? 'block (dry run)' : 'block';
    for (const s of d.sources) {
      if (s.outcome === 'blocked') {
        this.dirty = true;
        this.queueLine(fail2banLine(s.entry, now));
        this.log(
          `${mode}: ${s.entry.key} for ${formatDuration(s.entry.expiresAt - now)} (strike ${s.entry.strikes}, ${d.rule} alert ${d.alertId})`,
        );
      } else if (s.outcome === 'refreshed') {
        if (s.extendedMs >= BLOCK_REFRESH_GRANULARITY_MS) this.dirty = true;
      } else if (s.outcome === 'skipped' && (s.reason !== 'no-return-path' || d.sources.length === 1)) {
        // Protected and forged sources are worth a line: they explain why an attacker is not blocked.
        const detail = s.detail === undefined ? '' : ` (${s.detail})`;
        this.log(`${mode}: not ${s.ip}: ${s.reason}${detail} (${d.rule} alert ${d.alertId})`);
      }
    }
    for (const r of d.replaced) this.log(`${mode}: ${r.key} replaced by a more severe block (list full)`);
    return d;
  }

  /** Blocks an address by hand; written at the next flush. */
  add(ip: string, durationMs?: number): ReturnType<BlockList['add']> {
    const now = this.now();
    const r = this.list.add(ip, now, durationMs === undefined ? {} : { durationMs });
    if (r.outcome !== 'skipped') {
      this.dirty = true;
      this.queueLine(fail2banLine(r.entry, now));
    }
    return r;
  }

  /** Unblocks an address or network; written at the next flush. */
  unblock(ipOrKey: string): BlockEntry | undefined {
    const e = this.list.unblock(ipOrKey, this.now());
    if (e !== undefined) {
      this.dirty = true;
      this.log(`${this.config.dryRun ? 'block (dry run)' : 'block'}: unblocked ${e.key}`);
    }
    return e;
  }

  /** Expires entries and, if anything changed, writes every output and the state file, then runs
   * the command hook (not in a dry run). Flushes never overlap. Never throws: errors are reported. */
  flush(force = false): Promise<FlushReport> {
    const next = this.chain.then(() => this.flushNow(force));
    this.chain = next.catch(() => undefined);
    return next;
  }

  private async flushNow(force: boolean): Promise<FlushReport> {
    const now = this.now();
    const expired = this.list.expire(now);
    if (expired.length > 0) this.dirty = true;
    const errors: string[] = [];
    const written: string[] = [];
    if (!this.dirty && !force && this.pendingLines.length === 0) return { written, expired, errors };
    this.dirty = false;
    const entries = this.list.list(now);
    const out = this.config.outputs;
    const files: [string | undefined, () => string][] = [
      [out.nftables, () => renderNftables(entries, now)],
      [out.ipset, () => renderIpset(entries, now)],
      [out.plain, () => renderPlain(entries, now)],
    ];
    for (const [path, render] of files) {
      if (path === undefined) continue;
      const target = this.pathFor(path);
      try {
        await writeFileAtomic(target, render());
        written.push(target);
      } catch (err) {
        errors.push(`${target}: ${message(err)}`);
      }
    }
    const lines = this.pendingLines;
    this.pendingLines = [];
    if (out.fail2ban !== undefined && lines.length > 0) {
      const target = this.pathFor(out.fail2ban);
      try {
        await appendFile(target, `${lines.join('\n')}\n`, { mode: 0o644 });
        written.push(target);
      } catch (err) {
        errors.push(`${target}: ${message(err)}`);
      }
    }
    if (this.config.stateFile !== undefined) {
      const target = this.pathFor(this.config.stateFile);
      try {
        await writeStateFile(target, this.stateOf(now));
        written.push(target);
      } catch (err) {
        errors.push(`${target}: ${message(err)}`);
      }
    }
    let command: CommandResult | undefined;
    const hook = this.config.command;
    if (hook !== undefined && !this.config.dryRun) {
      const path = out[hook.output];
      if (path === undefined) errors.push(`command: outputs.${hook.output} is not configured`);
      else if (written.includes(path)) {
        command = await this.runCommand([...hook.argv, path], hook.timeoutMs);
        if (command.code !== 0)
          errors.push(`command ${hook.argv[0] ?? ''}: ${command.error ?? `exit ${command.code}`}`);
      }
    }
    for (const e of errors) this.log(`block: write failed: ${e}`);
    return command === undefined ? { written, expired, errors } : { written, expired, command, errors };
  }

  /** The state as written to the state file. */
  stateOf(now: number): BlockStateFile {
    const outputs: { nftables?: string; ipset?: string; fail2ban?: string; plain?: string } = {};
    for (const k of ['nftables', 'ipset', 'fail2ban', 'plain'] as const) {
      const p = this.config.outputs[k];
      if (p !== undefined) outputs[k] = this.pathFor(p);
    }
    return {
      format: 'sipwarden-block-state',
      version: 1,
      savedAt: new Date(now).toISOString(),
      dryRun: this.config.dryRun,
      outputs,
      list: this.list.toJSON(),
    };
  }

  /** An HTTP handler serving the plain list (GET/HEAD), for the lead's `--http` server. */
  plainHandler(): (req: IncomingMessage, res: ServerResponse) => void {
    return plainListHandler(() => this.list.list(this.now()), this.now);
  }

  private queueLine(line: string): void {
    if (this.pendingLines.length >= BLOCK_MAX_PENDING_LOG_LINES) this.linesDropped++;
    else this.pendingLines.push(line);
  }
}

/** Serves the plain list: `text/plain`, one address or CIDR per line under a `#` header. */
export function plainListHandler(
  entries: () => readonly BlockEntry[],
  now: () => number = Date.now,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': PLAIN_CONTENT_TYPE });
      res.end('method not allowed\n');
      return;
    }
    const body = renderPlain(entries(), now());
    res.writeHead(200, {
      'content-type': PLAIN_CONTENT_TYPE,
      'content-length': Buffer.byteLength(body),
      'cache-control': 'no-store',
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  };
}

/** Writes a file so that a reader sees the old or the new content, never a part: a temporary file
 * in the same directory, fsync, rename. */
export async function writeFileAtomic(path: string, text: string, mode = 0o644): Promise<void> {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const fh = await open(tmp, 'wx', mode);
  try {
    await fh.writeFile(text, 'utf8');
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/** Writes the state file atomically (readable by its owner only: it names who was blocked and why). */
export async function writeStateFile(path: string, state: BlockStateFile): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(state, null, 2)}\n`, 0o600);
}

/** An unreadable or malformed state file (the message names the file). */
export class BlockStateError extends Error {
  override readonly name = 'BlockStateError';
}

/** Reads a state file; undefined when it does not exist; BlockStateError when it is not one. */
export async function readStateFile(path: string): Promise<BlockStateFile | undefined> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new BlockStateError(`${path}: cannot read: ${message(err)}`);
  }
  if (size > BLOCK_MAX_STATE_FILE_BYTES) {
    throw new BlockStateError(`${path}: ${size} bytes, more than the ${BLOCK_MAX_STATE_FILE_BYTES} accepted`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new BlockStateError(`${path}: not a JSON block state file: ${message(err)}`);
  }
  if (
    typeof raw !== 'object' ||
    raw === null ||
    (raw as { format?: unknown }).format !== 'sipwarden-block-state'
  ) {
    throw new BlockStateError(`${path}: expected "format": "sipwarden-block-state"`);
  }
  const r = raw as Record<string, unknown>;
  const outputs: { nftables?: string; ipset?: string; fail2ban?: string; plain?: string } = {};
  const o = typeof r.outputs === 'object' && r.outputs !== null ? (r.outputs as Record<string, unknown>) : {};
  for (const k of ['nftables', 'ipset', 'fail2ban', 'plain'] as const) {
    const v = o[k];
    if (typeof v === 'string' && v.length > 0) outputs[k] = v;
  }
  return {
    format: 'sipwarden-block-state',
    version: 1,
    savedAt: typeof r.savedAt === 'string' ? r.savedAt : '',
    dryRun: r.dryRun === true,
    outputs,
    list: (typeof r.list === 'object' && r.list !== null ? r.list : {}) as BlockListJson,
  };
}

/** The default command runner: execFile, no shell, killed past its time limit. */
export function runCommand(argv: readonly string[], timeoutMs: number): Promise<CommandResult> {
  const [file, ...args] = argv;
  if (file === undefined) return Promise.resolve({ code: null, output: '', error: 'empty argv' });
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      { shell: false, timeout: timeoutMs, maxBuffer: BLOCK_COMMAND_MAX_OUTPUT_BYTES, encoding: 'utf8' },
      (err, stdout, stderr) => {
        const output = `${stdout}${stderr}`.slice(0, BLOCK_COMMAND_MAX_OUTPUT_BYTES);
        if (err === null) resolve({ code: 0, output });
        else {
          const code = typeof err.code === 'number' ? err.code : null;
          resolve({
            code,
            output,
            error: err.killed ? `killed after ${timeoutMs} ms` : (err.message.split('\n')[0] ?? ''),
          });
        }
      },
    );
  });
}

/** A duration for people: the two largest units ("1d", "23h59m", "90s" → "1m30s"). */
export function formatDuration(ms: number): string {
  let s = Math.max(0, Math.round(ms / 1000));
  const parts: string[] = [];
  for (const [unit, size] of [
    ['d', 86400],
    ['h', 3600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    const n = Math.floor(s / size);
    s -= n * size;
    if (n > 0 || parts.length > 0) parts.push(n > 0 ? `${n}${unit}` : '');
    if (parts.length === 2) break;
  }
  const text = parts.join('');
  return text === '' ? '0s' : text;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
