/**
 * The live sensor behind `sipwarden watch`: every source (HEP, interface capture, log files,
 * syslog) feeds the same pipeline and detection engine as `analyze`; every alert revision is
 * committed to the store before any sink sees it; sinks, block lists, metrics and the HTTP API hang
 * off the store. Only this file and the sources read the wall clock: detection runs in event time,
 * and idle ticks move event time on when sources are quiet.
 */
import type { Server } from 'node:http';
import { once } from 'node:events';
import type { AlertJson } from '../core/alert.js';
import { tableTotals } from '../core/bounded-table.js';
import type { CdrCall, PbxLogEvent, SipFrame, SourceHealthEvent, SourceKind } from '../core/records.js';
import { createCdrSources } from '../sources/cdr-sources.js';
import type { Config } from '../config/config.js';
import {
  WATCH_IDLE_LATENESS_MS,
  WATCH_MINUTE_MAX_KEYS,
  WATCH_STORE_BATCH,
  WATCH_STORE_QUEUE_MAX,
  WATCH_TICK_INTERVAL_MS,
  WATCH_STATE_SNAPSHOT_INTERVAL_MS,
  CDR_DEFAULT_QUIET_MS,
} from '../config/limits.js';
import { AlertBook } from '../detect/alert-book.js';
import type { AuthAttempt } from '../detect/attempts.js';
import { configureEnrichment } from '../detect/configure.js';
import { DetectionEngine } from '../detect/engine.js';
import type { RuleModule } from '../detect/rule.js';
import { configureCallVolume } from '../detect/rules/fraud-call-volume.js';
import { ALL_RULES } from '../detect/rules/index.js';
import { SiteModel } from '../detect/site.js';
import { logParserFor, LOG_KINDS, type LogLineParser } from '../logs/index.js';
import { wallTimeToEpoch } from '../logs/time.js';
import { Pipeline } from '../pipeline.js';
import { BlockList } from '../sinks/block/block-list.js';
import { renderPlain } from '../sinks/block/formats.js';
import { BlockWriter } from '../sinks/block/writer.js';
import { JsonlSink } from '../sinks/jsonl.js';
import { createSipwardenMetrics, type Series, type SipwardenMetrics } from '../sinks/metrics.js';
import { SinkRunner, type AlertSink } from '../sinks/sink.js';
import { createSinks } from '../sinks/sinks-config.js';
import { HepListener, type HepListenerStats } from '../sources/hep-listener.js';
import { udpKernelDrops } from '../sources/kernel-drops.js';
import { InterfaceCapture } from '../sources/interface-capture.js';
import type { LiveSource, LogLine } from '../sources/live-source.js';
import { LogTail } from '../sources/log-tail.js';
import { SourceHealth } from '../sources/source-health.js';
import { SyslogReceiver } from '../sources/syslog-receiver.js';
import { AlertStore, storeOptionsFromConfig } from '../store/alert-store.js';
import { createApiServer } from '../web/api.js';
import { decodeJournalBatch, JournalWriter, type JournalRecord } from './journal.js';
import { ReturnPaths } from './return-paths.js';

/** Options of a sensor. */
export interface SensorOptions {
  readonly config: Config;
  /** Extra JSONL file sink (`--jsonl`). */
  readonly jsonl?: string;
  /** Rules to run (default: all). */
  readonly rules?: readonly RuleModule[];
  /** Where the sensor says what it does (one line each). */
  readonly log?: (line: string) => void;
  /** Wall clock (tests). */
  readonly now?: () => number;
  /** Version for syslog/CEF headers. */
  readonly version?: string;
}

/** Sensor counters beyond the pipeline's. */
export interface SensorStats {
  frames: number;
  logLines: number;
  logEvents: number;
  /** Calls read from CDR sources. */
  cdrCalls: number;
  revisions: number;
  storeDropped: number;
  storeErrors: number;
  replayed: number;
  replayBad: number;
}

interface MinuteCounts {
  minute: number;
  messages: number;
  failures: number;
  calls: number;
  sources: Map<string, number>;
  identities: Map<string, number>;
}

