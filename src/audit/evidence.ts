/**
 * Evidence of a finding: the exact request sent and the answer received, cut to their first line and
 * the headers that carry the finding (no body: a configuration or an SDP may hold secrets), every
 * line escaped (control and bidirectional characters made visible) and the whole bounded by
 * AUDIT_EVIDENCE_MAX_CHARS. Digest secrets are masked: a nonce may belong to a login in progress and
 * a digest response for a guessed password would let a reader of the report crack it offline.
 */
import { AUDIT_EVIDENCE_MAX_CHARS } from '../config/limits.js';
import { escapeText } from '../core/escape.js';

/** Headers kept in evidence (lower case; SIP compact forms included). */
export const EVIDENCE_HEADERS: ReadonlySet<string> = new Set([
  'via',
  'v',
  'from',
  'f',
  'to',
  't',
  'call-id',
  'i',
  'cseq',
  'contact',
  'm',
  'record-route',
  'server',
  'user-agent',
  'allow',
  'supported',
  'k',
  'www-authenticate',
  'proxy-authenticate',
  'authorization',
  'proxy-authorization',
  'content-type',
  'c',
  'content-length',
  'l',
  'expires',
  'retry-after',
  'warning',
  'host',
  'location',
  'x-powered-by',
  'set-cookie',
]);

/** Characters of one evidence line. */
const LINE_MAX = 400;
const SECRET_RE = /\b(nonce|cnonce|response)\s*=\s*("[^"]*"|[^,\s]*)/gi;

/** Masks digest nonces and responses, keeping their names (the reader sees they were there). */
export function maskDigestSecrets(line: string): string {
  return line.replace(SECRET_RE, (_m, name: string) => `${name}="(masked)"`);
}

/**
 * The start line and the relevant headers of a SIP or HTTP message (request or answer), escaped
 * line by line, joined by "\n", bounded; the body is only counted.
 */
export function evidenceMessage(raw: string | Buffer): string {
  const s = typeof raw === 'string' ? raw : raw.toString('latin1');
  let end = s.indexOf('\r\n\r\n');
  let sepLen = 4;
  if (end < 0) {
    end = s.indexOf('\n\n');
    sepLen = 2;
  }
  const head = end < 0 ? s : s.slice(0, end);
  const bodyBytes = end < 0 ? 0 : s.length - end - sepLen;
  const lines = head.split(/\r?\n/);
  const out: string[] = [];
  let size = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (i > 0) {
      const colon = line.indexOf(':');
      if (colon <= 0 || !EVIDENCE_HEADERS.has(line.slice(0, colon).trim().toLowerCase())) continue;
    }
    const e = escapeText(maskDigestSecrets(line), LINE_MAX);
    if (size + e.length + 1 > AUDIT_EVIDENCE_MAX_CHARS) {
      out.push('(evidence cut)');
      break;
    }
    out.push(e);
    size += e.length + 1;
  }
  if (bodyBytes > 0) out.push(`(body: ${bodyBytes} bytes, not copied)`);
  return out.join('\n');
}

/** A one-line description of a non-SIP exchange step (TCP connect, TLS handshake), escaped and bounded. */
export function evidenceLine(text: string): string {
  return escapeText(text, LINE_MAX);
}
