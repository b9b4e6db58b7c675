/**
 * The site learner: watches traffic and infers what the site model (DESIGN.md "The site model") is
 * not told — the PBX, trunks, SBC/tunnel/NAT addresses, extensions and the identity map, DIDs, the
 * dial plan's shape, the home country and business hours — each with the evidence behind it.
 *
 * It learns only from two-way exchanges (a request and a final answer that came back from where the
 * request went), so one forged packet teaches nothing; roles are decided from counts over distinct
 * peers; every table is bounded (SITE_* in src/config/limits.ts) with frequency admission, so a
 * spoofed flood of new sources cannot push out what was learned. A peer's own requests never make
 * it a trunk: a trunk is what the PBX sends outside numbers to, registers to, or what delivers
 * answered calls from outside numbers that the PBX hands to its own phones (never onward to a third
 * address: that is a caller using the PBX as a way out, as in toll fraud).
 *
 * Pure state machine: events in, `infer()` out; no I/O, no wall clock.
 */
import { isIP } from 'node:net';
import { addressMatcher } from './site.js';
import { getCountries, getCountryCallingCode, parsePhoneNumberFromString } from 'libphonenumber-js/max';
import {
  SITE_CONFIDENCE_HIGH,
  SITE_CONFIDENCE_MEDIUM,
  SITE_MAX_ADDRESSES,
  SITE_MAX_EXTENSIONS,
  SITE_MAX_NUMBERS_PER_PAIR,
  SITE_MAX_PAIRS,
  SITE_MAX_PREFIX_CANDIDATES,
  SITE_MAX_SAMPLES_PER_ADDRESS,
  SITE_MAX_VALUES_PER_EXTENSION,
  SITE_MIN_CALLS_FOR_HOURS,
  SITE_MIN_PBX_EVIDENCE,
  SITE_MIN_SHARED_EXTENSIONS,
  SITE_NUMBER_MIN_DIGITS,
  SITE_RELAY_RECENT_INVITES,
  SITE_RELAY_WINDOW_MS,
} from '../config/limits.js';
import { BoundedTable } from '../core/bounded-table.js';
import type { CdrCall } from '../core/records.js';
import { classifyDialled } from '../enrich/numbers.js';
import type { SipEvent } from '../track/sip-event.js';
import type { Transaction } from '../track/transactions.js';
import type { AuthAttempt } from './attempts.js';
import type { Detector } from './rule.js';

/** How much a learned fact can be relied on (SITE_CONFIDENCE_* counts of independent evidence). */
export type Confidence = 'low' | 'medium' | 'high';

/** The confidence a count of independent two-way exchanges gives. */
export function confidenceOf(count: number): Confidence {
  return count >= SITE_CONFIDENCE_HIGH ? 'high' : count >= SITE_CONFIDENCE_MEDIUM ? 'medium' : 'low';
}

/** What a learned fact rests on: a sentence for people and the counts behind it. */
export interface Evidence {
  readonly confidence: Confidence;
  readonly detail: string;
  readonly counts: Readonly<Record<string, number>>;
}

/** An address with the role traffic gave it. */
export interface LearnedAddress {
  readonly ip: string;
  /** Ports it used in that role (most used first). */
  readonly ports: readonly number[];
  /** Server / User-Agent header values it sent (most seen first). */
  readonly agents: readonly string[];
  readonly evidence: Evidence;
}

/** An address many extensions register from: an SBC, a 3CX tunnel (5090) or an office NAT. */
export interface LearnedSharedAddress extends LearnedAddress {
  readonly kind: 'sbc' | 'tunnel' | 'nat';
}

/** An extension (address-of-record user, or caller of authenticated calls) and what it uses. */
export interface LearnedExtension {
  readonly extension: string;
  /** Digest user names (3CX Auth IDs) it authenticated with, most used first. */
  readonly identities: readonly string[];
  /** `ip:port` it registered or called from, most used first. */
  readonly contacts: readonly string[];
  readonly userAgents: readonly string[];
  /** Accepted registrations and authenticated calls. */
  readonly registrations: number;
  readonly calls: number;
}

/** One digest user name → extension pair of the identity map. */
export interface LearnedIdentity {
  readonly identity: string;
  readonly extension: string;
  /** Accepted exchanges that used this pair. */
  readonly count: number;
}

/** A number calls from a trunk were addressed to. */
export interface LearnedDid {
  readonly number: string;
  readonly calls: number;
  /** The trunk address it came from, or `cdr` when a CDR reported it. */
  readonly via: string;
}

/** Roles already told (configuration): inference builds on them. */
export interface ToldRoles {
  /** PBX addresses or CIDRs. */
  readonly pbx?: readonly string[];
  readonly trunks?: readonly string[];
  /** Home country (ISO 3166 alpha-2), when told. */
  readonly country?: string | undefined;
}

/** Local business hours suggested from when calls were answered. */
export interface LearnedHours {
  readonly timeZone: string;
  /** 0 = Sunday. */
  readonly days: readonly number[];
  readonly start: string;
  readonly end: string;
  readonly evidence: Evidence;
}

