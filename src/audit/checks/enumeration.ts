/**
 * Enumeration oracle: REGISTER, INVITE and OPTIONS to a random extension that does not exist and to
 * the extensions the owner named; an answer that differs between them tells a scanner which
 * extensions exist. INVITEs carry no SDP and are cancelled at the first provisional answer (a
 * PBX that routes an unauthenticated INVITE would otherwise ring the phone).
 */
import { AUDIT_ORACLE_MAX_EXTENSIONS } from '../../config/limits.js';
import { makeFinding, type AuditFinding } from '../catalog.js';
import {
  answerSignature,
  randomExtension,
  uriHost,
  type CheckContext,
  type CheckOutcome,
} from '../context.js';
import { answerText, evidenceText, type SipExchange } from '../sip-probe.js';

const METHODS = ['REGISTER', 'INVITE', 'OPTIONS'] as const;
/** Answers that say "no such user" to a random extension: the known ones must be answered otherwise. */
const NOT_FOUND = new Set([404, 604]);

/** Sends one probe of `method` to `ext`. */
export async function probeExtension(ctx: CheckContext, method: string, ext: string): Promise<SipExchange> {
  const ep = ctx.facts.sipEndpoint;
  if (ep === undefined) throw new Error('no SIP endpoint');
  const aor = `sip:${ext}@${uriHost(ctx)}`;
  return ctx.probe.request(
    ep,
    method === 'REGISTER'
      ? { method, requestUri: `sip:${uriHost(ctx)}`, toUri: aor, noContact: true }
      : { method, requestUri: aor },
    { onProvisional: (_a, cancel) => cancel() },
  );
}

/** Runs the enumeration-oracle check. */
export async function runEnumerationCheck(ctx: CheckContext): Promise<CheckOutcome> {
  const known = ctx.options.extensions.slice(0, AUDIT_ORACLE_MAX_EXTENSIONS);
  const unknown = randomExtension();
  const findings: AuditFinding[] = [];
  const perMethod: Record<string, unknown>[] = [];
  const notes: string[] = [];
  if (ctx.options.extensions.length > known.length) {
    notes.push(`only the first ${known.length} of ${ctx.options.extensions.length} extensions were compared`);
  }
  for (const method of METHODS) {
    if (ctx.facts.blocked) break;
    const u = await probeExtension(ctx, method, unknown);
    const uSig = answerSignature(u.final);
    const answers: { extension: string; answer: string }[] = [];
    let differing: { ext: string; ex: SipExchange } | undefined;
    for (const ext of known) {
      const k = await probeExtension(ctx, method, ext);
      const sig = answerSignature(k.final);
      answers.push({ extension: ext, answer: sig });
      if (sig !== uSig && differing === undefined) differing = { ext, ex: k };
    }
    perMethod.push({ method, unknownExtension: unknown, unknownAnswer: uSig, known: answers });
    if (differing !== undefined) {
      findings.push(
        makeFinding(
          'audit.enumeration-oracle',
          `${ctx.target.host}|${method}`,
          `${method} tells existing extensions apart: unknown ${unknown} → ${uSig}, ${differing.ext} → ${answerSignature(differing.ex.final)}`,
          {
            method,
            unknownExtension: unknown,
            unknownAnswer: uSig,
            knownExtension: differing.ext,
            knownAnswer: answerSignature(differing.ex.final),
            unknownRequest: evidenceText(u.request),
            unknownResponse: answerText(u.final) ?? null,
            knownRequest: evidenceText(differing.ex.request),
            knownResponse: answerText(differing.ex.final) ?? null,
            request: evidenceText(differing.ex.request),
            response: answerText(differing.ex.final) ?? '(no answer)',
          },
        ),
      );
    } else if (
      known.length === 0 &&
      u.final !== undefined &&
      NOT_FOUND.has(u.final.status) &&
      method !== 'OPTIONS'
    ) {
      // Without a known extension to compare: a registrar that says "not found" to a random user
      // answers a real one otherwise (challenge or 200).
      findings.push(
        makeFinding(
          'audit.enumeration-oracle',
          `${ctx.target.host}|${method}`,
          `${method} answers an unknown extension ${u.final.status} (inferred oracle: give --extensions to confirm)`,
          {
            method,
            unknownExtension: unknown,
            unknownAnswer: uSig,
            inferred: true,
            unknownRequest: evidenceText(u.request),
            unknownResponse: answerText(u.final) ?? null,
            request: evidenceText(u.request),
            response: answerText(u.final) ?? '(no answer)',
          },
          'low',
        ),
      );
    }
  }
  if (known.length === 0)
    notes.push('no --extensions given: the oracle is inferred from the answer to a random extension');
  return { findings, data: { methods: perMethod }, notes };
}
