/**
 * HTTP Digest authentication as SIP uses it (RFC 3261 section 22, RFC 2617, RFC 7616, RFC 8760):
 * challenges (WWW-Authenticate / Proxy-Authenticate), credentials (Authorization /
 * Proxy-Authorization), and the response computation used to test accepted digests against a
 * small dictionary of weak passwords. Other schemes are parsed generically and kept.
 */
import { hash as oneShotHash } from 'node:crypto';
import {
  CHAR,
  COMMA,
  C_WS,
  DQUOTE,
  EQUAL,
  equalsLower,
  scanQuoted,
  scanToken,
  skipLws,
  text,
  tokenOrQuoted,
} from './headers.js';

/** A Digest (or other scheme's) challenge. */
export class DigestChallenge {
  /** Scheme as written (`Digest`, or an unknown one). */
  readonly scheme: string;
  readonly realm: string | undefined;
  readonly nonce: string | undefined;
  readonly opaque: string | undefined;
  /** `stale=true`: the credentials were right but the nonce expired, not a failed login. */
  readonly stale: boolean | undefined;
  /** Algorithm as written (MD5 when absent, RFC 2617); see `digestHashName`. */
  readonly algorithm: string | undefined;
  /** qop options offered (`auth`, `auth-int`), empty when none. */
  readonly qop: readonly string[];
  /** Protection space URIs (`domain`, space separated). */
  readonly domain: readonly string[];
  readonly charset: string | undefined;
  readonly userhash: boolean;
  /** Every auth-param: lower-case names, unquoted values. */
  readonly params: ReadonlyMap<string, string>;

  constructor(scheme: string, params: ReadonlyMap<string, string>) {
    this.scheme = scheme;
    this.params = params;
    this.realm = params.get('realm');
    this.nonce = params.get('nonce');
    this.opaque = params.get('opaque');
    const stale = params.get('stale');
    this.stale = stale === undefined ? undefined : stale.toLowerCase() === 'true';
    this.algorithm = params.get('algorithm');
    this.qop = splitWords(params.get('qop'), true);
    this.domain = splitWords(params.get('domain'), false);
    this.charset = params.get('charset');
    this.userhash = (params.get('userhash') ?? '').toLowerCase() === 'true';
  }

  /** True for the Digest scheme (case-insensitive). */
  get isDigest(): boolean {
    return this.scheme === 'Digest' || this.scheme.toLowerCase() === 'digest';
  }
}

/** Digest (or other scheme's) credentials. */
export class DigestCredentials {
  readonly scheme: string;
  /** User name (`username`, or `username*` decoded per RFC 7616 section 3.4.4). */
  readonly username: string | undefined;
  readonly realm: string | undefined;
  readonly nonce: string | undefined;
  /** `uri` (the digest-uri), which should equal the Request-URI. */
  readonly uri: string | undefined;
  /** The response hash (secret-derived: never log it in clear). */
  readonly response: string | undefined;
  readonly algorithm: string | undefined;
  readonly cnonce: string | undefined;
  readonly opaque: string | undefined;
  /** The single qop chosen (`auth` or `auth-int`), undefined for RFC 2069 digests. */
  readonly qop: string | undefined;
  /** Nonce count as a number (it is 8 hex digits on the wire); undefined when absent or malformed. */
  readonly nc: number | undefined;
  /** Nonce count exactly as sent (the response is computed over this text). */
  readonly ncRaw: string | undefined;
  readonly userhash: boolean;
  /** Every auth-param: lower-case names, unquoted values. */
  readonly params: ReadonlyMap<string, string>;
  /** For schemes without params (`Basic token68`), the text after the scheme. */
  readonly token68: string | undefined;

  constructor(scheme: string, params: ReadonlyMap<string, string>, token68: string | undefined) {
    this.scheme = scheme;
    this.params = params;
    this.token68 = token68;
    const star = params.get('username*');
    this.username = star !== undefined ? decodeExtValue(star) : params.get('username');
    this.realm = params.get('realm');
    this.nonce = params.get('nonce');
    this.uri = params.get('uri');
    this.response = params.get('response');
    this.algorithm = params.get('algorithm');
    this.cnonce = params.get('cnonce');
    this.opaque = params.get('opaque');
    this.qop = params.get('qop');
    const nc = params.get('nc');
    this.ncRaw = nc;
    this.nc = nc !== undefined && /^[0-9a-fA-F]{1,8}$/.test(nc) ? parseInt(nc, 16) : undefined;
    this.userhash = (params.get('userhash') ?? '').toLowerCase() === 'true';
  }

