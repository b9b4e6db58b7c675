/**
 * The audit's SIP client: sends one request at a time per call over UDP, TCP or TLS to a target the
 * Scope allows, matches the answers by Via branch and CSeq method, retransmits over UDP (RFC 3261
 * Timer A, each retransmission paid from the rate limiter), and gives up after a timeout. It never
 * follows a redirect (3xx is recorded as the final answer), never sends to an address from a
 * Contact, Via or Record-Route, and every request carries the sipwarden User-Agent so the owner
 * finds the audit in the PBX logs. An INVITE is always ended by the client: ACK for a failure, ACK
 * then BYE for an unexpected 2xx, and the caller's `cancel()` for a provisional answer.
 */
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import {
  AUDIT_MAX_MESSAGE_BYTES,
  AUDIT_MAX_PENDING,
  AUDIT_MAX_RESPONSES_PER_REQUEST,
} from '../config/limits.js';
import { evidenceMessage } from './evidence.js';
import { parseSipMessage, type SipMessage } from '../sip/message.js';
import { SipStreamFramer } from '../sip/stream.js';
import type { RateLimiter } from './rate-limiter.js';
import type { Scope } from './scope.js';

/** The transports the probe speaks. */
export type SipTransport = 'udp' | 'tcp' | 'tls';

/** Where one request goes. */
export interface SipEndpoint {
  readonly address: string;
  readonly port: number;
  readonly transport: SipTransport;
  /** Host name written in Request-URIs and sent as TLS SNI (an address when no name was given). */
  readonly host: string;
}

/** What to send. Headers the probe always writes: Via, Max-Forwards, From, To, Call-ID, CSeq,
 * Contact (unless `noContact`), User-Agent, Content-Length. */
export interface SipRequestSpec {
  readonly method: string;
  readonly requestUri: string;
  /** To URI (default: the Request-URI). */
  readonly toUri?: string;
  /** From URI (default: the To URI for REGISTER, else sip:sipwarden@<local address>). */
  readonly fromUri?: string;
  readonly callId?: string;
  readonly cseq?: number;
  readonly fromTag?: string;
  readonly headers?: readonly (readonly [string, string])[];
  readonly contentType?: string;
  readonly body?: string;
  /** Leave Contact out (a REGISTER without Contact only queries bindings: it changes nothing). */
  readonly noContact?: boolean;
  /** Expires header value. */
  readonly expires?: number;
}

/** One answer to a request. */
export interface SipAnswer {
  readonly status: number;
  readonly reason: string;
  /** Milliseconds after the first send. */
  readonly afterMs: number;
  readonly message: SipMessage;
}

/** The outcome of one request. */
export interface SipExchange {
  readonly endpoint: SipEndpoint;
  readonly method: string;
  /** The request as sent. */
  request: string;
  readonly callId: string;
  readonly branch: string;
  readonly answers: SipAnswer[];
  /** The final answer (>= 200), if any arrived before the timeout. */
  final: SipAnswer | undefined;
  timedOut: boolean;
  /** A transport error (refused, reset, handshake failure). */
  error: string | undefined;
  /** Sends of this request (1 + retransmissions). */
  sends: number;
}

/** Hooks of one request. */
export interface SipRequestHooks {
  /** Called on each provisional answer of an INVITE; `cancel` sends CANCEL (once). */
  onProvisional?(answer: SipAnswer, cancel: () => void): void;
  /** Overrides the probe's timeout for this request (ms). */
  readonly timeoutMs?: number;
}

/** Options of a probe client. */
export interface SipProbeOptions {
  readonly scope: Scope;
  readonly limiter: RateLimiter;
  /** User-Agent written in every request. */
  readonly userAgent: string;
  /** Default timeout per request (ms). */
  readonly timeoutMs: number;
  /** Local address to send from (default: any). */
  readonly localAddress?: string;
  /** Address written in Via and Contact when the socket is bound to any address (default: the
   * loopback address; the audit passes the address routing picks towards the target). */
  readonly viaAddress?: string;
  /** Connect/handshake timeout for TCP and TLS (ms, default = timeoutMs). */
  readonly connectTimeoutMs?: number;
}

/** Counters of a probe client, for the report. */
export interface SipProbeStats {
  requests: number;
  retransmissions: number;
  /** Answers that matched no request in flight (late, retransmitted, or stray). */
  unmatched: number;
  /** Datagrams from addresses outside the scope (ignored). */
  foreign: number;
  /** 3xx answers recorded and not followed. */
  redirectsNotFollowed: number;
  connections: number;
}

