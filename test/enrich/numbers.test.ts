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

/** Sites as their administrators configure them: the outbound prefix phones dial for a line. */
const SITES = {
  'GB 9': { country: 'GB', outboundPrefixes: ['9'], nationalPrefix: '0', internationalPrefixes: ['00'] },
  'DE 9': { country: 'DE', outboundPrefixes: ['9'], nationalPrefix: '0', internationalPrefixes: ['00'] },
  'US 9': { country: 'US', outboundPrefixes: ['9'] },
  'FR 0': { country: 'FR', outboundPrefixes: ['0'] },
  'AU 0': { country: 'AU', outboundPrefixes: ['0'] },
  'JP 0': { country: 'JP', outboundPrefixes: ['0'] },
  'no plan': { country: '' },
} satisfies Record<string, DialPlan>;

interface Reading {
  readonly country: string | undefined;
  readonly e164: string | undefined;
  readonly type: string;
  readonly scope: string;
  readonly form: string;
}

const read = (site: keyof typeof SITES, dialled: string): Reading => {
  const r = classifyDialled(dialled, SITES[site]);
  return { country: r.country, e164: r.e164, type: r.type, scope: r.scope, form: r.form };
};

const reading = (
  country: string | undefined,
  e164: string | undefined,
  type: string,
  scope: string,
  form: string,
): Reading => ({ country, e164, type, scope, form });

const LONDON = '+442079460958';

