#!/usr/bin/env bash
# reclock on a Citus cluster: a coordinator and two workers on this machine
# (loopback), each a throwaway cluster of $PG_CONFIG's PostgreSQL with
# shared_preload_libraries = 'citus,reclock'; then pg_regress runs test/citus/sql/*.sql
# against the coordinator and compares with test/citus/expected/.  Needs Citus
# and reclock installed (`make test-citus` does both).  As root, the servers
# run as user postgres.
#
# Every node preloads 'citus,reclock' (reclock's hooks must be in every
# coordinator backend from its first statement), except for the files that
# test what happens without it (citus_preload): they run first, with the
# coordinator preloading citus alone, which is then restarted with both.
#
# Every node runs with wal_level = logical (citus_move: force_logical shard
# moves replicate by logical replication).
#
# Then pg_isolation_regress runs test/citus/specs/*.spec against the
# coordinator, asking Citus's citus_isolation_test_session_is_blocked
# (waits happen on the workers, where plain PostgreSQL's check sees none).
#
#   CITUS_TESTS   the files to run (default: every test/citus/sql/*.sql)
#   CITUS_SPECS   the specs to run (default: every test/citus/specs/*.spec)
#   CITUS_SCRIPTS the scripts to run (default: every test/citus/t/*.sh but
#                 lib.sh): crashes, restarts and held commits, which specs
#                 cannot drive; each prints ok/not ok lines, fails non-zero
#   CITUS_KEEP=1  keep the clusters' directory (logs) after the run
set -euo pipefail
cd "$(dirname "$0")/../.."
top=$(pwd -P)

PG_CONFIG=${PG_CONFIG:-pg_config}
bindir=$($PG_CONFIG --bindir)
pg_regress=$(dirname "$($PG_CONFIG --pgxs)")/../../src/test/regress/pg_regress
tests=${CITUS_TESTS:-$(cd test/citus/sql && ls *.sql | sed 's/\.sql$//' | tr '\n' ' ')}
as_user=()
owner=$(id -un)
if [ "$(id -u)" = 0 ]; then
  owner=postgres
  as_user=(runuser -u postgres --)
fi

# the files run before the coordinator preloads reclock, and the rest
first="" rest=""
for t in $tests; do
  case $t in citus_preload) first="$first $t" ;; *) rest="$rest $t" ;; esac
done

dir=$(mktemp -d /tmp/reclock-citus.XXXXXX)
chmod 755 "$dir"
chown "$owner" "$dir"
nodes=(coordinator worker1 worker2)
ports=()

# three free ports on loopback
port=$(( 20000 + RANDOM % 20000 ))
while [ ${#ports[@]} -lt 3 ]; do
  if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    ports+=("$port")
  fi
  port=$((port + 1))
done

cleanup() {
  local rc=$?
  for n in "${nodes[@]}"; do
    [ -f "$dir/$n/postmaster.pid" ] && "${as_user[@]}" "$bindir/pg_ctl" -D "$dir/$n" -m immediate stop >/dev/null 2>&1 || true
  done
  if [ $rc != 0 ]; then
    for n in "${nodes[@]}"; do
      [ -f "$dir/$n.log" ] && { echo "--- $n.log (last lines)"; tail -20 "$dir/$n.log"; }
    done
  fi
  if [ -z "${CITUS_KEEP:-}" ]; then rm -rf "$dir"; else echo "citus: kept $dir"; fi
  exit $rc
}
trap cleanup EXIT

for i in 0 1 2; do
  n=${nodes[$i]}
  "${as_user[@]}" "$bindir/initdb" -D "$dir/$n" -A trust -U postgres --no-sync >/dev/null
  cat >>"$dir/$n/postgresql.conf" <<EOF
port = ${ports[$i]}
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
shared_preload_libraries = '$( [ $i = 0 ] && [ -n "$first" ] && echo citus || echo citus,reclock )'
max_prepared_transactions = 20
wal_level = logical
fsync = off
max_connections = 60
EOF
  "${as_user[@]}" "$bindir/pg_ctl" -D "$dir/$n" -l "$dir/$n.log" -w start >/dev/null
done

psql_on() {
  local port=$1; shift
  "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -h "$dir" -p "$port" -U postgres "$@"
}

# the database on every node, Citus in it; the coordinator knows the workers
for i in 0 1 2; do
  psql_on "${ports[$i]}" -d postgres -c 'CREATE DATABASE reclock_citus'
  psql_on "${ports[$i]}" -d reclock_citus -c 'CREATE EXTENSION citus'
done
psql_on "${ports[0]}" -d reclock_citus \
  -c "SELECT citus_set_coordinator_host('127.0.0.1', ${ports[0]})" \
  -c "SELECT citus_add_node('127.0.0.1', ${ports[1]})" \
  -c "SELECT citus_add_node('127.0.0.1', ${ports[2]})" >/dev/null

echo "== Citus: a coordinator (port ${ports[0]}) and two workers (${ports[1]}, ${ports[2]}); $($PG_CONFIG --version)"
regress() {
  "$pg_regress" --inputdir=test/citus --outputdir="$dir/$1" \
    --bindir="$bindir" --host="$dir" --port="${ports[0]}" --user=postgres \
    --use-existing --dbname=reclock_citus "${@:2}" || {
    cat "$dir/$1/regression.diffs" 2>/dev/null || true
    exit 1
  }
}
if [ -n "$first" ]; then
  regress out-nopreload $first
  sed -i "s/^shared_preload_libraries = 'citus'\$/shared_preload_libraries = 'citus,reclock'/" "$dir/coordinator/postgresql.conf"
  "${as_user[@]}" "$bindir/pg_ctl" -D "$dir/coordinator" -l "$dir/coordinator.log" -w restart >/dev/null
fi
[ -z "$rest" ] || regress out $rest

# isolation specs (test/citus/specs) against the coordinator: waits happen
# on the workers, so the tester asks Citus's session-is-blocked function
specs=${CITUS_SPECS-$(cd test/citus/specs 2>/dev/null && ls *.spec 2>/dev/null | sed 's/\.spec$//' | tr '\n' ' ')}
if [ -n "$specs" ]; then
  psql_on "${ports[0]}" -d reclock_citus -c 'SELECT citus_internal.replace_isolation_tester_func()' >/dev/null
  "$(dirname "$pg_regress")/../isolation/pg_isolation_regress" --inputdir=test/citus --outputdir="$dir/iso" \
    --bindir="$bindir" --host="$dir" --port="${ports[0]}" --user=postgres \
    --use-existing --dbname=reclock_citus $specs || {
    cat "$dir/iso/regression.diffs" 2>/dev/null || true
    exit 1
  }
fi

# scripts (test/citus/t): worker crashes and restarts, commits held in
# SyncRep; they poll for states, never sleep for an outcome
scripts=${CITUS_SCRIPTS-$(cd test/citus/t 2>/dev/null && ls *.sh 2>/dev/null | grep -v '^lib\.sh$' | sed 's/\.sh$//' | tr '\n' ' ')}
for s in $scripts; do
  echo "# test/citus/t/$s.sh"
  t0=$(date +%s)
  RC_DIR=$dir RC_BINDIR=$bindir RC_PORTS="${ports[*]}" RC_AS_USER="${as_user[*]}" \
    bash "test/citus/t/$s.sh" || { echo "not ok - test/citus/t/$s.sh"; exit 1; }
  echo "ok - test/citus/t/$s.sh ($(( $(date +%s) - t0 )) s)"
done
