/** One rule behind the real pipeline (parse, track, engine, alert book), fed hand-written SIP text. */
import type { AlertJson } from '../../src/core/alert.js';
import { AlertBook } from '../../src/detect/alert-book.js';
import { DetectionEngine, type RuleSettings } from '../../src/detect/engine.js';
import type { Detector, RuleModule } from '../../src/detect/rule.js';
import { SiteModel } from '../../src/detect/site.js';
import type { SipFrame } from '../../src/core/records.js';
import { Pipeline } from '../../src/pipeline.js';
import { parseSipMessage } from '../../src/sip/message.js';
import { toSipEvent, type SipEvent } from '../../src/track/sip-event.js';

/** What a rule test drives: `send` one message (LF line ends are turned into CRLF), `finish` the input. */
export interface RuleHarness<D extends Detector> {
  readonly revisions: AlertJson[];
  readonly engine: DetectionEngine;
  /** The detector the rule created, for its counters. */
  readonly detector: D;
  send(time: number, src: string, dst: string, text: string): number;
  finish(): AlertJson[];
}

/** A UDP frame `src` → `dst` (port 5060 both) of hand-written SIP text: LF line ends become CRLF. */
export function unitFrame(frame: number, time: number, src: string, dst: string, text: string): SipFrame {
  return {
    time,
    srcIp: src,
    srcPort: 5060,
    dstIp: dst,
    dstPort: 5060,
    transport: 'udp',
    provenance: { kind: 'capture', file: 'unit', frame },
    data: Buffer.from(text.replace(/\r?\n/g, '\r\n'), 'latin1'),
  };
}

/** The event of hand-written SIP text as the pipeline makes it, for calling a detector directly. */
export function unitEvent(time: number, src: string, dst: string, text: string, frame = 1): SipEvent {
  const f = unitFrame(frame, time, src, dst, text);
  const ev = toSipEvent(f, parseSipMessage(f.data));
  if (ev === undefined) throw new Error(`unitEvent: not a SIP message: ${text.slice(0, 40)}`);
  return ev;
}

/** Builds the pipeline with `rule` only, recording every alert revision. */
export function ruleHarness<D extends Detector>(
  rule: RuleModule,
  settings: Record<string, RuleSettings> = {},
  site: SiteModel = new SiteModel(),
): RuleHarness<D> {
  const revisions: AlertJson[] = [];
  const book = new AlertBook('default', 'test', (a) => revisions.push(a));
  let detector: D | undefined;
  const wrapped: RuleModule = { meta: rule.meta, create: (ctx) => (detector = rule.create(ctx) as D) };
  const engine = new DetectionEngine([wrapped], book, site, settings);
  const pipeline = new Pipeline({ listener: engine });
  let frame = 0;
  return {
    revisions,
    engine,
    detector: detector as unknown as D,
    send(time, src, dst, text) {
      pipeline.sipFrame(unitFrame(++frame, time, src, dst, text));
      return frame;
    },
    finish() {
      pipeline.finish();
      engine.flush();
      return book.alerts();
    },
  };
}
