import { countInto } from '../../core/counts.js';
import {
  DETECT_CLEARTEXT_PEERS_LISTED,
  DETECT_MAX_CLEARTEXT_PAIRS,
  DETECT_MAX_CLEARTEXT_SERVERS,
} from '../../config/limits.js';
import { BoundedTable } from '../../core/bounded-table.js';
import { escapeText } from '../../core/escape.js';
import type { SipEvent } from '../../track/sip-event.js';
import { classifyAddress, isPublicAddress } from '../net.js';
import type { RuleModule } from '../rule.js';
import type { SiteModel } from '../site.js';
import { CappedSet } from '../window.js';

/** Transports that carry SIP in clear text (TLS and WSS do not). */
const CLEARTEXT = new Set(['udp', 'tcp', 'sctp', 'ws']);

/**
 * What one peer pair has shown so far. Kept flat (addresses as fields, the first transport and
 * frame inline): under a spoofed flood the table fills with pairs that sent one request and got
 * one answer.
 */
interface PairState {
  /**
   * The server of the exchange: the site's PBX, else the end a REGISTER went to, else the end on
   * the SIP port (5060/5061) when only one is, else the end the first request went to. Settled
   * until the pair is first reported (its alert is keyed by the server).
   */
  serverIp: string;
  serverPort: number;
  clientIp: string;
  clientPort: number;
  /** The server was told by the site or shown by a REGISTER: later messages do not move it. */
  roleSettled: boolean;
  readonly firstTime: number;
  requests: number;
  responses: number;
  /** Requests by method, made at the first request. */
  methods: Record<string, number> | undefined;
  /** The first transport seen; the others, in order, in an array made for a second. */
  readonly transport: string;
  moreTransports: string[] | undefined;
  credentials: boolean;
  /** Credentials were sent from a public address (DESIGN.md: medium only then). */
  publicCredentials: boolean;
  /** The latest raise already mentioned credentials. */
  reportedCredentials: boolean;
  /** Digest user name of the first credentials seen (a name, never the response). */
  identity: string;
  credentialFrame: number | undefined;
  /** The first frame number; all of them (at most PAIR_FRAMES) in an array made for a second. */
  frame: number | undefined;
  frames: number[] | undefined;
  /** A request followed an answer: both ends really talk (a forged source never gets this far). */
  proven: boolean;
  raised: 'none' | 'low' | 'medium';
}

/** Frame numbers a pair lists in its evidence. */
const PAIR_FRAMES = 10;

function addFrame(st: PairState, frame: number | undefined): void {
  if (frame === undefined) return;
  if (st.frame === undefined) st.frame = frame;
  else if (st.frames === undefined) st.frames = [st.frame, frame];
  else if (st.frames.length < PAIR_FRAMES) st.frames.push(frame);
}

function framesOf(st: PairState): number[] {
  return st.frames !== undefined ? [...st.frames] : st.frame !== undefined ? [st.frame] : [];
}

function transportsOf(st: PairState): string[] {
  return st.moreTransports === undefined ? [st.transport] : [st.transport, ...st.moreTransports];
}

function addTransport(st: PairState, t: string): void {
  if (t === st.transport) return;
  const more = (st.moreTransports ??= []);
  if (!more.includes(t)) more.push(t);
}

/** What one server's alert has gathered: the peers reported against it. */
interface ServerState {
  readonly firstTime: number;
  readonly peers: CappedSet;
  readonly transports: string[];
  credentialPeers: number;
}

function newServer(time: number): ServerState {
  return {
    firstTime: time,
    peers: new CappedSet(DETECT_CLEARTEXT_PEERS_LISTED),
    transports: [],
    credentialPeers: 0,
  };
}

/** The well-known SIP ports: an end listening there is the service when the other is not. */
function sipPort(port: number): boolean {
  return port === 5060 || port === 5061;
}

function newPair(ev: SipEvent, site: SiteModel): PairState {
  const f = ev.frame;
  // Requests go client to server; a response the other way.
  const st: PairState = {
    serverIp: ev.isRequest ? f.dstIp : f.srcIp,
    serverPort: ev.isRequest ? f.dstPort : f.srcPort,
    clientIp: ev.isRequest ? f.srcIp : f.dstIp,
    clientPort: ev.isRequest ? f.srcPort : f.dstPort,
    roleSettled: false,
    firstTime: ev.time,
    requests: 0,
    responses: 0,
    methods: undefined,
    transport: f.transport,
    moreTransports: undefined,
    credentials: false,
    publicCredentials: false,
    reportedCredentials: false,
    identity: '',
    credentialFrame: undefined,
    frame: undefined,
    frames: undefined,
    proven: false,
    raised: 'none',
  };
  const pbx = site.isPbx(st.clientIp) && !site.isPbx(st.serverIp);
  if (pbx || (!site.isPbx(st.serverIp) && sipPort(st.clientPort) && !sipPort(st.serverPort))) {
    swapRoles(st);
  }
  st.roleSettled = pbx || site.isPbx(st.serverIp);
  return st;
}

