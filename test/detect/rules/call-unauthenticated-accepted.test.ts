import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AlertJson } from '../../../src/core/alert.js';
import { AlertBook } from '../../../src/detect/alert-book.js';
import { DetectionEngine } from '../../../src/detect/engine.js';
import {
  callUnauthenticatedAccepted,
  outsideNumber,
} from '../../../src/detect/rules/call-unauthenticated-accepted.js';
import { DEFAULT_SITE, SiteModel, type SiteConfig } from '../../../src/detect/site.js';
import { Pipeline } from '../../../src/pipeline.js';
import { readCaptureFile } from '../../../src/sources/capture-file.js';
import { tableTotals } from '../../../src/core/bounded-table.js';
import { ruleHarness } from '../../helpers/rule-harness.js';

const T0 = Date.UTC(2026, 10, 24, 2, 0, 0);
const PBX = '198.51.100.2';
const ATTACKER = '203.0.113.66';
const PROXY_AUTH =
  'Proxy-Authorization: Digest username="101", realm="pbx", nonce="n1", uri="sip:x", response="0123456789abcdef0123456789abcdef"';

function harness(site: Partial<SiteConfig> = {}) {
  const revisions: AlertJson[] = [];
  const book = new AlertBook('default', 'test', (a) => revisions.push(a));
  const engine = new DetectionEngine(
    [callUnauthenticatedAccepted],
    book,
    new SiteModel({ ...DEFAULT_SITE, ...site }),
  );
  const pipeline = new Pipeline({ listener: engine });
  let frame = 0;
  const send = (src: string, dst: string, text: string): void => {
    frame++;
    pipeline.sipFrame({
      time: T0 + frame * 20,
      srcIp: src,
      srcPort: 5060,
      dstIp: dst,
      dstPort: 5060,
      transport: 'udp',
      provenance: { kind: 'capture', file: 'synthetic', frame },
      data: Buffer.from(text.replace(/\n/g, '\r\n')),
    });
  };
  const finish = (): AlertJson[] => {
    pipeline.finish();
    engine.flush();
    return book.alerts();
  };
  return { send, finish, revisions };
}

let seq = 0;
interface Invite {
  readonly text: string;
  readonly callId: string;
}
function invite(
  from: string,
  to: string,
  user: string,
  opts: { auth?: boolean; callId?: string; toTag?: string; cseq?: number } = {},
): Invite {
  seq++;
  const callId = opts.callId ?? `call-${seq}@${from}`;
  const text =
    `INVITE sip:${user}@${to} SIP/2.0\nVia: SIP/2.0/UDP ${from}:5060;branch=z9hG4bK-i${seq}\nMax-Forwards: 70\n` +
    `From: "x" <sip:100@${from}>;tag=f${seq}\nTo: <sip:${user}@${to}>${opts.toTag !== undefined ? `;tag=${opts.toTag}` : ''}\n` +
    `Call-ID: ${callId}\nCSeq: ${opts.cseq ?? 1} INVITE\nContact: <sip:100@${from}:5060>\nUser-Agent: pplsip\n` +
    (opts.auth === true ? `${PROXY_AUTH}\n` : '') +
    'Content-Length: 0\n\n';
  return { text, callId };
}

function reply(inv: Invite, status: string, toTag?: string): string {
  const keep = inv.text.split('\n').filter((l) => /^(Via|From|Call-ID|CSeq):/.test(l));
  const to =
    (inv.text.split('\n').find((l) => l.startsWith('To:')) as string) +
    (toTag !== undefined && !inv.text.includes(';tag=t') ? `;tag=${toTag}` : '');
  return `SIP/2.0 ${status}\n${keep.join('\n')}\n${to}\nContent-Length: 0\n\n`;
}

/** An outside caller's INVITE that the PBX rings and answers. */
function acceptedCall(
  h: ReturnType<typeof harness>,
  from: string,
  user: string,
  answers = ['100 Trying', '183 Session Progress', '200 OK'],
): Invite {
  const inv = invite(from, PBX, user);
  h.send(from, PBX, inv.text);
  for (const s of answers) h.send(PBX, from, reply(inv, s, s.startsWith('100') ? undefined : 'pbx1'));
  return inv;
}

