import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { THREECX_DEFAULT_FIELDS, THREECX_V20_SEEN_FIELDS } from '../../src/cdr/3cx.js';
import {
  cdrParserOptions,
  parseCdrSpec,
  parseConnectAddress,
  validateCdrConfig,
} from '../../src/cdr/cdr-config.js';

describe('cdr configuration', () => {
  it('defaults to 3CX documented order, the site zone, day-first dates and the Call prefix', () => {
    const c = validateCdrConfig({});
    assert.equal(c.product, '3cx');
    assert.deepEqual(c.files, []);
    assert.deepEqual(c.allow, []);
    const o = cdrParserOptions(c, 'Europe/Vienna');
    assert.deepEqual(o.fields, THREECX_DEFAULT_FIELDS);
    assert.equal(o.timeZone, 'Europe/Vienna');
    assert.equal(o.dateOrder, 'dmy');
    assert.equal(o.linePrefix, 'Call ');
    assert.equal(cdrParserOptions(validateCdrConfig({ timeZone: 'UTC' }), 'Europe/Vienna').timeZone, 'UTC');
  });

  it('takes fields as a list, a pasted comma-separated string, database-style names or a preset', () => {
    assert.deepEqual(validateCdrConfig({ fields: ['Time_Start', 'DIAL-NO', '-'] }).fields, [
      'time-start',
      'dial-no',
      '-',
    ]);
    assert.deepEqual(validateCdrConfig({ fields: 'historyid, time-start,to-no' }).fields, [
      'historyid',
      'time-start',
      'to-no',
    ]);
    assert.deepEqual(validateCdrConfig({ fields: '3cx-v20-seen' }).fields, THREECX_V20_SEEN_FIELDS);
    assert.deepEqual(validateCdrConfig({ fields: '3cx-documented' }).fields, THREECX_DEFAULT_FIELDS);
  });

  it('names the key and what was expected when a value is wrong', () => {
    const err = (raw: unknown): string => {
      try {
        validateCdrConfig(raw);
      } catch (e) {
        return (e as Error).message;
      }
      return 'no error';
    };
    assert.match(
      err({ fields: ['time-start', 'time_strat', 'dial-no'] }),
      /^cdr\.fields\.1: unknown 3CX CDR field 'time_strat' \(expected one of historyid/,
    );
    assert.match(err({ fields: ['dial-no', 'from-no'] }), /^cdr\.fields: time-start is required/);
    assert.match(
      err({ fields: ['time-start', 'from-no'] }),
      /^cdr\.fields: one of dial-no, to-no or final-number/,
    );
    assert.match(err({ fields: ['time-start', 'dial-no', 'dial-no'] }), /listed twice/);
    assert.match(err({ product: 'asterisk' }), /^cdr\.product:/);
    assert.match(err({ timeZone: 'Mars/Olympus' }), /^cdr\.timeZone: expected an IANA time zone/);
    assert.match(err({ listen: 'udp://0.0.0.0:5015', allow: ['192.0.2.1'] }), /^cdr\.listen: .*TCP only/);
    assert.match(
      err({ listen: 'tcp://0.0.0.0:5015' }),
      /^cdr\.allow: required when listen is not a loopback address/,
    );
    assert.match(
      err({ listen: 'tcp://0.0.0.0:5015', allow: ['192.0.2.300'] }),
      /^cdr\.allow\.0: expected an IP address or CIDR/,
    );
    assert.match(err({ connect: 'pbx.example.com:5015' }), /^cdr\.connect: expected tcp:\/\/HOST:PORT/);
    assert.match(err({ lisen: 'tcp://127.0.0.1:1' }), /^cdr: .*lisen/);
    assert.match(err({ dateOrder: 'ymd' }), /^cdr\.dateOrder:/);
  });

  it('allows an open listener on loopback, allow-listed ones elsewhere, and hostnames to connect to', () => {
    assert.equal(validateCdrConfig({ listen: 'tcp://127.0.0.1:5015' }).listen, 'tcp://127.0.0.1:5015');
    assert.equal(validateCdrConfig({ listen: 'tcp://[::1]:5015' }).listen, 'tcp://[::1]:5015');
    assert.deepEqual(validateCdrConfig({ listen: 'tcp://0.0.0.0:5015', allow: ['192.0.2.0/24'] }).allow, [
      '192.0.2.0/24',
    ]);
    assert.equal(
      validateCdrConfig({ connect: 'tcp://pbx.example.com:5015' }).connect,
      'tcp://pbx.example.com:5015',
    );
    assert.deepEqual(parseConnectAddress('tcp://[2001:db8::1]:5015'), {
      host: '2001:db8::1',
      port: 5015,
      text: 'tcp://[2001:db8::1]:5015',
    });
    assert.ok('error' in parseConnectAddress('tcp://[pbx]:5015'));
    assert.ok('error' in parseConnectAddress('tcp://pbx:0'));
    assert.ok('error' in parseConnectAddress('tcp://pbx:70000'));
  });

  it('reads --cdr PRODUCT:FILE', () => {
    assert.deepEqual(parseCdrSpec('3cx:/var/log/cdr.log'), { product: '3cx', path: '/var/log/cdr.log' });
    assert.deepEqual(parseCdrSpec('3CX:C:\\3CX\\cdr.log'), { product: '3cx', path: 'C:\\3CX\\cdr.log' });
    assert.ok('error' in parseCdrSpec('cdr.log'));
    assert.ok('error' in parseCdrSpec('asterisk:Master.csv'));
    assert.ok('error' in parseCdrSpec('3cx:'));
  });
});
