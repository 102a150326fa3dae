--
-- store_am: the store is heap whatever default_table_access_method is when
-- the extension is created (reclock writes it through the executor and
-- reads it with heap snapshots); locks work there.
--
\set VERBOSITY terse
\i sql/include/try.sql
-- an access method that is not "heap" by name (it is heap's handler: the
-- point is which one the store tables are created with)
CREATE ACCESS METHOD store_am_other TYPE TABLE HANDLER heap_tableam_handler;
SET client_min_messages = warning;
DROP EXTENSION reclock CASCADE;
RESET client_min_messages;
SET default_table_access_method = store_am_other;
CREATE EXTENSION reclock;
SELECT c.relname, a.amname
  FROM pg_class c JOIN pg_am a ON a.oid = c.relam
 WHERE c.relname IN ('reclock_lock_store', 'reclock_token_store', 'reclock_notify_store')
 ORDER BY 1;
CREATE TABLE sam (id int PRIMARY KEY, v int NOT NULL DEFAULT 0);
SELECT a.amname AS user_table_am FROM pg_class c JOIN pg_am a ON a.oid = c.relam
 WHERE c.oid = 'sam'::regclass;
INSERT INTO sam VALUES (1), (2);
SELECT reclock_protect('sam');
SELECT token AS tok FROM reclock_acquire('sam', '1', 'alice', '1 min') \gset
SELECT acquired FROM reclock_acquire('sam', '1', 'bob', '1 min');
SELECT try('UPDATE sam SET v = 1 WHERE id = 1');
BEGIN;
SELECT set_config('reclock.token', :'tok', true) IS NOT NULL AS presented;
UPDATE sam SET v = 1 WHERE id = 1;
COMMIT;
SELECT id, v FROM sam ORDER BY id;
SELECT reclock_release(:'tok');
SELECT acquired FROM reclock_acquire('sam', '1', 'bob', '1 min');
DROP TABLE sam;
RESET default_table_access_method;
DROP EXTENSION reclock;
CREATE EXTENSION reclock;
DROP ACCESS METHOD store_am_other;
