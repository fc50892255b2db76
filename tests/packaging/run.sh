#!/usr/bin/env bash
# The packaging test (issue 15): from this tree,
#   1. render the man pages with warnings as errors, and check that the
#      committed vsva.4 is what Documentation/man/gen-vsva4.py makes now;
#   2. build the Debian packages (dpkg-buildpackage -b -uc -us) from a copy of
#      the tracked files, run lintian (only the tags in
#      debian/lintian-explained.md may remain);
#   3. unpack them into a root (dpkg -x), build the installed vsva-dkms
#      sources with DKMS (private tree) against the stock kernel's headers;
#   4. build the installed-library clients (libvsva, libvsva-qemu) against
#      that root;
#   5. boot the stock kernel with the DKMS-built vsva.ko and the unpacked
#      root (tests/vm/run --ko --overlay): real systemd-udevd applies the
#      rule, a kvm user opens /dev/vsva, another gets EACCES, the installed
#      vsva info and clients run (tests/packaging/in-vm.sh).
# Prints "N passed, N failed"; exit 0 when none failed.
#   tests/packaging/run.sh [BUILD_DIR]     (work in BUILD_DIR/pkg)
set -u
# Read to the end before running: editing this file cannot derail a run.
{
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build=$(mkdir -p "${1:-$top/build}" && cd "${1:-$top/build}" && pwd)
P=$build/pkg
ver=$(sed -n '1s/^vsva (\([^)]*\)).*/\1/p' "$top/debian/changelog")
t0=$(date +%s)
# shellcheck source=tests/lib/steps.sh
. "$here/../lib/steps.sh"
step_log=$P/out
step_tail=40
rm -rf "$P"
mkdir -p "$P/src/vsva-$ver" "$P/root" "$P/dkms"

# 1. man pages
man_warn() { # page: man and groff must print nothing on stderr
	local e
	e=$( { LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$1" >/dev/null; } 2>&1) || return 1
	[[ -z $e ]] || { echo "$e"; return 1; }
	e=$(groff -man -ww -z "$1" 2>&1) || return 1
	[[ -z $e ]] || { echo "$e"; return 1; }
}
for m in "$top"/Documentation/man/*.[0-9]; do
	step "man page ${m##*/} renders without warnings" man_warn "$m"
done
# The kernel's kernel-doc, from the 6.12 sources scripts/lint.sh uses too.
export VSVA_BUILD=$build
# shellcheck source=scripts/lib.sh
. "$top/scripts/lib.sh"
kdoc=$VSVA_CACHE/kernels/src-6.12/scripts/kernel-doc
step "vsva.4 is generated from uapi/linux/vsva.h (gen-vsva4.py; no drift)" \
	sh -c "'$top/Documentation/man/gen-vsva4.py' '$kdoc' | diff -u '$top/Documentation/man/vsva.4' -"

# 2. packages and lintian
copy_src() {
	cd "$top" && git ls-files -z -co --exclude-standard | grep -zv '^build/' |
		rsync -a --from0 --files-from=- ./ "$P/src/vsva-$ver/"
}
step "copy the tracked tree" copy_src
step "dpkg-buildpackage -b -uc -us" sh -c "cd '$P/src/vsva-$ver' &&
	DEB_BUILD_OPTIONS='parallel=2 nocheck' dpkg-buildpackage -b -uc -us"
debs=()
for p in vsva-dkms libvsva0 libvsva-dev libvsva-qemu0 libvsva-qemu-dev vsva-tools; do
	d=$(ls "$P/src/${p}_${ver}_"*.deb 2>/dev/null)
	step "package $p built" test -f "$d"
	debs+=("$d")
done
lint() {
	local tags
	lintian --tag-display-limit 0 -I "$P/src/vsva_${ver}_amd64.changes" 2>/dev/null |
		tee "$P/lintian.txt"
	# Every tag left must be explained in debian/lintian-explained.md.
	tags=$(awk '{ print $3 }' "$P/lintian.txt" | sort -u)
	for t in $tags; do
		grep -q -- "\`$t\`" "$top/debian/lintian-explained.md" ||
			{ echo "unexplained lintian tag: $t"; return 1; }
	done
	! grep -q '^E:' "$P/lintian.txt"
}
step "lintian: no error, every remaining tag explained" lint

# 3. install (dpkg -x) and DKMS
for d in "${debs[@]}"; do
	step "dpkg -x ${d##*/}" dpkg -x "$d" "$P/root"
done
kdir=$("$top/scripts/kernels.sh" path stock kdir)
krel=$("$top/scripts/kernels.sh" path stock version)
dk=(--sourcetree "$P/root/usr/src" --dkmstree "$P/dkms")
step "dkms add (installed vsva-dkms sources)" dkms add -m vsva -v "$ver" "${dk[@]}"
step "dkms build against the stock kernel's headers" \
	dkms build -m vsva -v "$ver" -k "$krel" --kernelsourcedir "$kdir" "${dk[@]}"
ko=$(find "$P/dkms/vsva/$ver/$krel" -name 'vsva.ko*' | head -n1)
step "DKMS produced vsva.ko" test -f "$ko"

# 4. clients of the installed library (pkg-config and find_package)
mkdir -p "$P/root/usr/libexec/vsva-test" "$P/root/usr/bin"
export PKG_CONFIG_PATH=$P/root/usr/lib/x86_64-linux-gnu/pkgconfig
step "installed libvsva-dev: pkg-config build" sh -c "c++ -std=c++20 -Wall -Wextra -Werror \
	\$(pkg-config --cflags vsva) '$top/tests/install/client.cc' \
	-o '$P/root/usr/libexec/vsva-test/client_pc' \$(pkg-config --libs vsva)"
step "installed libvsva-dev: find_package(vsva) build" sh -c "
	cmake -S '$top/tests/install' -B '$P/cm' -G Ninja -DCMAKE_PREFIX_PATH='$P/root/usr' &&
	cmake --build '$P/cm' && cp '$P/cm/client_shared' '$P/root/usr/libexec/vsva-test/'"
step "installed libvsva-qemu-dev: pkg-config build of a C99 client" sh -c "cc -std=c99 \
	-Wall -Wextra -Werror \$(pkg-config --cflags vsva-qemu) '$top/tests/install/qemu_client.c' \
	-o '$P/root/usr/libexec/vsva-test/qemu_client' \$(pkg-config --libs vsva-qemu)"
step "installed clients link the installed libvsva.so.0" sh -c "
	LD_LIBRARY_PATH='$P/root/usr/lib/x86_64-linux-gnu' ldd '$P/root/usr/libexec/vsva-test/client_pc' |
	grep -q '$P/root/usr/lib/x86_64-linux-gnu/libvsva.so.0'"

# 5. the VM: udev, permissions, installed files
mkdir -p "$P/root/etc" "$P/root/lib/systemd"
cp -L /lib/systemd/systemd-udevd "$P/root/lib/systemd/"
cp -L "$(command -v udevadm)" "$P/root/usr/bin/udevadm"
printf 'root:x:0:\nkvm:x:994:vmm\nvmm:x:1000:\nother:x:1001:\n' >"$P/root/etc/group"
printf 'root:x:0:0:root:/root:/bin/sh\nvmm:x:1000:1000::/tmp:/bin/sh\nother:x:1001:1001::/tmp:/bin/sh\n' \
	>"$P/root/etc/passwd"
step "build open_as" cc -O2 -Wall -Wextra -Werror -o "$P/root/usr/bin/open_as" "$here/open_as.c"
bid=$(readelf -n "$ko" | awk '/Build ID:/ { print $3 }')
vm() {
	"$top/tests/vm/run" --kernel stock --quiet --ko "$ko" --overlay "$P/root" \
		-- "$here/in-vm.sh" "$bid" >"$P/vm.txt" 2>&1
	local rc=$?
	cat "$P/vm.txt"
	return $rc
}
vm
vrc=$?
# tests/vm/run says which file it packed: it must be DKMS's.
sum=$(sha256sum <"$ko" | cut -c1-16)
if grep -q "^stock: vsva.ko .*sha256=$sum" "$P/vm.txt"; then
	pass=$((pass + 1))
	echo "ok   the VM packed DKMS's vsva.ko (sha256 $sum)"
else
	fail=$((fail + 1))
	echo "FAIL the VM did not pack DKMS's vsva.ko (sha256 $sum)"
fi
vp=$(grep -Ec '^pkg-ok ' "$P/vm.txt")
vf=$(grep -Ec '^pkg-FAIL ' "$P/vm.txt")
pass=$((pass + vp)) fail=$((fail + vf))
if ((vrc != 0 && vf == 0)) || ((vp == 0)); then
	fail=$((fail + 1))
	echo "FAIL the VM run (exit $vrc)"
	tail -n 40 "$P/vm.txt"
fi
echo "packaging test took $(($(date +%s) - t0)) s"
echo "$pass passed, $fail failed"
((fail == 0))
exit
}
