/**
 * crypto.predictable-identifiers: SIPp's sequential Call-IDs, branches and tags are reported (low,
 * naming SIPp; info for a source that only sent OPTIONS) once per source per window; phones' random
 * values, REGISTER refreshes and relayed requests are not.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { DETECT_IDENTIFIER_MAX_SOURCES } from '../../../src/config/limits.js';
import type { AlertJson } from '../../../src/core/alert.js';
import { AlertBook } from '../../../src/detect/alert-book.js';
import { DetectionEngine } from '../../../src/detect/engine.js';
import type { RuleModule } from '../../../src/detect/rule.js';
import {
  cryptoPredictableIdentifiers,
  IdentifierDetector,
} from '../../../src/detect/rules/crypto-predictable-identifiers.js';
import { SiteModel } from '../../../src/detect/site.js';
import { Pipeline } from '../../../src/pipeline.js';
import type { SipEvent } from '../../../src/track/sip-event.js';
import { analyzeCapture } from '../../helpers/analyze-capture.js';
import { unitEvent } from '../../helpers/rule-harness.js';

const PBX = '198.51.100.30';
const T0 = Date.UTC(2026, 10, 24, 12, 0, 0);

function harness() {
  const revisions: AlertJson[] = [];
  const book = new AlertBook('default', 'test', (a) => revisions.push(a));
  let detector: IdentifierDetector | undefined;
  const rule: RuleModule = {
    meta: cryptoPredictableIdentifiers.meta,
    create: (ctx) => (detector = cryptoPredictableIdentifiers.create(ctx) as IdentifierDetector),
  };
  const engine = new DetectionEngine([rule], book, new SiteModel());
  const pipeline = new Pipeline({ listener: engine });
  let frame = 0;
  return {
    revisions,
    detector: detector as unknown as IdentifierDetector,
    /** One request from `src` with these identifiers (and extra Vias below its own). */
    request(
      time: number,
      src: string,
      o: { callId: string; branch: string; tag: string; method?: string; below?: string[]; ua?: string },
    ): number {
      const method = o.method ?? 'OPTIONS';
      const vias = [`Via: SIP/2.0/UDP ${src}:5060;branch=${o.branch}`, ...(o.below ?? [])];
      const text =
        `${method} sip:100@${PBX} SIP/2.0\r\n${vias.join('\r\n')}\r\nMax-Forwards: 70\r\nFrom: <sip:200@${PBX}>;tag=${o.tag}\r\n` +
        `To: <sip:100@${PBX}>\r\nCall-ID: ${o.callId}\r\nCSeq: 1 ${method}\r\n${o.ua === undefined ? '' : `User-Agent: ${o.ua}\r\n`}Content-Length: 0\r\n\r\n`;
      frame++;
      pipeline.sipFrame({
        time,
        srcIp: src,
        srcPort: 5060,
        dstIp: PBX,
        dstPort: 5060,
        transport: 'udp',
        provenance: { kind: 'capture', file: 'unit', frame },
        data: Buffer.from(text, 'latin1'),
      });
      return frame;
    },
    finish(): AlertJson[] {
      pipeline.finish();
      engine.flush();
      return book.alerts();
    },
  };
}

function prng(seed: number): (n: number) => string {
  let x = seed >>> 0;
  return (n) => {
    let out = '';
    for (let i = 0; i < n; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      x >>>= 0;
      out += (x & 0xff).toString(16).padStart(2, '0');
    }
    return out;
  };
}

