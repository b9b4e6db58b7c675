/**
 * The syslog sink: RFC 5424 messages over UDP (RFC 5426, one message per datagram) or TCP with
 * octet-counting framing (RFC 6587 §3.4.1), with the redacted AlertJson or a CEF line as MSG.
 * TCP syslog has no acknowledgements: a batch counts as sent once the kernel took it, and a
 * connection that broke is reopened by the next attempt (at-least-once, like every sink).
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, isIPv6, type Socket } from 'node:net';
import { hostname as osHostname } from 'node:os';
import type { AlertJson, Severity } from '../core/alert.js';
import { escapeText } from '../core/escape.js';
import { SINK_SYSLOG_UDP_MAX_BYTES, SINK_WEBHOOK_TIMEOUT_MS } from '../config/limits.js';
import { redactAlert } from './redact.js';
import { alertFilter, SinkError, type AlertFilter, type AlertSink, type OverflowPolicy } from './sink.js';

/** Syslog facility names (RFC 5424 table 1) and their codes. */
export const SYSLOG_FACILITIES = {
  kern: 0,
  user: 1,
  mail: 2,
  daemon: 3,
  auth: 4,
  syslog: 5,
  lpr: 6,
  news: 7,
  uucp: 8,
  cron: 9,
  authpriv: 10,
  ftp: 11,
  ntp: 12,
  audit: 13,
  alert: 14,
  clock: 15,
  local0: 16,
  local1: 17,
  local2: 18,
  local3: 19,
  local4: 20,
  local5: 21,
  local6: 22,
  local7: 23,
} as const;

/** A facility name. */
export type SyslogFacility = keyof typeof SYSLOG_FACILITIES;

/** Syslog severity of each alert severity (2 crit, 3 err, 4 warning, 5 notice, 6 info). */
export const SYSLOG_SEVERITY: Readonly<Record<Severity, number>> = {
  critical: 2,
  high: 3,
  medium: 4,
  low: 5,
  info: 6,
};

/** CEF severity (0-10) of each alert severity. */
export const CEF_SEVERITY: Readonly<Record<Severity, number>> = {
  info: 1,
  low: 3,
  medium: 5,
  high: 8,
  critical: 10,
};

/**
 * Enterprise number of the structured-data element. 32473 is the number RFC 5612 reserves for
 * examples and documentation; sipwarden has no number of its own yet.
 */
export const SYSLOG_SD_ID = 'sipwarden@32473';

/** A parsed `udp://host:port` or `tcp://host:port`. */
export interface SyslogTarget {
  readonly transport: 'udp' | 'tcp';
  readonly host: string;
  readonly port: number;
}

/** Parses a syslog URL; undefined when it is not `udp://host:port` or `tcp://host:port`. */
export function parseSyslogUrl(url: string): SyslogTarget | undefined {
  const m = /^(udp|tcp):\/\/(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):([0-9]{1,5})\/?$/.exec(url);
  if (m === null) return undefined;
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return undefined;
  const host = (m[2] as string).replace(/^\[|\]$/g, '');
  return { transport: m[1] as 'udp' | 'tcp', host, port };
}

/**
 * Wire text made safe for CEF before its own escaping: cut to `max`, line breaks kept as `\n` in
 * extensions (a CEF escape) and spaces in the header, other control and bidi characters `?`.
 */
function cefClean(s: string, max: number, header: boolean): string {
  const t = s.length > max ? `${s.slice(0, max)}…` : s;
  return t.replace(/[\x00-\x1f\x7f-\x9f\u2028-\u202e]/g, (c) =>
    c === '\n' || c === '\r' ? (header ? ' ' : '\u0000' + c) : '?',
  );
}

/** Escapes a CEF header field: backslash and pipe; control characters made harmless. */
export function cefHeader(s: string, max = 200): string {
  return cefClean(s, max, true).replace(/[\\|]/g, (c) => `\\${c}`);
}

/** Escapes a CEF extension value: backslash, equals sign and line breaks (`\n`, `\r`). */
export function cefValue(s: string, max = 200): string {
  return cefClean(s, max, false)
    .replace(/[\\=]/g, (c) => `\\${c}`)
    .replace(/\u0000([\r\n])/g, (_m, c: string) => (c === '\n' ? '\\n' : '\\r'));
}

