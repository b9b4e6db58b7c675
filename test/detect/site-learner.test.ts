/**
 * The site learner on the lab captures (real tools against Kamailio on loopback, whose addresses
 * expected.json names) and on hand-written traffic: roles go to the PBX and the trunk, never to an
 * attacker; the identity map and the dial plan are read from what the PBX accepted and relayed; a
 * spoofed flood neither grows the tables past their bounds nor makes its sources a trunk.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { analyzeFiles } from '../../src/cli/analyze.js';
import { SITE_MAX_PAIRS, SITE_MIN_CALLS_FOR_HOURS } from '../../src/config/limits.js';
import { AlertBook } from '../../src/detect/alert-book.js';
import { DetectionEngine } from '../../src/detect/engine.js';
import type { RuleModule } from '../../src/detect/rule.js';
import { SiteModel } from '../../src/detect/site.js';
import { Pipeline } from '../../src/pipeline.js';
import {
  SiteLearner,
  isNumberLike,
  numberForm,
  strippedPrefix,
  type LearnedSite,
} from '../../src/detect/site-learner.js';
import { PBX, PHONE, TRUNK, T0, call, invite, register, reply } from '../helpers/call-traffic.js';
import { ruleHarness } from '../helpers/rule-harness.js';

const DIR = 'test/fixtures/captures';

interface Capture {
  file: string;
  pbx: string | string[];
  attackers: string[] | string;
  phones?: Record<string, string>;
}

const expected = JSON.parse(readFileSync(`${DIR}/expected.json`, 'utf8')) as {
  addresses: { trunk: string };
  users: Record<string, { authId3cx: string }>;
  captures: Capture[];
};

function learnerModule(learner: SiteLearner): RuleModule {
  return {
    meta: {
      id: 'site.learner',
      title: 'Site learner',
      severity: 'info',
      description: '',
      falsePositives: '',
      remediation: '',
      references: [],
      thresholds: {},
      quietMs: 60_000,
    },
    create: () => learner.detector(),
  };
}

async function learn(file: string): Promise<LearnedSite> {
  const learner = new SiteLearner();
  const r = await analyzeFiles([`${DIR}/${file}`], { rules: [learnerModule(learner)] });
  assert.deepEqual(r.errors, [], `${file} reads cleanly`);
  r.dispose();
  return learner.infer();
}

const ips = (xs: readonly { ip: string }[]): string[] => xs.map((x) => x.ip).sort();

test('every lab capture: a PBX is only ever the lab PBX, a trunk only the lab trunk, never an attacker', async () => {
  let pbxSeen = 0;
  let trunkSeen = 0;
  for (const c of expected.captures) {
    const site = await learn(c.file);
    const pbx = Array.isArray(c.pbx) ? c.pbx : [c.pbx];
    for (const p of site.pbx) assert.ok(pbx.includes(p.ip), `${c.file}: ${p.ip} inferred as PBX`);
    for (const t of site.trunks)
      assert.equal(t.ip, expected.addresses.trunk, `${c.file}: ${t.ip} inferred as trunk`);
    const attackers = Array.isArray(c.attackers) ? c.attackers : [];
    for (const a of attackers) {
      assert.ok(!site.pbx.some((p) => p.ip === a), `${c.file}: attacker ${a} is not a PBX`);
      assert.ok(!site.trunks.some((t) => t.ip === a), `${c.file}: attacker ${a} is not a trunk`);
      assert.ok(!site.shared.some((s) => s.ip === a), `${c.file}: attacker ${a} is not an SBC`);
    }
    // Captures of attacks on ranges (distributed, rewritten) name them in a sentence: no role may
    // go outside the lab's PBX and trunk addresses there either, which the loop above checks.
    pbxSeen += site.pbx.length;
    trunkSeen += site.trunks.length;
  }
  assert.ok(pbxSeen >= 20, `PBX inferred in most benign captures (${pbxSeen})`);
  assert.ok(trunkSeen >= 3, `trunk inferred where calls reach it (${trunkSeen})`);
});

test('benign-phones-register-3cx: the PBX, and the 3CX Auth ID of each phone mapped to its extension', async () => {
  const site = await learn('benign-phones-register-3cx.pcap');
  assert.deepEqual(ips(site.pbx), ['127.0.0.12']);
  assert.equal(site.pbx[0]!.evidence.counts.registeredExtensions, 4);
  assert.ok(site.pbx[0]!.agents.some((a) => a.startsWith('3CXPhoneSystem')));
  assert.deepEqual(site.trunks, []);
  const phones = expected.captures.find((c) => c.file === 'benign-phones-register-3cx.pcap')!.phones!;
  for (const [ip, ext] of Object.entries(phones)) {
    const authId = expected.users[ext]!.authId3cx;
    assert.ok(
      site.identities.some((i) => i.identity === authId && i.extension === ext),
      `${authId} → ${ext}`,
    );
    const e = site.extensions.find((x) => x.extension === ext);
    assert.ok(e, `extension ${ext} learned`);
    assert.deepEqual(e.contacts, [`${ip}:5060`]);
    assert.deepEqual(e.identities, [authId]);
  }
  assert.equal(site.identities.length, 4);
});

test('benign-outbound-call-leaky: PBX, trunk both ways, outbound prefix 9, authenticated caller 105', async () => {
  const site = await learn('benign-outbound-call-leaky.pcap');
  assert.deepEqual(ips(site.pbx), ['127.0.0.10']);
  assert.equal(site.pbx[0]!.evidence.counts.relayedCalls, 2);
  assert.deepEqual(ips(site.trunks), ['127.0.3.1']);
  // The proxy passes on the callee's answers: only its own challenges name the PBX.
  assert.deepEqual(site.pbx[0]!.agents, ['kamailio (5.6.3 (x86_64/linux))']);
  assert.deepEqual(site.trunks[0]!.agents, ['Provider-SBC/4.2']);
  const t = site.trunks[0]!.evidence.counts;
  assert.equal(t.outboundNumberCalls, 1, 'the PBX sent 00442071234567 to it');
  assert.equal(t.inboundCalls, 1, 'it delivered +442071838750 to 102');
  assert.deepEqual(site.outboundPrefixes?.prefixes, ['9']);
  assert.deepEqual(site.trunkNumberForms, { '00': 1 });
  const e105 = site.extensions.find((e) => e.extension === '105');
  assert.deepEqual(e105?.contacts, ['127.0.1.5:5060']);
  assert.equal(e105?.calls, 1);
  // No DID (the provider called extension 102 directly); the caller's number is British.
  assert.deepEqual(site.dids, []);
  assert.equal(site.homeCountry?.country, 'GB');
  assert.equal(site.homeCountry?.evidence.confidence, 'low');
});

test('benign-trunk-call-hardened: a trunk known only from the call it delivered is low confidence', async () => {
  const site = await learn('benign-trunk-call-hardened.pcap');
  assert.deepEqual(ips(site.pbx), ['127.0.0.11']);
  assert.deepEqual(ips(site.trunks), ['127.0.3.1']);
  assert.equal(site.trunks[0]!.evidence.confidence, 'low');
  assert.equal(site.trunks[0]!.evidence.counts.outboundNumberCalls, 0);
  assert.deepEqual(
    site.extensions.map((e) => e.extension),
    ['104'],
  );
});

test('benign-nat-office-storm-3cx: 40 phones behind one address are a NAT office, each Auth ID mapped', async () => {
  const site = await learn('benign-nat-office-storm-3cx.pcap');
  assert.deepEqual(ips(site.pbx), ['127.0.0.12']);
  assert.equal(site.pbx[0]!.evidence.confidence, 'high');
  assert.equal(site.shared.length, 1);
  assert.equal(site.shared[0]!.ip, '127.0.1.200');
  assert.equal(site.shared[0]!.kind, 'nat');
  assert.equal(site.shared[0]!.evidence.counts.extensions, 40);
  for (let ext = 200; ext < 240; ext++) {
    const authId = createHash('md5').update(`authid-${ext}`).digest('hex').slice(0, 8);
    assert.ok(
      site.identities.some((i) => i.identity === authId && i.extension === String(ext)),
      `${authId} → ${ext}`,
    );
  }
});

test('sipp-toll-fraud-leaky: the caller the PBX relays out is not a trunk; the provider is', async () => {
  const site = await learn('sipp-toll-fraud-leaky.pcap');
  assert.deepEqual(ips(site.trunks), ['127.0.3.1']);
  assert.equal(site.trunks[0]!.evidence.counts.outboundNumberCalls, 2);
  assert.equal(site.trunks[0]!.evidence.counts.inboundCalls, 0);
  assert.deepEqual(ips(site.pbx), ['127.0.0.10']);
});

test('number shapes: numbers, forms, and the prefix a PBX strips', () => {
  assert.equal(isNumberLike('+442071838750'), true);
  assert.equal(isNumberLike('00442071234567'), true);
  assert.equal(isNumberLike('102'), false);
  assert.equal(isNumberLike('anonymous'), false);
  assert.equal(numberForm('+44207'), '+');
  assert.equal(numberForm('011442071234567'), '011');
  assert.equal(numberForm('00442071234567'), '00');
  assert.equal(numberForm('02071234567'), '0');
  assert.equal(numberForm('2071234567'), 'other');
  assert.equal(strippedPrefix('900442071234567', '00442071234567'), '9');
  assert.equal(strippedPrefix('900442071234567', '+442071234567'), '9', 'the 00 became the +');
  assert.equal(strippedPrefix('902071234567', '+442071234567'), '9', 'a national number sent as E.164');
  assert.equal(strippedPrefix('02071234567', '+442071234567'), '', 'no outbound prefix');
  assert.equal(strippedPrefix('912125551234', '+12125551234'), '9', 'NANP: the national prefix is the code');
  assert.equal(strippedPrefix('9061234567', '+39061234567'), '9', 'Italy keeps its 0');
  assert.equal(strippedPrefix('+442079460123', '+442079460123'), '');
  assert.equal(strippedPrefix('102', '102'), '');
  assert.equal(strippedPrefix('900442071234567', '4471234567'), undefined, 'not the same number');
  assert.equal(strippedPrefix('123456789012345', '12345'), undefined, 'too short to compare');
});

/** A harness whose only detector is a learner. */
function learning(): { learner: SiteLearner; h: ReturnType<typeof ruleHarness> } {
  const learner = new SiteLearner();
  return { learner, h: ruleHarness(learnerModule(learner)) };
}

