import {
  DETECT_MAX_REG_HIJACK_AORS,
  DETECT_MAX_REG_HIJACK_PENDING,
  DETECT_REG_HIJACK_BINDINGS_PER_AOR,
} from '../../config/limits.js';
import { BoundedTable } from '../../core/bounded-table.js';
import { escapeText } from '../../core/escape.js';
import { addressOfRecord, type Binding, type Registration } from '../../track/registrations.js';
import type { SipEvent } from '../../track/sip-event.js';
import type { DetectorContext, RuleModule } from '../rule.js';
import { networkOf } from './geo-hosting-provider.js';

/** A binding that moved to a new network with a new User-Agent while older ones were live. */
interface Suspect {
  readonly reg: Registration;
  readonly binding: Binding;
  /** The live bindings it may have replaced. */
  readonly priors: readonly Binding[];
  readonly request: SipEvent;
  readonly frame: number | undefined;
}

/**
 * A binding from another network with the User-Agent of the live binding it replaced, registered
 * under another Call-ID: the same phone that moved, or a second device copying its User-Agent. It is
 * a takeover if the replaced device, still alive, registers again from its own network with its own
 * Call-ID (a phone keeps one Call-ID for its registrations until it reboots, RFC 3261 §10.2.4).
 */
interface Twin {
  readonly suspect: Suspect;
  readonly prior: Binding;
  readonly priorCallId: string;
  readonly priorNetwork: string;
  /** The registrar dropped the prior binding for it (its 2xx listed only the new contact, or the
   * prior was removed): two devices then contend for one identity. */
  replaced: boolean;
}

/** True when `b` is newer network and software than every binding in `priors`. */
function moved(b: Binding, priors: readonly Binding[]): boolean {
  const net = networkOf(b.srcIp);
  for (const p of priors) {
    if (networkOf(p.srcIp) === net) return false;
    // The same phone on another network (Wi-Fi to mobile data) keeps its User-Agent.
    if (p.userAgent === b.userAgent) return false;
  }
  return true;
}

/** True when a REGISTER removes bindings: Contact: *, or a contact (or the request) with expires 0. */
function removes(req: SipEvent): boolean {
  const msg = req.msg;
  for (const c of msg.contacts) if (c.star || (c.expires ?? msg.expires) === 0) return true;
  return false;
}

/**
 * registration.hijack: an address of record's binding moves to another network with another
 * User-Agent and replaces the live binding it had (the registrar dropped or was told to drop it),
 * so that its calls now ring elsewhere.
 */
export const registrationHijack: RuleModule = {
  meta: {
    id: 'registration.hijack',
    title: 'Registration taken over from another network and device',
    severity: 'high',
    description:
      'Remembers the recent bindings of each address of record (REGISTER To URI) with their source network and ' +
      'User-Agent. A new binding from another network (IPv4 /24, IPv6 /64) with a User-Agent none of the live ' +
      'bindings had is reported when it replaces them: the registrar\u2019s 2xx lists only the new contact, or the ' +
      'old binding is removed (Contact: *, expires=0) before it expired, in the same REGISTER or at most ' +
      '`replaceSeconds` before. Calls to the extension then reach the new ' +
      'device: an attacker with the extension\u2019s password receives its calls and voicemail. An attacker that ' +
      'copies the phone\u2019s User-Agent is reported when the replaced device shows it is still alive: it registers ' +
      'again from its own network with the Call-ID of its earlier registrations (a phone keeps one until it ' +
      'reboots) before its old binding would have expired, while the new binding came with another Call-ID.',
    falsePositives:
      'Not counted: the first registration of an identity, a binding from the same network, the same User-Agent ' +
      'from a new network (a phone moving from Wi-Fi to mobile data, or rebooted elsewhere) unless the replaced ' +
      'device comes back with its own Call-ID, bindings that coexist (the 2xx lists the old ' +
      'contacts too, or the old binding is refreshed later), and a new device after the old binding expired. A user ' +
      'replacing a desk phone by a softphone at home in one step is reported once: confirm with the user. Two ' +
      'phones of the same model provisioned with one extension on a registrar that keeps one binding take it ' +
      'from each other and are reported: a misconfiguration (or a cloned phone) worth fixing either way.',
    remediation:
      '3CX: change the extension\u2019s Auth ID and password (and the voicemail PIN), restrict it to known networks ' +
      '(Extension → Options: "Disallow use of extension outside the LAN"), block the new source in Security → IP ' +
      'Blocklist, and review its call forwarding rules. Any PBX: rotate the credentials, limit registrations per ' +
      'endpoint to known networks (Asterisk PJSIP: identify and permit/deny ACLs, max_contacts with ' +
      'remove_existing reviewed; Kamailio: permissions module and save() flags; FreeSWITCH: apply-register-acl), and ' +
      'use TLS so registrations cannot be replayed.',
    references: [
      'RFC 3261 §10.2 (constructing and removing bindings)',
      'RFC 3261 §26.1.1 (registration hijacking)',
      'RFC 5626 (outbound: several flows per device)',
    ],
    thresholds: { replaceSeconds: 300 },
    quietMs: 86_400_000,
  },
  create(ctx) {
    return new RegistrationHijack(ctx);
  },
};

