/** Reading a process's memory from /proc (Linux), for the benchmarks. */
import { readFileSync } from 'node:fs';

/** A `kB` field of /proc/PID/status (`self`: this process), in KiB; NaN when unreadable (exited). */
export function procStatusKib(pid: number | 'self' | undefined, field: 'VmRSS' | 'VmHWM'): number {
  if (pid === undefined) return NaN;
  try {
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m === null ? NaN : Number(m[1]);
  } catch {
    return NaN;
  }
}
