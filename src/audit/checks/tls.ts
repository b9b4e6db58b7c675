/**
 * TLS on the SIP TLS port, with SNI: which protocol versions the server accepts (one handshake per
 * version with minVersion = maxVersion, at OpenSSL security level 0 so the local library offers old
 * versions when it can), whether it accepts weak ciphers, and its certificate (self-signed,
 * untrusted, expired, not yet valid, wrong name, weak key). Certificates are inspected, never
 * trusted: `rejectUnauthorized: false`. What the local library cannot offer is said plainly.
 */
import {
  checkServerIdentity,
  connect,
  type PeerCertificate,
  type SecureVersion,
  type TLSSocket,
} from 'node:tls';
import { makeFinding, type AuditFinding } from '../catalog.js';
import type { CheckContext, CheckOutcome } from '../context.js';
import { evidenceLine } from '../evidence.js';
import { hostPort } from '../sip-probe.js';

/** The versions tried, oldest first. */
export const TLS_VERSIONS: readonly SecureVersion[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];
/** Ciphers no server should accept today (3DES, RC4, NULL, export, single DES, anonymous). */
const WEAK_CIPHERS = '3DES:RC4:NULL:EXPORT:DES:aNULL:@SECLEVEL=0';
/** OpenSSL error codes raised before anything is sent: the local side cannot offer it. */
const LOCAL_ERRORS = new Set([
  'ERR_SSL_NO_PROTOCOLS_AVAILABLE',
  'ERR_SSL_NO_CIPHERS_AVAILABLE',
  'ERR_SSL_NO_CIPHER_MATCH',
  'ERR_TLS_INVALID_PROTOCOL_VERSION',
]);

/** Outcome of one handshake attempt. */
export interface HandshakeResult {
  /** accepted, refused by the server, not testable locally, no connection, or timed out. */
  readonly outcome: 'accepted' | 'refused' | 'local-unsupported' | 'unreachable' | 'timeout';
  readonly protocol?: string;
  readonly cipher?: string;
  readonly detail?: string;
  readonly certificate?: PeerCertificate;
  readonly authorizationError?: string;
}

/** One TLS handshake to the target (paid from the rate limiter, checked against the scope). */
export async function handshake(
  ctx: CheckContext,
  opts: { minVersion?: SecureVersion; maxVersion?: SecureVersion; ciphers?: string },
  port: number = ctx.options.tlsPort,
): Promise<HandshakeResult> {
  const { probe, target, options } = ctx;
  if (!probe.scope.allows(target.address)) return { outcome: 'unreachable', detail: 'not a target' };
  await probe.limiter.take();
  const servername = sniFor(ctx);
  return new Promise<HandshakeResult>((resolve) => {
    let s: TLSSocket;
    try {
      s = connect({
        host: target.address,
        port,
        rejectUnauthorized: false,
        ...(servername !== undefined ? { servername } : {}),
        ...(options.localAddress !== undefined ? { localAddress: options.localAddress } : {}),
        ...opts,
      });
    } catch (err) {
      resolve({ outcome: 'local-unsupported', detail: err instanceof Error ? err.message : String(err) });
      return;
    }
    let connected = false;
    const timer = setTimeout(() => {
      s.destroy();
      resolve({ outcome: 'timeout' });
    }, options.timeoutMs);
    s.once('connect', () => {
      connected = true;
    });
    s.once('secureConnect', () => {
      clearTimeout(timer);
      const cert = s.getPeerCertificate(true);
      const cipher = s.getCipher();
      const auth = s.authorizationError;
      resolve({
        outcome: 'accepted',
        protocol: s.getProtocol() ?? '?',
        cipher: cipher.name,
        certificate: cert,
        ...(auth !== undefined && auth !== null ? { authorizationError: String(auth) } : {}),
      });
      s.destroy();
    });
    s.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      s.destroy();
      const code = err.code ?? '';
      if (LOCAL_ERRORS.has(code))
        resolve({ outcome: 'local-unsupported', detail: `${code}: ${firstLine(err.message)}` });
      else if (!connected) resolve({ outcome: 'unreachable', detail: code || firstLine(err.message) });
      else resolve({ outcome: 'refused', detail: code || firstLine(err.message) });
    });
  });
}

/** The SNI sent: `--sni`, else the target's host name (never an address). */
export function sniFor(ctx: CheckContext): string | undefined {
  return ctx.options.sni ?? (/^[\d.]+$|:/.test(ctx.target.host) ? undefined : ctx.target.host);
}

