#!/usr/bin/env bash
# Build the nested guest: a kernel image and a busybox initramfs with
# tests/nested/guest-init.
#
#   make-guest.sh OUTDIR [small|stock]    writes OUTDIR/vmlinuz, OUTDIR/initrd.gz
#   small  the small 6.12 guest kernel (tests/nested/guest-kernel.sh), its
#          drivers built in: boots in seconds under QEMU in the test VM
#   stock  Debian's stock 6.1 image (the one the test VM boots), unmodified,
#          with its virtio modules in the initramfs: a distribution kernel
#          as it is, at about ten times the boot time
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/lib.sh
. "$here/../../scripts/lib.sh"

out=${1:?OUTDIR} guest=${2:-small}
mkdir -p "$out"
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,dev,proc,sys,tmp,lib/modules}
cp /bin/busybox "$root/bin/busybox"
cp "$here/guest-init" "$root/init"
chmod 755 "$root/init"
case $guest in
small) image=$("$here/guest-kernel.sh" path) ;;
stock)
	image=$("$VSVA_TOP/scripts/kernels.sh" path stock image)
	kroot=$(cd "$(dirname "$image")/.." && pwd)
	mods=$(echo "$kroot"/lib/modules/*/kernel)
	[[ -d $mods ]] || die "no modules next to $image"
	for m in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci virtio_blk; do
		f=$(find "$mods" -name "$m.ko*" | head -n1)
		[[ -n $f ]] || die "no $m module under $mods"
		case $f in
		*.xz) xz -dc "$f" >"$root/lib/modules/$m.ko" ;;
		*.zst) zstd -qdc "$f" >"$root/lib/modules/$m.ko" ;;
		*) cp "$f" "$root/lib/modules/$m.ko" ;;
		esac
	done
	;;
*) die "make-guest.sh: guest small|stock, not '$guest'" ;;
esac
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet | gzip -1) >"$out/initrd.gz"
cp "$image" "$out/vmlinuz"
