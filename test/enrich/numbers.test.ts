import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ENRICH_DIALLED_MAX_CHARS } from '../../src/config/limits.js';
import { classifyDialled, DialPlanSchema, type DialPlan } from '../../src/enrich/numbers.js';

const GB: DialPlan = { country: 'GB', outboundPrefixes: ['9'] };
const US: DialPlan = { country: 'US', outboundPrefixes: ['9'] };
const DE: DialPlan = { country: 'DE', outboundPrefixes: ['0'] };

test('premium, shared-cost and satellite ranges', () => {
  const uk09 = classifyDialled('09012345678', GB);
  assert.equal(uk09.type, 'premium-rate');
  assert.equal(uk09.e164, '+449012345678');
  assert.equal(uk09.scope, 'national');
  // libphonenumber files UK 087x under premium rate (Ofcom service-charge numbers).
  assert.equal(classifyDialled('08701234567', GB).type, 'premium-rate');
  assert.equal(classifyDialled('0 018012345', DE).type, 'shared-cost');
  assert.equal(classifyDialled('0 09001234567', DE).type, 'premium-rate');
  const nanp900 = classifyDialled('1 900 234 5678', { country: 'US' });
  assert.equal(nanp900.type, 'premium-rate');
  assert.equal(nanp900.e164, '+19002345678');
  const inmarsat = classifyDialled('+870 301 234 567', GB);
  assert.equal(inmarsat.type, 'satellite');
  assert.equal(inmarsat.scope, 'international');
  assert.equal(inmarsat.risk?.prefix, '870');
  const iridium = classifyDialled('00 8816 1234 5678', GB);
  assert.equal(iridium.type, 'satellite');
  assert.equal(iridium.callingCode, '881');
  assert.equal(iridium.risk?.category, 'satellite');
  assert.equal(classifyDialled('+979 1234 56789', GB).type, 'premium-rate');
  assert.equal(classifyDialled('+882 16 123456', GB).type, 'non-geographic');
});

test('ordinary numbers: mobile, fixed line, toll-free, international scope', () => {
  const mobile = classifyDialled('07400 123456', GB);
  assert.equal(mobile.type, 'mobile');
  assert.equal(mobile.risk, undefined);
  assert.equal(classifyDialled('0800 123 4567', GB).type, 'toll-free');
  const fr = classifyDialled('9 00 33 1 23 45 67 89', GB);
  assert.equal(fr.country, 'FR');
  assert.equal(fr.scope, 'international');
  assert.equal(fr.type, 'fixed-line');
  // A NANP number in another country is international although it is dialled like a national one.
  const dr = classifyDialled('9 1 809 555 1234', US);
  assert.equal(dr.country, 'DO');
  assert.equal(dr.scope, 'international');
  assert.equal(dr.risk?.prefix, '1809');
});

test('every prefix style reaches the same E.164 target', () => {
  const target = '+442079460958';
  const forms = new Map<string, string>();
  for (const [dialled, plan] of [
    ['9011 44 20 7946 0958', US],
    ['011 44 20 7946 0958', US],
    ['+44 20 7946 0958', US],
    ['9 +44 20 7946 0958', US],
    ['9 00 44 20 7946 0958', US],
    ['0 00 44 20 7946 0958', DE],
  ] as const) {
    const r = classifyDialled(dialled, plan);
    assert.equal(r.e164, target, dialled);
    assert.equal(r.valid, true, dialled);
    forms.set(dialled, r.form);
  }
  assert.deepEqual([...forms.values()], ['9 011', '011', '+', '9 +', '9 00', '0 00']);
  // With outbound prefix 0 in Germany, "00 44 ..." is outbound 0 then the national number 0442...:
  // the PBX reads it so too.
  assert.equal(classifyDialled('00 44 20 7946 0958', DE).prefixes.outbound, '0');
  const usProbe = classifyDialled('9011 44 20 7946 0958', US);
  assert.deepEqual(usProbe.prefixes, { outbound: '9', international: '011' });
  assert.equal(usProbe.stripped, '011442079460958');
  const national = classifyDialled('0 0 30 12345678', DE);
  assert.deepEqual(national.prefixes, { outbound: '0', national: '0' });
  assert.equal(national.e164, '+493012345678');
});

