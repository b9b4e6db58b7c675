import { countInto } from '../../core/counts.js';
import {
  DETECT_MAX_TOOL_CAMPAIGNS,
  DETECT_MAX_TOOL_SOURCES,
  DETECT_TOOL_AGENT_CACHE,
  DETECT_TOOL_AGENT_CACHE_MAX_CHARS,
  DETECT_LISTED_SOURCES_PER_RULE,
  DETECT_TOOL_CAMPAIGN_SOURCES,
} from '../../config/limits.js';
import { BoundedTable } from '../../core/bounded-table.js';
import { escapeText } from '../../core/escape.js';
import type { SipMessage } from '../../sip/message.js';
import type { SipEvent } from '../../track/sip-event.js';
import type { RuleModule } from '../rule.js';
import { CappedSet, KeyedWindows, ListingBudget, sourceGroup } from '../window.js';

/** User-Agent (or Server) values only attack and audit tools send. Each one alone is a mark. */
const TOOL_AGENTS: readonly [RegExp, string][] = [
  [/friendly-scanner/i, 'SIPVicious'],
  [/sipvicious/i, 'SIPVicious'],
  [/^sipcli\//i, 'sipcli'],
  [/sundayddr/i, 'sundayddr'],
  [/\biWar\b/i, 'iWar'],
  [/SIVuS/i, 'SIVuS'],
  [/^smap\b/i, 'smap'],
  [/VaxSIPUserAgent/i, 'VaxSIPUserAgent scanner'],
  [/sip-scan|sipscan/i, 'sip-scan'],
  [/^pplsip/i, 'pplsip'],
  [/PortSIP VoIP SDK/i, 'PortSIP SDK (common in cracking tools)'],
  [/^Hacker$/i, 'erase_registrations'],
  [/VoIPER/i, 'VoIPER fuzzer'],
];

/** Display names and users that scanners put in From/To. */
const TOOL_NAMES = /^(?:sipvicious|sipsscuser|ccxllrlflgig|thisisthecanary)$/i;
/** What a URI holding one of those users must contain as written (a name, or a %-escape). */
const TOOL_NAME_IN_URI = /sipvicious|sipsscuser|ccxllrlflgig|thisisthecanary|%/i;
/** The placeholder host SIPVicious writes, as bytes to find in the header block. */
const PLACEHOLDER_HOST = '1.1.1.1';
const PLACEHOLDER_BYTES = Buffer.from(PLACEHOLDER_HOST, 'latin1');

/** What one User-Agent value says: the tool it names ('' for none) and its escaped form. */
interface AgentVerdict {
  readonly tool: string;
  readonly shown: string;
}

// Verdicts by User-Agent value: a device repeats its value in every message, so the tool patterns
// run once per value. A pure function of the value, so one cache serves every detector.
const agentVerdicts = new Map<string, AgentVerdict>();

function judgeAgent(ua: string): AgentVerdict {
  let tool = '';
  for (const [re, name] of TOOL_AGENTS) {
    if (re.test(ua)) {
      tool = name;
      break;
    }
  }
  return { tool, shown: escapeText(ua, 80) };
}

/** The verdict on a User-Agent value, cached (DETECT_TOOL_AGENT_CACHE values, emptied when full). */
function agentVerdict(ua: string): AgentVerdict {
  if (ua.length > DETECT_TOOL_AGENT_CACHE_MAX_CHARS) return judgeAgent(ua);
  let v = agentVerdicts.get(ua);
  if (v === undefined) {
    v = judgeAgent(ua);
    if (agentVerdicts.size >= DETECT_TOOL_AGENT_CACHE) agentVerdicts.clear();
    agentVerdicts.set(ua, v);
  }
  return v;
}

/** What marks one message carries. */
export interface Marks {
  readonly tool: string | undefined;
  readonly marks: readonly string[];
  /** svcrack encodes `user:password` in its From tag; the tried password (never shown in clear). */
  readonly triedPassword: string | undefined;
}

const NO_MARKS: Marks = { tool: undefined, marks: [], triedPassword: undefined };

/**
 * True when a From tag may be SIPVicious' hex-encoded `text 0x01 digits`: the encoding of a 0x01
 * byte after the first and of a digit last (phones' random hex tags rarely have both; the full
 * decoding below decides).
 */
function mayBeEncodedTag(tag: string): boolean {
  const n = tag.length;
  if (n < 8 || n % 2 !== 0 || tag.charCodeAt(n - 2) !== 0x33) return false;
  const last = tag.charCodeAt(n - 1);
  if (last < 0x30 || last > 0x39) return false;
  for (let i = 2; i < n - 2; i += 2)
    if (tag.charCodeAt(i) === 0x30 && tag.charCodeAt(i + 1) === 0x31) return true;
  return false;
}

/** SIPVicious writes the target user as the From display name and From equal to To. */
function fromEqualsTo(msg: SipMessage): string | undefined {
  const from = msg.from;
  const to = msg.to;
  const display = from?.display;
  return display !== undefined &&
    from !== undefined &&
    to !== undefined &&
    from.rawUri === to.rawUri &&
    display === from.uri?.user
    ? 'from-equals-to-with-user-as-name'
    : undefined;
}

/** SIPVicious' placeholder host in From, To or Contact. */
function placeholderHost(msg: SipMessage): string | undefined {
  // Hosts are written as they are sent: no header holds 1.1.1.1 unless its bytes do.
  const at = msg.data.indexOf(PLACEHOLDER_BYTES, msg.start);
  if (at < 0 || at >= msg.length - msg.bodyLength) return undefined;
  const hosts = [msg.from?.uri?.host, msg.to?.uri?.host, msg.contacts[0]?.uri?.host];
  return hosts.includes(PLACEHOLDER_HOST) ? 'placeholder-host-1.1.1.1' : undefined;
}

/**
 * The structural marks `marksOf` looks for last, cheapest first (the byte search for the
 * placeholder host was the largest cost of a phone's request): a caller that needs more marks than
 * the ones left could add gets NO_MARKS before they are looked for.
 */
const LATE_MARKS: readonly ((msg: SipMessage) => string | undefined)[] = [fromEqualsTo, placeholderHost];

/** Structural and declared marks of attack tools in one request. */
export function toolMarks(ev: SipEvent): Marks {
  return marksOf(ev, 0);
}

/**
 * `toolMarks`, for a caller that drops a request with fewer than `needed` marks and no tool
 * User-Agent or name: such a request may get NO_MARKS before the last structural marks are looked
 * for, when they could not make up the difference (the byte search for the placeholder host was the
 * largest cost of a phone's request).
 */
function marksOf(ev: SipEvent, needed: number): Marks {
  const msg = ev.msg;
  let marks: string[] | undefined;
  let tool: string | undefined;
  const ua = msg.userAgent;
  if (ua !== undefined) {
    const t = agentVerdict(ua).tool;
    if (t !== '') {
      tool = t;
      marks = ['user-agent'];
    }
  }
  const from = msg.from;
  const display = from?.display;
  // The URI is parsed only when its text could hold a tool's name.
  if (
    (display !== undefined && TOOL_NAMES.test(display)) ||
    (from !== undefined && TOOL_NAME_IN_URI.test(from.rawUri) && TOOL_NAMES.test(from.uri?.user ?? ''))
  ) {
    (marks ??= []).push('from-name');
    tool ??= 'SIPVicious';
  }
  // SIPVicious: branch "z9hG4bK-" + decimal only (SIPp adds more dash-separated fields).
  if (/^z9hG4bK-\d{4,}$/.test(ev.branch)) (marks ??= []).push('decimal-branch');
  // A bare decimal Call-ID with no host part.
  if (/^\d{6,}$/.test(ev.callId)) (marks ??= []).push('decimal-call-id');
  let triedPassword: string | undefined;
  const tag = ev.fromTag;
  if (mayBeEncodedTag(tag) && /^[0-9a-f]+$/i.test(tag)) {
    const decoded = Buffer.from(tag, 'hex').toString('latin1');
    const sep = decoded.indexOf('\u0001');
    // A hex tag that decodes to printable text, a 0x01 separator and digits: SIPVicious' tag.
    if (sep > 0 && /^[\x20-\x7e]+$/.test(decoded.slice(0, sep)) && /^\d+$/.test(decoded.slice(sep + 1))) {
      (marks ??= []).push('hex-encoded-tag');
      const text = decoded.slice(0, sep);
      const colon = text.indexOf(':');
      if (colon >= 0) triedPassword = text.slice(colon + 1);
    }
  }
  // The structural marks left are the dearest: skipped once they could not make up the difference.
  for (let i = 0; i < LATE_MARKS.length; i++) {
    if (tool === undefined && (marks?.length ?? 0) + LATE_MARKS.length - i < needed) return NO_MARKS;
    const mark = LATE_MARKS[i]!(msg);
    if (mark !== undefined) (marks ??= []).push(mark);
  }
  if (marks === undefined) return NO_MARKS;
  return { tool, marks, triedPassword };
}

/** One campaign: one tool against one target address, from any number of sources. */
interface State {
  /** Every address it was aimed at (one source sweeping a range stays one campaign). */
  readonly servers: CappedSet;
  readonly sources: CappedSet;
  readonly marks: CappedSet;
  readonly methods: Record<string, number>;
  readonly userAgents: CappedSet;
  readonly targets: CappedSet;
  passwordsTried: number;
  /** Distinct sources when the alert was last fully raised (a change needs a full raise). */
  raisedSources: number;
  /** The alert key, `tool|server` (one per window: its key is tool and server). */
  alertKey: string;
  readonly frames: number[];
}

/** The campaign a source's marked requests of one tool belong to. */
interface Membership {
  /** Window key: tool and the campaign's first target address. */
  key: string;
  server: string;
  port: number;
}

function newMembership(): Membership {
  return { key: '', server: '', port: 0 };
}

/** What a request without a tool name is grouped under. */
const STRUCTURAL = 'unknown tool (structural marks)';

/** scan.tool-fingerprint: attack tools by User-Agent/From and by message structure, one alert per
 * campaign (tool + target address) whatever the number of sources. */
export const scanToolFingerprint: RuleModule = {
  meta: {
    id: 'scan.tool-fingerprint',
    title: 'SIP attack tool detected',
    severity: 'medium',
    description:
      "Requests carry the marks of known attack tools: a tool's User-Agent or From name (friendly-scanner, " +
      'sipvicious, sipcli, ...), or at least `marks` structural marks together — a bare decimal Call-ID, a ' +
      '`z9hG4bK-<decimal>` branch, a hex-encoded From tag that decodes to text (svcrack encodes the password it ' +
      'tries), From equal to To with the user as display name, placeholder host 1.1.1.1. A faked phone User-Agent ' +
      'does not hide the structure. One alert per campaign: the tool and the target address, with every source ' +
      'that took part (a scan spread over a botnet is one alert naming its sources, not one per address); a ' +
      'campaign ends after an hour without a marked request.',
    falsePositives:
      "SIPp's branches and sequential Call-IDs and phones' random hex tags each match at most one weak mark; one " +
      'mark alone (other than a tool User-Agent or name) never raises the alert.',
    remediation:
      '3CX: keep Anti-Hacking on, block the source (IP Blocklist), and do not expose 5060 to the whole internet: ' +
      'allow only your providers and remote offices. Any PBX: block the source at the firewall or SBC, drop known ' +
      'scanner User-Agents at the edge (not a defence on its own), answer unknown users like known ones.',
    references: ['SIPVicious (svmap, svwar, svcrack)', 'Emerging Threats SIP scanner signatures'],
    thresholds: { marks: 2 },
    quietMs: 3_600_000,
  },
  create(ctx) {
    const minMarks = ctx.thresholds.marks ?? 2;
    // The sources every campaign lists, together (DETECT_LISTED_SOURCES_PER_RULE).
    const listed = new ListingBudget(DETECT_LISTED_SOURCES_PER_RULE);
    const windows = new KeyedWindows<State>(
      'scan.tool-fingerprint',
      DETECT_MAX_TOOL_CAMPAIGNS,
      3_600_000,
      () => ({
        servers: new CappedSet(16),
        sources: new CappedSet(DETECT_TOOL_CAMPAIGN_SOURCES, listed),
        marks: new CappedSet(16),
        methods: {},
        userAgents: new CappedSet(4),
        targets: new CappedSet(64),
        passwordsTried: 0,
        raisedSources: 0,
        alertKey: '',
        frames: [],
      }),
      (st) => st.sources.release(),
    );
    // A source stays in the campaign it started in while that campaign lasts: one scanner sweeping
    // a range of addresses is one campaign, not one per address it probed.
    const members = new BoundedTable<string, Membership>(
      'scan.tool-fingerprint sources',
      DETECT_MAX_TOOL_SOURCES,
    );
    return {
      onMessage(ev, _tx, retransmission): void {
        if (!ev.isRequest || retransmission) return;
        const m = marksOf(ev, minMarks);
        const strong = m.marks.includes('user-agent') || m.marks.includes('from-name');
        if (!strong && m.marks.length < minMarks) return;
        const tool = m.tool ?? STRUCTURAL;
        const group = sourceGroup(ev.frame.srcIp);
        const c = members.touch(`${tool}\u0000${group}`, newMembership);
        let key: string;
        let server: string;
        let port: number;
        if (c !== undefined && c.key !== '' && windows.peek(c.key, ev.time) !== undefined) {
          key = c.key;
          server = c.server;
          port = c.port;
        } else {
          key = `${tool}\u0000${ev.frame.dstIp}`;
          server = ev.frame.dstIp;
          port = ev.frame.dstPort;
          if (c !== undefined) {
            c.key = key;
            c.server = server;
            c.port = port;
          }
        }
        const w = windows.hit(key, ev.time);
        if (w === undefined) return;
        const s = w.data;
        s.sources.add(group);
        s.servers.add(ev.frame.dstIp);
        for (const k of m.marks) s.marks.add(k);
        countInto(s.methods, ev.method);
        const ua = ev.msg.userAgent;
        if (ua !== undefined) s.userAgents.add(agentVerdict(ua).shown);
        const target = ev.msg.requestUri?.user ?? ev.msg.to?.uri?.user;
        if (target !== undefined) s.targets.add(target);
        if (m.triedPassword !== undefined) s.passwordsTried++;
        const frame = ev.frame.provenance.frame;
        if (frame !== undefined && s.frames.length < 20) s.frames.push(frame);
        const n = s.sources.distinct;
        const sources = s.sources;
        if (s.alertKey === '') s.alertKey = `${tool}|${server}`;
        const alertKey = s.alertKey;
        if (n === s.raisedSources && ctx.touch?.(alertKey, ev.time, w.count) === true) return;
        s.raisedSources = n;
        ctx.raise({
          key: alertKey,
          time: ev.time,
          firstTime: w.firstTime,
          count: w.count,
          title: n === 1 ? `${tool} from ${ev.frame.srcIp}` : `${tool} from ${n} sources against ${server}`,
          // The campaign's first source; the alert keeps it, and `sources` lists them all.
          ...(n === 1
            ? { source: { ip: ev.frame.srcIp, port: ev.frame.srcPort, transport: ev.frame.transport } }
            : {}),
          sources: () =>
            sources.top(DETECT_TOOL_CAMPAIGN_SOURCES).map((x) => ({ ip: x.value, count: x.count })),
          sourcesTotal: n,
          target: { ip: server, port },
          evidence: () => ({
            tool,
            sourcesTotal: sources.distinct,
            servers: s.servers.top(16).map((x) => x.value),
            serversTotal: s.servers.distinct,
            marks: s.marks.top(16).map((x) => x.value),
            methods: { ...s.methods },
            userAgents: s.userAgents.top(4).map((x) => x.value),
            targets: s.targets.top(20).map((x) => x.value),
            targetsTotal: s.targets.distinct,
            // The passwords themselves are never reported: a right guess would be a live credential.
            passwordGuessesInTags: s.passwordsTried,
            frames: [...s.frames],
          }),
        });
      },
    };
  },
};
