#!/usr/bin/env bash
# reclock on Citus (issue 24): what an edit lock and a guarded write cost
# through a Citus coordinator, with one worker and then with two, beside the
# same without reclock.  Builds a throwaway cluster of $PG_CONFIG's
# PostgreSQL with Citus (as test/citus/run.sh does: a coordinator and two
# workers on loopback; the coordinator holds no shards), then, with one
# worker and again after adding the second, measures side by side, one
# pgbench run of each script in turn, REPS times SECS seconds, median tps:
#
#   pl_local   acquire+release cycle of bench/setup.sql's PL/pgSQL lock
#              table (pl_acquire, pl_release), the lock table a plain table
#              on the coordinator
#   pl_dist    the same functions with the lock table distributed by key
#              (locks beside their rows; release routed by key)
#   upd_dist   single-row UPDATE of a distributed table of 100 000 rows
#   upd_local  the same UPDATE of a plain table on the coordinator (the
#              floor without Citus's routing)
#   rc_dist    reclock's acquire+release cycle on a protected distributed
#              table (the grant routed to the row's node; release by token
#              fans out over the protected tables' token stores)
#   rc_local   the same cycle on a protected plain table on the coordinator
#   gupd_dist  the single-row UPDATE of upd_dist on the protected table
#              (the guard on the worker probes its store shard; no lock)
#   tupd_dist  the UPDATE of a locked row presenting its token
#              (set_config(..., true) in a transaction block: the carry
#              sends it to the worker), 1 000 rows locked up front
#   tupd_base  the same transaction on the unprotected table (set_config of
#              another setting), its floor
#
# Needs Citus installed (`make test-citus PG_MAJOR=17` builds it once), and
# pgbench.  Run as root in the chroot:
#   .ci/in-chroot.sh 17 bench/citus.sh
#   SECS=5 REPS=3 CLIENTS="1 4" (defaults); SCRIPTS="rc_dist gupd_dist" runs some
set -euo pipefail
cd "$(dirname "$0")/.."

PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/17/bin/pg_config}
bindir=$($PG_CONFIG --bindir)
SECS=${SECS:-5}
REPS=${REPS:-3}
CLIENTS=${CLIENTS:-1 4}
as_user=()
owner=$(id -un)
if [ "$(id -u)" = 0 ]; then
  owner=postgres
  as_user=(runuser -u postgres --)
fi

