#!/usr/bin/env bash
# make test-dist PG_MAJOR=N: the PGXN release zip (make dist, build/dist)
# unpacked in a temporary directory builds, installs and passes its own
# `make installcheck`, as a PGXN user (or `pgxn install`) does it: a
# production build, so installcheck leaves out the tests that move reclock's
# clock (they need a test build) and says so.  As root, the tree belongs to
# the user that runs the server (postgres).
set -euo pipefail
cd "$(dirname "$0")/../.."
major=${1:?usage: $0 MAJOR}
pg_config=/usr/lib/postgresql/$major/bin/pg_config
pgxnversion=$(sed -n 's/^   "version": "\(.*\)",$/\1/p' META.json)
zip=$(pwd)/build/dist/reclock-$pgxnversion.zip
[ -f "$zip" ] || { echo "test-dist: no $zip (make dist)" >&2; exit 1; }
# what a PGXN user needs: the server, its PGXS, a compiler, unzip (as root:
# installed when missing; 19's from experimental)
apt19=""; [ "$major" != 19 ] || apt19=/experimental
need=()
for p in postgresql-$major postgresql-server-dev-$major make gcc unzip; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "test-dist: installing ${need[*]}" >&2
  pkgs=()
  for p in "${need[@]}"; do case "$p" in postgresql-*) pkgs+=("$p$apt19") ;; *) pkgs+=("$p") ;; esac; done
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${pkgs[@]}" >/dev/null
fi

work=$(mktemp -d /tmp/reclock-dist.XXXXXX)
trap 'rm -rf "$work"' EXIT
(cd "$work" && unzip -q "$zip")
src=$work/reclock-$pgxnversion
[ -f "$src/META.json" ] && [ -f "$src/Makefile" ] || { echo "test-dist: $zip has no reclock-$pgxnversion/ with META.json and Makefile" >&2; exit 1; }
# the keys PGXN's meta spec (1.0.0) requires, and the versions agree
for key in name abstract version maintainer license provides meta-spec; do
  grep -q "^   \"$key\": " "$src/META.json" || { echo "test-dist: META.json has no $key" >&2; exit 1; }
done
[ "$(grep -c "\"version\": \"$pgxnversion\"" "$src/META.json")" = 2 ] || {
  echo "test-dist: META.json's provides.reclock.version is not its version $pgxnversion" >&2; exit 1; }
# every file META.json names is in the zip
for f in $(sed -n 's/^ *"\(file\|docfile\)": "\(.*\)",\{0,1\}$/\2/p' "$src/META.json"); do
  [ -f "$src/$f" ] || { echo "test-dist: META.json names $f, not in the zip" >&2; exit 1; }
done
echo "== test-dist: $zip unpacked: make, make install, make installcheck"
make -C "$src" --no-print-directory PG_CONFIG="$pg_config" >/dev/null
make -C "$src" --no-print-directory PG_CONFIG="$pg_config" install >/dev/null
user=""
[ "$(id -u)" != 0 ] || { chown -R postgres "$work"; user="runuser -u postgres --"; }
$user pg_virtualenv -v "$major" -o max_prepared_transactions=10 \
  make -C "$src" --no-print-directory PG_CONFIG="$pg_config" installcheck || {
  cat "$src/regression.diffs" 2>/dev/null | head -100; exit 1; }
echo "== test-dist: passed"
