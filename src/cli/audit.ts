import { readFile, stat, writeFile } from 'node:fs/promises';
import {
  AUDIT_MAX_EXTENSIONS,
  AUDIT_MAX_INPUT_FILE_BYTES,
  AUDIT_MAX_RATE,
  AUDIT_MAX_TARGETS,
  AUDIT_MAX_WORDLIST,
} from '../config/limits.js';
import { isSeverity, severityRank, type Severity } from '../core/alert.js';
import { CHECK_NAMES, type AuditOptions, type CheckName } from '../audit/context.js';
import { RateLimiter } from '../audit/rate-limiter.js';
import {
  applyBaseline,
  parseBaseline,
  renderReports,
  type AuditReport,
  type ReportFormat,
} from '../audit/report.js';
import { auditTarget } from '../audit/run.js';
import { parseTarget, resolveTarget, type ResolvedTarget } from '../audit/scope.js';
import { parseCommandArgs } from './args.js';
import { EXIT_FINDINGS, EXIT_INPUT, EXIT_OK, UsageError } from './exit-codes.js';

/** Help text of `sipwarden audit` (the lead adds it to main.ts). */
export const AUDIT_HELP = `sipwarden audit <host>[:port]... [options]   (only systems you own or may test)

  --rate N             requests and connections per second, all checks together (default 5, max ${AUDIT_MAX_RATE})
  --timeout MS         per request/connection (default 2000)
  --extensions LIST    extensions known to exist, e.g. 100-109,200 (enumeration, nonces, passwords)
  --test-number N      a number you control: the call test dials it, CANCEL at the first provisional
  --intrusive          also run the password test and the rate-limit test (may get this address blocked)
  --auth-id EXT=ID     digest user name (3CX Auth ID) of an extension, for the password test; repeatable
                       or comma-separated (3CX Auth IDs are random, not the extension number)
  --wordlist FILE      passwords to try (intrusive; the extension number itself is always tried)
  --show-passwords     print guessed passwords in clear (default: hidden)
  --tls-port N         SIP TLS port (default 5061)    --sni NAME   TLS server name to send and check
  --checks LIST        a subset of: ${CHECK_NAMES.join(',')}
  --source ADDR        local address to send from
  --format F           text | json | md | html (default text)     -o, --output FILE   write the report there
  --baseline FILE      an earlier --format json report: marks findings new / unchanged, lists fixed ones
  --fail-on SEVERITY   exit 1 when a finding is at or above it

Every request carries "User-Agent: sipwarden-audit/0.1 (authorized security audit)". Redirects are
recorded, never followed; nothing is sent to any address but the targets.
`;

/** Parses `100-109,200,300-302` (bounded by AUDIT_MAX_EXTENSIONS). */
export function parseExtensions(text: string): string[] {
  const out: string[] = [];
  for (const part of text.split(',')) {
    const p = part.trim();
    if (p === '') continue;
    const m = /^(\d{1,12})-(\d{1,12})$/.exec(p);
    if (m !== null) {
      const a = m[1] as string;
      const b = m[2] as string;
      const lo = Number(a);
      const hi = Number(b);
      if (hi < lo) throw new UsageError(`audit: --extensions: empty range '${p}'`);
      if (hi - lo + 1 + out.length > AUDIT_MAX_EXTENSIONS) {
        throw new UsageError(`audit: --extensions: at most ${AUDIT_MAX_EXTENSIONS} extensions`);
      }
      for (let n = lo; n <= hi; n++) out.push(String(n).padStart(a.length, '0'));
    } else if (/^[A-Za-z0-9_.+-]{1,32}$/.test(p)) {
      out.push(p);
    } else {
      throw new UsageError(`audit: --extensions: '${p}' is neither an extension nor a range`);
    }
    if (out.length > AUDIT_MAX_EXTENSIONS) {
      throw new UsageError(`audit: --extensions: at most ${AUDIT_MAX_EXTENSIONS} extensions`);
    }
  }
  return [...new Set(out)];
}

