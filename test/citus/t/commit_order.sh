#!/usr/bin/env bash
# The commit-order trap of docs/citus.md F7 (build plan step 4, "F7 test"):
# Citus commits a coordinated transaction's worker parts before the
# coordinator's own commit (1PC), or PREPAREs them first and commits them
# after it (2PC).  The acquirer's COMMIT is held on the coordinator after
# its commit record, in SyncRep (synchronous_standby_names names a standby
# that never comes; every other session commits with synchronous_commit =
# local), while writers of the locked row without its token run: routed
# through the coordinator, and directly on the row's shard on its worker.
# They must wait (here: cancelled by a timeout) or be refused, never pass,
# because the grant and the row lock are made on the worker in one local
# transaction (design (3)).  After the commit is let go they are refused.
#   1PC: the acquirer's transaction also writes a plain coordinator table
#        (its commit must write WAL to wait in SyncRep);
#   2PC: it also writes rows on the other worker only (multi-shard), or rows
#        on both workers.
. "$(dirname "$0")/lib.sh"

C -c "CREATE TABLE co (id int PRIMARY KEY, v text)" \
  -c "SELECT create_distributed_table('co', 'id', shard_count => 4)" \
  -c "INSERT INTO co SELECT g, 'c' || g FROM generate_series(1, 64) g" >/dev/null
C -c "SELECT reclock_protect('co')" -c "CREATE TABLE co_local (i int)" >/dev/null
w=$(node_of co 1)
# rows on worker w: r1 r2 r3 (to lock) and s (to write in 2PC); on the other: x y (two shards)
read -r r1 r2 r3 s <<<"$(C -c "SELECT string_agg(id::text, ' ') FROM (SELECT id FROM co
   WHERE get_shard_id_for_distribution_column('co', id) IN (SELECT shardid FROM pg_dist_placement p JOIN pg_dist_node n USING (groupid) WHERE n.nodeport = ${RC_PORT[$w]})
   ORDER BY id LIMIT 4) q")"
read -r x y <<<"$(C -c "SELECT string_agg(min::text, ' ') FROM (SELECT min(id) FROM co
   WHERE get_shard_id_for_distribution_column('co', id) IN (SELECT shardid FROM pg_dist_placement p JOIN pg_dist_node n USING (groupid) WHERE n.nodeport <> ${RC_PORT[$w]})
   GROUP BY get_shard_id_for_distribution_column('co', id) ORDER BY 1 LIMIT 2) q")"
echo "# worker $w holds rows $r1 $r2 $r3 $s; the other worker $x and $y"

routed() {  # a write of row $1 through the coordinator, token $2 or none
  if [ -n "${2:-}" ]; then
    C -c "BEGIN" -c "SET LOCAL citus.propagate_set_commands = local" -c "SET LOCAL reclock.token = '$2'" \
      -c "UPDATE co SET v = 'w' WHERE id = $1" -c "COMMIT"
  else
    C -c "SET statement_timeout = '2s'" -c "UPDATE co SET v = 'routed' WHERE id = $1"
  fi
}
direct() {  # a write of row $1 directly on its shard on worker w, no token
  on "$w" -c "SET lock_timeout = '1s'" \
    -c "UPDATE $(C -c "SELECT format('co_%s', get_shard_id_for_distribution_column('co', $1))") SET v = 'direct' WHERE id = $1"
}
trap release_commits EXIT

# held LABEL ROW EXTRA: acquire ROW, run EXTRA, COMMIT held in SyncRep; the
# writers meanwhile; then the commit let go
held() {
  local label=$1 row=$2 extra=$3 bg tok
  hold_commits || { not_ok "$label: a commit could not be held"; return; }
  PGOPTIONS="-c synchronous_commit=on" PGAPPNAME=co_acq "$RC_BINDIR/psql" -X -At -q -h "$RC_DIR" -p "${RC_PORT[0]}" -U postgres -d reclock_citus \
    -c "BEGIN" -c "SELECT 'token', token FROM reclock_acquire('co', '$row', 'alice', '1 hour')" \
    -c "$extra" -c "COMMIT" >"$RC_DIR/co_acq.out" 2>&1 3>&- &
  bg=$!
  if ! poll 0 "SELECT wait_event FROM pg_stat_activity WHERE application_name = 'co_acq'" SyncRep; then
    not_ok "$label: the acquirer's COMMIT was not held in SyncRep"
    release_commits; wait $bg; return
  fi
  echo "# $label: the acquirer's COMMIT waits in SyncRep; prepared on worker $w: $(on "$w" -c "SELECT count(*) FROM pg_prepared_xacts")"
  one_of "$(routed "$row")" "refused waited" "$label: a routed write of row $row while the acquirer's commit is held waits or is refused"
  one_of "$(direct "$row")" "refused waited" "$label: a direct write of row $row on its worker while the commit is held waits or is refused"
  release_commits
  wait $bg
  tok=$(sed -n 's/^token|//p' "$RC_DIR/co_acq.out")
  is "$(grep -c ERROR "$RC_DIR/co_acq.out")" 0 "$label: the acquirer's COMMIT succeeded once let go"
  is "$(routed "$row")" refused "$label: afterwards a routed write of row $row without the token is refused"
  is "$(direct "$row")" refused "$label: afterwards a direct write is refused"
  is "$(routed "$row" "$tok")" "" "$label: with the token it passes"
}
held 1PC "$r1" "INSERT INTO co_local VALUES (1)"
held "2PC (a multi-shard write on the other worker only)" "$r2" "UPDATE co SET v = v WHERE id IN ($x, $y)"
held "2PC (a multi-shard write on both workers)" "$r3" "UPDATE co SET v = v WHERE id IN ($s, $x)"

C -c "SELECT reclock_unprotect('co')" -c "DROP TABLE co" -c "DROP TABLE co_local" >/dev/null
done_testing
