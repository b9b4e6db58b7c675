/**
 * The one small interface every live input of `sipwarden watch` implements (HEP listener, syslog
 * receiver, log tail, interface capture), plus what they share: listen-address parsing, sender
 * allow-lists, the log line record, readable socket errors and the UDP/TCP listener plumbing of the
 * HEP listener and the syslog receiver (`SocketListener`). Sources deliver records through
 * callbacks given at construction (no EventEmitter on the hot path) and read the wall clock only
 * through an injectable `now()`.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { BlockList, createServer, isIP, type Server, type Socket } from 'node:net';
import {
  LIVE_MAX_TCP_CONNECTIONS,
  LIVE_TCP_IDLE_TIMEOUT_MS,
  LIVE_UDP_RECV_BUFFER_BYTES,
} from '../config/limits.js';
import type { Provenance, SourceKind } from '../core/records.js';

/** Wall clock in milliseconds since the epoch; injected so tests control it. */
export type Clock = () => number;

/** The default clock. */
export const wallClock: Clock = () => Date.now();

/** Counters and state of one live source, read by `stats()` (a fresh snapshot each call). */
export interface SourceStats {
  /** Units received from the wire or file (datagrams, HEP packets, syslog messages, lines, frames). */
  received: number;
  /** Bytes received. */
  bytes: number;
  /** Units handed to the consumer. */
  accepted: number;
  /** Units refused by authentication or the sender allow-list. */
  rejected: number;
  /** Units that could not be parsed (bad HEP, bad syslog header, corrupt capture stream). */
  malformed: number;
  /** Units lost to a bound (queue full, line or message too long, connection limit). */
  dropped: number;
  /** Lines the consumer's parser recognised (log and syslog sources; fed by `noteRecognised`). */
  recognised?: number;
  /** Wall time of the last unit received; undefined before the first. */
  lastReceivedAt: number | undefined;
  /** Whether the source is running and able to receive. */
  up: boolean;
  /** Why the source is down or last failed (bounded text). */
  error?: string;
}

/** A live input: started and stopped by `watch`, polled for stats by the health monitor. */
export interface LiveSource {
  /** Unique, human name (e.g. `hep udp://0.0.0.0:9060`, `tail /var/log/3cx.log`). */
  readonly name: string;
  readonly kind: SourceKind;
  /** Opens sockets/files/children; rejects with an Error naming the address, file or interface. */
  start(): Promise<void>;
  /** Closes everything; resolves once no more callbacks will be made. Safe to call twice. */
  stop(): Promise<void>;
  stats(): SourceStats;
}

/** One text line from a log file or a syslog message, before any PBX log parser saw it. */
export interface LogLine {
  /** Event time from the line's own header (syslog), when it had one. */
  readonly time?: number;
  /** Host named by the sender (syslog HOSTNAME). */
  readonly host?: string;
  /** Program named by the sender (syslog APP-NAME / TAG). */
  readonly app?: string;
  /** The message text (UTF-8 decoded leniently, without the line terminator). */
  readonly text: string;
  readonly provenance: Provenance;
  /** Syslog facility (0-23) and severity (0-7), when the line came by syslog. */
  readonly facility?: number;
  readonly severity?: number;
  /** Address the syslog message came from (the transport peer, not the claimed HOSTNAME). */
  readonly peer?: string;
}

/** Receives log lines (syslog receiver, log tail). */
export type LogLineHandler = (line: LogLine) => void;

/** A parsed `udp://host:port` / `tcp://[v6]:port` listen address. */
export interface ListenAddress {
  readonly transport: 'udp' | 'tcp';
  /** Host without brackets. */
  readonly host: string;
  readonly port: number;
  readonly family: 4 | 6;
  /** The address as the user wrote it (for messages). */
  readonly text: string;
}

