#!/bin/sh
# The appliance side by side with a hand-built PostgreSQL 15 matcher, on
# the same records, the same queries and the same truth, in one run.
#
# usage: bench/pg-compare.sh [--records-file FILE --queries-file FILE]
#            [--mapping MAP] [--truth RULE | --truth-file CSV]
#            [--port P] [--rounds N]
#
# Without --records-file the data is Febrl 4 (bench/data/febrl4:
# dataset4a.csv as records, dataset4b.csv as queries, mapping
# tools/mappings/febrl.map, truth rule febrl). With --records-file the
# files are read through --mapping, or in the canonical layout when it is
# absent. --truth takes a source_id rule (febrl, same, s/REGEX/REPL/, as
# in resolve_bench); --truth-file a CSV of source_system, source_id,
# entity_id.
#
# The script:
#  1. builds ecifctl, ecifd, resolve_bench, pg_export and pg_resolve_bench
#     in Release mode (ECIF_PG_BUILD_DIR, default build-pg);
#  2. initializes a PostgreSQL 15 cluster in a temporary folder, as the
#     system user postgres when run as root, listening on 127.0.0.1 only
#     (port --port, else a free one) and on a Unix socket in that folder;
#  3. writes the records as canonical CSV with pg_export, loads them with
#     bench/pg/schema.sql and bench/pg/load.sql and runs
#     pg_resolve_bench with bench/pg/query.sql;
#  4. imports the same records with ecifctl import, starts ecifd on
#     127.0.0.1:0 and runs resolve_bench with the same queries;
#  5. prints both sets of figures in one table and the machine, then stops
#     both servers and deletes the folder (also on failure or interrupt).
#
# Environment: ECIF_PG_BUILD_DIR, ECIF_PG_BIN (default
# /usr/lib/postgresql/15/bin), ECIF_BENCH_ROUNDS (default 5, --rounds
# overrides it), ECIF_PG_KEEP_JSON (a folder that receives pg.json and
# ecif.json), ECIF_PG_NO_BUILD=1 (use the binaries already built).
set -eu

repo=$(cd "$(dirname "$0")/.." && pwd)
build=${ECIF_PG_BUILD_DIR:-$repo/build-pg}
pgbin=${ECIF_PG_BIN:-/usr/lib/postgresql/15/bin}
rounds=${ECIF_BENCH_ROUNDS:-5}
python=/usr/bin/python3

records=""
queries=""
mapping=""
mapping_set=0
truth=""
truth_file=""
port=""

die_usage() {
	echo "pg-compare.sh: $1" >&2
	echo "usage: bench/pg-compare.sh [--records-file FILE" \
		"--queries-file FILE] [--mapping MAP] [--truth RULE |" \
		"--truth-file CSV] [--port P] [--rounds N]" >&2
	exit 2
}

while [ $# -gt 0 ]; do
	[ $# -ge 2 ] || die_usage "missing the value of $1"
	case "$1" in
	--records-file) records=$2 ;;
	--queries-file) queries=$2 ;;
	--mapping) mapping=$2; mapping_set=1 ;;
	--truth) truth=$2 ;;
	--truth-file) truth_file=$2 ;;
	--port) port=$2 ;;
	--rounds) rounds=$2 ;;
	*) die_usage "unknown option '$1'" ;;
	esac
	shift 2
done

if [ -z "$records" ] && [ -z "$queries" ]; then
	records=$repo/bench/data/febrl4/dataset4a.csv
	queries=$repo/bench/data/febrl4/dataset4b.csv
	[ $mapping_set -eq 1 ] || mapping=$repo/tools/mappings/febrl.map
	[ -n "$truth" ] || [ -n "$truth_file" ] || truth=febrl
fi
[ -n "$records" ] || die_usage "--queries-file needs --records-file"
[ -n "$queries" ] || die_usage "--records-file needs --queries-file"
[ -z "$truth" ] || [ -z "$truth_file" ] ||
	die_usage "give --truth or --truth-file, not both"
[ -n "$truth" ] || [ -n "$truth_file" ] ||
	die_usage "missing --truth RULE or --truth-file CSV"
for f in "$records" "$queries" ${mapping:+"$mapping"} \
	${truth_file:+"$truth_file"}; do
	[ -r "$f" ] || die_usage "cannot read '$f'"
done
case "$port" in
"" | *[!0-9]*) [ -z "$port" ] || die_usage "invalid --port '$port'" ;;
esac
if [ ! -x "$pgbin/initdb" ] || [ ! -x "$pgbin/pg_ctl" ]; then
	echo "pg-compare.sh: PostgreSQL 15 not found in $pgbin; install" \
		"postgresql-15 (tools/install-deps.sh --with-postgresql) or set" \
		"ECIF_PG_BIN" >&2
	exit 1
fi
if ! command -v psql >/dev/null 2>&1; then
	echo "pg-compare.sh: psql not found; install postgresql-client-15" \
		"(tools/install-deps.sh --with-postgresql)" >&2
	exit 1
