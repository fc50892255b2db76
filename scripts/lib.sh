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

# check_config CONFIG FRAGMENT: every option the fragment asks for must
# have survived olddefconfig (used by every kernel built from a fragment).
check_config() {
	local cfg=$1 frag=$2 line bad=0
	while IFS= read -r line; do
		[[ $line == CONFIG_*=* ]] || continue
		if [[ $line == *=n ]]; then
			grep -qx "${line%=n}=y" "$cfg" || continue
		elif grep -qx "$line" "$cfg"; then
			continue
		fi
		log "config: $line did not stick"
		bad=1
	done <"$frag"
	((bad == 0)) || die "kernel config is incomplete (${frag##*/})"
}