test('emergency numbers in several countries, with and without the outbound prefix', () => {
  for (const [n, plan] of [
    ['911', US],
    ['9 911', US],
    ['112', US],
    ['999', GB],
    ['112', GB],
    ['112', DE],
    ['110', DE],
    ['000', { country: 'AU' }],
    ['15', { country: 'FR' }],
  ] as const) {
    assert.equal(classifyDialled(n, plan).type, 'emergency', `${n} in ${plan.country}`);
  }
  assert.equal(classifyDialled('5555', { country: 'GB', emergencyNumbers: ['5555'] }).type, 'emergency');
  assert.notEqual(classifyDialled('999', US).type, 'emergency');
});

test('SIP and tel URIs, separators and feature codes', () => {
  const r = classifyDialled('<sip:+44%2020%207946%200958@pbx.example;user=phone>', GB);
  assert.equal(r.e164, '+442079460958');
  assert.equal(classifyDialled('tel:+1-202-555-0123;phone-context=x', GB).callingCode, '1');
  assert.equal(classifyDialled('sip:alice@pbx.example', GB).problem, 'letters');
  assert.equal(classifyDialled('*97', GB).type, 'short-code');
  assert.equal(classifyDialled('0900FLOWERS', GB).problem, 'letters');
});

test('garbage never throws and says why', () => {
  assert.equal(classifyDialled('', GB).problem, 'empty');
  assert.equal(classifyDialled('   ', GB).problem, 'empty');
  assert.equal(classifyDialled('+44+44', GB).problem, 'not_a_number');
  assert.equal(classifyDialled('12\u0000', GB).problem, 'not_a_number');
  assert.equal(classifyDialled('1'.repeat(40), GB).problem, 'too_long');
  const huge = classifyDialled('9'.repeat(100_000), GB);
  assert.equal(huge.problem, 'too_long');
  assert.equal(huge.dialled.length, ENRICH_DIALLED_MAX_CHARS);
  assert.equal(classifyDialled(undefined as unknown as string, GB).problem, 'not_a_number');
  assert.equal(classifyDialled('12345', { country: 'ZZ' }).type, 'unknown');
});

test('fuzz: random strings never throw and stay bounded', () => {
  const alphabet = '0123456789+*#-() .%2Babc@:;<>sip\u00a0\u0000\uffff';
  let seed = 7;
  const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
  for (let i = 0; i < 3_000; i++) {
    const len = Math.floor(rnd() * 40);
    let s = '';
    for (let j = 0; j < len; j++) s += alphabet[Math.floor(rnd() * alphabet.length)] ?? '';
    for (const plan of [GB, US, DE]) {
      const r = classifyDialled(s, plan);
      assert.ok(r.dialled.length <= ENRICH_DIALLED_MAX_CHARS);
      assert.ok(r.digits.length <= 64);
      assert.equal(typeof r.type, 'string');
    }
  }
});

test('DialPlanSchema validates and names what is wrong', () => {
  assert.deepEqual(DialPlanSchema.parse({ country: 'GB' }), {
    country: 'GB',
    outboundPrefixes: [],
    emergencyNumbers: [],
  });
  assert.equal(DialPlanSchema.safeParse({ country: 'gb' }).success, false);
  assert.equal(DialPlanSchema.safeParse({ country: 'XX' }).success, false);
  assert.equal(DialPlanSchema.safeParse({ country: 'GB', outboundPrefixes: ['9a'] }).success, false);
  assert.equal(DialPlanSchema.safeParse({ country: 'GB', typo: 1 }).success, false);
});
