/**
 * The intrusive checks (only with `--intrusive`): weak passwords (the extension number itself and
 * `--wordlist`, stopping when the PBX starts blocking) and the rate-limit test (failed REGISTERs at
 * the declared rate until the PBX blocks or throttles, announced first, run last, stopping as soon
 * as it is blocked). Guesses are REGISTERs without a Contact: a correct one only queries the
 * bindings, it never replaces the phone's registration. Passwords never appear in the report unless
 * the user asks (`--show-passwords`).
 */
import { AUDIT_MAX_PASSWORD_GUESSES, AUDIT_RATE_LIMIT_MAX_ATTEMPTS } from '../../config/limits.js';
import { computeDigestResponse, type DigestChallenge } from '../../sip/digest.js';
import { makeFinding, type AuditFinding } from '../catalog.js';
import {
  answerSignature,
  randomExtension,
  uriHost,
  type CheckContext,
  type CheckOutcome,
} from '../context.js';
import { answerText, evidenceText, randomToken, type SipExchange } from '../sip-probe.js';
import { challengesOf } from './challenges.js';

/** Consecutive unanswered requests that mean "blocked". */
const SILENT_TO_BLOCKED = 2;
/** Answers that mean the PBX refuses us wholesale (throttling or a block list). */
const BLOCK_STATUSES = new Set([429, 503, 480, 486, 600, 603]);

/** The Authorization (or Proxy-Authorization) value for `password` against `challenge`. */
export function authorizationFor(
  challenge: DigestChallenge,
  username: string,
  password: string,
  method: string,
  uri: string,
): string | undefined {
  const qop = challenge.qop.includes('auth') ? 'auth' : undefined;
  const cnonce = randomToken(8);
  const nc = '00000001';
  const response = computeDigestResponse(
    {
      username,
      realm: challenge.realm,
      nonce: challenge.nonce,
      uri,
      algorithm: challenge.algorithm,
      cnonce,
      qop,
      ncRaw: nc,
    },
    password,
    method,
  );
  if (response === undefined) return undefined;
  const q = (s: string): string => `"${s.replace(/["\\]/g, '')}"`;
  const parts = [
    `username=${q(username)}`,
    `realm=${q(challenge.realm ?? '')}`,
    `nonce=${q(challenge.nonce ?? '')}`,
    `uri=${q(uri)}`,
    `response=${q(response)}`,
  ];
  if (challenge.algorithm !== undefined) parts.push(`algorithm=${challenge.algorithm}`);
  if (challenge.opaque !== undefined) parts.push(`opaque=${q(challenge.opaque)}`);
  if (qop !== undefined) parts.push(`qop=${qop}`, `nc=${nc}`, `cnonce=${q(cnonce)}`);
  return `Digest ${parts.join(', ')}`;
}

type Attempt =
  | { kind: 'accepted'; ex: SipExchange }
  | { kind: 'rejected'; ex: SipExchange }
  | { kind: 'silent' }
  | { kind: 'blocked'; ex: SipExchange }
  | { kind: 'no-challenge'; ex: SipExchange };

/** One login attempt: REGISTER, then REGISTER with credentials for the challenge. */
async function attempt(ctx: CheckContext, ext: string, password: string): Promise<Attempt> {
  const ep = ctx.facts.sipEndpoint;
  if (ep === undefined) return { kind: 'silent' };
  const host = uriHost(ctx);
  const requestUri = `sip:${host}`;
  const aor = `sip:${ext}@${host}`;
  const callId = `${randomToken(12)}@sipwarden.audit`;
  const fromTag = randomToken(6);
  const first = await ctx.probe.request(ep, {
    method: 'REGISTER',
    requestUri,
    toUri: aor,
    callId,
    fromTag,
    cseq: 1,
    noContact: true,
  });
  if (first.final === undefined) return { kind: 'silent' };
  if (BLOCK_STATUSES.has(first.final.status)) return { kind: 'blocked', ex: first };
  const c = challengesOf(first)[0];
  if (c === undefined)
    return first.final.status === 200 ? { kind: 'accepted', ex: first } : { kind: 'no-challenge', ex: first };
  const auth = authorizationFor(c, ctx.options.authIds.get(ext) ?? ext, password, 'REGISTER', requestUri);
  if (auth === undefined) return { kind: 'no-challenge', ex: first };
  const second = await ctx.probe.request(ep, {
    method: 'REGISTER',
    requestUri,
    toUri: aor,
    callId,
    fromTag,
    cseq: 2,
    noContact: true,
    headers: [[first.final.status === 407 ? 'Proxy-Authorization' : 'Authorization', auth]],
  });
  if (second.final === undefined) return { kind: 'silent' };
  if (second.final.status >= 200 && second.final.status < 300) return { kind: 'accepted', ex: second };
  if (BLOCK_STATUSES.has(second.final.status)) return { kind: 'blocked', ex: second };
  return { kind: 'rejected', ex: second };
}

