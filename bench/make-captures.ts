/**
 * Builds the benchmark captures: at least 1,000,000 SIP messages each, made of the real-tool lab
 * captures (test/fixtures/captures, recorded from SIPp, SIPVicious and sipsak against Kamailio)
 * replayed many times. Each replay (a "replica") is distinct traffic, not a retransmission:
 * - its timestamps are shifted to its own start (its internal timing kept), and the replicas are
 *   interleaved in time order the way concurrent traffic is;
 * - the phone and attacker addresses get fresh ones per replica (phones in 10.0.0.0/8, attackers in
 *   the benchmarking range 198.18.0.0/15), the PBX and trunk addresses are kept; the IPv4 header
 *   checksum is recomputed and the UDP checksum zeroed (0 = not computed, valid for IPv4);
 * - every Call-ID, Via branch and digest nonce gets a replica tag written IN PLACE over a few of
 *   its characters (same length, so Content-Length stays right; a request and its responses carry
 *   the same value, so they get the same tag). All-digit values get digits, so tool fingerprints
 *   (SIPVicious' decimal Call-ID and `z9hG4bK-<decimal>` branch) survive; others get base 36.
 *   Without the nonce tag every replica of a login would resend the same digest from another
 *   address, which is a replay (auth.digest-replay) and not what an office sends. The digest
 *   response is not recomputed, so a replica's digest no longer cracks (auth.weak-password);
 * - the SDP media ports (`m=` lines, `a=rtcp:`) move per replica, in place and keeping their
 *   parity, as a phone allocates new RTP ports per call: otherwise every replicated call would
 *   announce the same media endpoint, which real traffic does not (and which makes tshark chain
 *   one RTP conversation per call on a single address and port).
 * Only the UDP frames are used (no lab TCP capture is needed for the mix); ICMP errors quoting SIP
 * are dropped. Output is written by a streaming pcap writer (one fixed buffer), and reused while
 * the generator, its inputs and its options are unchanged (see the manifest next to each file).
 *
 * Run: `npx tsc -p tsconfig.json && node dist/bench/make-captures.js [--force] [--messages N]`.
 */
import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  writeSync,
} from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readCaptureFile } from '../src/sources/capture-file.js';

/** Where the lab captures are, from the project root. */
export const FIXTURE_DIR = 'test/fixtures/captures';
/** Where generated captures go (gitignored). */
export const OUT_DIR = 'bench/out';
/** Messages per generated capture unless told otherwise. */
export const DEFAULT_MESSAGES = 1_000_000;

/** Addresses kept as they are in every replica: the three lab PBXs and the SIP trunk. */
const KEPT_ADDRESSES = new Set(['127.0.0.10', '127.0.0.11', '127.0.0.12', '127.0.3.1']);
/** Lab phones are 127.0.1.x (INDEX.md); every other non-kept address is an attacker. */
const PHONE_PREFIX = '127.0.1.';

/** One ingredient of a mix: a lab capture and its share of the mix's SIP messages (percent). */
export interface MixPart {
  readonly capture: string;
  readonly share: number;
}

/** A benchmark capture: its name, what it is made of and how it is spread in time. */
export interface Mix {
  readonly name: string;
  readonly title: string;
  /** Start of the capture, ms since the epoch. */
  readonly start: number;
  /** Every replica starts and ends inside [start, start + spanMs]. */
  readonly spanMs: number;
  readonly parts: readonly MixPart[];
}

/**
 * A working day of an office PBX under attack: about 80% of the messages are benign (phones
 * registering, a NATed office reconnecting, keepalives, internal and trunk calls, a phone with an
 * old password), 20% are scans, password guessing and floods; spread over 12 hours.
 */
export const OFFICE: Mix = {
  name: 'office',
  title: 'Office day under attack (80% benign)',
  start: Date.UTC(2026, 2, 2, 7, 0, 0),
  spanMs: 12 * 3_600_000,
  parts: [
    { capture: 'benign-phones-register-3cx', share: 18 },
    { capture: 'benign-nat-office-storm-3cx', share: 10 },
    { capture: 'benign-options-keepalive-hardened', share: 20 },
    { capture: 'benign-call-udp-leaky', share: 12 },
    { capture: 'benign-trunk-call-hardened', share: 10 },
    { capture: 'benign-stale-nonce-leaky', share: 5 },
    { capture: 'benign-stale-credentials-leaky', share: 3 },
    { capture: 'benign-weak-password-phone-leaky', share: 2 },
    { capture: 'svwar-register-leaky', share: 2 },
    { capture: 'svwar-options-leaky', share: 1.5 },
    { capture: 'svwar-invite-leaky', share: 1.5 },
    { capture: 'svwar-options-3cx', share: 1 },
    { capture: 'svwar-options-hardened', share: 0.6 },
    { capture: 'svwar-invite-3cx', share: 0.1 },
    { capture: 'svwar-invite-hardened', share: 0.1 },
    { capture: 'svwar-register-3cx', share: 0.1 },
    { capture: 'svwar-register-hardened', share: 0.1 },
    { capture: 'svcrack-leaky', share: 1.5 },
    { capture: 'svcrack-3cx', share: 1 },
    { capture: 'svcrack-hardened-blocked', share: 2.5 },
    { capture: 'sipp-flood-register-leaky', share: 2 },
    { capture: 'sipp-flood-register-hardened', share: 0.5 },
    { capture: 'sipp-flood-invite-leaky', share: 1.5 },
    { capture: 'sipsak-flood-options-3cx', share: 1 },
    { capture: 'sipp-credential-stuffing-3cx', share: 1 },
    { capture: 'sipp-credential-stuffing-leaky', share: 0.5 },
    { capture: 'sipp-distributed-bruteforce-3cx', share: 1 },
    { capture: 'sipsak-bruteforce-leaky', share: 0.5 },
  ],
};

