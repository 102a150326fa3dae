--
-- citus_reclaim: the stores of a protected distributed table stay bounded
-- by its live locks without anyone scheduling a sweep (docs/citus.md, build
-- plan step 4): a grant on a row's node deletes a few dead lock rows of the
-- lock store shard beside it, with their grants' token hashes, and the
-- hashes of the grant it replaces.  (One shard, so that every lock row is
-- beside the row granted; the worker's clock is moved forward by
-- reclock.test_clock_offset, carried as a SET LOCAL.)
--
\set SHOW_CONTEXT never
SET citus.shard_count = 1;
SET citus.next_shard_id = 1800000;
CREATE TABLE rc (id int PRIMARY KEY, v text);
SELECT create_distributed_table('rc', 'id');
INSERT INTO rc SELECT g, 'r' || g FROM generate_series(1, 6) g;
SELECT reclock_protect('rc');
SELECT locks, tokens FROM reclock_citus_tables WHERE tbl = 'rc'::regclass \gset
-- three grants of one minute, one re-entered (two hashes), one of ten
SELECT acquired FROM reclock_acquire('rc', '1', 'alice', '1 min');
SELECT acquired FROM reclock_acquire('rc', '1', 'alice', '1 min');
SELECT acquired FROM reclock_acquire('rc', '2', 'alice', '1 min');
SELECT acquired FROM reclock_acquire('rc', '3', 'alice', '1 min');
SELECT acquired FROM reclock_acquire('rc', '5', 'carol', '10 min');
SELECT (SELECT count(*) FROM :locks) AS lock_rows, (SELECT count(*) FROM :tokens) AS hashes;
-- two minutes later (on the worker): a grant of row 4 reclaims the dead
-- ones, and a new grant of row 1 (bob) leaves no hash of alice's grant
BEGIN;
SET LOCAL citus.propagate_set_commands = 'local';
SET LOCAL reclock.test_clock_offset = 120;
SELECT acquired FROM reclock_acquire('rc', '4', 'dave', '10 min');
SELECT acquired FROM reclock_acquire('rc', '1', 'bob', '10 min');
COMMIT;
SELECT dist, key, holder FROM :locks ORDER BY dist;
SELECT l.holder, count(*) AS hashes FROM :tokens t JOIN :locks l USING (dist, fence)
 GROUP BY 1 ORDER BY 1;
SELECT count(*) AS hashes FROM :tokens;
SELECT reclock_unprotect('rc');
DROP TABLE rc;
