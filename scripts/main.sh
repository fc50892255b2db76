#!/usr/bin/env bash
# The main job (README): install what is needed, build, boot the stock
# Debian kernel under QEMU with vsva.ko loaded, print what the module
# offers, run the reference VMM's scenario, then SIGKILL a VMM holding live
# objects and verify the kernel's teardown from debugfs
# (qemu-integration/vmm/main-job.sh is the part that runs in the VM).
# Then the real thing: the patched QEMU (vsva=on) boots Debian's stock
# kernel, whose virtio-blk disk does its DMA through vsva's nested
# translation of the guest's own VT-d tables (tests/nested/run).
set -euo pipefail
# Read to the end before running: editing this file cannot derail a run.
{
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/lib.sh
. "$here/lib.sh"

"$here/bootstrap.sh"
cmake -S "$VSVA_TOP" -B "$VSVA_BUILD" -G Ninja >/dev/null
quiet cmake --build "$VSVA_BUILD"
"$VSVA_TOP/tests/vm/run" --kernel stock --quiet -- \
	"$VSVA_TOP/qemu-integration/vmm/main-job.sh"
exec "$VSVA_TOP/tests/nested/run" --kernel stock --quiet --modes vsva
exit
}
