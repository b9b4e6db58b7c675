/**
 * `(name-addr / addr-spec) *(SEMI param)` values: From, To, Contact, Route, Record-Route, Reply-To,
 * Refer-To, P-Asserted-Identity... (RFC 3261 sections 20.10, 20.20, 20.39, 25.1). Parsed from one
 * list element of a header value; the URI and the parameter map are decoded on first read.
 */
import {
  CHAR,
  C_TOKEN,
  C_WS,
  COMMA,
  DQUOTE,
  LAQUOT,
  PARAM_OFFSETS,
  QMARK,
  RAQUOT,
  SEMI,
  equalsLower,
  paramMap,
  parseDecimal,
  scanParams,
  scanQuoted,
  skipLws,
  text,
  tokenOrQuoted,
  trimLwsEnd,
  unfoldText,
  unquote,
} from './headers.js';
import { SipUri, parseUri, uriIssues } from './uri.js';

/** Largest delta-seconds value (RFC 3261 section 25.1: 2^32-1); larger ones are clamped to it. */
export const MAX_DELTA_SECONDS = 4294967295;

const DISPLAY_NONE = 0;
const DISPLAY_QUOTED = 1;
const DISPLAY_TOKENS = 2;
const EMPTY_MAP: ReadonlyMap<string, string> = new Map();

/** One address with its header parameters. */
export class NameAddr {
  /** `tag` parameter (From/To), undefined when absent. */
  readonly tag: string | undefined;
  /** Contact `*` (RFC 3261 section 10.2.2: remove all bindings). */
  readonly star: boolean;
  /** `expires` parameter in seconds (clamped to 2^32-1), undefined when absent or not a number. */
  readonly expires: number | undefined;
  /** `q` parameter (0 to 1), undefined when absent or malformed. */
  readonly q: number | undefined;
  /** Anomaly codes for this value (the URI's own are in `uri.issues`). */
  readonly issues: readonly string[];
  readonly #buf: Buffer;
  readonly #displayKind: number;
  readonly #displayStart: number;
  readonly #displayEnd: number;
  readonly #uriStart: number;
  readonly #uriEnd: number;
  readonly #paramStart: number;
  readonly #paramEnd: number;
  #displayText: string | undefined | null;
  #uriValue: SipUri | undefined | null;
  #rawUriText: string | undefined;
  #paramValues: ReadonlyMap<string, string> | undefined;

  constructor(
    buf: Buffer,
    displayKind: number,
    displayStart: number,
    displayEnd: number,
    uriStart: number,
    uriEnd: number,
    paramStart: number,
    paramEnd: number,
    tag: string | undefined,
    star: boolean,
    expires: number | undefined,
    q: number | undefined,
    issues: readonly string[],
  ) {
    this.#buf = buf;
    this.#displayKind = displayKind;
    this.#displayStart = displayStart;
    this.#displayEnd = displayEnd;
    this.#uriStart = uriStart;
    this.#uriEnd = uriEnd;
    this.#paramStart = paramStart;
    this.#paramEnd = paramEnd;
    this.tag = tag;
    this.star = star;
    this.expires = expires;
    this.q = q;
    this.issues = issues;
    this.#displayText = null;
    this.#uriValue = null;
    this.#rawUriText = undefined;
    this.#paramValues = undefined;
  }