/** Runs the weak-password check (needs `--wordlist` or at least `--extensions`). */
export async function runWeakPasswordCheck(ctx: CheckContext): Promise<CheckOutcome> {
  const exts = ctx.options.extensions;
  if (exts.length === 0) return { findings: [], data: {}, notes: [], skipped: 'no --extensions to test' };
  const words = ctx.options.wordlist ?? [];
  const findings: AuditFinding[] = [];
  const perExt: Record<string, unknown>[] = [];
  const notes: string[] = [];
  if (ctx.options.wordlist === undefined)
    notes.push('no --wordlist: only the extension number itself was tried');
  let guesses = 0;
  let silent = 0;
  outer: for (const ext of exts) {
    const authId = ctx.options.authIds.get(ext);
    // The extension number, then the Auth ID itself (both weak choices), then the wordlist.
    const candidates = [...new Set([ext, ...(authId !== undefined ? [authId] : []), ...words])];
    let tried = 0;
    for (let i = 0; i < candidates.length; i++) {
      if (guesses >= AUDIT_MAX_PASSWORD_GUESSES) {
        notes.push(`stopped at the run's cap of ${AUDIT_MAX_PASSWORD_GUESSES} guesses`);
        break outer;
      }
      const pw = candidates[i] as string;
      guesses++;
      tried++;
      const r = await attempt(ctx, ext, pw);
      if (r.kind === 'silent') {
        if (++silent >= SILENT_TO_BLOCKED) {
          ctx.facts.blocked = true;
          notes.push(`the PBX stopped answering after ${guesses} guesses: blocked, password test stopped`);
          perExt.push({ extension: ext, tried, result: 'stopped (blocked)' });
          break outer;
        }
        // One unanswered guess (a lost datagram): the same password once more.
        i--;
        tried--;
        continue;
      }
      silent = 0;
      if (r.kind === 'blocked') {
        ctx.facts.blocked = true;
        notes.push(
          `the PBX answered ${answerSignature(r.ex.final)} after ${guesses} guesses: blocked, stopped`,
        );
        perExt.push({ extension: ext, tried, result: 'stopped (blocked)' });
        break outer;
      }
      if (r.kind === 'no-challenge') {
        perExt.push({ extension: ext, tried, result: `not challenged (${answerSignature(r.ex.final)})` });
        continue outer;
      }
      if (r.kind === 'accepted') {
        const source =
          i === 0 ? 'the extension number' : authId !== undefined && i === 1 ? 'the Auth ID' : 'the wordlist';
        findings.push(
          makeFinding(
            'audit.weak-password',
            `${ctx.target.host}|${ext}`,
            `Extension ${ext} has a guessable SIP password`,
            {
              extension: ext,
              digestUser: authId !== undefined ? 'the Auth ID given with --auth-id' : 'the extension number',
              guessesForThisExtension: tried,
              found: ctx.options.showPasswords
                ? { password: pw, source }
                : '(hidden; --show-passwords shows it)',
              answer: answerSignature(r.ex.final),
              // Digest nonce and response are masked: with them the password could be cracked offline.
              request: evidenceText(r.ex.request),
              response: answerText(r.ex.final) ?? '',
            },
          ),
        );
        perExt.push({ extension: ext, tried, result: 'guessed' });
        continue outer;
      }
    }
    perExt.push({ extension: ext, tried, result: 'not guessed' });
  }
  return { findings, data: { guesses, extensions: perExt, wordlistSize: words.length }, notes };
}

