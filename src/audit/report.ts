/**
 * The audit report: the JSON document (DESIGN.md "Audit"), its score, the comparison with a
 * baseline report, and the text, Markdown and self-contained HTML renderings. Every string that
 * came from the wire is escaped for the medium it is written to (terminal, Markdown, HTML).
 *
 * Score: 100 minus a penalty per finding by severity (critical 40, high 20, medium 10, low 3,
 * info 0), floored at 0. A PBX with one critical finding scores 60 at best; two highs and a medium
 * give 50. The weights are part of the report (`scoring`), so a reader can recompute it.
 */
import { AUDIT_MAX_FINDINGS } from '../config/limits.js';
import { severityRank, type Severity } from '../core/alert.js';
import { escapeText } from '../core/escape.js';
import { CONTROL_TITLES, FINDING_IDS, type AuditFinding } from './catalog.js';
import type { Vantage } from './scope.js';

/** Penalty per finding, by severity. */
export const SCORE_WEIGHTS: Readonly<Record<Severity, number>> = {
  critical: 40,
  high: 20,
  medium: 10,
  low: 3,
  info: 0,
};

/** What changed since the baseline, per finding. */
export type FindingChange = 'new' | 'unchanged';

/** A finding as the report holds it (the catalog shape plus the baseline mark). */
export type ReportFinding = AuditFinding & { change?: FindingChange };

/** The comparison with an earlier report. */
export interface BaselineDiff {
  readonly file: string;
  readonly baselineStartedAt: string | null;
  readonly baselineScore: number | null;
  readonly new: number;
  readonly unchanged: number;
  /** Findings of the baseline whose check ran again and did not find them. */
  readonly fixed: AuditFinding[];
  /** Findings of the baseline whose check did not run this time (not known to be fixed). */
  readonly notRechecked: AuditFinding[];
}

/** The whole report of one target (`--format json` prints it). */
export interface AuditReport {
  readonly schemaVersion: 1;
  readonly tool: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly target: {
    readonly host: string;
    readonly address: string;
    readonly sipPort: number;
    readonly tlsPort: number;
    readonly vantage: Vantage;
  };
  readonly score: number;
  readonly scoring: string;
  findings: ReportFinding[];
  readonly parameters: {
    readonly rate: number;
    readonly timeoutMs: number;
    readonly intrusive: boolean;
    readonly extensions: number;
    readonly testNumber: boolean;
    readonly wordlist: number | null;
    readonly userAgent: string;
    readonly checksRun: string[];
    readonly skipped: { readonly check: string; readonly reason: string }[];
    readonly notes: { readonly check: string; readonly note: string }[];
    readonly sends: number;
    readonly redirectsNotFollowed: number;
    readonly refusedOutOfScope: number;
  };
  readonly checks: Record<string, unknown>;
  /** Safeguards touched by the findings (CIS Controls v8, PCI DSS 4.0); see complianceTable. */
  compliance?: ComplianceRow[];
  baseline?: BaselineDiff;
}

/** One row of the compliance table: a safeguard and the findings that touch it. */
export interface ComplianceRow {
  readonly framework: 'CIS Controls v8' | 'PCI DSS 4.0';
  /** The safeguard or requirement number (`4.4`, `8.3.4`). */
  readonly control: string;
  readonly title: string;
  /** Finding ids, each once. */
  readonly findings: string[];
  /** The highest severity among them. */
  readonly worst: Severity;
}

/** Frameworks the report does not map, and why (printed with every compliance table). */
export const COMPLIANCE_NOT_MAPPED =
  'NIST CSF 2.0 and ISO/IEC 27001:2022 Annex A are not mapped: no mapping from these findings to them could be ' +
  'sourced (docs/audit.md)';

function controlOrder(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? -1) - (pb[i] ?? -1);
    if (d !== 0) return d;
  }
  return 0;
}

/** The compliance table of a set of findings: CIS first, then PCI DSS, each in control order. */
export function complianceTable(findings: readonly AuditFinding[]): ComplianceRow[] {
  const rows = new Map<
    string,
    { framework: ComplianceRow['framework']; control: string; ids: Set<string>; worst: Severity }
  >();
  for (const f of findings) {
    for (const c of f.controls) {
      const m = /^(CIS|PCI DSS) (\d+(?:\.\d+)*)$/.exec(c);
      if (m === null) continue;
      const framework = m[1] === 'CIS' ? 'CIS Controls v8' : 'PCI DSS 4.0';
      const row = rows.get(c) ?? {
        framework,
        control: m[2] as string,
        ids: new Set<string>(),
        worst: 'info',
      };
      row.ids.add(f.id);
      if (severityRank(f.severity) > severityRank(row.worst)) row.worst = f.severity;
      rows.set(c, row);
    }
  }
  return [...rows.entries()]
    .sort(([, a], [, b]) => a.framework.localeCompare(b.framework) || controlOrder(a.control, b.control))
    .map(([key, r]) => ({
      framework: r.framework,
      control: r.control,
      title: CONTROL_TITLES[key] ?? '',
      findings: [...r.ids],
      worst: r.worst,
    }));
}

