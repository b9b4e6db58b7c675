import { isIP } from 'node:net';
import { DETECT_MAX_HOSTING_KEYS } from '../../config/limits.js';
import { BoundedTable } from '../../core/bounded-table.js';
import { escapeText } from '../../core/escape.js';
import { openGeo, type GeoConfig, type GeoInfo } from '../../enrich/geo.js';
import type { AlertEndpoint } from '../../core/alert.js';
import type { AuthAttempt } from '../attempts.js';
import type { RuleModule } from '../rule.js';
import type { SiteModel } from '../site.js';
import { CappedSet, pushFrame, sourceGroup } from '../window.js';

/** Looks up the country and network of an address. */
export type GeoLookup = (ip: string) => GeoInfo;

let lookupFn: GeoLookup | undefined;
let geoConfig: GeoConfig = {};
let loadError: string | undefined;
/** The databases opened last and the configuration they were opened with (JSON). */
let opened: { readonly key: string; readonly lookup: GeoLookup } | undefined;
let opens = 0;

/**
 * Sets where the geography rules read countries and networks: a lookup function (tests, or a `Geo`
 * the sensor already opened: `(ip) => geo.lookup(ip)`), or the `geo` configuration to open the
 * databases with on first use. Without a call, the bundled databases are opened on first use.
 */
export function configureGeo(source: GeoLookup | GeoConfig = {}): void {
  if (typeof source === 'function') {
    lookupFn = source;
    return;
  }
  geoConfig = source;
  loadError = undefined;
  // The same configuration again (one analyze run after another) keeps the open databases: opening
  // them costs about 2.5 s and 240 MB each time.
  lookupFn = opened !== undefined && opened.key === JSON.stringify(source) ? opened.lookup : undefined;
}

/** How many times this process opened the geography databases (each costs about 2.5 s). */
export function geoDatabaseOpens(): number {
  return opens;
}

/** Why the geography databases could not be opened (the geography rules are then silent). */
export function geoLoadError(): string | undefined {
  return loadError;
}

/** Country and ASN of `ip`; the databases open once per process, on the first lookup (~2.5 s). */
export function geoLookup(ip: string): GeoInfo {
  if (lookupFn === undefined) {
    if (loadError !== undefined) return {};
    try {
      opens++;
      const geo = openGeo(geoConfig);
      lookupFn = (x) => geo.lookup(x);
      opened = { key: JSON.stringify(geoConfig), lookup: lookupFn };
    } catch (e) {
      // Once per process, never per packet: a missing database silences the rules, it does not stop the sensor.
      loadError = e instanceof Error ? e.message : String(e);
      return {};
    }
  }
  return lookupFn(ip);
}

/**
 * An address the site declared as its own (PBX, trunk, SBC or tunnel, trusted network): the site
 * vouches for where it is, so the geography rules do not judge logins from it. An SBC or a tunnel
 * relays the site's phones, whose logins then all come from its address.
 */
export function isSiteAddress(site: SiteModel, ip: string): boolean {
  return site.isTrusted(ip) || site.isPbx(ip) || site.isTrunk(ip) || site.isSbc(ip);
}

/** The alert's source: the attempt's address with its country and AS number. */
export function sourceEndpoint(a: AuthAttempt, info: GeoInfo): AlertEndpoint {
  return {
    ip: a.srcIp,
    port: a.srcPort,
    transport: a.transport,
    ...(info.country !== undefined ? { country: info.country } : {}),
    ...(info.asn !== undefined ? { asn: info.asn } : {}),
  };
}

/** The network an address belongs to for grouping: its /24 (IPv4) or /64 (IPv6). */
export function networkOf(ip: string): string {
  if (isIP(ip) === 4) return `${ip.slice(0, ip.lastIndexOf('.'))}.0/24`;
  return sourceGroup(ip);
}

const DAY_MS = 86_400_000;

/** One (network, identity) pair's attempts of the day. */
interface Seen {
  readonly since: number;
  count: number;
  readonly outcomes: Record<string, number>;
  readonly sources: CappedSet;
  readonly userAgents: CappedSet;
  readonly frames: number[];
}

/**
 * geo.hosting-provider: authentication attempts from a data-centre, hosting or cloud network (by its
 * AS number): phones and offices sit on access networks, scanners and stolen-credential use on rented
 * servers. Once per (source /24 or /64, identity) per day.
 */
