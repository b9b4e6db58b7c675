/**
 * Watches live sources' stats over wall time and reports when one stops being useful: it died
 * (`down`: a capture tool exited, a socket failed), it went quiet for longer than its quiet period
 * (`silent`), or its lines stopped being recognised (`parse-collapse`: the symptom of a PBX update
 * that changed its log format, which otherwise blinds log-based detection without a sound). Each
 * condition is reported once when it starts and once when it ends (`recovered`).
 *
 * Pure logic: `check(now)` reads each source's stats and returns the events; the caller owns the
 * timer and the clock, so tests are deterministic.
 *
 * Parse collapse works on windows of at least HEALTH_COLLAPSE_MIN_LINES lines (accepted lines;
 * recognised lines come from the consumer through the source's `recognised` count): a window
 * recognising under HEALTH_COLLAPSE_LOW_RATIO after an earlier one recognised at least
 * HEALTH_COLLAPSE_HEALTHY_RATIO has collapsed. A source that never recognised much (a log the
 * parsers do not know) is not reported: that is configuration, not a change.
 */
import type { SourceKind } from '../core/records.js';
import {
  HEALTH_COLLAPSE_HEALTHY_RATIO,
  HEALTH_COLLAPSE_LOW_RATIO,
  HEALTH_COLLAPSE_MIN_LINES,
  HEALTH_MAX_SOURCES,
  HEALTH_QUIET_LOG_MS,
  HEALTH_QUIET_PACKET_MS,
} from '../config/limits.js';
import type { SourceStats } from './live-source.js';

/** What a health event says about a source. */
export type HealthEventKind = 'down' | 'silent' | 'parse-collapse' | 'recovered';

/** One change in a source's health. `time` is the wall time given to `check`. */
export interface HealthEvent {
  readonly time: number;
  readonly source: string;
  readonly kind: HealthEventKind;
  /** One line for a human; for `recovered`, which condition ended. */
  readonly detail: string;
}

/** Per-source settings. */
export interface HealthWatchOptions {
  /** Quiet period before `silent`; 0 disables. Default HEALTH_QUIET_LOG_MS for log/syslog/cdr sources, HEALTH_QUIET_PACKET_MS for hep/capture. */
  readonly quietMs?: number;
}

/** Monitor-wide settings (defaults from limits.ts). */
export interface SourceHealthOptions {
  readonly collapseMinLines?: number;
  readonly collapseLowRatio?: number;
  readonly collapseHealthyRatio?: number;
  readonly maxSources?: number;
}

interface Watched {
  readonly name: string;
  readonly stats: () => SourceStats;
  readonly quietMs: number;
  down: boolean;
  silent: boolean;
  collapsed: boolean;
  /** Wall time from which silence is measured when nothing was ever received. */
  since: number | undefined;
  winAccepted: number;
  winRecognised: number;
  /** A window recognised at least the healthy ratio since the last collapse. */
  healthy: boolean;
}

/** The default quiet period of a source kind. */
export function defaultQuietMs(kind: SourceKind): number {
  return kind === 'hep' || kind === 'capture' ? HEALTH_QUIET_PACKET_MS : HEALTH_QUIET_LOG_MS;
}

/** Health monitor over a set of sources; see the module comment. */
export class SourceHealth {
  private readonly sources = new Map<string, Watched>();
  private readonly minLines: number;
  private readonly low: number;
  private readonly healthyRatio: number;
  private readonly maxSources: number;

  constructor(options: SourceHealthOptions = {}) {
    this.minLines = options.collapseMinLines ?? HEALTH_COLLAPSE_MIN_LINES;
    this.low = options.collapseLowRatio ?? HEALTH_COLLAPSE_LOW_RATIO;
    this.healthyRatio = options.collapseHealthyRatio ?? HEALTH_COLLAPSE_HEALTHY_RATIO;
    this.maxSources = options.maxSources ?? HEALTH_MAX_SOURCES;
  }

  /** Watches a source by name (e.g. a LiveSource's `name`, `kind` and `() => src.stats()`). */
  add(name: string, kind: SourceKind, stats: () => SourceStats, options: HealthWatchOptions = {}): void {
    if (!this.sources.has(name) && this.sources.size >= this.maxSources)
      throw new Error(`source health: more than ${this.maxSources} sources`);
    this.sources.set(name, {
      name,
      stats,
      quietMs: options.quietMs ?? defaultQuietMs(kind),
      down: false,
      silent: false,
      collapsed: false,
      since: undefined,
      winAccepted: -1,
      winRecognised: 0,
      healthy: false,
    });
  }

  /** Stops watching a source. */
  remove(name: string): void {
    this.sources.delete(name);
  }

  /** Reads every source's stats at wall time `now` and returns what changed. */
  check(now: number): HealthEvent[] {
    const out: HealthEvent[] = [];
    for (const w of this.sources.values()) this.checkOne(w, w.stats(), now, out);
    return out;
  }

  private checkOne(w: Watched, s: SourceStats, now: number, out: HealthEvent[]): void {
    const ev = (kind: HealthEventKind, detail: string): void => {
      out.push({ time: now, source: w.name, kind, detail });
    };
    if (w.since === undefined) w.since = now;
    if (!s.up && !w.down) {
      w.down = true;
      ev('down', s.error ?? 'the source stopped');
    } else if (s.up && w.down) {
      w.down = false;
      ev('recovered', 'up again');
    }

    if (w.quietMs > 0 && !w.down) {
      const last = s.lastReceivedAt ?? w.since;
      const quiet = now - last;
      if (quiet >= w.quietMs && !w.silent) {
        w.silent = true;
        ev(
          'silent',
          `nothing received for ${Math.round(quiet / 1000)} s (quiet period ${Math.round(w.quietMs / 1000)} s)`,
        );
      } else if (quiet < w.quietMs && w.silent) {
        w.silent = false;
        ev('recovered', 'receiving again');
      }
    }

    if (s.recognised === undefined) return;
    if (w.winAccepted < 0 || s.accepted < w.winAccepted) {
      // First look, or the counters were reset (a new source object under the same name).
      w.winAccepted = s.accepted;
      w.winRecognised = s.recognised;
      return;
    }
    const lines = s.accepted - w.winAccepted;
    if (lines < this.minLines) return;
    const ratio = Math.max(0, s.recognised - w.winRecognised) / lines;
    w.winAccepted = s.accepted;
    w.winRecognised = s.recognised;
    const pct = (r: number): string => `${(r * 100).toFixed(1)} %`;
    if (ratio < this.low && w.healthy && !w.collapsed) {
      w.collapsed = true;
      ev(
        'parse-collapse',
        `${pct(ratio)} of the last ${lines} lines recognised (was at least ${pct(this.healthyRatio)}): has the log format changed?`,
      );
    } else if (ratio >= this.healthyRatio) {
      if (w.collapsed) {
        w.collapsed = false;
        ev('recovered', `recognition back to ${pct(ratio)}`);
      }
      w.healthy = true;
    }
  }
}
