#!/usr/bin/env bash
# Worker restarts (docs/citus.md, build plan step 9 (c), F10): a worker that
# holds locks is stopped with pg_ctl -m immediate and started again
#  - after grants: no lock lost, none revived (a released one stays
#    released), a write without the token still refused there (routed and
#    direct), the token still works, fences never go back;
#  - during an acquire or a refresh (its transaction open, 1PC): its COMMIT
#    fails, and then there is no lock (no extension); or it succeeded, and
#    the lock (the extension) is there;
#  - during a PREPAREd acquire (2PC: the acquirer also wrote a reference
#    table, or rows on the other worker only; its coordinator COMMIT held in
#    SyncRep after the worker parts were prepared, F10): the acquire's part
#    is prepared, keeps the row locked across the restart (a writer waits or
#    is refused, never passes), and after Citus's recovery commits it the
#    lock is live, with its token.
# Then the coordinator itself is crashed and started: fences still grow.
. "$(dirname "$0")/lib.sh"
trap release_commits EXIT

C -c "CREATE TABLE rs (id int PRIMARY KEY, v text)" \
  -c "SELECT create_distributed_table('rs', 'id', shard_count => 4)" \
  -c "INSERT INTO rs SELECT g, 'r' || g FROM generate_series(1, 64) g" \
  -c "CREATE TABLE rs_ref (id int PRIMARY KEY, v text)" \
  -c "SELECT create_reference_table('rs_ref')" \
  -c "INSERT INTO rs_ref VALUES (1, 'ref')" >/dev/null
C -c "SELECT reclock_protect('rs')" >/dev/null
# a role of the application's (not reclock's owner): its acquire must count as a write too
C -c "CREATE ROLE rs_app LOGIN" -c "GRANT SELECT, UPDATE ON rs TO rs_app" >/dev/null
# rows on the worker of row 1's shard: a, b, c, d, e; on the other worker,
# one row of each of its shards: x, y
w=$(node_of rs 1)
read -r a b c d e f <<<"$(C -c "SELECT string_agg(id::text, ' ') FROM (SELECT id FROM rs
   WHERE get_shard_id_for_distribution_column('rs', id) IN (SELECT shardid FROM pg_dist_placement p JOIN pg_dist_node n USING (groupid) WHERE n.nodeport = ${RC_PORT[$w]})
   ORDER BY id LIMIT 6) s")"
read -r x y <<<"$(C -c "SELECT string_agg(min::text, ' ') FROM (SELECT min(id) FROM rs
   WHERE get_shard_id_for_distribution_column('rs', id) IN (SELECT shardid FROM pg_dist_placement p JOIN pg_dist_node n USING (groupid) WHERE n.nodeport <> ${RC_PORT[$w]})
   GROUP BY get_shard_id_for_distribution_column('rs', id) ORDER BY 1 LIMIT 2) s")"
echo "# worker $w (port ${RC_PORT[$w]}) holds rows $a $b $c $d $e; the other worker rows $x and $y (two shards)"
shard_a=$(C -c "SELECT format('rs_%s', get_shard_id_for_distribution_column('rs', $a))")

# a write of row $1 through the coordinator, with token $2 (or none)
write() {
  if [ -n "${2:-}" ]; then
    C -c "BEGIN" -c "SET LOCAL citus.propagate_set_commands = local" -c "SET LOCAL reclock.token = '$2'" \
      -c "UPDATE rs SET v = 'w' WHERE id = $1" -c "COMMIT" | tr '\n' ' ' | sed 's/ $//'
  else
    C -c "UPDATE rs SET v = 'w' WHERE id = $1"
  fi
}
# a write of row $1 directly on its shard on worker $w, no token, bounded wait
direct() {
  on "$w" -c "SET lock_timeout = '1s'" -c "UPDATE $(C -c "SELECT format('rs_%s', get_shard_id_for_distribution_column('rs', $1))") SET v = 'd' WHERE id = $1"
}
fence_of() { C -c "SELECT max(fence) FROM reclock_store_$(C -c "SELECT 'rs'::regclass::oid")_locks"; }

