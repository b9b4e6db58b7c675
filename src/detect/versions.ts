/**
 * The vulnerable-version list (data/versions/vulnerable-versions.json): which products and versions
 * a Server or User-Agent header may reveal that have known CVEs, are past their end of life, or are
 * builds known to be compromised. Shared by the passive rule exposure.vulnerable-version and the
 * active audit (audit.vulnerable-version). Loading a list is configuration: it returns a result
 * naming the file and the entry at fault, never a half-read list. Matching never throws on input.
 *
 * Range expressions (the `versions` field of an entry):
 *   expr  := alt ( "||" alt )*            any alternative holds
 *   alt   := term ( " " term )*           every term holds
 *   term  := op? version | version ".x" | "*"
 *   op    := "<" | "<=" | ">" | ">=" | "="   (no op: "=")
 * Versions are dot-separated decimal numbers compared component by component, missing components
 * counting as 0 (18.12 = 18.12.0). `16.x` matches every version whose first component is 16;
 * `18.0.x` every 18.0.*. Examples: `<5.4.0`, `>=19.0.0 <20.5.1 || =21.0.0`, `18.12.407 || 18.12.416`.
 */
import { readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  DETECT_VERSION_HEADER_MAX_CHARS,
  VERSION_LIST_MAX_BYTES,
  VERSION_LIST_MAX_ENTRIES,
} from '../config/limits.js';

/** Why a version is listed. */
export type VersionReason = 'cve' | 'end-of-life' | 'compromised-build';

/** One entry of the list, as written in the JSON file. */
export interface VersionEntry {
  /** Product name shown in alerts; entries with the same name describe the same product. */
  readonly product: string;
  /** Regular expression (JavaScript syntax, matched case-insensitively) on the header value; its
   * named group `version`, or else its first capture group, is the version. */
  readonly match: string;
  /** Range expression of the affected versions (see the module comment). */
  readonly versions: string;
  readonly reason: VersionReason;
  /** CVE (or GitHub advisory) ids; empty for end-of-life entries. */
  readonly ids: readonly string[];
  readonly summary: string;
  /** Where the claim comes from (vendor advisory, CVE record, lifecycle page). */
  readonly source: string;
  /** Date (YYYY-MM-DD) the entry was last checked against its source. */
  readonly checked: string;
}

/** An entry ready to match. */
export interface CompiledEntry extends VersionEntry {
  readonly pattern: RegExp;
  readonly range: VersionRange;
}

/** A loaded list. */
export interface VersionList {
  /** Date (YYYY-MM-DD) the list as a whole was last updated. */
  readonly updated: string;
  /** File path (or label) the list came from. */
  readonly origin: string;
  readonly entries: readonly CompiledEntry[];
}

/** A list, or why it could not be used (naming the file and the entry). */
export type VersionListResult =
  { readonly ok: true; readonly list: VersionList } | { readonly ok: false; readonly error: string };

/** One comparison of a range. */
interface Term {
  readonly op: '<' | '<=' | '>' | '>=' | '=' | 'prefix' | 'any';
  readonly version: readonly number[];
}

/** A parsed range expression: alternatives of conjunctions of terms. */
export interface VersionRange {
  readonly source: string;
  readonly alternatives: readonly (readonly Term[])[];
}

/** A header revealed a listed version. */
export interface VersionFinding {
  readonly entry: CompiledEntry;
  /** The version as written in the header. */
  readonly version: string;
}

const REASONS: readonly string[] = ['cve', 'end-of-life', 'compromised-build'];
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const ID = /^(?:CVE-\d{4}-\d{4,}|GHSA(?:-[23456789cfghjmpqrvwx]{4}){3})$/;
/** Longest pattern accepted from a list file: patterns run on every new header value. */
const MAX_PATTERN_CHARS = 512;
const MAX_COMPONENTS = 8;

