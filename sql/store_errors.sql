--
-- store_errors: an error thrown inside the store's executor path
-- (a DBA's unique index) and caught by a
-- PL/pgSQL EXCEPTION block, or a savepoint rolled back after acquire,
-- refresh and release, leaves locks and rows as they were; the guard
-- still refuses afterwards.
--
\set VERBOSITY terse
\i sql/include/try.sql
CREATE TABLE se (id int PRIMARY KEY, v int NOT NULL DEFAULT 0);
INSERT INTO se SELECT g FROM generate_series(1, 5) g;
SELECT reclock_protect('se');
SELECT token AS a1 FROM reclock_acquire('se', '1', 'alice', '1 hour') \gset

-- a DBA's unique index: one lock per holder.  alice's second grant fails
-- mid-write (the heap row is written, the index insert raises)
CREATE UNIQUE INDEX se_one_per_holder ON reclock_lock_store (holder);
DO $$
BEGIN
  PERFORM reclock_acquire('se', '2', 'alice', '1 hour');
  RAISE NOTICE 'not reached';
EXCEPTION WHEN unique_violation THEN
  RAISE NOTICE 'caught %, user %', SQLSTATE, current_user;
END $$;
-- the same, inside one transaction that goes on and commits
BEGIN;
SELECT try('SELECT reclock_acquire(''se'', ''2'', ''alice'', ''1 hour'')');
SELECT acquired FROM reclock_acquire('se', '3', 'bob', '1 hour');
COMMIT;
DROP INDEX se_one_per_holder;
SELECT key, holder FROM reclock_lock_store WHERE relid = 'se'::regclass ORDER BY key;
SELECT count(*) AS token_rows FROM reclock_token_store t
  JOIN reclock_lock_store l USING (fence) WHERE l.relid = 'se'::regclass;
SELECT try('UPDATE se SET v = 1 WHERE id = 2');   -- no lock on 2: ok
SELECT try('UPDATE se SET v = 1 WHERE id = 1');   -- alice's: refused
SELECT try('UPDATE se SET v = 1 WHERE id = 3');   -- bob's: refused
SELECT reclock_valid(:'a1') AS a1_valid;

SELECT expires_at AS a1_exp FROM reclock_lock_store WHERE relid = 'se'::regclass AND key = '1' \gset
SELECT token AS c4 FROM reclock_acquire('se', '4', 'carol', '1 hour') \gset

-- savepoints rolled back after refresh, release and acquire, then commit
BEGIN;
SAVEPOINT s;
SELECT reclock_refresh(:'a1', '3 hours') IS NOT NULL AS refreshed;
ROLLBACK TO SAVEPOINT s;
SELECT reclock_release(:'c4') AS released;
ROLLBACK TO SAVEPOINT s;
SELECT acquired FROM reclock_acquire('se', '5', 'dave', '1 hour');
ROLLBACK TO SAVEPOINT s;
SELECT try('UPDATE se SET v = 3 WHERE id = 4');   -- carol's, still: refused
COMMIT;
SELECT expires_at = :'a1_exp' AS a1_expiry_kept FROM reclock_lock_store
 WHERE relid = 'se'::regclass AND key = '1';
SELECT reclock_valid(:'c4') AS c4_valid;
SELECT count(*) AS dave_rows FROM reclock_lock_store WHERE holder = 'dave';
SELECT try('UPDATE se SET v = 3 WHERE id = 4');   -- refused
SELECT try('UPDATE se SET v = 3 WHERE id = 5');   -- ok
-- an error in the same transaction after a savepoint rolled back a refresh,
-- then a refresh that stands: the later one counts
BEGIN;
SAVEPOINT s;
SELECT reclock_refresh(:'c4', '3 hours') IS NOT NULL AS refreshed;
ROLLBACK TO SAVEPOINT s;
SELECT reclock_refresh(:'c4', '2 hours') IS NOT NULL AS refreshed;
COMMIT;
SELECT expires_at - acquired_at > interval '90 min' AS c4_extended FROM reclock_lock_store
 WHERE relid = 'se'::regclass AND key = '4';
SELECT id, v FROM se ORDER BY id;
DROP TABLE se;
DELETE FROM reclock_lock_store;
DELETE FROM reclock_token_store;