export const geoHostingProvider: RuleModule = {
  meta: {
    id: 'geo.hosting-provider',
    title: 'Authentication from a hosting or cloud network',
    severity: 'medium',
    description:
      'A request that carries digest credentials (REGISTER, INVITE, ...; or a PBX log line reporting a login) ' +
      'comes from an address whose autonomous system is on the hosting list (data-centre, cloud and CDN networks, ' +
      'data/hosting-asns, with the `geo` configuration\u2019s additions and exceptions). Phones and offices sit on ' +
      'access networks; password guessing and the use of stolen credentials come from rented servers. One alert ' +
      'per (source /24 or IPv6 /64, identity) and day, counting its attempts and their outcomes.',
    falsePositives:
      'A softphone or PBX that really runs in a cloud (a hosted 3CX, an SBC at a cloud provider, a VPN exit in a ' +
      'data centre) is reported: declare it as the PBX, a trunk, an SBC (`network.sbc`) or a trusted network, ' +
      'or add its AS to `geo.notHostingAsns`. Private and special-purpose addresses have no AS and are never reported. Some list ' +
      'entries are broader networks that also serve homes.',
    remediation:
      '3CX: restrict each extension to the networks it registers from (extension → Options: "Disallow use of ' +
      'extension outside the LAN", or the IP restrictions of remote phones), keep Anti-Hacking on and block the ' +
      'network in the IP Blocklist; use the 3CX tunnel or SBC for remote phones. Any PBX: allow SIP only from ' +
      'the networks of your users and providers at the firewall (Asterisk: permit/deny ACLs on endpoints; ' +
      'Kamailio: permissions module; FreeSWITCH: apply-register-acl), and ban hosting networks you never serve.',
    references: ['RFC 3261 §22 (Usage of HTTP Authentication)', 'RFC 1930 (autonomous systems)'],
    thresholds: {},
    quietMs: DAY_MS,
  },
  create(ctx) {
    const table = new BoundedTable<string, Seen>('geo.hosting-provider', DETECT_MAX_HOSTING_KEYS);
    return {
      onAttempt(a: AuthAttempt): void {
        if (!a.credentials || a.identity === '' || a.srcIp === '') return;
        const site = ctx.site;
        if (isSiteAddress(site, a.srcIp)) return;
        const info = geoLookup(a.srcIp);
        if (info.hosting !== true) return;
        const net = networkOf(a.srcIp);
        const pairKey = `${net}\u0000${a.identity}`;
        // Closures here capture `time` and `method`, never `a`: an open alert keeps its evidence
        // closure (test/detect/alert-retention.test.ts).
        const time = a.time;
        const method = a.method;
        const fresh = (): Seen => ({
          since: time,
          count: 0,
          outcomes: {},
          sources: new CappedSet(16),
          userAgents: new CappedSet(4),
          frames: [],
        });
        let s = table.touch(pairKey, fresh);
        if (s === undefined) return;
        if (a.time - s.since >= DAY_MS) {
          s = fresh();
          table.set(pairKey, s);
        }
        s.count++;
        s.outcomes[a.outcome] = (s.outcomes[a.outcome] ?? 0) + 1;
        s.sources.add(a.srcIp);
        if (a.userAgent !== '') s.userAgents.add(escapeText(a.userAgent, 80));
        pushFrame(s.frames, a.provenance.frame);
        // The day the pair was first seen is part of the key: one alert per pair and day.
        const key = `${net}|${a.identity}|${s.since}`;
        if (s.count > 1 && ctx.touch?.(key, a.time, s.count) === true) return;
        const seen = s;
        const extension = site.extensionOf(a.identity);
        ctx.raise({
          key,
          time: a.time,
          firstTime: s.since,
          count: s.count,
          title: `Authentication as ${escapeText(extension, 64)} from hosting network AS${info.asn ?? '?'}${info.asnName !== undefined ? ` (${escapeText(info.asnName, 60)})` : ''}`,
          source: sourceEndpoint(a, info),
          target: {
            ...(a.dstIp !== '' ? { ip: a.dstIp, port: a.dstPort } : {}),
            extension: escapeText(extension, 64),
            identity: escapeText(a.identity, 64),
          },
          evidence: () => ({
            network: net,
            asn: info.asn,
            asnName: info.asnName !== undefined ? escapeText(info.asnName, 100) : undefined,
            country: info.country,
            attempts: seen.count,
            outcomes: { ...seen.outcomes },
            sources: seen.sources.top(16).map((x) => x.value),
            userAgents: seen.userAgents.top(4).map((x) => x.value),
            methods: method,
            frames: [...seen.frames],
          }),
        });
      },
    };
  },
};
