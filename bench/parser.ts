/**
 * Micro-benchmark of the SIP and SDP parsers: messages per second for typical messages, parsing
 * alone, with the fields every tracker reads (Call-ID, CSeq, From/To tags, top Via branch,
 * User-Agent), and with the full validation (`anomalies`).
 * Run: `npx tsc -p tsconfig.json && node dist/bench/parser.js`.
 *
 * Rates are computed from the process CPU time (user + system) of the best of several rounds, so a
 * busy machine inflates them less than wall time would; the wall-time rate is printed beside it.
 */
import { parseSipMessage } from '../src/sip/message.js';
import { parseSdp } from '../src/sdp/parser.js';

const crlf = (lines: string[]): Buffer => Buffer.from(lines.join('\r\n'), 'latin1');

/** A softphone REGISTER without credentials, 500 bytes: the typical message of the target. */
const REGISTER = crlf([
  'REGISTER sip:pbx.example.com:5060 SIP/2.0',
  'Via: SIP/2.0/UDP 192.0.2.45:5062;branch=z9hG4bK-524287-1---7f9a2c4d1b3e5f60;rport',
  'Max-Forwards: 70',
  'Contact: <sip:101@192.0.2.45:5062;rinstance=8a1f3c2d9e7b6a54;transport=UDP>',
  'To: <sip:101@pbx.example.com:5060>',
  'From: <sip:101@pbx.example.com:5060>;tag=4f2a9c81',
  'Call-ID: NmY2ZDc4YjQ1ZjA3ZTZkNjE4MmY0NTY3OGE5YmMwZDE',
  'CSeq: 3 REGISTER',
  'Expires: 120',
  'Allow: INVITE, ACK, CANCEL, BYE, NOTIFY, REFER, OPTIONS, INFO',
  'Supported: replaces, timer',
  'User-Agent: Z 5.6.1 v2.10.19.9',
  'Content-Length: 0',
  '',
  '',
]);

const REGISTER_AUTH = crlf([
  'REGISTER sip:pbx.example.com SIP/2.0',
  'Via: SIP/2.0/UDP 192.0.2.45:5062;branch=z9hG4bK-524287-1---0d3e8f2a1c4b5a69;rport',
  'Max-Forwards: 70',
  'Contact: <sip:101@192.0.2.45:5062;rinstance=8a1f3c2d9e7b6a54>',
  'To: <sip:101@pbx.example.com>',
  'From: <sip:101@pbx.example.com>;tag=4f2a9c81',
  'Call-ID: NmY2ZDc4YjQ1ZjA3ZTZkNjE4MmY0NTY3OGE5YmMwZDE',
  'CSeq: 4 REGISTER',
  'Expires: 120',
  'User-Agent: 3CXPhone 6.0.26523.0',
  'Authorization: Digest username="Xk2pQ9rT4m",realm="3CXPhoneSystem",nonce="414d535c1b3e8a2f7c:9e4b1f0a2d6c8e3a5b7d9f1e3c5a7b9d",uri="sip:pbx.example.com",response="6629fae49393a05397450978507c4ef1",algorithm=MD5',
  'Content-Length: 0',
  '',
  '',
]);

const INVITE = crlf([
  'INVITE sip:0044207946000@pbx.example.com SIP/2.0',
  'Via: SIP/2.0/UDP 192.0.2.45:5062;branch=z9hG4bK-524287-1---a1b2c3d4e5f60718;rport',
  'Max-Forwards: 70',
  'Contact: <sip:101@192.0.2.45:5062>',
  'To: <sip:0044207946000@pbx.example.com>',
  'From: "Reception" <sip:101@pbx.example.com>;tag=8d7c6b5a',
  'Call-ID: YjM0ZmE5ZDI2YzE3OGU1MGE0YjNjMmQxZTBmOWE4Yjc',
  'CSeq: 2 INVITE',
  'Allow: INVITE, ACK, CANCEL, BYE, NOTIFY, REFER, MESSAGE, OPTIONS, INFO, SUBSCRIBE',
  'Content-Type: application/sdp',
  'Supported: replaces, norefersub, extended-refer, timer',
  'User-Agent: Z 5.6.1 v2.10.19.9',
  'Content-Length: 245',
  '',
  'v=0',
  'o=Z 1700000000 1 IN IP4 192.0.2.45',
  's=Z',
  'c=IN IP4 192.0.2.45',
  't=0 0',
  'm=audio 8000 RTP/AVP 8 0 101',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-16',
  'a=ptime:20',
  'a=sendrecv',
  'a=rtcp-mux',
  '',
]);

