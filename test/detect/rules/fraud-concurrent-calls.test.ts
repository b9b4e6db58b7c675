import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TRACK_DIALOG_IDLE_TIMEOUT_MS } from '../../../src/config/limits.js';
import { fraudConcurrentCalls } from '../../../src/detect/rules/fraud-concurrent-calls.js';
import { DEFAULT_SITE, SiteModel } from '../../../src/detect/site.js';
import { ruleHarness } from '../../helpers/rule-harness.js';
import { call, PBX, PHONE, T0, TRUNK, type Invite, type Sender } from '../../helpers/call-traffic.js';

const site = new SiteModel({ ...DEFAULT_SITE, pbx: [PBX], trunks: [TRUNK] });

function bye(h: Sender, t: number, inv: Invite, from: string, to: string): void {
  h.send(
    t,
    from,
    to,
    [
      `BYE sip:101@${to} SIP/2.0`,
      `Via: SIP/2.0/UDP ${from}:5060;branch=z9hG4bK-bye-${inv.callId}`,
      `From: <sip:${inv.user}@${inv.to}>;tag=x1`,
      `To: <sip:101@${inv.to}>;tag=${inv.fromTag}`,
      `Call-ID: ${inv.callId}`,
      'CSeq: 2 BYE',
      'Content-Length: 0',
      '',
      '',
    ].join('\n'),
  );
}

test('eleven answered calls up at once for one extension and source are high', () => {
  const h = ruleHarness(fraudConcurrentCalls, {}, site);
  for (let i = 0; i < 11; i++)
    call(h, T0 + i * 100, PHONE, PBX, `+3314268120${i}`, ['180 Ringing', '200 OK'], { auth: '101' });
  const alerts = h.finish();
  assert.equal(alerts.length, 2, 'one per extension, one per source');
  const byKey = new Map(alerts.map((a) => [a.evidence.group as string, a]));
  const ext = byKey.get('extension 101')!;
  assert.equal(ext.rule, 'fraud.concurrent-calls');
  assert.equal(ext.severity, 'high');
  assert.equal(ext.count, 11);
  assert.equal(ext.evidence.limit, 10);
  assert.equal((ext.evidence.dialled as string[]).length, 11);
  assert.equal(ext.title, '11 simultaneous calls for extension 101 (limit 10)');
  assert.ok(byKey.has(`source ${PHONE}`));
});

test('calls that end, unanswered calls and sequential calls stay under the limit', () => {
  const h = ruleHarness(fraudConcurrentCalls, {}, site);
  for (let i = 0; i < 30; i++) {
    const inv = call(h, T0 + i * 1000, PHONE, PBX, `+3314268120${i}`, ['180 Ringing', '200 OK'], {
      auth: '101',
    });
    bye(h, T0 + i * 1000 + 500, inv, PBX, PHONE);
  }
  for (let i = 0; i < 20; i++)
    call(h, T0 + 40_000 + i, PHONE, PBX, `+3314268121${i}`, ['180 Ringing', '486 Busy Here'], {
      auth: '101',
    });
  assert.deepEqual(h.finish(), []);
});

test('calls whose BYE was lost expire, and stop counting', () => {
  const h = ruleHarness(fraudConcurrentCalls, {}, site);
  for (let i = 0; i < 8; i++) call(h, T0 + i, PHONE, PBX, `+3314268120${i}`, ['200 OK'], { auth: '101' });
  const later = T0 + TRACK_DIALOG_IDLE_TIMEOUT_MS + 60_000;
  for (let i = 0; i < 8; i++) call(h, later + i, PHONE, PBX, `+3314268130${i}`, ['200 OK'], { auth: '101' });
  assert.deepEqual(h.finish(), []);
});

test('the PBX and trunks are counted per trunk with their own limit', () => {
  const h = ruleHarness(
    fraudConcurrentCalls,
    { 'fraud.concurrent-calls': { thresholds: { maxPerTrunk: 3 } } },
    site,
  );
  for (let i = 0; i < 4; i++) call(h, T0 + i, PBX, TRUNK, `+3314268120${i}`, ['200 OK']);
  for (let i = 0; i < 3; i++) call(h, T0 + 100 + i, TRUNK, PBX, `+44207183875${i}`, ['200 OK']);
  const alerts = h.finish();
  assert.equal(alerts.length, 1);
  assert.equal(alerts[0]!.evidence.group, `trunk ${TRUNK}`);
  assert.equal(alerts[0]!.count, 7);
});

test('fuzz: random call ends and answers never throw, open counts never go negative', () => {
  const h = ruleHarness(fraudConcurrentCalls, {}, site);
  let state = 5;
  const rnd = (): number => (state = (state * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const open: Invite[] = [];
  for (let i = 0; i < 300; i++) {
    if (open.length > 0 && rnd() < 0.5) {
      const inv = open.splice(Math.floor(rnd() * open.length), 1)[0]!;
      assert.doesNotThrow(() => bye(h, T0 + i * 10, inv, rnd() < 0.5 ? PBX : PHONE, PHONE));
    } else {
      const inv = call(
        h,
        T0 + i * 10,
        PHONE,
        PBX,
        `+331426${i}`,
        rnd() < 0.7 ? ['200 OK'] : ['404 Not Found'],
        { auth: '101' },
      );
      open.push(inv);
    }
  }
  const alerts = h.finish();
  for (const a of alerts) assert.ok((a.evidence.concurrent as number) > 0);
});