fi
if ! pkg-config --exists libpq; then
	echo "pg-compare.sh: libpq not found, which pg_resolve_bench needs;" \
		"install libpq-dev (tools/install-deps.sh --with-postgresql)" >&2
	exit 1
fi

# Absolute paths, because the PostgreSQL commands run in other folders.
abspath() {
	(cd "$(dirname "$1")" && printf '%s/%s\n' "$(pwd)" "$(basename "$1")")
}
records=$(abspath "$records")
queries=$(abspath "$queries")
[ -z "$mapping" ] || mapping=$(abspath "$mapping")
[ -z "$truth_file" ] || truth_file=$(abspath "$truth_file")

if [ "${ECIF_PG_NO_BUILD:-0}" = 1 ]; then
	echo "== no build: using the binaries in $build"
else
	echo "== build ($build, Release)"
	cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=Release \
		-DBUILD_BENCH=ON >/dev/null
	cmake --build "$build" -j2 --target ecifctl ecifd resolve_bench \
		evaluate pg_export pg_resolve_bench >/dev/null
fi

tmp=$(mktemp -d)
pgdata=$tmp/pgdata
ecifd_pid=""
pg_started=0

# As root, PostgreSQL runs as the system user postgres, which the
# postgresql-15 package creates; otherwise as the calling user.
if [ "$(id -u)" -eq 0 ]; then
	if ! id postgres >/dev/null 2>&1; then
		useradd --system --user-group --no-create-home \
			--home-dir /nonexistent --shell /usr/sbin/nologin postgres
	fi
	as_pg() { runuser -u postgres -- "$@"; }
else
	as_pg() { "$@"; }
fi

