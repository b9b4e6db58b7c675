/**
 * Every anomaly code the SDP parser emits (RFC 8866), with what it means. A test fails when a code
 * is emitted that is not in this table.
 */
export const SDP_ANOMALIES: Record<string, string> = {
  sdp_empty: 'The body holds no SDP line at all.',
  sdp_bad_line: 'A line is not `<letter>=<value>` (e.g. `m =video`, `testing=123`); it is skipped.',
  sdp_unknown_type: 'A line type letter RFC 8866 does not define; the line is ignored.',
  sdp_line_out_of_order:
    'A line appears where RFC 8866 section 5 does not allow it: `v=` not first, or a session-only line (o, s, u, e, p, t, r, z) inside a media section.',
  sdp_duplicate_line:
    'A line that may appear once per description or section (v, o, s, i, u, c at session level, k, z) appears again.',
  sdp_bad_version: '`v=` is not 0, the only SDP version there is.',
  sdp_missing_version: 'No `v=` line (it must open the description).',
  sdp_missing_origin: 'No `o=` line (origin and session id).',
  sdp_bad_origin: '`o=` is not `username sess-id sess-version nettype addrtype address`.',
  sdp_missing_session_name: 'No `s=` line (an empty name must be written `s= ` or `s=-`).',
  sdp_missing_timing: 'No `t=` line (`t=0 0` for an unbounded session).',
  sdp_bad_timing: '`t=`, `r=` or `z=` is not made of numbers (with d/h/m/s units for r and z).',
  sdp_bad_connection: '`c=` is not `nettype addrtype address[/ttl][/count]`.',
  sdp_bad_address:
    'An address does not match its type: not an IPv4 address for IP4, not an IPv6 address for IP6 (FQDNs are accepted).',
  sdp_missing_connection:
    'A media section has no `c=` and the session has none either (RFC 8866 section 5.7).',
  sdp_bad_bandwidth: '`b=` is not `bwtype:number`.',
  sdp_bad_media: '`m=` is not `media port[/count] proto fmt...`, or its port is out of range.',
  sdp_bad_attribute:
    'A known attribute is malformed: rtpmap, crypto (RFC 4568), fingerprint (RFC 8122), setup (RFC 4145), or a direction attribute with a value.',
  sdp_conflicting_direction: 'More than one of sendrecv/sendonly/recvonly/inactive in the same section.',
  sdp_too_many_media: 'More media sections than SDP_MAX_MEDIA; the rest are skipped.',
  sdp_too_many_lines:
    'More attribute/bandwidth/time/connection lines than SDP_MAX_LINES; the rest are skipped.',
};
