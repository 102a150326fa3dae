--
-- citus: reclock in a database of a Citus cluster (a coordinator and two
-- workers: test/citus/run.sh).  reclock does not guard tables Citus
-- distributes or manages yet: Citus runs a table's triggers on the node
-- that holds the row's shard, whose lock table does not hold the locks
-- taken on the coordinator.  So protect and acquire refuse such tables
-- (0A000), and a guard Citus copied to the shards of a table protected
-- before it was distributed refuses every write (0A000) instead of letting
-- it through.  Tables Citus does not manage keep every promise.
--
-- (run.sh makes the nodes and runs CREATE EXTENSION citus on each; the
-- workers' ports change from run to run, so no message here may name one.)
--
\set SHOW_CONTEXT never
\i sql/include/try.sql
SET citus.shard_count = 4;
-- shard ids (named in messages) fixed per table
SET citus.next_shard_id = 1000000;
CREATE EXTENSION reclock;

-- a plain table on the coordinator: guarded as anywhere
CREATE TABLE plain (id int PRIMARY KEY, v text);
INSERT INTO plain VALUES (1, 'a'), (2, 'b');
SELECT reclock_protect('plain');
SELECT acquired, token AS plain_token FROM reclock_acquire('plain', '1', 'alice') \gset
\echo :acquired
SELECT try($$UPDATE plain SET v = 'x' WHERE id = 1$$);
BEGIN;
SELECT set_config('reclock.token', :'plain_token', true) IS NOT NULL AS presented;
UPDATE plain SET v = 'alice' WHERE id = 1;
COMMIT;
UPDATE plain SET v = 'y' WHERE id = 2;
SELECT * FROM plain ORDER BY id;

-- a plain document on the coordinator: the lock on an order covers its lines
CREATE TABLE plain_order (id int PRIMARY KEY);
CREATE TABLE plain_line (order_id int REFERENCES plain_order, n int, PRIMARY KEY (order_id, n));
INSERT INTO plain_order VALUES (1), (2);
INSERT INTO plain_line VALUES (1, 1), (2, 1);
SELECT reclock_protect('plain_order');
SELECT reclock_protect('plain_line', parent => 'plain_order');
SELECT acquired, token AS order_token FROM reclock_acquire('plain_order', '1', 'alice') \gset
\echo :acquired
SELECT try($$INSERT INTO plain_line VALUES (1, 2)$$);
SELECT try($$UPDATE plain_line SET n = 3 WHERE order_id = 1$$);
SELECT try($$INSERT INTO plain_line VALUES (2, 2)$$);
BEGIN;
SELECT set_config('reclock.token', :'order_token', true) IS NOT NULL AS presented;
INSERT INTO plain_line VALUES (1, 2);
COMMIT;
SELECT * FROM plain_line ORDER BY order_id, n;

-- a distributed table: acquire refuses (protect makes its stores:
-- citus_stores.sql); a reference table is guarded by reference stores
-- (citus_reference.sql)
CREATE TABLE dist (id int PRIMARY KEY, v text);
SELECT create_distributed_table('dist', 'id');
INSERT INTO dist SELECT g, 'd' || g FROM generate_series(1, 8) g;
CREATE TABLE ref (id int PRIMARY KEY, v text);
SELECT create_reference_table('ref');
INSERT INTO ref VALUES (1, 'r1'), (2, 'r2');
SELECT * FROM reclock_acquire('dist', '1', 'alice');
\echo :SQLSTATE
-- nothing was attached, nothing was stored
SELECT count(*) AS triggers FROM pg_trigger
 WHERE tgrelid IN ('dist'::regclass, 'ref'::regclass) AND tgname LIKE 'reclock%';
SELECT count(*) AS locks FROM reclock_locks WHERE relation IN ('dist'::regclass, 'ref'::regclass);

-- a child table whose parent Citus distributes, co-located: a document,
-- guarded since build plan step 6 (citus_documents); unprotected again
CREATE TABLE dist_line (order_id int REFERENCES dist, n int, PRIMARY KEY (order_id, n));
SELECT create_distributed_table('dist_line', 'order_id', colocate_with => 'dist');
SELECT reclock_protect('dist_line', parent => 'dist');
\echo :SQLSTATE
SELECT reclock_unprotect('dist_line');
-- a local table with a foreign key to a reference table (Citus takes it
-- into its metadata, as a local table it manages)
CREATE TABLE plain_child (id int PRIMARY KEY, order_id int REFERENCES ref);
SELECT reclock_protect('plain_child', parent => 'ref');
\echo :SQLSTATE

-- protected first, distributed afterwards: Citus copies the guard to the
-- shards (with citus.enable_unsafe_triggers on), on the workers; the guard
-- there refuses every write, with or without a token, instead of judging
-- it by the worker's empty lock table
CREATE TABLE later_dist (id int PRIMARY KEY, v text);
INSERT INTO later_dist SELECT g, 'l' || g FROM generate_series(1, 8) g;
CREATE TABLE later_ref (id int PRIMARY KEY, v text);
INSERT INTO later_ref VALUES (1, 'r1'), (2, 'r2');
SELECT reclock_protect('later_dist');
SELECT reclock_protect('later_ref');
SELECT acquired, token AS dist_token FROM reclock_acquire('later_dist', '1', 'alice') \gset
\echo :acquired
SELECT acquired, token AS ref_token FROM reclock_acquire('later_ref', '1', 'alice') \gset
\echo :acquired
SET citus.enable_unsafe_triggers = on;
SET citus.next_shard_id = 1000100;
SELECT create_distributed_table('later_dist', 'id');
SET citus.next_shard_id = 1000200;
SELECT create_reference_table('later_ref');
-- the guard is on the shards (run_command_on_shards reads each shard's triggers)
SELECT shardid, result AS triggers
  FROM run_command_on_shards('later_dist', $$SELECT string_agg(tgname, ',' ORDER BY tgname) FROM pg_trigger WHERE tgrelid = '%s'::regclass$$)
 ORDER BY shardid;
-- a locked row, without the token: refused (before: the UPDATE succeeded)
UPDATE later_dist SET v = 'x' WHERE id = 1;
\echo :SQLSTATE
DELETE FROM later_dist WHERE id = 1;
\echo :SQLSTATE
UPDATE later_ref SET v = 'x' WHERE id = 1;
\echo :SQLSTATE
DELETE FROM later_ref WHERE id = 1;
\echo :SQLSTATE
-- with the token: refused too (the guard cannot tell it either)
BEGIN;
SELECT set_config('reclock.token', :'dist_token', true) IS NOT NULL AS presented;
UPDATE later_dist SET v = 'alice' WHERE id = 1;
\echo :SQLSTATE
ROLLBACK;
-- rows nobody locked, and a multi-shard UPDATE: refused
UPDATE later_dist SET v = 'x' WHERE id = 2;
\echo :SQLSTATE
-- (the shards are written in parallel: the first to refuse is named)
\set VERBOSITY sqlstate
UPDATE later_dist SET v = v || '!';
\set VERBOSITY default
UPDATE later_ref SET v = 'x' WHERE id = 2;
\echo :SQLSTATE
-- TRUNCATE too
TRUNCATE later_dist;
\echo :SQLSTATE
-- nothing was written
SELECT * FROM later_dist ORDER BY id;
SELECT * FROM later_ref ORDER BY id;
-- and no new lock is granted on them
SELECT * FROM reclock_acquire('later_dist', '2', 'bob');
\echo :SQLSTATE
SELECT * FROM reclock_acquire('later_ref', '2', 'bob');
\echo :SQLSTATE
-- a protected local table added to Citus's metadata: its rows move to a
-- shard on the coordinator, whose guard refuses too
CREATE TABLE later_local (id int PRIMARY KEY, v text);
INSERT INTO later_local VALUES (1, 'a');
SELECT reclock_protect('later_local');
SET citus.next_shard_id = 1000300;
SELECT citus_add_local_table_to_metadata('later_local');
UPDATE later_local SET v = 'x' WHERE id = 1;
\echo :SQLSTATE
SELECT * FROM later_local;

-- a document (an order and its lines) protected first, then distributed
-- co-located: the lines' guard (it fires on INSERT too) refuses on the
-- shards as well
CREATE TABLE later_order (id int PRIMARY KEY, v text);
CREATE TABLE later_line (order_id int REFERENCES later_order, n int, qty int,
                         PRIMARY KEY (order_id, n));
INSERT INTO later_order VALUES (1, 'o1'), (2, 'o2');
INSERT INTO later_line VALUES (1, 1, 10), (2, 1, 20);
SELECT reclock_protect('later_order');
SELECT reclock_protect('later_line', parent => 'later_order');
SET citus.next_shard_id = 1000400;
SELECT create_distributed_table('later_order', 'id');
-- the lines cannot be distributed: their guard refuses Citus's copy of
-- their rows into the shards (0A000 on the worker; Citus relays the error
-- of its copy as XX000, without the hint), and the table stays as it was.
-- The shards are written in parallel: the first to refuse is named, and
-- Citus's metadata may not show it yet where it refuses (then the guard
-- knows the shard by the name of the trigger Citus copied), so the message
-- is matched, not printed.
SET citus.next_shard_id = 1000500;
\set VERBOSITY sqlstate
SELECT create_distributed_table('later_line', 'order_id', colocate_with => 'later_order');
\set VERBOSITY default
\echo :SQLSTATE
SELECT :'LAST_ERROR_MESSAGE' ~ '^cannot write to table "later_line_[0-9]+": it is a shard of (a Citus table|Citus table "later_line"), which reclock cannot guard yet$' AS refused_by_the_shard_guard;
SELECT count(*) AS citus_tables FROM pg_dist_partition WHERE logicalrelid = 'later_line'::regclass;
SELECT * FROM later_line ORDER BY order_id, n;
UPDATE later_order SET v = 'x' WHERE id = 1;
\echo :SQLSTATE

-- a shard that Citus's metadata does not show where its guard fires (a
-- worker Citus syncs no metadata to, or one Citus is still copying rows
-- to) is known by its name and the name Citus gives the trigger it copies
-- there, <trigger>_<shardid>: here made by hand on the coordinator
CREATE TABLE unknown_shard_4242 (id int PRIMARY KEY, v text);
INSERT INTO unknown_shard_4242 VALUES (1, 'a');
CREATE TRIGGER reclock_guard_4242 BEFORE UPDATE OR DELETE ON unknown_shard_4242
  FOR EACH ROW EXECUTE FUNCTION reclock_guard();