/** Parses a version's leading dotted decimal part ("1.10.7-release" → [1, 10, 7]); undefined if none. */
export function parseVersion(text: string): number[] | undefined {
  const m = /^\s*v?(\d{1,9}(?:\.\d{1,9})*)/i.exec(text);
  if (m === null) return undefined;
  return (m[1] as string).split('.', MAX_COMPONENTS).map(Number);
}

/** Compares two versions component by component (missing components are 0): <0, 0 or >0. */
export function compareVersions(a: readonly number[], b: readonly number[]): number {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** Parses a range expression; an error names the token at fault. */
export function parseRange(expr: string): { ok: true; range: VersionRange } | { ok: false; error: string } {
  const alternatives: Term[][] = [];
  for (const alt of expr.split('||')) {
    const terms: Term[] = [];
    for (const tok of alt.trim().split(/\s+/)) {
      if (tok === '') continue;
      if (tok === '*') {
        terms.push({ op: 'any', version: [] });
        continue;
      }
      const m = /^(<=|>=|<|>|=)?(\d{1,9}(?:\.\d{1,9}){0,7})(\.[x*])?$/.exec(tok);
      if (m === null) return { ok: false, error: `bad term '${tok}' in range '${expr}'` };
      const version = (m[2] as string).split('.').map(Number);
      if (m[3] !== undefined) {
        if (m[1] !== undefined) return { ok: false, error: `'${tok}': a wildcard takes no operator` };
        terms.push({ op: 'prefix', version });
      } else terms.push({ op: (m[1] ?? '=') as Term['op'], version });
    }
    if (terms.length === 0) return { ok: false, error: `empty alternative in range '${expr}'` };
    alternatives.push(terms);
  }
  return { ok: true, range: { source: expr, alternatives } };
}

/** True when `version` is inside `range`. */
export function inRange(version: readonly number[], range: VersionRange): boolean {
  for (const alt of range.alternatives) {
    let all = true;
    for (const t of alt) {
      if (!holds(version, t)) {
        all = false;
        break;
      }
    }
    if (all) return true;
  }
  return false;
}

function holds(v: readonly number[], t: Term): boolean {
  switch (t.op) {
    case 'any':
      return true;
    case 'prefix':
      for (let i = 0; i < t.version.length; i++) if ((v[i] ?? 0) !== t.version[i]) return false;
      return true;
    case '<':
      return compareVersions(v, t.version) < 0;
    case '<=':
      return compareVersions(v, t.version) <= 0;
    case '>':
      return compareVersions(v, t.version) > 0;
    case '>=':
      return compareVersions(v, t.version) >= 0;
    case '=':
      return compareVersions(v, t.version) === 0;
  }
}

/** Validates and compiles a list from its JSON text. */
export function parseVersionList(text: string, origin: string): VersionListResult {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    return { ok: false, error: `${origin}: not JSON (${err instanceof Error ? err.message : String(err)})` };
  }
  if (!isObject(doc))
    return { ok: false, error: `${origin}: expected an object with 'updated' and 'entries'` };
  const updated = doc.updated;
  if (typeof updated !== 'string' || !DATE.test(updated)) {
    return { ok: false, error: `${origin}: 'updated' must be a date YYYY-MM-DD` };
  }
  const raw = doc.entries;
  if (!Array.isArray(raw)) return { ok: false, error: `${origin}: 'entries' must be an array` };
  if (raw.length > VERSION_LIST_MAX_ENTRIES) {
    return {
      ok: false,
      error: `${origin}: ${raw.length} entries, at most ${VERSION_LIST_MAX_ENTRIES} are read`,
    };
  }
  const entries: CompiledEntry[] = [];
  for (let i = 0; i < raw.length; i++) {
    const r = compileEntry(raw[i]);
    if (typeof r === 'string') return { ok: false, error: `${origin}: entries[${i}]: ${r}` };
    entries.push(r);
  }
  return { ok: true, list: { updated, origin, entries } };
}

