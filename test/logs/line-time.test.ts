// Line hygiene, syslog prefixes, time zones and address normalisation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cutLine, splitSyslog, stripAnsi } from '../../src/logs/line.js';
import { isValidTimeZone, parseTimeAt, wallTimeToEpoch, zoneOffsetMs } from '../../src/logs/time.js';
import { normaliseIp, parseHostPort, parseTransportAddress } from '../../src/logs/address.js';
import { LOGS_MAX_LINE_CHARS } from '../../src/config/limits.js';
import { logParserFor } from '../../src/logs/index.js';
import { PbxLogConfigSchema } from '../../src/logs/parser.js';

const UTC = { timeZone: 'UTC', year: 2024 };

test('stripAnsi: ESC sequences, rsyslog #033 escapes, controls; plain text untouched', () => {
  assert.equal(
    stripAnsi('\x1b[1;33mNOTICE\x1b[0m[150]: \x1b[1;37mchan_sip.c\x1b[0m'),
    'NOTICE[150]: chan_sip.c',
  );
  assert.equal(stripAnsi('#033[1;33mNOTICE#033[0m[150]'), 'NOTICE[150]');
  assert.equal(stripAnsi('a\tb\r\n'), 'a b');
  assert.equal(stripAnsi('\x1b]0;title\x07text'), 'text');
  const plain = 'no escapes here';
  assert.equal(stripAnsi(plain), plain);
});

test('cutLine bounds a line before parsing', () => {
  assert.equal(cutLine('x'.repeat(LOGS_MAX_LINE_CHARS + 10)).length, LOGS_MAX_LINE_CHARS);
  assert.equal(cutLine('short'), 'short');
});

test('splitSyslog: RFC 3164 with and without PRI, RFC 5424 with SD, journald ISO, and non-prefixes', () => {
  const a = splitSyslog('<34>Oct 11 22:14:15 mymachine su[12]: msg here', UTC);
  assert.deepEqual(a, {
    message: 'msg here',
    prefixTime: Date.UTC(2024, 9, 11, 22, 14, 15),
    host: 'mymachine',
    program: 'su',
    hadPri: true,
  });
  const b = splitSyslog('Nov  4 18:30:40 localhost asterisk[32229]: NOTICE[1]: x', UTC);
  assert.equal(b.message, 'NOTICE[1]: x');
  assert.equal(b.program, 'asterisk');
  assert.equal(b.hadPri, false);
  const c = splitSyslog(
    '<165>1 2003-10-11T22:14:15.003Z host app 99 ID47 [exampleSDID@32473 iut="3" x="a\\]b"][two a="b"] \uFEFFthe message',
    UTC,
  );
  assert.deepEqual(c, {
    message: 'the message',
    prefixTime: Date.UTC(2003, 9, 11, 22, 14, 15, 3),
    host: 'host',
    program: 'app',
    hadPri: true,
  });
  const d = splitSyslog('<14>1 - - - - - - bare', UTC);
  assert.deepEqual(d, { message: 'bare', hadPri: true });
  const e = splitSyslog('2016-09-25T18:57:58+02:00 www.srv.tld freeswitch[1]: body', UTC);
  assert.equal(e.prefixTime, Date.UTC(2016, 8, 25, 16, 57, 58));
  assert.equal(e.message, 'body');
  // A PBX's own leading stamp is not a syslog prefix.
  const f = '2013-12-31 17:39:54.767815 [WARNING] sofia_reg.c:1533 SIP auth failure';
  assert.equal(splitSyslog(f, UTC).message, f);
  assert.equal(splitSyslog(f, UTC).prefixTime, undefined);
  assert.equal(
    splitSyslog('[2012-02-13 17:21:54] NOTICE[1638] chan_sip.c: x', UTC).message,
    '[2012-02-13 17:21:54] NOTICE[1638] chan_sip.c: x',
  );
});

test('time zones: Intl-derived offsets, DST both ways, fixed offsets in the text, bad zone → UTC', () => {
  assert.equal(zoneOffsetMs('Europe/Zurich', Date.UTC(2024, 0, 15)), 3_600_000);
  assert.equal(zoneOffsetMs('Europe/Zurich', Date.UTC(2024, 6, 15)), 7_200_000);
  assert.equal(zoneOffsetMs('America/New_York', Date.UTC(2024, 6, 15)), -4 * 3_600_000);
  assert.equal(zoneOffsetMs('Asia/Kathmandu', Date.UTC(2024, 6, 15)), 5.75 * 3_600_000);
  assert.equal(wallTimeToEpoch(2024, 7, 15, 12, 0, 0, 0, 'Europe/Zurich'), Date.UTC(2024, 6, 15, 10));
  // Zurich spring forward 2024-03-31 02:00 → 03:00; just before and after.
  assert.equal(wallTimeToEpoch(2024, 3, 31, 1, 59, 59, 0, 'Europe/Zurich'), Date.UTC(2024, 2, 31, 0, 59, 59));
  assert.equal(wallTimeToEpoch(2024, 3, 31, 3, 0, 0, 0, 'Europe/Zurich'), Date.UTC(2024, 2, 31, 1, 0, 0));
  const inGap = wallTimeToEpoch(2024, 3, 31, 2, 30, 0, 0, 'Europe/Zurich');
  assert.ok(Number.isFinite(inGap));
  assert.equal(isValidTimeZone('Europe/Zurich'), true);
  assert.equal(isValidTimeZone('Mars/Olympus'), false);
  assert.equal(wallTimeToEpoch(2024, 1, 1, 0, 0, 0, 0, 'Mars/Olympus'), Date.UTC(2024, 0, 1));
  assert.ok(Number.isNaN(wallTimeToEpoch(2024, 2, 30, 0, 0, 0, 0, 'UTC')));
  assert.ok(Number.isNaN(wallTimeToEpoch(2024, 13, 1, 0, 0, 0, 0, 'UTC')));
  assert.equal(
    parseTimeAt('2016-09-25T18:57:58.5-05:30 x', 0, UTC)?.time,
    Date.UTC(2016, 8, 26, 0, 27, 58, 500),
  );
  assert.equal(parseTimeAt('Feb 29 10:00:00', 0, UTC)?.time, Date.UTC(2024, 1, 29, 10));
  assert.ok(Number.isNaN(parseTimeAt('Feb 29 10:00:00', 0, { timeZone: 'UTC', year: 2023 })?.time));
  assert.equal(parseTimeAt('hello', 0, UTC), undefined);
  assert.equal(
    PbxLogConfigSchema.safeParse({ product: 'asterisk', timeZone: 'Europe/Zurich' }).success,
    true,
  );
  assert.equal(PbxLogConfigSchema.safeParse({ product: 'asterisk', timeZone: 'Nowhere/X' }).success, false);
  assert.equal(PbxLogConfigSchema.parse({ product: '3cx' }).timeZone, 'UTC');
});

