#!/usr/bin/env bash
# The vsva tool without a kernel module: messages and exit codes, and
# `vsva stat` against a canned debugfs tree.  Prints "N passed, N failed".
set -u
tool=${1:?usage: tool_test.sh PATH-TO-vsva}
pass=0 fail=0
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT

check() { # name, expected rc, regex, command...
	local name=$1 want=$2 re=$3 out rc
	shift 3
	out=$("$@" 2>&1)
	rc=$?
	if [[ $rc == "$want" ]] && grep -Eq -- "$re" <<<"$out"; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		printf 'FAIL %s: rc=%s (want %s), output:\n%s\n' "$name" "$rc" "$want" "$out"
	fi
}

check usage 2 'usage: vsva' "$tool"
check help 0 'selftest' "$tool" --help
check unknown 2 "unknown command 'frob'" "$tool" frob
check version 0 'libvsva [0-9]+\.[0-9]+\.[0-9]+' "$tool" version
check not-loaded 3 'modprobe vsva' "$tool" --device "$t/vsva" info
check not-loaded-json 3 'module is not loaded' "$tool" --device "$t/vsva" info --json
check selftest-not-loaded 3 'modprobe vsva' "$tool" --device "$t/vsva" selftest
touch "$t/noaccess" && chmod 000 "$t/noaccess"
if [[ $(id -u) != 0 ]]; then
	check permission 3 'permission denied.*run as root' "$tool" --device "$t/noaccess" info
elif command -v setpriv >/dev/null; then
	check permission 3 'permission denied.*run as root' \
		setpriv --reuid=65534 --regid=65534 --clear-groups "$tool" --device "$t/noaccess" info
fi
check not-vsva 1 'not a vsva device' "$tool" --device /dev/null info

mkdir -p "$t/dbg/ctx"
printf 'contexts 1\npasids 2\npinned_pages 512\n' >"$t/dbg/summary"
printf '00:02.0 group 1 caps pasid ats pri ctx 1 domain 1\n' >"$t/dbg/topology"
printf 'ctx 1\npinned_pages 512\nbindings 1\n' >"$t/dbg/ctx/1"
check stat 0 'summary:' "$tool" stat --root "$t/dbg"
check stat-ctx 0 '    pinned_pages 512' "$tool" stat --root "$t/dbg"
check stat-json 0 '"summary": \{"ok": true, "text": "contexts 1\\npasids 2' "$tool" stat --json --root "$t/dbg"
check stat-missing 3 'not found|not mounted' "$tool" stat --root "$t/none"

echo "$pass passed, $fail failed"
((fail == 0))