interface Pending {
  readonly exchange: SipExchange;
  readonly started: number;
  readonly onAnswer: (a: SipAnswer) => void;
}

interface Conn {
  readonly socket: Socket | TLSSocket;
  readonly framer: SipStreamFramer;
  localAddress: string;
  localPort: number;
  closed: boolean;
}

const T1 = 500;
const METHOD_RE = /^[A-Z]{1,20}$/;

/** Random token of `bytes` random bytes, hex. */
export function randomToken(bytes = 8): string {
  return randomBytes(bytes).toString('hex');
}

/** The SIP client the audit checks share; see the module comment. */
export class SipProbe {
  readonly stats: SipProbeStats = {
    requests: 0,
    retransmissions: 0,
    unmatched: 0,
    foreign: 0,
    redirectsNotFollowed: 0,
    connections: 0,
  };
  private readonly pending = new Map<string, Pending>();
  private udp4: Promise<UdpSocket> | undefined;
  private udp6: Promise<UdpSocket> | undefined;
  private readonly conns = new Map<string, Promise<Conn>>();
  private closed = false;

  constructor(private readonly options: SipProbeOptions) {}

  /** The rate limiter every send pays from. */
  get limiter(): RateLimiter {
    return this.options.limiter;
  }

  /** The scope every send is checked against. */
  get scope(): Scope {
    return this.options.scope;
  }

