#!/bin/sh
# Build the libFuzzer targets with clang, ASan and UBSan, and run each one
# for a fixed time from its committed seed corpus in tests/fuzz/corpus.
# Each target works on a temporary copy of its corpus, so the committed
# corpus never grows. Exits 1 when any target crashes, leaks, times out
# or reports a violated contract, and prints where the input went.
#
# usage: tests/fuzz/run-fuzzers.sh [-t SECONDS] [-b BUILD_DIR] [TARGET...]
#
#   -t SECONDS    run time of each target (default 60)
#   -b BUILD_DIR  clang build directory (default build-fuzz)
#   TARGET        names such as fuzz_csv (default: every target)
#
# Crashing inputs are kept in BUILD_DIR/fuzz-crashes/TARGET/. Reproduce
# one with: BUILD_DIR/tests/fuzz/TARGET FILE
set -eu

seconds=60
build=build-fuzz
while getopts t:b: opt; do
	case "$opt" in
	t) seconds=$OPTARG ;;
	b) build=$OPTARG ;;
	*)
		echo "usage: tests/fuzz/run-fuzzers.sh [-t SECONDS]" \
			"[-b BUILD_DIR] [TARGET...]" >&2
		exit 2
		;;
	esac
done
shift $((OPTIND - 1))

cd "$(dirname "$0")/../.."
corpus_root=tests/fuzz/corpus
if [ $# -gt 0 ]; then
	targets="$*"
else
	targets=$(cd "$corpus_root" && ls | sed 's/^/fuzz_/')
fi

cmake -S . -B "$build" -DCMAKE_C_COMPILER=clang \
	-DCMAKE_BUILD_TYPE=RelWithDebInfo -DENABLE_ASAN=ON -DENABLE_UBSAN=ON \
	-DBUILD_FUZZERS=ON -DBUILD_BENCH=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" --target fuzzers

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

failed=""
for target in $targets; do
	name=${target#fuzz_}
	if [ ! -d "$corpus_root/$name" ]; then
		echo "run-fuzzers: no corpus $corpus_root/$name for $target" >&2
		exit 2
	fi
	crashes="$build/fuzz-crashes/$target"
	mkdir -p "$crashes" "$work/$name"
	cp "$corpus_root/$name"/* "$work/$name/"
	log="$work/$target.log"

	if "$build/tests/fuzz/$target" "$work/$name" \
		-max_total_time="$seconds" -timeout=10 -print_final_stats=1 \
		-artifact_prefix="$crashes/" >"$log" 2>&1; then
		runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
		rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
		echo "$target: ok, $runs runs in ${seconds} s, $rate exec/s"
	else
		echo "$target: FAILED"
		grep -E 'contract violated|ERROR|SUMMARY|runtime error' "$log" |
			head -5
		grep -E 'Test unit written to' "$log" || true
		failed="$failed $target"
	fi
done

if [ -n "$failed" ]; then
	echo "run-fuzzers: failed:$failed; inputs in $build/fuzz-crashes/" >&2
	exit 1
fi
echo "run-fuzzers: every target ran without a failure"