dir=$(mktemp -d /tmp/reclock-citus-bench.XXXXXX)
chmod 755 "$dir"
chown "$owner" "$dir"
nodes=(coordinator worker1 worker2)
ports=()
port=$(( 20000 + RANDOM % 20000 ))
while [ ${#ports[@]} -lt 3 ]; do
  if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then ports+=("$port"); fi
  port=$((port + 1))
done

cleanup() {
  local rc=$?
  for n in "${nodes[@]}"; do
    [ -f "$dir/$n/postmaster.pid" ] && "${as_user[@]}" "$bindir/pg_ctl" -D "$dir/$n" -m immediate stop >/dev/null 2>&1 || true
  done
  [ $rc = 0 ] || for n in "${nodes[@]}"; do [ -f "$dir/$n.log" ] && { echo "--- $n.log"; tail -20 "$dir/$n.log"; }; done
  rm -rf "$dir"
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
shared_preload_libraries = 'citus,reclock'
max_prepared_transactions = 40
max_connections = 100
shared_buffers = 128MB
EOF
  "${as_user[@]}" "$bindir/pg_ctl" -D "$dir/$n" -l "$dir/$n.log" -w start >/dev/null
done

psql_on() {
  local i=$1; shift
  "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -h "$dir" -p "${ports[$i]}" -U postgres "$@"
}
for i in 0 1 2; do
  psql_on "$i" -d postgres -c 'CREATE DATABASE bench'
  psql_on "$i" -d bench -c 'CREATE EXTENSION citus' -c 'CREATE EXTENSION reclock'
done
psql_on 0 -d bench -c "SELECT citus_set_coordinator_host('127.0.0.1', ${ports[0]})" \
  -c "SELECT citus_add_node('127.0.0.1', ${ports[1]})" >/dev/null

# the PL/pgSQL lock table's functions, as bench/setup.sql defines them
pl_acquire=$(sed -n '/^CREATE OR REPLACE FUNCTION pl_acquire/,/^END \$\$;/p' bench/setup.sql)
[ -n "$pl_acquire" ] || { echo "bench/citus.sh: pl_acquire not found in bench/setup.sql" >&2; exit 1; }

# (re)make the tables; distributed ones get their shards on the workers
# present now (the coordinator holds none)
setup() {
  psql_on 0 -d bench >/dev/null <<EOF
SET citus.shard_count = 32;
SELECT reclock_unprotect(t::regclass) FROM (VALUES ('bp'), ('bp_local')) v(t) WHERE to_regclass(t) IS NOT NULL;
DROP TABLE IF EXISTS bt, bt_local, bp, bp_local, bench_tok, pl_locks, pl_locks_local CASCADE;
DROP SEQUENCE IF EXISTS pl_fence;
CREATE SEQUENCE pl_fence;
-- the acquire target and the UPDATE target: distributed, 100 000 rows
CREATE TABLE bt (id int PRIMARY KEY, v int NOT NULL DEFAULT 0);
SELECT create_distributed_table('bt', 'id');
INSERT INTO bt SELECT generate_series(1, 100000);
CREATE TABLE bt_local (id int PRIMARY KEY, v int NOT NULL DEFAULT 0);
INSERT INTO bt_local SELECT generate_series(1, 100000);
-- the same, protected by reclock
CREATE TABLE bp (id int PRIMARY KEY, v int NOT NULL DEFAULT 0);
SELECT create_distributed_table('bp', 'id');
INSERT INTO bp SELECT generate_series(1, 101000);
SELECT reclock_protect('bp');
CREATE TABLE bp_local (id int PRIMARY KEY, v int NOT NULL DEFAULT 0);
INSERT INTO bp_local SELECT generate_series(1, 100000);
SELECT reclock_protect('bp_local');
-- rows 100001.. of bp locked up front, their tokens here (tupd_dist); the
-- cycles pick rows 1..100000
INSERT INTO bt SELECT generate_series(100001, 101000);
CREATE TABLE bench_tok (id int PRIMARY KEY, tok uuid);
INSERT INTO bench_tok SELECT i, (reclock_acquire('bp', i::text, 'bench', '1 day')).token
  FROM generate_series(100001, 101000) i;
-- the lock table distributed by key (a unique index on token alone is not
-- possible on a distributed table: release goes by key and token)
CREATE TABLE pl_locks (
  tbl regclass, key text, holder text, token uuid, fence bigint,
  expires_at timestamptz, PRIMARY KEY (tbl, key));
SELECT create_distributed_table('pl_locks', 'key');
-- the same, local to the coordinator, as bench/setup.sql has it
CREATE TABLE pl_locks_local (
  tbl regclass, key text, holder text, token uuid, fence bigint,
  expires_at timestamptz, PRIMARY KEY (tbl, key));
CREATE UNIQUE INDEX ON pl_locks_local (token);
$pl_acquire
-- pl_acquire over the local lock table: the same body, other table
$(printf '%s\n' "$pl_acquire" | sed 's/FUNCTION pl_acquire(/FUNCTION pl_acquire_local(/; s/pl_locks/pl_locks_local/g')
CREATE OR REPLACE FUNCTION pl_release_local(tok uuid) RETURNS boolean LANGUAGE sql AS \$\$
  UPDATE pl_locks_local SET expires_at = clock_timestamp()
   WHERE token = tok AND expires_at > clock_timestamp() RETURNING true \$\$;
-- (PL/pgSQL: Citus cannot plan an SQL function's parameters, and refuses
-- volatile functions such as clock_timestamp() in an UPDATE of a
-- distributed table)
CREATE OR REPLACE FUNCTION pl_release_at(t regclass, k text, tok uuid) RETURNS boolean LANGUAGE plpgsql AS \$\$
DECLARE
  now_ timestamptz := clock_timestamp();
BEGIN
  UPDATE pl_locks SET expires_at = now_
   WHERE tbl = t AND key = k AND token = tok AND expires_at > now_;
  RETURN FOUND;
END \$\$;
VACUUM ANALYZE;
EOF
}

cat >"$dir/pl_local.sql" <<'EOF'
\set id random(1, 100000)
SELECT acquired, token FROM pl_acquire_local('bt', ':id', 'h:client_id', '5 min') \gset
\if :acquired
SELECT pl_release_local(':token');
\endif
EOF
cat >"$dir/pl_dist.sql" <<'EOF'
\set id random(1, 100000)
SELECT acquired, token FROM pl_acquire('bt', ':id', 'h:client_id', '5 min') \gset
\if :acquired
SELECT pl_release_at('bt', ':id', ':token');
\endif
EOF
cat >"$dir/upd_dist.sql" <<'EOF'
\set id random(1, 100000)
UPDATE bt SET v = v + 1 WHERE id = :id;
EOF
cat >"$dir/upd_local.sql" <<'EOF'
\set id random(1, 100000)
UPDATE bt_local SET v = v + 1 WHERE id = :id;
EOF
cat >"$dir/rc_dist.sql" <<'EOF'
\set id random(1, 100000)
SELECT acquired, token FROM reclock_acquire('bp', ':id', 'h:client_id', '5 min') \gset
\if :acquired
SELECT reclock_release(':token');
\endif
EOF
cat >"$dir/rc_local.sql" <<'EOF'
\set id random(1, 100000)
SELECT acquired, token FROM reclock_acquire('bp_local', ':id', 'h:client_id', '5 min') \gset
\if :acquired
SELECT reclock_release(':token');
\endif
EOF
cat >"$dir/gupd_dist.sql" <<'EOF'
\set id random(1, 100000)
UPDATE bp SET v = v + 1 WHERE id = :id;
EOF
cat >"$dir/tupd_dist.sql" <<'EOF'
\set id random(100001, 101000)
BEGIN;
SELECT set_config('reclock.token', tok::text, true) FROM bench_tok WHERE id = :id;
UPDATE bp SET v = v + 1 WHERE id = :id;
COMMIT;
EOF
cat >"$dir/tupd_base.sql" <<'EOF'
\set id random(100001, 101000)
BEGIN;
SELECT set_config('bench.tok', tok::text, true) FROM bench_tok WHERE id = :id;
UPDATE bt SET v = v + 1 WHERE id = :id;
COMMIT;
EOF
scripts=(${SCRIPTS:-pl_local pl_dist upd_dist upd_local rc_dist rc_local gupd_dist tupd_dist tupd_base})

tps() {  # script clients
  local out
  out=$("$bindir/pgbench" -n -M simple -h "$dir" -p "${ports[0]}" -U postgres -c "$2" -j "$(( $2 < 2 ? 1 : 2 ))" \
    -T "$SECS" -f "$dir/$1.sql" bench 2>&1) || { echo "pgbench $1 failed:" >&2; echo "$out" | grep -i "error\|detail\|hint\|context" | head -8 >&2; exit 1; }
  echo "$out" | awk '/^tps = / { print $3 }'
}
median() { sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }

declare -A result
measure() {  # workers
  local w=$1 c s r
  for c in $CLIENTS; do
    for r in $(seq "$REPS"); do
      for s in "${scripts[@]}"; do tps "$s" "$c" >>"$dir/$w.$c.$s"; done
    done
    for s in "${scripts[@]}"; do result[$w.$c.$s]=$(median <"$dir/$w.$c.$s"); done
  done
}

echo "reclock Citus baseline: $(date -u +%Y-%m-%d), $(nproc) cores, $($PG_CONFIG --version), Citus $(psql_on 0 -d bench -At -c "SELECT extversion FROM pg_extension WHERE extname = 'citus'"), ${REPS}x${SECS}s per figure, median tps"
echo "(all nodes on this machine: the workers share its cores with the coordinator and pgbench)"
setup
measure 1
psql_on 0 -d bench -c "SELECT citus_add_node('127.0.0.1', ${ports[2]})" >/dev/null
setup
echo "shards of bt per worker with two workers: $(psql_on 0 -d bench -At -c "SELECT string_agg(n::text, ' ') FROM (SELECT count(*) n FROM pg_dist_shard JOIN pg_dist_placement USING (shardid) WHERE logicalrelid = 'bt'::regclass GROUP BY groupid ORDER BY groupid) s")"
measure 2
echo
printf '%-8s %-8s %10s %10s %10s %10s | %12s %12s %12s\n' workers clients pl_local pl_dist upd_dist upd_local 'pl_dist/upd' 'upd_d/upd_l' 'pl_d/pl_l'
for w in 1 2; do
  for c in $CLIENTS; do
    printf '%-8s %-8s %10.0f %10.0f %10.0f %10.0f | %12s %12s %12s\n' "$w" "$c" \
      "${result[$w.$c.pl_local]}" "${result[$w.$c.pl_dist]}" "${result[$w.$c.upd_dist]}" "${result[$w.$c.upd_local]}" \
      "$(ratio "${result[$w.$c.pl_dist]}" "${result[$w.$c.upd_dist]}")" \
      "$(ratio "${result[$w.$c.upd_dist]}" "${result[$w.$c.upd_local]}")" \
      "$(ratio "${result[$w.$c.pl_dist]}" "${result[$w.$c.pl_local]}")"
  done
done
echo
printf '%-8s %12s %12s\n' clients 'pl_dist 2w/1w' 'upd_dist 2w/1w'
for c in $CLIENTS; do
  printf '%-8s %12s %12s\n' "$c" "$(ratio "${result[2.$c.pl_dist]}" "${result[1.$c.pl_dist]}")" "$(ratio "${result[2.$c.upd_dist]}" "${result[1.$c.upd_dist]}")"
done
echo
echo "reclock (same run): rc = acquire+release cycle, gupd = guarded UPDATE of an unlocked row, tupd = UPDATE of a locked row with its token"
printf '%-8s %-8s %9s %9s %9s %9s %9s | %11s %11s %11s %11s\n' workers clients rc_dist rc_local gupd_dist tupd_dist tupd_base 'rc_d/pl_d' 'rc_d/rc_l' 'gupd/upd' 'tupd/base'
for w in 1 2; do
  for c in $CLIENTS; do
    printf '%-8s %-8s %9.0f %9.0f %9.0f %9.0f %9.0f | %11s %11s %11s %11s\n' "$w" "$c" \
      "${result[$w.$c.rc_dist]}" "${result[$w.$c.rc_local]}" "${result[$w.$c.gupd_dist]}" "${result[$w.$c.tupd_dist]}" "${result[$w.$c.tupd_base]}" \
      "$(ratio "${result[$w.$c.rc_dist]}" "${result[$w.$c.pl_dist]}")" \
      "$(ratio "${result[$w.$c.rc_dist]}" "${result[$w.$c.rc_local]}")" \
      "$(ratio "${result[$w.$c.gupd_dist]}" "${result[$w.$c.upd_dist]}")" \
      "$(ratio "${result[$w.$c.tupd_dist]}" "${result[$w.$c.tupd_base]}")"
  done
done
echo
printf '%-8s %12s %12s %12s\n' clients 'rc_dist 2w/1w' 'gupd 2w/1w' 'tupd 2w/1w'
for c in $CLIENTS; do
  printf '%-8s %12s %12s %12s\n' "$c" "$(ratio "${result[2.$c.rc_dist]}" "${result[1.$c.rc_dist]}")" \
    "$(ratio "${result[2.$c.gupd_dist]}" "${result[1.$c.gupd_dist]}")" "$(ratio "${result[2.$c.tupd_dist]}" "${result[1.$c.tupd_dist]}")"
done