/** Three phones register at the PBX (challenged first, then accepted). */
function phonesRegister(h: ReturnType<typeof ruleHarness>, t: number): void {
  for (const [i, src] of ['203.0.113.21', '203.0.113.22', '203.0.113.23'].entries()) {
    register(h, t + i * 100, src, `10${i + 1}`, '401 Unauthorized', '');
    register(h, t + i * 100 + 20, src, `10${i + 1}`, '200 OK', `auth${i + 1}`);
  }
}

test('a caller with a number in From whose calls the PBX relays to the trunk is not a trunk', () => {
  const { learner, h } = learning();
  phonesRegister(h, T0);
  const caller = '192.0.2.66';
  for (let i = 0; i < 5; i++) {
    const t = T0 + 10_000 + i * 5_000;
    const inv = invite(caller, PBX, '900442071234567', { fromUser: '+442071838750' });
    h.send(t, caller, PBX, inv.text);
    h.send(t + 5, PBX, caller, reply(inv, '100 Trying'));
    const out = invite(PBX, TRUNK, '00442071234567', { fromUser: '+442071838750' });
    h.send(t + 10, PBX, TRUNK, out.text);
    h.send(t + 20, TRUNK, PBX, reply(out, '200 OK', 'x1'));
    h.send(t + 30, PBX, caller, reply(inv, '200 OK', 'x1'));
  }
  h.finish();
  const site = learner.infer();
  assert.deepEqual(ips(site.pbx), [PBX]);
  assert.deepEqual(ips(site.trunks), [TRUNK]);
  assert.equal(site.trunks[0]!.evidence.counts.outboundNumberCalls, 5);
  assert.equal(site.trunks[0]!.evidence.confidence, 'medium');
  assert.deepEqual(site.outboundPrefixes?.prefixes, ['9']);
  assert.equal(site.outboundPrefixes?.evidence.counts['9'], 5);
});