/** Parses `--auth-id 101=xK3p9qL2` (repeatable, or comma-separated), bounded by AUDIT_MAX_EXTENSIONS. */
export function parseAuthIds(values: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const v of values) {
    for (const part of v.split(',')) {
      const p = part.trim();
      if (p === '') continue;
      const m = /^([A-Za-z0-9_.+-]{1,32})=([A-Za-z0-9_.+@-]{1,64})$/.exec(p);
      if (m === null) throw new UsageError(`audit: --auth-id: '${p}' is not EXTENSION=AUTHID`);
      out.set(m[1] as string, m[2] as string);
      if (out.size > AUDIT_MAX_EXTENSIONS) {
        throw new UsageError(`audit: --auth-id: at most ${AUDIT_MAX_EXTENSIONS} extensions`);
      }
    }
  }
  return out;
}

async function readBounded(file: string, what: string): Promise<string> {
  const size = (await stat(file)).size;
  if (size > AUDIT_MAX_INPUT_FILE_BYTES) {
    throw new Error(`${file}: ${size} bytes; a ${what} may be at most ${AUDIT_MAX_INPUT_FILE_BYTES}`);
  }
  return readFile(file, 'utf8');
}

function intOption(v: unknown, name: string, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max) {
    throw new UsageError(`audit: --${name} must be a number from ${min} to ${max} (got '${String(v)}')`);
  }
  return n;
}

