// CrowdSec hub parser/scenario tests: their expectations, read from parser.assert / scenario.assert,
// checked against our events for the same log lines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { logParserFor } from '../../src/logs/index.js';
import type { LogEventKind, PbxLogEvent } from '../../src/core/records.js';

const DIR = '../shared/corpus/pbx-logs/crowdsec-hub/tests';

/** CrowdSec sub_type → our kind. */
const SUB_TYPES: Readonly<Record<string, LogEventKind>> = {
  user_enumeration: 'unknown-user',
  acl_reject: 'acl-rejected',
  auth_failure: 'auth-failed',
};

interface Expect {
  success?: boolean;
  fields: Map<string, string>;
}

function readLog(name: string): { kind: string; lines: string[] } {
  const cfg = readFileSync(`${DIR}/${name}/config.yaml`, 'utf8');
  const logFile = /^log_file: (\S+)$/m.exec(cfg)?.[1];
  const logType = /^log_type: (\S+)$/m.exec(cfg)?.[1];
  assert.ok(logFile && logType);
  const lines = readFileSync(`${DIR}/${name}/${logFile}`, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '');
  return { kind: logType, lines };
}

/** `results["s01-parse"]["crowdsecurity/x"][N].Success|Evt.Meta[..]|Evt.Parsed[..]` lines, by N. */
function parserAsserts(name: string): Map<number, Expect> {
  const out = new Map<number, Expect>();
  const re =
    /^results\["s01-parse"\]\["[^"]+"\]\[(\d+)\]\.(?:Success == (true|false)|Evt\.(?:Meta|Parsed)\["(\w+)"\] == "(.*)")$/;
  for (const line of readFileSync(`${DIR}/${name}/parser.assert`, 'utf8').split('\n')) {
    const m = re.exec(line);
    if (m === null) continue;
    const n = Number(m[1]);
    const e = out.get(n) ?? { fields: new Map<string, string>() };
    if (m[2] !== undefined) e.success = m[2] === 'true';
    else e.fields.set(m[3] as string, (m[4] as string).replace(/\\"/g, '"'));
    out.set(n, e);
  }
  return out;
}

/** Dateparse-enrich's `MarshaledTime[4:]` per result index (the year is cut off by CrowdSec). */
function marshaledTimes(name: string): Map<number, string> {
  const out = new Map<number, string>();
  const re =
    /^results\["s02-enrich"\]\["[^"]+"\]\[(\d+)\]\.Evt\.Enriched\["MarshaledTime"\]\[4:\] == "(.*)"$/;
  for (const line of readFileSync(`${DIR}/${name}/parser.assert`, 'utf8').split('\n')) {
    const m = re.exec(line);
    if (m !== null) out.set(Number(m[1]), m[2] as string);
  }
  return out;
}

/** scenario.assert: per-event metas, the event count and the overflow sources. */
function scenarioAsserts(name: string): {
  events: Map<number, Map<string, string>>;
  count?: number;
  sources: string[];
} {
  const events = new Map<number, Map<string, string>>();
  const sources: string[] = [];
  let count: number | undefined;
  for (const line of readFileSync(`${DIR}/${name}/scenario.assert`, 'utf8').split('\n')) {
    let m = /^results\[0\]\.Overflow\.Alert\.Events\[(\d+)\]\.GetMeta\("(\w+)"\) == "(.*)"$/.exec(line);
    if (m !== null) {
      const n = Number(m[1]);
      const f = events.get(n) ?? new Map<string, string>();
      f.set(m[2] as string, m[3] as string);
      events.set(n, f);
      continue;
    }
    m = /^results\[0\]\.Overflow\.Alert\.GetEventsCount\(\) == (\d+)$/.exec(line);
    if (m !== null) count = Number(m[1]);
    m = /^"([^"]+)" in results\[0\]\.Overflow\.GetSources\(\)$/.exec(line);
    if (m !== null) sources.push(m[1] as string);
  }
  return count === undefined ? { events, sources } : { events, count, sources };
}

/** Check one event against CrowdSec's named fields; returns how many fields were compared. */
function checkFields(ev: PbxLogEvent, fields: Map<string, string>, where: string): number {
  let n = 0;
  for (const [k, v] of fields) {
    switch (k) {
      case 'source_ip':
      case 'remote_ip':
        assert.equal(ev.srcIp, v, `${where} ${k}`);
        n++;
        break;
      case 'source_port':
        assert.equal(ev.srcPort, Number(v), `${where} ${k}`);
        n++;
        break;
      case 'target_user':
      case 'username':
        // CrowdSec keeps Asterisk's "<unknown>" placeholder; we leave identity unset for it.
        assert.equal(ev.identity, v === '<unknown>' ? undefined : v, `${where} ${k}`);
        n++;
        break;
      case 'sub_type':
        assert.equal(ev.kind, SUB_TYPES[v], `${where} ${k}`);
        n++;
        break;
      case 'asterisk_service':
        assert.equal(ev.service, v, `${where} ${k}`);
        n++;
        break;
      case 'log_type':
        assert.equal(v, 'asterisk_failed_auth');
        assert.ok(ev.kind === 'auth-failed' || ev.kind === 'unknown-user', `${where} ${k}: ${ev.kind}`);
        n++;
        break;
      case 'timestamp':
        // FreeSWITCH scenario events: `2023-03-06T15:13:23.504993Z` — compare to the millisecond.
        if (/^\d{4}-\d\d-\d\dT/.test(v)) {
          assert.equal(new Date(ev.time).toISOString().slice(0, 23), v.slice(0, 23), `${where} ${k}`);
          n++;
        }
        break;
      default:
        break;
    }
  }
  return n;
}

