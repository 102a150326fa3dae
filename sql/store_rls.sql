--
-- store_rls: row-level security enabled and forced on the store by
-- hand (no policy: the owner itself would see no row through SQL).
-- reclock reads the store by index scans and writes it through the
-- executor's simple-relation path as its owner: locks still work, the guard
-- still refuses, and the view still shows a role the locks of its tables.
--
\set VERBOSITY terse
\i sql/include/try.sql
CREATE ROLE rls_app;
CREATE TABLE rlt (id int PRIMARY KEY, v int NOT NULL DEFAULT 0);
INSERT INTO rlt VALUES (1), (2);
GRANT ALL ON rlt TO rls_app;
GRANT EXECUTE ON FUNCTION try(text) TO rls_app;
SELECT reclock_protect('rlt');
ALTER TABLE reclock_lock_store ENABLE ROW LEVEL SECURITY;
ALTER TABLE reclock_lock_store FORCE ROW LEVEL SECURITY;
ALTER TABLE reclock_token_store ENABLE ROW LEVEL SECURITY;
ALTER TABLE reclock_token_store FORCE ROW LEVEL SECURITY;
SET ROLE rls_app;
SELECT token AS tok FROM reclock_acquire('rlt', '1', 'alice', '1 min') \gset
SELECT acquired, holder FROM reclock_acquire('rlt', '1', 'bob', '1 min');
SELECT try('UPDATE rlt SET v = 1 WHERE id = 1');
BEGIN;
SELECT set_config('reclock.token', :'tok', true) IS NOT NULL AS presented;
UPDATE rlt SET v = 2 WHERE id = 1;
COMMIT;
SELECT reclock_refresh(:'tok', '2 min') IS NOT NULL AS refreshed;
SELECT relation, key, holder FROM reclock_locks;
SELECT reclock_release(:'tok') AS released;
SELECT acquired FROM reclock_acquire('rlt', '1', 'bob', '1 min');
RESET ROLE;
ALTER TABLE reclock_lock_store NO FORCE ROW LEVEL SECURITY;
ALTER TABLE reclock_lock_store DISABLE ROW LEVEL SECURITY;
ALTER TABLE reclock_token_store NO FORCE ROW LEVEL SECURITY;
ALTER TABLE reclock_token_store DISABLE ROW LEVEL SECURITY;
SELECT key, holder FROM reclock_lock_store WHERE relid = 'rlt'::regclass;
SELECT id, v FROM rlt ORDER BY id;
DROP TABLE rlt;
REVOKE EXECUTE ON FUNCTION try(text) FROM rls_app;
DROP ROLE rls_app;
DELETE FROM reclock_lock_store;
DELETE FROM reclock_token_store;
