/**
 * Geography of an address from offline databases that npm packages ship (nothing is downloaded at
 * run time): the country from an MMDB (default @ip-location-db/geo-whois-asn-country-mmdb, CC0),
 * the AS number and name from @ip-location-db/asn (CSV, CC BY 4.0: RouteViews, NRO, DB-IP), and
 * whether the AS is a data-centre/hosting network from data/hosting-asns (X4BNet/lists_vpn, MIT).
 * Private, loopback, link-local, CGNAT and documentation addresses get a class, not a country.
 */
import { statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isIP } from 'node:net';
import { FifoMap } from '../core/fifo-map.js';
import { classifyAddress, ipv4ToInt } from '../detect/net.js';
import { dirname, join } from 'node:path';
import { Reader, type Response } from 'mmdb-lib';
import { z } from 'zod';
import {
  ENRICH_GEO_ASN_MAX_RANGES,
  ENRICH_GEO_CACHE_ENTRIES,
  ENRICH_GEO_HOSTING_MAX_ASNS,
} from '../config/limits.js';
import { bundledDataPath, EnrichDataError, readDataFile, readJsonFile } from './data-files.js';

/** Geography settings (configuration `geo`): paths to newer databases and hosting overrides. */
export const GeoConfigSchema = z
  .object({
    /** A country MMDB (ip-location-db `country_code` records or MaxMind `country.iso_code`). */
    countryDb: z.string().min(1).optional(),
    /** An ASN database: an ip-location-db ASN CSV (`*-num.csv` or text), or an ASN MMDB. Give the
     * IPv4 file here and the IPv6 one in `asnDb6` for CSVs; an MMDB covers both. */
    asnDb: z.string().min(1).optional(),
    asnDb6: z.string().min(1).optional(),
    /** A hosting-ASN list: JSON `{ "asns": [number, ...] }` as data/hosting-asns/hosting-asns.json. */
    hostingAsns: z.string().min(1).optional(),
    /** ASNs to count as hosting in addition to the list. */
    extraHostingAsns: z.array(z.number().int().min(1).max(4_294_967_295)).max(10_000).default([]),
    /** ASNs never counted as hosting (e.g. the site's own provider). */
    notHostingAsns: z.array(z.number().int().min(1).max(4_294_967_295)).max(10_000).default([]),
  })
  .strict();

/** Geography settings as written in configuration. */
export type GeoConfig = z.input<typeof GeoConfigSchema>;

/** Address classes that have no country. */
export type AddressClass =
  | 'private'
  | 'loopback'
  | 'link-local'
  | 'cgnat'
  | 'documentation'
  | 'unspecified'
  | 'multicast'
  | 'reserved'
  | 'invalid';

/** What is known about one address. */
export interface GeoInfo {
  /** Set for special-purpose addresses (and `invalid` for a string that is no address). */
  readonly class?: AddressClass;
  /** ISO 3166 alpha-2. */
  readonly country?: string;
  readonly asn?: number;
  readonly asnName?: string;
  /** The AS is a data-centre / hosting / cloud network. */
  readonly hosting?: boolean;
}

/** One database in use and how old it is. */
export interface DatabaseInfo {
  readonly kind: 'country' | 'asn' | 'asn6' | 'hosting';
  readonly path: string;
  /** npm package and version it came from, when bundled. */
  readonly package?: string;
  /** When the data was built (ms since the epoch) and how that was found out. */
  readonly builtAt?: number;
  readonly builtFrom: 'mmdb-build-epoch' | 'package-version' | 'list-date' | 'file-mtime';
  readonly license?: string;
  readonly entries?: number;
}

/**
 * The class of a special-purpose address, if it is one: the detectors' classification
 * (detect/net.ts, RFC 6890 and its updates), without `public`.
 */
export function addressClass(ip: string): AddressClass | undefined {
  const kind = classifyAddress(ip);
  return kind === 'public' ? undefined : kind;
}

