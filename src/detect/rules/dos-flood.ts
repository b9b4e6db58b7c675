import { DETECT_MAX_RATE_KEYS, TRACK_INVITE_TRANSACTION_TIMEOUT_MS } from '../../config/limits.js';
import { BoundedTable } from '../../core/bounded-table.js';
import type { RuleModule } from '../rule.js';
import {
  newRate,
  slidingCount,
  sourceGroup,
  type RateState,
  WINDOW_SWEEP_PER_HIT,
  withFrame,
} from '../window.js';

/** One source's rate of one method, the rate's fields inline (one object per key, not two: a
 * spoofed flood fills this table), and frames made with the first. The rate and the frames belong
 * to one run of activity: after two quiet windows the rate starts again (`slidingCount`) and so
 * do the frames. The answers of a run come in up to a transaction timeout after its last
 * request: the sweep takes an entry out once that has passed too. */
interface SourceRate extends RateState {
  answered: number;
  unanswered: number;
  frames: number[] | undefined;
}

/** dos.flood: request rate per source and method (and over all sources) above threshold. */
export const dosFlood: RuleModule = {
  meta: {
    id: 'dos.flood',
    title: 'SIP request flood',
    severity: 'high',
    description:
      'Requests of one method from one source (IPv6 /64) exceed `perSource` within `windowSeconds`, or requests of ' +
      'one method from all sources together exceed `overall`. Retransmissions are not counted. Requests the PBX ' +
      'stopped answering (it blocked the source) are counted as blocked in the evidence, not as new harm.',
    falsePositives:
      'A NATed office re-registering all its phones at once after an outage sends a burst of REGISTERs and challenges ' +
      "from one address; the default per-source threshold (300 in 10 s per method) sits well above fifty phones' " +
      'two-step registration. Raise it for a site behind a large NAT or an SBC (or declare the SBC as a trunk).',
    remediation:
      '3CX: keep Security → Anti-Hacking / flood protection on, block the source in the IP Blocklist, and do not ' +
      'expose SIP to the whole internet (allow only providers and known networks on the firewall). Any PBX: ' +
      'rate-limit per source (Kamailio pike, Asterisk/FreeSWITCH ACLs, an SBC), block at the firewall.',
    references: ['RFC 5390 (overload problem statement)', 'RFC 7339 (SIP overload control)'],
    thresholds: { perSource: 300, overall: 3000, windowSeconds: 10 },
    quietMs: 60_000,
  },
  create(ctx) {
    const perSource = ctx.thresholds.perSource ?? 300;
    const overall = ctx.thresholds.overall ?? 3000;
    const windowMs = (ctx.thresholds.windowSeconds ?? 10) * 1000;
    const sources = new BoundedTable<string, SourceRate>('dos.flood', DETECT_MAX_RATE_KEYS);
    const totals = new Map<string, RateState>();
    const totalSources = new Map<string, Map<string, number>>();
    /** Time of the request being counted, read by `over`. */
    let now = 0;
    /** True for a source whose run of activity is over and whose last answers are in. */
    const over = (s: SourceRate): boolean =>
      now - s.start >= 2 * windowMs + TRACK_INVITE_TRANSACTION_TIMEOUT_MS;
    return {
      onMessage(ev, _tx, retransmission): void {
        if (!ev.isRequest || retransmission || ev.method === 'ACK') return;
        const method = ev.method.length > 16 ? 'OTHER' : ev.method;
        const group = sourceGroup(ev.frame.srcIp);
        const key = `${group}\u0000${method}`;
        // Closures here capture `time`, never `ev`: an open alert keeps its evidence closure
        // (test/detect/alert-retention.test.ts).
        const time = ev.time;
        now = time;
        sources.sweep(WINDOW_SWEEP_PER_HIT, over);
        const s = sources.touch(key, () => ({
          start: time,
          current: 0,
          previous: 0,
          total: 0,
          firstTime: time,
          answered: 0,
          unanswered: 0,
          frames: undefined,
        }));
        if (s !== undefined) {
          const n = slidingCount(s, ev.time, windowMs);
          // The first request of a run (the rate started again): the last run's frames are not
          // this one's evidence.
          if (s.total === 1) s.frames = undefined;
          s.frames = withFrame(s.frames, ev.frame.provenance.frame);
          if (n > perSource && ctx.touch?.(`${group}|${method}`, ev.time, s.total) !== true) {
            const userAgent = ev.msg.userAgent ?? null;
            ctx.raise({
              key: `${group}|${method}`,
              time: ev.time,
              firstTime: s.firstTime,
              count: s.total,
              title: `${method} flood from ${ev.frame.srcIp}: ${Math.round(n)} in ${windowMs / 1000} s`,
              source: { ip: ev.frame.srcIp, port: ev.frame.srcPort, transport: ev.frame.transport },
              target: { ip: ev.frame.dstIp, port: ev.frame.dstPort },
              evidence: () => ({
                method,
                ratePerSecond: Math.round((n / windowMs) * 10_000) / 10,
                requests: s.total,
                blocked: s.unanswered,
                answered: s.answered,
                userAgent,
                frames: s.frames === undefined ? [] : [...s.frames],
              }),
            });
          }
        }
        let t = totals.get(method);
        if (t === undefined) {
          if (totals.size >= 64) return;
          t = newRate(ev.time);
          totals.set(method, t);
          totalSources.set(method, new Map());
        }
        const all = slidingCount(t, ev.time, windowMs);
        const per = totalSources.get(method) as Map<string, number>;
        const seen = per.get(group);
        if (seen !== undefined) per.set(group, seen + 1);
        else if (per.size < 1024) per.set(group, 1);
        if (all > overall && ctx.touch?.(`*|${method}`, ev.time, t.total) !== true) {
          ctx.raise({
            key: `*|${method}`,
            time: ev.time,
            firstTime: t.firstTime,
            count: t.total,
            title: `${method} flood from many sources: ${Math.round(all)} in ${windowMs / 1000} s`,
            target: { ip: ev.frame.dstIp, port: ev.frame.dstPort },
            sources: () => [...per.entries()].map(([ip, count]) => ({ ip, count })),
            sourcesTotal: per.size,
            evidence: () => ({
              method,
              ratePerSecond: Math.round((all / windowMs) * 10_000) / 10,
              requests: t.total,
            }),
          });
        }
      },
      onAttempt(a): void {
        const s = sources.get(`${sourceGroup(a.srcIp)}\u0000${a.method}`);
        if (s === undefined) return;
        if (a.outcome === 'unanswered') s.unanswered++;
        else s.answered++;
      },
    };
  },
};
