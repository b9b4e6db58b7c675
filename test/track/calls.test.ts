import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DETECT_NUMBER_CACHE_ENTRIES } from '../../src/config/limits.js';
import { RiskList } from '../../src/enrich/risk-list.js';
import {
  allowedCountries,
  classifyNumber,
  configureNumbers,
  hasDialPlan,
  numberCacheSize,
} from '../../src/track/calls.js';

test('without a dial plan only international forms are read and no country is allowed', () => {
  configureNumbers();
  assert.equal(hasDialPlan(), false);
  assert.equal(allowedCountries().size, 0);
  assert.equal(classifyNumber('+442071838750').e164, '+442071838750');
  assert.equal(classifyNumber('011442071838750').form, '011');
  assert.equal(classifyNumber('02071838750').e164, undefined);
  assert.equal(classifyNumber('+8816123456789').risk?.risk, 'high');
});

test('a dial plan reads national and outbound forms; allowed countries default to the home country', () => {
  configureNumbers({ dialPlan: { country: 'GB', outboundPrefixes: ['9'] } });
  assert.equal(hasDialPlan(), true);
  assert.deepEqual([...allowedCountries()], ['GB']);
  const n = classifyNumber('902071838750');
  assert.equal(n.e164, '+442071838750');
  assert.equal(n.form, '9 0');
  configureNumbers({ dialPlan: { country: 'GB' }, allowedCountries: ['GB', 'IE'] });
  assert.deepEqual([...allowedCountries()].sort(), ['GB', 'IE']);
  configureNumbers();
});

test('a custom risk list replaces the bundled one', () => {
  const list = new RiskList(
    [
      {
        prefix: '4420718',
        network: 'test',
        category: 'premium-rate',
        risk: 'high',
        why: 'test',
        sources: ['t'],
      },
    ],
    'test',
  );
  configureNumbers({ riskList: list });
  assert.equal(classifyNumber('+442071838750').risk?.network, 'test');
  assert.equal(classifyNumber('+8816123456789').risk, undefined);
  configureNumbers();
  assert.equal(classifyNumber('+442071838750').risk, undefined, 'reconfiguring clears the cache');
});

test('fuzz: random strings classify without throwing and the cache stays bounded', () => {
  configureNumbers({ dialPlan: { country: 'US', outboundPrefixes: ['9'] } });
  let state = 1;
  const rnd = (): number => (state = (state * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  for (let i = 0; i < DETECT_NUMBER_CACHE_ENTRIES + 500; i++) {
    const s = String.fromCharCode(
      ...Array.from({ length: Math.floor(rnd() * 30) }, () => Math.floor(rnd() * 128)),
    );
    const info = classifyNumber(`${s}${i}`);
    assert.equal(typeof info.form, 'string');
  }
  assert.equal(numberCacheSize(), DETECT_NUMBER_CACHE_ENTRIES);
  configureNumbers();
});
