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
 * more frequent (counter `transactions` evictions/rejections). One waiting for its answer holds
 * its parsed request; an answered non-INVITE one keeps only event fields (slimmed, see
 * src/track/transactions.ts); an INVITE one its request and answers. Under the spoofed flood of
 * `npm run bench:watch`, `node dist/bench/heap.js flood:50000` shows what the full table retains
 * (25 MB when measured, 111 MB before slimming). 20,000 open transactions are 2,500 completed
 * requests per second with the completed linger below.
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
/** Binding changes (added, unregistered, expired) remembered per address of record; oldest dropped. */
export const TRACK_REGISTRATION_HISTORY = 16;
/** Calls in progress (call table, src/track/call-table.ts); past it the least recently active is
 * ended as evicted, unless the new call's source is rarer (frequency admission). */
export const TRACK_MAX_CALLS = 50_000;
/** Onward legs recorded per call (proxy copies, a back-to-back PBX's legs); more are counted only. */
export const TRACK_MAX_CALL_LEGS = 8;
/** A back-to-back PBX's onward leg is paired with the call it relays when placed within this long
 * of the call's start (the INVITE transaction timer B, 64 x T1). */
export const TRACK_CALL_RELAY_WINDOW_MS = 32_000;
/** Unanswered calls waiting for their onward leg, per (PBX address, number); oldest dropped. */
export const TRACK_CALL_RELAYS_PER_KEY = 4;
/** Numbers of two legs are compared on this many trailing digits (dial-plan prefixes differ). */
export const TRACK_CALL_NUMBER_SUFFIX_DIGITS = 9;
/** An unanswered call with no activity for this long has ended (challenge never retried, INVITE
 * never answered: longer than the INVITE transaction timeout). */
export const TRACK_CALL_SETUP_TIMEOUT_MS = 200_000;
/** An answered call whose dialog end never came (its dialog was not followed) is ended after this
 * long without activity; normally the dialog's BYE or expiry ends it first. */
export const TRACK_CALL_ANSWERED_BACKSTOP_MS = 24 * 3600_000;

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
/** Bytes of closed alerts' JSON `analyze` keeps in memory for its report; past it they go to an
 * unlinked temporary file and only an index entry stays in memory (src/detect/alert-archive.ts). */
export const ALERT_ARCHIVE_MEMORY_BYTES = 4 * 1024 * 1024;
/** Sources listed in one alert's `sources` (the rest are counted in `sourcesTotal`). */
export const ALERT_MAX_SOURCES = 50;

// ── pipeline ────────────────────────────────────────────────────────────────────────────────────

/** TCP stream directions with framing state in the pipeline (oldest dropped past it, counted as
 * `streamEvictions`); the decoder's own connection bound normally keeps well under it. */
export const PIPELINE_MAX_STREAMS = 200_000;

// ── cli ─────────────────────────────────────────────────────────────────────────────────────────

/** Largest raw SIP message file `analyze` reads whole (captures are streamed, without a limit). */
export const ANALYZE_MAX_SIP_FILE_BYTES = 64 * 1024 * 1024;

/** How far V8 lets the heap grow past the live data before its next full collection, in percent
 * (the `--heap-growing-percent` V8 flag), set at start by `analyze`, `site` and `watch` unless the
 * user gave V8 heap flags. V8's own factor goes up to 4x when collection looks cheap: with 200 MB
 * of live tables that is 800 MB of resident memory for no gain. 30% costs more frequent (mostly
 * concurrent) full collections and keeps resident memory near the live data. */
export const HEAP_GROWING_PERCENT = 30;

// ── detect: rules ───────────────────────────────────────────────────────────────────────────────

/** Keys (source, identity, source+identity) each authentication rule keeps windows for; frequency
 * admission past it, so a spoofed flood cannot evict a real guesser's window. Every rule that counts
 * rejections keeps its own table, so this bound times the rules times a window (a few hundred bytes
 * to a few KB) is most of the memory a spoofed flood can take: 20,000 keeps it within the memory
 * goals (docs/benchmarks.md) while far more guessers than any real attack uses stay tracked. */
export const DETECT_MAX_AUTH_KEYS = 20_000;
/** (source, method) keys dos.flood keeps rates for; frequency admission past it. A key leaves once
 * its run of activity is over and a transaction timeout has passed (its last answers are in). */
export const DETECT_MAX_RATE_KEYS = 50_000;
/** Recent (source, identity, outcome) attempts kept to recognise a log line that reports an attempt
 * already seen on the wire (HEP or capture); oldest forgotten first (a miss only double-counts). */
export const DETECT_LOG_DEDUP_MAX_KEYS = 20_000;
/** Wire attempts remembered per key for that match. */
export const DETECT_LOG_DEDUP_PER_KEY = 8;
/** How far apart a log line's time and the wire attempt's may be and still be one attempt: log
 * times have one-second precision and the PBX's clock may differ from the sensor's by a little. */
export const DETECT_LOG_DEDUP_WINDOW_MS = 5_000;
/** Initial INVITEs (receiver + branch, receiver + Call-ID) call.unauthenticated-accepted remembers
 * to recognise a proxy's relayed leg of a call it just received; frequency admission past it, and
 * swept once older than the relay window. */
export const DETECT_MAX_RECEIVED_INVITES = 50_000;
/** Campaigns (tool + target PBX) scan.tool-fingerprint keeps; frequency admission past it. */
export const DETECT_MAX_TOOL_CAMPAIGNS = 10_000;
/** Sources listed per scan.tool-fingerprint campaign (the rest are only counted). */
export const DETECT_TOOL_CAMPAIGN_SOURCES = 1_024;

