#!/usr/bin/env bash
# Self-test of the VM harness: it must fail runs that hide a kernel problem.
#
#   tests/vm/selftest.sh [CASE...]     (default: every case)
#
# Each case runs tests/vm/run and asserts the verdict: the module built with
# VSVA_TEST_LEAK=1 must fail on kmemleak, with VSVA_TEST_WARN=1 on the
# WARNING (debug and stock kernels), a failing command, a hung guest and a
# kernel panic must fail, a soft lockup, an RCU stall and a
# hung task on the debug kernel must each fail the run (provoked with the
# kernel's own lib/test_lockup.c, built out of tree against the debug
# kernel), and a clean run of vm_basic on the debug kernel must pass (with
# its two online CPUs).  Needs build/vm-bin/vm_basic (cmake --build build).
# Cases: lockup leak_warn clean warn_stock timeout panic cmd_fail (the
# default), leak, warn (leak_warn's defects one per guest).
# One line per case, then
#   selftest: N passed, N failed
set -uo pipefail
# Read to the end before running: editing this file cannot derail a run.
{
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/lib.sh
. "$here/../../scripts/lib.sh"

run=$here/run
jobs=${VSVA_SELFTEST_JOBS:-2}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# expect NAME want-exit(0|1) REGEX... -- RUN-ARGS...
# Every REGEX must match a line of the run's output.  Prints one verdict line.
expect() {
	local name=$1 want=$2 rc=0 why='' re out=$tmp/$1.run
	shift 2
	local res=()
	while [[ $1 != -- ]]; do
		res+=("$1")
		shift
	done
	shift
	"$run" --quiet "$@" >"$out" 2>&1 || rc=$?
	if ((want == 0 && rc != 0)); then
		why="run failed (exit $rc), expected it to pass"
	elif ((want != 0 && rc == 0)); then
		why="run passed, expected the harness to fail it"
	fi
	for re in "${res[@]}"; do
		[[ -n $why ]] && break
		grep -Eq -- "$re" "$out" || why="no line matches /$re/"
	done
	if [[ -z $why ]]; then
		echo "selftest $name: ok"
	else
		echo "selftest $name: FAILED: $why; output:"
		sed 's/^/    /' "$out" | tail -n 40
	fi
}

suite_ok='^suite vm_basic on [a-z]+ \(.*\): [1-9][0-9]* passed, 0 failed'

case_leak() {
	expect leak-debug 1 "$suite_ok" \
		'^check kmemleak on debug: FAILED: kmemleak reported [1-9]' -- \
		--kernel debug --module-opts VSVA_TEST_LEAK=1 --suite vm_basic
}
case_warn() {
	expect warn-debug 1 "$suite_ok" \
		'^check kernel-log on debug: FAILED: kernel reported .*WARNING.*vsva_init' \
		'^check taint on debug: FAILED: .*W \(warning\)' -- \
		--kernel debug --module-opts VSVA_TEST_WARN=1 --suite vm_basic
}
# Both defects in one debug guest (what CI runs: one debug boot fewer).
# Each check still has to fail for its own reason, and the harness line
# must count all three (kernel-log, kmemleak, taint), so each failed check
# alone would fail the run.
case_leak_warn() {
	expect leak+warn-debug 1 "$suite_ok" \
		'^check kmemleak on debug: FAILED: kmemleak reported [1-9]' \
		'^check kernel-log on debug: FAILED: kernel reported .*WARNING.*vsva_init' \
		'^check taint on debug: FAILED: .*W \(warning\)' \
		'^suite harness on debug \(.*\): [0-9]+ passed, 3 failed' -- \
		--kernel debug --module-opts 'VSVA_TEST_LEAK=1 VSVA_TEST_WARN=1' --suite vm_basic
}
case_warn_stock() {
	expect warn-stock 1 "$suite_ok" \
		'^check kernel-log on stock: FAILED: kernel reported .*WARNING' -- \
		--kernel stock --module-opts VSVA_TEST_WARN=1 --suite vm_basic
}
case_cmd_fail() {
	expect cmd-fail 1 '^suite false on stock .*: 0 passed, 1 failed' \
		'^check rmmod on stock: ok' -- --kernel stock -- false
}
# The guest sleeps in the command (it got there: the suite never finished)
# until the runner kills it.  60 s: a loaded host took 26 s to unpack the
# initramfs and boot the stock kernel; the case takes no job slot, so its
# wait costs nothing while the other cases run.
case_timeout() {
	expect timeout 1 '^check finished on stock: FAILED: timed out' \
		'^suite sleep: did not finish' -- \
		--kernel stock --timeout 60 -- sleep 600
}
case_panic() {
	expect panic-stock 1 '^check finished on stock: FAILED: the guest stopped' \
		'^check kernel-log on stock: FAILED: kernel reported .*panic' -- \
		--kernel stock --timeout 300 -- sh -c 'echo c >/proc/sysrq-trigger'
}
case_clean() {
	expect clean-debug 0 "$suite_ok" '^check kmemleak on debug: ok' \
		'^check kernel-log on debug: ok' '^check cpus on debug: ok' \
		'^debug: 2 online CPU' -- --kernel debug --suite vm_basic
}

# lib/test_lockup.c of the debug kernel's source, built as a module for it,
# and load-once (one finit_module(): busybox insmod retries a failing init
# with init_module(), and test_lockup's init always fails, so every lockup
# ran twice).
test_lockup_ko() {
	local kdir d=$VSVA_BUILD/vm-tools/test_lockup
	kdir=$("$VSVA_TOP/scripts/kernels.sh" path debug kdir) || return 1
	mkdir -p "$d"
	cp "$kdir/source/lib/test_lockup.c" "$d/"
	echo 'obj-m := test_lockup.o' >"$d/Kbuild"
	make -s -C "$kdir" M="$d" modules >"$d/build.log" 2>&1 || {
		cat "$d/build.log"
		return 1
	}
	cc -static -O2 -Wall -Wextra -Werror -o "$d/load-once" "$here/load-once.c" || return 1
	echo "$d/test_lockup.ko"
}
case_lockup() {
	local ko
	ko=$(test_lockup_ko) || {
		echo "selftest lockup-debug: FAILED: cannot build test_lockup.ko: $ko"
		return
	}
	# tests/vm/selftest-lockup.sh in the guest: first the defaults every
	# other run keeps (tests/vm/run: nothing is raised), then the detectors
	# on a short fuse for this guest only, as vm_control_stall does (hung
	# task 2 s, soft lockup 4 s, RCU stall 3 s), 6 s of uninterruptible
	# sleep, then a spin without preemption that stops once both the soft
	# lockup and the RCU stall have been reported (about 10 s).  With the
	# defaults (20 s, 21 s, 120 s) it took a 75 s spin, which busybox insmod
	# ran twice: about 200 s of guest time.  A hard lockup (disable_irq=1)
	# is not provoked.
	expect lockup-debug 1 \
		'^lockup-defaults: watchdog_thresh=10 rcu_cpu_stall_timeout=21 hung_task_timeout_secs=120$' \
		'^lockup-thresholds: watchdog_thresh=2 rcu_cpu_stall_timeout=3 hung_task_timeout_secs=2$' \
		'^check kernel-log on debug: FAILED: kernel reported .*hung task' \
		'^check kernel-log on debug: FAILED: kernel reported .*soft lockup' \
		'^check kernel-log on debug: FAILED: kernel reported .*RCU stall' \
		'^lockup-seen: soft lockup and RCU stall after' -- \
		--kernel debug --timeout 600 --add "$ko" --add "${ko%/*}/load-once" -- \
		"$here/selftest-lockup.sh" /vsva/extra/test_lockup.ko
}

cases=("$@")
# Longest first, so that two job slots finish together.  leak and warn are
# also cases of their own (one defect per guest), for a closer look.
((${#cases[@]})) || cases=(lockup leak_warn clean warn_stock timeout panic cmd_fail)
for c in "${cases[@]}"; do
	declare -F "case_$c" >/dev/null || die "unknown case $c"
done
run_case() {
	local t
	t=$(date +%s)
	"case_$1" >"$tmp/$1.verdict" 2>&1
	echo "$1 $(($(date +%s) - t)) s" >"$tmp/$1.secs"
}
# The cases are independent VMs: run up to $jobs at a time.  The timeout
# case takes no slot: after its boot its guest only sleeps (it waits for
# the runner's kill), so it runs beside the others.
tpid=''
for c in "${cases[@]}"; do
	if [[ $c == timeout ]]; then
		run_case "$c" &
		tpid=$!
	fi
done
slots_used() {
	local p n=0
	for p in $(jobs -rp); do
		[[ $p == "$tpid" ]] || n=$((n + 1))
	done
	echo "$n"
}
for c in "${cases[@]}"; do
	[[ $c == timeout ]] && continue
	while (($(slots_used) >= jobs)); do
		wait -n
	done
	run_case "$c" &
done
wait
passed=0 failed=0 times=''
for c in "${cases[@]}"; do
	cat "$tmp/$c.verdict"
	times+=" $(cat "$tmp/$c.secs");"
	if grep -q '^selftest [^ ]*: ok$' "$tmp/$c.verdict"; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
	fi
done
echo "selftest case times:$times"
echo "selftest: $passed passed, $failed failed"
((failed == 0))
exit
}
