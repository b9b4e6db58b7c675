/**
 * Runs the audit of one target: resolves it, records the vantage point, runs the checks in order
 * (the rate-limit test last), and assembles the report. The only entry point the CLI needs.
 */
import { isoTime } from '../core/time.js';
import type { AuditFinding } from './catalog.js';
import {
  CHECK_NAMES,
  INTRUSIVE_CHECKS,
  skippedOutcome,
  type AuditFacts,
  type AuditOptions,
  type CheckContext,
  type CheckName,
  type CheckOutcome,
} from './context.js';
import { runChallengeCheck } from './checks/challenges.js';
import { runEnumerationCheck } from './checks/enumeration.js';
import { runFingerprintCheck } from './checks/fingerprint.js';
import { runRateLimitCheck, runWeakPasswordCheck } from './checks/intrusive.js';
import { runPortCheck } from './checks/ports.js';
import { runProvisioningCheck } from './checks/provisioning.js';
import { runTlsCheck } from './checks/tls.js';
import { runWebConsoleCheck } from './checks/web-console.js';
import { assessSrtp, runUnauthenticatedCheck } from './checks/unauthenticated.js';
import { RateLimiter } from './rate-limiter.js';
import { SCORING_TEXT, scoreFindings, sortFindings, type AuditReport } from './report.js';
import { Scope, classifyVantage, localAddressFor, type ResolvedTarget } from './scope.js';
import { SipProbe } from './sip-probe.js';

/** The User-Agent of every audit request: the owner finds the audit in the PBX logs by it. */
export const AUDIT_USER_AGENT = 'sipwarden-audit/0.1 (authorized security audit)';

const RUNNERS: Record<CheckName, (ctx: CheckContext) => Promise<CheckOutcome>> = {
  ports: runPortCheck,
  fingerprint: (ctx) => runFingerprintCheck(ctx),
  enumeration: runEnumerationCheck,
  unauthenticated: runUnauthenticatedCheck,
  challenges: (ctx) => runChallengeCheck(ctx),
  tls: runTlsCheck,
  provisioning: runProvisioningCheck,
  'web-console': (ctx) => runWebConsoleCheck(ctx),
  'weak-password': runWeakPasswordCheck,
  'rate-limit': runRateLimitCheck,
};

/** Checks that need a SIP answer from the fingerprint first. */
const NEEDS_SIP: ReadonlySet<CheckName> = new Set<CheckName>([
  'enumeration',
  'unauthenticated',
  'challenges',
  'weak-password',
  'rate-limit',
]);

/** Audits one resolved target. `limiter` may be shared across targets (one rate for the run). */
export async function auditTarget(
  target: ResolvedTarget,
  options: AuditOptions,
  limiter: RateLimiter = new RateLimiter(options.rate),
): Promise<AuditReport> {
  const startedAt = isoTime(options.now());
  const scope = new Scope([target]);
  const local = options.localAddress ?? (await localAddressFor(target));
  const vantage = classifyVantage(local, target.address);
  const probe = new SipProbe({
    scope,
    limiter,
    userAgent: AUDIT_USER_AGENT,
    timeoutMs: options.timeoutMs,
    ...(options.localAddress !== undefined ? { localAddress: options.localAddress } : {}),
    ...(local !== undefined ? { viaAddress: local } : {}),
  });
  const facts: AuditFacts = {
    openTcp: new Set(),
    sipEndpoint: undefined,
    answering: [],
    sdpAnswers: [],
    blocked: false,
  };
  const ctx: CheckContext = { target, probe, options, facts };
  const findings: AuditFinding[] = [];
  const checks: Record<string, unknown> = {};
  const checksRun: string[] = [];
  const skipped: { check: string; reason: string }[] = [];
  const notes: { check: string; note: string }[] = [];
  const sendsBefore = limiter.granted;
  try {
    for (const name of CHECK_NAMES) {
      let outcome: CheckOutcome;
      if (!options.checks.has(name)) outcome = skippedOutcome('not selected (--checks)');
      else if (INTRUSIVE_CHECKS.has(name) && !options.intrusive)
        outcome = skippedOutcome('intrusive: needs --intrusive');
      else if (NEEDS_SIP.has(name) && facts.sipEndpoint === undefined) {
        outcome = skippedOutcome(
          options.checks.has('fingerprint')
            ? 'no SIP transport answered OPTIONS'
            : 'needs the fingerprint check',
        );
      } else if (facts.blocked && name !== 'rate-limit') {
        outcome = skippedOutcome('the PBX blocked this address earlier in the run');
      } else {
        options.log(`sipwarden: ${target.host}: ${name}`);
        try {
          outcome = await RUNNERS[name](ctx);
        } catch (err) {
          outcome = skippedOutcome(`failed: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
      if (outcome.skipped !== undefined) skipped.push({ check: name, reason: outcome.skipped });
      else checksRun.push(name);
      findings.push(...outcome.findings);
      for (const n of outcome.notes) notes.push({ check: name, note: n });
      if (Object.keys(outcome.data).length > 0) checks[name] = outcome.data;
      if (name === 'unauthenticated' || (name === 'fingerprint' && !options.checks.has('unauthenticated'))) {
        // SRTP is judged from the SDP answers gathered so far.
        const srtp = assessSrtp(ctx, facts);
        findings.push(...srtp.findings);
        for (const n of srtp.notes) notes.push({ check: 'srtp', note: n });
        checks.srtp = srtp.data;
      }
    }
  } finally {
    await probe.close();
  }
  const sorted = sortFindings(findings);
  return {
    schemaVersion: 1,
    tool: 'sipwarden',
    startedAt,
    finishedAt: isoTime(options.now()),
    target: {
      host: target.host,
      address: target.address,
      sipPort: options.sipPort,
      tlsPort: options.tlsPort,
      vantage,
    },
    score: scoreFindings(sorted),
    scoring: SCORING_TEXT,
    findings: sorted,
    parameters: {
      rate: options.rate,
      timeoutMs: options.timeoutMs,
      intrusive: options.intrusive,
      extensions: options.extensions.length,
      testNumber: options.testNumber !== undefined,
      wordlist: options.wordlist?.length ?? null,
      userAgent: AUDIT_USER_AGENT,
      checksRun,
      skipped,
      notes,
      sends: limiter.granted - sendsBefore,
      redirectsNotFollowed: probe.stats.redirectsNotFollowed,
      refusedOutOfScope: scope.refused,
    },
    checks,
  };
}
