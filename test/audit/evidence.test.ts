/**
 * Evidence and compliance: a message is cut to its start line and relevant headers, digest secrets
 * masked, control characters made visible, bounded; every catalog control has a title and every
 * report format carries the compliance table (and says which frameworks are not mapped).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CONTROL_TITLES, FINDING_CATALOG, FINDING_IDS, makeFinding } from '../../src/audit/catalog.js';
import { evidenceMessage } from '../../src/audit/evidence.js';
import { complianceTable, renderReports, type AuditReport } from '../../src/audit/report.js';
import { AUDIT_EVIDENCE_MAX_CHARS } from '../../src/config/limits.js';

test('evidence: start line and relevant headers only, secrets masked, escaped', () => {
  const msg =
    'SIP/2.0 401 Unauthorized\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-sw-1\r\nX-Secret: no\r\n' +
    'WWW-Authenticate: Digest realm="r", nonce="abc123", qop="auth"\r\nServer: evil\x1b[31m\r\n' +
    'Content-Length: 4\r\n\r\nbody';
  const e = evidenceMessage(msg);
  assert.equal(
    e,
    'SIP/2.0 401 Unauthorized\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-sw-1\n' +
      'WWW-Authenticate: Digest realm="r", nonce="(masked)", qop="auth"\nServer: evil\\x1b[31m\n' +
      'Content-Length: 4\n(body: 4 bytes, not copied)',
  );
  assert.match(
    evidenceMessage(
      'REGISTER sip:x SIP/2.0\r\nAuthorization: Digest username="a", response="ff", cnonce="1"\r\n\r\n',
    ),
    /response="\(masked\)", cnonce="\(masked\)"/,
  );
});

test('evidence fuzz: random input never throws, stays bounded, no raw control characters', () => {
  let seed = 11;
  const rnd = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  for (let i = 0; i < 300; i++) {
    const b = Buffer.alloc(rnd(6000));
    for (let j = 0; j < b.length; j++) b[j] = rnd(4) === 0 ? 0x0a : rnd(256);
    const e = evidenceMessage(b);
    assert.ok(e.length <= AUDIT_EVIDENCE_MAX_CHARS + 100, `${e.length}`);
    assert.ok(!/[\x00-\x09\x0b-\x1f\x7f]/.test(e));
  }
});

test('every control of the catalog has a title; the table groups findings per control', () => {
  for (const id of FINDING_IDS) {
    for (const c of FINDING_CATALOG[id].controls) assert.ok(CONTROL_TITLES[c] !== undefined, `${id}: ${c}`);
  }
  const f = [
    makeFinding('audit.no-rate-limit', 'h', 't', {}),
    makeFinding('audit.weak-password', 'h|101', 't', {}),
    makeFinding('audit.version-disclosure', 'h', 't', {}),
  ];
  const table = complianceTable(f);
  assert.deepEqual(
    table.map((r) => `${r.framework} ${r.control} ${r.worst} ${r.findings.join('+')}`),
    [
      'CIS Controls v8 4.1 high audit.no-rate-limit+audit.version-disclosure',
      'CIS Controls v8 5.2 critical audit.weak-password',
      'PCI DSS 4.0 2.2.6 low audit.version-disclosure',
      'PCI DSS 4.0 8.3.4 high audit.no-rate-limit',
      'PCI DSS 4.0 8.3.6 critical audit.weak-password',
      'PCI DSS 4.0 8.6.3 critical audit.weak-password',
    ],
  );
  assert.deepEqual(complianceTable([]), []);
  const report = {
    schemaVersion: 1,
    tool: 'sipwarden',
    startedAt: 'x',
    finishedAt: 'y',
    target: {
      host: 'h',
      address: '127.0.0.1',
      sipPort: 5060,
      tlsPort: 5061,
      vantage: {
        localAddress: undefined,
        localScope: 'loopback',
        targetAddress: '127.0.0.1',
        targetScope: 'loopback',
        kind: 'same-host',
        note: 'n',
      },
    },
    score: 37,
    scoring: 's',
    findings: f,
    parameters: {
      rate: 5,
      timeoutMs: 1,
      intrusive: true,
      extensions: 0,
      testNumber: false,
      wordlist: null,
      userAgent: 'u',
      checksRun: [],
      skipped: [],
      notes: [],
      sends: 0,
      redirectsNotFollowed: 0,
      refusedOutOfScope: 0,
    },
    checks: {},
  } as AuditReport;
  const json = JSON.parse(renderReports([report], 'json')) as {
    compliance: { control: string }[];
    complianceNotMapped: string;
  };
  assert.equal(json.compliance.length, 6);
  assert.match(json.complianceNotMapped, /NIST CSF 2\.0 and ISO\/IEC 27001:2022/);
  assert.match(renderReports([report], 'text'), /PCI DSS 4\.0 8\.3\.4 Invalid authentication attempts/);
  assert.match(renderReports([report], 'md'), /\| PCI DSS 4\.0 \| 8\.3\.4 \|/);
  assert.match(renderReports([report], 'html'), /<td>CIS Controls v8<\/td><td>5\.2<\/td>/);
});
