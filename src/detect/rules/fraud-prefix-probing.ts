import {
  DETECT_FRAUD_NUMBERS_PER_CALLER,
  DETECT_MAX_PROBE_KEYS,
  DETECT_PROBE_CALLS_AWAITING_CREDENTIALS,
} from '../../config/limits.js';
import { countRefusal } from '../../core/bounded-table.js';
import { escapeText } from '../../core/escape.js';
import type { CdrCall } from '../../core/records.js';
import type { Call } from '../../track/call-table.js';
import { classifyNumber, credentialsUser, isInitialInvite } from '../../track/calls.js';
import type { SipEvent } from '../../track/sip-event.js';
import type { RuleModule } from '../rule.js';
import { CappedSet, KeyedWindows, pushFrame, sourceGroup, type WindowState } from '../window.js';
import { cdrCallId, cdrCaller, cdrTime, hitAtStart, pushRecord } from './fraud-cdr.js';

/** Prefix forms remembered per (caller, number): more than any dial plan has. */
const FORMS_PER_NUMBER = 16;

/** The forms one caller tried for one target number. */
interface State {
  readonly forms: CappedSet;
  readonly dialled: CappedSet;
  readonly callers: CappedSet;
  readonly frames: number[];
  raised: boolean;
  /** Made for the first CDR call counted: where its records were read and the PBX's call ids. */
  cdr?: { readonly records: string[]; readonly callIds: CappedSet };
}

/**
 * fraud.prefix-probing: one source (or one authenticated identity) calls the same number under many
 * prefix forms (9, 0, 00, 011, +, 9 011...), which is how an intruder finds the route to the trunk.
 */
