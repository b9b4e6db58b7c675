/**
 * `sipwarden block list|add|unblock`: reads and edits the block state file that the blocking sink
 * writes, then rewrites the outputs recorded in it (nftables, ipset, plain list; a fail2ban line
 * for an added address) and prints the nft command that applies the change at once.
 */
import { appendFile } from 'node:fs/promises';
import { BLOCK_MAX_DURATION_CEILING_MS } from '../config/limits.js';
import { BlockList, type BlockEntry, type BlockListJson } from '../sinks/block/block-list.js';
import {
  fail2banLine,
  renderIpset,
  renderNftables,
  renderNftablesIncremental,
  renderPlain,
} from '../sinks/block/formats.js';
import {
  BlockStateError,
  formatDuration,
  readStateFile,
  writeFileAtomic,
  writeStateFile,
  type BlockStateFile,
} from '../sinks/block/writer.js';
import { parseCommandArgs } from './args.js';
import { EXIT_FINDINGS, EXIT_INPUT, EXIT_OK, EXIT_USAGE, UsageError } from './exit-codes.js';

/** Help text of `sipwarden block` (also printed by `sipwarden block help`). */
export const BLOCK_HELP = `Usage:
  sipwarden block list --state FILE [--format text|json]
  sipwarden block add IP --state FILE [--for DURATION]
  sipwarden block unblock IP|CIDR --state FILE

The state FILE is the JSON file the blocking sink writes (blocking.stateFile in the configuration).
add and unblock rewrite it and the outputs it records (nftables script, ipset file, plain list; add
also appends a fail2ban line), and print the nft command that applies the change now.
DURATION: 90s, 30m, 1h, 2d or 1w (default: the state's base duration, 24h unless configured).
Exit codes: 0 done, 1 nothing to do (not blocked, or the list is full), 2 usage error, 3 state file
unreadable or not written.
`;

/** I/O of the command, injectable for tests. */
export interface BlockCliIo {
  readonly now?: () => number;
  readonly stdout?: (s: string) => void;
  readonly stderr?: (s: string) => void;
}

/** Runs `sipwarden block ...`; resolves to the exit code. */
export async function runBlock(args: string[], io: BlockCliIo = {}): Promise<number> {
  const now = (io.now ?? Date.now)();
  const out = io.stdout ?? ((s: string) => void process.stdout.write(s));
  const err = io.stderr ?? ((s: string) => void process.stderr.write(s));
  const [sub, ...rest] = args;
  try {
    if (sub === undefined || sub === 'help' || sub === '--help' || sub === '-h') {
      out(BLOCK_HELP);
      return sub === undefined ? EXIT_USAGE : EXIT_OK;
    }
    if (sub !== 'list' && sub !== 'add' && sub !== 'unblock') {
      throw new UsageError(`block: unknown subcommand '${sub}' (list, add or unblock)`);
    }
    const { values, positionals } = parseCommandArgs(`block ${sub}`, rest, {
      state: { type: 'string' },
      format: { type: 'string', default: 'text' },
      for: { type: 'string' },
    });
    const statePath = values.state;
    if (typeof statePath !== 'string' || statePath === '')
      throw new UsageError(`block ${sub}: --state FILE is required`);
    if (sub === 'list') {
      if (positionals.length > 0) throw new UsageError(`block list: unexpected argument '${positionals[0]}'`);
      const format = values.format as string;
      if (format !== 'text' && format !== 'json') {
        throw new UsageError(`block list: --format must be text or json (got '${format}')`);
      }
      const state = await readStateFile(statePath);
      if (state === undefined) throw new BlockStateError(`${statePath}: no such file`);
      const list = listFrom(state.list, now);
      out(
        format === 'json'
          ? `${JSON.stringify(list.toJSON().entries, null, 2)}\n`
          : renderText(list.list(now), now),
      );
      return EXIT_OK;
    }
    const target = positionals[0];
    if (target === undefined || positionals.length > 1) {
      throw new UsageError(`block ${sub}: expected exactly one ${sub === 'add' ? 'IP' : 'IP or CIDR'}`);
    }
    if (sub === 'unblock' && values.for !== undefined)
      throw new UsageError('block unblock: --for applies to add');
    const durationMs = values.for === undefined ? undefined : parseDuration(values.for as string);
    const existing = await readStateFile(statePath);
    if (existing === undefined && sub === 'unblock') throw new BlockStateError(`${statePath}: no such file`);
    const state: BlockStateFile = existing ?? emptyState(now);
    const list = listFrom(state.list, now);
    let added: BlockEntry[] = [];
    let removed: BlockEntry[] = [];
    if (sub === 'add') {
      const r = list.add(target, now, durationMs === undefined ? {} : { durationMs });
      if (r.outcome === 'skipped') {
        if (r.reason === 'list-full') {
          err(`sipwarden: block add: the list is full of blocks as severe; ${target} not added\n`);
          return EXIT_FINDINGS;
        }
        throw new UsageError(
          `block add: ${target} cannot be blocked: ${r.reason}${r.detail ? ` (${r.detail})` : ''}`,
        );
      }
      added = [r.entry];
      removed = [...(r.replaced ?? [])];
      out(
        `blocked ${r.entry.key} until ${new Date(r.entry.expiresAt).toISOString()} (${formatDuration(r.entry.expiresAt - now)})\n`,
      );
    } else {
      const e = list.unblock(target, now);
      if (e === undefined) {
        err(`sipwarden: block unblock: ${target} is not blocked\n`);
        return EXIT_FINDINGS;
      }
      removed = [e];
      out(`unblocked ${e.key}\n`);
    }
    await save(statePath, state, list, now, added);
    const cmds = renderNftablesIncremental(added, removed, now);
    if (cmds.length > 0) out(`apply now (as root):\n${cmds.map((c) => `  ${c}\n`).join('')}`);
    if (sub === 'unblock' && state.outputs.fail2ban !== undefined) {
      out(`fail2ban: fail2ban-client set sipwarden unbanip ${removed[0]?.address ?? target}\n`);
    }
    if (state.dryRun)
      out('note: this state belongs to a dry run; only the .dryrun previews were rewritten\n');
    return EXIT_OK;
  } catch (e) {
    if (e instanceof UsageError) {
      err(`sipwarden: ${e.message}\n`);
      return EXIT_USAGE;
    }
    if (e instanceof BlockStateError) {
      err(`sipwarden: block: ${e.message}\n`);
      return EXIT_INPUT;
    }
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code === 'string') {
      err(`sipwarden: block: ${e instanceof Error ? e.message : String(e)}\n`);
      return EXIT_INPUT;
    }
    throw e;
  }
}

