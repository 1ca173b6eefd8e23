#!/usr/bin/env bash
# Scaling run: import, load time, memory and latency of ecifd at several
# record counts, with one Markdown table of every figure.
#
# usage: bench/scale.sh [RECORDS...]     (default 100000 1000000 10000000)
#
# For each record count the script generates synthetic customers with
# bench/gen_customers (seeded, so every run gets the same records), builds
# the snapshot twice (CSV through `ecifctl import`, and `gen_customers
# --snapshot`), serves the `ecifctl import` snapshot with ecifd and
# measures it with bench/loadgen. bench/SCALING.md describes the method
# and records the results.
#
# Environment (defaults in brackets):
#   BUILD       build directory with Release binaries [REPO/build-scale]
#   OUT         data, snapshots, logs and results [/tmp/ecif-scale]
#   SEED        generator seed [20261204]
#   QUERIES     query records sampled per size [20000]
#   DURATION    measured seconds per loadgen run [5]
#   WARMUP      unmeasured seconds before each loadgen run [1]
#   MAX_CONCURRENCY  highest concurrency of --find-saturation [64]
#   GEN_SNAPSHOT 1 also times gen_customers --snapshot, 0 skips it [1]
#   TABLE_ONLY  1 skips the runs and rewrites OUT/results.md from the
#               figures already in OUT/SIZE/figures.env [0]
#   PERF        1 records a perf profile of ecifd during an extra
#               Resolve run at the half-saturation rate [0]
#   SERVE_ONLY  1 repeats only the load and latency runs, on the records,
#               snapshot and queries an earlier run left in OUT/SIZE. The
#               generation and import figures of that run stay [0]
#   PIN         1 runs ecifd with one worker thread and moves it to CPU 0
#               once it serves, so its load still uses every CPU. The
#               load generators run on CPU 1, so the clients' work does
#               not delay the server's. Needs two CPUs [0]
#
# The page cache is never dropped: `cat SNAPSHOT > /dev/null` is timed
# from the page cache right before ecifd starts (the lowest of three
# passes), and ecifd reads the same cached pages. ecifd starts twice. The first start, after the import, is
# cold because its buffer is memory that the virtual machine has not backed
# yet. The second start follows at once, is warm and serves the latency
# runs.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$REPO/build-scale}
OUT=${OUT:-/tmp/ecif-scale}
SEED=${SEED:-20261204}
QUERIES=${QUERIES:-20000}
DURATION=${DURATION:-5}
WARMUP=${WARMUP:-1}
MAX_CONCURRENCY=${MAX_CONCURRENCY:-64}
GEN_SNAPSHOT=${GEN_SNAPSHOT:-1}
PERF=${PERF:-0}
SERVE_ONLY=${SERVE_ONLY:-0}
PIN=${PIN:-0}
TABLE_ONLY=${TABLE_ONLY:-0}
PY=/usr/bin/python3

GEN=$BUILD/bench/gen_customers
CTL=$BUILD/tools/ecifctl
ECIFD=$BUILD/rpc/ecifd
LOADGEN=$BUILD/bench/loadgen
RESOLVE_BENCH=$BUILD/bench/resolve_bench

if [ $# -eq 0 ]; then
    set -- 100000 1000000 10000000
fi
for size in "$@"; do
    case $size in
    '' | *[!0-9]*)
        echo "scale.sh: invalid record count '$size'" \
            "(expected a positive integer)" >&2
        exit 2
        ;;
    esac
done
for tool in "$GEN" "$CTL" "$ECIFD" "$LOADGEN" "$RESOLVE_BENCH"; do
    if [ ! -x "$tool" ]; then
        echo "scale.sh: $tool not found; build it with" \
            "cmake -S $REPO -B $BUILD -DCMAKE_BUILD_TYPE=Release &&" \
            "cmake --build $BUILD -j2" >&2
        exit 2
    fi
done
mkdir -p "$OUT"

