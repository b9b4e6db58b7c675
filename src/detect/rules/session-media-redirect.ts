import { DETECT_MAX_MEDIA_DIALOGS } from '../../config/limits.js';
import { escapeText } from '../../core/escape.js';
import { isHold, mediaAddress } from '../../sdp/parser.js';
import type { Dialog } from '../../track/dialogs.js';
import { sdpOf, type SipEvent } from '../../track/sip-event.js';
import { classifyAddress } from '../net.js';
import type { RuleModule } from '../rule.js';
import { pushFrame } from '../window.js';
import { geoLookup, networkOf } from './geo-hosting-provider.js';

/** Media kinds that carry a conversation. */
const CONVERSATION = new Set(['audio', 'video']);

/** A proxy passes a request on within milliseconds; a copy this much later is a new request. */
const RELAY_MS = 4000;

/** The last offer (re-INVITE or UPDATE) seen in a dialog, to recognise its copy relayed by a proxy. */
interface Offer {
  readonly cseq: number;
  readonly method: string;
  /** The address that first sent it: the relays' copies are its request, not theirs. */
  readonly src: string;
  /** Where the latest copy went: the hop that sends the next copy. */
  dst: string;
  time: number;
}

/** Both sides' last media address of one dialog, and when it was last transferred. */
interface Media {
  caller: string | undefined;
  callee: string | undefined;
  /** Event time of the last REFER in the dialog (-Infinity: none). */
  referAt: number;
  offer: Offer | undefined;
}

/** A re-INVITE/UPDATE that moves one side's media, waiting for its 2xx. */
interface Move {
  readonly dialog: Dialog;
  readonly side: 'caller' | 'callee';
  readonly from: string;
  readonly to: string;
}

/**
 * The media address an SDP body moves a call to: the first conversation section's address;
 * undefined when the body has none, or holds the call (0.0.0.0, sendonly, inactive, port 0).
 */
export function activeMediaAddress(ev: SipEvent): string | undefined {
  const sdp = sdpOf(ev);
  if (sdp === undefined) return undefined;
  for (const m of sdp.media) {
    if (!CONVERSATION.has(m.media)) continue;
    if (isHold(m)) return undefined;
    const a = mediaAddress(m);
    if (a !== undefined && classifyAddress(a) !== 'invalid') return a;
  }
  return undefined;
}

/** True when `ip` may be an outsider's media sink (not private, loopback, link-local, CGNAT...). */
function external(ip: string): boolean {
  const k = classifyAddress(ip);
  return k === 'public' || k === 'documentation';
}

/** Why moving media from `a` to `b` leaves the network ('' when it does not). */
function networkChange(a: string, b: string): string {
  if (networkOf(a) === networkOf(b)) return '';
  const ga = geoLookup(a);
  const gb = geoLookup(b);
  // With both addresses in the databases, a move inside one country and AS (a provider's media pool) is no redirect.
  if (ga.country !== undefined && gb.country !== undefined && ga.country !== gb.country)
    return `country ${ga.country} → ${gb.country}`;
  if (ga.asn !== undefined && gb.asn !== undefined) {
    if (ga.asn !== gb.asn) return `AS${ga.asn} → AS${gb.asn}`;
    if (ga.country !== undefined && gb.country !== undefined) return '';
  }
  return `network ${networkOf(a)} → ${networkOf(b)}`;
}

/**
 * session.media-redirect: a re-INVITE or UPDATE, accepted with a 2xx, that moves one side's media
 * mid-call to another network (and, with the geography databases, another country or AS).
 */
