#!/usr/bin/env bash
# The main job (README): install what is needed, build, boot the stock
# Debian kernel under QEMU with vsva.ko loaded, print what the module
# offers, run the reference VMM's scenario, then SIGKILL a VMM holding live
# objects and verify the kernel's teardown from debugfs
# (qemu-integration/vmm/main-job.sh is the part that runs in the VM).
# First the real thing: the patched QEMU (vsva=on) boots an unmodified
# Linux guest (the small 6.12 guest kernel; --guest stock in
# tests/nested/run for Debian's 6.1 image), whose virtio-blk disks do their
# DMA through vsva's nested translation of the guest's own VT-d tables:
# its DMAR lines, what vsva bound and invalidated, the data verified
# (tests/nested/run).  Then the reference VMM's scenario and the SIGKILL.
set -euo pipefail
# Read to the end before running: editing this file cannot derail a run.
{
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/lib.sh
. "$here/lib.sh"

"$here/bootstrap.sh"
cmake -S "$VSVA_TOP" -B "$VSVA_BUILD" -G Ninja >/dev/null
quiet cmake --build "$VSVA_BUILD"
"$VSVA_TOP/tests/nested/run" --kernel stock --quiet --modes vsva
exec "$VSVA_TOP/tests/vm/run" --kernel stock --quiet -- \
	"$VSVA_TOP/qemu-integration/vmm/main-job.sh"
exit
}
