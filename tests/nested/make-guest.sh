#!/usr/bin/env bash
# Build the nested guest: Debian's stock kernel image (the one the test VM
# boots, unmodified) and a busybox initramfs with its virtio modules and
# tests/nested/guest-init.
#
#   make-guest.sh OUTDIR     writes OUTDIR/vmlinuz and OUTDIR/initrd.gz
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/lib.sh
. "$here/../../scripts/lib.sh"

out=${1:?OUTDIR}
mkdir -p "$out"
image=$("$VSVA_TOP/scripts/kernels.sh" path stock image)
kroot=$(cd "$(dirname "$image")/.." && pwd)
mods=$(echo "$kroot"/lib/modules/*/kernel)
[[ -d $mods ]] || die "no modules next to $image"

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,dev,proc,sys,tmp,lib/modules}
cp /bin/busybox "$root/bin/busybox"
cp "$here/guest-init" "$root/init"
chmod 755 "$root/init"
for m in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci virtio_blk; do
	f=$(find "$mods" -name "$m.ko*" | head -n1)
	[[ -n $f ]] || die "no $m module under $mods"
	case $f in
	*.xz) xz -dc "$f" >"$root/lib/modules/$m.ko" ;;
	*.zst) zstd -qdc "$f" >"$root/lib/modules/$m.ko" ;;
	*) cp "$f" "$root/lib/modules/$m.ko" ;;
	esac
done
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet | gzip -1) >"$out/initrd.gz"
cp "$image" "$out/vmlinuz"
