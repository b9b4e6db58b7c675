import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { spawnSync } from 'node:child_process';
import {
  parseSyslog,
  SyslogReceiver,
  SyslogStreamFramer,
  type LocalTimeFields,
} from '../../src/sources/syslog-receiver.js';
import type { LogLine } from '../../src/sources/live-source.js';
import { haveTool, rng, waitFor } from './live-helpers.js';

const NOW = Date.UTC(2024, 5, 15, 12, 0, 0); // 2024-06-15T12:00:00Z

function portOf(addr: string): number {
  return Number(addr.slice(addr.lastIndexOf(':') + 1));
}

describe('parseSyslog', () => {
  it('reads RFC 5424 headers, structured data and the BOM', () => {
    const m = parseSyslog(
      Buffer.from(
        '<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog 77 ID47 [exampleSDID@32473 iut="3" eventSource="Appl\\]ication"][x@1 a="b"] \uFEFFAn application event\n',
      ),
      NOW,
    );
    assert.equal(m.version, 1);
    assert.equal(m.facility, 20);
    assert.equal(m.severity, 5);
    assert.equal(m.time, Date.UTC(2003, 9, 11, 22, 14, 15, 3));
    assert.equal(m.host, 'mymachine.example.com');
    assert.equal(m.app, 'evntslog');
    assert.equal(m.procId, '77');
    assert.equal(m.msgId, 'ID47');
    assert.equal(m.text, 'An application event');
    assert.equal(m.malformed, false);
    const nil = parseSyslog(Buffer.from('<34>1 2003-08-24T05:14:15.000003-07:00 - - - - - text'), NOW);
    assert.equal(nil.time, Date.UTC(2003, 7, 24, 12, 14, 15));
    assert.equal(nil.host, undefined);
    assert.equal(nil.app, undefined);
    assert.equal(nil.text, 'text');
  });

  it('reads RFC 3164 lines: receiver year, host, tag and pid', () => {
    const m = parseSyslog(
      Buffer.from('<86>Jun  3 08:01:02 pbx01 asterisk[1234]: NOTICE[1]: chan_sip.c: Registration failed\r\n'),
      NOW,
    );
    assert.equal(m.facility, 10);
    assert.equal(m.severity, 6);
    assert.equal(m.time, Date.UTC(2024, 5, 3, 8, 1, 2));
    assert.equal(m.host, 'pbx01');
    assert.equal(m.app, 'asterisk');
    assert.equal(m.procId, '1234');
    assert.equal(m.text, 'NOTICE[1]: chan_sip.c: Registration failed');
    const noHost = parseSyslog(Buffer.from('<13>Jun 15 11:59:00 3CXPhoneSystem: [CM102001] text'), NOW);
    assert.equal(noHost.host, undefined);
    assert.equal(noHost.app, '3CXPhoneSystem');
    assert.equal(noHost.text, '[CM102001] text');
  });

  it('puts a December line read in January in the previous year, and uses toEpoch', () => {
    const jan = Date.UTC(2025, 0, 1, 0, 5);
    const m = parseSyslog(Buffer.from('<13>Dec 31 23:59:58 h app: x'), jan);
    assert.equal(m.time, Date.UTC(2024, 11, 31, 23, 59, 58));
    const seen: LocalTimeFields[] = [];
    const plusOne = (f: LocalTimeFields): number => {
      seen.push(f);
      return Date.UTC(f.year, f.month - 1, f.day, f.hour - 1, f.minute, f.second);
    };
    const z = parseSyslog(Buffer.from('<13>Jun  3 08:01:02 h app: x'), NOW, plusOne);
    assert.equal(z.time, Date.UTC(2024, 5, 3, 7, 1, 2));
    assert.deepEqual(seen, [{ year: 2024, month: 6, day: 3, hour: 8, minute: 1, second: 2 }]);
    const iso = parseSyslog(Buffer.from('<13>2024-06-01T10:00:00+02:00 h app: x'), NOW);
    assert.equal(iso.time, Date.UTC(2024, 5, 1, 8));
    assert.equal(iso.host, 'h');
  });

  it('delivers headerless or bad-PRI messages whole, flagged malformed', () => {
    for (const text of ['no header at all', '<999>1 x', '<>x', '<12', '']) {
      const m = parseSyslog(Buffer.from(text), NOW);
      assert.equal(m.malformed, true, text);
      assert.equal(m.text, text);
    }
    const t = parseSyslog(Buffer.from('<13>just text, no time'), NOW);
    assert.equal(t.malformed, false);
    assert.equal(t.time, undefined);
    assert.equal(t.text, 'just text, no time');
  });
});

