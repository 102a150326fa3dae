--
-- citus_acquire: reclock_acquire of a protected distributed table, from
-- the coordinator (docs/citus.md, build plan step 4, first part): the
-- contract's errors, then one routed statement grants on the row's node,
-- where the row is locked and the lock store shard beside it written in one
-- local transaction.  (Release, refresh, break and the ordering tests are
-- not built yet.)
--
\set SHOW_CONTEXT never
SET citus.shard_count = 4;
SET citus.next_shard_id = 1400000;
CREATE TABLE aq (id int PRIMARY KEY, v text);
SELECT create_distributed_table('aq', 'id');
INSERT INTO aq SELECT g, 'a' || g FROM generate_series(1, 8) g;
-- not protected: its locks would have no store (0A000)
SELECT * FROM reclock_acquire('aq', '1', 'alice');
\echo :SQLSTATE
SELECT reclock_protect('aq');
SELECT format('reclock_store_%s_locks', 'aq'::regclass::oid) AS locks \gset

-- the contract's errors, also through Citus
SELECT * FROM reclock_acquire(NULL, '1', 'alice');
\echo :SQLSTATE
SELECT * FROM reclock_acquire('aq', NULL, 'alice');
\echo :SQLSTATE
SELECT * FROM reclock_acquire('aq', '1', NULL);
\echo :SQLSTATE
SELECT * FROM reclock_acquire(4000000000::oid::regclass, '1', 'alice');
\echo :SQLSTATE
CREATE VIEW aq_view AS SELECT * FROM aq;
SELECT * FROM reclock_acquire('aq_view', '1', 'alice');
\echo :SQLSTATE
SELECT * FROM reclock_acquire('aq', '1', '');
\echo :SQLSTATE
SELECT * FROM reclock_acquire('aq', 'one', 'alice');
\echo :SQLSTATE
SELECT * FROM reclock_acquire('aq', '99', 'alice');
\echo :SQLSTATE
CREATE ROLE aq_reader;
GRANT SELECT ON aq TO aq_reader;
SET ROLE aq_reader;
SELECT * FROM reclock_acquire('aq', '1', 'mallory');
\echo :SQLSTATE
RESET ROLE;
-- nothing was stored
SELECT count(*) AS locks FROM :"locks";

-- a grant (the key in canonical form): its lock beside the row, on the
-- row's worker (no store shard on the coordinator)
INSERT INTO aq VALUES (42, 'a42');
SELECT count(*) AS coordinator_shards FROM pg_class WHERE relname LIKE :'locks' || '\_%' AND relkind = 'r';
SELECT acquired, token AS tok, holder, fence AS f1 FROM reclock_acquire('aq', '042', 'alice') \gset
\echo :acquired :holder
SELECT dist, key, holder, acquired_by, fence = :f1 AS same_fence, expires_at > now() AS live FROM :"locks";
-- another holder is refused, and told whose lock stands in the way
SELECT acquired, token IS NULL AS no_token, holder, fence = :f1 AS same_fence,
       expires_at > now() + interval '4 minutes' AS expiry
  FROM reclock_acquire('aq', '42', 'bob');
-- another role naming the same holder is another holder
CREATE ROLE aq_writer LOGIN;
GRANT SELECT, UPDATE ON aq TO aq_writer;
SET ROLE aq_writer;
SELECT acquired, token IS NULL AS no_token, holder FROM reclock_acquire('aq', '42', 'alice');
RESET ROLE;
-- the guard on the worker enforces the grant
\set VERBOSITY sqlstate
UPDATE aq SET v = 'x' WHERE id = 42;
\set VERBOSITY default
BEGIN;
SET LOCAL citus.propagate_set_commands = 'local';
SET LOCAL reclock.token = :'tok';
UPDATE aq SET v = 'alice' WHERE id = 42;
COMMIT;
-- the same holder again: the grant extended (same fence), a fresh token;
-- the earlier token still counts
SELECT acquired, fence = :f1 AS same_fence, token <> :'tok' AS new_token, token AS tok2
  FROM reclock_acquire('aq', '42', 'alice', '1 hour') \gset
