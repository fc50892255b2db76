#!/usr/bin/env bash
# Static checks, each counted as a test:
#   checkpatch.pl --strict  on every kernel C file and header and the UAPI,
#   sparse (make C=2)       on the module, against both kernels,
#   kernel-doc -none        on the UAPI header (every field documented),
#   clang-format            on every C++ file (dry run, -Werror).
# Ends with "lint: N passed, N failed"; exits non-zero on any failure.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
cd "$VSVA_TOP"

src=$VSVA_CACHE/kernels/src-6.12
pass=0 fail=0
ok() { pass=$((pass + 1)); printf 'lint: ok   %s\n' "$*"; }
bad() { fail=$((fail + 1)); printf 'lint: FAIL %s\n' "$*"; }

# sparse, against both kernels (build-kmod.sh fails on any warning).
# Each is one serial kbuild: both start now and run beside each other and
# the checks below (about 40 s of the 70 s this script took on 2 cores).
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
declare -A sparse_pid
for k in stock debug; do
	"$here/build-kmod.sh" "$k" "$VSVA_BUILD/lint-sparse-$k" C=2 CHECK="sparse -Wno-decl" \
		>"$tmp/sparse-$k" 2>&1 &
	sparse_pid[$k]=$!
done

# checkpatch: one test per file.
mapfile -t kfiles < <(git ls-files -co --exclude-standard 'kmod/*.c' 'kmod/*.h' 'uapi/*.h')
for f in "${kfiles[@]}"; do
	ign=FILE_PATH_CHANGES,SPDX_LICENSE_TAG
	# BIT() does not exist for user space: UAPI headers spell shifts out.
	[[ $f == uapi/* ]] && ign+=,BIT_MACRO
	while read -r file type; do
		[[ $file == "$f" ]] && ign+=",$type"
	done < <(grep -v '^#' "$here/checkpatch-exceptions")
	out=$(perl "$src/scripts/checkpatch.pl" --no-tree --strict --quiet \
		--ignore "$ign" -f "$f" 2>&1)
	if [[ -z $out ]]; then ok "checkpatch $f"; else bad "checkpatch $f"; printf '%s\n' "$out" | head -40; fi
done

# kernel-doc: every struct/field/constant of the UAPI documented.
out=$(perl "$src/scripts/kernel-doc" -none -Wall uapi/linux/vsva.h 2>&1)
if [[ -z $out ]]; then ok "kernel-doc uapi/linux/vsva.h"; else bad "kernel-doc uapi/linux/vsva.h"; printf '%s\n' "$out" | head -40; fi

# sparse's verdicts.
for k in stock debug; do
	if wait "${sparse_pid[$k]}"; then
		ok "sparse ($k kernel)"
	else
		bad "sparse ($k kernel)"; grep -E 'warning|error' "$tmp/sparse-$k" | head -40
	fi
done

# clang-format: the C++ sources follow the .clang-format nearest to them.
mapfile -t cxx < <(git ls-files -co --exclude-standard '*.cc' '*.cpp' '*.hpp' 'vsva/*.h' 'qemu-integration/*.h' 'tests/*.h' | grep -v '^tests/compat/include/')
if ((${#cxx[@]})); then
	if out=$(clang-format --dry-run -Werror "${cxx[@]}" 2>&1); then
		ok "clang-format (${#cxx[@]} files)"
	else
		bad "clang-format"; printf '%s\n' "$out" | grep -E '^[^ ].*error' | head -20
	fi
fi

echo "lint: $pass passed, $fail failed"
((fail == 0))
