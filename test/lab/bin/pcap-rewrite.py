#!/usr/bin/env python3
"""Spread real SIP exchanges of a capture over time and over source addresses.

The lab records real tool traffic in seconds; some attacks (and one benign
misconfiguration) only exist over hours. This script keeps every packet's
bytes as the tool and the PBX sent them and changes only:
  - the capture time: packets are grouped into episodes by SIP Call-ID (one
    svcrack guess) or, with --split attempt, by attempt (a phone's
    registration attempts share one Call-ID; each begins with a REGISTER
    without credentials); episode i starts at
    START + i * INTERVAL (+ a seeded jitter), and keeps its own inner timing;
  - optionally the client's address (the side that is not --pbx): episode i
    is given address SOURCES[i % len(SOURCES)], in the IPv4 header and, with
    --rewrite-text, wherever the old address appears in the SIP text (Via
    sent-by and received=, Contact, Call-ID host ...), so the message stays
    self-consistent;
and then fixes IPv4 total length and header checksum and recomputes the UDP
length and checksum. Non-SIP packets (ICMP) and TCP are copied with the
episode's time but otherwise untouched (the lab rewrites UDP captures only).

With --shift-to EPOCH it only moves the whole capture in time (a call
recorded now, replayed as if made at night in the site's time zone).

With --map SPEC it gives every packet new addresses from a fixed table (the
loopback addresses of a recording become the public ones a capture is meant
to show, for the geography rules): each IPv4 source and destination in the
table is replaced, in the IP header and, for UDP, wherever the address
appears in the SIP text (Via, received=, Contact, Record-Route, SDP o= and
c=, ...); when the body changes length, Content-Length is changed by the
same amount; IPv4 and UDP lengths and checksums are recomputed. TCP segments
get new header addresses and checksum, and their payload only when every
replacement keeps its length (sequence numbers would break otherwise). ICMP
errors get the quoted packet mapped too (its IP header and, for UDP, its
text; the quote is a truncated copy, its lengths are left as quoted). --map can be combined with
--shift-to; with --strict, an address of --strict's network (default
127.0.0.0/8) left anywhere after the mapping is an error.

Input and output: classic pcap (as tcpdump writes), Ethernet or raw IPv4.
Standard library only.

usage: pcap-rewrite.py IN OUT --pbx IP [--interval S] [--jitter S] [--seed N]
                       [--start EPOCH] [--episodes N] [--sources SPEC]
                       [--split callid|attempt] [--rewrite-text]
       pcap-rewrite.py IN OUT --pbx IP --shift-to EPOCH
       pcap-rewrite.py IN OUT --map MAP [--shift-to EPOCH] [--strict [NET]]
SPEC: comma-separated addresses, or "@FILE" with one address a line.
MAP: comma-separated OLD=NEW pairs, or "@FILE" with one "OLD NEW" (or
OLD=NEW) pair a line; "#" starts a comment.
"""
import argparse
import ipaddress
import random
import re
import socket
import struct
import sys

LINKTYPE_ETHERNET = 1
LINKTYPE_RAW = 101
LINKTYPE_IPV4 = 228
CALL_ID = re.compile(rb"\r\n(?:Call-ID|i)[ \t]*:[ \t]*([^\r\n]+)", re.IGNORECASE)


def read_pcap(path):
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        sys.exit("%s: too short for a pcap header" % path)
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        endian = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        endian = ">"
    else:
        sys.exit("%s: not a classic pcap file (pcapng is not supported)" % path)
    nano = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    _, _, _, _, snaplen, linktype = struct.unpack(endian + "HHiIII", data[4:24])
    packets = []
    off = 24
    while off + 16 <= len(data):
        sec, frac, caplen, origlen = struct.unpack(endian + "IIII", data[off:off + 16])
        off += 16
        frame = data[off:off + caplen]
        off += caplen
        t = sec + frac / (1e9 if nano else 1e6)
        packets.append([t, frame, origlen])
    return linktype, snaplen, packets


def write_pcap(path, linktype, snaplen, packets):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, snaplen, linktype))
        for t, frame, origlen in packets:
            sec = int(t)
            usec = int(round((t - sec) * 1e6))
            if usec >= 1000000:
                sec, usec = sec + 1, usec - 1000000
            f.write(struct.pack("<IIII", sec, usec, len(frame), max(origlen, len(frame))))
            f.write(frame)


