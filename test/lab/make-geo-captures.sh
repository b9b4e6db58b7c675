#!/usr/bin/env bash
# Record the geography captures (test/fixtures/captures/geo/): real SIPp and
# SIPVicious traffic against the lab's 3cx-like PBX on loopback, recorded with
# tcpdump on lo, then given public addresses with a fixed table
# (bin/pcap-rewrite.py --map, test/fixtures/captures/geo/addresses.map) and
# moved to Tuesday 2026-03-03 09:00 UTC. Loopback addresses have no country
# and no AS, so the geography rules need the rewrite to be exercised.
#
#   test/lab/make-geo-captures.sh            all geography captures
#   test/lab/make-geo-captures.sh NAME...    only these (names as in --list)
#   test/lab/make-geo-captures.sh --list
#   test/lab/make-geo-captures.sh --rewrite  only redo the rewrite from the
#                                            kept raw recordings (no traffic)
#
# Needs root (tcpdump on lo). Sends only to 127.0.0.0/8; every tool run is
# bounded by a count (-m, wordlist length) and by `timeout`; the EXIT trap
# stops tcpdump, background user agents and the PBX. The public addresses
# exist only in the output files. Raw recordings are kept in
# $LAB_RUN/geo-raw/ (default /tmp/sipwarden-lab/geo-raw).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="${CAPTURE_DIR:-$root/test/fixtures/captures/geo}"
# shellcheck source=lib.sh
. "$here/lib.sh"

ALL=(
	geo-new-country-stolen-login-3cx
	geo-hosting-provider-svcrack-3cx
	geo-hosting-provider-stolen-call-3cx
	geo-benign-home-phones-3cx
	geo-benign-site-networks-3cx
)

