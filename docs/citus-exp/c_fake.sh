#!/usr/bin/env bash
# An application role on a worker pretends to be Citus's own connection
# (application_name 'citus_internal gpid=...') and picks a distributed
# transaction id of its choice; then writes a shard directly.
P() { docs/citus-exp/cluster.sh psql "$@"; }
echo "=== fake internal application_name, as app on worker1"
PGAPPNAME="citus_internal gpid=10000000099" P 1 -U app \
  -c 'SELECT current_setting($$application_name$$)' \
  -c 'SELECT count(*) AS shards_visible FROM pg_class WHERE relname LIKE $$orders_1%$$' \
  -c 'BEGIN' -c 'SELECT assign_distributed_transaction_id(0, 777, now())' \
  -c 'UPDATE orders_102000 SET v = $$fake-internal$$ WHERE id = 1' \
  -c 'SELECT * FROM get_current_transaction_id()' -c 'COMMIT'
PGAPPNAME=psql P 1 -U app -c 'SELECT count(*) AS shards_visible_normal FROM pg_class WHERE relname LIKE $$orders_1%$$'
P 0 -c 'SELECT * FROM orders ORDER BY id LIMIT 3'
