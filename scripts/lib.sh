# Shared helpers for the shell scripts under scripts/ and tests/vm/.
# shellcheck shell=bash

# One cache folder for downloads and kernel builds; reruns reuse it.
VSVA_CACHE=${VSVA_CACHE:-/var/cache/vsva}
VSVA_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VSVA_BUILD=${VSVA_BUILD:-$VSVA_TOP/build}
export VSVA_CACHE VSVA_TOP VSVA_BUILD

log() { printf 'vsva: %s\n' "$*" >&2; }
die() { printf 'vsva: error: %s\n' "$*" >&2; exit 1; }

# Run a command silently; on failure print its output and fail.
quiet() {
	local out rc=0
	out=$(mktemp)
	"$@" >"$out" 2>&1 || rc=$?
	if ((rc)); then
		cat "$out" >&2
		rm -f "$out"
		die "failed ($rc): $*"
	fi
	rm -f "$out"
}
