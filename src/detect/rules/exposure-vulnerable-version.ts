import {
  DETECT_MAX_VERSION_REPORTS,
  DETECT_MAX_VERSION_SEEN,
  DETECT_VERSION_HEADER_MAX_CHARS,
} from '../../config/limits.js';
import { BoundedTable } from '../../core/bounded-table.js';
import { escapeText } from '../../core/escape.js';
import type { SipEvent } from '../../track/sip-event.js';
import type { AuthAttempt } from '../attempts.js';
import type { RuleMeta, RuleModule } from '../rule.js';
import { defaultVersionList, matchVersions, type VersionFinding, type VersionList } from '../versions.js';

const META: RuleMeta = {
  id: 'exposure.vulnerable-version',
  title: 'Software version with known vulnerabilities or past end of life',
  severity: 'medium',
  description:
    'A Server or User-Agent header reveals a product and version that the vulnerable-version list ' +
    '(data/versions/vulnerable-versions.json, every entry with its source) marks as affected by a CVE, past its ' +
    "vendor's end of life, or a compromised build: 3CX Phone System, the 3CX desktop app builds of the March 2023 " +
    'supply-chain compromise (raised as high: the workstation running it is likely backdoored), Asterisk, ' +
    'FreeSWITCH, Kamailio, OpenSIPS. Headers of answers describe the server that sent them; the User-Agent ' +
    'of a request counts only once the request was served (its credentials accepted, or answered 2xx/18x ' +
    'without credentials, OPTIONS excepted), so a forged User-Agent in a scan is not reported. Speaks once per ' +
    '(address that sent the header, product, version). The version is what the header claims; the alert says ' +
    'which list entries matched and where each comes from.',
  falsePositives:
    'The header is what the software says about itself: an administrator may have replaced it (Kamailio ' +
    'server_header, Asterisk useragent) or a vendor may backport fixes without changing the number (distribution ' +
    'packages), and anyone may answer with a forged Server header. Some CVEs only apply with a ' +
    'feature enabled or on one platform (the entry summary says so). The list is only as current as its ' +
    '`updated` date: point sipwarden at a newer list file to refresh it.',
  remediation:
    "3CX: install the latest update (Dashboard → Updates, or the 3CX Management Console's update page) and keep " +
    'the version supported; uninstall the compromised 3CX desktop app builds and use the current app or the web ' +
    'client; do not expose the management console to the internet. Any PBX: upgrade to a release the vendor still ' +
    'supports (Asterisk: an LTS series on its published schedule; Kamailio, FreeSWITCH, OpenSIPS: the latest ' +
    'maintenance release of a maintained branch), and stop advertising the version (Asterisk pjsip useragent, ' +
    'Kamailio server_signature=no / server_header / user_agent_header, FreeSWITCH sofia user-agent-string) — ' +
    'hiding it does not fix it, but it stops scanners from picking targets by version.',
  references: [
    'data/versions/SOURCES.md (every list entry and its source)',
    'https://docs.asterisk.org/About-the-Project/Asterisk-Versions/',
    'https://www.3cx.com/blog/news/desktopapp-security-alert/ (CVE-2023-29059)',
  ],
  thresholds: {},
  quietMs: 24 * 3_600_000,
};

/** The list's verdict on one header value: its findings grouped by (product, version). */
type Verdict = readonly (readonly VersionFinding[])[];

const NONE: Verdict = [];

function yes(): true {
  return true;
}

/** Matches a header value against the list and groups the findings by (product, version). */
function judge(list: VersionList, value: string): Verdict {
  const findings = matchVersions(list, value);
  if (findings.length === 0) return NONE;
  const groups = new Map<string, VersionFinding[]>();
  for (const fi of findings) {
    const k = `${fi.entry.product}\u0000${fi.version}`;
    const g = groups.get(k);
    if (g === undefined) groups.set(k, [fi]);
    else g.push(fi);
  }
  return [...groups.values()];
}

