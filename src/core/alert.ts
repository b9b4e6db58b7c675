/** The alert record: the contract every sink receives (DESIGN.md "Alert record"). */

/** Severities in increasing order. */
export const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Numeric rank of a severity, for comparisons (`--fail-on`). */
export function severityRank(s: Severity): number {
  return SEVERITIES.indexOf(s);
}

/** True when `s` names a severity. */
export function isSeverity(s: string): s is Severity {
  return (SEVERITIES as readonly string[]).includes(s);
}

/** An address with what enrichment knows of it. */
export interface AlertEndpoint {
  ip: string;
  port?: number;
  transport?: string;
  country?: string;
  asn?: number;
}

/** The subject of an alert: the PBX address and the identity or extension targeted. */
export interface AlertTarget {
  ip?: string;
  port?: number;
  extension?: string;
  identity?: string;
}

/** One revision of an alert, as JSON. */
export interface AlertJson {
  schemaVersion: 1;
  id: string;
  revision: number;
  state: 'open' | 'closed';
  rule: string;
  severity: Severity;
  title: string;
  site: string;
  sensor: string;
  firstSeen: string;
  raisedAt: string;
  lastSeen: string;
  count: number;
  source?: AlertEndpoint;
  sources?: { ip: string; count: number }[];
  /** Distinct sources in all, when `sources` had to be cut to its bound. */
  sourcesTotal?: number;
  target?: AlertTarget;
  evidence: Record<string, unknown>;
  remediation: string;
  references: string[];
}
