/**
 * Every bound sipwarden keeps on state or input that the wire or a file can grow.
 * Each constant says what it bounds, what happens past it (eviction or anomaly), and the anomaly
 * or counter that makes the event visible. Users may override some through configuration later;
 * these are the defaults.
 */

// ── sources: capture files ──────────────────────────────────────────────────────────────────────

/**
 * Largest capture record accepted (a pcap record header plus its bytes, or one whole pcapng block).
 * It bounds the streaming reader's carry-over buffer; a bigger record is the fatal error
 * `capture_record_too_large`, never an allocation. libpcap's own snap length maximum is 256 KiB.
 */
export const CAPTURE_MAX_RECORD_BYTES = 1024 * 1024;

/** Read size for capture files (stream highWaterMark): large chunks keep per-chunk cost negligible. */
export const CAPTURE_READ_CHUNK_BYTES = 1024 * 1024;

/**
 * Interfaces (pcapng Interface Description Blocks) kept per section; one more is the fatal error
 * `capture_too_many_interfaces` (each costs a small record).
 */
export const CAPTURE_MAX_INTERFACES = 1024;

// ── decode: link, IP, fragments, TCP ────────────────────────────────────────────────────────────

/** VLAN tags (802.1Q/802.1ad/QinQ) plus MPLS labels walked per frame; past it: `link_too_many_tags`. */
export const DECODE_MAX_LINK_TAGS = 8;

/** Nested tunnels (IP-in-IP, IPv6-in-IP, GRE, ERSPAN) followed; past it: `ip_encapsulation_too_deep`. */
export const DECODE_MAX_ENCAPSULATION_DEPTH = 4;

/** IPv6 extension headers walked per packet; past it: `ipv6_extension_chain_too_long`. */
export const DECODE_MAX_IPV6_EXTENSION_HEADERS = 8;

/**
 * Bytes of a payload on a non-SIP port scanned to recognise a SIP start line or a WebSocket upgrade
 * request; bounds the per-packet cost of sniffing (a longer first line is not recognised).
 */
export const DECODE_SNIFF_BYTES = 2048;

/** Distinct unknown link types reported (once each) by `link_unknown_type`; later ones are counted only. */
export const DECODE_MAX_UNKNOWN_LINK_TYPES = 64;

/** Event-time interval between sweeps that expire fragment and TCP state (no timers: frame times). */
export const DECODE_SWEEP_INTERVAL_MS = 1000;

/**
 * IP datagrams being reassembled at once. Past it the oldest pending datagram is evicted
 * (counter `evictions['ip-fragments']`).
 */
export const DEFRAG_MAX_PENDING_DATAGRAMS = 1024;

/** Largest reassembled datagram (IP payload bytes); a fragment reaching past it: `ip_fragment_too_big`. */
export const DEFRAG_MAX_DATAGRAM_BYTES = 65535;

/** Fragments kept per datagram (tiny-fragment floods); one more: `ip_fragment_too_many`, datagram dropped. */
export const DEFRAG_MAX_FRAGMENTS_PER_DATAGRAM = 128;

/** Fragment bytes held across all pending datagrams; past it the oldest are evicted (counted). */
export const DEFRAG_MAX_TOTAL_BYTES = 16 * 1024 * 1024;

/**
 * Event time a datagram may wait for its missing fragments, counted from its first fragment
 * (Linux ipfrag_time is 30 s); then it is dropped with `ip_fragment_timeout`.
 */
export const DEFRAG_TIMEOUT_MS = 30_000;

/**
 * TCP connections tracked at once (both directions, ~1 KiB each without buffered data). Past it one
 * is evicted: a closed one first, then the longest idle without a completed handshake or two-way
 * data, and an established one only when nothing else is left, so a flood of spoofed new
 * connections cannot push out established ones (counter `evictions['tcp-connections']`).
 */
export const TCP_MAX_CONNECTIONS = 16_384;

/**
 * Out-of-order bytes buffered per stream direction behind a hole. Past it delivery skips ahead to
 * the buffered data (`tcp_gap`), so the buffer never grows beyond it.
 */
export const TCP_MAX_BUFFERED_BYTES_PER_STREAM = 256 * 1024;

/** Out-of-order segments buffered per stream direction (bounds insertion cost); past it: skip ahead (`tcp_gap`). */
export const TCP_MAX_BUFFERED_SEGMENTS_PER_STREAM = 256;

