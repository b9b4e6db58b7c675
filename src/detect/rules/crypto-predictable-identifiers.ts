import {
  DETECT_IDENTIFIER_MAX_CHARS,
  DETECT_IDENTIFIER_MAX_SOURCES,
  DETECT_IDENTIFIER_SAMPLES_PER_FIELD,
} from '../../config/limits.js';
import { escapeText } from '../../core/escape.js';
import type { SipEvent } from '../../track/sip-event.js';
import type { Transaction } from '../../track/transactions.js';
import { countInto } from '../../core/counts.js';
import type { DetectorContext, RaiseInput, RuleModule } from '../rule.js';
import { CappedSet, KeyedWindows, sourceGroup, withFrame } from '../window.js';
import { assessRandomness, type RandomnessVerdict } from './crypto-weak-nonce.js';

/** The identifiers a UA must make unguessable (RFC 3261 §8.1.1.4, §8.1.1.7, §19.3). */
export type IdentifierField = 'callId' | 'branch' | 'fromTag';

const FIELDS: readonly IdentifierField[] = ['callId', 'branch', 'fromTag'];

/** Samples of one field of one source. */
interface FieldSamples {
  /** Latest distinct values, oldest first; emptied once the field is judged. NO_VALUES while
   * empty: pushed to only when it holds a value. */
  values: string[];
  added: number;
  nextAnalysis: number;
  judged: boolean;
  verdict: RandomnessVerdict | undefined;
  /** Replaced, never changed in place: every field starts with NO_EXAMPLES. */
  examples: readonly string[];
}

interface SourceState {
  readonly fields: Record<IdentifierField, FieldSamples>;
  readonly userAgents: CappedSet;
  /** Made at the first frame (see `sample` on array sizes). */
  frames: number[] | undefined;
  readonly methods: Record<string, number>;
  /** Requests whose Call-ID or branch has SIPp's shape. */
  sippShaped: number;
  spoken: boolean;
  /** Spoken at info (only OPTIONS so far): raised to low once the source sends anything else. */
  spokenAtInfo: boolean;
  /** What was raised, to raise it again at low. */
  raised: RaiseInput | undefined;
  /** Every field judged healthy: nothing can be raised before the window closes. */
  settled: boolean;
  /** The last User-Agent value seen and its escaped form (a source repeats one value). */
  lastAgent: string;
  lastAgentShown: string;
}

/** SIPp's default Call-ID: `<call number>-<pid>@<host>`. */
const SIPP_CALL_ID = /^\d+-\d+@/;
/** SIPp's branch: `z9hG4bK-<pid>-<call number>-<index>`. */
const SIPP_BRANCH = /^z9hG4bK-\d+-\d+-\d+$/;

/** What the evidence names when every request of a source had SIPp's Call-ID or branch shape. */
const SIPP_NOTE =
  'SIPp (Call-ID <call number>-<pid>@<host>, branch z9hG4bK-<pid>-<call number>-<index>): a test tool';

/** The empty lists every field starts with (replaced, never pushed to): most sources of a flood
 * send one request, and an array made empty grows to 17 slots at its first push. */
const NO_VALUES: string[] = [];
const NO_EXAMPLES: readonly string[] = [];

/** True when the field was judged guessable. */
function isFlagged(f: FieldSamples): boolean {
  const kind = f.verdict?.kind;
  return kind === 'sequential' || kind === 'low-entropy';
}

function newField(first: number): FieldSamples {
  return {
    values: NO_VALUES,
    added: 0,
    nextAnalysis: first,
    judged: false,
    verdict: undefined,
    examples: NO_EXAMPLES,
  };
}

