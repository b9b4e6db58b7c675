import type { SourceHealthEvent } from '../../core/records.js';
import { escapeText } from '../../core/escape.js';
import type { RuleModule } from '../rule.js';

const WHAT: Record<Exclude<SourceHealthEvent['kind'], 'recovered'>, string> = {
  down: 'stopped',
  silent: 'went silent',
  'parse-collapse': 'stopped producing recognisable lines',
};

/**
 * sensor.source-health: a live source of `watch` died, went silent, or its lines stopped parsing
 * (the symptom of a PBX update that changed its log format). A blind sensor must say so: an attacker
 * who can stop a log or a capture agent would otherwise be unseen.
 */
export const sensorSourceHealth: RuleModule = {
  meta: {
    id: 'sensor.source-health',
    title: 'A sensor source stopped working',
    severity: 'high',
    description:
      'A live source of `sipwarden watch` stopped: a capture whose tool exited, a listener whose socket failed, ' +
      'a log or HEP agent silent for longer than its quiet period, or a log whose lines stopped being recognised ' +
      '(fewer than 5% after at least half were). The alert closes when the source recovers.',
    falsePositives:
      'A PBX that is quiet at night can leave a log silent; raise its quiet period (sources.health.quietMs) or ' +
      'set it to 0 for that source. A log that mixes many non-security lines never counts as collapsed unless ' +
      'it was recognised well before.',
    remediation:
      'Check the source named in the alert: is the capture agent (Kamailio siptrace, heplify) running and ' +
      'sending to this sensor, does the log file still exist and grow, was the PBX updated (3CX updates can ' +
      'change log formats: report the new lines so the parser can learn them), does sipwarden still have the ' +
      'capture capability (dumpcap with cap_net_raw).',
    references: ['docs/rules/sensor.source-health.md'],
    thresholds: {},
    quietMs: 365 * 86_400_000,
  },
  create(ctx) {
    const open = new Map<string, { kind: SourceHealthEvent['kind']; first: number; count: number }>();
    return {
      onSourceHealth(e): void {
        const name = escapeText(e.source, 200);
        if (e.kind === 'recovered') {
          const o = open.get(name);
          if (o === undefined) return;
          open.delete(name);
          ctx.raise({
            key: name,
            time: e.time,
            firstTime: o.first,
            count: o.count,
            title: `Source ${name} recovered`,
            evidence: { source: name, condition: o.kind, recovered: escapeText(e.detail, 300) },
            close: true,
          });
          return;
        }
        const o = open.get(name) ?? { kind: e.kind, first: e.time, count: 0 };
        o.kind = e.kind;
        o.count++;
        open.set(name, o);
        ctx.raise({
          key: name,
          time: e.time,
          firstTime: o.first,
          count: o.count,
          title: `Source ${name} ${WHAT[e.kind]}`,
          evidence: { source: name, condition: e.kind, detail: escapeText(e.detail, 300) },
        });
      },
    };
  },
};
