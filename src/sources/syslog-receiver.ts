/**
 * Syslog receiver: RFC 3164 (BSD) and RFC 5424 messages over UDP (RFC 5426, one message per
 * datagram) and TCP (RFC 6587: octet counting `LEN SP MSG` and LF-terminated non-transparent
 * framing, told apart per frame by its first byte), from an allow-list of senders, bounded in
 * message size and connections. Emits `LogLine`s with provenance kind 'syslog'.
 *
 * Time: RFC 5424 and RFC 3339 timestamps carry their zone. RFC 3164 `Mmm dd hh:mm:ss` carries
 * neither year nor zone: the year is the receiver's (from `now()`, the previous one when that would
 * put the line more than a day in the future, i.e. a December line read in January) and the
 * fields are turned into epoch time by `toEpoch`, UTC by default — the lead passes one for the
 * site's time zone.
 *
 * A message whose header cannot be read (no `<PRI>`, a PRI over 191) is still delivered, whole, as
 * the text (3CX and Asterisk lines sent by odd relays are still worth parsing) and counted in
 * `malformed`.
 */
import { SYSLOG_MAX_MESSAGE_BYTES } from '../config/limits.js';
import {
  emptyStats,
  SocketListener,
  type Clock,
  type LiveSource,
  type LogLineHandler,
  type SocketListenerOptions,
  type SourceStats,
} from './live-source.js';

/** Local calendar fields of a timestamp that named no zone (RFC 3164). `month` is 1-12. */
export interface LocalTimeFields {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
}

/** Turns zone-less local time fields into epoch milliseconds (the site's time zone). */
export type ToEpoch = (fields: LocalTimeFields) => number;

/** UTC interpretation of zone-less fields (the default). */
export const utcToEpoch: ToEpoch = (f) => Date.UTC(f.year, f.month - 1, f.day, f.hour, f.minute, f.second);

/** One syslog message's header fields and text. */
export interface SyslogMessage {
  /** 0 when the header could not be read (then facility/severity are RFC 3164's user.notice). */
  readonly version: 0 | 1;
  readonly facility: number;
  readonly severity: number;
  /** Whether the header was unusable (no PRI or a bad one): `text` is then the whole message. */
  readonly malformed: boolean;
  readonly time?: number;
  readonly host?: string;
  readonly app?: string;
  readonly procId?: string;
  readonly msgId?: string;
  readonly text: string;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const DAY_MS = 86_400_000;
const RFC3164_TIME = /^([A-Z][a-z]{2}) {1,2}(\d{1,2}) (?:(\d{4}) )?(\d{2}):(\d{2}):(\d{2})(?:\.\d+)? /;
const RFC3339_TIME = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})) /;
const TAG = /^([^\s[\]:]{1,48})(?:\[([^\]\s]{0,32})\])?:(?: |$)/;

/**
 * Parses one syslog message (without its transport framing). Never throws; see SyslogMessage.
 * `now` gives the receiver's year for RFC 3164; `toEpoch` interprets zone-less times.
 */
export function parseSyslog(data: Buffer, now: number, toEpoch: ToEpoch = utcToEpoch): SyslogMessage {
  let end = data.length;
  // Trailing LF, CR and NUL are framing left-overs, not text.
  while (end > 0 && (data[end - 1] === 0x0a || data[end - 1] === 0x0d || data[end - 1] === 0)) end--;
  let pri = -1;
  let p = 0;
  if (end > 2 && data[0] === 0x3c) {
    let v = 0;
    let i = 1;
    while (i < end && i <= 4 && (data[i] as number) >= 0x30 && (data[i] as number) <= 0x39) {
      v = v * 10 + (data[i] as number) - 0x30;
      i++;
    }
    if (i > 1 && i < end && data[i] === 0x3e && v <= 191) {
      pri = v;
      p = i + 1;
    }
  }
  if (pri < 0) {
    return { version: 0, facility: 1, severity: 5, malformed: true, text: data.toString('utf8', 0, end) };
  }
  const facility = pri >> 3;
  const severity = pri & 7;
  if (end - p >= 2 && data[p] === 0x31 && data[p + 1] === 0x20)
    return parse5424(data, p + 2, end, facility, severity);
  return parse3164(data.toString('utf8', p, end), facility, severity, now, toEpoch);
}

