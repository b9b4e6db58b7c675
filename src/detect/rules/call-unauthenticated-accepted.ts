import { StatusCounts } from '../../core/counts.js';
import {
  DETECT_MAX_AUTHENTICATED_CALLS,
  DETECT_MAX_LEARNED_PBX,
  DETECT_MAX_RECEIVED_INVITES,
  DETECT_MAX_UNAUTH_CALL_SOURCES,
  DETECT_UNAUTH_CALL_NUMBERS_PER_SOURCE,
} from '../../config/limits.js';
import { BoundedTable } from '../../core/bounded-table.js';
import { escapeText } from '../../core/escape.js';
import type { SipMessage } from '../../sip/message.js';
import type { SipEvent } from '../../track/sip-event.js';
import type { Transaction } from '../../track/transactions.js';
import { classifyAddress, isInternalAddress } from '../net.js';
import type { RuleModule } from '../rule.js';
import { CappedSet, KeyedWindows, pushFrame, sourceGroup, WINDOW_SWEEP_PER_HIT } from '../window.js';

/** How a dialled number looks like an outside number. */
export type OutsideNumberKind = 'e164' | 'international' | 'national';

/** A dialled user part read as an outside number. */
export interface OutsideNumber {
  readonly kind: OutsideNumberKind;
  /** Digits (with a leading + for E.164) after removing visual separators and URI parameters. */
  readonly digits: string;
}

/**
 * Reads a Request-URI/To user part as an outside number: E.164 (`+` and 7–15 digits), an
 * international prefix (00 or 011 and more digits), or a national number of at least `minDigits`
 * digits (an outbound prefix 9 or 0 included). Short extensions, feature codes (`*97`) and names
 * are not outside numbers.
 */
export function outsideNumber(user: string, minDigits = 7): OutsideNumber | undefined {
  if (user.length === 0 || user.length > 64) return undefined;
  const semi = user.indexOf(';');
  const bare = (semi >= 0 ? user.slice(0, semi) : user).replace(/[\s().-]/g, '');
  if (/^\+\d{7,15}$/.test(bare)) return { kind: 'e164', digits: bare };
  if (!/^\d+$/.test(bare)) return undefined;
  if (/^(?:00|011)\d{5,}$/.test(bare)) return { kind: 'international', digits: bare };
  if (bare.length >= minDigits) return { kind: 'national', digits: bare };
  return undefined;
}

function yes(): true {
  return true;
}

function hasCredentials(msg: SipMessage): boolean {
  return msg.has('Authorization') || msg.has('Proxy-Authorization');
}

/** When an address last received one initial INVITE. */
interface Stamp {
  time: number;
}

function newStamp(): Stamp {
  return { time: -Infinity };
}

/** Key of an initial INVITE one address received, by its top branch or its Call-ID. */
function receivedKey(receiver: string, kind: 'b' | 'c', value: string): string {
  return `${receiver}\u0000${kind}\u0000${value}`;
}

/** Per-source evidence. */
interface State {
  readonly numbers: CappedSet;
  readonly kinds: Record<string, number>;
  readonly statuses: StatusCounts;
  readonly targets: CappedSet;
  readonly userAgents: CappedSet;
  readonly callIds: CappedSet;
  readonly frames: number[];
}

/**
 * call.unauthenticated-accepted: the PBX progressed (18x/2xx) an INVITE that carried no credentials,
 * towards an outside number, from a source that is neither a trunk nor the PBX itself, in a call that
 * was not authenticated before.
 */
