/**
 * Scoring, sorting, the baseline comparison and the four renderings (wire strings escaped), plus the
 * command-line parsers of targets and extensions and the vantage classification. Pure: no traffic.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FINDING_CATALOG, FINDING_IDS, makeFinding } from '../../src/audit/catalog.js';
import {
  applyBaseline,
  html,
  parseBaseline,
  renderReports,
  scoreFindings,
  sortFindings,
  type AuditReport,
} from '../../src/audit/report.js';
import { classifyVantage, parseTarget } from '../../src/audit/scope.js';
import { parseExtensions } from '../../src/cli/audit.js';
import { UsageError } from '../../src/cli/exit-codes.js';

const EVIL = '<script>alert(1)</script>\u001b[31m"quoted" & `tick` \u202e';

function report(
  findings = [
    makeFinding('audit.port-exposed', 'h|tcp/5432', 'PostgreSQL is reachable', { port: 5432 }, 'high'),
    makeFinding('audit.version-disclosure', 'h', `discloses ${EVIL}`, {
      header: `Server: ${EVIL}`,
      answer: `SIP/2.0 200 OK\r\nServer: ${EVIL}\r\n`,
    }),
    makeFinding('audit.weak-password', 'h|101', 'Extension 101 has a guessable SIP password', {
      extension: '101',
    }),
  ],
): AuditReport {
  const sorted = sortFindings(findings);
  return {
    schemaVersion: 1,
    tool: 'sipwarden',
    startedAt: '2026-11-24T10:00:00.000Z',
    finishedAt: '2026-11-24T10:01:00.000Z',
    target: {
      host: 'pbx.example.test',
      address: '127.0.0.1',
      sipPort: 5060,
      tlsPort: 5061,
      vantage: classifyVantage('127.0.0.1', '127.0.0.1'),
    },
    score: scoreFindings(sorted),
    scoring: 'test',
    findings: sorted,
    parameters: {
      rate: 5,
      timeoutMs: 2000,
      intrusive: true,
      extensions: 2,
      testNumber: false,
      wordlist: 3,
      userAgent: 'ua',
      checksRun: ['ports', 'fingerprint', 'weak-password'],
      skipped: [{ check: 'tls', reason: `no handshake ${EVIL}` }],
      notes: [{ check: 'ports', note: 'a note' }],
      sends: 10,
      redirectsNotFollowed: 0,
      refusedOutOfScope: 0,
    },
    checks: {},
  };
}

test('score: 100 minus the severity weights, floored at 0', () => {
  assert.equal(scoreFindings([]), 100);
  assert.equal(scoreFindings([{ severity: 'critical' }]), 60);
  assert.equal(scoreFindings([{ severity: 'high' }, { severity: 'high' }, { severity: 'medium' }]), 50);
  assert.equal(scoreFindings([{ severity: 'low' }, { severity: 'info' }]), 97);
  assert.equal(scoreFindings(Array.from({ length: 5 }, () => ({ severity: 'critical' as const }))), 0);
  assert.equal(report().score, 100 - 40 - 20 - 3);
});

test('findings are sorted by severity, highest first', () => {
  const r = report();
  assert.deepEqual(
    r.findings.map((f) => f.severity),
    ['critical', 'high', 'low'],
  );
});

test('the catalog covers every id with a fix, references and controls', () => {
  for (const id of FINDING_IDS) {
    const m = FINDING_CATALOG[id];
    assert.equal(m.id, id);
    assert.ok(m.fix.includes('3CX') && m.fix.length > 40, id);
    assert.ok(m.references.length > 0 && m.controls.some((c) => c.startsWith('CIS')), id);
    assert.ok(
      m.controls.some((c) => c.startsWith('PCI DSS')),
      id,
    );
  }
  assert.ok(FINDING_IDS.includes('audit.provisioning-exposed'));
});

test('baseline: new, unchanged, fixed, and not re-checked', () => {
  const old = report([
    makeFinding('audit.port-exposed', 'h|tcp/5432', 'PostgreSQL is reachable', {}, 'high'),
    makeFinding('audit.enumeration-oracle', 'h|REGISTER', 'REGISTER oracle', {}),
    makeFinding('audit.tls-certificate', 'h', 'self-signed', {}),
  ]);
  const now = report();
  const text = JSON.stringify(old);
  const parsed = parseBaseline(text, 'old.json');
  assert.ok(parsed.ok);
  const diff = applyBaseline(now, parsed.reports[0] as AuditReport, 'old.json');
  assert.equal(diff.new, 2);
  assert.equal(diff.unchanged, 1);
  // enumeration did not run this time: not re-checked; tls did not run either.
  assert.deepEqual(
    diff.fixed.map((f) => f.id),
    [],
  );
  assert.deepEqual(diff.notRechecked.map((f) => f.id).sort(), [
    'audit.enumeration-oracle',
    'audit.tls-certificate',
  ]);
  assert.equal(now.findings.find((f) => f.id === 'audit.port-exposed')?.change, 'unchanged');
  assert.equal(now.findings.find((f) => f.id === 'audit.weak-password')?.change, 'new');
  // Re-run with the checks that produced them: now they are fixed.
  const later = report([]);
  later.parameters.checksRun.push('enumeration', 'tls');
  const d2 = applyBaseline(later, parsed.reports[0] as AuditReport, 'old.json');
  assert.equal(d2.fixed.length, 3);
  assert.equal(d2.notRechecked.length, 0);
  const md = renderReports([later], 'md');
  assert.match(md, /3 fixed/);
});

test('baseline: malformed documents are refused with the file and the place', () => {
  const bad = [
    ['{', /not JSON/],
    ['{"findings": 3}', /expected an audit report/],
    ['[{"target": {}, "findings": [{"id": 1}]}]', /old\.json\[0\]: findings\[0\]/],
    ['null', /expected an audit report/],
  ] as const;
  for (const [text, re] of bad) {
    const r = parseBaseline(text, 'old.json');
    assert.equal(r.ok, false);
    if (!r.ok) assert.match(r.error, re);
  }
  const arr = parseBaseline(JSON.stringify([report(), report()]), 'two.json');
  assert.ok(arr.ok && arr.reports.length === 2);
});

test('json round-trips the DESIGN.md shape', () => {
  const doc = JSON.parse(renderReports([report()], 'json')) as AuditReport;
  assert.equal(doc.score, 37);
  assert.deepEqual(Object.keys(doc.findings[0] as object).slice(0, 7), [
    'id',
    'severity',
    'title',
    'evidence',
    'fix',
    'references',
    'controls',
  ]);
  assert.equal(doc.target.host, 'pbx.example.test');
  const two = JSON.parse(renderReports([report(), report()], 'json')) as unknown[];
  assert.equal(two.length, 2);
});

test('html is self-contained and escapes every wire string', () => {
  const out = renderReports([report()], 'html');
  assert.ok(!out.includes('<script>'), 'no raw script');
  assert.ok(!out.includes('\u001b'), 'no raw escape character');
  assert.ok(!out.includes('\u202e'), 'no raw bidi override');
  assert.match(out, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
  assert.ok(!/<link|<img|src=|href=/.test(out), 'nothing loaded from elsewhere');
  assert.match(out, /Content-Security-Policy/);
  assert.equal(html(`a"b'c<d>&\``), 'a&quot;b&#39;c&lt;d&gt;&amp;&#96;');
});

test('text and markdown neutralise control characters and markup', () => {
  const text = renderReports([report()], 'text');
  assert.ok(!text.includes('\u001b'));
  assert.match(text, /\\x1b\[31m/);
  assert.match(text, /Score: 37\/100/);
  const md = renderReports([report()], 'md');
  assert.ok(!md.includes('<script>'));
  assert.ok(!md.includes('\u001b'));
  assert.match(md, /\\<script\\>/);
});

test('fuzz: random evidence strings never leave raw markup in html', () => {
  let seed = 99;
  const rnd = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const alphabet = '<>&"\'`/\\\r\n\u0000\u001b\u202eabc=;:';
  for (let i = 0; i < 200; i++) {
    let s = '';
    const n = rnd(60);
    for (let j = 0; j < n; j++) s += alphabet[rnd(alphabet.length)];
    const r = report([
      makeFinding('audit.version-disclosure', 'h', s, { header: s, [s.slice(0, 5) || 'k']: s }),
    ]);
    const out = renderReports([r], 'html');
    // Every '<' in the output opens one of our own tags.
    const tags = out.match(/<\/?([a-zA-Z0-9!]+)/g) ?? [];
    for (const t of tags)
      assert.match(
        t,
        /^<\/?(!doctype|html|head|meta|title|style|body|h1|h2|p|strong|small|ul|li|table|tr|th|td|pre|code|span)$/,
      );
    assert.equal((out.match(/</g) ?? []).length, tags.length);
    assert.ok(!out.includes('\u0000'));
  }
});

test('targets: host, host:port, IPv6; ranges and URLs refused', () => {
  assert.deepEqual(parseTarget('pbx.example.test'), { host: 'pbx.example.test', port: undefined });
  assert.deepEqual(parseTarget('127.0.0.1:5080'), { host: '127.0.0.1', port: 5080 });
  assert.deepEqual(parseTarget('[::1]:5060'), { host: '::1', port: 5060 });
  assert.deepEqual(parseTarget('::1'), { host: '::1', port: undefined });
  for (const bad of ['', '10.0.0.0/24', 'sip:pbx', 'a b', 'host:0', 'host:70000', 'http://x', '-bad-']) {
    assert.equal(parseTarget(bad), undefined, bad);
  }
});

test('extensions: lists and ranges, bounded', () => {
  assert.deepEqual(parseExtensions('100-103,200'), ['100', '101', '102', '103', '200']);
  assert.deepEqual(parseExtensions('007-009'), ['007', '008', '009']);
  assert.throws(() => parseExtensions('5-1'), UsageError);
  assert.throws(() => parseExtensions('1-100000'), UsageError);
  assert.throws(() => parseExtensions('1;2'), UsageError);
});

test('vantage: same host, LAN, internet', () => {
  assert.equal(classifyVantage('127.0.0.1', '127.0.0.5').kind, 'same-host');
  assert.equal(classifyVantage('192.168.1.5', '192.168.1.10').kind, 'lan');
  const v = classifyVantage('192.168.1.5', '8.8.8.8');
  assert.equal(v.kind, 'internet');
  assert.match(v.note, /NAT/);
  assert.equal(classifyVantage(undefined, '8.8.8.8').localScope, 'other');
});
