#!/bin/sh
# Install the Debian 12 packages that building, running and testing the
# appliance need. Safe to run again: packages already present are skipped,
# and apt-get runs only when something is missing.
#
# usage: tools/install-deps.sh [--with-postgresql]
#
# --with-postgresql also installs PostgreSQL 15 (server, client, and the
# pg_trgm and fuzzystrmatch extensions that postgresql-15 ships) and libpq
# for bench/pg-compare.sh. The build and the test suite do not need them.
set -eu

with_postgresql=0
case "${1:-}" in
"") ;;
--with-postgresql) with_postgresql=1 ;;
*)
	echo "install-deps: unknown option '$1'; usage:" \
		"tools/install-deps.sh [--with-postgresql]" >&2
	exit 2
	;;
esac

packages="
build-essential
cmake
pkg-config
libgrpc-dev
libprotobuf-c-dev
protobuf-c-compiler
libjemalloc-dev
liburing-dev
libutf8proc-dev
unicode-data
protobuf-compiler
protobuf-compiler-grpc
python3-grpcio
python3-protobuf
openssl
gnuplot-nox
clang
libclang-rt-14-dev
"
if [ $with_postgresql -eq 1 ]; then
	packages="$packages
postgresql-15
postgresql-client-15
libpq-dev
"
fi

missing=""
for pkg in $packages; do
	status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
	case "$status" in
	*"install ok installed"*) ;;
	*) missing="$missing $pkg" ;;
	esac
done

if [ -z "$missing" ]; then
	echo "install-deps: all packages are installed"
	exit 0
fi

echo "install-deps: missing:$missing"
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		SUDO=sudo
	else
		echo "install-deps: not root and sudo is not available;" \
		    "run as root: apt-get install$missing" >&2
		exit 1
	fi
else
	SUDO=
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing
echo "install-deps: installed:$missing"