/** Everything inferred, with evidence. */
export interface LearnedSite {
  readonly pbx: readonly LearnedAddress[];
  readonly trunks: readonly LearnedAddress[];
  readonly shared: readonly LearnedSharedAddress[];
  readonly extensions: readonly LearnedExtension[];
  readonly identities: readonly LearnedIdentity[];
  readonly dids: readonly LearnedDid[];
  readonly homeCountry: { readonly country: string; readonly evidence: Evidence } | undefined;
  /** Digits phones put in front of outside numbers that the PBX strips towards the trunk. */
  readonly outboundPrefixes:
    { readonly prefixes: readonly string[]; readonly evidence: Evidence } | undefined;
  /** How numbers sent to trunks begin: `+`, `00`, `011`, `0` (national), `other`. */
  readonly trunkNumberForms: Readonly<Record<string, number>>;
  /** Countries of numbers sent to trunks (under the home country's plan), most called first. */
  readonly destinationCountries: readonly { readonly country: string; readonly calls: number }[];
  /** Calls to the home country's emergency numbers (by number). */
  readonly emergencyCalls: Readonly<Record<string, number>>;
  readonly businessHours: LearnedHours | undefined;
  /** Answered calls counted for business hours (not onward legs). */
  readonly answeredCalls: number;
  /** Every address seen in a two-way exchange (bounded by SITE_MAX_PAIRS pairs). */
  readonly addresses: readonly string[];
  /** Table pressure: entries evicted or refused (a flood, or a site larger than the bounds). */
  readonly tableStats: Readonly<Record<string, { evictions: number; rejections: number }>>;
}

/** A bounded map of counts: past `cap` keys a newcomer replaces a key counted once, else is dropped. */
class CountMap {
  readonly counts = new Map<string, number>();
  constructor(private readonly cap: number) {}

  add(key: string, n = 1): void {
    const c = this.counts.get(key);
    if (c !== undefined) {
      this.counts.set(key, c + n);
      return;
    }
    if (this.counts.size >= this.cap) {
      let victim: string | undefined;
      for (const [k, v] of this.counts) {
        if (v <= 1) {
          victim = k;
          break;
        }
      }
      if (victim === undefined) return;
      this.counts.delete(victim);
    }
    this.counts.set(key, n);
  }

  get size(): number {
    return this.counts.size;
  }

  /** Keys, most counted first. */
  top(): string[] {
    return [...this.counts.entries()].sort((a, b) => b[1] - a[1]).map(([k]) => k);
  }

  total(): number {
    let t = 0;
    for (const v of this.counts.values()) t += v;
    return t;
  }
}

/** Server-side roles of one address. */
interface AddressStats {
  /** Distinct extensions it accepted registrations for. */
  readonly registered: Set<string>;
  registrations: number;
  /** Challenges (401/407) it sent. */
  challenges: number;
  /** Distinct identities it accepted credentials of on requests other than REGISTER. */
  readonly authenticated: Set<string>;
  /** Calls it received and relayed onward, both legs answered. */
  relayed: number;
  readonly ports: CountMap;
  /** Server/User-Agent of its challenges and its answers to REGISTER and OPTIONS: its own. */
  readonly agents: CountMap;
  /** ... of its other answers, which a proxy copies from the callee (a trunk's are its own). */
  readonly answerAgents: CountMap;
}

/** What one address sent another and how it was answered (key `src>dst`). */
interface PairStats {
  readonly src: string;
  readonly dst: string;
  /** Initial INVITEs the destination answered (any final). */
  invites: number;
  /** ... whose called user is a telephone number. */
  numberInvites: number;
  /** ... answered 2xx, without credentials, never challenged, from a caller whose From is a number. */
  openNumberCalls: number;
  /** Requests answered 401/407 without credentials, or rejected (403, 404, credentials refused). */
  refused: number;
  /** REGISTERs answered at all, and accepted (2xx). */
  registerAnswered: number;
  registerAccepted: number;
  /** Called users of answered initial INVITEs (DIDs when the source is a trunk). */
  called: CountMap | undefined;
  /** Number-shaped From users of answered initial INVITEs (caller IDs). */
  callers: CountMap | undefined;
  /** How called numbers begin (+, 00, 011, 0, other). */
  readonly forms: Record<string, number>;
  /** Where the destination relayed this source's calls (onward address → calls). */
  onward: CountMap | undefined;
}

/** Per-extension knowledge. */
interface ExtensionStats {
  /** Where it registered (a provider, when the registrant is the PBX itself). */
  readonly registrars: CountMap;
  readonly identities: CountMap;
  readonly contacts: CountMap;
  readonly agents: CountMap;
  registrations: number;
  calls: number;
}

/** A recent initial INVITE, to pair a PBX's onward leg with the call it relays. */
interface RecentInvite {
  readonly ev: SipEvent;
  readonly tx: Transaction | undefined;
  readonly called: string;
  readonly caller: string;
  relayed: boolean;
}

/** 3CX's SBC tunnel port (the PBX listens on it for its SBCs; an SBC may use it as its source). */
const TUNNEL_PORT = 5090;
/** 3CX's default SIP ports, named in a PBX's evidence. */
const PORT_NAMES: Readonly<Record<number, string>> = {
  5060: 'SIP',
  5061: 'SIP over TLS',
  5090: '3CX tunnel',
};

/** The onward address of outbound CDR calls in the prefix table: the CDR names no address. */
const CDR_TRUNK = 'cdr';

const NUMBER = new RegExp(`^\\+?\\d{${SITE_NUMBER_MIN_DIGITS},20}$`);
/** International prefixes an onward leg's `+` may have replaced (longest first). */
const IDD_PREFIXES = ['0011', '011', '00'];

/** True when a user part reads as a telephone number rather than an extension or a name. */
export function isNumberLike(user: string): boolean {
  return NUMBER.test(user);
}

