--
-- citus_view: reclock_locks on the coordinator lists the live locks of
-- protected Citus tables (c6-view): distributed tables' stores beside their
-- shards, a reference table's once (not once per placement), by the
-- coordinator's clock, with the visibility rules of one node: no SELECT on
-- the table or row-level security that applies to the caller, no locks;
-- neither a function in WHERE nor EXPLAIN ANALYZE's row counts tell more.
--
\set SHOW_CONTEXT never
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS reclock;
RESET client_min_messages;
SET citus.shard_count = 2;
SET citus.next_shard_id = 1990000;
CREATE TABLE vw (id int PRIMARY KEY, v text);
SELECT create_distributed_table('vw', 'id');
INSERT INTO vw SELECT g, 'v' || g FROM generate_series(1, 6) g;
CREATE TABLE vr (id text PRIMARY KEY, v text);
SELECT create_reference_table('vr');
INSERT INTO vr VALUES ('a', 'x'), ('b', 'y');
CREATE TABLE vs (id int PRIMARY KEY, v text);
SELECT create_distributed_table('vs', 'id');
INSERT INTO vs VALUES (1, 's');
SELECT reclock_protect('vw');
SELECT reclock_protect('vr');
SELECT reclock_protect('vs');
SELECT acquired FROM reclock_acquire('vw', '1', 'alice', '1 min');
SELECT acquired FROM reclock_acquire('vw', '2', 'bob', '1 hour');
SELECT acquired FROM reclock_acquire('vw', '5', 'carol', '1 hour');
SELECT acquired FROM reclock_acquire('vr', 'a', 'dave', '1 hour');
SELECT acquired FROM reclock_acquire('vs', '1', 'erin', '1 hour');

-- every live lock, the reference table's once, with its role's name
SELECT relation, key, holder, acquired_by = current_user AS by_me,
       expires_at > now() AS live, acquired_at <= now() AS acquired_before
  FROM reclock_locks WHERE relation IN ('vw'::regclass, 'vr'::regclass, 'vs'::regclass)
 ORDER BY relation::text, key;
-- the same grant as acquire returned (fence, expiry)
SELECT expires_at, fence FROM reclock_acquire('vw', '2', 'bob', '1 hour') \gset
SELECT expires_at = :'expires_at'::timestamptz AS same_expiry, fence = :fence AS same_fence
  FROM reclock_locks WHERE relation = 'vw'::regclass AND key = '2';
-- by the coordinator's clock: two minutes later alice's lock is dead
BEGIN;
SET LOCAL reclock.test_clock_offset = 120;
SELECT relation, key, holder FROM reclock_locks
 WHERE relation IN ('vw'::regclass, 'vr'::regclass, 'vs'::regclass) ORDER BY relation::text, key;
COMMIT;

CREATE FUNCTION vw_spy(k text) RETURNS boolean LANGUAGE plpgsql COST 0.0000001 AS
$$BEGIN RAISE NOTICE 'saw %', k; RETURN true; END$$;
CREATE ROLE vw_reader;
CREATE ROLE vw_none;
CREATE ROLE vw_rls;
GRANT SELECT ON vw, vr, vs TO vw_reader, vw_rls;
GRANT SELECT (v) ON vs TO vw_none;

-- a role that may read the tables sees their locks
SET ROLE vw_reader;
SELECT relation, key, holder FROM reclock_locks
 WHERE relation IN ('vw'::regclass, 'vr'::regclass, 'vs'::regclass) ORDER BY relation::text, key;
RESET ROLE;
-- SELECT on one column is enough to read the table (vs); nothing else
SET ROLE vw_none;
SELECT relation, key, holder FROM reclock_locks ORDER BY relation::text, key;
-- neither a function in WHERE nor EXPLAIN ANALYZE sees the other rows
SELECT count(*) FROM reclock_locks WHERE vw_spy(key);
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) SELECT * FROM reclock_locks;
RESET ROLE;
-- row-level security on vw applies to vw_rls and vw_reader (vw_rls has a
-- policy that shows every row): none of vw's locks, to either
ALTER TABLE vw ENABLE ROW LEVEL SECURITY;
CREATE POLICY vw_all ON vw TO vw_rls USING (true);
GRANT SELECT ON vw TO vw_rls;
SET ROLE vw_rls;
SELECT relation, key, holder FROM reclock_locks
 WHERE relation IN ('vw'::regclass, 'vr'::regclass, 'vs'::regclass) ORDER BY relation::text, key;
SET ROLE vw_reader;
SELECT relation, key, holder FROM reclock_locks
 WHERE relation IN ('vw'::regclass, 'vr'::regclass, 'vs'::regclass) ORDER BY relation::text, key;
RESET ROLE;
ALTER TABLE vw DISABLE ROW LEVEL SECURITY;

-- in a transaction that acquired as another role (its own connection)
CREATE ROLE vw_app LOGIN;
GRANT SELECT, UPDATE ON vw, vr TO vw_app;
BEGIN;
SET LOCAL ROLE vw_app;
SELECT acquired FROM reclock_acquire('vw', '3', 'gina', '1 hour');
SELECT acquired FROM reclock_acquire('vr', 'b', 'gina', '1 hour');
SELECT relation, key, holder FROM reclock_locks
 WHERE relation IN ('vw'::regclass, 'vr'::regclass, 'vs'::regclass) ORDER BY relation::text, key;
COMMIT;

-- a worker shows its own node's lock table only (none of these)
SELECT result FROM run_command_on_workers(
  $$SELECT count(*) FROM reclock_locks WHERE relation::text IN ('vw', 'vr', 'vs')$$);

-- released and broken locks go
SELECT token AS tok FROM reclock_acquire('vw', '6', 'frank', '1 hour') \gset
SELECT reclock_release(:'tok');
SELECT reclock_break('vr', 'a');
SELECT relation, key, holder FROM reclock_locks
 WHERE relation IN ('vw'::regclass, 'vr'::regclass, 'vs'::regclass) ORDER BY relation::text, key;

-- a transaction that reads the view keeps no lock on the stores (the
-- isolation spec citus_sweep_waits shows that no DROP waits for it)
BEGIN;
SELECT count(*) > 0 AS some FROM reclock_locks;
SELECT count(*) AS store_locks_held FROM pg_locks
 WHERE locktype = 'relation' AND pid = pg_backend_pid()
   AND relation IN (SELECT locks FROM reclock_citus_tables UNION ALL SELECT tokens FROM reclock_citus_tables);
COMMIT;

SELECT reclock_unprotect('vw');
SELECT reclock_unprotect('vr');
SELECT reclock_unprotect('vs');
DROP TABLE vw, vr, vs;
DROP FUNCTION vw_spy(text);
DROP OWNED BY vw_reader, vw_none, vw_rls, vw_app;
DROP ROLE vw_reader, vw_none, vw_rls, vw_app;