/** The live sensor. */
export class Sensor {
  readonly stats: SensorStats = {
    frames: 0,
    logLines: 0,
    logEvents: 0,
    cdrCalls: 0,
    revisions: 0,
    storeDropped: 0,
    storeErrors: 0,
    replayed: 0,
    replayBad: 0,
  };
  readonly store: AlertStore;
  readonly pipeline: Pipeline;
  readonly engine: DetectionEngine;
  readonly metrics: SipwardenMetrics;
  readonly returnPaths = new ReturnPaths();
  private readonly packetCounts: Record<'hep' | 'capture' | 'log' | 'syslog', Series>;
  private readonly config: Config;
  private readonly now: () => number;
  private readonly log: (line: string) => void;
  private readonly book: AlertBook;
  private readonly runner: SinkRunner;
  private readonly sources: LiveSource[] = [];
  /** UDP ports of the HEP and syslog listeners, for the kernel's drop counters. */
  private readonly udpPorts: number[] = [];
  private readonly health = new SourceHealth();
  private readonly journal: JournalWriter;
  private readonly blockList: BlockList | undefined;
  private readonly blockWriter: BlockWriter | undefined;
  private http: Server | undefined;
  private readonly timers: NodeJS.Timeout[] = [];
  private pending: AlertJson[] = [];
  private commitScheduled = false;
  private replaying = false;
  private minute: MinuteCounts | undefined;
  private lastSip = 0;
  private lastDialogs = 0;
  private readonly metricMarks = new Map<string, number>();
  private stopped = false;

  constructor(options: SensorOptions) {
    // Table totals are per process: what tables counted before this sensor is not its own.
    for (const [table, st] of tableTotals()) {
      this.metricMarks.set(`evict-table:${table}`, st.evictions);
      this.metricMarks.set(`refuse-table:${table}`, st.rejections);
    }
    const config = options.config;
    this.config = config;
    this.now = options.now ?? Date.now;
    this.log = options.log ?? (() => undefined);
    configureEnrichment(config);
    // Hours of week are read in the site's zone; a saved baseline is refused if the zone changed.
    configureCallVolume({ timeZone: config.timeZone });
    this.store = new AlertStore(storeOptionsFromConfig(config.store, this.now));
    const site = new SiteModel({
      name: config.site,
      pbx: config.network.pbx,
      trunks: config.network.trunks,
      trusted: config.network.trusted,
      sbc: config.network.sbc,
      identities: config.identities,
    });
    this.book = new AlertBook(site.name, config.sensor, (a) => this.revision(a), { report: false });
    this.engine = new DetectionEngine(options.rules ?? ALL_RULES, this.book, site, config.rules);
    this.engine.messageTaps.push((ev, tx) => this.returnPaths.message(ev, tx));
    this.engine.attemptTaps.push((a) => {
      this.returnPaths.attempt(a);
      this.countAttempt(a);
    });
    const decoder: { sipPorts?: number[]; hepPorts?: number[] } = {};
    if (config.decode.sipPorts !== undefined) decoder.sipPorts = config.decode.sipPorts;
    if (config.decode.hepPorts !== undefined) decoder.hepPorts = config.decode.hepPorts;
    this.pipeline = new Pipeline({
      listener: this.engine,
      decoder,
      ...(config.hep.authKey !== undefined ? { hepAuthKey: config.hep.authKey } : {}),
    });
    this.metrics = createSipwardenMetrics();
    // Bound once: a label object and a series lookup per packet were avoidable work on the hot path.
    const packets = this.metrics.packets;
    this.packetCounts = {
      hep: packets.labels('hep'),
      capture: packets.labels('capture'),
      log: packets.labels('log'),
      syslog: packets.labels('syslog'),
    };
    this.journal = new JournalWriter((batch) => {
      try {
        this.store.journalAppend('records', batch, this.now());
      } catch (err) {
        this.stats.storeErrors++;
        this.log(`store: journal write failed: ${String(err)}`);
      }
    });

    const sinks: AlertSink[] = createSinks(config.sinks, options.version ? { version: options.version } : {});
    if (options.jsonl !== undefined) sinks.push(new JsonlSink({ path: options.jsonl, fsync: 'batch' }));
    // Suppressed alerts stay in the store but are not delivered: each sink counts them as filtered.
    this.runner = new SinkRunner(this.store, sinks, {
      withhold: (a) => this.store.isSuppressed(a, this.now()),
      onError: (name: string, err: unknown) => this.log(`sink ${name}: ${String(err)}`),
    });
    this.metrics.observeSinks(() => this.runner.stats());

    if (config.blocking.enabled) {
      this.blockList = new BlockList({
        rules: config.blocking.rules,
        minSeverity: config.blocking.minSeverity,
        durationMs: config.blocking.durationMs,
        maxDurationMs: config.blocking.maxDurationMs,
        ipv6Prefix: config.blocking.ipv6Prefix,
        sites: [
          {
            name: config.site,
            pbx: config.network.pbx,
            trunks: config.network.trunks,
            trusted: config.network.trusted,
            identities: config.identities,
          },
        ],
        hasReturnPath: (ip) => this.returnPaths.has(ip),
      });
      this.blockWriter = new BlockWriter({
        config: config.blocking,
        list: this.blockList,
        now: this.now,
        log: (line) => this.log(`block: ${line}`),
      });
    }
  }

