#!/bin/sh
# The in-VM part of scripts/main.sh (the README's main job), run by
# tests/vm/run with vsva.ko loaded:
#   1. what the module offers (GET_INFO);
#   2. vsva-vmm's scenario: bind, DMA, stale-until-invalidated, batching,
#      a page fault served, unbind;
#   3. a VMM killed with live objects (SIGKILL), and the teardown the kernel
#      did by itself, verified from debugfs.
# Exit 0 only when every step checked out.
summary=/sys/kernel/debug/vsva/summary

field() { sed -n "s/^$1 //p" "$summary"; }

echo "== 1. the module"
vsva-getinfo || exit 1

echo
echo "== 2. the reference VMM scenario"
vsva-vmm || exit 1

echo
echo "== 3. killing a VMM with live objects"
vsva-vmm --hold >/tmp/hold.log 2>&1 &
pid=$!
i=0
until grep -q '^holding:' /tmp/hold.log; do
	i=$((i + 1))
	if [ $i -gt 300 ] || ! kill -0 $pid 2>/dev/null; then
		cat /tmp/hold.log
		echo "FAIL: the holding VMM did not come up"
		exit 1
	fi
	sleep 0.1
done
grep '^holding:' /tmp/hold.log
echo "before the kill: contexts $(field contexts), PASIDs $(field pasids), pinned pages $(field pinned_pages)"
kill -9 $pid
wait $pid 2>/dev/null
echo "vsva-vmm (pid $pid) killed with SIGKILL"
c=$(field contexts) p=$(field pasids) n=$(field pinned_pages)
echo "after the kill:  contexts $c, PASIDs $p, pinned pages $n"
if [ "$c" != 0 ] || [ "$p" != 0 ] || [ "$n" != 0 ]; then
	echo "FAIL: the kernel did not tear the dead VM down"
	exit 1
fi
echo "teardown verified: the kernel unbound, freed and unpinned everything by itself"