/** An IPv4-mapped IPv6 address (`::ffff:1.2.3.4`) as its IPv4 address. */
function unmap(ip: string): string {
  const lower = ip.toLowerCase();
  if (lower.startsWith('::ffff:') && isIP(ip.slice(7)) === 4) return ip.slice(7);
  return ip;
}

interface CountryRecord {
  readonly country_code?: unknown;
  readonly country?: { readonly iso_code?: unknown };
  readonly registered_country?: { readonly iso_code?: unknown };
}

interface AsnRecord {
  readonly autonomous_system_number?: unknown;
  readonly autonomous_system_organization?: unknown;
}

/** IPv4 ranges (or IPv6 ranges by their top and bottom 64 bits) sorted by start, for binary search. */
class AsnRanges {
  constructor(
    private readonly startHi: BigUint64Array | Uint32Array,
    private readonly startLo: BigUint64Array | undefined,
    private readonly endHi: BigUint64Array | Uint32Array,
    private readonly endLo: BigUint64Array | undefined,
    private readonly asn: Uint32Array,
    readonly count: number,
  ) {}

  find(hi: number | bigint, lo: bigint): number | undefined {
    if (this.startLo === undefined && typeof hi === 'number') return this.find4(hi);
    let a = 0;
    let b = this.count - 1;
    let found = -1;
    while (a <= b) {
      const m = (a + b) >>> 1;
      if (cmp(this.startHi[m] ?? 0, this.startLo?.[m] ?? 0n, hi, lo) <= 0) {
        found = m;
        a = m + 1;
      } else b = m - 1;
    }
    if (found < 0) return undefined;
    if (cmp(this.endHi[found] ?? 0, this.endLo?.[found] ?? 0n, hi, lo) < 0) return undefined;
    return this.asn[found];
  }

  /** `find` for IPv4 ranges, in plain numbers (the general one compares BigInts at every step). */
  private find4(n: number): number | undefined {
    const starts = this.startHi as Uint32Array;
    let a = 0;
    let b = this.count - 1;
    let found = -1;
    while (a <= b) {
      const m = (a + b) >>> 1;
      if ((starts[m] as number) <= n) {
        found = m;
        a = m + 1;
      } else b = m - 1;
    }
    if (found < 0 || ((this.endHi as Uint32Array)[found] as number) < n) return undefined;
    return this.asn[found];
  }
}

function cmp(aHi: number | bigint, aLo: bigint, bHi: number | bigint, bLo: bigint): number {
  if (aHi < bHi) return -1;
  if (aHi > bHi) return 1;
  return aLo < bLo ? -1 : aLo > bLo ? 1 : 0;
}

/** Splits one CSV line (quoted fields may hold commas and doubled quotes). */
function splitCsv(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i <= line.length) {
    if (line[i] === '"') {
      let v = '';
      i++;
      for (;;) {
        const q = line.indexOf('"', i);
        if (q < 0) {
          v += line.slice(i);
          i = line.length + 1;
          break;
        }
        v += line.slice(i, q);
        if (line[q + 1] === '"') {
          v += '"';
          i = q + 2;
        } else {
          i = q + 2; // past the quote and the comma
          break;
        }
      }
      out.push(v);
    } else {
      const c = line.indexOf(',', i);
      const end = c < 0 ? line.length : c;
      out.push(line.slice(i, end));
      i = end + 1;
    }
  }
  return out;
}