/** Almost all attack (96%): floods, svcrack/svwar runs, stuffing and distributed guessing, in 1 hour. */
export const ATTACK: Mix = {
  name: 'attack',
  title: 'Under attack (96% attack)',
  start: Date.UTC(2026, 2, 3, 1, 0, 0),
  spanMs: 3_600_000,
  parts: [
    { capture: 'sipp-flood-register-leaky', share: 12 },
    { capture: 'sipp-flood-register-hardened', share: 6 },
    { capture: 'sipp-flood-invite-leaky', share: 12 },
    { capture: 'sipsak-flood-options-3cx', share: 10 },
    { capture: 'svcrack-hardened-blocked', share: 12 },
    { capture: 'svcrack-leaky', share: 4 },
    { capture: 'svcrack-3cx', share: 4 },
    { capture: 'svwar-register-leaky', share: 5 },
    { capture: 'svwar-options-leaky', share: 4 },
    { capture: 'svwar-invite-leaky', share: 4 },
    { capture: 'svwar-options-3cx', share: 3 },
    { capture: 'svwar-options-hardened', share: 2 },
    { capture: 'svwar-invite-3cx', share: 0.5 },
    { capture: 'svwar-invite-hardened', share: 0.5 },
    { capture: 'svwar-register-3cx', share: 0.5 },
    { capture: 'svwar-register-hardened', share: 0.5 },
    { capture: 'sipp-credential-stuffing-3cx', share: 6 },
    { capture: 'sipp-credential-stuffing-leaky', share: 2 },
    { capture: 'sipp-distributed-bruteforce-3cx', share: 5 },
    { capture: 'sipsak-bruteforce-leaky', share: 3 },
    { capture: 'benign-phones-register-3cx', share: 1.5 },
    { capture: 'benign-options-keepalive-hardened', share: 1.5 },
    { capture: 'benign-call-udp-leaky', share: 1 },
  ],
};

/** The benchmark's captures, in the order they are run. */
export const MIXES: readonly Mix[] = [OFFICE, ATTACK];

/** What was generated, stored as `<name>.json` beside the capture. */
export interface CaptureManifest {
  readonly name: string;
  readonly title: string;
  readonly file: string;
  /** Hash of the generator, its inputs and options: the file is rebuilt when it changes. */
  readonly fingerprint: string;
  readonly bytes: number;
  readonly frames: number;
  /** SIP messages written (every frame carries one). */
  readonly sipMessages: number;
  /** Benign share of the SIP messages, percent. */
  readonly benignPercent: number;
  readonly replicas: number;
  readonly firstTime: string;
  readonly lastTime: string;
  /** Distinct phone and attacker addresses used. */
  readonly phoneAddresses: number;
  readonly attackerAddresses: number;
  /** Most characters of a Call-ID / branch overwritten by the replica tag. */
  readonly tagChars: { readonly callId: number; readonly branch: number; readonly nonce: number };
  /** Per lab capture: replicas and SIP messages. */
  readonly parts: readonly { capture: string; replicas: number; sipMessages: number }[];
  readonly generatedAt: string;
  readonly generateSeconds: number;
}

// ---------------------------------------------------------------------------------------------
// Templates: the UDP SIP frames of one lab capture, with what each replica rewrites in them.

const KIND_CALL_ID = 0;
const KIND_BRANCH = 1;
const KIND_NONCE = 2;
type Kind = typeof KIND_CALL_ID | typeof KIND_BRANCH | typeof KIND_NONCE;
const KINDS: readonly Kind[] = [KIND_CALL_ID, KIND_BRANCH, KIND_NONCE];

/** One Call-ID or branch value inside a frame. */
interface Occurrence {
  readonly kind: Kind;
  /** Frame offsets of the value's first and one-past-last byte. */
  readonly start: number;
  readonly end: number;
  readonly value: string;
}

