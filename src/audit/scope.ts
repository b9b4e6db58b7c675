/**
 * What the audit may touch: the targets given on the command line, resolved once, and nothing else.
 * Every probe asks `Scope.allows(address)` before it sends; a redirect, a Contact, a Via or a
 * Record-Route naming another host is recorded, never contacted. Also where the audit runs from
 * (the vantage point), so a report says whether "exposed" means "to the LAN" or "to the internet".
 */
import { lookup } from 'node:dns/promises';
import { createSocket } from 'node:dgram';
import { isIP } from 'node:net';
import { AUDIT_MAX_TARGETS } from '../config/limits.js';
import { classifyAddress, type AddressKind } from '../detect/net.js';

/** One target as given: a host name or address, and an optional SIP port. */
export interface TargetSpec {
  /** As written (host name or address, without brackets). */
  readonly host: string;
  /** SIP port given with `host:port`; undefined means 5060 (and 5061 for TLS). */
  readonly port: number | undefined;
}

/** A target resolved to the one address every probe of it goes to. */
export interface ResolvedTarget extends TargetSpec {
  readonly address: string;
  readonly family: 4 | 6;
}

/** Parses `host`, `host:port`, `[v6]`, `[v6]:port` or a bare IPv6 address; undefined when malformed. */
export function parseTarget(text: string): TargetSpec | undefined {
  const t = text.trim();
  if (t === '' || /[\s/@?#]/.test(t)) return undefined;
  let host: string;
  let port: number | undefined;
  const br = /^\[([0-9a-fA-F:.]+)\](?::(\d{1,5}))?$/.exec(t);
  if (br !== null) {
    host = br[1] as string;
    if (br[2] !== undefined) port = Number(br[2]);
  } else if (isIP(t) === 6) {
    host = t;
  } else {
    const m = /^([^:]+)(?::(\d{1,5}))?$/.exec(t);
    if (m === null) return undefined;
    host = m[1] as string;
    if (m[2] !== undefined) port = Number(m[2]);
  }
  if (port !== undefined && (port < 1 || port > 65535)) return undefined;
  if (isIP(host) === 0 && !/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9-]{1,63})*\.?$/.test(host)) {
    return undefined;
  }
  return { host, port };
}

/** Resolves a target to one address (the first the resolver gives, IPv4 preferred as the OS does). */
export async function resolveTarget(spec: TargetSpec): Promise<ResolvedTarget> {
  const fam = isIP(spec.host);
  if (fam !== 0) return { ...spec, address: spec.host, family: fam as 4 | 6 };
  const r = await lookup(spec.host);
  return { ...spec, address: r.address, family: r.family === 6 ? 6 : 4 };
}

/** The addresses an audit run may send to. */
export class Scope {
  private readonly addresses = new Set<string>();
  /** Attempts to reach anything else (each one refused, counted for the report). */
  refused = 0;

  constructor(targets: readonly ResolvedTarget[]) {
    if (targets.length > AUDIT_MAX_TARGETS) {
      throw new RangeError(`at most ${AUDIT_MAX_TARGETS} targets per run`);
    }
    for (const t of targets) this.addresses.add(normalise(t.address));
  }

  /** True when `address` is one of the targets. */
  allows(address: string): boolean {
    const ok = this.addresses.has(normalise(address));
    if (!ok) this.refused++;
    return ok;
  }
}

function normalise(a: string): string {
  const lower = a.toLowerCase();
  return lower.startsWith('::ffff:') && isIP(lower.slice(7)) === 4 ? lower.slice(7) : lower;
}

/** Coarse scope of an address as the vantage report states it. */
export type AddressScope = 'loopback' | 'private' | 'public' | 'other';

/** Where the audit ran from, relative to one target. */
export interface Vantage {
  /** The local address the operating system picks to reach the target. */
  readonly localAddress: string | undefined;
  readonly localScope: AddressScope;
  readonly targetAddress: string;
  readonly targetScope: AddressScope;
  /**
   * `same-host` (loopback), `lan` (both private: what the LAN sees, not the internet),
   * `internet` (a public target: what anyone on the internet sees, possibly through this side's
   * NAT), or `unknown`.
   */
  readonly kind: 'same-host' | 'lan' | 'internet' | 'unknown';
  readonly note: string;
}

function scopeOf(kind: AddressKind): AddressScope {
  if (kind === 'loopback') return 'loopback';
  if (kind === 'private' || kind === 'link-local' || kind === 'cgnat') return 'private';
  if (kind === 'public') return 'public';
  return 'other';
}

/**
 * Finds the local address routing picks towards the target: a UDP socket `connect` only asks the
 * routing table, nothing is sent.
 */
export async function localAddressFor(target: ResolvedTarget): Promise<string | undefined> {
  return new Promise((resolve) => {
    const s = createSocket(target.family === 6 ? 'udp6' : 'udp4');
    const done = (v: string | undefined): void => {
      s.close();
      resolve(v);
    };
    s.once('error', () => done(undefined));
    s.connect(9, target.address, () => {
      try {
        done(s.address().address);
      } catch {
        done(undefined);
      }
    });
  });
}

/** Classifies the vantage point from the local and target addresses. */
export function classifyVantage(localAddress: string | undefined, targetAddress: string): Vantage {
  const targetScope = scopeOf(classifyAddress(targetAddress));
  const localScope = localAddress === undefined ? 'other' : scopeOf(classifyAddress(localAddress));
  let kind: Vantage['kind'] = 'unknown';
  let note = 'the auditing address and the target could not be placed';
  if (targetScope === 'loopback' || (localAddress !== undefined && localAddress === targetAddress)) {
    kind = 'same-host';
    note = 'audited from the PBX host itself: ports found open may still be closed to the network';
  } else if (targetScope === 'private') {
    kind = 'lan';
    note =
      'audited from inside the network (private target address): this is what the LAN sees; run it again from ' +
      'outside to see what the internet sees';
  } else if (targetScope === 'public') {
    kind = 'internet';
    note =
      localScope === 'private'
        ? 'audited across the internet (through this side\u2019s NAT): this is what an attacker sees, unless the ' +
          'PBX firewall trusts this network'
        : 'audited across the internet: this is what an attacker sees, unless the PBX firewall trusts this address';
  }
  return { localAddress, localScope, targetAddress, targetScope, kind, note };
}