/** An address as two 64-bit halves (IPv4 as the low half of a 0 top half is not used: v4 is separate). */
function ipv6Halves(ip: string): [bigint, bigint] | undefined {
  const [head = '', tail] = ip.split('::');
  if (ip.split('::').length > 2) return undefined;
  let groups: string[];
  const h = head === '' ? [] : head.split(':');
  let t = tail === undefined || tail === '' ? [] : tail.split(':');
  const last = t.length > 0 ? t[t.length - 1] : h[h.length - 1];
  const v4 = last !== undefined && last.includes('.') ? last : undefined;
  const extra: string[] = [];
  if (v4 !== undefined) {
    const o = v4.split('.').map(Number);
    if (o.length !== 4 || o.some((x) => !Number.isInteger(x) || x < 0 || x > 255)) return undefined;
    extra.push(
      (((o[0] ?? 0) << 8) | (o[1] ?? 0)).toString(16),
      (((o[2] ?? 0) << 8) | (o[3] ?? 0)).toString(16),
    );
    if (t.length > 0) t = [...t.slice(0, -1), ...extra];
    else h.splice(h.length - 1, 1, ...extra);
  }
  if (tail === undefined) groups = h;
  else groups = [...h, ...new Array<string>(Math.max(0, 8 - h.length - t.length)).fill('0'), ...t];
  if (groups.length !== 8) return undefined;
  let hi = 0n;
  let lo = 0n;
  for (let i = 0; i < 8; i++) {
    const g = groups[i] ?? '';
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
    const v = BigInt(parseInt(g, 16));
    if (i < 4) hi = (hi << 16n) | v;
    else lo = (lo << 16n) | v;
  }
  return [hi, lo];
}

const MASK64 = (1n << 64n) - 1n;

/** A dotted quad as its 32-bit value (NaN for anything else). */
function ipv4Number(ip: string): number {
  return ipv4ToInt(ip) ?? NaN;
}

function isDigits(s: string): boolean {
  if (s.length === 0 || s.length > 39) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** Reads an ip-location-db ASN CSV (numeric or textual addresses) into sorted ranges. */
function loadAsnCsv(path: string, names: Map<number, string>): AsnRanges {
  const text = readDataFile(path).toString('utf8');
  const lines = text.split('\n');
  const n = lines.length;
  if (n > ENRICH_GEO_ASN_MAX_RANGES) {
    throw new EnrichDataError(`${path}: more than ${ENRICH_GEO_ASN_MAX_RANGES} ranges`);
  }
  let v6: boolean | undefined;
  let sHi: Uint32Array | BigUint64Array = new Uint32Array(0);
  let eHi: Uint32Array | BigUint64Array = new Uint32Array(0);
  let sLo: BigUint64Array | undefined;
  let eLo: BigUint64Array | undefined;
  const asn = new Uint32Array(n);
  let count = 0;
  let prevHi: number | bigint = -1;
  let prevLo = -1n;
  for (let i = 0; i < n; i++) {
    const line = lines[i] ?? '';
    if (line.length === 0) continue;
    // Fast path: three plain fields then the name (quoted only when it holds a comma).
    const c1 = line.indexOf(',');
    const c2 = c1 < 0 ? -1 : line.indexOf(',', c1 + 1);
    const c3 = c2 < 0 ? -1 : line.indexOf(',', c2 + 1);
    const f = c3 < 0 ? splitCsv(line) : [line.slice(0, c1), line.slice(c1 + 1, c2), line.slice(c2 + 1, c3)];
    const [start = '', end = '', num = ''] = f;
    const a = Number(num);
    if (!Number.isInteger(a) || a < 0 || a > 4_294_967_295 || num === '') {
      throw new EnrichDataError(`${path}: line ${i + 1}: bad AS number '${num.slice(0, 20)}'`);
    }
    if (!names.has(a) && c3 >= 0) {
      const raw = line.slice(c3 + 1).replace(/\r$/, '');
      const name = raw.startsWith('"') ? (splitCsv(raw)[0] ?? '') : raw;
      // A copy, not a slice: a slice keeps the whole file's text (tens of MB) alive for the run.
      if (name !== '') names.set(a, Buffer.from(name, 'utf8').toString('utf8'));
    }
    let s: [number | bigint, bigint] | undefined;
    let e: [number | bigint, bigint] | undefined;
    const numeric = isDigits(start) && isDigits(end);
    if (v6 === undefined) {
      v6 = numeric ? BigInt(end) > 0xffffffffn : isIP(start) === 6;
      if (v6) {
        sHi = new BigUint64Array(n);
        eHi = new BigUint64Array(n);
        sLo = new BigUint64Array(n);
        eLo = new BigUint64Array(n);
      } else {
        sHi = new Uint32Array(n);
        eHi = new Uint32Array(n);
      }
    }
    if (v6) {
      if (numeric) {
        const bs = BigInt(start);
        const be = BigInt(end);
        s = [bs >> 64n, bs & MASK64];
        e = [be >> 64n, be & MASK64];
      } else {
        s = ipv6Halves(start);
        e = ipv6Halves(end);
      }
    } else if (numeric) {
      s = [Number(start), 0n];
      e = [Number(end), 0n];
    } else if (isIP(start) === 4 && isIP(end) === 4) {
      s = [ipv4Number(start), 0n];
      e = [ipv4Number(end), 0n];
    }
    if (s === undefined || e === undefined) {
      throw new EnrichDataError(`${path}: line ${i + 1}: bad address range`);
    }
    if (cmp(s[0], s[1], prevHi, prevLo) < 0) {
      throw new EnrichDataError(`${path}: line ${i + 1}: ranges are not sorted by start address`);
    }
    prevHi = s[0];
    prevLo = s[1];
    if (v6) {
      (sHi as BigUint64Array)[count] = s[0] as bigint;
      (eHi as BigUint64Array)[count] = e[0] as bigint;
      sLo![count] = s[1];
      eLo![count] = e[1];
    } else {
      (sHi as Uint32Array)[count] = s[0] as number;
      (eHi as Uint32Array)[count] = e[0] as number;
    }
    asn[count] = a;
    count++;
  }
  return new AsnRanges(sHi, sLo, eHi, eLo, asn, count);
}

const require = createRequire(import.meta.url);

function packageFile(pkg: string, file: string): { path: string; version: string } {
  const manifest = require.resolve(`${pkg}/package.json`);
  const version = (require(manifest) as { version?: string }).version ?? 'unknown';
  return { path: join(dirname(manifest), file), version };
}

/** ip-location-db versions end in the build time: 2.3.2026061719 → 2026-06-17T19:00Z. */
function dateFromVersion(version: string): number | undefined {
  const m = /(\d{4})(\d{2})(\d{2})(\d{2})$/.exec(version);
  if (m === null) return undefined;
  const t = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]));
  return Number.isNaN(t) ? undefined : t;
}