describe('SyslogStreamFramer', () => {
  function frame(chunks: Buffer[], max = 64): { msgs: string[]; over: number[] } {
    const msgs: string[] = [];
    const over: number[] = [];
    const f = new SyslogStreamFramer(
      { onMessage: (m) => msgs.push(m.toString()), onOversize: (n) => over.push(n) },
      max,
    );
    for (const c of chunks) f.push(c);
    f.end();
    return { msgs, over };
  }

  it('reads octet-counted and LF-terminated frames, mixed', () => {
    const r = frame([Buffer.from('10 <13>hello\n\n<14>second\n4 <1>x7 <13>a b\n<13>tail')]);
    assert.deepEqual(r.msgs, ['<13>hello\n', '<14>second', '<1>x', '<13>a b', '<13>tail']);
    assert.deepEqual(r.over, []);
  });

  it('skips oversized frames of both kinds and resynchronises', () => {
    const r = frame([Buffer.from(`100 ${'x'.repeat(100)}<13>${'y'.repeat(80)}\n3 <1>`)], 64);
    assert.deepEqual(r.msgs, ['<1>']);
    assert.deepEqual(r.over, [100, 0]);
  });

  it('fuzz: random splits give the same messages; random bytes never exceed the bound', () => {
    const rand = rng(5);
    const input = Buffer.from('12 <13>abcdefgh<13>line one\n7 <14>xyz<15>line two\n'.repeat(20));
    const whole = frame([input], 4096).msgs;
    assert.equal(whole.length, 80);
    for (let k = 0; k < 100; k++) {
      const chunks: Buffer[] = [];
      for (let off = 0; off < input.length;) {
        const n = 1 + Math.floor(rand() * 40);
        chunks.push(input.subarray(off, off + n));
        off += n;
      }
      assert.deepEqual(frame(chunks, 4096).msgs, whole);
    }
    for (let k = 0; k < 200; k++) {
      const f = new SyslogStreamFramer(
        { onMessage: (m) => assert.ok(m.length <= 100), onOversize: () => undefined },
        100,
      );
      for (let c = 0; c < 10; c++) {
        const b = Buffer.from(
          Array.from({ length: Math.floor(rand() * 80) }, () => Math.floor(rand() * 256)),
        );
        f.push(b);
        assert.ok(f.buffered <= 100);
        parseSyslog(b, NOW); // never throws
      }
      f.end();
    }
  });
});

