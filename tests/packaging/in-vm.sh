#!/bin/sh
# Runs inside the test VM (tests/packaging/run.sh): the module loaded is the
# one DKMS built; the tree of the unpacked .debs, systemd-udevd and udevadm
# are in the initramfs root.  Prints "pkg-ok NAME" / "pkg-FAIL NAME" per
# check (run.sh counts those).
#   in-vm.sh BUILD_ID        (the GNU build ID of the DKMS-built vsva.ko)
export PATH="/usr/sbin:/usr/bin:$PATH"
want=$1
pass=0 fail=0
check() { # name command...
	n=$1
	shift
	if "$@"; then
		echo "pkg-ok   $n"
		pass=$((pass + 1))
	else
		echo "pkg-FAIL $n"
		fail=$((fail + 1))
	fi
}
# The loaded module's build-ID note (type 3, "GNU", then the ID).
have=$(od -An -tx1 /sys/module/vsva/notes/.note.gnu.build-id | tr -d ' \n')
echo "loaded vsva build-id note $have; DKMS-built build ID $want"
check "the loaded vsva.ko is the DKMS-built one (build ID)" \
	sh -c "[ -n '$want' ] && case '$have' in *'$want') true ;; *) false ;; esac"

before=$(stat -c '%a %G' /dev/vsva)
echo "/dev/vsva before udev: $before"
mkdir -p /run/udev
/lib/systemd/systemd-udevd --daemon --resolve-names=early
udevadm trigger --action=add --subsystem-match=misc --sysname-match=vsva
udevadm settle --timeout=30
after=$(stat -c '%a %G' /dev/vsva)
echo "/dev/vsva after udev: $after"
udevadm info --query=all --name=/dev/vsva | sed 's/^/  /'
check "udev applied 60-vsva.rules: /dev/vsva 660 kvm (was $before)" \
	[ "$before" = "660 root" -a "$after" = "660 kvm" ]
udevadm control --exit 2>/dev/null

kvm=$(awk -F: '$1 == "kvm" { print $3 }' /etc/group)
out=$(open_as 1000 1000,"$kvm" /dev/vsva)
echo "user 1000 (groups vmm,kvm): $out"
check "a user in group kvm opens /dev/vsva" [ "$out" = "open ok" ]
out=$(open_as 1001 1001 /dev/vsva)
echo "user 1001 (group other): $out"
check "a user not in group kvm is refused with EACCES" [ "$out" = "open errno=EACCES" ]

check "installed vsva info" sh -c '/usr/bin/vsva info >/tmp/info 2>&1'
cat /tmp/info
check "installed vsva info as uid 1000 in group kvm" \
	sh -c "open_as 1000 1000,$kvm /dev/vsva /usr/bin/vsva info >/tmp/info2 2>&1"
sed -n '1,3p' /tmp/info2
# README's quick start: a VMM user in group kvm holds /dev/vsva open, root's
# vsva stat shows its context, vsva topo and the completion are installed.
open_as 1000 1000,"$kvm" /dev/vsva /bin/sh -c 'exec 3<>/dev/vsva; sleep 5' >/dev/null &
sleep 2
check "installed vsva stat shows the context of the kvm user (uid 1000)" \
	sh -c '/usr/bin/vsva stat >/tmp/stat 2>&1 && grep -q "^ctx [0-9]*  pid [0-9]* (.*) uid 1000$" /tmp/stat'
cat /tmp/stat
wait
check "installed vsva topo --json" sh -c '/usr/bin/vsva topo --json >/tmp/topo 2>&1 && grep -q "\"endpoints\"" /tmp/topo'
check "installed bash completion for vsva" [ -s /usr/share/bash-completion/completions/vsva ]
check "installed library: client (pkg-config build) --in-vm" /usr/libexec/vsva-test/client_pc --in-vm
check "installed library: client (find_package build) --in-vm" /usr/libexec/vsva-test/client_shared --in-vm
check "installed libvsva-qemu: C client" /usr/libexec/vsva-test/qemu_client
echo "in-vm checks: $pass ok, $fail failing"
[ "$fail" = 0 ]