/** Parses a listen address; returns an error message instead of throwing. */
export function parseListenAddress(text: string): ListenAddress | { readonly error: string } {
  const m = /^(udp|tcp):\/\/(?:\[([0-9a-fA-F:.]+)\]|(\d{1,3}(?:\.\d{1,3}){3})):(\d{1,5})$/.exec(text);
  if (m === null)
    return { error: `listen address '${text}': expected udp://HOST:PORT or tcp://HOST:PORT (IPv6 in [ ])` };
  const host = m[2] ?? m[3] ?? '';
  const family = isIP(host);
  const port = Number(m[4]);
  if (family === 0) return { error: `listen address '${text}': '${host}' is not an IP address` };
  if (port > 65535) return { error: `listen address '${text}': port ${port} is out of range` };
  return { transport: m[1] as 'udp' | 'tcp', host, port, family: family === 6 ? 6 : 4, text };
}

/** Sender allow-list of addresses and CIDRs; an empty list allows everyone. */
export class AllowList {
  /** Whether the list is empty (every sender allowed). */
  readonly open: boolean;
  private readonly list = new BlockList();

  /** Builds the list; entries must be valid (the config schema checks them). */
  constructor(entries: readonly string[]) {
    this.open = entries.length === 0;
    for (const e of entries) {
      const [addr = '', bits] = e.split('/');
      const family = isIP(addr) === 6 ? 'ipv6' : 'ipv4';
      if (bits === undefined) this.list.addAddress(addr, family);
      else this.list.addSubnet(addr, Number(bits), family);
    }
  }

  /** Whether `ip` (as a socket reports it; IPv4-mapped IPv6 counts as IPv4) may send. */
  allows(ip: string): boolean {
    if (this.open) return true;
    const ip4 = unmapIpv4(ip);
    if (ip4 !== undefined) return this.list.check(ip4, 'ipv4');
    return isIP(ip) === 6 && this.list.check(ip, 'ipv6');
  }
}

/** `::ffff:a.b.c.d` → `a.b.c.d`; a plain IPv4 address is returned as is; otherwise undefined. */
export function unmapIpv4(ip: string): string | undefined {
  if (isIP(ip) === 4) return ip;
  if (ip.length > 7 && ip.slice(0, 7).toLowerCase() === '::ffff:' && isIP(ip.slice(7)) === 4)
    return ip.slice(7);
  return undefined;
}

/** A socket/file error as one line naming what failed (`address in use (EADDRINUSE)`, ...). */
export function describeError(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  const known: Record<string, string> = {
    EADDRINUSE: 'address in use',
    EACCES: 'permission denied',
    EPERM: 'permission denied',
    EADDRNOTAVAIL: 'address not available on this host',
    ENOENT: 'no such file or directory',
    ENODEV: 'no such device',
    EAFNOSUPPORT: 'address family not supported',
  };
  if (typeof code === 'string' && known[code] !== undefined) return `${known[code]} (${code})`;
  return err instanceof Error ? err.message : String(err);
}

/** Keeps at most `max` characters of `text` (its end: the last words of a dying child matter most). */
export function boundTail(text: string, max: number): string {
  return text.length <= max ? text : `…${text.slice(text.length - max + 1)}`;
}

/** A zeroed stats record. */
export function emptyStats(): SourceStats {
  return {
    received: 0,
    bytes: 0,
    accepted: 0,
    rejected: 0,
    malformed: 0,
    dropped: 0,
    lastReceivedAt: undefined,
    up: false,
  };
}

/**
 * Binds a UDP socket on `a` and asks for `recvBufferBytes` of receive buffer (the kernel caps it
 * at net.core.rmem_max silently). Rejects with an Error naming `label` and the address.
 */
export function openUdp(a: ListenAddress, recvBufferBytes: number, label: string): Promise<UdpSocket> {
  return new Promise<UdpSocket>((resolve, reject) => {
    const s = createSocket({ type: a.family === 6 ? 'udp6' : 'udp4', ipv6Only: a.family === 6 });
    const onError = (err: Error): void => {
      s.close();
      reject(new Error(`${label}: cannot listen on ${a.text}: ${describeError(err)}`, { cause: err }));
    };
    s.once('error', onError);
    s.bind(a.port, a.host, () => {
      s.off('error', onError);
      try {
        s.setRecvBufferSize(recvBufferBytes);
      } catch {
        // Refused outright (not Linux's silent cap): keep the default size.
      }
      resolve(s);
    });
  });
}

