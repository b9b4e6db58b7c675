import { DETECT_MAX_AUTH_KEYS } from '../../config/limits.js';
import { escapeText } from '../../core/escape.js';
import type { SipEvent } from '../../track/sip-event.js';
import type { RuleModule } from '../rule.js';
import { KeyedWindows, sourceGroup } from '../window.js';

/** Header fields an attacker controls and a PBX stores, logs or shows (CDRs, web console, CRM). */
const FIELDS = [
  'From',
  'To',
  'Contact',
  'User-Agent',
  'Subject',
  'Call-ID',
  'Reason',
  'Referred-By',
  'Refer-To',
];
/** Bytes of a field examined (a longer value is examined up to here). */
const MAX_FIELD_BYTES = 2048;

interface Pattern {
  readonly kind: 'sql' | 'shell' | 'script' | 'format-string';
  readonly re: RegExp;
}

// Patterns that mean code, not names: each needs the syntax of an injection, not just a quote.
const PATTERNS: readonly Pattern[] = [
  { kind: 'sql', re: /'\s*(?:or|and)\s+(?:'[^']*'|\d+)\s*(?:=|like)\s*(?:'[^']*'|\d+)/i },
  { kind: 'sql', re: /\bunion\b[\s/*]+(?:all[\s/*]+)?select\b/i },
  { kind: 'sql', re: /(?:'|\d)\s*;\s*(?:drop|insert|update|delete|select|exec|shutdown)\b/i },
  { kind: 'sql', re: /\b(?:sleep|benchmark|pg_sleep|waitfor\s+delay)\s*\(/i },
  { kind: 'sql', re: /'\s*(?:--|#|\/\*)/ },
  { kind: 'shell', re: /\(\)\s*\{\s*:?\s*;\s*\}\s*;/ },
  { kind: 'shell', re: /\$\([^)]{1,200}\)|`[^`]{1,200}`/ },
  {
    kind: 'shell',
    re: /[;|&]\s*(?:\/bin\/|\/usr\/bin\/)?(?:sh|bash|nc|ncat|wget|curl|cat|rm|chmod|python3?|perl)\b[^;|&]{0,100}(?:\/|\s-)/i,
  },
  {
    kind: 'script',
    re: /<\s*(?:script|img|svg|iframe|body)\b|javascript\s*:|\bon(?:error|load|mouseover)\s*=/i,
  },
  { kind: 'format-string', re: /(?:%[0-9$]*[nsxp]){4,}|%n/ },
];

// Cheap precheck: every pattern needs one of these characters or words.
const PRECHECK = /['`$<%(){}|&;]/;

interface Hit {
  readonly kind: string;
  readonly field: string;
  readonly sample: string;
}

interface State {
  readonly kinds: Record<string, number>;
  readonly samples: Hit[];
  readonly frames: number[];
}

/** protocol.injection: SQL, shell, script or format-string payloads in headers and URIs. */
export const protocolInjection: RuleModule = {
  meta: {
    id: 'protocol.injection',
    title: 'Injection payload in SIP headers',
    severity: 'high',
    description:
      'A request or response carries SQL, shell, script (XSS) or format-string syntax in a field that PBXs store or ' +
      'display: the Request-URI user, From/To/Contact display names and users, User-Agent, Subject, Call-ID. Such ' +
      'payloads target CDR databases, web consoles and log viewers behind the PBX.',
    falsePositives:
      "Display names with apostrophes (O'Brien) or percent-escapes do not match: a pattern needs the syntax of an " +
      'injection (quote then OR/UNION/comment, command substitution, tags, repeated %n/%s).',
    remediation:
      '3CX: keep it updated and block the source; never expose the management console to the internet. Any PBX: ' +
      'update it and the CDR/CRM/billing tools that read SIP fields, use parameterised queries and output encoding ' +
      'there, and block the source at the edge.',
    references: ['RFC 3261 §26 (security considerations)', 'OWASP Injection'],
    thresholds: {},
    quietMs: 600_000,
  },
  create(ctx) {
    const windows = new KeyedWindows<State>('protocol.injection', DETECT_MAX_AUTH_KEYS, 600_000, () => ({
      kinds: {},
      samples: [],
      frames: [],
    }));
    return {
      onMessage(ev: SipEvent, _tx, retransmission): void {
        if (retransmission) return;
        const hit = findInjection(ev);
        if (hit === undefined) return;
        const group = sourceGroup(ev.frame.srcIp);
        const w = windows.hit(group, ev.time);
        if (w === undefined) return;
        w.data.kinds[hit.kind] = (w.data.kinds[hit.kind] ?? 0) + 1;
        if (w.data.samples.length < 5) w.data.samples.push(hit);
        const frame = ev.frame.provenance.frame;
        if (frame !== undefined && w.data.frames.length < 20) w.data.frames.push(frame);
        ctx.raise({
          key: group,
          time: ev.time,
          firstTime: w.firstTime,
          count: w.count,
          title: `${hit.kind} injection attempt in ${hit.field} from ${ev.frame.srcIp}`,
          source: { ip: ev.frame.srcIp, port: ev.frame.srcPort, transport: ev.frame.transport },
          target: { ip: ev.frame.dstIp, port: ev.frame.dstPort },
          evidence: () => ({
            kinds: { ...w.data.kinds },
            samples: [...w.data.samples],
            frames: [...w.data.frames],
          }),
        });
      },
    };
  },
};

/** The first injection pattern found in the message's attacker-controlled fields, if any. */
export function findInjection(ev: SipEvent): Hit | undefined {
  const msg = ev.msg;
  if (ev.isRequest) {
    const h = check('Request-URI', msg.uri);
    if (h !== undefined) return h;
  }
  for (const f of FIELDS) {
    const v = msg.header(f);
    if (v === undefined) continue;
    const h = check(f, v);
    if (h !== undefined) return h;
  }
  return undefined;
}

function check(field: string, raw: string): Hit | undefined {
  const v = raw.length > MAX_FIELD_BYTES ? raw.slice(0, MAX_FIELD_BYTES) : raw;
  if (!PRECHECK.test(v)) return undefined;
  const decoded = v.includes('%') ? percentDecode(v) : v;
  for (const p of PATTERNS) {
    if (p.re.test(decoded) || (decoded !== v && p.kind === 'format-string' && p.re.test(v))) {
      return { kind: p.kind, field, sample: escapeText(decoded, 120) };
    }
  }
  return undefined;
}

function percentDecode(s: string): string {
  return s.replace(/%([0-9a-fA-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
}
