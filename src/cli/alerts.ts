/**
 * `sipwarden alerts`: what the store holds, and what people do about it (acknowledge, suppress).
 * It never creates a database: a missing or unreadable file is an input error (exit 3) naming it.
 */
import { userInfo } from 'node:os';
import { isSeverity, type AlertJson, type Severity } from '../core/alert.js';
import { escapeText } from '../core/escape.js';
import {
  AlertStore,
  StoreError,
  type AlertQuery,
  type StoredAlert,
  type Suppression,
} from '../store/alert-store.js';
import { StoreConfigSchema } from '../store/store-config.js';
import { normalizeSource } from '../store/suppression.js';
import { parseDuration, parseTimeSpec } from '../store/time-spec.js';
import { parseCommandArgs } from './args.js';
import { EXIT_INPUT, EXIT_OK, UsageError } from './exit-codes.js';

/** Where `runAlerts` writes, and its clock (tests inject them). */
export interface AlertsIo {
  stdout?: { write(s: string): unknown };
  stderr?: { write(s: string): unknown };
  now?: () => number;
}

/** Usage of `sipwarden alerts`, for the top-level help. */
export const ALERTS_USAGE = `  sipwarden alerts [--db FILE] [--since T] [--until T] [--rule R] [--state open|closed]
                   [--severity S] [--format text|json|jsonl] [--limit N] [--all]
  sipwarden alerts show ID [--db FILE] [--format text|json]
  sipwarden alerts ack ID [--db FILE] [--by NAME] [--note TEXT]
  sipwarden alerts suppress [--rule R] [--source IP/CIDR] [--identity X] --for DURATION [--reason TEXT]
  sipwarden alerts unsuppress N [--db FILE]
  sipwarden alerts suppressions [--db FILE] [--format text|json]
`;

const SUBCOMMANDS = ['list', 'show', 'ack', 'suppress', 'unsuppress', 'suppressions'] as const;
type Sub = (typeof SUBCOMMANDS)[number];

/** Flags each subcommand accepts (besides --db). */
const FLAGS: Record<Sub, readonly string[]> = {
  list: ['since', 'until', 'rule', 'state', 'severity', 'format', 'limit', 'all'],
  show: ['format'],
  ack: ['by', 'note'],
  suppress: ['rule', 'source', 'identity', 'for', 'reason'],
  unsuppress: [],
  suppressions: ['format'],
};

