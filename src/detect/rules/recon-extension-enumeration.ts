import { DETECT_MAX_AUTH_KEYS } from '../../config/limits.js';
import type { AuthAttempt } from '../attempts.js';
import type { RuleModule } from '../rule.js';
import { KeyedWindows, sourceGroup, StatusTally, withFrame } from '../window.js';

/** Extensions remembered per source window (more are counted, not remembered). */
const MAX_EXTENSIONS = 512;
/** A challenge not followed by credentials for the same extension within this long was a probe. */
const CHALLENGE_FOLLOW_UP_MS = 5_000;

/**
 * Where one extension tried stands, as a small number (no object per extension): probe, a pending
 * challenge (and whether it went unanswered past CHALLENGE_FOLLOW_UP_MS: then it counts as a probe),
 * or answered with credentials.
 */
const PROBE = 0;
const PENDING = 1;
const PENDING_OLD = 2;
const ANSWERED = 3;
type TriedState = typeof PROBE | typeof PENDING | typeof ANSWERED;
type Tried = TriedState | typeof PENDING_OLD;

/** The methods counted, in the order of `methodCounts` (others never reach the rule). */
const METHODS = ['REGISTER', 'INVITE', 'OPTIONS'] as const;

/**
 * One source's window. A spoofed flood makes one of these per forged address (DETECT_MAX_AUTH_KEYS
 * of them), nearly all seeing a single request: so the first extension, status and User-Agent are
 * kept inline and every collection is made only when a second value comes.
 */
interface State {
  /** Extensions tried (at most MAX_EXTENSIONS): the first inline, the others in `moreTried`. */
  firstExt: string | undefined;
  firstTried: Tried;
  moreTried: Map<string, Tried> | undefined;
  overflow: number;
  /** Extensions in state probe, and pending ones gone old: kept as counts so an attempt costs O(1)
   * instead of a walk over every extension tried (bench/profile.ts showed the walk on floods). */
  probeCount: number;
  oldPending: number;
  /** Extensions that entered pending, oldest first, as pairs (extension, time) (each once: bounded
   * by MAX_EXTENSIONS). */
  pendingQueue: (string | number)[] | undefined;
  pendingHead: number;
  /** Requests that learned something (probes and challenges), repeats included. */
  probeRequests: number;
  /** Requests per method of METHODS (fields, not an array: one object less per source), and the
   * order the methods were first seen (base-4 digits, 1-based). */
  registers: number;
  invites: number;
  options: number;
  methodOrder: number;
  readonly statuses: StatusTally;
  /** Up to 4 User-Agents in arrival order: the first inline. */
  firstUserAgent: string | undefined;
  moreUserAgents: string[] | undefined;
  frames: number[] | undefined;
}

