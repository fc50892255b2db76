#!/usr/bin/env bash
# The patched QEMU the nested run uses (issue 13): Debian trixie's qemu
# source, qemu-integration/qemu/*.patch applied, only qemu-system-x86_64.
#
#   qemu.sh fetch          fetch and build whatever is missing (cached)
#   qemu.sh source         only fetch the source and meson (cached)
#   qemu.sh path KEY       print KEY = bin (the qemu-system-x86_64) | roms
#                          (its option ROMs) | dir
#
# The source comes from `apt-get source` through the private trixie apt
# folder the kernel scripts use ($VSVA_CACHE/apt-trixie; its own
# sources-src.list adds a deb-src line; the host stays bookworm).  QEMU
# 10.0 needs meson >= 1.5: trixie's meson .deb is downloaded and extracted
# (dpkg-deb -x), never installed, and so is python3-pycotap (not in
# bookworm; QEMU's configure wants it).  The build is cached under
# $VSVA_CACHE/qemu/<source version>-<patch hash>/ (like the debug kernel):
# a new patch or a new source version builds again, nothing else does.
# The source carries no firmware: the build makes the option ROMs, and the
# run takes SeaBIOS from bookworm's seabios package (-L /usr/share/seabios
# next to the build's pc-bios).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

Q=$VSVA_CACHE/qemu
PATCHES=$VSVA_TOP/qemu-integration/qemu

apt_trixie_src() {
	local d=$VSVA_CACHE/apt-trixie
	mkdir -p "$d"/lists/partial "$d"/cache/archives/partial "$d"/etc
	{
		echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main"
		echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main"
	} >"$d/etc/sources-src.list"
	apt-get -o Dir::Etc::SourceList="$d/etc/sources-src.list" \
		-o Dir::Etc::SourceParts="$d/etc/none" \
		-o Dir::State::Lists="$d/lists" -o Dir::Cache="$d/cache" \
		-o APT::Get::List-Cleanup=0 "$@"
}

