import { DETECT_MAX_AUTH_KEYS } from '../../config/limits.js';
import type { AuthAttempt } from '../attempts.js';
import { isRejection, RejectionProfile } from '../auth-profile.js';
import type { RuleModule } from '../rule.js';
import { KeyedWindows } from '../window.js';

/** auth.stale-credentials: one device retrying an old password at its registration interval. */
export const authStaleCredentials: RuleModule = {
  meta: {
    id: 'auth.stale-credentials',
    title: 'A device keeps registering with an old password',
    severity: 'low',
    description:
      'One source keeps sending credentials for one identity that are rejected, slowly (median interval of at least ' +
      '15 s) and with one or two Call-IDs: a phone or trunk still configured with a password that was changed. A ' +
      'misconfiguration, not an attack, but it fills logs, can trip blocking, and leaves the device unregistered.',
    falsePositives:
      'A careful attacker imitating a device pace is caught by auth.low-and-slow across identities and time.',
    remediation:
      "3CX: re-provision the phone (Phones → select → Reprovision) or correct the trunk's credentials; if the " +
      'device is gone, remove it. Any PBX: update the device configuration or retire it.',
    references: ['RFC 3261 §10.2.4 (refreshing bindings)', 'RFC 3261 §22'],
    thresholds: { rejections: 3, windowSeconds: 7200 },
    quietMs: 7_200_000,
  },
  create(ctx) {
    const threshold = ctx.thresholds.rejections ?? 3;
    const windows = new KeyedWindows<RejectionProfile>(
      'auth.stale-credentials',
      DETECT_MAX_AUTH_KEYS,
      (ctx.thresholds.windowSeconds ?? 7200) * 1000,
      () => new RejectionProfile(),
    );
    return {
      onAttempt(a: AuthAttempt): void {
        if (!isRejection(a) || a.identity === '') return;
        const w = windows.hit(`${a.srcIp}\u0000${a.identity}`, a.time);
        if (w === undefined) return;
        w.data.add(a);
        if (w.count < threshold || !w.data.staleLike()) return;
        const extension = ctx.site.extensionOf(a.identity);
        ctx.raise({
          key: `${a.srcIp}|${a.identity}`,
          time: a.time,
          firstTime: w.firstTime,
          count: w.count,
          title: `Device at ${a.srcIp} keeps failing to register as ${extension} (old password?)`,
          source: { ip: a.srcIp, port: a.srcPort, transport: a.transport },
          target: { ip: a.dstIp, port: a.dstPort, extension, identity: a.identity },
          evidence: () => w.data.evidence(),
        });
      },
    };
  },
};
