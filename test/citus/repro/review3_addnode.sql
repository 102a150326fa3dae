-- review3_addnode (review rev3, NOT FIXED; a repro, not in the suite: run it with
--   cp test/citus/repro/review3_addnode.sql test/citus/sql/ && touch test/citus/expected/review3_addnode.out
--   RECLOCK_CHROOTS=... CITUS_TESTS=review3_addnode CITUS_SPECS= CITUS_SCRIPTS= make test-citus PG_MAJOR=17
-- and read the diff).  A node added to the cluster (here: worker2 removed and
-- added back) gets its placements of reference tables by Citus's shard copy,
-- which is a BINARY COPY (citus.enable_binary_protocol): regclass and regrole
-- columns travel as the coordinator's OIDs.  Seen on the new node (nodeid 4):
--  * reclock_citus_tables: tbl/locks/tokens are the coordinator's OIDs
--    ("17379 17402 false"): every write of every protected reference table
--    refused there (0A000 "cannot guard yet"), so routed writes of free rows
--    fail everywhere; every acquire fails (55000).  (With an OID that happens to
--    name another Citus table there, the guard would read that table's stores.)
--  * the lock store's acquired_by: the coordinator's OID of the role
--    ("17397 17394 17397"): after the registry is rewritten by names (the
--    workaround below), a same-role same-holder extension is decided
--    differently there: extended on nodes 1 and 2, NOT on node 4 ("t t f"), so
--    node 4's replica runs out first and its guard stops refusing writes of that
--    placement while the others still refuse.  Shard moves copy the same way:
--    a moved distributed store shard keeps the source node's role OIDs.
-- Correct: every line of the registry "t" on every node; the last query "t t t".
\set SHOW_CONTEXT never
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS reclock;
RESET client_min_messages;
SET citus.next_shard_id = 3910000;
CREATE TABLE a3 (id int PRIMARY KEY, v text);
SELECT create_reference_table('a3');
INSERT INTO a3 SELECT g, 'a' || g FROM generate_series(1, 5) g;
-- roles whose OIDs differ between the nodes (a role made on the coordinator only first)
SET citus.enable_create_role_propagation = off;
CREATE ROLE a3_shift1; CREATE ROLE a3_shift2; CREATE ROLE a3_shift3;
RESET citus.enable_create_role_propagation;
CREATE ROLE a3_app LOGIN;
CREATE ROLE a3_other LOGIN;
GRANT SELECT, UPDATE ON a3 TO a3_other;
SELECT nodeid, result FROM run_command_on_all_nodes($$SELECT 'a3_app'::regrole::oid - 'a3_other'::regrole::oid$$) ORDER BY nodeid;
GRANT SELECT, UPDATE ON a3 TO a3_app;
SELECT reclock_protect('a3');
SELECT acquired FROM reclock_acquire('a3', '1', 'alice');
SET ROLE a3_app;
SELECT acquired, expires_at AS exp4 FROM reclock_acquire('a3', '4', 'carol', ttl => interval '1 minute') \gset
RESET ROLE;
SELECT nodename AS w2host, nodeport AS w2port FROM pg_dist_node WHERE noderole = 'primary' AND groupid > 0 ORDER BY nodeport DESC LIMIT 1 \gset
SELECT citus_remove_node(:'w2host', :w2port);
SELECT 1 FROM citus_add_node(:'w2host', :w2port);
SELECT replicate_reference_tables('block_writes');
-- the registry on every node: does tbl name a3, locks a3's lock store?
SELECT nodeid, result FROM run_command_on_all_nodes($$SELECT string_agg(coalesce(tbl::oid::regclass::text, 'none') || ' ' || coalesce(locks::oid::regclass::text, 'none') || ' ' || (tbl = 'a3'::regclass), ',') FROM reclock_citus_tables$$) ORDER BY nodeid;
SELECT nodeid, result FROM run_command_on_all_nodes($$SELECT (SELECT tbl::oid FROM reclock_citus_tables) = 'a3'::regclass::oid$$) ORDER BY nodeid;
-- a routed write of a free row; an acquire
UPDATE a3 SET v = 'free' WHERE id = 2;
\echo :SQLSTATE
SELECT acquired FROM reclock_acquire('a3', '3', 'bob');
\echo :SQLSTATE
-- the workaround: rewrite the registry through Citus by names (each node resolves them)
CREATE TEMP TABLE reg AS SELECT tbl::text AS tbl, locks::text AS locks, tokens::text AS tokens FROM reclock_citus_tables;
BEGIN;
DELETE FROM reclock_citus_tables;
SELECT format('INSERT INTO reclock_citus_tables VALUES (%L, %L, %L)', tbl, locks, tokens) FROM reg \gexec
COMMIT;
SELECT nodeid, result FROM run_command_on_all_nodes($$SELECT (SELECT tbl::oid FROM reclock_citus_tables) = 'a3'::regclass::oid$$) ORDER BY nodeid;
UPDATE a3 SET v = 'free' WHERE id = 2;
SELECT acquired FROM reclock_acquire('a3', '3', 'bob');
SET ROLE a3_app;
SELECT nodeport, success, result FROM run_command_on_placements('a3', $$UPDATE %s SET v = 'direct' WHERE id = 1$$) ORDER BY nodeport;
RESET ROLE;
-- the role of a grant on the new node's store placement (binary copy: an OID)
SELECT format('reclock_store_%s_locks', 'a3'::regclass::oid) AS locks,
       (SELECT extnamespace::regnamespace FROM pg_extension WHERE extname = 'reclock') AS schema \gset
SELECT nodeid, result FROM run_command_on_all_nodes(format($$SELECT acquired_by::oid || ' ' || 'a3_app'::regrole::oid || ' ' || acquired_by::text FROM %I.%I WHERE key = '4'$$, :'schema', :'locks')) ORDER BY nodeid;
-- the same role and holder extend it
SET ROLE a3_app;
SELECT acquired, expires_at > :'exp4' AS extended FROM reclock_acquire('a3', '4', 'carol', ttl => interval '1 hour');
RESET ROLE;
SELECT nodeid, result FROM run_command_on_all_nodes(format($$SELECT expires_at > now() + interval '30 minutes' FROM %I.%I WHERE key = '4'$$, :'schema', :'locks')) ORDER BY nodeid;