  /** Opens the store's history, replays the journal, starts every source; returns what it listens on. */
  async start(extra: { hep?: string[]; syslog?: string[]; logs?: string[]; interfaces?: string[] } = {}) {
    const c = this.config;
    const said: string[] = [`store ${this.store.path} (SQLite, WAL)`];
    if (this.blockWriter !== undefined) {
      await this.blockWriter.load();
      said.push(`blocking ${c.blocking.dryRun ? 'on, dry run' : 'on'}`);
    }
    // Learned state first: the journal replay then adds only what the snapshot had not seen.
    this.restoreStates();
    this.replay();

    const hepListen = [...(c.sources.hep?.listen ?? []), ...(extra.hep ?? [])];
    if (hepListen.length > 0) {
      const hepAuthKey = c.sources.hep?.authKey ?? c.hep.authKey;
      const hep = new HepListener(
        {
          listen: hepListen,
          allow: c.sources.hep?.allow ?? [],
          ...(hepAuthKey !== undefined ? { authKey: hepAuthKey } : {}),
          ...(c.sources.hep?.recvBufferBytes !== undefined
            ? { recvBufferBytes: c.sources.hep.recvBufferBytes }
            : {}),
          ...(c.sources.hep?.maxQueueDelayMs !== undefined
            ? { maxQueueDelayMs: c.sources.hep.maxQueueDelayMs }
            : {}),
        },
        {
          frame: (f) => {
            this.packetCounts.hep.inc();
            this.frame(f);
          },
        },
      );
      this.add(hep);
    }
    const ifaces = [...c.sources.interfaces, ...(extra.interfaces ?? []).map((name) => ({ name }))];
    for (const i of ifaces as {
      name: string;
      tool?: 'auto' | 'dumpcap' | 'tcpdump';
      filter?: string;
      sipPorts?: number[];
      hepPorts?: number[];
    }[]) {
      const opts: ConstructorParameters<typeof InterfaceCapture>[0] = {
        interface: i.name,
        ...(i.tool !== undefined ? { tool: i.tool } : {}),
        ...(i.filter !== undefined ? { filter: i.filter } : {}),
        ...(i.sipPorts !== undefined ? { sipPorts: i.sipPorts } : {}),
        ...(i.hepPorts !== undefined ? { hepPorts: i.hepPorts } : {}),
      };
      const label = `iface:${i.name}`;
      this.add(
        new InterfaceCapture(opts, (f, seq) => {
          this.packetCounts.capture.inc();
          // The frame is only valid during the call; TCP reassembly may keep its bytes.
          this.pipeline.frame(f.linkType, Buffer.from(f.data), f.time, {
            kind: 'capture',
            file: label,
            frame: seq,
          });
        }),
      );
    }
    const logs = [...c.sources.logs, ...(extra.logs ?? []).map((spec) => parseLogSpec(spec))];
    for (const l of logs) {
      const parser = logParserFor(l.kind);
      if (parser === undefined) throw new Error(`--log ${l.kind}:${l.path}: unknown log kind`);
      let tail: LogTail | undefined = undefined;
      tail = new LogTail(
        {
          path: l.path,
          fromStart: l.fromStart,
          name: `log ${l.kind}:${l.path}`,
          ...(l.pollIntervalMs !== undefined ? { pollIntervalMs: l.pollIntervalMs } : {}),
        },
        (line) => {
          this.packetCounts.log.inc();
          if (this.logLine([parser], line)) tail?.noteRecognised(1);
        },
      );
      this.add(tail);
    }
    const syslogListen = [...(c.sources.syslog?.listen ?? []), ...(extra.syslog ?? [])];
    if (syslogListen.length > 0) {
      const kind = c.sources.syslog?.kind;
      const parsers = (kind !== undefined ? [kind] : LOG_KINDS).map((k) => logParserFor(k)!);
      const tz = c.timeZone;
      let rx: SyslogReceiver | undefined = undefined;
      rx = new SyslogReceiver(
        {
          listen: syslogListen,
          allow: c.sources.syslog?.allow ?? [],
          toEpoch: (f) => wallTimeToEpoch(f.year, f.month, f.day, f.hour, f.minute, f.second, 0, tz),
        },
        (line) => {
          this.packetCounts.syslog.inc();
          if (this.logLine(parsers, line)) rx?.noteRecognised(1);
        },
      );
      this.add(rx);
    }
    const cdrSources = createCdrSources(c.cdr, c.timeZone, {
      call: (call) => this.cdrCall(call),
      anomaly: (a) => this.pipeline.summary.anomaly(a),
    });
    // Calls seen on the wire before the first CDR arrives are remembered, so their CDR (written at
    // hang-up) is not counted a second time.
    if (cdrSources.length > 0) this.engine.cdrDedup.expectCdrs();
    for (const s of cdrSources) this.add(s);

    for (const s of this.sources) {
      await s.start();
      if (s instanceof HepListener) {
        const why = s.stats().udpWorkerError;
        if (why !== undefined)
          this.log(`${s.name}: UDP read on the main thread (its thread did not start: ${why})`);
      }
      if (s instanceof HepListener || s instanceof SyslogReceiver) {
        for (const a of s.addresses()) {
          const m = /^udp:\/\/.*:(\d+)$/.exec(a);
          if (m !== null) this.udpPorts.push(Number(m[1]));
        }
      }
      said.push(s.name);
      const quiet = c.sources.health.sources[s.name]?.quietMs ?? quietFor(c, s.kind);
      this.health.add(s.name, s.kind, () => s.stats(), quiet !== undefined ? { quietMs: quiet } : {});
    }

    if (c.http.listen !== '') {
      const [host, port] = splitHostPort(c.http.listen);
      this.http = createApiServer({
        store: this.store,
        metrics: () => this.renderMetrics(),
        blocklist: () => this.blockText(),
        ...(c.http.token !== undefined ? { token: c.http.token } : {}),
      });
      this.http.listen(port, host);
      await once(this.http, 'listening');
      const a = this.http.address();
      said.push(
        `http ${typeof a === 'object' && a !== null ? `${a.address}:${a.port}` : c.http.listen} (API, /metrics)`,
      );
    }

    this.every(WATCH_TICK_INTERVAL_MS, () => this.idleTick());
    this.every(c.sources.health.checkIntervalMs, () => this.checkHealth());
    this.every(1000, () => this.journal.flush());
    this.every(60_000, () => this.flushMinute(true));
    this.every(3_600_000, () => this.prune());
    this.every(WATCH_STATE_SNAPSHOT_INTERVAL_MS, () => this.saveStates());
    if (this.blockWriter !== undefined) this.every(5000, () => void this.blockWriter?.flush());
    return said;
  }

