/**
 * IPv4 and IPv6 fragment reassembly, bounded in datagrams, bytes and fragments, expired in event
 * time (the frames' times, never a timer).
 *
 * Overlap policy:
 * - a fragment whose bytes were all received before, identical, is a duplicate (a capture seeing a
 *   frame twice): counted in `duplicates`, no anomaly;
 * - any other overlap raises `ip_fragment_overlap` (detail says whether the bytes differ);
 *   IPv4 keeps the first-seen bytes and adds only the new ones; IPv6 discards the whole datagram
 *   as RFC 5722 requires receivers to, and swallows its later fragments until it times out, so the
 *   monitor sees what an RFC-conforming PBX sees.
 * The reassembled datagram belongs to the frame of the fragment that completed it, as in tshark.
 */
import type { LocatedAnomaly, Provenance } from '../core/records.js';
import {
  DEFRAG_MAX_DATAGRAM_BYTES,
  DEFRAG_MAX_FRAGMENTS_PER_DATAGRAM,
  DEFRAG_MAX_PENDING_DATAGRAMS,
  DEFRAG_MAX_TOTAL_BYTES,
  DEFRAG_TIMEOUT_MS,
} from '../config/limits.js';

/** Bounds of the reassembly table (defaults from src/config/limits.ts). */
export interface DefragLimits {
  readonly maxPendingDatagrams: number;
  readonly maxDatagramBytes: number;
  readonly maxFragmentsPerDatagram: number;
  readonly maxTotalBytes: number;
  readonly timeoutMs: number;
}

/** Default reassembly bounds. */
export const DEFAULT_DEFRAG_LIMITS: DefragLimits = {
  maxPendingDatagrams: DEFRAG_MAX_PENDING_DATAGRAMS,
  maxDatagramBytes: DEFRAG_MAX_DATAGRAM_BYTES,
  maxFragmentsPerDatagram: DEFRAG_MAX_FRAGMENTS_PER_DATAGRAM,
  maxTotalBytes: DEFRAG_MAX_TOTAL_BYTES,
  timeoutMs: DEFRAG_TIMEOUT_MS,
};

/** Where reassembly reports anomalies. */
export interface AnomalyReporter {
  anomaly(a: LocatedAnomaly): void;
}

/** Counters of the reassembly table. */
export interface DefragStats {
  fragments: number;
  reassembled: number;
  duplicates: number;
  overlaps: number;
  timeouts: number;
  evictions: number;
  /** Fragments dropped: malformed, too many, too big, inconsistent, or of a discarded datagram. */
  dropped: number;
}

interface Piece {
  start: number;
  end: number;
  data: Buffer;
}

class Pending {
  readonly pieces: Piece[] = [];
  covered = 0;
  bytes = 0;
  totalLen = -1;
  maxEnd = 0;
  proto = -1;
  fragments = 0;
  discarded = false;
  constructor(
    readonly key: string,
    readonly firstTime: number,
    readonly provenance: Provenance,
  ) {}
}

/** Reassembles IP datagrams keyed by (version, src, dst, id[, proto for IPv4]). */
export class Defragmenter {
  /** Counters; read freely. */
  readonly stats: DefragStats = {
    fragments: 0,
    reassembled: 0,
    duplicates: 0,
    overlaps: 0,
    timeouts: 0,
    evictions: 0,
    dropped: 0,
  };
  /** Protocol of the datagram `add` last returned (IPv6: next header of its offset-zero fragment). */
  proto = 0;
  private readonly pending = new Map<string, Pending>();
  private total = 0;
  private readonly limits: DefragLimits;

  /** Creates an empty table reporting anomalies to `reporter`. */
  constructor(
    private readonly reporter: AnomalyReporter,
    limits: Partial<DefragLimits> = {},
  ) {
    this.limits = { ...DEFAULT_DEFRAG_LIMITS, ...limits };
  }

  /** Datagrams waiting for fragments. */
  get pendingDatagrams(): number {
    return this.pending.size;
  }

  /** Fragment bytes held. */
  get pendingBytes(): number {
    return this.total;
  }

