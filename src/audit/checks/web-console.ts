/**
 * The web console: on each console port found open (3CX: HTTP 80/5000, HTTPS 443/5001) one GET of
 * `/` without credentials, on the target only. From the answer: is it a management console or a
 * login page, which product and version (page title, product markers, a generator tag, version query
 * strings of its assets, Server / X-Powered-By headers), and for HTTPS the certificate, judged by the
 * SIP TLS check's rules. One redirect on the same host, port and scheme is followed; any other is
 * recorded, never followed.
 */
import { defaultVersionList, matchVersions, type VersionList } from '../../detect/versions.js';
import { escapeText } from '../../core/escape.js';
import { makeFinding, type AuditFinding } from '../catalog.js';
import type { CheckContext, CheckOutcome } from '../context.js';
import { evidenceMessage } from '../evidence.js';
import { httpGet, WEB_PORTS, type HttpAnswer } from './provisioning.js';
import { certificateProblems, handshake, handshakeEvidence, sniFor } from './tls.js';

/** A product recognised on a login page: its marker and the banner token the version list knows. */
interface ProductMarker {
  readonly product: string;
  readonly marker: RegExp;
  /** How the version list (data/versions) spells the product in a banner. */
  readonly banner: string;
}

/** Products whose web consoles are recognised (3CX first). */
export const CONSOLE_PRODUCTS: readonly ProductMarker[] = [
  { product: '3CX Phone System', marker: /\b3CX\b/, banner: '3CXPhoneSystem' },
  { product: 'FreePBX', marker: /\bFreePBX\b/i, banner: 'FreePBX' },
  { product: 'FusionPBX', marker: /\bFusionPBX\b/i, banner: 'FusionPBX' },
  { product: 'Asterisk', marker: /\bAsterisk\b/, banner: 'Asterisk PBX' },
  { product: 'Yeastar', marker: /\bYeastar\b/i, banner: 'Yeastar' },
  { product: 'Grandstream UCM', marker: /\bGrandstream\b/i, banner: 'Grandstream' },
];

const VERSION = String.raw`(\d{1,4}\.\d{1,4}(?:\.\d{1,6}){0,3})`;
/** What the page says about itself, scanned in the first bytes only. */
const PAGE_SCAN_BYTES = 65_536;

/** What a console page reveals. */
export interface ConsoleFingerprint {
  readonly title: string | undefined;
  readonly product: string | undefined;
  readonly version: string | undefined;
  /** Where the version was read (`title`, `generator`, `asset query`, `Server header`, ...). */
  readonly versionFrom: string | undefined;
  /** A login form (a password field) or a login word in the title. */
  readonly login: boolean;
  /** The markers seen, for the evidence. */
  readonly markers: readonly string[];
}

function header(a: HttpAnswer, name: string): string | undefined {
  const lines = a.responseHead.split('\r\n');
  const lower = name.toLowerCase();
  for (const l of lines) {
    const i = l.indexOf(':');
    if (i > 0 && l.slice(0, i).trim().toLowerCase() === lower) return l.slice(i + 1).trim();
  }
  return undefined;
}

