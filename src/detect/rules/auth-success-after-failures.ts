import { DETECT_MAX_AUTH_KEYS } from '../../config/limits.js';
import type { AuthAttempt } from '../attempts.js';
import { isRejection, RejectionProfile } from '../auth-profile.js';
import type { RuleModule } from '../rule.js';
import { CappedSet, KeyedWindows, sourceGroup } from '../window.js';

interface State {
  readonly profile: RejectionProfile;
  readonly identities: CappedSet;
}

/** auth.success-after-failures: a source rejected many times that then authenticates. */
export const authSuccessAfterFailures: RuleModule = {
  meta: {
    id: 'auth.success-after-failures',
    title: 'Login succeeded after many failures: likely a cracked password',
    severity: 'critical',
    description:
      'A source (IPv6 /64) had at least `rejections` credentials rejected, at a guessing pace or across identities, ' +
      'and then authenticated successfully: the password was most likely found.',
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
      () => ({ profile: new RejectionProfile(), identities: new CappedSet(64) }),
    );
    return {
      onAttempt(a: AuthAttempt): void {
        const group = sourceGroup(a.srcIp);
        if (isRejection(a) && a.identity !== '') {
          const w = windows.hit(group, a.time);
          if (w === undefined) return;
          w.data.profile.add(a);
          w.data.identities.add(a.identity);
          return;
        }
        if (a.outcome !== 'accepted' || a.identity === '') return;
        const w = windows.peek(group, a.time);
        if (w === undefined || w.count < threshold) return;
        if (w.data.identities.distinct === 1 && w.data.profile.staleLike()) return;
        const extension = ctx.site.extensionOf(a.identity);
        ctx.raise({
          key: `${group}|${a.identity}`,
          time: a.time,
          firstTime: w.firstTime,
          count: w.count + 1,
          title: `${extension} logged in from ${a.srcIp} after ${w.count} rejected attempts`,
          source: { ip: a.srcIp, port: a.srcPort, transport: a.transport },
          target: { ip: a.dstIp, port: a.dstPort, extension, identity: a.identity },
          evidence: () => ({
            ...w.data.profile.evidence(),
            rejectedBefore: w.count,
            identitiesTried: w.data.identities.top(20).map((i) => i.value),
            acceptedMethod: a.method,
            acceptedFrame: a.request.frame.provenance.frame ?? null,
          }),
        });
      },
    };
  },
};
