/**
 * The replay journal of `watch`: what reached detection (SIP frames, PBX log events, CDR calls), encoded in
 * batches for the store's bounded journal. After a restart the sensor replays it, so windows that
 * were filling when the process stopped (a brute force in progress) continue where they were; the
 * alert ids a replay makes are the ones already stored, so nothing is reported twice.
 *
 * One journal entry holds many records: [u32 length][record]..., a record being
 * [u8 kind][u16 header length][header JSON][payload bytes] (payload: the SIP message bytes).
 */
import { WATCH_JOURNAL_BATCH_BYTES } from '../config/limits.js';
import type { CdrCall, PbxLogEvent, Provenance, SipFrame, Transport } from '../core/records.js';

const KIND_FRAME = 1;
const KIND_LOG = 2;
const KIND_CDR = 3;

/** One replayed record. */
export type JournalRecord =
  { kind: 'frame'; frame: SipFrame } | { kind: 'log'; event: PbxLogEvent } | { kind: 'cdr'; call: CdrCall };

interface FrameHeader {
  t: number;
  s: string;
  sp: number;
  d: string;
  dp: number;
  tr: Transport;
  p: Provenance;
}

/** Collects records into batches of at most WATCH_JOURNAL_BATCH_BYTES. */
export class JournalWriter {
  private parts: Buffer[] = [];
  private bytes = 0;

  constructor(private readonly flushBatch: (batch: Buffer) => void) {}

  frame(f: SipFrame): void {
    const h: FrameHeader = {
      t: f.time,
      s: f.srcIp,
      sp: f.srcPort,
      d: f.dstIp,
      dp: f.dstPort,
      tr: f.transport,
      p: f.provenance,
    };
    this.add(KIND_FRAME, JSON.stringify(h), f.data);
  }

  log(e: PbxLogEvent): void {
    this.add(KIND_LOG, JSON.stringify(e), undefined);
  }

  cdr(c: CdrCall): void {
    this.add(KIND_CDR, JSON.stringify(c), undefined);
  }

  /** Hands the collected batch to the store (called on a timer and at shutdown). */
  flush(): void {
    if (this.parts.length === 0) return;
    const batch = Buffer.concat(this.parts, this.bytes);
    this.parts = [];
    this.bytes = 0;
    this.flushBatch(batch);
  }

  private add(kind: number, header: string, payload: Buffer | undefined): void {
    const h = Buffer.from(header, 'utf8');
    if (h.length > 0xffff) return;
    const len = 1 + 2 + h.length + (payload?.length ?? 0);
    const rec = Buffer.allocUnsafe(4 + 3 + h.length);
    rec.writeUInt32BE(len, 0);
    rec[4] = kind;
    rec.writeUInt16BE(h.length, 5);
    h.copy(rec, 7);
    this.parts.push(rec);
    if (payload !== undefined) this.parts.push(payload);
    this.bytes += rec.length + (payload?.length ?? 0);
    if (this.bytes >= WATCH_JOURNAL_BATCH_BYTES) this.flush();
  }
}

/** Decodes one journal entry; records that do not decode are skipped (counted in `bad`). */
export function decodeJournalBatch(batch: Buffer, out: JournalRecord[]): { bad: number } {
  let bad = 0;
  let p = 0;
  while (p + 4 <= batch.length) {
    const len = batch.readUInt32BE(p);
    const start = p + 4;
    const end = start + len;
    p = end;
    if (len < 3 || end > batch.length) {
      bad++;
      break;
    }
    const kind = batch[start];
    const hl = batch.readUInt16BE(start + 1);
    if (3 + hl > len) {
      bad++;
      continue;
    }
    let header: unknown;
    try {
      header = JSON.parse(batch.toString('utf8', start + 3, start + 3 + hl));
    } catch {
      bad++;
      continue;
    }
    if (kind === KIND_FRAME && isFrameHeader(header)) {
      out.push({
        kind: 'frame',
        frame: {
          time: header.t,
          srcIp: header.s,
          srcPort: header.sp,
          dstIp: header.d,
          dstPort: header.dp,
          transport: header.tr,
          provenance: header.p,
          data: Buffer.from(batch.subarray(start + 3 + hl, end)),
        },
      });
    } else if (kind === KIND_LOG && isLogEvent(header)) {
      out.push({ kind: 'log', event: header });
    } else if (kind === KIND_CDR && isCdrCall(header)) {
      out.push({ kind: 'cdr', call: header });
    } else bad++;
  }
  return { bad };
}

function isFrameHeader(h: unknown): h is FrameHeader {
  if (typeof h !== 'object' || h === null) return false;
  const x = h as Record<string, unknown>;
  return (
    typeof x.t === 'number' &&
    typeof x.s === 'string' &&
    typeof x.sp === 'number' &&
    typeof x.d === 'string' &&
    typeof x.dp === 'number' &&
    typeof x.tr === 'string' &&
    typeof x.p === 'object' &&
    x.p !== null
  );
}

function isLogEvent(h: unknown): h is PbxLogEvent {
  if (typeof h !== 'object' || h === null) return false;
  const x = h as Record<string, unknown>;
  return (
    typeof x.time === 'number' &&
    typeof x.kind === 'string' &&
    typeof x.srcIp === 'string' &&
    typeof x.detail === 'string'
  );
}

function isCdrCall(h: unknown): h is CdrCall {
  if (typeof h !== 'object' || h === null) return false;
  const x = h as Record<string, unknown>;
  return (
    typeof x.start === 'number' &&
    typeof x.caller === 'string' &&
    typeof x.dialled === 'string' &&
    typeof x.direction === 'string' &&
    typeof x.outcome === 'string' &&
    typeof x.provenance === 'object' &&
    x.provenance !== null
  );
}