class RegistrationHijack {
  /** Recent bindings per address of record (live objects: the tracker keeps their expiry current). */
  private readonly recent = new BoundedTable<string, Binding[]>(
    'registration.hijack',
    DETECT_MAX_REG_HIJACK_AORS,
  );
  /** Moves waiting for the registrar's answer or for the old binding to go, oldest first. */
  private readonly suspects: Suspect[] = [];
  private readonly waiting = new WeakMap<SipEvent, Suspect>();
  /** Waits dropped to stay within DETECT_MAX_REG_HIJACK_PENDING (an object, so that evidence
   * closures read the current count without holding the detector). */
  readonly waits = { dropped: 0 };
  private lastScan = -Infinity;
  /** When each address of record last had bindings removed by a REGISTER (Contact: *, expires=0). */
  private readonly unregistered = new BoundedTable<string, { time: number }>(
    'registration.hijack.unregistered',
    DETECT_MAX_REG_HIJACK_AORS,
  );
  private readonly replaceMs: number;
  /** The Call-ID of the REGISTER that added each binding (weak: it lives as long as the binding). */
  private readonly callIds = new WeakMap<Binding, string>();
  /** Same-User-Agent moves waiting to see whether the replaced device comes back, oldest first. */
  private readonly twins: Twin[] = [];
  private readonly twinAnswers = new WeakMap<SipEvent, Twin>();

  constructor(private readonly ctx: DetectorContext) {
    this.replaceMs = (ctx.thresholds.replaceSeconds ?? 300) * 1000;
  }

  onBindingAdded(reg: Registration, b: Binding, ev: SipEvent, existing: readonly Binding[]): void {
    const now = b.firstTime;
    const list = this.recent.touch(reg.aor, () => []);
    const priors: Binding[] = [];
    for (const p of list ?? []) if (p.expiresAt > now && !priors.includes(p)) priors.push(p);
    for (const p of existing) if (p.expiresAt > now && !priors.includes(p)) priors.push(p);
    if (list !== undefined) {
      list.push(b);
      if (list.length > DETECT_REG_HIJACK_BINDINGS_PER_AOR)
        list.splice(0, list.length - DETECT_REG_HIJACK_BINDINGS_PER_AOR);
    }
    this.callIds.set(b, ev.callId);
    if (priors.length === 0) return;
    const s: Suspect = { reg, binding: b, priors, request: ev, frame: ev.frame.provenance.frame };
    if (!moved(b, priors)) {
      this.watchTwin(s, ev);
      return;
    }
    // A prior gone before its expiry was replaced: removed by this REGISTER (expires=0 next to the new
    // contact) or by one just before (Contact: *, then the new contact). Long before: a logout.
    if (priors.some((p) => !reg.bindings.includes(p))) {
      const at = this.unregistered.get(reg.aor)?.time;
      if (removes(ev) || (at !== undefined && now - at <= this.replaceMs)) {
        this.report(s, now, 'old binding removed before it expired');
        return;
      }
      if (priors.every((p) => !reg.bindings.includes(p))) return;
    }
    if (this.suspects.length >= DETECT_MAX_REG_HIJACK_PENDING) {
      this.suspects.shift();
      this.waits.dropped++;
    }
    this.suspects.push(s);
    this.waiting.set(ev, s);
  }

