/**
 * Every anomaly code the SIP parser and the stream framer emit, with what it means. A test fails
 * when a code is emitted that is not in this table. References are to RFC 3261 unless named.
 */
export const SIP_ANOMALIES: Record<string, string> = {
  // start line
  sip_message_too_large: 'The message is longer than SIP_MAX_MESSAGE_BYTES; only that much is read.',
  sip_junk_before_request:
    'Bytes other than CR/LF before the start line (CRLF keep-alives of RFC 5626 are skipped silently).',
  sip_bad_start_line:
    'The first line is neither a Request-Line (Method SP Request-URI SP SIP-Version) nor a Status-Line; the message is kind `invalid`.',
  sip_bad_version: 'SIP-Version (start line or a Via sent-protocol) is not SIP/2.0 (RFC 4475 badvers.dat).',
  sip_bad_status_code:
    'Status-Code is not three digits from 100 to 699 (RFC 4475 bigcode.dat); the message is kind `invalid`.',
  sip_multiple_sp_in_start_line: 'More than one SP between start-line elements (RFC 4475 lwsstart.dat).',
  sip_trailing_sp_in_start_line: 'SP characters after the SIP-Version of a Request-Line (RFC 4475 trws.dat).',
  sip_uri_embedded_lws: 'The Request-URI contains whitespace (RFC 4475 lwsruri.dat).',
  sip_uri_enclosed_in_brackets: 'The Request-URI is enclosed in <> (RFC 4475 ltgtruri.dat).',
  sip_escaped_headers_in_request_uri:
    'A SIP Request-URI carries ?headers, which section 19.1.5 forbids there (RFC 4475 escruri.dat).',

  // header section
  sip_header_without_colon:
    'A header line has no colon (RFC 4475 test.dat `Foobar roobar`); the line is skipped.',
  sip_bad_header_name:
    'A header line starts with a character that cannot begin a header name, or continues a header that does not exist; the line is skipped.',
  sip_headers_unterminated: 'The header section does not end with an empty line before the end of the data.',
  sip_bare_lf: 'A line ends with LF alone instead of CRLF (tolerated: the line is read).',
  sip_too_many_headers: 'More header fields than SIP_MAX_HEADERS; the rest are not indexed.',
  sip_header_too_long:
    'A header field is longer than SIP_MAX_HEADER_FIELD_BYTES (overflow probe); it is still read.',
  sip_duplicate_single_header:
    'A header that may appear once (Call-ID, CSeq, From, To, Max-Forwards, ...) appears again (RFC 4475 multi01.dat); the first is used.',
  sip_missing_header:
    'A mandatory header is missing (section 8.1.1): Call-ID, CSeq, From, To, Via, and Max-Forwards in requests from RFC 3261 elements (RFC 4475 insuf.dat). Detail names the header.',
  sip_extraneous_header_separator: 'Empty list elements or parameters: `;;`, `,,` (RFC 4475 badinv01.dat).',
  sip_too_many_values:
    'More list values (Contact, Route, challenges, ...) than the parser reads (SIP_MAX_LIST_VALUES).',
  sip_too_many_params: 'More parameters in one value than SIP_MAX_PARAMS; the rest are skipped.',
  sip_bad_param:
    'A header parameter is malformed: no name, empty value after `=`, stray text, or q outside 0..1.',
  sip_unterminated_quote: 'A quoted string has no closing quote (RFC 4475 quotbal.dat).',

  // body framing
  sip_bad_content_length:
    'Content-Length is not a decimal number (the body is then the rest of the datagram).',
  sip_negative_content_length: 'Content-Length is negative (RFC 4475 ncl.dat).',
  sip_body_truncated: 'Content-Length is larger than the bytes that follow the headers (RFC 4475 clerr.dat).',
  sip_multiple_content_length: 'More than one Content-Length field (RFC 4475 mcl01.dat); the first is used.',

  // values
  sip_bad_cseq: 'CSeq is not `1*DIGIT LWS Method`.',
  sip_cseq_method_mismatch: 'The CSeq method differs from the request method (RFC 4475 mismatch01/02.dat).',
  sip_overlarge_value:
    'A numeric field exceeds its range: CSeq over 2^31-1, Max-Forwards over 255, delta-seconds over 2^32-1 (clamped), a Warning code over 3 digits (RFC 4475 scalar02/scalarlg.dat).',
  sip_bad_number:
    'A numeric field (Max-Forwards, Expires, Min-Expires, Retry-After, Session-Expires, Warning code, contact expires) is not a number.',
  sip_bad_date: 'Date is not an RFC 1123 date in GMT (RFC 4475 baddate.dat).',
  sip_bad_uri:
    'A URI breaks the RFC 3261 grammar: no scheme, bad characters or escapes, bad host or port, missing >.',
  sip_ipv6_reference_without_brackets: 'An IPv6 address used as a host without [] (RFC 5118 ipv6-bad).',
  sip_bad_ipv6_reference:
    'The text inside [] is not an IPv6 address, or ] is missing (RFC 5118 ipv6-bug-abnf-3-colons: flagged, host kept).',
  sip_name_addr_not_enclosed:
    'An address with ?headers or a comma, or one after a quoted display name, is not enclosed in <> (RFC 4475 regbadct.dat).',
  sip_spaces_in_addr_spec: 'Whitespace inside <...> around the URI (RFC 4475 badaspec.dat).',
  sip_bad_display_name:
    'An unquoted display name holds characters other than tokens and LWS (RFC 4475 baddn.dat).',
  sip_bad_via: 'A Via value is not `SIP/2.0/transport host[:port]` followed by parameters.',
  sip_too_many_vias: 'More Via values than SIP_MAX_VIAS; the rest are skipped.',
  sip_missing_branch:
    'The top Via branch is empty or only the magic cookie z9hG4bK (RFC 4475 badbranch.dat). An absent branch is RFC 2543 style and is not flagged.',
  sip_bad_auth_header: 'An Authorization/Authenticate field is not `scheme auth-param *(, auth-param)`.',

  // stream framing (src/sip/stream.ts)
  sip_missing_content_length:
    'A message on a TCP/TLS stream has no Content-Length (section 18.3 requires it there); its body is taken as empty.',
  sip_stream_resync:
    'Bytes skipped on a stream while looking for the next start line (after a gap, junk, or a wrong Content-Length). Detail: how many.',
  sip_stream_gap:
    'Bytes of the stream were lost; the partial message being assembled was dropped. Detail: how many bytes.',
  sip_stream_headers_too_large:
    'No end of headers within SIP_STREAM_MAX_HEADER_BYTES; the bytes are dropped and the framer resynchronises.',
  sip_stream_body_too_large:
    'Content-Length above SIP_STREAM_MAX_BODY_BYTES; the message is dropped, its body skipped unbuffered.',
  sip_stream_truncated: 'The stream ended inside a message; the partial message is dropped.',
};
