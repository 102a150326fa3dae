--
-- REPRO (review2, 2026-12-06), not fixed (documentation).
--   cp test/citus/repro/review7_oldguard.sql test/citus/sql/ &&
--   CITUS_TESTS=review7_oldguard CITUS_SPECS= CITUS_SCRIPTS= RECLOCK_CHROOTS=... make test-citus PG_MAJOR=17
--
-- README's known limit says a table protected by an earlier build of 1.3
-- (before the marks store) keeps working, its application roles' acquires
-- marked by a routed no-op UPDATE, until it is protected again.  Since
-- c6-addnode a worker finds the stores only through the guard's
-- stores=... argument, which such a guard lacks: every write of the table,
-- also of free rows, is refused on the workers ("which reclock cannot guard
-- yet") and every acquire fails ("... is not a shard of a protected Citus
-- distributed table", not the hint to protect again) until reclock_protect
-- is run again.  Fails closed; the fallback mark is reached only by a table
-- whose marks store was dropped by hand (review6_mark, section 6).  Seen on
-- main 604d25a.  Correct: the README says so (or the acquire's error hints
-- at reclock_protect).
--
\set SHOW_CONTEXT never
\set VERBOSITY terse
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS reclock;
RESET client_min_messages;
SET citus.shard_count = 2;
SET citus.next_shard_id = 1980000;
CREATE TABLE ob (id int PRIMARY KEY, v text);
SELECT create_distributed_table('ob', 'id');
INSERT INTO ob SELECT g, 'v' || g FROM generate_series(1, 20) g;
SELECT reclock_protect('ob');
-- an earlier build of 1.3: its guard names no stores
SET citus.enable_unsafe_triggers = on;
DROP TRIGGER reclock_guard ON ob;
CREATE TRIGGER reclock_guard BEFORE UPDATE OR DELETE ON ob FOR EACH ROW EXECUTE FUNCTION reclock_guard();
RESET citus.enable_unsafe_triggers;
UPDATE ob SET v = 'free' WHERE id = 1;
SELECT acquired FROM reclock_acquire('ob', '2', 'x');
-- protected again: works
SELECT reclock_protect('ob');
UPDATE ob SET v = 'free' WHERE id = 1;
SELECT acquired FROM reclock_acquire('ob', '2', 'x');
SET citus.enable_unsafe_triggers = on;
DROP TABLE ob;