/** Reads product, version and login markers from an HTTP answer (pure; exported for tests). */
export function fingerprintConsole(a: HttpAnswer): ConsoleFingerprint {
  const page = a.body.toString('latin1', 0, Math.min(a.body.length, PAGE_SCAN_BYTES));
  const titleMatch = /<title[^>]*>([^<]{0,200})<\/title>/i.exec(page);
  const title = titleMatch?.[1]?.replace(/\s+/g, ' ').trim();
  const generator =
    /<meta\s+name=["']generator["']\s+content=["']([^"']{0,120})["']/i.exec(page)?.[1] ??
    /<meta\s+content=["']([^"']{0,120})["']\s+name=["']generator["']/i.exec(page)?.[1];
  const server = header(a, 'Server');
  const powered = header(a, 'X-Powered-By');
  const markers: string[] = [];
  let product: ProductMarker | undefined;
  const places: [string, string | undefined][] = [
    ['title', title],
    ['generator', generator],
    ['Server header', server],
    ['X-Powered-By header', powered],
    ['page', page],
  ];
  for (const p of CONSOLE_PRODUCTS) {
    const where = places.find(([, text]) => text !== undefined && p.marker.test(text));
    if (where !== undefined) {
      product = p;
      markers.push(`${p.product} named in the ${where[0]}`);
      break;
    }
  }
  let version: string | undefined;
  let versionFrom: string | undefined;
  const near =
    product !== undefined ? new RegExp(`${product.marker.source}[^<>\\d]{0,40}${VERSION}`, 'i') : undefined;
  for (const [name, text] of places) {
    if (text === undefined || near === undefined) continue;
    const m = near.exec(text);
    if (m?.[1] !== undefined) {
      version = m[1];
      versionFrom = name;
      break;
    }
  }
  if (version === undefined) {
    for (const [name, text] of [
      ['generator', generator],
      ['Server header', server],
      ['X-Powered-By header', powered],
    ] as const) {
      const m = text !== undefined ? new RegExp(VERSION).exec(text) : null;
      if (m?.[1] !== undefined) {
        version = m[1];
        versionFrom = name;
        break;
      }
    }
  }
  if (version === undefined && product !== undefined) {
    // Cache-busting query strings of the console's own assets carry the build (`main.js?v=18.0.9.20`).
    const m = new RegExp(String.raw`\.(?:js|css)\?(?:v|ver|version|build)=${VERSION}`, 'i').exec(page);
    if (m?.[1] !== undefined && (m[1].match(/\./g)?.length ?? 0) >= 2) {
      version = m[1];
      versionFrom = 'asset query';
    }
  }
  const login =
    /<input[^>]+type=["']?password/i.test(page) || /log\s?in|sign\s?in|console/i.test(title ?? '');
  if (login) markers.push(/type=["']?password/i.test(page) ? 'a password field' : 'a login title');
  return {
    title,
    product: product?.product,
    version,
    versionFrom,
    login,
    markers,
  };
}

function bannerFor(fp: ConsoleFingerprint): string | undefined {
  if (fp.version === undefined || fp.product === undefined) return undefined;
  const p = CONSOLE_PRODUCTS.find((x) => x.product === fp.product);
  return p === undefined ? undefined : `${p.banner} ${fp.version}`;
}

/** Same host, port and scheme (a relative Location, or an absolute one naming the target). */
function sameOrigin(ctx: CheckContext, scheme: string, port: number, location: string): string | undefined {
  if (location.startsWith('/') && !location.startsWith('//')) return location;
  let u: URL;
  try {
    u = new URL(location);
  } catch {
    return undefined;
  }
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const uPort = u.port === '' ? (u.protocol === 'https:' ? 443 : 80) : Number(u.port);
  if (u.protocol !== `${scheme}:` || uPort !== port) return undefined;
  if (host !== ctx.target.host && host !== ctx.target.address) return undefined;
  return `${u.pathname}${u.search}`;
}

/** Runs the web console check; `list` defaults to the shipped vulnerable-version list. */
export async function runWebConsoleCheck(ctx: CheckContext, list?: VersionList): Promise<CheckOutcome> {
  const ports = WEB_PORTS.filter(([p]) => ctx.facts.openTcp.has(p));
  if (ports.length === 0) {
    return {
      findings: [],
      data: {},
      notes: [],
      skipped: 'no console port (80, 443, 5000, 5001) was found open (the ports check finds them)',
    };
  }
  const versions = list ?? defaultVersionList();
  const findings: AuditFinding[] = [];
  const rows: Record<string, unknown>[] = [];
  const notes: string[] = [];
  const host = ctx.target.host;
  for (const [port, scheme] of ports) {
    let path = '/';
    let a = await httpGet(ctx, scheme, port, path);
    const redirects: string[] = [];
    if (!('error' in a) && a.status >= 300 && a.status < 400 && a.location !== undefined) {
      const next = sameOrigin(ctx, scheme, port, a.location);
      redirects.push(escapeText(a.location, 200));
      if (next !== undefined) {
        path = next;
        a = await httpGet(ctx, scheme, port, path);
      } else {
        ctx.probe.stats.redirectsNotFollowed++;
        notes.push(`${scheme}/${port}: redirect to ${escapeText(a.location, 200)} recorded, not followed`);
      }
    }
    const url = `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}${path}`;
    if ('error' in a) {
      rows.push({ port, scheme, url, error: a.error });
      continue;
    }
    const fp = fingerprintConsole(a);
    const exchange = { request: evidenceMessage(a.requestText), response: evidenceMessage(a.responseHead) };
    const row: Record<string, unknown> = {
      port,
      scheme,
      url,
      status: a.status,
      title: fp.title !== undefined ? escapeText(fp.title, 200) : null,
      product: fp.product ?? null,
      version: fp.version ?? null,
      login: fp.login,
      redirects,
    };
    const isConsole = fp.login || fp.product !== undefined;
    if (isConsole) {
      findings.push(
        makeFinding(
          'audit.web-console-exposed',
          `${host}|tcp/${port}`,
          `${fp.product ?? 'A'} web console${fp.login ? ' login' : ''} is reachable at ${url}` +
            (scheme === 'http' ? ' in clear text' : ''),
          {
            url,
            status: a.status,
            title: row.title,
            product: fp.product ?? null,
            version: fp.version ?? null,
            markers: fp.markers,
            cleartext: scheme === 'http',
            ...exchange,
          },
          scheme === 'http' ? 'medium' : 'low',
        ),
      );
    }
    if (fp.version !== undefined) {
      findings.push(
        makeFinding(
          'audit.version-disclosure',
          `${host}|web|${port}`,
          `The web console at ${url} discloses ${fp.product ?? 'its product'} ${fp.version}`,
          {
            url,
            product: fp.product ?? null,
            version: fp.version,
            from: fp.versionFrom ?? null,
            ...exchange,
          },
        ),
      );
      const banner = bannerFor(fp);
      const seen = new Set<string>();
      for (const f of banner !== undefined ? matchVersions(versions, banner) : []) {
        const k = `${f.entry.product}|${f.entry.ids.join(',') || f.entry.reason}`;
        if (seen.has(k)) continue;
        seen.add(k);
        findings.push(
          makeFinding(
            'audit.vulnerable-version',
            `${host}|web|${k}`,
            `${f.entry.product} ${f.version} on ${host} (web console): ${f.entry.reason === 'end-of-life' ? 'past end of life' : f.entry.reason === 'compromised-build' ? 'a compromised build' : f.entry.ids.join(', ')}`,
            {
              product: f.entry.product,
              version: f.version,
              reason: f.entry.reason,
              ids: f.entry.ids,
              summary: f.entry.summary,
              source: f.entry.source,
              seenAt: url,
              listUpdated: versions.updated,
              ...exchange,
            },
            f.entry.reason === 'compromised-build'
              ? 'critical'
              : f.entry.reason === 'end-of-life'
                ? 'medium'
                : 'high',
          ),
        );
      }
    }
    if (scheme === 'https') {
      const hs = await handshake(ctx, {}, port);
      if (hs.outcome === 'accepted' && hs.certificate?.raw !== undefined) {
        const name = ctx.options.sni ?? host;
        const problems = certificateProblems(hs.certificate, hs.authorizationError, name, ctx.options.now());
        row.certificate = problems.map((p) => p.code);
        if (problems.length > 0) {
          findings.push(
            makeFinding(
              'audit.tls-certificate',
              `${host}|web|${port}`,
              `The certificate of the web console at ${url} is ${problems.map((p) => p.code).join(', ')}`,
              {
                port,
                nameChecked: name,
                sni: sniFor(ctx) ?? null,
                problems: problems.map((p) => p.code),
                details: problems.map((p) => p.detail),
                fingerprint256: hs.certificate.fingerprint256,
                ...handshakeEvidence(ctx, port, {}, hs),
              },
              problems.some((p) => p.severity === 'high') ? 'high' : 'medium',
            ),
          );
        }
      } else {
        row.certificate = `not read (${hs.outcome})`;
      }
    }
    rows.push(row);
  }
  notes.push('only the console root is fetched; 3CX v20 console settings (XAPI) are not audited');
  return { findings, data: { consoles: rows, versionListUpdated: versions.updated }, notes };
}