  /** Sends a request and resolves when it has a final answer, timed out, or failed. */
  async request(
    endpoint: SipEndpoint,
    spec: SipRequestSpec,
    hooks: SipRequestHooks = {},
  ): Promise<SipExchange> {
    const callId = spec.callId ?? `${randomToken(12)}@sipwarden.audit`;
    const branch = `z9hG4bK-sw-${randomToken(8)}`;
    const exchange: SipExchange = {
      endpoint,
      method: spec.method,
      request: '',
      callId,
      branch,
      answers: [],
      final: undefined,
      timedOut: false,
      error: undefined,
      sends: 0,
    };
    if (!METHOD_RE.test(spec.method)) {
      exchange.error = `not a method: ${spec.method}`;
      return exchange;
    }
    if (this.closed) {
      exchange.error = 'probe closed';
      return exchange;
    }
    if (!this.options.scope.allows(endpoint.address)) {
      exchange.error = `refused: ${endpoint.address} is not a target of this audit`;
      return exchange;
    }
    if (this.pending.size >= AUDIT_MAX_PENDING) {
      exchange.error = 'too many requests in flight';
      return exchange;
    }
    const timeoutMs = hooks.timeoutMs ?? this.options.timeoutMs;
    let local: { address: string; port: number; send: (b: Buffer) => Promise<void> };
    try {
      await this.options.limiter.take();
      local = await this.transportFor(endpoint);
    } catch (err) {
      exchange.error = err instanceof Error ? err.message : String(err);
      return exchange;
    }
    const fromTag = spec.fromTag ?? randomToken(6);
    const text = buildRequest(
      spec,
      endpoint,
      local.address,
      local.port,
      branch,
      callId,
      fromTag,
      this.options.userAgent,
    );
    exchange.request = text;
    const data = Buffer.from(text, 'utf8');
    const key = `${branch}|${spec.method}`;
    return new Promise<SipExchange>((resolve) => {
      let settled = false;
      let cancelled = false;
      let retransmit: NodeJS.Timeout | undefined;
      const started = performance.now();
      const finish = (): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (retransmit !== undefined) clearTimeout(retransmit);
        this.pending.delete(key);
        resolve(exchange);
      };
      const timer = setTimeout(() => {
        exchange.timedOut = true;
        finish();
      }, timeoutMs);
      const sendOnce = (): void => {
        exchange.sends++;
        local.send(data).catch((err: unknown) => {
          exchange.error = err instanceof Error ? err.message : String(err);
          finish();
        });
      };
      const cancel = (): void => {
        if (cancelled || spec.method !== 'INVITE' || settled) return;
        cancelled = true;
        void this.sendHopByHop('CANCEL', endpoint, spec, local, branch, callId, fromTag, undefined);
      };
      this.pending.set(key, {
        exchange,
        started,
        onAnswer: (a) => {
          if (exchange.answers.length < AUDIT_MAX_RESPONSES_PER_REQUEST) exchange.answers.push(a);
          if (retransmit !== undefined) {
            clearTimeout(retransmit);
            retransmit = undefined;
          }
          if (a.status < 200) {
            hooks.onProvisional?.(a, cancel);
            return;
          }
          if (exchange.final !== undefined) return;
          exchange.final = a;
          if (a.status >= 300 && a.status < 400) this.stats.redirectsNotFollowed++;
          if (spec.method === 'INVITE') {
            const toTag = a.message.to?.tag;
            void this.sendHopByHop(
              'ACK',
              endpoint,
              spec,
              local,
              branch,
              callId,
              fromTag,
              toTag,
              a.status < 300,
            );
            // An answered call must end at once: nothing may be billed.
            if (a.status < 300) void this.sendBye(endpoint, spec, local, callId, fromTag, a.message);
          }
          finish();
        },
      });
      this.stats.requests++;
      sendOnce();
      if (endpoint.transport === 'udp') {
        let interval = T1;
        const again = (): void => {
          if (settled || exchange.answers.length > 0) return;
          this.options.limiter
            .take()
            .then(() => {
              if (settled || exchange.answers.length > 0) return;
              this.stats.retransmissions++;
              sendOnce();
              interval = Math.min(interval * 2, 4000);
              retransmit = setTimeout(again, interval);
            })
            .catch(() => undefined);
        };
        retransmit = setTimeout(again, interval);
      }
    });
  }

  /** Closes every socket; requests in flight time out. */
  async close(): Promise<void> {
    this.closed = true;
    const socks: Promise<void>[] = [];
    for (const p of [this.udp4, this.udp6]) {
      if (p !== undefined)
        socks.push(
          p.then(
            (s) => new Promise<void>((r) => s.close(() => r())),
            () => undefined,
          ),
        );
    }
    for (const c of this.conns.values()) {
      socks.push(
        c.then(
          (conn) => {
            conn.closed = true;
            conn.socket.destroy();
          },
          () => undefined,
        ),
      );
    }
    this.conns.clear();
    await Promise.all(socks);
  }

  /** ACK (same branch for a failure, new branch for 2xx) or CANCEL (same branch) of an INVITE. */
  private async sendHopByHop(
    method: 'ACK' | 'CANCEL',
    endpoint: SipEndpoint,
    spec: SipRequestSpec,
    local: { address: string; port: number; send: (b: Buffer) => Promise<void> },
    branch: string,
    callId: string,
    fromTag: string,
    toTag: string | undefined,
    newBranch = false,
  ): Promise<void> {
    const toUri = spec.toUri ?? spec.requestUri;
    const b = newBranch ? `z9hG4bK-sw-${randomToken(8)}` : branch;
    const lines = [
      `${method} ${spec.requestUri} SIP/2.0`,
      `Via: SIP/2.0/${endpoint.transport.toUpperCase()} ${hostPort(local.address, local.port)};branch=${b};rport`,
      'Max-Forwards: 70',
      `From: <${spec.fromUri ?? `sip:sipwarden@${hostPort(local.address)}`}>;tag=${fromTag}`,
      `To: <${toUri}>${toTag !== undefined ? `;tag=${toTag}` : ''}`,
      `Call-ID: ${callId}`,
      `CSeq: ${spec.cseq ?? 1} ${method}`,
      `User-Agent: ${this.options.userAgent}`,
      'Content-Length: 0',
      '',
      '',
    ];
    try {
      await this.options.limiter.take();
      this.stats.requests++;
      await local.send(Buffer.from(lines.join('\r\n'), 'utf8'));
    } catch {
      // Best effort: the INVITE's own timeout still ends the exchange.
    }
  }

  /** BYE after an unexpected 2xx (sent to the target address, never to the answer's Contact). */
  private async sendBye(
    endpoint: SipEndpoint,
    spec: SipRequestSpec,
    local: { address: string; port: number; send: (b: Buffer) => Promise<void> },
    callId: string,
    fromTag: string,
    answer: SipMessage,
  ): Promise<void> {
    const toTag = answer.to?.tag;
    const routes = answer.recordRoutes
      .map((r) => `<${r.rawUri}>`)
      .reverse()
      .map((r) => `Route: ${r}`);
    const lines = [
      `BYE ${spec.requestUri} SIP/2.0`,
      `Via: SIP/2.0/${endpoint.transport.toUpperCase()} ${hostPort(local.address, local.port)};branch=z9hG4bK-sw-${randomToken(8)};rport`,
      'Max-Forwards: 70',
      `From: <${spec.fromUri ?? `sip:sipwarden@${hostPort(local.address)}`}>;tag=${fromTag}`,
      `To: <${spec.toUri ?? spec.requestUri}>${toTag !== undefined ? `;tag=${toTag}` : ''}`,
      `Call-ID: ${callId}`,
      `CSeq: ${(spec.cseq ?? 1) + 1} BYE`,
      ...routes,
      `User-Agent: ${this.options.userAgent}`,
      'Content-Length: 0',
      '',
      '',
    ];
    try {
      await this.options.limiter.take();
      this.stats.requests++;
      await local.send(Buffer.from(lines.join('\r\n'), 'utf8'));
    } catch {
      // Best effort.
    }
  }

  private dispatch(data: Buffer): void {
    if (data.length > AUDIT_MAX_MESSAGE_BYTES) {
      this.stats.unmatched++;
      return;
    }
    const msg = parseSipMessage(data);
    if (msg.kind !== 'response') return;
    const via = msg.vias[0];
    const cseq = msg.cseq;
    const branch = via?.branch;
    if (branch === undefined || cseq === undefined) {
      this.stats.unmatched++;
      return;
    }
    const p = this.pending.get(`${branch}|${cseq.method}`);
    if (p === undefined || p.exchange.callId !== msg.callId) {
      this.stats.unmatched++;
      return;
    }
    p.onAnswer({
      status: msg.status,
      reason: msg.reason,
      afterMs: Math.round(performance.now() - p.started),
      message: msg,
    });
  }

  private async transportFor(
    ep: SipEndpoint,
  ): Promise<{ address: string; port: number; send: (b: Buffer) => Promise<void> }> {
    if (ep.transport === 'udp') {
      const six = ep.address.includes(':');
      const s = await this.udpSocket(six);
      const a = s.address();
      const any = a.address === '0.0.0.0' || a.address === '::';
      // Answers come back to the source address anyway (rport, RFC 3581); Via and Contact name
      // the address routing uses so the PBX's logs show where the audit ran from.
      const addr = any ? (this.options.viaAddress ?? (six ? '::1' : '127.0.0.1')) : a.address;
      return {
        address: addr,
        port: a.port,
        send: (b) =>
          new Promise<void>((resolve, reject) =>
            s.send(b, ep.port, ep.address, (err) => (err ? reject(err) : resolve())),
          ),
      };
    }
    const conn = await this.connection(ep);
    return {
      address: conn.localAddress,
      port: conn.localPort,
      send: (b) =>
        new Promise<void>((resolve, reject) => {
          if (conn.closed) {
            reject(new Error('connection closed'));
            return;
          }
          conn.socket.write(b, (err) => (err ? reject(err) : resolve()));
        }),
    };
  }

  private udpSocket(six: boolean): Promise<UdpSocket> {
    const existing = six ? this.udp6 : this.udp4;
    if (existing !== undefined) return existing;
    const p = new Promise<UdpSocket>((resolve, reject) => {
      const s = createSocket({ type: six ? 'udp6' : 'udp4' });
      s.on('message', (msg, rinfo) => {
        if (!this.isTargetAddress(rinfo.address)) {
          this.stats.foreign++;
          return;
        }
        this.dispatch(msg);
      });
      s.once('error', reject);
      const local = this.options.localAddress;
      s.bind(
        { port: 0, ...(local !== undefined && local.includes(':') === six ? { address: local } : {}) },
        () => {
          s.removeListener('error', reject);
          s.on('error', () => undefined);
          resolve(s);
        },
      );
    });
    if (six) this.udp6 = p;
    else this.udp4 = p;
    return p;
  }

  private isTargetAddress(a: string): boolean {
    const before = this.options.scope.refused;
    const ok = this.options.scope.allows(a);
    // An answer from elsewhere is not an attempt of ours to send: do not count it as refused.
    if (!ok) this.options.scope.refused = before;
    return ok;
  }

  private connection(ep: SipEndpoint): Promise<Conn> {
    const key = `${ep.transport}|${ep.address}|${ep.port}`;
    const existing = this.conns.get(key);
    if (existing !== undefined) {
      return existing.then((c) => {
        if (!c.closed) return c;
        this.conns.delete(key);
        return this.connection(ep);
      });
    }
    const p = new Promise<Conn>((resolve, reject) => {
      const timeout = this.options.connectTimeoutMs ?? this.options.timeoutMs;
      const local = this.options.localAddress;
      const base = {
        host: ep.address,
        port: ep.port,
        ...(local !== undefined ? { localAddress: local } : {}),
      };
      const socket: Socket | TLSSocket =
        ep.transport === 'tls'
          ? tlsConnect({
              ...base,
              rejectUnauthorized: false,
              ...(isIpLiteral(ep.host) ? {} : { servername: ep.host }),
            })
          : netConnect(base);
      this.stats.connections++;
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`${ep.transport} connect to ${hostPort(ep.address, ep.port)} timed out`));
      }, timeout);
      const conn: Conn = {
        socket,
        framer: new SipStreamFramer({
          onMessage: (m) => this.dispatch(m),
          onAnomaly: () => undefined,
        }),
        localAddress: '',
        localPort: 0,
        closed: false,
      };
      socket.on('data', (chunk: Buffer) => conn.framer.push(chunk));
      socket.on('close', () => {
        conn.closed = true;
      });
      socket.on(ep.transport === 'tls' ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        conn.localAddress = socket.localAddress ?? '127.0.0.1';
        conn.localPort = socket.localPort ?? 0;
        resolve(conn);
      });
      socket.on('error', (err) => {
        clearTimeout(timer);
        conn.closed = true;
        reject(err);
      });
    });
    this.conns.set(key, p);
    p.catch(() => this.conns.delete(key));
    return p;
  }
}