/**
 * Sources the windows of one rule list together, past each window's first (src/detect/window.ts,
 * ListingBudget): auth.distributed-bruteforce and auth.low-and-slow list up to 1,024 per identity
 * over DETECT_MAX_AUTH_KEYS identities, scan.tool-fingerprint 1,024 per campaign over
 * DETECT_MAX_TOOL_CAMPAIGNS: per-key caps alone allowed twenty million listed addresses per rule
 * under a flood spread over many identities. Past it a window lists no new source but still counts
 * it (once per value, by a bit of its hash); lists are given back as windows leave
 * (test/detect/window.test.ts floods a rule past it). An alert shows ALERT_MAX_SOURCES of them,
 * so the lists serve ranking and counting: on the benchmark captures one rule lists at most
 * 12,803 at once (bench/out/attack.pcap; `node dist/bench/heap.js attack` prints the peak), and
 * under the spoofed flood of `npm run bench:watch` a full budget held about 18 MB (bench/heap.ts
 * flood) at 200,000, the earlier bound.
 */
export const DETECT_LISTED_SOURCES_PER_RULE = 50_000;
/** Sources scan.tool-fingerprint remembers the campaign of (a source sweeping many addresses stays
 * in its first campaign); frequency admission past it. */
export const DETECT_MAX_TOOL_SOURCES = 50_000;

// ── detect: per-value caches of the message rules (tool and version fingerprints) ──────────────

/** Distinct User-Agent values whose attack-tool verdict scan.tool-fingerprint keeps (a device sends
 * one value for ever, so the tool patterns run once per value); the cache is emptied when full. */
export const DETECT_TOOL_AGENT_CACHE = 1_024;
/** Longest User-Agent value kept in that cache (a longer one is judged each time it is seen). */
export const DETECT_TOOL_AGENT_CACHE_MAX_CHARS = 256;

// ── detect: credential rules (digest replay, weak passwords, nonces, identifiers) ───────────────

/** Digests (user + realm + nonce + response, kept as a SHA-256) auth.digest-replay remembers to see
 * one reused from a second source; frequency admission past it (counted `auth.digest-replay
 * credentials` evictions/rejections), so one-off spoofed digests cannot push out repeated ones.
 * Swept once older than the rule's `memorySeconds` (as are the nonce counts). */
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
 * as "maybe lost" (the test is skipped), never as "all seen". A pair with nothing open and no loss
 * within the longest nonce lifetime is swept (a new entry would say the same). */
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
/** Servers exposure.cleartext-signaling keeps one alert for (each listing its peers); frequency
 * admission past it. One alert per server rather than per pair: a PBX with 5,000 remote phones in
 * clear text is one finding, not 5,000 (bench/watch.ts counted thousands of store commits). */
export const DETECT_MAX_CLEARTEXT_SERVERS = 4_096;
/** Peers listed in one cleartext alert (the total is counted past it). */
export const DETECT_CLEARTEXT_PEERS_LISTED = 50;
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

/**
 * Characters of one log line that the PBX log parsers look at; the rest is cut before any parsing
 * (no regular expression ever runs over more), so a megabyte line costs the same as a short one.
 * Real attack lines are < 1 KiB; 8 KiB keeps long PJSIP/security-event lines whole.
 */
export const LOGS_MAX_LINE_CHARS = 8192;

/** Characters of a log line's reason text kept in `PbxLogEvent.detail` (the rest is cut, `…` added). */
export const LOGS_MAX_DETAIL_CHARS = 256;

/** Characters kept of each extracted field (identity, extension, user agent, service, method). */
export const LOGS_MAX_FIELD_CHARS = 128;

/**
 * Cached time-zone offsets (one per zone and 15-minute bucket of UTC time, since zone transitions
 * fall on quarter hours); the cache is cleared when full, so it never grows past this.
 */
export const LOGS_TZ_OFFSET_CACHE_ENTRIES = 4096;

/**
 * Occurrences of a marker (e.g. `,RemoteAddress="` in an Asterisk security event, whose attacker-
 * chosen SessionID may repeat it) examined per line; later ones are ignored.
 */
export const LOGS_MAX_MARKER_OCCURRENCES = 16;

// ── sources: live (HEP listener, syslog receiver, log tail, interface capture, health) ─────────

/**
 * UDP receive buffer asked for on HEP and syslog sockets (SO_RCVBUF): a burst of agent traffic
 * waits here while the event loop is busy. The kernel caps it at net.core.rmem_max (often 208 KiB:
 * raise it with `sysctl -w net.core.rmem_max=8388608`); `stats()` reports what was granted.
 */
export const LIVE_UDP_RECV_BUFFER_BYTES = 8 * 1024 * 1024;

/**
 * SIP frames waiting between the HEP sockets and the consumer. When full, queued OPTIONS
 * keepalives are shed first (oldest first), then the arriving packet; each is counted per reason
 * (`shed.options`, `shed.overflow`) and in `dropped`.
 */
export const HEP_LISTEN_QUEUE_MAX = 16_384;

/**
 * Longest a HEP frame may wait in the queue before the pipeline takes it (ms from its receipt).
 * Past it the frame is shed at the head of the queue, unprocessed, and counted (`shed.delay`).
 * Under sustained overload the pipeline's rate decides what is lost either way; without this
 * bound the queue fills to HEP_LISTEN_QUEUE_MAX and every alert comes seconds late (p99 968 ms at
 * 10,000 packets/s when measured); with it, keepalives shed at half of it
 * (HEP_LISTEN_OPTIONS_DELAY_SHARE) and late packets shed before decoding, the p99 stays far under
 * 100 ms and more frames reach the pipeline, not fewer (`npm run bench:watch`, docs/benchmarks.md
 * for the current figures). The price is burst absorption: a stall or a burst longer than this (a
 * long collection, a registration storm after a PBX restart) sheds what waits too long. A site
 * that prefers completeness to freshness raises `sources.hep.maxQueueDelayMs` (0: no bound).
 */
export const HEP_LISTEN_MAX_QUEUE_DELAY_MS = 50;