  /** Remembers a same-User-Agent move from another network under another Call-ID (see Twin). */
  private watchTwin(s: Suspect, ev: SipEvent): void {
    const b = s.binding;
    const net = networkOf(b.srcIp);
    if (s.priors.some((p) => networkOf(p.srcIp) === net)) return;
    const prior = s.priors.find((p) => p.userAgent === b.userAgent);
    const priorCallId = prior === undefined ? undefined : this.callIds.get(prior);
    if (prior === undefined || priorCallId === undefined || priorCallId === ev.callId) return;
    const removed = !s.reg.bindings.includes(prior);
    const at = this.unregistered.get(s.reg.aor)?.time;
    const replaced = removed && (removes(ev) || (at !== undefined && b.firstTime - at <= this.replaceMs));
    if (this.twins.length >= DETECT_MAX_REG_HIJACK_PENDING) {
      this.twins.shift();
      this.waits.dropped++;
    }
    const t: Twin = { suspect: s, prior, priorCallId, priorNetwork: networkOf(prior.srcIp), replaced };
    this.twins.push(t);
    this.twinAnswers.set(ev, t);
  }

  /** A successful REGISTER: settles the twins it answers or that it shows to be two devices. */
  private judgeTwins(ev: SipEvent, req: SipEvent): void {
    const answered = this.twinAnswers.get(req);
    if (answered !== undefined) {
      this.twinAnswers.delete(req);
      const listed = ev.msg.contacts.filter((c) => !c.star && c.expires !== 0).map((c) => c.rawUri);
      if (listed.includes(answered.suspect.binding.contact) && !listed.includes(answered.prior.contact))
        answered.replaced = true;
      return;
    }
    if (this.twins.length === 0) return;
    const aor = addressOfRecord(req);
    const net = networkOf(req.frame.srcIp);
    for (let i = 0; i < this.twins.length;) {
      const t = this.twins[i] as Twin;
      // The prior binding's lifetime is as long as its device could come back unnoticed.
      if (t.prior.expiresAt < ev.time) {
        this.twins.splice(i, 1);
        continue;
      }
      if (
        t.replaced &&
        t.suspect.reg.aor === aor &&
        req.callId === t.priorCallId &&
        net === t.priorNetwork &&
        ev.time > t.suspect.binding.firstTime
      ) {
        this.twins.splice(i, 1);
        this.report(
          t.suspect,
          ev.time,
          'replaced device came back: the same User-Agent from two networks, each with its own Call-ID',
          req.frame.provenance.frame,
        );
        continue;
      }
      i++;
    }
  }

  onMessage(ev: SipEvent, tx: { request: SipEvent } | undefined, retransmission: boolean): void {
    if (!retransmission && !ev.isRequest && tx !== undefined && ev.method === 'REGISTER' && ev.status < 300) {
      if (ev.status >= 200) this.judgeTwins(ev, tx.request);
      if (ev.status >= 200 && removes(tx.request)) {
        const aor = addressOfRecord(tx.request);
        if (aor !== '') {
          const u = this.unregistered.touch(aor, () => ({ time: ev.time }));
          if (u !== undefined) u.time = ev.time;
        }
      }
      const s = this.waiting.get(tx.request);
      if (s !== undefined) {
        this.waiting.delete(tx.request);
        this.judgeAnswer(s, ev);
      }
    }
    this.scan(ev.time);
  }

