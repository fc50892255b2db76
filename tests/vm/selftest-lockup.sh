#!/bin/sh
# Runs in the debug guest for tests/vm/selftest.sh (case lockup):
#   selftest-lockup.sh TEST_LOCKUP_KO
# Prints the watchdog thresholds every run keeps, lowers them for this guest
# only, then provokes a hung task, a soft lockup and an RCU stall with the
# kernel's lib/test_lockup.c (loaded by load-once: busybox insmod would run
# test_lockup's failing init twice).
ko=${1:?TEST_LOCKUP_KO}
p=/proc/sys/kernel
rcu=/sys/module/rcupdate/parameters/rcu_cpu_stall_timeout
show() {
	echo "lockup-$1: watchdog_thresh=$(cat $p/watchdog_thresh)" \
		"rcu_cpu_stall_timeout=$(cat $rcu)" \
		"hung_task_timeout_secs=$(cat $p/hung_task_timeout_secs)"
}
show defaults
# A hung task after 2 s (khungtaskd looks every 2 s), a soft lockup after
# 2 * 2 s (sampled every 0.8 s), an RCU stall after 3 s (the kernel's
# floor; a grace period must have started: the stall comes some seconds
# later).
echo 2 >$p/hung_task_timeout_secs
echo 2 >$p/watchdog_thresh
echo 3 >$rcu
show thresholds

# 6 s of uninterruptible sleep (schedule_timeout: real time).
load-once "$ko" 'state=D time_secs=6'

# Spin without preemption until the kernel has reported both the soft
# lockup and the RCU stall, then stop: test_lockup checks for a signal
# between its 1 s mdelay()s.  (mdelay's length under TCG depends on the
# boot's calibration: a "24 s" spin took 9.6 s to 28 s.)  At most 90 s.
load-once "$ko" 'disable_preempt=1 time_secs=1 iterations=90' &
pid=$!
t0=$(cut -d. -f1 /proc/uptime)
while kill -0 $pid 2>/dev/null; do
	k=$(dmesg)
	if echo "$k" | grep -q 'soft lockup - CPU#' &&
		echo "$k" | grep -Eq 'detected stalls? on|self-detected stall on CPU'; then
		echo "lockup-seen: soft lockup and RCU stall after" \
			"$(($(cut -d. -f1 /proc/uptime) - t0)) s"
		kill $pid
		break
	fi
	[ $(($(cut -d. -f1 /proc/uptime) - t0)) -ge 90 ] && break
	sleep 1
done
wait $pid
exit 0