/** Out-of-order bytes buffered across all streams; past it the streams skip ahead (`tcp_gap`). */
export const TCP_MAX_BUFFERED_BYTES_TOTAL = 64 * 1024 * 1024;

/**
 * Event time a hole in a stream may stay open without shrinking before delivery skips past it
 * (`tcp_gap`): long enough for a retransmission after a lost segment, short enough not to stall
 * detection.
 */
export const TCP_GAP_TIMEOUT_MS = 5000;

/** Idle event time after which an established connection is forgotten (stream-end emitted). */
export const TCP_IDLE_TIMEOUT_MS = 30 * 60 * 1000;

/** Idle event time after which a connection without a completed handshake or two-way data is forgotten. */
export const TCP_UNESTABLISHED_IDLE_TIMEOUT_MS = 60_000;

/** Event time a closed connection (FIN both ways, or RST) is kept to absorb retransmissions. */
export const TCP_CLOSED_LINGER_MS = 10_000;

// ── decode: HEP and WebSocket ───────────────────────────────────────────────────────────────────

/**
 * Largest HEP3 packet the TCP stream framer accepts (the format's own ceiling: a 16-bit total
 * length). It holds at most one partial packet, grown as bytes arrive. A header claiming more or
 * less than a packet can be is skipped byte by byte (anomaly `hep_stream_resync`).
 */
export const HEP_MAX_PACKET_BYTES = 65_535;
/**
 * Largest payload a compressed HEP chunk (0x0010) may inflate to. Inflation stops there and the
 * packet is dropped with `hep_payload_too_large` (a decompression bomb costs at most this much).
 */
export const HEP_MAX_DECOMPRESSED_BYTES = 262_144;
/**
 * Longest HTTP upgrade head (request or 101 response) `detectWebSocketUpgrade` waits for; past it
 * the direction is not WebSocket (`none`) and the consumer stops buffering.
 */
export const WS_MAX_HANDSHAKE_BYTES = 16_384;
/**
 * Largest WebSocket frame payload accepted. A header declaring more is treated as loss of sync:
 * anomaly `ws_frame_too_large`, then the deframer resynchronises on the next SIP frame.
 */
export const WS_MAX_FRAME_PAYLOAD_BYTES = 262_144;
/**
 * Largest reassembled WebSocket message (all fragments). Past it the message is dropped, its
 * remaining fragments skipped by length (anomaly `ws_message_too_large`).
 */
export const WS_MAX_MESSAGE_BYTES = 262_144;
/**
 * Bytes one direction of a WebSocket stream may hold between pushes: the partial message, a
 * partial header, a control-frame payload and the resync window. A message that would not fit is
 * dropped (`ws_message_too_large`); memory grows with bytes received, never with lengths claimed.
 */
export const WS_MAX_BUFFERED_BYTES = WS_MAX_MESSAGE_BYTES + 1_024;

// ── sip: parser and stream framing ──────────────────────────────────────────────────────────────

/** Bytes of one SIP message the parser reads (offsets are packed in 22 bits); the rest is ignored
 * with anomaly `sip_message_too_large`. UDP carries at most 64 KiB and the stream framer at most
 * SIP_STREAM_MAX_HEADER_BYTES + SIP_STREAM_MAX_BODY_BYTES, so only direct callers can reach it. */
export const SIP_MAX_MESSAGE_BYTES = 4_194_303;
/** Header fields indexed per SIP message (4 small integers each); fields past it are not indexed
 * and the message gets anomaly `sip_too_many_headers`. A real message has 10–40. */
export const SIP_MAX_HEADERS = 256;
/** Bytes in one header field, name to end of its last continuation line; a longer field is still
 * indexed but flagged `sip_header_too_long` (overflow probes). longreq.dat's longest is ~700. */
export const SIP_MAX_HEADER_FIELD_BYTES = 8192;
/** Via values read per message (all Via fields together); the rest are skipped with anomaly
 * `sip_too_many_vias`. 70 is the usual Max-Forwards, and longreq.dat carries 34. */
export const SIP_MAX_VIAS = 70;
/** Values read from one comma-list header kind (Contact, Route, Record-Route, Supported, ...) and
 * by `headers()`; the rest are skipped with anomaly `sip_too_many_values`. */
