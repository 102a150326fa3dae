#!/usr/bin/env bash
# A worker stopped (immediate) and started while it holds a PREPAREd part of an
# acquire (row locked FOR UPDATE + a write on that worker): are the row lock
# and the prepared write still there, and what resolves them?
C() { docs/citus-exp/cluster.sh psql 0 "$@"; }
W() { docs/citus-exp/cluster.sh psql 1 "$@"; }
C -q -c "ALTER SYSTEM SET synchronous_standby_names = 'nobody'" -c "ALTER ROLE postgres SET synchronous_commit = local" -c "SELECT pg_reload_conf()" >/dev/null
PGAPPNAME=acq C -q -c "SET synchronous_commit = on" -c "BEGIN" -c "SELECT id FROM orders WHERE id = 1 FOR UPDATE" -c "UPDATE ref SET v = 'granted' WHERE id = 4" -c "COMMIT" >/dev/null 2>&1 &
bg=$!
for i in $(seq 50); do s=$(C -At -c "SELECT wait_event FROM pg_stat_activity WHERE application_name = 'acq'"); [ "$s" = SyncRep ] && break; sleep 0.1; done
echo "coordinator commit waits in: $s; worker1 prepared: $(W -At -c 'SELECT gid FROM pg_prepared_xacts')"
runuser -u postgres -- /usr/lib/postgresql/17/bin/pg_ctl -D /tmp/rc2/worker1 -m immediate stop >/dev/null
runuser -u postgres -- /usr/lib/postgresql/17/bin/pg_ctl -D /tmp/rc2/worker1 -l /tmp/rc2/worker1.log -w start >/dev/null
echo "after immediate stop+start, worker1 prepared: $(W -At -c 'SELECT gid FROM pg_prepared_xacts')"
echo -n "worker1 direct write of the locked row (lock_timeout 1s): "; W -At -c "SET lock_timeout='1s'" -c "UPDATE orders_102000 SET v = v WHERE id = 1" 2>&1 | grep -v NOTICE | grep -v DETAIL| grep -v '^SET' | head -1
C -At -c "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = 'acq'" >/dev/null
wait $bg
echo "coordinator committed; worker1 prepared now: $(W -At -c 'SELECT count(*) FROM pg_prepared_xacts')"
C -At -c "SELECT recover_prepared_transactions()" | sed 's/^/recover_prepared_transactions() on the coordinator: /'
echo "worker1 prepared after recovery: $(W -At -c 'SELECT count(*) FROM pg_prepared_xacts'); ref row 4 on worker1: $(W -At -c 'SELECT v FROM ref_102004 WHERE id = 4')"
C -q -c "ALTER SYSTEM RESET synchronous_standby_names" -c "ALTER ROLE postgres RESET synchronous_commit" -c "SELECT pg_reload_conf()" >/dev/null
