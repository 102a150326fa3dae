--
-- citus_routes: the routing index of token lookups (docs/citus.md, build
-- plan step 8).  An acquire on the coordinator writes the token's route (its
-- hash, the table, the grant's fence, the distribution value as exact text,
-- the expiry) into reclock_citus_routes, the coordinator's own table;
-- reclock_valid, reclock_refresh and reclock_release look the route up and
-- send one routed statement to the row's node, whose stores decide: a route
-- to a grant that is gone gives false/NULL, and so does a token without a
-- route.  Release and break delete the grant's routes; dead routes are
-- reclaimed a few at a time by acquires, after a grace.
--
\set SHOW_CONTEXT never
SET citus.shard_count = 4;
SET citus.next_shard_id = 1900000;
CREATE TABLE ro (id int PRIMARY KEY, v text);
SELECT create_distributed_table('ro', 'id');
INSERT INTO ro SELECT g, 'r' || g FROM generate_series(1, 20) g;
SELECT reclock_protect('ro');
SELECT format('%I.%I', n.nspname, 'reclock_citus_routes') AS routes,
       format('%I.%I', n.nspname, 'reclock_store_' || 'ro'::regclass::oid || '_locks') AS locks
  FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'reclock' \gset

-- the coordinator's own table: Citus neither distributes nor replicates it
SELECT count(*) AS in_citus FROM pg_dist_partition WHERE logicalrelid = :'routes'::regclass;
SELECT count(*) AS routes_at_start FROM :routes;

-- an acquire writes the token's route
SELECT token AS t1, fence AS f1, expires_at AS e1 FROM reclock_acquire('ro', '1', 'alice', '1 min') \gset
SELECT tbl, fence = :f1 AS fence, dist, expires_at = :'e1'::timestamptz AS expiry,
       hash = sha256(uuid_send(:'t1')) AS hash
  FROM :routes;

-- a live grant: valid; refresh extends the grant and its route
SELECT reclock_valid(:'t1') AS valid;
SELECT reclock_refresh(:'t1', '10 min') AS e2 \gset
SELECT expires_at = :'e2'::timestamptz AS route_follows FROM :routes WHERE fence = :f1;
SELECT expires_at = :'e2'::timestamptz AS stored FROM :locks WHERE dist = 1;
-- a renewal by the same holder (a new token of the same grant) moves every route of the grant
SELECT token AS t1b, fence = :f1 AS same_grant, expires_at AS e3 FROM reclock_acquire('ro', '1', 'alice', '20 min') \gset
SELECT :'same_grant' AS same_grant, count(*) AS routes, bool_and(expires_at = :'e3'::timestamptz) AS all_follow
  FROM :routes WHERE fence = :f1;
SELECT reclock_valid(:'t1') AS old_token, reclock_valid(:'t1b') AS new_token;
-- released: the grant's routes go, and the token is no longer valid
SELECT reclock_release(:'t1') AS released;
SELECT count(*) AS routes_left FROM :routes WHERE fence = :f1;
SELECT count(*) AS lock_left FROM :locks WHERE dist = 1;
SELECT reclock_valid(:'t1') AS valid, reclock_valid(:'t1b') AS valid_b,
       reclock_release(:'t1b') AS release_again, reclock_refresh(:'t1', '1 min') IS NULL AS refresh_null;

-- broken: the grant's routes go
SELECT token AS t2, fence AS f2 FROM reclock_acquire('ro', '2', 'bob', '1 min') \gset
SELECT reclock_break('ro', '2') AS broken;
SELECT count(*) AS routes_left FROM :routes WHERE fence = :f2;
SELECT reclock_valid(:'t2') AS valid, reclock_release(:'t2') AS released,
       reclock_refresh(:'t2', '1 min') IS NULL AS refresh_null;

-- expired (the clock moved on the coordinator and, carried, on the worker):
-- not valid, not refreshed; its route stays (until reclaimed); a release
-- ends what is left of it (false: it was not live) and takes the route
SELECT token AS t3, fence AS f3 FROM reclock_acquire('ro', '3', 'carol', '1 min') \gset
BEGIN;
SET LOCAL citus.propagate_set_commands = 'local';
SET LOCAL reclock.test_clock_offset = 120;
SELECT reclock_valid(:'t3') AS valid, reclock_refresh(:'t3', '1 min') IS NULL AS refresh_null;
COMMIT;
SELECT count(*) AS route_kept FROM :routes WHERE fence = :f3;
BEGIN;
SET LOCAL citus.propagate_set_commands = 'local';
SET LOCAL reclock.test_clock_offset = 120;
SELECT reclock_release(:'t3') AS released;
COMMIT;
SELECT count(*) AS route_left FROM :routes WHERE fence = :f3;
SELECT count(*) AS lock_left FROM :locks WHERE dist = 3;

-- an unknown token: false, NULL, false (no route: not one statement sent)
SELECT reclock_valid(gen_random_uuid()) AS valid, reclock_refresh(gen_random_uuid(), '1 min') IS NULL AS refresh_null,
       reclock_release(gen_random_uuid()) AS released;

-- the index is never an authority: a route to a grant that is gone (its
-- lock row deleted by hand beside the row) gives false/NULL ...
SELECT token AS t4, fence AS f4 FROM reclock_acquire('ro', '4', 'dave', '10 min') \gset
SET citus.enable_unsafe_triggers = on;
DELETE FROM :locks WHERE dist = 4;
RESET citus.enable_unsafe_triggers;
SELECT count(*) AS route_there FROM :routes WHERE fence = :f4;
SELECT reclock_valid(:'t4') AS valid, reclock_refresh(:'t4', '1 min') IS NULL AS refresh_null,
       reclock_release(:'t4') AS released;