test('an unauthenticated INVITE to an international number that the PBX rings and answers is critical', () => {
  const h = harness();
  acceptedCall(h, ATTACKER, '0044207183875');
  acceptedCall(h, ATTACKER, '+442071838750', ['100 Trying', '180 Ringing']);
  const alerts = h.finish();
  assert.equal(alerts.length, 1, 'one alert per source');
  const a = alerts[0] as AlertJson;
  assert.equal(a.rule, 'call.unauthenticated-accepted');
  assert.equal(a.severity, 'critical');
  assert.equal(a.count, 2, 'each call counted once, however many answers it got');
  assert.deepEqual(a.source, { ip: ATTACKER, port: 5060, transport: 'udp' });
  assert.deepEqual(a.target, { ip: PBX, port: 5060, extension: '+442071838750' });
  assert.equal(a.title, `Unauthenticated call to +442071838750 accepted (180) from ${ATTACKER}`);
  assert.deepEqual(a.evidence.dialled, ['+442071838750', '0044207183875']);
  assert.deepEqual(a.evidence.kinds, { international: 1, e164: 1 });
  assert.deepEqual(a.evidence.statuses, { '183': 1, '200': 1, '180': 1 });
  assert.equal(a.evidence.sourceScope, 'documentation');
  assert.deepEqual(a.evidence.userAgents, ['pplsip']);
  // Frames: the first response that counted and its INVITE, then every later progress answer.
  assert.deepEqual(a.evidence.frames, [3, 1, 4, 7, 5]);
  assert.equal(h.revisions[0]?.raisedAt, new Date(T0 + 3 * 20).toISOString(), 'raised at the first 18x');
});

test('national numbers with an outbound prefix, and 011; a source inside the network is high', () => {
  const h = harness();
  acceptedCall(h, ATTACKER, '901712345678');
  acceptedCall(h, ATTACKER, '01133142681234');
  acceptedCall(h, '10.20.0.13', '0612345678');
  const alerts = h.finish();
  const byIp = new Map(alerts.map((a) => [a.source?.ip, a]));
  assert.deepEqual(byIp.get(ATTACKER)?.evidence.kinds, { national: 1, international: 1 });
  assert.equal(byIp.get(ATTACKER)?.severity, 'critical');
  assert.equal(byIp.get('10.20.0.13')?.severity, 'high');
  assert.equal(byIp.get('10.20.0.13')?.evidence.sourceScope, 'private');
});

test('not reported: short extensions, feature codes, rejected or only-trying calls, credentials, challenged then authenticated calls', () => {
  const h = harness();
  acceptedCall(h, ATTACKER, '104');
  acceptedCall(h, ATTACKER, '*97');
  acceptedCall(h, ATTACKER, 'alice');
  acceptedCall(h, ATTACKER, '123456', ['100 Trying', '180 Ringing']); // 6 digits: an extension
  acceptedCall(h, ATTACKER, '0044207183875', ['100 Trying', '404 Not Found']);
  acceptedCall(h, ATTACKER, '0044207183876', ['100 Trying', '403 Forbidden']);
  acceptedCall(h, ATTACKER, '0044207183877', ['100 Trying']);
  // INVITE with credentials, accepted.
  const withCred = invite(ATTACKER, PBX, '0044207183878', { auth: true });
  h.send(ATTACKER, PBX, withCred.text);
  h.send(PBX, ATTACKER, reply(withCred, '200 OK', 'a'));
  // The 3CX flow: challenged with 407, ACK, then the same call with Proxy-Authorization.
  const first = invite(ATTACKER, PBX, '0044207183879');
  h.send(ATTACKER, PBX, first.text);
  h.send(PBX, ATTACKER, reply(first, '407 Proxy Authentication Required', 'c'));
  const second = invite(ATTACKER, PBX, '0044207183879', { auth: true, callId: first.callId, cseq: 2 });
  h.send(ATTACKER, PBX, second.text);
  h.send(PBX, ATTACKER, reply(second, '183 Session Progress', 'd'));
  h.send(PBX, ATTACKER, reply(second, '200 OK', 'd'));
  // An in-dialog re-INVITE (To tag) without credentials in that confirmed call.
  const reinvite = invite(ATTACKER, PBX, '0044207183879', { callId: first.callId, toTag: 'd', cseq: 3 });
  h.send(ATTACKER, PBX, reinvite.text);
  h.send(PBX, ATTACKER, reply(reinvite, '200 OK'));
  assert.deepEqual(h.finish(), []);
});

