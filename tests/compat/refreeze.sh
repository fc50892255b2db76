#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Freeze the released UAPI: one command.
#
#   tests/compat/refreeze.sh          copy uapi/linux/vsva.h to the frozen v1
#                                     header and regenerate the synthetic
#                                     future header from it
#   tests/compat/refreeze.sh --check  fail if the future header is stale
#                                     (a native test runs this)
#
# The frozen header (tests/compat/include/v1/linux/vsva.h) is what a VMM built
# against release 1 carries; once the release is tagged it is never edited
# again.  Until then (today's session), the lead re-runs this after the last
# additive change.  The ABI baseline is a separate decision:
# tests/compat/abi-guard.sh update.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
src=$top/uapi/linux/vsva.h
v1=$here/include/v1/linux/vsva.h
future=$here/include/future/linux/vsva.h

if [[ ${1:-} == --check ]]; then
	rc=0
	cmp -s "$src" "$v1" ||
		echo "refreeze: note: $src has changed since the freeze (fine once additive)"
	python3 "$here/abi/make_future.py" "$v1" | cmp -s - "$future" ||
		{ echo "refreeze: $future is stale (run tests/compat/refreeze.sh)" >&2; rc=1; }
	exit $rc
fi
mkdir -p "$(dirname "$v1")" "$(dirname "$future")"
cp "$src" "$v1"
python3 "$here/abi/make_future.py" "$v1" >"$future.tmp"
mv "$future.tmp" "$future"
echo "refreeze: froze $v1 and regenerated $future"
