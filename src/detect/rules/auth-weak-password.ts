import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  DETECT_WEAK_PASSWORD_MAX_BODY_BYTES,
  DETECT_WEAK_PASSWORD_MAX_CANDIDATE_CHARS,
  DETECT_WEAK_PASSWORD_MAX_CHECKED,
  DETECT_WEAK_PASSWORD_MAX_LIST,
  DETECT_WEAK_PASSWORD_MAX_QUEUE,
} from '../../config/limits.js';
import { escapeText } from '../../core/escape.js';
import { digestResponder, digestSupported, type DigestInput } from '../../sip/digest.js';
import type { Transaction } from '../../track/transactions.js';
import { isSipAttempt, type AuthAttempt, type SipAttempt } from '../attempts.js';
import type { DetectorContext, RuleModule } from '../rule.js';
import { FifoMap } from '../../core/fifo-map.js';

/** One password to try and the class reported when it matches. */
export interface PasswordCandidate {
  readonly text: string;
  readonly cls: string;
}

/** The bundled list, split into plain entries and `{ext}` templates. */
export interface PasswordList {
  readonly entries: readonly PasswordCandidate[];
  readonly templates: readonly PasswordCandidate[];
  /** Where it was read from ('' when it was not found: only derived candidates are tried). */
  readonly path: string;
}

/** Path of the bundled list inside the package. */
export const PASSWORD_LIST_PATH = 'data/passwords/common-sip-passwords.txt';

/**
 * The package root: the nearest directory above this module holding package.json and data/, so the
 * list is found from src/ (tests run from the repository) and from dist/src/ (the built package).
 */
export function packageRoot(from: string = dirname(fileURLToPath(import.meta.url))): string | undefined {
  let dir = from;
  for (let i = 0; i < 8; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, PASSWORD_LIST_PATH))) return dir;
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return undefined;
}

/** Parses the list format of data/passwords/SOURCE.md (comments, `# class:` lines, entries). */
export function parsePasswordList(text: string, path = ''): PasswordList {
  const entries: PasswordCandidate[] = [];
  const templates: PasswordCandidate[] = [];
  const seen = new Set<string>();
  let cls = 'common-word';
  for (const raw of text.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line === '') continue;
    if (line.startsWith('#')) {
      const m = /^#\s*class:\s*([a-z0-9-]+)\s*$/.exec(line);
      if (m !== null) cls = m[1] as string;
      continue;
    }
    if (line.length > DETECT_WEAK_PASSWORD_MAX_CANDIDATE_CHARS || seen.has(line)) continue;
    if (entries.length + templates.length >= DETECT_WEAK_PASSWORD_MAX_LIST) break;
    seen.add(line);
    (line.includes('{ext}') ? templates : entries).push({ text: line, cls });
  }
  return { entries, templates, path };
}

let bundled: PasswordList | undefined;

/** The bundled list, read once (startup I/O, never on the packet path); empty when not found. */
export function bundledPasswordList(): PasswordList {
  if (bundled !== undefined) return bundled;
  const root = packageRoot();
  const path = root === undefined ? '' : join(root, PASSWORD_LIST_PATH);
  bundled =
    path === '' ? { entries: [], templates: [], path } : parsePasswordList(readFileSync(path, 'utf8'), path);
  return bundled;
}

/** A password shown masked: first and last character kept (`1**4`), all masked up to 2 characters. */
export function maskPassword(p: string): string {
  const cps = [...p];
  if (cps.length <= 2) return '*'.repeat(cps.length);
  return `${cps[0] as string}${'*'.repeat(cps.length - 2)}${cps[cps.length - 1] as string}`;
}

/** One accepted digest waiting to be tested. */
interface Job {
  readonly key: string;
  readonly tx: Transaction;
  readonly cred: DigestInput;
  readonly response: string;
  /** The response a password gives with this job's credentials. */
  readonly respond: (password: string) => string;
  /** Candidates derived from the extension and identity, tried before the list. */
  readonly derived: readonly PasswordCandidate[];
  next: number;
  readonly a: SipAttempt;
  readonly extension: string;
}

