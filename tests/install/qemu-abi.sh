#!/usr/bin/env bash
# The installed C ABI for QEMU: install the vsva-qemu component of a build
# tree into a prefix, check the shared library (SONAME, exported symbols:
# only vsva_qemu_*, every one versioned), then build a tiny C client with
# pkg-config and run it.  Self-contained (run.sh checks libvsva).
# Prints "N passed, N failed"; exit status 0 when none failed.
#
#   tests/install/qemu-abi.sh [BUILD_DIR]   (default: build; prefix
#                                            $VSVA_QEMU_PREFIX or
#                                            BUILD_DIR/install-test-qemu)
set -u
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/../../build}" && pwd)
prefix=${VSVA_QEMU_PREFIX:-$build/install-test-qemu}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# shellcheck source=tests/lib/steps.sh
. "$here/../lib/steps.sh"
step_log=$work/out

rm -rf "$prefix"
step "build libvsva-qemu" cmake --build "$build" --target vsva_qemu
step "cmake --install --component vsva-qemu --prefix $prefix" \
	cmake --install "$build" --prefix "$prefix" --component vsva-qemu

lib=$(find "$prefix" -name 'libvsva-qemu.so' | head -n1)
libdir=$(dirname "${lib:-$prefix/lib/x}")
step "shared library, SONAME libvsva-qemu.so.0" \
	sh -c "readelf -d '$libdir/libvsva-qemu.so' | grep -q 'SONAME.*\\[libvsva-qemu\\.so\\.0\\]'"
step "versioned file libvsva-qemu.so.0.1.0" test -f "$libdir/libvsva-qemu.so.0.1.0"
step "header vsva-qemu.h" test -f "$prefix/include/vsva-qemu.h"
nm -D --defined-only "$libdir/libvsva-qemu.so" 2>/dev/null | awk '$2 ~ /[TDBRVW]/ {print $3}' \
	>"$work/syms"
step "exports the C ABI (vsva_qemu_open, _close, _read_events)" \
	sh -c "grep -q '^vsva_qemu_open@@VSVA_QEMU_1\$' '$work/syms' &&
	       grep -q '^vsva_qemu_close@@VSVA_QEMU_1\$' '$work/syms' &&
	       grep -q '^vsva_qemu_read_events@@VSVA_QEMU_1\$' '$work/syms'"
# VSVA_QEMU_2 adds exactly vsva_qemu_emu_translate and vsva_qemu_open_error;
# nothing else moves.
step "exports nothing but vsva_qemu_*, versioned VSVA_QEMU_1 (VSVA_QEMU_2: emu_translate, open_error)" \
	sh -c "! grep -v -e '^vsva_qemu_[a-z0-9_]*@@VSVA_QEMU_1\$' -e '^VSVA_QEMU_1\$' \
	          -e '^vsva_qemu_emu_translate@@VSVA_QEMU_2\$' \
	          -e '^vsva_qemu_open_error@@VSVA_QEMU_2\$' -e '^VSVA_QEMU_2\$' '$work/syms' &&
	       grep -q '^vsva_qemu_emu_translate@@VSVA_QEMU_2\$' '$work/syms' &&
	       grep -q '^vsva_qemu_open_error@@VSVA_QEMU_2\$' '$work/syms'"
step "links no libvsva.so (libvsva is built in, hidden)" \
	sh -c "! readelf -d '$libdir/libvsva-qemu.so' | grep -q 'NEEDED.*libvsva\\.so'"

export PKG_CONFIG_PATH=$libdir/pkgconfig
step "pkg-config --modversion vsva-qemu" \
	sh -c "test \"\$(pkg-config --modversion vsva-qemu)\" = 0.1.0"
step "pkg-config: build a C99 client" sh -c "cc -std=c99 -Wall -Wextra -Werror \
	\$(pkg-config --cflags vsva-qemu) '$here/qemu_client.c' -o '$work/qemu_client' \
	\$(pkg-config --libs vsva-qemu)"
step "client runs against the installed library" \
	env LD_LIBRARY_PATH="$libdir" "$work/qemu_client"
step "client resolved libvsva-qemu.so.0 from the prefix" \
	sh -c "LD_LIBRARY_PATH='$libdir' ldd '$work/qemu_client' | grep -q '$libdir/libvsva-qemu.so.0'"

echo "$pass passed, $fail failed"
((fail == 0))