test('dial plans of several countries: each dialled form reads as the number the PBX sends', () => {
  const rows: [keyof typeof SITES, string, Reading][] = [
    // UK: Leeds, Sheffield, Nottingham, Leicester, Bristol and Reading begin 011x: national, not 011 + ...
    ['GB 9', '9 0113 496 0123', reading('GB', '+441134960123', 'fixed-line', 'national', '9 0')],
    ['GB 9', '0113 496 0123', reading('GB', '+441134960123', 'fixed-line', 'national', '0')],
    ['GB 9', '9 0114 496 0123', reading('GB', '+441144960123', 'fixed-line', 'national', '9 0')],
    // libphonenumber finds 0115 496 possible, not valid: still national, with its national prefix.
    ['GB 9', '9 0115 496 0123', reading('GB', '+441154960123', 'unknown', 'national', '9 0')],
    ['GB 9', '9 0116 496 0123', reading('GB', '+441164960123', 'fixed-line', 'national', '9 0')],
    ['GB 9', '9 0117 496 0123', reading('GB', '+441174960123', 'fixed-line', 'national', '9 0')],
    ['GB 9', '9 0118 496 0123', reading('GB', '+441184960123', 'fixed-line', 'national', '9 0')],
    ['GB 9', '9 07400 123456', reading('GB', '+447400123456', 'mobile', 'national', '9 0')],
    ['GB 9', '9 00 44 20 7946 0958', reading('GB', LONDON, 'fixed-line', 'national', '9 00')],
    ['GB 9', '9 00 33 1 23 45 67 89', reading('FR', '+33123456789', 'fixed-line', 'international', '9 00')],
    ['GB 9', '00 33 1 23 45 67 89', reading('FR', '+33123456789', 'fixed-line', 'international', '00')],
    // A NANP prefix is still read when nothing national fits: an intruder probes with it.
    ['GB 9', '9 011 44 20 7946 0958', reading('GB', LONDON, 'fixed-line', 'national', '9 011')],
    ['GB 9', '9 +44 20 7946 0958', reading('GB', LONDON, 'fixed-line', 'national', '9 +')],
    ['GB 9', '999', reading(undefined, undefined, 'emergency', 'national', 'local')],
    ['GB 9', '9 112', reading(undefined, undefined, 'emergency', 'national', '9 local')],
    // Germany: 9 + 00 + a calling code beats a merely possible German number 900...
    ['DE 9', '90088163112233', reading(undefined, '+88163112233', 'satellite', 'international', '9 00')],
    ['DE 9', '9009793456789', reading(undefined, '+9793456789', 'premium-rate', 'international', '9 00')],
    ['DE 9', '90023490111222', reading('NG', '+23490111222', 'unknown', 'international', '9 00')],
    ['DE 9', '0088163112233', reading(undefined, '+88163112233', 'satellite', 'international', '00')],
    ['DE 9', '9 030 12345678', reading('DE', '+493012345678', 'fixed-line', 'national', '9 0')],
    ['DE 9', '030 12345678', reading('DE', '+493012345678', 'fixed-line', 'national', '0')],
    ['DE 9', '9 0151 12345678', reading('DE', '+4915112345678', 'mobile', 'national', '9 0')],
    ['DE 9', '9 00 44 20 7946 0958', reading('GB', LONDON, 'fixed-line', 'international', '9 00')],
    ['DE 9', '110', reading(undefined, undefined, 'emergency', 'national', 'local')],
    // NANP: 1 is the national prefix, 011 the international one; 00 is read too.
    ['US 9', '9 1 202 555 0123', reading('US', '+12025550123', 'fixed-line-or-mobile', 'national', '9 1')],
    ['US 9', '202 555 0123', reading('US', '+12025550123', 'fixed-line-or-mobile', 'national', 'local')],
    ['US 9', '1 900 234 5678', reading('US', '+19002345678', 'premium-rate', 'national', '1')],
    [
      'US 9',
      '9 1 809 555 1234',
      reading('DO', '+18095551234', 'fixed-line-or-mobile', 'international', '9 1'),
    ],
    ['US 9', '9 011 44 20 7946 0958', reading('GB', LONDON, 'fixed-line', 'international', '9 011')],
    ['US 9', '011 881 6 1234 5678', reading(undefined, '+881612345678', 'satellite', 'international', '011')],
    ['US 9', '9 00 44 20 7946 0958', reading('GB', LONDON, 'fixed-line', 'international', '9 00')],
    ['US 9', '+44 20 7946 0958', reading('GB', LONDON, 'fixed-line', 'international', '+')],
    ['US 9', '9 911', reading(undefined, undefined, 'emergency', 'national', '9 local')],
    // France, outbound 0: a national number dialled without the outbound prefix keeps its own 0.
    ['FR 0', '0 01 23 45 67 89', reading('FR', '+33123456789', 'fixed-line', 'national', '0 0')],
    ['FR 0', '01 23 45 67 89', reading('FR', '+33123456789', 'fixed-line', 'national', '0')],
    ['FR 0', '0 06 12 34 56 78', reading('FR', '+33612345678', 'mobile', 'national', '0 0')],
    ['FR 0', '0 08 99 12 34 56', reading('FR', '+33899123456', 'premium-rate', 'national', '0 0')],
    ['FR 0', '0 00 44 20 7946 0958', reading('GB', LONDON, 'fixed-line', 'international', '0 00')],
    ['FR 0', '+33 1 23 45 67 89', reading('FR', '+33123456789', 'fixed-line', 'national', '+')],
    ['FR 0', '15', reading(undefined, undefined, 'emergency', 'national', 'local')],
    ['FR 0', '0 112', reading(undefined, undefined, 'emergency', 'national', '0 local')],
    // Australia: 0011 abroad, 0 national; 1800 and 1900 numbers have no national prefix.
    ['AU 0', '0011 44 20 7946 0958', reading('GB', LONDON, 'fixed-line', 'international', '0011')],
    ['AU 0', '0 0011 44 20 7946 0958', reading('GB', LONDON, 'fixed-line', 'international', '0 0011')],
    ['AU 0', '0 00 44 20 7946 0958', reading('GB', LONDON, 'fixed-line', 'international', '0 00')],
    ['AU 0', '0 02 9374 4000', reading('AU', '+61293744000', 'fixed-line', 'national', '0 0')],
    ['AU 0', '04 1234 5678', reading('AU', '+61412345678', 'mobile', 'national', '0')],
    ['AU 0', '1800 123 456', reading('AU', '+611800123456', 'toll-free', 'national', 'local')],
    ['AU 0', '1900 123 456', reading('AU', '+611900123456', 'premium-rate', 'national', 'local')],
    ['AU 0', '000', reading(undefined, undefined, 'emergency', 'national', 'local')],
    ['AU 0', '0 000', reading(undefined, undefined, 'emergency', 'national', '0 local')],
    // Japan: 010 abroad, 0 national.
    ['JP 0', '010 44 20 7946 0958', reading('GB', LONDON, 'fixed-line', 'international', '010')],
    ['JP 0', '0 010 44 20 7946 0958', reading('GB', LONDON, 'fixed-line', 'international', '0 010')],
    ['JP 0', '0 03 1234 5678', reading('JP', '+81312345678', 'fixed-line', 'national', '0 0')],
    ['JP 0', '03 1234 5678', reading('JP', '+81312345678', 'fixed-line', 'national', '0')],
    ['JP 0', '0120 123 456', reading('JP', '+81120123456', 'toll-free', 'national', '0')],
    ['JP 0', '090 1234 5678', reading('JP', '+819012345678', 'mobile', 'national', '0')],
    ['JP 0', '119', reading(undefined, undefined, 'emergency', 'national', 'local')],
    // Without a plan: only international forms, every common prefix.
    ['no plan', '011 44 20 7946 0958', reading('GB', LONDON, 'fixed-line', 'international', '011')],
    ['no plan', '0011 44 20 7946 0958', reading('GB', LONDON, 'fixed-line', 'international', '0011')],
    ['no plan', '00 44 20 7946 0958', reading('GB', LONDON, 'fixed-line', 'international', '00')],
    ['no plan', '020 7946 0958', reading(undefined, undefined, 'unknown', 'unknown', 'local')],
  ];
  for (const [site, dialled, expected] of rows) {
    assert.deepEqual(read(site, dialled), expected, `${dialled} at ${site}`);
  }
});

test('short extensions are never international, whatever prefix they begin with', () => {
  const extensions = ['100', '201', '2001', '0044', '0011', '0113', '9001', '9011', '90044', '0118', '010'];
  for (const site of Object.keys(SITES) as (keyof typeof SITES)[]) {
    for (const ext of extensions) {
      const r = classifyDialled(ext, SITES[site]);
      assert.notEqual(r.scope, 'international', `${ext} at ${site}`);
      assert.equal(r.prefixes.international, undefined, `${ext} at ${site}`);
      assert.equal(r.valid && r.type !== 'emergency' && r.e164 !== undefined, false, `${ext} at ${site}`);
    }
  }
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