/**
 * The delay bound above applies only while more frames than this wait (a few ms of pipeline work
 * at the rates docs/benchmarks.md measures): a short queue adds little delay, and a process that
 * was merely descheduled for a moment on a busy host must not shed the handful of frames that
 * arrived meanwhile.
 */
export const HEP_LISTEN_DELAY_MIN_QUEUE = 128;

/**
 * Share of HEP_LISTEN_MAX_QUEUE_DELAY_MS after which a waiting OPTIONS keepalive is shed (counted
 * `shed.options`) while the queue is backed up: keepalives go at half the wait the other frames
 * are allowed, so under overload they are lost first and the registrations and guesses queued
 * behind them reach the pipeline sooner.
 */
export const HEP_LISTEN_OPTIONS_DELAY_SHARE = 0.5;

/** Payload bytes held by that queue; past it the same shedding applies. */
export const HEP_LISTEN_QUEUE_MAX_BYTES = 64 * 1024 * 1024;

/**
 * Frames handed to the consumer per event-loop turn, so socket reads, the store's commit of the
 * alerts they raised and the next frames interleave. An alert is stored at the end of the turn
 * that raised it: with 512 frames per turn most of the packet-to-stored-alert time at 10,000
 * packets/s was the wait for the turn to end (`npm run bench:watch` measures it).
 */
export const HEP_LISTEN_DRAIN_BATCH = 64;

// HEP listener, UDP receive thread: the UDP sockets are read by a worker thread, which hands
// datagrams to the main thread in batches and counts what the main thread has not consumed yet
// (its backlog: batches in transit plus frames waiting in the queue above).

/**
 * Backlog (packets) past which the UDP thread sheds arriving OPTIONS keepalives (`shed.options`),
 * so a pipeline falling behind loses keepalives first; other packets are still forwarded. Small on
 * purpose: it is also the most delay keepalives can add ahead of authentication traffic (512
 * packets are about 70 ms of pipeline work at the 7,000 packets per second a quiet 2-core machine
 * handles; docs/benchmarks.md).
 */
export const HEP_UDP_BACKLOG_OPTIONS_PACKETS = 512;

/** Backlog (datagram bytes) past which arriving OPTIONS keepalives are shed, as above. */
export const HEP_UDP_BACKLOG_OPTIONS_BYTES = 4 * 1024 * 1024;

/**
 * Backlog (packets) past which the UDP thread sheds every arriving packet (keepalives as
 * `shed.options`, the rest as `shed.overflow`). Capped at the listener's queue bound
 * (HEP_LISTEN_QUEUE_MAX), so the queue never overflows with UDP traffic.
 */
export const HEP_UDP_BACKLOG_MAX_PACKETS = 16_384;

/** Backlog (datagram bytes) past which every arriving packet is shed, as above. */
export const HEP_UDP_BACKLOG_MAX_BYTES = 32 * 1024 * 1024;

/**
 * Bytes of one batch buffer (one transferred ArrayBuffer); it is posted when full, and a batch
 * under half full is posted as an exact-size copy so a slow consumer cannot hold many mostly
 * empty buffers. Holds any UDP datagram (at most 65,507 bytes).
 */
export const HEP_UDP_BATCH_BYTES = 256 * 1024;

/** Datagrams per batch at most; a full batch is posted at once. */
export const HEP_UDP_BATCH_PACKETS = 1_024;

/** A batch is posted at most this long after its first datagram (and counters after a change). */
export const HEP_UDP_FLUSH_MS = 5;

/**
 * Nice value the UDP thread asks for itself (Linux, with CAP_SYS_NICE, e.g. when run as root), so
 * the scheduler lets it preempt the busy pipeline thread and the kernel buffer does not overflow
 * first; without the privilege it keeps the process's own (reported in stats as `udpWorkerNice`).
 */
export const HEP_UDP_THREAD_NICE = -5;

/** A UDP thread that died while running is started again after this long (the source is down
 * meanwhile, and says why), */
export const HEP_UDP_RESTART_MIN_MS = 1_000;

/** ... doubling while it cannot start, up to this. */
export const HEP_UDP_RESTART_MAX_MS = 60_000;

/** How long `stop()` waits for the UDP thread to deliver its last batch before ending it. */
export const HEP_UDP_STOP_TIMEOUT_MS = 2_000;

/**
 * Concurrent TCP connections per HEP or syslog listener (each holds at most one packet or message
 * of buffer); one more is closed at once and counted in `dropped`.
 */
export const LIVE_MAX_TCP_CONNECTIONS = 256;

/** A TCP connection (HEP or syslog) silent this long is closed, so idle peers cannot hold slots. */
export const LIVE_TCP_IDLE_TIMEOUT_MS = 15 * 60_000;

/**
 * Largest syslog message (UDP datagram or TCP frame), and so the per-connection buffer. A longer
 * UDP message is delivered cut to this size (counted in `truncated`); a longer TCP frame is skipped
 * to its end (counted in `dropped`). RFC 5424 receivers must take 480 bytes and should take 2048;
 * PBX lines with SIP headers can run to several KiB.
 */
export const SYSLOG_MAX_MESSAGE_BYTES = 32 * 1024;

/** Log tail: how often the file is checked (stat) when fs.watch says nothing; fs.watch only hints. */
export const LOG_TAIL_POLL_MS = 1000;

/** Log tail: longest line kept; the rest of a longer line is skipped and counted in `dropped`. */
export const LOG_TAIL_MAX_LINE_BYTES = 64 * 1024;

/** Log tail: bytes read per read() call. */
export const LOG_TAIL_READ_CHUNK_BYTES = 256 * 1024;

/** Log tail: bytes read per poll, so a large backlog is read over several turns, not in one. */
export const LOG_TAIL_MAX_BYTES_PER_POLL = 16 * 1024 * 1024;