function ms(iso: string): string {
  const t = Date.parse(iso);
  return Number.isFinite(t) ? String(t) : '';
}

/** One alert as a CEF line: `CEF:0|sipwarden|sipwarden|<version>|<rule>|<title>|<0-10>|<ext>`. */
export function cefLine(a: AlertJson, version: string): string {
  const ext: string[] = [];
  const add = (k: string, v: string | number | undefined): void => {
    if (v === undefined || v === '') return;
    ext.push(`${k}=${typeof v === 'number' ? String(v) : cefValue(v)}`);
  };
  add('src', a.source?.ip);
  add('spt', a.source?.port);
  add('proto', a.source?.transport?.toUpperCase());
  add('dst', a.target?.ip);
  add('dpt', a.target?.port);
  add('suser', a.target?.identity);
  add('duser', a.target?.extension);
  add('cnt', a.count);
  add('rt', ms(a.raisedAt));
  add('start', ms(a.firstSeen));
  add('end', ms(a.lastSeen));
  add('externalId', a.id);
  add('cn1Label', 'revision');
  add('cn1', a.revision);
  add('cs1Label', 'site');
  add('cs1', a.site);
  add('cs2Label', 'sensor');
  add('cs2', a.sensor);
  add('cs3Label', 'state');
  add('cs3', a.state);
  add('cs4Label', 'country');
  add('cs4', a.source?.country);
  const sev = CEF_SEVERITY[a.severity] ?? 0;
  return `CEF:0|sipwarden|sipwarden|${cefHeader(version, 32)}|${cefHeader(a.rule, 64)}|${cefHeader(a.title)}|${sev}|${ext.join(' ')}`;
}

/** Printable US-ASCII only, as RFC 5424 asks of HOSTNAME, APP-NAME and MSGID; '-' when empty. */
function header(s: string, max: number): string {
  const t = s.replace(/[^\x21-\x7e]/g, '').slice(0, max);
  return t === '' ? '-' : t;
}