# --- after grants
read -r ta fa <<<"$(C -F ' ' -c "SELECT token, fence FROM reclock_acquire('rs', '$a', 'alice', '1 hour')")"
read -r tb fb <<<"$(C -F ' ' -c "SELECT token, fence FROM reclock_acquire('rs', '$b', 'bob', '1 hour')")"
is "$(C -c "SELECT reclock_release('$tb')")" t "row $b released before the restart"
crash_restart "$w"
is "$(C -c "SELECT reclock_valid('$ta')")" t "after the restart: row $a's lock is live (not lost)"
is "$(C -c "SELECT reclock_valid('$tb')")" f "after the restart: row $b's released lock stays released (not revived)"
is "$(write "$a")" refused "after the restart: a routed write of row $a without the token is refused"
is "$(direct "$a")" refused "after the restart: a direct write of row $a's shard without the token is refused"
is "$(write "$b")" "" "after the restart: row $b (released) can be written"
is "$(C -c "SELECT acquired::text || ' ' || holder FROM reclock_acquire('rs', '$a', 'mallory')")" "false alice" \
   "after the restart: another holder is refused row $a"
is "$(write "$a" "$ta")" "" "after the restart: a write of row $a with its token passes"
read -r tb2 fb2 <<<"$(C -F ' ' -c "SELECT token, fence FROM reclock_acquire('rs', '$b', 'bob', '1 hour')")"
is "$([ "$fb2" -gt "$fa" ] && [ "$fb2" -gt "$fb" ] && echo larger)" larger "a new grant's fence ($fb2) is larger than every earlier one ($fa, $fb)"

# --- during an acquire or a refresh (1PC): its transaction open on the
# worker when the worker crashes; then its COMMIT
fifo=$RC_DIR/restart.fifo
# during_crash SQL: run SQL in an open transaction, crash the worker, COMMIT;
# prints the session's output (rows as "label|value", errors)
during_crash() {
  rm -f "$fifo"; mkfifo "$fifo"
  PGAPPNAME=rs_acq "$RC_BINDIR/psql" -X -At -q -h "$RC_DIR" -p "${RC_PORT[0]}" -U "${RS_USER:-postgres}" -d reclock_citus \
    <"$fifo" >"$RC_DIR/restart.acq.out" 2>&1 &
  local bg=$!
  exec 3>"$fifo"
  # psql sends the statements one by one, idle in transaction between them:
  # the last one names the session ready, so the crash comes after $1 ran
  echo "BEGIN; $1 SET application_name = 'rs_acq_ready';" >&3
  poll 0 "SELECT state FROM pg_stat_activity WHERE application_name = 'rs_acq_ready'" "idle in transaction"
  crash_restart "$w"
  echo "COMMIT;" >&3
  exec 3>&-
  wait $bg
  cat "$RC_DIR/restart.acq.out"
}
out=$(during_crash "SELECT 'token', token FROM reclock_acquire('rs', '$c', 'carol', '1 hour');")
tc=$(sed -n 's/^token|//p' <<<"$out")
err=$(grep "^ERROR" <<<"$out" | head -1)
echo "# acquire during the crash: token '$tc'; ${err:-committed}"
if [ -z "$err" ]; then
  is "$(C -c "SELECT reclock_valid('$tc')")" t "an acquire that committed across the crash has its lock"
else
  is "$(C -c "SELECT reclock_valid('$tc')")" f "an acquire whose COMMIT failed in the crash left no lock"
  is "$(write "$c")" "" "... and row $c can be written"
fi
# the same as a role of the application's: its COMMIT fails too, or the lock is there
out=$(RS_USER=rs_app during_crash "SELECT 'token', token FROM reclock_acquire('rs', '$f', 'frank', '1 hour');")
tf=$(sed -n 's/^token|//p' <<<"$out")
err=$(grep "^ERROR" <<<"$out" | head -1)
echo "# acquire by rs_app during the crash: token '$tf'; ${err:-committed}"
if [ -z "$err" ]; then
  is "$(C -c "SELECT reclock_valid('$tf')")" t "an acquire by an application role that committed across the crash has its lock"
else
  is "$(C -c "SELECT reclock_valid('$tf')")" f "an acquire by an application role whose COMMIT failed in the crash left no lock"
fi
locks=reclock_store_$(C -c "SELECT 'rs'::regclass::oid")_locks
out=$(during_crash "SELECT 'refreshed', reclock_refresh('$ta', '3 hours') > now() + interval '2 hours';")
err=$(grep "^ERROR" <<<"$out" | head -1)
echo "# refresh during the crash: $(sed -n 's/^refreshed|//p' <<<"$out"); ${err:-committed}"
if [ -z "$err" ]; then
  is "$(C -c "SELECT expires_at > now() + interval '2 hours' FROM $locks WHERE key = '$a'")" t "a refresh that committed across the crash extended the lock"
