/**
 * Datagrams the kernel dropped before sipwarden could read them (the socket's receive buffer was
 * full): the drops column of /proc/net/udp and /proc/net/udp6 for the sockets bound to a port.
 * Under overload this is where loss happens first — a listener that only counts what it read
 * would report none. Linux only; elsewhere the count is undefined. Read at scrape time, never on
 * the packet path.
 */
import { readFileSync } from 'node:fs';

/** Sum of the kernel's drop counters of UDP sockets bound to `port` (undefined: not available). */
export function udpKernelDrops(ports: readonly number[]): number | undefined {
  if (ports.length === 0) return 0;
  const wanted = new Set(ports.map((p) => p.toString(16).toUpperCase().padStart(4, '0')));
  let total: number | undefined;
  for (const file of ['/proc/net/udp', '/proc/net/udp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'latin1');
    } catch {
      continue;
    }
    total ??= 0;
    total += dropsIn(text, wanted);
  }
  return total;
}

/** Parses one /proc/net/udp table (exported for tests). */
export function dropsIn(table: string, wantedHexPorts: ReadonlySet<string>): number {
  let sum = 0;
  const lines = table.split('\n');
  for (let i = 1; i < lines.length; i++) {
    const f = lines[i]!.trim().split(/\s+/);
    // sl local rem st tx:rx tr:when retrnsmt uid timeout inode ref pointer drops
    const local = f[1];
    const drops = f[12];
    if (local === undefined || drops === undefined) continue;
    const port = local.slice(local.lastIndexOf(':') + 1).toUpperCase();
    if (!wantedHexPorts.has(port)) continue;
    const n = Number(drops);
    if (Number.isFinite(n)) sum += n;
  }
  return sum;
}