def ip_offset(linktype, frame):
    """Offset of the IPv4 header in the frame, or None."""
    if linktype == LINKTYPE_ETHERNET:
        off, ethertype = 14, struct.unpack("!H", frame[12:14])[0] if len(frame) >= 14 else 0
        while ethertype in (0x8100, 0x88A8) and len(frame) >= off + 4:
            ethertype = struct.unpack("!H", frame[off + 2:off + 4])[0]
            off += 4
        return off if ethertype == 0x0800 else None
    if linktype in (LINKTYPE_RAW, LINKTYPE_IPV4):
        return 0 if frame[:1] and frame[0] >> 4 == 4 else None
    return None


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def parse(linktype, frame):
    """(ip_off, ihl, proto, src, dst, payload_off) or None."""
    off = ip_offset(linktype, frame)
    if off is None or len(frame) < off + 20:
        return None
    ihl = (frame[off] & 0x0F) * 4
    proto = frame[off + 9]
    src = socket.inet_ntoa(frame[off + 12:off + 16])
    dst = socket.inet_ntoa(frame[off + 16:off + 20])
    payload_off = off + ihl + (8 if proto == 17 else 0)
    return off, ihl, proto, src, dst, payload_off


def rebuild(frame, off, ihl, src, dst, udp_payload):
    """A UDP/IPv4 frame with new addresses and payload, lengths and checksums fixed."""
    head = bytearray(frame[:off + ihl])
    sport, dport = struct.unpack("!HH", frame[off + ihl:off + ihl + 4])
    ip = head[off:]
    total = ihl + 8 + len(udp_payload)
    ip[2:4] = struct.pack("!H", total)
    ip[12:16] = socket.inet_aton(src)
    ip[16:20] = socket.inet_aton(dst)
    ip[10:12] = b"\0\0"
    ip[10:12] = struct.pack("!H", checksum(bytes(ip)))
    udp_len = 8 + len(udp_payload)
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 17, udp_len)
    udp = struct.pack("!HHHH", sport, dport, udp_len, 0) + udp_payload
    csum = checksum(pseudo + udp) or 0xFFFF
    udp = udp[:6] + struct.pack("!H", csum) + udp[8:]
    return bytes(head[:off]) + bytes(ip) + udp


def is_fresh_request(payload):
    """A SIP request that carries no credentials: the start of an attempt."""
    line_end = payload.find(b"\r\n")
    if line_end < 0 or not payload[:line_end].endswith(b"SIP/2.0"):
        return False
    head = payload[:payload.find(b"\r\n\r\n") + 2].lower()
    return b"\r\nauthorization:" not in head and b"\r\nproxy-authorization:" not in head


def load_sources(spec):
    if not spec:
        return []
    if spec.startswith("@"):
        with open(spec[1:]) as f:
            items = [line.strip() for line in f if line.strip() and not line.startswith("#")]
    else:
        items = [s.strip() for s in spec.split(",") if s.strip()]
    for a in items:
        socket.inet_aton(a)
    return items


def load_map(spec):
    """The address table of --map: {old: new}, both IPv4 (checked)."""
    if spec.startswith("@"):
        with open(spec[1:]) as f:
            pairs = [line.split("#", 1)[0].replace("=", " ").split() for line in f]
    else:
        pairs = [item.split("=") for item in spec.split(",") if item.strip()]
    table = {}
    for p in pairs:
        if not p:
            continue
        if len(p) != 2:
            sys.exit("--map: expected OLD=NEW, got %r" % " ".join(p))
        old, new = p[0].strip(), p[1].strip()
        socket.inet_aton(old)
        socket.inet_aton(new)
        if old in table and table[old] != new:
            sys.exit("--map: %s is mapped twice" % old)
        table[old] = new
    if not table:
        sys.exit("--map: no address pairs")
    return table


def text_mapper(table):
    """A function replacing every mapped address in bytes, all at once (never a replacement's
    replacement), only where the address is whole (127.0.0.1 is not the start of 127.0.0.12)."""
    olds = sorted(table, key=len, reverse=True)
    pattern = re.compile(rb"(?<![0-9.])(" + b"|".join(re.escape(o.encode()) for o in olds) + rb")(?![0-9]|\.[0-9])")
    new = {o.encode(): n.encode() for o, n in table.items()}
    return lambda data: pattern.sub(lambda m: new[m.group(1)], data)


CONTENT_LENGTH = re.compile(rb"(\r\n(?:Content-Length|l)[ \t]*:[ \t]*)([0-9]+)", re.IGNORECASE)


def map_sip_text(payload, mapper):
    """The SIP text with addresses mapped and Content-Length moved by the body's change in length."""
    split = payload.find(b"\r\n\r\n")
    if split < 0:
        return mapper(payload)
    head, body = payload[:split + 2], payload[split + 4:]
    new_head, new_body = mapper(head), mapper(body)
    delta = len(new_body) - len(body)
    if delta:
        m = CONTENT_LENGTH.search(new_head)
        if m:
            value = int(m.group(2)) + delta
            new_head = new_head[:m.start(2)] + str(value).encode() + new_head[m.end(2):]
    return new_head + b"\r\n" + new_body


