import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSinks, SinksConfigSchema } from '../../src/sinks/sinks-config.js';
import { makeAlert } from './helpers.js';

test('a full configuration parses and makes every sink in order', async () => {
  const cfg = SinksConfigSchema.parse({
    stdout: { format: 'json' },
    jsonl: { path: '/tmp/sipwarden-test-never-written.jsonl', minSeverity: 'medium' },
    syslog: { url: 'udp://127.0.0.1:5514', format: 'cef', facility: 'local4', rules: ['auth.*'] },
    webhooks: [
      { url: 'http://127.0.0.1:9/a', format: 'slack', minSeverity: 'high' },
      { url: 'http://127.0.0.1:9/b', headers: { Authorization: 'Bearer x' } },
    ],
    email: {
      smtp: { host: '127.0.0.1', port: 2525 },
      from: 'sipwarden@example.test',
      to: ['soc@example.test'],
      minSeverity: 'critical',
    },
  });
  assert.equal(cfg.syslog?.facility, 'local4');
  assert.equal(cfg.email?.smtp.requireTLS, true);
  assert.equal(cfg.jsonl?.fsync, 'batch');
  const sinks = createSinks(cfg, { version: '1.0.0' });
  assert.deepEqual(
    sinks.map((s) => s.name),
    ['stdout', 'jsonl', 'syslog', 'webhook:127.0.0.1:9', 'webhook:127.0.0.1:9#2', 'email'],
  );
  const [, jsonl, syslog, slack] = sinks;
  assert.equal(jsonl?.accepts?.(makeAlert(1, { severity: 'low' })), false);
  assert.equal(syslog?.accepts?.(makeAlert(1, { rule: 'dos.flood' })), false);
  assert.equal(syslog?.accepts?.(makeAlert(1)), true);
  assert.equal(slack?.accepts?.(makeAlert(1, { severity: 'medium' })), false);
  for (const s of sinks) await s.close();
  assert.deepEqual(createSinks(SinksConfigSchema.parse({})), []);
});

test('bad settings are refused with the field named', () => {
  const bad: unknown[] = [
    { syslog: { url: 'http://x:1' } },
    { syslog: { url: 'udp://x:514', facility: 'nope' } },
    { webhooks: [{ url: 'ftp://x/' }] },
    { webhooks: [{ url: 'http://x/', headers: { 'X-A': 'a\r\nB: c' } }] },
    { webhooks: Array.from({ length: 17 }, () => ({ url: 'http://x/' })) },
    { email: { smtp: { host: 'h' }, from: 'a@b', to: [] } },
    { stdout: { format: 'xml' } },
    { jsonl: { path: 'x', minSeverity: 'huge' } },
    { jsonl: { path: 'x', rules: ['Auth Bruteforce'] } },
    { unknown: {} },
  ];
  for (const b of bad) {
    const r = SinksConfigSchema.safeParse(b);
    assert.equal(r.success, false, JSON.stringify(b));
    assert.ok((r.error?.issues.length ?? 0) > 0);
  }
});