export const callUnauthenticatedAccepted: RuleModule = {
  meta: {
    id: 'call.unauthenticated-accepted',
    title: 'Call to an outside number accepted without authentication',
    severity: 'critical',
    description:
      'An initial INVITE (no To tag) without Authorization or Proxy-Authorization is answered 18x or 2xx — the PBX ' +
      'is ringing or connecting it — although it dials an outside number: E.164 (+ and 7–15 digits), an ' +
      'international prefix (00, 011), or a national number of at least `minNumberDigits` digits, an outbound ' +
      'prefix 9 or 0 included. The source is not a declared trunk or PBX address, has not been seen challenging ' +
      'others (a PBX placing its own outbound leg), and no request of the same Call-ID carried credentials. Such ' +
      'a PBX lets anyone on the internet place calls on its trunks: toll fraud. One alert per source; each call ' +
      'is counted once, with the numbers as dialled, the answers and the frames. A source inside the local ' +
      'network (private, loopback, link-local, CGNAT) is raised as high rather than critical: it is already ' +
      'inside, and is more often a device the PBX trusts by address.',
    falsePositives:
      'A provider delivering inbound calls to your DIDs sends INVITEs without credentials to long numbers: ' +
      'declare trunk addresses in the site model (site.trunks), or those calls are reported. sipwarden does not ' +
      'know your DIDs yet, so an inbound call from an undeclared provider to a DID looks like an outside number ' +
      'dialled from outside. Devices the PBX admits by address (IP-authenticated gateways, SBCs, other PBXs) should ' +
      'be declared as trunks or PBX addresses. Short extensions, feature codes, in-dialog re-INVITEs, INVITEs that ' +
      'were challenged (401/407) and then sent with credentials, and the onward legs of an authenticated call ' +
      '(same Call-ID) never count, nor a request relayed by a proxy: one whose lower Via branch, or whose Call-ID, ' +
      "is that of an INVITE the same address received at most `relaySeconds` earlier (the PBX sending a caller's " +
      'call on to the trunk is not a second caller).',
    remediation:
      '3CX: make sure every extension and trunk authenticates (do not use "IP-based" trunk authentication for ' +
      'addresses you do not control), restrict outbound rules to the extensions and groups that need them, set ' +
      'Security → Allowed Country Codes to the countries you call, and keep Anti-Hacking on; then change the ' +
      'passwords and review the call log for calls already placed. Any PBX: require digest authentication for every ' +
      'INVITE that does not come from a known trunk (Asterisk: no anonymous endpoint or allowguest, identify ' +
      'trunks by IP only with match= for the provider; Kamailio: auth_check/proxy_authorize before routing to PSTN ' +
      'gateways; FreeSWITCH: auth-calls=true on public profiles), limit outbound dialling by caller, and alert on ' +
      'international calls.',
    references: [
      'RFC 3261 §22 (Usage of HTTP Authentication)',
      'CVE-2024-35190 (Asterisk res_pjsip_endpoint_identifier_ip matching all unauthorized requests)',
      'CFCA Global Telecommunications Fraud Loss Survey (toll fraud / IRSF)',
    ],
    thresholds: { minNumberDigits: 7, windowSeconds: 3600, relaySeconds: 32 },
    quietMs: 3_600_000,
  },
  create(ctx) {
    const minDigits = ctx.thresholds.minNumberDigits ?? 7;
    const relayMs = (ctx.thresholds.relaySeconds ?? 32) * 1000;
    const windows = new KeyedWindows<State>(
      'call.unauthenticated-accepted',
      DETECT_MAX_UNAUTH_CALL_SOURCES,
      (ctx.thresholds.windowSeconds ?? 3600) * 1000,
      () => ({
        numbers: new CappedSet(DETECT_UNAUTH_CALL_NUMBERS_PER_SOURCE),
        kinds: {},
        statuses: new StatusCounts(),
        targets: new CappedSet(8),
        userAgents: new CappedSet(4),
        callIds: new CappedSet(8),
        frames: [],
      }),
    );
    const authenticatedCalls = new BoundedTable<string, true>(
      'call.unauthenticated-accepted.auth',
      DETECT_MAX_AUTHENTICATED_CALLS,
    );
    const learnedPbx = new BoundedTable<string, true>(
      'call.unauthenticated-accepted.pbx',
      DETECT_MAX_LEARNED_PBX,
    );
    // Initial INVITEs each address received (by branch and by Call-ID), with their event time: an
    // INVITE that address then sends carrying that branch below its own Via, or that Call-ID, is
    // the same call relayed onward (a proxy, the PBX itself), not a caller of its own.
    const received = new BoundedTable<string, Stamp>(
      'call.unauthenticated-accepted.received',
      DETECT_MAX_RECEIVED_INVITES,
    );
    // Swept a few entries per INVITE received: one older than the relay window is never read again.
    let newest = 0;
    const stale = (r: Stamp): boolean => newest - r.time > relayMs;
    const relayed = (req: SipEvent): boolean => {
      const src = req.frame.srcIp;
      const recent = (key: string): boolean => {
        const t = received.get(key)?.time;
        return t !== undefined && t <= req.time && req.time - t <= relayMs;
      };
      if (req.callId !== '' && recent(receivedKey(src, 'c', req.callId))) return true;
      const vias = req.msg.vias;
      for (let i = 1; i < vias.length; i++) {
        const b = vias[i]?.branch;
        if (b !== undefined && b !== '' && recent(receivedKey(src, 'b', b))) return true;
      }
      return false;
    };
    // Calls already counted. Weak: an entry lives no longer than its transaction, which the
    // transaction table bounds (TRACK_MAX_TRANSACTIONS), so this set needs no limit of its own.
    const counted = new WeakSet<Transaction>();

    return {
      onMessage(ev: SipEvent, tx, retransmission): void {
        if (retransmission) return;
        if (ev.isRequest) {
          // Only calls matter: REGISTER and other dialogs never share a Call-ID with an INVITE we judge.
          if (ev.method === 'INVITE' && ev.callId !== '' && hasCredentials(ev.msg)) {
            authenticatedCalls.touch(ev.callId, yes);
          }
          if (ev.method === 'INVITE' && ev.toTag === '') {
            const dst = ev.frame.dstIp;
            if (ev.time > newest) newest = ev.time;
            received.sweep(WINDOW_SWEEP_PER_HIT, stale);
            if (ev.branch !== '') {
              const r = received.touch(receivedKey(dst, 'b', ev.branch), newStamp);
              if (r !== undefined) r.time = ev.time;
            }
            if (ev.callId !== '') {
              const r = received.touch(receivedKey(dst, 'c', ev.callId), newStamp);
              if (r !== undefined) r.time = ev.time;
            }
          }
          return;
        }
        if (tx === undefined) return;
        const status = ev.status;
        if (status === 401 || status === 407) {
          // The side that challenges another address is a registrar/PBX (DESIGN: roles inferred).
          // Blind spot, by choice: a caller that also answers some other address with a challenge
          // passes for a PBX; declared site roles (site.pbx) make this inference unnecessary.
          if (tx.request.frame.srcIp !== ev.frame.srcIp) learnedPbx.touch(ev.frame.srcIp, yes);
          return;
        }
        if (tx.method !== 'INVITE' || !((status >= 180 && status <= 189) || (status >= 200 && status <= 299)))
          return;
        const req = tx.request;
        if (req.toTag !== '' || hasCredentials(req.msg)) return;
        if (req.callId !== '' && authenticatedCalls.has(req.callId)) return;
        const src = req.frame.srcIp;
        const site = ctx.site;
        if (site.isTrunk(src) || site.isPbx(src) || learnedPbx.has(src)) return;
        // Answered by a provider: this is a PBX's own outbound leg.
        if (site.isTrunk(ev.frame.srcIp)) return;
        // The onward leg of a call this address just received: judged at the caller, not here.
        if (relayed(req)) return;
        const user = req.msg.requestUri?.user ?? req.msg.to?.uri?.user ?? '';
        const number = outsideNumber(user, minDigits);
        if (number === undefined) return;

        const first = !counted.has(tx);
        // IPv6 sources count by /64, like the other rules: a caller may rotate within its prefix.
        const group = sourceGroup(src);
        const w = first ? windows.hit(group, ev.time) : windows.peek(group, ev.time);
        if (w === undefined) return;
        const s = w.data;
        s.statuses.add(status);
        pushFrame(s.frames, ev.frame.provenance.frame);
        if (first) {
          counted.add(tx);
          s.numbers.add(escapeText(user, 40));
          s.kinds[number.kind] = (s.kinds[number.kind] ?? 0) + 1;
          s.targets.add(ev.frame.srcIp);
          s.callIds.add(escapeText(req.callId, 80));
          const ua = req.msg.userAgent;
          if (ua !== undefined) s.userAgents.add(escapeText(ua, 80));
          pushFrame(s.frames, req.frame.provenance.frame);
        }
        const dialled = escapeText(user, 40);
        const internal = isInternalAddress(src);
        ctx.raise({
          key: group,
          time: ev.time,
          firstTime: w.firstTime,
          count: w.count,
          title: `Unauthenticated call to ${dialled} accepted (${status}) from ${src}`,
          source: { ip: src, port: req.frame.srcPort, transport: req.frame.transport },
          target: { ip: ev.frame.srcIp, port: ev.frame.srcPort, extension: dialled },
          ...(internal ? { severity: 'high' as const } : {}),
          evidence: {
            sourceScope: classifyAddress(src),
            sourceGroup: group,
            dialled: s.numbers.top(20).map((x) => x.value),
            numbersTotal: s.numbers.distinct,
            kinds: { ...s.kinds },
            statuses: s.statuses.toRecord(),
            answeredBy: s.targets.top(8).map((x) => x.value),
            userAgents: s.userAgents.top(4).map((x) => x.value),
            callIds: s.callIds.top(8).map((x) => x.value),
            frames: [...s.frames],
          },
        });
      },
    };
  },
};
