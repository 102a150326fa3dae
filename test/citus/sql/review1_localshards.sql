--
-- review1_localshards (review1): with the coordinator holding shards (local
-- execution: a grant runs in the coordinator's own backend), the grant's
-- reclaim at commit leaves one hash of the row's grants, and
-- reclock_unprotect drops the stores (it failed with "table ... does not
-- exist": it read the stores' names from the registry as regclass text, which
-- came out unqualified, and dropped names the store owner's search_path does
-- not find).
--
\set SHOW_CONTEXT never
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS reclock;
RESET client_min_messages;
SELECT nodeport AS cport FROM pg_dist_node WHERE groupid = 0 \gset
SELECT citus_set_node_property('127.0.0.1', :cport, 'shouldhaveshards', true);
SET citus.shard_count = 6;
SET citus.next_shard_id = 3985000;
CREATE TABLE lx (id int PRIMARY KEY, v text);
SELECT create_distributed_table('lx', 'id');
INSERT INTO lx SELECT g, 'l' || g FROM generate_series(1, 12) g;
SELECT reclock_protect('lx');
SELECT locks, tokens FROM reclock_citus_tables WHERE tbl = 'lx'::regclass \gset
SELECT 'reclock\_store\_' || 'lx'::regclass::oid || '\_%' AS pat \gset
-- rows 1 (its shard on the coordinator) and 2 (on a worker)
SELECT id, (SELECT groupid FROM pg_dist_placement p WHERE p.shardid = get_shard_id_for_distribution_column('lx', id)) = 0 AS on_coordinator
  FROM generate_series(1, 2) id ORDER BY id;
-- three grants of row 1 two minutes apart, the last under REPEATABLE READ
BEGIN;
SET LOCAL citus.propagate_set_commands = 'local';
SET LOCAL reclock.test_clock_offset = 120;
SELECT acquired FROM reclock_acquire('lx', '1', 'h1', '1 min');
COMMIT;
BEGIN;
SET LOCAL citus.propagate_set_commands = 'local';
SET LOCAL reclock.test_clock_offset = 240;
SELECT acquired FROM reclock_acquire('lx', '1', 'h2', '1 min');
COMMIT;
BEGIN ISOLATION LEVEL REPEATABLE READ;
SET LOCAL citus.propagate_set_commands = 'local';
SET LOCAL reclock.test_clock_offset = 360;
SELECT acquired FROM reclock_acquire('lx', '1', 'h3', '1 min');
COMMIT;
SELECT acquired FROM reclock_acquire('lx', '2', 'h3', '1 min');
SELECT dist, count(*) AS hashes FROM :tokens GROUP BY dist ORDER BY dist;
SELECT reclock_break('lx', '1');
SELECT reclock_break('lx', '2');
-- unprotect drops the stores, here and on the workers
SELECT reclock_unprotect('lx');
SELECT count(*) AS stores FROM pg_class WHERE relname LIKE :'pat';
SELECT nodeport > 0 AS worker, result AS stores
  FROM run_command_on_workers(format('SELECT count(*) FROM pg_class WHERE relname LIKE %L', :'pat'))
 ORDER BY nodeport;
DROP TABLE lx;
SELECT citus_set_node_property('127.0.0.1', :cport, 'shouldhaveshards', false);
