#!/bin/sh
# Install what is missing, build, import the bundled Febrl 4 dataset with
# example accounts, start ecifd on loopback, run example who-is-this and
# exposure queries, and keep serving until interrupted.
#
#   tools/demo.sh          serve until Ctrl-C after the examples
#   tools/demo.sh --once   run the examples, stop ecifd and exit
#
# ECIF_LISTEN sets the address (default 127.0.0.1:50051).
set -eu

cd "$(dirname "$0")/.."
once=0
case "${1:-}" in
--once) once=1 ;;
"") ;;
*)
	echo "usage: tools/demo.sh [--once]" >&2
	exit 2
	;;
esac
listen="${ECIF_LISTEN:-127.0.0.1:50051}"

tools/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)"

demo=build/demo
data=bench/data/febrl4
mkdir -p "$demo"

# Example accounts, derived from the record number so every run gets the
# same figures: each original record holds a loan (and every third one a
# deposit) at one branch; each duplicate record, standing for the same
# person in another branch's system, holds a credit card.
awk -F', *' '
BEGIN {
	OFS = ","
	print "source_system,source_id,account_id,product,credit_limit," \
	    "balance,currency,branch"
	split("Sydney Melbourne Brisbane Perth Adelaide Hobart", branch, " ")
}
FNR == 1 { next }
{
	gsub(/\r/, "")
	id = $1
	n = id
	sub(/^rec-/, "", n)
	sub(/-.*/, "", n)
	n += 0
	if (id ~ /-org$/) {
		limit = (n * 37 % 90 + 10) * 1000
		printf "febrl,%s,L%06d,loan,%d.00,%d.00,CNY,%s\n", id, n, limit,
		    limit * (n % 7) / 10, branch[n % 6 + 1]
		if (n % 3 == 0)
			printf "febrl,%s,D%06d,deposit,0.00,%d.50,CNY,%s\n", id, n,
			    n * 13 % 5000 + 100, branch[n % 6 + 1]
	} else {
		printf "febrl,%s,K%06d,credit_card,%d.00,%d.25,CNY,%s\n", id, n,
		    (n % 5 + 1) * 10000, n * 7 % 9000, branch[(n + 3) % 6 + 1]
	}
}' "$data/dataset4a.csv" "$data/dataset4b.csv" >"$demo/accounts.csv"

# A run after an earlier one imports as the nightly job would. Customer
# numbers follow the previous snapshot, and the journal's corrections and
# added records carry into the new one. Each run keeps the old journal as
# febrl4.snap.journal.folded-TIME.
previous=""
if [ -f "$demo/febrl4.snap" ]; then
	previous="--previous $demo/febrl4.snap"
	if [ -f "$demo/febrl4.snap.journal" ]; then
		previous="$previous --journal $demo/febrl4.snap.journal"
	fi
fi
# shellcheck disable=SC2086 # $previous is a list of options
build/tools/ecifctl import --output "$demo/febrl4.snap" $previous \
	--mapping tools/mappings/febrl.map --accounts "$demo/accounts.csv" \
	"$data/dataset4a.csv" "$data/dataset4b.csv"

# Created first: the wait loop below may read it before the shell
# that starts ecifd has opened it.
: >"$demo/ecifd.out"
build/rpc/ecifd --snapshot "$demo/febrl4.snap" --listen "$listen" \
	>"$demo/ecifd.out" &
pid=$!
trap 'kill "$pid" 2>/dev/null || true' EXIT
trap 'exit 130' INT TERM

# Wait for the serving line, at most 30 s.
server=""
tries=0
while [ -z "$server" ]; do
	if ! kill -0 "$pid" 2>/dev/null; then
		echo "demo: ecifd exited; see the messages above" >&2
		exit 1
	fi
	tries=$((tries + 1))
	if [ "$tries" -gt 300 ]; then
		echo "demo: ecifd did not start serving within 30 s" >&2
		exit 1
	fi
	sleep 0.1
	server=$(sed -n 's/^ecifd: serving on //p' "$demo/ecifd.out")
done

ctl() {
	echo
	echo "\$ ecifctl $*"
	build/tools/ecifctl "$@"
}

ctl health --server "$server"
# Who is this: a loan application with a misspelt surname and a date in
# another layout.
ctl resolve --server "$server" --given-name michaela --family-name neuman \
	--dob 11/11/1915 --id-number 5304218
# A name in the other order, with a typo, and the birth date: just enough
# for MATCH (13.0); drop the date and it is only a candidate.
ctl resolve --server "$server" --name "painter courtny" --dob 19161214
# Total exposure of the person behind an application, across branches.
ctl exposure --server "$server" --given-name rachael --family-name dent \
	--dob 1928-07-22 --id-number 1683994
ctl customer --server "$server" C000000000001

if [ "$once" -eq 1 ]; then
	echo
	echo "demo: examples done; stopping ecifd"
	exit 0
fi
echo
echo "demo: ecifd is serving on $server (snapshot $demo/febrl4.snap);" \
	"query it with build/tools/ecifctl; Ctrl-C stops it"
wait "$pid"
