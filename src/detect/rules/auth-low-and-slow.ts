import { DETECT_LISTED_SOURCES_PER_RULE, DETECT_MAX_AUTH_KEYS } from '../../config/limits.js';
import type { AuthAttempt } from '../attempts.js';
import { isRejection, RejectionProfile } from '../auth-profile.js';
import type { RuleModule } from '../rule.js';
import { CappedSet, KeyedWindows, ListingBudget, sourceGroup } from '../window.js';

interface State {
  readonly profile: RejectionProfile;
  readonly sources: CappedSet;
}

/** auth.low-and-slow: guessing against one identity spread over hours or days. */
export const authLowAndSlow: RuleModule = {
  meta: {
    id: 'auth.low-and-slow',
    title: 'Slow password guessing spread over hours',
    severity: 'medium',
    description:
      'Rejected credentials for one identity keep coming, each far apart (a guess every few minutes or hours, from ' +
      'one or many sources), under every per-minute threshold. The window stays open while guesses are less than ' +
      '`gapSeconds` apart and the alert fires once they span `minSpanSeconds` with `rejections` guesses.',
    falsePositives:
      'One device retrying an old password with one Call-ID at its registration interval is auth.stale-credentials, ' +
      'not this rule.',
    remediation:
      '3CX: re-key the identity (new Auth ID and password), restrict it to the LAN or known networks, and make sure ' +
      'Anti-Hacking blocks for long enough. Any PBX: per-minute thresholds miss this; lock the identity or limit ' +
      'registrations to known networks; long random passwords make slow guessing hopeless.',
    references: ['RFC 3261 §22'],
    thresholds: { rejections: 10, minSpanSeconds: 1800, gapSeconds: 7200 },
    quietMs: 7_200_000,
  },
  create(ctx) {
    const minRejections = ctx.thresholds.rejections ?? 10;
    const minSpanMs = (ctx.thresholds.minSpanSeconds ?? 1800) * 1000;
    // The sources every identity's window lists, together (DETECT_LISTED_SOURCES_PER_RULE).
    const listed = new ListingBudget(DETECT_LISTED_SOURCES_PER_RULE);
    const windows = new KeyedWindows<State>(
      'auth.low-and-slow',
      DETECT_MAX_AUTH_KEYS,
      (ctx.thresholds.gapSeconds ?? 7200) * 1000,
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
        if (w.count < minRejections || a.time - w.firstTime < minSpanMs) return;
        // One source with one Call-ID at a slow pace is a device, reported by auth.stale-credentials.
        if (w.data.sources.distinct === 1 && w.data.profile.staleLike()) return;
        const extension = ctx.site.extensionOf(a.identity);
        const hours = Math.round((a.time - w.firstTime) / 360_000) / 10;
        // The closures below capture `w`, `hours` and `realm`, never `a`: an open alert keeps them
        // (test/detect/alert-retention.test.ts).
        const realm = a.realm;
        ctx.raise({
          key: a.identity,
          time: a.time,
          firstTime: w.firstTime,
          count: w.count,
          title: `Slow password guessing against ${extension}: ${w.count} guesses over ${hours} h`,
          source: { ip: a.srcIp, port: a.srcPort, transport: a.transport },
          sources: () => w.data.sources.top(1024).map((s) => ({ ip: s.value, count: s.count })),
          sourcesTotal: w.data.sources.distinct,
          target: { ip: a.dstIp, port: a.dstPort, extension, identity: a.identity },
          evidence: () => ({ ...w.data.profile.evidence(), spanHours: hours, realm }),
        });
      },
    };
  },
};