/** How a number begins: `+`, `00`, `011`, `0` (a national trunk prefix) or `other`. */
export function numberForm(n: string): string {
  if (n.startsWith('+')) return '+';
  if (n.startsWith('011')) return '011';
  if (n.startsWith('00')) return '00';
  if (/^0[1-9]/.test(n)) return '0';
  return 'other';
}

/**
 * The digits a PBX stripped from a dialled number before sending it on (`9` of 9 00 44 ...), '' when
 * it sent it unchanged, undefined when the two do not look like one number.
 */
export function strippedPrefix(dialled: string, sent: string): string | undefined {
  if (dialled === sent) return '';
  if (dialled.startsWith('+') || !/^\d+$/.test(dialled)) return undefined;
  const plus = sent.startsWith('+');
  const tail = plus ? sent.slice(1) : sent;
  if (!/^\d+$/.test(tail) || tail.length < SITE_NUMBER_MIN_DIGITS) return undefined;
  let head: string | undefined;
  if (dialled.endsWith(tail) && dialled.length > tail.length) {
    head = dialled.slice(0, dialled.length - tail.length);
    // 9 00 44... sent as +44...: the 00 became the +. Without one (9 1 212... sent as +1 212...)
    // the national prefix was the country code.
    const h = head;
    const idd = plus ? IDD_PREFIXES.find((p) => h.endsWith(p)) : undefined;
    if (idd !== undefined) head = head.slice(0, head.length - idd.length);
  } else if (plus) {
    // 9 0 20... sent as +44 20...: a national number rewritten as E.164, its trunk prefix 0 gone.
    for (let k = 1; k <= 3 && head === undefined; k++) {
      if (!callingCodes().has(tail.slice(0, k))) continue;
      const national = tail.slice(k);
      if (national.length < SITE_NUMBER_MIN_DIGITS || !dialled.endsWith(national)) continue;
      const h = dialled.slice(0, dialled.length - national.length);
      head = h.endsWith('0') ? h.slice(0, -1) : h;
    }
  }
  return head !== undefined && head.length <= 4 ? head : undefined;
}

let codes: ReadonlySet<string> | undefined;

/** Every country calling code libphonenumber knows (1, 7, 44, 358, ...). */
function callingCodes(): ReadonlySet<string> {
  return (codes ??= new Set(getCountries().map((c) => getCountryCallingCode(c))));
}

/** Options of a learner. */
export interface SiteLearnerOptions {
  /** IANA zone in which business hours are counted (default UTC). */
  readonly timeZone?: string;
}

/** Watches traffic (messages and request outcomes) and infers the site's roles and dial plan. */
export class SiteLearner {
  private readonly addresses = new BoundedTable<string, AddressStats>('site-addresses', SITE_MAX_ADDRESSES);
  private readonly pairs = new BoundedTable<string, PairStats>('site-pairs', SITE_MAX_PAIRS);
  private readonly extensions = new BoundedTable<string, ExtensionStats>(
    'site-extensions',
    SITE_MAX_EXTENSIONS,
  );
  /** `onwardIp|prefix` → onward legs that stripped that prefix. */
  private readonly prefixes = new CountMap(SITE_MAX_PREFIX_CANDIDATES);
  private readonly cdrDids = new CountMap(SITE_MAX_NUMBERS_PER_PAIR);
  private readonly cdrCallers = new CountMap(SITE_MAX_NUMBERS_PER_PAIR);
  /** Addresses that registered extensions through a PBX's 3CX tunnel port. */
  private readonly tunnelHosts = new CountMap(SITE_MAX_SAMPLES_PER_ADDRESS);
  /** Numbers CDRs say went out through a trunk. */
  private readonly cdrSent = new CountMap(SITE_MAX_NUMBERS_PER_PAIR);
  private readonly recent: (RecentInvite | undefined)[] = new Array<RecentInvite | undefined>(
    SITE_RELAY_RECENT_INVITES,
  ).fill(undefined);
  private recentNext = 0;
  /** Answered calls by local weekday × hour (7 × 24). */
  private readonly hours = new Uint32Array(7 * 24);
  private answered = 0;
  private readonly timeZone: string;
  private readonly clock: Intl.DateTimeFormat;

  constructor(options: SiteLearnerOptions = {}) {
    this.timeZone = options.timeZone ?? 'UTC';
    this.clock = new Intl.DateTimeFormat('en-US', {
      timeZone: this.timeZone,
      weekday: 'short',
      hour: '2-digit',
      hourCycle: 'h23',
    });
  }

  /** Every message (retransmissions flagged): remembers initial INVITEs for relay pairing. */
  message(ev: SipEvent, tx: Transaction | undefined, retransmission: boolean): void {
    if (retransmission || !ev.isRequest || ev.method !== 'INVITE' || ev.toTag !== '') return;
    this.recent[this.recentNext] = {
      ev,
      tx,
      called: ev.msg.requestUri?.user ?? ev.msg.to?.uri?.user ?? '',
      caller: ev.msg.from?.uri?.user ?? '',
      relayed: false,
    };
    this.recentNext = (this.recentNext + 1) % this.recent.length;
  }