test('one-way and refused INVITEs from outside numbers teach nothing', () => {
  const { learner, h } = learning();
  phonesRegister(h, T0);
  const forger = '192.0.2.77';
  for (let i = 0; i < 20; i++) {
    // Never answered: a spoofed source gets no answer back (or the capture never saw one).
    const inv = invite(forger, PBX, '2071234567', { fromUser: '+442071838750' });
    h.send(T0 + 10_000 + i * 100, forger, PBX, inv.text);
  }
  for (let i = 0; i < 20; i++) {
    const inv = invite(forger, PBX, '102', { fromUser: '+442071838750' });
    h.send(T0 + 20_000 + i * 100, forger, PBX, inv.text);
    h.send(T0 + 20_000 + i * 100 + 5, PBX, forger, reply(inv, '407 Proxy Authentication Required', 'x1'));
  }
  h.finish();
  const site = learner.infer();
  assert.deepEqual(ips(site.pbx), [PBX]);
  assert.deepEqual(site.trunks, []);
  assert.ok(!site.extensions.some((e) => e.contacts.some((c) => c.startsWith(forger))));
});

test('a spoofed flood of new sources stays within the bounds and keeps what was learned', () => {
  const { learner, h } = learning();
  phonesRegister(h, T0);
  // The phones keep registering: their entries are seen more often than any one-off source.
  phonesRegister(h, T0 + 1_000);
  const n = SITE_MAX_PAIRS + 2_000;
  for (let i = 0; i < n; i++) {
    const src = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
    register(h, T0 + 5_000 + i, src, `9${i % 1000}`, '401 Unauthorized', '');
  }
  h.finish();
  const site = learner.infer();
  assert.deepEqual(ips(site.pbx), [PBX]);
  assert.equal(site.pbx[0]!.evidence.counts.registeredExtensions, 3);
  // Every pair has the PBX at one end: addresses seen are bounded by the pairs kept.
  assert.ok(site.addresses.length <= SITE_MAX_PAIRS + 1, `${site.addresses.length} addresses kept`);
  assert.ok(
    site.tableStats.pairs!.rejections + site.tableStats.pairs!.evictions > 0,
    'the flood hit the bound',
  );
  for (const ext of ['101', '102', '103']) assert.ok(site.extensions.some((e) => e.extension === ext));
  assert.deepEqual(site.trunks, []);
});