# Command prefixes of the server and of the clients.
SERVER_CMD=("$ECIFD")
CLIENT_CMD=()
if [ "$PIN" = 1 ]; then
    if [ "$(nproc)" -lt 2 ]; then
        echo "scale.sh: PIN=1 needs two CPUs, but this machine has" \
            "$(nproc)" >&2
        exit 2
    fi
    SERVER_CMD=("$ECIFD" --threads 1)
    CLIENT_CMD=(taskset -c 1)
fi

ECIFD_PID=
cleanup() {
    if [ -n "$ECIFD_PID" ] && kill -0 "$ECIFD_PID" 2>/dev/null; then
        kill -TERM "$ECIFD_PID" 2>/dev/null || true
        wait "$ECIFD_PID" 2>/dev/null || true
    fi
}
trap cleanup EXIT

log() {
    echo "scale.sh: $(date -u +%H:%M:%S) $*" >&2
}

now_ns() {
    date +%s%N
}

# Milliseconds between two now_ns values, with one decimal.
ms_between() {
    awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b - a) / 1e6 }'
}

# Prints the lowest of three timed `cat FILE > /dev/null` passes, in ms. A
# single pass right after an ecifd stops was seen to take twice as long as
# the next, which made single load / cat ratios noisy.
cat_ms() {
    local best="" start end ms
    for _ in 1 2 3; do
        start=$(now_ns)
        cat "$1" >/dev/null
        end=$(now_ns)
        ms=$(ms_between "$start" "$end")
        if [ -z "$best" ] || awk -v a="$ms" -v b="$best" \
            'BEGIN { exit !(a < b) }'; then
            best=$ms
        fi
    done
    echo "$best"
}

# Runs a command and writes its wall time in ms to the file $1. With
# /usr/bin/time installed, the file $2 gets its peak RSS in kB, else n/a.
timed() {
    local ms_file=$1 peak_file=$2
    shift 2
    local start end
    start=$(now_ns)
    if [ -x /usr/bin/time ]; then
        /usr/bin/time -f '%M' -o "$peak_file" "$@"
    else
        echo n/a >"$peak_file"
        "$@"
    fi
    end=$(now_ns)
    ms_between "$start" "$end" >"$ms_file"
}

vmrss_kb() {
    awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"
}

# Starts ecifd on SNAPSHOT with the ecifd options after the FIFO, waits
# for its "serving on" line and sets
# ECIFD_PID, ECIFD_PORT and ECIFD_START_MS (process start to that line).
# stdout goes through a FIFO so the line is read the moment it is written.
start_ecifd() {
    local snap=$1 log_file=$2 fifo=$3
    shift 3
    rm -f "$fifo"
    mkfifo "$fifo"
    local start end line
    start=$(now_ns)
    "${SERVER_CMD[@]}" --snapshot "$snap" --listen 127.0.0.1:0 "$@" \
        >"$fifo" 2>"$log_file" &
    ECIFD_PID=$!
    exec 3<"$fifo"
    if ! read -r -t 900 line <&3; then
        echo "scale.sh: ecifd printed no serving line; see $log_file" >&2
        exit 1
    fi
    end=$(now_ns)
    case $line in
    "ecifd: serving on "*) ;;
    *)
        echo "scale.sh: unexpected ecifd output '$line'" >&2
        exit 1
        ;;
    esac
    ECIFD_PORT=${line##*:}
    if [ "$PIN" = 1 ]; then
        taskset -a -p -c 0 "$ECIFD_PID" >/dev/null
    fi
    ECIFD_START_MS=$(ms_between "$start" "$end")
}

stop_ecifd() {
    kill -TERM "$ECIFD_PID"
    wait "$ECIFD_PID" || true
    exec 3<&-
    ECIFD_PID=
}

# Load time in ms from ecifd's "loaded snapshot ... N ms" log line.
load_ms_from_log() {
    sed -n "s/.*loaded snapshot .*, \([0-9.]*\) ms$/\1/p" "$1" | tail -n 1
}

