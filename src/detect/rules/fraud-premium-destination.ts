import {
  DETECT_FRAUD_NUMBERS_PER_CALLER,
  DETECT_MAX_FRAUD_CALLERS,
  DETECT_MAX_RECENT_DIALLED,
} from '../../config/limits.js';
import { escapeText } from '../../core/escape.js';
import type { CdrCall } from '../../core/records.js';
import type { NumberInfo } from '../../enrich/numbers.js';
import {
  callerUser,
  calledUser,
  classifyNumber,
  credentialsUser,
  isInitialInvite,
  isProgress,
  OnwardLegs,
} from '../../track/calls.js';
import type { SipEvent } from '../../track/sip-event.js';
import type { Transaction } from '../../track/transactions.js';
import type { Detector, DetectorContext, RuleModule } from '../rule.js';
import { CappedSet, KeyedWindows, pushFrame, sourceGroup } from '../window.js';
import {
  cdrCallId,
  cdrCaller,
  cdrDestination,
  cdrLeavesSite,
  cdrProgressed,
  cdrTime,
  pushRecord,
} from './fraud-cdr.js';

/** Why a call's destination is reported ('' or undefined: it is not). */
export type DestinationJudge = (info: NumberInfo) => string | undefined;

/** Per-caller evidence of a destination rule. */
interface State {
  readonly numbers: CappedSet;
  readonly countries: Record<string, number>;
  readonly types: Record<string, number>;
  readonly reasons: Record<string, number>;
  readonly statuses: Record<string, number>;
  readonly risk: CappedSet;
  readonly callIds: CappedSet;
  readonly frames: number[];
  answered: number;
  /** CDR keys only: how the calls ended, where the records were read. */
  readonly outcomes: Record<string, number>;
  readonly records: string[];
}

function countInto(r: Record<string, number>, k: string): void {
  r[k] = (r[k] ?? 0) + 1;
}

/**
 * The detector the destination rules share: each initial INVITE whose number `judge` reports is
 * counted once, at the first 18x/2xx the other side sends (the call is ringing or up), per caller
 * (source, or IPv6 /64, and From user). The onward leg a back-to-back PBX places for a call it
 * received is the same call and is not counted again. A CDR call counts once when it left the site
 * (or the CDR cannot tell), rang or was answered, and its destination is reported, per caller
 * (`Ext.105` and a From user 105 are one caller; a CDR names no address).
 */
