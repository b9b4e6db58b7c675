#!/usr/bin/env python3
"""Write test/fixtures/captures/expected.json and INDEX.md.

Reads what make-captures.sh left in its work dir for each capture it just
made (NAME.json: expectations; NAME.cmds: the exact traffic commands) and
counts the SIP messages of every capture with tshark, as a test will:
    tshark -r F -Y sip -T fields -e sip.Method -e sip.Status-Code
(one value per SIP message; a TCP segment holding several messages gives
comma-separated values, each counted). Entries of captures that were not
remade this run are kept from the previous expected.json.

usage: summarize.py META_DIR CAPTURE_DIR
"""
import collections
import json
import os
import subprocess
import sys

LAB_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROJECT_ROOT = os.path.dirname(os.path.dirname(LAB_ROOT))

ADDRESSES = {
    "pbx": {"leaky": "127.0.0.10", "hardened": "127.0.0.11", "3cx-like": "127.0.0.12"},
    "phones": "127.0.1.x (127.0.1.N is extension 10N; 127.0.1.200 is the NATed office)",
    "attackers": "127.0.2.x (single sources); 127.21-50.x.x (distributed); 127.100.x.x (rewritten low-and-slow)",
    "trunk": "127.0.3.1",
    "registrarStandIn": "127.0.0.13 (SIPp weak-registrar.xml: counter nonces; not a Kamailio)",
}
USERS = {
    "100": {"authId3cx": "Qm7Ta2vX", "password": "Vx9!rT2mKp"},
    "101": {"authId3cx": "xK3p9qL2", "password": "1234", "weak": True},
    "102": {"authId3cx": "Lp4Wn8Rz", "password": "Gq7#Lm2xWe"},
    "103": {"authId3cx": "Zt6Yc1Hb", "password": "103", "weak": True},
    "104": {"authId3cx": "Jd2Fs9Ue", "password": "Rk4+Tz8qNo"},
    "105": {"authId3cx": "Nw5Ba3Xc", "password": "Hs3@Vb6yPl"},
    "106": {"authId3cx": "Py8Gk4Md", "password": "Ue1-Wc9rZa", "oldPassword": "Ue1-Wc9rZ0"},
    "107": {"authId3cx": "Rb1Vh7Qs", "password": "Oi5^Xd2tMn"},
    "108": {"authId3cx": "Ea9Cj6Tw", "password": "Bf8&Ng3sLq"},
    "109": {"authId3cx": "Hu3Ko2Ly", "password": "Cy6*Pj4vDs"},
    "200-239": {"authId3cx": "md5('authid-<ext>') first 8 hex digits", "password": "ofc-<ext>-Kq7"},
}
FIELD_ORDER = ["file", "profile", "pbx", "transport", "tool", "attackers", "attacks", "findings",
               "mayFind", "mustNotFind", "identities", "weakPassword", "benign", "description"]


def tshark_lines(path, *args):
    res = subprocess.run(["tshark", "-r", path, *args], capture_output=True, text=True, check=False)
    if res.returncode != 0:
        sys.exit("tshark failed on %s: %s" % (path, res.stderr.strip()))
    return res.stdout.splitlines()


def count(path):
    """(packets, SIP counts, SIP counts inside ICMP errors) from one tshark pass.

    The SIP counts equal those of
        tshark -r F -Y sip -T fields -e sip.Method -e sip.Status-Code
    which include the SIP message quoted inside an ICMP port-unreachable
    error; those are also counted apart, so a decoder that skips ICMP
    payloads can be compared too."""
    total = (collections.Counter(), collections.Counter())
    in_icmp = (collections.Counter(), collections.Counter())
    lines = tshark_lines(path, "-T", "fields", "-e", "frame.cap_len", "-e", "frame.len", "-e", "ip.proto",
                         "-e", "sip.Method", "-e", "sip.Status-Code")
    for line in lines:
        cap_len, frame_len, proto, method, status = (line.split("\t") + [""] * 5)[:5]
        if cap_len != frame_len:
            sys.exit("%s: a packet was truncated by the snapshot length (%s of %s bytes)" % (path, cap_len, frame_len))
        targets = [total] + ([in_icmp] if proto.split(",")[0] == "1" else [])
        for t in targets:
            for m in filter(None, method.split(",")):
                t[0][m] += 1
            for st in filter(None, status.split(",")):
                t[1][st] += 1
    return len(lines), shape(total), shape(in_icmp)