function compileEntry(e: unknown): CompiledEntry | string {
  if (!isObject(e)) return 'expected an object';
  const { product, match, versions, reason, ids, summary, source, checked } = e;
  if (typeof product !== 'string' || product.trim() === '') return "'product' must be a non-empty string";
  if (typeof match !== 'string' || match === '' || match.length > MAX_PATTERN_CHARS) {
    return `'match' must be a regular expression of 1 to ${MAX_PATTERN_CHARS} characters`;
  }
  let pattern: RegExp;
  try {
    pattern = new RegExp(match, 'i');
  } catch (err) {
    return `'match' does not compile (${err instanceof Error ? err.message : String(err)})`;
  }
  // An empty alternative added to the pattern matches '' and reports how many groups it has.
  const groups = (new RegExp(`${match}|`, 'i').exec('') ?? []).length - 1;
  if (groups < 1) return "'match' needs a capture group (or a group named 'version') for the version";
  if (typeof versions !== 'string') return "'versions' must be a range expression";
  const range = parseRange(versions);
  if (!range.ok) return `'versions': ${range.error}`;
  if (typeof reason !== 'string' || !REASONS.includes(reason))
    return `'reason' must be one of ${REASONS.join(', ')}`;
  if (!Array.isArray(ids) || !ids.every((x): x is string => typeof x === 'string' && ID.test(x))) {
    return "'ids' must be an array of CVE-YYYY-NNNN or GHSA ids";
  }
  if (reason === 'cve' && ids.length === 0) return "a 'cve' entry names at least one id";
  if (typeof summary !== 'string' || summary.trim() === '') return "'summary' must be a non-empty string";
  if (typeof source !== 'string' || !/^https?:\/\/\S+$/.test(source))
    return "'source' must be an http(s) URL";
  if (typeof checked !== 'string' || !DATE.test(checked)) return "'checked' must be a date YYYY-MM-DD";
  return {
    product,
    match,
    versions,
    reason: reason as VersionReason,
    ids: [...ids],
    summary,
    source,
    checked,
    pattern,
    range: range.range,
  };
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** Reads and compiles a list file (e.g. a newer list the user points at). */
export function loadVersionList(path: string): VersionListResult {
  let text: string;
  try {
    const size = statSync(path).size;
    if (size > VERSION_LIST_MAX_BYTES) {
      return {
        ok: false,
        error: `${path}: ${size} bytes, a version list may be at most ${VERSION_LIST_MAX_BYTES}`,
      };
    }
    text = readFileSync(path, 'utf8');
  } catch (err) {
    return { ok: false, error: `${path}: cannot read (${err instanceof Error ? err.message : String(err)})` };
  }
  return parseVersionList(text, path);
}

/** Path of the list shipped with sipwarden (dist/src/detect → package root → data/versions). */
export const DEFAULT_VERSION_LIST_PATH: string = fileURLToPath(
  new URL('../../../data/versions/vulnerable-versions.json', import.meta.url),
);

let shipped: VersionList | undefined;

/** The shipped list, read once. A broken shipped list is a packaging bug and throws. */
export function defaultVersionList(): VersionList {
  if (shipped === undefined) {
    const r = loadVersionList(DEFAULT_VERSION_LIST_PATH);
    if (!r.ok) throw new Error(`shipped vulnerable-version list: ${r.error}`);
    shipped = r.list;
  }
  return shipped;
}

/**
 * Every entry whose pattern finds a version in `header` and whose range holds it. Only the first
 * DETECT_VERSION_HEADER_MAX_CHARS characters are looked at (header values are attacker-chosen).
 */
export function matchVersions(list: VersionList, header: string): VersionFinding[] {
  const text =
    header.length > DETECT_VERSION_HEADER_MAX_CHARS
      ? header.slice(0, DETECT_VERSION_HEADER_MAX_CHARS)
      : header;
  const out: VersionFinding[] = [];
  for (const entry of list.entries) {
    const m = entry.pattern.exec(text);
    if (m === null) continue;
    const raw = m.groups?.version ?? m[1];
    if (raw === undefined) continue;
    const v = parseVersion(raw);
    if (v === undefined || !inRange(v, entry.range)) continue;
    out.push({ entry, version: raw.trim() });
  }
  return out;
}
