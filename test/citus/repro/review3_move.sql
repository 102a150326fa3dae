--
-- review3_move (review rev3, NOT FIXED; a repro outside the suite, run it as
-- test/citus/repro/review3_addnode.sql says).  A shard move copies the lock
-- store shard by Citus's binary COPY: its acquired_by (regrole) arrives as the
-- source node's role OID.  Here role OIDs differ between the workers (two
-- roles made on the second worker only), and after the move the grant of
-- m3_app reads, on the target node, as m3_shift1's ("17379 17381 m3_shift1"):
-- m3_app's same-holder extension is refused (acquired f), and a role whose
-- OID on the target node equals the source's OID of the holder's role would be
-- taken for the grant's role (another role extending it, with a token).
-- Correct: "m3_app" on the target node, and "t t" at the end.
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
SELECT format('SELECT nodeport, result FROM run_command_on_all_nodes(%L) JOIN pg_dist_node USING (nodeid) ORDER BY nodeport',
  format($f$SELECT string_agg(acquired_by::oid || ' ' || 'm3_app'::regrole::oid || ' ' || acquired_by::text, ',') FROM %s WHERE key = '1'$f$,
    (SELECT string_agg(format('%s_%s', locks::text, ss.shardid), ' ') FROM reclock_citus_tables r JOIN pg_dist_shard ss ON ss.logicalrelid = r.locks WHERE r.tbl = 'm3'::regclass AND ss.shardid IN (SELECT shardid FROM pg_dist_placement pp JOIN pg_dist_node nn ON nn.groupid = pp.groupid WHERE nn.nodeport = :other) AND get_shard_id_for_distribution_column(r.locks, 1) = ss.shardid))) \gexec
SET ROLE m3_app;
SELECT acquired, expires_at > :'exp1' AS extended FROM reclock_acquire('m3', '1', 'carol', ttl => interval '1 hour');
\echo :SQLSTATE
RESET ROLE;