/** recon.extension-enumeration: one source tries many distinct extensions. */
export const reconExtensionEnumeration: RuleModule = {
  meta: {
    id: 'recon.extension-enumeration',
    title: 'Extension enumeration',
    severity: 'high',
    description:
      'One source (IPv6 /64) sends REGISTER, INVITE or OPTIONS requests to many distinct extensions and gets answers ' +
      'it does not follow up: 404/403 for unknown users, challenges it never answers with credentials, or no answer; ' +
      'and the targets are a sweep (at least `minDistinctPercent` of those requests go to distinct extensions). ' +
      'This is how svwar and similar tools map which extensions exist before guessing their passwords.',
    falsePositives:
      'A NATed office registering many phones from one address answers every challenge and registers: those ' +
      'extensions do not count. Trunks delivering calls to many extensions are not counted (declare them in the site ' +
      'model); a monitoring system sending OPTIONS to many users can be trusted or excluded by threshold. A flood ' +
      'cycling through a few users is dos.flood, not enumeration.',
    remediation:
      '3CX: keep Anti-Hacking on and block the source; 3CX answers unknown and known users alike, keep it so. Any ' +
      'PBX: answer unknown users exactly like known ones (challenge everyone; Asterisk alwaysauthreject=yes / PJSIP ' +
      'default, Kamailio: challenge before lookup), rate-limit per source, block scanners at the edge.',
    references: [
      'RFC 3261 §26.1.5 (threats: enumeration of user names)',
      'SIPVicious svwar (the common enumeration tool)',
    ],
    thresholds: { extensions: 10, minDistinctPercent: 25, windowSeconds: 600 },
    quietMs: 600_000,
  },
  create(ctx) {
    const threshold = ctx.thresholds.extensions ?? 10;
    const minDistinct = (ctx.thresholds.minDistinctPercent ?? 25) / 100;
    const windows = new KeyedWindows<State>(
      'recon.extension-enumeration',
      DETECT_MAX_AUTH_KEYS,
      (ctx.thresholds.windowSeconds ?? 600) * 1000,
      newState,
    );
    return {
      onAttempt(a: AuthAttempt): void {
        if (a.method !== 'REGISTER' && a.method !== 'INVITE' && a.method !== 'OPTIONS') return;
        if (a.extension === '' || ctx.site.isTrunk(a.srcIp) || ctx.site.isPbx(a.srcIp)) return;
        // A request with a To tag (a re-INVITE) belongs to a dialog: its answer says whether the
        // dialog is known, not the extension.
        if (a.request !== undefined && a.request.toTag !== '') return;
        const group = sourceGroup(a.srcIp);
        const w = windows.hit(group, a.time);
        if (w === undefined) return;
        const s = w.data;
        const state = classify(a);
        if (state === undefined) return;
        const t = triedOf(s, a.extension);
        if (t === undefined) {
          if (triedCount(s) < MAX_EXTENSIONS) {
            setTried(s, a.extension, state);
            if (state === PROBE) s.probeCount++;
            else if (state === PENDING) (s.pendingQueue ??= []).push(a.extension, a.time);
          } else if (state === PROBE) s.overflow++;
        } else if (state === ANSWERED || (state === PROBE && (t === PENDING || t === PENDING_OLD))) {
          if (t === PROBE) s.probeCount--;
          if (t === PENDING_OLD) s.oldPending--;
          setTried(s, a.extension, state);
          if (state === PROBE) s.probeCount++;
        }
        ripen(s, a.time);
        if (state === ANSWERED) return;
        s.probeRequests++;
        countMethod(s, a.method);
        s.statuses.add(a.status);
        if (a.userAgent !== '') addUserAgent(s, a.userAgent);
        s.frames = withFrame(s.frames, a.provenance.frame);
        const probes = s.overflow + s.probeCount + s.oldPending;
        // A sweep touches each extension once or twice; a flood hammers a few (not enumeration).
        if (probes < threshold || probes < s.probeRequests * minDistinct) return;
        if (ctx.touch?.(group, a.time, probes) === true) return;
        ctx.raise({
          key: group,
          time: a.time,
          firstTime: w.firstTime,
          count: probes,
          title: `Extension enumeration from ${a.srcIp}: ${probes} extensions probed`,
          source: { ip: a.srcIp, port: a.srcPort, transport: a.transport },
          target: { ip: a.dstIp, port: a.dstPort },
          evidence: () => ({
            extensionsTried: examplesOf(s),
            extensionsTotal: probes,
            methods: methodsOf(s),
            statuses: s.statuses.toRecord(),
            userAgents: userAgentsOf(s),
            frames: s.frames === undefined ? [] : [...s.frames],
          }),
        });
      },
    };
  },
};

function newState(): State {
  return {
    firstExt: undefined,
    firstTried: PROBE,
    moreTried: undefined,
    overflow: 0,
    probeCount: 0,
    oldPending: 0,
    pendingQueue: undefined,
    pendingHead: 0,
    probeRequests: 0,
    registers: 0,
    invites: 0,
    options: 0,
    methodOrder: 0,
    statuses: new StatusTally(),
    firstUserAgent: undefined,
    moreUserAgents: undefined,
    frames: undefined,
  };
}

