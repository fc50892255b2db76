#!/usr/bin/env bash
# The two kernels the module is tested on.
#
#   kernels.sh fetch            download/build stock and debug if missing (cached)
#   kernels.sh perf             build the perf kernel if missing (cached; only
#                               scripts/bench.sh asks for it)
#   kernels.sh path NAME KEY    print a path for kernel NAME (stock|debug|perf):
#                               KEY = image | kdir | version
#   kernels.sh path src-6.12 dir the 6.12 source tree (iommufd_bench includes
#                               its iommufd headers)
#
# stock: Debian bookworm's distribution kernel.  The image is taken with
#        `apt-get download` + `dpkg-deb -x` into the cache (never into the
#        host's /boot); the matching headers are extracted the same way and
#        their absolute symlinks re-pointed into the cache.
# debug: Debian trixie's linux-source-6.12, configured from tinyconfig plus
#        kmod-test.config in this folder, built once per (version, config
#        hash) and kept under $VSVA_CACHE/kernels/.
# perf:  the same source and the same way, from tinyconfig plus
#        kmod-perf.config: no sanitizers or checkers, with IOMMUFD and
#        IOMMUFD_TEST (iommufd's selftest mock), for the side-by-side
#        benchmark.  Not part of `fetch`: the test runs never need it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

K=$VSVA_CACHE/kernels
mkdir -p "$K"

apt_trixie() {
	local d=$VSVA_CACHE/apt-trixie
	mkdir -p "$d"/lists/partial "$d"/cache/archives/partial "$d"/etc
	echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main" \
		>"$d/etc/sources.list"
	# A private sources/lists/cache folder: the host stays bookworm.
	apt-get -o Dir::Etc::SourceList="$d/etc/sources.list" \
		-o Dir::Etc::SourceParts="$d/etc/none" \
		-o Dir::State::Lists="$d/lists" -o Dir::Cache="$d/cache" \
		-o APT::Get::List-Cleanup=0 "$@"
}

stock_abi() {
	# linux-image-amd64 depends on linux-image-<abi>-amd64 (bookworm: 6.1.0-N).
	apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/.*Depends: linux-image-\(6\.1\.[0-9-]*\)-amd64.*/\1/p' | head -n1
}