/** Listens for TCP on `a`; rejects with an Error naming `label` and the address. */
export function openTcp(a: ListenAddress, onConnection: (s: Socket) => void, label: string): Promise<Server> {
  return new Promise<Server>((resolve, reject) => {
    const server = createServer({ noDelay: true }, onConnection);
    const onError = (err: Error): void => {
      server.close();
      reject(new Error(`${label}: cannot listen on ${a.text}: ${describeError(err)}`, { cause: err }));
    };
    server.once('error', onError);
    server.listen({ port: a.port, host: a.host, ipv6Only: a.family === 6 }, () => {
      server.off('error', onError);
      resolve(server);
    });
  });
}

/** `udp://host:port` texts of bound sockets and servers (ports resolved). */
export function boundAddresses(udp: readonly UdpSocket[], servers: readonly Server[]): string[] {
  const out: string[] = [];
  const text = (family: string, address: string, port: number, t: string): string =>
    `${t}://${family === 'IPv6' ? `[${address}]` : address}:${port}`;
  for (const s of udp) {
    const a = s.address();
    out.push(text(a.family, a.address, a.port, 'udp'));
  }
  for (const s of servers) {
    const a = s.address();
    if (a !== null && typeof a === 'object') out.push(text(a.family, a.address, a.port, 'tcp'));
  }
  return out;
}

/** Closes sockets and servers; resolves when all are closed. */
export async function closeAll(udp: UdpSocket[], servers: Server[]): Promise<void> {
  const closing: Promise<void>[] = [];
  for (const s of udp.splice(0)) closing.push(new Promise<void>((r) => s.close(() => r())));
  for (const s of servers.splice(0)) closing.push(new Promise<void>((r) => s.close(() => r())));
  await Promise.all(closing);
}

/** Settings every UDP/TCP listener shares (HEP listener, syslog receiver). */
export interface SocketListenerOptions {
  /** `udp://HOST:PORT` / `tcp://HOST:PORT` (IPv6 as `[::1]`); port 0 picks a free port (tests). */
  readonly listen: readonly string[];
  /** Sender addresses/CIDRs allowed; empty: everyone. */
  readonly allow?: readonly string[];
  /** SO_RCVBUF asked for on UDP sockets (default LIVE_UDP_RECV_BUFFER_BYTES; kernel-capped). */
  readonly recvBufferBytes?: number;
  readonly maxConnections?: number;
  readonly idleTimeoutMs?: number;
  readonly now?: Clock;
}

/** The counters a `SocketListener` keeps in its owner's stats record. */
export type SocketListenerStats = SourceStats & { connectionsRefused: number };

/** Cuts one TCP connection's bytes into messages (HepStreamFramer, SyslogStreamFramer). */
export interface StreamFramer {
  push(chunk: Buffer): void;
  /** The connection closed. */
  end(): void;
}

/** What a `SocketListener`'s owner does with the traffic the allow-list and bounds let in. */
export interface SocketListenerHooks {
  /** One datagram from an allowed sender (counted already). */
  datagram(msg: Buffer, peer: string): void;
  /** A TCP connection from an allowed sender within the connection bound: its framer. */
  stream(peer: string): StreamFramer;
  /** A datagram or connection refused by the allow-list (counted in `rejected` already). */
  refused?(): void;
  /** A UDP socket was bound (before it receives anything). */
  udpBound?(socket: UdpSocket): void;
  /** `stop` closed everything (also when `start` failed). */
  stopped?(): void;
}

/**
 * The UDP sockets and TCP servers behind one listener: binds every listen address, applies the
 * sender allow-list, bounds connections in number and idle time, and counts what arrives in the
 * owner's stats record. The owner decodes; this only moves bytes.
 */
export class SocketListener {
  readonly now: Clock;
  private readonly addrs: ListenAddress[] = [];
  private readonly allow: AllowList;
  private readonly recvBuffer: number;
  private readonly maxConnections: number;
  private readonly idleTimeout: number;
  private readonly udp: UdpSocket[] = [];
  private readonly servers: Server[] = [];
  private readonly conns = new Set<Socket>();
  private running = false;

