--
-- zz_drop_extension: DROP EXTENSION reclock CASCADE on the coordinator takes
-- the stores of protected Citus tables with it (they are Citus tables of
-- their own, not members of the extension), on every node; CREATE EXTENSION
-- and protect again then work, and fences keep growing.  (Named to run
-- last: it drops reclock under every other file's objects.)
--
\set SHOW_CONTEXT never
SET citus.shard_count = 4;
SET citus.next_shard_id = 3950000;
CREATE TABLE dx (id int PRIMARY KEY, v text);
SELECT create_distributed_table('dx', 'id');
INSERT INTO dx SELECT g, 'd' || g FROM generate_series(1, 4) g;
CREATE TABLE rx (id int PRIMARY KEY, v text);
SELECT create_reference_table('rx');
INSERT INTO rx SELECT g, 'r' || g FROM generate_series(1, 4) g;
SELECT reclock_protect('dx');
SELECT reclock_protect('rx');
SELECT reclock_notify('dx');
-- (the stores of these two tables only: shards of other files' tables moved
-- or split may wait for Citus's deferred cleanup on a worker)
SELECT 'reclock\_store\_' || 'dx'::regclass::oid || '\_%' AS dxs, 'reclock\_store\_' || 'rx'::regclass::oid || '\_%' AS rxs \gset
SELECT fence AS old_fence FROM reclock_acquire('dx', '1', 'alice') \gset
SELECT acquired FROM reclock_acquire('rx', '1', 'alice');
-- the stores, on every node (tables and shards)
SELECT count(*) > 0 AS stores FROM pg_class WHERE (relname LIKE :'dxs' OR relname LIKE :'rxs') AND relkind = 'r';
SELECT nodeport > 0 AS worker, result::int > 0 AS stores
  FROM run_command_on_workers(format($$SELECT count(*) FROM pg_class WHERE (relname LIKE %L OR relname LIKE %L) AND relkind = 'r'$$, :'dxs', :'rxs'))
 ORDER BY nodeport;
-- (the store shards that an earlier file's shard move or split left for
-- Citus's deferred cleanup are Citus's to drop, not reclock's: dropped now)
SET client_min_messages = warning;
CALL citus_cleanup_orphaned_resources();
DROP EXTENSION reclock CASCADE;
RESET client_min_messages;
-- (shard placements moved away by earlier files wait for Citus's deferred cleanup)
SET client_min_messages = warning;
CALL citus_cleanup_orphaned_resources();
RESET client_min_messages;
-- nothing of them is left, on any node, nor in Citus's metadata
SELECT count(*) AS stores FROM pg_class WHERE relname LIKE :'dxs' OR relname LIKE :'rxs';
SELECT nodeport > 0 AS worker, result AS stores
  FROM run_command_on_workers(format($$SELECT count(*) FROM pg_class WHERE relname LIKE %L OR relname LIKE %L$$, :'dxs', :'rxs'))
 ORDER BY nodeport;
SELECT count(*) AS citus_tables FROM pg_dist_partition WHERE logicalrelid::text LIKE '%reclock%';
-- the tables are plain Citus tables again: written freely
UPDATE dx SET v = 'free' WHERE id = 1;
UPDATE rx SET v = 'free' WHERE id = 1;
-- a new install protects them again, and fences keep growing
CREATE EXTENSION reclock;
SELECT reclock_protect('dx');
SELECT reclock_protect('rx');
SELECT acquired, fence > :old_fence AS fence_grows FROM reclock_acquire('dx', '1', 'bob');
SELECT acquired FROM reclock_acquire('rx', '1', 'bob');
\set VERBOSITY sqlstate
UPDATE dx SET v = 'x' WHERE id = 1;
UPDATE rx SET v = 'x' WHERE id = 1;
\set VERBOSITY default
-- without CASCADE the drop is refused (the guards depend on it) and the
-- stores stay, with their locks
\set VERBOSITY terse
DROP EXTENSION reclock;
\set VERBOSITY default
SELECT (SELECT count(*) FROM pg_class WHERE relname LIKE 'reclock\_store\_%' AND relkind = 'r') > 0 AS stores;
SELECT reclock_break('dx', '1');
SELECT reclock_break('rx', '1');
SELECT reclock_unprotect('dx');
SELECT reclock_unprotect('rx');
DROP TABLE dx, rx;