# The hash of the patch series (names and contents), 12 hex digits.
patch_hash() {
	local f
	{
		for f in "$PATCHES"/*.patch; do
			[[ -e $f ]] || continue
			basename "$f"
			cat "$f"
		done
		# The C ABI header the patch compiles against (copied into the
		# tree: hw/i386/vsva-qemu.h) and the configure line are part of
		# what is built.
		cat "$VSVA_TOP/qemu-integration/include/vsva-qemu.h"
		declare -f configure_qemu
	} | sha256sum | cut -c1-12
}

configure_qemu() {
	local src=$1 out=$2 meson_root=$3
	# Trixie's meson, extracted, found by QEMU's mkvenv through PYTHONPATH.
	(cd "$out" && PYTHONPATH=$meson_root/usr/lib/python3/dist-packages \
		"$src/configure" --target-list=x86_64-softmmu \
		--python=/usr/bin/python3 \
		--disable-download --disable-install-blobs --disable-docs --disable-werror \
		--disable-user --disable-kvm \
		--disable-xen --disable-tools --disable-guest-agent \
		--disable-slirp --disable-gtk --disable-sdl --disable-vnc \
		--disable-spice --disable-opengl --disable-virglrenderer \
		--disable-libusb --disable-usb-redir --disable-smartcard \
		--disable-curl --disable-rbd --disable-glusterfs --disable-libssh \
		--disable-capstone --disable-seccomp --disable-linux-aio \
		--disable-linux-io-uring --disable-vhost-user --disable-tpm \
		--disable-fuse --disable-libnfs --disable-gnutls --disable-nettle \
		--disable-gcrypt --disable-bzip2 --disable-zstd --disable-lzo \
		--disable-snappy --disable-vde --disable-netmap --disable-pa \
		--disable-alsa --disable-oss --disable-jack --disable-pipewire \
		--disable-sndio --disable-dbus-display --disable-qom-cast-debug \
		--disable-debug-info --disable-libvduse --disable-vduse-blk-export)
	# ninja re-runs meson (a patch touched a meson.build): the venv
	# finds the extracted tools by itself, without PYTHONPATH.
	local sp
	for sp in "$out"/pyvenv/lib/python3*/site-packages; do
		echo "$meson_root/usr/lib/python3/dist-packages" >"$sp/vsva-trixie-tools.pth"
	done
}

fetch_source() {
	mkdir -p "$Q"
	if [[ ! -f $Q/src/.done ]]; then
		log "fetching trixie's qemu source"
		quiet apt_trixie_src update
		rm -rf "$Q/src" "$Q/dl" "$Q/meson"
		mkdir -p "$Q/dl"
		(cd "$Q/dl" && quiet apt_trixie_src source --download-only qemu &&
			quiet apt_trixie_src download meson python3-pycotap)
		# The orig tarball and the Debian diff; no dpkg-source -x (it
		# would want trixie's dpkg for the format), plain tar: the
		# upstream tree is what the patches apply to.
		mkdir -p "$Q/src"
		tar -C "$Q/src" --strip-components=1 -xaf "$Q"/dl/qemu_*.orig.tar.*
		# Build-time Python tools bookworm lacks or has too old, extracted
		# into one root (never installed): meson >= 1.5, pycotap.
		dpkg-deb -x "$Q"/dl/meson_*.deb "$Q/meson"
		dpkg-deb -x "$Q"/dl/python3-pycotap_*.deb "$Q/meson"
		sed -n 's/^Version: //p' "$Q"/dl/qemu_*.dsc | head -n1 >"$Q/src/.debver"
		rm -rf "$Q/dl"
		touch "$Q/src/.done"
	fi
}

fetch() {
	local ver key out t0
	fetch_source
	# The Debian version without its epoch: QEMU's configure refuses a
	# build folder with a colon.
	ver=$(sed 's/^[0-9]*://' "$Q/src/.debver")
	key=$ver-$(patch_hash)
	out=$Q/$key
	if [[ ! -f $out/.done ]]; then
		log "building qemu-system-x86_64 $ver (patches $(patch_hash)); several minutes"
		t0=$SECONDS
		rm -rf "$out"
		mkdir -p "$out"
		# A patched copy of the source per key: the shared tree stays pristine.
		cp -a "$Q/src" "$out/src"
		# The +ds source drops the EDK2 images, yet meson unpacks them
		# whenever bzip2 exists: empty stand-ins (the run uses SeaBIOS).
		sed -n "s/^ *'\(edk2-[a-z0-9_-]*\.fd\)',$/\1/p" "$out/src/pc-bios/meson.build" |
			while read -r f; do
				[[ -e $out/src/pc-bios/$f.bz2 ]] ||
					bzip2 -c </dev/null >"$out/src/pc-bios/$f.bz2"
			done
		for p in "$PATCHES"/*.patch; do
			[[ -e $p ]] || continue
			quiet patch -d "$out/src" -p1 --forward -i "$p"
		done
		# libvsva-qemu is loaded at run time (dlopen): only its header.
		cp "$VSVA_TOP/qemu-integration/include/vsva-qemu.h" "$out/src/hw/i386/"
		mkdir -p "$out/build"
		quiet configure_qemu "$out/src" "$out/build" "$Q/meson"
		quiet make -C "$out/build" -j"$(nproc)" qemu-system-x86_64
		# The option ROMs -kernel needs (linuxboot_dma.bin, ...).
		quiet make -C "$out/build/pc-bios/optionrom" -j"$(nproc)"
		echo "$((SECONDS - t0))" >"$out/.build-seconds"
		log "qemu built in $((SECONDS - t0)) s"
		touch "$out/.done"
	fi
	ln -sfn "$key" "$Q/current"
}

path() {
	local d
	d=$(readlink -f "$Q/current") || die "qemu not built (scripts/qemu.sh fetch)"
	case $1 in
	bin) echo "$d/build/qemu-system-x86_64" ;;
	roms) echo "$d/build/pc-bios/optionrom" ;;
	dir) echo "$d" ;;
	*) die "unknown key $1" ;;
	esac
}

case ${1:-} in
fetch) fetch ;;
source) fetch_source ;;
path) path "${2:?KEY}" ;;
*) die "usage: qemu.sh fetch | path bin|dir" ;;
esac