# Writes section sizes of a snapshot (docs/snapshot-format.md: 64-byte
# header, then 24-byte entries of id, crc, offset, bytes) as key=value.
# Sections that a format version lacks show as n/a in the table.
snapshot_sections() {
    "$PY" - "$1" <<'EOF'
import struct, sys
names = ["strings", "records", "values", "accounts", "customers", "members",
         "exposure", "sources", "shards", "slots", "postings", "names",
         "history", "model", "corrections", "updated", "origins"]
with open(sys.argv[1], "rb") as f:
    head = f.read(64)
    magic, version, count = struct.unpack_from("<8sII", head, 0)
    if magic != b"ECIFSNAP":
        sys.exit("scale.sh: %s is not a snapshot" % sys.argv[1])
    table = f.read(24 * count)
(file_bytes, shards, records, customers, accounts, exposures, _crc,
 keys) = struct.unpack_from("<QIIIIIIQ", head, 16)
print("snap_version=%d" % version)
print("snap_keys=%d" % keys)
print("snap_customers=%d" % customers)
print("snap_accounts=%d" % accounts)
for i in range(count):
    sid, _c, _off, size = struct.unpack_from("<IIQQ", table, 24 * i)
    name = names[sid - 1] if 1 <= sid <= len(names) else "section%d" % sid
    print("sec_%s=%d" % (name, size))
EOF
}

# Writes every figure of a loadgen JSON that the table needs as key=value,
# each key prefixed by $2. The last run is the measured open-loop run.
loadgen_figures() {
    "$PY" - "$1" "$2" <<'EOF'
import json, sys
doc = json.load(open(sys.argv[1]))
p = sys.argv[2]
run = doc["runs"][-1]
lat = run["latency_us"]
sat = doc.get("saturation")
if sat:
    print("%ssat_throughput=%.0f" % (p, sat["throughput"]))
    print("%ssat_concurrency=%d" % (p, sat["concurrency"]))
    print("%sopen_rate=%.0f" % (p, sat["open_loop_rate"]))
print("%srate=%.0f" % (p, run["rate"]))
print("%sachieved=%.0f" % (p, run.get("achieved_rate", 0)))
print("%scalls=%d" % (p, run["calls"]))
print("%serrors=%d" % (p, run["errors"]))
print("%slate=%d" % (p, run.get("late_sends", 0)))
for k in ("p50", "p99", "p99_9", "max"):
    print("%s%s=%.0f" % (p, k, lat[k]))
EOF
}

# Samples every k-th record of the generated CSV, k = records / QUERIES,
# starting in the middle of the first stride, so queries spread evenly
# over all generator blocks.
sample_queries() {
    local records_csv=$1 out=$2 n=$3
    local stride=$((n / QUERIES))
    [ "$stride" -ge 1 ] || stride=1
    awk -v s="$stride" -v q="$QUERIES" -v o=$((stride / 2)) \
        'NR == 1 { print; next }
         (NR - 2) % s == o && taken < q { print; taken++ }' \
        "$records_csv" >"$out"
}

machine_info() {
    local f=$OUT/machine.env
    {
        echo "m_nproc=$(nproc)"
        echo "m_cpu='$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo |
            head -n 1)'"
        echo "m_kernel=$(uname -r)"
        echo "m_debian=$(cat /etc/debian_version)"
        echo "m_mem_gb=$(free -g | awk '/^Mem:/ { print $2 }')"
        echo "m_date='$(date -u '+%Y-%m-%d %H:%M UTC')'"
        local commit changed dirty=""
        commit=$(git -C "$REPO" rev-parse --short HEAD)
        changed=$(git -C "$REPO" diff --name-only HEAD -- engine rpc tools \
            bench | tr '\n' ' ')
        if [ -n "$changed" ]; then
            dirty=" with uncommitted changes in ${changed% }"
        fi
        echo "m_commit='$commit$dirty'"
        echo "m_built='$(date -u -r "$ECIFD" '+%Y-%m-%d %H:%M UTC')'"
    } >"$f"
}