function mtime(path: string): number | undefined {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
}

const COUNTRY_PKG = '@ip-location-db/geo-whois-asn-country-mmdb';
const ASN_PKG = '@ip-location-db/asn';

/** Country, ASN and hosting lookups with a bounded LRU cache. Build with `openGeo`. */
export class Geo {
  /** A FifoMap, not a Map: on a full Map, `keys().next()` walks the holes every eviction left
   * (5 µs a new source here, every packet of a spoofed flood). */
  private readonly cache = new FifoMap<string, GeoInfo>();
  private evictions = 0;
  private lookups = 0;
  private hits = 0;

  /** Use `openGeo`. */
  constructor(
    private readonly country: Reader<Response> | undefined,
    private readonly asnMmdb: Reader<Response> | undefined,
    private readonly asn4: AsnRanges | undefined,
    private readonly asn6: AsnRanges | undefined,
    private readonly asnNames: ReadonlyMap<number, string>,
    private readonly hosting: ReadonlySet<number>,
    private readonly info: readonly DatabaseInfo[],
  ) {}

  /** Country, ASN and hosting flag of an address; never throws (garbage gives `class: 'invalid'`). */
  lookup(ip: string): GeoInfo {
    this.lookups++;
    const key = typeof ip === 'string' ? unmap(ip.trim()) : '';
    const cached = this.cache.get(key);
    if (cached !== undefined) {
      this.hits++;
      // To the young end: the cache gives up its least recently used entry.
      this.cache.set(key, cached);
      return cached;
    }
    const result = this.resolve(key);
    if (this.cache.size >= ENRICH_GEO_CACHE_ENTRIES) {
      this.cache.shift();
      this.evictions++;
    }
    this.cache.set(key, result);
    return result;
  }

