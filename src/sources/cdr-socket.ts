/**
 * 3CX's two socket outputs for CDRs, as live sources of `watch` (provenance kind 'cdr'):
 * - active socket ("3CX CDR service is client"): 3CX connects to sipwarden. `CdrListener`
 *   listens on TCP, lets in only the allow-listed peers, bounds connections in number and idle
 *   time, and reads lines from each connection. 3CX may send one record per connection (the last
 *   line then has no LF: it is read at close) or keep the connection open.
 * - passive socket ("3CX CDR service is server"): 3CX listens. `CdrClient` connects to it, reads
 *   lines, and reconnects when the connection fails or ends, waiting CDR_RECONNECT_MIN_MS, then
 *   twice as long per failure up to CDR_RECONNECT_MAX_MS (reset once a connection delivered data).
 * Both bound a line at CDR_MAX_LINE_BYTES and hand every line to the site's CDR parser; a line
 * cut short because the source is stopping is dropped, not parsed. Line numbers in provenance
 * count lines across all connections of a source. Health: `up` is listening / connected;
 * `recognised` counts lines that gave a call, so a changed field order shows as a parse collapse.
 */
import { connect, type Socket } from 'node:net';
import {
  CDR_CONNECT_TIMEOUT_MS,
  CDR_MAX_CONNECTIONS,
  CDR_MAX_LINE_BYTES,
  CDR_RECONNECT_MAX_MS,
  CDR_RECONNECT_MIN_MS,
  CDR_TCP_IDLE_TIMEOUT_MS,
} from '../config/limits.js';
import type { ThreeCxCdrParser } from '../cdr/3cx.js';
import { parseConnectAddress, type ConnectAddress } from '../cdr/cdr-config.js';
import { CdrLineStream, emptyCdrCounts, type CdrCounts, type CdrSink } from '../cdr/line-stream.js';
import {
  describeError,
  emptyStats,
  parseListenAddress,
  SocketListener,
  wallClock,
  type Clock,
  type LiveSource,
  type SocketListenerStats,
  type SourceStats,
  type StreamFramer,
} from './live-source.js';

/** Counters of a CDR socket source: lines as `received`/`accepted`, calls as `recognised`. */
export interface CdrSocketStats extends SourceStats {
  recognised: number;
  /** Open connections now. */
  connections: number;
  /** Connections refused by the connection bound (the allow-list's refusals are in `rejected`). */
  connectionsRefused: number;
  /** Successful connections made (passive socket) or accepted (active socket) so far. */
  connects: number;
  /** What the lines gave. */
  cdr: CdrCounts;
}

function cdrStats(
  base: SourceStats,
  counts: CdrCounts,
  extra: { connections: number; connectionsRefused: number; connects: number },
): CdrSocketStats {
  const lines = counts.lines - counts.blank;
  return {
    ...base,
    received: counts.lines,
    accepted: lines,
    malformed: counts.rejected - counts.tooLong,
    dropped: base.dropped + counts.tooLong,
    recognised: counts.calls,
    ...extra,
    cdr: { ...counts },
  };
}

/** Settings of the active-socket listener. */
export interface CdrListenerOptions {
  /** `tcp://HOST:PORT` (IPv6 as `[::1]`); port 0 picks a free port (tests). */
  readonly listen: string;
  /** Peer addresses/CIDRs allowed to connect; empty: everyone (the config schema refuses that off loopback). */
  readonly allow?: readonly string[];
  readonly maxConnections?: number;
  readonly idleTimeoutMs?: number;
  readonly maxLineBytes?: number;
  readonly name?: string;
  readonly now?: Clock;
}

/** Active socket: 3CX connects to us; see the module comment. */
export class CdrListener implements LiveSource {
  readonly name: string;
  readonly kind = 'cdr' as const;
  private readonly net: SocketListener;
  private readonly st: SocketListenerStats = { ...emptyStats(), connectionsRefused: 0 };
  private readonly counts = emptyCdrCounts();
  private readonly counter = { line: 0 };
  private readonly maxLine: number;
  private connects = 0;
  private stopping = false;

  /** Validates the settings (throws on a bad or non-TCP listen address: a configuration error). */
  constructor(
    options: CdrListenerOptions,
    private readonly parser: ThreeCxCdrParser,
    private readonly sink: CdrSink,
  ) {
    const a = parseListenAddress(options.listen);
    if ('error' in a) throw new Error(`cdr listener: ${a.error}`);
    if (a.transport !== 'tcp')
      throw new Error(`cdr listener: ${options.listen}: 3CX sends CDRs over TCP only`);
    this.maxLine = options.maxLineBytes ?? CDR_MAX_LINE_BYTES;
    this.name = options.name ?? `cdr 3cx listen ${options.listen}`;
    this.net = new SocketListener(
      'cdr listener',
      {
        listen: [options.listen],
        allow: options.allow ?? [],
        maxConnections: options.maxConnections ?? CDR_MAX_CONNECTIONS,
        idleTimeoutMs: options.idleTimeoutMs ?? CDR_TCP_IDLE_TIMEOUT_MS,
        ...(options.now !== undefined ? { now: options.now } : {}),
      },
      this.st,
      { datagram: () => undefined, stream: () => this.framer() },
    );
  }

  /** Listens; rejects naming the address when it cannot. */
  start(): Promise<void> {
    this.stopping = false;
    return this.net.start();
  }

