/**
 * The fraud rules from CDRs alone: every fixture of test/fixtures/cdr run through `analyze --cdr`
 * with the site of expected.json validated by the configuration loader, each `mustRaise` raised
 * (rule and caller), nothing else where the list is exhaustive, nothing at or above
 * `mustNotRaiseAtOrAbove` on the benign day; and a call seen both on the wire and in a CDR counted
 * once. fraud.call-volume may or may not speak: its baseline is another matter.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { analyzeFiles } from '../../src/cli/analyze.js';
import { parseConfig, type Config } from '../../src/config/config.js';
import { severityRank, type AlertJson, type Severity } from '../../src/core/alert.js';
import { THREECX_DEFAULT_FIELDS } from '../../src/cdr/3cx.js';
import { ethernet, ipPacket, pcapFile, udp } from '../helpers/pcap-writer.js';

const DIR = 'test/fixtures/cdr';

interface Expected {
  readonly line: number;
  readonly caller?: string;
  readonly dialled?: string;
  readonly answer?: string;
  readonly end?: string;
  readonly start?: string;
}

interface FixtureFile {
  readonly options: Record<string, unknown>;
  readonly expected: readonly Expected[];
  readonly mustRaise: readonly { rule: string; caller: string; why: string }[];
  readonly mustNotRaiseAtOrAbove?: Severity;
  readonly exhaustive?: boolean;
}

const EXPECTED = JSON.parse(readFileSync(`${DIR}/expected.json`, 'utf8')) as {
  site: Record<string, unknown>;
  files: Record<string, FixtureFile>;
};

/** Not this suite's: call volume learns a baseline and may speak on any file. */
const NOT_JUDGED = 'fraud.call-volume';

/** The site of expected.json with a file's CDR options, through the product's configuration loader. */
function siteConfig(cdr: Record<string, unknown>): Config {
  // JSON is YAML: the loader validates it exactly as a configuration file.
  return parseConfig(JSON.stringify({ ...EXPECTED.site, cdr }), 'expected.json site');
}

async function alertsOf(
  config: Config,
  captures: string[],
  cdrPath: string,
): Promise<{
  alerts: AlertJson[];
  errors: string[];
  counted: number | undefined;
  read: number | undefined;
}> {
  const r = await analyzeFiles(captures, { config, cdr: [{ product: '3cx', path: cdrPath }] });
  const alerts = r.document.alerts;
  const input = r.document.summary.inputs.find((i) => i.file === cdrPath);
  r.dispose();
  return { alerts, errors: r.errors, counted: input?.cdrCallsCounted, read: input?.cdrCalls };
}

/** The most calls of `caller` up at once, by brute force over the expected records. */
function bruteForcePeak(records: readonly Expected[], caller: string): number {
  const iv = records
    .filter((r) => r.caller === caller && r.answer !== undefined && r.end !== undefined)
    .map((r) => [Date.parse(r.answer!), Date.parse(r.end!)] as const);
  let best = 0;
  for (const [t] of iv) best = Math.max(best, iv.filter(([a, e]) => a <= t && e > t).length);
  return best;
}

