#!/usr/bin/env bash
# Build the Debian packages of reclock for one PostgreSQL major (`make deb`),
# as Debian builds a "3.0 (quilt)" source package: the upstream tarball
# (reclock_X.Y.orig.tar.gz, made by .ci/dist.sh) is unpacked in a temporary
# directory, the packaging (.ci/debian) becomes its debian/, pg_buildext
# writes debian/control for the major (from debian/control.in), and
# dpkg-buildpackage builds the source package and postgresql-MAJOR-reclock;
# lintian checks them.  Nothing is built in the checkout.
#
#   .ci/deb.sh MAJOR [ORIG_TARBALL [OUTDIR]]
#       defaults: build/dist/reclock_<default_version>.orig.tar.gz, build/deb-MAJOR
#
# Runs on the Debian suite that ships MAJOR (the Makefile enters its chroot);
# installs the build tools it lacks (as root).  DEB_CHECK=yes also runs the
# build-time installcheck (dh_pgxs_test; it needs postgresql-MAJOR); by
# default the package is built with the nocheck profile and tested installed
# (make test-deb).  DEB_LINTIAN=no skips lintian; DEB_PATCHES=DIR adds a
# quilt series.  A tarball of another
# version than .ci/debian/changelog's gets a changelog of its own (X.Y-1):
# test/deb builds 1.0 that way.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
major=${1:?usage: $0 MAJOR [ORIG_TARBALL [OUTDIR]]}
extversion=$(sed -n "s/^default_version = '\(.*\)'/\1/p" reclock.control)
orig=$(realpath "${2:-build/dist/reclock_$extversion.orig.tar.gz}")
out=${3:-build/deb-$major}
[ -f "$orig" ] || { echo "deb: no $orig (make dist)" >&2; exit 1; }
version=$(basename "$orig" | sed -n 's/^reclock_\(.*\)\.orig\.tar\.gz$/\1/p')

# the build tools (19 is in experimental only: its server-dev comes from there)
pgdev=postgresql-server-dev-$major
[ "$major" != 19 ] || pgdev=$pgdev/experimental
need=""
for p in build-essential debhelper dpkg-dev fakeroot libssl-dev lintian postgresql-server-dev-all ${pgdev%/*}; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need="$need $p"
done
if [ -n "$need" ]; then
  echo "deb: installing$need" >&2
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    build-essential debhelper dpkg-dev fakeroot lintian postgresql-server-dev-all "$pgdev" >/dev/null
fi

work=$(mktemp -d /tmp/reclock-deb.XXXXXX)
trap 'rm -rf "$work"' EXIT
# as root, the build-time check's server runs as postgres: it reads the
# extension from debian/postgresql-N-reclock
chmod 755 "$work"
cp "$orig" "$work/"
tar -xzf "$orig" -C "$work"
src=$work/reclock-$version
[ -d "$src" ] || { echo "deb: $orig has no top directory reclock-$version/" >&2; exit 1; }
rm -rf "$src/debian"
cp -a .ci/debian "$src/debian"
# DEB_PATCHES=DIR: a quilt series (DIR/series and its patches) for this build,
# applied by dpkg-source as debian/patches (test/deb: 1.0 on newer majors)
if [ -n "${DEB_PATCHES:-}" ]; then
  mkdir -p "$src/debian/patches"
  cp "$DEB_PATCHES"/series "$DEB_PATCHES"/*.patch "$src/debian/patches/"
fi
if [ "$(dpkg-parsechangelog -l "$src/debian/changelog" -S Version)" != "$version-1" ]; then
  cat >"$src/debian/changelog" <<CHANGES
reclock ($version-1) unstable; urgency=medium

  * Upstream version $version, packaged with the packaging of
    $(dpkg-parsechangelog -l .ci/debian/changelog -S Version).

 -- $(dpkg-parsechangelog -l .ci/debian/changelog -S Maintainer)  $(dpkg-parsechangelog -l .ci/debian/changelog -S Date)
CHANGES
fi

# one major per build: the one of this suite (experimental's 19 beside sid's 18)
export PG_SUPPORTED_VERSIONS=$major
(cd "$src" && pg_buildext updatecontrol)
grep -q "^Package: postgresql-$major-reclock$" "$src/debian/control" || {
  echo "deb: debian/control has no postgresql-$major-reclock (debian/pgversions: $(grep -v '^#' .ci/debian/pgversions))" >&2; exit 1; }

profile=(-Pnocheck)
if [ "${DEB_CHECK:-no}" = yes ]; then profile=(); else export DEB_BUILD_OPTIONS="nocheck ${DEB_BUILD_OPTIONS:-}"; fi
(cd "$src" && dpkg-buildpackage -us -uc "${profile[@]}") >"$work/build.log" 2>&1 || {
  tail -60 "$work/build.log" >&2; echo "deb: dpkg-buildpackage failed" >&2; exit 1; }

changes=$(ls "$work"/reclock_"$version"-1_*.changes)
: >"$work/lintian.txt"
[ "${DEB_LINTIAN:-yes}" = no ] || lintian -I --show-overrides "$changes" 2>&1 | grep -v "^running with root privileges" >"$work/lintian.txt" || true

mkdir -p "$out"
rm -f "$out"/*
cp "$work"/*.deb "$work"/*.dsc "$work"/*.debian.tar.* "$work"/*.orig.tar.gz "$work"/*.changes "$work"/*.buildinfo "$work/build.log" "$work/lintian.txt" "$out/"
echo "== deb: $out"
ls -1 "$out"
[ "${DEB_LINTIAN:-yes}" = no ] && exit 0
echo "== lintian -I --show-overrides (I: information, O: overridden)"
if [ -s "$out/lintian.txt" ]; then cat "$out/lintian.txt"; else echo "(no tags)"; fi
if grep -q '^[EW]: ' "$out/lintian.txt"; then
  echo "deb: lintian reports errors or warnings" >&2
  exit 1
fi