test('not reported: declared trunks, the PBX itself, a learned registrar placing its own outbound leg, and onward legs of an authenticated call', () => {
  const TRUNK = '192.0.2.77';
  const h = harness({ trunks: [`${TRUNK}/32`], pbx: ['198.51.100.9'] });
  // The trunk delivers an inbound call to a DID.
  const inbound = invite(TRUNK, PBX, '+442071838750');
  h.send(TRUNK, PBX, inbound.text);
  h.send(PBX, TRUNK, reply(inbound, '180 Ringing', 'r'));
  // A declared PBX address calls out.
  const own = invite('198.51.100.9', '203.0.113.200', '00442071838750');
  h.send('198.51.100.9', '203.0.113.200', own.text);
  h.send('203.0.113.200', '198.51.100.9', reply(own, '183 Session Progress', 'o'));
  // The PBX places the outbound leg to a declared trunk that answers.
  const out = invite(PBX, TRUNK, '00442071838751');
  h.send(PBX, TRUNK, out.text);
  h.send(TRUNK, PBX, reply(out, '183 Session Progress', 'p'));
  // An undeclared PBX is learned from the challenge it sends a phone, then its IP-authenticated
  // outbound leg to a provider is not an unauthenticated caller.
  const OTHER_PBX = '203.0.113.10';
  const phone = invite('10.0.0.21', OTHER_PBX, '0044207183875');
  h.send('10.0.0.21', OTHER_PBX, phone.text);
  h.send(OTHER_PBX, '10.0.0.21', reply(phone, '407 Proxy Authentication Required', 'q'));
  const leg = invite(OTHER_PBX, '203.0.113.201', '0044207183875');
  h.send(OTHER_PBX, '203.0.113.201', leg.text);
  h.send('203.0.113.201', OTHER_PBX, reply(leg, '200 OK', 's'));
  // A proxy forwards an authenticated INVITE onward without the credentials: same Call-ID.
  const authd = invite('10.0.0.22', PBX, '0044207183880', { auth: true });
  h.send('10.0.0.22', PBX, authd.text);
  const onward = invite(PBX, '10.0.0.30', '0044207183880', { callId: authd.callId });
  h.send(PBX, '10.0.0.30', onward.text);
  h.send('10.0.0.30', PBX, reply(onward, '180 Ringing', 'u'));
  assert.deepEqual(h.finish(), []);
});

test('each exemption is what keeps those legs quiet: without the challenge or the authenticated INVITE they are reported', () => {
  const h1 = harness();
  const leg = invite('203.0.113.10', '203.0.113.201', '0044207183875');
  h1.send('203.0.113.10', '203.0.113.201', leg.text);
  h1.send('203.0.113.201', '203.0.113.10', reply(leg, '200 OK', 's'));
  assert.deepEqual(
    h1.finish().map((a) => a.source?.ip),
    ['203.0.113.10'],
  );
  const h2 = harness();
  const onward = invite(PBX, '10.0.0.30', '0044207183880');
  h2.send(PBX, '10.0.0.30', onward.text);
  h2.send('10.0.0.30', PBX, reply(onward, '180 Ringing', 'u'));
  assert.deepEqual(
    h2.finish().map((a) => [a.source?.ip, a.severity]),
    [[PBX, 'critical']],
  );
});

test("a proxy's relayed leg (the caller's Via kept below its own, or the same Call-ID) is not a second caller", () => {
  const PROVIDER = '203.0.113.90';
  const h = harness();
  // No site model, and the PBX challenges nobody: only the relay link tells its leg apart.
  const call = invite(ATTACKER, PBX, '900442071234567');
  h.send(ATTACKER, PBX, call.text);
  h.send(PBX, ATTACKER, reply(call, '100 Trying'));
  // 1) Relayed with the attacker's Via below the PBX's own (a proxy), and a Call-ID of its own.
  const viaAttacker = call.text.split('\n').find((l) => l.startsWith('Via:')) as string;
  const leg = invite(PBX, PROVIDER, '442071234567');
  const legText = leg.text.replace(/^(Via: [^\n]*)$/m, `$1\n${viaAttacker}`);
  h.send(PBX, PROVIDER, legText);
  h.send(PROVIDER, PBX, reply({ text: legText, callId: leg.callId }, '180 Ringing', 'p1'));
  // 2) Relayed keeping the Call-ID only (Via stripped, as some proxies hide topology).
  const leg2 = invite(PBX, PROVIDER, '442071234567', { callId: call.callId });
  h.send(PBX, PROVIDER, leg2.text);
  h.send(PROVIDER, PBX, reply(leg2, '200 OK', 'p2'));
  h.send(PBX, ATTACKER, reply(call, '200 OK', 'pbx1'));
  const alerts = h.finish();
  assert.deepEqual(
    alerts.map((a) => a.source?.ip),
    [ATTACKER],
    'only the caller is blamed',
  );
});

