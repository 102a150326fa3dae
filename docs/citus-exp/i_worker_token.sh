#!/usr/bin/env bash
# reclock's own token rules on a worker, with the exact shape of what Citus
# sends to a fresh worker backend: one simple query
#   BEGIN …;SET LOCAL reclock.token = '…';SELECT assign_distributed_transaction_id(…)
# arriving before reclock's library is loaded in that backend.  A plain
# protected table on worker1 stands in for a shard (today's reclock refuses
# shards).
W() { docs/citus-exp/cluster.sh psql 1 "$@"; }
W -q -c "DROP TABLE IF EXISTS w" -c "CREATE TABLE w (id int PRIMARY KEY, v text)" -c "INSERT INTO w VALUES (1, 'a')" -c "SELECT reclock_protect('w')"
tok=$(W -At -c "SELECT token FROM reclock_acquire('w', '1', 'alice')")
echo "=== fresh backend: Citus-shaped BEGIN string with the token, then UPDATE"
W -c "BEGIN TRANSACTION ISOLATION LEVEL READ COMMITTED;SET LOCAL reclock.token = '$tok';SELECT assign_distributed_transaction_id(0, 4242, now())" \
  -c "SELECT 'reclock loaded before the UPDATE: ' || (SELECT count(*) > 0 FROM pg_settings WHERE name = 'reclock.max_ttl')" \
  -c "UPDATE w SET v = 'carried' WHERE id = 1" -c "COMMIT" 2>&1 | grep -v "^ *$\|^-\|row)\|assign_distributed\|?column?"
echo "=== fresh backend: the same without the token"
W -c "BEGIN;SELECT assign_distributed_transaction_id(0, 4243, now())" -c "UPDATE w SET v = 'none' WHERE id = 1" -c "COMMIT" 2>&1 | grep -v "^ *$\|^-\|row)\|assign_distributed"
echo "=== fresh backend: session-level SET of the token in an earlier transaction, then BEGIN; UPDATE"
W -c "SET reclock.token = '$tok'" -c "BEGIN" -c "UPDATE w SET v = 'session' WHERE id = 1" -c "COMMIT" 2>&1 | grep -v "^ *$"
W -At -c "SELECT v FROM w"
