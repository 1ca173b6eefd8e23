#!/bin/sh
# Plot a loadgen sweep: latency p50 and p99 against offered load.
#
# usage: bench/plot.sh SWEEP.json [OUT.png]
#
# SWEEP.json is the --json output of `loadgen --sweep R1,R2,...`. Every
# open-loop run in it becomes one point per curve: x is the requested
# rate in calls per second, y the p50 and p99 latency in milliseconds of
# all methods together, on a log scale. OUT.png defaults to SWEEP.png.
# Needs gnuplot (Debian package gnuplot-nox) and /usr/bin/python3, which
# extracts the points.
set -eu

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
	echo "usage: bench/plot.sh SWEEP.json [OUT.png]" >&2
	exit 2
fi
json=$1
out=${2:-${json%.json}.png}
if [ ! -r "$json" ]; then
	echo "plot.sh: cannot read $json" >&2
	exit 2
fi
if ! command -v gnuplot >/dev/null 2>&1; then
	echo "plot.sh: gnuplot not found; install gnuplot-nox" >&2
	exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# One line per open-loop run: rate, achieved rate, p50 ms, p99 ms.
/usr/bin/python3 - "$json" >"$tmp/points.tsv" <<'PY'
import json
import sys

with open(sys.argv[1], encoding="utf-8") as f:
    report = json.load(f)
runs = [r for r in report.get("runs", []) if r.get("mode") == "open"]
if not runs:
    sys.exit(f"plot.sh: {sys.argv[1]} has no open-loop run")
for run in sorted(runs, key=lambda r: r["rate"]):
    latency = run["latency_us"]
    print(f'{run["rate"]}\t{run["achieved_rate"]}\t'
          f'{latency["p50"] / 1000}\t{latency["p99"] / 1000}')
PY

server=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["server"])' "$json")

# pngcairo draws smoother text; the libgd png terminal is the fallback.
terminal=png
if gnuplot -e 'set terminal' 2>/dev/null | grep -q pngcairo; then
	terminal="pngcairo"
fi

gnuplot <<GP
set terminal $terminal size 900,560
set output "$out"
set title "ecifd latency against offered load ($server)"
set xlabel "offered load (calls/s)"
set ylabel "latency (ms)"
set logscale y
set grid
set key top left
set datafile separator "\t"
plot "$tmp/points.tsv" using 1:3 with linespoints title "p50", \
     "$tmp/points.tsv" using 1:4 with linespoints title "p99"
GP
echo "plot.sh: wrote $out"