test('the relay link needs an INVITE received by that same address: a stranger copying a Via or Call-ID is still a caller', () => {
  const PROVIDER = '203.0.113.90';
  const OTHER = '203.0.113.67';
  const h = harness();
  // The attacker's INVITE went to the PBX, not to OTHER.
  const call = invite(ATTACKER, PBX, '900442071234567');
  h.send(ATTACKER, PBX, call.text);
  const viaAttacker = call.text.split('\n').find((l) => l.startsWith('Via:')) as string;
  const copy = invite(OTHER, PROVIDER, '442071234567', { callId: call.callId });
  const copyText = copy.text.replace(/^(Via: [^\n]*)$/m, `$1\n${viaAttacker}`);
  h.send(OTHER, PROVIDER, copyText);
  h.send(PROVIDER, OTHER, reply({ text: copyText, callId: copy.callId }, '200 OK', 'o1'));
  assert.deepEqual(
    h.finish().map((a) => a.source?.ip),
    [OTHER],
  );
});

test('lab capture: toll fraud with no phone traffic and no challenge blames the attacker only, not the relaying PBX', async () => {
  for (const [file, attacker] of [
    ['sipp-toll-fraud-unseen-pbx-leaky.pcap', '127.0.2.71'],
    ['sipp-toll-fraud-leaky.pcap', '127.0.2.70'],
  ] as const) {
    const path = `test/fixtures/captures/${file}`;
    const book = new AlertBook('default', 'test');
    const engine = new DetectionEngine([callUnauthenticatedAccepted], book, new SiteModel());
    const pipeline = new Pipeline({ listener: engine });
    await readCaptureFile(path, (f) =>
      pipeline.frame(f.linkType, f.data, f.time, { kind: 'capture', file: path, frame: f.frame }),
    );
    pipeline.finish();
    engine.flush();
    const alerts = book.alerts();
    assert.deepEqual(
      alerts.map((a) => a.source?.ip),
      [attacker],
      file,
    );
    assert.deepEqual(
      [...(alerts[0]?.evidence.dialled as string[])].sort(),
      ['+442079460123', '900442071234567'],
      file,
    );
  }
});

test('an undeclared provider delivering a call to a long DID is reported: the documented false positive, fixed by declaring the trunk', () => {
  const PROVIDER = '203.0.113.90';
  const run = (trunks: string[]): AlertJson[] => {
    const h = harness({ trunks });
    const inbound = invite(PROVIDER, PBX, '+442071838750');
    h.send(PROVIDER, PBX, inbound.text);
    h.send(PBX, PROVIDER, reply(inbound, '180 Ringing', 'r'));
    return h.finish();
  };
  assert.equal(run([]).length, 1);
  assert.equal(run([PROVIDER]).length, 0);
});

test('outsideNumber reads E.164, international prefixes and long national numbers, nothing else', () => {
  assert.deepEqual(outsideNumber('+44 20 7183-8750'), { kind: 'e164', digits: '+442071838750' });
  assert.deepEqual(outsideNumber('+442071838750;npdi'), { kind: 'e164', digits: '+442071838750' });
  assert.deepEqual(outsideNumber('00442071838750'), { kind: 'international', digits: '00442071838750' });
  assert.deepEqual(outsideNumber('011442071838750'), { kind: 'international', digits: '011442071838750' });
  assert.deepEqual(outsideNumber('9(555)123-4567'), { kind: 'national', digits: '95551234567' });
  assert.deepEqual(outsideNumber('1234567'), { kind: 'national', digits: '1234567' });
  assert.equal(outsideNumber('123456'), undefined);
  assert.equal(outsideNumber('1234567', 8), undefined, 'the threshold is configurable');
  for (const s of [
    '',
    '101',
    '*97',
    '#31#',
    '+123',
    'alice',
    '00',
    '1'.repeat(80),
    '+44a2071838750',
    '0044x',
  ]) {
    assert.equal(outsideNumber(s), undefined, s);
  }
});

