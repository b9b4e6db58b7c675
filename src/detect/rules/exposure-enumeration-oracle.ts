import type { AuthAttempt } from '../attempts.js';
import type { RuleModule } from '../rule.js';

/** PBX addresses (ip:port) the oracle rule keeps answer statistics for. */
const MAX_SERVERS = 4096;
/** Example extensions kept per answer class. */
const MAX_EXAMPLES = 5;

interface Answers {
  readonly unknown: Map<string, number>;
  readonly known: Map<string, number>;
  reported: boolean;
}

/** exposure.enumeration-oracle: the PBX answers unknown extensions differently from known ones. */
export const exposureEnumerationOracle: RuleModule = {
  meta: {
    id: 'exposure.enumeration-oracle',
    title: 'The PBX tells which extensions exist',
    severity: 'medium',
    description:
      'Measured from traffic: for the same method, the PBX answers some extensions with 404/604 (or 403 without a ' +
      'challenge) and others with a 401/407 challenge or a 2xx (OPTIONS). Anyone can then list the extensions that exist, the first ' +
      'step of password guessing. Reported once per PBX address and method.',
    falsePositives:
      'INVITEs to numbers that do not exist in the dial plan answered 404 after authentication are not counted: ' +
      'only requests without credentials are compared. In-dialog requests (a To tag: BYE, re-INVITE, REFER) are ' +
      'not extension probes and are not counted: a proxy answering a BYE for a dialog it no longer knows 404 says ' +
      'nothing about which extensions exist.',
    remediation:
      '3CX answers unknown and known users alike by default: do not put an SBC or proxy in front that changes this. ' +
      'Asterisk chan_sip: alwaysauthreject=yes; PJSIP: keep the default unidentified-request handling; Kamailio/' +
      'OpenSIPS: challenge before the user lookup and answer unknown users with the same 401; FreeSWITCH: ' +
      'challenge-realm and no "Can\'t find user" 404.',
    references: ['RFC 3261 §26.1.5', 'Asterisk sip.conf alwaysauthreject'],
    thresholds: {},
    quietMs: 86_400_000,
  },
  create(ctx) {
    const servers = new Map<string, Answers>();
    return {
      onAttempt(a: AuthAttempt): void {
        if (a.credentials || a.extension === '' || a.final === undefined || a.request === undefined) return;
        // A request with a To tag belongs to a dialog (a BYE, a re-INVITE): its Request-URI is the
        // remote party's contact, and a 404 or 481 says the dialog is unknown, not the extension.
        if (a.request.toTag !== '') return;
        // Known: challenged, or served (OPTIONS answered 200 for a real user); unknown: 404/604/403.
        const cls =
          a.outcome === 'not-found' || a.outcome === 'forbidden'
            ? 'unknown'
            : a.outcome === 'challenged' || a.outcome === 'open'
              ? 'known'
              : undefined;
        if (cls === undefined) return;
        // The answering side is the request's destination.
        const key = `${a.dstIp}:${a.dstPort}|${a.method}`;
        let s = servers.get(key);
        if (s === undefined) {
          if (servers.size >= MAX_SERVERS) return;
          s = { unknown: new Map(), known: new Map(), reported: false };
          servers.set(key, s);
        }
        const m = cls === 'unknown' ? s.unknown : s.known;
        if (m.size < MAX_EXAMPLES) m.set(a.extension, a.status);
        if (s.reported || s.unknown.size === 0 || s.known.size === 0) return;
        s.reported = true;
        const unknownStatus = [...new Set(s.unknown.values())].join('/');
        const knownStatus = [...new Set(s.known.values())].join('/');
        ctx.raise({
          key,
          time: a.time,
          count: s.unknown.size + s.known.size,
          title: `${a.dstIp} answers ${a.method} for unknown extensions with ${unknownStatus} and for existing ones with ${knownStatus}`,
          target: { ip: a.dstIp, port: a.dstPort },
          source: { ip: a.srcIp, port: a.srcPort, transport: a.transport },
          evidence: {
            method: a.method,
            unknownExtensions: Object.fromEntries(s.unknown),
            existingExtensions: Object.fromEntries(s.known),
            server: a.final.msg.server ?? a.final.msg.userAgent ?? null,
            frames: [a.request.frame.provenance.frame ?? null, a.final.frame.provenance.frame ?? null],
          },
        });
      },
    };
  },
};
