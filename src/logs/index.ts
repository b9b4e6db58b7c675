/** PBX log line parsers by product name: the entry point for log tail and syslog sources. */

import type { LogProduct } from '../core/records.js';
import { threecxParser } from './3cx.js';
import { asteriskParser } from './asterisk.js';
import { freeswitchParser } from './freeswitch.js';
import { kamailioParser } from './kamailio.js';
import { LOG_KINDS, type LogLineParser } from './parser.js';

export { LOG_KINDS, PbxLogConfigSchema, type LogLineParser, type LogParseContext } from './parser.js';

const PARSERS: Readonly<Record<LogProduct, LogLineParser>> = {
  '3cx': threecxParser,
  asterisk: asteriskParser,
  freeswitch: freeswitchParser,
  kamailio: kamailioParser,
};

/** The parser for a product name ('3cx', 'asterisk', 'freeswitch', 'kamailio'), or undefined. */
export function logParserFor(kind: string): LogLineParser | undefined {
  return (LOG_KINDS as readonly string[]).includes(kind) ? PARSERS[kind as LogProduct] : undefined;
}
