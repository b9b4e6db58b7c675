import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, defaultConfig, parseConfig } from '../../src/config/config.js';

const RULES = new Set(['auth.bruteforce', 'dos.flood']);

test('a full configuration parses with its values', () => {
  const c = parseConfig(
    [
      'site: acme',
      'network:',
      '  pbx: [198.51.100.2]',
      '  trusted: [10.0.0.0/8, "2001:db8::/32"]',
      'identities: { xK3p9qL2: "101" }',
      'rules:',
      '  auth.bruteforce: { thresholds: { rejections: 8 } }',
      '  dos.flood: { enabled: false, severity: medium }',
      'decode: { sipPorts: [5060, 5080] }',
    ].join('\n'),
    'test.yaml',
    RULES,
  );
  assert.equal(c.site, 'acme');
  assert.equal(c.sensor, 'local');
  assert.deepEqual(c.network.trusted, ['10.0.0.0/8', '2001:db8::/32']);
  assert.equal(c.identities.xK3p9qL2, '101');
  assert.equal(c.rules['auth.bruteforce']?.thresholds?.rejections, 8);
  assert.equal(c.rules['dos.flood']?.enabled, false);
  assert.deepEqual(c.decode.sipPorts, [5060, 5080]);
});

test('an empty file is the default configuration', () => {
  assert.deepEqual(parseConfig('', 'empty.yaml'), defaultConfig());
});

test('errors name the file and the field, and what was expected', () => {
  const cases: [string, RegExp][] = [
    ['network: { pbx: [not-an-ip] }', /^bad\.yaml: network\.pbx\.0: expected an IP address or CIDR/],
    ['network: { trusted: [10.0.0.0/33] }', /^bad\.yaml: network\.trusted\.0:/],
    ['sit: typo', /^bad\.yaml: \(top level\): .*sit/],
    ['rules: { auth.bruteforce: { severity: huge } }', /^bad\.yaml: rules\.auth\.bruteforce\.severity:/],
    ['rules: { no.such-rule: {} }', /^bad\.yaml: rules\.no\.such-rule: no such rule/],
    ['decode: { sipPorts: [70000] }', /^bad\.yaml: decode\.sipPorts\.0:/],
    ['site: [unclosed', /^bad\.yaml: line 1, column \d+:/],
  ];
  for (const [text, re] of cases) {
    assert.throws(
      () => parseConfig(text, 'bad.yaml', RULES),
      (err: unknown) => err instanceof ConfigError && re.test(err.message),
      text,
    );
  }
});