const CTX = { timeZone: 'UTC', year: 2021, fallbackTime: 0 };

test('CrowdSec corpus: the eight hub tests are all present', () => {
  assert.deepEqual(readdirSync(DIR).sort(), [
    'asterisk-bf',
    'asterisk-logs',
    'asterisk-syslogs',
    'asterisk-user-enum',
    'freeswitch',
    'freeswitch-acl-reject',
    'freeswitch-bf',
    'freeswitch-user-enumeration',
  ]);
});

for (const name of ['asterisk-logs', 'asterisk-syslogs', 'freeswitch']) {
  test(`CrowdSec ${name}: parser.assert — which lines parse and their fields`, () => {
    const { kind, lines } = readLog(name);
    // asterisk-syslogs has log_type `syslog`: the product is in the test's name.
    const parser = logParserFor(kind) ?? logParserFor(name.split('-')[0] as string);
    assert.ok(parser);
    const expects = parserAsserts(name);
    assert.ok(expects.size > 0);
    // s02-enrich results are numbered over the lines that s01 parsed, not over all lines.
    const parsedLines = [...expects]
      .filter(([, e]) => e.success !== false)
      .map(([n]) => n)
      .sort((a, b) => a - b);
    const times = new Map([...marshaledTimes(name)].map(([i, t]) => [parsedLines[i] ?? -1, t]));
    const ctx = { ...CTX, year: name === 'asterisk-syslogs' ? 2024 : 2021 };
    let compared = 0;
    for (const [n, e] of expects) {
      const line = lines[n];
      assert.ok(line !== undefined, `${name}[${n}] exists`);
      const ev = parser.parse(line, n + 1, ctx);
      if (e.success === false) {
        assert.equal(ev, undefined, `${name}[${n}] must not parse`);
        continue;
      }
      assert.ok(ev, `${name}[${n}] must parse: ${line}`);
      compared += checkFields(ev, e.fields, `${name}[${n}]`);
      const t = times.get(n);
      if (t !== undefined) {
        assert.equal(`${new Date(ev.time).toISOString().slice(4, 19)}Z`, t, `${name}[${n}] time`);
        compared++;
      }
    }
    assert.ok(compared >= 10, `${name}: ${compared} fields compared`);
  });
}

test('CrowdSec asterisk-syslogs: ChallengeSent (index 2) is the one line that does not parse', () => {
  const { lines } = readLog('asterisk-syslogs');
  const parser = logParserFor('asterisk');
  assert.ok(parser);
  const results = lines.map((l, i) => parser.parse(l, i + 1, { ...CTX, year: 2024 }));
  assert.deepEqual(
    results.map((r) => r?.kind),
    ['auth-failed', 'unknown-user', undefined, 'unknown-user', 'auth-failed', 'unknown-user'],
  );
  assert.ok((lines[2] as string).includes('SecurityEvent="ChallengeSent"'));
  // syslog prefix `Jul 08 22:25:10 alba asterisk[112836]:` gives the time (no stamp of Asterisk's own)
  assert.equal(results[0]?.time, Date.UTC(2024, 6, 8, 22, 25, 10));
  assert.equal(results[5]?.transport, 'tls');
});

for (const name of [
  'asterisk-bf',
  'asterisk-user-enum',
  'freeswitch-bf',
  'freeswitch-user-enumeration',
  'freeswitch-acl-reject',
]) {
  test(`CrowdSec ${name}: scenario.assert — every overflow event is one of our events`, () => {
    const { kind, lines } = readLog(name);
    const parser = logParserFor(kind);
    assert.ok(parser);
    const evs = lines
      .map((l, i) => parser.parse(l, i + 1, CTX))
      .filter((e): e is PbxLogEvent => e !== undefined);
    const sc = scenarioAsserts(name);
    assert.ok(sc.count !== undefined);
    assert.equal(evs.length, sc.count, `${name}: events`);
    assert.equal(sc.events.size, sc.count);
    let compared = 0;
    for (const [n, fields] of sc.events) {
      const ev = evs[n];
      assert.ok(ev, `${name} event ${n}`);
      compared += checkFields(ev, fields, `${name} event ${n}`);
    }
    assert.ok(compared >= sc.count * 2);
    assert.equal(sc.sources.length, 1);
    assert.deepEqual([...new Set(evs.map((e) => e.srcIp))], sc.sources);
  });
}
