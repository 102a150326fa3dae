--
-- review1_reclaim_2pc (review review1): a grant's reclaim (ended grants'
-- token hashes of its distribution value, a few dead lock rows of its store
-- shard) runs when the row node's part commits, and also when Citus
-- PREPAREs that part (a transaction that wrote two nodes: an acquire of rows
-- on two workers is one) and under REPEATABLE READ (with the latest
-- snapshot).  Before, a part that was prepared or ran under REPEATABLE READ
-- never reclaimed, and every new grant of a row left one more hash (this
-- file's counts 4, 6, 8).  SERIALIZABLE transactions leave their dead rows
-- to the next grant of the row (or the sweep).  Each count of hashes of
-- row 1 is 1, but after the SERIALIZABLE grants (3: two ended grants and the live one).
--
\set SHOW_CONTEXT never
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS reclock;
RESET client_min_messages;
SET citus.shard_count = 2;
SET citus.next_shard_id = 3970000;
CREATE TABLE r2 (id int PRIMARY KEY, v text);
SELECT create_distributed_table('r2', 'id');
INSERT INTO r2 SELECT g, 'r' || g FROM generate_series(1, 8) g;
CREATE TABLE w2 (id int PRIMARY KEY, v text);
SELECT create_distributed_table('w2', 'id', colocate_with => 'r2');
INSERT INTO w2 SELECT g, 'w' || g FROM generate_series(1, 8) g;
SELECT reclock_protect('r2');
SELECT locks, tokens FROM reclock_citus_tables WHERE tbl = 'r2'::regclass \gset
-- one-phase commits: one hash of row 1's grants is left
BEGIN;
SET LOCAL citus.propagate_set_commands = 'local';
SET LOCAL reclock.test_clock_offset = 120;
SELECT acquired FROM reclock_acquire('r2', '1', 'h1', '1 min');
COMMIT;
BEGIN;
SET LOCAL citus.propagate_set_commands = 'local';
SET LOCAL reclock.test_clock_offset = 240;
SELECT acquired FROM reclock_acquire('r2', '1', 'h2', '1 min');
COMMIT;
BEGIN;
SET LOCAL citus.propagate_set_commands = 'local';
SET LOCAL reclock.test_clock_offset = 360;
SELECT acquired FROM reclock_acquire('r2', '1', 'h3', '1 min');
COMMIT;
SELECT count(*) AS hashes FROM :tokens WHERE dist = 1;
-- the acquiring transaction also writes both workers (2PC)
BEGIN;
SET LOCAL citus.propagate_set_commands = 'local';
SET LOCAL reclock.test_clock_offset = 480;
SELECT acquired FROM reclock_acquire('r2', '1', 'h4', '1 min');
UPDATE w2 SET v = v;
COMMIT;
BEGIN;
SET LOCAL citus.propagate_set_commands = 'local';
SET LOCAL reclock.test_clock_offset = 600;
SELECT acquired FROM reclock_acquire('r2', '1', 'h5', '1 min');
UPDATE w2 SET v = v;
COMMIT;
BEGIN;
SET LOCAL citus.propagate_set_commands = 'local';
SET LOCAL reclock.test_clock_offset = 720;
SELECT acquired FROM reclock_acquire('r2', '1', 'h6', '1 min');
UPDATE w2 SET v = v;
COMMIT;
SELECT count(*) AS hashes FROM :tokens WHERE dist = 1;
-- REPEATABLE READ
BEGIN ISOLATION LEVEL REPEATABLE READ;
SET LOCAL citus.propagate_set_commands = 'local';
SET LOCAL reclock.test_clock_offset = 800;
SELECT acquired FROM reclock_acquire('r2', '1', 'h6b', '1 min');
COMMIT;
SELECT count(*) AS hashes FROM :tokens WHERE dist = 1;
-- serializable: left for the next grant
BEGIN ISOLATION LEVEL SERIALIZABLE;
SET LOCAL citus.propagate_set_commands = 'local';
SET LOCAL reclock.test_clock_offset = 870;
SELECT acquired FROM reclock_acquire('r2', '1', 'h7', '1 min');
COMMIT;
BEGIN ISOLATION LEVEL SERIALIZABLE;
SET LOCAL citus.propagate_set_commands = 'local';
SET LOCAL reclock.test_clock_offset = 960;
SELECT acquired FROM reclock_acquire('r2', '1', 'h8', '1 min');
COMMIT;
SELECT count(*) AS hashes FROM :tokens WHERE dist = 1;
BEGIN;
SET LOCAL citus.propagate_set_commands = 'local';
SET LOCAL reclock.test_clock_offset = 1030;
SELECT acquired FROM reclock_acquire('r2', '1', 'h8b', '1 min');
COMMIT;
SELECT count(*) AS hashes FROM :tokens WHERE dist = 1;
-- rows on two workers acquired in one transaction, and nothing else written
BEGIN;
SET LOCAL citus.propagate_set_commands = 'local';
SET LOCAL reclock.test_clock_offset = 1100;
SELECT acquired FROM reclock_acquire('r2', '1', 'h9', '1 min');
SELECT acquired FROM reclock_acquire('r2', '2', 'h9', '1 min');
COMMIT;
BEGIN;
SET LOCAL citus.propagate_set_commands = 'local';
SET LOCAL reclock.test_clock_offset = 1200;
SELECT acquired FROM reclock_acquire('r2', '1', 'h10', '1 min');
SELECT acquired FROM reclock_acquire('r2', '2', 'h10', '1 min');
COMMIT;
SELECT count(*) AS hashes FROM :tokens WHERE dist = 1;
SELECT reclock_unprotect('r2');
DROP TABLE r2, w2;