test('a line with an invalid stamp still gives its event, at the fallback time', () => {
  const p = logParserFor('asterisk');
  assert.ok(p);
  const ev = p.parse(
    "[2012-02-30 17:21:54] NOTICE[1638] chan_sip.c: Registration from '<sip:301@example.com>' failed for '1.2.3.4' - Wrong password",
    9,
    { timeZone: 'UTC', year: 2012, fallbackTime: 1234.5 },
  );
  assert.equal(ev?.time, 1234.5);
  assert.equal(ev?.srcIp, '1.2.3.4');
  const zoned = p.parse(
    "[2012-07-13 17:21:54] NOTICE[1638] chan_sip.c: Registration from '<sip:301@example.com>' failed for '1.2.3.4' - Wrong password",
    9,
    { timeZone: 'Europe/Zurich', year: 2012, fallbackTime: 0 },
  );
  assert.equal(zoned?.time, Date.UTC(2012, 6, 13, 15, 21, 54));
  const noFallback = p.parse(
    "NOTICE[1638] chan_sip.c: Registration from '<sip:301@example.com>' failed for '1.2.3.4' - Wrong password",
    9,
    { timeZone: 'UTC', year: 2012, fallbackTime: Number.NaN },
  );
  assert.equal(noFallback?.time, 0);
});

test('addresses: IPv6 compressed lower case, brackets and ports stripped, mapped IPv4, junk rejected', () => {
  assert.equal(normaliseIp('2001:DB8:0:0:0:0:0:1'), '2001:db8::1');
  assert.equal(normaliseIp('2001:db8:0:0:1:0:0:1'), '2001:db8::1:0:0:1');
  assert.equal(normaliseIp('[::1]'), '::1');
  assert.equal(normaliseIp('::'), '::');
  assert.equal(normaliseIp('fe80::1%eth0'), 'fe80::1');
  assert.equal(normaliseIp('::ffff:192.0.2.1'), '192.0.2.1');
  assert.equal(normaliseIp('010.001.002.003'), '10.1.2.3');
  assert.equal(normaliseIp('256.1.1.1'), undefined);
  assert.equal(normaliseIp('1.2.3'), undefined);
  assert.equal(normaliseIp('1::2::3'), undefined);
  assert.equal(normaliseIp('example.com'), undefined);
  assert.deepEqual(parseHostPort('[2001:db8::1]:5060'), { ip: '2001:db8::1', port: 5060 });
  assert.deepEqual(parseHostPort('[1.2.3.4]:61470'), { ip: '1.2.3.4', port: 61470 });
  assert.deepEqual(parseHostPort('1.2.3.4:5060'), { ip: '1.2.3.4', port: 5060 });
  assert.deepEqual(parseHostPort('2001:db8::1'), { ip: '2001:db8::1' });
  assert.equal(parseHostPort('1.2.3.4:99999'), undefined);
  assert.deepEqual(parseTransportAddress('UDP:1.2.3.4:65049'), {
    ip: '1.2.3.4',
    port: 65049,
    transport: 'udp',
  });
  assert.deepEqual(parseTransportAddress('TCP:[1.2.3.4]:61470'), {
    ip: '1.2.3.4',
    port: 61470,
    transport: 'tcp',
  });
});

test('injection: text after the message start cannot forge a second message', () => {
  const a = logParserFor('asterisk');
  const f = logParserFor('freeswitch');
  assert.ok(a && f);
  const ctx = { timeZone: 'UTC', year: 2024, fallbackTime: 0 };
  // A VERBOSE line echoing attacker text that looks like a registration failure.
  assert.equal(
    a.parse(
      "[2024-01-01 00:00:00] VERBOSE[1] chan_sip.c: Got header: X: Registration from '' failed for '8.8.8.8' - Wrong password",
      1,
      ctx,
    ),
    undefined,
  );
  // FreeSWITCH: a `]` inside the user cannot move the address.
  const ev = f.parse(
    "2024-01-01 00:00:00.000000 [WARNING] sofia_reg.c:1 SIP auth failure (REGISTER) on sofia profile 'x' for [a] from ip 8.8.8.8@b] from ip 198.51.100.1",
    1,
    ctx,
  );
  assert.equal(ev?.srcIp, '198.51.100.1');
  assert.equal(ev?.identity, 'a] from ip 8.8.8.8');
});
