import {
  DETECT_CDR_RECORDS_PER_ALERT,
  DETECT_MAX_SEQUENTIAL_SOURCES,
  DETECT_SEQUENTIAL_RECENT_NUMBERS,
} from '../../config/limits.js';
import { escapeText } from '../../core/escape.js';
import type { CdrCall } from '../../core/records.js';
import type { NumberInfo } from '../../enrich/numbers.js';
import type { Call } from '../../track/call-table.js';
import { classifyNumber } from '../../track/calls.js';
import type { RuleModule } from '../rule.js';
import { CappedSet, KeyedWindows, pushFrame, sourceGroup, type WindowState } from '../window.js';
import { cdrCallId, cdrCaller, cdrDestination, cdrRecordRef, cdrTime, hitAtStart } from './fraud-cdr.js';

/** Trailing digits compared as a number; the digits before them must be equal (a shared prefix). */
const TAIL_DIGITS = 6;

/** One source's recent distinct numbers and the steps found between them. */
interface State {
  /** Ring of recent distinct numbers (digits only). */
  readonly recent: string[];
  /** Per ring slot: its number was counted (it has a neighbour). */
  readonly linked: boolean[];
  /** Per ring slot, for CDR calls: the record to name once the number is counted. */
  readonly refs: (CdrRef | undefined)[];
  next: number;
  /** Numbers that were a small step from an earlier one. */
  stepped: number;
  /** Steps by size (`+1`, `-1`, `+2`...). */
  readonly strides: Record<string, number>;
  readonly sample: string[];
  readonly callers: CappedSet;
  readonly frames: number[];
  lowest: string;
  highest: string;
  /** Made for the first CDR call counted: where its records were read and the PBX's call ids. */
  cdr?: { readonly records: string[]; readonly callIds: CappedSet };
}

/** A CDR call's evidence, kept with its number until the number is counted. */
interface CdrRef {
  readonly record: string;
  readonly callId: string;
  readonly dialled: string;
}

/** Signed difference of two same-length digit strings that share all but their tail; undefined if not. */
export function smallStep(a: string, b: string, maxStep: number): number | undefined {
  if (a.length !== b.length || a.length <= TAIL_DIGITS) return undefined;
  const cut = a.length - TAIL_DIGITS;
  if (a.slice(0, cut) !== b.slice(0, cut)) return undefined;
  const d = Number(a.slice(cut)) - Number(b.slice(cut));
  return d !== 0 && Math.abs(d) <= maxStep ? d : undefined;
}

/**
 * fraud.sequential-dialing: one source dials many numbers that differ from each other by small steps
 * (…100, …101, …102): scanning a number range for reachable or revenue-sharing numbers.
 */
