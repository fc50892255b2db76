#!/usr/bin/env bash
# Install libvsva from a build tree into a prefix, then build and run a
# client against it with find_package(vsva) (shared and static) and with
# pkg-config, natively and inside the test VM against the real module.
# Prints "N passed, N failed"; exit status 0 when none failed.
#
#   tests/install/run.sh [BUILD_DIR]      (default: build; prefix
#                                          $VSVA_PREFIX or BUILD_DIR/install-test;
#                                          not under /tmp: the VM mounts a
#                                          tmpfs there)
set -u
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/../../build}" && pwd)
prefix=${VSVA_PREFIX:-$build/install-test}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# shellcheck source=tests/lib/steps.sh
. "$here/../lib/steps.sh"
step_log=$work/out

rm -rf "$prefix"
step "build libvsva and the tool" cmake --build "$build" --target vsva vsva_static vsva_tool
# Only libvsva's component: other parts of the tree may not be built.
step "cmake --install --component libvsva --prefix $prefix" \
	cmake --install "$build" --prefix "$prefix" --component libvsva

libdir=$(dirname "$(find "$prefix" -name 'libvsva.so' | head -n1)")
step "shared library, SONAME libvsva.so.0" \
	sh -c "readelf -d '$libdir/libvsva.so' | grep -q 'SONAME.*\\[libvsva\\.so\\.0\\]'"
step "versioned file libvsva.so.0.1.0" test -f "$libdir/libvsva.so.0.1.0"
step "static library" test -f "$libdir/libvsva.a"
step "headers" test -f "$prefix/include/vsva/vsva.h" -a -f "$prefix/include/vsva/emu.h" \
	-a -f "$prefix/include/vsva/result.h" -a -f "$prefix/include/linux/vsva.h"
step "vsva tool" sh -c "'$prefix/bin/vsva' version | grep -q 0.1.0"

# find_package(vsva) -> vsva::vsva, vsva::vsva_static
step "find_package(vsva): configure" \
	cmake -S "$here" -B "$work/cm" -G Ninja -DCMAKE_PREFIX_PATH="$prefix"
step "find_package(vsva): build" cmake --build "$work/cm"
step "client linked with vsva::vsva" "$work/cm/client_shared"
step "client linked with vsva::vsva_static" "$work/cm/client_static"
step "client_static does not need libvsva.so" \
	sh -c "! ldd '$work/cm/client_static' | grep -q libvsva"

# pkg-config
export PKG_CONFIG_PATH=$libdir/pkgconfig
step "pkg-config --modversion vsva" sh -c "test \"\$(pkg-config --modversion vsva)\" = 0.1.0"
step "installed libvsva.so: every symbol versioned, none internal (nm -D)" \
	"$here/../../vsva/abi/abi-check.sh" symbols "$libdir/libvsva.so"
step "pkg-config --cflags does not force a language level" \
	sh -c "! pkg-config --cflags vsva | grep -q -- -std="
step "without -std=c++20 the headers say what they need" sh -c "! c++ -std=c++17 \
	\$(pkg-config --cflags vsva) -fsyntax-only '$here/client.cc' 2>'$work/c17.err' &&
	grep -q 'need C++20' '$work/c17.err'"
step "pkg-config: build" sh -c "c++ -std=c++20 -Wall -Wextra -Werror \$(pkg-config --cflags vsva) \
	'$here/client.cc' -o '$work/client_pc' \$(pkg-config --libs vsva) -Wl,-rpath,'$libdir'"
step "client built with pkg-config" env LD_LIBRARY_PATH="$libdir" "$work/client_pc"

# The installed clients inside the test VM, against the real module (when
# the test kernels are there: scripts/test.sh always has them).
top=$(cd "$here/../.." && pwd)
if "$top/scripts/kernels.sh" path stock image >/dev/null 2>&1; then
	for c in "$work/cm/client_shared" "$work/client_pc"; do
		step "${c##*/} in the VM (stock kernel)" env VSVA_BUILD="$build" \
			"$top/tests/vm/run" --kernel stock --quiet -- "$c" --in-vm
	done
else
	echo "skip clients in the VM: no test kernel (run scripts/bootstrap.sh)"
fi

echo "$pass passed, $fail failed"
((fail == 0))