-- ... and a token whose route is missing is reported invalid, though its
-- grant is live beside the row (README: a coordinator that failed to commit
-- after the worker did; the client never got that token)
SELECT token AS t5, fence AS f5 FROM reclock_acquire('ro', '5', 'erin', '10 min') \gset
DELETE FROM :routes WHERE fence = :f5;
SELECT count(*) AS lock_live FROM :locks WHERE dist = 5 AND expires_at > now();
SELECT reclock_valid(:'t5') AS valid, reclock_refresh(:'t5', '1 min') IS NULL AS refresh_null,
       reclock_release(:'t5') AS released;
SELECT reclock_break('ro', '5') AS broken;

-- a grant rolled back leaves no route (and no valid token)
BEGIN;
SELECT token AS t6 FROM reclock_acquire('ro', '6', 'frank', '10 min') \gset
SELECT count(*) AS route_in_xact FROM :routes WHERE dist = '6';
ROLLBACK;
SELECT count(*) AS route_after_rollback FROM :routes WHERE dist = '6';
SELECT reclock_valid(:'t6') AS valid;

-- bounded: an acquire reclaims a few dead routes (past their expiry by more
-- than the grace for node clocks), never one within the grace
INSERT INTO :routes (hash, tbl, fence, dist, expires_at)
  SELECT sha256(int4send(g)), 'ro'::regclass, -g, '7', now() - interval '1 hour' FROM generate_series(1, 10) g;
INSERT INTO :routes (hash, tbl, fence, dist, expires_at)
  VALUES (sha256(int4send(100)), 'ro'::regclass, -100, '7', now() - interval '10 s');
SELECT acquired FROM reclock_acquire('ro', '8', 'gina', '10 min');
SELECT count(*) FILTER (WHERE fence < 0 AND fence > -100) AS dead_left,
       count(*) FILTER (WHERE fence = -100) AS in_grace FROM :routes;
SELECT acquired FROM reclock_acquire('ro', '9', 'gina', '10 min');
SELECT acquired FROM reclock_acquire('ro', '10', 'gina', '10 min');
SELECT count(*) FILTER (WHERE fence < 0 AND fence > -100) AS dead_left,
       count(*) FILTER (WHERE fence = -100) AS in_grace FROM :routes;
DELETE FROM :routes WHERE fence = -100;

-- an application role: acquires, validates, refreshes and releases through
-- the routes, but cannot read or write them (they hold token hashes)
CREATE ROLE ro_app LOGIN;
GRANT SELECT, UPDATE ON ro TO ro_app;
GRANT USAGE ON SCHEMA public TO ro_app;
SET ROLE ro_app;
SELECT token AS t7, fence AS f7 FROM reclock_acquire('ro', '11', 'hank', '10 min') \gset
SELECT reclock_valid(:'t7') AS valid, reclock_refresh(:'t7', '5 min') IS NOT NULL AS refreshed;
SELECT count(*) FROM :routes;
\echo :SQLSTATE
DELETE FROM :routes;
\echo :SQLSTATE
SELECT reclock_release(:'t7') AS released;
RESET ROLE;
SELECT has_table_privilege('ro_app', :'routes', 'SELECT') AS app_select,
       has_table_privilege('ro_app', :'routes', 'INSERT,UPDATE,DELETE') AS app_write,
       has_table_privilege('pg_database_owner', :'routes', 'SELECT') AS owner_select;
SELECT count(*) AS routes_left FROM :routes WHERE fence = :f7;

-- exact text: a timestamptz distribution value acquired under one
-- DateStyle and TimeZone, looked up under others
CREATE TABLE rt (at timestamptz PRIMARY KEY, v text);
SELECT create_distributed_table('rt', 'at');
INSERT INTO rt VALUES ('2026-01-02 03:04:05.678901+00', 'x');
SELECT reclock_protect('rt');
SET DateStyle = 'SQL, DMY';
SET TimeZone = 'Asia/Kolkata';
SELECT token AS t8, fence AS f8 FROM reclock_acquire('rt', '2026-01-02 03:04:05.678901+00', 'ivy', '10 min') \gset
SET DateStyle = 'German';
SET TimeZone = 'America/New_York';
SELECT reclock_valid(:'t8') AS valid, reclock_refresh(:'t8', '5 min') IS NOT NULL AS refreshed;
RESET DateStyle;
RESET TimeZone;
SELECT reclock_release(:'t8') AS released;

-- unprotect and DROP take the table's routes with them
SELECT token AS t9 FROM reclock_acquire('rt', '2026-01-02 03:04:05.678901+00', 'ivy', '10 min') \gset
SELECT count(*) AS rt_routes FROM :routes WHERE tbl = 'rt'::regclass;
SELECT 'rt'::regclass::oid AS rt_oid \gset
-- (not while the lock is live: 55006; by the coordinator's clock, 11 minutes on, it is not)
\set VERBOSITY terse
DROP TABLE rt;
\set VERBOSITY default
BEGIN;
SET LOCAL reclock.test_clock_offset = 660;
DROP TABLE rt;
COMMIT;
SELECT count(*) AS rt_routes_after_drop FROM :routes WHERE tbl::oid = :rt_oid;
SELECT token AS t10 FROM reclock_acquire('ro', '12', 'judy', '10 min') \gset
SET citus.enable_unsafe_triggers = on;
SELECT reclock_unprotect('ro');
RESET citus.enable_unsafe_triggers;
SELECT count(*) AS ro_routes_after_unprotect FROM :routes WHERE tbl = 'ro'::regclass;
SELECT reclock_valid(:'t10') AS valid;
DROP TABLE ro;
REVOKE USAGE ON SCHEMA public FROM ro_app;
DROP ROLE ro_app;
