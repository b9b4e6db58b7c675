import { DETECT_MAX_AUTH_KEYS } from '../../config/limits.js';
import type { AuthAttempt } from '../attempts.js';
import { isRejection, RejectionProfile } from '../auth-profile.js';
import type { RuleModule } from '../rule.js';
import { CappedSet, KeyedWindows, sourceGroup, type WindowState } from '../window.js';

/** Successful logins remembered per source window (in case its failures come after). */
const MAX_SUCCESSES = 16;

interface Success {
  readonly attempt: AuthAttempt;
  reported: boolean;
}

interface State {
  readonly profile: RejectionProfile;
  readonly identities: CappedSet;
  readonly successes: Map<string, Success>;
}

/** auth.success-after-failures: a source rejected many times that then authenticates. */
export const authSuccessAfterFailures: RuleModule = {
  meta: {
    id: 'auth.success-after-failures',
    title: 'Login succeeded after many failures: likely a cracked password',
    severity: 'critical',
    description:
      'A source (IPv6 /64) had at least `rejections` credentials rejected, at a guessing pace or across identities, ' +
      'and authenticated successfully within the same window: the password was most likely found. Order does not ' +
      'matter: a credential-stuffing run that hits a valid password early is reported once its failures add up.',
    falsePositives:
      'A device that retried an old password slowly with one Call-ID and was then fixed is not reported (it is ' +
      'auth.stale-credentials). A user who mistyped a few times stays under the threshold.',
    remediation:
      '3CX: change the Auth ID and password of the identity now, check its calls (Call History) and outbound rules ' +
      'for toll fraud, block the source, and restrict the extension to the LAN. Any PBX: re-key the account, ' +
      'review CDRs since the success, block the source.',
    references: ['RFC 3261 §22'],
    thresholds: { rejections: 5, windowSeconds: 3600 },
    quietMs: 3_600_000,
  },
  create(ctx) {
    const threshold = ctx.thresholds.rejections ?? 5;
    const windows = new KeyedWindows<State>(
      'auth.success-after-failures',
      DETECT_MAX_AUTH_KEYS,
      (ctx.thresholds.windowSeconds ?? 3600) * 1000,
      () => ({ profile: new RejectionProfile(), identities: new CappedSet(64), successes: new Map() }),
    );
    // Window count includes successes; rejections are the profile's.
    const rejections = (s: State): number => Object.values(s.profile.methods).reduce((x, y) => x + y, 0);
    const report = (w: WindowState<State>, success: Success, time: number): void => {
      const s = w.data;
      const n = rejections(s);
      if (success.reported || n < threshold) return;
      if (s.identities.distinct === 1 && s.profile.staleLike()) return;
      success.reported = true;
      const a = success.attempt;
      const extension = ctx.site.extensionOf(a.identity);
      ctx.raise({
        key: `${sourceGroup(a.srcIp)}|${a.identity}`,
        time,
        firstTime: w.firstTime,
        count: n + 1,
        title: `${extension} logged in from ${a.srcIp} during ${n} rejected attempts`,
        source: { ip: a.srcIp, port: a.srcPort, transport: a.transport },
        target: { ip: a.dstIp, port: a.dstPort, extension, identity: a.identity },
        evidence: () => ({
          ...s.profile.evidence(),
          rejected: n,
          identitiesTried: s.identities.top(20).map((i) => i.value),
          acceptedMethod: a.method,
          acceptedAt: new Date(a.time).toISOString(),
          acceptedFrame: a.provenance.frame ?? null,
        }),
      });
    };
    return {
      onAttempt(a: AuthAttempt): void {
        if (a.identity === '') return;
        const rejected = isRejection(a);
        if (!rejected && a.outcome !== 'accepted') return;
        const w = windows.hit(sourceGroup(a.srcIp), a.time);
        if (w === undefined) return;
        const s = w.data;
        if (rejected) {
          s.profile.add(a);
          s.identities.add(a.identity);
          for (const success of s.successes.values()) report(w, success, a.time);
          return;
        }
        let success = s.successes.get(a.identity);
        if (success === undefined) {
          if (s.successes.size >= MAX_SUCCESSES) return;
          success = { attempt: a, reported: false };
          s.successes.set(a.identity, success);
        }
        report(w, success, a.time);
      },
    };
  },
};