/** `sipwarden alerts ...`: returns the exit code; usage errors throw UsageError. */
export async function runAlerts(args: string[], io: AlertsIo = {}): Promise<number> {
  const out = io.stdout ?? process.stdout;
  const err = io.stderr ?? process.stderr;
  const now = io.now ?? Date.now;
  const { values, positionals } = parseCommandArgs('alerts', args, {
    db: { type: 'string' },
    since: { type: 'string' },
    until: { type: 'string' },
    rule: { type: 'string' },
    state: { type: 'string' },
    severity: { type: 'string' },
    format: { type: 'string', short: 'f' },
    limit: { type: 'string', short: 'n' },
    all: { type: 'boolean' },
    by: { type: 'string' },
    note: { type: 'string' },
    source: { type: 'string' },
    identity: { type: 'string' },
    for: { type: 'string' },
    reason: { type: 'string' },
  });
  const first = positionals[0];
  const sub: Sub =
    first === undefined
      ? 'list'
      : (SUBCOMMANDS as readonly string[]).includes(first)
        ? (first as Sub)
        : 'list';
  if (first !== undefined && sub === 'list' && first !== 'list')
    throw new UsageError(`alerts: unknown subcommand '${escapeText(first, 40)}' (try 'sipwarden help')`);
  const rest = first === undefined ? [] : positionals.slice(1);
  for (const k of Object.keys(values)) {
    if (k !== 'db' && values[k] !== undefined && !FLAGS[sub].includes(k))
      throw new UsageError(`alerts ${sub}: --${k} does not apply here`);
  }
  const str = (k: string): string | undefined => values[k] as string | undefined;
  const format = str('format') ?? 'text';
  const formats = sub === 'list' ? ['text', 'json', 'jsonl'] : ['text', 'json'];
  if (!formats.includes(format))
    throw new UsageError(`alerts: --format must be ${formats.join(', ')} (got '${escapeText(format, 40)}')`);

  // Validate the whole command line before touching the database.
  let action: (store: AlertStore) => number;
  switch (sub) {
    case 'list': {
      if (rest.length > 0) throw new UsageError('alerts: list takes no arguments');
      const q = listQuery(str, values.all === true, now());
      action = (store) => printList(store.list(q), format, out);
      break;
    }
    case 'show': {
      const id = oneArg(rest, 'show', 'ID');
      action = (store) => {
        const a = store.get(id);
        if (a === undefined) return notFound(err, `no alert with id '${escapeText(id, 80)}'`);
        const revs = store.revisions(id);
        if (format === 'json') out.write(`${JSON.stringify({ ...a, revisions: revs }, null, 2)}\n`);
        else out.write(renderShow(a, revs.length));
        return EXIT_OK;
      };
      break;
    }
    case 'ack': {
      const id = oneArg(rest, 'ack', 'ID');
      const by = str('by') ?? defaultUser();
      const note = str('note');
      action = (store) => {
        const a = store.ack(id, by, note);
        if (a === undefined) return notFound(err, `no alert with id '${escapeText(id, 80)}'`);
        out.write(`acknowledged ${escapeText(id, 80)} by ${escapeText(a.by)}\n`);
        return EXIT_OK;
      };
      break;
    }
    case 'suppress': {
      if (rest.length > 0)
        throw new UsageError('alerts: suppress takes no arguments (use --rule, --source, --identity)');
      const forText = str('for');
      if (forText === undefined)
        throw new UsageError('alerts suppress: --for DURATION is required (e.g. 24h, 7d)');
      const ms = parseDuration(forText);
      if (ms === undefined)
        throw new UsageError(
          `alerts suppress: --for must be a duration like 30m, 24h, 7d (got '${escapeText(forText, 40)}')`,
        );
      const source = str('source');
      if (source !== undefined && normalizeSource(source) === undefined)
        throw new UsageError(
          `alerts suppress: --source must be an IP address or CIDR (got '${escapeText(source, 60)}')`,
        );
      const rule = str('rule');
      const identity = str('identity');
      if (!rule && !identity && source === undefined)
        throw new UsageError('alerts suppress: give at least one of --rule, --source, --identity');
      const reason = str('reason');
      action = (store) => {
        const s = store.suppress({
          until: now() + ms,
          ...(rule ? { rule } : {}),
          ...(source !== undefined ? { source } : {}),
          ...(identity ? { identity } : {}),
          ...(reason !== undefined ? { reason } : {}),
        });
        out.write(`suppression ${s.n}: ${describeSuppression(s)}\n`);
        return EXIT_OK;
      };
      break;
    }
    case 'unsuppress': {
      const text = oneArg(rest, 'unsuppress', 'N');
      if (!/^\d{1,15}$/.test(text))
        throw new UsageError(
          `alerts unsuppress: N must be a suppression number (got '${escapeText(text, 40)}')`,
        );
      const n = Number(text);
      action = (store) => {
        if (!store.unsuppress(n)) return notFound(err, `no suppression ${n}`);
        out.write(`suppression ${n} removed\n`);
        return EXIT_OK;
      };
      break;
    }
    case 'suppressions': {
      if (rest.length > 0) throw new UsageError('alerts: suppressions takes no arguments');
      action = (store) => {
        const list = store.suppressions();
        if (format === 'json') out.write(`${JSON.stringify(list, null, 2)}\n`);
        else if (list.length === 0) out.write('no suppressions\n');
        else {
          const t = now();
          for (const s of list)
            out.write(`${s.n}\t${t < s.until ? 'active ' : 'expired'}\t${describeSuppression(s)}\n`);
        }
        return EXIT_OK;
      };
      break;
    }
  }

  const db = str('db') ?? StoreConfigSchema.parse({}).path;
  let store: AlertStore | undefined;
  try {
    store = new AlertStore({ path: db, create: false, now });
    return action(store);
  } catch (e) {
    if (e instanceof StoreError) {
      err.write(`sipwarden: ${e.message}\n`);
      return EXIT_INPUT;
    }
    throw e;
  } finally {
    store?.close();
  }
}

function oneArg(rest: string[], sub: string, name: string): string {
  const [v, extra] = rest;
  if (v === undefined) throw new UsageError(`alerts ${sub}: give the ${name}`);
  if (extra !== undefined) throw new UsageError(`alerts ${sub}: one ${name} only`);
  return v;
}

function listQuery(str: (k: string) => string | undefined, all: boolean, now: number): AlertQuery {
  const q: AlertQuery = {};
  for (const k of ['since', 'until'] as const) {
    const t = str(k);
    if (t === undefined) continue;
    const ms = parseTimeSpec(t, now);
    if (ms === undefined)
      throw new UsageError(
        `alerts: --${k} must be an ISO time or a duration like 2h, 7d (got '${escapeText(t, 40)}')`,
      );
    q[k] = ms;
  }
  const rule = str('rule');
  if (rule !== undefined) q.rule = rule;
  const state = str('state');
  if (state !== undefined) {
    if (state !== 'open' && state !== 'closed')
      throw new UsageError(`alerts: --state must be open or closed (got '${escapeText(state, 40)}')`);
    q.state = state;
  }
  const sev = str('severity');
  if (sev !== undefined) {
    if (!isSeverity(sev))
      throw new UsageError(
        `alerts: --severity must be one of info, low, medium, high, critical (got '${escapeText(sev, 40)}')`,
      );
    q.severity = sev as Severity;
  }
  const limit = str('limit');
  if (limit !== undefined) {
    if (!/^\d{1,6}$/.test(limit) || Number(limit) === 0)
      throw new UsageError(`alerts: --limit must be a positive number (got '${escapeText(limit, 40)}')`);
    q.limit = Number(limit);
  }
  if (all) q.includeSuppressed = true;
  return q;
}