interface TemplateFrame {
  /** Microseconds after the template's first frame. */
  readonly offsetUs: number;
  readonly data: Buffer;
  /** Frame offset of the IPv4 header. */
  readonly ip: number;
  /** Address slot of the source / destination (-1: kept). */
  readonly srcSlot: number;
  readonly dstSlot: number;
  readonly occurrences: readonly Occurrence[];
  /** SDP media ports: frame offset of the first digit, digit count and value, per port. */
  readonly ports: readonly { readonly at: number; readonly digits: number; readonly port: number }[];
}

interface Template {
  readonly name: string;
  readonly frames: readonly TemplateFrame[];
  /** Original address of each slot and whether it is a phone (else an attacker). */
  readonly slots: readonly { readonly address: string; readonly phone: boolean }[];
  readonly durationUs: number;
  readonly benign: boolean;
  readonly bytes: number;
}

/** Reads a lab capture and keeps its Ethernet/IPv4/UDP frames that carry SIP. */
async function loadTemplate(name: string): Promise<Template> {
  const path = join(FIXTURE_DIR, `${name}.pcap`);
  const raw: { timeUs: number; data: Buffer }[] = [];
  const summary = await readCaptureFile(path, (f) => {
    if (f.linkType !== 1) return;
    raw.push({ timeUs: Math.round(f.time * 1000), data: Buffer.from(f.data) });
  });
  if (summary.error !== undefined) throw new Error(`${path}: ${summary.error.message}`);
  const slotOf = new Map<string, number>();
  const slots: { address: string; phone: boolean }[] = [];
  const slot = (b: Buffer, at: number): number => {
    const a = `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;
    if (KEPT_ADDRESSES.has(a)) return -1;
    let s = slotOf.get(a);
    if (s === undefined) {
      s = slots.length;
      slotOf.set(a, s);
      slots.push({ address: a, phone: a.startsWith(PHONE_PREFIX) });
    }
    return s;
  };
  const frames: TemplateFrame[] = [];
  let first = -1;
  let bytes = 0;
  for (const { timeUs, data } of raw) {
    if (data.length < 14 + 20 + 8 || data.readUInt16BE(12) !== 0x0800) continue;
    const ip = 14;
    const ihl = (data[ip]! & 0x0f) * 4;
    // Fragments are left out: the lab never fragments on lo, and rewriting them needs reassembly.
    if (data[ip]! >> 4 !== 4 || ihl < 20 || data[ip + 9] !== 17 || (data.readUInt16BE(ip + 6) & 0x3fff) !== 0)
      continue;
    const payload = ip + ihl + 8;
    if (payload > data.length || !looksLikeSip(data, payload)) continue;
    if (first < 0) first = timeUs;
    frames.push({
      offsetUs: timeUs - first,
      data,
      ip,
      srcSlot: slot(data, ip + 12),
      dstSlot: slot(data, ip + 16),
      occurrences: findOccurrences(data, payload),
      ports: findMediaPorts(data, payload),
    });
    bytes += data.length;
  }
  if (frames.length === 0) throw new Error(`${path}: no UDP SIP frames`);
  return {
    name,
    frames,
    slots,
    durationUs: frames[frames.length - 1]!.offsetUs,
    benign: name.startsWith('benign-'),
    bytes,
  };
}

const SIP_VERSION = Buffer.from('SIP/2.0', 'latin1');

/** A SIP start line: `SIP/2.0 ` (a response) or `... SIP/2.0` ending the first line (a request). */
function looksLikeSip(b: Buffer, at: number): boolean {
  if (b.length - at >= 8 && b.compare(SIP_VERSION, 0, 7, at, at + 7) === 0 && b[at + 7] === 0x20) return true;
  const eol = b.indexOf(0x0d, at);
  return eol - at > 8 && b.compare(SIP_VERSION, 0, 7, eol - 7, eol) === 0;
}

function isTokenEnd(c: number): boolean {
  // ; , SP HTAB CR LF > "
  return (
    c === 0x3b ||
    c === 0x2c ||
    c === 0x20 ||
    c === 0x09 ||
    c === 0x0d ||
    c === 0x0a ||
    c === 0x3e ||
    c === 0x22
  );
}

/** Every Via branch, Call-ID and digest nonce value in the SIP header of the payload at `at`. */
function findOccurrences(b: Buffer, at: number): Occurrence[] {
  const out: Occurrence[] = [];
  let headEnd = b.indexOf('\r\n\r\n', at, 'latin1');
  if (headEnd < 0) headEnd = b.length;
  const text = b.toString('latin1', at, headEnd).toLowerCase();
  for (let i = text.indexOf('branch='); i >= 0; i = text.indexOf('branch=', i + 7)) {
    const start = at + i + 7;
    let end = start;
    while (end < headEnd && !isTokenEnd(b[end]!)) end++;
    if (end > start) out.push({ kind: KIND_BRANCH, start, end, value: b.toString('latin1', start, end) });
  }
  // Digest nonces, in challenges and in credentials alike (not cnonce or nextnonce).
  for (let i = text.indexOf('nonce="'); i >= 0; i = text.indexOf('nonce="', i + 7)) {
    const before = text.charCodeAt(i - 1);
    if (before >= 0x61 && before <= 0x7a) continue;
    const start = at + i + 7;
    const end = b.indexOf(0x22, start);
    if (end > start && end < headEnd) {
      out.push({ kind: KIND_NONCE, start, end, value: b.toString('latin1', start, end) });
    }
  }
  // Header lines only (each starts after CRLF): `Call-ID:` or its compact form `i:`.
  for (let i = text.indexOf('\r\n'); i >= 0; i = text.indexOf('\r\n', i + 2)) {
    const line = i + 2;
    let colon: number;
    if (text.startsWith('call-id', line)) colon = line + 7;
    else if (text.startsWith('i', line)) colon = line + 1;
    else continue;
    while (text[colon] === ' ' || text[colon] === '\t') colon++;
    if (text[colon] !== ':') continue;
    let s = colon + 1;
    while (text[s] === ' ' || text[s] === '\t') s++;
    let e = s;
    while (e < text.length && text[e] !== '\r' && text[e] !== '\n') e++;
    while (e > s && (text[e - 1] === ' ' || text[e - 1] === '\t')) e--;
    if (e > s)
      out.push({
        kind: KIND_CALL_ID,
        start: at + s,
        end: at + e,
        value: b.toString('latin1', at + s, at + e),
      });
  }
  return out;
}

/** Ports of `m=` and `a=rtcp:` lines in the body of the SIP message at `at` (4 or 5 digits). */
function findMediaPorts(b: Buffer, at: number): { at: number; digits: number; port: number }[] {
  const body = b.indexOf('\r\n\r\n', at, 'latin1');
  if (body < 0) return [];
  const out: { at: number; digits: number; port: number }[] = [];
  const text = b.toString('latin1', body + 2);
  const re = /\r?\n(?:m=[a-z]+ |a=rtcp:)([0-9]{4,5})(?=[ /\r\n])/g;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const port = Number(m[1]);
    if (port >= 1000 && port <= 65535)
      out.push({ at: body + 2 + m.index + m[0].length - m[1]!.length, digits: m[1]!.length, port });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Replica tags. A tag is a number written over `w` alphanumeric characters of the value, taken
// from its start (after the branch's magic cookie) or from its end, whichever keeps more of the
// template's values apart. A value made only of digits (SIPVicious' Call-ID, its `z9hG4bK-<digits>`
// branch) gets decimal digits, so its fingerprint survives; any other value gets base 36. The
// number is `offset + replica * G + g`: each template owns the range [offset, offset + replicas *
// G) of the file, `replica` counts its replicas, and `g` separates the values of the template that
// are equal outside the window (G is the most such values). So no two Call-IDs (or branches) of
// different replicas, or of different calls in one replica, are equal. The window is 4 characters
// unless a value's radix^w cannot hold every tag of the file; then that template's window widens.

const BRANCH_COOKIE = 'z9hG4bK';
const ANCHOR_START = 0;
const ANCHOR_END = 1;
const MIN_TAG_CHARS = 4;
const MAX_TAG_CHARS = 12;
/** Characters of a nonce left alone before its tag (Kamailio: 8 base64 characters of timestamps). */
const NONCE_SKIP = 12;

/** Where tagging may start: after the branch's magic cookie. */
function tagFrom(kind: Kind, value: string): number {
  if (kind === KIND_BRANCH && value.startsWith(BRANCH_COOKIE)) return BRANCH_COOKIE.length;
  // Kamailio's nonce starts with its expiry time: keep it, tag the hash after it.
  if (kind === KIND_NONCE) return Math.min(NONCE_SKIP, Math.max(0, value.length - 2 * MIN_TAG_CHARS));
  return 0;
}

/** 10 when the taggable part is digits (after an optional '-'), else 36. */
function radixOfValue(kind: Kind, value: string): number {
  const rest = value.slice(tagFrom(kind, value));
  return /^-?[0-9]+$/.test(rest) ? 10 : 36;
}

/** Value-relative positions of the `w` tag characters, or undefined when there are too few. */
function tagWindow(kind: Kind, value: string, anchor: number, w: number): number[] | undefined {
  const from = tagFrom(kind, value);
  const pos: number[] = [];
  if (anchor === ANCHOR_START) {
    for (let i = from; i < value.length && pos.length < w; i++) if (isAlnum(value.charCodeAt(i))) pos.push(i);
  } else {
    for (let i = value.length - 1; i >= from && pos.length < w; i--)
      if (isAlnum(value.charCodeAt(i))) pos.unshift(i);
  }
  return pos.length === w ? pos : undefined;
}

function isAlnum(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

function masked(value: string, pos: readonly number[]): string {
  const chars = value.split('');
  for (const p of pos) chars[p] = '\u0000';
  return chars.join('');
}

const DIGITS36 = Buffer.from('0123456789abcdefghijklmnopqrstuvwxyz', 'latin1');

/** An edit of one frame: write the replica's tag number over `positions` in `radix`. */
interface TagEdit {
  readonly kind: Kind;
  readonly positions: Int32Array;
  readonly radix: number;
  readonly group: number;
}

/** A template as one output file uses it: its tag ranges and the tag edits of each frame. */
interface Plan {
  readonly template: Template;
  readonly replicas: number;
  /** Per kind: first tag number of the template's range, and G. */
  readonly offset: readonly number[];
  readonly g: readonly number[];
  readonly width: readonly number[];
  readonly edits: readonly (readonly TagEdit[])[];
}

interface TagChoice {
  anchor: number;
  /** Value → index among the template's values equal to it outside the window. */
  groups: Map<string, number>;
  /** Largest group (G), at least 1. */
  size: number;
  /** Smallest radix^w among the values. */
  capacity: number;
}

/** Chooses the anchor for one template and kind at window width `w`. */
function chooseAnchor(t: Template, kind: Kind, w: number): TagChoice | undefined {
  const values = new Set<string>();
  for (const f of t.frames) for (const o of f.occurrences) if (o.kind === kind) values.add(o.value);
  let best: TagChoice | undefined;
  for (const anchor of [ANCHOR_START, ANCHOR_END]) {
    const byMask = new Map<string, number>();
    const groups = new Map<string, number>();
    let size = 1;
    let capacity = Infinity;
    let ok = true;
    for (const v of values) {
      const pos = tagWindow(kind, v, anchor, w);
      if (pos === undefined) {
        ok = false;
        break;
      }
      const m = masked(v, pos);
      const g = byMask.get(m) ?? 0;
      byMask.set(m, g + 1);
      groups.set(v, g);
      if (g + 1 > size) size = g + 1;
      capacity = Math.min(capacity, radixOfValue(kind, v) ** w);
    }
    if (ok && (best === undefined || size < best.size)) best = { anchor, groups, size, capacity };
  }
  return best;
}

/**
 * Plans the tag edits of the templates of a mix (`replicas[i]` replicas of `templates[i]`): the
 * narrowest windows whose capacity holds every tag of the file.
 */
function planTags(templates: readonly Template[], replicas: readonly number[]): Plan[] {
  const width = templates.map(() => KINDS.map(() => MIN_TAG_CHARS));
  for (;;) {
    const choices = templates.map((t, ti) =>
      KINDS.map((k) => {
        const c = chooseAnchor(t, k as Kind, width[ti]![k]!);
        if (c === undefined)
          throw new Error(
            `${t.name}: a ${kindName(k as Kind)} too short for a ${width[ti]![k]}-character tag`,
          );
        return c;
      }),
    );
    const total = KINDS.map(() => 0);
    const offsets = templates.map((_, ti) =>
      KINDS.map((k) => {
        const at = total[k]!;
        total[k] = at + replicas[ti]! * choices[ti]![k]!.size;
        return at;
      }),
    );
    let widened = false;
    templates.forEach((t, ti) => {
      for (const k of KINDS) {
        if (choices[ti]![k]!.capacity >= total[k]!) continue;
        if (++width[ti]![k]! > MAX_TAG_CHARS)
          throw new Error(`${t.name}: cannot tag ${total[k]} ${kindName(k as Kind)}s`);
        widened = true;
      }
    });
    if (widened) continue;
    return templates.map((t, ti) => ({
      template: t,
      replicas: replicas[ti]!,
      offset: offsets[ti]!,
      g: choices[ti]!.map((c) => c.size),
      width: width[ti]!,
      edits: t.frames.map((f) =>
        f.occurrences.map((o) => {
          const c = choices[ti]![o.kind]!;
          const pos = tagWindow(o.kind, o.value, c.anchor, width[ti]![o.kind]!)!;
          return {
            kind: o.kind,
            positions: Int32Array.from(pos, (p) => o.start + p),
            radix: radixOfValue(o.kind, o.value),
            group: c.groups.get(o.value)!,
          };
        }),
      ),
    }));
  }
}

function kindName(k: Kind): string {
  return k === KIND_CALL_ID ? 'Call-ID' : k === KIND_BRANCH ? 'branch' : 'nonce';
}

// ---------------------------------------------------------------------------------------------
// Streaming pcap writer: one fixed buffer, flushed with writeSync when full.

const WRITE_BUFFER_BYTES = 4 * 1024 * 1024;

class PcapWriter {
  private readonly buf = Buffer.allocUnsafe(WRITE_BUFFER_BYTES);
  private used = 0;
  bytes = 0;
  constructor(private readonly fd: number) {
    const h = Buffer.alloc(24);
    h.writeUInt32LE(0xa1b2c3d4, 0);
    h.writeUInt16LE(2, 4);
    h.writeUInt16LE(4, 6);
    h.writeUInt32LE(262144, 16);
    h.writeUInt32LE(1, 20); // LINKTYPE_ETHERNET, as the lab captures
    this.put(h);
  }

  /** Reserves room for a record of `len` bytes, writes its header, and returns where its data goes. */
  record(timeUs: number, len: number): { buf: Buffer; at: number } {
    if (this.used + 16 + len > this.buf.length) this.flush();
    const b = this.buf;
    const at = this.used;
    b.writeUInt32LE(Math.floor(timeUs / 1e6), at);
    b.writeUInt32LE(timeUs % 1e6, at + 4);
    b.writeUInt32LE(len, at + 8);
    b.writeUInt32LE(len, at + 12);
    this.used += 16 + len;
    this.bytes += 16 + len;
    return { buf: b, at: at + 16 };
  }

  private put(data: Buffer): void {
    data.copy(this.buf, this.used);
    this.used += data.length;
    this.bytes += data.length;
  }

  flush(): void {
    let off = 0;
    while (off < this.used) off += writeSync(this.fd, this.buf, off, this.used - off);
    this.used = 0;
  }
}

// ---------------------------------------------------------------------------------------------
// Scheduling and the time-ordered merge of replicas.

/** Deterministic PRNG (mulberry32), so a rebuild gives the same file. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Job {
  readonly plan: Plan;
  /** Order of the replica in the file (breaks ties in time). */
  readonly id: number;
  /** Index of the replica among its template's. */
  readonly replica: number;
  readonly startUs: number;
  /** IPv4 address (as uint32) of each slot of the template. */
  addresses: Uint32Array | undefined;
  next: number;
  nextUs: number;
}

/** Min-heap of active replicas by the time of their next frame. */
class JobHeap {
  private readonly a: Job[] = [];
  get size(): number {
    return this.a.length;
  }
  peek(): Job | undefined {
    return this.a[0];
  }
  push(j: Job): void {
    const a = this.a;
    a.push(j);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(a[i]!, a[p]!)) break;
      [a[i], a[p]] = [a[p]!, a[i]!];
      i = p;
    }
  }
  /** Restores order after the top's key grew, or removes the top when `remove`. */
  siftTop(remove: boolean): void {
    const a = this.a;
    if (remove) {
      const last = a.pop()!;
      if (a.length === 0) return;
      a[0] = last;
    }
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < a.length && less(a[l]!, a[m]!)) m = l;
      if (r < a.length && less(a[r]!, a[m]!)) m = r;
      if (m === i) return;
      [a[i], a[m]] = [a[m]!, a[i]!];
      i = m;
    }
  }
}

function less(x: Job, y: Job): boolean {
  return x.nextUs < y.nextUs || (x.nextUs === y.nextUs && x.id < y.id);
}

const PHONE_BASE = (10 << 24) >>> 0; // 10.0.0.0/8
const ATTACKER_BASE = ((198 << 24) | (18 << 16)) >>> 0; // 198.18.0.0/15
const ATTACKER_SPACE = 1 << 17;
/** Odd, so i → i * STRIDE mod 2^17 is a bijection: consecutive attackers land in different /24s. */
const ATTACKER_STRIDE = 40503;

/** Hands out fresh addresses: phones in consecutive host addresses, attackers spread over the range. */
class AddressPool {
  phones = 0;
  attackers = 0;
  private phoneNext = 1 << 16; // from 10.1.0.0

  phone(): number {
    // Skip .0 and .255 so every phone looks like a host of a /24.
    while ((this.phoneNext & 0xff) === 0 || (this.phoneNext & 0xff) === 0xff) this.phoneNext++;
    this.phones++;
    return (PHONE_BASE + this.phoneNext++) >>> 0;
  }

  attacker(): number {
    const i = this.attackers++ % ATTACKER_SPACE;
    return (ATTACKER_BASE + ((i * ATTACKER_STRIDE) % ATTACKER_SPACE)) >>> 0;
  }
}

/** Number of replicas of each part so that the mix holds at least `messages` SIP messages. */
function replicaCounts(mix: Mix, templates: ReadonlyMap<string, Template>, messages: number): number[] {
  const total = mix.parts.reduce((s, p) => s + p.share, 0);
  const counts = mix.parts.map((p) =>
    Math.max(1, Math.ceil(((p.share / total) * messages) / templates.get(p.capture)!.frames.length)),
  );
  return counts;
}

/** Writes one mix to `path` and returns its manifest (without fingerprint). */
function writeMix(
  mix: Mix,
  templates: ReadonlyMap<string, Template>,
  messages: number,
  path: string,
): Omit<CaptureManifest, 'fingerprint' | 'generatedAt' | 'generateSeconds'> {
  const counts = replicaCounts(mix, templates, messages);
  const parts = mix.parts.map((p) => templates.get(p.capture)!);
  const plans = planTags(parts, counts);
  for (const t of parts) {
    if (t.durationUs > mix.spanMs * 1000)
      throw new Error(`${t.name} lasts longer than the ${mix.name} capture`);
  }
  // Shuffle the replicas so the parts are interleaved, then spread their starts over the span.
  const rnd = prng(0x51f0 + mix.name.length);
  const order: [number, number][] = [];
  counts.forEach((n, pi) => {
    for (let r = 0; r < n; r++) order.push([pi, r]);
  });
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const startUs = mix.start * 1000;
  const spanUs = mix.spanMs * 1000;
  const jobs: Job[] = order.map(([pi, replica], i) => {
    const plan = plans[pi]!;
    const room = spanUs - plan.template.durationUs;
    const at = startUs + Math.floor((room * (i + rnd())) / order.length);
    return { plan, id: i, replica, startUs: at, addresses: undefined, next: 0, nextUs: at };
  });
  // Starts grow with i except where a long template's room is smaller: sort to be sure.
  jobs.sort((a, b) => a.startUs - b.startUs || a.id - b.id);

  const pool = new AddressPool();
  const heap = new JobHeap();
  const fd = openSync(path, 'w');
  const out = new PcapWriter(fd);
  let frames = 0;
  let benign = 0;
  let first = Infinity;
  let last = -Infinity;
  let ji = 0;
  try {
    while (ji < jobs.length || heap.size > 0) {
      // Activate every replica that starts before the earliest pending frame.
      while (ji < jobs.length && (heap.size === 0 || jobs[ji]!.startUs <= heap.peek()!.nextUs)) {
        const j = jobs[ji++]!;
        const slots = j.plan.template.slots;
        j.addresses = new Uint32Array(slots.length);
        for (let s = 0; s < slots.length; s++)
          j.addresses[s] = slots[s]!.phone ? pool.phone() : pool.attacker();
        j.nextUs = j.startUs + j.plan.template.frames[0]!.offsetUs;
        heap.push(j);
      }
      const j = heap.peek()!;
      const t = j.plan.template;
      const f = t.frames[j.next]!;
      const timeUs = j.nextUs;
      const { buf, at } = out.record(timeUs, f.data.length);
      f.data.copy(buf, at);
      rewrite(buf, at, f, j, j.plan.edits[j.next]!);
      frames++;
      if (t.benign) benign++;
      if (timeUs < first) first = timeUs;
      if (timeUs > last) last = timeUs;
      j.next++;
      if (j.next < t.frames.length) {
        j.nextUs = j.startUs + t.frames[j.next]!.offsetUs;
        heap.siftTop(false);
      } else {
        j.addresses = undefined;
        heap.siftTop(true);
      }
    }
    out.flush();
  } finally {
    closeSync(fd);
  }
  return {
    name: mix.name,
    title: mix.title,
    file: path,
    bytes: out.bytes,
    frames,
    sipMessages: frames,
    benignPercent: Math.round((benign / frames) * 1000) / 10,
    replicas: jobs.length,
    firstTime: new Date(first / 1000).toISOString(),
    lastTime: new Date(last / 1000).toISOString(),
    phoneAddresses: pool.phones,
    attackerAddresses: Math.min(pool.attackers, ATTACKER_SPACE),
    tagChars: {
      callId: Math.max(...plans.map((p) => p.width[KIND_CALL_ID]!)),
      branch: Math.max(...plans.map((p) => p.width[KIND_BRANCH]!)),
      nonce: Math.max(...plans.map((p) => p.width[KIND_NONCE]!)),
    },
    parts: mix.parts.map((p, i) => ({
      capture: p.capture,
      replicas: counts[i]!,
      sipMessages: counts[i]! * templates.get(p.capture)!.frames.length,
    })),
  };
}

/** Applies one replica's changes to the frame copied at `buf[at..]`. */
function rewrite(buf: Buffer, at: number, f: TemplateFrame, j: Job, edits: readonly TagEdit[]): void {
  const ip = at + f.ip;
  if (f.srcSlot >= 0) buf.writeUInt32BE(j.addresses![f.srcSlot]!, ip + 12);
  if (f.dstSlot >= 0) buf.writeUInt32BE(j.addresses![f.dstSlot]!, ip + 16);
  const ihl = (buf[ip]! & 0x0f) * 4;
  buf.writeUInt16BE(0, ip + 10);
  let sum = 0;
  for (let i = 0; i < ihl; i += 2) sum += buf.readUInt16BE(ip + i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  buf.writeUInt16BE(~sum & 0xffff, ip + 10);
  buf.writeUInt16BE(0, ip + ihl + 6);
  for (const p of f.ports) {
    // Same digit count and parity; distinct for the first (hi - lo) / 2 replicas of the file.
    const lo = p.digits === 4 ? 1000 : 10000;
    const span = (p.digits === 4 ? 10000 : 65536) - lo;
    let port = lo + ((p.port - lo + 2 * j.id) % span);
    for (let k = p.digits - 1; k >= 0; k--) {
      buf[at + p.at + k] = 0x30 + (port % 10);
      port = Math.floor(port / 10);
    }
  }
  for (const e of edits) {
    const p = j.plan;
    let n = p.offset[e.kind]! + j.replica * p.g[e.kind]! + e.group;
    for (let k = e.positions.length - 1; k >= 0; k--) {
      buf[at + e.positions[k]!] = DIGITS36[n % e.radix]!;
      n = Math.floor(n / e.radix);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Entry points.

/** Options of ensureCaptures. */
export interface EnsureOptions {
  /** SIP messages per capture (at least). */
  readonly messages?: number;
  /** Rebuild even when up to date. */
  readonly force?: boolean;
  readonly outDir?: string;
  /** Progress lines (default: stderr). */
  readonly log?: (line: string) => void;
}

/**
 * Makes sure every benchmark capture exists and is up to date (same generator, inputs and
 * options), building the missing or stale ones; returns their manifests.
 */
export async function ensureCaptures(options: EnsureOptions = {}): Promise<CaptureManifest[]> {
  const messages = options.messages ?? DEFAULT_MESSAGES;
  const outDir = options.outDir ?? OUT_DIR;
  const log = options.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  mkdirSync(outDir, { recursive: true });
  const names = [...new Set(MIXES.flatMap((m) => m.parts.map((p) => p.capture)))].sort();
  const hash = createHash('sha256');
  hash.update(readFileSync(fileURLToPath(import.meta.url)));
  for (const n of names) hash.update(n).update(readFileSync(join(FIXTURE_DIR, `${n}.pcap`)));
  hash.update(String(messages));
  const base = hash.digest('hex').slice(0, 16);
  let templates: Map<string, Template> | undefined;
  const manifests: CaptureManifest[] = [];
  for (const mix of MIXES) {
    const file = join(outDir, `${mix.name}.pcap`);
    const manifestPath = join(outDir, `${mix.name}.json`);
    const fingerprint = `${base}-${mix.name}`;
    if (options.force !== true && existsSync(file) && existsSync(manifestPath)) {
      const old = JSON.parse(await readFile(manifestPath, 'utf8')) as CaptureManifest;
      if (old.fingerprint === fingerprint && statSync(file).size === old.bytes) {
        log(`${file}: up to date (${old.sipMessages} SIP messages), reused`);
        manifests.push(old);
        continue;
      }
    }
    if (templates === undefined) {
      templates = new Map();
      for (const n of names) templates.set(n, await loadTemplate(n));
    }
    log(`${file}: building ${mix.title}, at least ${messages} SIP messages ...`);
    const t0 = process.hrtime.bigint();
    const tmp = `${file}.tmp`;
    const m = writeMix(mix, templates, messages, tmp);
    renameSync(tmp, file);
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const manifest: CaptureManifest = {
      ...m,
      file,
      fingerprint,
      generatedAt: new Date().toISOString(),
      generateSeconds: Math.round(seconds * 10) / 10,
    };
    await writeFile(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
    log(
      `${file}: ${m.sipMessages} SIP messages, ${m.replicas} replicas, ${(m.bytes / 1e6).toFixed(0)} MB in ${seconds.toFixed(1)} s`,
    );
    manifests.push(manifest);
  }
  return manifests;
}

async function main(args: string[]): Promise<void> {
  let messages = DEFAULT_MESSAGES;
  let force = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--force') force = true;
    else if (a === '--messages') messages = Number(args[++i]);
    else throw new Error(`usage: make-captures [--force] [--messages N] (got ${a})`);
  }
  if (!Number.isInteger(messages) || messages < 1) throw new Error('--messages must be a positive integer');
  const ms = await ensureCaptures({ messages, force });
  for (const m of ms)
    process.stdout.write(`${basename(m.file)}: ${m.sipMessages} SIP messages, ${m.bytes} bytes\n`);
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.chdir(join(dirname(fileURLToPath(import.meta.url)), '..', '..'));
  main(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`make-captures: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
}
