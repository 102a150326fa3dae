--
-- token: a token counts only in the transaction that presented it, and only
-- while that setting stands; no later transaction reads it back
--
\set VERBOSITY terse
\set SHOW_CONTEXT never
\i sql/include/try.sql
SET reclock.test_clock_offset = 0;
CREATE TABLE tk (id int PRIMARY KEY, v int);
INSERT INTO tk SELECT g, 0 FROM generate_series(1, 3) g;
SELECT reclock_protect('tk');
CREATE ROLE tk_app;
GRANT SELECT, UPDATE ON tk TO tk_app;
GRANT EXECUTE ON FUNCTION try(text) TO tk_app;
SELECT token AS tok FROM reclock_acquire('tk', '1', 'alice', '1 hour') \gset
SELECT current_database() AS db \gset

-- 1. a fresh backend (reclock's library not loaded yet): a session-level
-- set_config() as the first statement, then a write in a later transaction
\c :db
SELECT 'reclock' = ANY (string_to_array(current_setting('shared_preload_libraries'), ',')) AS preloaded;
SELECT set_config('reclock.token', :'tok', false) IS NOT NULL AS set;
SELECT try($t$UPDATE tk SET v = 1 WHERE id = 1$t$);
-- ... and the same with SET
\c :db
SET reclock.token = :'tok';
SELECT try($t$UPDATE tk SET v = 1 WHERE id = 1$t$);
BEGIN;
SELECT try($t$UPDATE tk SET v = 1 WHERE id = 1$t$);
ROLLBACK;

-- 2. a fresh backend, the token presented in the writing transaction: the
-- library is loaded mid-transaction and the token counts
\c :db
BEGIN;
SELECT set_config('reclock.token', :'tok', true) IS NOT NULL AS set;
SELECT try($t$UPDATE tk SET v = 2 WHERE id = 1$t$);
COMMIT;
\c :db
BEGIN;
SET LOCAL reclock.token = :'tok';
SELECT try($t$UPDATE tk SET v = 3 WHERE id = 1$t$);
COMMIT;
-- a session-level SET made in the writing transaction counts in it, not after
\c :db
BEGIN;
SET reclock.token = :'tok';
SELECT try($t$UPDATE tk SET v = 4 WHERE id = 1$t$);
COMMIT;
SELECT try($t$UPDATE tk SET v = 5 WHERE id = 1$t$);
-- ... also when set in a savepoint that was kept (released)
\c :db
BEGIN;
SAVEPOINT s;
SELECT set_config('reclock.token', :'tok', true) IS NOT NULL AS set;
RELEASE s;
SELECT try($t$UPDATE tk SET v = 6 WHERE id = 1$t$);
COMMIT;
SELECT v FROM tk WHERE id = 1;

-- 3. a leftover session value (library loaded), restored by a rolled-back
-- savepoint, a function's SET clause, a PL/pgSQL exception block
SET reclock.token = :'tok';
BEGIN;
SAVEPOINT s;
SET LOCAL reclock.token = '';
ROLLBACK TO s;
SELECT try($t$UPDATE tk SET v = 7 WHERE id = 1$t$);
ROLLBACK;
BEGIN;
SAVEPOINT s;
SELECT set_config('reclock.token', :'tok', true) IS NOT NULL AS set;
ROLLBACK TO s;
SELECT try($t$UPDATE tk SET v = 7 WHERE id = 1$t$);
ROLLBACK;
CREATE FUNCTION tk_noop() RETURNS int LANGUAGE sql SET reclock.token = '' AS 'SELECT 1';
BEGIN;
SELECT tk_noop();
SELECT try($t$UPDATE tk SET v = 7 WHERE id = 1$t$);
ROLLBACK;
BEGIN;
DO $$
BEGIN
  BEGIN
    PERFORM set_config('reclock.token', '', true);
    RAISE EXCEPTION 'undo';
  EXCEPTION WHEN raise_exception THEN NULL;
  END;
END $$;
SELECT try($t$UPDATE tk SET v = 7 WHERE id = 1$t$);
ROLLBACK;
RESET reclock.token;
-- a savepoint that set the token and rolled back takes it back, while a
-- token set before the savepoint stands again after it
BEGIN;
SET LOCAL reclock.token = :'tok';
SAVEPOINT s;
SET LOCAL reclock.token = '';
SELECT try($t$UPDATE tk SET v = 8 WHERE id = 1$t$);
ROLLBACK TO s;
SELECT try($t$UPDATE tk SET v = 8 WHERE id = 1$t$);
COMMIT;
-- a token written into a function's SET clause is not presented by anyone:
-- it never counts, inside the function or after it
CREATE FUNCTION tk_write_set() RETURNS text LANGUAGE plpgsql
  SET reclock.token = '00000000-0000-4000-8000-000000000000'
  AS $$ BEGIN RETURN try('UPDATE tk SET v = 9 WHERE id = 1'); END $$;
ALTER FUNCTION tk_write_set() SET reclock.token = :'tok';
SELECT tk_write_set();
BEGIN;
SELECT tk_write_set();
SELECT try($t$UPDATE tk SET v = 9 WHERE id = 1$t$);
ROLLBACK;
-- a token presented by the transaction that calls it counts inside a function
-- (without a SET clause of its own)
CREATE FUNCTION tk_write() RETURNS text LANGUAGE plpgsql
  AS $$ BEGIN RETURN try('UPDATE tk SET v = 10 WHERE id = 1'); END $$;
BEGIN;
SET LOCAL reclock.token = :'tok';
SELECT tk_write();
COMMIT;
SELECT v FROM tk WHERE id = 1;

-- 4. connection options and database defaults never count, nor RESET to them
SELECT format('dbname=%s options=''-c reclock.token=%s''', :'db', :'tok') AS conn \gset
\c :conn
SELECT try($t$UPDATE tk SET v = 11 WHERE id = 1$t$);
BEGIN;
RESET reclock.token;
SELECT try($t$UPDATE tk SET v = 11 WHERE id = 1$t$);
ROLLBACK;
BEGIN;
SET LOCAL reclock.token TO DEFAULT;
SELECT try($t$UPDATE tk SET v = 11 WHERE id = 1$t$);
ROLLBACK;
-- the same value presented in the transaction does count
BEGIN;
SET LOCAL reclock.token = :'tok';
SELECT try($t$UPDATE tk SET v = 12 WHERE id = 1$t$);
ROLLBACK;
ALTER DATABASE :"db" SET reclock.token = :'tok';
\c :db
SELECT try($t$UPDATE tk SET v = 11 WHERE id = 1$t$);
ALTER DATABASE :"db" RESET reclock.token;
\c :db
SELECT try($t$UPDATE tk SET v = 11 WHERE id = 1$t$);
SELECT v FROM tk WHERE id = 1;

-- 5. nobody but a superuser reads a token back in a later transaction
SET reclock.token = :'tok';
SET ROLE tk_app;
SELECT current_setting('reclock.token') AS shown;
SHOW reclock.token;
SELECT count(*) FROM pg_settings WHERE name = 'reclock.token';
-- while the transaction that set it runs, it reads its own value back
BEGIN;
SELECT set_config('reclock.token', :'tok', true) = :'tok' AS returned;
SELECT current_setting('reclock.token') = :'tok' AS shown;
COMMIT;
SELECT current_setting('reclock.token') AS shown;
RESET ROLE;
SELECT current_setting('reclock.token') = :'tok' AS superuser_sees;
RESET reclock.token;
-- a fresh backend that loads the library hides a leftover value too
\c :db
SET reclock.token = :'tok';
SET ROLE tk_app;
SELECT try($t$UPDATE tk SET v = 13 WHERE id = 1$t$);
SELECT current_setting('reclock.token') AS shown;
RESET ROLE;

-- 6. a malformed token is refused without echoing the value
BEGIN;
SELECT set_config('reclock.token', 'not-a-token-' || :'tok', true);
ROLLBACK;

SELECT reclock_release(:'tok');
RESET reclock.token;
DROP FUNCTION tk_noop(), tk_write_set(), tk_write();
DROP TABLE tk;
REVOKE ALL ON FUNCTION try(text) FROM tk_app;
DROP ROLE tk_app;