  private resolve(ip: string): GeoInfo {
    if (ip.length > 64) return { class: 'invalid' };
    const cls = addressClass(ip);
    if (cls !== undefined) return { class: cls };
    const v6 = isIP(ip) === 6;
    // Records are whatever the file holds: read them through the fields sipwarden knows.
    const c = (this.country?.get(ip) ?? null) as CountryRecord | null;
    const cc =
      c === null ? undefined : (c.country_code ?? c.country?.iso_code ?? c.registered_country?.iso_code);
    let asn: number | undefined;
    let asnName: string | undefined;
    if (this.asnMmdb !== undefined) {
      const r = this.asnMmdb.get(ip) as AsnRecord | null;
      if (r !== null && typeof r.autonomous_system_number === 'number') {
        asn = r.autonomous_system_number;
        if (typeof r.autonomous_system_organization === 'string') asnName = r.autonomous_system_organization;
      }
    } else if (v6) {
      const h = ipv6Halves(ip);
      if (h !== undefined) asn = this.asn6?.find(h[0], h[1]);
    } else {
      asn = this.asn4?.find(ipv4Number(ip), 0n);
    }
    if (asn === 0) asn = undefined;
    asnName ??= asn !== undefined ? this.asnNames.get(asn) : undefined;
    // Built field by field in this order (spreading a temporary object per field was a few
    // microseconds a new source).
    const out: { country?: string; asn?: number; asnName?: string; hosting?: boolean } = {};
    if (typeof cc === 'string' && /^[A-Z]{2}$/.test(cc)) out.country = cc;
    if (asn !== undefined) out.asn = asn;
    if (asnName !== undefined) out.asnName = asnName;
    if (asn !== undefined) out.hosting = this.hosting.has(asn);
    return out;
  }

  /** The databases in use, with their build dates. */
  databaseInfo(): readonly DatabaseInfo[] {
    return this.info;
  }

  /** Whether an AS number counts as hosting (list plus overrides). */
  isHostingAsn(asn: number): boolean {
    return this.hosting.has(asn);
  }

  /** Cache counters. */
  stats(): { size: number; lookups: number; hits: number; evictions: number } {
    return { size: this.cache.size, lookups: this.lookups, hits: this.hits, evictions: this.evictions };
  }
}

function openMmdb(path: string): Reader<Response> {
  const buf = readDataFile(path);
  try {
    return new Reader<Response>(buf);
  } catch (err) {
    throw new EnrichDataError(
      `${path}: not a MaxMind DB: ${err instanceof Error ? err.message : String(err)}`,
      {
        cause: err,
      },
    );
  }
}

function epoch(r: Reader<Response>): number | undefined {
  const t = r.metadata.buildEpoch.getTime();
  return Number.isNaN(t) ? undefined : t;
}

/** Loads the hosting-ASN list (JSON with an `asns` array of numbers). */
export function loadHostingAsns(path: string = bundledDataPath('hosting-asns/hosting-asns.json')): {
  asns: Set<number>;
  date?: string;
  license?: string;
} {
  const raw = readJsonFile(path) as { asns?: unknown; date?: unknown; license?: unknown };
  if (!Array.isArray(raw.asns)) throw new EnrichDataError(`${path}: expected an "asns" array`);
  if (raw.asns.length > ENRICH_GEO_HOSTING_MAX_ASNS) {
    throw new EnrichDataError(`${path}: more than ${ENRICH_GEO_HOSTING_MAX_ASNS} ASNs`);
  }
  const asns = new Set<number>();
  for (const [i, a] of raw.asns.entries()) {
    if (typeof a !== 'number' || !Number.isInteger(a) || a < 1 || a > 4_294_967_295) {
      throw new EnrichDataError(`${path}: asns[${i}]: expected an AS number, got ${JSON.stringify(a)}`);
    }
    asns.add(a);
  }
  return {
    asns,
    ...(typeof raw.date === 'string' ? { date: raw.date } : {}),
    ...(typeof raw.license === 'string' ? { license: raw.license.slice(0, 60) } : {}),
  };
}

