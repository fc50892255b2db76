#!/bin/sh
# Runs inside the test VM (tests/nested/run puts it there): the patched
# QEMU boots the nested guest (Debian's stock kernel, intel_iommu=on,sm_on
# iommu.strict=1) with two virtio-blk disks behind intel-iommu (each in its
# own DMA domain of the guest: one vsva domain, two RID_PASID tables), and checks
# what came out.  Each check prints one line; the last lines are a gtest
# style summary that the harness counts.
#
#   in-vm.sh MODES MIB CHURN_KIB   (MODES: comma-separated, run in order)
#   MODE  plain    QEMU translates by itself (the baseline)
#         vsva     vsva=on: vsva translates the disk's DMA
#         check    vsva=on,vsva-check=on: and QEMU's walk checks every answer
#         control  check, then the negative control in the same guest: once
#                  the guest's checks are done, vsva's invalidations are
#                  turned off (the debugfs test hook bench_skip_inv_backend)
#                  and the guest does more I/O; QEMU's check must now see
#                  vsva's stale translations -- proof the oracle can fail
modes=${1:?MODES} mib=${2:-2} churn_kib=${3:-256}
# A guest that hangs (e.g. its disk stopped after DMA errors) is killed.
qemu_timeout=${VSVA_NESTED_QEMU_TIMEOUT:-600}
E=/vsva/extra
HOOK=/sys/kernel/debug/vsva/bench_skip_inv_backend
pass=0 fail=0 failed='' mode=''
check() { # NAME 0|1 DETAIL
	if [ "$2" = 0 ]; then
		pass=$((pass + 1))
		echo "nested-check ok $mode/$1 $3"
	else
		fail=$((fail + 1))
		failed="$failed $mode/$1"
		echo "nested-check FAIL $mode/$1 $3"
	fi
}
# 0 when the test holds, else 1: check NAME "$(t [ ... ])" DETAIL.
t() { if "$@"; then echo 0; else echo 1; fi; }
stat_of() { # KEY: from QEMU's vsva-stats line
	sed -n "s/.*vsva-stats .*\\b$1=\\([0-9]*\\).*/\\1/p" /tmp/qemu.err | head -n1
}
guest() { # the guest's console lines
	tr -d '\r' </tmp/qemu.out | grep -a '^nested:'
}
# The guest's console, its kernel's timestamps rewritten: the harness must
# not take the nested guest's reports for the test VM's own.
console() {
	tr -d '\r' </tmp/qemu.out | sed 's/^\[ *\([0-9]*\.[0-9]*\)\]/guest(\1)/'
}
uptime_s() { cut -d' ' -f1 /proc/uptime; }
# The data set as the test VM reads it from the disk image.
image_sha() {
	dd if=/tmp/disk.img bs=1M count="$mib" 2>/dev/null | sha256sum | cut -d' ' -f1
}

