import { DETECT_LISTED_SOURCES_PER_RULE, DETECT_MAX_AUTH_KEYS } from '../../config/limits.js';
import type { AuthAttempt } from '../attempts.js';
import { isRejection, RejectionProfile } from '../auth-profile.js';
import type { RuleModule } from '../rule.js';
import { CappedSet, KeyedWindows, ListingBudget, sourceGroup } from '../window.js';

interface State {
  readonly profile: RejectionProfile;
  readonly sources: CappedSet;
}

/** auth.distributed-bruteforce: one identity rejected from many sources / networks. */
export const authDistributedBruteforce: RuleModule = {
  meta: {
    id: 'auth.distributed-bruteforce',
    title: 'Password guessing against one identity from many sources',
    severity: 'high',
    description:
      'Credentials for one identity are rejected from many distinct sources (IPv6 grouped by /64): guessing spread ' +
      "over a botnet so that no single address crosses a per-IP limit such as fail2ban's or 3CX's.",
    falsePositives:
      "One user's several devices behind different networks all holding an old password: each then looks stale " +
      '(slow, one Call-ID); a real distributed attack shows many more sources than a user has devices.',
    remediation:
      "3CX: change the targeted extension's Auth ID and password at once, restrict it to the LAN or to known " +
      'networks, and consider the country-based console/SIP restrictions. Any PBX: per-IP blocking does not stop ' +
      'this; lock or re-key the identity, use long random passwords, limit registration to known networks or VPN.',
    references: ['RFC 3261 §22'],
    thresholds: { sources: 5, rejections: 10, windowSeconds: 3600 },
    quietMs: 3_600_000,
  },
  create(ctx) {
    const minSources = ctx.thresholds.sources ?? 5;
    const minRejections = ctx.thresholds.rejections ?? 10;
    // The sources every identity's window lists, together (DETECT_LISTED_SOURCES_PER_RULE).
    const listed = new ListingBudget(DETECT_LISTED_SOURCES_PER_RULE);
    const windows = new KeyedWindows<State>(
      'auth.distributed-bruteforce',
      DETECT_MAX_AUTH_KEYS,
      (ctx.thresholds.windowSeconds ?? 3600) * 1000,
      () => ({ profile: new RejectionProfile(), sources: new CappedSet(1024, listed) }),
      (s) => s.sources.release(),
    );
    return {
      onAttempt(a: AuthAttempt): void {
        if (!isRejection(a) || a.identity === '') return;
        const w = windows.hit(a.identity, a.time);
        if (w === undefined) return;
        w.data.profile.add(a);
        w.data.sources.add(sourceGroup(a.srcIp));
        if (w.data.sources.distinct < minSources || w.count < minRejections) return;
        if (ctx.touch?.(a.identity, a.time, w.count) === true) return;
        const extension = ctx.site.extensionOf(a.identity);
        // The closures below capture `w` and `realm`, never `a`: an open alert keeps them
        // (test/detect/alert-retention.test.ts).
        const realm = a.realm;
        ctx.raise({
          key: a.identity,
          time: a.time,
          firstTime: w.firstTime,
          count: w.count,
          title: `Password guessing against ${extension} from ${w.data.sources.distinct} sources`,
          sources: () => w.data.sources.top(1024).map((s) => ({ ip: s.value, count: s.count })),
          sourcesTotal: w.data.sources.distinct,
          target: { ip: a.dstIp, port: a.dstPort, extension, identity: a.identity },
          evidence: () => ({ ...w.data.profile.evidence(), realm }),
        });
      },
    };
  },
};