if [ "${1:-}" = "--list" ]; then printf '%s\n' "${ALL[@]}"; exit 0; fi
rewrite_only=no
if [ "${1:-}" = "--rewrite" ]; then rewrite_only=yes; shift; fi
if [ $# -gt 0 ]; then selected=("$@"); else selected=("${ALL[@]}"); fi
for n in "${selected[@]}"; do
	printf '%s\n' "${ALL[@]}" | grep -qx -- "$n" || { echo "unknown capture '$n' (see --list)" >&2; exit 2; }
done

[ -x /usr/bin/python3 ] || { echo "missing /usr/bin/python3: apt-get install python3" >&2; exit 3; }
MAP="$out/addresses.map"
[ -f "$MAP" ] || { echo "missing $MAP" >&2; exit 3; }
export LAB_RUN="${LAB_RUN:-/tmp/sipwarden-lab}"
raw="$LAB_RUN/geo-raw"
# Tuesday 2026-03-03 09:00:00 UTC (10:00 Europe/Berlin): the first packet of every capture.
SHIFT_TO=1772528400

rewrite() { # NAME: the raw recording with public addresses, into the fixtures
	/usr/bin/python3 "$here/bin/pcap-rewrite.py" "$raw/$1.pcap" "$out/$1.pcap" \
		--map "@$MAP" --shift-to "$SHIFT_TO" --strict
}

if [ "$rewrite_only" = yes ]; then
	for n in "${selected[@]}"; do rewrite "$n"; done
	exit 0
fi

lab_need kamailio kamailio
lab_need sipp sip-tester
lab_need sipsak sipsak
lab_need tcpdump tcpdump
lab_need svcrack sipvicious
lab_need timeout coreutils
[ "$(id -u)" = 0 ] || { echo "make-geo-captures.sh needs root (tcpdump on lo)" >&2; exit 3; }

# The 3cx-like PBX (Auth IDs differ from the extensions; realm 3CXPhoneSystem).
TCX=127.0.0.12
declare -A AUTHID=([100]=Qm7Ta2vX [101]=xK3p9qL2 [102]=Lp4Wn8Rz [104]=Jd2Fs9Ue [105]=Nw5Ba3Xc
	[106]=Py8Gk4Md [107]=Rb1Vh7Qs [108]=Ea9Cj6Tw [109]=Hu3Ko2Ly)
declare -A PASSWORD=([100]='Vx9!rT2mKp' [102]='Gq7#Lm2xWe' [104]='Rk4+Tz8qNo' [105]='Hs3@Vb6yPl'
	[106]='Ue1-Wc9rZa' [107]='Oi5^Xd2tMn' [108]='Bf8&Ng3sLq' [109]='Cy6*Pj4vDs')
SIPP="$here/sipp"
WORDS="$here/wordlists/small.txt"

work="$LAB_RUN/geo-work"
rm -rf "$work"
mkdir -p "$work" "$raw" "$out"

pbx_started=no
LAB_TCPDUMP_PID=""
bg_pids=()

cleanup() {
	set +e
	local p
	for p in "${bg_pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
	if [ -n "$LAB_TCPDUMP_PID" ]; then kill -INT "$LAB_TCPDUMP_PID" 2>/dev/null; wait "$LAB_TCPDUMP_PID" 2>/dev/null; fi
	[ "$pbx_started" = yes ] && "$here/pbx.sh" down 3cx-like "$TCX" >/dev/null 2>&1
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cap_start() { # NAME: the PBX up, tcpdump on lo for the PBX's address
	cap="$1"
	"$here/pbx.sh" up 3cx-like "$TCX" >/dev/null
	pbx_started=yes
	: >"$work/$cap.cmds"
	lab_tcpdump_start "$raw/$cap.pcap" "$work/$cap.tcpdump.log" "host $TCX"
	echo "== $cap"
}

cap_stop() { # tcpdump and the PBX down; the raw recording rewritten into the fixtures
	lab_tcpdump_stop "$cap" "$work/$cap.tcpdump.log"
	"$here/pbx.sh" down 3cx-like "$TCX" >/dev/null
	pbx_started=no
	rewrite "$cap"
}

# run CMD...: a traffic command of the current capture (logged; failure is recorded, not fatal:
# attacks are meant to fail).
run() {
	printf '%q ' "$@" >>"$work/$cap.cmds"
	echo >>"$work/$cap.cmds"
	(cd "$work" && "$@") >>"$work/$cap.out" 2>&1 </dev/null || echo "   (exit $?) $1 ${2:-}"
}

bg() { # CMD...: a called phone waiting in the background
	printf '%q ' "$@" >>"$work/$cap.cmds"
	echo "# (background)" >>"$work/$cap.cmds"
	(cd "$work" && exec "$@") >>"$work/$cap.out" 2>&1 </dev/null &
	bg_pids+=("$!")
}

wait_bg() {
	local p
	for p in "${bg_pids[@]}"; do wait "$p" || echo "WARNING: $cap: background agent $p exited $?" >&2; done
	bg_pids=()
}

csv() { # FILE LINE...: a SIPp injection file
	local f="$work/$1"; shift
	{ echo SEQUENTIAL; printf '%s\n' "$@"; } >"$f"
	echo "$f"
}

# register EXT ADDR PORT UA STAY: one phone registration life (REGISTER, 407, REGISTER with
# credentials, 200, a refresh 1 s later, and unless STAY is "stay" an unregister).
register() {
	local ext="$1" addr="$2" port="$3" ua="$4" stay="$5" f
	f="$(csv "reg-$ext-$addr-$port.csv" \
		"$ext;[authentication username=${AUTHID[$ext]} password=${PASSWORD[$ext]}];300;$ua;$stay")"
	run timeout 15 sipp -sf "$SIPP/phone-register.xml" -inf "$f" -i "$addr" -p "$port" -m 1 -d 1000 "$TCX:5060"
}

# call FROM_EXT FROM_ADDR TO_EXT TO_ADDR UA TO_UA: TO_EXT registered at TO_ADDR:5060 answers a
# call from FROM_EXT (INVITE, 407, ACK, INVITE with credentials, 100, 180, 200, ACK, BYE).
call() {
	local from="$1" faddr="$2" to="$3" taddr="$4" ua="$5" tua="$6" f
	f="$(csv "uas-$to.csv" "$tua")"
	bg timeout 20 sipp -sf "$SIPP/call-uas.xml" -inf "$f" -i "$taddr" -p 5060 -m 1 -mp 16000
	sleep 0.5
	f="$(csv "call-$from.csv" \
		"$from;[authentication username=${AUTHID[$from]} password=${PASSWORD[$from]}];$to;$ua")"
	run timeout 15 sipp -sf "$SIPP/call-uac.xml" -inf "$f" -i "$faddr" -p 5060 -m 1 -d 2000 -mp 17000 "$TCX:5060"
	wait_bg
}

DESK102='Yealink SIP-T46S 66.86.0.15'

# (a) 104 always logs in from Germany (its desk phone on a Deutsche Telekom line, twice, and its
# softphone on Telefonica mobile data); then 104's Auth ID and password are used from a Nigerian
# mobile network by another client.
cap_geo-new-country-stolen-login-3cx() {
	cap_start geo-new-country-stolen-login-3cx
	register 104 127.0.1.4 5060 'PolycomVVX-VVX_411-UA/6.4.3.5423' stay
	register 104 127.0.1.4 5060 'PolycomVVX-VVX_411-UA/6.4.3.5423' stay
	register 104 127.0.4.4 5060 'Linphone-Android/5.2.5 (belle-sip/5.2.0)' go
	sleep 1
	register 104 127.0.2.50 5060 'Zoiper rv2.10.20.1' stay
	cap_stop
}

# (b) svcrack guesses 101's password (its leaked Auth ID) from a DigitalOcean server; phone 102
# registers from home meanwhile.
cap_geo-hosting-provider-svcrack-3cx() {
	cap_start geo-hosting-provider-svcrack-3cx
	register 102 127.0.1.2 5060 "$DESK102" stay
	run env SV_BIND=127.0.2.21 timeout 60 "$here/bin/sv-bind" svcrack -u "${AUTHID[101]}" -e 101 \
		-d "$WORDS" -x 127.0.2.21 "$TCX"
	cap_stop
}

# (b) 105's stolen Auth ID and password used from an Amazon EC2 address in Germany to call 102:
# the same country as the site, an access network it never is.
cap_geo-hosting-provider-stolen-call-3cx() {
	cap_start geo-hosting-provider-stolen-call-3cx
	register 102 127.0.1.2 5060 "$DESK102" stay
	call 105 127.0.2.81 102 127.0.1.2 'MicroSIP/3.21.3' "$DESK102"
	cap_stop
}

# (c) Phones at home on German access networks (two refreshes each, 108 moving to mobile data),
# 106 over the site-to-site VPN (a private address), and 105 calling 102.
cap_geo-benign-home-phones-3cx() {
	cap_start geo-benign-home-phones-3cx
	register 102 127.0.1.2 5060 "$DESK102" stay
	register 105 127.0.1.5 5060 'Fanvil X6U 2.12.1' stay
	register 108 127.0.1.8 5060 'Yealink SIP-T54W 96.86.0.100' stay
	register 106 127.0.1.6 5060 'Cisco/SPA504G-7.6.2' stay
	register 102 127.0.1.2 5060 "$DESK102" stay
	register 105 127.0.1.5 5060 'Fanvil X6U 2.12.1' stay
	register 108 127.0.1.8 5060 'Yealink SIP-T54W 96.86.0.100' go
	register 108 127.0.4.8 5060 'Yealink SIP-T54W 96.86.0.100' stay
	call 105 127.0.1.5 102 127.0.1.2 'Fanvil X6U 2.12.1' "$DESK102"
	cap_stop
}

# (c) Networks the site declares: the office's SBC in a Hetzner data centre relays 100 and 107
# (network.sbc); 109 logs in from home twice, then through the company VPN, whose exit is an OVH
# server in France (network.trusted).
cap_geo-benign-site-networks-3cx() {
	cap_start geo-benign-site-networks-3cx
	register 100 127.0.1.200 5064 'Yealink SIP-T33G 124.86.0.40' stay
	register 107 127.0.1.200 5066 'Snom D735 10.1.141.15' stay
	register 109 127.0.1.9 5060 'Gigaset N870 IP PRO 2.48.0' stay
	register 109 127.0.1.9 5060 'Gigaset N870 IP PRO 2.48.0' stay
	register 109 127.0.5.9 5060 '3CXPhone for Windows 16.3.0.292' stay
	register 100 127.0.1.200 5064 'Yealink SIP-T33G 124.86.0.40' go
	cap_stop
}

for name in "${selected[@]}"; do
	"cap_$name"
done