function parse5424(
  data: Buffer,
  start: number,
  end: number,
  facility: number,
  severity: number,
): SyslogMessage {
  // HEADER fields are printable US-ASCII: decode them as latin1 and only MSG as UTF-8.
  let p = start;
  const field = (): string | undefined => {
    let q = p;
    while (q < end && data[q] !== 0x20) q++;
    const v = data.toString('latin1', p, q);
    p = q < end ? q + 1 : q;
    return v === '-' || v === '' ? undefined : v;
  };
  const ts = field();
  const host = field();
  const app = field();
  const procId = field();
  const msgId = field();
  // STRUCTURED-DATA: "-" or one or more [SD-ID params] blocks; "\]" escapes inside values.
  if (p < end && data[p] === 0x2d) p++;
  else {
    while (p < end && data[p] === 0x5b) {
      let q = p + 1;
      let quoted = false;
      while (q < end) {
        const c = data[q];
        if (c === 0x5c && quoted) q++;
        else if (c === 0x22) quoted = !quoted;
        else if (c === 0x5d && !quoted) break;
        q++;
      }
      p = Math.min(q + 1, end);
    }
  }
  if (p < end && data[p] === 0x20) p++;
  // A UTF-8 BOM announces UTF-8 text: drop it.
  if (end - p >= 3 && data[p] === 0xef && data[p + 1] === 0xbb && data[p + 2] === 0xbf) p += 3;
  const time = ts === undefined ? undefined : Date.parse(ts);
  const out: {
    version: 1;
    facility: number;
    severity: number;
    malformed: boolean;
    time?: number;
    host?: string;
    app?: string;
    procId?: string;
    msgId?: string;
    text: string;
  } = { version: 1, facility, severity, malformed: false, text: data.toString('utf8', p, end) };
  if (time !== undefined && Number.isFinite(time)) out.time = time;
  if (host !== undefined) out.host = host;
  if (app !== undefined) out.app = app;
  if (procId !== undefined) out.procId = procId;
  if (msgId !== undefined) out.msgId = msgId;
  return out;
}

function parse3164(
  rest: string,
  facility: number,
  severity: number,
  now: number,
  toEpoch: ToEpoch,
): SyslogMessage {
  const out: {
    version: 0;
    facility: number;
    severity: number;
    malformed: boolean;
    time?: number;
    host?: string;
    app?: string;
    procId?: string;
    text: string;
  } = { version: 0, facility, severity, malformed: false, text: rest };
  let s = rest;
  let timed = false;
  const m = RFC3164_TIME.exec(s);
  if (m !== null) {
    const month = MONTHS.indexOf(m[1] as string) + 1;
    if (month > 0) {
      const fields = {
        month,
        day: Number(m[2]),
        hour: Number(m[4]),
        minute: Number(m[5]),
        second: Number(m[6]),
      };
      let year = m[3] !== undefined ? Number(m[3]) : new Date(now).getUTCFullYear();
      let t = toEpoch({ year, ...fields });
      if (m[3] === undefined && t > now + DAY_MS) {
        year--;
        t = toEpoch({ year, ...fields });
      }
      if (Number.isFinite(t)) out.time = t;
      s = s.slice(m[0].length);
      timed = true;
    }
  } else {
    const iso = RFC3339_TIME.exec(s);
    if (iso !== null) {
      const t = Date.parse(iso[1] as string);
      if (Number.isFinite(t)) out.time = t;
      s = s.slice(iso[0].length);
      timed = true;
    }
  }
  if (timed) {
    // HOSTNAME, unless the next word is already the TAG (senders that omit the host).
    const sp = s.indexOf(' ');
    const word = sp < 0 ? s : s.slice(0, sp);
    if (word.length > 0 && TAG.exec(s) === null) {
      out.host = word;
      s = sp < 0 ? '' : s.slice(sp + 1);
    }
  }
  const tag = TAG.exec(s);
  if (tag !== null) {
    out.app = tag[1] as string;
    if (tag[2] !== undefined && tag[2] !== '') out.procId = tag[2];
    s = s.slice(tag[0].length);
  }
  out.text = s;
  return out;
}

