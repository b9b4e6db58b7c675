import { escapeText } from '../core/escape.js';
import type { AlertJson } from '../core/alert.js';
import type { SummaryJson } from './summary.js';

/** The text report of `sipwarden analyze`. Every string from the wire is escaped. */
export function renderTextReport(doc: { summary: SummaryJson; alerts: AlertJson[] }): string {
  return [...textReportLines(doc.summary, doc.alerts, doc.alerts.length), ''].join('\n');
}

/** The text report line by line, reading `alerts` (`count` of them) one at a time. */
export function* textReportLines(
  s: SummaryJson,
  alerts: Iterable<AlertJson>,
  count: number,
): Generator<string> {
  const out: string[] = [];
  out.push('sipwarden analyze');
  for (const i of s.inputs) {
    out.push(
      `  input ${escapeText(i.file, 500)}: ${i.format}, ${i.frames} ${i.format.startsWith('cdr:') || i.format.startsWith('log:') ? 'lines' : 'frames'}, ` +
        (i.cdrCalls !== undefined
          ? `${i.cdrCalls} calls (${i.cdrCallsCounted ?? 0} not seen on the wire)`
          : `${i.sipMessages} SIP messages`) +
        (i.error !== undefined ? ` — ${escapeText(i.error, 500)}` : ''),
    );
  }
  out.push('');
  out.push(`packets          ${s.packets}`);
  out.push(`SIP messages     ${s.sipMessages}`);
  out.push(`time span        ${s.firstTime ?? '-'} … ${s.lastTime ?? '-'}`);
  out.push(`transactions     ${s.transactions}`);
  out.push(`dialogs          ${s.dialogs}`);
  out.push(`registrations    ${s.registrations}`);
  out.push(
    `calls            ${s.calls.total} (answered ${s.calls.answered}` +
      Object.entries(s.calls.outcomes)
        .filter(([k]) => k !== 'answered')
        .map(([k, n]) => `, ${k} ${n}`)
        .join('') +
      ')',
  );
  out.push(`retransmissions  ${s.retransmissions}`);
  table(out, 'requests by method', s.requests);
  table(out, 'responses by status', s.responses);
  table(out, 'transports', s.transports);
  table(out, 'anomalies', s.anomalies);
  if (s.topSources.length > 0) {
    out.push('', 'top sources');
    for (const t of s.topSources) out.push(`  ${pad(t.ip, 40)} ${t.messages}`);
  }
  if (s.topUserAgents.length > 0) {
    out.push('', 'top User-Agents / Server');
    for (const t of s.topUserAgents) out.push(`  ${pad(escapeText(t.userAgent, 60), 62)} ${t.messages}`);
  }
  out.push('', `alerts (${count})`);
  if (count === 0) out.push('  none');
  yield* out;
  for (const a of alerts) {
    const src =
      a.source !== undefined && !a.title.includes(a.source.ip)
        ? ` from ${a.source.ip}`
        : a.source === undefined && a.sources !== undefined
          ? ` from ${a.sourcesTotal ?? a.sources.length} sources`
          : '';
    yield `  [${a.severity.toUpperCase()}] ${a.rule}: ${escapeText(a.title, 200)}${src} (count ${a.count}, ${a.firstSeen} … ${a.lastSeen})`;
  }
}

function table(out: string[], title: string, r: Record<string, number>): void {
  const keys = Object.keys(r);
  if (keys.length === 0) return;
  out.push('', title);
  for (const k of keys.sort((a, b) => (r[b] as number) - (r[a] as number) || (a < b ? -1 : 1))) {
    out.push(`  ${pad(escapeText(k, 60), 40)} ${r[k]}`);
  }
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}