  onTick(now: number): void {
    this.scan(now);
  }

  /** The registrar's 2xx lists every binding it keeps (RFC 3261 §10.3 step 8), when it lists any. */
  private judgeAnswer(s: Suspect, answer: SipEvent): void {
    const listed = answer.msg.contacts.filter((c) => !c.star && c.expires !== 0).map((c) => c.rawUri);
    if (listed.length === 0 || !listed.includes(s.binding.contact)) return;
    this.forget(s);
    if (s.priors.some((p) => listed.includes(p.contact))) return;
    this.report(s, answer.time, 'registrar kept only the new contact');
  }

  /** Settles waiting moves at most once a second of event time. */
  private scan(now: number): void {
    if (now - this.lastScan < 1000 || this.suspects.length === 0) return;
    this.lastScan = now;
    for (let i = 0; i < this.suspects.length;) {
      const s = this.suspects[i] as Suspect;
      const verdict = this.settle(s, now);
      if (verdict === 'wait') {
        i++;
        continue;
      }
      this.suspects.splice(i, 1);
      if (verdict === 'replaced') this.report(s, now, 'old binding removed before it expired');
    }
  }

  private settle(s: Suspect, now: number): 'wait' | 'replaced' | 'coexist' {
    if (!s.reg.bindings.includes(s.binding)) return 'coexist';
    let live = false;
    for (const p of s.priors) {
      // Refreshed after the new binding came: both devices are registered side by side.
      if (p.lastTime > s.binding.firstTime) return 'coexist';
      if (p.expiresAt <= now) continue;
      if (!s.reg.bindings.includes(p)) return 'replaced';
      live = true;
    }
    return live ? 'wait' : 'coexist';
  }

  private forget(s: Suspect): void {
    const i = this.suspects.indexOf(s);
    if (i >= 0) this.suspects.splice(i, 1);
  }

  private report(s: Suspect, time: number, how: string, laterFrame?: number): void {
    const b = s.binding;
    const key = `aor ${escapeText(s.reg.aor, 128)}`;
    const prior = s.priors[s.priors.length - 1] as Binding;
    if (this.ctx.touch?.(key, time, 1) === true) return;
    const identity = b.identity !== '' ? b.identity : prior.identity;
    // The evidence closure holds these values and the counters, never the suspect (its request,
    // registration and bindings): an open alert keeps it (test/detect/alert-retention.test.ts).
    const shown = {
      aor: escapeText(s.reg.aor, 128),
      how,
      newContact: escapeText(b.contact, 160),
      newNetwork: networkOf(b.srcIp),
      newUserAgent: escapeText(b.userAgent, 120),
      oldBindings: s.priors.slice(0, 8).map((p) => ({
        contact: escapeText(p.contact, 160),
        source: p.srcIp,
        network: networkOf(p.srcIp),
        userAgent: escapeText(p.userAgent, 120),
        expiresAt: new Date(p.expiresAt).toISOString(),
      })),
      identity: escapeText(identity, 64),
      frames: [s.frame, laterFrame].filter((f): f is number => f !== undefined),
    };
    const waits = this.waits;
    this.ctx.raise({
      key,
      time,
      firstTime: b.firstTime,
      count: 1,
      title: `Registration of ${escapeText(s.reg.aor, 128)} moved from ${prior.srcIp} (${escapeText(prior.userAgent, 60)}) to ${b.srcIp} (${escapeText(b.userAgent, 60)})`,
      source: { ip: b.srcIp, port: b.srcPort, transport: b.transport },
      target: {
        ip: s.request.frame.dstIp,
        port: s.request.frame.dstPort,
        ...(identity !== '' ? { identity: escapeText(identity, 64) } : {}),
      },
      evidence: () => ({ ...shown, droppedWaits: waits.dropped }),
    });
  }
}