/** crypto.predictable-identifiers: a source's Call-IDs, branches or From tags are sequential or low-entropy. */
export const cryptoPredictableIdentifiers: RuleModule = {
  meta: {
    id: 'crypto.predictable-identifiers',
    title: 'Predictable Call-ID, branch or tag values',
    severity: 'low',
    description:
      'Requests a source originates (one Via: not relayed) carry Call-IDs, Via branches or From tags that can be ' +
      'guessed: values of one shape whose numbers count up (`1-12345@127.0.0.1`, `2-12345@...`), a bare counter or ' +
      'clock, or fewer than `minRandomBits` bits that change unpredictably from one value to the next, judged over ' +
      'at least `minSamples` distinct values. Someone who can guess them can forge in-dialog requests (BYE, ' +
      're-INVITE) or match responses without seeing the traffic. Speaks once per source per window. The evidence ' +
      "names SIPp when every request had SIPp's Call-ID or branch shape. A source that sent only OPTIONS so far " +
      '(keepalives, pings: no dialog to hijack) is reported at info, raised to low once it sends another method.',
    falsePositives:
      "Test and load tools are predictable by design and are reported (SIPp's sequential Call-IDs and branches are a " +
      "true finding, at low severity). Phones' random hex tags and UUID Call-IDs are healthy; a fixed prefix, a " +
      'host part or a timestamp before random characters is not held against a value. A Call-ID kept across ' +
      'REGISTER refreshes is normal and is counted once. Requests relayed by a proxy (more than one Via) carry ' +
      "other UAs' values and are not judged.",
    remediation:
      "3CX: update 3CX and the phones' firmware (3CX provisioning templates set the phone models it supports), and " +
      'move remote phones to TLS or the 3CX SBC so identifiers are not seen in transit. Any PBX or UA (Asterisk, ' +
      'Kamailio, FreeSWITCH, phones): generate Call-IDs, branches and tags from a cryptographic random source with at ' +
      'least 32 random bits (RFC 3261 §19.3), and never let test tools such as SIPp talk to production systems.',
    references: [
      'RFC 3261 §8.1.1.4, §8.1.1.7, §19.3 (Call-ID, branch and tag uniqueness and randomness)',
      'RFC 4475',
    ],
    thresholds: { minSamples: 8, minRandomBits: 24, windowSeconds: 3600 },
    quietMs: 3_600_000,
  },
  create(ctx) {
    return new IdentifierDetector(ctx);
  },
};

/** The detector behind `cryptoPredictableIdentifiers` (exported for tests and metrics). */
export class IdentifierDetector {
  private readonly minSamples: number;
  private readonly minBits: number;
  private readonly windows: KeyedWindows<SourceState>;

  constructor(private readonly ctx: DetectorContext) {
    this.minSamples = Math.max(3, ctx.thresholds.minSamples ?? 8);
    this.minBits = ctx.thresholds.minRandomBits ?? 24;
    const first = Math.min(this.minSamples, DETECT_IDENTIFIER_SAMPLES_PER_FIELD);
    this.windows = new KeyedWindows<SourceState>(
      'crypto.predictable-identifiers',
      DETECT_IDENTIFIER_MAX_SOURCES,
      (ctx.thresholds.windowSeconds ?? 3600) * 1000,
      () => ({
        fields: { callId: newField(first), branch: newField(first), fromTag: newField(first) },
        userAgents: new CappedSet(4),
        frames: undefined,
        methods: {},
        sippShaped: 0,
        spoken: false,
        spokenAtInfo: false,
        raised: undefined,
        settled: false,
        lastAgent: '',
        lastAgentShown: '',
      }),
    );
  }

  /** Sources followed (for metrics and tests). */
  sizes(): { sources: number } {
    return { sources: this.windows.size };
  }

