--
-- twophase: guarded writes, grants, releases and breaks prepared with
-- PREPARE TRANSACTION and finished by COMMIT PREPARED or ROLLBACK PREPARED.
-- A prepared transaction keeps its row locks until it is finished, so a
-- statement that waits for it is shown waiting by lock_timeout (it can only
-- time out: the prepared transaction never ends by itself).
--
-- PostgreSQL cannot PREPARE a transaction that queued a NOTIFY; reclock
-- refuses first (0A000), naming the table and saying what to do.
--
-- This file needs prepared transactions: make test runs it in a cluster with
-- max_prepared_transactions = 10 (pg_virtualenv -o max_prepared_transactions=10).
--
\set SHOW_CONTEXT never
\i sql/include/try.sql
-- nothing here waits for long unless reclock is broken: then fail, not hang
SET lock_timeout = '10s';
SELECT current_setting('max_prepared_transactions')::int > 0 AS prepared_transactions_enabled;
CREATE TABLE tp (id int PRIMARY KEY, v int);
INSERT INTO tp VALUES (1, 0), (2, 0), (3, 0);
CREATE TABLE tp_side (id int);
SELECT reclock_protect('tp');
SELECT reclock_notify('tp');
-- an acquire on a notifying table, then PREPARE: refused with a hint
BEGIN;
SELECT acquired FROM reclock_acquire('tp', '1', 'alice');
PREPARE TRANSACTION 'tp1';
\echo SQLSTATE :LAST_ERROR_SQLSTATE
-- the refusal rolled the transaction back: no lock was granted, nothing prepared
SELECT count(*) FROM reclock_locks WHERE relation = 'tp'::regclass;
SELECT count(*) AS prepared FROM pg_prepared_xacts WHERE database = current_database();
-- a guarded write (it sends "updated") too
BEGIN;
UPDATE tp SET v = 1 WHERE id = 2;
PREPARE TRANSACTION 'tp2';
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT v FROM tp WHERE id = 2;
-- notices of a rolled-back savepoint are gone: reclock does not refuse, and
-- the transaction really prepares
BEGIN;
SAVEPOINT s;
UPDATE tp SET v = 1 WHERE id = 2;
ROLLBACK TO s;
INSERT INTO tp_side VALUES (1);	-- a write of the outer transaction
PREPARE TRANSACTION 'tp3';
SELECT gid FROM pg_prepared_xacts WHERE database = current_database();
COMMIT PREPARED 'tp3';
SELECT id, v FROM tp ORDER BY id;
SELECT * FROM tp_side;
-- ... while a released savepoint keeps them
BEGIN;
SAVEPOINT s;
UPDATE tp SET v = 1 WHERE id = 2;
RELEASE s;
PREPARE TRANSACTION 'tp4';
\echo SQLSTATE :LAST_ERROR_SQLSTATE
-- a table without notices does not stand in the way
SELECT reclock_notify('tp', false);
BEGIN;
UPDATE tp SET v = 5 WHERE id = 2;
PREPARE TRANSACTION 'tp5';
ROLLBACK PREPARED 'tp5';
SELECT v FROM tp WHERE id = 2;

-- a prepared grant: not live until COMMIT PREPARED; meanwhile it holds the
-- row, so a token-less write waits for it (and times out here)
BEGIN;
SELECT acquired, token AS g1 FROM reclock_acquire('tp', '1', 'alice') \gset
\echo acquired :acquired
PREPARE TRANSACTION 'tp_grant';
SELECT reclock_valid(:'g1') AS valid_while_prepared;
SET lock_timeout = '200ms';
SELECT try($$UPDATE tp SET v = 10 WHERE id = 1$$);
SET lock_timeout = '10s';
COMMIT PREPARED 'tp_grant';
-- committed: live, the token-less write refused, the holder's write allowed
SELECT reclock_valid(:'g1') AS valid;
SELECT try($$UPDATE tp SET v = 10 WHERE id = 1$$);
BEGIN;
SELECT set_config('reclock.token', :'g1', true) IS NOT NULL AS presented;
UPDATE tp SET v = 11 WHERE id = 1;
COMMIT;
SELECT v FROM tp WHERE id = 1;