test('business hours: the working days and the span of hours holding most answered calls', () => {
  const learner = new SiteLearner({ timeZone: 'UTC' });
  const h = ruleHarness(learnerModule(learner));
  // T0 is Tuesday 24 November 2026, 09:00 UTC: calls Monday to Friday, 09:00 to 16:59.
  const monday = T0 - 24 * 3600_000;
  let calls = 0;
  for (let day = 0; day < 5; day++) {
    for (let hour = 9; hour < 17; hour++) {
      call(h, monday + day * 24 * 3600_000 + (hour - 9) * 3600_000 + 60_000, PHONE, PBX, '202', ['200 OK'], {
        auth: 'a101',
      });
      calls++;
    }
  }
  assert.ok(calls >= SITE_MIN_CALLS_FOR_HOURS);
  h.finish();
  const site = learner.infer();
  assert.equal(site.answeredCalls, calls);
  assert.deepEqual(site.businessHours?.days, [1, 2, 3, 4, 5]);
  assert.equal(site.businessHours?.start, '09:00');
  assert.equal(site.businessHours?.end, '17:00');
  assert.equal(site.businessHours?.evidence.confidence, 'low');
});

test('business hours: too few calls suggest nothing', () => {
  const { learner, h } = learning();
  for (let i = 0; i < SITE_MIN_CALLS_FOR_HOURS - 1; i++)
    call(h, T0 + i * 60_000, PHONE, PBX, '202', ['200 OK'], { auth: 'a101' });
  h.finish();
  const site = learner.infer();
  assert.equal(site.answeredCalls, SITE_MIN_CALLS_FOR_HOURS - 1);
  assert.equal(site.businessHours, undefined);
});

