--
-- fresh_backend: reclock's transaction callbacks sit behind one
-- dispatcher, registered when a backend first needs them, which may be in
-- the middle of a transaction (the first reclock call after other work,
-- inside a savepoint).  Each case below starts in a fresh backend.
--
\set VERBOSITY terse
CREATE TABLE fb (id int PRIMARY KEY, v int NOT NULL DEFAULT 0);
INSERT INTO fb VALUES (1), (2);
SELECT reclock_protect('fb');
SELECT token AS tok FROM reclock_acquire('fb', '1', 'alice', '1 hour') \gset
SELECT expires_at AS exp0 FROM reclock_lock_store WHERE relid = 'fb'::regclass AND key = '1' \gset
-- a refresh in a savepoint rolled back, first reclock call of the backend
\c
BEGIN;
SELECT count(*) AS rows FROM fb;
SAVEPOINT a;
SELECT reclock_refresh(:'tok', '2 hours') IS NOT NULL AS refreshed;
ROLLBACK TO SAVEPOINT a;
COMMIT;
SELECT expires_at = :'exp0' AS expiry_kept FROM reclock_lock_store
 WHERE relid = 'fb'::regclass AND key = '1';
-- a refresh, first reclock call, of a lock that runs out before the commit:
-- the commit fails (a lock that ran out never comes back)
\c
BEGIN;
SELECT count(*) AS rows FROM fb;
SELECT reclock_refresh(:'tok', '3 hours') IS NOT NULL AS refreshed;
SET LOCAL reclock.test_clock_offset = '90min';
COMMIT;
SELECT expires_at = :'exp0' AS expiry_kept FROM reclock_lock_store
 WHERE relid = 'fb'::regclass AND key = '1';
-- a refresh, first reclock call, then PREPARE TRANSACTION: refused
\c
BEGIN;
SELECT count(*) AS rows FROM fb;
SELECT reclock_refresh(:'tok', '3 hours') IS NOT NULL AS refreshed;
PREPARE TRANSACTION 'rev27_fb';
SELECT count(*) AS prepared FROM pg_prepared_xacts WHERE gid = 'rev27_fb';
SELECT expires_at = :'exp0' AS expiry_kept FROM reclock_lock_store
 WHERE relid = 'fb'::regclass AND key = '1';
-- an acquire, first reclock call inside a savepoint that is rolled back,
-- then one that stands: one lock, the second one's
\c
BEGIN;
SELECT count(*) AS rows FROM fb;
SAVEPOINT a;
SELECT acquired FROM reclock_acquire('fb', '2', 'bob', '1 hour');
ROLLBACK TO SAVEPOINT a;
SELECT acquired FROM reclock_acquire('fb', '2', 'carol', '1 hour');
COMMIT;
SELECT key, holder FROM reclock_lock_store WHERE relid = 'fb'::regclass ORDER BY key;
DROP TABLE fb;
DELETE FROM reclock_lock_store;
DELETE FROM reclock_token_store;
