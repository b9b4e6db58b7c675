#!/usr/bin/env bash
# Start or stop one lab PBX (Kamailio) on a loopback address.
#
#   test/lab/pbx.sh up   PROFILE ADDR     PROFILE: leaky | hardened | 3cx-like
#   test/lab/pbx.sh down PROFILE ADDR
#   test/lab/pbx.sh status PROFILE ADDR
#
# Listens on udp:ADDR:5060, tcp:ADDR:5060 and, when kamailio-tls-modules is
# installed, tls:ADDR:5061 with a self-signed certificate made here.
# Environment: NONCE_EXPIRE (seconds, default 300), NONCE_COUNT (auth module
# nonce_count, 1 or 0, default 1), LOSSY=1 (drop the first copy of every
# REGISTER), PSTN=auth|open (route outside numbers to the trunk 127.0.3.1;
# "open" lets callers that are not local extensions through unchallenged),
# SINGLE_CONTACT=1 (one binding per extension: a new one replaces the old),
# HEP=HOST:PORT (mirror every SIP message as HEP3 to sipwarden watch there),
# LAB_RUN (default /tmp/sipwarden-lab). Runtime files:
# $LAB_RUN/pbx-PROFILE-ADDR/.
# "up" returns only once the PBX answered an OPTIONS (sipsak); it fails, and
# leaves nothing running, otherwise.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
. "$here/lib.sh"

usage() { echo "usage: $0 up|down|status leaky|hardened|3cx-like ADDR" >&2; exit 2; }
[ $# -eq 3 ] || usage
action="$1" profile="$2" addr="$3"
case "$profile" in
	leaky) define=PROFILE_LEAKY ;;
	hardened) define=PROFILE_HARDENED ;;
	3cx-like) define=PROFILE_3CX ;;
	*) usage ;;
esac
lab_is_loopback "$addr" || { echo "pbx.sh: $addr is not a loopback address; refusing" >&2; exit 2; }

run="${LAB_RUN:-/tmp/sipwarden-lab}/pbx-$profile-$addr"
pidfile="$run/kamailio.pid"

pbx_pid() {
	[ -s "$pidfile" ] || return 1
	local pid; pid="$(cat "$pidfile")"
	kill -0 "$pid" 2>/dev/null || return 1
	echo "$pid"
}

pbx_down() {
	local pid
	if pid="$(pbx_pid)"; then
		kill -TERM "$pid" 2>/dev/null || true
		for _ in $(seq 1 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$pid" 2>/dev/null; then
			echo "pbx.sh: kamailio $pid did not stop on TERM; killing its process group" >&2
			kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
		fi
	fi
	rm -f "$pidfile"
}

pbx_up() {
	lab_need kamailio kamailio
	lab_need sipsak sipsak
	lab_need openssl openssl
	if pbx_pid >/dev/null; then
		echo "pbx.sh: $profile already running on $addr" >&2
		return 0
	fi
	mkdir -p "$run"
	local -a args=(-f "$here/kamailio/kamailio.cfg" -A "$define"
		-A "NONCE_EXPIRE=${NONCE_EXPIRE:-300}" -A "NONCE_COUNT=${NONCE_COUNT:-1}"
		-l "udp:$addr:5060" -l "tcp:$addr:5060"
		-P "$pidfile" -Y "$run" -w "$run" -m 64 -M 8 -DD -E)
	case "${NONCE_COUNT:-1}" in 0|1) ;; *) echo "pbx.sh: NONCE_COUNT must be 0 or 1" >&2; exit 2 ;; esac
	[ "${LOSSY:-0}" = 1 ] && args+=(-A WITH_LOSSY)
	[ "${SINGLE_CONTACT:-0}" = 1 ] && args+=(-A WITH_SINGLE_CONTACT)
	case "${PSTN:-}" in
		"") ;;
		auth) args+=(-A WITH_PSTN) ;;
		open) args+=(-A WITH_PSTN -A WITH_OPEN_PSTN) ;;
		*) echo "pbx.sh: PSTN must be auth or open" >&2; exit 2 ;;
	esac
	if [ -n "${HEP:-}" ]; then
		# HEP=HOST:PORT[;transport=tcp]: mirror all SIP as HEP3 to sipwarden watch there.
		args+=(-A WITH_HEP -A "HEP_URI=\"sip:${HEP}\"")
	fi
	if [ -f /usr/lib/x86_64-linux-gnu/kamailio/modules/tls.so ] || \
	   ls /usr/lib/*/kamailio/modules/tls.so >/dev/null 2>&1; then
		if [ ! -s "$run/cert.pem" ]; then
			openssl req -x509 -newkey rsa:2048 -nodes -days 3 \
				-subj "/CN=pbx.sipwarden.lab" \
				-keyout "$run/key.pem" -out "$run/cert.pem" >/dev/null 2>&1
		fi
		args+=(-A WITH_TLS -A "TLS_CERT=\"$run/cert.pem\"" -A "TLS_KEY=\"$run/key.pem\""
			-l "tls:$addr:5061")
	else
		echo "pbx.sh: kamailio-tls-modules not installed: no TLS listener" >&2
	fi
	# -DD: the main process does not daemonize, so its log (-E) lands in a
	# file; setsid puts it and its children in one group that "down" can end.
	setsid kamailio "${args[@]}" >"$run/kamailio.log" 2>&1 </dev/null &
	local ok=0
	for _ in $(seq 1 40); do
		sleep 0.25
		if [ -s "$pidfile" ] && \
		   timeout 3 sipsak -s "sip:$addr:5060" --local-ip 127.0.0.1 >/dev/null 2>&1; then
			ok=1; break
		fi
	done
	if [ "$ok" != 1 ]; then
		echo "pbx.sh: $profile on $addr did not answer OPTIONS; log follows" >&2
		tail -n 30 "$run/kamailio.log" >&2 || true
		pbx_down
		exit 1
	fi
	echo "pbx.sh: $profile up on $addr (pid $(cat "$pidfile"), log $run/kamailio.log)"
}

case "$action" in
	up) pbx_up ;;
	down) pbx_down; echo "pbx.sh: $profile on $addr down" ;;
	status) if pid="$(pbx_pid)"; then echo "running $pid"; else echo "stopped"; exit 1; fi ;;
	*) usage ;;
esac
