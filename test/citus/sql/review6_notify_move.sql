--
-- review6_notify_move (helper c6-mark's note): a shard of a table with
-- change notices on moves in Citus's default mode (logical replication,
-- which needs a replica identity on every table of the shard group): the
-- notice store beside it has no key, so it is made with REPLICA IDENTITY
-- FULL (it never holds a committed row).  Before, the move failed
-- ("cannot use logical replication ... REPLICA IDENTITY").
--
\set SHOW_CONTEXT never
SET citus.shard_count = 2;
SET citus.next_shard_id = 3980000;
CREATE TABLE nm (id int PRIMARY KEY, v text);
SELECT create_distributed_table('nm', 'id');
INSERT INTO nm SELECT g, 'n' || g FROM generate_series(1, 4) g;
SELECT reclock_protect('nm');
SELECT reclock_notify('nm');
SELECT token AS tok FROM reclock_acquire('nm', '1', 'alice') \gset
SELECT get_shard_id_for_distribution_column('nm', 1) AS shard \gset
SELECT nodeid AS node0 FROM pg_dist_placement JOIN pg_dist_node USING (groupid) WHERE shardid = :shard \gset
SELECT nodeid AS node1 FROM pg_dist_node WHERE groupid <> 0 AND nodeid <> :node0 \gset
-- the default transfer mode
SELECT citus_move_shard_placement(:shard::bigint, :node0, :node1);
SELECT nodeid = :node1 AS moved FROM pg_dist_placement JOIN pg_dist_node USING (groupid) WHERE shardid = :shard;
-- the lock moved with it; a write with the token passes and its notice is
-- collected at COMMIT from the moved notice store (the COMMIT succeeds)
\set VERBOSITY sqlstate
UPDATE nm SET v = 'x' WHERE id = 1;
\set VERBOSITY default
BEGIN;
SET LOCAL citus.propagate_set_commands = local;
SET LOCAL reclock.token = :'tok';
UPDATE nm SET v = 'alice' WHERE id = 1;
COMMIT;
SELECT reclock_release(:'tok');
SELECT reclock_unprotect('nm');
DROP TABLE nm;