export const SIP_MAX_LIST_VALUES = 64;
/** Parameters read from one header value or one URI; the rest are skipped with anomaly
 * `sip_too_many_params`. */
export const SIP_MAX_PARAMS = 32;
/** Challenges read from all WWW-Authenticate (or Proxy-Authenticate) fields of one message; the
 * rest are skipped with anomaly `sip_too_many_values`. */
export const SIP_MAX_AUTH_CHALLENGES = 8;
/** Bytes a TCP/TLS stream may hold before its header terminator (start line + headers). Past it
 * the framer drops them with anomaly `sip_stream_headers_too_large` and resynchronises. */
export const SIP_STREAM_MAX_HEADER_BYTES = 65_536;
/** Largest Content-Length a stream message may declare. Past it the framer skips the declared body
 * without buffering it (anomaly `sip_stream_body_too_large`) and resynchronises after it. */
export const SIP_STREAM_MAX_BODY_BYTES = 262_144;
/** Media sections read from one SDP body; more are skipped with anomaly `sdp_too_many_media`. */
export const SDP_MAX_MEDIA = 32;
/** Repeatable lines kept per SDP body (a=, b=, c=, t=, r=, e=, p=; session and media levels
 * together); more are skipped with anomaly `sdp_too_many_lines`. */
export const SDP_MAX_LINES = 512;

// ── track: transactions, dialogs, registrations ─────────────────────────────────────────────────

/**
 * Open transactions kept at once. Past it the oldest is evicted only for a request whose source is
 * more frequent (counter `transactions` evictions/rejections). Each holds its parsed request and
 * answers with the header values detectors decoded, up to about 6 KiB under a credentialed flood
 * (measured by test/detect/spoofed-flood.test.ts), so this bounds the table near 120 MB. 20,000
 * open transactions are 2,500 completed requests per second with the completed linger below.
 */
export const TRACK_MAX_TRANSACTIONS = 20_000;
/** A transaction without a final answer closes after this much event time without activity:
 * 64 × T1 (RFC 3261 Timer F/B), and counts as unanswered. */
export const TRACK_TRANSACTION_TIMEOUT_MS = 32_000;
/** A transaction that has its final answer is kept this long after its last message, to recognise
 * retransmissions: 2 × T2, since a client whose final answer was lost retransmits at least every
 * T2 (4 s) and each retransmission restarts this linger. */
export const TRACK_COMPLETED_LINGER_MS = 8_000;
/** An INVITE transaction without a final answer closes after this long (RFC 3261 Timer C, 3 min). */
export const TRACK_INVITE_TRANSACTION_TIMEOUT_MS = 180_000;
/** Distinct response statuses remembered per transaction (more are counted, not stored). */
export const TRACK_MAX_RESPONSES_PER_TRANSACTION = 8;
/** Dialogs (early and confirmed) kept at once; frequency admission by caller address past it. */
export const TRACK_MAX_DIALOGS = 50_000;
/** A dialog without any request or response for this long is expired (its BYE was lost). Calls
 * with Session-Expires expire sooner: twice their negotiated interval. */
export const TRACK_DIALOG_IDLE_TIMEOUT_MS = 4 * 3600_000;
/** An early dialog (1xx with a To tag, no final yet) without activity expires after this long. */
export const TRACK_EARLY_DIALOG_TIMEOUT_MS = 300_000;
/** Addresses of record with registrations kept at once (frequency admission past it). */
export const TRACK_MAX_AORS = 100_000;
/** Contact bindings kept per address of record; the oldest binding is dropped past it. */
export const TRACK_MAX_BINDINGS_PER_AOR = 16;

// ── analyze: report ─────────────────────────────────────────────────────────────────────────────

/** Distinct source addresses and User-Agents counted for the report's top lists (frequency
 * admission past it, so a spoofed flood cannot hide the real top talkers). */
export const SUMMARY_MAX_TOP_KEYS = 10_000;
/** Entries shown in each top list of the report. */
export const SUMMARY_TOP_N = 10;

// ── detect: alerts ──────────────────────────────────────────────────────────────────────────────

/** Open alerts at once (frequency admission by (rule, key) past it; an evicted alert is closed
 * and its last revision sent, counter `alerts` evictions). */
export const ALERT_MAX_OPEN = 20_000;
/** Alerts whose latest revision `analyze` keeps for its report; past it they are still sent to
 * sinks but counted as dropped from the report. */
