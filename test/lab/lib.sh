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