/** The handshake as evidence: what was offered (request) and what came back (response). */
export function handshakeEvidence(
  ctx: CheckContext,
  port: number,
  opts: { minVersion?: SecureVersion; maxVersion?: SecureVersion; ciphers?: string },
  r: HandshakeResult,
): { request: string; response: string } {
  const sni = sniFor(ctx);
  const offer =
    `TLS ClientHello to ${hostPort(ctx.target.address, port)}, SNI ${sni ?? '(none: an address was given)'}, ` +
    `versions ${opts.minVersion ?? 'default'}..${opts.maxVersion ?? 'default'}` +
    (opts.ciphers !== undefined ? `, ciphers ${opts.ciphers}` : '');
  let answer: string;
  if (r.outcome === 'accepted') {
    const c = r.certificate;
    answer =
      `ServerHello ${r.protocol ?? '?'} ${r.cipher ?? '?'}` +
      (c !== undefined && c.raw !== undefined
        ? `; certificate subject ${dn(c.subject)}, issuer ${dn(c.issuer)}, valid ${c.valid_from} to ${c.valid_to}` +
          `${c.bits !== undefined ? `, ${c.bits}-bit key` : ''}; verification: ${r.authorizationError ?? 'trusted'}`
        : '');
  } else answer = `${r.outcome}${r.detail !== undefined ? `: ${r.detail}` : ''}`;
  return { request: evidenceLine(offer), response: evidenceLine(answer) };
}

