/**
 * SIP traffic for the live benchmark, as a capture agent near a PBX would see it: phones
 * registering (REGISTER, 401 challenge, REGISTER with credentials, 200), OPTIONS keepalives from
 * the PBX answered 200, password guessing (REGISTER with credentials answered 401) from a few
 * attackers, a brute force from chosen sources against one identity each, and a flood from many
 * spoofed sources. Every message is a complete RFC 3261 message; transactions pair up (Via branch,
 * Call-ID, CSeq), so the tracker sees real outcomes.
 */

/** What kind of traffic a packet belongs to (the sender counts per kind). */
export type TrafficKind = 'options' | 'register' | 'attack' | 'brute' | 'flood';

/** One SIP datagram to send, with its addressing. */
export interface SipPacket {
  readonly kind: TrafficKind;
  readonly srcIp: string;
  readonly srcPort: number;
  readonly dstIp: string;
  readonly dstPort: number;
  readonly payload: Buffer;
}

/** Traffic mixes. */
export type Scenario = 'mix' | 'brute' | 'flood';

/** Settings of a traffic generator. */
export interface TrafficOptions {
  readonly scenario: Scenario;
  readonly seed: number;
  /** Phones (mix, brute) or extensions (flood). */
  readonly phones: number;
  /** Password-guessing attackers in the background mix. */
  readonly attackers: number;
  /** brute: sources, each guessing one identity; share of packets that are brute force. */
  readonly bruteSources?: number;
  readonly bruteShare?: number;
  /** flood: spoofed sources (each sends one REGISTER with credentials, answered 401). */
  readonly floodSources?: number;
}

const PBX_IP = '192.0.2.10';
const PBX_PORT = 5060;
const DOMAIN = 'pbx.example.com';

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function hex(n: number, width: number): string {
  return (n >>> 0).toString(16).padStart(width, '0').slice(-width);
}

/** 10.x.y.z for phone i. */
function phoneIp(i: number): string {
  return `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255 || 1}`;
}

/** 100.64.0.0/10 (and on) for spoofed source i, up to 4 M distinct addresses. */
function spoofIp(i: number): string {
  return `${100 + (i >> 22)}.${64 + ((i >> 16) & 63)}.${(i >> 8) & 255}.${i & 255}`;
}

/** Generates packets one transaction at a time. */
export class SipTraffic {
  private readonly rnd: () => number;
  private readonly queue: SipPacket[] = [];
  private head = 0;
  private floodNext = 0;
  private extNext = 0;
  private bruteNext = 0;

  constructor(private readonly o: TrafficOptions) {
    this.rnd = mulberry32(o.seed);
  }

  /** The next packet (never ends: the sender bounds the count). */
  next(): SipPacket {
    if (this.head >= this.queue.length) {
      this.queue.length = 0;
      this.head = 0;
      this.refill();
    }
    return this.queue[this.head++] as SipPacket;
  }

  private refill(): void {
    const o = this.o;
    const r = this.rnd();
    if (o.scenario === 'flood') {
      // One extension registration (4 packets) per 20 flood transactions (40 packets).
      if (r < 1 / 21) this.register(this.extNext++ % o.phones);
      else {
        const n = o.floodSources ?? 1_000_000;
        const i = this.floodNext++ % n;
        this.guess('flood', spoofIp(i), 5060 + (i % 1000), `${100 + ((i * 7919) % o.phones)}`);
      }
      return;
    }
    if (o.scenario === 'brute' && r < (o.bruteShare ?? 0.02)) {
      const s = this.bruteNext++ % (o.bruteSources ?? 100);
      this.guess('brute', `198.19.${s >> 8}.${s & 255 || 1}`, 40000 + s, `${2000 + s}`);
      return;
    }
    const u = this.rnd();
    if (u < 0.55) this.options(Math.floor(this.rnd() * o.phones));
    else if (u < 0.8) this.register(Math.floor(this.rnd() * o.phones));
    else {
      const a = Math.floor(this.rnd() * Math.max(1, o.attackers));
      this.guess('attack', `198.18.0.${a + 1}`, 5070, `${100 + Math.floor(this.rnd() * 900)}`);
    }
  }

  /**
   * A random 64-bit identifier (Call-ID, branch, tag, nonce part): phones and PBXs draw theirs at
   * random, and a counter in them made every phone and the PBX look like predictable-identifier
   * and weak-nonce findings, whose alerts then loaded the store as no real office would.
   */
  private id(): string {
    return `${hex(this.rnd() * 0x100000000, 8)}${hex(this.rnd() * 0x100000000, 8)}`;
  }

  private push(kind: TrafficKind, from: [string, number], to: [string, number], text: string): void {
    this.queue.push({
      kind,
      srcIp: from[0],
      srcPort: from[1],
      dstIp: to[0],
      dstPort: to[1],
      payload: Buffer.from(text, 'latin1'),
    });
  }

