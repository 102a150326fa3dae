#!/usr/bin/env bash
# Provision PostgreSQL MAJOR (17, 18, 19) on Debian 12 from Debian's source
# package, in Debian's layout, for reclock's tests (`make deps PG_MAJOR=N`).
#
#   .ci/build-pg.sh 18          build and install once; later runs take a second
#   FORCE=1 .ci/build-pg.sh 18  rebuild even if the stamp says it is built
#
# Bookworm has binary packages for 15 only.  For a newer major this script
# fetches Debian's source package (17 from trixie, 18 from sid, 19 from
# experimental) with `apt-get source`, from deb-src lines kept in a file of
# their own so that the machine's binary packages stay bookworm's.  It does
# not run dpkg-buildpackage (slow, and its build dependencies are not
# bookworm's): it configures and builds the upstream tree with Debian's
# patches applied, in Debian's directory layout, and installs
#   - the server and client programs in /usr/lib/postgresql/N/bin (so that
#     postgresql-common's pg_virtualenv/pg_createcluster find version N),
#   - libraries, PGXS, pg_regress and pg_isolation_regress in
#     /usr/lib/postgresql/N/lib (pgxs), the Perl TAP modules beside them,
#   - server headers in /usr/include/postgresql/N/server,
#   - data files in /usr/share/postgresql/N, the contrib modules the tests use,
#   - pgTAP, built from the upstream tarball of Debian's `pgtap` source package.
# Nothing of bookworm's is overwritten: libpq and the client headers of N stay
# under /usr/lib/postgresql/N and /usr/include/postgresql/N (binaries find
# their libpq by rpath).  A stamp, /usr/lib/postgresql/N/.reclock-build, names
# the Debian version built; when it is there the script does nothing.
#
# Exit status: 0 built (or already built); 3 the source package cannot be
# downloaded (listed in Debian's index but its files are not served): the
# caller may report that major as not provisioned; anything else: failure.
set -euo pipefail
# run from `make deps`, this script inherits MAKELEVEL=1: PostgreSQL's
# Makefile.global builds its generated headers (errcodes.h, ...) first only
# in a top-level make, so a parallel build would race for them
unset MAKELEVEL MAKEFLAGS MFLAGS

major=${1:?usage: $0 MAJOR}
case "$major" in
  17) suite=trixie ;;
  18) suite=sid ;;
  19) suite=experimental ;;
  *) echo "build-pg: no Debian source for PostgreSQL $major is known here (17: trixie, 18: sid, 19: experimental; 15 is bookworm's binary package)" >&2; exit 2 ;;
esac
pkg=postgresql-$major
bindir=/usr/lib/postgresql/$major/bin
libdir=/usr/lib/postgresql/$major/lib
stamp=/usr/lib/postgresql/$major/.reclock-build
cache=${PG_BUILD_CACHE:-/var/cache/reclock-pg}
jobs=$(nproc)
# contrib modules reclock's tests use: amcheck (sql/store.sql), test_decoding (stress)
contrib="amcheck test_decoding"
srcfile=/etc/apt/sources.list.d/reclock-pg-newer-src.sources

log() { echo "build-pg $major: $*"; }

if [ "$(id -u)" != 0 ]; then
  echo "build-pg: run as root (it installs into /usr)" >&2; exit 1
fi

installed_ok() {
  [ -x "$bindir/pg_config" ] && [ -x "$bindir/postgres" ] && [ -x "$bindir/pg_ctl" ] &&
    pgxs=$("$bindir/pg_config" --pgxs) && [ -f "$pgxs" ] &&
    [ -x "$(dirname "$pgxs")/../test/regress/pg_regress" ] &&
    [ -x "$(dirname "$pgxs")/../test/isolation/pg_isolation_regress" ] &&
    [ -f "$(dirname "$pgxs")/../test/perl/PostgreSQL/Test/Cluster.pm" ] &&
    [ -f "/usr/share/postgresql/$major/extension/amcheck.control" ]
}

if [ "${FORCE:-}" != 1 ] && [ -f "$stamp" ] && installed_ok; then
  log "already built: $(cat "$stamp") (FORCE=1 rebuilds)"
  exit 0
fi

start=$(date +%s)

# 1. deb-src lines for the newer suites, in a file of their own
want_sources='# reclock (make deps PG_MAJOR=17/18/19, .ci/build-pg.sh): source packages
# only, from newer suites; the machine'"'"'s binary packages stay bookworm'"'"'s.
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: trixie sid experimental
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg'
updated=""
if [ "$(cat "$srcfile" 2>/dev/null)" != "$want_sources" ]; then
  log "writing $srcfile"
  printf '%s\n' "$want_sources" > "$srcfile"
  apt-get update -qq; updated=1
fi
if ! apt-get source --print-uris "$pkg/$suite" >/dev/null 2>&1 && [ -z "$updated" ]; then
  apt-get update -qq
fi
version=$(apt-get source --print-uris "$pkg/$suite" 2>/dev/null | sed -n "s/^Selected version '\([^']*\)'.*/\1/p")
if [ -z "$version" ]; then
  echo "build-pg: Debian's $suite has no source package $pkg" >&2; exit 3
fi
log "Debian source package $pkg $version ($suite)"

# 2. build dependencies, from bookworm (not `apt-get build-dep` of the newer package)
deps="build-essential dpkg-dev bison flex perl pkg-config libreadline-dev zlib1g-dev libssl-dev
  libicu-dev liblz4-dev libzstd-dev libipc-run-perl postgresql-common"