def tcp_rebuild(frame, off, ihl, src, dst, payload):
    """A TCP/IPv4 frame with new addresses (same payload length), checksums fixed."""
    head = bytearray(frame[:off + ihl])
    ip = head[off:]
    thl = (frame[off + ihl + 12] >> 4) * 4
    tcp = bytearray(frame[off + ihl:off + ihl + thl]) + payload
    ip[12:16] = socket.inet_aton(src)
    ip[16:20] = socket.inet_aton(dst)
    ip[10:12] = b"\0\0"
    ip[10:12] = struct.pack("!H", checksum(bytes(ip)))
    tcp[16:18] = b"\0\0"
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 6, len(tcp))
    tcp[16:18] = struct.pack("!H", checksum(pseudo + bytes(tcp)))
    return bytes(head[:off]) + bytes(ip) + bytes(tcp)


def map_frame(linktype, frame, table, mapper):
    """One frame with its addresses mapped (frames that are not IPv4 come back as they are)."""
    info = parse(linktype, frame)
    if info is None:
        return frame
    off, ihl, proto, src, dst, poff = info
    s2, d2 = table.get(src, src), table.get(dst, dst)
    total = struct.unpack("!H", frame[off + 2:off + 4])[0]
    end = min(len(frame), off + total)
    if proto == 17 and len(frame) >= off + ihl + 8:
        return rebuild(frame[:end], off, ihl, s2, d2, map_sip_text(frame[poff:end], mapper))
    if proto == 6 and len(frame) >= off + ihl + 20:
        thl = (frame[off + ihl + 12] >> 4) * 4
        payload = frame[off + ihl + thl:end]
        mapped = mapper(payload)
        if len(mapped) != len(payload):
            sys.exit("--map: a TCP segment's text would change length: map to addresses of the same length")
        return tcp_rebuild(frame[:end], off, ihl, s2, d2, mapped)
    ip = bytearray(frame[off:end])
    if proto == 1 and len(ip) >= ihl + 8 + 20 and ip[ihl] in (3, 11, 12):
        # An ICMP error quotes the offending packet: map its IP header and, for UDP, its text.
        q = ihl + 8
        qihl = (ip[q] & 0x0F) * 4
        qs, qd = socket.inet_ntoa(bytes(ip[q + 12:q + 16])), socket.inet_ntoa(bytes(ip[q + 16:q + 20]))
        ip[q + 12:q + 16] = socket.inet_aton(table.get(qs, qs))
        ip[q + 16:q + 20] = socket.inet_aton(table.get(qd, qd))
        ip[q + 10:q + 12] = b"\0\0"
        ip[q + 10:q + 12] = struct.pack("!H", checksum(bytes(ip[q:q + qihl])))
        if ip[q + 9] == 17 and len(ip) > q + qihl + 8:
            ip = ip[:q + qihl + 8] + bytearray(mapper(bytes(ip[q + qihl + 8:])))
        ip[ihl + 2:ihl + 4] = b"\0\0"
        ip[ihl + 2:ihl + 4] = struct.pack("!H", checksum(bytes(ip[ihl:])))
    ip[2:4] = struct.pack("!H", len(ip))
    ip[12:16] = socket.inet_aton(s2)
    ip[16:20] = socket.inet_aton(d2)
    ip[10:12] = b"\0\0"
    ip[10:12] = struct.pack("!H", checksum(bytes(ip[:ihl])))
    return frame[:off] + bytes(ip)


def leftovers(linktype, frame, net):
    """Addresses of `net` still in a frame's IPv4 header or text."""
    found = set()
    info = parse(linktype, frame)
    if info is not None:
        for a in (info[3], info[4]):
            if ipaddress.ip_address(a) in net:
                found.add(a)
        data = frame[info[5]:]
    else:
        data = frame
    for m in re.finditer(rb"(?<![0-9.])([0-9]{1,3}(?:\.[0-9]{1,3}){3})(?![0-9])", data):
        try:
            a = ipaddress.ip_address(m.group(1).decode())
        except ValueError:
            continue
        if a in net:
            found.add(str(a))
    return found


