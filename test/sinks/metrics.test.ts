import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  createSipwardenMetrics,
  escapeLabelValue,
  formatValue,
  MetricsRegistry,
  METRICS_CONTENT_TYPE,
} from '../../src/sinks/metrics.js';
import { METRICS_MAX_SERIES_PER_METRIC } from '../../src/config/limits.js';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}
interface Family {
  help: string;
  type: string;
  samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** A strict parser of the text exposition format 0.0.4: throws on anything it does not expect. */
function parseExposition(text: string): Map<string, Family> {
  assert.ok(text.endsWith('\n'), 'ends with a line feed');
  const families = new Map<string, Family>();
  let current: string | undefined;
  const lines = text.slice(0, -1).split('\n');
  for (const [i, line] of lines.entries()) {
    const where = `line ${i + 1}: ${JSON.stringify(line)}`;
    if (line.startsWith('# HELP ')) {
      const m = /^# HELP (\S+) (.*)$/.exec(line);
      assert.ok(m, where);
      const name = m[1] as string;
      assert.match(name, NAME, where);
      assert.ok(!families.has(name), `family declared twice: ${where}`);
      // HELP escapes only \\ and \n.
      assert.doesNotMatch((m[2] as string).replace(/\\[\\n]/g, ''), /\\/, where);
      families.set(name, { help: m[2] as string, type: '', samples: [] });
      current = name;
      continue;
    }
    if (line.startsWith('# TYPE ')) {
      const m = /^# TYPE (\S+) (counter|gauge|histogram|summary|untyped)$/.exec(line);
      assert.ok(m, where);
      assert.equal(m[1], current, `TYPE follows its HELP: ${where}`);
      const f = families.get(m[1] as string);
      assert.ok(f && f.type === '' && f.samples.length === 0, where);
      f.type = m[2] as string;
      continue;
    }
    assert.ok(!line.startsWith('#'), `unexpected comment ${where}`);
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(m, `sample syntax ${where}`);
    const name = m[1] as string;
    assert.equal(name, current, `sample belongs to the current family ${where}`);
    const labels: Record<string, string> = {};
    if (m[3] !== undefined) {
      let rest = m[3];
      while (rest.length > 0) {
        const lm = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\["\\n])*)"(,|$)/.exec(rest);
        assert.ok(lm, `label syntax ${where}`);
        const ln = lm[1] as string;
        assert.match(ln, LABEL);
        assert.ok(!(ln in labels), `duplicate label ${where}`);
        labels[ln] = (lm[2] as string).replace(/\\(["\\n])/g, (_s, c: string) => (c === 'n' ? '\n' : c));
        rest = rest.slice(lm[0].length);
      }
    }
    const v = m[4] as string;
    assert.match(v, /^(NaN|[+-]Inf|-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?)$/, where);
    const f = families.get(name);
    assert.ok(f && f.type !== '', `TYPE before samples ${where}`);
    if (f.type === 'counter') assert.ok(name.endsWith('_total'), `counter naming ${where}`);
    const key = JSON.stringify(labels);
    assert.ok(!f.samples.some((s) => JSON.stringify(s.labels) === key), `duplicate series ${where}`);
    f.samples.push({
      name,
      labels,
      value: v === 'NaN' ? NaN : v === '+Inf' ? Infinity : v === '-Inf' ? -Infinity : Number(v),
    });
  }
  return families;
}

function sample(
  f: Map<string, Family>,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  return f.get(name)?.samples.find((s) => JSON.stringify(s.labels) === JSON.stringify(labels))?.value;
}

test('pre-declared metrics render as valid exposition text', () => {
  const m = createSipwardenMetrics();
  m.packets.labels('hep').inc(3);
  m.sipMessages.inc();
  m.anomalies.inc({ code: 'sip_bad_content_length' }, 2);
  m.alerts.inc({ rule: 'auth.bruteforce' });
  m.dropped.inc({ stage: 'decode' });
  m.evictions.inc({ table: 'tcp-connections' }, 4);
  m.queueDepth.set({ queue: 'weak-password' }, 7);
  m.observeSinks(() => [
    {
      name: 'syslog',
      sent: 10,
      failed: 2,
      dropped: 1,
      retried: 2,
      filtered: 0,
      readErrors: 0,
      queueDepth: 3,
      cursor: 11,
    },
  ]);
  const f = parseExposition(m.registry.render());
  for (const n of [
    'sipwarden_packets_total',
    'sipwarden_sip_messages_total',
    'sipwarden_anomalies_total',
    'sipwarden_alerts_total',
    'sipwarden_dropped_total',
    'sipwarden_evictions_total',
    'sipwarden_shed_total',
    'sipwarden_queue_depth',
    'sipwarden_sink_sent_total',
    'sipwarden_sink_failed_total',
    'sipwarden_sink_dropped_total',
    'sipwarden_sink_retried_total',
    'sipwarden_metric_label_folds_total',
  ]) {
    assert.ok(f.has(n), n);
  }
  assert.equal(f.get('sipwarden_packets_total')?.type, 'counter');
  assert.equal(f.get('sipwarden_queue_depth')?.type, 'gauge');
  assert.equal(sample(f, 'sipwarden_packets_total', { source: 'hep' }), 3);
  assert.equal(
    sample(f, 'sipwarden_packets_total', { source: 'syslog' }),
    0,
    'pre-declared sources show as 0',
  );
  assert.equal(sample(f, 'sipwarden_sip_messages_total'), 1);
  assert.equal(sample(f, 'sipwarden_anomalies_total', { code: 'sip_bad_content_length' }), 2);
  assert.equal(sample(f, 'sipwarden_evictions_total', { table: 'tcp-connections' }), 4);
  assert.equal(sample(f, 'sipwarden_queue_depth', { queue: 'weak-password' }), 7);
  assert.equal(sample(f, 'sipwarden_queue_depth', { queue: 'sink:syslog' }), 3);
  assert.equal(sample(f, 'sipwarden_sink_sent_total', { sink: 'syslog' }), 10);
  assert.equal(sample(f, 'sipwarden_sink_failed_total', { sink: 'syslog' }), 2);
  assert.equal(sample(f, 'sipwarden_sink_dropped_total', { sink: 'syslog' }), 1);
  assert.equal(METRICS_CONTENT_TYPE, 'text/plain; version=0.0.4; charset=utf-8');
});

test('label values and help text are escaped', () => {
  const r = new MetricsRegistry();
  const c = r.counter('x_total', 'Help with \\ backslash\nand newline.', { labelNames: ['v'] });
  const nasty = 'a"b\\c\nd} e="f"';
  c.inc({ v: nasty }, 2);
  const text = r.render();
  assert.ok(text.includes('x_total{v="a\\"b\\\\c\\nd} e=\\"f\\""} 2'), text);
  assert.ok(text.includes('# HELP x_total Help with \\\\ backslash\\nand newline.'), text);
  const f = parseExposition(text);
  assert.equal(sample(f, 'x_total', { v: nasty }), 2);
  assert.equal(escapeLabelValue('\\"\n'), '\\\\\\"\\n');
  assert.equal(formatValue(NaN), 'NaN');
  assert.equal(formatValue(-Infinity), '-Inf');
  assert.equal(formatValue(0.5), '0.5');
});

test('series past the bound fold into "other" and the folding is counted', () => {
  const r = new MetricsRegistry();
  const c = r.counter('codes_total', 'By code.', { labelNames: ['code'], maxSeries: 3 });
  for (let i = 0; i < 10; i++) c.inc({ code: `c${i}` });
  c.inc({ code: 'c0' });
  assert.equal(c.size, 4);
  const f = parseExposition(r.render());
  assert.equal(sample(f, 'codes_total', { code: 'c0' }), 2);
  assert.equal(sample(f, 'codes_total', { code: 'other' }), 7);
  assert.equal(sample(f, 'sipwarden_metric_label_folds_total', { metric: 'codes_total' }), 7);
  const big = new MetricsRegistry().gauge('g', 'g', { labelNames: ['k'] });
  for (let i = 0; i < METRICS_MAX_SERIES_PER_METRIC * 3; i++) big.set({ k: String(i) }, i);
  assert.equal(big.size, METRICS_MAX_SERIES_PER_METRIC + 1);
});

test('counters never go down; scrape-time values are read on render', () => {
  const r = new MetricsRegistry();
  const c = r.counter('c_total', 'c');
  c.inc(undefined, 5);
  c.inc(undefined, -3);
  c.inc(undefined, NaN);
  c.with().set(0);
  assert.equal(c.with().value, 5);
  let live = 1;
  r.gauge('live_things', 'Live things.', { collect: () => live });
  let mirrored = 10;
  r.counter('mirrored_total', 'Mirrored.', { collect: () => mirrored });
  let f = parseExposition(r.render());
  assert.equal(sample(f, 'live_things'), 1);
  assert.equal(sample(f, 'mirrored_total'), 10);
  live = 0;
  mirrored = 4; // a component restarted its count: the counter keeps its high-water mark
  f = parseExposition(r.render());
  assert.equal(sample(f, 'live_things'), 0);
  assert.equal(sample(f, 'mirrored_total'), 10);
  assert.equal(sample(f, 'c_total'), 5);
});

test('declaration mistakes are refused', () => {
  const r = new MetricsRegistry();
  assert.throws(() => r.counter('bad name_total', 'x'), /bad metric name/);
  assert.throws(() => r.counter('no_suffix', 'x'), /_total/);
  assert.throws(() => r.gauge('g_total', 'x'), /_total/);
  assert.throws(() => r.gauge('g', 'x', { labelNames: ['__reserved'] }), /label/);
  assert.throws(() => r.gauge('g2', 'x', { labelNames: ['a', 'a'] }), /duplicate/);
  r.gauge('g3', 'x');
  assert.throws(() => r.gauge('g3', 'x'), /twice/);
});

test('fuzz: random label values always render as parseable text and stay bounded', () => {
  let seed = 7;
  const rnd = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const r = new MetricsRegistry();
  const c = r.counter('fuzz_total', 'Fuzz.', { labelNames: ['a', 'b'], maxSeries: 50 });
  for (let i = 0; i < 2000; i++) {
    const v = (): string => {
      let s = '';
      for (let k = rnd(12); k > 0; k--) s += String.fromCharCode(rnd(4) === 0 ? rnd(0x2100) : rnd(128));
      return s;
    };
    c.labels(v(), v()).inc(rnd(3));
  }
  const f = parseExposition(r.render());
  assert.ok((f.get('fuzz_total')?.samples.length ?? 0) <= 51);
  const total = f.get('fuzz_total')?.samples.reduce((a, s) => a + s.value, 0) ?? 0;
  assert.ok(total > 0);
});
