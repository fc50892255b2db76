#!/usr/bin/env bash
# The main job (README), for now: install what is needed, build, boot the
# stock Debian kernel under QEMU with vsva.ko loaded and print what the
# module reports through VSVA_GET_INFO.
set -euo pipefail
# Read to the end before running: editing this file cannot derail a run.
{
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/lib.sh
. "$here/lib.sh"

"$here/bootstrap.sh"
cmake -S "$VSVA_TOP" -B "$VSVA_BUILD" -G Ninja >/dev/null
quiet cmake --build "$VSVA_BUILD"
exec "$VSVA_TOP/tests/vm/run" --kernel stock --quiet -- vsva-getinfo
exit
}