/** auth.weak-password: an accepted digest that cracks against a small list (off the packet path). */
export const authWeakPassword: RuleModule = {
  meta: {
    id: 'auth.weak-password',
    title: 'Weak password accepted',
    severity: 'critical',
    description:
      'An accepted digest (the PBX answered the credentials with success) is tested, once per identity and off the ' +
      'packet path (at most `candidatesPerSecond` digest computations per second of event time, and at most ' +
      '`candidatesPerTick` at once), against the extension ' +
      "number, the digest user name, simple derivations of them (twice, reversed, and the list's `{ext}` templates) " +
      'and the bundled list of common SIP passwords and PINs (data/passwords). MD5, SHA-256 and SHA-512-256, their ' +
      '-sess variants, qop=auth, qop=auth-int and RFC 2069 digests without qop are supported. The password is never ' +
      'stored or shown in clear: the alert shows it masked (first and last character) and the class of the entry ' +
      'that matched.',
    falsePositives:
      'None in the sense of a wrong match: a match means the password is in the list. Digests with userhash=true, ' +
      'unknown algorithms or an auth-int body over the size bound are not tested. An identity is tested once per run ' +
      '(again only if it was forgotten past the bound), so a password changed later is not re-tested.',
    remediation:
      "3CX: give the extension a new long random Authentication ID and password (the extension's settings, " +
      'Authentication), re-provision the phone so it gets them, keep Security → Anti-Hacking enabled and restrict ' +
      'the extension to the LAN if it never registers from outside. Any PBX (Asterisk, FreeSWITCH, Kamailio): use ' +
      'long random digest secrets (16+ characters), never the extension number or a PIN, restrict registrations to ' +
      'known networks, and rate-limit authentication failures (fail2ban, pike).',
    references: [
      'RFC 3261 §22 (Usage of HTTP Authentication)',
      'RFC 7616 §3.4 (response computation)',
      'RFC 8760 (digest algorithms for SIP)',
      'SIPVicious svcrack (offline and online digest cracking)',
    ],
    thresholds: { candidatesPerTick: 256, candidatesPerSecond: 20_000 },
    quietMs: 86_400_000,
  },
  create(ctx) {
    return new WeakPasswordDetector(ctx, bundledPasswordList());
  },
};

/** The detector behind `authWeakPassword`; exported for tests that give it their own list. */
export class WeakPasswordDetector {
  private readonly budget: number;
  private readonly perMs: number;
  /** Digest computations earned by event time and not yet spent (at most `budget`). */
  private credit = 0;
  private readonly queue: Job[] = [];
  private readonly byTx = new Map<Transaction, Job>();
  /** Identities queued or done ('queued' | 'done'), oldest first. */
  private readonly checked = new FifoMap<string, 'queued' | 'done'>();
  private now = -Infinity;
  /** Counters (for metrics and tests). */
  readonly stats = {
    queued: 0,
    tested: 0,
    cracked: 0,
    candidates: 0,
    queueDrops: 0,
    unsupported: 0,
    checkedEvictions: 0,
  };

  constructor(
    private readonly ctx: DetectorContext,
    private readonly list: PasswordList,
  ) {
    this.budget = Math.max(1, ctx.thresholds.candidatesPerTick ?? 256);
    this.perMs = Math.max(0.001, (ctx.thresholds.candidatesPerSecond ?? 20_000) / 1000);
  }

  onAttempt(a: AuthAttempt): void {
    if (a.outcome !== 'accepted' || !a.credentials || a.identity === '' || !isSipAttempt(a)) return;
    const key = `${a.realm}\u0000${a.identity}`;
    if (this.checked.has(key)) return;
    const msg = a.request.msg;
    const cred = msg.authorization ?? msg.proxyAuthorization;
    if (cred === undefined || cred.response === undefined || cred.userhash) {
      this.stats.unsupported++;
      return;
    }
    const authInt = cred.qop?.toLowerCase() === 'auth-int';
    // An algorithm or a parameter the computation cannot handle: nothing to test.
    if ((authInt && msg.body.length > DETECT_WEAK_PASSWORD_MAX_BODY_BYTES) || !digestSupported(cred)) {
      this.stats.unsupported++;
      return;
    }
    // Checked before any hashing: while the queue is full, every accepted login of an identity not
    // tested yet comes here.
    if (this.queue.length >= DETECT_WEAK_PASSWORD_MAX_QUEUE) {
      this.stats.queueDrops++;
      return;
    }
    // The body is hashed at once (HA2), so the responder keeps no view into the packet.
    const respond = digestResponder(cred, a.method, authInt ? msg.body : undefined) as (p: string) => string;
    const extension = extensionOf(a, this.ctx);
    const job: Job = {
      key,
      tx: a.tx,
      cred,
      response: cred.response.toLowerCase(),
      respond,
      derived: derive(a, extension, this.list.templates),
      next: 0,
      a,
      extension,
    };
    this.mark(key, 'queued');
    this.queue.push(job);
    this.byTx.set(a.tx, job);
    this.stats.queued++;
    if (a.time > this.now) this.now = a.time;
  }

  /** The work happens here, bounded per tick, so the packet path never pays for it. */
  onTick(now: number): void {
    // Ticks come with every message: a budget per tick would make the work grow with the packet
    // rate (a flood of accepted logins spent most of watch's time hashing). Work is earned by
    // event time instead, so its share of the CPU stays bounded whatever the rate.
    if (Number.isFinite(this.now) && now > this.now) {
      this.credit = Math.min(this.budget, this.credit + (now - this.now) * this.perMs);
    } else if (!Number.isFinite(this.now)) this.credit = this.budget;
    if (now > this.now) this.now = now;
    if (this.credit < 1 || this.queue.length === 0) return;
    let budget = Math.floor(this.credit);
    this.credit -= budget;
    while (budget > 0 && this.queue.length > 0) {
      const job = this.queue[0] as Job;
      budget -= this.step(job, budget);
      if (this.done(job)) this.finish(job);
    }
    // Unspent work stays earned (an empty queue spends nothing).
    if (budget > 0) this.credit = Math.min(this.budget, this.credit + budget);
  }

