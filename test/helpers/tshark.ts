/** Runs tshark, the independent reader our SIP counts are compared with. */
import { execFileSync } from 'node:child_process';

/** True when tshark is installed (CI installs it; see .ci/run). */
export function haveTshark(): boolean {
  try {
    execFileSync('tshark', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * SIP requests by method and responses by status code, as `tshark -r FILE -Y sip` decodes them —
 * less the SIP that tshark shows quoted inside ICMP errors (port unreachable answers to a scan):
 * those are copies of a message already counted, not messages that arrived.
 */
export function tsharkSipCounts(
  file: string,
  decodeAs: readonly string[] = [],
): { requests: Record<string, number>; responses: Record<string, number> } {
  const args = [
    '-r',
    file,
    '-n',
    '-Y',
    'sip && !icmp && !icmpv6',
    '-T',
    'fields',
    '-E',
    'separator=\t',
    '-e',
    'sip.Method',
    '-e',
    'sip.Status-Code',
  ];
  for (const d of decodeAs) args.push('-d', d);
  const out = execFileSync('tshark', args, {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const requests: Record<string, number> = {};
  const responses: Record<string, number> = {};
  for (const line of out.split('\n')) {
    if (line === '') continue;
    const [methods = '', statuses = ''] = line.split('\t');
    for (const m of methods.split(',')) if (m !== '') requests[m] = (requests[m] ?? 0) + 1;
    for (const s of statuses.split(',')) if (s !== '') responses[s] = (responses[s] ?? 0) + 1;
  }
  return { requests: sortKeys(requests), responses: sortKeys(responses) };
}

function sortKeys(r: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of Object.keys(r).sort()) out[k] = r[k] as number;
  return out;
}
