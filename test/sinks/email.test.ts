import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { EmailSink, emailSubject } from '../../src/sinks/email.js';
import { SinkError } from '../../src/sinks/sink.js';
import { makeAlert } from './helpers.js';

interface Mail {
  from: string;
  to: string[];
  data: string;
}

/** Just enough SMTP (RFC 5321) for one client: EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT. */
async function smtpServer(opts: { rejectRcpt?: boolean } = {}): Promise<{
  port: number;
  mails: Mail[];
  commands: string[];
  close: () => void;
}> {
  const mails: Mail[] = [];
  const commands: string[] = [];
  const sockets: Socket[] = [];
  const srv = createServer((s) => {
    sockets.push(s);
    s.setEncoding('latin1');
    let buf = '';
    let inData = false;
    let cur: Mail = { from: '', to: [], data: '' };
    s.write('220 test.local ESMTP ready\r\n');
    s.on('data', (d: string) => {
      buf += d;
      for (;;) {
        if (inData) {
          const end = buf.indexOf('\r\n.\r\n');
          if (end < 0) break;
          cur.data = buf.slice(0, end).replace(/\r\n\.\./g, '\r\n.');
          buf = buf.slice(end + 5);
          inData = false;
          mails.push(cur);
          cur = { from: '', to: [], data: '' };
          s.write('250 2.0.0 queued\r\n');
          continue;
        }
        const nl = buf.indexOf('\r\n');
        if (nl < 0) break;
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 2);
        commands.push(line);
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === 'EHLO') s.write('250-test.local\r\n250 8BITMIME\r\n');
        else if (verb === 'HELO') s.write('250 test.local\r\n');
        else if (verb === 'MAIL') {
          cur.from = line.replace(/^MAIL FROM:\s*<([^>]*)>.*$/i, '$1');
          s.write('250 2.1.0 ok\r\n');
        } else if (verb === 'RCPT') {
          if (opts.rejectRcpt === true) s.write('550 5.1.1 no such user\r\n');
          else {
            cur.to.push(line.replace(/^RCPT TO:\s*<([^>]*)>.*$/i, '$1'));
            s.write('250 2.1.5 ok\r\n');
          }
        } else if (verb === 'DATA') {
          inData = true;
          s.write('354 go ahead\r\n');
        } else if (verb === 'RSET' || verb === 'NOOP') s.write('250 ok\r\n');
        else if (verb === 'QUIT') {
          s.write('221 bye\r\n');
          s.end();
        } else s.write('502 5.5.2 not implemented\r\n');
      }
    });
    s.on('error', () => undefined);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return {
    port: (srv.address() as AddressInfo).port,
    mails,
    commands,
    close: () => {
      for (const s of sockets) s.destroy();
      srv.close();
    },
  };
}

/** Undoes quoted-printable (soft breaks and =XX) so the body can be read. */
function unQp(s: string): string {
  return Buffer.from(
    s
      .replace(/=\r\n/g, '')
      .replace(/=([0-9A-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16))),
    'latin1',
  ).toString('utf8');
}

test('one plain-text mail per batch with counts and the top severity in the subject', async () => {
  const rx = await smtpServer();
  const sink = new EmailSink({
    smtp: { host: '127.0.0.1', port: rx.port, timeoutMs: 3000 },
    from: 'sipwarden@example.test',
    to: ['soc@example.test', 'admin@example.test'],
  });
  const secret = 'f00dfacef00dfacef00dfacef00dface';
  await sink.send([
    makeAlert(1, {
      severity: 'critical',
      rule: 'auth.weak-password',
      title: 'Weak password accepted for 101',
      evidence: { response: secret, passwordMasked: '1**4' },
    }),
    makeAlert(2, { title: 'Scanner \x1b[31mred\x1b[0m' }),
    makeAlert(3, { severity: 'medium' }),
  ]);
  await sink.close();
  rx.close();
  assert.equal(rx.mails.length, 1);
  const m = rx.mails[0] as Mail;
  assert.equal(m.from, 'sipwarden@example.test');
  assert.deepEqual(m.to, ['soc@example.test', 'admin@example.test']);
  const [head = '', ...rest] = m.data.split('\r\n\r\n');
  const unfolded = head.replace(/\r\n[ \t]+/g, ' ');
  assert.match(
    unfolded,
    /^Subject: \[sipwarden\] CRITICAL: 3 alerts \(1 critical, 1 high, 1 medium\): Weak password accepted for 101$/m,
  );
  assert.match(unfolded, /^Content-Type: text\/plain/im);
  const body = unQp(rest.join('\r\n\r\n'));
  assert.ok(body.includes('CRITICAL auth.weak-password "Weak password accepted for 101"'), body);
  assert.ok(body.includes('"passwordMasked":"1**4"'), body);
  assert.ok(body.includes('Scanner \\x1b[31mred\\x1b[0m'), 'wire text escaped');
  assert.ok(!body.includes('\x1b'));
  assert.ok(!m.data.includes(secret) && !body.includes(secret), 'digest response redacted');
  assert.ok(rx.commands.some((c) => /^EHLO /i.test(c)));
  assert.ok(rx.commands.some((c) => /^DATA/i.test(c)));
});

test('a recipient the server refuses (5xx) is a permanent failure; a dead server a retryable one', async () => {
  const rx = await smtpServer({ rejectRcpt: true });
  const sink = new EmailSink({
    smtp: { host: '127.0.0.1', port: rx.port, timeoutMs: 2000 },
    from: 'a@example.test',
    to: ['nobody@example.test'],
  });
  await assert.rejects(sink.send([makeAlert(1)]), (e: unknown) => e instanceof SinkError && !e.retryable);
  await sink.close();
  rx.close();
  const port = rx.port;
  await new Promise((r) => setTimeout(r, 20));
  const dead = new EmailSink({
    smtp: { host: '127.0.0.1', port, timeoutMs: 500 },
    from: 'a@example.test',
    to: ['b@example.test'],
  });
  await assert.rejects(dead.send([makeAlert(1)]), (e: unknown) => e instanceof SinkError && e.retryable);
  await dead.close();
  assert.equal(rx.mails.length, 0);
});

test('subject and defaults', () => {
  assert.equal(
    emailSubject([makeAlert(1, { severity: 'low', title: 'a\r\nBcc: x@evil' })]),
    '[sipwarden] LOW: 1 alert (1 low): a\\r\\nBcc: x@evil',
  );
  assert.throws(() => new EmailSink({ smtp: { host: 'h', port: 25 }, from: 'a@b', to: [] }), /recipient/);
  const s = new EmailSink({ smtp: { host: 'h', port: 25 }, from: 'a@b', to: ['c@d'] });
  assert.equal(s.lingerMs, 60_000);
  assert.equal(s.batchMax, 100);
});
