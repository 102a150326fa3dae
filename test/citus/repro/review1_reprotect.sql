-- review1_reprotect (review review1, NOT FIXED; a repro, not in the suite: run it with
--   cp test/citus/repro/review1_reprotect.sql test/citus/sql/ && touch test/citus/expected/review1_reprotect.out
--   RECLOCK_CHROOTS=... CITUS_TESTS=review1_reprotect CITUS_SPECS= CITUS_SCRIPTS= make test-citus PG_MAJOR=17
-- and read the diff).  In one transaction: an acquire, a break, reclock_unprotect,
-- reclock_protect, and an acquire of the same table: the last acquire fails
-- with XX000 "could not open relation with OID N" from the worker (the worker
-- backend that ran the first grant still has the dropped stores in its cache).
-- Without the first acquire the same sequence works.  Fail-safe (the
-- transaction fails, nothing is written), but an internal error where the
-- contract wants a reclock SQLSTATE or success.
-- Correct: the last acquire returns t (or a refusal in PostgreSQL's style).
\set SHOW_CONTEXT never
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS reclock;
RESET client_min_messages;
SET citus.shard_count = 2;
SET citus.next_shard_id = 3990000;
CREATE TABLE ux (id int PRIMARY KEY, v text);
SELECT create_distributed_table('ux', 'id');
INSERT INTO ux SELECT g, 'u' || g FROM generate_series(1, 4) g;
SELECT reclock_protect('ux');
BEGIN;
SELECT acquired FROM reclock_acquire('ux', '3', 'alice');
SELECT reclock_break('ux', '3');
SELECT reclock_unprotect('ux');
SELECT reclock_protect('ux');
SELECT acquired FROM reclock_acquire('ux', '1', 'bob');
COMMIT;
SELECT reclock_unprotect('ux');
DROP TABLE ux;