/** Receives what a `SyslogStreamFramer` cuts out of a TCP stream. */
export interface SyslogFrameSink {
  onMessage(message: Buffer): void;
  /** A frame over the size bound was skipped (`bytes`: its length, when known). */
  onOversize(bytes: number): void;
}

const MODE_START = 0;
const MODE_COUNT = 1;
const MODE_OCTETS = 2;
const MODE_LINE = 3;
const MODE_SKIP_OCTETS = 4;
const MODE_SKIP_LINE = 5;

/**
 * RFC 6587 framing of one TCP connection: a frame starting with a digit is octet-counted
 * (`LEN SP MSG`), anything else runs to LF (or NUL). Holds at most `maxBytes` of one message.
 */
export class SyslogStreamFramer {
  private mode = MODE_START;
  private buf: Buffer = Buffer.alloc(0);
  private len = 0;
  private count = 0;

  constructor(
    private readonly sink: SyslogFrameSink,
    private readonly maxBytes = SYSLOG_MAX_MESSAGE_BYTES,
  ) {}

  /** Bytes held for an unfinished message. */
  get buffered(): number {
    return this.len;
  }

  /** Feeds the next bytes of the connection. */
  push(chunk: Buffer): void {
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      switch (this.mode) {
        case MODE_START: {
          const c = chunk[i] as number;
          if (c === 0x0a || c === 0x0d || c === 0 || c === 0x20) i++;
          else if (c >= 0x31 && c <= 0x39) {
            this.mode = MODE_COUNT;
            this.count = 0;
          } else this.mode = MODE_LINE;
          break;
        }
        case MODE_COUNT: {
          const c = chunk[i] as number;
          if (c >= 0x30 && c <= 0x39 && this.count <= 1e9) {
            this.count = this.count * 10 + c - 0x30;
            i++;
          } else if (c === 0x20) {
            i++;
            this.len = 0;
            if (this.count > this.maxBytes) {
              this.sink.onOversize(this.count);
              this.mode = MODE_SKIP_OCTETS;
            } else this.mode = MODE_OCTETS;
          } else {
            // Digits not followed by SP: a non-transparent frame that begins with a digit.
            const digits = Buffer.from(String(this.count), 'latin1');
            this.mode = MODE_LINE;
            this.len = 0;
            this.append(digits, 0, digits.length);
          }
          break;
        }
        case MODE_OCTETS: {
          const take = Math.min(this.count - this.len, n - i);
          this.append(chunk, i, i + take);
          i += take;
          if (this.len === this.count) this.emit();
          break;
        }
        case MODE_SKIP_OCTETS: {
          const take = Math.min(this.count, n - i);
          this.count -= take;
          i += take;
          if (this.count === 0) this.mode = MODE_START;
          break;
        }
        case MODE_LINE: {
          let j = i;
          while (j < n && chunk[j] !== 0x0a && chunk[j] !== 0) j++;
          if (this.len + (j - i) > this.maxBytes) {
            this.sink.onOversize(0);
            this.len = 0;
            this.mode = MODE_SKIP_LINE;
            break;
          }
          this.append(chunk, i, j);
          i = j;
          if (j < n) {
            i++;
            this.emit();
          }
          break;
        }
        case MODE_SKIP_LINE: {
          while (i < n && chunk[i] !== 0x0a && chunk[i] !== 0) i++;
          if (i < n) {
            i++;
            this.mode = MODE_START;
          }
          break;
        }
      }
    }
  }

  /** The connection closed: a non-transparent message without its final LF is still delivered. */
  end(): void {
    if (this.mode === MODE_LINE && this.len > 0) this.emit();
    this.mode = MODE_START;
    this.len = 0;
  }

  private append(src: Buffer, from: number, to: number): void {
    const need = this.len + (to - from);
    if (need > this.buf.length) {
      const next = Buffer.allocUnsafe(Math.min(Math.max(need, this.buf.length * 2, 512), this.maxBytes));
      this.buf.copy(next, 0, 0, this.len);
      this.buf = next;
    }
    src.copy(this.buf, this.len, from, to);
    this.len = need;
  }

  private emit(): void {
    // A copy: the message outlives the next push.
    const msg = Buffer.from(this.buf.subarray(0, this.len));
    this.len = 0;
    this.mode = MODE_START;
    this.sink.onMessage(msg);
  }
}