  /** Address the HTTP API listens on (tests pick port 0). */
  httpAddress(): string | undefined {
    const a = this.http?.address();
    return typeof a === 'object' && a !== null ? `${a.address}:${a.port}` : undefined;
  }

  /** Stops sources, commits what is pending, drains sinks, closes the store. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    await Promise.allSettled(this.sources.map((s) => s.stop()));
    this.journal.flush();
    this.commit();
    this.flushMinute(false);
    this.saveStates();
    if (this.http !== undefined) {
      this.http.closeAllConnections();
      await new Promise<void>((r) => this.http?.close(() => r()));
    }
    if (this.blockWriter !== undefined) await this.blockWriter.flush(true);
    await this.runner.close();
    this.store.close();
  }

  /** One SIP frame from HEP (or a test). */
  frame(f: SipFrame): void {
    this.stats.frames++;
    this.journal.frame(f);
    this.pipeline.sipFrame(f);
  }

  /** One log line: the first parser that recognises it makes the event. True when recognised. */
  logLine(parsers: readonly LogLineParser[], line: LogLine): boolean {
    this.stats.logLines++;
    const now = this.now();
    const ctx = {
      timeZone: this.config.timeZone,
      year: new Date(now).getUTCFullYear(),
      fallbackTime: line.time ?? now,
      ...(line.provenance.file !== undefined ? { file: line.provenance.file } : {}),
    };
    for (const p of parsers) {
      const e = p.parse(line.text, line.provenance.line ?? 0, ctx);
      if (e === undefined) continue;
      this.logEvent(e);
      return true;
    }
    return false;
  }