  /** A request's outcome (SIP transaction with a final answer, or a PBX log line). */
  attempt(a: AuthAttempt): void {
    if (a.origin === 'log') {
      this.logAttempt(a);
      return;
    }
    const req = a.request;
    const final = a.final;
    // Two-way only: the answer came back from where the request went.
    if (req === undefined || final === undefined || final.frame.srcIp !== req.frame.dstIp) return;
    const src = req.frame.srcIp;
    const dst = req.frame.dstIp;
    const pair = this.pair(src, dst);
    if (pair === undefined) return;
    const server = this.address(dst);
    if (server !== undefined) {
      server.ports.add(String(req.frame.dstPort));
      // A proxy passes on its callees' answers with their headers: only challenges and answers to
      // REGISTER/OPTIONS are surely the server's own.
      const agent = final.msg.server ?? final.msg.userAgent;
      if (agent !== undefined && agent !== '') {
        const own =
          final.status === 401 || final.status === 407 || a.method === 'REGISTER' || a.method === 'OPTIONS';
        (own ? server.agents : server.answerAgents).add(agent.slice(0, 120));
      }
    }
    const status = final.status;
    switch (a.outcome) {
      case 'challenged':
        if (server !== undefined) server.challenges++;
        pair.refused++;
        break;
      case 'rejected':
      case 'forbidden':
      case 'not-found':
        pair.refused++;
        break;
      default:
        break;
    }
    if (a.method === 'REGISTER') this.register(a, pair, server, status);
    else if (a.method === 'INVITE' && req.toTag === '') this.invite(a, req, final, pair, server);
    else if (a.outcome === 'accepted' && server !== undefined && a.identity !== '') {
      addSample(server.authenticated, a.identity);
    }
  }

  /**
   * A call a CDR reported (the PBX's own account, so no two-way test applies): inbound calls name
   * DIDs and callers; outbound ones the number as dialled and as sent to the trunk; answered calls
   * count for business hours.
   */
  cdrCall(c: CdrCall): void {
    if (c.direction === 'inbound') {
      if (isNumberLike(c.dialled)) this.cdrDids.add(c.dialled.slice(0, 40));
      if (isNumberLike(c.caller)) this.cdrCallers.add(c.caller);
    } else if (c.direction === 'outbound' && c.callee !== undefined && isNumberLike(c.callee)) {
      const prefix = strippedPrefix(c.dialled, c.callee);
      if (prefix !== undefined) this.prefixes.add(`${CDR_TRUNK}|${prefix}`);
      this.cdrSent.add(c.callee.slice(0, 40));
    }
    if (c.answer !== undefined) this.countHour(c.answer);
  }

  /** Feeds this learner from the detection engine (as a rule module's detector). */
  detector(): Detector {
    return {
      onMessage: (ev, tx, retransmission) => this.message(ev, tx, retransmission),
      onAttempt: (a) => this.attempt(a),
      onCdrCall: (c) => this.cdrCall(c),
    };
  }

  private register(a: AuthAttempt, pair: PairStats, server: AddressStats | undefined, status: number): void {
    pair.registerAnswered++;
    if (status < 200 || status >= 300) return;
    pair.registerAccepted++;
    const ext = a.extension;
    if (server !== undefined) {
      server.registrations++;
      if (ext !== '') addSample(server.registered, ext);
    }
    if (ext === '') return;
    const e = this.extension(ext);
    if (e === undefined) return;
    e.registrations++;
    e.registrars.add(a.dstIp);
    if (a.dstPort === TUNNEL_PORT) this.tunnelHosts.add(a.srcIp);
    if (a.identity !== '') e.identities.add(a.identity);
    e.contacts.add(contactOf(a.srcIp, a.srcPort));
    if (a.userAgent !== '') e.agents.add(a.userAgent.slice(0, 120));
  }

  private invite(
    a: AuthAttempt,
    req: SipEvent,
    final: SipEvent,
    pair: PairStats,
    server: AddressStats | undefined,
  ): void {
    const called = req.msg.requestUri?.user ?? req.msg.to?.uri?.user ?? '';
    const caller = req.msg.from?.uri?.user ?? '';
    const status = final.status;
    pair.invites++;
    const numberCalled = isNumberLike(called);
    if (numberCalled) {
      pair.numberInvites++;
      const f = numberForm(called);
      pair.forms[f] = (pair.forms[f] ?? 0) + 1;
    }
    const progressed = status >= 200 && status < 300;
    if (progressed) {
      (pair.called ??= new CountMap(SITE_MAX_NUMBERS_PER_PAIR)).add(called.slice(0, 40));
      if (isNumberLike(caller)) {
        (pair.callers ??= new CountMap(SITE_MAX_NUMBERS_PER_PAIR)).add(caller);
        const challenged = a.tx?.statuses.some((s) => s === 401 || s === 407) === true;
        if (!a.credentials && !challenged) pair.openNumberCalls++;
      }
    }
    if (a.outcome === 'accepted' && a.identity !== '') {
      if (server !== undefined) addSample(server.authenticated, a.identity);
      if (caller !== '' && !isNumberLike(caller)) {
        const e = this.extension(caller);
        if (e !== undefined) {
          e.calls++;
          e.identities.add(a.identity);
          e.contacts.add(contactOf(a.srcIp, a.srcPort));
          if (a.userAgent !== '') e.agents.add(a.userAgent.slice(0, 120));
        }
      }
    }
    const relayed = this.pairRelay(req, called, caller);
    if (progressed && !relayed) this.countHour(final.time);
  }

