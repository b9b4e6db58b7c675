import { open, readFile, stat } from 'node:fs/promises';
import { ANALYZE_MAX_SIP_FILE_BYTES } from '../config/limits.js';
import { isSeverity, severityRank, type AlertJson, type Severity } from '../core/alert.js';
import { AlertBook } from '../detect/alert-book.js';
import { DetectionEngine } from '../detect/engine.js';
import { ALL_RULES } from '../detect/rules/index.js';
import type { RuleModule } from '../detect/rule.js';
import { configureEnrichment } from '../detect/configure.js';
import { SiteModel } from '../detect/site.js';
import { parseSipMessage } from '../sip/message.js';
import { readCaptureFile } from '../sources/capture-file.js';
import { readLogFile } from '../sources/log-file.js';
import { logParserFor, LOG_KINDS, type LogLineParser } from '../logs/index.js';
import { Pipeline } from '../pipeline.js';
import type { CallsSummary, InputSummary, SummaryJson } from '../analyze/summary.js';
import type { CallTable } from '../track/call-table.js';
import { textReportLines } from '../analyze/report.js';
import { EXIT_FINDINGS, EXIT_INPUT, EXIT_OK, EXIT_USAGE, UsageError } from './exit-codes.js';
import { ConfigError, defaultConfig, loadConfig, type Config } from '../config/config.js';
import { parseCommandArgs } from './args.js';
import { parseCdrSpec, type CdrFileSpec } from '../cdr/cdr-config.js';
import { cdrParser } from '../sources/cdr-sources.js';
import { readCdrFile } from '../sources/cdr-file.js';

/** The document `analyze --format json` prints (DESIGN.md). */
export interface AnalyzeJson {
  summary: SummaryJson;
  alerts: AlertJson[];
}

/** What one analyze run produced, before formatting. */
export interface AnalyzeResult {
  /** The whole document; its \`alerts\` are read back (all at once) on first access. */
  readonly document: AnalyzeJson;
  /** Input errors (one line each, naming the file and offset). */
  readonly errors: string[];
  /** The alerts one at a time, in report order, without holding them all (the printer's way). */
  readonly alerts: () => Iterable<AlertJson>;
  readonly alertCount: number;
  /** Releases what the report kept on disk. */
  readonly dispose: () => void;
}

/** Options of an analyze run (the command line's, parsed). */
export interface AnalyzeOptions {
  readonly config?: Config;
  /** Overrides the configuration's sensor name. */
  readonly sensor?: string;
  /** The rules to run (default: every shipped rule). */
  readonly rules?: readonly RuleModule[];
  /** Receives every alert revision as it is made (the report keeps only the latest). */
  readonly onRevision?: (alert: AlertJson) => void;
  /** CDR files (`--cdr 3cx:FILE`), read after the other inputs; the configuration's `cdr.files`
   * are read too. */
  readonly cdr?: readonly CdrFileSpec[];
}