fix_links() {
	# dpkg-deb -x keeps absolute symlinks (/usr/src/..., /usr/lib/...):
	# re-point them inside the extracted root.
	local root=$1 l t
	while IFS= read -r l; do
		t=$(readlink "$l")
		[[ $t == /* ]] && ln -sfn "$root$t" "$l"
	done < <(find "$root" -type l)
}

fetch_stock() {
	local abi root
	abi=$(stock_abi)
	[[ -n $abi ]] || { quiet apt-get update; abi=$(stock_abi); }
	[[ -n $abi ]] || die "cannot find bookworm's linux-image-amd64 ABI version"
	root=$K/stock-$abi
	if [[ -f $root/.done ]]; then
		return
	fi
	log "fetching stock kernel $abi"
	rm -rf "$root" "$K/dl-stock"
	mkdir -p "$root" "$K/dl-stock"
	(cd "$K/dl-stock" && quiet apt-get download \
		"linux-image-$abi-amd64" "linux-headers-$abi-amd64" \
		"linux-headers-$abi-common" linux-kbuild-6.1)
	for deb in "$K"/dl-stock/*.deb; do
		dpkg-deb -x "$deb" "$root"
	done
	fix_links "$root"
	# The headers' Makefile includes the common tree by absolute path.
	sed -i "s#^include /usr/src/#include $root/usr/src/#" \
		"$root"/usr/src/linux-headers-"$abi"-amd64/Makefile
	rm -rf "$K/dl-stock"
	ln -sfn "stock-$abi" "$K/stock"
	touch "$root/.done"
}

# NAME-VERSION-HASH: the fragment's hash keys the build (debug's key is
# the same as before the perf kernel existed).
config_key() {
	local ver=$1 frag=$2
	sha256sum <"$frag" | cut -c1-12 | sed "s/^/$ver-/"
}

fetch_src_612() {
	local src=$K/src-6.12
	if [[ ! -f $src/.done ]]; then
		log "fetching trixie linux-source-6.12"
		quiet apt_trixie update
		rm -rf "$src" "$K/dl-debug"
		mkdir -p "$K/dl-debug" "$src"
		(cd "$K/dl-debug" && quiet apt_trixie download linux-source-6.12)
		dpkg-deb -x "$K"/dl-debug/linux-source-6.12_*.deb "$K/dl-debug/x"
		tar -C "$src" --strip-components=1 -xaf "$K"/dl-debug/x/usr/src/linux-source-6.12.tar.*
		dpkg-deb -f "$K"/dl-debug/linux-source-6.12_*.deb Version >"$src/.debver"
		rm -rf "$K/dl-debug"
		touch "$src/.done"
	fi
}

# build_612 NAME FRAGMENT: tinyconfig + FRAGMENT from the 6.12 source, into
# $K/NAME-<version>-<hash>, linked as $K/NAME.
build_612() {
	local name=$1 frag=$2 src=$K/src-6.12 ver key out
	fetch_src_612
	ver=$(cat "$src/.debver")
	key=$(config_key "$ver" "$frag")
	out=$K/$name-$key
	if [[ ! -f $out/.done ]]; then
		log "building $name kernel $ver (config $key); this takes a few minutes"
		local t0=$SECONDS
		rm -rf "$out"
		mkdir -p "$out"
		quiet make -C "$src" O="$out" tinyconfig
		quiet "$src/scripts/kconfig/merge_config.sh" -m -O "$out" \
			"$out/.config" "$frag"
		quiet make -C "$src" O="$out" olddefconfig
		check_config "$out/.config" "$frag"
		quiet make -C "$src" O="$out" -j"$(nproc)" bzImage modules_prepare
		quiet make -C "$src" O="$out" -j"$(nproc)" modules
		log "$name kernel $key built in $((SECONDS - t0)) s"
		touch "$out/.done"
	fi
	ln -sfn "$name-$key" "$K/$name"
}

fetch_debug() {
	build_612 debug "$here/kmod-test.config"
}

# One build at a time (two bench runs asking at once wait for each other).
fetch_perf() {
	exec 9>"$K/.perf.lock"
	flock 9
	build_612 perf "$here/kmod-perf.config"
	exec 9>&-
}

path() {
	local name=$1 what=$2 d
	d=$(readlink -f "$K/$name") || die "kernel $name not fetched"
	case $name:$what in
	stock:image) echo "$d"/boot/vmlinuz-* ;;
	stock:kdir) echo "$d"/usr/src/linux-headers-*-amd64 ;;
	stock:version) basename "$d"/lib/modules/* ;;
	src-6.12:dir)
		[[ -f $d/.done ]] || die "the 6.12 source is not fetched"
		echo "$d"
		;;
	debug:image | perf:image) echo "$d/arch/x86/boot/bzImage" ;;
	debug:kdir | perf:kdir) echo "$d" ;;
	debug:version | perf:version) cat "$d/include/config/kernel.release" ;;
	*) die "usage: kernels.sh path stock|debug|perf image|kdir|version" ;;
	esac
}

main() {
	case ${1:-fetch} in
	fetch)
		fetch_stock
		fetch_debug
		;;
	stock) fetch_stock ;;
	debug) fetch_debug ;;
	perf) fetch_perf ;;
	path) path "$2" "$3" ;;
	*) die "usage: kernels.sh fetch|stock|debug|perf|path NAME KEY" ;;
	esac
}

# Parsed to the end before anything runs: editing this file while a kernel
# builds cannot derail the running build.  One line, so that bash does not
# read on from a stale offset after main returns (an edit during the perf
# build ended that run with a syntax error).
main "$@"; exit
