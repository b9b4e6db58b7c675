import { WATCH_RETURN_PATH_MAX_NONCES, WATCH_RETURN_PATH_MAX_SOURCES } from '../config/limits.js';
import type { AuthAttempt } from '../detect/attempts.js';
import type { SipEvent } from '../track/sip-event.js';
import type { Transaction } from '../track/transactions.js';
import { FifoMap } from '../core/fifo-map.js';

/**
 * Which sources proved they receive what is sent to them, so that blocking can act on them and a
 * forged UDP packet "from" a provider cannot get the provider blocked (DESIGN.md). Proofs:
 * - a request over a connection (TCP, TLS, WebSocket): its handshake needed the return path;
 * - credentials computed from a nonce the server sent to that same address (svcrack does this);
 * - an ACK carrying the To tag of the final response sent to that address.
 * Bounded by WATCH_RETURN_PATH_MAX_SOURCES / _NONCES, oldest forgotten first.
 */
export class ReturnPaths {
  private readonly proven = new FifoMap<string, number>();
  /** Nonce → the address its challenge was sent to. */
  private readonly issued = new FifoMap<string, string>();
  forgotten = 0;

  /** True when `ip` proved a return path. */
  has(ip: string): boolean {
    return this.proven.has(ip);
  }

  get size(): number {
    return this.proven.size;
  }

  /** Every message (engine message tap). */
  message(ev: SipEvent, tx: Transaction | undefined): void {
    if (!ev.isRequest) return;
    const t = ev.frame.transport;
    if (t === 'tcp' || t === 'tls' || t === 'ws' || t === 'wss') {
      this.prove(ev.frame.srcIp, ev.time);
      return;
    }
    if (ev.method === 'ACK' && tx !== undefined && tx.final !== undefined && ev.toTag !== '') {
      if (ev.toTag === tx.final.toTag && ev.frame.srcIp === tx.request.frame.srcIp)
        this.prove(ev.frame.srcIp, ev.time);
    }
  }

  /** Every attempt (engine attempt tap). */
  attempt(a: AuthAttempt): void {
    if (a.origin !== 'sip') return;
    if (a.outcome === 'challenged' && a.final !== undefined) {
      const m = a.final.msg;
      const challenges = a.final.status === 407 ? m.proxyAuthenticate : m.wwwAuthenticate;
      for (const c of challenges) if (c.nonce !== undefined) this.issue(c.nonce, a.srcIp);
      return;
    }
    if (a.credentials && a.nonce !== '' && this.issued.get(a.nonce) === a.srcIp) this.prove(a.srcIp, a.time);
  }

  private issue(nonce: string, ip: string): void {
    if (this.issued.size >= WATCH_RETURN_PATH_MAX_NONCES && !this.issued.has(nonce)) {
      this.issued.shift();
    }
    this.issued.set(nonce, ip);
  }

  private prove(ip: string, time: number): void {
    if (!this.proven.has(ip) && this.proven.size >= WATCH_RETURN_PATH_MAX_SOURCES) {
      this.proven.shift();
      this.forgotten++;
    }
    this.proven.set(ip, time);
  }
}