/** Interface capture: characters of the capture tool's stderr kept (its last words, for `error`). */
export const LIVE_CAPTURE_STDERR_MAX_CHARS = 4096;

/** Interface capture: time the tool gets to start capturing before start() rejects. */
export const LIVE_CAPTURE_START_TIMEOUT_MS = 10_000;

/** Interface capture: first restart delay after the tool died; doubled per failure up to the max. */
export const LIVE_CAPTURE_RESTART_MIN_MS = 1000;

/** Interface capture: longest restart delay. */
export const LIVE_CAPTURE_RESTART_MAX_MS = 60_000;

/** Interface capture: a run this long resets the restart delay to the minimum. */
export const LIVE_CAPTURE_HEALTHY_RUN_MS = 60_000;

/** Interface capture: ports put in the BPF filter (SIP plus HEP); more is a configuration error. */
export const LIVE_CAPTURE_MAX_PORTS = 64;

/** Health: default quiet period of a log tail or syslog receiver before it is reported silent. */
export const HEALTH_QUIET_LOG_MS = 15 * 60_000;

/** Health: default quiet period of a HEP listener or interface capture before it is reported silent. */
export const HEALTH_QUIET_PACKET_MS = 5 * 60_000;

/** Health: lines a recognition window needs before its rate is judged (parse-collapse). */
export const HEALTH_COLLAPSE_MIN_LINES = 100;

/** Health: a window recognising less than this share of its lines has collapsed... */
export const HEALTH_COLLAPSE_LOW_RATIO = 0.05;

/** ...when an earlier window recognised at least this share (a format change, not a quiet parser). */
export const HEALTH_COLLAPSE_HEALTHY_RATIO = 0.5;

/** Health: sources watched by one monitor; more are refused by `add()`. */
export const HEALTH_MAX_SOURCES = 256;

// ── store: SQLite ───────────────────────────────────────────────────────────────────────────────

/**
 * Alert revisions kept (table `alert_revisions`, ~1-4 KiB each). Age retention normally keeps it
 * far below; past it the oldest revisions are deleted in batches of STORE_EVICT_BATCH (counter
 * `stats.evicted.revisions`), except the latest revision of an alert that is still open.
 */
export const STORE_MAX_ALERT_REVISIONS = 2_000_000;

/**
 * Alerts kept in `alerts` (the latest revision per id). Past it the alerts seen least recently are
 * deleted, closed ones first (counter `stats.evicted.alerts`).
 */
export const STORE_MAX_ALERTS = 500_000;

/** Rows deleted at once when a table passes its bound: amortises the delete, bounds the overshoot. */
export const STORE_EVICT_BATCH = 1000;

/**
 * Largest stored alert JSON. A bigger revision is stored with its `evidence` replaced by
 * `{ "truncated": <bytes> }` (counter `stats.truncated`); alerts from the engine are far smaller.
 */
export const STORE_MAX_ALERT_JSON_BYTES = 256 * 1024;

/** Acknowledgements kept per alert (the oldest are deleted past it); humans write them, through the API. */
export const STORE_MAX_ACKS_PER_ALERT = 100;

/** Characters kept of an acknowledgement's `by`, a note, or a suppression's reason (cut past it). */
export const STORE_MAX_NOTE_CHARS = 1000;

/** Suppressions not yet expired at once; one more is refused (StoreError `full`). */
export const STORE_MAX_ACTIVE_SUPPRESSIONS = 10_000;

/**
 * Per-minute counter rows (one per minute, site and sensor: 30 days of one sensor is 43 200). Past
 * it the oldest minutes are deleted (counter `stats.evicted.counters`).
 */
export const STORE_MAX_COUNTER_ROWS = 500_000;

/** Entries kept in each top list (sources, identities) of a counter row; merged lists are cut to it. */
export const STORE_COUNTER_TOP_N = 20;

/** Characters kept of a key in a counter's top list (an identity from the wire can be long). */
export const STORE_MAX_KEY_CHARS = 256;

/**
 * Bytes of journal payload kept (table `journal`); past it the oldest entries are deleted (counter
 * `stats.evicted.journal`). Configurable (`journalMaxBytes`).
 */
export const STORE_JOURNAL_MAX_BYTES = 64 * 1024 * 1024;

/** Age of the oldest journal entry kept, by its append time; configurable (`journalMaxAgeMinutes`). */
export const STORE_JOURNAL_MAX_AGE_MS = 15 * 60_000;

/** Largest single journal entry; a bigger one is not stored (counter `stats.journalRejected`). */
export const STORE_JOURNAL_MAX_ENTRY_BYTES = 1024 * 1024;

/** Largest detector or block-list snapshot; a bigger one is refused (StoreError `invalid`). */
export const STORE_MAX_SNAPSHOT_BYTES = 256 * 1024 * 1024;

/** Rows one read returns at most (`list`, `revisions`, `readAfter`, `counters`, `journalSince` pages). */
export const STORE_MAX_READ_ROWS = 10_000;

/** Rows `list` returns when no limit is given. */
export const STORE_DEFAULT_LIST_ROWS = 100;

/** Milliseconds a writer waits for another process's lock (the CLI acknowledging while `watch` writes). */
export const STORE_BUSY_TIMEOUT_MS = 5000;

/** Largest HTTP API request body (acknowledgement, suppression); past it: 413, connection closed. */
export const API_MAX_BODY_BYTES = 64 * 1024;

/** Concurrent HTTP API connections; more are refused by the server. */
export const API_MAX_CONNECTIONS = 64;

/** Time a client has to send a whole HTTP API request (slow-loris bound). */
export const API_REQUEST_TIMEOUT_MS = 10_000;

// ── sinks and metrics ───────────────────────────────────────────────────────────────────────────