test('the lab captures raise nothing: the trunk call, the authenticated call, the INVITE flood and scans', async () => {
  const files = [
    'benign-trunk-call-hardened.pcap',
    'benign-call-udp-leaky.pcap',
    'benign-call-tcp-3cx.pcap',
    'sipp-flood-invite-leaky.pcap',
    'svwar-invite-leaky.pcap',
    'svwar-invite-3cx.pcap',
  ];
  for (const file of files) {
    const path = `test/fixtures/captures/${file}`;
    const book = new AlertBook('default', 'test');
    const engine = new DetectionEngine([callUnauthenticatedAccepted], book, new SiteModel());
    const pipeline = new Pipeline({ listener: engine });
    await readCaptureFile(path, (f) =>
      pipeline.frame(f.linkType, f.data, f.time, { kind: 'capture', file: path, frame: f.frame }),
    );
    pipeline.finish();
    engine.flush();
    assert.ok((pipeline.summary.requests.INVITE ?? 0) > 0, `${file} has INVITEs`);
    assert.deepEqual(book.alerts(), [], file);
  }
});

test('fuzz: random INVITE dialogs and garbage never throw, and the per-source evidence stays bounded', () => {
  const h = harness();
  let seed = 11;
  const rnd = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % n;
  };
  const statuses = [
    '100 Trying',
    '180 Ringing',
    '183 Session Progress',
    '200 OK',
    '401 Unauthorized',
    '407 Proxy Authentication Required',
    '486 Busy Here',
  ];
  for (let i = 0; i < 1500; i++) {
    const from = rnd(3) === 0 ? ATTACKER : `203.0.113.${rnd(200)}`;
    const user = rnd(2) === 0 ? `00${rnd(1e9)}${rnd(1e4)}` : `${rnd(1000)}`;
    const inv = invite(from, PBX, user, { auth: rnd(4) === 0 });
    h.send(from, PBX, rnd(10) === 0 ? inv.text.slice(0, rnd(inv.text.length)) : inv.text);
    for (let j = rnd(4); j > 0; j--)
      h.send(PBX, from, reply(inv, statuses[rnd(statuses.length)] as string, `t${i}`));
  }
  const alerts = h.finish();
  assert.ok(alerts.length > 0);
  for (const a of alerts) {
    assert.ok((a.evidence.dialled as string[]).length <= 20);
    assert.ok((a.evidence.frames as number[]).length <= 20);
  }
  const main = alerts.find((a) => a.source?.ip === ATTACKER);
  assert.ok(
    main !== undefined && (main.evidence.numbersTotal as number) > 20,
    'more numbers than shown are counted',
  );
});

test('the INVITEs each address received leave the relay table once past the relay window', () => {
  const expired = (): number => tableTotals().get('call.unauthenticated-accepted.received')?.expirations ?? 0;
  const before = expired();
  const h = ruleHarness(callUnauthenticatedAccepted);
  // 300 calls to the PBX, one a second: each is remembered by branch and by Call-ID for 32 s.
  for (let i = 0; i < 300; i++) {
    const caller = `192.0.2.${(i % 200) + 1}`;
    h.send(
      T0 + i * 1000,
      caller,
      PBX,
      `INVITE sip:0044201234567@${PBX} SIP/2.0\nVia: SIP/2.0/UDP ${caller}:5060;branch=z9hG4bKsw${i}\n` +
        `Max-Forwards: 70\nFrom: <sip:1${i}@${caller}>;tag=t${i}\nTo: <sip:0044201234567@${PBX}>\n` +
        `Call-ID: sw${i}@${caller}\nCSeq: 1 INVITE\nContact: <sip:1${i}@${caller}>\nContent-Length: 0\n\n`,
    );
  }
  h.finish();
  // Swept as later INVITEs came in (two keys looked at per INVITE, so a key still fresh when the
  // sweep passes it waits one more round): all but at most the last two windows' worth.
  const swept = expired() - before;
  assert.ok(swept >= 2 * (300 - 2 * 33) && swept <= 2 * (300 - 32), `swept ${swept}`);
});