function triedOf(s: State, ext: string): Tried | undefined {
  if (s.firstExt === ext) return s.firstTried;
  return s.moreTried?.get(ext);
}

function triedCount(s: State): number {
  return (s.firstExt === undefined ? 0 : 1) + (s.moreTried?.size ?? 0);
}

/** Sets the state of `ext`, adding it when new (the caller checks the bound). */
function setTried(s: State, ext: string, t: Tried): void {
  if (s.firstExt === undefined || s.firstExt === ext) {
    s.firstExt = ext;
    s.firstTried = t;
  } else (s.moreTried ??= new Map()).set(ext, t);
}

function countMethod(s: State, method: string): void {
  const i = method === 'REGISTER' ? 0 : method === 'INVITE' ? 1 : 2;
  if (methodCount(s, i) === 0) s.methodOrder = s.methodOrder * 4 + i + 1;
  if (i === 0) s.registers++;
  else if (i === 1) s.invites++;
  else s.options++;
}

function methodCount(s: State, i: number): number {
  return i === 0 ? s.registers : i === 1 ? s.invites : s.options;
}

/** Requests per method, in the order the methods were first seen. */
function methodsOf(s: State): Record<string, number> {
  const order: number[] = [];
  for (let o = s.methodOrder; o > 0; o = Math.floor(o / 4)) order.unshift((o % 4) - 1);
  const out: Record<string, number> = {};
  for (const i of order) out[METHODS[i] as string] = methodCount(s, i);
  return out;
}

function addUserAgent(s: State, ua: string): void {
  if (s.firstUserAgent === undefined) {
    s.firstUserAgent = ua;
    return;
  }
  if (s.firstUserAgent === ua) return;
  const more = s.moreUserAgents;
  if (more === undefined) s.moreUserAgents = [ua];
  else if (more.length < 3 && !more.includes(ua)) more.push(ua);
}

function userAgentsOf(s: State): string[] {
  if (s.firstUserAgent === undefined) return [];
  return s.moreUserAgents === undefined ? [s.firstUserAgent] : [s.firstUserAgent, ...s.moreUserAgents];
}

/** Marks pending challenges left unanswered past the follow-up time as probes. */
function ripen(s: State, now: number): void {
  const q = s.pendingQueue;
  if (q === undefined) return;
  while (s.pendingHead < q.length && now - (q[s.pendingHead + 1] as number) >= CHALLENGE_FOLLOW_UP_MS) {
    const ext = q[s.pendingHead] as string;
    s.pendingHead += 2;
    if (triedOf(s, ext) === PENDING) {
      setTried(s, ext, PENDING_OLD);
      s.oldPending++;
    }
  }
  if (s.pendingHead === q.length) {
    s.pendingQueue = undefined;
    s.pendingHead = 0;
  }
}

/** Up to 30 extensions that count as probed, for the evidence. */
function examplesOf(s: State): string[] {
  const out: string[] = [];
  const counts = (x: Tried): boolean => x === PROBE || x === PENDING_OLD;
  if (s.firstExt !== undefined && counts(s.firstTried)) out.push(s.firstExt);
  if (s.moreTried !== undefined) {
    for (const [ext, x] of s.moreTried) {
      if (out.length >= 30) break;
      if (counts(x)) out.push(ext);
    }
  }
  return out;
}

/** probe: the request learned something and went no further; pending: a challenge that may yet be
 * answered; answered: credentials followed (a real client). */
function classify(a: AuthAttempt): TriedState | undefined {
  if (a.credentials) return a.outcome === 'not-found' ? PROBE : ANSWERED;
  switch (a.outcome) {
    case 'challenged':
      return PENDING;
    case 'not-found':
    case 'forbidden':
    case 'failed':
    case 'unanswered':
      return PROBE;
    case 'open':
      // OPTIONS answered without authentication is normal for one target; many targets is a scan.
      // An INVITE that progressed without credentials is call.unauthenticated-accepted's business.
      return a.method === 'OPTIONS' ? PROBE : undefined;
    default:
      return undefined;
  }
}
