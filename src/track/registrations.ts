import { TRACK_MAX_AORS, TRACK_MAX_BINDINGS_PER_AOR, TRACK_REGISTRATION_HISTORY } from '../config/limits.js';
import { BoundedTable } from '../core/bounded-table.js';
import type { SipEvent } from './sip-event.js';
import type { Transaction } from './transactions.js';

/** Default registration interval when neither the Contact nor the request says (RFC 3261 §10.2.1.1). */
const DEFAULT_EXPIRES_S = 3600;

/** One contact binding of an address of record. */
export interface Binding {
  readonly contact: string;
  readonly srcIp: string;
  readonly srcPort: number;
  readonly transport: string;
  readonly userAgent: string;
  /** Digest user name that authenticated the REGISTER ('' when none was needed). */
  readonly identity: string;
  readonly firstTime: number;
  lastTime: number;
  expiresAt: number;
}

/** One change of an address of record's bindings. */
export interface BindingChange {
  readonly time: number;
  readonly change: 'added' | 'unregistered' | 'expired';
  readonly contact: string;
  readonly srcIp: string;
  readonly userAgent: string;
}

/** An address of record (To URI of REGISTER, `user@host`) and its bindings. */
export interface Registration {
  readonly aor: string;
  readonly bindings: Binding[];
  /** Successful REGISTERs that added or refreshed a binding. */
  refreshes: number;
  /** The latest binding changes, oldest first (at most TRACK_REGISTRATION_HISTORY). */
  readonly history: BindingChange[];
  firstTime: number;
  lastTime: number;
}

/** Registration changes, for detectors that watch bindings move. */
export interface RegistrationListener {
  /** A binding was added; `existing` are the AOR's live bindings just before it. */
  bindingAdded(reg: Registration, b: Binding, ev: SipEvent, existing: readonly Binding[]): void;
  bindingRefreshed(reg: Registration, b: Binding, ev: SipEvent): void;
  bindingRemoved(reg: Registration, b: Binding, reason: 'unregistered' | 'expired'): void;
}

/** Counters of the registration table. */
export interface RegistrationStats {
  /** Successful REGISTER transactions (2xx) with at least one binding change or refresh. */
  registrations: number;
  unregistrations: number;
  evictions: number;
  rejections: number;
}

/**
 * Keeps each address of record's bindings from successful REGISTER transactions (the request's
 * Contacts and expiry, confirmed by the 2xx), in event time. Bounded: TRACK_MAX_AORS records
 * (frequency admission), TRACK_MAX_BINDINGS_PER_AOR bindings each (oldest dropped).
 */
export class RegistrationTable {
  readonly stats: RegistrationStats = { registrations: 0, unregistrations: 0, evictions: 0, rejections: 0 };
  private readonly table = new BoundedTable<string, Registration>('registrations', TRACK_MAX_AORS);

  constructor(private readonly listener: RegistrationListener) {}

  get size(): number {
    return this.table.size;
  }

  /** Looks up an address of record. */
  get(aor: string): Registration | undefined {
    return this.table.get(aor);
  }

  /** A REGISTER transaction got its final answer. */
  onFinal(tx: Transaction, final: SipEvent): void {
    if (tx.method !== 'REGISTER' || final.status < 200 || final.status >= 300) return;
    const req = tx.request;
    const aor = addressOfRecord(req);
    if (aor === '') return;
    const now = final.time;
    const before = this.table.stats.evictions;
    const reg = this.table.touch(aor, () => ({
      aor,
      bindings: [],
      refreshes: 0,
      history: [],
      firstTime: now,
      lastTime: now,
    }));
    this.stats.evictions += this.table.stats.evictions - before;
    if (reg === undefined) {
      this.stats.rejections++;
      return;
    }
    reg.lastTime = now;
    this.expireBindings(reg, now);
    const msg = req.msg;
    const headerExpires = msg.expires;
    const identity = (msg.authorization ?? msg.proxyAuthorization)?.username ?? '';
    let changed = false;
    for (const c of msg.contacts) {
      if (c.star) {
        for (const b of reg.bindings.splice(0)) this.removed(reg, b, 'unregistered', now);
        this.stats.unregistrations++;
        changed = true;
        continue;
      }
      const contact = c.rawUri;
      const expires = c.expires ?? headerExpires ?? DEFAULT_EXPIRES_S;
      const i = reg.bindings.findIndex((b) => b.contact === contact);
      if (expires === 0) {
        if (i >= 0) {
          const [b] = reg.bindings.splice(i, 1);
          if (b !== undefined) this.removed(reg, b, 'unregistered', now);
        }
        this.stats.unregistrations++;
        changed = true;
        continue;
      }
      if (i >= 0) {
        const b = reg.bindings[i] as Binding;
        b.lastTime = now;
        b.expiresAt = now + expires * 1000;
        this.listener.bindingRefreshed(reg, b, req);
      } else {
        const b: Binding = {
          contact,
          srcIp: req.frame.srcIp,
          srcPort: req.frame.srcPort,
          transport: req.frame.transport,
          userAgent: msg.userAgent ?? '',
          identity,
          firstTime: now,
          lastTime: now,
          expiresAt: now + expires * 1000,
        };
        const existing = reg.bindings.slice();
        if (reg.bindings.length >= TRACK_MAX_BINDINGS_PER_AOR) {
          const dropped = reg.bindings.shift();
          if (dropped !== undefined) this.removed(reg, dropped, 'expired', now);
        }
        reg.bindings.push(b);
        note(reg, { time: now, change: 'added', contact, srcIp: b.srcIp, userAgent: b.userAgent });
        this.listener.bindingAdded(reg, b, req, existing);
      }
      changed = true;
    }
    if (changed) {
      reg.refreshes++;
      this.stats.registrations++;
    }
  }

  private removed(reg: Registration, b: Binding, why: 'unregistered' | 'expired', time: number): void {
    note(reg, { time, change: why, contact: b.contact, srcIp: b.srcIp, userAgent: b.userAgent });
    this.listener.bindingRemoved(reg, b, why);
  }

  private expireBindings(reg: Registration, now: number): void {
    for (let i = reg.bindings.length - 1; i >= 0; i--) {
      const b = reg.bindings[i] as Binding;
      if (b.expiresAt <= now) {
        reg.bindings.splice(i, 1);
        this.removed(reg, b, 'expired', b.expiresAt);
      }
    }
  }
}

/** Appends to a registration's history, dropping the oldest past TRACK_REGISTRATION_HISTORY. */
function note(reg: Registration, e: BindingChange): void {
  if (reg.history.length >= TRACK_REGISTRATION_HISTORY) reg.history.shift();
  reg.history.push(e);
}

/** `user@host` of the To URI of a REGISTER ('' when it has none). */
export function addressOfRecord(req: SipEvent): string {
  const uri = req.msg.to?.uri;
  if (uri === undefined) return '';
  return uri.user === undefined || uri.user === ''
    ? uri.host.toLowerCase()
    : `${uri.user}@${uri.host.toLowerCase()}`;
}
