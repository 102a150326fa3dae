--
-- twophase: PostgreSQL cannot PREPARE a transaction that queued a NOTIFY;
-- reclock refuses first, naming the table and saying what to do
--
\set SHOW_CONTEXT never
CREATE TABLE tp (id int PRIMARY KEY, v int);
INSERT INTO tp VALUES (1, 0), (2, 0);
SELECT reclock_protect('tp');
SELECT reclock_notify('tp');
-- an acquire on a notifying table, then PREPARE: refused with a hint
BEGIN;
SELECT acquired FROM reclock_acquire('tp', '1', 'alice');
PREPARE TRANSACTION 'tp1';
-- the refusal rolled the transaction back: no lock was granted
SELECT count(*) FROM reclock_locks WHERE relation = 'tp'::regclass;
-- a guarded write (it sends "updated") too
BEGIN;
UPDATE tp SET v = 1 WHERE id = 2;
PREPARE TRANSACTION 'tp2';
-- notices of a rolled-back savepoint are gone: reclock does not refuse (the
-- error below is PostgreSQL's own, max_prepared_transactions is 0 here)
BEGIN;
SAVEPOINT s;
UPDATE tp SET v = 1 WHERE id = 2;
ROLLBACK TO s;
SELECT current_setting('max_prepared_transactions');
\set VERBOSITY terse
PREPARE TRANSACTION 'tp3';
\set VERBOSITY default
-- ... while a released savepoint keeps them
BEGIN;
SAVEPOINT s;
UPDATE tp SET v = 1 WHERE id = 2;
RELEASE s;
PREPARE TRANSACTION 'tp4';
-- a table without notices does not stand in the way
SELECT reclock_notify('tp', false);
BEGIN;
UPDATE tp SET v = 1 WHERE id = 2;
\set VERBOSITY terse
PREPARE TRANSACTION 'tp5';
\set VERBOSITY default
DROP TABLE tp;
