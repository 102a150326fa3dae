--
-- plans: the statements reclock caches (acquire's FOR SHARE, CAS, diff)
-- always reach the table they were made for, by OID, whatever happens to
-- names; the cache stays bounded; a plan is never freed while it runs.
--
\set VERBOSITY terse
\i sql/include/try.sql

-- a schema rename sends no invalidation of its tables: a warm backend must
-- follow the table it was asked about, not the name it once had
CREATE SCHEMA app;
CREATE TABLE app.orders (id int PRIMARY KEY, qty int);
INSERT INTO app.orders VALUES (43, 11);
SELECT reclock_cas('app.orders', '43', '{"qty": 11}', '{"qty": 11}') AS warm_cas;
SELECT reclock_cas('app.orders', '43', '{"qty": 11}') AS warm_check;
SELECT reclock_diff('app.orders', '43', '{"qty": 11}') AS warm_diff;
SELECT acquired FROM reclock_acquire('app.orders', '43', 'warm', '1 min');
SELECT reclock_break('app.orders', '43');
-- the schema goes away under another name: no "relation does not exist"
ALTER SCHEMA app RENAME TO app_old;
SELECT reclock_cas('app_old.orders', '43', '{"qty": 11}', '{"qty": 12}') AS renamed_cas;
SELECT acquired, holder FROM reclock_acquire('app_old.orders', '43', 'alice', '1 min');
SELECT reclock_break('app_old.orders', '43');
-- and a new app.orders takes the old name: CAS, diff and acquire of
-- app_old.orders reach app_old.orders only
CREATE SCHEMA app;
CREATE TABLE app.orders (id int PRIMARY KEY, qty int);
INSERT INTO app.orders VALUES (43, 12);
SELECT reclock_cas('app_old.orders', '43', '{"qty": 12}', '{"qty": 99}') AS saved;
SELECT reclock_cas('app_old.orders', '43', '{"qty": 99}') AS checked;
SELECT reclock_diff('app_old.orders', '43', '{"qty": 12}') AS diff;
SELECT 'app_old' AS s, qty FROM app_old.orders UNION ALL SELECT 'app', qty FROM app.orders ORDER BY 1;
DELETE FROM app.orders;
-- the FOR SHARE finds the row in app_old.orders (app.orders has none now)
SELECT acquired, holder FROM reclock_acquire('app_old.orders', '43', 'alice', '1 min');
SELECT relation, key, holder FROM reclock_locks WHERE key = '43';
SELECT reclock_break('app_old.orders', '43');
DROP SCHEMA app CASCADE;
DROP SCHEMA app_old CASCADE;

-- the store's own statements (sweep, notice settings) name the store by the
-- schema's current name too: here the extension's schema is renamed (in a
-- transaction rolled back) in a backend that has run them before
CREATE TABLE notes (id int PRIMARY KEY);
SELECT reclock_sweep() >= 0 AS warm_sweep;
SELECT reclock_notify('notes', true);
SELECT reclock_notify('notes', false);
BEGIN;
ALTER SCHEMA public RENAME TO reclock_home;
SELECT reclock_home.reclock_sweep() >= 0 AS swept;
SELECT reclock_home.reclock_notify('reclock_home.notes', true);
SELECT count(*) AS notifying FROM reclock_home.reclock_notify_store;
SELECT reclock_home.reclock_notify('reclock_home.notes', false);
SELECT count(*) AS notifying FROM reclock_home.reclock_notify_store;
ROLLBACK;
DROP TABLE notes;

-- bounded: CAS over many different column subsets keeps a capped number of
-- plans in one backend (each subset is a statement of its own)
CREATE TABLE wide (id int PRIMARY KEY, c1 int, c2 int, c3 int, c4 int,
	c5 int, c6 int, c7 int, c8 int, c9 int);
INSERT INTO wide SELECT 1, 0, 0, 0, 0, 0, 0, 0, 0, 0;
SELECT count(*) FILTER (WHERE ok) AS equal, count(*) AS subsets
  FROM generate_series(1, 400) m,
       LATERAL (SELECT reclock_cas('wide', '1',
                  (SELECT jsonb_object_agg('c' || i, 0) FROM generate_series(1, 9) i
                    WHERE m & (1 << (i - 1)) <> 0)) AS ok) x
 WHERE m < 512;
SELECT count(*) FILTER (WHERE ok) AS swapped
  FROM generate_series(1, 400) m,
       LATERAL (SELECT reclock_cas('wide', '1',
                  (SELECT jsonb_object_agg('c' || i, 0) FROM generate_series(1, 9) i
                    WHERE m & (1 << (i - 1)) <> 0),
                  (SELECT jsonb_object_agg('c' || i, 0) FROM generate_series(1, 9) i
                    WHERE m & (1 << (i - 1)) = 0 OR m = 511)) AS ok) x
 WHERE m < 512;
SELECT count(*) <= 128 AS capped, count(*) > 0 AS cached,
       sum(total_bytes) < 2 * 1024 * 1024 AS small
  FROM pg_backend_memory_contexts
 WHERE name = 'CachedPlanSource' AND ident LIKE '%public.wide%';

-- a plan is never freed while it runs: a trigger of the CAS's own UPDATE
-- invalidates every plan (a schema comes and goes) and runs the same CAS
-- statement on another row, which makes it anew
CREATE FUNCTION wide_nested() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF pg_trigger_depth() = 1 AND NEW.id = 1 THEN
    CREATE SCHEMA plans_tmp;
    DROP SCHEMA plans_tmp;
    PERFORM reclock_cas('wide', '2', '{"c1": 0}', '{"c2": 7}');
  END IF;
  RETURN NEW;
END $$;
INSERT INTO wide SELECT 2, 0, 0, 0, 0, 0, 0, 0, 0, 0;
CREATE TRIGGER wide_nested BEFORE UPDATE ON wide FOR EACH ROW EXECUTE FUNCTION wide_nested();
SELECT reclock_cas('wide', '1', '{"c1": 0}', '{"c2": 7}') AS outer_cas;
SELECT reclock_cas('wide', '1', '{"c1": 0}', '{"c2": 8}') AS again;
SELECT id, c2 FROM wide ORDER BY id;
DROP TABLE wide;
DROP FUNCTION wide_nested();
