import { countInto, StatusCounts } from '../../core/counts.js';
import { DETECT_MAX_AUTH_KEYS } from '../../config/limits.js';
import type { AuthAttempt } from '../attempts.js';
import type { RuleModule } from '../rule.js';
import { KeyedWindows, sourceGroup } from '../window.js';

/** Extensions remembered per source window (more are counted, not remembered). */
const MAX_EXTENSIONS = 512;
/** A challenge not followed by credentials for the same extension within this long was a probe. */
const CHALLENGE_FOLLOW_UP_MS = 5_000;

interface Tried {
  state: 'probe' | 'pending' | 'answered';
  time: number;
  method: string;
  status: number;
  /** A pending challenge left unanswered past CHALLENGE_FOLLOW_UP_MS: counts as a probe. */
  old: boolean;
}

interface State {
  readonly tried: Map<string, Tried>;
  overflow: number;
  /** Extensions in state probe, and pending ones gone old: kept as counts so an attempt costs O(1)
   * instead of a walk over every extension tried (bench/profile.ts showed the walk on floods). */
  probeCount: number;
  oldPending: number;
  /** Extensions that entered pending, oldest first (each once: bounded by MAX_EXTENSIONS). */
  readonly pendingQueue: { ext: string; time: number }[];
  pendingHead: number;
  /** Requests that learned something (probes and challenges), repeats included. */
  probeRequests: number;
  readonly methods: Record<string, number>;
  readonly statuses: StatusCounts;
  readonly userAgents: Set<string>;
  readonly frames: number[];
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
      () => ({
        tried: new Map(),
        overflow: 0,
        probeCount: 0,
        oldPending: 0,
        pendingQueue: [],
        pendingHead: 0,
        probeRequests: 0,
        methods: {},
        statuses: new StatusCounts(),
        userAgents: new Set(),
        frames: [],
      }),
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
        const t = s.tried.get(a.extension);
        if (t === undefined) {
          if (s.tried.size < MAX_EXTENSIONS) {
            s.tried.set(a.extension, { state, time: a.time, method: a.method, status: a.status, old: false });
            if (state === 'probe') s.probeCount++;
            else if (state === 'pending') s.pendingQueue.push({ ext: a.extension, time: a.time });
          } else if (state === 'probe') s.overflow++;
        } else if (state === 'answered' || (state === 'probe' && t.state === 'pending')) {
          if (t.state === 'probe') s.probeCount--;
          if (t.old) {
            s.oldPending--;
            t.old = false;
          }
          t.state = state;
          t.time = a.time;
          if (state === 'probe') s.probeCount++;
        }
        ripen(s, a.time);
        if (state === 'answered') return;
        s.probeRequests++;
        countInto(s.methods, a.method);
        s.statuses.add(a.status);
        if (a.userAgent !== '' && s.userAgents.size < 4) s.userAgents.add(a.userAgent);
        const frame = a.provenance.frame;
        if (frame !== undefined && s.frames.length < 20) s.frames.push(frame);
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
            methods: { ...s.methods },
            statuses: s.statuses.toRecord(),
            userAgents: [...s.userAgents],
            frames: [...s.frames],
          }),
        });
      },
    };
  },
};

/** Marks pending challenges left unanswered past the follow-up time as probes. */
function ripen(s: State, now: number): void {
  const q = s.pendingQueue;
  while (s.pendingHead < q.length && now - q[s.pendingHead]!.time >= CHALLENGE_FOLLOW_UP_MS) {
    const x = s.tried.get(q[s.pendingHead]!.ext);
    s.pendingHead++;
    if (x !== undefined && x.state === 'pending' && !x.old) {
      x.old = true;
      s.oldPending++;
    }
  }
  if (s.pendingHead === q.length && q.length > 0) {
    q.length = 0;
    s.pendingHead = 0;
  }
}

/** Up to 30 extensions that count as probed, for the evidence. */
function examplesOf(s: State): string[] {
  const out: string[] = [];
  for (const [ext, x] of s.tried) {
    if (x.state === 'probe' || (x.state === 'pending' && x.old)) out.push(ext);
    if (out.length >= 30) break;
  }
  return out;
}

/** probe: the request learned something and went no further; pending: a challenge that may yet be
 * answered; answered: credentials followed (a real client). */
function classify(a: AuthAttempt): Tried['state'] | undefined {
  if (a.credentials) return a.outcome === 'not-found' ? 'probe' : 'answered';
  switch (a.outcome) {
    case 'challenged':
      return 'pending';
    case 'not-found':
    case 'forbidden':
    case 'failed':
    case 'unanswered':
      return 'probe';
    case 'open':
      // OPTIONS answered without authentication is normal for one target; many targets is a scan.
      // An INVITE that progressed without credentials is call.unauthenticated-accepted's business.
      return a.method === 'OPTIONS' ? 'probe' : undefined;
    default:
      return undefined;
  }
}
