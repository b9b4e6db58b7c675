import { DETECT_MAX_AUTH_KEYS } from '../../config/limits.js';
import type { Anomaly, SipFrame } from '../../core/records.js';
import type { RuleModule } from '../rule.js';
import { CappedSet, KeyedWindows, sourceGroup } from '../window.js';

interface State {
  readonly codes: CappedSet;
  readonly frames: number[];
  burstStart: number;
  burst: number;
}

/** protocol.malformed: parser anomalies (RFC 3261/4475 violations), medium in bursts. */
export const protocolMalformed: RuleModule = {
  meta: {
    id: 'protocol.malformed',
    title: 'Malformed SIP messages',
    severity: 'low',
    description:
      'Messages from one source violate the SIP grammar (each violation is a named anomaly: bad Content-Length, ' +
      'unterminated quotes, missing mandatory headers, oversized values...). A few are interoperability bugs; a ' +
      'burst (`burst` within `burstSeconds`) looks like fuzzing or a parser attack and is raised to medium.',
    falsePositives:
      'Old or cheap devices with small grammar slips send them steadily at a low rate; that stays low. The ' +
      'anomaly codes in the evidence tell which.',
    remediation:
      '3CX: keep the PBX updated and block sources that fuzz it. Any PBX: update the SIP stack, drop malformed ' +
      'messages at an SBC, block the source if it is not one of your devices; fix or replace a device of yours that ' +
      'sends them.',
    references: ['RFC 3261 §25 (grammar)', 'RFC 4475 (torture tests)'],
    thresholds: { messages: 3, burst: 20, burstSeconds: 60, windowSeconds: 600 },
    quietMs: 600_000,
  },
  create(ctx) {
    const minMessages = ctx.thresholds.messages ?? 3;
    const burst = ctx.thresholds.burst ?? 20;
    const burstMs = (ctx.thresholds.burstSeconds ?? 60) * 1000;
    const windows = new KeyedWindows<State>(
      'protocol.malformed',
      DETECT_MAX_AUTH_KEYS,
      (ctx.thresholds.windowSeconds ?? 600) * 1000,
      () => ({ codes: new CappedSet(32), frames: [], burstStart: -Infinity, burst: 0 }),
    );
    return {
      onMalformed(frame: SipFrame, anomalies: readonly Anomaly[]): void {
        const group = sourceGroup(frame.srcIp);
        const w = windows.hit(group, frame.time);
        if (w === undefined) return;
        const s = w.data;
        for (const a of anomalies) s.codes.add(a.code);
        if (frame.provenance.frame !== undefined && s.frames.length < 20)
          s.frames.push(frame.provenance.frame);
        if (frame.time - s.burstStart > burstMs) {
          s.burstStart = frame.time;
          s.burst = 0;
        }
        s.burst++;
        if (w.count < minMessages) return;
        // A burst raises the severity: only the full raise can say so.
        if (s.burst < burst && ctx.touch?.(group, frame.time, w.count) === true) return;
        ctx.raise({
          key: group,
          time: frame.time,
          firstTime: w.firstTime,
          count: w.count,
          title: `${w.count} malformed SIP messages from ${frame.srcIp}`,
          source: { ip: frame.srcIp, port: frame.srcPort, transport: frame.transport },
          target: { ip: frame.dstIp, port: frame.dstPort },
          ...(s.burst >= burst ? { severity: 'medium' as const } : {}),
          evidence: () => ({
            anomalies: Object.fromEntries(s.codes.top(32).map((c) => [c.value, c.count])),
            frames: [...s.frames],
          }),
        });
      },
    };
  },
};