  /** One PBX log event. */
  logEvent(e: PbxLogEvent): void {
    this.stats.logEvents++;
    this.journal.log(e);
    this.engine.logEvent(e);
  }

  /** One call a CDR source reported. */
  cdrCall(c: CdrCall): void {
    this.stats.cdrCalls++;
    this.journal.cdr(c);
    this.engine.cdrCall(c);
  }

  /** Renders /metrics. */
  renderMetrics(): string {
    this.syncMetrics();
    return this.metrics.registry.render();
  }

  private add(s: LiveSource): void {
    this.sources.push(s);
  }

  private every(ms: number, fn: () => void): void {
    const t = setInterval(fn, ms);
    t.unref();
    this.timers.push(t);
  }

  private idleTick(): void {
    const t = this.now() - WATCH_IDLE_LATENESS_MS;
    this.pipeline.decoder.tick(t);
    this.pipeline.tracker.tick(t);
    this.engine.tick(t);
  }

  private checkHealth(): void {
    for (const e of this.health.check(this.now())) {
      this.log(`source ${e.source}: ${e.kind}: ${e.detail}`);
      const ev: SourceHealthEvent = { time: e.time, source: e.source, kind: e.kind, detail: e.detail };
      this.engine.sourceHealth(ev);
    }
  }

  /** The alert book made a revision: queue it for the store (committed in batches, in order). */
  private revision(a: AlertJson): void {
    this.stats.revisions++;
    if (this.pending.length >= WATCH_STORE_QUEUE_MAX) {
      this.pending.shift();
      this.stats.storeDropped++;
      this.metrics.dropped.inc({ stage: 'store' }, 1);
    }
    this.pending.push(a);
    if (!this.commitScheduled) {
      this.commitScheduled = true;
      setImmediate(() => this.commit());
    }
  }

