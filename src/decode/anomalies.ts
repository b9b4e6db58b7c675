/**
 * Anomaly codes of the capture sources and the decode stage (link, IP, fragments, UDP, TCP).
 * Each code is raised as data (`Anomaly`/`LocatedAnomaly`, or a `CaptureError` for fatal file
 * errors), never thrown. A test fails when a code used in these modules is missing here.
 */

/** Capture-file codes (pcap / pcapng). Fatal ones stop reading the file; the rest are reported. */
export const CAPTURE_ANOMALIES: Record<string, string> = {
  capture_not_a_capture: 'fatal: the first bytes are neither a pcap magic nor a pcapng Section Header Block',
  capture_truncated: 'the input ended inside a record; every complete frame before it was delivered',
  capture_record_too_large:
    'fatal: a record is larger than CAPTURE_MAX_RECORD_BYTES (corrupt length or hostile file)',
  capture_bad_block_length:
    'fatal: a pcapng block length is impossible (under 12, not a multiple of 4) or the trailing copy differs',
  capture_bad_caplen:
    'fatal: a packet record says it captured more bytes than its block holds, or more than it saw on the wire',
  capture_bad_interface: 'fatal: a pcapng packet names an interface that no IDB of its section defined',
  capture_too_many_interfaces: 'fatal: a pcapng section defines more than CAPTURE_MAX_INTERFACES interfaces',
  capture_unsupported_version:
    'pcap major version is not 2 (read anyway), or pcapng major version is not 1 (fatal)',
  capture_bad_section_header:
    'fatal: a pcapng Section Header Block has no valid byte-order magic or is too short',
  capture_bad_option: 'a pcapng option overruns its block; the remaining options of that block are ignored',
  capture_gzip_error: 'the gzip stream is corrupt or ends early; frames decoded before it were delivered',
};

/** Decode-stage codes: one per malformation or bound that the wire can trigger. */
export const DECODE_ANOMALIES: Record<string, string> = {
  ...CAPTURE_ANOMALIES,
  link_unknown_type: 'a frame uses a link type the decoder does not read (reported once per link type)',
  link_truncated: 'a frame is shorter than its link-layer header (Ethernet, VLAN tag, SLL, loopback, ...)',
  link_too_many_tags: 'more VLAN tags / MPLS labels than DECODE_MAX_LINK_TAGS; the frame is dropped',
  ip_bad_version: 'the IP version nibble is neither 4 nor 6 where an IP packet was expected',
  ip_truncated: 'the IP length field says more bytes than the frame holds (snap length); the rest is decoded',
  ipv4_bad_header_length:
    'IPv4 packet shorter than 20 bytes, or IHL under 5 or beyond the packet; the packet is dropped',
  ipv4_bad_total_length: 'IPv4 total length smaller than its header; the packet is dropped',
  ipv6_truncated: 'a frame is shorter than the 40-byte IPv6 header',
  ipv6_bad_extension_header: 'an IPv6 extension header overruns the packet; the packet is dropped',
  ipv6_extension_chain_too_long:
    'more IPv6 extension headers than DECODE_MAX_IPV6_EXTENSION_HEADERS; the packet is dropped',
  ip_encapsulation_too_deep:
    'tunnels (IP-in-IP, GRE, ERSPAN) nested deeper than DECODE_MAX_ENCAPSULATION_DEPTH; dropped',
  gre_truncated: 'a GRE (or ERSPAN) header is cut short',
  gre_unsupported: 'GRE version 1 (PPTP), source routing, or an ERSPAN header with an unknown version',
  ip_fragment_overlap:
    'a fragment overlaps bytes already received (IPv4: first-seen bytes kept; IPv6: datagram discarded, RFC 5722)',
  ip_fragment_bad_length: 'a non-final fragment whose length is not a multiple of 8; the fragment is dropped',
  ip_fragment_too_big:
    'fragments reach past DEFRAG_MAX_DATAGRAM_BYTES (ping of death); the datagram is dropped',
  ip_fragment_too_many:
    'one datagram arrives in more than DEFRAG_MAX_FRAGMENTS_PER_DATAGRAM fragments; the datagram is dropped',
  ip_fragment_inconsistent:
    'fragments disagree on where the datagram ends (two different final fragments, or data past the end)',
  ip_fragment_timeout:
    'a fragmented datagram was still incomplete after DEFRAG_TIMEOUT_MS of event time or at end of input',
  ipv6_nested_fragment: 'a reassembled IPv6 datagram holds another fragment header; dropped',
  udp_truncated: 'a UDP header is cut short, or the UDP length says more bytes than the packet holds',
  udp_bad_length: 'the UDP length field is smaller than the 8-byte header; the IP length is used instead',
  tcp_bad_header_length: 'the TCP data offset is under 5 words or beyond the segment; the segment is dropped',
  tcp_truncated: 'a TCP header is cut short',
  tcp_overlap_mismatch:
    'a TCP segment overlaps buffered bytes with different content (first-seen bytes are kept)',
  tcp_resync:
    'after a skip, the receiver acknowledged bytes inside the skipped range (it never got what followed): delivery moved back to its position',
  tcp_gap:
    'bytes of a TCP stream were never seen (capture loss, full buffer, or a hole outlasting TCP_GAP_TIMEOUT_MS); delivery skipped ahead',
};