  /** Display name (quotes removed, escapes resolved), undefined when there is none. */
  get display(): string | undefined {
    if (this.#displayText === null) {
      const k = this.#displayKind;
      this.#displayText =
        k === DISPLAY_NONE
          ? undefined
          : k === DISPLAY_QUOTED
            ? unquote(this.#buf, this.#displayStart, this.#displayEnd)
            : unfoldText(this.#buf, this.#displayStart, this.#displayEnd);
    }
    return this.#displayText;
  }

  /** The URI text as written (inside the angle brackets when there are some). */
  get rawUri(): string {
    if (this.#rawUriText === undefined) this.#rawUriText = text(this.#buf, this.#uriStart, this.#uriEnd);
    return this.#rawUriText;
  }

  /** The parsed URI; undefined for a Contact `*` or when no URI could be found. */
  get uri(): SipUri | undefined {
    if (this.#uriValue === null) {
      this.#uriValue =
        this.#uriStart < this.#uriEnd ? parseUri(this.#buf, this.#uriStart, this.#uriEnd) : undefined;
    }
    return this.#uriValue;
  }

  /** Anomaly codes of the URI, found without building it when it was not read yet. */
  get uriIssues(): readonly string[] {
    const u = this.#uriValue;
    if (u !== null) return u === undefined ? NO_ISSUES : u.issues;
    return this.#uriStart < this.#uriEnd ? uriIssues(this.#buf, this.#uriStart, this.#uriEnd) : NO_ISSUES;
  }

  /** Header parameters: lower-case names, unquoted values ('' when valueless). */
  get params(): ReadonlyMap<string, string> {
    if (this.#paramValues === undefined) {
      this.#paramValues =
        this.#paramStart < this.#paramEnd ? paramMap(this.#buf, this.#paramStart, this.#paramEnd) : EMPTY_MAP;
    }
    return this.#paramValues;
  }
}

function addIssue(issues: string[] | null, code: string): string[] {
  if (issues === null) return [code];
  if (!issues.includes(code)) issues.push(code);
  return issues;
}

const NO_ISSUES: readonly string[] = Object.freeze([]);
const SCRATCH: string[] = [];

/**
 * Parses one address value in [s, e). `contact` enables `*` and the expires/q parameters.
 * Issues it can report: `sip_unterminated_quote`, `sip_bad_display_name`,
 * `sip_name_addr_not_enclosed`, `sip_spaces_in_addr_spec`, `sip_bad_uri` (missing URI or `>`),
 * `sip_bad_number` / `sip_overlarge_value` (expires), `sip_bad_param` (q) and the parameter
 * scanner's codes.
 */
export function parseNameAddr(buf: Buffer, s: number, e: number, contact: boolean): NameAddr {
  let issues: string[] | null = null;
  let p = skipLws(buf, s, e);
  e = trimLwsEnd(buf, p, e);
  if (contact && e - p === 1 && buf[p] === 0x2a) {
    return new NameAddr(
      buf,
      DISPLAY_NONE,
      p,
      p,
      p,
      p,
      e,
      e,
      undefined,
      true,
      undefined,
      undefined,
      NO_ISSUES,
    );
  }
  let displayKind = DISPLAY_NONE;
  const displayStart = p;
  let displayEnd = p;
  let lt = -1;
  if (p < e && buf[p] === DQUOTE) {
    const q = scanQuoted(buf, p, e);
    displayKind = DISPLAY_QUOTED;
    if (q < 0) {
      issues = addIssue(issues, 'sip_unterminated_quote');
      // Keep what can be read: an address in <...> after the open quote (RFC 4475 quotbal.dat).
      let i = p + 1;
      while (i < e && buf[i] !== LAQUOT) i++;
      displayEnd = trimLwsEnd(buf, p, i);
      if (i === e) {
        return new NameAddr(
          buf,
          displayKind,
          displayStart,
          e,
          e,
          e,
          e,
          e,
          undefined,
          false,
          undefined,
          undefined,
          issues,
        );
      }
      lt = i;
    } else {
      displayEnd = q;
      const r = skipLws(buf, q, e);
      if (r < e && buf[r] === LAQUOT) lt = r;
      else {
        issues = addIssue(issues, 'sip_name_addr_not_enclosed');
        p = r;
      }
    }
  } else {
    // A display name made of tokens ends at '<'; without '<' before any ';' this is an addr-spec.
    let i = p;
    while (i < e) {
      const c = buf[i]!;
      if (c === LAQUOT || c === SEMI || c === DQUOTE) break;
      i++;
    }
    if (i < e && buf[i] === LAQUOT) {
      lt = i;
      displayEnd = trimLwsEnd(buf, p, i);
      if (displayEnd > p) {
        displayKind = DISPLAY_TOKENS;
        for (let j = p; j < displayEnd; j++) {
          if ((CHAR[buf[j]!]! & (C_TOKEN | C_WS)) === 0) {
            issues = addIssue(issues, 'sip_bad_display_name');
            break;
          }
        }
      }
    }
  }

  let uriStart: number;
  let uriEnd: number;
  let paramStart: number;
  if (lt >= 0) {
    let gt = buf.indexOf(RAQUOT, lt + 1);
    if (gt < 0 || gt > e) gt = e;
    uriStart = lt + 1;
    uriEnd = gt;
    if (gt === e) issues = addIssue(issues, 'sip_bad_uri');
    const a = skipLws(buf, uriStart, uriEnd);
    const b = trimLwsEnd(buf, a, uriEnd);
    if (a !== uriStart || b !== uriEnd) {
      issues = addIssue(issues, 'sip_spaces_in_addr_spec');
      uriStart = a;
      uriEnd = b;
    }
    paramStart = gt < e ? gt + 1 : e;
  } else {
    // addr-spec: RFC 3261 section 20.10: its ';' parameters belong to the header, not the URI.
    uriStart = p;
    let i = p;
    while (i < e && buf[i] !== SEMI) i++;
    uriEnd = trimLwsEnd(buf, p, i);
    paramStart = i;
    for (let j = uriStart; j < uriEnd; j++) {
      const c = buf[j]!;
      if (c === QMARK || c === COMMA) {
        issues = addIssue(issues, 'sip_name_addr_not_enclosed');
        break;
      }
    }
  }
  if (uriStart >= uriEnd) issues = addIssue(issues, 'sip_bad_uri');

  let tag: string | undefined;
  let expires: number | undefined;
  let q: number | undefined;
  if (paramStart < e) {
    if (SCRATCH.length !== 0) SCRATCH.length = 0;
    const n = scanParams(buf, paramStart, e, false, SCRATCH);
    for (let i = 0; i < SCRATCH.length; i++) issues = addIssue(issues, SCRATCH[i]!);
    for (let i = 0; i < n; i++) {
      const o = i * 4;
      const ns = PARAM_OFFSETS[o]!;
      const ne = PARAM_OFFSETS[o + 1]!;
      const vs = PARAM_OFFSETS[o + 2]!;
      const ve = PARAM_OFFSETS[o + 3]!;
      if (ne - ns === 3 && equalsLower(buf, ns, ne, 'tag')) {
        if (tag === undefined && vs >= 0) tag = tokenOrQuoted(buf, vs, ve);
      } else if (contact && equalsLower(buf, ns, ne, 'expires')) {
        if (vs >= 0) {
          const v = parseDecimal(buf, vs, ve);
          if (v < 0) issues = addIssue(issues, 'sip_bad_number');
          else if (v > MAX_DELTA_SECONDS) {
            issues = addIssue(issues, 'sip_overlarge_value');
            expires = MAX_DELTA_SECONDS;
          } else expires = v;
        } else issues = addIssue(issues, 'sip_bad_number');
      } else if (contact && ne - ns === 1 && (buf[ns]! | 0x20) === 0x71) {
        const v = vs < 0 ? NaN : Number(text(buf, vs, ve));
        if (v >= 0 && v <= 1) q = v;
        else issues = addIssue(issues, 'sip_bad_param');
      }
    }
  }
  return new NameAddr(
    buf,
    displayKind,
    displayStart,
    displayEnd,
    uriStart,
    uriEnd,
    paramStart,
    e,
    tag,
    false,
    expires,
    q,
    issues ?? NO_ISSUES,
  );
}

/** Parses an address value given as text (tests, configuration). */
export function parseNameAddrText(value: string, contact = false): NameAddr {
  const b = Buffer.from(value, 'utf8');
  return parseNameAddr(b, 0, b.length, contact);
}