/** The score of a set of findings (see the module comment). */
export function scoreFindings(findings: readonly { severity: Severity }[]): number {
  let penalty = 0;
  for (const f of findings) penalty += SCORE_WEIGHTS[f.severity];
  return Math.max(0, 100 - penalty);
}

/** The scoring rule as the report states it. */
export const SCORING_TEXT =
  'score = max(0, 100 - sum of penalties); penalty per finding: critical 40, high 20, medium 10, low 3, info 0';

/** Findings sorted by severity (highest first), then id, then title. */
export function sortFindings<T extends AuditFinding>(findings: readonly T[]): T[] {
  return [...findings].sort(
    (a, b) =>
      severityRank(b.severity) - severityRank(a.severity) ||
      FINDING_IDS.indexOf(a.id) - FINDING_IDS.indexOf(b.id) ||
      a.title.localeCompare(b.title),
  );
}

/** Which check produces a finding id (to tell "fixed" from "not re-checked"). */
export const CHECK_OF: Readonly<Record<string, string>> = {
  'audit.port-exposed': 'ports',
  'audit.version-disclosure': 'fingerprint',
  'audit.vulnerable-version': 'fingerprint',
  'audit.enumeration-oracle': 'enumeration',
  'audit.unauthenticated-call': 'unauthenticated',
  'audit.no-srtp': 'unauthenticated',
  'audit.weak-nonce': 'challenges',
  'audit.digest-md5-only': 'challenges',
  'audit.tls-weak': 'tls',
  'audit.tls-certificate': 'tls',
  'audit.no-tls': 'tls',
  'audit.provisioning-exposed': 'provisioning',
  'audit.web-console-exposed': 'web-console',
  'audit.weak-password': 'weak-password',
  'audit.no-rate-limit': 'rate-limit',
};

/** Result of reading a baseline document. */
export type BaselineRead = { ok: true; reports: AuditReport[] } | { ok: false; error: string };

/** Validates a baseline (one report or an array of reports, as `--format json` prints them). */
export function parseBaseline(text: string, file: string): BaselineRead {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    return { ok: false, error: `${file}: not JSON (${err instanceof Error ? err.message : String(err)})` };
  }
  const list = Array.isArray(doc) ? doc : [doc];
  const out: AuditReport[] = [];
  for (let i = 0; i < list.length; i++) {
    const r = list[i] as Partial<AuditReport> | null;
    const where = Array.isArray(doc) ? `${file}[${i}]` : file;
    if (typeof r !== 'object' || r === null || !Array.isArray(r.findings) || typeof r.target !== 'object') {
      return { ok: false, error: `${where}: expected an audit report with 'target' and 'findings'` };
    }
    if (r.findings.length > AUDIT_MAX_FINDINGS) {
      return { ok: false, error: `${where}: more than ${AUDIT_MAX_FINDINGS} findings` };
    }
    for (let j = 0; j < r.findings.length; j++) {
      const f = r.findings[j] as Partial<AuditFinding> | null;
      if (typeof f !== 'object' || f === null || typeof f.id !== 'string' || typeof f.title !== 'string') {
        return { ok: false, error: `${where}: findings[${j}] lacks an id or a title` };
      }
    }
    out.push(r as AuditReport);
  }
  return { ok: true, reports: out };
}

/** Key of a finding (reports before `key` existed: id and title). */
function keyOf(f: Partial<AuditFinding>): string {
  return typeof f.key === 'string' ? f.key : `${f.id ?? ''}|${f.title ?? ''}`;
}