/**
 * Opens the geography databases: the bundled packages unless the configuration names newer files.
 * Loading the bundled ASN CSVs takes about a second; do it once at start-up.
 */
export function openGeo(config: GeoConfig = {}): Geo {
  const cfg = GeoConfigSchema.parse(config);
  const info: DatabaseInfo[] = [];

  const countryFile = cfg.countryDb ?? packageFile(COUNTRY_PKG, 'geo-whois-asn-country.mmdb').path;
  const country = openMmdb(countryFile);
  const built = epoch(country);
  info.push({
    kind: 'country',
    path: countryFile,
    ...(cfg.countryDb === undefined
      ? { package: `${COUNTRY_PKG}@${packageFile(COUNTRY_PKG, 'package.json').version}`, license: 'CC0-1.0' }
      : {}),
    ...(built !== undefined ? { builtAt: built } : {}),
    builtFrom: 'mmdb-build-epoch',
  });

  const names = new Map<number, string>();
  let asnMmdb: Reader<Response> | undefined;
  let asn4: AsnRanges | undefined;
  let asn6: AsnRanges | undefined;
  if (cfg.asnDb !== undefined && cfg.asnDb.endsWith('.mmdb')) {
    asnMmdb = openMmdb(cfg.asnDb);
    const t = epoch(asnMmdb);
    info.push({
      kind: 'asn',
      path: cfg.asnDb,
      ...(t !== undefined ? { builtAt: t } : {}),
      builtFrom: 'mmdb-build-epoch',
    });
  } else {
    const bundled = cfg.asnDb === undefined;
    const v4 = bundled ? packageFile(ASN_PKG, 'asn-ipv4-num.csv') : { path: cfg.asnDb ?? '', version: '' };
    const v6file = cfg.asnDb6 ?? (bundled ? packageFile(ASN_PKG, 'asn-ipv6-num.csv').path : undefined);
    asn4 = loadAsnCsv(v4.path, names);
    const when = bundled ? dateFromVersion(v4.version) : mtime(v4.path);
    const pkg = bundled
      ? { package: `${ASN_PKG}@${v4.version}`, license: 'CC-BY-4.0 (RouteViews, NRO, DB-IP)' }
      : {};
    info.push({
      kind: 'asn',
      path: v4.path,
      ...pkg,
      ...(when !== undefined ? { builtAt: when } : {}),
      builtFrom: bundled ? 'package-version' : 'file-mtime',
      entries: asn4.count,
    });
    if (v6file !== undefined) {
      asn6 = loadAsnCsv(v6file, names);
      const when6 = cfg.asnDb6 === undefined ? when : mtime(v6file);
      info.push({
        kind: 'asn6',
        path: v6file,
        ...(cfg.asnDb6 === undefined ? pkg : {}),
        ...(when6 !== undefined ? { builtAt: when6 } : {}),
        builtFrom: cfg.asnDb6 === undefined && bundled ? 'package-version' : 'file-mtime',
        entries: asn6.count,
      });
    }
  }

  const hostingPath = cfg.hostingAsns ?? bundledDataPath('hosting-asns/hosting-asns.json');
  const h = loadHostingAsns(hostingPath);
  for (const a of cfg.extraHostingAsns) h.asns.add(a);
  for (const a of cfg.notHostingAsns) h.asns.delete(a);
  const listDate = h.date !== undefined ? Date.parse(h.date) : NaN;
  const listWhen = Number.isNaN(listDate) ? mtime(hostingPath) : listDate;
  info.push({
    kind: 'hosting',
    path: hostingPath,
    ...(listWhen !== undefined ? { builtAt: listWhen } : {}),
    builtFrom: Number.isNaN(listDate) ? 'file-mtime' : 'list-date',
    ...(h.license !== undefined ? { license: h.license } : {}),
    entries: h.asns.size,
  });

  return new Geo(country, asnMmdb, asn4, asn6, names, h.asns, info);
}
