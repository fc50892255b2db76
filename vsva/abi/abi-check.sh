#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# ABI guard for libvsva.so.
#
#   abi-check.sh [--baseline B] check LIB    compare LIB's ABI with the baseline
#   abi-check.sh [--baseline B] update LIB   regenerate the baseline (a decision)
#   abi-check.sh symbols LIB                 only the exported-symbol rules
#   abi-check.sh selftest ARCHIVE            prove the guard bites (see below)
#
# check = symbols + abidiff.  The symbol rules: every dynamic symbol LIB
# defines carries a version (VSVA_x.y, from vsva/libvsva.map), and none is
# internal (namespace vsva::detail, a test hook, or a std::/fmt:: template
# instance leaking through default visibility).  The ABI (abidw of LIB's
# DWARF: exported functions, the types they reach) must equal the baseline
# vsva/abi/libvsva.abi for abidiff; anything it reports, an addition
# included, fails: update the baseline on purpose, with a new version node
# in libvsva.map when symbols are added.
#
# selftest relinks libvsva.so from ARCHIVE (libvsva.a: the same objects)
# four ways and expects: the faithful relink passes; one with a public
# function removed fails abidiff with a diff; one without the version script
# fails the symbol rules (internal, unversioned symbols); one whose version
# node is renamed fails both.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
baseline=$here/libvsva.abi
map=$top/vsva/libvsva.map

while (($#)); do
	case $1 in
	--baseline) baseline=$(realpath -m "$2"); shift 2 ;;
	*) break ;;
	esac
done
cmd=${1:-check}
lib=${2:-}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

need() { command -v "$1" >/dev/null || { echo "abi-check: $1 missing (apt-get install $2)" >&2; exit 2; }; }
need abidw abigail-tools
need abidiff abigail-tools
need nm binutils

# The ABI dump, without paths of this checkout (baselines travel).
dump() { # lib out
	abidw --no-corpus-path --no-comp-dir-path --no-show-locs --drop-private-types \
		--headers-dir "$top/vsva/include" --headers-dir "$top/uapi" "$1" |
		sed "s|path='$top/|path='|" >"$2"
}

symbols() { # lib; prints offenders, returns 1 if any
	local bad=0 all
	all=$(nm -D --defined-only "$1")
	if [[ -z $all ]]; then
		echo "abi-check: $1 exports nothing" >&2
		return 1
	fi
	# "addr T name@@VER" (or @VER); the version definition itself is "A VER".
	local unversioned internal
	unversioned=$(awk '$2 != "A" && $3 !~ /@/ {print $3}' <<<"$all" | c++filt)
	internal=$(awk '$2 != "A" {print $3}' <<<"$all" | c++filt |
		grep -E 'vsva::detail|test_hook|vsva::test|^std::|^fmt::|typeinfo|vtable|^void std::|^__gnu' || true)
	# Every version is a node of libvsva.map.
	local nodes stray
	nodes=$(sed -n 's/^\(VSVA_[0-9.]*\) {.*/\1/p' "$map")
	stray=$(awk '$2 == "A" {print $3}' <<<"$all" | grep -vxF "$nodes" || true)
	if [[ -n $stray ]]; then
		echo "abi-check: symbol versions of $1 that vsva/libvsva.map does not define: $stray"
		bad=1
	fi
	if [[ -n $unversioned ]]; then
		echo "abi-check: unversioned symbols in $1:"
		sed 's/^/    /' <<<"$unversioned" | head -20
		bad=1
	fi
	if [[ -n $internal ]]; then
		echo "abi-check: internal symbols exported by $1:"
		sed 's/^/    /' <<<"$internal" | head -20
		bad=1
	fi
	return $bad
}

check() { # lib; 0 ok, 1 ABI or symbol rule broken
	local rc=0
	symbols "$1" || rc=1
	dump "$1" "$tmp/current.abi"
	if ! abidiff "$baseline" "$tmp/current.abi" >"$tmp/diff" 2>&1; then
		echo "abi-check: the ABI of $1 differs from $baseline:"
		cat "$tmp/diff"
		echo "abi-check: if intended, run vsva/abi/abi-check.sh update $1 (and add a version node to vsva/libvsva.map for new symbols)"
		rc=1
	fi
	[[ $rc == 0 ]] && echo "abi-check: $1 matches $(basename "$baseline"); $(nm -D --defined-only "$1" | grep -vc ' A ') symbols, all versioned, none internal"
	return $rc
}

relink() { # archive out version-script-or-empty
	local vs=()
	[[ -n $3 ]] && vs=(-Wl,--version-script="$3")
	g++ -shared -o "$2" -Wl,-soname,libvsva.so.0 -Wl,--whole-archive "$1" -Wl,--no-whole-archive \
		"${vs[@]}" -lfmt
}

selftest() { # archive
	local a=$1 fails=0
	expect() { # pass|fail, what, lib, grep-for-in-output
		local rc=0
		check "$3" >"$tmp/out" 2>&1 || rc=$?
		if [[ $1 == pass && $rc != 0 ]] || [[ $1 == fail && $rc != 1 ]]; then
			echo "selftest: FAIL: $2: expected $1, exit $rc"
			cat "$tmp/out"
			fails=$((fails + 1))
		elif [[ $1 == fail ]] && ! grep -q -- "$4" "$tmp/out"; then
			echo "selftest: FAIL: $2: failed without '$4' in the report"
			cat "$tmp/out"
			fails=$((fails + 1))
		else
			echo "selftest: ok: $2 ($1)"
			if [[ $1 == fail ]]; then
				grep -m4 -E "$4|^  \[|abi-check:" "$tmp/out" | sed 's/^/    /' || true
			fi
		fi
		return 0
	}
	relink "$a" "$tmp/same.so" "$map"
	expect pass "faithful relink" "$tmp/same.so"
	# A public function removed: Context::fd() made local.
	# (an exact name in local: beats the wildcard in global:)
	cat >"$tmp/drop.map" <<-'MAP'
		VSVA_0.1 {
			global: extern "C++" { vsva::*; };
			local: extern "C++" { "vsva::Context::fd() const"; }; *;
		};
	MAP
	relink "$a" "$tmp/drop.so" "$tmp/drop.map"
	expect fail "a public function removed" "$tmp/drop.so" "Removed function"
	relink "$a" "$tmp/nomap.so" ""
	expect fail "no version script" "$tmp/nomap.so" "unversioned symbols"
	sed 's/VSVA_0.1/VSVA_9.9/' "$map" >"$tmp/ver.map"
	relink "$a" "$tmp/ver.so" "$tmp/ver.map"
	expect fail "version node renamed" "$tmp/ver.so" "VSVA_9.9"
	((fails == 0)) || { echo "selftest: $fails failure(s)"; return 1; }
	echo "selftest: the guard bites"
}

case $cmd in
check) check "$lib" ;;
symbols) symbols "$lib" && echo "abi-check: symbols of $lib: all versioned, none internal" ;;
update)
	dump "$lib" "$baseline"
	echo "abi-check: wrote $baseline"
	;;
selftest) selftest "$lib" ;;
*)
	echo "usage: $0 [--baseline B] check|update|symbols|selftest LIB" >&2
	exit 2
	;;
esac
