#!/usr/bin/env bash
# Who sees a transported token in the worker's pg_stat_activity?
C() { docs/citus-exp/cluster.sh psql 0 "$@"; }
W() { docs/citus-exp/cluster.sh psql 1 "$@"; }
C -q -c "DO \$\$BEGIN CREATE ROLE other LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END\$\$" -c "GRANT EXECUTE ON FUNCTION present(text) TO app" 2>/dev/null
C -q -U app -c "BEGIN" -c "UPDATE orders SET v = v WHERE id = 1" -c "SELECT present('SECRET-0000')" -c "SELECT pg_sleep(3)" -c "COMMIT" >/dev/null 2>&1 &
bg=$!
sleep 1.5
for r in app other postgres; do
  echo "worker1 pg_stat_activity as $r: $(W -U $r -At -c "SELECT coalesce(query, '<null>') FROM pg_stat_activity WHERE application_name LIKE 'citus_internal%' AND usename = 'app'")"
done
wait $bg
