--
-- token_preload: a token set with a session-level SET in a backend where
-- reclock's library was not loaded yet is held by a placeholder setting,
-- which no show hook guards.  Loading the library discards such a value
-- (it never counts), and loading it at connection start
-- (session_preload_libraries, the DBA's step in README.md) leaves no window.
--
\set VERBOSITY terse
SELECT current_database() AS regress_db \gset
CREATE TABLE tp_rows (id int PRIMARY KEY, v int);
INSERT INTO tp_rows VALUES (1, 0);
SELECT reclock_protect('tp_rows');
SELECT token AS tok FROM reclock_acquire('tp_rows', '1', 'alice', '1 hour') \gset
CREATE ROLE tp_user;
GRANT SELECT, UPDATE ON tp_rows TO tp_user;

-- a fresh backend: the library is not loaded until something of reclock runs
\c
SELECT count(*) AS library_loaded FROM pg_settings WHERE name = 'reclock.default_ttl';
SET reclock.token = '00000000-0000-4000-8000-000000000001';
-- the first call of reclock loads it: the earlier value is discarded
SELECT reclock_clock() IS NOT NULL AS loaded;
SELECT current_setting('reclock.token') AS after_load;
SET ROLE tp_user;
SELECT current_setting('reclock.token') AS after_load_as_user;
RESET ROLE;

-- ... but a token set in the transaction that loads the library counts
\c
BEGIN;
SET LOCAL reclock.token = :'tok';
UPDATE tp_rows SET v = 1 WHERE id = 1;
COMMIT;
SELECT v FROM tp_rows;

-- with session_preload_libraries for the database, the library is there
-- from the first statement: a later transaction never reads a token back
CREATE DATABASE reclock_preload;
ALTER DATABASE reclock_preload SET session_preload_libraries = 'reclock';
\c reclock_preload
SELECT count(*) AS library_loaded FROM pg_settings WHERE name = 'reclock.default_ttl';
SET ROLE tp_user;
SET reclock.token = '00000000-0000-4000-8000-000000000002';
SELECT current_setting('reclock.token') AS next_transaction;
SHOW reclock.token;
RESET ROLE;
\c :regress_db
DROP DATABASE reclock_preload;
DROP TABLE tp_rows;
DROP ROLE tp_user;
