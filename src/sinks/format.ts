/** Text forms of alerts shared by the sinks (one line, batch summaries). */
import { SEVERITIES, severityRank, isSeverity, type AlertJson, type Severity } from '../core/alert.js';
import { escapeText } from '../core/escape.js';

/** `ip:port` (IPv6 in brackets) of an endpoint, or '' when there is none. */
export function endpointText(ip: string | undefined, port: number | undefined): string {
  if (ip === undefined || ip === '') return '';
  const host = ip.includes(':') ? `[${ip}]` : ip;
  return port === undefined ? host : `${host}:${port}`;
}

/**
 * One line for a terminal or a log: time, severity, rule, title, source, target and counts. Every
 * string that may come from the wire goes through `escapeText`, so no control character survives.
 */
export function alertLine(a: AlertJson): string {
  const parts = [
    escapeText(a.raisedAt, 40),
    a.severity.toUpperCase(),
    escapeText(a.rule, 64),
    `"${escapeText(a.title, 200).replace(/"/g, '\\"')}"`,
  ];
  const src = endpointText(a.source?.ip, a.source?.port);
  if (src !== '') parts.push(`src=${escapeText(src, 64)}`);
  const dst = endpointText(a.target?.ip, a.target?.port);
  if (dst !== '') parts.push(`dst=${escapeText(dst, 64)}`);
  if (a.target?.extension !== undefined) parts.push(`ext=${escapeText(a.target.extension, 64)}`);
  if (a.target?.identity !== undefined && a.target.identity !== a.target.extension) {
    parts.push(`identity=${escapeText(a.target.identity, 64)}`);
  }
  parts.push(`count=${a.count}`, `state=${a.state}`, `id=${escapeText(a.id, 40)}`, `rev=${a.revision}`);
  parts.push(`site=${escapeText(a.site, 64)}`);
  return parts.join(' ');
}

/** The most severe severity of a batch (`info` for an empty one). */
export function topSeverity(batch: readonly AlertJson[]): Severity {
  let top = 0;
  for (const a of batch) {
    if (isSeverity(a.severity) && severityRank(a.severity) > top) top = severityRank(a.severity);
  }
  return SEVERITIES[top] ?? 'info';
}

/** Counts by severity, most severe first, skipping zeros: `1 critical, 2 high`. */
export function severityCounts(batch: readonly AlertJson[]): string {
  const n = new Map<string, number>();
  for (const a of batch) n.set(a.severity, (n.get(a.severity) ?? 0) + 1);
  const parts: string[] = [];
  for (let i = SEVERITIES.length - 1; i >= 0; i--) {
    const s = SEVERITIES[i] as Severity;
    const c = n.get(s);
    if (c !== undefined) parts.push(`${c} ${s}`);
  }
  return parts.join(', ');
}
