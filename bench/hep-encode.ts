/**
 * A small HEP3 encoder for the live benchmark (bench/watch.ts): the chunks a capture agent such as
 * Kamailio's siptrace or heplify sends for one captured SIP datagram over IPv4.
 */

/** What one HEP3 packet says about the captured datagram. */
export interface HepFields {
  readonly srcIp: string;
  readonly dstIp: string;
  readonly srcPort: number;
  readonly dstPort: number;
  /** Capture time, milliseconds since the epoch (fractional: microseconds are kept). */
  readonly timeMs: number;
  readonly captureId: number;
  /** IP protocol of the captured packet (17 UDP). */
  readonly protocol?: number;
}

const CHUNK = 6;
// family, protocol, src4, dst4, sport, dport, sec, usec, proto type, capture id (without payload).
const FIXED_BYTES =
  6 + (CHUNK + 1) * 2 + (CHUNK + 4) * 2 + (CHUNK + 2) * 2 + (CHUNK + 4) * 2 + (CHUNK + 1) + (CHUNK + 4);

function ip4(buf: Buffer, at: number, ip: string): void {
  let part = 0;
  let j = at;
  for (let i = 0; i < ip.length; i++) {
    const c = ip.charCodeAt(i);
    if (c === 0x2e) {
      buf[j++] = part;
      part = 0;
    } else part = part * 10 + (c - 0x30);
  }
  buf[j] = part;
}

function chunkHead(buf: Buffer, at: number, type: number, valueLen: number): number {
  buf.writeUInt16BE(0, at);
  buf.writeUInt16BE(type, at + 2);
  buf.writeUInt16BE(CHUNK + valueLen, at + 4);
  return at + CHUNK;
}

/** Encodes one HEP3 packet carrying `payload` (SIP, protocol type 1). */
export function encodeHep3(f: HepFields, payload: Buffer): Buffer {
  const total = FIXED_BYTES + CHUNK + payload.length;
  const b = Buffer.allocUnsafe(total);
  b.write('HEP3', 0, 'latin1');
  b.writeUInt16BE(total, 4);
  let p = 6;
  p = chunkHead(b, p, 0x01, 1);
  b[p++] = 2; // AF_INET
  p = chunkHead(b, p, 0x02, 1);
  b[p++] = f.protocol ?? 17;
  p = chunkHead(b, p, 0x03, 4);
  ip4(b, p, f.srcIp);
  p += 4;
  p = chunkHead(b, p, 0x04, 4);
  ip4(b, p, f.dstIp);
  p += 4;
  p = chunkHead(b, p, 0x07, 2);
  b.writeUInt16BE(f.srcPort, p);
  p += 2;
  p = chunkHead(b, p, 0x08, 2);
  b.writeUInt16BE(f.dstPort, p);
  p += 2;
  const sec = Math.floor(f.timeMs / 1000);
  const usec = Math.floor((f.timeMs - sec * 1000) * 1000);
  p = chunkHead(b, p, 0x09, 4);
  b.writeUInt32BE(sec, p);
  p += 4;
  p = chunkHead(b, p, 0x0a, 4);
  b.writeUInt32BE(usec, p);
  p += 4;
  p = chunkHead(b, p, 0x0b, 1);
  b[p++] = 1; // SIP
  p = chunkHead(b, p, 0x0c, 4);
  b.writeUInt32BE(f.captureId >>> 0, p);
  p += 4;
  p = chunkHead(b, p, 0x0f, payload.length);
  payload.copy(b, p);
  return b;
}