function dn(x: unknown): string {
  if (typeof x !== 'object' || x === null) return '?';
  return Object.entries(x as Record<string, unknown>)
    .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('+') : String(v)}`)
    .join(', ');
}

function firstLine(s: string): string {
  const i = s.indexOf('\n');
  return (i < 0 ? s : s.slice(0, i)).slice(0, 200);
}

/** Problems of a certificate as a list of short codes with explanations. */
export function certificateProblems(
  cert: PeerCertificate,
  authorizationError: string | undefined,
  name: string,
  now: number,
): { code: string; detail: string; severity: 'low' | 'medium' | 'high' }[] {
  const out: { code: string; detail: string; severity: 'low' | 'medium' | 'high' }[] = [];
  const issuer = (cert as { issuerCertificate?: PeerCertificate }).issuerCertificate;
  const selfSigned =
    authorizationError === 'DEPTH_ZERO_SELF_SIGNED_CERT' ||
    (issuer !== undefined && issuer.fingerprint256 === cert.fingerprint256) ||
    JSON.stringify(cert.issuer) === JSON.stringify(cert.subject);
  if (selfSigned)
    out.push({ code: 'self-signed', detail: 'the certificate is signed by itself', severity: 'medium' });
  else if (authorizationError !== undefined && authorizationError !== 'CERT_HAS_EXPIRED') {
    out.push({ code: 'untrusted', detail: `not verifiable: ${authorizationError}`, severity: 'medium' });
  }
  const notAfter = Date.parse(cert.valid_to);
  const notBefore = Date.parse(cert.valid_from);
  if (Number.isFinite(notAfter) && now > notAfter) {
    out.push({ code: 'expired', detail: `expired on ${new Date(notAfter).toISOString()}`, severity: 'high' });
  }
  if (Number.isFinite(notBefore) && now < notBefore) {
    out.push({
      code: 'not-yet-valid',
      detail: `valid only from ${new Date(notBefore).toISOString()}`,
      severity: 'medium',
    });
  }
  const mismatch = checkServerIdentity(name, cert);
  if (mismatch !== undefined)
    out.push({ code: 'wrong-name', detail: firstLine(mismatch.message), severity: 'medium' });
  const bits = cert.bits;
  const ec = cert.asn1Curve !== undefined || cert.nistCurve !== undefined;
  if (bits !== undefined && ((ec && bits < 256) || (!ec && bits < 2048))) {
    out.push({ code: 'weak-key', detail: `${ec ? 'EC' : 'RSA'} key of ${bits} bits`, severity: 'medium' });
  }
  return out;
}

/** Runs the TLS check. */
export async function runTlsCheck(ctx: CheckContext): Promise<CheckOutcome> {
  const { target, options, facts } = ctx;
  const findings: AuditFinding[] = [];
  const notes: string[] = [];
  const versions: Record<string, unknown>[] = [];
  const accepted: string[] = [];
  const untestable: string[] = [];
  // Default handshake first: does TLS answer at all?
  const base = await handshake(ctx, {});
  if (base.outcome !== 'accepted') {
    const sipClear = facts.answering.some((e) => e.transport !== 'tls');
    if (sipClear) {
      findings.push(
        makeFinding(
          'audit.no-tls',
          target.host,
          `${target.host} answers SIP in clear text but not over TLS on ${options.tlsPort}`,
          {
            tlsPort: options.tlsPort,
            handshake: base.outcome,
            detail: base.detail ?? null,
            clearTransports: facts.answering
              .filter((e) => e.transport !== 'tls')
              .map((e) => `${e.transport}/${e.port}`),
            ...handshakeEvidence(ctx, options.tlsPort, {}, base),
          },
        ),
      );
    }
    return {
      findings,
      data: { tlsPort: options.tlsPort, handshake: base.outcome, detail: base.detail ?? null },
      notes: [
        `no TLS handshake on ${options.tlsPort} (${base.outcome}): versions and certificate not tested`,
      ],
    };
  }
  const cert: HandshakeResult = base;
  let oldAccepted:
    | {
        opts: { minVersion?: SecureVersion; maxVersion?: SecureVersion; ciphers?: string };
        r: HandshakeResult;
      }
    | undefined;
  for (const v of TLS_VERSIONS) {
    const r = await handshake(ctx, {
      minVersion: v,
      maxVersion: v,
      ...(v === 'TLSv1' || v === 'TLSv1.1' ? { ciphers: 'DEFAULT:@SECLEVEL=0' } : {}),
    });
    versions.push({ version: v, outcome: r.outcome, cipher: r.cipher ?? null, detail: r.detail ?? null });
    if (r.outcome === 'accepted' && (v === 'TLSv1' || v === 'TLSv1.1') && oldAccepted === undefined) {
      oldAccepted = { opts: { minVersion: v, maxVersion: v }, r };
    }
    if (r.outcome === 'accepted') accepted.push(v);
    if (r.outcome === 'local-unsupported') untestable.push(v);
  }
  if (untestable.length > 0) {
    notes.push(
      `the local TLS library (OpenSSL ${process.versions.openssl}) cannot offer ${untestable.join(', ')}: not tested`,
    );
  }
  const weakOpts = { maxVersion: 'TLSv1.2' as const, ciphers: WEAK_CIPHERS };
  const weak = await handshake(ctx, weakOpts);
  let weakestAccepted:
    | {
        opts: { minVersion?: SecureVersion; maxVersion?: SecureVersion; ciphers?: string };
        r: HandshakeResult;
      }
    | undefined = weak.outcome === 'accepted' ? { opts: weakOpts, r: weak } : undefined;
  if (weak.outcome === 'local-unsupported') {
    notes.push(
      `the local TLS library cannot offer the weak ciphers (${WEAK_CIPHERS}): weak ciphers not tested`,
    );
  }
  weakestAccepted ??= oldAccepted;
  const problems: string[] = [];
  const old = accepted.filter((v) => v === 'TLSv1' || v === 'TLSv1.1');
  if (old.length > 0) problems.push(`accepts ${old.join(' and ')}`);
  if (weak.outcome === 'accepted') problems.push(`accepts the weak cipher ${weak.cipher ?? '?'}`);
  if (!accepted.includes('TLSv1.2') && !accepted.includes('TLSv1.3') && accepted.length > 0) {
    problems.push('offers neither TLS 1.2 nor TLS 1.3');
  }
  if (problems.length > 0) {
    findings.push(
      makeFinding(
        'audit.tls-weak',
        target.host,
        `SIP over TLS on ${target.host}:${options.tlsPort} ${problems.join(', ')}`,
        {
          versions,
          weakCipher: weak.outcome === 'accepted' ? (weak.cipher ?? null) : null,
          untestable,
          ...(weakestAccepted !== undefined
            ? handshakeEvidence(ctx, options.tlsPort, weakestAccepted.opts, weakestAccepted.r)
            : handshakeEvidence(ctx, options.tlsPort, {}, base)),
        },
      ),
    );
  }
  const c = cert.certificate;
  const name = options.sni ?? target.host;
  let certData: Record<string, unknown> = {};
  if (c !== undefined && c.raw !== undefined) {
    const list = certificateProblems(c, cert.authorizationError, name, options.now());
    certData = {
      subject: c.subject ?? null,
      issuer: c.issuer ?? null,
      subjectAltName: c.subjectaltname ?? null,
      validFrom: c.valid_from,
      validTo: c.valid_to,
      bits: c.bits ?? null,
      fingerprint256: c.fingerprint256,
      verification: cert.authorizationError ?? 'trusted',
      nameChecked: name,
      problems: list.map((p) => p.code),
    };
    if (list.length > 0) {
      const sev = list.some((p) => p.severity === 'high') ? 'high' : 'medium';
      findings.push(
        makeFinding(
          'audit.tls-certificate',
          target.host,
          `The TLS certificate of ${target.host}:${options.tlsPort} is ${list.map((p) => p.code).join(', ')}`,
          {
            ...certData,
            details: list.map((p) => p.detail),
            ...handshakeEvidence(ctx, options.tlsPort, {}, cert),
          },
          sev,
        ),
      );
    }
  }
  return {
    findings,
    data: { tlsPort: options.tlsPort, versions, weakCiphers: weak.outcome, certificate: certData },
    notes,
  };
}
