#!/usr/bin/env bash
# Run reclock's make targets on a PostgreSQL major this machine's Debian does
# not ship, with Debian's own binary packages, in a chroot of the suite that
# ships them (17: trixie, 18: sid, 19: sid + experimental, 15: bookworm).
#
#   .ci/in-chroot.sh N                provision the chroot of major N (once;
#                                     then `make deps PG_MAJOR=N` inside it)
#   .ci/in-chroot.sh N COMMAND...     provision if needed, then run COMMAND
#                                     inside it, in this checkout
#   .ci/in-chroot.sh --needed N       exit 0 if major N needs a chroot here
#                                     (the Makefile's PG_CHROOT asks this)
#
# The Makefile calls it: with PG_MAJOR=N for such a major every target (but
# `deps`) runs as `.ci/in-chroot.sh N make TARGET PG_MAJOR=N`.
#
# The chroots live outside the checkout, in $RECLOCK_CHROOTS (default
# /var/cache/reclock): chroot-N, made by `debootstrap --variant=minbase` from
# the Debian mirror in /etc/apt/sources.list.d (or $DEBIAN_MIRROR).  Each run
# happens in a mount namespace of its own (unshare): proc, /dev, a tmpfs on
# /dev/shm and the checkout (bound at its own path) are mounted for the
# command only and vanish with it, so nothing is left mounted and two
# checkouts can use one chroot at once.  Needs root.
set -euo pipefail

chroots=${RECLOCK_CHROOTS:-/var/cache/reclock}

suite_of() {
  case "$1" in
    15) echo bookworm ;;
    17) echo trixie ;;
    18) echo sid ;;
    19) echo sid ;;        # postgresql-19 is in experimental (added below)
    *) return 1 ;;
  esac
}

if [ "${1:-}" = --needed ]; then
  major=${2:?usage: $0 --needed MAJOR}
  # inside a chroot made by this script: never again
  [ -z "${RECLOCK_IN_CHROOT:-}" ] || exit 1
  # installed from a Debian package, or known to this machine's apt: native
  dpkg-query -W -f='${Status}' "postgresql-$major" 2>/dev/null | grep -q "install ok installed" && exit 1
  apt-cache show "postgresql-$major" >/dev/null 2>&1 && exit 1
  # apt has no lists yet (a fresh machine): trust the release's own major
  if ! ls /var/lib/apt/lists/*_Packages >/dev/null 2>&1; then
    codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
    [ "$(suite_of "$major" 2>/dev/null)" = "$codename" ] && [ "$major" != 19 ] && exit 1
  fi
  exit 0
fi

major=${1:?usage: $0 MAJOR [COMMAND...]}
shift
suite=$(suite_of "$major") || {
  echo "in-chroot: no Debian suite ships PostgreSQL $major (15: bookworm, 17: trixie, 18: sid, 19: experimental; 16 is in no Debian release)" >&2
  exit 2
}
if [ "$(id -u)" != 0 ]; then
  echo "in-chroot: run as root (debootstrap, chroot, mounts)" >&2
  exit 1
fi
root=$chroots/chroot-$major
top=$(cd "$(dirname "$0")/.." && pwd -P)
here=$(pwd -P)
case "$here" in "$top"|"$top"/*) ;; *) here=$top ;; esac

log() { echo "in-chroot $major: $*" >&2; }

# run "$@" in the chroot at $1 (a directory), in a mount namespace of its own
run_in() {
  local dir=$1; shift
  unshare --mount --propagation private -- /bin/bash -euc '
    dir=$1 top=$2 here=$3 major=$4; shift 4
    mount -t proc proc "$dir/proc"
    mount --rbind /dev "$dir/dev"
    mount -t tmpfs -o mode=1777 tmpfs "$dir/dev/shm"
    mkdir -p "$dir$top"
    mount --bind "$top" "$dir$top"
    exec chroot "$dir" /usr/bin/env RECLOCK_IN_CHROOT="$major" HOME=/root \
      PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
      DEBIAN_FRONTEND=noninteractive \
      /bin/bash -c "cd \"\$0\" && exec \"\$@\"" "$here" "$@"
  ' run_in "$dir" "$top" "$here" "$major" "$@"
}

mirror() {
  local m=${DEBIAN_MIRROR:-}
  if [ -z "$m" ]; then
    m=$(awk '$1 == "URIs:" && $2 ~ /\/debian\/?$/ { print $2; exit }' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
  fi
  if [ -z "$m" ]; then
    m=$(awk '$1 == "deb" && $3 ~ /\/debian\/?$/ { print $3; exit } $1 == "deb" && $2 ~ /\/debian\/?$/ { print $2; exit }' /etc/apt/sources.list 2>/dev/null || true)
  fi
  echo "${m:-http://deb.debian.org/debian}"
}

# 1. the chroot itself (debootstrap), once
provision() {
  mkdir -p "$chroots"
  exec 9>"$root.lock"
  flock 9
  if [ -f "$root/.reclock-chroot" ]; then exec 9>&-; return 0; fi
  local t0 m
  t0=$(date +%s)
  m=$(mirror)
  command -v debootstrap >/dev/null || { log "installing debootstrap"; apt-get install -y -qq debootstrap >/dev/null; }
  log "debootstrap --variant=minbase $suite $root.partial $m"
  rm -rf "$root.partial"
  # in a mount namespace: whatever debootstrap mounts goes with it
  unshare --mount --propagation private -- \
    debootstrap --variant=minbase "$suite" "$root.partial" "$m" >"$root.debootstrap.log" 2>&1 || {
      tail -20 "$root.debootstrap.log" >&2; log "debootstrap failed (log: $root.debootstrap.log)"; exit 1; }
  # sid's and experimental's Release files may be past their Valid-Until in
  # a snapshot mirror; never start a server while installing
  cat >"$root.partial/etc/apt/apt.conf.d/90reclock" <<'EOF'
Acquire::Check-Valid-Until "false";
APT::Install-Recommends "false";
EOF
  if [ "$major" = 19 ]; then
    echo "deb $m experimental main" >"$root.partial/etc/apt/sources.list.d/experimental.list"
  fi
  printf '#!/bin/sh\nexit 101\n' >"$root.partial/usr/sbin/policy-rc.d"
  chmod +x "$root.partial/usr/sbin/policy-rc.d"
  run_in "$root.partial" /bin/sh -c 'apt-get update -qq && apt-get install -y -qq make >/dev/null'
  echo "$suite $(date -u +%FT%TZ)" >"$root.partial/.reclock-chroot"
  mv "$root.partial" "$root"
  log "chroot made in $(( $(date +%s) - t0 )) s: $root"
  exec 9>&-
}

provision
if [ $# = 0 ]; then
  # the packages: the checkout's own `make deps`, inside (installs what is missing)
  set -- make --no-print-directory deps PG_MAJOR="$major"
fi
run_in "$root" "$@"