/**
 * Alert revisions one sink holds in memory (waiting plus in flight). Sinks read from the store's
 * outbox, so the queue is only a read-ahead: a sink with overflow `wait` stops reading when it is
 * full (the outbox keeps the rest); one with `drop-oldest` evicts its oldest waiting revisions
 * (counted in `sipwarden_sink_dropped_total`), since for a live feed a newer revision supersedes.
 */
export const SINK_QUEUE_MAX_ALERTS = 1000;

/** Alert revisions handed to one `send` call at most (a sink may ask for fewer). */
export const SINK_BATCH_MAX_ALERTS = 100;

/**
 * Attempts per batch (first try included). Past it the batch is dropped (counted) and the cursor
 * moves on, so one alert a receiver always rejects cannot wedge the sink.
 */
export const SINK_MAX_ATTEMPTS = 5;

/** First retry delay; doubled each attempt, with jitter, up to SINK_RETRY_MAX_MS. */
export const SINK_RETRY_BASE_MS = 1000;

/** Longest backoff between two attempts of one batch. */
export const SINK_RETRY_MAX_MS = 60_000;

/** A receiver's Retry-After is honoured up to this much (a hostile one cannot park a sink forever). */
export const SINK_RETRY_AFTER_MAX_MS = 300_000;

/** A `send` that has not settled after this long counts as a failed attempt (a hung receiver). */
export const SINK_SEND_TIMEOUT_MS = 30_000;

/** Default deadline for `SinkRunner.close()` to drain the queues before it gives up. */
export const SINK_CLOSE_DEADLINE_MS = 5000;

/**
 * Largest syslog message sent over UDP (rsyslog's default maxMessageSize is 8 KiB); a longer one
 * is cut on a character boundary (counted in the sink's `truncated`). TCP messages are not cut.
 */
export const SINK_SYSLOG_UDP_MAX_BYTES = 8192;

/** HTTP timeout of one webhook POST (connect, send and the answer's status). */
export const SINK_WEBHOOK_TIMEOUT_MS = 10_000;

/** Alerts listed in one Slack or Teams message; the rest of the batch is summarised as "and N more". */
export const SINK_CHAT_MAX_ALERTS_PER_MESSAGE = 10;

/** Webhooks one configuration may declare. */
export const SINK_MAX_WEBHOOKS = 16;

/** Default time an email sink waits after the first alert of a batch, so one mail carries many. */
export const SINK_EMAIL_LINGER_MS = 60_000;

/** Nesting depth of evidence that redaction walks; deeper values become "[truncated]". */
export const REDACT_MAX_DEPTH = 32;

/**
 * Label-value combinations (series) one metric keeps. Past it new combinations fold into a series
 * whose labels are all `other`, counted in `sipwarden_metric_label_folds_total{metric}`, so wire
 * values used as labels (rule ids, anomaly codes) cannot grow the registry.
 */
export const METRICS_MAX_SERIES_PER_METRIC = 500;

// ── watch: blocking ─────────────────────────────────────────────────────────────────────────────

/** Addresses and networks on the block list at once (each a small record, and one element in the
 * nft set or ipset, whose default maxelem is 65,536). When full, expired entries go first; then the
 * lowest-severity entry (the one expiring soonest among them) is replaced only by a strictly
 * higher-severity block, otherwise the new block is refused (counter `refused`), never grown. */
export const BLOCK_MAX_ENTRIES = 10_000;
/** Past blocks remembered for repeat-offender doubling (key, strikes, time); the oldest is forgotten
 * past it (counter `historyEvictions`): a forgotten offender is blocked for the base duration again. */
export const BLOCK_MAX_HISTORY = 40_000;
/** A block counts as a previous strike for this long after it was placed (30 days). */
export const BLOCK_REPEAT_WINDOW_MS = 30 * 24 * 3600_000;
/** Sources read from one alert (`source` and `sources` together); the rest are not considered
 * (counter `sourcesIgnored`). The alert engine itself lists at most ALERT_MAX_SOURCES. */
export const BLOCK_MAX_SOURCES_PER_ALERT = 64;
/** Longest block: ipset's largest timeout (2,147,483 s, about 24.8 days); longer configured
 * durations are a configuration error. */
export const BLOCK_MAX_DURATION_CEILING_MS = 2_147_483_000;
/** A refresh that extends a block by less than this does not mark the outputs for rewriting (an
 * attack in progress updates its alert often; the firewall files need not follow every revision). */
export const BLOCK_REFRESH_GRANULARITY_MS = 60_000;
/** fail2ban log lines waiting for the next flush; past it new lines are dropped (counter
 * `logLinesDropped`); the blocks themselves are kept and written to the other outputs. */
export const BLOCK_MAX_PENDING_LOG_LINES = 10_000;
/** Largest block state file read (bytes); a bigger one is an input error. */
export const BLOCK_MAX_STATE_FILE_BYTES = 16 * 1024 * 1024;
/** Default time limit of the configured command hook (it is killed past it). */
export const BLOCK_COMMAND_TIMEOUT_MS = 30_000;
/** Bytes of the command hook's stdout/stderr kept for the log; the rest is discarded. */
export const BLOCK_COMMAND_MAX_OUTPUT_BYTES = 16_384;

// ── audit ───────────────────────────────────────────────────────────────────────────────────────

