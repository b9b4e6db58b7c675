import {
  DETECT_HIJACK_ADDRESSES_PER_DIALOG,
  DETECT_MAX_HIJACK_DIALOGS,
  DETECT_MAX_HIJACK_LEGS,
  DETECT_MAX_HIJACK_SOURCES,
} from '../../config/limits.js';
import { BoundedTable } from '../../core/bounded-table.js';
import { countInto } from '../../core/counts.js';
import { escapeText } from '../../core/escape.js';
import type { NameAddr } from '../../sip/message.js';
import type { Dialog } from '../../track/dialogs.js';
import type { SipEvent } from '../../track/sip-event.js';
import type { Transaction } from '../../track/transactions.js';
import type { RuleModule } from '../rule.js';
import { CappedSet, pushFrame, sourceGroup } from '../window.js';

/** In-dialog methods that change or end a call (ACK, INFO, NOTIFY... do not). */
const WATCHED = new Set(['INVITE', 'UPDATE', 'BYE', 'REFER', 'CANCEL']);

/** An in-dialog request from a stranger, waiting for its answer. */
interface Pending {
  readonly dialog: Dialog;
  readonly parties: readonly string[];
}

/** What one hijacking source did. */
interface State {
  count: number;
  accepted: number;
  readonly firstTime: number;
  readonly methods: Record<string, number>;
  readonly statuses: Record<string, number>;
  readonly callIds: CappedSet;
  readonly frames: number[];
}

/** Hosts of URIs in name-addr values (Record-Route, Contact) that are IP addresses or names. */
function hostsOf(list: readonly NameAddr[], out: Set<string>, max: number): void {
  for (const a of list) {
    if (out.size >= max) return;
    const h = a.uri?.hostAddress;
    if (h !== undefined && h !== '') out.add(h.toLowerCase());
  }
}

/** Host of a raw Record-Route value (`<sip:10.0.0.1;lr>`), for route sets stored as text. */
function routeHost(value: string): string {
  const m = /sips?:(?:[^@;>]*@)?(\[[^\]]+\]|[^:;>,\s]+)/i.exec(value);
  const h = m?.[1] ?? '';
  return (h.startsWith('[') ? h.slice(1, -1) : h).toLowerCase();
}

/**
 * session.dialog-hijack: a re-INVITE, UPDATE, BYE, REFER or CANCEL inside an established dialog sent
 * from an address that is neither party of the dialog nor a proxy on its route set, which the
 * receiver did not reject with 481 (it knew the dialog: the Call-ID and tags leaked).
 */