/** `sipwarden audit`: parses flags, audits each target, prints the report, returns the exit code. */
export async function runAudit(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('audit', args, {
    format: { type: 'string', short: 'f', default: 'text' },
    output: { type: 'string', short: 'o' },
    rate: { type: 'string' },
    timeout: { type: 'string' },
    extensions: { type: 'string' },
    'test-number': { type: 'string' },
    intrusive: { type: 'boolean', default: false },
    wordlist: { type: 'string' },
    'auth-id': { type: 'string', multiple: true },
    'show-passwords': { type: 'boolean', default: false },
    'tls-port': { type: 'string' },
    sni: { type: 'string' },
    checks: { type: 'string' },
    source: { type: 'string' },
    baseline: { type: 'string' },
    'fail-on': { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  });
  if (values.help === true) {
    process.stdout.write(AUDIT_HELP);
    return EXIT_OK;
  }
  const format = values.format as string;
  if (!['text', 'json', 'md', 'html'].includes(format)) {
    throw new UsageError(`audit: --format must be text, json, md or html (got '${format}')`);
  }
  const failOn = values['fail-on'] as string | undefined;
  if (failOn !== undefined && !isSeverity(failOn)) {
    throw new UsageError(
      `audit: --fail-on must be one of info, low, medium, high, critical (got '${failOn}')`,
    );
  }
  if (positionals.length === 0) throw new UsageError('audit: give the host to audit (a PBX you own)');
  if (positionals.length > AUDIT_MAX_TARGETS)
    throw new UsageError(`audit: at most ${AUDIT_MAX_TARGETS} targets`);
  const specs = positionals.map((p) => {
    const t = parseTarget(p);
    if (t === undefined)
      throw new UsageError(`audit: '${p}' is not a host, host:port or [IPv6]:port (ranges are refused)`);
    return t;
  });
  const rate = intOption(values.rate, 'rate', 0.1, AUDIT_MAX_RATE) ?? 5;
  const timeoutMs = intOption(values.timeout, 'timeout', 100, 60_000) ?? 2000;
  const tlsPort = intOption(values['tls-port'], 'tls-port', 1, 65535) ?? 5061;
  const extensions = values.extensions !== undefined ? parseExtensions(values.extensions as string) : [];
  const testNumber = values['test-number'] as string | undefined;
  if (testNumber !== undefined && !/^\+?[0-9*#]{1,32}$/.test(testNumber)) {
    throw new UsageError('audit: --test-number must be digits (a number you control)');
  }
  let checks = new Set<CheckName>(CHECK_NAMES);
  if (values.checks !== undefined) {
    checks = new Set();
    for (const c of (values.checks as string).split(',')) {
      const name = c.trim();
      if (!(CHECK_NAMES as readonly string[]).includes(name)) {
        throw new UsageError(`audit: --checks: unknown check '${name}' (known: ${CHECK_NAMES.join(', ')})`);
      }
      checks.add(name as CheckName);
    }
  }
  const intrusive = values.intrusive === true;
  if (values.wordlist !== undefined && !intrusive) {
    throw new UsageError('audit: --wordlist needs --intrusive (password guessing is intrusive)');
  }
  const authIds = parseAuthIds((values['auth-id'] as string[] | undefined) ?? []);
  let wordlist: string[] | undefined;
  const errors: string[] = [];
  try {
    if (values.wordlist !== undefined) {
      const text = await readBounded(values.wordlist as string, 'wordlist');
      const words = text.split(/\r?\n/).filter((w) => w !== '' && !w.startsWith('#'));
      if (words.length > AUDIT_MAX_WORDLIST) {
        process.stderr.write(
          `sipwarden: ${values.wordlist as string}: only the first ${AUDIT_MAX_WORDLIST} passwords are tried\n`,
        );
      }
      wordlist = words.slice(0, AUDIT_MAX_WORDLIST);
    }
  } catch (err) {
    process.stderr.write(`sipwarden: ${err instanceof Error ? err.message : String(err)}\n`);
    return EXIT_INPUT;
  }
  let baselines: AuditReport[] | undefined;
  const baselineFile = values.baseline as string | undefined;
  if (baselineFile !== undefined) {
    try {
      const r = parseBaseline(await readBounded(baselineFile, 'baseline'), baselineFile);
      if (!r.ok) throw new Error(r.error);
      baselines = r.reports;
    } catch (err) {
      process.stderr.write(`sipwarden: ${err instanceof Error ? err.message : String(err)}\n`);
      return EXIT_INPUT;
    }
  }
  const resolved: ResolvedTarget[] = [];
  for (const s of specs) {
    try {
      resolved.push(await resolveTarget(s));
    } catch (err) {
      errors.push(`${s.host}: cannot resolve (${err instanceof Error ? err.message : String(err)})`);
    }
  }
  const limiter = new RateLimiter(rate);
  const reports: AuditReport[] = [];
  for (const target of resolved) {
    const options: AuditOptions = {
      rate,
      timeoutMs,
      // An extension named only by --auth-id is still one to examine.
      extensions: [...new Set([...extensions, ...authIds.keys()])],
      authIds,
      testNumber,
      intrusive,
      wordlist,
      showPasswords: values['show-passwords'] === true,
      sipPort: target.port ?? 5060,
      tlsPort,
      sni: values.sni as string | undefined,
      checks,
      tcpPorts: undefined,
      udpPorts: undefined,
      localAddress: values.source as string | undefined,
      rateLimitAttempts: undefined,
      now: () => Date.now(),
      log: (line) => process.stderr.write(`${line}\n`),
    };
    const report = await auditTarget(target, options, limiter);
    const base =
      baselines?.find((b) => b.target.host === target.host) ??
      (baselines?.length === 1 ? baselines[0] : undefined);
    if (base !== undefined && baselineFile !== undefined) applyBaseline(report, base, baselineFile);
    reports.push(report);
  }
  const text = renderReports(reports, format as ReportFormat);
  const output = values.output as string | undefined;
  if (output !== undefined) await writeFile(output, text);
  else process.stdout.write(text);
  for (const e of errors) process.stderr.write(`sipwarden: ${e}\n`);
  if (failOn !== undefined) {
    const rank = severityRank(failOn as Severity);
    if (reports.some((r) => r.findings.some((f) => severityRank(f.severity) >= rank))) return EXIT_FINDINGS;
  }
  return errors.length > 0 ? EXIT_INPUT : EXIT_OK;
}