/** exposure.vulnerable-version over a given list (a newer list file the user points at). */
export function createVulnerableVersionRule(list?: VersionList): RuleModule {
  return {
    meta: META,
    create(ctx) {
      // Resolved here, not at import: reading the shipped file is configuration, done once per engine.
      const versions = list ?? defaultVersionList();
      // Verdicts by header value: a value seen again (every message of a device carries the same
      // one) costs one lookup, whatever address sends it.
      const verdicts = new BoundedTable<string, Verdict>(
        'exposure.vulnerable-version.values',
        DETECT_MAX_VERSION_SEEN,
      );
      const reported = new BoundedTable<string, true>(
        'exposure.vulnerable-version',
        DETECT_MAX_VERSION_REPORTS,
      );
      let pending = '';
      const judgePending = (): Verdict => judge(versions, pending);
      // The last value judged: answers follow each other from the same server, with its one value.
      let lastValue: string | undefined;
      let lastVerdict: Verdict = NONE;

      const check = (ev: SipEvent, header: 'Server' | 'User-Agent', raw: string | undefined): void => {
        if (raw === undefined || raw === '') return;
        const value =
          raw.length > DETECT_VERSION_HEADER_MAX_CHARS ? raw.slice(0, DETECT_VERSION_HEADER_MAX_CHARS) : raw;
        let groups = lastVerdict;
        if (value !== lastValue) {
          pending = value;
          // A value refused by the full table is judged anyway: the cost is bounded by the header cut.
          groups = verdicts.touch(value, judgePending) ?? judge(versions, value);
          lastValue = value;
          lastVerdict = groups;
        }
        if (groups.length === 0) return;
        const ip = ev.frame.srcIp;
        for (const group of groups) {
          const first = group[0] as VersionFinding;
          const product = first.entry.product;
          const version = escapeText(first.version, 32);
          const key = `${ip}|${product}|${version}`;
          if (reported.has(key)) continue;
          // Refused when the table is full of keys seen more often: a flood of forged sources
          // announcing an old version cannot turn into a flood of alerts.
          if (reported.touch(key, yes) === undefined) continue;
          const reasons = new Set(group.map((x) => x.entry.reason));
          const ids = [...new Set(group.flatMap((x) => x.entry.ids))];
          const what: string[] = [];
          if (reasons.has('compromised-build')) what.push('compromised build');
          if (reasons.has('cve'))
            what.push(`known vulnerabilities (${ids.slice(0, 3).join(', ')}${ids.length > 3 ? ', …' : ''})`);
          if (reasons.has('end-of-life')) what.push('past end of life');
          const frame = ev.frame.provenance.frame;
          ctx.raise({
            key,
            time: ev.time,
            count: 1,
            title: `${product} ${version} at ${ip}: ${what.join(', ')}`,
            target: { ip, port: ev.frame.srcPort },
            // A backdoored client build is worse than an unpatched server.
            ...(reasons.has('compromised-build') ? { severity: 'high' as const } : {}),
            evidence: {
              product,
              version,
              header,
              value: escapeText(value, 160),
              message: ev.isRequest ? ev.method : `${ev.status} (${ev.method})`,
              transport: ev.frame.transport,
              peer: ev.frame.dstIp,
              findings: group.map((x) => ({
                reason: x.entry.reason,
                ids: [...x.entry.ids],
                affected: x.entry.versions,
                summary: x.entry.summary,
                source: x.entry.source,
                checked: x.entry.checked,
              })),
              listUpdated: versions.updated,
              ...(frame !== undefined ? { frames: [frame] } : {}),
            },
          });
        }
      };

      return {
        onMessage(ev, _tx, retransmission): void {
          // An answer's headers describe the server that sent it.
          if (retransmission || ev.isRequest) return;
          check(ev, 'Server', ev.msg.server);
          check(ev, 'User-Agent', ev.msg.userAgent);
        },
        onAttempt(a: AuthAttempt): void {
          // A request's User-Agent counts once the request was served: anyone can write any
          // User-Agent into a scan, but only a real device gets its credentials accepted.
          if (a.request === undefined) return;
          if (a.outcome !== 'accepted' && (a.outcome !== 'open' || a.method === 'OPTIONS')) return;
          check(a.request, 'User-Agent', a.request.msg.userAgent);
        },
      };
    },
  };
}

/** exposure.vulnerable-version with the list shipped in data/versions. */
export const exposureVulnerableVersion: RuleModule = createVulnerableVersionRule();