def shape(counters):
    requests, responses = counters
    return {
        "messages": sum(requests.values()) + sum(responses.values()),
        "requests": dict(sorted(requests.items())),
        "responses": dict(sorted(responses.items(), key=lambda kv: int(kv[0]))),
    }


def tidy_command(line, work_dir):
    line = line.replace(LAB_ROOT + "/", "test/lab/")
    line = line.replace(os.path.join(PROJECT_ROOT, "test/fixtures/captures") + "/", "test/fixtures/captures/")
    return line.replace(work_dir + "/run/", "$WORK/").replace(work_dir + "/raw/", "$RAW/")


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    meta_dir, cap_dir = sys.argv[1], sys.argv[2]
    work_dir = os.path.dirname(os.path.abspath(meta_dir))
    expected_path = os.path.join(cap_dir, "expected.json")
    previous = {}
    if os.path.exists(expected_path):
        with open(expected_path) as f:
            for entry in json.load(f).get("captures", []):
                previous[entry["file"]] = entry

    for name in sorted(n[:-5] for n in os.listdir(meta_dir) if n.endswith(".json")):
        with open(os.path.join(meta_dir, name + ".json")) as f:
            try:
                meta = json.load(f)
            except json.JSONDecodeError as err:
                sys.exit("%s.json: %s" % (name, err))
        pcap = os.path.join(cap_dir, name + ".pcap")
        if not os.path.exists(pcap):
            sys.exit("%s: capture missing" % pcap)
        cmds_path = os.path.join(meta_dir, name + ".cmds")
        commands = []
        if os.path.exists(cmds_path):
            with open(cmds_path) as f:
                commands = [tidy_command(l.rstrip("\n"), work_dir) for l in f if l.strip()]
        meta["file"] = name + ".pcap"
        meta.setdefault("benign", not meta.get("attacks"))
        meta["commands"] = commands
        meta["bytes"] = os.path.getsize(pcap)
        meta["packets"], meta["sipCounts"], icmp = count(pcap)
        if icmp["messages"]:
            meta["sipCountsInsideIcmp"] = icmp
        else:
            meta.pop("sipCountsInsideIcmp", None)
        meta["tsharkCommand"] = "tshark -r %s -Y sip -T fields -e sip.Method -e sip.Status-Code" % meta["file"]
        ordered = {k: meta[k] for k in FIELD_ORDER if k in meta}
        ordered.update({k: v for k, v in meta.items() if k not in ordered})
        previous[meta["file"]] = ordered

    captures = [previous[k] for k in sorted(previous)]
    doc = {
        "about": "What a detector must report for each lab capture; see INDEX.md. attacks: rules that "
                 "must be raised; findings: posture/misconfiguration rules that must be raised; mayFind: "
                 "tolerated; mustNotFind: must not be raised; benign: no attack in the capture. Rules not "
                 "listed anywhere should not be raised. sipCounts: tshark's count of SIP requests by "
                 "method and responses by status code (as tshark -Y sip -T fields -e sip.Method -e sip.Status-Code gives, "
                 "which includes SIP quoted inside ICMP errors; sipCountsInsideIcmp gives those apart).",
        "generator": "test/lab/make-captures.sh",
        "addresses": ADDRESSES,
        "users": USERS,
        "captures": captures,
    }
    with open(expected_path, "w") as f:
        json.dump(doc, f, indent=1, ensure_ascii=False)
        f.write("\n")
    write_index(os.path.join(cap_dir, "INDEX.md"), captures)
    total = sum(c["bytes"] for c in captures)
    print("summarize: %d captures, %.1f MB, expected.json and INDEX.md written" % (len(captures), total / 1e6))