  /**
   * Pairs an answered onward INVITE with the call its sender received just before (same Call-ID,
   * the same number less a prefix, or the same caller number): the sender relays calls. Returns
   * true when `req` is such an onward leg.
   */
  private pairRelay(req: SipEvent, called: string, caller: string): boolean {
    const relayer = req.frame.srcIp;
    const onward = req.frame.dstIp;
    const n = this.recent.length;
    for (let i = 1; i <= n; i++) {
      const r = this.recent[(this.recentNext - i + n) % n];
      if (r === undefined) break;
      const age = req.time - r.ev.time;
      if (age > SITE_RELAY_WINDOW_MS) break;
      if (r.ev === req || age < 0) continue;
      if (r.ev.frame.dstIp !== relayer || r.ev.frame.srcIp === onward) continue;
      const prefix = strippedPrefix(r.called, called);
      const same =
        r.ev.callId === req.callId || prefix !== undefined || (isNumberLike(caller) && r.caller === caller);
      if (!same) continue;
      // The relayer must have answered the call it relays (at least a provisional response).
      if (r.tx === undefined || r.tx.statuses.length === 0) continue;
      if (!r.relayed) {
        r.relayed = true;
        const server = this.address(relayer);
        if (server !== undefined) server.relayed++;
        const inbound = this.pair(r.ev.frame.srcIp, relayer);
        if (inbound !== undefined) (inbound.onward ??= new CountMap(8)).add(onward);
        if (prefix !== undefined) this.prefixes.add(`${onward}|${prefix}`);
      }
      return true;
    }
    return false;
  }

  private logAttempt(a: AuthAttempt): void {
    // A PBX log line saying an extension registered: its contact address, and the identity used.
    if (a.method !== 'REGISTER' || a.outcome !== 'accepted' || a.extension === '' || a.srcIp === '') return;
    const e = this.extension(a.extension);
    if (e === undefined) return;
    e.registrations++;
    if (a.identity !== '') e.identities.add(a.identity);
    e.contacts.add(contactOf(a.srcIp, a.srcPort));
    if (a.userAgent !== '') e.agents.add(a.userAgent.slice(0, 120));
  }

  private countHour(time: number): void {
    let day = -1;
    let hour = -1;
    for (const p of this.clock.formatToParts(time)) {
      if (p.type === 'weekday') day = WEEKDAYS.indexOf(p.value);
      else if (p.type === 'hour') hour = Number(p.value);
    }
    if (day < 0 || hour < 0 || hour > 23) return;
    this.hours[day * 24 + hour]!++;
    this.answered++;
  }

  private address(ip: string): AddressStats | undefined {
    return this.addresses.touch(ip, () => ({
      registered: new Set(),
      registrations: 0,
      challenges: 0,
      authenticated: new Set(),
      relayed: 0,
      ports: new CountMap(8),
      agents: new CountMap(4),
      answerAgents: new CountMap(4),
    }));
  }

  private pair(src: string, dst: string): PairStats | undefined {
    return this.pairs.touch(`${src}>${dst}`, () => ({
      src,
      dst,
      invites: 0,
      numberInvites: 0,
      openNumberCalls: 0,
      refused: 0,
      registerAnswered: 0,
      registerAccepted: 0,
      called: undefined,
      callers: undefined,
      forms: {},
      onward: undefined,
    }));
  }

  private extension(ext: string): ExtensionStats | undefined {
    return this.extensions.touch(ext.slice(0, 64), () => ({
      registrars: new CountMap(4),
      identities: new CountMap(SITE_MAX_VALUES_PER_EXTENSION),
      contacts: new CountMap(SITE_MAX_VALUES_PER_EXTENSION),
      agents: new CountMap(SITE_MAX_VALUES_PER_EXTENSION),
      registrations: 0,
      calls: 0,
    }));
  }

