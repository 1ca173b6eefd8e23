#!/bin/sh
# Febrl 4 accuracy and latency benchmark.
#
# Builds the Release binaries and imports Febrl dataset4a.csv through
# tools/mappings/febrl.map into a temporary snapshot. ecifd serves it on a
# loopback port while resolve_bench sends it every record of
# dataset4b.csv. The script then stops ecifd and prints the figures and
# the machine they were measured on.
#
# usage: bench/run-febrl.sh [FEBRL_DIR] [-- RESOLVE_BENCH_OPTIONS...]
#
# FEBRL_DIR contains dataset4a.csv and dataset4b.csv. Without it the script
# uses $ECIF_DATA_DIR/febrl when ECIF_DATA_DIR is set, else the copy
# bundled in bench/data/febrl4. Options after -- go to resolve_bench, for
# example -- --rounds 10 --json /tmp/febrl.json.
#
# Environment: ECIF_BENCH_BUILD_DIR (default build-bench in the
# repository), ECIF_BENCH_ROUNDS (default 5).
set -eu

repo=$(cd "$(dirname "$0")/.." && pwd)
build=${ECIF_BENCH_BUILD_DIR:-$repo/build-bench}
rounds=${ECIF_BENCH_ROUNDS:-5}
mapping=$repo/tools/mappings/febrl.map

data=""
if [ $# -gt 0 ] && [ "$1" != "--" ]; then
	data=$1
	shift
fi
if [ $# -gt 0 ] && [ "$1" = "--" ]; then
	shift
fi
if [ -z "$data" ]; then
	if [ -n "${ECIF_DATA_DIR:-}" ]; then
		data=$ECIF_DATA_DIR/febrl
	else
		data=$repo/bench/data/febrl4
	fi
fi
for f in dataset4a.csv dataset4b.csv; do
	if [ ! -r "$data/$f" ]; then
		echo "run-febrl.sh: $data/$f not found; pass the folder holding" \
			"dataset4a.csv and dataset4b.csv, or set ECIF_DATA_DIR" >&2
		exit 2
	fi
done

echo "== build ($build, Release)"
cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=Release -DBUILD_BENCH=ON \
	>/dev/null
cmake --build "$build" -j2 --target ecifctl ecifd resolve_bench >/dev/null

tmp=$(mktemp -d)
ecifd_pid=""
cleanup() {
	if [ -n "$ecifd_pid" ]; then
		kill "$ecifd_pid" 2>/dev/null || true
		wait "$ecifd_pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Data rows: lines with a record id, which skips the header and does not
# depend on a final newline (dataset4a.csv has none).
rows() {
	grep -c '^rec-' "$1"
}

echo "== import $data/dataset4a.csv ($(rows "$data/dataset4a.csv") records)"
"$build/tools/ecifctl" import -q -o "$tmp/febrl4a.snapshot" \
	-m "$mapping" "$data/dataset4a.csv"

# Created first: the wait loop below may read it before the shell
# that starts ecifd has opened it.
: >"$tmp/ecifd.out"
"$build/rpc/ecifd" --snapshot "$tmp/febrl4a.snapshot" \
	--listen 127.0.0.1:0 >"$tmp/ecifd.out" 2>"$tmp/ecifd.log" &
ecifd_pid=$!

# ecifd prints "ecifd: serving on HOST:PORT" once it accepts calls.
server=""
tries=0
while [ -z "$server" ] && [ $tries -lt 100 ]; do
	if ! kill -0 "$ecifd_pid" 2>/dev/null; then
		echo "run-febrl.sh: ecifd exited before serving; its log:" >&2
		cat "$tmp/ecifd.log" >&2
		exit 1
	fi
	server=$(sed -n 's/^ecifd: serving on //p' "$tmp/ecifd.out")
	[ -n "$server" ] || sleep 0.1
	tries=$((tries + 1))
done
if [ -z "$server" ]; then
	echo "run-febrl.sh: ecifd did not start serving within 10 s" >&2
	exit 1
fi

echo "== resolve_bench on $data/dataset4b.csv" \
	"($(rows "$data/dataset4b.csv") queries), ecifd at $server"
status=0
"$build/bench/resolve_bench" --server "$server" \
	--queries "$data/dataset4b.csv" --mapping "$mapping" --truth febrl \
	--rounds "$rounds" "$@" || status=$?

kill "$ecifd_pid"
wait "$ecifd_pid" || true
ecifd_pid=""

echo "== machine"
echo "date:    $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "nproc:   $(nproc)"
echo "cpu:     $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo |
	head -n 1)"
echo "kernel:  $(uname -r)"
echo "debian:  $(cat /etc/debian_version 2>/dev/null || echo unknown)"
# The build used the working tree, so report changes not yet committed.
if commit=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null); then
	if ! git -C "$repo" diff --quiet HEAD --; then
		commit="$commit, with uncommitted changes"
	fi
else
	commit="unknown (not a git checkout)"
fi
echo "commit:  $commit"
exit $status
