#!/usr/bin/env bash
# Which is released first: the acquirer's row lock on the worker, or the grant
# made visible on the coordinator?  The coordinator's commit is held in
# SyncRepWaitForLSN (after its commit record, before it becomes visible) by a
# synchronous_standby_names that no standby answers.
set -u
C() { docs/citus-exp/cluster.sh psql 0 "$@"; }
W() { docs/citus-exp/cluster.sh psql 1 "$@"; }
C -q -c "CREATE TABLE IF NOT EXISTS grants (id int, who text)" -c "TRUNCATE grants" \
  -c "ALTER SYSTEM SET synchronous_standby_names = 'nobody'" -c "ALTER ROLE postgres SET synchronous_commit = local" -c "SELECT pg_reload_conf()" >/dev/null
run() {  # $1 label, $2 extra SQL in the acquire's transaction before the grant
  echo "=== $1"
  C -q -c "TRUNCATE grants"
  PGAPPNAME=acq C -q -c "SET synchronous_commit = on" -c "BEGIN" -c "SELECT id FROM orders WHERE id = 1 FOR UPDATE" -c "$2" -c "INSERT INTO grants VALUES (1, 'A')" -c "COMMIT" >/dev/null 2>&1 &
  bg=$!
  # wait until the acquirer's COMMIT waits for the standby
  for i in $(seq 50); do
    s=$(C -At -c "SELECT wait_event FROM pg_stat_activity WHERE application_name = 'acq'")
    [ "$s" = SyncRep ] && break; sleep 0.1
  done
  echo "acquirer on the coordinator waits in: $s"
  echo "worker1 prepared xacts: $(W -At -c 'SELECT count(*) FROM pg_prepared_xacts')"
  echo "worker1 writer, lock_timeout 2s:"
  W -c "SET lock_timeout = '2s'" -c "UPDATE orders_102000 SET v = 'W' WHERE id = 1" 2>&1 | grep -v "^SET"
  echo "grant visible on the coordinator now: $(C -At -c 'SELECT count(*) FROM grants')"
  C -At -c "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = 'acq'" >/dev/null
  wait $bg
  echo "after the coordinator's commit: grant visible $(C -At -c 'SELECT count(*) FROM grants'), worker1 prepared xacts $(W -At -c 'SELECT count(*) FROM pg_prepared_xacts')"
}
run "1PC: routed FOR UPDATE + local grant" "SELECT 1"
run "1PC: a routed UPDATE of the row itself + local grant" "UPDATE orders SET v = v WHERE id = 1"
run "forced 2PC: also a reference-table write" "UPDATE ref SET v = v WHERE id = 4"
run "2PC by a multi-shard UPDATE on worker2 only (worker1 connection read-only)" "UPDATE orders SET v = v WHERE id IN (2, 3)"
C -q -c "ALTER SYSTEM RESET synchronous_standby_names" -c "ALTER ROLE postgres RESET synchronous_commit" -c "SELECT pg_reload_conf()" >/dev/null