export const fraudPrefixProbing: RuleModule = {
  meta: {
    id: 'fraud.prefix-probing',
    title: 'One number dialled with many prefixes',
    severity: 'high',
    description:
      'Calls from one source (the calling phone\u2019s address; an IPv6 /64 counts as one), or carrying the ' +
      'credentials of one identity, dial the same number \u2014 the same E.164 number once read under the site\u2019s ' +
      'dial plan \u2014 in at least `forms` different prefix forms (outbound prefix 9 or 0, national 0, international ' +
      '00, 011, +, and their combinations such as 9 011) within a window that closes after `windowSeconds` of ' +
      'quiet. Intruders who have credentials or an open route try every form until one reaches the trunk. Each ' +
      'call is counted once, answered or not, under its first leg: a proxying PBX\u2019s copy of the INVITE and a ' +
      'back-to-back PBX\u2019s onward leg to the trunk (the number re-written) belong to the call they relay. From a ' +
      'CDR (docs/cdr.md), each call an extension or caller placed (inbound calls excepted), rejected or not, counts ' +
      'its dialled form under the caller\u2019s identity (`Ext.105` is identity 105, where a wire identity of that ' +
      'name meets it), in windows on the calls\u2019 start times: CDRs come at hang-up, in end-time order.',
    falsePositives:
      'A user redialling a number from the call log and then from a contact stored in another form uses two ' +
      'forms, under the threshold. A PBX passing calls on to its trunk without the outbound prefix is not ' +
      'probing: its onward legs are joined to the calls it relays (same Call-ID for a proxy; for a back-to-back ' +
      'PBX, sent from the address that received the call, for the same number, while it is unanswered). An ' +
      'onward leg that cannot be paired so is a call of the PBX itself. Without a dial plan only +, 00 and 011 ' +
      'forms are read, so the threshold of 3 forms is reached only when all three are used.',
    remediation:
      '3CX: make outbound rules match only the prefixes your users dial, set Security → Allowed Country Codes, and ' +
      'block the source (IP Blocklist); change the password of the extension whose credentials were used. Any ' +
      'PBX: a dial plan that rejects unexpected prefixes (Asterisk: no catch-all pattern such as _X. in outbound ' +
      'contexts; Kamailio/FreeSWITCH: explicit prefix routes), authentication for every call, and an alert on ' +
      'rejected outbound attempts.',
    references: ['CFCA Global Telecommunications Fraud Loss Survey (toll fraud)', 'ITU-T E.164'],
    thresholds: { forms: 3, windowSeconds: 3600 },
    quietMs: 3_600_000,
  },
  create(ctx) {
    const threshold = ctx.thresholds.forms ?? 3;
    const windowMs = (ctx.thresholds.windowSeconds ?? 3600) * 1000;
    const windows = new KeyedWindows<State>('fraud.prefix-probing', DETECT_MAX_PROBE_KEYS, windowMs, () => ({
      forms: new CappedSet(FORMS_PER_NUMBER),
      dialled: new CappedSet(DETECT_FRAUD_NUMBERS_PER_CALLER),
      callers: new CappedSet(8),
      frames: [],
      raised: false,
    }));
    const evidence = (who: string, e164: string, w: WindowState<State>) => () => {
      const s = w.data;
      return {
        by: who,
        number: e164,
        forms: s.forms.top(FORMS_PER_NUMBER).map((x) => x.value),
        dialled: s.dialled.top(20).map((x) => x.value),
        attempts: w.count,
        callers: s.callers.top(8).map((x) => x.value),
        frames: [...s.frames],
        ...(s.cdr !== undefined
          ? { callIds: s.cdr.callIds.top(8).map((x) => x.value), cdrRecords: [...s.cdr.records] }
          : {}),
      };
    };
    const count = (who: string, c: Call, time: number, e164: string, form: string): boolean => {
      const w = windows.hit(`${who}\u0000${e164}`, time);
      if (w === undefined) return false;
      const s = w.data;
      s.forms.add(form);
      s.dialled.add(escapeText(c.dialled, 40));
      s.callers.add(escapeText(c.caller, 40));
      pushFrame(s.frames, c.provenance.frame);
      const forms = s.forms.distinct;
      if (forms < threshold) return false;
      const key = `${who}|${e164}`;
      if (s.raised && ctx.touch?.(key, time, forms) === true) return true;
      s.raised = true;
      ctx.raise({
        key,
        time,
        firstTime: w.firstTime,
        count: forms,
        title: `${e164} dialled with many prefixes by ${who}`,
        source: { ip: c.from.ip, port: c.from.port },
        target: { ip: c.to.ip, port: c.to.port, extension: e164 },
        evidence: evidence(who, e164, w),
      });
      return true;
    };
    /** Counts `c` under `identity`, unless its source is already reported for the number: an
     * identity probing from many addresses (a botnet with stolen credentials) is what this adds. */
    const countIdentity = (c: Call, identity: string, time: number): void => {
      const info = classifyNumber(c.dialled);
      if (info.e164 === undefined) return;
      if (windows.peek(`source ${sourceGroup(c.from.ip)}\u0000${info.e164}`, time)?.data.raised === true)
        return;
      count(`identity ${escapeText(identity, 64)}`, c, time, info.e164, info.form);
    };
    // Calls whose first INVITE carried no credentials, waiting for the retry that carries them (the
    // answer to a challenge). Bounded by the call table's open calls (every call it starts it
    // ends) and by DETECT_PROBE_CALLS_AWAITING_CREDENTIALS in case it is larger.
    const awaiting = new Map<string, Call>();
    return {
      // Each call counts once, under its first leg: a proxying PBX's copy of the INVITE and a
      // back-to-back PBX's onward leg (the number re-written for the trunk) are the same call, not
      // the PBX probing. Counted at the call's start, answered or not.
      onCallStarted(c: Call): void {
        const info = classifyNumber(c.dialled);
        if (info.e164 === undefined) return;
        count(`source ${sourceGroup(c.from.ip)}`, c, c.start, info.e164, info.form);
        if (c.identity !== '') countIdentity(c, c.identity, c.start);
        else if (awaiting.size < DETECT_PROBE_CALLS_AWAITING_CREDENTIALS) awaiting.set(c.key, c);
        else countRefusal('fraud.prefix-probing awaiting');
      },
      // The retry with credentials of a call's first leg (same Call-ID and tag, same address): its
      // identity counts then. Credentials a proxy adds on the onward leg are the PBX's, not the caller's.
      onMessage(ev: SipEvent, _tx, retransmission): void {
        if (awaiting.size === 0 || !isInitialInvite(ev, retransmission)) return;
        const key = `${ev.callId}\u0000${ev.fromTag}`;
        const c = awaiting.get(key);
        if (c === undefined || ev.frame.srcIp !== c.from.ip) return;
        const identity = credentialsUser(ev);
        if (identity === '') return;
        awaiting.delete(key);
        countIdentity(c, identity, ev.time);
      },
      onCallEnded(c: Call): void {
        awaiting.delete(c.key);
      },
      // A CDR names no address: the caller's forms are counted under its identity, where a wire
      // identity of the same name (a digest user equal to the extension) meets them. Windows run
      // on the calls' starts, whatever order the CDRs come in (see hitAtStart).
      onCdrCall(c: CdrCall): void {
        if (c.direction === 'inbound') return;
        const info = classifyNumber(c.dialled);
        const e164 = info.e164;
        if (e164 === undefined) return;
        const caller = escapeText(cdrCaller(c), 64);
        const who = `identity ${caller}`;
        const w = hitAtStart(windows, `${who}\u0000${e164}`, c.start, windowMs);
        if (w === undefined) return;
        const s = w.data;
        const cdr = (s.cdr ??= { records: [], callIds: new CappedSet(8) });
        s.forms.add(info.form);
        s.dialled.add(escapeText(c.dialled, 40));
        s.callers.add(escapeText(c.caller, 40));
        pushRecord(cdr.records, c);
        const id = cdrCallId(c);
        if (id !== '') cdr.callIds.add(id);
        const forms = s.forms.distinct;
        if (forms < threshold) return;
        const key = `${who}|${e164}`;
        const time = cdrTime(c);
        if (s.raised && ctx.touch?.(key, time, forms) === true) return;
        s.raised = true;
        ctx.raise({
          key,
          time,
          firstTime: w.firstTime,
          count: forms,
          title: `${e164} dialled with many prefixes by ${who} (CDR)`,
          target: { extension: e164, identity: escapeText(c.caller, 64) },
          evidence: evidence(who, e164, w),
        });
      },
    };
  },
};
