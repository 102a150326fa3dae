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
[ -x "$pg_config" ] && [ -n "$("$pg_config" --pgxs 2>/dev/null)" ] && [ -f "$("$pg_config" --pgxs)" ] || {
  echo "test-dist: no PGXS for PostgreSQL $major (make deps PG_MAJOR=$major installs it)" >&2; exit 1; }
command -v unzip >/dev/null || { apt-get install -y -qq unzip >/dev/null; }

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