test("SIPp's sequential Call-IDs, branches and tags are predictable: one low alert for the source", () => {
  const h = harness();
  const frames: number[] = [];
  for (let i = 1; i <= 40; i++) {
    frames.push(
      h.request(T0 + i * 100, '192.0.2.40', {
        callId: `${i}-12345@192.0.2.40`,
        branch: `z9hG4bK-12345-${i}-0`,
        tag: `12345SIPpTag00${i}`,
        ua: 'SIPp',
        method: 'INVITE',
      }),
    );
  }
  const alerts = h.finish();
  assert.equal(alerts.length, 1);
  const a = alerts[0] as AlertJson;
  assert.equal(a.rule, 'crypto.predictable-identifiers');
  assert.equal(a.severity, 'low');
  assert.match(String(a.evidence.generator), /^SIPp \(Call-ID <call number>-<pid>@<host>/);
  assert.equal(a.evidence.optionsOnly, undefined);
  assert.deepEqual(a.evidence.methods, { INVITE: 8 });
  assert.equal(a.source?.ip, '192.0.2.40');
  assert.equal(a.title, 'Predictable Call-ID, branch, From tag values from 192.0.2.40');
  assert.deepEqual(a.evidence.flagged, ['callId', 'branch', 'fromTag']);
  const fields = a.evidence.fields as Record<
    string,
    { verdict: string; examples: string[]; distinctValues: number }
  >;
  assert.equal(fields.callId?.verdict, 'sequential');
  assert.equal(fields.callId?.distinctValues, 8, 'judged at the eighth value');
  assert.deepEqual(fields.callId?.examples, [
    '6-12345@192.0.2.40',
    '7-12345@192.0.2.40',
    '8-12345@192.0.2.40',
  ]);
  assert.deepEqual(a.evidence.frames, frames.slice(0, 8));
  assert.deepEqual(a.evidence.userAgents, ['SIPp']);
  assert.equal(h.revisions.filter((r) => r.state === 'open').length, 1, 'spoken once in the window');
});

test('a source that only sent OPTIONS is info (nothing to hijack) until it sends another method, then low', () => {
  const h = harness();
  // A SIPp OPTIONS pinger: SIPp's shapes, only OPTIONS.
  for (let i = 1; i <= 12; i++) {
    h.request(T0 + i * 1000, '192.0.2.41', {
      callId: `${i}-777@192.0.2.41`,
      branch: `z9hG4bK-777-${i}-0`,
      tag: `777o${i}`,
    });
  }
  const first = h.revisions.filter((r) => r.source?.ip === '192.0.2.41');
  assert.equal(first.length, 1);
  assert.equal(first[0]?.severity, 'info');
  assert.equal(first[0]?.evidence.optionsOnly, true);
  assert.match(String(first[0]?.evidence.generator), /^SIPp/);
  // The same source now places a call: its predictable identifiers matter, the alert rises to low.
  h.request(T0 + 20_000, '192.0.2.41', {
    callId: '13-777@192.0.2.41',
    branch: 'z9hG4bK-777-13-0',
    tag: '777o13',
    method: 'INVITE',
  });
  // A counter that is not SIPp's shape, from INVITEs: low, and SIPp is not named.
  for (let i = 1; i <= 12; i++) {
    h.request(T0 + 30_000 + i * 1000, '192.0.2.42', {
      callId: `call${1000 + i}`,
      branch: `z9hG4bKbr${1000 + i}`,
      tag: `t${1000 + i}`,
      method: 'INVITE',
    });
  }
  const alerts = h.finish();
  const pinger = alerts.find((a) => a.source?.ip === '192.0.2.41') as AlertJson;
  assert.equal(pinger.severity, 'low');
  const open = h.revisions.filter((r) => r.source?.ip === '192.0.2.41' && r.state === 'open');
  assert.deepEqual(
    open.map((r) => r.severity),
    ['info', 'low'],
    'one more revision when the severity rose',
  );
  assert.equal(pinger.evidence.optionsOnly, false);
  assert.deepEqual(pinger.evidence.methods, { OPTIONS: 12, INVITE: 1 });
  const counter = alerts.find((a) => a.source?.ip === '192.0.2.42') as AlertJson;
  assert.equal(counter.severity, 'low');
  assert.equal(counter.evidence.generator, undefined, 'not SIPp-shaped: no tool named');
  assert.equal(alerts.length, 2);
});

test("a phone's random tags, branches and UUID Call-IDs are not predictable; REGISTER refreshes count once", () => {
  const h = harness();
  const rnd = prng(99);
  const regCallId = `${rnd(16)}@192.0.2.41`;
  for (let i = 0; i < 60; i++) {
    const uuid = rnd(16);
    // Every other request is a REGISTER refresh: same Call-ID, new branch and tag.
    const callId =
      i % 2 === 0
        ? regCallId
        : `${uuid.slice(0, 8)}-${uuid.slice(8, 12)}-${uuid.slice(12, 16)}-${uuid.slice(16, 20)}-${uuid.slice(20)}`;
    h.request(T0 + i * 30_000, '192.0.2.41', {
      method: i % 2 === 0 ? 'REGISTER' : 'INVITE',
      callId,
      branch: `z9hG4bK${rnd(6)}`,
      tag: rnd(4),
    });
  }
  // Asterisk-style and decimal tags from two more phones.
  for (let i = 0; i < 30; i++) {
    h.request(T0 + i * 1000, '192.0.2.42', {
      callId: `${rnd(12)}@pbx`,
      branch: `z9hG4bK-524287-1---${rnd(8)}`,
      tag: `as${rnd(4)}`,
    });
    h.request(T0 + i * 1000, '192.0.2.43', {
      callId: String(parseInt(rnd(4), 16)),
      branch: `z9hG4bK${parseInt(rnd(4), 16)}`,
      tag: String(parseInt(rnd(4), 16)),
    });
  }
  assert.deepEqual(h.finish(), []);
});

test('requests relayed by a proxy (more than one Via) are not judged against the proxy', () => {
  const h = harness();
  for (let i = 1; i <= 30; i++) {
    h.request(T0 + i * 100, '198.51.100.31', {
      callId: `${i}-777@192.0.2.50`,
      branch: `z9hG4bKproxy${prng(i)(8)}`,
      tag: `777SIPpTag00${i}`,
      below: [`Via: SIP/2.0/UDP 192.0.2.50:5060;branch=z9hG4bK-777-${i}-0`],
    });
  }
  assert.deepEqual(h.finish(), []);
});

test('low-entropy tags (16 random bits) are flagged; a new window speaks again', () => {
  const h = harness();
  const rnd = prng(5);
  for (let i = 0; i < 20; i++)
    h.request(T0 + i * 1000, '192.0.2.44', {
      callId: `${rnd(16)}@x`,
      branch: `z9hG4bK${rnd(8)}`,
      tag: rnd(2),
    });
  // Two hours of silence, then the same device again: a new window, a new alert.
  for (let i = 0; i < 20; i++)
    h.request(T0 + 7_200_000 + i * 1000, '192.0.2.44', {
      callId: `${rnd(16)}@x`,
      branch: `z9hG4bK${rnd(8)}`,
      tag: rnd(2),
    });
  const alerts = h.finish();
  assert.equal(alerts.length, 2);
  for (const a of alerts) {
    assert.deepEqual(a.evidence.flagged, ['fromTag']);
    const tag = (a.evidence.fields as Record<string, { verdict: string; estimatedRandomBits: number }>)
      .fromTag;
    assert.equal(tag?.verdict, 'low-entropy');
    assert.ok((tag?.estimatedRandomBits ?? 99) < 24);
  }
  assert.notEqual(alerts[0]?.id, alerts[1]?.id);
});

test('fuzz and bounds: garbage identifiers never throw; sources past the bound are refused, not grown', () => {
  const h = harness();
  const rnd = prng(17);
  for (let i = 0; i < 1500; i++) {
    const junk = Buffer.from(rnd(1 + (i % 40)), 'hex')
      .toString('latin1')
      .replace(/[\r\n;,<>"\\ ]/g, 'z');
    h.request(T0 + i, `10.0.${(i >> 8) & 255}.${i & 7}`, {
      callId: junk || 'c',
      branch: `z9hG4bK${junk}`,
      tag: junk || 't',
    });
  }
  for (const a of h.finish()) assert.equal(a.rule, 'crypto.predictable-identifiers');
  // Past the bound: one event from each of many new sources (events built once, not parsed again).
  const d = h.detector;
  const ev = sampleEvent();
  for (let i = 0; i < DETECT_IDENTIFIER_MAX_SOURCES + 2000; i++) {
    d.onMessage(
      {
        ...ev,
        frame: { ...ev.frame, srcIp: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` },
        time: T0 + 10_000 + i,
        callId: `c${i}`,
      },
      undefined,
      false,
    );
  }
  assert.ok(d.sizes().sources <= DETECT_IDENTIFIER_MAX_SOURCES, `sources ${d.sizes().sources}`);
  assert.ok(d.sizes().sources > DETECT_IDENTIFIER_MAX_SOURCES / 2);
});

function sampleEvent(): SipEvent {
  return unitEvent(
    T0,
    '10.0.0.1',
    PBX,
    `OPTIONS sip:100@${PBX} SIP/2.0\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKx\nFrom: <sip:a@b>;tag=t\nTo: <sip:c@d>\nCall-ID: c\nCSeq: 1 OPTIONS\nContent-Length: 0\n\n`,
  );
}

// ── lab captures ──────────────────────────────────────────────────────────────────────────────

const CAPTURES = 'test/fixtures/captures';
const lab = JSON.parse(readFileSync(`${CAPTURES}/expected.json`, 'utf8')) as {
  addresses: { pbx: Record<string, string> };
  captures: { file: string; tool: string; attackers: string[] }[];
};
const PBXS = new Set(Object.values(lab.addresses.pbx));

test('lab captures: SIPp sources are reported (low, info for OPTIONS-only pingers), the PBX never is, nothing above low', async () => {
  let sipp = 0;
  let pingers = 0;
  for (const c of lab.captures) {
    const alerts = await analyzeCapture(`${CAPTURES}/${c.file}`, [cryptoPredictableIdentifiers]);
    for (const a of alerts) {
      const optionsOnly = a.evidence.optionsOnly === true;
      if (optionsOnly) pingers++;
      assert.equal(a.severity, optionsOnly ? 'info' : 'low', `${c.file}: ${a.title}`);
      assert.ok(!PBXS.has(a.source?.ip ?? ''), `${c.file}: the PBX is not blamed for relayed values`);
    }
    if (c.file.startsWith('sipp-flood-')) {
      assert.ok(
        alerts.some(
          (a) =>
            c.attackers.includes(a.source?.ip ?? '') &&
            (a.evidence.flagged as string[]).includes('callId') &&
            String(a.evidence.generator).startsWith('SIPp'),
        ),
        `${c.file}: SIPp's Call-IDs`,
      );
      sipp++;
    }
  }
  assert.ok(sipp >= 2, 'SIPp flood captures present');
  // benign-options-keepalive-*: SIPp options-ping.xml phones that only ping.
  assert.ok(pingers >= 2, `OPTIONS-only SIPp pingers are info (${pingers})`);
});

test('a source judged healthy on every field stays so for its window; a new window judges again', () => {
  const h = harness();
  const rnd = prng(7);
  const SRC = '192.0.2.60';
  // Enough distinct random values for every field to be judged healthy on a full ring.
  let t = T0;
  for (let i = 0; i < 40; i++) {
    t += 1000;
    h.request(t, SRC, {
      callId: `${rnd(16)}@${SRC}`,
      branch: `z9hG4bK${rnd(8)}`,
      tag: rnd(6),
      method: 'INVITE',
    });
  }
  // Then counters, within the same window: the fields are no longer sampled.
  for (let i = 1; i <= 20; i++) {
    t += 1000;
    h.request(t, SRC, {
      callId: `${i}-1@${SRC}`,
      branch: `z9hG4bK-1-${i}-0`,
      tag: `1t${i}`,
      method: 'INVITE',
    });
  }
  assert.deepEqual(h.revisions, []);
  // After an idle gap longer than the window, the counters are judged from scratch.
  t += 3_600_000 + 1000;
  for (let i = 21; i <= 40; i++) {
    t += 1000;
    h.request(t, SRC, {
      callId: `${i}-1@${SRC}`,
      branch: `z9hG4bK-1-${i}-0`,
      tag: `1t${i}`,
      method: 'INVITE',
    });
  }
  const alerts = h.finish();
  assert.equal(alerts.length, 1);
  assert.equal(alerts[0]?.source?.ip, SRC);
  assert.deepEqual(alerts[0]?.evidence.methods, { INVITE: 8 });
  assert.deepEqual(alerts[0]?.evidence.flagged, ['callId', 'branch', 'fromTag']);
});
