--
-- review3_move (review rev3): a shard move copies the lock store shard by
-- Citus's binary COPY, byte for byte, to a node where role OIDs may differ
-- (here two roles made on the second worker only).  The stores keep the
-- grant's role by name, so after the move the holder's same-holder extension
-- is still its own (with the role kept as a regrole it read as another role's
-- OID there: the extension was refused, and a role whose OID matched would
-- have been taken for the grant's role).
--
\set SHOW_CONTEXT never
\set VERBOSITY terse
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS reclock;
RESET client_min_messages;
SET citus.next_shard_id = 3940000;
SET citus.shard_count = 2;
-- role OIDs apart on the workers: roles made on the second worker only, first
SELECT nodename AS w2host, nodeport AS w2port FROM pg_dist_node WHERE groupid > 0 ORDER BY nodeport DESC LIMIT 1 \gset
SELECT success FROM master_run_on_worker(ARRAY[:'w2host'], ARRAY[:w2port], ARRAY['SET citus.enable_create_role_propagation = off; CREATE ROLE m3_shift1; CREATE ROLE m3_shift2'], false);
CREATE ROLE m3_app LOGIN;
CREATE TABLE m3 (id int PRIMARY KEY, v text);
SELECT create_distributed_table('m3', 'id');
INSERT INTO m3 SELECT g, 'm' || g FROM generate_series(1, 8) g;
GRANT SELECT, UPDATE ON m3 TO m3_app;
SELECT reclock_protect('m3');
SET ROLE m3_app;
SELECT acquired, expires_at AS exp1 FROM reclock_acquire('m3', '1', 'carol', ttl => interval '1 minute') \gset
RESET ROLE;
SELECT s.shardid AS sh, n.nodename AS host, n.nodeport AS port FROM pg_dist_shard s JOIN pg_dist_placement p USING (shardid) JOIN pg_dist_node n ON n.groupid = p.groupid WHERE s.logicalrelid = 'm3'::regclass AND get_shard_id_for_distribution_column('m3', 1) = s.shardid \gset
SELECT nodeport AS other FROM pg_dist_node WHERE groupid > 0 AND nodeport <> :port ORDER BY nodeport LIMIT 1 \gset
SELECT citus_move_shard_placement(:sh, :'host', :port, :'host', :other, 'block_writes');
SET ROLE m3_app;
SELECT acquired, expires_at > :'exp1' AS extended FROM reclock_acquire('m3', '1', 'carol', ttl => interval '1 hour');
\echo :SQLSTATE
RESET ROLE;
SELECT reclock_break('m3', '1');
SELECT reclock_unprotect('m3');
DROP TABLE m3;
DROP OWNED BY m3_app;
DROP ROLE m3_app;
SELECT success FROM master_run_on_worker(ARRAY[:'w2host'], ARRAY[:w2port], ARRAY['SET citus.enable_create_role_propagation = off; DROP ROLE m3_shift1, m3_shift2'], false);
