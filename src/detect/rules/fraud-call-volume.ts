import { DETECT_FRAUD_NUMBERS_PER_CALLER, DETECT_MAX_VOLUME_KEYS } from '../../config/limits.js';
import { BoundedTable } from '../../core/bounded-table.js';
import { escapeText } from '../../core/escape.js';
import type { AuthAttempt } from '../attempts.js';
import type { RuleModule } from '../rule.js';
import { CappedSet, newRate, pushFrame, slidingCount, sourceGroup, type RateState } from '../window.js';

/** One caller's call rate and evidence. */
interface Volume {
  readonly rate: RateState;
  readonly numbers: CappedSet;
  readonly outcomes: Record<string, number>;
  readonly frames: number[];
}

const HOUR_MS = 3_600_000;

/**
 * fraud.call-volume: more calls per hour from one extension, source or trunk than a static cap.
 * (The learned per-hour-of-week baseline of DESIGN.md is not built yet.)
 */
export const fraudCallVolume: RuleModule = {
  meta: {
    id: 'fraud.call-volume',
    title: 'Call volume above the hourly cap',
    severity: 'high',
    description:
      'Counts new calls (initial INVITEs the PBX let through: authenticated and not rejected for their ' +
      'credentials, or served without authentication) over a sliding hour, per extension (the identity of the ' +
      'credentials), per source (an IPv6 /64 counts as one; the PBX and declared trunks excepted) and per ' +
      'declared trunk. Reaching `callsPerHour` for an extension or source, or `trunkCallsPerHour` on a trunk, is ' +
      'reported from the first minute of monitoring: fraud runs calls in bulk, one after the other. PBX log lines ' +
      'that report an authenticated call count too.',
    falsePositives:
      'Challenged, rejected and unanswered INVITEs do not count, nor re-INVITEs. Busy extensions (a call centre ' +
      'dialler, a queue) may need a higher cap per site. The baseline per extension and hour of week is not ' +
      'learned yet: the caps are static.',
    remediation:
      '3CX: restrict outbound rules to the extensions that need them, set simultaneous-call limits on trunks, ' +
      'set Security → Allowed Country Codes, and review the call log of the extension; change its password. Any ' +
      'PBX: rate-limit new calls per endpoint and per trunk (Asterisk: call limits; Kamailio: pike or ratelimit ' +
      'on INVITE; FreeSWITCH: limit application with a rate), and ask the provider for a daily spend limit.',
    references: [
      'CFCA Global Telecommunications Fraud Loss Survey (toll fraud)',
      'RFC 3261 §13 (initiating a session)',
    ],
    thresholds: { callsPerHour: 60, trunkCallsPerHour: 600 },
    quietMs: 3_600_000,
  },
  create(ctx) {
    const perCaller = ctx.thresholds.callsPerHour ?? 60;
    const perTrunk = ctx.thresholds.trunkCallsPerHour ?? 600;
    const table = new BoundedTable<string, Volume>('fraud.call-volume', DETECT_MAX_VOLUME_KEYS);
    const count = (key: string, limit: number, a: AuthAttempt): void => {
      const v = table.touch(key, () => ({
        rate: newRate(a.time),
        numbers: new CappedSet(DETECT_FRAUD_NUMBERS_PER_CALLER),
        outcomes: {},
        frames: [],
      }));
      if (v === undefined) return;
      const n = slidingCount(v.rate, a.time, HOUR_MS);
      v.numbers.add(escapeText(a.extension, 40));
      v.outcomes[a.outcome] = (v.outcomes[a.outcome] ?? 0) + 1;
      pushFrame(v.frames, a.provenance.frame);
      if (n < limit) return;
      const calls = Math.floor(n);
      if (ctx.touch?.(key, a.time, v.rate.total) === true) return;
      ctx.raise({
        key,
        time: a.time,
        firstTime: v.rate.firstTime,
        count: v.rate.total,
        title: `${calls} calls in an hour for ${key} (cap ${limit})`,
        source: { ip: a.srcIp, port: a.srcPort, transport: a.transport },
        target: { ...(a.dstIp !== '' ? { ip: a.dstIp, port: a.dstPort } : {}) },
        evidence: () => ({
          group: key,
          callsLastHour: calls,
          cap: limit,
          dialled: v.numbers.top(20).map((x) => x.value),
          numbersTotal: v.numbers.distinct,
          outcomes: { ...v.outcomes },
          frames: [...v.frames],
        }),
      });
    };
    return {
      onAttempt(a: AuthAttempt): void {
        if (a.method !== 'INVITE') return;
        if (a.request !== undefined && a.request.toTag !== '') return;
        if (a.outcome !== 'accepted' && a.outcome !== 'open') return;
        const site = ctx.site;
        // Credentials sent to a provider are the trunk's account, not an extension's.
        const toTrunk = a.dstIp !== '' && site.isTrunk(a.dstIp);
        if (a.identity !== '' && !toTrunk)
          count(`extension ${escapeText(site.extensionOf(a.identity), 64)}`, perCaller, a);
        const src = a.srcIp;
        if (site.isTrunk(src)) count(`trunk ${src}`, perTrunk, a);
        else if (a.dstIp !== '' && site.isTrunk(a.dstIp)) count(`trunk ${a.dstIp}`, perTrunk, a);
        if (src !== '' && !site.isPbx(src) && !site.isTrunk(src))
          count(`source ${sourceGroup(src)}`, perCaller, a);
      },
    };
  },
};
