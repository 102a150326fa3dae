#!/usr/bin/env bash
# Build and install Citus (a test dependency only: nothing of it goes into
# reclock) for the PostgreSQL of $PG_CONFIG, once: a Citus already installed
# at this version is kept (the chroot that holds it is cached, so the build,
# about 6 minutes on two cores, happens once per chroot).
#
#   build.sh               build and install here (in the chroot, or natively)
#   build.sh --stage N     on the host, before `make test-citus PG_MAJOR=N`
#                          runs in the chroot of major N: copy the source into
#                          that chroot unless Citus is installed there already
#
#   CITUS_TARBALL  the source (default: citus-$CITUS_VERSION.tar.gz from
#                  /var/cache/reclock-citus, where --stage puts it, or from
#                  ../shared/vendor beside the checkout)
set -euo pipefail

CITUS_VERSION=${CITUS_VERSION:-14.0.1}
top=$(cd "$(dirname "$0")/../.." && pwd -P)
staged=/var/cache/reclock-citus/citus-$CITUS_VERSION.tar.gz
vendor=$top/../shared/vendor/citus-$CITUS_VERSION.tar.gz

# is Citus $CITUS_VERSION installed under this extension directory?
installed() {
  grep -q "^default_version = '${CITUS_VERSION%.*}-" "$1/citus.control" 2>/dev/null
}

if [ "${1:-}" = --stage ]; then
  major=${2:?usage: $0 --stage MAJOR}
  root=${RECLOCK_CHROOTS:-/var/cache/reclock}/chroot-$major
  installed "$root/usr/share/postgresql/$major/extension" && exit 0
  src=${CITUS_TARBALL:-$vendor}
  if [ ! -f "$src" ]; then
    echo "citus: no source at $src (set CITUS_TARBALL)" >&2
    exit 1
  fi
  mkdir -p "$root$(dirname "$staged")"
  cp "$src" "$root$staged"
  exit 0
fi

PG_CONFIG=${PG_CONFIG:-pg_config}
pkglibdir=$($PG_CONFIG --pkglibdir)
sharedir=$($PG_CONFIG --sharedir)
major=$($PG_CONFIG --version | sed 's/^PostgreSQL \([0-9]*\).*/\1/')
tarball=${CITUS_TARBALL:-}
if [ -z "$tarball" ]; then
  tarball=$staged
  [ -f "$tarball" ] || tarball=$vendor
fi

if [ -f "$pkglibdir/citus.so" ] && installed "$sharedir/extension"; then
  exit 0
fi
if [ ! -f "$tarball" ]; then
  echo "citus: no source at $tarball (set CITUS_TARBALL)" >&2
  exit 1
fi

t0=$(date +%s)
echo "citus: building Citus $CITUS_VERSION for PostgreSQL $major (once; about 6 minutes)"
pkgs="gcc make postgresql-server-dev-$major liblz4-dev libzstd-dev libssl-dev libkrb5-dev
  libselinux1-dev libxml2-dev libxslt1-dev libpam0g-dev libreadline-dev zlib1g-dev libicu-dev"
missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
fi
dir=$(mktemp -d /tmp/reclock-citus-build.XXXXXX)
trap 'rm -rf "$dir"' EXIT
tar -xzf "$tarball" -C "$dir"
cd "$dir"/citus-*
log=$dir/build.log
{ ./configure PG_CONFIG="$PG_CONFIG" --without-libcurl && make -j"$(nproc)" && make install; } >"$log" 2>&1 || {
  tail -40 "$log" >&2; echo "citus: build failed" >&2; exit 1; }
echo "citus: built and installed in $(( $(date +%s) - t0 )) s"