  /** True for the Digest scheme (case-insensitive). */
  get isDigest(): boolean {
    return this.scheme === 'Digest' || this.scheme.toLowerCase() === 'digest';
  }
}

function splitWords(v: string | undefined, commas: boolean): string[] {
  if (v === undefined) return [];
  const out: string[] = [];
  for (const w of v.split(commas ? /[\s,]+/ : /\s+/)) if (w !== '') out.push(w);
  return out;
}

/** RFC 8187 ext-value (`UTF-8''J%C3%A4ger`) decoded; the text unchanged when it is not one. */
function decodeExtValue(v: string): string {
  const m = /^([A-Za-z0-9!#$%&+^_`{}~-]+)'[A-Za-z0-9-]*'(.*)$/.exec(v);
  if (m === null) return v;
  const bytes: number[] = [];
  const s = m[2] ?? '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25 && i + 2 < s.length && /^[0-9a-fA-F]{2}$/.test(s.slice(i + 1, i + 3))) {
      bytes.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(c & 0xff);
  }
  return Buffer.from(bytes).toString((m[1] ?? '').toLowerCase() === 'iso-8859-1' ? 'latin1' : 'utf8');
}

/** One scheme with its params, as found in an auth field. */
interface AuthItem {
  scheme: string;
  params: Map<string, string>;
  token68: string | undefined;
}

/**
 * Splits an auth field [s, e) into scheme + params items. A challenge field may hold several
 * challenges (a bare token after a comma starts the next one). Issues: `sip_bad_auth_header`,
 * `sip_unterminated_quote`.
 */
function parseAuthItems(
  buf: Buffer,
  s: number,
  e: number,
  many: boolean,
  max: number,
  issues: string[],
): AuthItem[] {
  const items: AuthItem[] = [];
  let p = skipLws(buf, s, e);
  let cur: AuthItem | undefined;
  while (p < e) {
    const ts = p;
    const te = scanToken(buf, p, e);
    if (te === ts) {
      if (buf[p] === COMMA) {
        p = skipLws(buf, p + 1, e);
        continue;
      }
      issues.push('sip_bad_auth_header');
      p = skipPastComma(buf, p, e);
      continue;
    }
    let q = skipLws(buf, te, e);
    if (cur !== undefined && q < e && buf[q] === EQUAL) {
      // auth-param = name EQUAL ( token / quoted-string )
      q = skipLws(buf, q + 1, e);
      let ve: number;
      if (q < e && buf[q] === DQUOTE) {
        ve = scanQuoted(buf, q, e);
        if (ve < 0) {
          issues.push('sip_unterminated_quote');
          ve = e;
        }
      } else {
        ve = q;
        while (ve < e && buf[ve] !== COMMA && (CHAR[buf[ve]!]! & C_WS) === 0) ve++;
        // token68 values may end in '=' padding: keep them whole.
        while (ve < e && buf[ve] === EQUAL) ve++;
      }
      const name = authParamName(buf, ts, te);
      if (!cur.params.has(name)) cur.params.set(name, tokenOrQuoted(buf, q, ve));
      p = skipLws(buf, ve, e);
      if (p < e) {
        if (buf[p] === COMMA) p = skipLws(buf, p + 1, e);
        else {
          issues.push('sip_bad_auth_header');
          p = skipPastComma(buf, p, e);
        }
      }
      continue;
    }
    if (cur !== undefined && !many) {
      issues.push('sip_bad_auth_header');
      p = skipPastComma(buf, p, e);
      continue;
    }
    // A new scheme; what follows it is auth-params or a token68 blob.
    if (items.length >= max) {
      issues.push('sip_too_many_values');
      break;
    }
    cur = { scheme: schemeName(buf, ts, te), params: new Map(), token68: undefined };
    items.push(cur);
    p = q;
    if (p < e && q === te) {
      // No LWS after the scheme.
      issues.push('sip_bad_auth_header');
    }
    if (p < e && looksLikeToken68(buf, p, e)) {
      cur.token68 = text(buf, p, e);
      break;
    }
  }
  return items;
}

// The auth-param names RFC 7616 defines, in lower case. A name is a token, so comparing its bytes
// case-insensitively and returning the constant gives the same string as text().toLowerCase()
// without making two strings per parameter (about ten per Authorization field).
const AUTH_PARAM_NAMES: readonly (readonly string[])[] = (() => {
  const byLength: string[][] = [];
  for (const n of [
    'username',
    'username*',
    'realm',
    'nonce',
    'uri',
    'response',
    'algorithm',
    'cnonce',
    'opaque',
    'qop',
    'nc',
    'stale',
    'domain',
    'charset',
    'userhash',
  ]) {
    (byLength[n.length] ??= []).push(n);
  }
  return byLength;
})();

/** Lower-case auth-param name of the token [s, e). */
function authParamName(buf: Buffer, s: number, e: number): string {
  const candidates = AUTH_PARAM_NAMES[e - s];
  if (candidates !== undefined) {
    for (let i = 0; i < candidates.length; i++) {
      const n = candidates[i]!;
      if (equalsLower(buf, s, e, n)) return n;
    }
  }
  return text(buf, s, e).toLowerCase();
}

/** Scheme as written; the usual spelling `Digest` without making a string. */
function schemeName(buf: Buffer, s: number, e: number): string {
  if (
    e - s === 6 &&
    buf[s] === 0x44 &&
    buf[s + 1] === 0x69 &&
    buf[s + 2] === 0x67 &&
    buf[s + 3] === 0x65 &&
    buf[s + 4] === 0x73 &&
    buf[s + 5] === 0x74
  ) {
    return 'Digest';
  }
  return text(buf, s, e);
}

/** `Basic QWxhZGRpbjpvcGVu` style: one blob with no '=' before its end other than padding. */
function looksLikeToken68(buf: Buffer, p: number, e: number): boolean {
  let i = p;
  while (i < e && buf[i] !== EQUAL && buf[i] !== COMMA && (CHAR[buf[i]!]! & C_WS) === 0) i++;
  if (i === e) return true;
  if (buf[i] !== EQUAL) return false;
  while (i < e && buf[i] === EQUAL) i++;
  return skipLws(buf, i, e) === e;
}

function skipPastComma(buf: Buffer, p: number, e: number): number {
  while (p < e && buf[p] !== COMMA) {
    if (buf[p] === DQUOTE) {
      const q = scanQuoted(buf, p, e);
      p = q < 0 ? e : q;
    } else p++;
  }
  return p < e ? skipLws(buf, p + 1, e) : e;
}

/** Parses the challenges of one WWW-Authenticate / Proxy-Authenticate field into `out`. */
export function parseChallenges(
  buf: Buffer,
  s: number,
  e: number,
  out: DigestChallenge[],
  max: number,
  issues: string[],
): void {
  const items = parseAuthItems(buf, s, e, true, max - out.length, issues);
  for (const it of items) {
    if (out.length >= max) {
      issues.push('sip_too_many_values');
      break;
    }
    out.push(new DigestChallenge(it.scheme, it.params));
  }
}

/** Parses one Authorization / Proxy-Authorization field; undefined when it has no scheme. */
export function parseCredentials(
  buf: Buffer,
  s: number,
  e: number,
  issues: string[],
): DigestCredentials | undefined {
  const items = parseAuthItems(buf, s, e, false, 1, issues);
  const it = items[0];
  if (it === undefined) {
    issues.push('sip_bad_auth_header');
    return undefined;
  }
  return new DigestCredentials(it.scheme, it.params, it.token68);
}

/** Parses credentials given as text (tests, log lines). */
export function parseCredentialsText(value: string): DigestCredentials | undefined {
  const b = Buffer.from(value, 'utf8');
  return parseCredentials(b, 0, b.length, []);
}

/** Parses challenges given as text (tests, log lines). */
export function parseChallengesText(value: string): DigestChallenge[] {
  const b = Buffer.from(value, 'utf8');
  const out: DigestChallenge[] = [];
  parseChallenges(b, 0, b.length, out, 16, []);
  return out;
}

/** What the response computation needs; DigestCredentials provides it. */
export interface DigestInput {
  readonly username: string | undefined;
  readonly realm: string | undefined;
  readonly nonce: string | undefined;
  readonly uri: string | undefined;
  readonly algorithm: string | undefined;
  readonly cnonce: string | undefined;
  readonly qop: string | undefined;
  /** Nonce count exactly as sent. */
  readonly ncRaw: string | undefined;
}

/**
 * node:crypto hash name for a Digest algorithm (MD5, MD5-sess, SHA-256, SHA-256-sess,
 * SHA-512-256, SHA-512-256-sess; case-insensitive; absent = MD5), undefined when unsupported.
 */
export function digestHashName(algorithm: string | undefined): string | undefined {
  const a = (algorithm ?? 'MD5').toUpperCase();
  const base = a.endsWith('-SESS') ? a.slice(0, -5) : a;
  if (base === 'MD5') return 'md5';
  if (base === 'SHA-256') return 'sha256';
  if (base === 'SHA-512-256') return 'sha512-256';
  return undefined;
}

function hash(alg: string, data: string | Buffer): string {
  return oneShotHash(alg, data, 'hex');
}

/** True when `computeDigestResponse` can compute a response for these credentials (a supported
 * algorithm, and every parameter it needs), without computing one. */
export function digestSupported(cred: DigestInput): boolean {
  if (digestHashName(cred.algorithm) === undefined) return false;
  if (cred.username === undefined || cred.realm === undefined || cred.nonce === undefined) return false;
  if (cred.uri === undefined) return false;
  const qop = cred.qop?.toLowerCase();
  const sess = (cred.algorithm ?? '').toLowerCase().endsWith('-sess');
  if ((qop !== undefined || sess) && cred.cnonce === undefined) return false;
  if (qop === undefined) return true;
  return (qop === 'auth' || qop === 'auth-int') && cred.ncRaw !== undefined;
}

/**
 * A function giving, for a password, the `response` a client knowing it would send with these
 * credentials (RFC 2617 section 3.2.2, RFC 7616 section 3.4.1), lower-case hex; undefined when the
 * algorithm is unsupported or a parameter the computation needs is missing. The parts that do not
 * depend on the password (HA2, the text around HA1) are computed once, so each password costs two
 * hashes (three with -sess): what a password guesser checking many candidates against one login
 * needs. `body` is the message body, needed only for qop=auth-int.
 */
export function digestResponder(
  cred: DigestInput,
  method: string,
  body: Buffer | undefined,
): ((password: string) => string) | undefined {
  if (!digestSupported(cred)) return undefined;
  const alg = digestHashName(cred.algorithm) as string;
  const h = (data: string | Buffer): string => hash(alg, data);
  const qop = cred.qop?.toLowerCase();
  const sess = (cred.algorithm ?? '').toLowerCase().endsWith('-sess');
  const nonce = cred.nonce ?? '';
  const cnonce = cred.cnonce ?? '';
  const uri = cred.uri ?? '';
  const ha2 =
    qop === 'auth-int' ? h(`${method}:${uri}:${h(body ?? Buffer.alloc(0))}`) : h(`${method}:${uri}`);
  const head = `${cred.username ?? ''}:${cred.realm ?? ''}:`;
  const sessTail = `:${nonce}:${cnonce}`;
  const tail =
    qop === undefined ? `:${nonce}:${ha2}` : `:${nonce}:${cred.ncRaw ?? ''}:${cnonce}:${qop}:${ha2}`;
  return (password) => {
    let ha1 = h(head + password);
    if (sess) ha1 = h(ha1 + sessTail);
    return h(ha1 + tail);
  };
}

/**
 * The `response` a client knowing `password` would send with these credentials (see
 * `digestResponder`). With `userhash=true` the caller must pass the clear user name in
 * `params.username`. `bodyForAuthInt` is the message body, needed only for qop=auth-int.
 */
export function computeDigestResponse(
  params: DigestInput,
  password: string,
  method: string,
  bodyForAuthInt?: Buffer,
): string | undefined {
  return digestResponder(params, method, bodyForAuthInt)?.(password);
}

/** True when `password` yields the credentials' `response` (hex compared case-insensitively). */
export function digestMatches(
  cred: DigestInput & { readonly response: string | undefined },
  password: string,
  method: string,
  bodyForAuthInt?: Buffer,
): boolean {
  if (cred.response === undefined) return false;
  const r = computeDigestResponse(cred, password, method, bodyForAuthInt);
  return r !== undefined && r === cred.response.toLowerCase();
}
