--
-- expiry: judged against the clock at the moment of the check; moved here
-- with reclock.test_clock_offset (test builds only) instead of sleeping
--
\set VERBOSITY terse
CREATE TABLE docs (id int PRIMARY KEY, body text);
INSERT INTO docs SELECT g, 'doc ' || g FROM generate_series(1, 5) g;
SET reclock.test_clock_offset = 0;

SELECT token AS t1, fence AS f1 FROM reclock_acquire('docs', '1', 'alice', '1 min') \gset
SELECT reclock_valid(:'t1');

-- 59 s later: still live, still refused to bob
SET reclock.test_clock_offset = '59s';
SELECT reclock_valid(:'t1');
SELECT acquired, holder FROM reclock_acquire('docs', '1', 'bob');

-- 61 s later: dead; the view hides it; refresh does not revive it
SET reclock.test_clock_offset = '61s';
SELECT reclock_valid(:'t1');
SELECT count(*) FROM reclock_locks WHERE relation = 'docs'::regclass;
SELECT reclock_refresh(:'t1') IS NULL AS not_revived;
SELECT reclock_release(:'t1') AS was_live;

-- the expired lock is taken over: new token, larger fence; the old token stays dead
SELECT acquired, holder, fence > :f1 AS larger_fence FROM reclock_acquire('docs', '1', 'bob', '1 min');
SELECT reclock_valid(:'t1');

-- an expired lock of the same holder is not extended: a new grant, new fence
SELECT token AS t2, fence AS f2 FROM reclock_acquire('docs', '2', 'alice', '1 min') \gset
SET reclock.test_clock_offset = '200s';
SELECT acquired, fence > :f2 AS new_grant FROM reclock_acquire('docs', '2', 'alice', '1 min');
SELECT reclock_valid(:'t2');

-- refresh keeps a lock alive past its first expiry
SELECT token AS t3 FROM reclock_acquire('docs', '3', 'alice', '1 min') \gset
SET reclock.test_clock_offset = '250s';
SELECT reclock_refresh(:'t3', '1 min') IS NOT NULL AS refreshed;
SET reclock.test_clock_offset = '300s';
SELECT reclock_valid(:'t3');
SET reclock.test_clock_offset = '320s';
SELECT reclock_valid(:'t3');

-- expiry is judged by the clock at the check, not the transaction's start
-- (the real clock: the grant's second may be over before the first check on
-- a busy machine, so that check says only "valid unless its time ran out")
RESET reclock.test_clock_offset;
BEGIN;
SELECT token AS t4, expires_at AS t4_expires FROM reclock_acquire('docs', '4', 'alice', '1 s') \gset
SELECT reclock_valid(:'t4') OR clock_timestamp() >= :'t4_expires' AS valid_until_it_ran_out;
SELECT pg_sleep(1.2);
SELECT reclock_valid(:'t4');
COMMIT;

-- sweep removes the dead ones (all of docs' locks are dead by then), and
-- their token hashes (the acquires above may have reclaimed some already:
-- up to two dead rows of the table each, at their commit)
SET reclock.test_clock_offset = '400s';
SELECT count(*) BETWEEN 1 AND 4 AS dead_left FROM reclock_lock_store WHERE relid = 'docs'::regclass;
SELECT reclock_sweep() >= 1 AS swept;
SELECT count(*) FROM reclock_lock_store WHERE relid = 'docs'::regclass;
SELECT count(*) FROM reclock_token_store t
 WHERE NOT EXISTS (SELECT FROM reclock_lock_store l WHERE l.fence = t.fence);
RESET reclock.test_clock_offset;

-- an extension is checked again at commit: a refresh whose lock ran out
-- before its transaction committed fails (40001), and the lock stays dead
SET reclock.test_clock_offset = 0;
SELECT token AS t5, fence AS f5 FROM reclock_acquire('docs', '5', 'alice', '1 min') \gset
BEGIN;
SELECT reclock_refresh(:'t5', '1 hour') IS NOT NULL AS refreshed;
SET reclock.test_clock_offset = '61s';
COMMIT;
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SET reclock.test_clock_offset = '61s';
SELECT reclock_valid(:'t5');
-- refreshed in time: the commit keeps it
SET reclock.test_clock_offset = 0;
SELECT token AS t6 FROM reclock_acquire('docs', '5', 'alice', '1 min') \gset
BEGIN;
SELECT reclock_refresh(:'t6', '1 hour') IS NOT NULL AS refreshed;
SET reclock.test_clock_offset = '59s';
COMMIT;
SET reclock.test_clock_offset = '120s';
SELECT reclock_valid(:'t6');
-- a transaction that extended a lock cannot be prepared (its commit could
-- come at any later time)
BEGIN;
SELECT reclock_refresh(:'t6', '1 hour') IS NOT NULL AS refreshed;
PREPARE TRANSACTION 'reclock_refresh';
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT count(*) AS prepared FROM pg_prepared_xacts;
SET reclock.test_clock_offset = 0;	-- released at 0 s: dead once the clock is reset
SELECT reclock_release(:'t6');
RESET reclock.test_clock_offset;

-- the clock stepped backwards (README, Guarantees: a lock can live longer,
-- never shorter): expires_at is an absolute time, judged against the clock at
-- each check, so a lock taken before the step stays live until the clock
-- reaches its expires_at again; every reader agrees (valid, the view, the
-- guard's single-row and whole-table paths, acquire)
CREATE TABLE clk (id int PRIMARY KEY, v int);
INSERT INTO clk SELECT g, 0 FROM generate_series(1, 3) g;
SELECT reclock_protect('clk');
SET reclock.test_clock_epoch = 1893456000;	-- frozen: no real time passes
SET reclock.test_clock_offset = 0;
SELECT token AS tc, expires_at AS tc_expires FROM reclock_acquire('clk', '1', 'alice', '1 min') \gset
SET reclock.test_clock_offset = '-3600s';	-- stepped back an hour
SELECT reclock_valid(:'tc') AS valid;
SELECT expires_at = :'tc_expires' AS same_expiry FROM reclock_locks WHERE relation = 'clk'::regclass;
SELECT acquired, holder, expires_at = :'tc_expires' AS told_same_expiry FROM reclock_acquire('clk', '1', 'bob');
\set VERBOSITY sqlstate
UPDATE clk SET v = 1 WHERE id = 1;
UPDATE clk SET v = 1;
\set VERBOSITY terse
SELECT sum(v) AS untouched FROM clk;
-- the stepped clock catches up: live until 60 s, dead after
SET reclock.test_clock_offset = '59s';
SELECT reclock_valid(:'tc') AS valid_at_59s;
SET reclock.test_clock_offset = '61s';
SELECT reclock_valid(:'tc') AS valid_at_61s;
RESET reclock.test_clock_offset;
RESET reclock.test_clock_epoch;
DROP TABLE clk;