describe('fraud rules from CDRs alone (test/fixtures/cdr)', () => {
  for (const [name, f] of Object.entries(EXPECTED.files)) {
    it(`${name}: raises what expected.json requires${f.exhaustive === true ? ', and nothing else' : ''}`, async () => {
      const path = `${DIR}/${name}`;
      const { alerts, errors, counted, read } = await alertsOf(siteConfig(f.options), [], path);
      assert.deepEqual(errors, []);
      const calls = f.expected.filter((e) => e.caller !== undefined).length;
      assert.equal(read, calls, 'every call line reached detection');
      assert.equal(counted, calls, 'no wire copies to drop');
      const judged = alerts.filter((a) => a.rule !== NOT_JUDGED);
      for (const m of f.mustRaise) {
        assert.ok(
          judged.some((a) => a.rule === m.rule && a.target?.identity === m.caller),
          `${m.rule} for ${m.caller} (${m.why}); raised: ${judged.map((a) => `${a.rule}/${a.target?.identity}`).join(', ')}`,
        );
      }
      if (f.exhaustive === true) {
        for (const a of judged) {
          assert.ok(
            f.mustRaise.some((m) => m.rule === a.rule && m.caller === a.target?.identity),
            `unexpected ${a.rule} for ${a.target?.identity}: ${a.title}`,
          );
        }
      }
      if (f.mustNotRaiseAtOrAbove !== undefined) {
        const floor = severityRank(f.mustNotRaiseAtOrAbove);
        const loud = judged.filter((a) => severityRank(a.severity) >= floor);
        assert.deepEqual(
          loud.map((a) => a.title),
          [],
          `nothing at ${f.mustNotRaiseAtOrAbove} or above`,
        );
      }
      for (const a of judged) {
        // A CDR names no address: no source, and the evidence says where the records were read.
        assert.equal(a.source, undefined, a.title);
        const records = a.evidence.cdrRecords as string[];
        assert.ok(records.length > 0, a.title);
        for (const r of records) assert.match(r, new RegExp(`^${DIR}/${name.replace('.', '\\.')}:\\d+$`));
        const lines = new Set(f.expected.map((e) => e.line));
        for (const r of records) assert.ok(lines.has(Number(r.split(':').pop())), `${r} is a call line`);
      }
    });
  }

  it('the toll-fraud night from CDRs alone: fraud.call-volume past a site cap of 20 calls an hour', async () => {
    const name = '3cx-v18-toll-fraud-night.log';
    const f = EXPECTED.files[name]!;
    const config = parseConfig(
      JSON.stringify({
        ...EXPECTED.site,
        cdr: f.options,
        rules: { 'fraud.call-volume': { thresholds: { callsPerHour: 20 } } },
      }),
      'expected.json site with a cap',
    );
    const { alerts } = await alertsOf(config, [], `${DIR}/${name}`);
    const volume = alerts.filter((a) => a.rule === 'fraud.call-volume');
    // Ext.107 dials 24 numbers in a few minutes; no other caller reaches 20 calls in an hour.
    assert.equal(volume.length, 1, volume.map((a) => a.title).join('; '));
    assert.match(volume[0]!.title, /calls in an hour for extension 107 \(cap 20\)/);
    assert.equal(volume[0]!.source, undefined, 'a CDR names no address');
    assert.ok(volume[0]!.count >= 20);
  });

  it('the toll-fraud night: the numbers behind each alert', async () => {
    const name = '3cx-v18-toll-fraud-night.log';
    const f = EXPECTED.files[name]!;
    const { alerts } = await alertsOf(siteConfig(f.options), [], `${DIR}/${name}`);
    const one = (rule: string, caller: string): AlertJson => {
      const found = alerts.filter((a) => a.rule === rule && a.target?.identity === caller);
      assert.equal(found.length, 1, `${rule} ${caller}`);
      return found[0]!;
    };
    const probe = one('fraud.prefix-probing', 'Ext.105');
    assert.equal(probe.target?.extension, '+252615550101');
    // 0 and the bare number read as German numbers under the dial plan: other targets. 011 is not
    // this German site's prefix either: 011... and 9 011... read as (possible) German numbers.
    assert.deepEqual([...(probe.evidence.forms as string[])].sort(), ['+', '00', '9 +', '9 00']);
    assert.equal(probe.firstSeen, f.expected[0]!.start, 'first seen at the first attempt');

    const conc = one('fraud.concurrent-calls', 'Ext.105');
    assert.equal(conc.evidence.group, 'extension 105');
    assert.equal(conc.count, bruteForcePeak(f.expected, 'Ext.105'));
    assert.ok(conc.count > 10);
    // From CDRs the overlap is known once the calls that make it have ended.
    const ends = f.expected
      .filter((e) => e.caller === 'Ext.105' && e.answer !== undefined)
      .map((e) => e.end!);
    assert.ok(ends.includes(conc.raisedAt), 'raised at the hang-up of a call of the overlap');

    const seq = one('fraud.sequential-dialing', 'Ext.107');
    const dialled = new Set(f.expected.filter((e) => e.caller === 'Ext.107').map((e) => e.dialled));
    assert.equal(seq.count, dialled.size, 'every number of the run counts once');
    assert.deepEqual(seq.evidence.range, ['442079460001', '442079460024']);

    const fwd = one('fraud.premium-destination', '+37120001234');
    assert.equal(fwd.count, 1);
    assert.equal(fwd.target?.extension, '0088163998877');
    assert.deepEqual(fwd.evidence.types, { satellite: 1 });
    const callLine = f.expected.find((e) => e.caller === '+37120001234')!.line;
    assert.deepEqual(fwd.evidence.cdrRecords, [`${DIR}/${name}:${callLine}`]);
    assert.equal((fwd.evidence.callIds as string[]).length, 1);

    const premium = one('fraud.premium-destination', 'Ext.105');
    assert.equal(premium.severity, 'critical');
    // Calls 881/882 satellite and international networks, 979 and Latvian premium-rate: 10 of 14.
    assert.equal(premium.count, 10);
    assert.equal(premium.evidence.answered, 10);
  });
});