/** Makes the client the server and the server the client. */
function swapRoles(st: PairState): void {
  [st.serverIp, st.serverPort, st.clientIp, st.clientPort] = [
    st.clientIp,
    st.clientPort,
    st.serverIp,
    st.serverPort,
  ];
}

/** Documentation ranges count as public here so synthetic traffic behaves like internet traffic. */
const DOCUMENTATION_IS_PUBLIC = { documentationIsPublic: true } as const;

function isPublic(ip: string): boolean {
  return isPublicAddress(ip, DOCUMENTATION_IS_PUBLIC);
}

/**
 * exposure.cleartext-signaling: SIP over UDP/TCP/SCTP/WS with at least one public end, one alert per
 * server listing its peers, each peer reported once; raised to medium when digest credentials are
 * sent from a public address.
 */
export const exposureCleartextSignaling: RuleModule = {
  meta: {
    id: 'exposure.cleartext-signaling',
    title: 'SIP signaling in clear text across the internet',
    severity: 'low',
    description:
      'SIP travels over UDP, TCP, SCTP or plain WebSocket (not TLS or WSS) between two addresses of which at least ' +
      'one is public (not private, loopback, link-local, CGNAT shared space or reserved; the documentation ranges ' +
      'count as public so that examples and tests behave like internet traffic). Anyone on the path reads who ' +
      'calls whom, and can alter or inject messages. The rule speaks once per peer (one alert per server, listing ' +
      "its peers and counting them; the server is the site's PBX, else the end a REGISTER went to, else the end " +
      'on 5060/5061 when only one is, else the end the first request went to), once the pair has ' +
      'shown a two-way exchange (a request sent after an answer came back). Credentials (Authorization or ' +
      'Proxy-Authorization) in the pair are named in the evidence — a digest captured in clear text can be cracked ' +
      'offline — and raise the alert to medium when they are sent from a public address (a phone or attacker on the ' +
      'internet). A phone behind NAT registering with its provider stays low: the common small-office setup.',
    falsePositives:
      'Loopback and private-network traffic (a lab, phones on the office LAN) never counts. A provider that ' +
      'only offers SIP over UDP makes this finding unavoidable on the trunk: it is still true, and the fix is ' +
      'an encrypted tunnel or another provider. Copies of TLS traffic decrypted before capture (HEP from a SIP ' +
      'proxy, logs) are recognised by their TLS/WSS Via and not counted; a capture agent that reports such copies ' +
      "with a plain transport and rewrites Via would be a false positive. One-shot exchanges (a scanner's single OPTIONS " +
      'and its answer, forged sources) are not reported: the pair must send a request after an answer.',
    remediation:
      '3CX: have phones and apps register with SIP over TLS or through the 3CX tunnel / SBC (Phones → select the ' +
      'phone → Provisioning: Transport TLS, or "Remote (STUN)/SBC"), keep 5060/UDP closed on the firewall except ' +
      'for your providers, and pick SIP trunks that support TLS. Any PBX: offer a TLS transport (port 5061; ' +
      'Asterisk pjsip transport=tls, Kamailio tls module, FreeSWITCH sofia TLS profile), require it for remote ' +
      'devices, use SRTP for media, and reach remote sites over a VPN when TLS is not possible.',
    references: [
      'RFC 3261 §26.2 (Security mechanisms: transport and network layer security)',
      'RFC 5630 (The use of the SIPS URI scheme)',
      'RFC 8760 (digest algorithms for SIP) — a captured MD5 digest can be cracked offline',
    ],
    thresholds: {},
    quietMs: 24 * 3_600_000,
  },
  create(ctx) {
    const pairs = new BoundedTable<string, PairState>(
      'exposure.cleartext-signaling',
      DETECT_MAX_CLEARTEXT_PAIRS,
    );
    const servers = new BoundedTable<string, ServerState>(
      'exposure.cleartext-signaling servers',
      DETECT_MAX_CLEARTEXT_SERVERS,
    );
    // One creator per table, fed through `current`: no closure per message.
    let current: SipEvent | undefined;
    const createPair = (): PairState => newPair(current as SipEvent, ctx.site);
    let currentTime = 0;
    const createServer = (): ServerState => newServer(currentTime);
    return {
      onMessage(ev: SipEvent, _tx, retransmission): void {
        if (retransmission) return;
        const f = ev.frame;
        if (!CLEARTEXT.has(f.transport)) return;
        // Only pairs with a public end are admitted, so a private pair is never in the table: it is
        // answered from the addresses, without building its key (most of a LAN's messages).
        if (!isPublic(f.srcIp) && !isPublic(f.dstIp)) return;
        // A decrypted copy of a TLS hop still names TLS/WSS in the Via its sender added.
        const via = ev.msg.vias[0];
        if (via !== undefined && /^(?:tls|wss)$/i.test(via.transport)) return;
        const key = f.srcIp < f.dstIp ? `${f.srcIp}|${f.dstIp}` : `${f.dstIp}|${f.srcIp}`;
        current = ev;
        const st = pairs.touch(key, createPair);
        if (st === undefined) return;
        const frame = f.provenance.frame;
        addTransport(st, f.transport);
        if (ev.isRequest) {
          // A REGISTER names the registrar: the PBX whose exposure this is (a PBX's OPTIONS
          // keepalives to its phones otherwise make each phone a "server").
          if (ev.method === 'REGISTER' && !st.roleSettled && st.raised === 'none') {
            st.roleSettled = true;
            if (st.serverIp !== f.dstIp) swapRoles(st);
          }
          if (st.responses > 0) st.proven = true;
          st.requests++;
          countInto((st.methods ??= {}), ev.method, 16);
          if (!st.publicCredentials && (ev.msg.has('Authorization') || ev.msg.has('Proxy-Authorization'))) {
            const cred = ev.msg.authorization ?? ev.msg.proxyAuthorization;
            if (!st.credentials) {
              st.identity = escapeText(cred?.username ?? '', 64);
              st.credentialFrame = frame;
            }
            st.credentials = true;
            st.publicCredentials = isPublic(f.srcIp);
          }
        } else st.responses++;
        addFrame(st, frame);
        // Only a two-way exchange counts: a spoofed or unanswered source is not a peer.
        if (!st.proven) return;
        // A phone behind NAT sending credentials to a provider is the ordinary case of a small
        // office: low, with the credentials in the evidence; from a public address, medium.
        const level = st.publicCredentials ? 'medium' : 'low';
        if (st.raised === level || st.raised === 'medium') {
          if (!st.credentials || st.reportedCredentials) return;
        }
        st.reportedCredentials = st.credentials;
        st.raised = level;
        // One alert per server, listing its peers: the count is the peers reported.
        currentTime = st.firstTime;
        const sv = servers.touch(st.serverIp, createServer);
        if (sv === undefined) return;
        if (sv.peers.add(st.clientIp) && st.credentials) sv.credentialPeers++;
        else if (st.credentials && st.reportedCredentials)
          sv.credentialPeers = Math.max(sv.credentialPeers, 1);
        const transports = transportsOf(st);
        for (const t of transports) if (!sv.transports.includes(t)) sv.transports.push(t);
        const n = sv.peers.distinct;
        const transport = (n === 1 ? transports : sv.transports).join('/').toUpperCase();
        const between = n === 1 ? `${st.clientIp} and ${st.serverIp}` : `${st.serverIp} and ${n} peers`;
        const peers = sv.peers;
        ctx.raise({
          key: st.serverIp,
          time: ev.time,
          firstTime: sv.firstTime,
          count: n,
          title:
            st.credentials || sv.credentialPeers > 0
              ? `Digest credentials in clear-text SIP (${transport}) between ${between}`
              : `Clear-text SIP (${transport}) between ${between}`,
          sources: () =>
            peers.top(DETECT_CLEARTEXT_PEERS_LISTED).map((x) => ({ ip: x.value, count: x.count })),
          sourcesTotal: n,
          target: { ip: st.serverIp, port: st.serverPort },
          severity: level,
          evidence: {
            client: { ip: st.clientIp, port: st.clientPort, scope: classifyAddress(st.clientIp) },
            server: { ip: st.serverIp, port: st.serverPort, scope: classifyAddress(st.serverIp) },
            transports,
            methods: { ...st.methods },
            messages: st.requests + st.responses,
            credentials: st.credentials,
            ...(st.credentials ? { identity: st.identity, credentialFrame: st.credentialFrame } : {}),
            frames: framesOf(st),
          },
        });
      },
    };
  },
};