  /**
   * Adds the fragment buf[start, end) at byte `offset` of datagram `key`. Returns the reassembled
   * payload (an owned Buffer; `proto` then holds its protocol) when this fragment completes it.
   * `now` is monotonic event time; `time` and `prov` locate anomalies.
   */
  add(
    key: string,
    v6: boolean,
    offset: number,
    more: boolean,
    proto: number,
    buf: Buffer,
    start: number,
    end: number,
    now: number,
    prov: Provenance,
  ): Buffer | null {
    const st = this.stats;
    st.fragments++;
    const len = end - start;
    const fEnd = offset + len;
    if (more && (len === 0 || (len & 7) !== 0)) {
      st.dropped++;
      this.report(
        'ip_fragment_bad_length',
        now,
        prov,
        `non-final fragment of ${len} bytes at offset ${offset}`,
      );
      return null;
    }
    let d = this.pending.get(key);
    if (fEnd > this.limits.maxDatagramBytes) {
      st.dropped++;
      this.report(
        'ip_fragment_too_big',
        now,
        prov,
        `fragment ends at ${fEnd}, over ${this.limits.maxDatagramBytes}`,
      );
      if (d !== undefined) this.discard(d);
      return null;
    }
    if (d === undefined) {
      if (this.pending.size >= this.limits.maxPendingDatagrams) this.evictOldest();
      d = new Pending(key, now, prov);
      this.pending.set(key, d);
    }
    if (d.discarded) {
      st.dropped++;
      return null;
    }
    if (d.fragments >= this.limits.maxFragmentsPerDatagram) {
      st.dropped++;
      this.report('ip_fragment_too_many', now, prov, `over ${this.limits.maxFragmentsPerDatagram} fragments`);
      this.discard(d);
      return null;
    }
    d.fragments++;
    if (!more) {
      if ((d.totalLen >= 0 && d.totalLen !== fEnd) || d.maxEnd > fEnd) {
        st.dropped++;
        this.report('ip_fragment_inconsistent', now, prov, `final fragment ends at ${fEnd}`);
        this.discard(d);
        return null;
      }
      d.totalLen = fEnd;
    } else if (d.totalLen >= 0 && fEnd > d.totalLen) {
      st.dropped++;
      this.report(
        'ip_fragment_inconsistent',
        now,
        prov,
        `fragment ends at ${fEnd}, past the final ${d.totalLen}`,
      );
      this.discard(d);
      return null;
    }
    if (fEnd > d.maxEnd) d.maxEnd = fEnd;
    if (!v6 || offset === 0) d.proto = proto;

    // First pass: how much of the fragment is already there, and is it the same?
    const pieces = d.pieces;
    let overlap = 0;
    let differ = false;
    for (let i = 0; i < pieces.length; i++) {
      const p = pieces[i] as Piece;
      if (p.end <= offset) continue;
      if (p.start >= fEnd) break;
      const os = p.start > offset ? p.start : offset;
      const oe = p.end < fEnd ? p.end : fEnd;
      overlap += oe - os;
      if (
        !differ &&
        buf.compare(p.data, os - p.start, oe - p.start, start + os - offset, start + oe - offset) !== 0
      ) {
        differ = true;
      }
    }
    if (overlap > 0) {
      if (overlap === len && !differ) {
        st.duplicates++;
        return null;
      }
      st.overlaps++;
      this.report(
        'ip_fragment_overlap',
        now,
        prov,
        `${overlap} bytes at offset ${offset} overlap earlier fragments${differ ? ' with different bytes' : ''}`,
      );
      if (v6) {
        this.discard(d);
        return null;
      }
    }
    // Second pass: insert the bytes not yet present (first-seen bytes win).
    if (overlap < len) {
      let s = offset;
      let i = 0;
      while (i < pieces.length && s < fEnd) {
        const p = pieces[i] as Piece;
        if (p.end <= s) {
          i++;
          continue;
        }
        if (p.start >= fEnd) break;
        if (s < p.start) {
          this.insert(d, i, s, p.start, buf, start - offset);
          i++;
        }
        s = p.end;
        i++;
      }
      if (s < fEnd) this.insert(d, i, s, fEnd, buf, start - offset);
    }
    while (this.total > this.limits.maxTotalBytes && this.pending.size > 0) {
      if (this.evictOldest() === d) return null;
    }
    if (d.totalLen < 0 || d.covered !== d.totalLen) return null;
    const out = Buffer.allocUnsafe(d.totalLen);
    for (const p of pieces) p.data.copy(out, p.start);
    this.remove(d);
    this.proto = d.proto;
    st.reassembled++;
    return out;
  }

  /** Drops datagrams whose first fragment is older than the timeout at event time `now`. */
  expire(now: number): void {
    const limit = now - this.limits.timeoutMs;
    for (const d of this.pending.values()) {
      if (d.firstTime > limit) break;
      this.timeout(d, now, 'no final fragment within the timeout');
    }
  }

  /** End of input: every pending datagram is incomplete and dropped. */
  flush(now: number): void {
    for (const d of this.pending.values()) this.timeout(d, now, 'end of input');
  }

  private timeout(d: Pending, now: number, why: string): void {
    this.remove(d);
    if (d.discarded) return;
    this.stats.timeouts++;
    this.report(
      'ip_fragment_timeout',
      now,
      d.provenance,
      `${d.fragments} fragments, ${d.covered} bytes: ${why}`,
    );
  }

  private insert(d: Pending, index: number, s: number, e: number, buf: Buffer, base: number): void {
    const data = Buffer.allocUnsafe(e - s);
    buf.copy(data, 0, base + s, base + e);
    d.pieces.splice(index, 0, { start: s, end: e, data });
    d.covered += e - s;
    d.bytes += e - s;
    this.total += e - s;
  }

  /** Frees a datagram's bytes but keeps its entry so its later fragments are swallowed. */
  private discard(d: Pending): void {
    this.total -= d.bytes;
    d.bytes = 0;
    d.covered = 0;
    d.pieces.length = 0;
    d.discarded = true;
  }

  private remove(d: Pending): void {
    this.pending.delete(d.key);
    this.total -= d.bytes;
    d.bytes = 0;
  }

  private evictOldest(): Pending | undefined {
    for (const d of this.pending.values()) {
      this.remove(d);
      this.stats.evictions++;
      return d;
    }
    return undefined;
  }

  private report(code: string, time: number, provenance: Provenance, detail: string): void {
    this.reporter.anomaly({ code, detail, time, provenance });
  }
}
