/**
 * Redaction of alert revisions before they leave the sensor (DESIGN.md "Alert record"): digest
 * responses, nonces, cnonces and Authorization header values never go out in clear, and a password
 * is shown masked unless the local user asks. The rules are generic (key names and value patterns),
 * so a new rule's evidence is covered without touching this file.
 */
import type { AlertJson } from '../core/alert.js';
import { REDACT_MAX_DEPTH } from '../config/limits.js';

/** What replaces a redacted value. */
export const REDACTED = '[redacted]';

/** Options of `redactAlert`. */
export interface RedactOptions {
  /** Show passwords in clear (local use only, e.g. the operator's own terminal). */
  readonly revealPasswords?: boolean;
}

/** A password shown masked: first and last character kept, all masked up to 2 characters. */
export function maskSecret(p: string): string {
  const cps = [...p];
  if (cps.length <= 2) return '*'.repeat(cps.length);
  return `${cps[0] as string}${'*'.repeat(cps.length - 2)}${cps[cps.length - 1] as string}`;
}

/** Words of a key name that mark digest material: the whole value goes (object keys included). */
const DIGEST_WORDS = new Set([
  'nonce',
  'nonces',
  'cnonce',
  'cnonces',
  'nextnonce',
  'rspauth',
  'ha1',
  'ha2',
  'authorization',
  'authorizations',
  'authenticate',
]);
/** `response` is a digest response or an answer status: only its text goes, numbers stay. */
const RESPONSE_WORDS = new Set(['response', 'responses']);
const PASSWORD_WORDS = new Set(['password', 'passwords', 'passwd', 'pwd', 'secret', 'secrets', 'passphrase']);
/** Words that make a key a count or a measure of the secret, not the secret (`distinctNonces`). */
const MEASURE_WORDS = new Set([
  'count',
  'counts',
  'total',
  'distinct',
  'tried',
  'guesses',
  'attempts',
  'checked',
  'candidates',
  'seen',
  'repeats',
  'bits',
  'samples',
  'length',
  'size',
  'entries',
  'class',
  'age',
  'ms',
  'seconds',
]);

type KeyClass = 'none' | 'digest' | 'response' | 'password' | 'masked';

/** Splits camelCase, snake_case, kebab-case and dotted names into lower-case words. */
function words(key: string): string[] {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w !== '');
}

/** What a key says about its value. */
function classify(key: string): KeyClass {
  const ws = words(key);
  let cls: KeyClass = 'none';
  let masked = false;
  for (const w of ws) {
    if (MEASURE_WORDS.has(w)) return 'none';
    if (w === 'masked') masked = true;
    else if (DIGEST_WORDS.has(w)) cls = 'digest';
    else if (cls !== 'digest' && PASSWORD_WORDS.has(w)) cls = 'password';
    else if (cls === 'none' && RESPONSE_WORDS.has(w)) cls = 'response';
  }
  return cls === 'password' && masked ? 'masked' : cls;
}

/** True when the last word of a key is a digest or password word. */
function namesSecret(key: string): boolean {
  const ws = words(key);
  const last = ws[ws.length - 1] ?? '';
  return DIGEST_WORDS.has(last) || PASSWORD_WORDS.has(last);
}

/** Header lines carrying credentials: the value after the scheme goes. */
const AUTH_HEADER = /\b((?:proxy-)?authorization)([ \t]*:[ \t]*)([A-Za-z][A-Za-z0-9-]*[ \t]+)?[^\r\n]*/gi;
/** `name=value` and `name="value"` parameters of digest material in free text. */
const DIGEST_PARAM =
  /\b(response|nonce|cnonce|nextnonce|rspauth)([ \t]*=[ \t]*)("(?:[^"\\\r\n]|\\.)*"?|[^\s,;&"'\\]+)/gi;
/** Passwords written as parameters in free text (`password=...`, `secret: ...`). */
const PASSWORD_PARAM =
  /\b(password|passwd|pwd|secret|passphrase)([ \t]*[=:][ \t]*)("(?:[^"\\\r\n]|\\.)*"?|[^\s,;&"'\\]+)/gi;
/** The same names as JSON members inside a string (stringified evidence). */
const JSON_MEMBER =
  /"(response|nonce|cnonce|nextnonce|rspauth|authorization|proxy-authorization|password|passwd|secret)"([ \t]*:[ \t]*)"(?:[^"\\]|\\.)*"/gi;

