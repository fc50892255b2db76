#!/usr/bin/env bash
# Install every Debian package the build and the tests need, then make sure the
# two test kernels (stock bookworm 6.1, debug trixie 6.12) and the patched QEMU
# (trixie's 10.0 source + qemu-integration/qemu/*.patch) are present in the
# cache.  Idempotent: a second run only refreshes stale package lists (always
# with CI=true) and downloads nothing that is present.  Quiet unless it fails.
set -euo pipefail
# Read to the end before running: editing this file cannot derail a run.
{
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/lib.sh
. "$here/lib.sh"

PKGS=(
	build-essential cmake ninja-build pkg-config git ccache
	libfmt-dev libexpected-dev abigail-tools libgtest-dev libgmock-dev libbenchmark-dev
	clang-format sparse
	gcc-multilib g++-multilib
	qemu-system-x86 busybox-static cpio kmod xz-utils zstd lz4
	libglib2.0-dev libpixman-1-dev libfdt-dev patch
	flex bison bc libelf-dev libssl-dev dwarves rsync python3 perl
	dpkg-dev debhelper dh-dkms dkms fakeroot lintian groff man-db udev
	gnuplot-nox seabios
)

# Fresh package lists first (always on CI, else when older than a day), so
# installs and the kernel's version lookup see today's archive.
lists=(/var/lib/apt/lists/*_InRelease)
if [[ ${CI:-} == true || ! -e ${lists[0]} ]] ||
	[[ -n $(find /var/lib/apt/lists -maxdepth 1 -name '*_InRelease' -mmin +1440 -print -quit) ]]; then
	quiet apt-get update
fi

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
if ((${#missing[@]})); then
	log "installing: ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive quiet apt-get install -y --no-install-recommends "${missing[@]}"
fi

if [[ ${VSVA_SKIP_KERNELS:-0} != 1 ]]; then
	"$here/kernels.sh" fetch
	# The nested guest's small kernel, from the debug kernel's source.
	"$VSVA_TOP/tests/nested/guest-kernel.sh" fetch
fi
# The patched QEMU of the nested run (cached by source version + patches).
if [[ ${VSVA_SKIP_QEMU:-0} != 1 ]]; then
	"$here/qemu.sh" fetch
fi
exit
}