export function destinationDetector(
  ctx: DetectorContext,
  rule: string,
  noun: string,
  judge: DestinationJudge,
): Detector {
  const relayMs = (ctx.thresholds.relaySeconds ?? 32) * 1000;
  const windows = new KeyedWindows<State>(
    rule,
    DETECT_MAX_FRAUD_CALLERS,
    (ctx.thresholds.windowSeconds ?? 86_400) * 1000,
    () => ({
      numbers: new CappedSet(DETECT_FRAUD_NUMBERS_PER_CALLER),
      countries: {},
      types: {},
      reasons: {},
      statuses: {},
      risk: new CappedSet(8),
      callIds: new CappedSet(8),
      frames: [],
      answered: 0,
      outcomes: {},
      records: [],
    }),
  );
  const legs = new OnwardLegs(`${rule}.legs`, DETECT_MAX_RECENT_DIALLED, relayMs);
  // Weak: entries live as long as their transaction, which the transaction table bounds.
  const relayed = new WeakSet<SipEvent>();
  const counted = new WeakSet<Transaction>();
  const answered = new WeakSet<Transaction>();

  return {
    onMessage(ev: SipEvent, tx, retransmission): void {
      if (isInitialInvite(ev, retransmission)) {
        const info = classifyNumber(calledUser(ev));
        if (info.e164 !== undefined && legs.onward(info.e164, ev.frame.srcIp, ev.frame.dstIp, ev.time)) {
          relayed.add(ev);
        }
        return;
      }
      if (retransmission || tx === undefined || tx.method !== 'INVITE' || !isProgress(ev)) return;
      const req = tx.request;
      if (req.toTag !== '' || relayed.has(req)) return;
      const src = req.frame.srcIp;
      // A provider delivering a call to one of the site's numbers is not the site dialling out.
      if (ctx.site.isTrunk(src)) return;
      const user = calledUser(req);
      const info = classifyNumber(user);
      if (info.e164 === undefined) return;
      const reason = judge(info);
      if (reason === undefined) return;
      const first = !counted.has(tx);
      const isAnswer = ev.status >= 200 && !answered.has(tx);
      if (!first && !isAnswer) return;
      const caller = callerUser(req);
      const group = sourceGroup(src);
      const key = `${group}|${caller}`;
      const w = first ? windows.hit(key, ev.time) : windows.peek(key, ev.time);
      if (w === undefined) return;
      const s = w.data;
      const dialled = escapeText(user, 40);
      if (first) {
        counted.add(tx);
        s.numbers.add(`${dialled} (${info.e164})`);
        countInto(s.countries, info.country ?? `+${info.callingCode ?? '?'}`);
        countInto(s.types, info.type);
        countInto(s.reasons, reason);
        if (info.risk !== undefined)
          s.risk.add(`${info.risk.prefix} ${info.risk.network} (${info.risk.category})`);
        s.callIds.add(escapeText(req.callId, 80));
        pushFrame(s.frames, req.frame.provenance.frame);
      }
      if (isAnswer) {
        answered.add(tx);
        s.answered++;
      }
      countInto(s.statuses, String(ev.status));
      pushFrame(s.frames, ev.frame.provenance.frame);
      const identity = credentialsUser(req);
      ctx.raise({
        key,
        time: ev.time,
        firstTime: w.firstTime,
        count: w.count,
        title: `Call to ${noun} ${info.e164} (${reason}) from ${caller !== '' ? `${escapeText(caller, 40)} at ` : ''}${src}`,
        source: { ip: src, port: req.frame.srcPort, transport: req.frame.transport },
        target: {
          ip: req.frame.dstIp,
          port: req.frame.dstPort,
          extension: dialled,
          ...(identity !== '' ? { identity: escapeText(identity, 64) } : {}),
        },
        evidence: () => ({
          caller: escapeText(caller, 64),
          sourceGroup: group,
          dialled: s.numbers.top(20).map((x) => x.value),
          numbersTotal: s.numbers.distinct,
          countries: { ...s.countries },
          types: { ...s.types },
          reasons: { ...s.reasons },
          riskRanges: s.risk.top(8).map((x) => x.value),
          statuses: { ...s.statuses },
          answered: s.answered,
          callIds: s.callIds.top(8).map((x) => x.value),
          frames: [...s.frames],
        }),
      });
    },
    onCdrCall(c: CdrCall): void {
      if (!cdrLeavesSite(c) || !cdrProgressed(c)) return;
      const dest = cdrDestination(c);
      if (dest === undefined) return;
      const info = dest.info;
      const reason = judge(info);
      if (reason === undefined) return;
      const caller = escapeText(cdrCaller(c), 64);
      const key = `caller ${caller}`;
      // Every such call counts, however long ago it started (a call of a day and more is the worst
      // kind): the caller's window starts with the earliest.
      const w = windows.hit(key, c.start);
      if (w === undefined) return;
      if (c.start < w.firstTime) w.firstTime = c.start;
      const s = w.data;
      const dialled = escapeText(dest.number, 40);
      s.numbers.add(`${dialled} (${dest.e164})`);
      countInto(s.countries, info.country ?? `+${info.callingCode ?? '?'}`);
      countInto(s.types, info.type);
      countInto(s.reasons, reason);
      countInto(s.outcomes, c.outcome);
      if (info.risk !== undefined)
        s.risk.add(`${info.risk.prefix} ${info.risk.network} (${info.risk.category})`);
      const id = cdrCallId(c);
      if (id !== '') s.callIds.add(id);
      pushRecord(s.records, c);
      if (c.answer !== undefined) s.answered++;
      const identity = escapeText(c.caller, 64);
      ctx.raise({
        key,
        time: cdrTime(c),
        firstTime: w.firstTime,
        count: w.count,
        title: `Call to ${noun} ${dest.e164} (${reason}) from ${escapeText(c.caller, 40)} (CDR)`,
        target: { extension: dialled, identity },
        evidence: () => ({
          caller: identity,
          dialled: s.numbers.top(20).map((x) => x.value),
          numbersTotal: s.numbers.distinct,
          countries: { ...s.countries },
          types: { ...s.types },
          reasons: { ...s.reasons },
          riskRanges: s.risk.top(8).map((x) => x.value),
          outcomes: { ...s.outcomes },
          answered: s.answered,
          callIds: s.callIds.top(8).map((x) => x.value),
          cdrRecords: [...s.records],
        }),
      });
    },
  };
}

