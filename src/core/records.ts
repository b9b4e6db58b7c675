/** Records shared by every stage of the pipeline (sources → decode → sip → track → detect). */

/** Where a record came from. */
export type SourceKind = 'capture' | 'hep' | 'log' | 'syslog' | 'cdr';

/** Transport a SIP message travelled on. */
export type Transport = 'udp' | 'tcp' | 'tls' | 'sctp' | 'ws' | 'wss';

/** The source's own reference for a record: enough to find it again (file and frame, agent, line). */
export interface Provenance {
  readonly kind: SourceKind;
  /** Capture or log file path, as given by the user. */
  readonly file?: string;
  /** 1-based frame number in a capture file, numbered as tshark numbers them. */
  readonly frame?: number;
  /** 1-based line number in a log file. */
  readonly line?: number;
  /** HEP capture agent id. */
  readonly agent?: number;
}

/** A named, documented violation found in input. Never thrown: carried as data. */
export interface Anomaly {
  /** snake_case code, documented in the stage's anomaly table (e.g. `sip_bad_content_length`). */
  readonly code: string;
  /** Byte offset in the unit being parsed (packet, message), when it is known. */
  readonly offset?: number;
  /** Short human detail. Wire text in it must be escaped before display. */
  readonly detail?: string;
}

/** An anomaly together with where it was seen (for the decode stage, which has no message). */
export interface LocatedAnomaly extends Anomaly {
  readonly time: number;
  readonly provenance: Provenance;
}

/**
 * One application payload delivered by the decode stage.
 * `datagram`: a whole UDP (or SCTP/HEP-carried) payload, may hold one message and trailing junk.
 * `stream`: the next in-order bytes of one direction of a TCP connection; `gap` says bytes were
 * lost before these (the stream consumer must resynchronise).
 * `stream-end`: that direction closed (FIN/RST) or its state was evicted.
 */
export type Payload = DatagramPayload | StreamPayload | StreamEndPayload;

/** Addressing and time common to every payload. Times are milliseconds since the Unix epoch. */
export interface PayloadBase {
  readonly time: number;
  readonly srcIp: string;
  readonly srcPort: number;
  readonly dstIp: string;
  readonly dstPort: number;
  readonly provenance: Provenance;
}

export interface DatagramPayload extends PayloadBase {
  readonly kind: 'datagram';
  readonly transport: Transport;
  readonly data: Buffer;
}

export interface StreamPayload extends PayloadBase {
  readonly kind: 'stream';
  readonly transport: Transport;
  /** Identifies one direction of one connection for the lifetime of the process. */
  readonly streamId: number;
  readonly data: Buffer;
  readonly gap: boolean;
}

export interface StreamEndPayload extends PayloadBase {
  readonly kind: 'stream-end';
  readonly streamId: number;
}

/** One SIP message's bytes, framed, with addressing: what the SIP parser is handed. */
export interface SipFrame extends PayloadBase {
  readonly transport: Transport;
  readonly data: Buffer;
}

/** `f` carrying `data` instead: a SipFrame of exactly its own fields (one object shape for every
 * frame tracking keeps, whatever payload record it came from). */
export function frameWithData(f: SipFrame, data: Buffer): SipFrame {
  return {
    time: f.time,
    srcIp: f.srcIp,
    srcPort: f.srcPort,
    dstIp: f.dstIp,
    dstPort: f.dstPort,
    transport: f.transport,
    provenance: f.provenance,
    data,
  };
}

/** PBX products whose logs sipwarden reads. */
export type LogProduct = '3cx' | 'asterisk' | 'freeswitch' | 'kamailio';

/**
 * What one PBX log line says happened (produced by logs/ parsers). Detection reads these the way it
 * reads SIP outcomes: `auth-failed` is a rejected password, `unknown-user` a 404, and so on.
 * - auth-failed: credentials rejected (wrong password, challenge response failed, auth name mismatch);
 * - auth-succeeded: a registration or login the PBX accepted;
 * - unknown-user: no such extension, peer or account (the enumeration answer);
 * - acl-rejected: refused by an ACL, not allowed to register, not a local domain;
 * - call-rejected: a call to a destination the dial plan does not know (toll-fraud route probing);
 * - blocked: the PBX itself blocked the source (3CX blacklist, Kamailio pike);
 * - web-login-failed: the management console or manager interface (3CX web, Asterisk AMI) refused a login.
 */
export type LogEventKind =
  | 'auth-failed'
  | 'auth-succeeded'
  | 'unknown-user'
  | 'acl-rejected'
  | 'call-rejected'
  | 'blocked'
  | 'web-login-failed';

/** One security-relevant event read from a PBX log line. Wire-derived text must be escaped when shown. */
export interface PbxLogEvent {
  readonly time: number;
  readonly kind: LogEventKind;
  readonly product: LogProduct;
  /** The remote address the line blames, normalised (IPv6 compressed, no brackets or port). */
  readonly srcIp: string;
  readonly srcPort?: number;
  /** SIP method when the line names one (REGISTER, INVITE, ...). */
  readonly method?: string;
  /** Account / digest user name / peer the attempt used. */
  readonly identity?: string;
  /** Extension or dialled destination the attempt aimed at. */
  readonly extension?: string;
  readonly userAgent?: string;
  readonly transport?: Transport;
  /** Subsystem: SIP, PJSIP, IAX2, AMI, web... */
  readonly service?: string;
  /** The line's own reason text, cut to a bound. */
  readonly detail: string;
  readonly provenance: Provenance;
}

/** A change in a live source's health (watch): it died, went silent, or its lines stopped parsing. */
export interface SourceHealthEvent {
  readonly time: number;
  /** The source's name as watch shows it (e.g. `hep udp://127.0.0.1:9060`, `log 3cx:/var/log/...`). */
  readonly source: string;
  readonly kind: 'down' | 'silent' | 'parse-collapse' | 'recovered';
  readonly detail: string;
}

/** How a call ended, as a CDR or the call tracker reports it. */
export type CallOutcome = 'answered' | 'busy' | 'no-answer' | 'rejected' | 'failed' | 'cancelled' | 'unknown';

/**
 * One call read from a call detail record (3CX CDR output) rather than from SIP: what the fraud rules
 * need when no signaling is seen. Times are event-time milliseconds (UTC); strings come from the
 * PBX and must be escaped when shown.
 */
export interface CdrCall {
  /** When the call started (the first leg was placed). */
  readonly start: number;
  /** When it was answered; absent when it never was. */
  readonly answer?: number;
  /** When it ended; absent while a socket output reports a call still up. */
  readonly end?: number;
  /** Caller: extension or number as the PBX wrote it ("Ext.101", "101", "+4930..."). */
  readonly caller: string;
  /** The number as dialled (before any PBX rewriting), or the destination the CDR names. */
  readonly dialled: string;
  /** Destination after routing, when the CDR has it (e.g. the number sent to the trunk). */
  readonly callee?: string;
  /** Trunk or line the call left through, when known. */
  readonly trunk?: string;
  /** inbound (from a trunk), outbound (to a trunk), internal; unknown when the CDR cannot tell. */
  readonly direction: 'inbound' | 'outbound' | 'internal' | 'unknown';
  readonly outcome: CallOutcome;
  /** The PBX's own call id (3CX "historyid"/"callid"), to count a call once. */
  readonly callId?: string;
  readonly provenance: Provenance;
}
