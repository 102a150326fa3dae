--
-- REPRO (review2, 2026-12-06), not fixed.  Run it with
--   cp test/citus/repro/review7_guard.sql test/citus/sql/ &&
--   CITUS_TESTS=review7_guard CITUS_SPECS= CITUS_SCRIPTS= RECLOCK_CHROOTS=... make test-citus PG_MAJOR=17
-- (no expected file: the correct output is written in section 2 and 3's comments).
-- Seen on main 604d25a: both CREATE TRIGGER and the RENAME pass; in section
-- 3 the acquire fails ('"g7_1977000" is not a shard of a protected Citus
-- distributed table') and EVERY write of g7, also of rows no one locked and
-- with the token, fails ('it is a shard of Citus table "g7", which reclock
-- cannot guard yet'), until the owner of the hand-made trigger drops it.
-- README's known limit says "a role with the TRIGGER privilege on a table
-- co-located with a protected table": in fact any role that may create a
-- table anywhere can do it to every protected table, with no right on it
-- (colocate_with asks nothing of the table named; the default co-location
-- puts every table of the same shard count and distribution type in one
-- group; citus.enable_unsafe_triggers is a user setting; reclock_guard is
-- executable by PUBLIC).  A reference table's group holds every reference
-- table, so the same holds there (section 5, seen).  She can
-- also make the trigger directly on a worker's shell table
-- (citus.enable_ddl_propagation is a user setting; section 4, seen), so a check on the
-- coordinator alone does not close it.  It fails closed (no write passes).
--
--
-- review7_guard: a protected distributed table's stores, on a worker, are
-- the ones its guard trigger names (stores=reclock_store_<n>), and a claim
-- that another guard of the co-location group names them too makes the
-- workers refuse every write and grant of the table (c6-addnode).  Any role
-- may put its own table into that group (create_distributed_table's
-- colocate_with, or the default co-location of the same shard count and
-- distribution type, asks nothing of the other tables) and make a trigger
-- named reclock_guard on it (citus.enable_unsafe_triggers is a user
-- setting; reclock_guard is executable by PUBLIC).  Such a role, with no
-- right on the protected table, must not stop its application roles'
-- acquires and writes: the hand-made guard is refused where it is made.
--
\set SHOW_CONTEXT never
\set VERBOSITY terse
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS reclock;
RESET client_min_messages;
SET citus.shard_count = 2;
SET citus.next_shard_id = 1977000;
CREATE TABLE g7 (id int PRIMARY KEY, v text);
SELECT create_distributed_table('g7', 'id');
INSERT INTO g7 SELECT g, 'v' || g FROM generate_series(1, 20) g;
SELECT reclock_protect('g7');
CREATE ROLE g7_app LOGIN;
GRANT SELECT, UPDATE ON g7 TO g7_app;
-- mallory: no right on g7, a schema of her own
CREATE ROLE g7_mallory LOGIN;
CREATE SCHEMA g7m AUTHORIZATION g7_mallory;
SELECT 'stores=reclock_store_' || 'g7'::regclass::oid AS arg \gset

-- 1. the application works before
SET ROLE g7_app;
SELECT token AS tok FROM reclock_acquire('g7', '3', 'app') \gset
UPDATE g7 SET v = 'no token' WHERE id = 3;
BEGIN;
SELECT set_config('reclock.token', :'tok', true) IS NOT NULL AS presented;
UPDATE g7 SET v = 'with token' WHERE id = 3;
COMMIT;
SELECT reclock_release(:'tok');
RESET ROLE;

-- 2. mallory's table, co-located with g7 (she owns nothing of g7's), and
-- a trigger named reclock_guard on it naming g7's stores: refused
SET ROLE g7_mallory;
CREATE TABLE g7m.anx (id int PRIMARY KEY);
SELECT create_distributed_table('g7m.anx', 'id', colocate_with => 'public.g7');
SET citus.enable_unsafe_triggers = on;
\set VERBOSITY sqlstate
CREATE TRIGGER reclock_guard BEFORE UPDATE ON g7m.anx FOR EACH ROW
  EXECUTE FUNCTION public.reclock_guard(:'arg');
-- the same on a second table under another name, renamed to reclock_guard
CREATE TABLE g7m.anx2 (id int PRIMARY KEY);
SELECT create_distributed_table('g7m.anx2', 'id', colocate_with => 'public.g7');
CREATE TRIGGER x BEFORE UPDATE ON g7m.anx2 FOR EACH ROW
  EXECUTE FUNCTION public.reclock_guard(:'arg');
ALTER TRIGGER x ON g7m.anx2 RENAME TO reclock_guard;
\set VERBOSITY terse
RESET citus.enable_unsafe_triggers;
RESET ROLE;
SELECT count(*) AS guards_naming_g7_stores
  FROM pg_trigger WHERE tgname = 'reclock_guard' AND tgrelid <> 'g7'::regclass
   AND encode(tgargs, 'escape') LIKE '%' || :'arg' || '%';

-- 3. the application still works: acquire, a write without the token
-- refused, with it passes
SET ROLE g7_app;
SELECT token AS tok FROM reclock_acquire('g7', '4', 'app') \gset
UPDATE g7 SET v = 'no token' WHERE id = 4;
BEGIN;
SELECT set_config('reclock.token', :'tok', true) IS NOT NULL AS presented;
UPDATE g7 SET v = 'with token' WHERE id = 4;
COMMIT;
SELECT reclock_release(:'tok');
UPDATE g7 SET v = 'free' WHERE id = 5;
RESET ROLE;

-- 4. the same made by mallory on a worker only, on her table's shell
-- table there (no DDL propagation): the coordinator never sees it;
-- refused as well (correct: 'f' for each worker and the acquire works)
SET citus.enable_unsafe_triggers = on;
DROP TRIGGER reclock_guard ON g7m.anx;
DROP TRIGGER reclock_guard ON g7m.anx2;
RESET citus.enable_unsafe_triggers;
SET ROLE g7_mallory;
SELECT success FROM run_command_on_workers(format($c$SET citus.enable_ddl_propagation = off;
  SET citus.enable_unsafe_triggers = on;
  CREATE TRIGGER reclock_guard BEFORE UPDATE ON g7m.anx FOR EACH ROW
  EXECUTE FUNCTION public.reclock_guard(%L)$c$, :'arg'));
RESET ROLE;
SET ROLE g7_app;
SELECT token AS tok FROM reclock_acquire('g7', '6', 'app') \gset
UPDATE g7 SET v = 'free' WHERE id = 7;
RESET ROLE;

-- 5. a protected reference table: mallory's own reference table (every
-- reference table is in one co-location group) with the same trigger
-- (correct: refused, and the acquire and the free write work)
CREATE TABLE g7r (id int PRIMARY KEY, v text);
SELECT create_reference_table('g7r');
INSERT INTO g7r SELECT g, 'r' || g FROM generate_series(1, 5) g;
SELECT reclock_protect('g7r');
GRANT SELECT, UPDATE ON g7r TO g7_app;
SELECT 'stores=reclock_store_' || 'g7r'::regclass::oid AS rarg \gset
SET ROLE g7_mallory;
CREATE TABLE g7m.anr (id int PRIMARY KEY);
SELECT create_reference_table('g7m.anr');
SET citus.enable_unsafe_triggers = on;
\set VERBOSITY sqlstate
CREATE TRIGGER reclock_guard BEFORE UPDATE ON g7m.anr FOR EACH ROW
  EXECUTE FUNCTION public.reclock_guard(:'rarg');
\set VERBOSITY terse
RESET citus.enable_unsafe_triggers;
RESET ROLE;
SET ROLE g7_app;
SELECT acquired FROM reclock_acquire('g7r', '1', 'app');
UPDATE g7r SET v = 'free' WHERE id = 2;
RESET ROLE;

-- clean up
SET citus.enable_unsafe_triggers = on;
DROP TABLE g7m.anx, g7m.anx2, g7m.anr, g7r;
DROP SCHEMA g7m;
DROP TABLE g7;
RESET citus.enable_unsafe_triggers;
DROP ROLE g7_mallory;
DROP ROLE g7_app;
