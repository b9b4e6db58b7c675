/**
 * Makes text from the wire safe to show on a terminal or in a log line: control characters
 * (ANSI escapes included), DEL, backslash and non-printable code points become visible escapes, and
 * the result is cut to `max` characters. Wire strings are never printed any other way.
 */
export function escapeText(s: string, max = 200): string {
  let out = '';
  const n = Math.min(s.length, max);
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f || (c >= 0x80 && c < 0xa0)) {
      out +=
        c === 0x0a
          ? '\\n'
          : c === 0x0d
            ? '\\r'
            : c === 0x09
              ? '\\t'
              : `\\x${c.toString(16).padStart(2, '0')}`;
    } else if (c === 0x5c) {
      out += '\\\\';
    } else if (c >= 0x2028 && c <= 0x202e) {
      out += `\\u${c.toString(16)}`;
    } else {
      out += s[i];
    }
  }
  if (s.length > max) out += '…';
  return out;
}
