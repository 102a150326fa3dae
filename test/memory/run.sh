#!/usr/bin/env bash
# reclock's C code under valgrind memcheck: a postmaster started under
# valgrind (every backend traced) runs the regression tests.  PostgreSQL
# itself is not built for valgrind here, so only errors whose stack passes
# through reclock.so count; any such error fails the run.  Must not run as
# root (initdb refuses): `make check-memory` runs it as user postgres, after
# installing a test build.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
bindir=/usr/lib/postgresql/${PG_MAJOR:-15}/bin
command -v valgrind >/dev/null || { echo "memory: valgrind is missing"; exit 1; }
work=$(mktemp -d /tmp/reclock-memory.XXXXXX)
port=$((50000 + RANDOM % 10000))
"$bindir/initdb" -D "$work/data" -A trust >/dev/null
valgrind --tool=memcheck --trace-children=yes --num-callers=60 --error-limit=no \
	--log-file="$work/vg.%p.log" \
	"$bindir/postgres" -D "$work/data" -p "$port" -k "$work" -c listen_addresses= \
	> "$work/server.log" 2>&1 &
vpid=$!
cleanup() { kill -INT "$vpid" 2>/dev/null || true; wait "$vpid" 2>/dev/null || true; }
trap 'cleanup; rm -rf "$work"' EXIT
for _ in $(seq 300); do "$bindir/pg_isready" -q -h "$work" -p "$port" && break; sleep 1; done
rc=0
# the regression tests but guard_paths and bounded (their bulk work is too slow under valgrind)
make -C "$top" --no-print-directory installcheck PG_CONFIG="$bindir/pg_config" \
	REGRESS="${MEM_REGRESS:-acquire keys expiry errors guard token cas children privileges bad_input store twophase drop ddl publication keys_session rights parallel guard_refusal plans reentry upgrade}" ISOLATION= \
	PGHOST="$work" PGPORT="$port" >"$work/regress.log" 2>&1 || rc=$?
grep -E "^(test|ok|not ok)| tests " "$work/regress.log" | sed 's/^/  /' || true
cleanup
total=$(cat "$work"/vg.*.log | grep -c '^==[0-9]*== \(Invalid\|Conditional\|Use of uninit\|Syscall param\|Source and destination\|Mismatched\)' || true)
# a frame of reclock's: reclock.so, or one of its sources (the library has
# debug information, so valgrind names the file and line, not the .so)
ours_re='reclock\.so|[( ](reclock|keys|plans|store|acquire|guard|children|cas|notify|ddl)\.c:[0-9]+\)'
ours=$(cat "$work"/vg.*.log | awk -v re="$ours_re" '/^==[0-9]+== [A-Z]/ { if (blk ~ re) n++; blk = $0; next }
	/^==[0-9]+== +(at|by) / { blk = blk "\n" $0; next }
	END { if (blk ~ re) n++; print n + 0 }')
echo "memory: valgrind memcheck over the regression tests: $total errors reported in all (PostgreSQL is not built for valgrind), $ours with reclock on the stack"
cat "$work"/vg.*.log | grep -E -B3 -A25 "$ours_re" | head -80 || true
[ "$rc" = 0 ] || { echo "memory: the regression tests failed under valgrind"; exit 1; }
[ "$ours" = 0 ]