describe('a call seen on the wire and in a CDR counts once', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sipwarden-cdr-wire-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  const PHONE = '203.0.113.20';
  const PBX = '198.51.100.2';
  const START = Date.UTC(2026, 2, 14, 1, 30, 0);
  const NUMBER = '+8816123456789';

  /** An INVITE from a phone to a satellite number, ringing and answered: a capture of it. */
  function capture(): string {
    const lines = (first: string, extra: string[]): Buffer =>
      Buffer.from(
        [
          first,
          `Via: SIP/2.0/UDP ${PHONE}:5060;branch=z9hG4bK-cdr1`,
          `From: <sip:105@${PBX}>;tag=f1`,
          `To: <sip:${NUMBER}@${PBX}>${extra.length > 0 ? ';tag=t1' : ''}`,
          'Call-ID: cdr-wire-1@203.0.113.20',
          'CSeq: 1 INVITE',
          `Contact: <sip:105@${PHONE}:5060>`,
          'Content-Length: 0',
          '',
          '',
        ].join('\r\n'),
        'latin1',
      );
    const frame = (from: string, to: string, payload: Buffer): Buffer =>
      ethernet(0x0800, ipPacket(from, to, 17, udp(5060, 5060, payload)));
    const path = join(dir, 'call.pcap');
    writeFileSync(
      path,
      pcapFile([
        { time: START, data: frame(PHONE, PBX, lines(`INVITE sip:${NUMBER}@${PBX} SIP/2.0`, [])) },
        { time: START + 800, data: frame(PBX, PHONE, lines('SIP/2.0 180 Ringing', ['t1'])) },
        { time: START + 6000, data: frame(PBX, PHONE, lines('SIP/2.0 200 OK', ['t1'])) },
      ]),
    );
    return path;
  }

  /** A 3CX line (documented field order, times in UTC) of an answered call from Ext.105. */
  function cdrLine(id: number, dialled: string, start: number, talkMs: number): string {
    const stamp = (t: number): string =>
      new Date(t).toISOString().slice(0, 19).replace('T', ' ').replaceAll('-', '/');
    const answer = start + 6000;
    const s = Math.round(talkMs / 1000);
    const pad = (n: number): string => String(n).padStart(2, '0');
    const values: Record<string, string> = {
      historyid: String(id),
      callid: `00000C21DE5C${id}_1`,
      duration: `${pad(Math.floor(s / 3600))}:${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}`,
      'time-start': stamp(start),
      'time-answered': stamp(answer),
      'time-end': stamp(answer + talkMs),
      'reason-terminated': 'TerminatedBySrc',
      'from-no': 'Ext.105',
      'to-no': dialled,
      'from-dn': '105',
      'to-dn': '10000',
      'dial-no': dialled,
      'from-type': 'Extension',
      'to-type': 'Line',
    };
    return `Call ${THREECX_DEFAULT_FIELDS.map((n) => values[n] ?? '').join(',')}`;
  }

  const config = parseConfig(JSON.stringify({ timeZone: 'UTC', cdr: { timeZone: 'UTC' } }), 'test');

  it('the wire alert stands and the CDR record of the same call is dropped', async () => {
    const cdr = join(dir, 'same.log');
    writeFileSync(cdr, `${cdrLine(500, NUMBER, START, 40 * 60_000)}\r\n`);
    const { alerts, errors, counted, read } = await alertsOf(config, [capture()], cdr);
    assert.deepEqual(errors, []);
    assert.equal(read, 1);
    assert.equal(counted, 0, 'the CDR copies the wire call');
    const premium = alerts.filter((a) => a.rule === 'fraud.premium-destination');
    assert.equal(premium.length, 1);
    assert.equal(premium[0]!.source?.ip, PHONE, 'the wire alert');
    assert.equal(premium[0]!.count, 1);
  });

  it('the same record without the capture raises from the CDR', async () => {
    const cdr = join(dir, 'alone.log');
    writeFileSync(cdr, `${cdrLine(501, NUMBER, START, 40 * 60_000)}\r\n`);
    const { alerts, counted } = await alertsOf(config, [], cdr);
    assert.equal(counted, 1);
    const premium = alerts.filter((a) => a.rule === 'fraud.premium-destination');
    assert.equal(premium.length, 1);
    assert.equal(premium[0]!.source, undefined);
    assert.equal(premium[0]!.target?.identity, 'Ext.105');
    assert.equal(premium[0]!.target?.extension, NUMBER);
  });

  it('a second call the wire did not see still counts from its CDR', async () => {
    const cdr = join(dir, 'two.log');
    writeFileSync(
      cdr,
      [
        cdrLine(502, NUMBER, START, 40 * 60_000),
        // Another satellite number an hour later: no wire copy.
        cdrLine(503, '+8816123450000', START + 3_600_000, 10 * 60_000),
        '',
      ].join('\r\n'),
    );
    const { alerts, counted, read } = await alertsOf(config, [capture()], cdr);
    assert.equal(read, 2);
    assert.equal(counted, 1);
    const fromCdr = alerts.filter((a) => a.rule === 'fraud.premium-destination' && a.source === undefined);
    assert.equal(fromCdr.length, 1);
    assert.equal(fromCdr[0]!.count, 1);
    assert.equal(fromCdr[0]!.target?.extension, '+8816123450000');
  });
});
