import { BlockList, isIP } from 'node:net';

/** What the user tells sipwarden about a site (configuration). All lists may be empty. */
export interface SiteConfig {
  readonly name: string;
  /** The PBX's own addresses (CIDR or single addresses). */
  readonly pbx: readonly string[];
  /** Provider (trunk) addresses. */
  readonly trunks: readonly string[];
  /** Networks exempt from blocking (never from detection). */
  readonly trusted: readonly string[];
  /** Digest user name (3CX Auth ID) → extension. */
  readonly identities: Readonly<Record<string, string>>;
  /** SBC, 3CX tunnel and NAT addresses the site's phones reach the PBX through (they relay the
   * phones' requests, in-dialog ones included). */
  readonly sbc?: readonly string[];
}

/** The default site: nothing told, everything to learn. */
export const DEFAULT_SITE: SiteConfig = { name: 'default', pbx: [], trunks: [], trusted: [], identities: {} };

/** Address roles of one site, told and learned; answers the questions detectors ask. */
export class SiteModel {
  readonly name: string;
  private readonly pbx: BlockList;
  private readonly trunks: BlockList;
  private readonly trusted: BlockList;
  private readonly sbc: BlockList;
  private readonly identities: Map<string, string>;

  constructor(config: SiteConfig = DEFAULT_SITE) {
    this.name = config.name;
    this.pbx = toBlockList(config.pbx, 'pbx');
    this.trunks = toBlockList(config.trunks, 'trunks');
    this.trusted = toBlockList(config.trusted, 'trusted');
    this.sbc = toBlockList(config.sbc ?? [], 'sbc');
    this.identities = new Map(Object.entries(config.identities));
  }

  /** One of the PBX's own addresses (as told). */
  isPbx(ip: string): boolean {
    return check(this.pbx, ip);
  }

  isTrunk(ip: string): boolean {
    return check(this.trunks, ip);
  }

  isTrusted(ip: string): boolean {
    return check(this.trusted, ip);
  }

  /** One of the site's SBC, tunnel or NAT addresses (as told). */
  isSbc(ip: string): boolean {
    return check(this.sbc, ip);
  }

  /** The extension behind a digest user name, when told; otherwise the name itself. */
  extensionOf(identity: string): string {
    return this.identities.get(identity) ?? identity;
  }
}

/** A test for addresses inside any of `entries` (addresses or CIDRs; a malformed one throws naming `field`). */
export function addressMatcher(entries: readonly string[], field = 'addresses'): (ip: string) => boolean {
  const list = toBlockList(entries, field);
  return (ip) => check(list, ip);
}

function check(list: BlockList, ip: string): boolean {
  // Most sites declare few or no ranges: an empty list answers without parsing the address.
  if (EMPTY.has(list)) return false;
  const family = isIP(ip);
  if (family === 0) return false;
  return list.check(ip, family === 6 ? 'ipv6' : 'ipv4');
}

const EMPTY = new WeakSet<BlockList>();

/** Builds a BlockList from CIDR strings; a malformed entry is a configuration error naming it. */
function toBlockList(entries: readonly string[], field: string): BlockList {
  const list = new BlockList();
  if (entries.length === 0) EMPTY.add(list);
  for (const e of entries) {
    const [addr = '', bits] = e.split('/');
    const family = isIP(addr);
    if (family === 0) throw new Error(`site.${field}: '${e}' is not an IP address or CIDR`);
    const type = family === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(addr, type);
    else {
      const n = Number(bits);
      if (!Number.isInteger(n) || n < 0 || n > (family === 6 ? 128 : 32)) {
        throw new Error(`site.${field}: '${e}' has a bad prefix length`);
      }
      list.addSubnet(addr, n, type);
    }
  }
  return list;
}