function printList(list: StoredAlert[], format: string, out: { write(s: string): unknown }): number {
  if (format === 'json') out.write(`${JSON.stringify(list.map(listJson), null, 2)}\n`);
  else if (format === 'jsonl') for (const a of list) out.write(`${JSON.stringify(listJson(a))}\n`);
  else if (list.length === 0) out.write('no alerts\n');
  else for (const a of list) out.write(`${listLine(a)}\n`);
  return EXIT_OK;
}

/** The JSON of a listed alert: the alert record, with the store's additions beside it. */
function listJson(a: StoredAlert): AlertJson & { acks?: StoredAlert['acks']; suppressedBy?: number } {
  return {
    ...a.alert,
    ...(a.acks.length > 0 ? { acks: a.acks } : {}),
    ...(a.suppressedBy !== undefined ? { suppressedBy: a.suppressedBy } : {}),
  };
}

function listLine(s: StoredAlert): string {
  const a = s.alert;
  const who =
    a.source?.ip ?? (a.sources !== undefined ? `${a.sourcesTotal ?? a.sources.length} sources` : '-');
  const target = a.target?.identity ?? a.target?.extension ?? a.target?.ip;
  const flags = [
    ...(s.acks.length > 0 ? [`acked by ${escapeText(s.acks[s.acks.length - 1]?.by ?? '', 40)}`] : []),
    ...(s.suppressedBy !== undefined ? [`suppressed by ${s.suppressedBy}`] : []),
  ];
  return [
    escapeText(a.lastSeen, 40),
    a.severity.padEnd(8),
    a.state.padEnd(6),
    escapeText(a.rule, 60),
    `${escapeText(a.id, 40)} r${a.revision}`,
    `×${a.count}`,
    `${escapeText(who, 60)}${target !== undefined ? ` → ${escapeText(target, 60)}` : ''}`,
    escapeText(a.title, 120) + (flags.length > 0 ? ` [${flags.join('; ')}]` : ''),
  ].join('  ');
}

function renderShow(s: StoredAlert, revisions: number): string {
  const a = s.alert;
  const lines: string[] = [];
  const row = (k: string, v: string): void => {
    lines.push(`${k.padEnd(12)} ${v}`);
  };
  row('id', escapeText(a.id, 80));
  row('title', escapeText(a.title, 400));
  row('rule', escapeText(a.rule, 80));
  row('severity', a.severity);
  row('state', `${a.state} (revision ${a.revision}; ${revisions} stored)`);
  row('site', `${escapeText(a.site, 80)} / sensor ${escapeText(a.sensor, 80)}`);
  row('first seen', escapeText(a.firstSeen, 40));
  row('raised at', escapeText(a.raisedAt, 40));
  row('last seen', escapeText(a.lastSeen, 40));
  row('count', String(a.count));
  if (s.suppressedBy !== undefined) row('suppressed', `by suppression ${s.suppressedBy}`);
  if (a.source !== undefined) row('source', escapeText(JSON.stringify(a.source), 400));
  if (a.sources !== undefined)
    row(
      'sources',
      escapeText(a.sources.map((e) => `${e.ip}×${e.count}`).join(' '), 2000) +
        (a.sourcesTotal !== undefined ? ` (${a.sourcesTotal} in all)` : ''),
    );
  if (a.target !== undefined) row('target', escapeText(JSON.stringify(a.target), 400));
  for (const [k, v] of Object.entries(a.evidence))
    row(`evidence`, `${escapeText(k, 60)}: ${escapeText(JSON.stringify(v) ?? 'null', 1000)}`);
  if (a.remediation) row('remediation', escapeText(a.remediation, 2000));
  for (const r of a.references) row('reference', escapeText(r, 400));
  for (const k of s.acks)
    row(
      'ack',
      `${new Date(k.at).toISOString()} by ${escapeText(k.by, 80)}${k.note !== undefined ? `: ${escapeText(k.note, 400)}` : ''}`,
    );
  return `${lines.join('\n')}\n`;
}

function describeSuppression(s: Suppression): string {
  const parts = [
    ...(s.rule !== undefined ? [`rule=${escapeText(s.rule, 80)}`] : []),
    ...(s.source !== undefined ? [`source=${s.source}`] : []),
    ...(s.identity !== undefined ? [`identity=${escapeText(s.identity, 80)}`] : []),
    `until ${new Date(s.until).toISOString()}`,
  ];
  if (s.reason !== undefined) parts.push(`(${escapeText(s.reason, 200)})`);
  return parts.join(' ');
}

function notFound(err: { write(s: string): unknown }, message: string): number {
  err.write(`sipwarden: ${message}\n`);
  return EXIT_INPUT;
}

function defaultUser(): string {
  try {
    return userInfo().username;
  } catch {
    // No passwd entry (containers): an ack still needs a name.
    return process.env.USER ?? 'unknown';
  }
}
