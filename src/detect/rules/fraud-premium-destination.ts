import { DETECT_FRAUD_NUMBERS_PER_CALLER, DETECT_MAX_FRAUD_CALLERS } from '../../config/limits.js';
import { escapeText } from '../../core/escape.js';
import type { CdrCall } from '../../core/records.js';
import type { NumberInfo } from '../../enrich/numbers.js';
import type { Call } from '../../track/call-table.js';
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
  readDestination,
} from './fraud-cdr.js';

/** Why a call's destination is reported ('' or undefined: it is not). */
export type DestinationJudge = (info: NumberInfo) => string | undefined;

/** What the destination rules read from a CDR, as their descriptions say it. */
export const CDR_DESTINATION_TEXT =
  'From a CDR (3CX call detail records, docs/cdr.md), where no signaling is seen: a call that left through a ' +
  'trunk (an inbound call forwarded out included) or whose direction the CDR cannot tell, and that was answered, ' +
  'rang until the no-answer timeout or was abandoned after reaching the trunk, judged on the number as dialled ' +
  'when it reads as a valid number or as an international one with a real calling code, else on the number as ' +
  'sent to the trunk; one alert per caller ' +
  '(`Ext.105` is caller 105), with the records\u2019 file and line and the PBX\u2019s call ids. A CDR comes at ' +
  'hang-up: the alert is raised then.';

/** The evidence both the wire and the CDR paths show of a caller's numbers. */
function numbersEvidence(s: State): Record<string, unknown> {
  return {
    dialled: s.numbers.top(20).map((x) => x.value),
    numbersTotal: s.numbers.distinct,
    countries: { ...s.countries },
    types: { ...s.types },
    reasons: { ...s.reasons },
    riskRanges: s.risk.top(8).map((x) => x.value),
  };
}

/** Per-caller evidence of a destination rule. */
interface State {
  readonly numbers: CappedSet;
  readonly countries: Record<string, number>;
  readonly types: Record<string, number>;
  readonly reasons: Record<string, number>;
  /** Calls that rang and were answered (`ringing`, `answered`); on the `legs` path, answers by status code. */
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

/** What a wire call counted by a destination detector raised with: what its answer adds to. */
interface Counted {
  readonly key: string;
  readonly reason: string;
  readonly info: NumberInfo;
  readonly number: string;
}

/**
 * The detector the destination rules share. On the wire (`calls`), each call of the call table
 * (src/track/call-table.ts) whose number `judge` reports is counted once, when it rings or is up
 * (its first 18x or 2xx on any leg), under its first leg: per caller (the dialling phone's source,
 * or IPv6 /64, and From user), so a proxying or back-to-back PBX relaying the call to its trunk is
 * never the caller. The number is the one dialled on the first leg, or the form an onward leg sent
 * on when the dialled one does not read (see `readDestination`). A call a declared trunk delivers
 * is not counted.
 *
 * A CDR call counts once when it left the site (or the CDR cannot tell), rang or was answered, and
 * its destination is reported, per caller (`Ext.105` and a From user 105 are one caller; a CDR
 * names no address).
 */
export function destinationDetector(
  ctx: DetectorContext,
  rule: string,
  noun: string,
  judge: DestinationJudge,
): Detector {
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

  /** Counts a number into a caller's evidence (once per call). */
  const countNumber = (s: State, number: string, info: NumberInfo, reason: string, callId: string): void => {
    s.numbers.add(`${escapeText(number, 40)} (${info.e164 ?? '?'})`);
    countInto(s.countries, info.country ?? `+${info.callingCode ?? '?'}`);
    countInto(s.types, info.type);
    countInto(s.reasons, reason);
    if (info.risk !== undefined)
      s.risk.add(`${info.risk.prefix} ${info.risk.network} (${info.risk.category})`);
    if (callId !== '') s.callIds.add(callId);
  };

  const wireEvidence = (caller: string, group: string, s: State) => (): Record<string, unknown> => ({
    caller: escapeText(caller, 64),
    sourceGroup: group,
    ...numbersEvidence(s),
    statuses: { ...s.statuses },
    answered: s.answered,
    callIds: s.callIds.top(8).map((x) => x.value),
    frames: [...s.frames],
  });

  const onCdrCall = (c: CdrCall): void => {
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
    countNumber(s, dest.number, info, reason, cdrCallId(c));
    countInto(s.outcomes, c.outcome);
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
        ...numbersEvidence(s),
        outcomes: { ...s.outcomes },
        answered: s.answered,
        callIds: s.callIds.top(8).map((x) => x.value),
        cdrRecords: [...s.records],
      }),
    });
  };

  /** Raises (or revises) the alert of a counted call, at `time`, with `status` counted. */
  const raiseCall = (c: Call, k: Counted, time: number, first: boolean, status: string): void => {
    const w = first ? windows.hit(k.key, time) : windows.peek(k.key, time);
    if (w === undefined) return;
    const s = w.data;
    if (first) {
      countNumber(s, k.number, k.info, k.reason, escapeText(c.callId, 80));
      pushFrame(s.frames, c.provenance.frame);
    } else s.answered++;
    countInto(s.statuses, status);
    const src = c.from.ip;
    const caller = c.caller;
    ctx.raise({
      key: k.key,
      time,
      firstTime: w.firstTime,
      count: w.count,
      title: `Call to ${noun} ${k.info.e164 ?? '?'} (${k.reason}) from ${caller !== '' ? `${escapeText(caller, 40)} at ` : ''}${src}`,
      source: { ip: src, port: c.from.port, transport: c.transport },
      target: {
        ip: c.to.ip,
        port: c.to.port,
        extension: escapeText(k.number, 40),
        ...(c.identity !== '' ? { identity: escapeText(c.identity, 64) } : {}),
      },
      evidence: wireEvidence(caller, sourceGroup(src), s),
    });
  };
  // Weak: the call table bounds the calls it keeps open; an ended call is dropped with it.
  const counted = new WeakMap<Call, Counted>();
  return {
    // Raised when the call rings or is up, while it is still running: such calls run for hours
    // and a CDR only comes at hang-up.
    onCallRinging(c: Call): void {
      // A provider delivering a call to one of the site's numbers is not the site dialling out.
      if (counted.has(c) || ctx.site.isTrunk(c.from.ip)) return;
      const dest = readDestination(
        c.dialled,
        c.legs.map((l) => l.dialled),
      );
      if (dest === undefined) return;
      const reason = judge(dest.info);
      if (reason === undefined) return;
      const k: Counted = {
        key: `${sourceGroup(c.from.ip)}|${c.caller}`,
        reason,
        info: dest.info,
        number: dest.number,
      };
      counted.set(c, k);
      // A call answered without ringing first (a 2xx straight away) rang all the same.
      raiseCall(c, k, c.ringing ?? c.lastTime, true, 'ringing');
    },
    onCallAnswered(c: Call): void {
      const k = counted.get(c);
      if (k !== undefined) raiseCall(c, k, c.answer ?? c.lastTime, false, 'answered');
    },
    onCdrCall,
  };
}