mkdir -p /tmp/fw
cp "$E"/*.bin /tmp/fw/

run_qemu() { # IOMMU-DEVICE CONTROL(0|1)
	rm -f /tmp/disk.img /tmp/disk2.img /tmp/serial.in
	dd if=/dev/zero of=/tmp/disk.img bs=1M count=0 seek=$((mib + 16)) 2>/dev/null
	dd if=/dev/zero of=/tmp/disk2.img bs=1M count=0 seek=4 2>/dev/null
	mkfifo /tmp/serial.in
	timeout "$qemu_timeout" "$E/qemu-system-x86_64" -accel tcg,tb-size=128 \
		-nodefaults -nographic -no-reboot -M q35 -m 128M -smp 1 \
		-L /tmp/fw -serial stdio -monitor none -device "$1" \
		-drive if=none,id=d0,file=/tmp/disk.img,format=raw \
		-device virtio-blk-pci,drive=d0,iommu_platform=on,disable-legacy=on,addr=3 \
		-drive if=none,id=d1,file=/tmp/disk2.img,format=raw \
		-device virtio-blk-pci,drive=d1,iommu_platform=on,disable-legacy=on,addr=4 \
		-kernel "$E/vmlinuz" -initrd "$E/initrd.gz" \
		-append "console=ttyS0 intel_iommu=on,sm_on iommu.strict=1 panic=-1 nested.mib=$mib nested.churn_kib=$churn_kib nested.control=$2" \
		</tmp/serial.in >/tmp/qemu.out 2>/tmp/qemu.err &
	qpid=$!
	# The writer end of the guest's console input stays open until QEMU
	# ends (a closed fifo would be end-of-file for the serial port).
	exec 3>/tmp/serial.in
	pre_control='' image_sha=''
	if [ "$2" = 1 ]; then
		while kill -0 $qpid 2>/dev/null && ! guest | grep -q '^nested: control-wait'; do
			sleep 1
		done
		if kill -0 $qpid 2>/dev/null; then
			# Disagreements QEMU printed before the control (must be
			# none), and the data set as the guest left it: the
			# control's stale translations may send the disk's own
			# DMA (request headers included) anywhere.
			pre_control=$(grep -ac '^.*vsva-check:' /tmp/qemu.err)
			image_sha=$(image_sha)
			echo 1 >$HOOK
			echo go >&3
			# Stale translations make the guest's disk fault and
			# retry for as long as it lets it: once QEMU's check has
			# seen them (or after 120 s), a few more seconds, then
			# QEMU is stopped (SIGTERM: it still prints its counters;
			# busybox's timeout runs QEMU as $qpid, coreutils' passes
			# the signal on).
			i=0
			while kill -0 $qpid 2>/dev/null && [ $i -lt 120 ] &&
				[ "$(grep -ac '^.*vsva-check:' /tmp/qemu.err)" = "$pre_control" ]; do
				sleep 1
				i=$((i + 1))
			done
			sleep 5
			kill -TERM $qpid 2>/dev/null
		fi
	fi
	wait $qpid
	rc=$?
	exec 3>&-
	[ "$2" = 1 ] || image_sha=$(image_sha)
	[ "$2" = 1 ] && echo 0 >$HOOK
	return 0
}

run_mode() {
	mode=$1
	iommu=intel-iommu,x-scalable-mode=on,x-flts=on
	vsva=vsva=on,vsva-lib=$E/libvsva-qemu.so.0
	control=0
	case $mode in
	plain) ;;
	vsva) iommu=$iommu,$vsva ;;
	check) iommu=$iommu,$vsva,vsva-check=on ;;
	control)
		iommu=$iommu,$vsva,vsva-check=on
		control=1
		[ -w $HOOK ] || { check hook 1 "no $HOOK (a module without test hooks)"; return; }
		;;
	*) check mode 1 "unknown mode $mode"; return ;;
	esac
	t0=$(uptime_s)
	run_qemu "$iommu" $control
	t1=$(uptime_s)
	# What the guest's VT-d driver said, then its own results.
	console | grep -a 'DMAR' | head -n 12
	guest
	# What the guest said after the control began (it may have crashed:
	# stale translations send its DMA to the wrong pages).
	[ $control = 1 ] && console | sed -n '/control-wait/,$p' | sed 1d | tail -n 6
	grep -a 'vsva' /tmp/qemu.err | head -n 40
	if [ $rc != 0 ]; then
		echo "--- QEMU exited $rc; the end of its output:"
		console | tail -n 30
		tail -n 20 /tmp/qemu.err
	fi
	echo "nested-time mode=$mode qemu_seconds=$(echo "$t0 $t1" | awk '{ print $2 - $1 }')"

	check qemu-exit "$(t [ $rc = 0 ])" "rc=$rc"
	# The guest's own checks (before the control, when there is one).
	if [ $control = 1 ]; then
		res=$(guest | sed -n 's/^nested: \([0-9]*\) passed before the control, \([0-9]*\) failed$/pass=\1 fail=\2/p')
	else
		res=$(guest | sed -n 's/^nested: done //p' | tail -n1)
	fi
	gpass=$(echo "$res" | sed -n 's/.*pass=\([0-9]*\).*/\1/p')
	gfail=$(echo "$res" | sed -n 's/.*fail=\([0-9]*\).*/\1/p')
	check guest-io "$(t [ "${gfail:-1}" = 0 -a "${gpass:-0}" -ge 8 ])" "${res:-no result}"
	# No guest result: show how its console ended; the counters below
	# would only repeat the failure.
	if [ -z "$res" ]; then
		echo "--- the guest's console ended with:"
		console | tail -n 60
		return
	fi
	# The data the guest wrote, read from the image by the test VM.
	want=$(guest | sed -n 's/^nested: dataset mib=[0-9]* sha256=\([0-9a-f]*\).*/\1/p')
	check image-sha256 "$(t [ -n "$want" -a "$want" = "$image_sha" ])" "guest=$want image=$image_sha"
	[ "$mode" = plain ] && return

	grep -q 'vsva: 00:03.0 translated by vsva' /tmp/qemu.err &&
		grep -q 'vsva: 00:04.0 translated by vsva' /tmp/qemu.err
	check disks-on-vsva "$?" "$(grep -c 'translated by vsva' /tmp/qemu.err) devices"
	v=$(stat_of translations)
	check translations "$(t [ "${v:-0}" -ge 1000 ])" "translations=$v"
	v=$(stat_of mapped_mib)
	check stage2-mapped "$(t [ "${v:-0}" -ge 100 ])" "mapped_mib=$v"
	v=$(stat_of binds)
	check rid-pasid-bound "$(t [ "${v:-0}" -ge 1 ])" "binds=$v"
	v=$(stat_of invalidations)
	w=$(stat_of waits)
	check invalidations "$(t [ "${v:-0}" -ge 100 -a "${w:-0}" -ge 100 ])" "invalidations=$v waits=$w"
	for k in fallbacks desc_errors map_errors host_errors; do
		v=$(stat_of $k)
		check "$k-zero" "$(t [ "$v" = 0 ])" "$k=$v"
	done
	[ "$mode" = vsva ] || {
		c=$(stat_of checked)
		check checked-all "$(t [ -n "$c" -a "$c" = "$(stat_of translations)" ])" "checked=$c"
	}
	if [ $control = 1 ]; then
		d=$(stat_of disagreements)
		check no-disagreement-before-control "$(t [ "$pre_control" = 0 ])" "vsva-check lines before the control: ${pre_control:-none}"
		check control-detected "$(t [ "${d:-0}" -gt 0 ])" "disagreements=${d:-none}"
	else
		# Faults are expected only once invalidations are off.
		v=$(stat_of faults)
		check faults-zero "$(t [ "$v" = 0 ])" "faults=$v"
		[ "$mode" = check ] && {
			d=$(stat_of disagreements)
			check no-disagreement "$(t [ "$d" = 0 ])" "disagreements=$d"
		}
	fi
}

for m in $(echo "$modes" | tr , ' '); do
	echo "nested-mode $m"
	run_mode "$m"
done
echo "[  PASSED  ] $pass tests."
[ $fail = 0 ] || echo "[  FAILED  ] $fail tests, listed below:$failed"
exit $((fail != 0))