CREATE TRIGGER reclock_guard_truncate_4242 BEFORE TRUNCATE ON unknown_shard_4242
  FOR EACH STATEMENT EXECUTE FUNCTION reclock_guard_truncate();
UPDATE unknown_shard_4242 SET v = 'x' WHERE id = 1;
\echo :SQLSTATE
DELETE FROM unknown_shard_4242;
\echo :SQLSTATE
TRUNCATE unknown_shard_4242;
\echo :SQLSTATE
-- a table named like a shard that reclock protected itself is guarded as
-- any other: its trigger has reclock's own name
CREATE TABLE orders_2024 (id int PRIMARY KEY, v text);
INSERT INTO orders_2024 VALUES (1, 'a');
SELECT reclock_protect('orders_2024');
UPDATE orders_2024 SET v = 'x' WHERE id = 1;
TRUNCATE orders_2024;
SELECT count(*) AS orders_2024 FROM orders_2024;
DROP TABLE unknown_shard_4242, orders_2024;

-- the way out: unprotect on the coordinator removes the guard from the shards
SELECT reclock_unprotect('later_dist');
RESET citus.enable_unsafe_triggers;
UPDATE later_dist SET v = 'u' WHERE id = 2;
SELECT * FROM later_dist WHERE id = 2;

-- the plain table still keeps its lock
SELECT try($$UPDATE plain SET v = 'z' WHERE id = 1$$);
SELECT reclock_release(:'plain_token');
UPDATE plain SET v = 'z' WHERE id = 1;
SELECT * FROM plain ORDER BY id;
