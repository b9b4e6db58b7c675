import { DETECT_MAX_MEDIA_PEERS } from '../../config/limits.js';
import { BoundedTable } from '../../core/bounded-table.js';
import { escapeText } from '../../core/escape.js';
import { isHold, mediaAddress } from '../../sdp/parser.js';
import { sdpOf, type SipEvent } from '../../track/sip-event.js';
import { classifyAddress, isInternalAddress } from '../net.js';
import type { RuleModule } from '../rule.js';

/** Media kinds that carry a conversation (T.38 fax `image` is udptl, never RTP). */
const CONVERSATION = new Set(['audio', 'video']);

function yes(): true {
  return true;
}

/** True when `ip` is a real address outside the local network. */
function outside(ip: string): boolean {
  const k = classifyAddress(ip);
  // Documentation ranges stand for internet hosts in synthetic traffic and examples.
  return k === 'public' || k === 'documentation';
}

/** True for bytes of a word of an SDP line as the parser splits it (on spaces; line ends and any
 * other control or non-ASCII byte also end a word here, which only makes more candidates). */
function wordByte(c: number): boolean {
  return c > 0x20 && c < 0x7f;
}

/** True for bytes an address literal may hold (IPv4, IPv6, an IPv6 zone id). */
function addressByte(c: number): boolean {
  return (
    (c >= 0x30 && c <= 0x3a) || // digits and ':'
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x61 && c <= 0x7a) ||
    c === 0x2e || // '.'
    c === 0x25 || // '%'
    c === 0x2d || // '-'
    c === 0x5f // '_'
  );
}

/**
 * False when no word of the SDP body, up to its first `/`, is an address outside the local network:
 * then no stream's connection address (the third word of a `c=` line, before any `/ttl`) is, and a
 * call whose signaling stays inside cannot be reported, so its SDP need not be parsed.
 */
function mayNameOutsideAddress(body: Buffer): boolean {
  const n = body.length;
  let i = 0;
  while (i < n) {
    while (i < n && !wordByte(body[i]!)) i++;
    const s = i;
    let plain = true;
    let separators = false;
    while (i < n && wordByte(body[i]!) && body[i] !== 0x2f) {
      const c = body[i]!;
      if (!addressByte(c)) plain = false;
      else if (c === 0x2e || c === 0x3a) separators = true;
      i++;
    }
    if (plain && separators && outside(body.toString('latin1', s, i))) return true;
    while (i < n && wordByte(body[i]!)) i++;
  }
  return false;
}

/**
 * exposure.unencrypted-media: an SDP offer or answer that sends a call's audio or video as plain RTP
 * (RTP/AVP, no SDES crypto, no DTLS fingerprint) over the internet; once per pair of peers.
 */
export const exposureUnencryptedMedia: RuleModule = {
  meta: {
    id: 'exposure.unencrypted-media',
    title: 'Call media offered unencrypted over the internet',
    severity: 'low',
    description:
      'A SIP message with an SDP body (an INVITE, UPDATE or ACK offer, or an 18x/2xx answer) describes an audio or ' +
      'video stream as plain RTP: profile RTP/AVP or RTP/AVPF, no a=crypto (SDES-SRTP) and no DTLS fingerprint. ' +
      'It is reported when the media or the signaling crosses the internet: the SDP connection address, or one of ' +
      'the two signaling addresses, is public. Anyone on the path can then record the conversation or inject ' +
      'audio. Once per pair of signaling peers.',
    falsePositives:
      'Calls that stay inside the local network (private, loopback, link-local and CGNAT addresses on both sides ' +
      'and in the SDP) are not reported, nor streams on hold (0.0.0.0, sendonly, inactive), streams refused with ' +
      'port 0, or T.38 fax (udptl). Most SIP trunks still deliver plain RTP: a provider that offers no SRTP will ' +
      'be reported once; accept the risk by disabling the rule for that site, or ask the provider for SRTP.',
    remediation:
      '3CX: enable SRTP on the extensions (Phone provisioning → Security: SRTP) and on trunks whose provider ' +
      'supports it, and use the 3CX tunnel or SBC for remote phones so media does not cross the internet in the ' +
      'clear. Any PBX: offer RTP/SAVP with SDES over TLS signaling or DTLS-SRTP (Asterisk: media_encryption=sdes ' +
      'or dtls on the endpoint; FreeSWITCH: rtp_secure_media=mandatory; Kamailio with rtpengine: RTP/SAVP ' +
      'transcoding towards the internet), and carry remote media through a VPN or SBC.',
    references: ['RFC 3711 (SRTP)', 'RFC 4568 (SDP security descriptions)', 'RFC 5763/5764 (DTLS-SRTP)'],
    thresholds: {},
    quietMs: 86_400_000,
  },
  create(ctx) {
    const seen = new BoundedTable<string, true>('exposure.unencrypted-media', DETECT_MAX_MEDIA_PEERS);
    return {
      onMessage(ev: SipEvent, _tx, retransmission): void {
        if (retransmission) return;
        if (ev.isRequest) {
          if (ev.method !== 'INVITE' && ev.method !== 'UPDATE' && ev.method !== 'ACK') return;
        } else if (
          !(ev.status >= 180 && ev.status <= 299) ||
          (ev.method !== 'INVITE' && ev.method !== 'UPDATE')
        )
          return;
        // No body, no SDP (sdpOf's own first test); a pair already reported needs no parse.
        if (ev.msg.bodyLength === 0) return;
        const src = ev.frame.srcIp;
        const dst = ev.frame.dstIp;
        const pair = src < dst ? `${src}\u0000${dst}` : `${dst}\u0000${src}`;
        if (seen.has(pair)) return;
        // Whether the signaling crosses the internet, asked once per message (not per stream).
        const signalingOutside = outside(src) || outside(dst);
        if (!signalingOutside && !mayNameOutsideAddress(ev.msg.body)) return;
        const sdp = sdpOf(ev);
        if (sdp === undefined) return;
        for (const m of sdp.media) {
          if (!CONVERSATION.has(m.media)) continue;
          const proto = m.proto.toUpperCase();
          if (proto !== 'RTP/AVP' && proto !== 'RTP/AVPF') continue;
          if (m.crypto.length > 0 || m.fingerprints.length > 0 || isHold(m)) continue;
          const addr = mediaAddress(m) ?? '';
          if (!signalingOutside && !outside(addr)) continue;
          seen.touch(pair, yes);
          const internalOnly = isInternalAddress(src) && isInternalAddress(dst);
          ctx.raise({
            key: pair,
            time: ev.time,
            count: 1,
            title: `Unencrypted ${m.media} (${m.proto}) between ${src} and ${dst}`,
            source: { ip: src, port: ev.frame.srcPort, transport: ev.frame.transport },
            target: { ip: dst, port: ev.frame.dstPort },
            evidence: {
              message: ev.isRequest ? ev.method : `${ev.status} ${ev.method}`,
              media: m.media,
              proto: escapeText(m.proto, 40),
              mediaAddress: escapeText(addr, 64),
              mediaPort: m.port,
              mediaScope: classifyAddress(addr),
              signalingScopes: [classifyAddress(src), classifyAddress(dst)],
              signalingInternal: internalOnly,
              codecs: m.rtpmaps.slice(0, 8).map((r) => escapeText(r.encoding, 32)),
              callId: escapeText(ev.callId, 80),
              frames: ev.frame.provenance.frame !== undefined ? [ev.frame.provenance.frame] : [],
            },
          });
          return;
        }
      },
    };
  },
};
