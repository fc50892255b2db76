# shellcheck shell=bash
# Named test steps for the shell-driven tests (tests/install/, tests/packaging/).
#
#   . tests/lib/steps.sh
#   step_log=FILE      # where a step's output goes (required)
#   step_tail=N        # lines of a failing step's output to show (30)
#   step "name" command args...
#
# Prints "ok   name (N s)" or "FAIL name" followed by the tail of the output,
# and counts into $pass / $fail (set to 0 here).
pass=0 fail=0
step() { # name command...
	local name=$1 s
	s=$(date +%s)
	shift
	if "$@" >"$step_log" 2>&1; then
		pass=$((pass + 1))
		echo "ok   $name ($(($(date +%s) - s)) s)"
	else
		fail=$((fail + 1))
		echo "FAIL $name"
		sed 's/^/     /' "$step_log" | tail -n "${step_tail:-30}"
	fi
}