  /** Infers roles, identities and the dial plan from what was seen, building on what was told. */
  infer(told: ToldRoles = {}): LearnedSite {
    const toldPbx = addressMatcher(told.pbx ?? [], 'pbx');
    const toldTrunks = addressMatcher(told.trunks ?? [], 'trunks');
    const pairs = [...this.pairs.values()];

    // PBX: registrar, authenticator and relay of distinct parties.
    const candidates = new Map<string, { stats: AddressStats; score: number }>();
    for (const [ip, s] of this.addresses.entries()) {
      const score = s.registered.size + s.authenticated.size + s.relayed;
      if (score >= SITE_MIN_PBX_EVIDENCE && !toldTrunks(ip)) candidates.set(ip, { stats: s, score });
    }
    // A registrar whose every registrant is itself a PBX is the PBX's provider (it registers there).
    const upstream = new Set<string>();
    for (const ip of candidates.keys()) {
      const registrants = pairs.filter((p) => p.dst === ip && p.registerAccepted > 0).map((p) => p.src);
      if (registrants.length > 0 && registrants.every((r) => r !== ip && (candidates.has(r) || toldPbx(r))))
        upstream.add(ip);
    }
    for (const ip of upstream) candidates.delete(ip);
    const isPbx = (ip: string): boolean => candidates.has(ip) || toldPbx(ip);
    const pbx: LearnedAddress[] = [...candidates.entries()]
      .sort((a, b) => b[1].score - a[1].score)
      .map(([ip, { stats, score }]) => ({
        ip,
        ports: stats.ports.top().map(Number),
        agents: stats.agents.top(),
        evidence: {
          confidence: confidenceOf(score),
          detail: pbxDetail(stats),
          counts: {
            registeredExtensions: stats.registered.size,
            registrations: stats.registrations,
            challenges: stats.challenges,
            authenticatedIdentities: stats.authenticated.size,
            relayedCalls: stats.relayed,
          },
        },
      }));

    // Phones: whoever a PBX accepted registrations or credentials from.
    const phones = new Set<string>();
    for (const p of pairs) if (isPbx(p.dst) && p.registerAccepted > 0 && !isPbx(p.src)) phones.add(p.src);
    for (const e of this.extensions.values()) {
      if (e.calls > 0) for (const c of e.contacts.counts.keys()) phones.add(parseContact(c).host);
    }

    // Trunks: what the PBX sends numbers to or registers to; what delivers outside callers to it.
    const trunkEvidence = new Map<string, { out: number; reg: number; inbound: number; refused: number }>();
    const ev = (ip: string): { out: number; reg: number; inbound: number; refused: number } => {
      let t = trunkEvidence.get(ip);
      if (t === undefined) trunkEvidence.set(ip, (t = { out: 0, reg: 0, inbound: 0, refused: 0 }));
      return t;
    };
    for (const p of pairs) {
      if (isPbx(p.src) && !isPbx(p.dst) && !phones.has(p.dst)) {
        if (p.numberInvites > 0) ev(p.dst).out += p.numberInvites;
        if (p.registerAnswered > 0) ev(p.dst).reg += p.registerAnswered;
      } else if (isPbx(p.dst) && !isPbx(p.src) && !phones.has(p.src)) {
        let transit = 0;
        for (const [to, n] of p.onward?.counts ?? []) if (to !== p.src && !phones.has(to)) transit += n;
        const t = ev(p.src);
        t.inbound += Math.max(0, p.openNumberCalls - transit);
        t.refused += p.refused;
      }
    }
    for (const ip of upstream) ev(ip);
    const trunks: LearnedAddress[] = [];
    for (const [ip, t] of trunkEvidence) {
      const strong = t.out + t.reg + (upstream.has(ip) ? 1 : 0);
      const total = strong + t.inbound;
      // A peer the PBX refuses more than it serves is a scanner, whatever it claims to be.
      if (total === 0 || (strong === 0 && t.refused > t.inbound)) continue;
      let confidence = confidenceOf(total);
      if (strong === 0 && confidence === 'high') confidence = 'medium';
      const stats = this.addresses.get(ip);
      trunks.push({
        ip,
        ports: stats?.ports.top().map(Number) ?? [],
        agents: [...new Set([...(stats?.agents.top() ?? []), ...(stats?.answerAgents.top() ?? [])])],
        evidence: {
          confidence,
          detail: trunkDetail(t, upstream.has(ip)),
          counts: {
            outboundNumberCalls: t.out,
            pbxRegistrations: t.reg,
            inboundCalls: t.inbound,
            refused: t.refused,
          },
        },
      });
    }
    trunks.sort((a, b) => weight(b) - weight(a));
    const isTrunk = (ip: string): boolean => toldTrunks(ip) || trunks.some((t) => t.ip === ip);

    // Extensions and the identity map.
    const extensions: LearnedExtension[] = [];
    const identities: LearnedIdentity[] = [];
    // An account the PBX registers at its provider is the trunk's, not an extension of the site.
    const trunkAccount = (e: ExtensionStats): boolean =>
      e.calls === 0 && e.registrars.size > 0 && [...e.registrars.counts.keys()].every(isTrunk);
    for (const [ext, e] of this.extensions.entries()) {
      if (trunkAccount(e)) continue;
      extensions.push({
        extension: ext,
        identities: e.identities.top(),
        contacts: e.contacts.top(),
        userAgents: e.agents.top(),
        registrations: e.registrations,
        calls: e.calls,
      });
      for (const [identity, count] of e.identities.counts)
        identities.push({ identity, extension: ext, count });
    }
    extensions.sort((a, b) => a.extension.localeCompare(b.extension, 'en', { numeric: true }));
    identities.sort((a, b) => a.extension.localeCompare(b.extension, 'en', { numeric: true }));

    // Shared addresses: many extensions registering from one address.
    const byHost = new Map<string, { exts: Set<string>; ports: Set<number> }>();
    for (const [ext, e] of this.extensions.entries()) {
      if (e.registrations === 0 || trunkAccount(e)) continue;
      for (const c of e.contacts.counts.keys()) {
        const { host, port } = parseContact(c);
        if (isPbx(host)) continue;
        let h = byHost.get(host);
        if (h === undefined) byHost.set(host, (h = { exts: new Set(), ports: new Set() }));
        h.exts.add(ext);
        if (port > 0) h.ports.add(port);
      }
    }
    const shared: LearnedSharedAddress[] = [];
    for (const [ip, h] of byHost) {
      if (h.exts.size < SITE_MIN_SHARED_EXTENSIONS) continue;
      const kind =
        h.ports.has(TUNNEL_PORT) || this.tunnelHosts.counts.has(ip)
          ? 'tunnel'
          : h.ports.size <= 2
            ? 'sbc'
            : 'nat';
      shared.push({
        ip,
        kind,
        ports: [...h.ports].sort((a, b) => a - b).slice(0, 8),
        agents: [],
        evidence: {
          confidence: confidenceOf(h.exts.size),
          detail:
            `${h.exts.size} extensions registered from it through ${h.ports.size} source port(s)` +
            (kind === 'tunnel'
              ? ' including 5090 (3CX tunnel)'
              : kind === 'nat'
                ? ' (one per phone: phones behind NAT)'
                : ' (one signalling port: an SBC)'),
          counts: { extensions: h.exts.size, ports: h.ports.size },
        },
      });
    }
    shared.sort((a, b) => b.evidence.counts.extensions! - a.evidence.counts.extensions!);

    // DIDs: what calls from trunks were addressed to, extensions aside.
    const known = new Set(extensions.map((e) => e.extension));
    const dids: LearnedDid[] = [];
    const callerNumbers = new CountMap(SITE_MAX_NUMBERS_PER_PAIR);
    const trunkForms: Record<string, number> = {};
    const sentToTrunks = new CountMap(SITE_MAX_NUMBERS_PER_PAIR * 4);
    for (const p of pairs) {
      if (isTrunk(p.src) && isPbx(p.dst)) {
        for (const [n, c] of p.called?.counts ?? []) {
          if (!known.has(n) && n !== '') dids.push({ number: n, calls: c, via: p.src });
        }
        for (const [n, c] of p.callers?.counts ?? []) callerNumbers.add(n, c);
      } else if (isPbx(p.src) && isTrunk(p.dst)) {
        for (const [f, c] of Object.entries(p.forms)) trunkForms[f] = (trunkForms[f] ?? 0) + c;
        for (const [n, c] of p.called?.counts ?? []) sentToTrunks.add(n, c);
      }
    }
    for (const [n, c] of this.cdrDids.counts)
      if (!known.has(n)) dids.push({ number: n, calls: c, via: 'cdr' });
    for (const [n, c] of this.cdrCallers.counts) callerNumbers.add(n, c);
    for (const [n, c] of this.cdrSent.counts) {
      sentToTrunks.add(n, c);
      const f = numberForm(n);
      trunkForms[f] = (trunkForms[f] ?? 0) + c;
    }
    dids.sort((a, b) => b.calls - a.calls || a.number.localeCompare(b.number));

    // Home country: the DIDs' country; failing that (low), the callers' country.
    const homeCountry = inferCountry(dids, callerNumbers);
    const home = told.country ?? homeCountry?.country ?? '';

    // Outbound prefix: digits stripped on legs to trunks.
    const prefixCounts = new Map<string, number>();
    let unchanged = 0;
    for (const [key, c] of this.prefixes.counts) {
      const bar = key.lastIndexOf('|');
      const onward = key.slice(0, bar);
      const prefix = key.slice(bar + 1);
      if (onward !== CDR_TRUNK && !isTrunk(onward)) continue;
      if (prefix === '') unchanged += c;
      else prefixCounts.set(prefix, (prefixCounts.get(prefix) ?? 0) + c);
    }
    const prefixList = [...prefixCounts.entries()].sort((a, b) => b[1] - a[1]);
    const stripped = prefixList.reduce((s, [, c]) => s + c, 0);
    const outboundPrefixes =
      prefixList.length === 0
        ? undefined
        : {
            prefixes: prefixList.map(([p]) => p),
            evidence: {
              confidence: confidenceOf(stripped),
              detail:
                prefixList.map(([p, c]) => `${p} stripped on ${c} call(s) sent to a trunk`).join(', ') +
                (unchanged > 0 ? `; ${unchanged} call(s) sent unchanged` : ''),
              counts: { ...Object.fromEntries(prefixList), unchanged },
            },
          };

    // Destinations of trunk calls, and emergency calls, under the home country's plan.
    const countries = new Map<string, number>();
    const emergencyCalls: Record<string, number> = {};
    for (const [n, c] of sentToTrunks.counts) {
      const info = classifyDialled(n, { country: home });
      if (info.type === 'emergency') emergencyCalls[info.stripped] = (emergencyCalls[info.stripped] ?? 0) + c;
      else if (info.country !== undefined)
        countries.set(info.country, (countries.get(info.country) ?? 0) + c);
    }

    return {
      pbx,
      trunks,
      shared,
      extensions,
      identities,
      dids,
      homeCountry,
      outboundPrefixes,
      trunkNumberForms: trunkForms,
      destinationCountries: [...countries.entries()]
        .sort((a, b) => b[1] - a[1])
        .map(([country, calls]) => ({ country, calls })),
      emergencyCalls,
      businessHours: this.businessHours(),
      answeredCalls: this.answered,
      addresses: [...new Set(pairs.flatMap((p) => [p.src, p.dst]))],
      tableStats: {
        addresses: { ...this.addresses.stats },
        pairs: { ...this.pairs.stats },
        extensions: { ...this.extensions.stats },
      },
    };
  }