  /** Commits pending revisions, then lets sinks and the block list see them. */
  private commit(): void {
    this.commitScheduled = false;
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0, WATCH_STORE_BATCH);
      try {
        this.store.putMany(batch);
      } catch (err) {
        this.stats.storeErrors++;
        this.log(`store: ${String(err)}`);
        continue;
      }
      // A replay re-makes revisions already stored (the store ignores them): not new alerts.
      if (!this.replaying) {
        for (const a of batch) {
          this.metrics.alerts.inc({ rule: a.rule }, 1);
          this.blockWriter?.handle(a);
        }
      }
    }
    this.runner.notify();
  }

  /** Replays the journal through detection so windows continue after a restart. */
  private replay(): void {
    this.replaying = true;
    const since = this.now() - this.config.store.journalMaxAgeMinutes * 60_000;
    const records: JournalRecord[] = [];
    for (const entry of this.store.journalSince(since, 'records')) {
      records.length = 0;
      this.stats.replayBad += decodeJournalBatch(entry.data, records).bad;
      for (const r of records) {
        this.stats.replayed++;
        if (r.kind === 'frame') this.pipeline.sipFrame(r.frame);
        else if (r.kind === 'cdr') this.engine.cdrCall(r.call);
        else this.engine.logEvent(r.event);
      }
    }
    this.commit();
    this.replaying = false;
    if (this.stats.replayed > 0) this.log(`replayed ${this.stats.replayed} journal records`);
  }

  /** Loads each stateful rule's snapshot from the store; a missing one is normal, a bad one is logged
   * and that rule starts fresh. */
  private restoreStates(): void {
    const states: Record<string, unknown> = {};
    for (const rule of this.engine.statefulRules) {
      try {
        const s = this.store.loadSnapshot(stateSnapshotName(rule));
        if (s !== undefined) states[rule] = s.data;
      } catch (err) {
        this.log(`state of ${rule} not restored: ${String(err)}`);
      }
    }
    const refused = this.engine.loadStates(states);
    for (const r of refused) this.log(`state of ${r.rule} not restored: ${r.reason}`);
    const n = Object.keys(states).length - refused.length;
    if (n > 0) this.log(`restored the learned state of ${n} rule${n === 1 ? '' : 's'}`);
  }

  /** Saves each stateful rule's state in the store (periodically and at shutdown). */
  private saveStates(): void {
    let states: Record<string, unknown>;
    try {
      states = this.engine.saveStates();
    } catch (err) {
      this.log(`state: ${String(err)}`);
      return;
    }
    for (const [rule, data] of Object.entries(states)) {
      try {
        this.store.saveSnapshot(stateSnapshotName(rule), data);
      } catch (err) {
        this.stats.storeErrors++;
        this.log(`store: state of ${rule}: ${String(err)}`);
      }
    }
  }

  private countAttempt(a: AuthAttempt): void {
    if (this.replaying) return;
    const m = this.currentMinute();
    if (a.outcome === 'rejected' || a.outcome === 'not-found' || a.outcome === 'forbidden') {
      m.failures++;
      bump(m.sources, a.srcIp);
      if (a.identity !== '') bump(m.identities, a.identity);
    }
  }

  private currentMinute(): MinuteCounts {
    const minute = Math.floor(this.now() / 60_000) * 60_000;
    if (this.minute === undefined || this.minute.minute !== minute) {
      this.flushMinute(false);
      this.minute = {
        minute,
        messages: 0,
        failures: 0,
        calls: 0,
        sources: new Map(),
        identities: new Map(),
      };
    }
    return this.minute;
  }

  /** Writes the per-minute counters (messages and calls are taken from the pipeline's totals). */
  private flushMinute(startNext: boolean): void {
    const m = this.minute;
    const sip = this.pipeline.summary.sipMessages;
    const dialogs = this.pipeline.tracker.dialogs.stats.dialogs;
    if (m !== undefined) {
      m.messages += sip - this.lastSip;
      m.calls += dialogs - this.lastDialogs;
      try {
        this.store.addCounters([
          {
            minute: m.minute,
            site: this.config.site,
            sensor: this.config.sensor,
            messages: m.messages,
            failures: m.failures,
            calls: m.calls,
            topSources: top(m.sources),
            topIdentities: top(m.identities),
          },
        ]);
      } catch (err) {
        this.stats.storeErrors++;
        this.log(`store: counters: ${String(err)}`);
      }
    }
    this.lastSip = sip;
    this.lastDialogs = dialogs;
    this.minute = undefined;
    if (startNext) this.currentMinute();
  }

  private prune(): void {
    try {
      this.store.prune(this.now());
    } catch (err) {
      this.stats.storeErrors++;
      this.log(`store: prune: ${String(err)}`);
    }
  }

  private blockText(): string {
    const w = this.blockWriter;
    if (w === undefined) return '# sipwarden block list: blocking is off\n';
    return renderPlain(this.blockList?.list(this.now()) ?? [], this.now());
  }

  /** Brings counters kept elsewhere (pipeline, tracker, book) into the registry. */
  private syncMetrics(): void {
    const m = this.metrics;
    this.delta('sip', this.pipeline.summary.sipMessages, (d) => m.sipMessages.inc({}, d));
    for (const [code, n] of Object.entries(this.pipeline.summary.anomalies)) {
      this.delta(`anomaly:${code}`, n, (d) => m.anomalies.inc({ code }, d));
    }
    const t = this.pipeline.tracker;
    const evictions: [string, number][] = [
      ['transactions', t.transactions.stats.evictions],
      ['dialogs', t.dialogs.stats.evictions],
      ['streams', this.pipeline.stats.streamEvictions],
      ['log_dedup', this.engine.dedup.evictions],
      ['cdr_dedup', this.engine.cdrDedup.evictions],
      ['return_paths', this.returnPaths.forgotten],
    ];
    for (const [table, n] of evictions) this.delta(`evict:${table}`, n, (d) => m.evictions.inc({ table }, d));
    // Every BoundedTable by name (the alert book's `alerts`, the detectors', the registrations'):
    // what they evicted to admit more frequent keys, and the new keys they refused (dropped state:
    // under a spoofed flood, most). Not listed above, so none is counted twice.
    for (const [table, st] of tableTotals()) {
      this.delta(`evict-table:${table}`, st.evictions, (d) => m.evictions.inc({ table }, d));
      this.delta(`refuse-table:${table}`, st.rejections, (d) =>
        m.dropped.inc({ stage: `table:${table}` }, d),
      );
    }
    // Datagrams the kernel dropped because the receive buffer was full: under overload, the loss.
    const kernel = udpKernelDrops(this.udpPorts);
    if (kernel !== undefined)
      this.delta('drop:kernel', kernel, (d) => m.dropped.inc({ stage: 'kernel:udp' }, d));
    for (const s of this.sources) {
      const st = s.stats();
      this.delta(`drop:${s.name}`, st.dropped, (d) => m.dropped.inc({ stage: `source:${s.kind}` }, d));
      if (s instanceof HepListener) {
        const shed = (st as HepListenerStats).shed;
        this.delta(`shed:${s.name}:options`, shed.options, (d) =>
          m.shed.inc({ source: s.kind, reason: 'options' }, d),
        );
        this.delta(`shed:${s.name}:overflow`, shed.overflow, (d) =>
          m.shed.inc({ source: s.kind, reason: 'overflow' }, d),
        );
        this.delta(`shed:${s.name}:delay`, shed.delay, (d) =>
          m.shed.inc({ source: s.kind, reason: 'delay' }, d),
        );
      }
    }
  }

  private delta(key: string, value: number, inc: (d: number) => void): void {
    const before = this.metricMarks.get(key) ?? 0;
    if (value > before) inc(value - before);
    if (this.metricMarks.size < WATCH_MINUTE_MAX_KEYS || this.metricMarks.has(key))
      this.metricMarks.set(key, value);
  }
}

