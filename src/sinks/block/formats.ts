/**
 * Block list outputs, each a pure function of the entries and the time: an nftables script, an
 * ipset restore file, fail2ban log lines and a plain list. sipwarden does not run as root, so these
 * are files the admin (or a command hook with a sudo rule) loads.
 */
import type { BlockEntry } from './block-list.js';

/** Names in the firewall, fixed so that the admin's own rules can refer to them. */
export const NFT_TABLE = 'inet sipwarden';
export const NFT_SET_V4 = 'blocked4';
export const NFT_SET_V6 = 'blocked6';
export const IPSET_V4 = 'sipwarden4';
export const IPSET_V6 = 'sipwarden6';

/** ipset's largest timeout in seconds. */
const IPSET_MAX_TIMEOUT_S = 2_147_483;

/** Seconds left of an entry at `now`, at least 1 (a zero timeout would mean "permanent" to ipset). */
export function remainingSeconds(entry: BlockEntry, now: number): number {
  return Math.max(1, Math.ceil((entry.expiresAt - now) / 1000));
}

function live(entries: readonly BlockEntry[], now: number): BlockEntry[] {
  return entries.filter((e) => e.expiresAt > now);
}

function nftSet(e: BlockEntry): string {
  return e.family === 4 ? NFT_SET_V4 : NFT_SET_V6;
}

/**
 * The whole nftables table as one script for `nft -f`: it creates the table if missing, deletes it
 * and defines it again with its sets, a drop chain and every element, all in one transaction, so
 * loading it twice gives the same state and an unblocked address disappears. The table belongs to
 * sipwarden: rules added to it by hand are lost at the next load.
 */
export function renderNftables(entries: readonly BlockEntry[], now: number): string {
  const list = live(entries, now);
  const lines = [
    '#!/usr/sbin/nft -f',
    `# sipwarden block list, generated ${new Date(now).toISOString()}: ${list.length} entries.`,
    '# Load as root with: nft -f <this file> (one transaction; loading it again replaces the table).',
    `table ${NFT_TABLE}`,
    `delete table ${NFT_TABLE}`,
    `table ${NFT_TABLE} {`,
    `\tset ${NFT_SET_V4} { type ipv4_addr; flags timeout; }`,
    // Interval so that IPv6 networks (/64 blocks) and single addresses share one set.
    `\tset ${NFT_SET_V6} { type ipv6_addr; flags interval, timeout; }`,
    '\tchain input {',
    '\t\ttype filter hook input priority filter - 10; policy accept;',
    `\t\tip saddr @${NFT_SET_V4} counter drop`,
    `\t\tip6 saddr @${NFT_SET_V6} counter drop`,
    '\t}',
    '}',
  ];
  for (const e of list) lines.push(nftAddElement(e, now));
  return `${lines.join('\n')}\n`;
}

/** `add element` for one entry (an nft command without the leading `nft`). */
export function nftAddElement(e: BlockEntry, now: number): string {
  return `add element ${NFT_TABLE} ${nftSet(e)} { ${e.key} timeout ${remainingSeconds(e, now)}s }`;
}

/** `delete element` for one entry. */
export function nftDeleteElement(e: BlockEntry): string {
  return `delete element ${NFT_TABLE} ${nftSet(e)} { ${e.key} }`;
}

/**
 * The incremental form, for a table already loaded: one `nft` command per line, each on its own
 * (a batch would fail as a whole if one element had already timed out in the kernel). A refreshed
 * timeout needs the full script: nft does not update the timeout of an element that exists.
 */
export function renderNftablesIncremental(
  added: readonly BlockEntry[],
  removed: readonly BlockEntry[],
  now: number,
): string[] {
  const out: string[] = [];
  for (const e of removed) out.push(`nft ${shellQuoteBraces(nftDeleteElement(e))}`);
  for (const e of live(added, now)) out.push(`nft ${shellQuoteBraces(nftAddElement(e, now))}`);
  return out;
}

/** Quotes the `{ ... }` part so a shell passes it as one argument. */
function shellQuoteBraces(cmd: string): string {
  const i = cmd.indexOf('{');
  return i < 0 ? cmd : `${cmd.slice(0, i)}'${cmd.slice(i)}'`;
}

/**
 * An ipset restore file (`ipset restore -f FILE`). It fills `*-next` sets and swaps them in, so the
 * live sets change at once and unblocked addresses disappear. No comments: ipset restore has no
 * documented comment syntax. Match with `iptables -I INPUT -m set --match-set sipwarden4 src -j DROP`
 * and `ip6tables -I INPUT -m set --match-set sipwarden6 src -j DROP`.
 */
export function renderIpset(entries: readonly BlockEntry[], now: number): string {
  const list = live(entries, now);
  const lines: string[] = [];
  for (const [name, type, family] of [
    [IPSET_V4, 'hash:ip', 'inet'],
    [IPSET_V6, 'hash:net', 'inet6'],
  ] as const) {
    lines.push(`create ${name} ${type} family ${family} timeout 0 -exist`);
    lines.push(`create ${name}-next ${type} family ${family} timeout 0 -exist`);
    lines.push(`flush ${name}-next`);
  }
  for (const e of list) {
    const name = e.family === 4 ? IPSET_V4 : IPSET_V6;
    const t = Math.min(remainingSeconds(e, now), IPSET_MAX_TIMEOUT_S);
    lines.push(`add ${name}-next ${e.key} timeout ${t} -exist`);
  }
  for (const name of [IPSET_V4, IPSET_V6]) {
    lines.push(`swap ${name}-next ${name}`);
    lines.push(`destroy ${name}-next`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * One fail2ban-readable line for a new block: `<ISO time> sipwarden: BLOCK <ip> rule=<rule>
 * alert=<id>` (contrib/fail2ban/sipwarden.conf matches it). The address is the offending source
 * (for a /64 block too: fail2ban bans addresses). Rule and id are reduced to safe characters so
 * that nothing in them can look like a second address to the filter.
 */
export function fail2banLine(e: BlockEntry, at: number): string {
  return `${new Date(at).toISOString()} sipwarden: BLOCK ${e.address} rule=${token(e.rule)} alert=${token(e.alertId)}`;
}

function token(s: string): string {
  const t = s.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 128);
  return t === '' ? '-' : t;
}

/** The plain list that firewalls and SBCs import: a `#` header, then one address or CIDR per line. */
export function renderPlain(entries: readonly BlockEntry[], now: number): string {
  const list = live(entries, now);
  const head = `# sipwarden block list, generated ${new Date(now).toISOString()}: ${list.length} entries, one address or CIDR per line\n`;
  return head + list.map((e) => `${e.key}\n`).join('');
}

/** Content type of the plain list over HTTP. */
export const PLAIN_CONTENT_TYPE = 'text/plain; charset=utf-8';