/** Highest `--rate` accepted (requests/connections per second): an audit is not a load test. */
export const AUDIT_MAX_RATE = 100;
/** Targets one audit run accepts (`sipwarden audit host...`): never a range. */
export const AUDIT_MAX_TARGETS = 16;
/** Extensions one run examines (`--extensions 100-199`); a larger range is a usage error. */
export const AUDIT_MAX_EXTENSIONS = 1_000;
/** Extensions the enumeration-oracle check compares against a random one (the rest are not sent). */
export const AUDIT_ORACLE_MAX_EXTENSIONS = 10;
/** Requests one probe client may have in flight; more wait for the rate limiter anyway. */
export const AUDIT_MAX_PENDING = 64;
/** Responses kept per request (provisional + final; retransmissions beyond are dropped). */
export const AUDIT_MAX_RESPONSES_PER_REQUEST = 16;
/** Largest SIP message or HTTP body a probe reads; more is cut (and said so in the evidence). */
export const AUDIT_MAX_MESSAGE_BYTES = 65_535;
/** Total requests and connections one audit run may send, whatever the options (a hard stop). */
export const AUDIT_MAX_TOTAL_SENDS = 20_000;
/** Characters of a request or response kept as evidence in a finding. */
export const AUDIT_EVIDENCE_MAX_CHARS = 2_000;
/** Challenges collected for the nonce-quality check. */
export const AUDIT_CHALLENGE_SAMPLES = 12;
/** Failed REGISTERs the intrusive rate-limit test sends at most before concluding "no limit". */
export const AUDIT_RATE_LIMIT_MAX_ATTEMPTS = 60;
/** Passwords read from `--wordlist` (the rest are ignored, and the report says so). */
export const AUDIT_MAX_WORDLIST = 1_000;
/** Password guesses per run across all extensions (each is a REGISTER pair). */
export const AUDIT_MAX_PASSWORD_GUESSES = 5_000;
/** Bytes of a `--wordlist` or `--baseline` file read. */
export const AUDIT_MAX_INPUT_FILE_BYTES = 8_388_608;
/** Findings one report holds (a baseline with more is refused). */
export const AUDIT_MAX_FINDINGS = 1_000;

// ── watch: the live sensor ──────────────────────────────────────────────────────────────────────

/** Sources remembered as having proved a return path (blocking acts only on them); oldest
 * forgotten first (a forgotten source must prove itself again before it can be blocked). */
export const WATCH_RETURN_PATH_MAX_SOURCES = 100_000;
/** Challenge nonces remembered with the address they were sent to, to recognise a source that
 * answered its challenge; oldest forgotten first. */
export const WATCH_RETURN_PATH_MAX_NONCES = 100_000;
/** How often watch moves event time on by the wall clock when sources are quiet, so windows close
 * and transactions time out on a quiet link. */
export const WATCH_TICK_INTERVAL_MS = 1_000;
/** How far behind the wall clock an idle tick sets event time: records may arrive this late (HEP
 * agents batch, logs are polled) and must still fall in their windows. */
export const WATCH_IDLE_LATENESS_MS = 5_000;
/** Alert revisions committed to the store in one transaction at most; more wait for the next turn. */
export const WATCH_STORE_BATCH = 1_000;
/** Revisions waiting to be committed; past it the oldest waiting ones are dropped and counted
 * (the store is local SQLite: this only fills if the disk stalls). */
export const WATCH_STORE_QUEUE_MAX = 50_000;
/** Distinct sources and identities counted per minute for the store's top lists; past it new keys
 * are not counted that minute. */
export const WATCH_MINUTE_MAX_KEYS = 10_000;
/** Bytes of SIP frames and log events collected before they are written to the store's journal as
 * one entry (below the store's per-entry bound); a timer writes smaller batches every second. */
export const WATCH_JOURNAL_BATCH_BYTES = 512 * 1024;

// ── enrich: numbers and geography ───────────────────────────────────────────────────────────────

/** Characters of a dialled string (a SIP URI user, a CDR field) looked at; the rest is ignored
 * and the result says `too_long`. */
export const ENRICH_DIALLED_MAX_CHARS = 256;
/** Digits a dialled number may have once separators are gone: E.164's 15 plus room for
 * outbound and international prefixes (`9 0011 ...`). More is `too_long`, never parsed. */
export const ENRICH_DIALLED_MAX_DIGITS = 24;
/** Entries a high-risk (IRSF) prefix list may hold; a longer file is refused with an error naming
 * it (matching is a map probe per prefix length, at most 15 probes per number). */
export const ENRICH_RISK_LIST_MAX_ENTRIES = 100_000;
/** Bytes of a risk-list, hosting-ASN or geography database file read; a larger one is refused. */
export const ENRICH_MAX_DATA_FILE_BYTES = 256 * 1024 * 1024;
/** ASN ranges loaded from a CSV ASN database; past it loading fails with an error naming the
 * file (the bundled one has about 520,000). */
export const ENRICH_GEO_ASN_MAX_RANGES = 4_000_000;
/** Hosting ASNs read from a hosting list. */
export const ENRICH_GEO_HOSTING_MAX_ASNS = 200_000;
/** Addresses whose geography is cached (least recently used evicted first, counted in
 * `stats().evictions`). Sources repeat: a few thousand cover a busy site. */
export const ENRICH_GEO_CACHE_ENTRIES = 10_000;

// ── detect: calls and fraud ─────────────────────────────────────────────────────────────────────

/** Dialled strings whose classification is cached (libphonenumber costs tens of µs per number);
 * past it the oldest entry is dropped. */
export const DETECT_NUMBER_CACHE_ENTRIES = 4_096;
/** Peer pairs already reported by exposure.unencrypted-media (once per pair); past it the least
 * frequent pair is evicted and may be reported again. */
export const DETECT_MAX_MEDIA_PEERS = 20_000;
/** Callers (source or identity) the destination rules keep an alert state for. */
export const DETECT_MAX_FRAUD_CALLERS = 10_000;
/** Numbers a destination or probing alert lists as evidence per caller. */
export const DETECT_FRAUD_NUMBERS_PER_CALLER = 50;
/** CDR/wire dedup: numbers whose recent initial INVITEs are remembered once a CDR source spoke;
 * past it the least recently dialled number is forgotten (its calls' CDRs then count again). */
export const DETECT_CDR_DEDUP_MAX_NUMBERS = 20_000;
/** CDR dedup: PBX call ids of recent records remembered to drop a record read twice (a socket
 * output resending after a reconnect); past it the oldest is forgotten. */