  /** The request is no longer needed for lookups; its queued job keeps what it needs. */
  onTransactionClosed(tx: Transaction): void {
    this.byTx.delete(tx);
  }

  /** End of input: no tick will come, so every queued job is finished now (bounded by the list
   * size, once per identity). */
  onFlush(): void {
    while (this.queue.length > 0) {
      const job = this.queue[0] as Job;
      this.step(job, Infinity);
      this.finish(job);
    }
  }

  private total(job: Job): number {
    return job.derived.length + this.list.entries.length;
  }

  private done(job: Job): boolean {
    return job.next >= this.total(job);
  }

  /** Tries up to `max` candidates; returns how many were tried. A match ends the job. */
  private step(job: Job, max: number): number {
    let tried = 0;
    const total = this.total(job);
    while (tried < max && job.next < total) {
      const i = job.next++;
      const c = i < job.derived.length ? job.derived[i] : this.list.entries[i - job.derived.length];
      if (c === undefined) continue;
      tried++;
      this.stats.candidates++;
      if (job.respond(c.text) === job.response) {
        this.cracked(job, c, i + 1);
        job.next = total;
        break;
      }
    }
    return tried;
  }

  private finish(job: Job): void {
    const i = this.queue.indexOf(job);
    if (i >= 0) this.queue.splice(i, 1);
    this.byTx.delete(job.tx);
    this.mark(job.key, 'done');
    this.stats.tested++;
  }

  private mark(key: string, state: 'queued' | 'done'): void {
    if (!this.checked.has(key) && this.checked.size >= DETECT_WEAK_PASSWORD_MAX_CHECKED) {
      this.checked.shift();
      this.stats.checkedEvictions++;
    }
    this.checked.set(key, state);
  }

  private cracked(job: Job, c: PasswordCandidate, tried: number): void {
    this.stats.cracked++;
    const a = job.a;
    // Only the mask and the class leave this function: the password itself is never kept.
    const masked = maskPassword(c.text);
    const ext = job.extension;
    const who = ext === a.identity ? `identity ${a.identity}` : `extension ${ext} (Auth ID ${a.identity})`;
    this.ctx.raise({
      key: `${a.realm}|${a.identity}`,
      time: Math.max(this.now, a.time),
      firstTime: a.time,
      count: 1,
      title: `Weak password for ${who}: cracked from its accepted digest`,
      source: { ip: a.srcIp, port: a.srcPort, transport: a.transport },
      target: { ip: a.dstIp, port: a.dstPort, extension: ext, identity: a.identity },
      evidence: {
        passwordMasked: masked,
        matchedClass: c.cls,
        candidatesTried: tried,
        listEntries: this.list.entries.length,
        identity: a.identity,
        realm: a.realm,
        method: a.method,
        status: a.status,
        algorithm: job.cred.algorithm ?? 'MD5',
        qop: job.cred.qop ?? 'none',
        userAgent: escapeText(a.userAgent, 80),
        frames: a.request.frame.provenance.frame === undefined ? [] : [a.request.frame.provenance.frame],
      },
    });
  }
}

/** The extension behind the login: told by the site, else the caller (From) or registered (To) user. */
function extensionOf(a: SipAttempt, ctx: DetectorContext): string {
  const told = ctx.site.extensionOf(a.identity);
  if (told !== a.identity) return told;
  const msg = a.request.msg;
  const user = a.method === 'REGISTER' ? (msg.to?.uri?.user ?? '') : (msg.from?.uri?.user ?? '');
  return user !== '' && /^[0-9*#+]{1,16}$/.test(user) ? user : a.identity;
}

/** Candidates from the login's own names: the extension, the identity, doubled, reversed, and the
 * list's `{ext}` templates filled with each. Deduplicated, bounded by the template count. */
function derive(
  a: SipAttempt,
  extension: string,
  templates: readonly PasswordCandidate[],
): PasswordCandidate[] {
  const out: PasswordCandidate[] = [];
  const seen = new Set<string>();
  const add = (text: string, cls: string): void => {
    if (text === '' || text.length > DETECT_WEAK_PASSWORD_MAX_CANDIDATE_CHARS || seen.has(text)) return;
    seen.add(text);
    out.push({ text, cls });
  };
  const msg = a.request.msg;
  const names = [
    extension,
    a.method === 'REGISTER' ? (msg.to?.uri?.user ?? '') : (msg.from?.uri?.user ?? ''),
  ];
  for (const n of names) add(n, 'equals-extension');
  add(a.identity, 'equals-identity');
  const bases = [...new Set([...names, a.identity].filter((n) => n !== '' && n.length <= 32))];
  for (const n of bases) {
    add(`${n}${n}`, 'extension-derived');
    add([...n].reverse().join(''), 'extension-derived');
  }
  for (const t of templates) for (const n of bases) add(t.text.split('{ext}').join(n), t.cls);
  return out;
}