/** Marks the report's findings new/unchanged and lists the fixed ones, against `baseline`. */
export function applyBaseline(report: AuditReport, baseline: AuditReport, file: string): BaselineDiff {
  const before = new Map<string, AuditFinding>();
  for (const f of baseline.findings) before.set(keyOf(f), f);
  const now = new Set<string>();
  let created = 0;
  let unchanged = 0;
  for (const f of report.findings) {
    const k = keyOf(f);
    now.add(k);
    if (before.has(k)) {
      f.change = 'unchanged';
      unchanged++;
    } else {
      f.change = 'new';
      created++;
    }
  }
  const ran = new Set(report.parameters.checksRun);
  const fixed: AuditFinding[] = [];
  const notRechecked: AuditFinding[] = [];
  for (const [k, f] of before) {
    if (now.has(k)) continue;
    // Findings of the web console check reuse ids of other checks; their subject says so.
    const check = keyOf(f).includes('|web|') ? 'web-console' : CHECK_OF[f.id];
    if (check !== undefined && ran.has(check)) fixed.push(f);
    else notRechecked.push(f);
  }
  const diff: BaselineDiff = {
    file,
    baselineStartedAt: typeof baseline.startedAt === 'string' ? baseline.startedAt : null,
    baselineScore: typeof baseline.score === 'number' ? baseline.score : null,
    new: created,
    unchanged,
    fixed,
    notRechecked,
  };
  report.baseline = diff;
  return diff;
}

// ── renderings ──────────────────────────────────────────────────────────────────────────────────

/** Output formats. */
export type ReportFormat = 'text' | 'json' | 'md' | 'html';

/** Renders reports in `format` (JSON: one object for one report, an array for several). */
export function renderReports(reports: readonly AuditReport[], format: ReportFormat): string {
  switch (format) {
    case 'json': {
      const withTable = reports.map((r) => ({
        ...r,
        compliance: complianceTable(r.findings),
        complianceNotMapped: COMPLIANCE_NOT_MAPPED,
      }));
      return `${JSON.stringify(withTable.length === 1 ? withTable[0] : withTable, null, 2)}\n`;
    }
    case 'text':
      return reports.map(renderText).join('\n');
    case 'md':
      return reports.map(renderMarkdown).join('\n');
    case 'html':
      return renderHtml(reports);
  }
}