missing=""
for p in $deps; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  log "installing build dependencies:$missing"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
fi

# 3. the source package (kept in $cache/src: a rebuild downloads nothing)
mkdir -p "$cache/src"
cd "$cache/src"
dsc="${pkg}_${version#*:}.dsc"
if [ ! -f "$dsc" ]; then
  if ! apt-get source --download-only -qq "$pkg/$suite" >download.log 2>&1; then
    echo "build-pg: cannot download Debian's source package $pkg $version ($suite):" >&2
    grep -E "^(E|Err):" download.log >&2 || cat download.log >&2
    rm -f "$dsc"
    exit 3
  fi
fi
tree="$cache/build-$major"
rm -rf "$tree"
dpkg-source --no-check -x "$dsc" "$tree" >/dev/null   # applies Debian's patches
cd "$tree"

# Debian's patch 50-per-version-dirs puts server headers in
# $(pkgincludedir)/N/server, for includedir=/usr/include/postgresql.  Here the
# client headers go to /usr/include/postgresql/N (bookworm's libpq-dev owns
# /usr/include/postgresql), so the server headers go to .../N/server as in Debian.
sed -i 's|^includedir_server = $(pkgincludedir)/@PG_MAJORVERSION@/server|includedir_server = $(pkgincludedir)/server|' \
  src/Makefile.global.in

# 4. configure, build, install (Debian's layout; no docs, no LLVM, no NLS)
log "configure"
./configure -q \
  --prefix=/usr/lib/postgresql/$major \
  --bindir="$bindir" \
  --libdir="$libdir" \
  --libexecdir="$libdir" \
  --includedir=/usr/include/postgresql/$major \
  --datarootdir=/usr/share \
  --datadir=/usr/share/postgresql/$major \
  --mandir=/usr/share/postgresql/$major/man \
  --docdir=/usr/share/doc/postgresql-doc-$major \
  --sysconfdir=/etc/postgresql-common \
  --with-extra-version=" (Debian $version source, built by reclock)" \
  --with-pgport=5432 \
  --with-system-tzdata=/usr/share/zoneinfo \
  --with-openssl --with-icu --with-lz4 --with-zstd \
  --enable-debug --enable-tap-tests \
  CFLAGS="-O2 -g" >configure.log
log "make -j$jobs (server, PGXS, pg_regress, isolation tester, TAP modules; contrib: $contrib)"
make -s -j"$jobs" >build.log 2>&1 || { tail -50 build.log; exit 1; }
for m in $contrib; do make -s -j"$jobs" -C contrib/$m >>build.log 2>&1 || { tail -50 build.log; exit 1; }; done
make -s -j"$jobs" -C src/test/isolation >>build.log 2>&1 || { tail -50 build.log; exit 1; }
log "install"
{
  make -s install
  make -s -C src/test/regress install      # pg_regress into PGXS
  make -s -C src/test/isolation install    # pg_isolation_regress into PGXS
  make -s -C src/test/perl install         # PostgreSQL::Test::* into PGXS
  for m in $contrib; do make -s -C contrib/$m install; done
} >install.log 2>&1 || { tail -50 install.log; exit 1; }

# 5. pgTAP, from the upstream tarball of Debian's `pgtap` source package (sid):
# optional (make test skips pgTAP on N without it)
(
  cd "$cache/src"
  tap=$(apt-get source --print-uris pgtap/sid 2>/dev/null | sed -n "s/^'[^']*' \(pgtap_[^ ]*\.orig\.tar\.gz\) .*/\1/p")
  [ -n "$tap" ] || { log "no pgtap source package in sid: pgTAP not installed"; exit 0; }
  # apt checks each file against the index; the .dsc and Debian diff may be missing from
  # the mirror, the upstream tarball is all that is needed
  [ -f "$tap" ] || apt-get source --download-only -qq pgtap/sid >/dev/null 2>&1 || true
  [ -f "$tap" ] || { log "cannot download $tap: pgTAP not installed"; exit 0; }
  rm -rf "$cache/pgtap-$major" && mkdir -p "$cache/pgtap-$major"
  tar -xzf "$tap" -C "$cache/pgtap-$major" --strip-components=1
  if make -s -C "$cache/pgtap-$major" PG_CONFIG="$bindir/pg_config" >"$cache/pgtap-$major.log" 2>&1 &&
     make -s -C "$cache/pgtap-$major" PG_CONFIG="$bindir/pg_config" install >>"$cache/pgtap-$major.log" 2>&1; then
    log "pgTAP ${tap%.orig.tar.gz} installed"
  else
    log "pgTAP did not build on $major (see $cache/pgtap-$major.log): not installed"
  fi
)

# 6. check that the layout is coherent and that postgresql-common takes it
"$bindir/pg_config" --version
for opt in --bindir --pkglibdir --includedir-server --sharedir --pgxs; do
  printf '  pg_config %-19s %s\n' "$opt" "$("$bindir/pg_config" $opt)"
done
installed_ok || { echo "build-pg: installed tree incomplete" >&2; exit 1; }
[ "$("$bindir/pg_config" --includedir-server)" = /usr/include/postgresql/$major/server ]
log "checking pg_virtualenv -v $major"
pg_virtualenv -v "$major" psql -X -At -c 'SELECT version()' </dev/null

echo "$pkg $version ($suite) $("$bindir/pg_config" --version) built $(date -u +%FT%TZ)" > "$stamp"
cd "$cache" && rm -rf "$tree"
log "done in $(( $(date +%s) - start )) s"
