# shellcheck shell=bash
# Helpers shared by the lab scripts (sourced, not run).

# lab_need COMMAND DEBIAN_PACKAGE: fail with the package to install.
lab_need() {
	if ! command -v "$1" >/dev/null 2>&1; then
		echo "missing command '$1': apt-get install $2" >&2
		exit 3
	fi
}

# lab_is_loopback ADDR: true for 127.0.0.0/8 only. The lab never sends
# anywhere else.
lab_is_loopback() {
	[[ "$1" =~ ^127\.([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})$ ]] || return 1
	local o
	for o in "${BASH_REMATCH[@]:1}"; do [ "$o" -le 255 ] || return 1; done
}


# lab_tcpdump_start PCAP LOG FILTER: tcpdump on lo into PCAP (stderr into
# LOG) with a 64 MiB buffer, waiting until it listens; sets LAB_TCPDUMP_PID.
# Not --immediate-mode: that uses one fixed slot per packet of the snapshot
# length and dropped part of sipsak's flood (over 10 000 packets/s); instead
# lab_tcpdump_stop waits longer than libpcap's 1 s block timeout so the last
# block is written before tcpdump is stopped.
lab_tcpdump_start() {
	tcpdump -i lo -B 65536 -U -s 0 -w "$1" "$3" 2>"$2" &
	LAB_TCPDUMP_PID=$!
	for _ in $(seq 1 50); do
		grep -q "listening on" "$2" 2>/dev/null && break
		sleep 0.1
	done
	sleep 0.3
}

# lab_tcpdump_stop NAME LOG: stops the tcpdump lab_tcpdump_start started and
# warns when it lost packets. tcpdump says how many packets the filter passed
# and how many it wrote; on lo the filter sees every packet twice (leaving and
# arriving) and libpcap keeps one copy, so "passed" must be twice "wrote".
lab_tcpdump_stop() {
	sleep 2.5
	kill -INT "$LAB_TCPDUMP_PID"
	wait "$LAB_TCPDUMP_PID" || true
	LAB_TCPDUMP_PID=""
	local got passed
	got="$(sed -n 's/^\([0-9]*\) packets\{0,1\} captured.*/\1/p' "$2")"
	passed="$(sed -n 's/^\([0-9]*\) packets\{0,1\} received by filter.*/\1/p' "$2")"
	if [ $((got * 2)) != "$passed" ]; then
		echo "WARNING: $1: tcpdump wrote $got of $passed packets" >&2
	fi
}