  /** Closes the listener and every connection (their unfinished lines are dropped). */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.net.stop();
  }

  /** The address actually bound (port resolved when 0 was asked), as `tcp://host:port`. */
  addresses(): string[] {
    return this.net.addresses();
  }

  /** A snapshot of the counters. */
  stats(): CdrSocketStats {
    return cdrStats(this.st, this.counts, {
      connections: this.net.connections,
      connectionsRefused: this.st.connectionsRefused,
      connects: this.connects,
    });
  }

  private framer(): StreamFramer {
    this.connects++;
    const lines = new CdrLineStream(this.parser, this.sink, {
      counter: this.counter,
      counts: this.counts,
      maxLineBytes: this.maxLine,
    });
    return {
      push: (chunk) => lines.push(chunk),
      end: () => {
        if (!this.stopping) lines.end();
      },
    };
  }
}

/** Settings of the passive-socket client. */
export interface CdrClientOptions {
  /** `tcp://HOST:PORT` of 3CX's CDR server (HOST an IP address or a DNS name). */
  readonly connect: string;
  readonly minBackoffMs?: number;
  readonly maxBackoffMs?: number;
  readonly connectTimeoutMs?: number;
  readonly maxLineBytes?: number;
  readonly name?: string;
  readonly now?: Clock;
}

/** Passive socket: we connect to 3CX and reconnect with backoff; see the module comment. */
export class CdrClient implements LiveSource {
  readonly name: string;
  readonly kind = 'cdr' as const;
  private readonly addr: ConnectAddress;
  private readonly minBackoff: number;
  private readonly maxBackoff: number;
  private readonly connectTimeout: number;
  private readonly maxLine: number;
  private readonly now: Clock;
  private readonly st: SourceStats = emptyStats();
  private readonly counts = emptyCdrCounts();
  private readonly counter = { line: 0 };
  private connects = 0;
  private failures = 0;
  private running = false;
  private socket: Socket | undefined;
  private closed: Promise<void> | undefined;
  private retry: NodeJS.Timeout | undefined;

  /** Validates the settings (throws on a bad address: a configuration error). */
  constructor(
    options: CdrClientOptions,
    private readonly parser: ThreeCxCdrParser,
    private readonly sink: CdrSink,
  ) {
    const a = parseConnectAddress(options.connect);
    if ('error' in a) throw new Error(`cdr client: ${a.error}`);
    this.addr = a;
    this.minBackoff = options.minBackoffMs ?? CDR_RECONNECT_MIN_MS;
    this.maxBackoff = Math.max(this.minBackoff, options.maxBackoffMs ?? CDR_RECONNECT_MAX_MS);
    this.connectTimeout = options.connectTimeoutMs ?? CDR_CONNECT_TIMEOUT_MS;
    this.maxLine = options.maxLineBytes ?? CDR_MAX_LINE_BYTES;
    this.now = options.now ?? wallClock;
    this.name = options.name ?? `cdr 3cx connect ${options.connect}`;
    this.st.error = 'not connected yet';
  }

  /**
   * Starts connecting and resolves at once: a PBX that is down or restarting is waited for
   * (reported `down` by the health monitor meanwhile), not a reason to fail `watch`.
   */
  start(): Promise<void> {
    if (this.running) return Promise.resolve();
    this.running = true;
    this.attempt();
    return Promise.resolve();
  }

  /** Stops reconnecting and closes the connection (its unfinished line is dropped). */
  async stop(): Promise<void> {
    this.running = false;
    if (this.retry !== undefined) clearTimeout(this.retry);
    this.retry = undefined;
    this.socket?.destroy();
    await this.closed;
    this.st.up = false;
  }

  /** A snapshot of the counters. */
  stats(): CdrSocketStats {
    return cdrStats(this.st, this.counts, {
      connections: this.st.up ? 1 : 0,
      connectionsRefused: 0,
      connects: this.connects,
    });
  }

  /** The wait before the next attempt after `failures` consecutive failed connections. */
  backoffMs(): number {
    return Math.min(this.maxBackoff, this.minBackoff * 2 ** Math.min(this.failures, 30));
  }

  private attempt(): void {
    this.retry = undefined;
    if (!this.running) return;
    const s = connect({ host: this.addr.host, port: this.addr.port, noDelay: true });
    this.socket = s;
    const lines = new CdrLineStream(this.parser, this.sink, {
      counter: this.counter,
      counts: this.counts,
      maxLineBytes: this.maxLine,
    });
    let lastError: string | undefined;
    let gotData = false;
    const timer = setTimeout(
      () => s.destroy(new Error(`no connection after ${this.connectTimeout} ms`)),
      this.connectTimeout,
    );
    let done!: () => void;
    this.closed = new Promise<void>((r) => (done = r));
    s.once('connect', () => {
      clearTimeout(timer);
      s.setKeepAlive(true, 60_000);
      this.connects++;
      this.st.up = true;
      delete this.st.error;
    });
    s.on('data', (chunk: Buffer) => {
      if (!gotData) {
        // 3CX is delivering again: the next failure starts the backoff over.
        gotData = true;
        this.failures = 0;
      }
      this.st.bytes += chunk.length;
      this.st.lastReceivedAt = this.now();
      lines.push(chunk);
    });
    s.on('error', (err) => {
      lastError = describeError(err);
    });
    s.on('close', () => {
      clearTimeout(timer);
      if (this.running) lines.end();
      this.st.up = false;
      this.st.error = `${this.addr.text}: ${lastError ?? 'connection closed by the PBX'}`;
      if (this.socket === s) this.socket = undefined;
      if (this.running) {
        const wait = this.backoffMs();
        this.failures++;
        this.retry = setTimeout(() => this.attempt(), wait);
      }
      done();
    });
  }
}
