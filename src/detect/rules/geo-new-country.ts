import { DETECT_GEO_COUNTRIES_PER_IDENTITY, DETECT_MAX_GEO_IDENTITIES } from '../../config/limits.js';
import { BoundedTable } from '../../core/bounded-table.js';
import { escapeText } from '../../core/escape.js';
import type { AuthAttempt } from '../attempts.js';
import type { RuleModule } from '../rule.js';
import { geoLookup, isSiteAddress, sourceEndpoint } from './geo-hosting-provider.js';

/** Where one identity has logged in from. */
interface History {
  /** Accepted logins by country (at most DETECT_GEO_COUNTRIES_PER_IDENTITY countries). */
  readonly countries: Map<string, number>;
  /** Accepted logins with a known country. */
  total: number;
  /** Countries forgotten to stay within the bound. */
  forgotten: number;
}

/**
 * geo.new-country: an identity logs in successfully from a country it was never seen in, after a
 * history of logins from elsewhere: stolen credentials used abroad, or a registration taken over.
 */
export const geoNewCountry: RuleModule = {
  meta: {
    id: 'geo.new-country',
    title: 'Login from a country never seen for this identity',
    severity: 'medium',
    description:
      'A request whose credentials were accepted (a REGISTER or INVITE that passed digest authentication, or a PBX ' +
      'log line reporting a successful login) comes from a country (by the offline country database) where this ' +
      'identity never logged in before, once it has a history: at least `minHistory` accepted logins from other ' +
      'countries. Each identity remembers a bounded set of countries (the least used is forgotten first). One ' +
      'alert per identity and new country.',
    falsePositives:
      'A user travelling abroad with a softphone is reported once per new country; roaming mobile data may exit ' +
      'in another country. Addresses without a country (private, loopback, CGNAT, or not in the database) are ' +
      'never judged, nor are the networks the configuration declares as the site\u2019s (PBX, trunks, SBCs and ' +
      'tunnels, trusted networks: a company VPN whose exit is abroad). The first logins of an identity only build its history.',
    remediation:
      '3CX: if the user is not travelling, change the extension\u2019s Auth ID and password, restrict it to the ' +
      'LAN or to known networks (extension → Options: "Disallow use of extension outside the LAN"), and block the ' +
      'address in the IP Blocklist; Security → Allowed Country Codes limits where calls can go. Any PBX: rotate ' +
      'the credentials, restrict registrations by network (Asterisk: permit/deny ACLs on the endpoint; Kamailio: ' +
      'permissions or geoip checks; FreeSWITCH: apply-register-acl), and review calls made since.',
    references: ['RFC 3261 §10 (registrations)', 'RFC 3261 §22 (Usage of HTTP Authentication)'],
    thresholds: { minHistory: 3 },
    quietMs: 86_400_000,
  },
  create(ctx) {
    const minHistory = ctx.thresholds.minHistory ?? 3;
    const table = new BoundedTable<string, History>('geo.new-country', DETECT_MAX_GEO_IDENTITIES);
    return {
      onAttempt(a: AuthAttempt): void {
        if (a.outcome !== 'accepted' || a.identity === '' || a.srcIp === '') return;
        // The site's own networks are places it vouches for, and an SBC or tunnel speaks for phones
        // wherever they are: such logins neither count as a country nor build the history.
        if (isSiteAddress(ctx.site, a.srcIp)) return;
        const info = geoLookup(a.srcIp);
        const country = info.country;
        if (country === undefined) return;
        const h = table.touch(a.identity, () => ({ countries: new Map(), total: 0, forgotten: 0 }));
        if (h === undefined) return;
        const known = h.countries.get(country);
        const before = h.total;
        h.total++;
        if (known !== undefined) {
          h.countries.set(country, known + 1);
          return;
        }
        if (h.countries.size >= DETECT_GEO_COUNTRIES_PER_IDENTITY) {
          let least: string | undefined;
          let leastCount = Infinity;
          for (const [c, n] of h.countries) {
            if (n < leastCount) {
              least = c;
              leastCount = n;
            }
          }
          if (least !== undefined) h.countries.delete(least);
          h.forgotten++;
        }
        const history = Object.fromEntries(h.countries);
        h.countries.set(country, 1);
        if (before < minHistory) return;
        const extension = ctx.site.extensionOf(a.identity);
        ctx.raise({
          key: `${a.identity}|${country}`,
          time: a.time,
          count: 1,
          title: `${escapeText(extension, 64)} logged in from ${country}, never seen before`,
          source: sourceEndpoint(a, info),
          target: {
            ...(a.dstIp !== '' ? { ip: a.dstIp, port: a.dstPort } : {}),
            extension: escapeText(extension, 64),
            identity: escapeText(a.identity, 64),
          },
          evidence: {
            country,
            ...(info.asn !== undefined ? { asn: info.asn } : {}),
            ...(info.asnName !== undefined ? { asnName: escapeText(info.asnName, 100) } : {}),
            knownCountries: history,
            acceptedLogins: before,
            forgottenCountries: h.forgotten,
            method: a.method,
            userAgent: escapeText(a.userAgent, 80),
            frames: a.provenance.frame !== undefined ? [a.provenance.frame] : [],
          },
        });
      },
    };
  },
};