  onMessage(ev: SipEvent, _tx: Transaction | undefined, retransmission: boolean): void {
    // ACK and CANCEL reuse the INVITE's identifiers; relayed requests carry someone else's.
    if (!ev.isRequest || retransmission || ev.method === 'ACK' || ev.method === 'CANCEL') return;
    if (ev.msg.vias.length !== 1) return;
    const group = sourceGroup(ev.frame.srcIp);
    const w = this.windows.hit(group, ev.time);
    if (w === undefined) return;
    const s = w.data;
    // Nothing more can be raised in this window (every field judged healthy, or spoken at low), and
    // the state below only feeds a raise: verdicts change only while a field is sampled.
    if (s.settled || (s.spoken && !s.spokenAtInfo)) return;
    countInto(s.methods, ev.method);
    if (s.spoken) {
      if (s.spokenAtInfo && ev.method !== 'OPTIONS' && s.raised !== undefined) {
        // Now there are dialogs or registrations whose identifiers could be guessed.
        s.spokenAtInfo = false;
        const before = s.raised.evidence as Record<string, unknown>;
        this.ctx.raise({
          ...s.raised,
          time: ev.time,
          count: w.count,
          severity: 'low',
          evidence: { ...before, optionsOnly: false, methods: { ...s.methods } },
        });
        s.raised = undefined;
      }
      return;
    }
    if (SIPP_CALL_ID.test(ev.callId) || SIPP_BRANCH.test(ev.branch)) s.sippShaped++;
    this.sample(s.fields.callId, ev.callId);
    this.sample(s.fields.branch, ev.branch);
    this.sample(s.fields.fromTag, ev.fromTag);
    const ua = ev.msg.userAgent;
    if (ua !== undefined) {
      if (ua !== s.lastAgent) {
        s.lastAgent = ua;
        s.lastAgentShown = escapeText(ua, 80);
      }
      s.userAgents.add(s.lastAgentShown);
    }
    s.frames = withFrame(s.frames, ev.frame.provenance.frame);
    const f = s.fields;
    if (!isFlagged(f.callId) && !isFlagged(f.branch) && !isFlagged(f.fromTag)) {
      s.settled = f.callId.judged && f.branch.judged && f.fromTag.judged;
      return;
    }
    const flagged = FIELDS.filter((k) => isFlagged(f[k]));
    s.spoken = true;
    const fields: Record<string, unknown> = {};
    for (const k of FIELDS) {
      const f = s.fields[k];
      fields[k] = {
        verdict: f.verdict?.kind ?? 'undetermined',
        estimatedRandomBits: f.verdict?.estimatedBits ?? null,
        distinctValues: f.added,
        examples: [...f.examples],
      };
      f.values = NO_VALUES;
    }
    const names = flagged.map((k) => (k === 'callId' ? 'Call-ID' : k === 'branch' ? 'branch' : 'From tag'));
    const optionsOnly = (s.methods.OPTIONS ?? 0) === w.count;
    const input: RaiseInput = {
      key: group,
      time: ev.time,
      firstTime: w.firstTime,
      count: w.count,
      title: `Predictable ${names.join(', ')} values from ${ev.frame.srcIp}`,
      source: { ip: ev.frame.srcIp, port: ev.frame.srcPort, transport: ev.frame.transport },
      target: { ip: ev.frame.dstIp, port: ev.frame.dstPort },
      ...(optionsOnly ? { severity: 'info' as const } : {}),
      evidence: {
        fields,
        flagged,
        ...(s.sippShaped === w.count ? { generator: SIPP_NOTE } : {}),
        ...(optionsOnly ? { optionsOnly: true } : {}),
        methods: { ...s.methods },
        requests: w.count,
        userAgents: s.userAgents.top(4).map((x) => x.value),
        frames: s.frames === undefined ? [] : [...s.frames],
      },
    };
    if (optionsOnly) {
      s.spokenAtInfo = true;
      s.raised = input;
    }
    this.ctx.raise(input);
  }

  private sample(f: FieldSamples, value: string): void {
    if (f.judged || value === '') return;
    const v =
      value.length > DETECT_IDENTIFIER_MAX_CHARS ? value.slice(0, DETECT_IDENTIFIER_MAX_CHARS) : value;
    // Distinct values only: a Call-ID kept across REGISTER refreshes is one value.
    if (f.values.includes(v)) return;
    if (f.values.length === 0) f.values = [v];
    else f.values.push(v);
    if (f.values.length > DETECT_IDENTIFIER_SAMPLES_PER_FIELD) f.values.shift();
    f.added++;
    if (f.added < f.nextAnalysis) return;
    f.nextAnalysis = Math.min(f.added * 2, f.added + DETECT_IDENTIFIER_SAMPLES_PER_FIELD);
    const verdict = assessRandomness(f.values, this.minSamples, this.minBits);
    f.verdict = verdict;
    if (verdict.kind === 'sequential' || verdict.kind === 'low-entropy') {
      f.examples = f.values.slice(-3).map((x) => escapeText(x, DETECT_IDENTIFIER_MAX_CHARS));
      f.judged = true;
      f.values = NO_VALUES;
    } else if (verdict.kind === 'healthy' && f.added >= DETECT_IDENTIFIER_SAMPLES_PER_FIELD) {
      // Judged healthy on a full ring: stop sampling, free the memory.
      f.judged = true;
      f.values = NO_VALUES;
    }
  }
}
