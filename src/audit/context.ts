/**
 * What every audit check receives (the target, the probe client, the options) and returns
 * (findings, a data record for the report, and notes on what it could not test).
 */
import type { AuditFinding } from './catalog.js';
import type { ResolvedTarget } from './scope.js';
import type { SipAnswer, SipEndpoint, SipProbe } from './sip-probe.js';

/** The checks, in the order they run (the rate-limit test always last). */
export const CHECK_NAMES = [
  'ports',
  'fingerprint',
  'enumeration',
  'unauthenticated',
  'challenges',
  'tls',
  'provisioning',
  'web-console',
  'weak-password',
  'rate-limit',
] as const;

/** A check name. */
export type CheckName = (typeof CHECK_NAMES)[number];

/** Checks that run only with `--intrusive`. */
export const INTRUSIVE_CHECKS: ReadonlySet<CheckName> = new Set<CheckName>(['weak-password', 'rate-limit']);

/** Options of an audit run (the command line's, parsed and bounded). */
export interface AuditOptions {
  /** Requests (and connections) per second. */
  readonly rate: number;
  /** Timeout of one request or connection (ms). */
  readonly timeoutMs: number;
  /** Extensions known to exist (`--extensions`). */
  readonly extensions: readonly string[];
  /**
   * Digest user name per extension (`--auth-id EXT=AUTHID`): 3CX authenticates with a random Auth ID,
   * not the extension number; extensions not in the map authenticate as themselves.
   */
  readonly authIds: ReadonlyMap<string, string>;
  /** A number the owner controls, for the call test. */
  readonly testNumber: string | undefined;
  readonly intrusive: boolean;
  /** Passwords to try (`--wordlist`), already bounded. */
  readonly wordlist: readonly string[] | undefined;
  readonly showPasswords: boolean;
  /** SIP port for UDP/TCP (default 5060) and TLS (default 5061). */
  readonly sipPort: number;
  readonly tlsPort: number;
  /** TLS server name (SNI) and the name the certificate must carry; default: the target host name. */
  readonly sni: string | undefined;
  /** Checks to run (default: all; intrusive ones need `intrusive`). */
  readonly checks: ReadonlySet<CheckName>;
  /** TCP ports the port check connects to (default: the 3CX list). */
  readonly tcpPorts: readonly number[] | undefined;
  /** UDP ports the port check sends OPTIONS to (default 5060, 5090). */
  readonly udpPorts: readonly number[] | undefined;
  /** Local address to send from (default: chosen by the OS). */
  readonly localAddress: string | undefined;
  /** Failed-login attempts of the rate-limit test (default AUDIT_RATE_LIMIT_MAX_ATTEMPTS). */
  readonly rateLimitAttempts: number | undefined;
  /** Wall clock for certificate dates (ms since the epoch). */
  readonly now: () => number;
  /** Progress and warnings (stderr in the CLI). */
  readonly log: (line: string) => void;
}

/** Facts one check leaves for later ones. */
export interface AuditFacts {
  /** Open TCP ports. */
  readonly openTcp: Set<number>;
  /** The transport that answered OPTIONS first (udp, then tcp, then tls), used by later checks. */
  sipEndpoint: SipEndpoint | undefined;
  /** Every endpoint that answered OPTIONS. */
  readonly answering: SipEndpoint[];
  /** SDP bodies seen in answers (for the SRTP check). */
  readonly sdpAnswers: {
    readonly source: string;
    readonly body: string;
    /** The exchange that carried it, as evidence. */
    readonly request: string;
    readonly response: string;
  }[];
  /** Set when the PBX stopped answering (blocked us): later checks skip. */
  blocked: boolean;
}

/** The context of one check. */
export interface CheckContext {
  readonly target: ResolvedTarget;
  readonly probe: SipProbe;
  readonly options: AuditOptions;
  readonly facts: AuditFacts;
}

/** What a check returns. */
export interface CheckOutcome {
  readonly findings: AuditFinding[];
  /** Structured results for the report (tables, counts). */
  readonly data: Record<string, unknown>;
  /** What the check could not test, and why (said plainly in the report). */
  readonly notes: string[];
  /** Set when the check did not run at all. */
  readonly skipped?: string;
}

/** An outcome for a check that did not run. */
export function skippedOutcome(reason: string): CheckOutcome {
  return { findings: [], data: {}, notes: [], skipped: reason };
}

/** The Request-URI host part for a target (the name given, else the address). */
export function uriHost(ctx: CheckContext): string {
  const h = ctx.target.host;
  return h.includes(':') ? `[${h}]` : h;
}

/** A short answer signature: status, and which challenge header (realm included) came with it. */
export function answerSignature(a: SipAnswer | undefined): string {
  if (a === undefined) return 'no answer';
  const m = a.message;
  if (a.status === 401) return `401 WWW-Authenticate realm=${m.wwwAuthenticate[0]?.realm ?? '?'}`;
  if (a.status === 407) return `407 Proxy-Authenticate realm=${m.proxyAuthenticate[0]?.realm ?? '?'}`;
  return `${a.status}`;
}

/** A random extension that almost surely does not exist (9 digits, starting with 9). */
export function randomExtension(): string {
  let s = '9';
  for (let i = 0; i < 8; i++) s += Math.floor(Math.random() * 10).toString();
  return s;
}