/** Redacts credential material inside one string of free text. */
export function redactText(s: string, reveal = false): string {
  // Cheap pre-check: most strings (titles, user agents) carry none of the names.
  if (!/response|nonce|rspauth|authoriz|pass|pwd|secret/i.test(s)) return s;
  return s
    .replace(JSON_MEMBER, (_m, name: string, sep: string) => {
      return `"${name}"${sep}"${REDACTED}"`;
    })
    .replace(AUTH_HEADER, (_m, name: string, sep: string, scheme: string | undefined) => {
      return `${name}${sep}${scheme ?? ''}${REDACTED}`;
    })
    .replace(DIGEST_PARAM, (m, name: string, sep: string, value: string) => {
      if (value.includes(REDACTED)) return m;
      return value.startsWith('"') ? `${name}${sep}"${REDACTED}"` : `${name}${sep}${REDACTED}`;
    })
    .replace(PASSWORD_PARAM, (m, name: string, sep: string, value: string) => {
      if (reveal || value.includes(REDACTED)) return m;
      const quoted = value.startsWith('"');
      const inner = quoted ? value.slice(1, value.endsWith('"') && value.length > 1 ? -1 : undefined) : value;
      if (/^\*+$/.test(inner) || /^.\*+.$/u.test(inner)) return m;
      return quoted ? `${name}${sep}"${maskSecret(inner)}"` : `${name}${sep}${maskSecret(inner)}`;
    });
}

/** True when a value already has the shape `maskSecret` gives. */
function looksMasked(s: string): boolean {
  const cps = [...s];
  if (cps.length === 0) return true;
  if (cps.length <= 2) return cps.every((c) => c === '*');
  return cps.slice(1, -1).every((c) => c === '*');
}

function walk(v: unknown, cls: KeyClass, reveal: boolean, depth: number): unknown {
  if (depth > REDACT_MAX_DEPTH) return '[truncated]';
  if (v === null || typeof v === 'boolean' || v === undefined) return v;
  if (typeof v === 'string') {
    switch (cls) {
      case 'digest':
      case 'response':
        return REDACTED;
      case 'password':
        return reveal ? v : maskSecret(v);
      case 'masked':
        return looksMasked(v) ? v : maskSecret(v);
      case 'none':
        return redactText(v, reveal);
    }
  }
  if (typeof v === 'number' || typeof v === 'bigint') {
    // A nonce or a PIN can be a number; a status under `response` or a count is not a secret.
    if (cls === 'digest') return REDACTED;
    if (cls === 'password' || cls === 'masked')
      return reveal && cls === 'password' ? v : maskSecret(String(v));
    return typeof v === 'bigint' ? v.toString() : v;
  }
  if (Array.isArray(v)) return v.map((x) => walk(x, cls, reveal, depth + 1));
  if (typeof v === 'object') {
    const out: Record<string, unknown> = {};
    let hidden = 0;
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      // Under digest material the keys themselves may be nonces ({ "<nonce>": 3 }).
      const hideKey =
        cls === 'digest' || (cls === 'response' && !/^[0-9]{3}$/.test(k)) || (cls === 'password' && !reveal);
      const key = hideKey ? `${REDACTED}#${++hidden}` : redactText(k, reveal);
      const own = classify(k);
      let childCls = own === 'none' ? cls : own;
      // A number is a secret only when the key names one (`nonce`, `pin`), not a fact about one
      // (`nonce-never-issued: 0`).
      if ((own === 'digest' || own === 'password') && typeof x === 'number' && !namesSecret(k))
        childCls = cls;
      out[key] = walk(x, childCls, reveal, depth + 1);
    }
    return out;
  }
  // Functions and symbols cannot be in a JSON record; say so rather than pass them through.
  return REDACTED;
}

/**
 * A deep copy of `a` with digest responses, nonces, cnonces and credential headers replaced and
 * passwords masked (shown in clear only with `revealPasswords`). Every sink sends only its result.
 */
export function redactAlert(a: AlertJson, opts: RedactOptions = {}): AlertJson {
  return walk(a, 'none', opts.revealPasswords === true, 0) as AlertJson;
}

/** `redactAlert` over a batch. */
export function redactBatch(batch: readonly AlertJson[], opts: RedactOptions = {}): AlertJson[] {
  return batch.map((a) => redactAlert(a, opts));
}