export const sessionMediaRedirect: RuleModule = {
  meta: {
    id: 'session.media-redirect',
    title: 'Call media redirected mid-call to another network',
    severity: 'high',
    description:
      'Follows the media address each side of a dialog announced in SDP (the INVITE offer, its answer, and every ' +
      'accepted re-INVITE or UPDATE). When a re-INVITE or UPDATE that the other side accepted (2xx) moves one ' +
      'side\u2019s audio or video to an internet address in another network (another IPv4 /24 or IPv6 /64) it is ' +
      'reported: someone is diverting the conversation to a host that can record it. When the geography ' +
      'databases know both addresses, the move must also change country or AS. One alert per dialog.',
    falsePositives:
      'Not counted: hold and resume (0.0.0.0, ::, a=sendonly, a=inactive, port 0), a move within the same /24 or ' +
      '/64 or within the same country and AS, a move to a private, CGNAT or other non-internet address, re-INVITEs ' +
      'after a REFER in the dialog or carrying Replaces or Referred-By (transfers), and re-INVITEs sent by the PBX ' +
      'or a declared trunk (media re-anchoring). A proxy\u2019s copy of a re-INVITE it passes on (same CSeq, sent ' +
      'by the address the request went to) is the same move, reported once with its first sender. A softphone that moves from Wi-Fi to mobile data during a call ' +
      'and re-INVITEs with its new address is reported; so is a PBX or SBC not declared in the site model.',
    remediation:
      '3CX: keep media anchored on the PBX for remote extensions (do not enable "PBX delivers audio" off / direct ' +
      'media for extensions outside the LAN; use the 3CX SBC or tunnel), use TLS and SRTP for remote phones, and ' +
      'block the new media address in Security → IP Blocklist. Any PBX: anchor media through the PBX or an SBC so ' +
      'SDP addresses from endpoints are never used directly (Asterisk: direct_media=no; Kamailio: rtpengine or ' +
      'rtpproxy on every re-INVITE; FreeSWITCH: no bypass_media), authenticate re-INVITEs, and use TLS + SRTP.',
    references: [
      'RFC 3264 §8 (modifying the session)',
      'RFC 3261 §14 (modifying an existing session)',
      'RFC 3515 (REFER) and RFC 3891 (Replaces)',
    ],
    thresholds: { transferSeconds: 120 },
    quietMs: 3_600_000,
  },
  create(ctx) {
    const transferMs = (ctx.thresholds.transferSeconds ?? 120) * 1000;
    const dialogs = new Map<string, Media>();
    // Weak: a move waits for its answer as long as its transaction lives.
    const moves = new WeakMap<SipEvent, Move>();
    const offers = new WeakMap<SipEvent, { dialog: Dialog; answerer: 'caller' | 'callee' }>();
    let untracked = 0;

    function media(d: Dialog): Media | undefined {
      let m = dialogs.get(d.key);
      if (m === undefined) {
        if (dialogs.size >= DETECT_MAX_MEDIA_DIALOGS) {
          untracked++;
          return undefined;
        }
        m = { caller: undefined, callee: undefined, referAt: -Infinity, offer: undefined };
        dialogs.set(d.key, m);
      }
      return m;
    }

    /** Which side sent a message of `d` with From tag `fromTag` (requests), or answered (responses). */
    function sideOf(d: Dialog, ev: SipEvent): 'caller' | 'callee' {
      const fromCaller = ev.fromTag === d.callerTag;
      return ev.isRequest === fromCaller ? 'caller' : 'callee';
    }

    function learn(d: Dialog, ev: SipEvent): void {
      const addr = activeMediaAddress(ev);
      if (addr === undefined) return;
      const m = media(d);
      if (m !== undefined) m[sideOf(d, ev)] = addr;
    }

    return {
      onDialogCreated(d, ev): void {
        learn(d, d.invite);
        learn(d, ev);
      },
      onDialogConfirmed(d, ev): void {
        learn(d, ev);
      },
      onDialogEnded(d): void {
        dialogs.delete(d.key);
      },
      onDialogRequest(d: Dialog, ev: SipEvent): void {
        const m = media(d);
        if (m === undefined) return;
        if (ev.method === 'REFER') {
          m.referAt = ev.time;
          return;
        }
        const side = sideOf(d, ev);
        if (ev.method === 'INVITE' || ev.method === 'UPDATE') {
          offers.set(ev, { dialog: d, answerer: side === 'caller' ? 'callee' : 'caller' });
          // A proxy on the path (the PBX, when the site model does not name it) passes the request on
          // with the same CSeq: the same move, judged once, on the first sender's transaction.
          const o = m.offer;
          const src = ev.frame.srcIp;
          if (
            o !== undefined &&
            o.cseq === ev.cseq &&
            o.method === ev.method &&
            o.dst === src &&
            o.src !== src &&
            ev.time - o.time <= RELAY_MS
          ) {
            o.dst = ev.frame.dstIp;
            o.time = ev.time;
            return;
          }
          m.offer = { cseq: ev.cseq, method: ev.method, src, dst: ev.frame.dstIp, time: ev.time };
        }
        const addr = activeMediaAddress(ev);
        if (addr === undefined) return;
        const prev = m[side];
        if (prev === undefined || (ev.method !== 'INVITE' && ev.method !== 'UPDATE')) {
          // A late offer's answer in the ACK, or the first SDP seen for this side: a baseline.
          if (prev === undefined) m[side] = addr;
          return;
        }
        if (prev === addr) return;
        const src = ev.frame.srcIp;
        const transfer =
          ev.time - m.referAt <= transferMs ||
          ev.msg.header('Replaces') !== undefined ||
          ev.msg.header('Referred-By') !== undefined;
        const reanchor = ctx.site.isPbx(src) || ctx.site.isTrunk(src);
        if (transfer || reanchor || !external(addr)) {
          m[side] = addr;
          return;
        }
        moves.set(ev, { dialog: d, side, from: prev, to: addr });
      },
      onMessage(ev: SipEvent, tx, retransmission): void {
        if (retransmission || ev.isRequest || tx === undefined || ev.status < 200) return;
        const req = tx.request;
        const offer = offers.get(req);
        if (offer !== undefined) {
          offers.delete(req);
          // The answer to an in-dialog offer moves the answerer's media: keep its baseline current.
          const addr = ev.status < 300 ? activeMediaAddress(ev) : undefined;
          const m = dialogs.get(offer.dialog.key);
          if (m !== undefined && addr !== undefined) m[offer.answerer] = addr;
        }
        const move = moves.get(req);
        if (move === undefined) return;
        moves.delete(req);
        if (ev.status >= 300) return;
        const d = move.dialog;
        const m = dialogs.get(d.key);
        if (m !== undefined) m[move.side] = move.to;
        const why = networkChange(move.from, move.to);
        if (why === '') return;
        const key = `dialog ${d.key}`;
        if (ctx.touch?.(key, ev.time, 1) === true) return;
        const frames: number[] = [];
        pushFrame(frames, req.frame.provenance.frame);
        pushFrame(frames, ev.frame.provenance.frame);
        const src = req.frame.srcIp;
        // The evidence closure captures values, never `ev`, `req`, the move or the dialog: an open
        // alert keeps it (test/detect/alert-retention.test.ts).
        const shown = {
          method: req.method,
          side: move.side,
          from: move.from,
          to: move.to,
          change: why,
          callId: escapeText(d.callId, 80),
          caller: d.caller.ip,
          callee: d.callee.ip,
          status: ev.status,
          frames,
        };
        ctx.raise({
          key,
          time: ev.time,
          firstTime: req.time,
          count: 1,
          title: `${req.method} from ${src} moved the ${move.side}\u2019s media from ${move.from} to ${move.to} mid-call`,
          source: { ip: src, port: req.frame.srcPort, transport: req.frame.transport },
          target: { ip: req.frame.dstIp, port: req.frame.dstPort },
          evidence: () => ({ ...shown, untrackedDialogs: untracked }),
        });
      },
    };
  },
};
