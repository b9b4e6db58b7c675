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

Input and output: classic pcap (as tcpdump writes), Ethernet or raw IPv4.
Standard library only.

usage: pcap-rewrite.py IN OUT --pbx IP [--interval S] [--jitter S] [--seed N]
                       [--start EPOCH] [--episodes N] [--sources SPEC]
                       [--split callid|attempt] [--rewrite-text]
       pcap-rewrite.py IN OUT --pbx IP --shift-to EPOCH
SPEC: comma-separated addresses, or "@FILE" with one address a line.
"""
import argparse
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


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--pbx", required=True, help="the PBX address (the side kept as it is)")
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
    args = ap.parse_args()

    linktype, snaplen, packets = read_pcap(args.input)
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