test('DIDs: the numbers a trunk calls, and the home country they belong to', () => {
  const { learner, h } = learning();
  phonesRegister(h, T0);
  const dids = ['+442079460000', '+442079460000', '+442079460001', '+442079460000'];
  dids.forEach((did, i) => {
    const t = T0 + 10_000 + i * 5_000;
    const inv = invite(TRUNK, PBX, did, { fromUser: '+33142685300' });
    h.send(t, TRUNK, PBX, inv.text);
    h.send(t + 5, PBX, TRUNK, reply(inv, '100 Trying'));
    // The PBX hands it to phone 101 (a back-to-back leg: new Call-ID, same caller number).
    const leg = invite(PBX, '203.0.113.21', '101', { fromUser: '+33142685300' });
    h.send(t + 10, PBX, '203.0.113.21', leg.text);
    h.send(t + 20, '203.0.113.21', PBX, reply(leg, '200 OK', 'x1'));
    h.send(t + 30, PBX, TRUNK, reply(inv, '200 OK', 'x1'));
  });
  h.finish();
  const site = learner.infer();
  assert.deepEqual(ips(site.trunks), [TRUNK]);
  assert.equal(site.trunks[0]!.evidence.counts.inboundCalls, 4);
  assert.equal(site.trunks[0]!.evidence.confidence, 'medium');
  assert.deepEqual(
    site.dids.map((d) => [d.number, d.calls, d.via]),
    [
      ['+442079460000', 3, TRUNK],
      ['+442079460001', 1, TRUNK],
    ],
  );
  // The DIDs are British although every caller is French: DIDs decide.
  assert.equal(site.homeCountry?.country, 'GB');
  assert.equal(site.homeCountry?.evidence.counts.didCalls, 4);
  assert.equal(site.pbx[0]!.evidence.counts.relayedCalls, 4);
  assert.equal(site.answeredCalls, 4, 'each call once, not once per leg');
});

test('an SBC: several extensions registering through one signalling address and port', () => {
  const { learner, h } = learning();
  const sbc = '198.51.100.77';
  for (const [i, ext] of ['301', '302', '303', '304'].entries()) {
    register(h, T0 + i * 100, sbc, ext, '401 Unauthorized', '');
    register(h, T0 + i * 100 + 20, sbc, ext, '200 OK', `id${ext}`);
  }
  h.finish();
  const site = learner.infer();
  assert.deepEqual(ips(site.pbx), [PBX]);
  assert.deepEqual(
    site.shared.map((s) => [s.ip, s.kind, s.evidence.counts.extensions]),
    [[sbc, 'sbc', 4]],
  );
  assert.deepEqual(site.trunks, [], 'an address registering to the PBX is not a trunk');
});

test('an SBC on IPv6: its contacts keep address and port apart', () => {
  const { learner, h } = learning();
  const sbc = '2001:db8::77';
  for (const [i, ext] of ['301', '302', '303'].entries())
    register(h, T0 + i * 100, sbc, ext, '200 OK', `id${ext}`);
  h.finish();
  const site = learner.infer();
  assert.deepEqual(site.extensions.find((e) => e.extension === '301')?.contacts, ['[2001:db8::77]:5060']);
  assert.deepEqual(
    site.shared.map((s) => [s.ip, s.kind, s.ports]),
    [[sbc, 'sbc', [5060]]],
  );
});

