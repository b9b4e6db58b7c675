/**
 * The site model's facts: told (configuration) always wins over inferred, conflicts become notes,
 * country defaults follow from the country, and the snippet of inferred facts is configuration
 * that validates and says what was learned.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { learnSite, siteTextLines } from '../../src/cli/site.js';
import { defaultConfig, parseConfig } from '../../src/config/config.js';
import { configSnippet, emergencyNumbersOf, siteFacts } from '../../src/detect/site-facts.js';
import { countryDialDefaults } from '../../src/enrich/numbers.js';
import { SiteLearner, type LearnedSite } from '../../src/detect/site-learner.js';

const OUTBOUND = 'test/fixtures/captures/benign-outbound-call-leaky.pcap';
const PHONES_3CX = 'test/fixtures/captures/benign-phones-register-3cx.pcap';

test('told facts win: a configured PBX stays told (traffic agreeing), a configured trunk never seen is a note', async () => {
  const config = parseConfig(
    [
      'network:',
      '  pbx: [127.0.0.0/28]',
      '  trunks: [198.51.100.9]',
      '  trusted: [10.0.0.0/8]',
      'identities:',
      '  "102": "202"',
    ].join('\n'),
    'test.yaml',
  );
  const { document: d, errors } = await learnSite([OUTBOUND], { config });
  assert.deepEqual(errors, []);
  assert.equal(d.learned, true);
  // The inferred PBX 127.0.0.10 falls in the told /28: one told fact, seen, not a second entry.
  assert.equal(d.addresses.pbx.length, 1);
  assert.equal(d.addresses.pbx[0]!.value, '127.0.0.0/28');
  assert.equal(d.addresses.pbx[0]!.origin, 'told');
  assert.equal(d.addresses.pbx[0]!.seen, true);
  assert.match(d.addresses.pbx[0]!.evidence, /traffic agrees: .*relayed 2 calls/);
  // The told trunk was never seen; the inferred one is listed as inferred and noted.
  const trunks = d.addresses.trunks.map((t) => [t.value, t.origin, t.seen]);
  assert.deepEqual(trunks, [
    ['198.51.100.9', 'told', false],
    ['127.0.3.1', 'inferred', undefined],
  ]);
  assert.ok(d.notes.some((n) => n.includes('198.51.100.9') && n.includes('no exchange with it')));
  assert.ok(d.notes.some((n) => n.startsWith('127.0.3.1 acts as a trunk')));
  assert.ok(!d.notes.some((n) => n.includes('acts as a PBX')), 'the told PBX is not reported as missing');
  assert.deepEqual(
    d.addresses.trusted.map((t) => [t.value, t.origin, t.seen]),
    [['10.0.0.0/8', 'told', false]],
  );
  // The told identity wins over what traffic showed, and the disagreement is a note.
  const id102 = d.identities.filter((i) => i.value === '102');
  assert.deepEqual(
    id102.map((i) => [i.extension, i.origin]),
    [['202', 'told']],
  );
  assert.ok(d.notes.some((n) => n.includes('identity 102 is configured as extension 202')));
  // Not told: learned, with evidence.
  const id105 = d.identities.find((i) => i.value === '105');
  assert.equal(id105?.origin, 'inferred');
  assert.equal(id105?.extension, '105');
});

test('a told dial plan: the country is told, its prefixes and emergency numbers are defaults', async () => {
  const config = parseConfig(
    'numbers:\n  dialPlan:\n    country: DE\n    outboundPrefixes: ["0"]\n  allowedCountries: [DE, AT]\ntimeZone: Europe/Berlin\n',
    'test.yaml',
  );
  const { document: d } = await learnSite([OUTBOUND], { config });
  assert.deepEqual([d.homeCountry.value, d.homeCountry.origin], ['DE', 'told']);
  // Traffic's guess (one British caller) is low confidence: it does not contradict the told country.
  assert.ok(!d.notes.some((n) => n.includes('traffic suggests')));
  assert.deepEqual([d.dialPlan.outboundPrefixes.value, d.dialPlan.outboundPrefixes.origin], [['0'], 'told']);
  assert.ok(
    d.notes.some((n) => n.includes('prefix 9')),
    'the learned prefix 9 is not in the told plan',
  );
  assert.deepEqual([d.dialPlan.nationalPrefix.value, d.dialPlan.nationalPrefix.origin], ['0', 'default']);
  assert.deepEqual(d.dialPlan.internationalPrefixes.origin, 'inferred', '00 seen on the trunk leg');
  assert.deepEqual(
    [d.dialPlan.emergencyNumbers.value, d.dialPlan.emergencyNumbers.origin],
    [['110', '112'], 'default'],
  );
  assert.deepEqual([d.allowedCountries.value, d.allowedCountries.origin], [['DE', 'AT'], 'told']);
  assert.ok(d.notes.some((n) => n.includes('outside the allowed list: GB (1)')));
  assert.deepEqual([d.timeZone.value, d.timeZone.origin], ['Europe/Berlin', 'told']);
});

test('inferred only: the snippet validates as configuration, low confidence commented out', async () => {
  const { document: d } = await learnSite([PHONES_3CX, OUTBOUND]);
  assert.equal(d.timeZone.origin, 'default');
  assert.match(d.timeZone.evidence, /cannot be inferred/);
  assert.equal(d.homeCountry.origin, 'inferred');
  assert.deepEqual(d.dialPlan.outboundPrefixes.value, ['9']);
  assert.deepEqual(d.dialPlan.emergencyNumbers.value, ['112', '999']);
  const parsed = parseConfig(d.snippet, 'snippet');
  assert.deepEqual(parsed.network.pbx.sort(), ['127.0.0.10', '127.0.0.12']);
  // The trunk (two calls) is low confidence: present, but commented out.
  assert.deepEqual(parsed.network.trunks, []);
  assert.match(d.snippet, /# - "127\.0\.3\.1" +# inferred \(low\)/);
  assert.deepEqual(parsed.identities, {
    Lp4Wn8Rz: '102',
    Jd2Fs9Ue: '104',
    Nw5Ba3Xc: '105',
    Ea9Cj6Tw: '108',
  });
  assert.equal(parsed.numbers.dialPlan, undefined, 'a low-confidence country leaves the plan commented');
  assert.match(d.snippet, /# {3}outboundPrefixes: \["9"\]/);
});

test('no inputs: the configuration only, nothing inferred, no snippet', async () => {
  const config = parseConfig(
    'network:\n  pbx: [192.0.2.10]\nnumbers:\n  dialPlan:\n    country: US\n',
    'test.yaml',
  );
  const { document: d } = await learnSite([], { config });
  assert.equal(d.learned, false);
  assert.deepEqual(d.inputs, []);
  assert.deepEqual(
    d.addresses.pbx.map((p) => [p.value, p.origin, p.seen]),
    [['192.0.2.10', 'told', undefined]],
  );
  const origins = [
    ...d.addresses.pbx,
    ...d.addresses.trunks,
    ...d.identities,
    ...d.extensions,
    ...d.dids,
    d.homeCountry,
    d.timeZone,
    d.businessHours,
    d.dialPlan.outboundPrefixes,
    d.dialPlan.nationalPrefix,
    d.dialPlan.internationalPrefixes,
    d.dialPlan.emergencyNumbers,
    d.allowedCountries,
  ].map((f) => f.origin);
  assert.ok(!origins.includes('inferred'), `no inferred fact: ${origins.join(',')}`);
  assert.deepEqual(d.dialPlan.internationalPrefixes.value, ['011']);
  assert.deepEqual(d.dialPlan.nationalPrefix.value, '1');
  assert.deepEqual(d.dialPlan.emergencyNumbers.value, ['112', '911']);
  assert.deepEqual(d.notes, []);
  assert.equal(d.snippet, '');
});

test('country defaults and emergency numbers come from libphonenumber metadata', () => {
  assert.deepEqual(countryDialDefaults('GB'), { national: '0', international: ['00'] });
  assert.deepEqual(countryDialDefaults('US'), { national: '1', international: ['011'] });
  assert.equal(countryDialDefaults('ZZ'), undefined);
  assert.deepEqual(emergencyNumbersOf('GB'), ['112', '999']);
  assert.deepEqual(emergencyNumbersOf('DE'), ['110', '112']);
  assert.ok(emergencyNumbersOf('ZA').includes('10111'), 'five-digit numbers too');
  assert.deepEqual(emergencyNumbersOf('ZZ'), []);
});

test('a 3CX CDR alone: outbound prefix, number forms, callers country and business hours', async () => {
  // The fixture's site (test/fixtures/cdr/README.md): a German office dialling out with 9, whose
  // CDR day runs on a Tuesday from 08:00 to 17:30 Berlin time.
  const config = parseConfig('timeZone: Europe/Berlin\ncdr:\n  fields: 3cx-documented\n', 'test.yaml');
  const { document: d, errors } = await learnSite([], {
    config,
    cdr: [{ product: '3cx', path: 'test/fixtures/cdr/3cx-v18-normal-day.log' }],
  });
  assert.deepEqual(errors, []);
  assert.equal(d.learned, true);
  assert.deepEqual(
    d.inputs.map((i) => i.format),
    ['cdr:3cx'],
  );
  const prefixes = d.dialPlan.outboundPrefixes;
  assert.deepEqual([prefixes.value, prefixes.origin, prefixes.confidence], [['9'], 'inferred', 'high']);
  assert.equal(prefixes.counts?.['9'], 27, 'every outbound call of the day');
  assert.deepEqual(d.dialPlan.internationalPrefixes.value, ['00']);
  assert.equal(d.dialPlan.nationalPrefix.value, '0');
  assert.deepEqual([d.homeCountry.value, d.homeCountry.confidence], ['DE', 'low']);
  assert.deepEqual(d.dialPlan.emergencyNumbers.value, ['110', '112']);
  assert.deepEqual(d.businessHours.value, {
    timeZone: 'Europe/Berlin',
    days: [2],
    start: '08:00',
    end: '17:00',
  });
  assert.equal(d.businessHours.origin, 'inferred');
  assert.deepEqual(d.dids, [], 'inbound calls of this CDR name extensions, not DIDs');
  assert.ok(d.notes.some((n) => /outside the allowed list: .*CH \(1\)/.test(n)));
});

test('wire strings: escaped in the text report, and the snippet reads back the exact bytes', async () => {
  const evil = 'Ab\x1b[31m\u2028"x\\';
  const base = new SiteLearner().infer();
  const learned: LearnedSite = {
    ...base,
    extensions: [
      {
        extension: '301',
        identities: [evil],
        contacts: ['192.0.2.5:5060'],
        userAgents: [`UA ${evil}`],
        registrations: 12,
        calls: 0,
      },
    ],
    identities: [{ identity: evil, extension: '301', count: 12 }],
  };
  const config = defaultConfig();
  const facts = siteFacts(config, learned);
  const snippet = configSnippet(facts, config);
  assert.deepEqual(parseConfig(snippet, 'snippet').identities, { [evil]: '301' });
  assert.ok(!/[\x1b\u2028]/.test(snippet), 'no raw control character in the snippet');
  const text = siteTextLines({ ...facts, inputs: [], sipMessages: 0, snippet }).join('\n');
  assert.ok(!/[\x1b\u2028]/.test(text), 'no raw control character in the report');
  assert.ok(text.includes('Ab\\x1b[31m\\u2028"x\\\\'), 'escaped visibly');
});

test('the snippet keeps told values of a section it rewrites', async () => {
  const config = parseConfig(
    'network:\n  trusted: [10.0.0.0/8]\nnumbers:\n  dialPlan:\n    country: GB\n  riskList: data/irsf/high-risk-ranges.json\n',
    'test.yaml',
  );
  const { document: d } = await learnSite(
    [
      OUTBOUND,
      'test/fixtures/captures/sipp-toll-fraud-leaky.pcap',
      'test/fixtures/captures/sipp-toll-fraud-unseen-pbx-leaky.pcap',
    ],
    { config },
  );
  const parsed = parseConfig(d.snippet, 'snippet');
  assert.deepEqual(parsed.network.trusted, ['10.0.0.0/8']);
  assert.deepEqual(parsed.network.pbx, ['127.0.0.10']);
  assert.equal(parsed.numbers.dialPlan?.country, 'GB');
  assert.equal(parsed.numbers.riskList, 'data/irsf/high-risk-ranges.json');
  // Each capture has one call whose 9 the PBX stripped: three, medium confidence, written.
  assert.deepEqual(
    [d.dialPlan.outboundPrefixes.value, d.dialPlan.outboundPrefixes.confidence],
    [['9'], 'medium'],
  );
  assert.deepEqual(parsed.numbers.dialPlan?.outboundPrefixes, ['9']);
  assert.equal(d.homeCountry.origin, 'told');
  assert.equal(d.allowedCountries.origin, 'default');
});

test('a told country contradicted by DIDs is a note', () => {
  const config = parseConfig('numbers:\n  dialPlan:\n    country: DE\n', 'test.yaml');
  const learned: LearnedSite = {
    ...new SiteLearner().infer(),
    homeCountry: {
      country: 'GB',
      evidence: {
        confidence: 'medium',
        detail: '4 of 4 calls to DIDs were to GB numbers',
        counts: { didCalls: 4 },
      },
    },
  };
  const d = siteFacts(config, learned);
  assert.deepEqual([d.homeCountry.value, d.homeCountry.origin], ['DE', 'told']);
  assert.deepEqual(d.notes, [
    'numbers.dialPlan.country is DE but traffic suggests GB (4 of 4 calls to DIDs were to GB numbers)',
  ]);
});

test('lab captures with their site configuration: traffic agrees with what the lab declared', async () => {
  const expected = JSON.parse(readFileSync('test/fixtures/captures/expected.json', 'utf8')) as {
    captures: { file: string; config?: unknown }[];
  };
  let checked = 0;
  for (const c of expected.captures) {
    if (c.config === undefined) continue;
    const config = parseConfig(JSON.stringify(c.config), `${c.file}: config`);
    const { document: d, errors } = await learnSite([`test/fixtures/captures/${c.file}`], { config });
    assert.deepEqual(errors, []);
    for (const n of d.notes) {
      assert.doesNotMatch(
        n,
        /acts as a|is configured as extension|traffic suggests|prefix .* lacks/,
        `${c.file}: ${n}`,
      );
    }
    for (const f of [...d.addresses.pbx, ...d.addresses.trunks])
      assert.equal(f.origin, 'told', `${c.file}: ${f.value}`);
    assert.ok(!d.identities.some((i) => i.origin === 'inferred' && i.value !== i.extension), c.file);
    checked++;
  }
  assert.ok(checked >= 10, `${checked} captures with a site configuration`);
});

test('told SBC addresses and DIDs: told wins, traffic agreeing is said, the snippet keeps them', async () => {
  const config = parseConfig(
    ['network:', '  sbc: [127.0.1.200]', 'numbers:', '  dids: ["+442079460000", "+441134960999"]', ''].join(
      '\n',
    ),
    'test.yaml',
  );
  const { document: d } = await learnSite(['test/fixtures/captures/benign-nat-office-storm-3cx.pcap'], {
    config,
  });
  const told = d.addresses.sbc.filter((f) => f.origin === 'told');
  assert.deepEqual(
    told.map((f) => f.value),
    ['127.0.1.200'],
  );
  assert.match(told[0]!.evidence, /traffic agrees/);
  assert.equal(
    d.addresses.sbc.filter((f) => f.value === '127.0.1.200').length,
    1,
    'not listed again as inferred',
  );
  assert.deepEqual(
    d.dids.filter((f) => f.origin === 'told').map((f) => f.value),
    ['+442079460000', '+441134960999'],
  );
  assert.throws(() => parseConfig('numbers:\n  dids: ["call me"]\n', 'bad.yaml'), /numbers\.dids/);
});