# Persons per record of the generator's defaults, from a small sample, so
# a record count maps to a person count.
calibrate() {
    local dir=$OUT/calibrate
    "$GEN" --customers 20000 --seed "$SEED" --output-dir "$dir" 2>/dev/null
    local recs
    recs=$(($(wc -l <"$dir/records.csv") - 1))
    awk -v r="$recs" 'BEGIN { printf "%.6f", 20000 / r }'
}

# ecifd's resident memory on a one-person snapshot: the part of the RSS
# that does not grow with the records (binary, gRPC, thread stacks).
measure_baseline() {
    local dir=$OUT/baseline
    mkdir -p "$dir"
    "$GEN" --customers 1 --seed "$SEED" --output-dir "$dir" 2>/dev/null
    "$CTL" import -q -o "$dir/tiny.snap" --accounts "$dir/accounts.csv" \
        "$dir/records.csv" >/dev/null
    start_ecifd "$dir/tiny.snap" "$dir/ecifd.log" "$dir/ecifd.out"
    sleep 0.5
    echo "base_rss_kb=$(vmrss_kb "$ECIFD_PID")" >"$OUT/baseline.env"
    stop_ecifd
    log "baseline ecifd RSS $(cut -d= -f2 "$OUT/baseline.env") kB"
}

# Generates the records of one size, imports them and samples the
# queries, writing the figures of those steps to a new figures.env.
prepare_size() {
    local target=$1 ratio=$2
    local dir=$OUT/$target
    local env=$dir/figures.env
    local persons
    persons=$(awk -v t="$target" -v r="$ratio" \
        'BEGIN { printf "%d", t * r + 0.5 }')
    rm -rf "$dir"
    mkdir -p "$dir"
    echo "target=$target" >"$env"
    echo "persons=$persons" >>"$env"

    log "$target: generating $persons persons as CSV"
    timed "$dir/t.gen_csv" "$dir/p.gen_csv" \
        "$GEN" --customers "$persons" --seed "$SEED" --output-dir "$dir/csv" \
        2>"$dir/gen_csv.log"
    local records
    records=$(($(wc -l <"$dir/csv/records.csv") - 1))
    echo "records=$records" >>"$env"
    echo "csv_bytes=$(($(stat -c %s "$dir/csv/records.csv") +
        $(stat -c %s "$dir/csv/accounts.csv")))" >>"$env"

    log "$target: ecifctl import of $records records"
    local snap=$dir/import.snap
    timed "$dir/t.import" "$dir/p.import" \
        "$CTL" import -o "$snap" --accounts "$dir/csv/accounts.csv" \
        "$dir/csv/records.csv" >"$dir/import.log" 2>"$dir/import.progress"
    echo "snap_bytes=$(stat -c %s "$snap")" >>"$env"
    echo "loadavg_import='$(cut -d' ' -f1-3 /proc/loadavg)'" >>"$env"

    if [ "$GEN_SNAPSHOT" = 1 ]; then
        log "$target: gen_customers --snapshot"
        timed "$dir/t.gen_snap" "$dir/p.gen_snap" \
            "$GEN" --customers "$persons" --seed "$SEED" \
            --output-dir "$dir/gen" --snapshot "$dir/gen.snap" \
            2>"$dir/gen_snap.log"
        rm -f "$dir/gen.snap"
    else
        echo n/a >"$dir/t.gen_snap"
        echo n/a >"$dir/p.gen_snap"
    fi
    for step in gen_csv import gen_snap; do
        echo "ms_$step=$(cat "$dir/t.$step")" >>"$env"
        echo "peak_kb_$step=$(cat "$dir/p.$step")" >>"$env"
    done
    snapshot_sections "$snap" >>"$env"

    sample_queries "$dir/csv/records.csv" "$dir/queries.csv" "$records"
    echo "queries=$(($(wc -l <"$dir/queries.csv") - 1))" >>"$env"
}