export const ALERT_MAX_KEPT = 100_000;
/** Sources listed in one alert's `sources` (the rest are counted in `sourcesTotal`). */
export const ALERT_MAX_SOURCES = 50;

// ── pipeline ────────────────────────────────────────────────────────────────────────────────────

/** TCP stream directions with framing state in the pipeline (oldest dropped past it, counted as
 * `streamEvictions`); the decoder's own connection bound normally keeps well under it. */
export const PIPELINE_MAX_STREAMS = 200_000;

// ── cli ─────────────────────────────────────────────────────────────────────────────────────────

/** Largest raw SIP message file `analyze` reads whole (captures are streamed, without a limit). */
export const ANALYZE_MAX_SIP_FILE_BYTES = 64 * 1024 * 1024;

// ── detect: rules ───────────────────────────────────────────────────────────────────────────────

/** Keys (source, identity, source+identity) each authentication rule keeps windows for; frequency
 * admission past it, so a spoofed flood cannot evict a real guesser's window. */
export const DETECT_MAX_AUTH_KEYS = 50_000;
/** (source, method) keys dos.flood keeps rates for; frequency admission past it. */
export const DETECT_MAX_RATE_KEYS = 50_000;

// ── detect: credential rules (digest replay, weak passwords, nonces, identifiers) ───────────────

/** Digests (user + realm + nonce + response, kept as a SHA-256) auth.digest-replay remembers to see
 * one reused from a second source; frequency admission past it (counted `auth.digest-replay
 * credentials` evictions/rejections), so one-off spoofed digests cannot push out repeated ones. */
export const DETECT_REPLAY_MAX_CREDENTIALS = 50_000;
/** (user, realm, nonce, cnonce) nonce-count states kept to see the count go backwards; frequency
 * admission past it (counted). */
export const DETECT_REPLAY_MAX_NONCE_COUNTS = 50_000;
/** Nonces known to have been issued (seen in a challenge, or first seen in credentials before the
 * "never issued" test could be trusted), oldest dropped first. Dropping one that may still be valid
 * suspends the "never issued" test for one assumed nonce lifetime (counter `knownEvictions`). */
export const DETECT_REPLAY_MAX_ISSUED_NONCES = 100_000;
/** Servers (challenger addresses) whose observation time, challenge count and longest accepted
 * nonce age are kept; frequency admission past it (an unknown server is never judged). */
export const DETECT_REPLAY_MAX_SERVERS = 4_096;
/** (server, source) pairs with a request the server has not answered yet: a lost challenge makes the
 * "never issued" test unsafe for that source. Frequency admission past it; a refused pair is treated
 * as "maybe lost" (the test is skipped), never as "all seen". */
export const DETECT_REPLAY_MAX_PENDING = 50_000;
/** Unanswered requests followed per (server, source) pair; past it the oldest counts as possibly lost. */
export const DETECT_REPLAY_OPEN_PER_SOURCE = 8;
/** Branches remembered per nonce-count state (the same request re-sent is not a replay). */
export const DETECT_REPLAY_BRANCHES_PER_NONCE = 4;
/** Relay hops (receivers) remembered per digest: a proxy or SBC forwarding credentials is not a replay. */
export const DETECT_REPLAY_HOPS_PER_CREDENTIAL = 4;

/** Accepted digests waiting to be tested against the weak-password list (tested in `onTick`, off the
 * packet path). Past it a new one is dropped (counter `queueDrops`) and tried again at the identity's
 * next accepted login. */
export const DETECT_WEAK_PASSWORD_MAX_QUEUE = 256;
/** Identities already tested (each is tested once); past it the oldest is forgotten and would be
 * tested again (counter `checkedEvictions`): costs work, never misses. */
export const DETECT_WEAK_PASSWORD_MAX_CHECKED = 100_000;
/** Entries read from the bundled password list (data/passwords/common-sip-passwords.txt); the rest
 * are ignored. Bounds the work per identity. */
export const DETECT_WEAK_PASSWORD_MAX_LIST = 5_000;
/** Characters of one list entry or derived candidate; longer lines are skipped. */
export const DETECT_WEAK_PASSWORD_MAX_CANDIDATE_CHARS = 64;
/** Largest body copied for a qop=auth-int digest; a bigger one is not tested (counter `unsupported`). */
export const DETECT_WEAK_PASSWORD_MAX_BODY_BYTES = 8_192;

