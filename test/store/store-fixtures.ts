// Shared helpers of the store tests: alert revisions with real values, temporary database files.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AlertJson } from '../../src/core/alert.js';

/** A fresh directory for one test's database. */
export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'sipwarden-store-'));
}

/** A temporary database path (the file does not exist yet). */
export function tempDb(): string {
  return join(tempDir(), 'alerts.db');
}

/** An alert revision like the engine makes; `over` replaces fields. */
export function makeAlert(over: Partial<AlertJson> = {}): AlertJson {
  return {
    schemaVersion: 1,
    id: 'ab41f0c2e9d7a3b1',
    revision: 1,
    state: 'open',
    rule: 'auth.bruteforce',
    severity: 'high',
    title: 'Password guessing against extension 101',
    site: 'default',
    sensor: 'pbx-eu-1',
    firstSeen: '2026-11-24T05:01:02.123Z',
    raisedAt: '2026-11-24T05:01:04.870Z',
    lastSeen: '2026-11-24T05:03:40.900Z',
    count: 57,
    source: { ip: '203.0.113.7', port: 5071, transport: 'udp' },
    sources: [{ ip: '203.0.113.7', count: 57 }],
    target: { ip: '198.51.100.2', port: 5060, extension: '101', identity: '101' },
    evidence: { userAgent: 'friendly-scanner', methods: { REGISTER: 57 } },
    remediation: 'Use long random passwords.',
    references: ['https://example.org/'],
    ...over,
  };
}

/** Milliseconds of an ISO time. */
export function ms(iso: string): number {
  return Date.parse(iso);
}
