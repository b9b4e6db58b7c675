import { DETECT_MAX_AUTH_KEYS } from '../../config/limits.js';
import type { AuthAttempt } from '../attempts.js';
import { isRejection, RejectionProfile } from '../auth-profile.js';
import type { RuleModule } from '../rule.js';
import { KeyedWindows, sourceGroup } from '../window.js';

/** auth.bruteforce: rejected credentials for one identity from one source (or IPv6 /64). */
/** The identity of failures a PBX log reports without naming the account. */
const UNNAMED = '(unnamed)';

export const authBruteforce: RuleModule = {
  meta: {
    id: 'auth.bruteforce',
    title: 'Password guessing against one identity',
    severity: 'high',
    description:
      'One source (an IPv6 /64 counts as one) has its credentials for one identity rejected again and again: 401/407 ' +
      'answered to a request that carried credentials, or 403. The normal first request without credentials and its ' +
      'challenge are not failures, nor is a stale=true nonce refresh.',
    falsePositives:
      'A device left with an old password retries slowly with one Call-ID: that is auth.stale-credentials (low), not ' +
      'this rule. A user typing a wrong password a few times stays under the threshold.',
    remediation:
      '3CX: keep Security → Anti-Hacking enabled (failed-authentication count and block time), add the source to the ' +
      "IP Blocklist, and change the targeted extension's Auth ID and password; restrict the extension to the LAN if it " +
      'never registers from outside. Any PBX: block the source at the firewall or SBC, use long random digest ' +
      'passwords, rate-limit authentication failures per source (fail2ban, pike).',
    references: ['RFC 3261 §22 (Usage of HTTP Authentication)', 'RFC 8760 (digest algorithms for SIP)'],
    thresholds: { rejections: 5, windowSeconds: 600 },
    quietMs: 600_000,
  },
  create(ctx) {
    const threshold = ctx.thresholds.rejections ?? 5;
    const windows = new KeyedWindows<RejectionProfile>(
      'auth.bruteforce',
      DETECT_MAX_AUTH_KEYS,
      (ctx.thresholds.windowSeconds ?? 600) * 1000,
      () => new RejectionProfile(),
    );
    return {
      onAttempt(a: AuthAttempt): void {
        if (!isRejection(a)) return;
        // A PBX log line may blame a source without naming the account (FreeSWITCH ACL rejects):
        // those failures still count, against one unnamed identity per source.
        const identity = a.identity !== '' ? a.identity : a.origin === 'log' ? UNNAMED : '';
        if (identity === '') return;
        const group = sourceGroup(a.srcIp);
        const w = windows.hit(`${group}\u0000${identity}`, a.time);
        if (w === undefined) return;
        w.data.add(a);
        if (w.count < threshold || w.data.staleLike()) return;
        if (ctx.touch?.(`${group}|${identity}`, a.time, w.count) === true) return;
        const extension = ctx.site.extensionOf(identity);
        ctx.raise({
          key: `${group}|${identity}`,
          time: a.time,
          firstTime: w.firstTime,
          count: w.count,
          title:
            identity === UNNAMED
              ? `Repeated failed logins from ${a.srcIp} (the PBX log names no account)`
              : `Password guessing against ${extension === identity ? `identity ${identity}` : `extension ${extension} (Auth ID ${identity})`}`,
          source: { ip: a.srcIp, port: a.srcPort, transport: a.transport },
          target:
            identity === UNNAMED
              ? { ...(a.dstIp !== '' ? { ip: a.dstIp, port: a.dstPort } : {}) }
              : { ip: a.dstIp, port: a.dstPort, extension, identity },
          evidence: evidenceOf(w.data, a.realm, group),
        });
      },
    };
  },
};

/** The evidence closure, made here so that it captures the profile and two strings, not the
 * attempt (an open alert keeps its latest closure; test/detect/alert-retention.test.ts). */
function evidenceOf(profile: RejectionProfile, realm: string, group: string): () => Record<string, unknown> {
  return () => ({ ...profile.evidence(), realm, sourceGroup: group });
}