# Times the loads of the snapshot of one size and measures ecifd with the
# load generators, appending to figures.env.
serve_size() {
    local target=$1
    local dir=$OUT/$target
    local env=$dir/figures.env
    local snap=$dir/import.snap
    echo "pin=$PIN" >>"$env"

    # One untimed pass puts the snapshot in the page cache, where a
    # snapshot just written usually is already.
    cat "$snap" >/dev/null
    echo "cat_ms=$(cat_ms "$snap")" >>"$env"

    log "$target: starting ecifd (cold)"
    start_ecifd "$snap" "$dir/ecifd-cold.log" "$dir/ecifd.out"
    echo "start_to_serving_ms=$ECIFD_START_MS" >>"$env"
    echo "load_ms=$(load_ms_from_log "$dir/ecifd-cold.log")" >>"$env"
    echo "rss_load_kb=$(vmrss_kb "$ECIFD_PID")" >>"$env"
    stop_ecifd

    # Start again at once, while the memory that the cold start freed is
    # still backed.
    log "$target: starting ecifd again (warm)"
    echo "cat_warm_ms=$(cat_ms "$snap")" >>"$env"
    start_ecifd "$snap" "$dir/ecifd.log" "$dir/ecifd.out"
    echo "start_to_serving_warm_ms=$ECIFD_START_MS" >>"$env"
    echo "load_warm_ms=$(load_ms_from_log "$dir/ecifd.log")" >>"$env"

    echo "loadavg_before='$(cut -d' ' -f1-3 /proc/loadavg)'" >>"$env"
    local server=127.0.0.1:$ECIFD_PORT
    local common=(--server "$server" --queries "$dir/queries.csv"
        --duration "$DURATION" --warmup "$WARMUP")

    log "$target: loadgen --find-saturation, Resolve only"
    "${CLIENT_CMD[@]}" "$LOADGEN" "${common[@]}" --mix resolve=100 \
        --find-saturation \
        --max-concurrency "$MAX_CONCURRENCY" --json "$dir/resolve.json" \
        >"$dir/resolve.txt" 2>&1 || true
    loadgen_figures "$dir/resolve.json" resolve_ >>"$env"
    local rate
    rate=$(sed -n 's/^resolve_open_rate=//p' "$env")

    log "$target: GetExposure and Health/Check at $rate calls/s"
    "${CLIENT_CMD[@]}" "$LOADGEN" "${common[@]}" --mix exposure=100 --mode open --rate "$rate" \
        --json "$dir/exposure.json" >"$dir/exposure.txt" 2>&1 || true
    loadgen_figures "$dir/exposure.json" exposure_ >>"$env"
    "${CLIENT_CMD[@]}" "$LOADGEN" "${common[@]}" --mix health=100 --mode open --rate "$rate" \
        --json "$dir/health.json" >"$dir/health.txt" 2>&1 || true
    loadgen_figures "$dir/health.json" health_ >>"$env"

    # One call at a time, Resolve and Health/Check interleaved: service
    # time without queueing, and whether each query finds its own record.
    log "$target: resolve_bench, one call at a time"
    "${CLIENT_CMD[@]}" "$RESOLVE_BENCH" --server "$server" --queries "$dir/queries.csv" \
        --truth same --json "$dir/resolve_bench.json" \
        >"$dir/resolve_bench.txt" 2>&1 || true
    "$PY" - "$dir/resolve_bench.json" >>"$env" <<'PYEOF'
import json, sys
doc = json.load(open(sys.argv[1]))
lat = doc["latency"]
print("serial_resolve_p50=%.0f" % lat["resolve"]["p50_us"])
print("serial_resolve_p99=%.0f" % lat["resolve"]["p99_us"])
print("serial_health_p50=%.0f" % lat["health"]["p50_us"])
print("serial_health_p99=%.0f" % lat["health"]["p99_us"])
print("serial_mrr=%.4f" % doc["accuracy"]["mrr"])
PYEOF

    if [ "$PERF" = 1 ]; then
        log "$target: perf record during an open-loop Resolve run"
        perf record -g -o "$dir/perf.data" -p "$ECIFD_PID" \
            -- sleep $((DURATION + WARMUP + 1)) >/dev/null 2>&1 &
        local perf_pid=$!
        "${CLIENT_CMD[@]}" "$LOADGEN" "${common[@]}" --mix resolve=100 \
            --mode open \
            --rate "$rate" --json "$dir/resolve-perf.json" \
            >"$dir/resolve-perf.txt" 2>&1 || true
        wait "$perf_pid" || true
        perf report -i "$dir/perf.data" --no-children --stdio -g none \
            --sort dso,sym --percent-limit 1 >"$dir/perf.txt" \
            2>/dev/null || true
    fi

    echo "rss_runs_kb=$(vmrss_kb "$ECIFD_PID")" >>"$env"
    echo "loadavg_after='$(cut -d' ' -f1-3 /proc/loadavg)'" >>"$env"
    stop_ecifd

    # The same snapshot mapped instead of copied (docs/snapshot-format.md,
    # "Copy and map"): its load time next to a cat of the same moment,
    # and one call at a time, to show what serving from the mapping costs.
    log "$target: starting ecifd with --load map"
    echo "cat_map_ms=$(cat_ms "$snap")" >>"$env"
    start_ecifd "$snap" "$dir/ecifd-map.log" "$dir/ecifd.out" --load map
    echo "load_map_ms=$(load_ms_from_log "$dir/ecifd-map.log")" >>"$env"
    echo "rss_map_kb=$(vmrss_kb "$ECIFD_PID")" >>"$env"
    "${CLIENT_CMD[@]}" "$RESOLVE_BENCH" --server "127.0.0.1:$ECIFD_PORT" \
        --queries "$dir/queries.csv" --truth same \
        --json "$dir/resolve_bench_map.json" \
        >"$dir/resolve_bench_map.txt" 2>&1 || true
    "$PY" - "$dir/resolve_bench_map.json" >>"$env" <<'PYEOF'
import json, sys
lat = json.load(open(sys.argv[1]))["latency"]
print("serial_map_resolve_p50=%.0f" % lat["resolve"]["p50_us"])
print("serial_map_resolve_p99=%.0f" % lat["resolve"]["p99_us"])
PYEOF
    stop_ecifd
    log "$target: done"
}

