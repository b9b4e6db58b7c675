import { DETECT_FRAUD_NUMBERS_PER_CALLER, DETECT_MAX_CONCURRENT_DIALOGS } from '../../config/limits.js';
import { escapeText } from '../../core/escape.js';
import { calledUser, callerUser, credentialsUser } from '../../track/calls.js';
import type { Dialog } from '../../track/dialogs.js';
import type { SipEvent } from '../../track/sip-event.js';
import type { DetectorContext, RuleModule } from '../rule.js';
import { CappedSet, pushFrame, sourceGroup } from '../window.js';

/** The calls one caller (identity, source or trunk) has up now. */
interface Group {
  open: number;
  peak: number;
  readonly limit: number;
  readonly firstTime: number;
  readonly numbers: CappedSet;
  readonly callers: CappedSet;
  readonly callIds: CappedSet;
  readonly frames: number[];
}

/** What a dialog counts under: group key, shown name, and its limit. */
interface Membership {
  readonly key: string;
  readonly limit: number;
}

/** The groups a confirmed dialog counts in: its identity, its source (unless the PBX or a trunk), its trunk. */
export function callGroups(
  ctx: DetectorContext,
  invite: SipEvent,
  perCaller: number,
  perTrunk: number,
): Membership[] {
  const out: Membership[] = [];
  const identity = credentialsUser(invite);
  const src = invite.frame.srcIp;
  const dst = invite.frame.dstIp;
  const site = ctx.site;
  // Credentials sent to a provider are the trunk's account, not an extension's.
  if (identity !== '' && !site.isTrunk(dst))
    out.push({ key: `extension ${escapeText(site.extensionOf(identity), 64)}`, limit: perCaller });
  // The PBX and the trunks carry everybody's calls: counted per trunk, not as one caller.
  if (!site.isPbx(src) && !site.isTrunk(src))
    out.push({ key: `source ${sourceGroup(src)}`, limit: perCaller });
  if (site.isTrunk(src)) out.push({ key: `trunk ${src}`, limit: perTrunk });
  else if (site.isTrunk(dst)) out.push({ key: `trunk ${dst}`, limit: perTrunk });
  return out;
}

/**
 * fraud.concurrent-calls: more simultaneous answered calls for one extension, source or trunk than its
 * limit. Calls whose BYE was lost end when the dialog tracker expires them.
 */
export const fraudConcurrentCalls: RuleModule = {
  meta: {
    id: 'fraud.concurrent-calls',
    title: 'Too many simultaneous calls',
    severity: 'high',
    description:
      'Counts confirmed (answered) INVITE dialogs that are up at the same time, per extension (the identity of ' +
      'the credentials the INVITE carried, shown as its extension), per source (an IPv6 /64 counts as one; the ' +
      'PBX and declared trunks excepted, as they carry everybody\u2019s calls) and per declared trunk. More than ' +
      '`maxPerCaller` calls for one extension or source, or `maxPerTrunk` on one trunk, is what toll fraud looks ' +
      'like: an intruder runs as many channels as the trunk allows. A dialog ends with its BYE, or when the ' +
      'tracker expires it (no BYE seen: idle timeout or twice the Session-Expires interval).',
    falsePositives:
      'A reception desk, call centre agent or queue extension may hold many calls at once: raise its limit per ' +
      'site. Calls that were never answered do not count. When the same identity authenticates both legs a ' +
      'back-to-back PBX creates, a call counts twice; 3CX authenticates its trunk legs with the trunk\u2019s own ' +
      'credentials, so it does not.',
    remediation:
      '3CX: set the maximum simultaneous calls on each trunk to what the business needs (trunk → Settings: ' +
      'Simultaneous calls), restrict outbound rules to the extensions that need them, and hang up unknown calls ' +
      'from Active Calls; then change the extension\u2019s password. Any PBX: limit channels per endpoint and per ' +
      'trunk (Asterisk: GROUP()/GROUP_COUNT or call-limit; Kamailio: dialog module profiles; FreeSWITCH: limit ' +
      'application), and ask the provider for a channel cap.',
    references: [
      'RFC 3261 §12 (dialogs)',
      'RFC 4028 (session timers)',
      'CFCA Global Telecommunications Fraud Loss Survey',
    ],
    thresholds: { maxPerCaller: 10, maxPerTrunk: 30 },
    quietMs: 3_600_000,
  },
  create(ctx) {
    const perCaller = ctx.thresholds.maxPerCaller ?? 10;
    const perTrunk = ctx.thresholds.maxPerTrunk ?? 30;
    // Open confirmed dialogs and the groups each counts in. Bounded by the dialog table (every
    // dialog it confirms it also ends) and by DETECT_MAX_CONCURRENT_DIALOGS in case it is larger.
    const dialogs = new Map<string, Membership[]>();
    const groups = new Map<string, Group>();
    let dropped = 0;
    return {
      onDialogConfirmed(d: Dialog, ev: SipEvent): void {
        if (dialogs.has(d.key)) return;
        if (dialogs.size >= DETECT_MAX_CONCURRENT_DIALOGS) {
          dropped++;
          return;
        }
        const inv = d.invite;
        const members = callGroups(ctx, inv, perCaller, perTrunk);
        dialogs.set(d.key, members);
        for (const m of members) {
          let g = groups.get(m.key);
          if (g === undefined) {
            g = {
              open: 0,
              peak: 0,
              limit: m.limit,
              firstTime: ev.time,
              numbers: new CappedSet(DETECT_FRAUD_NUMBERS_PER_CALLER),
              callers: new CappedSet(8),
              callIds: new CappedSet(20),
              frames: [],
            };
            groups.set(m.key, g);
          }
          g.open++;
          g.numbers.add(escapeText(calledUser(inv), 40));
          g.callers.add(escapeText(callerUser(inv), 40));
          g.callIds.add(escapeText(d.callId, 80));
          pushFrame(g.frames, inv.frame.provenance.frame);
          if (g.open <= g.peak) continue;
          g.peak = g.open;
          if (g.open <= g.limit) continue;
          if (ctx.touch?.(m.key, ev.time, g.peak) === true) continue;
          const group = g;
          ctx.raise({
            key: m.key,
            time: ev.time,
            firstTime: g.firstTime,
            count: g.peak,
            title: `${g.open} simultaneous calls for ${m.key} (limit ${g.limit})`,
            source: { ip: inv.frame.srcIp, port: inv.frame.srcPort, transport: inv.frame.transport },
            target: { ip: inv.frame.dstIp, port: inv.frame.dstPort },
            evidence: () => ({
              group: m.key,
              concurrent: group.open,
              peak: group.peak,
              limit: group.limit,
              dialled: group.numbers.top(20).map((x) => x.value),
              callers: group.callers.top(8).map((x) => x.value),
              callIds: group.callIds.top(20).map((x) => x.value),
              frames: [...group.frames],
              untracked: dropped,
            }),
          });
        }
      },
      onDialogEnded(d: Dialog): void {
        const members = dialogs.get(d.key);
        if (members === undefined) return;
        dialogs.delete(d.key);
        for (const m of members) {
          const g = groups.get(m.key);
          if (g === undefined) continue;
          g.open--;
          // A group lives while it has calls up: the table never outgrows the open dialogs.
          if (g.open <= 0) groups.delete(m.key);
        }
      },
    };
  },
};
