-- review1_reclaim_2pc (review review1, NOT FIXED; a repro, not in the suite: run it with
--   cp test/citus/repro/review1_reclaim_2pc.sql test/citus/sql/ && touch test/citus/expected/review1_reclaim_2pc.out
--   RECLOCK_CHROOTS=... CITUS_TESTS=review1_reclaim_2pc CITUS_SPECS= CITUS_SCRIPTS= make test-citus PG_MAJOR=17
-- and read the diff).  Since 15aa65c a grant's reclaim (ended grants' token
-- hashes of its distribution value, a few dead lock rows of its store shard)
-- runs at the pre-commit of the row node's part and is skipped when that part
-- is PREPAREd or SERIALIZABLE; the coordinator's route reclaim is skipped under
-- SERIALIZABLE too.  Before, the reclaim ran in the grant, whatever the commit.
-- So an application whose acquiring transactions also write rows on two
-- workers (Citus 2PC: the grant's connection wrote a placement, so it is
-- prepared), or that runs SERIALIZABLE, never reclaims: every new grant of a
-- row leaves one more hash (and ended lock rows of other keys stay).  Seen:
-- hashes of row 1 after three 1PC grants 1 (correct), after three more in 2PC
-- transactions 4, after two more SERIALIZABLE ones 6, after two more that
-- only acquire two rows (1 and 2) each 8: a transaction acquiring rows of two
-- distribution values on two nodes is enough (likewise, with the coordinator
-- holding shards, one acquiring a row there and one on a worker: the worker's
-- hashes grow).  README's "Storage stays
-- bounded" (and the "Storage" line of the limits table) hold only while some
-- acquires commit in one phase at READ COMMITTED/REPEATABLE READ.
-- Correct: each "hashes" count 1.  Not a small fix: at PREPARE the deletes
-- would hold rows of other keys until COMMIT PREPARED (or Citus's recovery
-- after a crash: acquires of those rows wait), and under SERIALIZABLE the
-- reclaim's reads at commit can fail the commit at its SSI check.  Options:
-- reclaim a dead grant's hashes by any later grant of the store shard (not
-- only of its distribution value), or run the reclaim in the grant when the
-- transaction is serializable (it cannot be known at grant time whether the
-- part will be prepared), or document the limit.
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
-- serializable
BEGIN ISOLATION LEVEL SERIALIZABLE;
SET LOCAL citus.propagate_set_commands = 'local';
SET LOCAL reclock.test_clock_offset = 840;
SELECT acquired FROM reclock_acquire('r2', '1', 'h7', '1 min');
COMMIT;
BEGIN ISOLATION LEVEL SERIALIZABLE;
SET LOCAL citus.propagate_set_commands = 'local';
SET LOCAL reclock.test_clock_offset = 960;
SELECT acquired FROM reclock_acquire('r2', '1', 'h8', '1 min');
COMMIT;
SELECT count(*) AS hashes FROM :tokens WHERE dist = 1;
-- rows on two workers acquired in one transaction, and nothing else written
BEGIN;
SET LOCAL citus.propagate_set_commands = 'local';
SET LOCAL reclock.test_clock_offset = 1080;
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