  /** Validates the settings (throws on a bad listen address or allow entry: configuration errors). */
  constructor(
    private readonly label: string,
    options: SocketListenerOptions,
    private readonly st: SocketListenerStats,
    private readonly hooks: SocketListenerHooks,
  ) {
    for (const text of options.listen) {
      const a = parseListenAddress(text);
      if ('error' in a) throw new Error(`${label}: ${a.error}`);
      this.addrs.push(a);
    }
    if (this.addrs.length === 0) throw new Error(`${label}: no listen address`);
    this.allow = new AllowList(options.allow ?? []);
    this.recvBuffer = options.recvBufferBytes ?? LIVE_UDP_RECV_BUFFER_BYTES;
    this.maxConnections = options.maxConnections ?? LIVE_MAX_TCP_CONNECTIONS;
    this.idleTimeout = options.idleTimeoutMs ?? LIVE_TCP_IDLE_TIMEOUT_MS;
    this.now = options.now ?? wallClock;
  }

  /** Open TCP connections now. */
  get connections(): number {
    return this.conns.size;
  }

  /** Binds every listen address; rejects naming the address that failed (and closes the others). */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      for (const a of this.addrs) {
        if (a.transport === 'udp') await this.bindUdp(a);
        else await this.listenTcp(a);
      }
    } catch (err) {
      await this.stop();
      throw err;
    }
    this.st.up = true;
    delete this.st.error;
  }

  /** Closes sockets and connections, then tells the owner. */
  async stop(): Promise<void> {
    this.running = false;
    this.st.up = false;
    for (const c of this.conns) c.destroy();
    this.conns.clear();
    await closeAll(this.udp, this.servers);
    this.hooks.stopped?.();
  }

  /** The addresses actually bound (ports resolved when 0 was asked), as `udp://host:port`. */
  addresses(): string[] {
    return boundAddresses(this.udp, this.servers);
  }

  /** Counts one datagram from `peer` and hands it to the owner when the allow-list lets it in. */
  datagram(msg: Buffer, peer: string): void {
    const st = this.st;
    st.received++;
    st.bytes += msg.length;
    st.lastReceivedAt = this.now();
    if (!this.allow.allows(peer)) {
      this.refuse();
      return;
    }
    this.hooks.datagram(msg, peer);
  }

  private async bindUdp(a: ListenAddress): Promise<void> {
    const s = await openUdp(a, this.recvBuffer, this.label);
    this.hooks.udpBound?.(s);
    s.on('error', (err) => this.fail(`${a.text}: ${describeError(err)}`));
    s.on('message', (msg, rinfo) => this.datagram(msg, rinfo.address));
    this.udp.push(s);
  }

  private async listenTcp(a: ListenAddress): Promise<void> {
    const server = await openTcp(a, (socket) => this.connection(socket), this.label);
    server.on('error', (err) => this.fail(`${a.text}: ${describeError(err)}`));
    this.servers.push(server);
  }

  private fail(why: string): void {
    this.st.up = false;
    this.st.error = why;
  }

  private refuse(): void {
    this.st.rejected++;
    this.hooks.refused?.();
  }

  private connection(socket: Socket): void {
    const st = this.st;
    const peer = socket.remoteAddress ?? '';
    if (!this.running || !this.allow.allows(peer)) {
      this.refuse();
      socket.destroy();
      return;
    }
    if (this.conns.size >= this.maxConnections) {
      st.connectionsRefused++;
      st.dropped++;
      socket.destroy();
      return;
    }
    const framer = this.hooks.stream(peer);
    this.conns.add(socket);
    socket.setTimeout(this.idleTimeout, () => socket.destroy());
    socket.on('data', (chunk: Buffer) => {
      st.bytes += chunk.length;
      st.lastReceivedAt = this.now();
      framer.push(chunk);
    });
    socket.on('error', () => undefined); // a reset peer; 'close' follows
    socket.on('close', () => {
      framer.end();
      this.conns.delete(socket);
    });
  }
}
