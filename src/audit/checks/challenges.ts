/**
 * Challenge quality: collects AUDIT_CHALLENGE_SAMPLES digest challenges (each from a REGISTER with
 * its own Call-ID, so a per-dialog nonce does not count as a repeat) and judges them with the same
 * randomness test as the passive rule crypto.weak-nonce (a timestamp prefix before an HMAC is
 * healthy); also whether qop is offered and which algorithms (MD5 only?).
 */
import { AUDIT_CHALLENGE_SAMPLES } from '../../config/limits.js';
import { assessRandomness } from '../../detect/rules/crypto-weak-nonce.js';
import type { DigestChallenge } from '../../sip/digest.js';
import { makeFinding, type AuditFinding } from '../catalog.js';
import { randomExtension, type CheckContext, type CheckOutcome } from '../context.js';
import { probeExtension } from './enumeration.js';
import { answerText, evidenceText, type SipExchange } from '../sip-probe.js';

/** Thresholds of crypto.weak-nonce's defaults (minSamples 8, minRandomBits 24). */
const MIN_SAMPLES = 8;
const MIN_BITS = 24;

/** The digest challenges of an answer (401 or 407), Digest scheme only. */
export function challengesOf(ex: SipExchange): readonly DigestChallenge[] {
  const a = ex.final;
  if (a === undefined) return [];
  const list =
    a.status === 401 ? a.message.wwwAuthenticate : a.status === 407 ? a.message.proxyAuthenticate : [];
  return list.filter((c) => c.isDigest);
}

/** Runs the challenge-quality check. */
export async function runChallengeCheck(
  ctx: CheckContext,
  samples = AUDIT_CHALLENGE_SAMPLES,
): Promise<CheckOutcome> {
  const ext = ctx.options.extensions[0] ?? randomExtension();
  let method: 'REGISTER' | 'INVITE' | undefined;
  let first: SipExchange | undefined;
  for (const m of ['REGISTER', 'INVITE'] as const) {
    const ex = await probeExtension(ctx, m, ext);
    if (challengesOf(ex).length > 0) {
      method = m;
      first = ex;
      break;
    }
  }
  if (method === undefined || first === undefined) {
    return {
      findings: [],
      data: { extension: ext },
      notes: [`neither REGISTER nor INVITE to ${ext} was challenged: challenge quality not tested`],
      skipped: 'no digest challenge',
    };
  }
  const exchanges: SipExchange[] = [first];
  while (exchanges.length < samples && !ctx.facts.blocked) {
    const ex = await probeExtension(ctx, method, ext);
    if (ex.final === undefined) break;
    exchanges.push(ex);
  }
  const nonces: string[] = [];
  const algorithms = new Set<string>();
  const qops = new Set<string>();
  let withoutQop = 0;
  for (const ex of exchanges) {
    const cs = challengesOf(ex);
    const c = cs[0];
    if (c === undefined || c.nonce === undefined) continue;
    nonces.push(c.nonce);
    for (const x of cs) algorithms.add((x.algorithm ?? 'MD5').toUpperCase());
    if (c.qop.length === 0) withoutQop++;
    for (const q of c.qop) qops.add(q);
  }
  const distinct = new Set(nonces).size;
  const repeats = nonces.length - distinct;
  const verdict = assessRandomness(nonces, MIN_SAMPLES, MIN_BITS);
  const reasons: string[] = [];
  if (repeats > 0)
    reasons.push(`${repeats} repeated nonce${repeats === 1 ? '' : 's'} across ${nonces.length} challenges`);
  if (verdict.kind === 'sequential' || verdict.kind === 'low-entropy') {
    reasons.push(`${verdict.kind} nonces (about ${verdict.estimatedBits ?? '?'} unpredictable bits)`);
  }
  if (withoutQop > 0) reasons.push('no qop offered (no client nonce, no nonce count: replays are easier)');
  const findings: AuditFinding[] = [];
  const realm = first.final !== undefined ? (challengesOf(first)[0]?.realm ?? null) : null;
  const evidenceBase = {
    method,
    extension: ext,
    challenges: nonces.length,
    distinctNonces: distinct,
    repeats,
    randomness: verdict.kind,
    estimatedRandomBits: verdict.estimatedBits ?? null,
    qop: [...qops],
    algorithms: [...algorithms],
    realm,
    request: evidenceText(first.request),
    response: answerText(first.final) ?? null,
  };
  if (reasons.length > 0) {
    const onlyQop = reasons.length === 1 && withoutQop > 0;
    findings.push(
      makeFinding(
        'audit.weak-nonce',
        ctx.target.host,
        `Weak digest challenges on ${ctx.target.host}: ${reasons.join('; ')}`,
        { ...evidenceBase, reasons },
        onlyQop ? 'low' : 'medium',
      ),
    );
  }
  const strong = [...algorithms].filter((a) => !a.startsWith('MD5'));
  if (algorithms.size > 0 && strong.length === 0) {
    findings.push(
      makeFinding(
        'audit.digest-md5-only',
        ctx.target.host,
        `${ctx.target.host} offers only MD5 digest authentication`,
        evidenceBase,
      ),
    );
  }
  const notes: string[] = [];
  if (verdict.kind === 'undetermined') {
    notes.push(`only ${nonces.length} comparable nonces: predictability not judged (needs ${MIN_SAMPLES})`);
  }
  // The nonces themselves are kept out of the report: one may belong to a login in progress.
  return { findings, data: evidenceBase, notes };
}
