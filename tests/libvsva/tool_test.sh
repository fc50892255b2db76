#!/usr/bin/env bash
# The vsva tool without a kernel module: messages and exit codes, and
# `vsva stat` and `vsva topo` against a canned debugfs tree (JSON parsed by
# python3), --help of each command, the bash completion.  Prints "N passed, N failed".
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
printf '00:02.0 group 1 caps pasid ats pri uid 1000 ctx 1 domain 1\n00:13.0 group 9 caps pasid gid 100\n00:14.0 group 10 caps none\n' >"$t/dbg/topology"
cat >"$t/dbg/ctx/1" <<'CTX'
ctx 1
owner pid 42 uid 1000 comm qemu "x"
domains 1
devices 1
pinned_pages 512
bindings 1
payload_copies 3
binds 1
unbinds 0
invalidations 2
lost_events 5
set: 1 quota 100 pasids 2
user: uid 1000 pasids 2 limit 65536
  pasid 1 refs 1 bound 1
domain 1 devices 1 pinned 512
  map gpa 0x0 pages 512 prot 3
device 2 rid 00:02.0 domain 1 caps 0x7 enabled 0x3 bound 1
  bound 1
iotlb hits 3 misses 1 flushed 0
devtlb hits 0 misses 0 flushed 0
pasid-cache hits 1 misses 1 flushed 2
walks 1 faults 7 page-requests 2
pending page requests 1
fault queue 3/128 lost 0 seq 9
emu domain 1 iotlb 1/64
device 2 rid 0010 ats 1 pri 1 devtlb 0/64 pasid-cache 1/16
  pasid 1 gpgd 0x1000 aw 48 vtd 0x0 gpasid -1
CTX
check stat 0 'ctx 1  pid 42 \(qemu "x"\) uid 1000' "$tool" stat --root "$t/dbg"
check stat-pinned 0 'pinned +512 pages \(2\.0 MiB\)' "$tool" stat --root "$t/dbg"
check stat-rates 0 'iotlb +75\.0% \(3 hits, 1 misses\)' "$tool" stat --root "$t/dbg"
check stat-norate 0 'devtlb +no lookups' "$tool" stat --root "$t/dbg"
check stat-faults 0 'faults +7 \(2 page requests, 1 pending\)' "$tool" stat --root "$t/dbg"
check stat-lost 0 'lost +5 fault records' "$tool" stat --root "$t/dbg"
check stat-device 0 'device 2: 00:02.0 in domain 1, 1 PASIDs bound' "$tool" stat --root "$t/dbg"
check stat-noctx 1 'no context 7' "$tool" stat --ctx 7 --root "$t/dbg"
check stat-raw 0 'summary:' "$tool" stat --raw --root "$t/dbg"
check stat-raw-ctx 0 '    pinned_pages 512' "$tool" stat --raw --root "$t/dbg"
check stat-raw-json 0 '"summary": \{"ok": true, "text": "contexts 1\\npasids 2' "$tool" stat --raw --json --root "$t/dbg"
check stat-missing 3 'not found|not mounted' "$tool" stat --root "$t/none"
check topo 0 '00:02\.0 +1  pasid,ats,pri  uid 1000 +ctx 1 domain 1 \(pid 42 qemu "x"\)' "$tool" topo --root "$t/dbg"
check topo-gid 0 '00:13\.0 +9  pasid +gid 100 +-' "$tool" topo --root "$t/dbg"
check topo-none 0 '00:14\.0 +10  none' "$tool" topo --root "$t/dbg"

# The JSON outputs parse, with the values of the tree.
json_check() { # name, python expression on d, command...
	local name=$1 expr=$2 out
	shift 2
	if out=$("$@" 2>&1) && printf '%s' "$out" | python3 -c "
import json, sys
d = json.load(sys.stdin)
assert ($expr), d
"; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		printf 'FAIL %s: output:\n%s\n' "$name" "$out"
	fi
}
json_check stat-json 'd["summary"] == {"contexts": 1, "pasids": 2, "pinned_pages": 512} and
  d["contexts"][0]["comm"] == "qemu \"x\"" and d["contexts"][0]["pid"] == 42 and
  d["contexts"][0]["pinned_bytes"] == 2097152 and d["contexts"][0]["lost_events"] == 5 and
  d["contexts"][0]["cache"]["iotlb"]["hit_rate"] == 0.75 and
  d["contexts"][0]["cache"]["devtlb"]["hit_rate"] is None and
  d["contexts"][0]["fault_queue"] == {"used": 3, "depth": 128} and
  d["contexts"][0]["devices"][0]["rid"] == "00:02.0"' "$tool" stat --json --root "$t/dbg"
json_check stat-raw-json 'd["files"]["summary"]["ok"]' "$tool" stat --raw --json --root "$t/dbg"
json_check topo-json 'd["endpoints"][0]["held_by"] == {"ctx": 1, "domain": 1, "pid": 42, "comm": "qemu \"x\""} and
  d["endpoints"][0]["caps"] == ["pasid", "ats", "pri"] and d["endpoints"][0]["owner_uid"] == 1000 and
  d["endpoints"][1]["owner_gid"] == 100 and d["endpoints"][1]["held_by"] is None and
  d["endpoints"][2]["caps"] == []' "$tool" topo --json --root "$t/dbg"
mkdir -p "$t/empty/ctx"
json_check stat-json-empty 'd["contexts"] == []' "$tool" stat --json --root "$t/empty"

# --help of every command, usage errors.
for c in info stat topo trace selftest; do
	check "help-$c" 0 "usage: vsva .*$c" "$tool" "$c" --help
	check "badopt-$c" 2 "unknown option|bad option" "$tool" "$c" --frob
done
check trace-no-tracefs 3 'tracefs|not found|not loaded' "$tool" trace --tracefs "$t/none" --timeout 0

# Bash completion (packaging/vsva.bash-completion).
comp=$(cd "$(dirname "$0")/../.." && pwd)/packaging/vsva.bash-completion
complete_words() { # words... (the last is being completed)
	bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _vsva; echo "${COMPREPLY[*]}"' _ "$comp" "$@"
}
check complete-cmd 0 '^stat$' complete_words vsva st
check complete-cmds 0 'info stat topo trace selftest version' complete_words vsva ''
check complete-stat 0 '--json --ctx --raw --root --help' complete_words vsva stat ''
check complete-device 0 '^topo$' complete_words vsva --device /dev/vsva to
check complete-events 0 '^bind,fault$' complete_words vsva trace --events bind,fa
echo "$pass passed, $fail failed"
((fail == 0))