/** Settings of a syslog receiver. */
export interface SyslogReceiverOptions extends SocketListenerOptions {
  readonly maxMessageBytes?: number;
  /** Interprets zone-less RFC 3164 times (default: UTC). */
  readonly toEpoch?: ToEpoch;
  readonly name?: string;
}

/** Syslog receiver counters beyond the common ones. */
export interface SyslogReceiverStats extends SourceStats {
  recognised: number;
  /** UDP messages cut to the size bound (delivered cut). */
  truncated: number;
  connections: number;
  connectionsRefused: number;
}

/** RFC 3164/5424 syslog over UDP and TCP; see the module comment. */
export class SyslogReceiver implements LiveSource {
  readonly name: string;
  readonly kind = 'syslog' as const;
  private readonly net: SocketListener;
  private readonly maxBytes: number;
  private readonly toEpoch: ToEpoch;
  private readonly now: Clock;
  private readonly st: SyslogReceiverStats = {
    ...emptyStats(),
    recognised: 0,
    truncated: 0,
    connections: 0,
    connectionsRefused: 0,
  };

  /** Validates the settings (throws on a bad listen address: a configuration error). */
  constructor(
    options: SyslogReceiverOptions,
    private readonly onLine: LogLineHandler,
  ) {
    this.net = new SocketListener('syslog receiver', options, this.st, {
      datagram: (msg, peer) => this.admitted(msg, peer),
      stream: (peer) => this.framer(peer),
    });
    this.maxBytes = options.maxMessageBytes ?? SYSLOG_MAX_MESSAGE_BYTES;
    this.toEpoch = options.toEpoch ?? utcToEpoch;
    this.now = this.net.now;
    this.name = options.name ?? `syslog ${options.listen.join(',')}`;
  }

  /** Binds every listen address; rejects naming the address that failed (and closes the others). */
  start(): Promise<void> {
    return this.net.start();
  }

  /** Closes sockets and connections. */
  stop(): Promise<void> {
    return this.net.stop();
  }

  /** The addresses actually bound, as `udp://host:port`. */
  addresses(): string[] {
    return this.net.addresses();
  }

  /** The consumer's log parser recognised `n` more lines (feeds the parse-collapse health check). */
  noteRecognised(n = 1): void {
    this.st.recognised += n;
  }

  /** A snapshot of the counters. */
  stats(): SyslogReceiverStats {
    return { ...this.st, connections: this.net.connections };
  }

  /** Handles one datagram from `peer` as if it had arrived on a UDP socket (sockets and tests). */
  datagram(msg: Buffer, peer: string): void {
    this.net.datagram(msg, peer);
  }

  /** A datagram the allow-list let in: cut to the size bound, then delivered. */
  private admitted(msg: Buffer, peer: string): void {
    let data = msg;
    if (data.length > this.maxBytes) {
      this.st.truncated++;
      data = data.subarray(0, this.maxBytes);
    }
    this.deliver(data, peer);
  }

  /** The framer of one accepted TCP connection from `peer`. */
  private framer(peer: string): SyslogStreamFramer {
    const st = this.st;
    return new SyslogStreamFramer(
      {
        onMessage: (m) => {
          st.received++;
          this.deliver(m, peer);
        },
        onOversize: () => {
          st.received++;
          st.dropped++;
        },
      },
      this.maxBytes,
    );
  }

  private deliver(data: Buffer, peer: string): void {
    const m = parseSyslog(data, this.now(), this.toEpoch);
    if (m.malformed) this.st.malformed++;
    this.st.accepted++;
    this.onLine({
      ...(m.time !== undefined ? { time: m.time } : {}),
      ...(m.host !== undefined ? { host: m.host } : {}),
      ...(m.app !== undefined ? { app: m.app } : {}),
      text: m.text,
      provenance: { kind: 'syslog' },
      ...(m.malformed ? {} : { facility: m.facility, severity: m.severity }),
      peer,
    });
  }
}