export const fraudSequentialDialing: RuleModule = {
  meta: {
    id: 'fraud.sequential-dialing',
    title: 'Sequential number scanning',
    severity: 'medium',
    description:
      'One source (the calling phone\u2019s address; an IPv6 /64 counts as one) calls distinct numbers of at least 7 digits (read ' +
      'under the dial plan as E.164 when possible, else as dialled) of which at least `numbers` are within ' +
      '`maxStep` of a number it dialled before and share all digits but the last six with it: a range dialled in ' +
      'order, as scanners do to find numbers that answer or that share revenue. The window closes after ' +
      '`windowSeconds` of quiet. Retries of the same number do not count. Each call counts once, under its ' +
      'first leg: a proxying PBX\u2019s copy of the INVITE and a back-to-back PBX\u2019s onward leg to the trunk ' +
      'belong to the call they relay, so a PBX passing a scan on is not reported as scanning. From a CDR (docs/cdr.md), every call ' +
      'counts, answered or not, grouped per caller (`Ext.107` is caller 107) in windows on the calls\u2019 start ' +
      'times; the order in which CDRs come (at hang-up) does not matter, as each number is compared with all the ' +
      'caller\u2019s recent ones.',
    falsePositives:
      'A call centre dialling a sorted list, or a test of a DID block, looks the same: declare such sources ' +
      'trusted or raise the threshold for the site. Calls to neighbouring extensions are too short to count ' +
      '(at least 7 digits).',
    remediation:
      '3CX: block the source (IP Blocklist), check which extension or trunk placed the calls in the call log, ' +
      'change its password, and restrict outbound rules and Allowed Country Codes. Any PBX: require ' +
      'authentication for every call, rate-limit new calls per caller (Asterisk: call limits per endpoint; ' +
      'Kamailio: pike/ratelimit; FreeSWITCH: limit application), and block the scanning address.',
    references: ['CFCA Global Telecommunications Fraud Loss Survey (toll fraud, IRSF)'],
    thresholds: { numbers: 10, maxStep: 10, windowSeconds: 3600 },
    quietMs: 3_600_000,
  },
  create(ctx) {
    const threshold = ctx.thresholds.numbers ?? 10;
    const maxStep = ctx.thresholds.maxStep ?? 10;
    const windowMs = (ctx.thresholds.windowSeconds ?? 3600) * 1000;
    const windows = new KeyedWindows<State>(
      'fraud.sequential-dialing',
      DETECT_MAX_SEQUENTIAL_SOURCES,
      windowMs,
      () => ({
        recent: [],
        linked: [],
        refs: [],
        next: 0,
        stepped: 0,
        strides: {},
        sample: [],
        callers: new CappedSet(8),
        frames: [],
        lowest: '',
        highest: '',
      }),
    );
    const widen = (s: State, d: string): void => {
      if (s.lowest === '' || d < s.lowest) s.lowest = d;
      if (s.highest === '' || d > s.highest) s.highest = d;
    };
    const name = (s: State, ref: CdrRef | undefined): void => {
      if (ref === undefined || s.cdr === undefined) return;
      if (s.cdr.records.length < DETECT_CDR_RECORDS_PER_ALERT) s.cdr.records.push(ref.record);
      if (ref.callId !== '') s.cdr.callIds.add(ref.callId);
      if (s.sample.length < 20) s.sample.push(ref.dialled);
    };
    /** Records `digits` in the caller's ring; true when it is a small step from a number kept there.
     * A CDR call's `ref` is named in the evidence once its number counts. */
    const stepped = (s: State, digits: string, ref?: CdrRef): boolean => {
      if (s.recent.includes(digits)) return false;
      let step: number | undefined;
      let linked = 0;
      // Every kept number within maxStep is a neighbour and counts once, when first linked: the
      // count does not depend on the order numbers come in (CDRs come at hang-up, not in dialling
      // order). The nearest neighbour is the step the scanner took.
      for (let i = 0; i < s.recent.length; i++) {
        const m = s.recent[i]!;
        const d = smallStep(digits, m, maxStep);
        if (d === undefined) continue;
        if (s.linked[i] !== true) {
          s.linked[i] = true;
          linked++;
          widen(s, m);
          name(s, s.refs[i]);
        }
        if (step === undefined || Math.abs(d) < Math.abs(step)) step = d;
      }
      let slot = s.recent.length;
      if (slot < DETECT_SEQUENTIAL_RECENT_NUMBERS) s.recent.push(digits);
      else {
        slot = s.next;
        s.recent[slot] = digits;
        s.next = (s.next + 1) % DETECT_SEQUENTIAL_RECENT_NUMBERS;
      }
      s.linked[slot] = step !== undefined;
      s.refs[slot] = step === undefined ? ref : undefined;
      if (step === undefined) return false;
      name(s, ref);
      s.stepped += linked + 1;
      const stride = step > 0 ? `+${step}` : String(step);
      s.strides[stride] = (s.strides[stride] ?? 0) + 1;
      widen(s, digits);
      return true;
    };
    const evidence = (group: string, w: WindowState<State>) => () => {
      const s = w.data;
      return {
        sourceGroup: group,
        sequentialNumbers: s.stepped,
        invites: w.count,
        strides: { ...s.strides },
        range: [s.lowest, s.highest],
        dialled: [...s.sample],
        callers: s.callers.top(8).map((x) => x.value),
        frames: [...s.frames],
        ...(s.cdr !== undefined
          ? { callIds: s.cdr.callIds.top(20).map((x) => x.value), cdrRecords: [...s.cdr.records] }
          : {}),
      };
    };
    const digitsOf = (info: NumberInfo): string => (info.e164 ?? info.digits).replace(/\D/g, '');
    return {
      // Each call counts once, under its first leg: a proxying PBX's copy of the INVITE and a
      // back-to-back PBX's onward leg to the trunk are the same call, not the PBX dialling.
      onCallStarted(c: Call): void {
        const digits = digitsOf(classifyNumber(c.dialled));
        if (digits.length < 7) return;
        const group = sourceGroup(c.from.ip);
        const w = windows.hit(group, c.start);
        if (w === undefined) return;
        const s = w.data;
        if (!stepped(s, digits)) return;
        if (s.sample.length < 20) s.sample.push(escapeText(c.dialled, 40));
        s.callers.add(escapeText(c.caller, 40));
        pushFrame(s.frames, c.provenance.frame);
        if (s.stepped < threshold) return;
        if (ctx.touch?.(group, c.start, s.stepped) === true) return;
        ctx.raise({
          key: group,
          time: c.start,
          firstTime: w.firstTime,
          count: s.stepped,
          title: `Sequential dialling from ${c.from.ip} around ${s.lowest}`,
          source: { ip: c.from.ip, port: c.from.port },
          target: { ip: c.to.ip, port: c.to.port },
          evidence: evidence(group, w),
        });
      },
      // A CDR names no address: calls are grouped by caller (`Ext.107` is caller 107), on their
      // starts. Every call counts, answered or not, as every INVITE does on the wire.
      onCdrCall(c: CdrCall): void {
        const dest = cdrDestination(c);
        const number = dest?.number ?? c.dialled;
        const digits = digitsOf(dest?.info ?? classifyNumber(c.dialled));
        if (digits.length < 7) return;
        const group = `caller ${escapeText(cdrCaller(c), 64)}`;
        const w = hitAtStart(windows, group, c.start, windowMs);
        if (w === undefined) return;
        const s = w.data;
        s.cdr ??= { records: [], callIds: new CappedSet(20) };
        const ref = { record: cdrRecordRef(c), callId: cdrCallId(c), dialled: escapeText(number, 40) };
        if (!stepped(s, digits, ref)) return;
        s.callers.add(escapeText(c.caller, 40));
        if (s.stepped < threshold) return;
        const time = cdrTime(c);
        if (ctx.touch?.(group, time, s.stepped) === true) return;
        ctx.raise({
          key: group,
          time,
          firstTime: w.firstTime,
          count: s.stepped,
          title: `Sequential dialling by ${escapeText(c.caller, 40)} around ${s.lowest} (CDR)`,
          target: { identity: escapeText(c.caller, 64) },
          evidence: evidence(group, w),
        });
      },
    };
  },
};