test('the PBX registering to its provider makes the provider a trunk, not a PBX', () => {
  const { learner, h } = learning();
  phonesRegister(h, T0);
  const provider = '198.51.100.200';
  for (let i = 0; i < 3; i++) {
    const t = T0 + 10_000 + i * 60_000;
    const lines = (n: number): string[] => [
      `Via: SIP/2.0/UDP ${PBX}:5060;branch=z9hG4bK-up${i}-${n}`,
      `From: <sip:4420794600@${provider}>;tag=up${i}`,
      `To: <sip:4420794600@${provider}>`,
      `Call-ID: up${i}@${PBX}`,
      `CSeq: ${n} REGISTER`,
    ];
    const req = (n: number, auth: boolean): string =>
      [
        `REGISTER sip:${provider} SIP/2.0`,
        ...lines(n),
        `Contact: <sip:4420794600@${PBX}:5060>`,
        ...(auth
          ? [
              `Authorization: Digest username="4420794600", realm="provider", nonce="p${i}", uri="sip:${provider}", response="0123456789abcdef0123456789abcdef"`,
            ]
          : []),
        'Content-Length: 0',
        '',
        '',
      ].join('\n');
    const res = (n: number, status: string): string =>
      [`SIP/2.0 ${status}`, ...lines(n), 'Content-Length: 0', '', ''].join('\n');
    h.send(t, PBX, provider, req(1, false));
    h.send(t + 5, provider, PBX, res(1, '401 Unauthorized'));
    h.send(t + 10, PBX, provider, req(2, true));
    h.send(t + 15, provider, PBX, res(2, '200 OK'));
  }
  h.finish();
  const site = learner.infer();
  assert.deepEqual(ips(site.pbx), [PBX]);
  assert.deepEqual(ips(site.trunks), [provider]);
  assert.equal(site.trunks[0]!.evidence.counts.pbxRegistrations, 6);
  assert.deepEqual(
    site.extensions.map((e) => e.extension),
    ['101', '102', '103'],
    "the PBX's account at the provider is not an extension",
  );
  assert.equal(site.trunks[0]!.evidence.confidence, 'medium');
});

test("a 3CX SBC registering its phones through the PBX's tunnel port 5090 is a tunnel address", () => {
  const learner = new SiteLearner();
  const book = new AlertBook('default', 'test');
  const engine = new DetectionEngine([learnerModule(learner)], book, new SiteModel());
  const pipeline = new Pipeline({ listener: engine });
  const sbc = '198.51.100.90';
  let frame = 0;
  const send = (
    time: number,
    src: string,
    srcPort: number,
    dst: string,
    dstPort: number,
    text: string,
  ): void => {
    pipeline.sipFrame({
      time,
      srcIp: src,
      srcPort,
      dstIp: dst,
      dstPort,
      transport: 'udp',
      provenance: { kind: 'capture', file: 'unit', frame: ++frame },
      data: Buffer.from(text.replace(/\r?\n/g, '\r\n'), 'latin1'),
    });
  };
  for (const [i, ext] of ['401', '402', '403'].entries()) {
    const lines = [
      `Via: SIP/2.0/UDP ${sbc}:5060;branch=z9hG4bK-t${i}`,
      `From: <sip:${ext}@pbx.example>;tag=t${i}`,
      `To: <sip:${ext}@pbx.example>`,
      `Call-ID: tunnel${i}@${sbc}`,
      `CSeq: 1 REGISTER`,
    ];
    const auth = `Authorization: Digest username="id${ext}", realm="pbx", nonce="n${i}", uri="sip:pbx.example", response="0123456789abcdef0123456789abcdef"`;
    const register = [
      'REGISTER sip:pbx.example SIP/2.0',
      ...lines,
      `Contact: <sip:${ext}@${sbc}:5060>`,
      auth,
    ];
    send(T0 + i * 100, sbc, 5060, PBX, 5090, [...register, 'Content-Length: 0', '', ''].join('\n'));
    send(
      T0 + i * 100 + 5,
      PBX,
      5090,
      sbc,
      5060,
      ['SIP/2.0 200 OK', ...lines, 'Content-Length: 0', '', ''].join('\n'),
    );
  }
  pipeline.finish();
  engine.flush();
  const site = learner.infer();
  assert.deepEqual(
    site.shared.map((s) => [s.ip, s.kind]),
    [[sbc, 'tunnel']],
  );
  assert.match(site.pbx[0]!.evidence.detail, /answers on the 3CX default port 5090 \(3CX tunnel\)/);
});