/** fraud.premium-destination: a call the PBX progressed to a premium-rate or high-risk (IRSF) range. */
export const fraudPremiumDestination: RuleModule = {
  meta: {
    id: 'fraud.premium-destination',
    title: 'Call to a premium-rate or high-risk destination',
    severity: 'critical',
    description:
      'A call rings or is up (its first 18x or 2xx, on any of its legs) and the number its caller dialled, read under ' +
      "the site's dial plan (outbound prefix, national and international prefixes, +, 00, 011), is a premium-rate " +
      'number by libphonenumber, or falls in a range of the high-risk (IRSF) list marked `high` (satellite and ' +
      'international networks, premium ranges abused for revenue share). When the number as dialled does not read ' +
      '(an outbound prefix without a dial plan), the form the PBX sent on to its trunk is read. It is raised when ' +
      'the call rings, while it is still up: such calls run for hours and a CDR only comes at hang-up. One alert per ' +
      'caller (the dialling phone\u2019s source, or IPv6 /64, and From user), counting each call once under its first ' +
      'leg whatever its legs (a proxying PBX\u2019s copy of the INVITE and a back-to-back PBX\u2019s onward leg to the ' +
      'trunk are the caller\u2019s call, never the PBX\u2019s), with the numbers, countries, risk ranges, and how many ' +
      'calls rang and were answered. Without a dial plan only numbers in international form (+, 00, 011) are read. ' +
      CDR_DESTINATION_TEXT,
    falsePositives:
      'Calls a declared trunk delivers (first leg from the trunk) are not counted, nor again the onward legs a PBX ' +
      'places for a call it relays (the call table joins them: same Call-ID for a proxy; for a back-to-back PBX, ' +
      'the same number sent from the address that received the call while it is unanswered). An onward leg that ' +
      'cannot be paired so (a number rewritten beyond recognition) is a call of the PBX itself. A ' +
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
    thresholds: { windowSeconds: 86_400 },
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
