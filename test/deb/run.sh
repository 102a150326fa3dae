#!/usr/bin/env bash
# make test-deb PG_MAJOR=N (as root): the Debian packages of major N, made by
# `make deb` (build/deb-N), installed as a DBA installs them, in a clean root
# of the Debian suite that ships N (a debootstrap --variant=minbase root made
# once by .ci/in-chroot.sh in $RECLOCK_CHROOTS/deb-base, then copied for each
# run and thrown away; the shared chroots are never touched):
#   1. apt install ./postgresql-N-reclock_X.Y-1_*.deb: its files are where
#      Debian puts them; debian/tests/installcheck (pg_buildext installcheck,
#      what Debian's autopkgtest runs) passes against the installed files
#   2. the package of 1.0 (built from the last commit of 1.0 by the same
#      packaging, with patches-1.0 for the APIs of newer majors,
#      build/deb-N-1.0), installed over it (a downgrade: then the
#      files are those of a 1.0 install), a database on 1.0 with a live lock,
#      apt install of the new package over it, ALTER EXTENSION reclock UPDATE:
#      the lock is live and its token still counts (test/deb/upgrade.sh)
set -euo pipefail
cd "$(dirname "$0")/../.."
top=$(pwd -P)
major=${1:?usage: $0 MAJOR}
chroots=${RECLOCK_CHROOTS:-/var/cache/reclock}
[ "$(id -u)" = 0 ] || { echo "test-deb: run as root (debootstrap, chroot)" >&2; exit 1; }

# 1.0 has no tag: its last commit is the parent of the first commit of 1.1
# (f37534c "version 1.1: ...")
old_commit=${RECLOCK_OLD_COMMIT:-69ae9ef}
extversion=$(sed -n "s/^default_version = '\(.*\)'/\1/p" reclock.control)
new=$(ls build/deb-$major/postgresql-$major-reclock_"$extversion"-1_*.deb 2>/dev/null | grep -v dbgsym || true)
[ -n "$new" ] || { echo "test-deb: no build/deb-$major/postgresql-$major-reclock_$extversion-1_*.deb (make deb PG_MAJOR=$major)" >&2; exit 1; }

# the 1.0 package, once (a fixed commit): its tarball needs git, here
old=$(ls build/deb-$major-1.0/postgresql-$major-reclock_1.0-1_*.deb 2>/dev/null | grep -v dbgsym || true)
if [ -z "$old" ]; then
  git show "$old_commit:reclock.control" | grep -q "^default_version = '1.0'$" || {
    echo "test-deb: $old_commit is not 1.0 (RECLOCK_OLD_COMMIT)" >&2; exit 1; }
  .ci/dist.sh build/dist-1.0 "$old_commit"
  # 1.0 predates 17's, 18's and 19's API changes: a quilt patch selects
  # them as later versions do (test/deb/patches-1.0; 15 builds 1.0 as it was)
  build_old=(env DEB_LINTIAN=no DEB_PATCHES=test/deb/patches-1.0 .ci/deb.sh "$major" build/dist-1.0/reclock_1.0.orig.tar.gz "build/deb-$major-1.0")
  if .ci/in-chroot.sh --needed "$major"; then
    .ci/in-chroot.sh "$major" "${build_old[@]}"
  else
    "${build_old[@]}"
  fi
  old=$(ls build/deb-$major-1.0/postgresql-$major-reclock_1.0-1_*.deb | grep -v dbgsym)
fi

# the clean root: a pristine base made once, a copy per run
base=$chroots/deb-base
RECLOCK_CHROOTS=$base .ci/in-chroot.sh "$major" true
mkdir -p "$chroots"
run=$(mktemp -d "$chroots/deb-run-$major.XXXXXX")
cleanup() { rm -rf --one-file-system "$run"; }
trap cleanup EXIT
t0=$(date +%s)
cp -a "$base/chroot-$major" "$run/chroot-$major"
echo "== test-deb $major: a clean root of its suite ($run/chroot-$major, $(( $(date +%s) - t0 )) s to copy)"
# a root of this machine's own suite (15: bookworm) gets this machine's apt
# sources, point-release updates and security included, as a DBA's up to
# date system has them: the package was built here, against the PostgreSQL
# this machine has (debootstrap's root knows the release's first packages only)
if [ "$(. /etc/os-release && echo "${VERSION_CODENAME:-}")" = "$(. "$run/chroot-$major/etc/os-release" && echo "${VERSION_CODENAME:-}")" ]; then
  rm -f "$run/chroot-$major/etc/apt/sources.list" "$run/chroot-$major"/etc/apt/sources.list.d/*
  [ ! -f /etc/apt/sources.list ] || cp /etc/apt/sources.list "$run/chroot-$major/etc/apt/sources.list"
  for f in /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [ ! -f "$f" ] || cp "$f" "$run/chroot-$major/etc/apt/sources.list.d/"
  done
fi
RECLOCK_CHROOTS=$run .ci/in-chroot.sh "$major" test/deb/in-root.sh "$major" "$new" "$old"
echo "== test-deb $major: passed"