const RESPONSE_401 = crlf([
  'SIP/2.0 401 Unauthorized',
  'Via: SIP/2.0/UDP 192.0.2.45:5062;branch=z9hG4bK-524287-1---7f9a2c4d1b3e5f60;rport=5062;received=198.51.100.7',
  'From: <sip:101@pbx.example.com:5060>;tag=4f2a9c81',
  'To: <sip:101@pbx.example.com:5060>;tag=as6d0c7a1e',
  'Call-ID: NmY2ZDc4YjQ1ZjA3ZTZkNjE4MmY0NTY3OGE5YmMwZDE',
  'CSeq: 3 REGISTER',
  'WWW-Authenticate: Digest realm="3CXPhoneSystem", nonce="414d535c1b3e8a2f7c:9e4b1f0a2d6c8e3a5b7d9f1e3c5a7b9d", algorithm=MD5',
  'Server: 3CXPhoneSystem 20.0.1.123 (100)',
  'Content-Length: 0',
  '',
  '',
]);

let sink = 0;

function hot(data: Buffer): void {
  const m = parseSipMessage(data);
  sink +=
    (m.callId?.length ?? 0) + (m.cseq?.seq ?? 0) + (m.from?.tag?.length ?? 0) + (m.to?.tag?.length ?? 0);
  sink += (m.vias[0]?.branch?.length ?? 0) + (m.userAgent?.length ?? m.server?.length ?? 0);
}

function parseOnly(data: Buffer): void {
  sink += parseSipMessage(data).headerCount;
}

function full(data: Buffer): void {
  const m = parseSipMessage(data);
  sink +=
    (m.callId?.length ?? 0) + (m.cseq?.seq ?? 0) + (m.from?.tag?.length ?? 0) + (m.to?.tag?.length ?? 0);
  sink += (m.vias[0]?.branch?.length ?? 0) + (m.userAgent?.length ?? m.server?.length ?? 0);
  sink += m.anomalies.length;
}

function sdp(data: Buffer): void {
  const m = parseSipMessage(data);
  sink += parseSdp(m.body).media.length;
}

function measure(name: string, fn: (d: Buffer) => void, data: Buffer): void {
  // Warm up so the numbers are for optimised code.
  for (let i = 0; i < 200_000; i++) fn(data);
  let bestCpu = 0;
  let bestWall = 0;
  for (let round = 0; round < 7; round++) {
    const n = 200_000;
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) fn(data);
    const wallNs = Number(process.hrtime.bigint() - t0);
    const c = process.cpuUsage(c0);
    const cpuNs = (c.user + c.system) * 1000;
    bestCpu = Math.max(bestCpu, (n * 1e9) / Math.max(cpuNs, 1));
    bestWall = Math.max(bestWall, (n * 1e9) / wallNs);
  }
  const rate = (r: number): string => Math.round(r).toLocaleString('en-US').padStart(10);
  console.log(
    `${name.padEnd(44)} ${String(data.length).padStart(4)} B ${rate(bestCpu)} msg/s ${(1e6 / bestCpu).toFixed(2).padStart(6)} µs  (wall ${rate(bestWall)} msg/s)`,
  );
}

const load = (await import('node:os')).loadavg()[0] ?? 0;
console.log(
  `node ${process.version}, load average ${load.toFixed(1)}, best of 7 rounds of 200k messages, CPU time`,
);
measure('REGISTER: parse only', parseOnly, REGISTER);
measure('REGISTER: parse + hot fields', hot, REGISTER);
measure('REGISTER: parse + hot fields + anomalies', full, REGISTER);
measure('REGISTER with Authorization: hot fields', hot, REGISTER_AUTH);
measure('INVITE with SDP: parse + hot fields', hot, INVITE);
measure('INVITE with SDP: + anomalies', full, INVITE);
measure('INVITE: parse + SDP body', sdp, INVITE);
measure('401 response: parse + hot fields', hot, RESPONSE_401);
measure('401 response: + anomalies', full, RESPONSE_401);
if (sink === 42) console.log('');