\echo :acquired :same_fence :new_token
BEGIN;
SET LOCAL citus.propagate_set_commands = 'local';
SET LOCAL reclock.token = :'tok2';
UPDATE aq SET v = v || '2' WHERE id = 42;
SET LOCAL reclock.token = :'tok';
UPDATE aq SET v = v || '1' WHERE id = 42;
COMMIT;
SELECT * FROM aq WHERE id = 42;
-- a new grant of another row: a larger fence
SELECT acquired, fence > :f1 AS larger FROM reclock_acquire('aq', '2', 'carol');
-- a grant rolled back leaves no lock
BEGIN;
SELECT acquired FROM reclock_acquire('aq', '3', 'dave');
ROLLBACK;
UPDATE aq SET v = 'free' WHERE id = 3;
SELECT key, holder FROM :"locks" ORDER BY key;

-- valid and release by token (found by its route on the coordinator, then
-- one statement routed to the row's node: citus_routes)
SELECT reclock_valid(:'tok') AS valid, reclock_valid(:'tok2') AS valid2,
       reclock_valid(gen_random_uuid()) AS valid_unknown;
SELECT acquired, token AS ctok FROM reclock_acquire('aq', '5', 'carol') \gset
SELECT reclock_release(:'ctok') AS released;
SELECT reclock_release(:'ctok') AS released_again, reclock_valid(:'ctok') AS valid_after;
SELECT count(*) AS carol_locks FROM :"locks" WHERE key = '5';
UPDATE aq SET v = 'after release' WHERE id = 5;
-- break: the owner ends alice's lock (on the row's node); others may not
SET ROLE aq_writer;
SELECT reclock_break('aq', '42');
\echo :SQLSTATE
RESET ROLE;
SELECT reclock_break('aq', '042') AS broken;
SELECT reclock_break('aq', '42') AS broken_again;
SELECT count(*) AS alice_locks FROM :"locks" WHERE key = '42';
UPDATE aq SET v = 'after break' WHERE id = 42;
SELECT * FROM aq WHERE id = 42;
-- a lock whose row is gone is broken by its key all the same
SELECT acquired FROM reclock_acquire('aq', '4', 'erin');
BEGIN;
SET LOCAL citus.propagate_set_commands = 'local';
SELECT token AS etok FROM reclock_acquire('aq', '4', 'erin') \gset
SET LOCAL reclock.token = :'etok';
DELETE FROM aq WHERE id = 4;
COMMIT;
SELECT reclock_break('aq', '4') AS broken_gone_row;
SELECT count(*) AS erin_locks FROM :"locks" WHERE key = '4';

-- equal keys written differently: the lock is on the row's own key (a
-- numeric 1.5 is the row's 1.50), which the guard makes from the row
CREATE TABLE nk (id numeric PRIMARY KEY, v text);
SELECT create_distributed_table('nk', 'id', colocate_with => 'none');
INSERT INTO nk VALUES (1.50, 'n');
SELECT reclock_protect('nk');
SELECT acquired, token AS ntok FROM reclock_acquire('nk', '1.5', 'alice') \gset
SELECT format('reclock_store_%s_locks', 'nk'::regclass::oid) AS nk_locks \gset
SELECT key FROM :"nk_locks";
\set VERBOSITY sqlstate
UPDATE nk SET v = 'x' WHERE id = 1.5;
\set VERBOSITY default
BEGIN;
SET LOCAL citus.propagate_set_commands = 'local';
SET LOCAL reclock.token = :'ntok';
UPDATE nk SET v = 'alice' WHERE id = 1.5;
COMMIT;
SELECT * FROM nk;
SELECT reclock_unprotect('nk');
DROP TABLE nk;

SELECT reclock_unprotect('aq');
DROP VIEW aq_view;
DROP TABLE aq;
DROP ROLE aq_reader, aq_writer;