/** The warning printed before the rate-limit test. */
export function rateLimitWarning(ctx: CheckContext, attempts: number): string {
  return (
    `sipwarden: the rate-limit test now sends up to ${attempts} failed logins at ${ctx.options.rate}/s to ` +
    `${ctx.target.host}; the PBX may block this address (${ctx.options.localAddress ?? 'this host'}). To lift a ` +
    '3CX block: remove the address from the IP blocklist in the management console (or add it as allowed ' +
    'beforehand); fail2ban: fail2ban-client unban ADDRESS; Kamailio pike: wait until the source is quiet.'
  );
}

/** Runs the rate-limit test (always last). */
export async function runRateLimitCheck(ctx: CheckContext): Promise<CheckOutcome> {
  const max = Math.min(
    ctx.options.rateLimitAttempts ?? AUDIT_RATE_LIMIT_MAX_ATTEMPTS,
    AUDIT_RATE_LIMIT_MAX_ATTEMPTS,
  );
  if (ctx.facts.blocked) {
    return {
      findings: [],
      data: { blockedBefore: true },
      notes: ['the PBX had already blocked this address during the password test: it does rate-limit'],
    };
  }
  ctx.options.log(rateLimitWarning(ctx, max));
  const ext = ctx.options.extensions[0] ?? randomExtension();
  const wrong = `sw-${randomToken(10)}`;
  const started = performance.now();
  const answers: Record<string, number> = {};
  let silent = 0;
  let blockedAt: number | undefined;
  let how = '';
  let failures = 0;
  let last: SipExchange | undefined;
  for (let i = 1; i <= max; i++) {
    const r = await attempt(ctx, ext, wrong);
    if (r.kind !== 'silent') last = r.ex;
    if (r.kind === 'silent') {
      if (++silent >= SILENT_TO_BLOCKED) {
        blockedAt = i;
        how = 'stopped answering';
        break;
      }
      continue;
    }
    silent = 0;
    const sig = r.kind === 'accepted' ? 'accepted' : answerSignature(r.ex.final);
    answers[sig] = (answers[sig] ?? 0) + 1;
    if (r.kind === 'blocked') {
      blockedAt = i;
      how = `answered ${sig}`;
      break;
    }
    if (r.kind === 'rejected') failures++;
    if (r.kind === 'no-challenge' && i === 1) {
      return {
        findings: [],
        data: { extension: ext, answer: sig },
        notes: [`REGISTER for ${ext} was not challenged (${sig}): rate limiting not tested`],
        skipped: 'no challenge',
      };
    }
  }
  const seconds = Math.round(performance.now() - started) / 1000;
  if (blockedAt !== undefined) ctx.facts.blocked = true;
  const data = {
    extension: ext,
    attempts: blockedAt ?? max,
    failedLogins: failures,
    rate: ctx.options.rate,
    seconds,
    answers,
    blocked: blockedAt !== undefined,
    blockedAfterAttempts: blockedAt ?? null,
    how: how || null,
  };
  const findings: AuditFinding[] = [];
  if (blockedAt === undefined) {
    findings.push(
      makeFinding(
        'audit.no-rate-limit',
        ctx.target.host,
        `${ctx.target.host} neither blocked nor throttled ${failures} failed logins at ${ctx.options.rate}/s`,
        {
          ...data,
          request: last !== undefined ? evidenceText(last.request) : '',
          response: answerText(last?.final) ?? '(no answer)',
        },
      ),
    );
  }
  return {
    findings,
    data,
    notes:
      blockedAt !== undefined
        ? [`blocked after ${blockedAt} attempts (${how}): this address may stay blocked for a while`]
        : [`a limit above ${ctx.options.rate} requests/s or ${max} failures would not be seen by this test`],
  };
}
