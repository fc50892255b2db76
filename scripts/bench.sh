#!/usr/bin/env bash
# The benchmarks: figures, not pass/fail tests.  Each runs inside the VM on
# the stock kernel; under -icount (guest time counts instructions, one
# instruction per ns, so the figures repeat run to run and their ratios
# can be compared):
#   datapath_bench   translation on an IOTLB hit vs 4- and 5-level misses,
#                    invalidation cost against IOTLB occupancy;
#   inv_bench icount per-entry cost against batch size (1..1024) split into
#                    the UAPI layer and the backend's flush, PASID- and
#                    domain-wide flushes against occupancy, teardown with a
#                    full vs an empty cache;
#   vsva-bench       libvsva against raw ioctls, single and 64-entry batch;
#   bench_teardown   teardown of a dead VM, 8K vs 64K bound PASIDs;
# and in real time with two vCPUs (medians and p99 over many calls):
#   inv_bench smp    VM A's invalidation latency alone vs while VM B floods
#                    on the other vCPU; two threads on two devices of a VM;
# and on the perf kernel (6.12, no sanitizers, IOMMUFD_TEST), -icount:
#   iommufd_bench    vsva's single and 64-entry invalidation against
#                    iommufd's IOMMU_HWPT_INVALIDATE on the selftest mock's
#                    nested HWPT, and the cheapest ioctl of each.
#
#   scripts/bench.sh [stock|debug] [--no-perf]
#
# The perf kernel is built on first use (scripts/kernels.sh perf: both
# cores for several minutes, then cached); --no-perf skips that run and
# its figure reads n/a.
#
# Prints every table, then the headline figures again, one per line:
#   bench: <name> = <value> (goal <op> <target>)
# and writes them with the tables and plots (gnuplot, PNG) to build/bench/.
# Needs a build (scripts/test.sh or cmake --build build) first.
set -euo pipefail
{
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/lib.sh
. "$here/lib.sh"
kernel=stock perf=1
for a in "$@"; do
	case $a in
	stock | debug) kernel=$a ;;
	--no-perf) perf=0 ;;
	*) die "usage: scripts/bench.sh [stock|debug] [--no-perf]" ;;
	esac
done
out=$VSVA_BUILD/bench
rm -rf "$out"
mkdir -p "$out"

run() { # log-name run-args... (on $kernel, or $on_kernel when set)
	local name=$1 k=${on_kernel:-$kernel}
	shift
	log "== $name ($k kernel${*:+, $*})"
	"$VSVA_TOP/tests/vm/run" --kernel "$k" --quiet "$@" >"$out/$name.log" 2>&1 ||
		log "$name: the VM run failed (see $out/$name.log)"
	grep -Ev '^(check|suite|vm-result|table:) |^vsva: |^[a-z]+: [0-9]+ online CPU' \
		"$out/$name.log" || true
}
run datapath --icount -- datapath_bench
run inv-icount --icount -- inv_bench icount
run libvsva --icount -- vsva-bench
run teardown --icount -- bench_teardown
run inv-smp -- inv_bench smp

# vsva and iommufd side by side: the perf kernel, built once on demand.
na() {
	log "iommufd: $*"
	echo "bench: vsva_over_iommufd_per_entry_batch64 = n/a (goal <= 1.0)" >"$out/iommufd-na.log"
}
if ((perf == 0)); then
	na "skipped (--no-perf): vsva_over_iommufd_per_entry_batch64 not measured"
elif [[ ! -x $VSVA_BUILD/vm-bin/iommufd_bench ]]; then
	na "no ${VSVA_BUILD#"$VSVA_TOP"/}/vm-bin/iommufd_bench (configured without the 6.12 source tree): not measured"
else
	if [[ ! -f $("$here/kernels.sh" path perf image) ]]; then
		log "building the perf kernel (6.12, IOMMUFD_TEST, no sanitizers; once, then cached):" \
			"both cores for several minutes; --no-perf skips this"
	fi
	if ! "$here/kernels.sh" perf; then
		na "the perf kernel did not build: not measured"
	else
		on_kernel=perf run iommufd --icount -- iommufd_bench
		grep -q '^bench: vsva_over_iommufd' "$out/iommufd.log" ||
			na "the perf-kernel run gave no figure (see $out/iommufd.log)"
	fi
fi

# Tables: "table: FILE COLUMNS..." -> FILE.dat
cat "$out"/*.log | sed -n 's/^table: //p' | while read -r file cols; do
	echo "$cols" >>"$out/$file.dat"
done
if command -v gnuplot >/dev/null && [[ -s $out/batch.dat && -s $out/occupancy.dat ]]; then
	gnuplot <<EOF || log "gnuplot failed: no plots"
set terminal png size 800,500
set grid
set key top right
set output "$out/batch.png"
set title "vsva: per-entry cost of a batch of ADDR 4K invalidations (stock, -icount)"
set xlabel "entries per batch"
set ylabel "ns per entry"
set logscale x 2
plot "$out/batch.dat" using 1:2 with linespoints title "total", \
     "$out/batch.dat" using 1:3 with linespoints title "UAPI layer", \
     "$out/batch.dat" using 1:4 with linespoints title "backend flush"
unset logscale x
set output "$out/occupancy.png"
set title "vsva: flushes that drop nothing against what the VMs have cached"
set xlabel "translations cached per VM"
set ylabel "ns per call"
set yrange [0:*]
plot "$out/occupancy.dat" using 1:2 with linespoints title "PASID-selective", \
     "$out/occupancy.dat" using 1:3 with linespoints title "domain-wide (another VM)"
EOF
fi

grep -h '^bench: ' "$out"/*.log | sort -u >"$out/figures.txt"
log "== headline figures (also in ${out#"$VSVA_TOP"/}/figures.txt)"
cat "$out/figures.txt"
exit
}