/** Runs the pipeline over every input file and returns the report document. */
export async function analyzeFiles(
  files: readonly string[],
  options: AnalyzeOptions = {},
): Promise<AnalyzeResult> {
  const config = options.config ?? defaultConfig();
  configureEnrichment(config);
  const site = new SiteModel({
    name: config.site,
    pbx: config.network.pbx,
    trunks: config.network.trunks,
    trusted: config.network.trusted,
    sbc: config.network.sbc,
    identities: config.identities,
  });
  const book = new AlertBook(site.name, options.sensor ?? config.sensor, options.onRevision);
  const engine = new DetectionEngine(options.rules ?? ALL_RULES, book, site, config.rules);
  const decoder: { sipPorts?: number[]; hepPorts?: number[] } = {};
  if (config.decode.sipPorts !== undefined) decoder.sipPorts = config.decode.sipPorts;
  if (config.decode.hepPorts !== undefined) decoder.hepPorts = config.decode.hepPorts;
  const pipeline = new Pipeline({
    listener: engine,
    decoder,
    ...(config.hep.authKey !== undefined ? { hepAuthKey: config.hep.authKey } : {}),
  });
  const errors: string[] = [];
  const cdrFiles = [
    ...(options.cdr ?? []).map((c) => c.path),
    ...config.cdr.files.filter((f) => !(options.cdr ?? []).some((c) => c.path === f)),
  ];
  // Calls the captures show are remembered so their CDR records are not counted twice.
  if (cdrFiles.length > 0) engine.cdrDedup.expectCdrs();
  for (const file of files) {
    const before = pipeline.summary.sipMessages;
    const input: InputSummary = { file, format: 'unknown', frames: 0, sipMessages: 0 };
    try {
      const kind = await sniff(file);
      if (kind === 'capture') {
        const r = await readCaptureFile(file, (f) => {
          // A literal, not a spread of a shared base: the spread was 4% of analyze's time.
          pipeline.frame(f.linkType, f.data, f.time, { kind: 'capture', file, frame: f.frame });
        });
        input.format = r.gzip ? `${r.format}+gzip` : r.format;
        input.frames = r.frames;
        if (r.error !== undefined) {
          const msg = `${file}: ${r.error.message} (offset ${r.error.offset})`;
          input.error = msg;
          errors.push(r.frames > 0 ? `${msg}; the ${r.frames} frames before it were processed` : msg);
        }
      } else if (kind === 'sip') {
        input.format = 'sip';
        input.frames = await readSipFile(file, pipeline);
      } else if (typeof kind === 'object' && 'log' in kind) {
        input.format = `log:${kind.log.product}`;
        const year = (await stat(file)).mtime.getUTCFullYear();
        let last = 0;
        let events = 0;
        const r = await readLogFile(file, (text, lineNo) => {
          const e = kind.log.parse(text, lineNo, {
            timeZone: config.timeZone,
            year,
            fallbackTime: last,
            file,
          });
          if (e === undefined) return;
          last = e.time;
          events++;
          engine.logEvent(e);
        });
        input.frames = r.lines;
        input.logEvents = events;
      } else {
        const msg = `${file}: not a capture (pcap, pcapng, gzip) nor a SIP message file (offset 0: ${kind.reason})`;
        input.error = msg;
        errors.push(msg);
      }
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      input.error = msg;
      errors.push(msg.startsWith(file) ? msg : `${file}: ${msg}`);
    }
    input.sipMessages = pipeline.summary.sipMessages - before;
    pipeline.summary.inputs.push(input);
  }
  pipeline.finish();
  // CDRs after the captures: a CDR is written at hang-up, after the wire saw its call.
  for (const file of cdrFiles) {
    const input: InputSummary = { file, format: 'cdr:3cx', frames: 0, sipMessages: 0 };
    const before = { ...engine.cdrStats };
    try {
      const r = await readCdrFile(file, cdrParser(config.cdr, config.timeZone), {
        call: (c) => engine.cdrCall(c),
        anomaly: (a) => pipeline.summary.anomaly(a),
      });
      input.format = r.gzip ? 'cdr:3cx+gzip' : 'cdr:3cx';
      input.frames = r.lines;
      if (r.calls === 0 && r.lines > r.blank) {
        const msg = `${file}: no CDR record read from ${r.lines} lines (is the cdr.fields order right?)`;
        input.error = msg;
        errors.push(msg);
      }
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      input.error = msg;
      errors.push(msg.includes(file) ? msg : `${file}: ${msg}`);
    }
    input.cdrCalls = engine.cdrStats.calls - before.calls;
    input.cdrCallsCounted = engine.cdrStats.counted - before.counted;
    pipeline.summary.inputs.push(input);
  }
  engine.flush();
  const t = pipeline.tracker;
  const summary = pipeline.summary.toJson({
    transactions: t.transactions.stats.transactions,
    dialogs: t.dialogs.stats.dialogs,
    registrations: t.registrations.stats.registrations,
    calls: callsSummary(t.calls),
  });
  summary.retransmissions =
    t.transactions.stats.requestRetransmissions + t.transactions.stats.responseRetransmissions;
  let all: AlertJson[] | undefined;
  const document: AnalyzeJson = {
    summary,
    get alerts(): AlertJson[] {
      return (all ??= book.alerts());
    },
  };
  return {
    document,
    errors,
    alerts: () => all ?? book.alertsInOrder(),
    alertCount: book.alertCount,
    dispose: () => book.dispose(),
  };
}

/** The call table's counts for the report; calls still up at the end count as in progress. */
function callsSummary(calls: CallTable): CallsSummary {
  const outcomes: Record<string, number> = { ...calls.stats.outcomes };
  if (calls.size > 0) outcomes['in-progress'] = calls.size;
  return {
    total: calls.stats.calls,
    answered: calls.stats.answered,
    pairedLegs: calls.stats.pairedLegs,
    outcomes: Object.fromEntries(Object.entries(outcomes).sort(([a], [b]) => (a < b ? -1 : 1))),
  };
}

