/**
 * A small Prometheus registry (no dependency): counters and gauges with labels, a bound on the
 * series each metric keeps, gauges and counters read at scrape time, and the text exposition
 * format 0.0.4.
 */
import { METRICS_MAX_SERIES_PER_METRIC } from '../config/limits.js';
import type { SinkStats } from './sink.js';

/** Content-Type of the text exposition format. */
export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** The label value that series past the bound fold into. */
export const FOLDED_LABEL_VALUE = 'other';

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Label values by label name. */
export type Labels = Readonly<Record<string, string>>;

/** Escapes a label value: backslash, double quote and line feed. */
export function escapeLabelValue(v: string): string {
  return v.replace(/[\\"\n]/g, (c) => (c === '\\' ? '\\\\' : c === '"' ? '\\"' : '\\n'));
}

/** Escapes HELP text: backslash and line feed. */
function escapeHelp(v: string): string {
  return v.replace(/[\\\n]/g, (c) => (c === '\\' ? '\\\\' : '\\n'));
}

/** A sample value as the format spells it. */
export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

/** One series: a fixed set of label values and its value; hot paths keep one and call it. */
export interface Series {
  inc(by?: number): void;
  /** Gauges only (a counter's series ignores it). */
  set(v: number): void;
  dec(by?: number): void;
  readonly value: number;
}

class SeriesImpl implements Series {
  value = 0;
  constructor(
    readonly labelValues: readonly string[],
    private readonly monotonic: boolean,
  ) {}
  inc(by = 1): void {
    // A counter never goes down: a negative or NaN increment is a caller bug, not data.
    if (this.monotonic && !(by >= 0)) return;
    this.value += by;
  }
  set(v: number): void {
    if (!this.monotonic) this.value = v;
  }
  dec(by = 1): void {
    if (!this.monotonic) this.value -= by;
  }
}

/** What a scrape-time callback gives: one number for an unlabelled metric, or series. */
export type Collected = number | Iterable<readonly [Labels, number]>;

/** A metric family: a name, a type, label names and its bounded series. */
export class Metric {
  private readonly series = new Map<string, SeriesImpl>();
  private folded: SeriesImpl | undefined;

  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'counter' | 'gauge',
    readonly labelNames: readonly string[],
    private readonly maxSeries: number,
    private readonly onFold: (metric: string) => void,
    private readonly collect?: () => Collected,
  ) {}

  /** Number of series held (folded one included). */
  get size(): number {
    return this.series.size + (this.folded === undefined ? 0 : 1);
  }

  /**
   * The series for these label values, in the order of `labelNames` (missing ones are ''). Past the
   * bound a new combination gets the folded series (every label `other`), counted.
   */
  labels(...values: string[]): Series {
    const n = this.labelNames.length;
    const vals = values.length === n ? values : Array.from({ length: n }, (_, i) => values[i] ?? '');
    const key = n === 0 ? '' : vals.join('\u0000');
    const s = this.series.get(key);
    if (s !== undefined) return s;
    if (this.series.size >= this.maxSeries) {
      this.onFold(this.name);
      this.folded ??= new SeriesImpl(
        this.labelNames.map(() => FOLDED_LABEL_VALUE),
        this.type === 'counter',
      );
      return this.folded;
    }
    const created = new SeriesImpl(vals, this.type === 'counter');
    this.series.set(key, created);
    return created;
  }

  /** The series for labels given by name. */
  with(labels: Labels = {}): Series {
    return this.labels(...this.labelNames.map((l) => labels[l] ?? ''));
  }

  /** Adds to a counter or gauge (labels by name). */
  inc(labels: Labels = {}, by = 1): void {
    this.with(labels).inc(by);
  }

  /** Sets a gauge (labels by name). */
  set(labels: Labels, v: number): void {
    this.with(labels).set(v);
  }

  /**
   * Mirrors a total that another component counts itself (a scrape-time counter): the series
   * takes the larger of its value and `total`, so it never goes down.
   */
  private mirror(labels: Labels, total: number): void {
    const s = this.with(labels) as SeriesImpl;
    if (this.type === 'counter') {
      if (total > s.value) s.value = total;
    } else s.value = total;
  }

  /** The exposition text of this family. */
  render(out: string[]): void {
    if (this.collect !== undefined) {
      const c = this.collect();
      if (typeof c === 'number') this.mirror({}, c);
      else for (const [labels, v] of c) this.mirror(labels, v);
    }
    out.push(`# HELP ${this.name} ${escapeHelp(this.help)}`);
    out.push(`# TYPE ${this.name} ${this.type}`);
    if (this.labelNames.length === 0 && this.series.size === 0) this.labels();
    for (const s of this.series.values()) out.push(this.sample(s));
    if (this.folded !== undefined) out.push(this.sample(this.folded));
  }

  private sample(s: SeriesImpl): string {
    if (this.labelNames.length === 0) return `${this.name} ${formatValue(s.value)}`;
    const parts = this.labelNames.map((l, i) => `${l}="${escapeLabelValue(s.labelValues[i] ?? '')}"`);
    return `${this.name}{${parts.join(',')}} ${formatValue(s.value)}`;
  }
}

/** Options of a metric. */
export interface MetricOptions {
  readonly labelNames?: readonly string[];
  /** Read at scrape time: the metric's value(s) come from elsewhere. */
  readonly collect?: () => Collected;
  /** Series bound for this metric (defaults to METRICS_MAX_SERIES_PER_METRIC). */
  readonly maxSeries?: number;
}

/** A registry of metric families, rendered in registration order. */
export class MetricsRegistry {
  private readonly metrics = new Map<string, Metric>();
  private readonly folds: Metric;

  constructor() {
    this.folds = this.counter(
      'sipwarden_metric_label_folds_total',
      `Observations whose label values were folded into "${FOLDED_LABEL_VALUE}" because the metric had reached its series bound.`,
      { labelNames: ['metric'] },
    );
  }

  /** Declares a counter; its name must end in `_total`. */
  counter(name: string, help: string, opts: MetricOptions = {}): Metric {
    if (!name.endsWith('_total')) throw new Error(`counter ${name} must end in _total`);
    return this.add(name, help, 'counter', opts);
  }

  /** Declares a gauge. */
  gauge(name: string, help: string, opts: MetricOptions = {}): Metric {
    if (name.endsWith('_total')) throw new Error(`gauge ${name} must not end in _total`);
    return this.add(name, help, 'gauge', opts);
  }

  /** The metric of that name, if declared. */
  get(name: string): Metric | undefined {
    return this.metrics.get(name);
  }

  /** The whole registry in the text exposition format 0.0.4 (ends with a line feed). */
  render(): string {
    const out: string[] = [];
    for (const m of this.metrics.values()) m.render(out);
    return `${out.join('\n')}\n`;
  }

  private add(name: string, help: string, type: 'counter' | 'gauge', opts: MetricOptions): Metric {
    // Declaration mistakes are programming errors, caught by the tests, never by input.
    if (!METRIC_NAME.test(name)) throw new Error(`bad metric name ${name}`);
    if (this.metrics.has(name)) throw new Error(`metric ${name} declared twice`);
    const labelNames = opts.labelNames ?? [];
    for (const l of labelNames) {
      if (!LABEL_NAME.test(l) || l.startsWith('__')) throw new Error(`bad label name ${l} on ${name}`);
    }
    if (new Set(labelNames).size !== labelNames.length) throw new Error(`duplicate label on ${name}`);
    const m = new Metric(
      name,
      help,
      type,
      labelNames,
      Math.max(1, opts.maxSeries ?? METRICS_MAX_SERIES_PER_METRIC),
      (metric) => this.folds.labels(metric).inc(),
      opts.collect,
    );
    this.metrics.set(name, m);
    return m;
  }
}

/** Packet sources, pre-declared so every series shows from the first scrape. */
export const PACKET_SOURCES = ['hep', 'capture', 'log', 'syslog'] as const;

/** sipwarden's own metrics, pre-declared. */
export interface SipwardenMetrics {
  readonly registry: MetricsRegistry;
  /** `sipwarden_packets_total{source}` */
  readonly packets: Metric;
  /** `sipwarden_sip_messages_total` */
  readonly sipMessages: Metric;
  /** `sipwarden_anomalies_total{code}` */
  readonly anomalies: Metric;
  /** `sipwarden_alerts_total{rule}` (alert revisions committed) */
  readonly alerts: Metric;
  /** `sipwarden_dropped_total{stage}` */
  readonly dropped: Metric;
  /** `sipwarden_evictions_total{table}` */
  readonly evictions: Metric;
  /** `sipwarden_shed_total{source,reason}`: frames a source shed under overload (part of `dropped`). */
  readonly shed: Metric;
  /** `sipwarden_queue_depth{queue}` */
  readonly queueDepth: Metric;
  /** `sipwarden_sink_sent_total{sink}` and the other sink counters (from `observeSinks`). */
  readonly sinkSent: Metric;
  readonly sinkFailed: Metric;
  readonly sinkDropped: Metric;
  readonly sinkRetried: Metric;
  /** Registers a source of sink counters read at scrape time (usually `runner.stats()`). */
  observeSinks(stats: () => readonly SinkStats[]): void;
}

/** Declares sipwarden's metrics in `registry` (a new one by default). */
export function createSipwardenMetrics(registry: MetricsRegistry = new MetricsRegistry()): SipwardenMetrics {
  const sinkSources: (() => readonly SinkStats[])[] = [];
  const sinkSeries = (pick: (s: SinkStats) => number) => (): [Labels, number][] => {
    const rows: [Labels, number][] = [];
    for (const src of sinkSources) for (const s of src()) rows.push([{ sink: s.name }, pick(s)]);
    return rows;
  };
  const packets = registry.counter('sipwarden_packets_total', 'Packets and records read, by source kind.', {
    labelNames: ['source'],
  });
  for (const s of PACKET_SOURCES) packets.labels(s);
  const queueDepth = registry.gauge('sipwarden_queue_depth', 'Items waiting in a bounded queue, by queue.', {
    labelNames: ['queue'],
    collect: () => {
      const rows: [Labels, number][] = [];
      for (const src of sinkSources)
        for (const s of src()) rows.push([{ queue: `sink:${s.name}` }, s.queueDepth]);
      return rows;
    },
  });
  return {
    registry,
    packets,
    sipMessages: registry.counter('sipwarden_sip_messages_total', 'SIP messages parsed.'),
    anomalies: registry.counter('sipwarden_anomalies_total', 'Anomalies found in input, by code.', {
      labelNames: ['code'],
    }),
    alerts: registry.counter('sipwarden_alerts_total', 'Alert revisions committed, by rule.', {
      labelNames: ['rule'],
    }),
    dropped: registry.counter('sipwarden_dropped_total', 'Items dropped at a bound, by pipeline stage.', {
      labelNames: ['stage'],
    }),
    evictions: registry.counter(
      'sipwarden_evictions_total',
      'Entries evicted from bounded tables, by table.',
      {
        labelNames: ['table'],
      },
    ),
    shed: registry.counter(
      'sipwarden_shed_total',
      'Frames a live source shed under overload, by source kind and reason (options: keepalives, shed first; overflow: the rest). Also counted in sipwarden_dropped_total.',
      { labelNames: ['source', 'reason'] },
    ),
    queueDepth,
    sinkSent: registry.counter('sipwarden_sink_sent_total', 'Alert revisions delivered, by sink.', {
      labelNames: ['sink'],
      collect: sinkSeries((s) => s.sent),
    }),
    sinkFailed: registry.counter('sipwarden_sink_failed_total', 'Failed send attempts, by sink.', {
      labelNames: ['sink'],
      collect: sinkSeries((s) => s.failed),
    }),
    sinkDropped: registry.counter(
      'sipwarden_sink_dropped_total',
      'Alert revisions a sink gave up on (out of attempts, rejected, or evicted from its full queue).',
      { labelNames: ['sink'], collect: sinkSeries((s) => s.dropped) },
    ),
    sinkRetried: registry.counter('sipwarden_sink_retried_total', 'Send attempts retried, by sink.', {
      labelNames: ['sink'],
      collect: sinkSeries((s) => s.retried),
    }),
    observeSinks(stats) {
      sinkSources.push(stats);
    },
  };
}
