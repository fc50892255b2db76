#!/usr/bin/env bash
# The benchmarks: figures, not pass/fail tests.  Each runs inside the VM on
# the stock kernel under -icount (guest time counts instructions, so the
# figures repeat run to run and their ratios can be compared):
#   datapath_bench   translation on an IOTLB hit vs 4- and 5-level misses,
#                    invalidation cost against IOTLB occupancy;
#   vsva-bench       libvsva against raw ioctls, single and 64-entry batch;
#   bench_teardown   teardown of a dead VM, 8K vs 64K bound PASIDs.
# Needs a build (scripts/test.sh or cmake --build build) first.
set -euo pipefail
{
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/lib.sh
. "$here/lib.sh"
kernel=${1:-stock}
for b in datapath_bench vsva-bench bench_teardown; do
	log "== $b ($kernel kernel, -icount)"
	"$VSVA_TOP/tests/vm/run" --kernel "$kernel" --icount --quiet -- "$b" |
		grep -Ev '^(check|suite|vm-result) '
done
exit
}
