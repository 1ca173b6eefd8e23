#!/bin/sh
# Build the appliance and run the whole test suite (unit and integration
# tests, through ctest).
#
#   tools/test.sh             RelWithDebInfo build in build/
#   tools/test.sh --sanitize  AddressSanitizer + UndefinedBehaviorSanitizer
#                             build in build-asan/
#   tools/test.sh --tsan      ThreadSanitizer build in build-tsan/, running
#                             the tests that drive ecifd's worker threads
#
# Installs missing Debian packages first (tools/install-deps.sh). Tests that
# read public datasets take their folder from ECIF_DATA_DIR and are skipped
# when it is unset.
set -eu

cd "$(dirname "$0")/.."
tools/install-deps.sh

build=build
only=""
flags="-DCMAKE_BUILD_TYPE=RelWithDebInfo"
if [ "${1:-}" = "--sanitize" ]; then
	build=build-asan
	flags="-DCMAKE_BUILD_TYPE=Debug -DENABLE_ASAN=ON -DENABLE_UBSAN=ON"
	export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=0:detect_leaks=1}"
	export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
elif [ "${1:-}" = "--tsan" ]; then
	build=build-tsan
	flags="-DCMAKE_BUILD_TYPE=Debug -DENABLE_TSAN=ON -DBUILD_BENCH=OFF"
	only="test_(rpc|malformed|concurrency|corrections|live_adds|history|journal_lock|access_control|tls|metrics_endpoint|applications)"
	export TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=1 second_deadlock_stack=1 suppressions=$PWD/tests/tsan.supp}"
elif [ -n "${1:-}" ]; then
	echo "usage: tools/test.sh [--sanitize | --tsan]" >&2
	exit 2
fi

# shellcheck disable=SC2086
cmake -S . -B "$build" $flags
cmake --build "$build" -j"$(nproc)"
if [ -n "$only" ]; then
	ctest --test-dir "$build" --output-on-failure -j1 -R "$only"
else
	ctest --test-dir "$build" --output-on-failure -j1
fi