  /** PBX → phone OPTIONS, 200 back. */
  private options(i: number): void {
    const ip = phoneIp(i);
    const ext = `${100 + (i % 9000)}`;
    const id = this.id();
    const via = `Via: SIP/2.0/UDP ${PBX_IP}:${PBX_PORT};branch=z9hG4bK-${id};rport`;
    const common =
      `From: "3CX PhoneSystem" <sip:${DOMAIN}>;tag=${id.slice(0, 8)}\r\n` +
      `Call-ID: ${id}@${PBX_IP}\r\nCSeq: 1 OPTIONS\r\n`;
    const pbx: [string, number] = [PBX_IP, PBX_PORT];
    const phone: [string, number] = [ip, 5062];
    this.push(
      'options',
      pbx,
      phone,
      `OPTIONS sip:${ext}@${ip}:5062 SIP/2.0\r\n${via}\r\nMax-Forwards: 70\r\n${common}` +
        `To: <sip:${ext}@${ip}:5062>\r\nUser-Agent: 3CXPhoneSystem 18.0.9.20 (20.0.0)\r\nContent-Length: 0\r\n\r\n`,
    );
    this.push(
      'options',
      phone,
      pbx,
      `SIP/2.0 200 OK\r\n${via}\r\n${common}To: <sip:${ext}@${ip}:5062>;tag=${id.slice(8)}\r\n` +
        `Allow: INVITE, ACK, CANCEL, BYE, NOTIFY, REFER, OPTIONS, INFO, MESSAGE\r\n` +
        `User-Agent: Yealink SIP-T46S 66.86.0.15\r\nContent-Length: 0\r\n\r\n`,
    );
  }

  /** A phone registers: REGISTER, 401, REGISTER with credentials, 200. */
  private register(i: number): void {
    const ip = phoneIp(i);
    const ext = `${100 + (i % 9000)}`;
    const id = this.id();
    const phone: [string, number] = [ip, 5062];
    const pbx: [string, number] = [PBX_IP, PBX_PORT];
    const nonce = `${id}${hex(this.rnd() * 0x100000000, 8)}`;
    for (const step of [1, 2]) {
      // Each request its own random branch, as phones do (RFC 3261 §8.1.1.7).
      const via = `Via: SIP/2.0/UDP ${ip}:5062;branch=z9hG4bK-${this.id()};rport`;
      const head =
        `${via}\r\nFrom: <sip:${ext}@${DOMAIN}>;tag=${id.slice(8)}\r\nTo: <sip:${ext}@${DOMAIN}>\r\n` +
        `Call-ID: ${id}@${ip}\r\nCSeq: ${step} REGISTER\r\n`;
      const auth =
        step === 2
          ? `Authorization: Digest username="${ext}",realm="${DOMAIN}",nonce="${nonce}",uri="sip:${DOMAIN}",` +
            `response="${id}${id}",algorithm=MD5,cnonce="${id.slice(0, 8)}",qop=auth,nc=00000001\r\n`
          : '';
      this.push(
        'register',
        phone,
        pbx,
        `REGISTER sip:${DOMAIN} SIP/2.0\r\n${head}Max-Forwards: 70\r\nContact: <sip:${ext}@${ip}:5062>\r\n${auth}` +
          `Expires: 3600\r\nUser-Agent: Yealink SIP-T46S 66.86.0.15\r\nContent-Length: 0\r\n\r\n`,
      );
      this.push(
        'register',
        pbx,
        phone,
        step === 1
          ? `SIP/2.0 401 Unauthorized\r\n${head.replace('\r\nCall-ID', `;tag=${id.slice(0, 8)}\r\nCall-ID`)}` +
              `WWW-Authenticate: Digest realm="${DOMAIN}",nonce="${nonce}",algorithm=MD5,qop="auth"\r\n` +
              `Content-Length: 0\r\n\r\n`
          : `SIP/2.0 200 OK\r\n${head.replace('\r\nCall-ID', `;tag=${id.slice(0, 8)}\r\nCall-ID`)}` +
              `Contact: <sip:${ext}@${ip}:5062>;expires=3600\r\nContent-Length: 0\r\n\r\n`,
      );
    }
  }

  /** One guessed password: REGISTER with credentials for `ext`, answered 401 (rejected). */
  private guess(kind: TrafficKind, ip: string, port: number, ext: string): void {
    const id = this.id();
    const src: [string, number] = [ip, port];
    const pbx: [string, number] = [PBX_IP, PBX_PORT];
    const head =
      `Via: SIP/2.0/UDP ${ip}:${port};branch=z9hG4bK-${id};rport\r\n` +
      `From: "${ext}" <sip:${ext}@${DOMAIN}>;tag=${id.slice(8)}\r\nTo: "${ext}" <sip:${ext}@${DOMAIN}>\r\n` +
      `Call-ID: ${id}\r\nCSeq: 2 REGISTER\r\n`;
    this.push(
      kind,
      src,
      pbx,
      `REGISTER sip:${DOMAIN} SIP/2.0\r\n${head}Max-Forwards: 70\r\nContact: <sip:${ext}@${ip}:${port}>\r\n` +
        `Authorization: Digest username="${ext}",realm="${DOMAIN}",nonce="${id}",uri="sip:${DOMAIN}",` +
        `response="${hex(this.rnd() * 0xffffffff, 8)}${id}${id.slice(0, 8)}",algorithm=MD5\r\n` +
        `Expires: 3600\r\nUser-Agent: pplsip\r\nContent-Length: 0\r\n\r\n`,
    );
    this.push(
      kind,
      pbx,
      src,
      `SIP/2.0 401 Unauthorized\r\n${head.replace('\r\nCall-ID', `;tag=${id.slice(0, 8)}\r\nCall-ID`)}` +
        `WWW-Authenticate: Digest realm="${DOMAIN}",nonce="${hex(this.rnd() * 0x100000000, 8)}${id}",algorithm=MD5\r\n` +
        `Content-Length: 0\r\n\r\n`,
    );
  }
}