/** A value of evidence as one line of text (JSON for structures). */
function evidenceValue(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** Terminal-safe text (escapeText, longer bound for evidence). */
function t(s: string, max = 400): string {
  return escapeText(s, max);
}

function renderText(r: AuditReport): string {
  const out: string[] = [];
  out.push(`sipwarden audit of ${t(r.target.host)} (${t(r.target.address)}), ${r.startedAt}`);
  out.push(`Score: ${r.score}/100   (${r.scoring})`);
  out.push(`Vantage: ${r.target.vantage.kind}: ${r.target.vantage.note}`);
  out.push(
    `Parameters: rate ${r.parameters.rate}/s, timeout ${r.parameters.timeoutMs} ms, intrusive ${r.parameters.intrusive ? 'yes' : 'no'}, ` +
      `${r.parameters.sends} sends, checks run: ${r.parameters.checksRun.join(', ') || 'none'}`,
  );
  for (const s of r.parameters.skipped) out.push(`  skipped ${s.check}: ${t(s.reason)}`);
  out.push('');
  if (r.findings.length === 0) out.push('No findings.');
  for (const f of r.findings) {
    const mark = f.change !== undefined ? ` [${f.change}]` : '';
    out.push(`[${f.severity.toUpperCase()}] ${f.id}${mark}: ${t(f.title)}`);
    for (const [k, v] of Object.entries(f.evidence)) {
      if (v === null || v === undefined) continue;
      if (typeof v === 'string' && v.includes('\n')) {
        // A SIP message: one escaped line each, indented.
        out.push(`    ${k}:`);
        for (const line of v.split(/\r?\n/)) if (line !== '') out.push(`      | ${t(line, 400)}`);
      } else out.push(`    ${k}: ${t(evidenceValue(v), 600)}`);
    }
    out.push(`    fix: ${f.fix}`);
    out.push(`    controls: ${f.controls.join(', ')}`);
    out.push('');
  }
  const table = complianceTable(r.findings);
  out.push('Compliance (safeguards the findings touch):');
  if (table.length === 0) out.push('  none');
  for (const c of table) {
    out.push(`  ${c.framework} ${c.control} ${c.title} [${c.worst}]: ${c.findings.join(', ')}`);
  }
  out.push(`  ${COMPLIANCE_NOT_MAPPED}`, '');
  if (r.baseline !== undefined) {
    const b = r.baseline;
    out.push(
      `Since ${t(b.file)} (${b.baselineStartedAt ?? '?'}, score ${b.baselineScore ?? '?'}): ${b.new} new, ${b.unchanged} unchanged, ${b.fixed.length} fixed, ${b.notRechecked.length} not re-checked`,
    );
    for (const f of b.fixed) out.push(`  fixed: ${f.id}: ${t(f.title)}`);
    for (const f of b.notRechecked) out.push(`  not re-checked: ${f.id}: ${t(f.title)}`);
    out.push('');
  }
  if (r.parameters.notes.length > 0) {
    out.push('Notes:');
    for (const n of r.parameters.notes) out.push(`  ${n.check}: ${t(n.note)}`);
  }
  return `${out.join('\n')}\n`;
}

/**
 * Markdown-safe inline text: escaped for the terminal first, then every character that can open
 * emphasis, code, links, HTML, tables or headings (the text never starts a line, so list markers
 * and dots are left alone).
 */
function md(s: string, max = 400): string {
  return escapeText(s, max)
    .replace(/[\\`*_{}[\]#|<>&~]/g, (c) => `\\${c}`)
    .replace(/\n/g, ' ');
}

function renderMarkdown(r: AuditReport): string {
  const out: string[] = [];
  out.push(`# sipwarden audit of ${md(r.target.host)}`, '');
  out.push(`- Address: ${md(r.target.address)}`);
  out.push(`- Started: ${md(r.startedAt)}`);
  out.push(`- **Score: ${r.score}/100** (${md(r.scoring)})`);
  out.push(`- Vantage: ${md(r.target.vantage.kind)}: ${md(r.target.vantage.note)}`);
  out.push(
    `- Parameters: rate ${r.parameters.rate}/s, intrusive ${r.parameters.intrusive ? 'yes' : 'no'}, checks run: ${md(r.parameters.checksRun.join(', '))}`,
  );
  for (const s of r.parameters.skipped) out.push(`- Skipped ${md(s.check)}: ${md(s.reason)}`);
  out.push('', '## Findings', '');
  if (r.findings.length === 0) out.push('No findings.', '');
  else {
    out.push('| severity | id | finding | change |', '|---|---|---|---|');
    for (const f of r.findings)
      out.push(`| ${f.severity} | ${md(f.id)} | ${md(f.title)} | ${f.change ?? ''} |`);
    out.push('');
  }
  for (const f of r.findings) {
    out.push(`### ${md(f.title)}`, '', `\`${f.id}\`, ${f.severity}`, '');
    for (const [k, v] of Object.entries(f.evidence)) {
      if (v === null || v === undefined) continue;
      out.push(`- ${md(k)}: ${md(evidenceValue(v), 600)}`);
    }
    out.push('', `**Fix:** ${md(f.fix, 2000)}`, '', `Controls: ${md(f.controls.join(', '))}`, '');
    out.push(`References: ${f.references.map((x) => md(x)).join('; ')}`, '');
  }
  const table = complianceTable(r.findings);
  out.push('## Compliance', '');
  if (table.length === 0) out.push('No safeguard touched.', '');
  else {
    out.push('| framework | control | title | worst | findings |', '|---|---|---|---|---|');
    for (const c of table) {
      out.push(
        `| ${c.framework} | ${c.control} | ${md(c.title)} | ${c.worst} | ${md(c.findings.join(', '))} |`,
      );
    }
    out.push('');
  }
  out.push(md(COMPLIANCE_NOT_MAPPED), '');
  if (r.baseline !== undefined) {
    const b = r.baseline;
    out.push('## Since the baseline', '');
    out.push(
      `${b.new} new, ${b.unchanged} unchanged, ${b.fixed.length} fixed, ${b.notRechecked.length} not re-checked.`,
      '',
    );
    for (const f of b.fixed) out.push(`- fixed: ${md(f.id)}: ${md(f.title)}`);
    for (const f of b.notRechecked) out.push(`- not re-checked: ${md(f.id)}: ${md(f.title)}`);
    out.push('');
  }
  if (r.parameters.notes.length > 0) {
    out.push('## Notes', '');
    for (const n of r.parameters.notes) out.push(`- ${md(n.check)}: ${md(n.note)}`);
    out.push('');
  }
  return `${out.join('\n')}\n`;
}

/**
 * HTML-escapes every character that could open markup or leave an attribute, after making control
 * and bidirectional characters visible (line by line, so requests keep their lines in <pre>).
 */
export function html(s: string): string {
  const visible = s
    .split(/\r?\n/)
    .map((line) => escapeText(line, 4000))
    .join('\n');
  return visible.replace(/[&<>"'`]/g, (c) =>
    c === '&'
      ? '&amp;'
      : c === '<'
        ? '&lt;'
        : c === '>'
          ? '&gt;'
          : c === '"'
            ? '&quot;'
            : c === "'"
              ? '&#39;'
              : '&#96;',
  );
}

const CSS =
  'body{font-family:system-ui,sans-serif;margin:2em;max-width:70em;color:#222}' +
  'table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}' +
  '.critical{background:#7a0010;color:#fff}.high{background:#d33;color:#fff}.medium{background:#f90}' +
  '.low{background:#fd6}.info{background:#ddd}pre{white-space:pre-wrap;background:#f6f6f6;padding:.5em}';

function renderHtml(reports: readonly AuditReport[]): string {
  const parts: string[] = [
    '<!doctype html><html lang="en"><head><meta charset="utf-8">',
    '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; style-src \'unsafe-inline\'">',
    `<title>sipwarden audit</title><style>${CSS}</style></head><body>`,
  ];
  for (const r of reports) {
    parts.push(`<h1>sipwarden audit of ${html(r.target.host)}</h1>`);
    parts.push(
      `<p>Address ${html(r.target.address)}, started ${html(r.startedAt)}. <strong>Score ${r.score}/100</strong> ` +
        `<small>(${html(r.scoring)})</small></p>`,
    );
    parts.push(`<p>Vantage: ${html(r.target.vantage.kind)}: ${html(r.target.vantage.note)}</p>`);
    parts.push(
      `<p>Rate ${r.parameters.rate}/s, intrusive ${r.parameters.intrusive ? 'yes' : 'no'}, ${r.parameters.sends} sends; ` +
        `checks run: ${html(r.parameters.checksRun.join(', '))}</p>`,
    );
    if (r.parameters.skipped.length > 0) {
      parts.push('<ul>');
      for (const s of r.parameters.skipped)
        parts.push(`<li>skipped ${html(s.check)}: ${html(s.reason)}</li>`);
      parts.push('</ul>');
    }
    parts.push('<table><tr><th>severity</th><th>id</th><th>finding</th><th>change</th></tr>');
    for (const f of r.findings) {
      parts.push(
        `<tr><td class="${html(f.severity)}">${html(f.severity)}</td><td>${html(f.id)}</td><td>${html(f.title)}</td><td>${html(f.change ?? '')}</td></tr>`,
      );
    }
    parts.push('</table>');
    for (const f of r.findings) {
      parts.push(
        `<h2>${html(f.title)}</h2><p><code>${html(f.id)}</code> <span class="${html(f.severity)}">${html(f.severity)}</span></p>`,
      );
      parts.push('<table>');
      for (const [k, v] of Object.entries(f.evidence)) {
        if (v === null || v === undefined) continue;
        parts.push(`<tr><th>${html(k)}</th><td><pre>${html(evidenceValue(v))}</pre></td></tr>`);
      }
      parts.push('</table>');
      parts.push(`<p><strong>Fix:</strong> ${html(f.fix)}</p>`);
      parts.push(
        `<p>Controls: ${html(f.controls.join(', '))}. References: ${html(f.references.join('; '))}</p>`,
      );
    }
    const table = complianceTable(r.findings);
    parts.push('<h2>Compliance</h2>');
    if (table.length === 0) parts.push('<p>No safeguard touched.</p>');
    else {
      parts.push(
        '<table><tr><th>framework</th><th>control</th><th>title</th><th>worst</th><th>findings</th></tr>',
      );
      for (const c of table) {
        parts.push(
          `<tr><td>${html(c.framework)}</td><td>${html(c.control)}</td><td>${html(c.title)}</td><td class="${html(c.worst)}">${html(c.worst)}</td><td>${html(c.findings.join(', '))}</td></tr>`,
        );
      }
      parts.push('</table>');
    }
    parts.push(`<p>${html(COMPLIANCE_NOT_MAPPED)}</p>`);
    if (r.baseline !== undefined) {
      const b = r.baseline;
      parts.push(
        `<h2>Since ${html(b.file)}</h2><p>${b.new} new, ${b.unchanged} unchanged, ${b.fixed.length} fixed, ${b.notRechecked.length} not re-checked.</p><ul>`,
      );
      for (const f of b.fixed) parts.push(`<li>fixed: ${html(f.id)}: ${html(f.title)}</li>`);
      for (const f of b.notRechecked) parts.push(`<li>not re-checked: ${html(f.id)}: ${html(f.title)}</li>`);
      parts.push('</ul>');
    }
    if (r.parameters.notes.length > 0) {
      parts.push('<h2>Notes</h2><ul>');
      for (const n of r.parameters.notes) parts.push(`<li>${html(n.check)}: ${html(n.note)}</li>`);
      parts.push('</ul>');
    }
  }
  parts.push('</body></html>\n');
  return parts.join('\n');
}