def fmt_counts(c):
    parts = ["%s %d" % kv for kv in c["requests"].items()] + ["%s %d" % kv for kv in c["responses"].items()]
    return ", ".join(parts) if parts else "none"


def write_index(path, captures):
    out = []
    w = out.append
    w("# Lab captures\n")
    w("Real tool traffic recorded on `lo` by `test/lab/make-captures.sh` against the Kamailio PBX profiles of "
      "`test/lab/kamailio/kamailio.cfg` (see `test/lab/README.md`). Generated file: edit the generator, not this.\n")
    w("Machine-readable expectations: `expected.json` (same content). Field meanings: **attacks** must be "
      "raised; **findings** (posture, misconfiguration) must be raised; **mayFind** is tolerated; "
      "**mustNotFind** must not be raised; anything else should not be raised. *benign* = no attack. "
      "**detectionGap**: a real attack a rule misses today, listed under mayFind until the rule is fixed.\n")
    w("Addresses: PBX leaky 127.0.0.10, hardened 127.0.0.11, 3cx-like 127.0.0.12; phones 127.0.1.x; "
      "attackers 127.0.2.x (and 127.21-50.x.x distributed, 127.100.x.x rewritten); trunk 127.0.3.1; "
      "127.0.0.13 a SIPp registrar standing in for a PBX with counter nonces (not Kamailio). "
      "Users and passwords: `expected.json` → `users`.\n")
    w("| capture | packets | SIP msgs | tool | profile | attacks (must) | benign |")
    w("|---|---:|---:|---|---|---|---|")
    for c in captures:
        w("| [%s](#%s) | %d | %d | %s | %s | %s | %s |" % (
            c["file"], c["file"].replace(".", ""), c["packets"], c["sipCounts"]["messages"],
            c.get("tool", ""), c.get("profile", ""), ", ".join(c.get("attacks", [])) or "—",
            "yes" if c.get("benign") else "no"))
    w("")
    for c in captures:
        w("## %s\n" % c["file"])
        w(c.get("description", "") + "\n")
        w("- tool: %s; profile: %s; PBX: %s; transport: %s" % (
            c.get("tool"), c.get("profile"), json.dumps(c.get("pbx")), c.get("transport")))
        w("- attackers: %s" % json.dumps(c.get("attackers")))
        w("- must find: %s" % (", ".join(c.get("attacks", []) + c.get("findings", [])) or "nothing"))
        if c.get("mayFind"):
            w("- may find: %s" % ", ".join(c["mayFind"]))
        if c.get("mayFindWeak"):
            w("- may find: %s" % "; ".join(c["mayFindWeak"]))
        w("- must NOT find: %s" % (", ".join(c.get("mustNotFind", [])) or "—"))
        if c.get("detectionGap"):
            w("- **detection gap** (a rule misses this real attack; listed under may find until fixed): %s" % c["detectionGap"])
        w("- identities: %s" % json.dumps(c.get("identities")))
        w("- weak password: %s" % json.dumps(c.get("weakPassword")))
        if c.get("toolReported"):
            w("- the tool reported the password: `%s`" % c["toolReported"])
        w("- %d packets, %d bytes; tshark SIP counts: %s" % (c["packets"], c["bytes"], fmt_counts(c["sipCounts"])))
        if c.get("sipCountsInsideIcmp"):
            w("  (of which quoted inside ICMP port-unreachable errors: %s)" % fmt_counts(c["sipCountsInsideIcmp"]))
        w("- commands (run from `$WORK` = /tmp/sipwarden-lab/work/run, where the SIPp injection files are "
          "written; `$RAW` = /tmp/sipwarden-lab/work/raw, the recordings before rewriting); regenerate with "
          "`sudo test/lab/make-captures.sh %s`:\n" % c["file"][:-5])
        w("```")
        out.extend(c.get("commands", []))
        w("```\n")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
