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
 * Event time a hole in a stream may stay open before delivery skips past it (`tcp_gap`): long enough
 * for a retransmission after a lost segment, short enough not to stall detection.
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

/** Header fields indexed per SIP message (6 int32 each); fields past it are not indexed and the
 * message gets anomaly `sip_too_many_headers`. A real message has 10–40. */
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
/** Attribute, bandwidth, time and connection lines kept per SDP body (session and media levels
 * together); more are skipped with anomaly `sdp_too_many_lines`. */
export const SDP_MAX_LINES = 512;

// ── track: transactions, dialogs, registrations ─────────────────────────────────────────────────

/**
 * Open transactions kept at once. Past it the oldest is evicted only for a request whose source is
 * more frequent (counter `transactions` evictions/rejections); about 1 KiB each.
 */
export const TRACK_MAX_TRANSACTIONS = 100_000;
/** A non-INVITE transaction (or a completed one, kept to recognise retransmissions) closes after
 * this much event time without activity: 64 × T1 (RFC 3261 Timer F/J). */
export const TRACK_TRANSACTION_TIMEOUT_MS = 32_000;
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
