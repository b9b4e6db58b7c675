import { DETECT_MAX_AUTH_KEYS } from '../../config/limits.js';
import type { AuthAttempt } from '../attempts.js';
import { isRejection, RejectionProfile } from '../auth-profile.js';
import type { RuleModule } from '../rule.js';
import { CappedSet, KeyedWindows, sourceGroup } from '../window.js';

interface State {
  readonly profile: RejectionProfile;
  readonly identities: CappedSet;
}

/** auth.credential-stuffing: one source rejected across many identities. */
export const authCredentialStuffing: RuleModule = {
  meta: {
    id: 'auth.credential-stuffing',
    title: 'One source guessing passwords across many identities',
    severity: 'high',
    description:
      'One source (an IPv6 /64 counts as one) has credentials rejected for many distinct identities: a list of ' +
      'user names and passwords tried against the PBX, or a cracker walking extensions.',
    falsePositives:
      'A misconfigured SBC or B2BUA that authenticates many users from one address with wrong credentials; declare ' +
      'it in the site model (trunks or trusted) and fix its credentials.',
    remediation:
      '3CX: keep Security → Anti-Hacking enabled and add the source to the IP Blocklist; make sure Auth IDs are random ' +
      'strings, not the extension numbers. Any PBX: block the source, answer unknown and known users alike, ' +
      'rate-limit authentication failures per source.',
    references: ['RFC 3261 §22', 'RFC 3261 §26.1.5 (threats: enumeration of user names)'],
    thresholds: { identities: 5, windowSeconds: 600 },
    quietMs: 600_000,
  },
  create(ctx) {
    const threshold = ctx.thresholds.identities ?? 5;
    const windows = new KeyedWindows<State>(
      'auth.credential-stuffing',
      DETECT_MAX_AUTH_KEYS,
      (ctx.thresholds.windowSeconds ?? 600) * 1000,
      () => ({ profile: new RejectionProfile(), identities: new CappedSet(64) }),
    );
    return {
      onAttempt(a: AuthAttempt): void {
        if (!isRejection(a) || a.identity === '') return;
        const group = sourceGroup(a.srcIp);
        const w = windows.hit(group, a.time);
        if (w === undefined) return;
        w.data.profile.add(a);
        w.data.identities.add(a.identity);
        if (w.data.identities.distinct < threshold) return;
        if (ctx.touch?.(group, a.time, w.count) === true) return;
        ctx.raise({
          key: group,
          time: a.time,
          firstTime: w.firstTime,
          count: w.count,
          title: `Password guessing across ${w.data.identities.distinct} identities from ${a.srcIp}`,
          source: { ip: a.srcIp, port: a.srcPort, transport: a.transport },
          target: { ip: a.dstIp, port: a.dstPort },
          evidence: () => ({
            ...w.data.profile.evidence(),
            identities: w.data.identities.top(20).map((i) => i.value),
            identitiesTotal: w.data.identities.distinct,
            sourceGroup: group,
          }),
        });
      },
    };
  },
};
