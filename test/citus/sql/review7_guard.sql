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
-- acquires and writes.  A guard of a Citus table calls reclock_guard_citus
-- (or reclock_guard_child_citus), which only reclock's owner may execute,
-- and reclock_protect makes it as that owner; the workers believe no
-- other.  So such a trigger with those functions is refused where it is
-- made (42501, on the coordinator and on a worker), and one with
-- reclock_guard is made but names no stores for anyone.  Before, every
-- write and acquire of the protected table failed on the workers until the
-- hand-made trigger was dropped (review2).
--
\set SHOW_CONTEXT never
\set VERBOSITY sqlstate
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
-- a trigger named reclock_guard on it naming g7's stores: with a Citus
-- guard's function refused; with reclock_guard made, and believed by no one
SET ROLE g7_mallory;
CREATE TABLE g7m.anx (id int PRIMARY KEY);
SELECT create_distributed_table('g7m.anx', 'id', colocate_with => 'public.g7');
SET citus.enable_unsafe_triggers = on;
\set VERBOSITY sqlstate
CREATE TRIGGER reclock_guard BEFORE UPDATE ON g7m.anx FOR EACH ROW
  EXECUTE FUNCTION public.reclock_guard_citus(:'arg');
CREATE TRIGGER reclock_guard BEFORE UPDATE ON g7m.anx FOR EACH ROW
  EXECUTE FUNCTION public.reclock_guard_child_citus(:'arg');
CREATE TRIGGER reclock_guard BEFORE UPDATE ON g7m.anx FOR EACH ROW
  EXECUTE FUNCTION public.reclock_guard(:'arg');
-- the same on a second table under another name, renamed to reclock_guard
CREATE TABLE g7m.anx2 (id int PRIMARY KEY);
SELECT create_distributed_table('g7m.anx2', 'id', colocate_with => 'public.g7');
CREATE TRIGGER x BEFORE UPDATE ON g7m.anx2 FOR EACH ROW
  EXECUTE FUNCTION public.reclock_guard(:'arg');
ALTER TRIGGER x ON g7m.anx2 RENAME TO reclock_guard;
\set VERBOSITY sqlstate
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
-- table there (no DDL propagation): the coordinator never sees it; with a
-- Citus guard's function refused (permission denied), with reclock_guard
-- made and believed by no one: the acquire and a free write work
SET citus.enable_unsafe_triggers = on;
DROP TRIGGER reclock_guard ON g7m.anx;
DROP TRIGGER reclock_guard ON g7m.anx2;
RESET citus.enable_unsafe_triggers;
SET ROLE g7_mallory;
SELECT success FROM run_command_on_workers(format($c$SET citus.enable_ddl_propagation = off;
  SET citus.enable_unsafe_triggers = on;
  CREATE TRIGGER reclock_guard BEFORE UPDATE ON g7m.anx FOR EACH ROW
  EXECUTE FUNCTION public.reclock_guard_citus(%L)$c$, :'arg'));
SELECT success FROM run_command_on_workers(format($c$SET citus.enable_ddl_propagation = off;
  SET citus.enable_unsafe_triggers = on;
  CREATE TRIGGER reclock_guard BEFORE UPDATE ON g7m.anx FOR EACH ROW
  EXECUTE FUNCTION public.reclock_guard(%L)$c$, :'arg'));
RESET ROLE;
-- (run_command_on_workers reports a multi-statement string's success by its
-- last result: what is there on each worker is one trigger, reclock_guard's)
SELECT result AS worker_triggers FROM run_command_on_workers($c$SELECT string_agg(tgfoid::regproc::text, ',')
  FROM pg_trigger WHERE tgrelid = 'g7m.anx'::regclass AND tgname = 'reclock_guard'$c$);
SET ROLE g7_app;
SELECT token AS tok FROM reclock_acquire('g7', '6', 'app') \gset
UPDATE g7 SET v = 'free' WHERE id = 7;
RESET ROLE;

-- 5. a protected reference table: mallory's own reference table (every
-- reference table is in one co-location group) with the same trigger: the
-- acquire and the free write work
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
  EXECUTE FUNCTION public.reclock_guard_citus(:'rarg');
CREATE TRIGGER reclock_guard BEFORE UPDATE ON g7m.anr FOR EACH ROW
  EXECUTE FUNCTION public.reclock_guard(:'rarg');
\set VERBOSITY sqlstate
RESET citus.enable_unsafe_triggers;
RESET ROLE;
SET ROLE g7_app;
SELECT acquired FROM reclock_acquire('g7r', '1', 'app');
UPDATE g7r SET v = 'free' WHERE id = 2;
RESET ROLE;

-- clean up
SELECT reclock_break('g7', '6'), reclock_break('g7r', '1');
SET citus.enable_unsafe_triggers = on;
DROP TABLE g7m.anx, g7m.anx2, g7m.anr, g7r;
DROP SCHEMA g7m;
DROP TABLE g7;
RESET citus.enable_unsafe_triggers;
DROP ROLE g7_mallory;
DROP ROLE g7_app;
