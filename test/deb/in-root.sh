#!/usr/bin/env bash
# test/deb/run.sh runs this as root in a throwaway clean root of the suite,
# in the checkout (bound at its own path):  in-root.sh MAJOR NEW.deb OLD.deb
set -euo pipefail
major=$1 new=$(realpath "$2") old=$(realpath "$3")
top=$(pwd -P)
extversion=$(sed -n "s/^default_version = '\(.*\)'/\1/p" reclock.control)
# 19 is in experimental only: name its packages there, or apt will not take them
extra=()
[ "$major" != 19 ] || extra=(postgresql-19/experimental postgresql-client-19/experimental libpq5/experimental)

# the root shares the machine's network: its clusters take a port nobody
# listens on (pg_createcluster only knows the clusters of this root)
for port in $(shuf -i 20000-40000 -n 50); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || break
done
export PGPORT=$port

apt-get update -qq
echo "== 1. apt install $(basename "$new") in a clean root"
apt-get install -y -qq "$new" "${extra[@]}" >/tmp/apt.log 2>&1 || { cat /tmp/apt.log; exit 1; }
pkg=postgresql-$major-reclock
dpkg-query -W -f='${Package} ${Version} ${Status}\n' "$pkg"
fail=0
expect() { if [ -e "$1" ]; then echo "  $1"; else echo "  MISSING: $1"; fail=1; fi; }
expect /usr/lib/postgresql/$major/lib/reclock.so
expect /usr/share/postgresql/$major/extension/reclock.control
for f in src/reclock--*.sql; do expect "/usr/share/postgresql/$major/extension/$(basename "$f")"; done
expect /usr/share/doc/$pkg/copyright
expect /usr/share/doc/$pkg/LICENSE
expect /usr/share/doc/$pkg/README.md.gz
[ "$fail" = 0 ] || { echo "test-deb: files missing from $pkg" >&2; exit 1; }

echo "== 1. debian/tests/installcheck (pg_buildext installcheck) against the installed package"
# as autopkgtest runs it: the test dependencies (debian/tests/control: make,
# and pg_buildext's package: postgresql-common-dev where it exists, else
# postgresql-common, already installed), then the test from the top of the
# unpacked source package
testdeps=(make)
if apt-cache show postgresql-common-dev >/dev/null 2>&1; then testdeps+=(postgresql-common-dev); fi
apt-get install -y -qq "${testdeps[@]}" >/dev/null
work=$(mktemp -d /tmp/reclock-src.XXXXXX)
tar -xzf "$(dirname "$new")/reclock_$extversion.orig.tar.gz" -C "$work"
src=$work/reclock-$extversion
cp -a "$top/.ci/debian" "$src/debian"
chown -R postgres "$work"
(cd "$src" && debian/tests/installcheck)

echo "== 2. apt install $(basename "$old") (1.0), a live lock, apt install $(basename "$new") over it"
apt-get install -y -qq --allow-downgrades "$old" >/tmp/apt.log 2>&1 || { cat /tmp/apt.log; exit 1; }
dpkg-query -W -f='${Package} ${Version}\n' "$pkg"
ext=/usr/share/postgresql/$major/extension
grep -q "^default_version = '1.0'" $ext/reclock.control
[ ! -e $ext/reclock--$extversion.sql ] || { echo "test-deb: the 1.0 package left reclock--$extversion.sql" >&2; exit 1; }
ls $ext/reclock*
pg_virtualenv -v "$major" "$top/test/deb/upgrade.sh" "$major" "$new" "$extversion"