# Stops a server started by this script: SIGTERM, then SIGKILL when it is
# still running after 5 s, so that the exit cannot hang on it.
stop_process() {
	kill "$1" 2>/dev/null || return 0
	n=0
	while kill -0 "$1" 2>/dev/null && [ $n -lt 50 ]; do
		sleep 0.1
		n=$((n + 1))
	done
	kill -KILL "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

cleanup() {
	if [ -n "$ecifd_pid" ]; then
		stop_process "$ecifd_pid"
	fi
	if [ $pg_started -eq 1 ]; then
		as_pg "$pgbin/pg_ctl" -D "$pgdata" -m fast -w stop >/dev/null 2>&1 ||
			true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

chmod 755 "$tmp"
mkdir "$pgdata" "$tmp/socket"
if [ "$(id -u)" -eq 0 ]; then
	chown postgres: "$pgdata" "$tmp/socket"
fi
chmod 700 "$pgdata"

echo "== export $records"
"$build/bench/pg/pg_export" ${mapping:+--mapping "$mapping"} \
	--output "$tmp/records.csv" "$records"

if [ -z "$port" ]; then
	port=$("$python" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])')
fi

# shared_buffers: the table with its indexes took about 4.5 times the
# size of the canonical CSV on Febrl 4, so 6 times is an estimate with
# room to spare. At least 128 MB and at most a quarter of the memory.
mem_kb=$(sed -n 's/^MemTotal: *\([0-9]*\) kB/\1/p' /proc/meminfo)
csv_kb=$(($(wc -c <"$tmp/records.csv") / 1024))
buffers_mb=$((csv_kb * 6 / 1024))
[ $buffers_mb -ge 128 ] || buffers_mb=128
[ $buffers_mb -le $((mem_kb / 4096)) ] || buffers_mb=$((mem_kb / 4096))
cache_mb=$((mem_kb / 2048))

echo "== PostgreSQL: initdb in $pgdata, 127.0.0.1:$port"
as_pg "$pgbin/initdb" -D "$pgdata" -U postgres --auth=trust -E UTF8 \
	--locale=C.UTF-8 >"$tmp/initdb.log" 2>&1 || {
	cat "$tmp/initdb.log" >&2
	exit 1
}
cat >>"$pgdata/postgresql.conf" <<EOF
# bench/pg-compare.sh
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$tmp/socket'
shared_buffers = ${buffers_mb}MB
effective_cache_size = ${cache_mb}MB
work_mem = 16MB
maintenance_work_mem = 256MB
jit = off
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
as_pg "$pgbin/pg_ctl" -D "$pgdata" -l "$tmp/socket/postgresql.log" -w \
	start >/dev/null || {
	cat "$tmp/socket/postgresql.log" >&2
	exit 1
}
pg_started=1

psql_bench() {
	psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres "$@"
}
psql_bench -d postgres -c 'CREATE DATABASE bench'
psql_bench -d bench -f "$repo/bench/pg/schema.sql"
load_start=$(date +%s.%N)
psql_bench -d bench -f "$repo/bench/pg/load.sql" <"$tmp/records.csv"
load_end=$(date +%s.%N)
echo "load and index: $(awk "BEGIN { printf \"%.1f\", $load_end - $load_start }") s"

echo "== pg_resolve_bench on $queries"
pg_status=0
"$build/bench/pg/pg_resolve_bench" \
	--conninfo "host=127.0.0.1 port=$port user=postgres dbname=bench" \
	--sql "$repo/bench/pg/query.sql" --queries "$queries" \
	${mapping:+--mapping "$mapping"} \
	${truth:+--truth "$truth"} ${truth_file:+--truth-file "$truth_file"} \
	--rounds "$rounds" --json "$tmp/pg.json" || pg_status=$?
pg_version=$(psql_bench -d bench -A -t -c 'SHOW server_version')

as_pg "$pgbin/pg_ctl" -D "$pgdata" -m fast -w stop >/dev/null
pg_started=0

echo "== ecifctl import $records"
"$build/tools/ecifctl" import -q -o "$tmp/records.snapshot" \
	${mapping:+-m "$mapping"} "$records"

# Created first: the wait loop below may read it before the shell
# that starts ecifd has opened it.
: >"$tmp/ecifd.out"
"$build/rpc/ecifd" --snapshot "$tmp/records.snapshot" \
	--listen 127.0.0.1:0 >"$tmp/ecifd.out" 2>"$tmp/ecifd.log" &
ecifd_pid=$!
server=""
tries=0
while [ -z "$server" ] && [ $tries -lt 600 ]; do
	if ! kill -0 "$ecifd_pid" 2>/dev/null; then
		echo "pg-compare.sh: ecifd exited before serving; its log:" >&2
		cat "$tmp/ecifd.log" >&2
		exit 1
	fi
	server=$(sed -n 's/^ecifd: serving on //p' "$tmp/ecifd.out")
	[ -n "$server" ] || sleep 0.1
	tries=$((tries + 1))
done
if [ -z "$server" ]; then
	echo "pg-compare.sh: ecifd did not start serving within 60 s" >&2
	exit 1
fi

# resolve_bench measures the latency. It scores against a source_id rule
# only, so with --truth-file it runs with the rule "same" and evaluate
# query scores the appliance against the truth file instead.
echo "== resolve_bench on $queries, ecifd at $server"
ecif_status=0
"$build/bench/resolve_bench" --server "$server" --queries "$queries" \
	${mapping:+--mapping "$mapping"} --truth "${truth:-same}" \
	--rounds "$rounds" --json "$tmp/ecif.json" || ecif_status=$?
if [ -n "$truth_file" ]; then
	echo "== evaluate query on $queries against $truth_file"
	"$build/bench/evaluate" query --server "$server" --queries "$queries" \
		${mapping:+--mapping "$mapping"} --truth "file:$truth_file" \
		--json "$tmp/ecif-eval.json" || ecif_status=$?
fi

stop_process "$ecifd_pid"
ecifd_pid=""

if [ -n "${ECIF_PG_KEEP_JSON:-}" ]; then
	mkdir -p "$ECIF_PG_KEEP_JSON"
	cp "$tmp"/*.json "$ECIF_PG_KEEP_JSON/"
fi

echo "== comparison (one client, one call at a time; latency in us)"
"$python" - "$tmp/ecif.json" "$tmp/pg.json" \
	${truth_file:+"$tmp/ecif-eval.json"} <<'EOF'
import json
import sys

ecif = json.load(open(sys.argv[1]))
pg = json.load(open(sys.argv[2]))
# With a truth file, the appliance's accuracy comes from evaluate query.
if len(sys.argv) > 3:
    ecif_hit_at_1 = json.load(open(sys.argv[3]))["hit_at_1"]
else:
    ecif_hit_at_1 = ecif["accuracy"]["hit_at_1"]

e = ecif["latency"]["resolve"]
p = pg["latency"]["execute"]
rows = [
    ("appliance (ecifd, gRPC)", e, ecif_hit_at_1),
    ("PostgreSQL 15 (libpq)", p, pg["accuracy"]["hit_at_1"]),
]
print("| system | p50 | p99 | throughput (1/mean, q/s) | hit@1 |")
print("|---|---|---|---|---|")
for name, lat, hit in rows:
    qps = 1e6 / lat["mean_us"] if lat["mean_us"] > 0 else 0.0
    print("| %s | %.1f | %.1f | %.0f | %.4f |"
          % (name, lat["p50_us"], lat["p99_us"], qps, hit))
ratio = p["p50_us"] / e["p50_us"] if e["p50_us"] > 0 else 0.0
print("PostgreSQL p50 / appliance p50: %.2f" % ratio)
print("samples: appliance %d, PostgreSQL %d; failed: %d and %d"
      % (e["samples"], p["samples"], e["failed"], p["failed"]))
EOF

echo "== machine"
echo "date:       $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "nproc:      $(nproc)"
echo "cpu:        $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo |
	head -n 1)"
echo "kernel:     $(uname -r)"
echo "debian:     $(cat /etc/debian_version 2>/dev/null || echo unknown)"
echo "postgresql: $pg_version (shared_buffers ${buffers_mb}MB," \
	"work_mem 16MB, effective_cache_size ${cache_mb}MB, jit off)"
if commit=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null); then
	if ! git -C "$repo" diff --quiet HEAD --; then
		commit="$commit, with uncommitted changes"
	fi
else
	commit="unknown (not a git checkout)"
fi
echo "commit:     $commit"
[ $pg_status -eq 0 ] && [ $ecif_status -eq 0 ]
