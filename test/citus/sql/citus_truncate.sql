--
-- citus_truncate: TRUNCATE of a shard of a protected distributed table, on
-- its worker.  Citus copies a TRUNCATE trigger made after distribution to
-- no shard, so reclock_protect makes the TRUNCATE check on every shard
-- itself (named as Citus names the copies it makes at a shard move): a
-- shard whose lock store shard has a live lock cannot be truncated
-- (55P03); a shard without one can.  TRUNCATE of the distributed table on
-- the coordinator stays refused (0A000).
--
\set SHOW_CONTEXT never
SET citus.shard_count = 4;
SET citus.next_shard_id = 1500000;
CREATE TABLE tt (id int PRIMARY KEY, v text);
SELECT create_distributed_table('tt', 'id');
INSERT INTO tt SELECT g, 'v' || g FROM generate_series(1, 8) g;
SELECT reclock_protect('tt');
-- the check is on every shard, on its worker
SELECT shardid, result FROM run_command_on_placements('tt',
  $$SELECT count(*) FROM pg_trigger WHERE tgrelid = '%s'::regclass AND tgname LIKE 'reclock_guard_truncate%%' AND tgtype & 32 <> 0$$)
 ORDER BY shardid;
SELECT acquired, holder FROM reclock_acquire('tt', '1', 'alice') \gset a_
\echo :a_acquired :a_holder
-- a TRUNCATE of each shard on its worker: the shard of row 1 is refused
SELECT shardid, success, result
  FROM run_command_on_placements('tt',
       $q$DO $x$BEGIN SET LOCAL citus.enable_manual_changes_to_shards = on; TRUNCATE %s; END$x$$q$)
 ORDER BY shardid;
SELECT id, v FROM tt ORDER BY id;
-- on the coordinator: refused (0A000)
TRUNCATE tt;
-- the lock ended: the shard can be truncated
SELECT reclock_break('tt', '1');
SELECT shardid, success, result
  FROM run_command_on_placements('tt',
       $q$DO $x$BEGIN SET LOCAL citus.enable_manual_changes_to_shards = on; TRUNCATE %s; END$x$$q$)
 ORDER BY shardid;
SELECT count(*) FROM tt;
-- protect again (idempotent) keeps one check per shard
SELECT reclock_protect('tt');
SELECT shardid, result FROM run_command_on_placements('tt',
  $$SELECT count(*) FROM pg_trigger WHERE tgrelid = '%s'::regclass AND tgname LIKE 'reclock_guard_truncate%%' AND tgtype & 32 <> 0$$)
 ORDER BY shardid;
-- unprotected: the shards can be truncated, through Citus too
SELECT reclock_unprotect('tt');
INSERT INTO tt VALUES (1, 'again');
TRUNCATE tt;
SELECT count(*) FROM tt;
-- a protect rolled back leaves its checks on the shards (they are made
-- over connections of their own): they guard nothing then
BEGIN;
SELECT reclock_protect('tt');
ROLLBACK;
INSERT INTO tt VALUES (1, 'again');
SELECT shardid, success, result
  FROM run_command_on_placements('tt',
       $q$DO $x$BEGIN SET LOCAL citus.enable_manual_changes_to_shards = on; TRUNCATE %s; END$x$$q$)
 ORDER BY shardid;
TRUNCATE tt;
-- (they are there: a protect in a transaction that wrote the table works)
BEGIN;
INSERT INTO tt VALUES (2, 'busy');
SELECT reclock_protect('tt');
ROLLBACK;
-- a protect whose transaction has created or written a table whose shards
-- lack the check cannot make it (other connections wait for this
-- transaction's locks on them): refused at once, not half made
SET citus.next_shard_id = 1500200;
CREATE TABLE tb (id int PRIMARY KEY, v text);
SELECT create_distributed_table('tb', 'id');
BEGIN;
INSERT INTO tb VALUES (2, 'busy');
SELECT reclock_protect('tb');
ROLLBACK;
BEGIN;
CREATE TABLE tc (id int PRIMARY KEY, v text);
SELECT create_distributed_table('tc', 'id');
SELECT reclock_protect('tc');
ROLLBACK;
SELECT tgname FROM pg_trigger WHERE tgrelid = 'tb'::regclass AND tgname LIKE 'reclock%' ORDER BY tgname;
SELECT shardid, result FROM run_command_on_placements('tb',
  $$SELECT count(*) FROM pg_trigger WHERE tgrelid = '%s'::regclass AND tgname LIKE 'reclock_guard_truncate%%'$$)
 ORDER BY shardid;
-- in a transaction of its own it works
SELECT reclock_protect('tb');
SELECT reclock_unprotect('tb');
DROP TABLE tb;
DROP TABLE tt;
-- a table protected before Citus distributed it: Citus copied both of its
-- triggers to the shards, and its locks are not beside them: a TRUNCATE of
-- a shard on its worker is refused (0A000), as every write is
SET citus.next_shard_id = 1500100;
CREATE TABLE tpre (id int PRIMARY KEY, v text);
INSERT INTO tpre SELECT g, 'v' || g FROM generate_series(1, 4) g;
SELECT reclock_protect('tpre');
SET citus.enable_unsafe_triggers = on;
SELECT create_distributed_table('tpre', 'id');
RESET citus.enable_unsafe_triggers;
SELECT shardid, success, result
  FROM run_command_on_placements('tpre',
       $q$DO $x$BEGIN SET LOCAL citus.enable_manual_changes_to_shards = on; TRUNCATE %s; END$x$$q$)
 ORDER BY shardid;
SELECT count(*) FROM tpre;
SET citus.enable_unsafe_triggers = on;
SELECT reclock_unprotect('tpre');
RESET citus.enable_unsafe_triggers;
DROP TABLE tpre;