describe('SyslogReceiver', () => {
  it('receives UDP datagrams and TCP frames from real clients, with the allow-list', async () => {
    const lines: LogLine[] = [];
    const r = new SyslogReceiver(
      { listen: ['udp://127.0.0.1:0', 'tcp://127.0.0.1:0'], allow: ['127.0.0.1'], now: () => NOW },
      (l) => lines.push(l),
    );
    await r.start();
    try {
      const [u, t] = r.addresses() as [string, string];
      const s = createSocket('udp4');
      await new Promise<void>((res) => s.bind(0, '127.0.0.1', () => res()));
      await new Promise<void>((res) =>
        s.send('<13>Jun  3 08:01:02 pbx app[9]: over udp\n', portOf(u), '127.0.0.1', () => res()),
      );
      s.close();
      const denied = createSocket('udp4');
      await new Promise<void>((res) => denied.bind(0, '127.0.0.2', () => res()));
      await new Promise<void>((res) => denied.send('<13>denied', portOf(u), '127.0.0.1', () => res()));
      denied.close();
      const c = connect(portOf(t), '127.0.0.1');
      await new Promise<void>((res) => c.once('connect', () => res()));
      c.write(
        '<165>1 2024-06-15T11:00:00Z host1 app1 - - - first over tcp\n39 <165>1 - host2 app2 - - - octet',
      );
      c.end(' counted');
      await waitFor(() => lines.length === 3 && r.stats().rejected === 1, 'three lines and one rejection');
      assert.deepEqual(
        lines.map((l) => [l.text, l.host, l.app, l.time, l.peer, l.provenance.kind]),
        [
          ['over udp', 'pbx', 'app', Date.UTC(2024, 5, 3, 8, 1, 2), '127.0.0.1', 'syslog'],
          ['first over tcp', 'host1', 'app1', Date.UTC(2024, 5, 15, 11), '127.0.0.1', 'syslog'],
          ['octet counted', 'host2', 'app2', undefined, '127.0.0.1', 'syslog'],
        ],
      );
      const st = r.stats();
      assert.equal(st.accepted, 3);
      assert.equal(st.rejected, 1);
      assert.equal(st.lastReceivedAt, NOW);
      r.noteRecognised(2);
      assert.equal(r.stats().recognised, 2);
    } finally {
      await r.stop();
    }
  });

  it('cuts oversized UDP messages, refuses connections past the limit, rejects a busy port', async () => {
    const lines: LogLine[] = [];
    const r = new SyslogReceiver(
      { listen: ['tcp://127.0.0.1:0'], maxMessageBytes: 32, maxConnections: 1 },
      (l) => lines.push(l),
    );
    r.datagram(Buffer.from(`<13>${'z'.repeat(100)}`), '127.0.0.1');
    assert.equal(lines[0]?.text, 'z'.repeat(28));
    assert.equal(r.stats().truncated, 1);
    await r.start();
    try {
      const t = r.addresses()[0] as string;
      const a = connect(portOf(t), '127.0.0.1');
      await new Promise<void>((res) => a.once('connect', () => res()));
      await waitFor(() => r.stats().connections === 1, 'first connection');
      const b = connect(portOf(t), '127.0.0.1');
      b.on('error', () => undefined);
      await waitFor(() => r.stats().connectionsRefused === 1, 'second connection refused');
      a.destroy();
      const busy = new SyslogReceiver({ listen: [t] }, () => undefined);
      await assert.rejects(
        busy.start(),
        (e: Error) => e.message.includes(t) && /address in use/.test(e.message),
      );
    } finally {
      await r.stop();
    }
  });

  const loggerMissing = haveTool('logger') ? undefined : 'logger (util-linux) is not installed';
  it(
    'receives what util-linux logger sends (UDP/TCP, RFC 3164/5424, octet counting)',
    { skip: loggerMissing },
    async () => {
      const lines: LogLine[] = [];
      const r = new SyslogReceiver({ listen: ['udp://127.0.0.1:0', 'tcp://127.0.0.1:0'] }, (l) =>
        lines.push(l),
      );
      await r.start();
      try {
        const [u, t] = r.addresses() as [string, string];
        const runs: [string[], string][] = [
          [['--udp', '--port', String(portOf(u)), '--rfc3164'], 'udp-3164'],
          [['--udp', '--port', String(portOf(u)), '--rfc5424'], 'udp-5424'],
          [['--tcp', '--port', String(portOf(t)), '--rfc3164'], 'tcp-3164'],
          [['--tcp', '--port', String(portOf(t)), '--rfc5424', '--octet-count'], 'tcp-5424-octets'],
        ];
        for (const [args, text] of runs) {
          const res = spawnSync(
            'logger',
            ['--server', '127.0.0.1', ...args, '-t', 'sipwtest', '-p', 'local3.warning', `hello ${text} é`],
            {
              timeout: 3000,
            },
          );
          assert.equal(res.status, 0, res.stderr.toString());
        }
        await waitFor(() => lines.length === 4, 'four messages from logger');
        const byText = new Map(lines.map((l) => [l.text, l]));
        for (const [, text] of runs) {
          const l = byText.get(`hello ${text} é`);
          assert.ok(l, `got ${text}; lines: ${lines.map((x) => x.text).join(' | ')}`);
          assert.equal(l.app, 'sipwtest');
          assert.equal(l.facility, 19);
          assert.equal(l.severity, 4);
          assert.ok(l.host !== undefined && l.host.length > 0);
          assert.ok(l.time !== undefined && Math.abs(l.time - Date.now()) < 36 * 3600_000, `${text} time`);
        }
        assert.equal(r.stats().malformed, 0);
      } finally {
        await r.stop();
      }
    },
  );
});