export const sessionDialogHijack: RuleModule = {
  meta: {
    id: 'session.dialog-hijack',
    title: 'In-dialog request from outside the dialog',
    severity: 'high',
    description:
      'For each INVITE dialog the tracker follows, the parties are the addresses the initial INVITE came from and ' +
      'went to, the address its answer came from, the Contact addresses of the INVITE and answer, and the proxies ' +
      'of its route set (Record-Route). A re-INVITE, UPDATE, BYE, REFER or CANCEL carrying the dialog\u2019s ' +
      'Call-ID and tags from any other address is a third party speaking inside the call: hanging it up, ' +
      'redirecting its media or transferring it. It is reported when the receiver accepted it (2xx) and, at ' +
      'severity medium, when it answered anything but 481 (Call/Transaction Does Not Exist), which still shows ' +
      'the dialog identifiers were valid. One alert per source (IPv6 /64).',
    falsePositives:
      'Not counted: requests from either party or from a proxy on the route set (by address; a route set written ' +
      'with host names cannot be matched and its proxies look like strangers), requests the receiver rejected ' +
      'with 481, requests never answered, and a declared trunk\u2019s other addresses when a party of the dialog ' +
      'is that trunk (providers send from several nodes). A phone that changes address during a call (Wi-Fi to ' +
      'mobile data) without a re-registration, or a PBX cluster failing over to another node that is not ' +
      'declared in the site\u2019s `network.pbx` list, is reported: declare every PBX (`network.pbx`) and every SBC or ' +
      'tunnel address (`network.sbc`).',
    remediation:
      '3CX: keep phones behind the 3CX SBC or tunnel so in-dialog requests reach the phones only through the PBX, ' +
      'enable TLS transport for remote extensions (Extension → Phone provisioning: Transport TLS) so Call-IDs and ' +
      'tags cannot be sniffed, and block the source in Security → IP Blocklist. Any PBX: accept in-dialog requests ' +
      'only from the dialog\u2019s remote target or route set (Asterisk PJSIP: a single known contact per ' +
      'endpoint with identify by IP and `rewrite_contact`; Kamailio: loose_route() with has_totag() checks and ' +
      'the dialog module\u2019s dlg_manage/dialog validation), answer unknown dialogs with 481, and use TLS ' +
      'everywhere signaling crosses an untrusted network.',
    references: [
      'RFC 3261 §12.2 (requests within a dialog)',
      'RFC 3261 §26.1.4 (session teardown and modification threats)',
      'RFC 3261 §16.12 (Record-Route and route sets)',
    ],
    thresholds: {},
    quietMs: 3_600_000,
  },
  create(ctx) {
    // Extra party addresses per open dialog (answer source, Contacts), dropped with the dialog.
    const extra = new Map<string, Set<string>>();
    // Weak: a stranger's request waits for its answer as long as its transaction lives.
    const pending = new WeakMap<SipEvent, Pending>();
    // One state per reporting source, frequency-admitted so a spoofing flood cannot push out the
    // state of a source that keeps hijacking.
    const states = new BoundedTable<string, State>(
      'session.dialog-hijack.sources',
      DETECT_MAX_HIJACK_SOURCES,
    );
    // Transport addresses of every answered leg of an initial INVITE, by Call-ID and caller tag: a
    // proxied call's legs share the dialog identifiers, and the dialog may have been created on the
    // proxy-to-callee leg, so the caller's own address (behind NAT, unlike its Contact) would
    // otherwise be unknown. Recorded only when the leg was answered with a To tag or 2xx: an
    // outsider's copy of the INVITE is not, so it cannot make itself a party.
    const legs = new BoundedTable<string, string[]>('session.dialog-hijack.legs', DETECT_MAX_HIJACK_LEGS);
    let untracked = 0;

    function rememberLeg(req: SipEvent): void {
      const list = legs.touch(`${req.callId}|${req.fromTag}`, () => []);
      if (list === undefined) return;
      for (const ip of [req.frame.srcIp.toLowerCase(), req.frame.dstIp.toLowerCase()]) {
        if (!list.includes(ip) && list.length < DETECT_HIJACK_ADDRESSES_PER_DIALOG) list.push(ip);
      }
    }

    function remember(d: Dialog, ev: SipEvent): void {
      let set = extra.get(d.key);
      if (set === undefined) {
        if (extra.size >= DETECT_MAX_HIJACK_DIALOGS) {
          untracked++;
          return;
        }
        set = new Set();
        extra.set(d.key, set);
      }
      if (set.size < DETECT_HIJACK_ADDRESSES_PER_DIALOG) set.add(ev.frame.srcIp.toLowerCase());
      hostsOf(ev.msg.contacts, set, DETECT_HIJACK_ADDRESSES_PER_DIALOG);
      hostsOf(d.invite.msg.contacts, set, DETECT_HIJACK_ADDRESSES_PER_DIALOG);
    }

    /** The dialog's known addresses, or undefined when `src` is one of them. */
    function strangerTo(d: Dialog, src: string): string[] | undefined {
      const ip = src.toLowerCase();
      const parties = [d.caller.ip.toLowerCase(), d.callee.ip.toLowerCase()];
      if (parties.includes(ip)) return undefined;
      for (const a of extra.get(d.key) ?? []) {
        if (a === ip) return undefined;
        if (!parties.includes(a)) parties.push(a);
      }
      for (const a of legs.get(`${d.callId}|${d.callerTag}`) ?? []) {
        if (a === ip) return undefined;
        if (!parties.includes(a)) parties.push(a);
      }
      for (const r of d.routeSet) {
        const h = routeHost(r);
        if (h === ip) return undefined;
        if (h !== '' && !parties.includes(h)) parties.push(h);
      }
      const site = ctx.site;
      if (site.isPbx(src) || site.isSbc(src)) return undefined;
      if (site.isTrunk(src) && (site.isTrunk(d.caller.ip) || site.isTrunk(d.callee.ip))) return undefined;
      return parties;
    }

    return {
      onDialogCreated(d, ev): void {
        remember(d, ev);
      },
      onDialogConfirmed(d, ev): void {
        remember(d, ev);
      },
      onDialogEnded(d): void {
        extra.delete(d.key);
        legs.delete(`${d.callId}|${d.callerTag}`);
      },
      onDialogRequest(d: Dialog, ev: SipEvent, _tx: Transaction | undefined): void {
        if (!WATCHED.has(ev.method)) return;
        const parties = strangerTo(d, ev.frame.srcIp);
        if (parties === undefined) return;
        pending.set(ev, { dialog: d, parties });
      },
      onMessage(ev: SipEvent, tx, retransmission): void {
        if (retransmission || ev.isRequest || tx === undefined) return;
        const req = tx.request;
        if (
          req.method === 'INVITE' &&
          req.toTag === '' &&
          ((ev.status > 100 && ev.status < 200 && ev.toTag !== '') || (ev.status >= 200 && ev.status < 300))
        )
          rememberLeg(req);
        if (ev.status < 200) return;
        const p = pending.get(req);
        if (p === undefined) return;
        pending.delete(req);
        if (ev.status === 481) return;
        const accepted = ev.status < 300;
        const src = req.frame.srcIp;
        const key = `source ${sourceGroup(src)}`;
        // Closures here capture values, never `ev`, `req` or the dialog: an open alert keeps its
        // evidence closure (test/detect/alert-retention.test.ts).
        const reqTime = req.time;
        const s = states.touch(key, () => ({
          count: 0,
          accepted: 0,
          firstTime: reqTime,
          methods: {},
          statuses: {},
          callIds: new CappedSet(20),
          frames: [],
        }));
        if (s === undefined) return;
        s.count++;
        if (accepted) s.accepted++;
        countInto(s.methods, req.method);
        countInto(s.statuses, String(ev.status));
        s.callIds.add(escapeText(req.callId, 80));
        pushFrame(s.frames, req.frame.provenance.frame);
        pushFrame(s.frames, ev.frame.provenance.frame);
        if (ctx.touch?.(key, ev.time, s.count) === true) return;
        const st = s;
        const d = p.dialog;
        const shown = {
          method: req.method,
          status: ev.status,
          callId: escapeText(d.callId, 80),
          parties: p.parties.slice(0, 12),
          routeSet: d.routeSet.slice(0, 8).map((r) => escapeText(r, 120)),
        };
        ctx.raise({
          key,
          time: ev.time,
          firstTime: s.firstTime,
          count: s.count,
          title: `${req.method} from ${src} inside a call between ${d.caller.ip} and ${d.callee.ip} (${accepted ? 'accepted' : `answered ${ev.status}`})`,
          source: { ip: src, port: req.frame.srcPort, transport: req.frame.transport },
          target: { ip: req.frame.dstIp, port: req.frame.dstPort },
          ...(st.accepted === 0 ? { severity: 'medium' as const } : {}),
          evidence: () => ({
            ...shown,
            methods: { ...st.methods },
            statuses: { ...st.statuses },
            accepted: st.accepted,
            callIds: st.callIds.top(20).map((x) => x.value),
            frames: [...st.frames],
            untrackedDialogs: untracked,
          }),
        });
      },
    };
  },
};