/** Servers (challenger addresses) crypto.weak-nonce keeps nonce samples for; frequency admission. */
export const DETECT_NONCE_MAX_SERVERS = 1_024;
/** Latest distinct nonces per server kept for the predictability test (a ring). */
export const DETECT_NONCE_SAMPLES_PER_SERVER = 32;
/** Recent nonces per server remembered to see one issued again (oldest dropped first; none older
 * than the rule's repeat window). */
export const DETECT_NONCE_RECENT_PER_SERVER = 256;
/** Characters of a nonce or identifier the randomness test reads (longer values are cut). */
export const DETECT_RANDOMNESS_MAX_CHARS = 128;

/** Sources crypto.predictable-identifiers keeps samples for; frequency admission. A source's samples
 * are dropped once it is judged, so only undecided sources cost memory. */
export const DETECT_IDENTIFIER_MAX_SOURCES = 8_192;
/** Latest distinct values kept per field (Call-ID, branch, From tag) of one source (a ring). */
export const DETECT_IDENTIFIER_SAMPLES_PER_FIELD = 16;
/** Characters of an identifier kept as a sample. */
export const DETECT_IDENTIFIER_MAX_CHARS = 64;

// ── detect: exposure and call rules (cleartext, versions, unauthenticated calls) ────────────────
/** Peer pairs exposure.cleartext-signaling remembers (reported, or waiting for an answer); frequency
 * admission past it, so a spoofed flood of one-off sources cannot push out pairs already reported
 * (they would be reported again). Refused pairs are counted in the table's rejections. */
export const DETECT_MAX_CLEARTEXT_PAIRS = 50_000;
/** (address, product, version) keys exposure.vulnerable-version already reported (it speaks once per
 * key); frequency admission past it. */
export const DETECT_MAX_VERSION_REPORTS = 10_000;
/** Distinct Server/User-Agent values whose verdict against the list exposure.vulnerable-version
 * remembers, so the same value on every message costs one map lookup; frequency admission past it
 * (a refused value is matched again, its cost bounded by DETECT_VERSION_HEADER_MAX_CHARS). */
export const DETECT_MAX_VERSION_SEEN = 50_000;
/** Characters of a Server/User-Agent value matched against the list's patterns (the rest is
 * ignored): bounds the cost of a user-supplied pattern on an attacker-chosen header. */
export const DETECT_VERSION_HEADER_MAX_CHARS = 256;
/** Largest vulnerable-version list file read (bytes); a bigger file is a configuration error. */
export const VERSION_LIST_MAX_BYTES = 1024 * 1024;
/** Entries read from one vulnerable-version list; more is a configuration error. */
export const VERSION_LIST_MAX_ENTRIES = 2_000;
/** Call-IDs in which a request carried credentials (call.unauthenticated-accepted does not report
 * the later legs of an authenticated call); frequency admission past it. */
export const DETECT_MAX_AUTHENTICATED_CALLS = 100_000;
/** Addresses learned to act as a PBX/registrar (they challenged another address's request), whose
 * own outgoing INVITEs are not unauthenticated callers; frequency admission past it. */
export const DETECT_MAX_LEARNED_PBX = 4_096;
/** Sources call.unauthenticated-accepted keeps a window for; frequency admission past it. */
export const DETECT_MAX_UNAUTH_CALL_SOURCES = 10_000;
/** Dialled numbers remembered per source as evidence (the rest are counted, not stored). */
export const DETECT_UNAUTH_CALL_NUMBERS_PER_SOURCE = 50;

// ── core: counters keyed by wire values ─────────────────────────────────────────────────────────

/** Distinct keys (methods, statuses) one counter record keeps; more are counted under "(other)". */
export const COUNT_MAX_KEYS = 64;

// ── logs: PBX log line parsers ──────────────────────────────────────────────────────────────────

// ── sources: live (HEP listener, syslog receiver, log tail, interface capture, health) ─────────

// ── store: SQLite ───────────────────────────────────────────────────────────────────────────────

// ── sinks and metrics ───────────────────────────────────────────────────────────────────────────

// ── watch: blocking ─────────────────────────────────────────────────────────────────────────────

// ── audit ───────────────────────────────────────────────────────────────────────────────────────
