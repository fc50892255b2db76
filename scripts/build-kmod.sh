#!/usr/bin/env bash
# Build vsva.ko (and any helper modules kmod/Kbuild lists) for one kernel.
#   build-kmod.sh stock|debug OUTDIR [KBUILD-VARS...]
# The sources are copied to OUTDIR so both kernels build side by side.
# W=1 is always on and any compiler warning fails the build.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
kernel=$1 out=$2
shift 2
kdir=$("$here/kernels.sh" path "$kernel" kdir)
mkdir -p "$out"
rsync -a --delete --exclude '*.o' --exclude '*.ko' --exclude '.*.cmd' \
	"$VSVA_TOP/kmod/" "$out/kmod/"
rsync -a --delete "$VSVA_TOP/uapi/" "$out/uapi/"
log=$out/build.log
if ! make -C "$kdir" M="$out/kmod" W=1 "$@" modules >"$log" 2>&1; then
	cat "$log" >&2
	die "kbuild failed for the $kernel kernel"
fi
if grep -E 'warning:|error:' "$log" >&2; then
	die "kbuild printed warnings for the $kernel kernel"
fi
find "$out/kmod" -name '*.ko' -exec cp {} "$out/" \;