/** Escapes an SD-PARAM value: `"`, `\` and `]`. */
function sdValue(s: string): string {
  return escapeText(s, 200).replace(/["\\\]]/g, (c) => `\\${c}`);
}

/** Options of the syslog sink. */
export interface SyslogSinkOptions extends AlertFilter {
  readonly name?: string;
  readonly url: string;
  readonly format?: 'rfc5424' | 'cef';
  readonly facility?: SyslogFacility | number;
  /** HOSTNAME field (defaults to the machine's name). */
  readonly hostname?: string;
  /** Product version for CEF. */
  readonly version?: string;
  /** TCP connect and write timeout. */
  readonly timeoutMs?: number;
  /** Wall clock for the TIMESTAMP field (injectable for tests). */
  readonly now?: () => number;
}

/** Sends alerts to a syslog receiver. */
export class SyslogSink implements AlertSink {
  readonly name: string;
  readonly accepts: (a: AlertJson) => boolean;
  /** A SIEM feed: completeness first, so a full queue waits on the outbox. */
  readonly overflow: OverflowPolicy = 'wait';
  /** Counters for tests and logs. */
  readonly stats = { truncated: 0, connects: 0 };
  private readonly target: SyslogTarget;
  private readonly format: 'rfc5424' | 'cef';
  private readonly facility: number;
  private readonly host: string;
  private readonly version: string;
  private readonly timeoutMs: number;
  private readonly now: () => number;
  private udp: UdpSocket | undefined;
  private tcp: Socket | undefined;

  constructor(opts: SyslogSinkOptions) {
    const t = parseSyslogUrl(opts.url);
    if (t === undefined)
      throw new Error(`syslog url must be udp://host:port or tcp://host:port: ${opts.url}`);
    this.target = t;
    this.name = opts.name ?? 'syslog';
    this.format = opts.format ?? 'rfc5424';
    const f = opts.facility ?? 'local0';
    this.facility = typeof f === 'number' ? f : SYSLOG_FACILITIES[f];
    if (!Number.isInteger(this.facility) || this.facility < 0 || this.facility > 23) {
      throw new Error(`syslog facility out of range: ${String(f)}`);
    }
    this.host = header(opts.hostname ?? osHostname(), 255);
    this.version = opts.version ?? '0';
    this.timeoutMs = opts.timeoutMs ?? SINK_WEBHOOK_TIMEOUT_MS;
    this.now = opts.now ?? Date.now;
    this.accepts = alertFilter(opts);
  }

  /** One alert as an RFC 5424 message (without framing). */
  message(alert: AlertJson): string {
    const a = redactAlert(alert);
    const pri = this.facility * 8 + (SYSLOG_SEVERITY[a.severity] ?? 6);
    const ts = new Date(this.now()).toISOString();
    const sd =
      `[${SYSLOG_SD_ID} id="${sdValue(a.id)}" rev="${a.revision}" rule="${sdValue(a.rule)}"` +
      ` severity="${sdValue(a.severity)}" state="${sdValue(a.state)}" site="${sdValue(a.site)}"` +
      ` sensor="${sdValue(a.sensor)}"${a.source === undefined ? '' : ` src="${sdValue(a.source.ip)}"`}` +
      ` count="${a.count}"]`;
    const msg = this.format === 'cef' ? cefLine(a, this.version) : JSON.stringify(a);
    return `<${pri}>1 ${ts} ${this.host} sipwarden ${process.pid} ${header(a.rule, 32)} ${sd} ${msg}`;
  }

  async send(batch: readonly AlertJson[]): Promise<void> {
    const msgs = batch.map((a) => this.message(a));
    if (this.target.transport === 'udp') {
      for (const m of msgs) await this.sendUdp(this.cut(m));
      return;
    }
    const frames = msgs.map((m) => {
      const b = Buffer.from(m, 'utf8');
      return Buffer.concat([Buffer.from(`${b.length} `, 'ascii'), b]);
    });
    await this.sendTcp(Buffer.concat(frames));
  }

  async close(): Promise<void> {
    const u = this.udp;
    this.udp = undefined;
    if (u !== undefined) await new Promise<void>((r) => u.close(() => r()));
    const t = this.tcp;
    this.tcp = undefined;
    if (t !== undefined) await new Promise<void>((r) => t.end(() => r()));
  }

  /** Cuts a message to the UDP bound on a UTF-8 character boundary. */
  private cut(m: string): Buffer {
    const b = Buffer.from(m, 'utf8');
    if (b.length <= SINK_SYSLOG_UDP_MAX_BYTES) return b;
    this.stats.truncated++;
    let end = SINK_SYSLOG_UDP_MAX_BYTES;
    while (end > 0 && ((b[end] as number) & 0xc0) === 0x80) end--;
    return b.subarray(0, end);
  }

  private sendUdp(b: Buffer): Promise<void> {
    if (this.udp === undefined) {
      const s = createSocket(isIPv6(this.target.host) ? 'udp6' : 'udp4');
      // Errors surface through send's callback; this keeps a stray one from crashing the process.
      s.on('error', () => undefined);
      s.unref();
      this.udp = s;
    }
    const s = this.udp;
    return new Promise((resolve, reject) => {
      s.send(b, this.target.port, this.target.host, (err) => {
        if (err) reject(new SinkError(`syslog udp send: ${err.message}`, true));
        else resolve();
      });
    });
  }

  private async sendTcp(b: Buffer): Promise<void> {
    const s = this.tcp ?? (await this.connectTcp());
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        s.destroy();
        reject(new SinkError('syslog tcp write timed out', true));
      }, this.timeoutMs);
      s.write(b, (err) => {
        clearTimeout(timer);
        if (err) {
          s.destroy();
          reject(new SinkError(`syslog tcp write: ${err.message}`, true));
        } else resolve();
      });
    });
  }

  private connectTcp(): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const s = connect({ host: this.target.host, port: this.target.port });
      const timer = setTimeout(() => {
        s.destroy();
        reject(new SinkError('syslog tcp connect timed out', true));
      }, this.timeoutMs);
      s.once('connect', () => {
        clearTimeout(timer);
        this.stats.connects++;
        this.tcp = s;
        resolve(s);
      });
      s.on('error', (err) => {
        clearTimeout(timer);
        reject(new SinkError(`syslog tcp: ${err.message}`, true));
      });
      s.on('close', () => {
        if (this.tcp === s) this.tcp = undefined;
      });
      // The receiver says nothing; anything it does send is discarded.
      s.on('data', () => undefined);
    });
  }
}
