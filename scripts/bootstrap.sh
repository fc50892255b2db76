#!/usr/bin/env bash
# Install every Debian package the build and the tests need, then make sure the
# two test kernels (stock bookworm 6.1, debug trixie 6.12) are present in the
# cache.  Idempotent: a second run does no network work unless something is
# missing.  Quiet unless it fails.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

PKGS=(
	build-essential cmake ninja-build pkg-config git
	libfmt-dev libgtest-dev libgmock-dev libbenchmark-dev
	clang-format sparse
	gcc-multilib g++-multilib
	qemu-system-x86 busybox-static cpio kmod xz-utils zstd
	flex bison bc libelf-dev libssl-dev dwarves rsync python3 perl
)

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
if ((${#missing[@]})); then
	log "installing: ${missing[*]}"
	quiet apt-get update
	DEBIAN_FRONTEND=noninteractive quiet apt-get install -y --no-install-recommends "${missing[@]}"
fi

if [[ ${VSVA_SKIP_KERNELS:-0} != 1 ]]; then
	"$here/kernels.sh" fetch
fi