  /** The working days and the shortest span of hours holding 90% of their answered calls. */
  private businessHours(): LearnedHours | undefined {
    const n = this.answered;
    if (n < SITE_MIN_CALLS_FOR_HOURS) return undefined;
    const perDay = Array.from({ length: 7 }, (_, d) => sum(this.hours.subarray(d * 24, d * 24 + 24)));
    const busiest = Math.max(...perDay);
    const days = perDay.flatMap((c, d) => (c * 4 >= busiest ? [d] : []));
    const perHour = Array.from({ length: 24 }, (_, h) =>
      days.reduce((s, d) => s + this.hours[d * 24 + h]!, 0),
    );
    const inDays = sum(perHour);
    let best = { start: 0, len: 24 };
    for (let len = 1; len <= 24 && best.len === 24; len++) {
      for (let start = 0; start < 24; start++) {
        let c = 0;
        for (let k = 0; k < len; k++) c += perHour[(start + k) % 24]!;
        if (c * 10 >= inDays * 9) {
          best = { start, len };
          break;
        }
      }
    }
    const hh = (h: number): string => `${String(h % 24).padStart(2, '0')}:00`;
    return {
      timeZone: this.timeZone,
      days,
      start: hh(best.start),
      end: hh(best.start + best.len),
      evidence: {
        // Call times say when people called, not when the office is open: never more than low.
        confidence: 'low',
        detail: `90% of ${inDays} answered calls on the busiest days fell between ${hh(best.start)} and ${hh(best.start + best.len)} ${this.timeZone}`,
        counts: { answeredCalls: n, callsOnWorkingDays: inDays },
      },
    };
  }
}

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