def map_capture(args, linktype, snaplen, packets):
    table = load_map(args.map)
    mapper = text_mapper(table)
    delta = (args.shift_to - packets[0][0]) if args.shift_to is not None else 0.0
    out = []
    for t, frame, origlen in packets:
        mapped = map_frame(linktype, frame, table, mapper)
        out.append([t + delta, mapped, origlen + len(mapped) - len(frame)])
    if args.strict:
        net = ipaddress.ip_network(args.strict)
        left = set()
        for _, frame, _ in out:
            left |= leftovers(linktype, frame, net)
        if left:
            sys.exit("--strict: addresses of %s left unmapped: %s" % (net, ", ".join(sorted(left))))
    write_pcap(args.output, linktype, snaplen, out)
    print("pcap-rewrite: %d packets, %d addresses mapped%s"
          % (len(out), len(table), ", shifted by %.6f s" % delta if delta else ""))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--pbx", help="the PBX address (the side kept as it is; not with --map)")
    ap.add_argument("--interval", type=float, default=600.0, help="seconds between episode starts")
    ap.add_argument("--jitter", type=float, default=0.0, help="+/- seconds added to each start (seeded)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--start", type=float, default=None, help="epoch of the first episode (default: as captured)")
    ap.add_argument("--episodes", type=int, default=0, help="keep only the first N episodes")
    ap.add_argument("--sources", default="", help="client addresses to give the episodes in turn")
    ap.add_argument("--split", choices=("callid", "attempt"), default="callid",
                    help="episode = one Call-ID, or one attempt (a client request without credentials and what follows)")
    ap.add_argument("--rewrite-text", action="store_true", help="also replace the client address in the SIP text")
    ap.add_argument("--shift-to", type=float, default=None,
                    help="only move the whole capture in time so its first packet is at this epoch "
                         "(every gap and every byte kept; the other options are ignored)")
    ap.add_argument("--map", default=None,
                    help="give every packet new addresses from this table (OLD=NEW,... or @FILE); "
                         "with --shift-to, also move it in time")
    ap.add_argument("--strict", nargs="?", const="127.0.0.0/8", default=None,
                    help="with --map: fail if an address of this network (default 127.0.0.0/8) is left")
    args = ap.parse_args()

    linktype, snaplen, packets = read_pcap(args.input)
    if args.map is not None:
        if not packets:
            sys.exit("%s: no packets" % args.input)
        map_capture(args, linktype, snaplen, packets)
        return
    if args.pbx is None:
        ap.error("--pbx is required (unless --map)")
    if args.shift_to is not None:
        if not packets:
            sys.exit("%s: no packets" % args.input)
        delta = args.shift_to - packets[0][0]
        write_pcap(args.output, linktype, snaplen, [[t + delta, frame, origlen] for t, frame, origlen in packets])
        print("pcap-rewrite: %d packets shifted by %.6f s" % (len(packets), delta))
        return
    sources = load_sources(args.sources)
    rng = random.Random(args.seed)

    # Episodes in order of first appearance, keyed by Call-ID (or, with
    # --split attempt, opened by each client request without credentials);
    # packets without one (ICMP, TCP segments without a start line) join the
    # current episode.
    episodes = []
    index = {}
    current = None
    for pkt in packets:
        if args.split == "attempt":
            info = parse(linktype, pkt[1])
            if info and info[3] != args.pbx and is_fresh_request(pkt[1][info[5]:]):
                episodes.append([])
                current = len(episodes) - 1
            if current is None:
                episodes.append([])
                current = 0
            episodes[current].append(pkt)
            continue
        m = CALL_ID.search(pkt[1])
        if m:
            key = m.group(1).strip()
            if key not in index:
                index[key] = len(episodes)
                episodes.append([])
            current = index[key]
        if current is None:
            index[None] = 0
            episodes.append([])
            current = 0
        episodes[current].append(pkt)
    if args.episodes:
        episodes = episodes[:args.episodes]
    if not episodes:
        sys.exit("%s: no packets" % args.input)

    start = args.start if args.start is not None else episodes[0][0][0]
    out = []
    for i, ep in enumerate(episodes):
        t0 = ep[0][0]
        jitter = rng.uniform(-args.jitter, args.jitter) if args.jitter else 0.0
        base = start + i * args.interval + (jitter if i else 0.0)
        new_src = sources[i % len(sources)] if sources else None
        old_client = None
        for t, frame, origlen in ep:
            info = parse(linktype, frame)
            if info and old_client is None:
                _, _, _, s, d, _ = info
                old_client = d if s == args.pbx else s
            if new_src and info and info[2] == 17:
                off, ihl, _, s, d, poff = info
                payload = frame[poff:]
                if args.rewrite_text:
                    pattern = re.compile(rb"(?<![0-9.])" + re.escape(old_client.encode()) + rb"(?![0-9])")
                    payload = pattern.sub(new_src.encode(), payload)
                s2 = new_src if s == old_client else s
                d2 = new_src if d == old_client else d
                frame = rebuild(frame, off, ihl, s2, d2, payload)
                origlen = len(frame)
            out.append([base + (t - t0), frame, origlen])
    out.sort(key=lambda p: p[0])
    write_pcap(args.output, linktype, snaplen, out)
    span = out[-1][0] - out[0][0]
    print("pcap-rewrite: %d packets in %d episodes, %.1f s (%.2f h), %d source addresses"
          % (len(out), len(episodes), span, span / 3600, len(set(sources)) if sources else 0))


if __name__ == "__main__":
    main()
