--
-- review_undistribute: Citus's undistribute_table and alter_distributed_table
-- make a new table, copy the rows and drop the old one.  The new table keeps
-- reclock's guard; the drop took the stores with the live locks.  A local
-- table guarded by the coordinator's empty lock table then let a write of
-- alice's locked row through.  (alter_distributed_table fails on its own:
-- the stores are co-located, and Citus refuses the guard on the new table
-- unless citus.enable_unsafe_triggers is on.)  Dropping a protected
-- distributed table is refused while it has live locks (55006), whichever
-- command drops it.
--
\set SHOW_CONTEXT never
\set VERBOSITY terse
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS reclock;
SET citus.shard_count = 4;
SET citus.next_shard_id = 1920000;
CREATE ROLE ud_alice LOGIN;
CREATE ROLE ud_mallory LOGIN;
CREATE TABLE ud (id int PRIMARY KEY, v text);
SELECT create_distributed_table('ud', 'id');
INSERT INTO ud SELECT g, 'v' || g FROM generate_series(1, 4) g;
GRANT SELECT, UPDATE ON ud TO ud_alice, ud_mallory;
SELECT reclock_protect('ud');
SET ROLE ud_alice;
SELECT acquired FROM reclock_acquire('ud', '1', 'alice');
RESET ROLE;

-- refused while alice's lock is live
SELECT undistribute_table('ud');
\echo :SQLSTATE
-- still distributed, still guarded
SELECT count(*) AS distributed FROM pg_dist_partition WHERE logicalrelid = 'ud'::regclass;
SET ROLE ud_mallory;
\set VERBOSITY sqlstate
UPDATE ud SET v = 'mallory' WHERE id = 1;
\set VERBOSITY terse
RESET ROLE;
SELECT * FROM ud WHERE id = 1;
DROP TABLE ud;
\echo :SQLSTATE

-- without live locks: undistributed, and guarded on the coordinator as a plain table
SELECT reclock_break('ud', '1') AS broken;
SELECT undistribute_table('ud');
SELECT count(*) AS distributed FROM pg_dist_partition WHERE logicalrelid = 'ud'::regclass;
SET ROLE ud_alice;
SELECT acquired FROM reclock_acquire('ud', '2', 'alice');
SET ROLE ud_mallory;
\set VERBOSITY sqlstate
UPDATE ud SET v = 'mallory' WHERE id = 2;
\set VERBOSITY terse
RESET ROLE;
SELECT reclock_break('ud', '2') AS broken;
DROP TABLE ud;
DROP ROLE ud_alice, ud_mallory;
RESET client_min_messages;