function sum(xs: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i]!;
  return s;
}

/** A trunk's evidence in exchanges (refusals aside), to list the busiest first. */
function weight(a: LearnedAddress): number {
  const c = a.evidence.counts;
  return (c.outboundNumberCalls ?? 0) + (c.pbxRegistrations ?? 0) + (c.inboundCalls ?? 0);
}

function addSample(set: Set<string>, key: string): void {
  if (set.size < SITE_MAX_SAMPLES_PER_ADDRESS) set.add(key.slice(0, 64));
}

/** `ip:port` (`[ip]:port` for IPv6), or the address alone when the port is unknown. */
function contactOf(ip: string, port: number): string {
  if (!(port > 0)) return ip;
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/** The address and port of a contact written by `contactOf` (port 0 when absent). */
function parseContact(contact: string): { host: string; port: number } {
  if (contact.startsWith('[')) {
    const end = contact.indexOf(']');
    return { host: contact.slice(1, end), port: Number(contact.slice(end + 2)) || 0 };
  }
  if (isIP(contact) !== 0) return { host: contact, port: 0 };
  const i = contact.lastIndexOf(':');
  return i < 0
    ? { host: contact, port: 0 }
    : { host: contact.slice(0, i), port: Number(contact.slice(i + 1)) || 0 };
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

function pbxDetail(s: AddressStats): string {
  const parts: string[] = [];
  if (s.registered.size > 0)
    parts.push(
      `accepted registrations of ${plural(s.registered.size, 'extension')} (${plural(s.registrations, 'time')})`,
    );
  if (s.challenges > 0) parts.push(`sent ${plural(s.challenges, 'challenge')}`);
  if (s.authenticated.size > 0)
    parts.push(`authenticated calls of ${plural(s.authenticated.size, 'identity', 'identities')}`);
  if (s.relayed > 0) parts.push(`relayed ${plural(s.relayed, 'call')}`);
  const known = s.ports.top().flatMap((p) => {
    const name = PORT_NAMES[Number(p)];
    return name === undefined ? [] : [`${p} (${name})`];
  });
  if (known.length > 0)
    parts.push(`answers on the 3CX default port${known.length > 1 ? 's' : ''} ${known.join(', ')}`);
  return parts.join(', ');
}

function trunkDetail(
  t: { out: number; reg: number; inbound: number; refused: number },
  upstream: boolean,
): string {
  const parts: string[] = [];
  if (t.out > 0) parts.push(`the PBX sent it ${plural(t.out, 'call')} to outside numbers, answered`);
  if (t.reg > 0 || upstream) parts.push(`the PBX registers to it (${plural(t.reg, 'REGISTER')} answered)`);
  if (t.inbound > 0)
    parts.push(`it delivered ${plural(t.inbound, 'answered call')} from outside numbers, not challenged`);
  return parts.join('; ');
}

/** The country of most DIDs (E.164 or international form); failing that, of most callers (low). */
function inferCountry(
  dids: readonly LearnedDid[],
  callers: CountMap,
): { country: string; evidence: Evidence } | undefined {
  const tally = (numbers: Iterable<[string, number]>): Map<string, number> => {
    const m = new Map<string, number>();
    for (const [n, c] of numbers) {
      const country = countryOf(n);
      if (country !== undefined) m.set(country, (m.get(country) ?? 0) + c);
    }
    return m;
  };
  const best = (m: Map<string, number>): [string, number, number] | undefined => {
    let top: [string, number] | undefined;
    let all = 0;
    for (const [k, v] of m) {
      all += v;
      if (top === undefined || v > top[1]) top = [k, v];
    }
    return top === undefined ? undefined : [top[0], top[1], all];
  };
  const fromDids = best(tally(dids.map((d) => [d.number, d.calls])));
  if (fromDids !== undefined) {
    const [country, n, all] = fromDids;
    return {
      country,
      evidence: {
        confidence: confidenceOf(n),
        detail: `${n} of ${all} calls to DIDs were to ${country} numbers`,
        counts: { didCalls: n, didCallsWithCountry: all },
      },
    };
  }
  const fromCallers = best(tally(callers.counts));
  if (fromCallers === undefined) return undefined;
  const [country, n, all] = fromCallers;
  return {
    country,
    evidence: {
      // Callers are usually but not always local: a guess, never more than low.
      confidence: 'low',
      detail: `no DID in E.164 form seen; ${n} of ${all} calls from trunks came from ${country} numbers`,
      counts: { callerCalls: n, callerCallsWithCountry: all },
    },
  };
}

/** The country of a number in E.164 (`+44...`) or full international digits; undefined otherwise. */
function countryOf(n: string): string | undefined {
  const digits = n.startsWith('+') ? n : n.length >= 11 && /^[1-9]\d+$/.test(n) ? `+${n}` : undefined;
  if (digits === undefined) return undefined;
  const p = parsePhoneNumberFromString(digits);
  return p?.isValid() === true ? p.country : undefined;
}
