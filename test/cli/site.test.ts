/**
 * `sipwarden site` through the real command line: text and JSON reports of a lab capture, the
 * configuration's facts alone, and usage errors.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { SiteJson } from '../../src/cli/site.js';

const CAPTURE = 'test/fixtures/captures/benign-outbound-call-leaky.pcap';

function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['bin/sipwarden.js', 'site', ...args],
      { timeout: 30_000 },
      (error, out, err) => {
        resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, out, err });
      },
    );
  });
}

test('site --format json: the model with told/inferred facts, evidence, inputs and the snippet', async () => {
  const r = await run([CAPTURE, '--format', 'json']);
  assert.equal(r.code, 0, r.err);
  const d = JSON.parse(r.out) as SiteJson;
  assert.equal(d.schemaVersion, 1);
  assert.equal(d.site, 'default');
  assert.equal(d.learned, true);
  assert.deepEqual(
    d.inputs.map((i) => [i.file, i.format, i.sipMessages]),
    [[CAPTURE, 'pcap', 35]],
  );
  assert.equal(d.sipMessages, 35);
  const pbx = d.addresses.pbx[0]!;
  assert.deepEqual(
    [pbx.value, pbx.role, pbx.origin, pbx.confidence],
    ['127.0.0.10', 'pbx', 'inferred', 'medium'],
  );
  assert.equal(pbx.counts?.relayedCalls, 2);
  assert.deepEqual(pbx.ports, [5060]);
  const trunk = d.addresses.trunks[0]!;
  assert.deepEqual([trunk.value, trunk.origin, trunk.confidence], ['127.0.3.1', 'inferred', 'low']);
  assert.deepEqual(
    d.extensions.map((e) => [e.value, e.contacts]),
    [
      ['102', ['127.0.1.2:5060']],
      ['105', ['127.0.1.5:5060']],
    ],
  );
  assert.deepEqual(d.dialPlan.outboundPrefixes.value, ['9']);
  assert.equal(d.timeZone.origin, 'default');
  assert.match(d.snippet, /^network:\n {2}pbx:\n {4}- "127\.0\.0\.10"/);
  assert.ok(d.notes.length >= 2);
});

test('site (text): each fact with its value, origin and evidence, then notes and the snippet', async () => {
  const r = await run([CAPTURE]);
  assert.equal(r.code, 0, r.err);
  const lines = r.out.split('\n');
  assert.match(lines[0]!, /^Site default: 1 input\(s\) read, 35 SIP message\(s\)/);
  assert.ok(lines.some((l) => /^ {2}pbx +127\.0\.0\.10 +inferred, medium +accepted registrations/.test(l)));
  assert.ok(lines.some((l) => /^ {2}trunk +127\.0\.3\.1 +inferred, low +the PBX sent it 1 call/.test(l)));
  assert.ok(lines.some((l) => /^ {2}outbound prefixes +9 +inferred, low +9 stripped on 1 call/.test(l)));
  assert.ok(lines.some((l) => /^ {2}time zone +UTC +default +not configured; it cannot be inferred/.test(l)));
  assert.ok(lines.includes('Notes'));
  assert.ok(lines.includes('network:'), 'the snippet is printed unindented, ready to paste');
});

test('site with a configuration and no inputs: told facts only', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sipwarden-site-'));
  const config = join(dir, 'site.yaml');
  writeFileSync(
    config,
    'site: branch-1\nnetwork:\n  pbx: [192.0.2.10]\n  trunks: [198.51.100.7]\ntimeZone: Europe/London\n',
  );
  const r = await run(['--config', config, '--format', 'json']);
  assert.equal(r.code, 0, r.err);
  const d = JSON.parse(r.out) as SiteJson;
  assert.equal(d.site, 'branch-1');
  assert.equal(d.learned, false);
  assert.deepEqual(
    [...d.addresses.pbx, ...d.addresses.trunks].map((a) => [a.role, a.value, a.origin]),
    [
      ['pbx', '192.0.2.10', 'told'],
      ['trunk', '198.51.100.7', 'told'],
    ],
  );
  assert.deepEqual([d.timeZone.value, d.timeZone.origin], ['Europe/London', 'told']);
  assert.equal(d.snippet, '');
  const text = await run(['--config', config]);
  assert.match(text.out, /^Site branch-1: no input read/);
});

test('site: usage and input errors', async () => {
  const bad = await run([CAPTURE, '--format', 'yaml']);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /--format must be text or json/);
  const missing = await run(['/nonexistent/capture.pcap', '--format', 'json']);
  assert.equal(missing.code, 3);
  assert.match(missing.err, /capture\.pcap: cannot open/);
  assert.equal((JSON.parse(missing.out) as SiteJson).learned, true);
});
