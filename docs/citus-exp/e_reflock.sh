#!/usr/bin/env bash
# SELECT ... FOR UPDATE of a reference-table row on the coordinator: which placements' rows are locked?
C() { docs/citus-exp/cluster.sh psql 0 "$@"; }
for le in on off; do
  echo "=== citus.enable_local_execution = $le"
  PGAPPNAME=refacq C -q -c "SET citus.enable_local_execution = $le" -c "BEGIN" -c "SELECT id FROM ref WHERE id = 1 FOR UPDATE" -c "SELECT pg_sleep(4)" -c "COMMIT" >/dev/null &
  bg=$!
  sleep 1.5
  for n in 0 1 2; do
    echo -n "node $n, direct write of its placement ref_102004 (lock_timeout 1s): "
    docs/citus-exp/cluster.sh psql $n -At -c "SET lock_timeout = '1s'" -c "BEGIN" -c "UPDATE ref_102004 SET v = v WHERE id = 1" -c "ROLLBACK" 2>&1 | grep -v "^SET\|^BEGIN\|^ROLLBACK\|NOTICE\|DETAIL\|CONTEXT" | tr '\n' ' '; echo
  done
  wait $bg
done