function isIpLiteral(h: string): boolean {
  return /^[\d.]+$/.test(h) || h.includes(':');
}

/** `host:port` with IPv6 bracketed; the port left out when undefined. */
export function hostPort(address: string, port?: number): string {
  const h = address.includes(':') ? `[${address}]` : address;
  return port === undefined ? h : `${h}:${port}`;
}

/** Builds the request text (exported for tests). */
export function buildRequest(
  spec: SipRequestSpec,
  ep: SipEndpoint,
  localAddress: string,
  localPort: number,
  branch: string,
  callId: string,
  fromTag: string,
  userAgent: string,
): string {
  const toUri = spec.toUri ?? spec.requestUri;
  const fromUri =
    spec.fromUri ?? (spec.method === 'REGISTER' ? toUri : `sip:sipwarden@${hostPort(localAddress)}`);
  const body = spec.body ?? '';
  const tp = ep.transport === 'udp' ? '' : `;transport=${ep.transport}`;
  const lines = [
    `${spec.method} ${spec.requestUri} SIP/2.0`,
    `Via: SIP/2.0/${ep.transport.toUpperCase()} ${hostPort(localAddress, localPort)};branch=${branch};rport`,
    'Max-Forwards: 70',
    `From: <${fromUri}>;tag=${fromTag}`,
    `To: <${toUri}>`,
    `Call-ID: ${callId}`,
    `CSeq: ${spec.cseq ?? 1} ${spec.method}`,
  ];
  if (spec.noContact !== true)
    lines.push(`Contact: <sip:sipwarden@${hostPort(localAddress, localPort)}${tp}>`);
  if (spec.expires !== undefined) lines.push(`Expires: ${spec.expires}`);
  for (const [n, v] of spec.headers ?? []) lines.push(`${n}: ${v.replace(/[\r\n]/g, ' ')}`);
  lines.push(`User-Agent: ${userAgent}`);
  if (body !== '') lines.push(`Content-Type: ${spec.contentType ?? 'application/sdp'}`);
  lines.push(`Content-Length: ${Buffer.byteLength(body, 'utf8')}`, '', body);
  return lines.join('\r\n');
}

/** A request or answer cut for evidence: start line and relevant headers, escaped, bounded. */
export function evidenceText(raw: string | Buffer): string {
  return evidenceMessage(raw);
}

/** The answer's start line and relevant headers as evidence. */
export function answerText(a: SipAnswer | undefined): string | undefined {
  return a === undefined
    ? undefined
    : evidenceMessage(
        a.message.data.subarray(0, a.message.length > 0 ? a.message.length : a.message.data.length),
      );
}