/** Parses "90s", "30m", "1h", "2d", "1w" (a bare number is seconds) into milliseconds. */
export function parseDuration(text: string): number {
  const m = /^(\d{1,9})(s|m|h|d|w)?$/.exec(text.trim());
  if (m === null)
    throw new UsageError(`block add: --for '${text}' is not a duration (e.g. 90s, 30m, 1h, 2d)`);
  const unit = { s: 1000, m: 60_000, h: 3600_000, d: 86_400_000, w: 604_800_000 }[m[2] ?? 's'] as number;
  const ms = Number(m[1]) * unit;
  if (ms < 1000) throw new UsageError('block add: --for must be at least 1s');
  if (ms > BLOCK_MAX_DURATION_CEILING_MS) {
    throw new UsageError(
      `block add: --for is longer than the ${formatDuration(BLOCK_MAX_DURATION_CEILING_MS)} maximum`,
    );
  }
  return ms;
}

function listFrom(json: BlockListJson, now: number): BlockList {
  const s = json.settings as Partial<BlockListJson['settings']> | undefined;
  const list = new BlockList({
    ...(typeof s?.ipv6Prefix === 'number' ? { ipv6Prefix: s.ipv6Prefix } : {}),
    ...(typeof s?.durationMs === 'number' ? { durationMs: s.durationMs } : {}),
    ...(typeof s?.maxDurationMs === 'number' ? { maxDurationMs: s.maxDurationMs } : {}),
  });
  list.restore(json, now);
  return list;
}

function emptyState(now: number): BlockStateFile {
  return {
    format: 'sipwarden-block-state',
    version: 1,
    savedAt: new Date(now).toISOString(),
    dryRun: false,
    outputs: {},
    list: new BlockList().toJSON(),
  };
}

async function save(
  path: string,
  state: BlockStateFile,
  list: BlockList,
  now: number,
  added: BlockEntry[],
): Promise<void> {
  const entries = list.list(now);
  const o = state.outputs;
  if (o.nftables !== undefined) await writeFileAtomic(o.nftables, renderNftables(entries, now));
  if (o.ipset !== undefined) await writeFileAtomic(o.ipset, renderIpset(entries, now));
  if (o.plain !== undefined) await writeFileAtomic(o.plain, renderPlain(entries, now));
  if (o.fail2ban !== undefined && added.length > 0) {
    await appendFile(o.fail2ban, added.map((e) => `${fail2banLine(e, now)}\n`).join(''), { mode: 0o644 });
  }
  await writeStateFile(path, { ...state, savedAt: new Date(now).toISOString(), list: list.toJSON() });
}

function renderText(entries: readonly BlockEntry[], now: number): string {
  if (entries.length === 0) return 'no blocked addresses\n';
  const lines = entries.map((e) =>
    [
      e.key.padEnd(24),
      `until ${new Date(e.expiresAt).toISOString()}`,
      `(${formatDuration(e.expiresAt - now)} left)`.padEnd(14),
      e.severity.padEnd(8),
      `strike ${e.strikes}`,
      e.manual ? 'manual' : `${e.rule} alert ${e.alertId}`,
    ].join('  '),
  );
  return `${lines.join('\n')}\n${entries.length} blocked\n`;
}