/** `sipwarden analyze`: parses flags, runs, prints, and returns the exit code. */
export async function runAnalyze(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('analyze', args, {
    format: { type: 'string', short: 'f', default: 'text' },
    'fail-on': { type: 'string' },
    sensor: { type: 'string' },
    config: { type: 'string', short: 'c' },
    cdr: { type: 'string', multiple: true },
  });
  const cdr: CdrFileSpec[] = [];
  for (const spec of (values.cdr as string[] | undefined) ?? []) {
    const c = parseCdrSpec(spec);
    if ('error' in c) throw new UsageError(`analyze: ${c.error}`);
    cdr.push(c);
  }
  const format = values.format as string;
  if (!['text', 'json', 'jsonl'].includes(format)) {
    throw new UsageError(`analyze: --format must be text, json or jsonl (got '${format}')`);
  }
  const failOn = values['fail-on'] as string | undefined;
  if (failOn !== undefined && !isSeverity(failOn)) {
    throw new UsageError(
      `analyze: --fail-on must be one of info, low, medium, high, critical (got '${failOn}')`,
    );
  }
  if (positionals.length === 0 && cdr.length === 0)
    throw new UsageError('analyze: give at least one capture, SIP message, log or CDR file');
  const sensor = values.sensor as string | undefined;
  const configPath = values.config as string | undefined;
  let config: Config | undefined;
  if (configPath !== undefined) {
    try {
      config = await loadConfig(configPath, new Set(ALL_RULES.map((r) => r.meta.id)));
    } catch (err) {
      if (err instanceof ConfigError) {
        process.stderr.write(`sipwarden: ${err.message}\n`);
        return EXIT_USAGE;
      }
      throw err;
    }
  }
  let result: AnalyzeResult;
  try {
    result = await analyzeFiles(positionals, {
      ...(config !== undefined ? { config } : {}),
      ...(sensor !== undefined ? { sensor } : {}),
      cdr,
    });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`sipwarden: ${err.message}\n`);
      return EXIT_USAGE;
    }
    throw err;
  }
  const { document, errors } = result;
  // Alerts are printed as they are read back: a long capture's report is never all in memory.
  let worst = -1;
  const alerts = function* (): Generator<AlertJson> {
    for (const a of result.alerts()) {
      worst = Math.max(worst, severityRank(a.severity));
      yield a;
    }
  };
  // Each full chunk is written before the next is made (`await` on what `write` returns), so the
  // report never piles up in memory behind a slow reader.
  const out = new OutputBuffer();
  if (format === 'json') {
    await out.write(
      `{\n  "summary": ${JSON.stringify(document.summary, null, 2).replaceAll('\n', '\n  ')},\n  "alerts": [`,
    );
    let n = 0;
    for (const a of alerts()) {
      await out.write(
        `${n++ === 0 ? '' : ','}\n    ${JSON.stringify(a, null, 2).replaceAll('\n', '\n    ')}`,
      );
    }
    await out.write(n === 0 ? ']\n}\n' : '\n  ]\n}\n');
  } else if (format === 'jsonl') {
    for (const a of alerts()) await out.write(`${JSON.stringify(a)}\n`);
  } else {
    for (const line of textReportLines(document.summary, alerts(), result.alertCount))
      await out.write(`${line}\n`);
  }
  await out.end();
  result.dispose();
  for (const e of errors) process.stderr.write(`sipwarden: ${e}\n`);
  if (failOn !== undefined && worst >= severityRank(failOn as Severity)) return EXIT_FINDINGS;
  return errors.length > 0 ? EXIT_INPUT : EXIT_OK;
}

type Sniffed = 'capture' | 'sip' | { log: LogLineParser } | { reason: string };

/** Bytes of a text file's head tried against the PBX log parsers to tell which wrote it. */
const LOG_SNIFF_BYTES = 65_536;

const CAPTURE_MAGICS = [0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d, 0x4d3cb2a1, 0x0a0d0d0a];