# Builds the Markdown table from machine.env, baseline.env and every
# size's figures.env.
write_table() {
    "$PY" - "$OUT" "$@" <<'EOF'
import shlex, sys

def read_env(path):
    env = {}
    for line in open(path):
        line = line.strip()
        if line and "=" in line:
            key, value = line.split("=", 1)
            env[key] = " ".join(shlex.split(value)) if value else ""
    return env

out = sys.argv[1]
machine = read_env(out + "/machine.env")
base = read_env(out + "/baseline.env")
sizes = [read_env("%s/%s/figures.env" % (out, s)) for s in sys.argv[2:]]
base_kb = int(base["base_rss_kb"])

def num(v, digits=0):
    try:
        x = float(v)
    except (TypeError, ValueError):
        return v if v else "n/a"
    return "{:,.{}f}".format(x, digits)

def mib(kb):
    return num(float(kb) / 1024, 1)

def per_record(f, key):
    return num((float(f[key]) - base_kb) * 1024 / int(f["records"]), 0)

def ratio(a, b):
    return num(float(a) / float(b), 2) if float(b) > 0 else "n/a"

def sec(f, key):
    try:
        return num(float(f[key]) / 1000, 1)
    except (KeyError, ValueError):
        return "n/a"

def peak(f, key):
    v = f.get(key, "n/a")
    return mib(v) if v not in ("n/a", "") else "n/a"

rows = [
    ("records (real)", lambda f: num(f["records"])),
    ("persons (--customers)", lambda f: num(f["persons"])),
    ("customers in snapshot", lambda f: num(f["snap_customers"])),
    ("accounts", lambda f: num(f["snap_accounts"])),
    ("blocking keys", lambda f: num(f["snap_keys"])),
    ("CSV records + accounts, MiB", lambda f: mib(int(f["csv_bytes"]) / 1024)),
    ("gen_customers to CSV, s", lambda f: sec(f, "ms_gen_csv")),
    ("ecifctl import, s", lambda f: sec(f, "ms_import")),
    ("ecifctl import peak RSS, MiB", lambda f: peak(f, "peak_kb_import")),
    ("gen_customers --snapshot, s", lambda f: sec(f, "ms_gen_snap")),
    ("gen_customers --snapshot peak RSS, MiB",
     lambda f: peak(f, "peak_kb_gen_snap")),
    ("snapshot, MiB", lambda f: mib(int(f["snap_bytes"]) / 1024)),
    ("snapshot bytes per record",
     lambda f: num(int(f["snap_bytes"]) / int(f["records"]))),
    ("cat snapshot > /dev/null (page cache), ms, before the cold / warm "
     "start", lambda f: num(f["cat_ms"], 1) + " / " +
     num(f.get("cat_warm_ms", "n/a"), 1)),
    ("ecifd load, cold: first start after the import (its log line), ms",
     lambda f: num(f["load_ms"], 1)),
    ("ecifd load, warm: second start right after the first, ms",
     lambda f: num(f.get("load_warm_ms", "n/a"), 1)),
    ("load / cat, cold", lambda f: ratio(f["load_ms"], f["cat_ms"])),
    ("load / cat, warm (target <= 2)",
     lambda f: ratio(f["load_warm_ms"], f["cat_warm_ms"])),
    ("ecifd --load map: cat before it / load, ms",
     lambda f: num(f.get("cat_map_ms", "n/a"), 1) + " / " +
     num(f.get("load_map_ms", "n/a"), 1)),
    ("load / cat, --load map (target <= 2)",
     lambda f: ratio(f["load_map_ms"], f["cat_map_ms"])
     if "load_map_ms" in f else "n/a"),
    ("ecifd --load map: RSS after load, B per record",
     lambda f: per_record(f, "rss_map_kb") if "rss_map_kb" in f else "n/a"),
    ("ecifd --load map, one call at a time: Resolve p50 / p99, us",
     lambda f: num(f.get("serial_map_resolve_p50", "n/a")) + " / " +
     num(f.get("serial_map_resolve_p99", "n/a"))),
    ("ecifd start to serving line, cold / warm, ms",
     lambda f: num(f["start_to_serving_ms"], 1) + " / " +
     num(f.get("start_to_serving_warm_ms", "n/a"), 1)),
    ("ecifd RSS after the cold load, MiB", lambda f: mib(f["rss_load_kb"])),
    ("ecifd RSS after the runs (warm start), MiB",
     lambda f: mib(f["rss_runs_kb"])),
    ("RSS per record after load, B (target <= 400)",
     lambda f: per_record(f, "rss_load_kb")),
    ("RSS per record after the runs, B",
     lambda f: per_record(f, "rss_runs_kb")),
    ("query records", lambda f: num(f["queries"])),
    ("CPUs during the latency runs",
     lambda f: "ecifd on CPU 0 with one worker, clients on CPU 1"
     if f.get("pin") == "1" else "shared by ecifd and the clients"),
    ("Resolve saturation, calls/s",
     lambda f: num(f["resolve_sat_throughput"])),
    ("Resolve saturation concurrency",
     lambda f: num(f["resolve_sat_concurrency"])),
    ("open-loop rate (50% of saturation), calls/s",
     lambda f: num(f["resolve_open_rate"])),
    ("Resolve p50, us", lambda f: num(f["resolve_p50"])),
    ("Resolve p99, us (target <= 1000)", lambda f: num(f["resolve_p99"])),
    ("Resolve p99.9 / max, us",
     lambda f: num(f["resolve_p99_9"]) + " / " + num(f["resolve_max"])),
    ("Resolve errors / late sends",
     lambda f: "%s / %s" % (f["resolve_errors"], f["resolve_late"])),
    ("GetExposure p50, us", lambda f: num(f["exposure_p50"])),
    ("GetExposure p99, us", lambda f: num(f["exposure_p99"])),
    ("GetExposure errors (NOT_FOUND) / calls / late sends",
     lambda f: "%s / %s / %s" % (num(f["exposure_errors"]),
                                num(f["exposure_calls"]),
                                num(f["exposure_late"]))),
    ("Health/Check p50, us", lambda f: num(f["health_p50"])),
    ("Health/Check p99, us", lambda f: num(f["health_p99"])),
    ("Health/Check late sends", lambda f: num(f["health_late"])),
    ("one call at a time: Resolve p50 / p99, us",
     lambda f: num(f["serial_resolve_p50"]) + " / " +
     num(f["serial_resolve_p99"])),
    ("one call at a time: Health/Check p50 / p99, us",
     lambda f: num(f["serial_health_p50"]) + " / " +
     num(f["serial_health_p99"])),
    ("one call at a time: MRR of the query's own record (1 = always "
     "in the first candidate)", lambda f: num(f["serial_mrr"], 4)),
    ("load average after the import",
     lambda f: f["loadavg_import"]),
    ("load average before / after the loadgen runs",
     lambda f: "%s / %s" % (f["loadavg_before"], f["loadavg_after"])),
]
sections = ["strings", "records", "values", "accounts", "customers",
            "members", "exposure", "sources", "shards", "slots", "postings",
            "names", "history", "model", "corrections", "updated", "origins"]

print("Machine: %s vCPUs (%s), %s GB RAM, Linux %s, Debian %s. Run %s, "
      "commit %s; binaries built %s. ecifd RSS on a one-person snapshot (the baseline "
      "subtracted per record): %s MiB." % (
          machine["m_nproc"], machine["m_cpu"], machine["m_mem_gb"],
          machine["m_kernel"], machine["m_debian"], machine["m_date"],
          machine["m_commit"], machine.get("m_built", "n/a"),
          mib(base_kb)))
print()
print("| figure | " + " | ".join(num(f["target"]) for f in sizes) + " |")
print("|---|" + "---|" * len(sizes))
for label, fn in rows:
    cells = []
    for f in sizes:
        try:
            cells.append(fn(f))
        except (KeyError, ValueError, ZeroDivisionError):
            cells.append("n/a")
    print("| %s | %s |" % (label, " | ".join(cells)))
print()
print("Snapshot sections, bytes per record:")
print()
print("| section | " + " | ".join(num(f["target"]) for f in sizes) + " |")
print("|---|" + "---|" * len(sizes))
for s in sections:
    cells = [num(int(f["sec_" + s]) / int(f["records"]), 1)
             if "sec_" + s in f else "n/a" for f in sizes]
    print("| %s | %s |" % (s, " | ".join(cells)))
EOF
}

if [ "$TABLE_ONLY" != 1 ]; then
    machine_info
    RATIO=$(calibrate)
    log "persons per record: $RATIO"
    measure_baseline
    for size in "$@"; do
        if [ "$SERVE_ONLY" = 1 ]; then
            dir=$OUT/$size
            for f in figures.env import.snap queries.csv; do
                if [ ! -f "$dir/$f" ]; then
                    echo "scale.sh: SERVE_ONLY=1 needs $dir/$f from an" \
                        "earlier run" >&2
                    exit 2
                fi
            done
            # Keep the figures up to the first one serve_size writes.
            sed -i '/^\(pin\|cat_ms\)=/,$d' "$dir/figures.env"
        else
            prepare_size "$size" "$RATIO"
        fi
        serve_size "$size"
    done
fi
write_table "$@" >"$OUT/results.md"
log "results in $OUT/results.md"
cat "$OUT/results.md"