-- a holder's guarded write, prepared; the lock runs out meanwhile: bob's
-- takeover waits for the prepared write (times out here), and after COMMIT
-- PREPARED takes over and reads what was written
BEGIN;
SELECT set_config('reclock.token', :'g1', true) IS NOT NULL AS presented;
UPDATE tp SET v = 12 WHERE id = 1;
PREPARE TRANSACTION 'tp_write';
SET reclock.test_clock_offset = '3600s';	-- alice's lock (5 min) ran out
SET lock_timeout = '200ms';
SELECT try($$SELECT acquired FROM reclock_acquire('tp', '1', 'bob')$$);
SET lock_timeout = '10s';
COMMIT PREPARED 'tp_write';
SELECT acquired, holder, token AS g2 FROM reclock_acquire('tp', '1', 'bob') \gset
\echo acquired :acquired holder :holder
SELECT v FROM tp WHERE id = 1;
SELECT reclock_valid(:'g1') AS alice_valid, reclock_valid(:'g2') AS bob_valid;

-- a prepared grant rolled back: no lock, its token never valid, the row free
BEGIN;
SELECT acquired, token AS g3 FROM reclock_acquire('tp', '3', 'carol') \gset
\echo acquired :acquired
PREPARE TRANSACTION 'tp_grant_rb';
ROLLBACK PREPARED 'tp_grant_rb';
SELECT reclock_valid(:'g3') AS valid;
SELECT count(*) FROM reclock_locks WHERE relation = 'tp'::regclass AND key = '3';
UPDATE tp SET v = 30 WHERE id = 3;
SELECT v FROM tp WHERE id = 3;

-- a prepared release: the lock stands until COMMIT PREPARED (a token-less
-- write is refused meanwhile), then it is gone
BEGIN;
SELECT reclock_release(:'g2') AS released;
PREPARE TRANSACTION 'tp_release';
SELECT reclock_valid(:'g2') AS valid_while_prepared;
SELECT try($$UPDATE tp SET v = 13 WHERE id = 1$$);
COMMIT PREPARED 'tp_release';
SELECT reclock_valid(:'g2') AS valid;
UPDATE tp SET v = 13 WHERE id = 1;
SELECT v FROM tp WHERE id = 1;

-- a prepared release rolled back: the lock stays
SELECT token AS g4 FROM reclock_acquire('tp', '2', 'dave') \gset
BEGIN;
SELECT reclock_release(:'g4') AS released;
PREPARE TRANSACTION 'tp_release_rb';
ROLLBACK PREPARED 'tp_release_rb';
SELECT reclock_valid(:'g4') AS valid;
SELECT try($$UPDATE tp SET v = 20 WHERE id = 2$$);

-- a prepared break, committed: the lock is gone
BEGIN;
SELECT reclock_break('tp', '2') AS broken;
PREPARE TRANSACTION 'tp_break';
SELECT reclock_valid(:'g4') AS valid_while_prepared;
COMMIT PREPARED 'tp_break';
SELECT reclock_valid(:'g4') AS valid;

-- a same-holder acquire extends a grant: it cannot be prepared either (its
-- commit could come after the lock ran out), 0A000
SELECT token AS g5 FROM reclock_acquire('tp', '3', 'erin', '1 min') \gset
BEGIN;
SELECT acquired FROM reclock_acquire('tp', '3', 'erin', '1 hour');
PREPARE TRANSACTION 'tp_reacquire';
\echo SQLSTATE :LAST_ERROR_SQLSTATE
RESET reclock.test_clock_offset;

-- nothing is left prepared (DROP TABLE would wait for it)
SELECT gid FROM pg_prepared_xacts WHERE database = current_database();
SELECT format('ROLLBACK PREPARED %L', gid) FROM pg_prepared_xacts
 WHERE database = current_database() \gexec
DROP TABLE tp, tp_side;
