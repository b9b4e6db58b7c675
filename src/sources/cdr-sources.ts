/**
 * The CDR inputs a configuration asks for, built in one call so `watch` wires them like its other
 * live sources: a tail per `cdr.files` entry, the active-socket listener (`cdr.listen`) and the
 * passive-socket client (`cdr.connect`), all feeding one parser and one sink.
 */
import { ThreeCxCdrParser } from '../cdr/3cx.js';
import { cdrParserOptions, type CdrConfig } from '../cdr/cdr-config.js';
import type { CdrSink } from '../cdr/line-stream.js';
import { CdrTail } from './cdr-file.js';
import { CdrClient, CdrListener } from './cdr-socket.js';
import type { Clock, LiveSource } from './live-source.js';

/** The parser of a validated `cdr` section (`siteTimeZone`: the configuration's `timeZone`). */
export function cdrParser(config: CdrConfig, siteTimeZone: string): ThreeCxCdrParser {
  return new ThreeCxCdrParser(cdrParserOptions(config, siteTimeZone));
}

/** Options of `createCdrSources`. */
export interface CdrSourcesOptions {
  /** Tails read existing files from their start (default: only calls written from now on). */
  readonly fromStart?: boolean;
  readonly now?: Clock;
}

/**
 * The live CDR sources of a validated `cdr` section, not started. Throws on a bad address (the
 * schema has already checked them, so only a hand-built config can).
 */
export function createCdrSources(
  config: CdrConfig,
  siteTimeZone: string,
  sink: CdrSink,
  options: CdrSourcesOptions = {},
): LiveSource[] {
  const parser = cdrParser(config, siteTimeZone);
  const now = options.now !== undefined ? { now: options.now } : {};
  const out: LiveSource[] = [];
  for (const path of config.files)
    out.push(
      new CdrTail({ path, ...now, ...(options.fromStart === true ? { fromStart: true } : {}) }, parser, sink),
    );
  if (config.listen !== undefined)
    out.push(
      new CdrListener(
        { listen: config.listen, allow: config.allow, maxConnections: config.maxConnections, ...now },
        parser,
        sink,
      ),
    );
  if (config.connect !== undefined)
    out.push(new CdrClient({ connect: config.connect, ...now }, parser, sink));
  return out;
}
