import { DETECT_MAX_AUTH_KEYS } from '../../config/limits.js';
import type { AuthAttempt } from '../attempts.js';
import { isRejection, RejectionProfile } from '../auth-profile.js';
import type { RuleModule } from '../rule.js';
import { CappedSet, KeyedWindows, sourceGroup, type WindowState } from '../window.js';

/** Successful logins remembered per source window (in case its failures come after). */
const MAX_SUCCESSES = 16;

/** What a remembered success reports: copied fields, never the attempt (whose transaction holds the
 * messages and their bytes — one per phone that registers, for the whole window). */
interface Success {
  readonly identity: string;
  readonly srcIp: string;
  readonly srcPort: number;
  readonly transport: string;
  readonly dstIp: string;
  readonly dstPort: number;
  readonly method: string;
  readonly time: number;
  readonly frame: number | null;
  reported: boolean;
}

function successOf(a: AuthAttempt): Success {
  return {
    identity: a.identity,
    srcIp: a.srcIp,
    srcPort: a.srcPort,
    transport: a.transport,
    dstIp: a.dstIp,
    dstPort: a.dstPort,
    method: a.method,
    time: a.time,
    frame: a.provenance.frame ?? null,
    reported: false,
  };
}

/** Made on first use: most keys are phones that only ever succeed, and a profile per phone for the
 * whole window was most of this rule's memory on an office capture (bench, office.pcap). */
interface State {
  profile: RejectionProfile | undefined;
  identities: CappedSet | undefined;
  /** One success inline; a map only when a second identity succeeds from the same source. */
  success: Success | undefined;
  more: Map<string, Success> | undefined;
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
      () => ({ profile: undefined, identities: undefined, success: undefined, more: undefined }),
    );
    // Window count includes successes; rejections are the profile's.
    const rejections = (s: State): number => (s.profile === undefined ? 0 : s.profile.rejections);
    const report = (w: WindowState<State>, success: Success, time: number): void => {
      const s = w.data;
      const n = rejections(s);
      if (success.reported || n < threshold) return;
      if (s.profile === undefined || s.identities === undefined) return;
      if (s.identities.distinct === 1 && s.profile.staleLike()) return;
      const profile = s.profile;
      const identities = s.identities;
      success.reported = true;
      const a = success;
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
          ...profile.evidence(),
          rejected: n,
          identitiesTried: identities.top(20).map((i) => i.value),
          acceptedMethod: a.method,
          acceptedAt: new Date(a.time).toISOString(),
          acceptedFrame: a.frame,
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
          (s.profile ??= new RejectionProfile()).add(a);
          (s.identities ??= new CappedSet(64)).add(a.identity);
          if (s.success !== undefined) report(w, s.success, a.time);
          if (s.more !== undefined) for (const success of s.more.values()) report(w, success, a.time);
          return;
        }
        let success =
          s.success === undefined || s.success.identity === a.identity ? s.success : s.more?.get(a.identity);
        if (success === undefined) {
          success = successOf(a);
          if (s.success === undefined) s.success = success;
          else {
            s.more ??= new Map();
            if (s.more.size + 1 >= MAX_SUCCESSES) return;
            s.more.set(a.identity, success);
          }
        }
        report(w, success, a.time);
      },
    };
  },
};