else
  is "$(C -c "SELECT expires_at < now() + interval '2 hours' FROM $locks WHERE key = '$a'")" t "a refresh whose COMMIT failed in the crash left the expiry as it was"
fi
is "$(C -c "SELECT reclock_valid('$ta')")" t "row $a's lock is live after the refresh's crash"

# --- during a PREPAREd acquire (2PC): the coordinator's COMMIT held in
# SyncRep after the worker parts were prepared (F10).  Made 2PC by a
# reference table write ($1 = ref: it goes over the acquire's connection to
# the worker too), or by a multi-shard write on the other worker only ($1 =
# other: the acquire's connection did nothing else, F7's last row).
held_2pc() {
  local how=$1 row=$2 extra tok
  if [ "$how" = ref ]; then extra="UPDATE rs_ref SET v = 'held' WHERE id = 1"; else extra="UPDATE rs SET v = v WHERE id IN ($x, $y)"; fi
  hold_commits || { not_ok "2PC ($how): a commit could not be held"; return; }
  PGOPTIONS="-c synchronous_commit=on" PGAPPNAME=rs_acq2 "$RC_BINDIR/psql" -X -At -q -h "$RC_DIR" -p "${RC_PORT[0]}" -U postgres -d reclock_citus \
    -c "BEGIN" -c "SELECT 'token', token FROM reclock_acquire('rs', '$row', 'dora', '1 hour')" \
    -c "$extra" -c "COMMIT" >"$RC_DIR/restart.acq2.out" 2>&1 3>&- &
  acq=$!
  if ! poll 0 "SELECT wait_event FROM pg_stat_activity WHERE application_name = 'rs_acq2'" SyncRep; then
    not_ok "2PC ($how): the acquirer's COMMIT was not held in SyncRep"
    release_commits; wait $acq; return
  fi
  is "$(on "$w" -c "SELECT count(*) FROM pg_prepared_xacts")" 1 "2PC ($how): the acquire's part on worker $w is PREPAREd while the coordinator's COMMIT is held"
  crash_restart "$w"
  is "$(on "$w" -c "SELECT count(*) FROM pg_prepared_xacts")" 1 "2PC ($how): the prepared part survived the restart"
  one_of "$(direct "$row")" "waited refused" "2PC ($how): a direct write of row $row on worker $w, while the part is prepared, waits or is refused, never passes"
  release_commits
  wait $acq
  tok=$(sed -n 's/^token|//p' "$RC_DIR/restart.acq2.out")
  echo "# held acquire ($how): token '$tok'; $(grep -c ERROR "$RC_DIR/restart.acq2.out") errors"
  C -c "SELECT recover_prepared_transactions()" >/dev/null
  is "$(on "$w" -c "SELECT count(*) FROM pg_prepared_xacts")" 0 "2PC ($how): Citus's recovery resolved the prepared part"
  is "$(C -c "SELECT reclock_valid('$tok')")" t "2PC ($how): the prepared acquire's lock is live after recovery (not lost)"
  is "$(write "$row")" refused "2PC ($how): a routed write of row $row without the token is refused"
  is "$(direct "$row")" refused "2PC ($how): a direct write of row $row without the token is refused"
  is "$(write "$row" "$tok")" "" "2PC ($how): a write of row $row with its token passes"
}
held_2pc ref "$d"
held_2pc other "$e"

# --- the coordinator crashed and started: fences still grow
f_before=$(fence_of)
crash_restart 0
read -r te fe <<<"$(C -F ' ' -c "SELECT token, fence FROM reclock_acquire('rs', '$c', 'erin', '1 hour')")"
is "$([ "$fe" -gt "$f_before" ] && echo larger)" larger "after a coordinator crash a new grant's fence ($fe) is larger than every earlier one ($f_before)"
is "$(C -c "SELECT reclock_valid('$ta')")" t "row $a's lock is still live"

C -c "DROP TABLE rs_ref" >/dev/null
C -c "SELECT reclock_unprotect('rs')" -c "DROP TABLE rs" -c "DROP OWNED BY rs_app" -c "DROP ROLE rs_app" >/dev/null
rm -f "$fifo"
done_testing
