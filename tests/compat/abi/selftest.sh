#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Prove the ABI guard bites: on scratch copies of the header (never the real
# one), each deliberate layout change must make `abi-guard.sh check` fail,
# and the unchanged copy must pass.  Additive changes fail `check` (the
# baseline must be regenerated on purpose) but pass `compat` against v1.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
top=$(cd "$here/../.." && pwd)
guard=$here/abi-guard.sh
CC=${CC:-gcc}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0

mutate() { # name, sed expression
	local h=$tmp/$1/linux/vsva.h
	mkdir -p "$(dirname "$h")"
	sed "$2" "$top/uapi/linux/vsva.h" >"$h"
	if cmp -s "$h" "$top/uapi/linux/vsva.h"; then
		echo "selftest: mutation '$1' changed nothing (sed expression stale?)"
		fails=$((fails + 1))
	fi
	echo "$h"
}
expect() { # pass|fail, description, command...
	local want=$1 what=$2 rc=0
	shift 2
	"$@" >"$tmp/out" 2>&1 || rc=$?
	if [[ $want == pass && $rc != 0 ]] || [[ $want == fail && $rc != 1 ]]; then
		echo "selftest: FAIL: $what: expected $want, exit $rc"
		cat "$tmp/out"
		fails=$((fails + 1))
	else
		echo "selftest: ok: $what ($want)"
		[[ $want == fail ]] && grep -m3 -E '^[-+][a-z ]|abi-compat:' "$tmp/out" | sed 's/^/    /'
	fi
	return 0
}

mkdir -p "$tmp/same/linux"
cp "$top/uapi/linux/vsva.h" "$tmp/same/linux/vsva.h"
expect pass "unchanged copy" "$guard" --header "$tmp/same/linux/vsva.h" check

h=$(mutate widen 's/^\t__u32 out_pasid_bits;/\t__u64 out_pasid_bits;/')
expect fail "vsva_info.out_pasid_bits widened to __u64" "$guard" --header "$h" check
expect fail "  ... and it is not additive" "$guard" --header "$h" compat "$here/include/v1/linux/vsva.h"

h=$(mutate swap '/^struct vsva_page_response {/,/^};/{s/__u32 grpid;/__u32 TMP;/;s/__u32 pasid;/__u32 grpid;/;s/__u32 TMP;/__u32 pasid;/}')
expect fail "vsva_page_response pasid/grpid swapped" "$guard" --header "$h" check

h=$(mutate plain64 '/^struct vsva_map {/,/^};/s/__aligned_u64 gpa;/__u64 gpa;/')
expect fail "vsva_map.gpa as plain __u64 (same bytes on x86-64, 4-aligned on i386)" \
	"$guard" --header "$h" check

h=$(mutate ioctl 's/^#define VSVA_CMD_BASE 0x40/#define VSVA_CMD_BASE 0x41/')
expect fail "VSVA_CMD_BASE renumbered (every ioctl number moves)" "$guard" --header "$h" check

h=$(mutate flagbit 's/^#define VSVA_TARGET_DOMAIN (1 << 0)/#define VSVA_TARGET_DOMAIN (1 << 1)/')
expect fail "VSVA_TARGET_DOMAIN value changed" "$guard" --header "$h" check

h=$(mutate append '/^struct vsva_unmap {/,/^};/s/^\t__aligned_u64 out_unmapped;/&\n\t__aligned_u64 new_field;/')
expect fail "field appended to vsva_unmap: baseline must be regenerated" "$guard" --header "$h" check
expect pass "  ... but it is additive" "$guard" --header "$h" compat "$here/include/v1/linux/vsva.h"

# A 32-bit-only break: a plain __u64 after a __u32 at the end of a wrapper.
h=$(mutate m32 '/^struct vsva_fault_alloc {/,/^};/s/^\t__u32 __reserved;/\t__u32 __reserved;\n\t__u32 odd;\n\t__u64 tail;/')
expect fail "vsva_fault_alloc gains __u32+__u64 (i386 packs it differently)" \
	"$guard" --header "$h" check
if grep -q 'FAIL: c-m32 differs' "$tmp/out" && grep -q '^+  tail: off=20 ' "$tmp/out"; then
	echo "selftest: ok:   ... and the -m32 diff shows tail at offset 20 (24 on x86-64)"
elif "$CC" -m32 -x c /dev/null -c -o /dev/null 2>/dev/null; then
	echo "selftest: FAIL: the -m32 diff does not show the i386 layout"
	fails=$((fails + 1))
fi

if ((fails)); then
	echo "selftest: $fails failure(s)"
	exit 1
fi
echo "selftest: the guard caught every deliberate change"
