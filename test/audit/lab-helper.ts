/**
 * Starts and stops one lab Kamailio (test/lab/pbx.sh) for the audit's lab tests, on the caller's own
 * loopback address and in a private runtime directory, so tests running at the same time never share
 * a PBX. Skips (returns undefined) when kamailio or sipsak is not installed.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuditOptions, CheckName } from '../../src/audit/context.js';
import { CHECK_NAMES } from '../../src/audit/context.js';

/** Why the lab cannot run here, or undefined when it can. */
export function labUnavailable(): string | undefined {
  for (const cmd of ['kamailio', 'sipsak', 'openssl']) {
    const r = spawnSync('sh', ['-c', `command -v ${cmd}`]);
    if (r.status !== 0)
      return `${cmd} is not installed (apt-get install kamailio kamailio-tls-modules sipsak openssl)`;
  }
  return undefined;
}

/** A running lab PBX. */
export interface LabPbx {
  readonly profile: string;
  readonly address: string;
  stop(): void;
}

/** Starts `profile` on `address` (127/8 only; pbx.sh refuses anything else). */
export function startPbx(profile: 'leaky' | 'hardened' | '3cx-like', address: string): LabPbx {
  if (!address.startsWith('127.')) throw new Error('lab PBXs run on 127.0.0.0/8 only');
  const run = mkdtempSync(join(tmpdir(), 'sw-audit-lab-'));
  const env = { ...process.env, LAB_RUN: run };
  execFileSync('test/lab/pbx.sh', ['up', profile, address], { env, stdio: 'pipe', timeout: 20_000 });
  return {
    profile,
    address,
    stop() {
      spawnSync('test/lab/pbx.sh', ['down', profile, address], { env, stdio: 'pipe', timeout: 10_000 });
      rmSync(run, { recursive: true, force: true });
    },
  };
}

/** Audit options for tests: fast, bounded, every check off unless named. */
export function testOptions(
  overrides: Partial<Omit<AuditOptions, 'checks'>> & { checks: readonly CheckName[] },
): AuditOptions {
  const lines: string[] = [];
  return {
    rate: 50,
    timeoutMs: 600,
    extensions: [],
    authIds: new Map(),
    testNumber: undefined,
    intrusive: false,
    wordlist: undefined,
    showPasswords: false,
    sipPort: 5060,
    tlsPort: 5061,
    sni: undefined,
    tcpPorts: [],
    udpPorts: [],
    localAddress: undefined,
    rateLimitAttempts: undefined,
    now: () => Date.now(),
    log: (line) => lines.push(line),
    ...overrides,
    checks: new Set(overrides.checks.filter((c) => (CHECK_NAMES as readonly string[]).includes(c))),
  };
}