/** The store snapshot a rule's detector state is saved under. */
export function stateSnapshotName(rule: string): string {
  return `detector:${rule}`;
}

function bump(m: Map<string, number>, key: string): void {
  const n = m.get(key);
  if (n !== undefined) m.set(key, n + 1);
  else if (m.size < WATCH_MINUTE_MAX_KEYS) m.set(key, 1);
}

function top(m: Map<string, number>): { key: string; count: number }[] {
  return [...m]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 20)
    .map(([key, count]) => ({ key, count }));
}

function quietFor(c: Config, kind: SourceKind): number | undefined {
  const q = c.sources.health.quietMs;
  return kind === 'log'
    ? q.log
    : kind === 'syslog'
      ? q.syslog
      : kind === 'hep'
        ? q.hep
        : kind === 'capture'
          ? q.capture
          : kind === 'cdr'
            ? (q.cdr ?? CDR_DEFAULT_QUIET_MS)
            : undefined;
}

/** `KIND:PATH` of `--log`. */
export function parseLogSpec(spec: string): {
  kind: (typeof LOG_KINDS)[number];
  path: string;
  fromStart: boolean;
  pollIntervalMs?: number;
} {
  const i = spec.indexOf(':');
  const kind = i < 0 ? '' : spec.slice(0, i);
  const path = i < 0 ? '' : spec.slice(i + 1);
  if (!(LOG_KINDS as readonly string[]).includes(kind) || path === '') {
    throw new Error(`--log ${spec}: expected KIND:PATH with KIND one of ${LOG_KINDS.join(', ')}`);
  }
  return { kind: kind as (typeof LOG_KINDS)[number], path, fromStart: false };
}

/** `HOST:PORT` (IPv6 as `[::1]:8080`). */
export function splitHostPort(s: string): [string, number] {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(s) ?? /^([^:]+):(\d+)$/.exec(s);
  const port = m === null ? NaN : Number(m[2]);
  if (m === null || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`--http ${s}: expected HOST:PORT such as 127.0.0.1:8080`);
  }
  return [m[1]!, port];
}