/** Tells a capture from a raw SIP file by its first bytes. */
async function sniff(file: string): Promise<Sniffed> {
  let fh;
  try {
    fh = await open(file, 'r');
  } catch (err) {
    throw new Error(`${file}: cannot open: ${err instanceof Error ? err.message : String(err)}`, {
      cause: err,
    });
  }
  try {
    const head = Buffer.alloc(LOG_SNIFF_BYTES);
    const { bytesRead } = await fh.read(head, 0, LOG_SNIFF_BYTES, 0);
    if (bytesRead === 0) return { reason: 'the file is empty' };
    if (bytesRead >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'capture';
    if (bytesRead >= 4 && CAPTURE_MAGICS.includes(head.readUInt32BE(0))) return 'capture';
    const msg = parseSipMessage(head.subarray(0, Math.min(bytesRead, 64)));
    if (msg.kind !== 'invalid') return 'sip';
    const log = sniffLog(head.subarray(0, bytesRead));
    if (log !== undefined) return { log };
    // A start line longer than the probe: accept text that begins like a request or status line.
    if (/^(?:\r?\n)*(?:SIP\/|[A-Z]{2,20} \S)/.test(head.subarray(0, bytesRead).toString('latin1')))
      return 'sip';
    return {
      reason: `expected a pcap/pcapng magic number, gzip, a SIP start line, or a PBX log (${LOG_KINDS.join(', ')}) with at least one line sipwarden recognises`,
    };
  } finally {
    await fh.close();
  }
}

/** The parser that recognises most lines of a text head (at least one), if any. */
function sniffLog(head: Buffer): LogLineParser | undefined {
  const lines = head.toString('utf8').split('\n');
  if (lines.length > 1) lines.pop(); // the last one may be cut
  let best: LogLineParser | undefined;
  let bestCount = 0;
  for (const kind of LOG_KINDS) {
    const p = logParserFor(kind);
    if (p === undefined) continue;
    let n = 0;
    for (let i = 0; i < lines.length; i++) {
      if (p.parse(lines[i]!, i + 1, { timeZone: 'UTC', year: 2000, fallbackTime: 0 }) !== undefined) n++;
    }
    if (n > bestCount) {
      best = p;
      bestCount = n;
    }
  }
  return best;
}

/** Reads a file of one or more SIP messages back to back (UDP semantics per message). */
async function readSipFile(file: string, pipeline: Pipeline): Promise<number> {
  const size = (await stat(file)).size;
  if (size > ANALYZE_MAX_SIP_FILE_BYTES) {
    throw new Error(
      `${file}: a SIP message file may be at most ${ANALYZE_MAX_SIP_FILE_BYTES} bytes (it has ${size})`,
    );
  }
  const buf = await readFile(file);
  let off = 0;
  let n = 0;
  while (off < buf.length) {
    while (off < buf.length && (buf[off] === 0x0d || buf[off] === 0x0a)) off++;
    if (off >= buf.length) break;
    const data = buf.subarray(off);
    const msg = parseSipMessage(data);
    n++;
    const frame = {
      time: 0,
      srcIp: '0.0.0.0',
      srcPort: 0,
      dstIp: '0.0.0.0',
      dstPort: 0,
      transport: 'udp' as const,
      provenance: { kind: 'capture' as const, file, frame: n },
      data: msg.kind === 'invalid' ? data : data.subarray(0, msg.length),
    };
    pipeline.summary.packets++;
    pipeline.sipFrame(frame);
    if (msg.kind === 'invalid' || msg.length <= 0) break;
    off += msg.length;
  }
  return n;
}

/** Batches report output into large writes to stdout, waiting when the pipe is full. */
class OutputBuffer {
  private parts: string[] = [];
  private bytes = 0;
  private pending: Promise<void> = Promise.resolve();

  /**
   * Adds text. When that fills a chunk, the chunk is sent and the promise of its write returned:
   * await it before making more text.
   */
  write(s: string): Promise<void> | undefined {
    this.parts.push(s);
    this.bytes += s.length;
    return this.bytes >= OUTPUT_FLUSH_CHARS ? this.flush() : undefined;
  }

  async end(): Promise<void> {
    await this.flush();
  }

  private flush(): Promise<void> {
    if (this.parts.length === 0) return this.pending;
    const chunk = this.parts.join('');
    this.parts = [];
    this.bytes = 0;
    const prev = this.pending;
    this.pending = prev.then(
      () =>
        new Promise<void>((resolve, reject) => {
          process.stdout.write(chunk, (err) => (err ? reject(err) : resolve()));
        }),
    );
    return this.pending;
  }
}

/** Characters of report text gathered before one write to stdout. */
const OUTPUT_FLUSH_CHARS = 1 << 20;
