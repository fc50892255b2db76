#!/usr/bin/env bash
# Fuzz /dev/vsva in the test VM for a while (tests/fuzz/, vsva-fuzz).
#
#   scripts/fuzz.sh --minutes N [--kernel debug|stock] [--seed S]
#                   [--threads 1-4] [--interval SECONDS] [--save-corpus]
#                   [--keep-going]
#   scripts/fuzz.sh --replay FILE [--repeat N] [--kernel debug|stock]
#
# Boots the kernel (debug by default: KASAN, UBSAN, lockdep, kmemleak and,
# when the kernel has it, KCOV for coverage), runs vsva-fuzz for N minutes
# and prints its progress as it goes, one line per interval (30 s):
#   fuzz: t=60s calls=... calls/s=... execs=... edges=... vsva-edges=... corpus=...
# then every kernel report seen on the console and where the reproducers
# went: the programs that ran last before a report are saved to
# build/fuzz/<time>/repro-K.prog (replay one with --replay).  --save-corpus
# saves the inputs that found new edges to build/fuzz/<time>/corpus/ (copy
# the good ones to tests/fuzz/corpus/).  Exit status: non-zero on any
# report, failed harness check or a fuzzer failure.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/lib.sh
. "$here/lib.sh"
cd "$VSVA_TOP"

usage() {
	sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' >&2
	exit 2
}

minutes='' kernel=debug seed='' threads='' interval=30 save_corpus=0 replay='' repeat=1
keep_going=0
while (($#)); do
	case $1 in
	--minutes) minutes=${2:?}; shift 2 ;;
	--kernel) kernel=${2:?}; shift 2 ;;
	--seed) seed=${2:?}; shift 2 ;;
	--threads) threads=${2:?}; shift 2 ;;
	--interval) interval=${2:?}; shift 2 ;;
	--save-corpus) save_corpus=1; shift ;;
	--keep-going) keep_going=1; shift ;;
	--replay) replay=${2:?}; shift 2 ;;
	--repeat) repeat=${2:?}; shift 2 ;;
	*) usage ;;
	esac
done
[[ -n $minutes || -n $replay ]] || usage
[[ -z $minutes || $minutes =~ ^[0-9]+$ ]] || die "--minutes takes whole minutes"

if [[ ! -f $VSVA_BUILD/build.ninja ]]; then
	cmake -S "$VSVA_TOP" -B "$VSVA_BUILD" -G Ninja >/dev/null
fi
cmake --build "$VSVA_BUILD" >/dev/null || die "build failed (cmake --build $VSVA_BUILD)"

out=$VSVA_BUILD/fuzz/$(date -u +%Y%m%d-%H%M%S)
mkdir -p "$out"
args=()
if [[ -n $replay ]]; then
	[[ -f $replay ]] || die "no file $replay"
	# The runner copies a host script into the VM: it writes the program
	# and replays it.
	script=$out/replay.sh
	{
		echo '#!/bin/sh'
		echo "cat >/tmp/repro.prog <<'VSVA_FUZZ_EOF'"
		cat "$replay"
		echo 'VSVA_FUZZ_EOF'
		echo "exec vsva-fuzz --replay /tmp/repro.prog --repeat $repeat"
	} >"$script"
	chmod +x "$script"
	cmd=("$script")
	timeout=$((600 + 10 * repeat))
else
	args=(--seconds $((minutes * 60)) --interval "$interval")
	[[ -n $seed ]] && args+=(--seed "$seed")
	[[ -n $threads ]] && args+=(--threads "$threads")
	((save_corpus)) && args+=(--print-corpus)
	((keep_going)) && args+=(--keep-going)
	cmd=(vsva-fuzz "${args[@]}")
	# Boot, kmemleak scans, a slow corpus print and a margin.
	timeout=$((minutes * 60 + 900))
fi

log "fuzzing on the $kernel kernel: ${cmd[*]} (VM timeout ${timeout}s; output in ${out#"$VSVA_TOP"/})"
# Show the fuzzer's lines, the harness' verdict and kernel reports as they
# come (from the console log, which the runner writes as it goes).
pat='^(vsva-fuzz|coverage|fuzz:|@@fuzz-repro)|BUG: |WARNING: |KASAN|UBSAN|Oops|general protection|circular locking|rcu.* stall|soft lockup'
set +e
"$VSVA_TOP/tests/vm/run" --kernel "$kernel" --timeout "$timeout" --quiet -- "${cmd[@]}" \
	>"$out/run.txt" 2>&1 &
runpid=$!
console=''
while kill -0 "$runpid" 2>/dev/null && [[ -z $console ]]; do
	sleep 1
	console=$(sed -n 's/.*(log: \(build\/vm-logs\/[^)]*\)).*/\1/p' "$out/run.txt" | head -n 1)
done
if [[ -n $console ]]; then
	tail -n +1 -f --pid="$runpid" "$VSVA_TOP/$console" 2>/dev/null | sed -u 's/\r$//' |
		grep --line-buffered -E "$pat" | grep --line-buffered -v '^fuzz: kmsg:'
fi
wait "$runpid"
rc=$?
set -e
grep -E '^(suite|check|vm-result)' "$out/run.txt" || true

if [[ -n $console && -f $VSVA_TOP/$console ]]; then
	cp "$VSVA_TOP/$console" "$out/console.log"
	# The result channel: the fuzzer's output without kernel lines in it.
	cp "$VSVA_TOP/${console%.log}.results" "$out/fuzz.txt" 2>/dev/null || true
fi
touch "$out/fuzz.txt"

# Reproducers and corpus entries the fuzzer printed.
awk -v dir="$out" '
	/^@@fuzz-repro-begin / { f = dir "/repro-" $2 ".prog"; next }
	/^@@fuzz-repro-end/ { if (f) close(f); f = ""; next }
	/^@@fuzz-corpus-begin / { system("mkdir -p " dir "/corpus"); f = dir "/corpus/" $2 ".prog"; next }
	/^@@fuzz-corpus-end/ { if (f) close(f); f = ""; next }
	f { sub(/\r$/, ""); print > f }
' "$out/fuzz.txt"

echo "== summary"
grep -E '^fuzz: (done:|replayed /)' "$out/run.txt" || echo "fuzz: no 'done' line (stopped early?)"
nrep=0
if [[ -f $out/console.log ]]; then
	grep -E '^\[ *[0-9]+\.[0-9]+\] .*(BUG: |kernel BUG at|WARNING: |KASAN|UBSAN|possible circular locking|possible recursive locking|inconsistent lock state|bad unlock balance|INFO: |Oops|Kernel panic|general protection fault|rcu.* stall|blocked for more than|soft lockup|kmemleak: [0-9]+ new suspected)' \
		"$out/console.log" >"$out/reports.txt" || true
	nrep=$(wc -l <"$out/reports.txt")
fi
echo "kernel report lines: $nrep"
((nrep)) && head -n 20 "$out/reports.txt"
if compgen -G "$out/repro-*.prog" >/dev/null; then
	echo "reproducers (replay: scripts/fuzz.sh --replay FILE):"
	ls "$out"/repro-*.prog
fi
[[ -d $out/corpus ]] && echo "new corpus entries: $(find "$out/corpus" -name '*.prog' | wc -l) in ${out#"$VSVA_TOP"/}/corpus"
grep '^vm-result' "$out/run.txt" || echo "vm-result: none"
exit "$rc"