/** fraud.premium-destination: a call the PBX progressed to a premium-rate or high-risk (IRSF) range. */
export const fraudPremiumDestination: RuleModule = {
  meta: {
    id: 'fraud.premium-destination',
    title: 'Call to a premium-rate or high-risk destination',
    severity: 'critical',
    description:
      'An initial INVITE is answered 18x or 2xx — the call is ringing or up — and the number it dials, read under ' +
      "the site's dial plan (outbound prefix, national and international prefixes, +, 00, 011), is a premium-rate " +
      'number by libphonenumber, or falls in a range of the high-risk (IRSF) list marked `high` (satellite and ' +
      'international networks, premium ranges abused for revenue share). It is raised at the first provisional ' +
      'answer, while the call is still up: such calls run for hours and a CDR only comes at hang-up. One alert per ' +
      'caller (source, or IPv6 /64, and From user), counting each call once with the numbers, countries, risk ' +
      'ranges and answers. Without a dial plan only numbers in international form (+, 00, 011) are read. ' +
      'From a CDR (3CX call detail records, docs/cdr.md), where no signaling is seen: a call that left through a ' +
      'trunk (an inbound call forwarded out included) or whose direction the CDR cannot tell, and that was answered, ' +
      'rang until the no-answer timeout or was abandoned after reaching the trunk, judged on the number as dialled, or ' +
      'on the number as sent to the trunk when the dialled one does not read as a valid number; one alert per caller ' +
      '(`Ext.105` is caller 105), with the records\u2019 file and line and the PBX\u2019s call ids. A CDR comes at ' +
      'hang-up: the alert is raised then.',
    falsePositives:
      'Inbound calls a declared trunk delivers are not counted, nor the onward leg a back-to-back PBX places for a ' +
      'call it just received (same number, sent by the address that received it, within `relaySeconds`). A ' +
      'business that really calls a satellite phone or a premium line will be reported: such calls are rare and ' +
      'worth a look; remove the range from a local copy of the risk list if they are expected. From CDRs, inbound ' +
      'and internal calls and calls that were busy, rejected or failed do not count, and a call seen on the wire ' +
      'is not counted again from its CDR.',
    remediation:
      '3CX: restrict outbound rules so no route accepts premium-rate and satellite prefixes, set Security → Allowed ' +
      'Country Codes to the countries you call, disable international calling on extensions that do not need it, ' +
      'and hang up the call from the dashboard (Active Calls); then change the calling extension\u2019s password. ' +
      'Any PBX: block premium-rate, satellite and IRSF ranges in the dial plan (Asterisk: no pattern that matches ' +
      'them in outbound contexts; Kamailio: a prefix table checked before routing to the gateway; FreeSWITCH: a ' +
      'blocking condition in the outbound dialplan), ask the provider for a spend limit and fraud barring.',
    references: [
      'CFCA Global Telecommunications Fraud Loss Survey (IRSF)',
      'ITU-T E.164 (international numbering plan)',
      'GSMA FF.21 (fraud manual: International Revenue Share Fraud)',
    ],
    thresholds: { windowSeconds: 86_400, relaySeconds: 32 },
    quietMs: 3_600_000,
  },
  create(ctx) {
    return destinationDetector(ctx, 'fraud.premium-destination', 'high-risk number', (info) => {
      if (info.type === 'premium-rate') return 'premium-rate';
      if (info.risk?.risk === 'high') return info.risk.category;
      return undefined;
    });
  },
};
