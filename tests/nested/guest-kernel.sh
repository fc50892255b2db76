#!/usr/bin/env bash
# The nested guest's small kernel: Debian trixie's linux-source-6.12 (the
# tree scripts/kernels.sh keeps for the debug kernel), tinyconfig plus
# guest-kernel.config.  Built once per (source version, fragment hash) and
# kept under $VSVA_CACHE/kernels/guest-<key>/.
#
#   guest-kernel.sh fetch     build it unless cached (bootstrap calls this)
#   guest-kernel.sh path      print the bzImage's path (fails when absent)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/lib.sh
. "$here/../../scripts/lib.sh"

K=$VSVA_CACHE/kernels
src=$K/src-6.12
frag=$here/guest-kernel.config

key() {
	[[ -f $src/.done ]] || die "no kernel source in $src (scripts/kernels.sh debug)"
	echo "$(cat "$src/.debver")-$(sha256sum <"$frag" | cut -c1-12)"
}

fetch() {
	local out t0=$SECONDS
	out=$K/guest-$(key)
	[[ -f $out/.done ]] && return
	log "building the nested guest's kernel ($(key))"
	rm -rf "$out"
	mkdir -p "$out"
	quiet make -C "$src" O="$out" tinyconfig
	quiet "$src/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" "$frag"
	quiet make -C "$src" O="$out" olddefconfig
	check_config "$out/.config" "$frag"
	quiet make -C "$src" O="$out" -j"$(nproc)" bzImage
	log "guest kernel built in $((SECONDS - t0)) s"
	touch "$out/.done"
}

case ${1:-} in
fetch) fetch ;;
path)
	d=$K/guest-$(key)
	[[ -f $d/.done ]] || die "no guest kernel in $d (tests/nested/guest-kernel.sh fetch)"
	echo "$d/arch/x86/boot/bzImage"
	;;
*) sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