export const DETECT_CDR_SEEN_CALL_IDS = 50_000;
/** CDR/wire dedup: INVITE times kept per number (oldest dropped first). */
export const DETECT_CDR_DEDUP_PER_NUMBER = 16;
/** CDR/wire dedup: a CDR's start and its INVITE may differ by this much (3CX writes whole seconds
 * in local time; the PBX's and the sensor's clocks drift). */
export const DETECT_CDR_DEDUP_WINDOW_MS = 10_000;
/** (caller, target number) pairs prefix probing counts forms for. */
export const DETECT_MAX_PROBE_KEYS = 20_000;
/** Sources sequential dialling keeps recent numbers for. */
export const DETECT_MAX_SEQUENTIAL_SOURCES = 10_000;
/** Recent distinct numbers kept per source to find small steps between them. */
export const DETECT_SEQUENTIAL_RECENT_NUMBERS = 64;
/** Answered calls fraud.concurrent-calls keeps (one entry per call up; the call table ends every
 * call it answered, so this only caps a call table larger than this); past it a call is not
 * counted (`untracked` in the evidence). */
export const DETECT_MAX_CONCURRENT_DIALOGS = 50_000;
/** Calls prefix probing keeps while their first INVITE waits for the retry with credentials (one
 * entry per unauthenticated call in progress; the call table ends every call it started, so this
 * only caps a call table larger than this); past it a call's identity is not counted, and the
 * refusal is (`sipwarden_dropped_total{stage="table:fraud.prefix-probing awaiting"}`). */
export const DETECT_PROBE_CALLS_AWAITING_CREDENTIALS = 50_000;
/** Callers (extension, source, trunk) call-volume counts rates for. */
export const DETECT_MAX_VOLUME_KEYS = 20_000;

// ── detect: fraud.call-volume baseline (src/detect/baseline.ts) and detector snapshots ──────────

/** fraud.call-volume: extensions and trunks with a learned hour-of-week baseline (about 1.8 KB
 * each: 7.4 MB at the bound); a new key enters a full table only when it calls more often than the
 * entry it replaces (frequency admission); an evicted key starts again on the static caps. */
export const DETECT_VOLUME_BASELINE_KEYS = 4_096;
/** fraud.call-volume: an hour is learned only once event time is this far past its end, so a call
 * whose CDR comes at hang-up still counts in the hour it started; a call reported later than that
 * counts in the oldest hour not yet learned. Bounds the pending hours per key (this plus 2). */
export const DETECT_VOLUME_LATE_CALL_MS = 4 * 3_600_000;
/** fraud.call-volume: no input at all for longer than this is a hole in what was watched (the
 * sensor was down): those hours are not learned as quiet. Longer than an office's weekend seen only
 * through its CDRs. */
export const DETECT_VOLUME_MAX_SILENCE_MS = 72 * 3_600_000;
/** fraud.call-volume: holes in the watched time remembered; past it the oldest is dropped and
 * nothing before it is learned. */
export const DETECT_VOLUME_MAX_GAPS = 32;
/** fraud.call-volume: quiet hours a key learns at once when it calls again after a long quiet (8
 * weeks); older ones are skipped, by then a quiet week barely moves the mean. */
export const DETECT_VOLUME_MAX_FILL_HOURS = 8 * 168;
/** watch: detector state (learned baselines) is saved to the store this often, and at shutdown. */
export const WATCH_STATE_SNAPSHOT_INTERVAL_MS = 5 * 60_000;
/** (network, identity) pairs geo.hosting-provider remembers having reported that day. */
export const DETECT_MAX_HOSTING_KEYS = 20_000;
/** Identities geo.new-country keeps a country history for. */
export const DETECT_MAX_GEO_IDENTITIES = 20_000;
/** Countries remembered per identity; past it new countries are counted but not remembered. */
export const DETECT_GEO_COUNTRIES_PER_IDENTITY = 16;

// ── detect: fraud rules fed by CDRs (3CX call detail records) ────────────────────────────────────

/** fraud rules from CDRs: CDR records (file and line) an alert names as evidence (the first ones). */
export const DETECT_CDR_RECORDS_PER_ALERT = 20;
/** fraud.concurrent-calls from CDRs: callers and trunks whose answered calls are kept as
 * intervals (frequency admission); a group is dropped once its last call ended more than
 * DETECT_CDR_CALL_HORIZON_MS before the newest CDR. */
export const DETECT_CDR_CONCURRENT_GROUPS = 10_000;
/** fraud.concurrent-calls from CDRs: answered-call intervals kept per caller or trunk; past it the
 * call that ended first is dropped (it can overlap the fewest calls still to be reported), so a
 * limit above this cannot be reached from CDRs alone. */
export const DETECT_CDR_INTERVALS_PER_GROUP = 256;
/** fraud.concurrent-calls from CDRs: calls that ended this long before the newest CDR are
 * forgotten. CDRs come at hang-up, so a later record overlaps them only if its call lasted longer. */
export const DETECT_CDR_CALL_HORIZON_MS = 24 * 60 * 60_000;

// ── detect: session rules ───────────────────────────────────────────────────────────────────────
/** Open dialogs session.dialog-hijack keeps extra party addresses for (answer source, Contacts);
 * entries end with their dialog, past it new dialogs are judged on the tracker's addresses only. */
export const DETECT_MAX_HIJACK_DIALOGS = 50_000;
/** Answered INVITE legs (Call-ID, caller tag) whose transport addresses session.dialog-hijack
 * keeps as parties (a proxied call's caller behind NAT); dropped with their dialog, past it the
 * least frequent entry is evicted (frequency admission). */
export const DETECT_MAX_HIJACK_LEGS = 50_000;
/** Sources session.dialog-hijack keeps counts for (one alert each); frequency admission. */
export const DETECT_MAX_HIJACK_SOURCES = 10_000;
/** Addresses remembered per dialog as its parties' (INVITE and answer sources and Contacts). */
export const DETECT_HIJACK_ADDRESSES_PER_DIALOG = 8;
/** Open dialogs session.media-redirect keeps both sides' last media address for; entries end with
 * their dialog, past it new dialogs are not followed (counted). */
export const DETECT_MAX_MEDIA_DIALOGS = 50_000;
/** Addresses of record registration.hijack remembers recent bindings for (frequency admission). */
export const DETECT_MAX_REG_HIJACK_AORS = 20_000;
/** Bindings remembered per address of record (newest kept). */
export const DETECT_REG_HIJACK_BINDINGS_PER_AOR = 8;
/** Suspicious binding moves waiting to learn whether they replaced the old binding; past it the
 * oldest wait is dropped (counted). */
export const DETECT_MAX_REG_HIJACK_PENDING = 1_000;

// ── cdr: 3CX call detail records (file, active and passive socket) ──────────────────────────────

/** Bytes of one CDR line (one call); a longer line is cut there, dropped and reported as
 * `cdr_line_too_long` (a 27-field 3CX record with a long transfer chain is under 2 KiB). */
export const CDR_MAX_LINE_BYTES = 16 * 1024;
/** Fields a CDR layout may name, and fields split out of one line; past it the line is
 * `cdr_field_count` (3CX offers 27). */
export const CDR_MAX_FIELDS = 64;
/** Characters kept of a text field (number, name, DN, id); the rest is cut (a dialled number is
 * judged on its first ENRICH_DIALLED_MAX_CHARS anyway). */
export const CDR_MAX_FIELD_CHARS = 256;
/** Open TCP connections the active-socket listener accepts at once (3CX opens one or a few);
 * past it new connections are refused and counted in `connectionsRefused`. */
export const CDR_MAX_CONNECTIONS = 32;
/** An active-socket connection silent this long is closed. Long, because a PBX holding one
 * connection open may send nothing all night; 3CX is expected to reconnect for its next record. */
export const CDR_TCP_IDLE_TIMEOUT_MS = 6 * 60 * 60_000;
/** Passive socket: first wait before reconnecting to the PBX; doubled per failure up to
 * CDR_RECONNECT_MAX_MS, reset once a connection delivers data. */
export const CDR_RECONNECT_MIN_MS = 1_000;
/** Passive socket: longest wait between reconnection attempts. */
export const CDR_RECONNECT_MAX_MS = 60_000;
/** Passive socket: a connection attempt that has not completed after this long is abandoned. */
export const CDR_CONNECT_TIMEOUT_MS = 10_000;
/** watch: a CDR source that delivered no record for this long is reported silent (a PBX writes a
 * record per call; a day without any is worth a look, a night without any is normal). */
export const CDR_DEFAULT_QUIET_MS = 24 * 60 * 60_000;

// ── detect: site learner (src/detect/site-learner.ts, `sipwarden site`) ─────────────────────────

/** Addresses whose server-side roles are counted (registrar, authenticator, relay); a new address
 * enters a full table only when seen more often than the entry it replaces (frequency admission),
 * so a spoofed flood of one-off sources cannot push out the PBX. */
export const SITE_MAX_ADDRESSES = 4_096;
/** Directed address pairs (who sent requests to whom, and how it went); frequency admission as
 * SITE_MAX_ADDRESSES. Each pair is a few counters and the bounded samples below. */
export const SITE_MAX_PAIRS = 8_192;
/** Extensions (addresses of record) with their identities, contacts and User-Agents; frequency
 * admission. A 3CX site has at most a few thousand extensions. */
export const SITE_MAX_EXTENSIONS = 10_000;
/** Distinct keys (registered users, authenticated identities, ports) remembered per address as
 * evidence; past it they are counted but not remembered (evidence needs a count, not every key). */
export const SITE_MAX_SAMPLES_PER_ADDRESS = 64;
/** Digest user names, contacts and User-Agents kept per extension; past it the least seen one is
 * replaced by a newcomer only when the newcomer was seen as often (a phone moving stays visible). */
export const SITE_MAX_VALUES_PER_EXTENSION = 8;
/** Called and calling numbers kept per address pair (DIDs, caller IDs); the least called one is
 * replaced past it. Only answered calls are sampled, which a spoofed flood does not get. */
export const SITE_MAX_NUMBERS_PER_PAIR = 32;
/** Recent initial INVITEs kept to recognise the onward leg a PBX sends for a call it received (a
 * ring: the oldest is overwritten). */
export const SITE_RELAY_RECENT_INVITES = 512;
/** An onward leg is paired with a received call when sent within this long of it. */
export const SITE_RELAY_WINDOW_MS = 10_000;
/** Outbound-prefix candidates counted per onward destination (digits the PBX strips); the least
 * counted one is replaced past it. */
export const SITE_MAX_PREFIX_CANDIDATES = 256;
/** A PBX is inferred from at least this many independent two-way exchanges: distinct extensions it
 * accepted registrations for, distinct identities it authenticated, calls it relayed. */
export const SITE_MIN_PBX_EVIDENCE = 2;
/** An address registering at least this many distinct extensions is a shared address (SBC, 3CX
 * tunnel, or an office behind NAT). */
export const SITE_MIN_SHARED_EXTENSIONS = 3;
/** Answered calls needed before business hours are suggested (hour histogram, low confidence). */
export const SITE_MIN_CALLS_FOR_HOURS = 20;
/** Learned evidence counts at or above this are `medium` confidence (below: `low`). */
export const SITE_CONFIDENCE_MEDIUM = 3;
/** Learned evidence counts at or above this are `high` confidence. */
export const SITE_CONFIDENCE_HIGH = 10;
/** Digits a user part needs to be read as a telephone number (DIDs, caller IDs, trunk numbers)
 * rather than an extension. */
export const SITE_NUMBER_MIN_DIGITS = 6;
