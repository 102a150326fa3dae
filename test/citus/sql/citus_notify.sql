--
-- citus_notify: change notices (NOTIFY reclock) of a protected distributed
-- table, heard by a listener on the coordinator (docs/citus.md, step
-- "Notices").  updated and deleted come from the guard's notice trigger on
-- the workers, collected by the coordinator before Citus commits them;
-- acquired, released and broken from the coordinator's own functions.
--
-- psql prints each notification it receives ("Asynchronous notification
-- ... received from server process with PID n") into the \o file; received()
-- reads it back with the PID, fences and expiry times made stable.
--
\set SHOW_CONTEXT never
SET citus.shard_count = 4;
SET citus.next_shard_id = 1500000;
CREATE TABLE nt (id int PRIMARY KEY, v text);
SELECT create_distributed_table('nt', 'id');
INSERT INTO nt SELECT g, 'v' || g FROM generate_series(1, 8) g;
\set nfile `mktemp /tmp/citus_notify.XXXXXX`
\setenv NFILE :nfile
\! chmod 644 "$NFILE"
CREATE FUNCTION received(f text) RETURNS SETOF text LANGUAGE sql AS $$
  SELECT regexp_replace(regexp_replace(regexp_replace(l,
           'PID [0-9]+', 'PID n'), '"fence": [0-9]+', '"fence": F'),
           '"expires_at": "[^"]*"', '"expires_at": E')
    FROM unnest(string_to_array(rtrim(pg_read_file(f), E'\n'), E'\n')) l
$$;

-- not protected: refused (0A000), nothing made
SELECT reclock_notify('nt');
\echo :SQLSTATE
-- a reference table: refused (0A000)
CREATE TABLE nref (id int PRIMARY KEY);
SELECT create_reference_table('nref');
SELECT reclock_notify('nref');
\echo :SQLSTATE
DROP TABLE nref;
SELECT reclock_protect('nt');
SELECT reclock_notify('nt');
-- the notice store: distributed, co-located with the table, empty
SELECT format('reclock_store_%s_notices', 'nt'::regclass::oid) AS notices \gset
SELECT p.colocationid = (SELECT colocationid FROM pg_dist_partition WHERE logicalrelid = 'nt'::regclass) AS colocated
  FROM pg_dist_partition p WHERE p.logicalrelid = :'notices'::regclass;
SELECT count(*) AS queued FROM :"notices";

-- a router UPDATE in autocommit
\o :nfile
LISTEN reclock;
UPDATE nt SET v = 'a' WHERE id = 1;
\o
SELECT * FROM received(:'nfile');
-- a multi-shard UPDATE (both workers), then a DELETE
\o :nfile
UPDATE nt SET v = v || '!' WHERE id IN (1, 2, 3, 4);
DELETE FROM nt WHERE id = 8;
\o
SELECT * FROM received(:'nfile');
-- nothing is left in the stores
SELECT count(*) AS queued FROM :"notices";
-- in a transaction block: sent at COMMIT; a rolled-back savepoint's row is not
\o :nfile
BEGIN;
UPDATE nt SET v = 'b' WHERE id = 5;
SAVEPOINT s;
UPDATE nt SET v = 'c' WHERE id = 6;
ROLLBACK TO s;
DELETE FROM nt WHERE id = 7;
COMMIT;
\o
SELECT * FROM received(:'nfile');
-- a rolled-back transaction sends nothing
\o :nfile
BEGIN;
UPDATE nt SET v = 'd' WHERE id = 1;
DELETE FROM nt WHERE id = 2;
ROLLBACK;
\o
SELECT * FROM received(:'nfile');
SELECT count(*) AS queued FROM :"notices";
-- PREPARE TRANSACTION after a write: refused (PostgreSQL cannot NOTIFY from
-- a prepared transaction), nothing sent, nothing prepared
\o :nfile
BEGIN;
UPDATE nt SET v = 'p' WHERE id = 1;
PREPARE TRANSACTION 'nt_p';
\o
SELECT * FROM received(:'nfile');
SELECT count(*) AS prepared FROM pg_prepared_xacts WHERE gid = 'nt_p';
-- INSERT ... ON CONFLICT DO UPDATE, a writable CTE, MERGE (one transaction each)
\o :nfile
INSERT INTO nt VALUES (5, 'u') ON CONFLICT (id) DO UPDATE SET v = excluded.v;
WITH u AS (UPDATE nt SET v = 'cte' WHERE id = 6 RETURNING id) SELECT count(*) AS n FROM u \gset
MERGE INTO nt USING nt AS s ON nt.id = s.id AND s.id = 4 WHEN MATCHED THEN UPDATE SET v = 'merged';
\o
SELECT * FROM received(:'nfile');
-- COPY only inserts: no event
\o :nfile
COPY nt FROM stdin;
9	nine
10	ten
\.
\o
SELECT * FROM received(:'nfile');

-- acquire (a new grant): acquired, with holder, fence and expiry, no token
\o :nfile
SELECT token AS tok, fence AS f1 FROM reclock_acquire('nt', '3', 'alice') \gset
\o
SELECT * FROM received(:'nfile');
SELECT (regexp_match(pg_read_file(:'nfile'), '"fence": ([0-9]+)'))[1]::bigint = :f1 AS same_fence,
       position(:'tok' IN pg_read_file(:'nfile')) = 0 AS no_token;
-- the same holder again: an extension, no notice
\o :nfile
SELECT token AS tok2 FROM reclock_acquire('nt', '3', 'alice') \gset
\o
SELECT * FROM received(:'nfile');
-- a write without the token is refused: nothing sent
\o :nfile
\set VERBOSITY sqlstate
UPDATE nt SET v = 'e' WHERE id = 3;
\set VERBOSITY default
\o
SELECT * FROM received(:'nfile');
-- a write presenting the token (carried by hand: build plan step 5 is not
-- built): updated, naming the lock's holder and fence
\o :nfile
BEGIN;
SET LOCAL citus.propagate_set_commands = 'local';
SET LOCAL reclock.token = :'tok';
UPDATE nt SET v = 'f' WHERE id = 3;
COMMIT;
\o
SELECT * FROM received(:'nfile');
SELECT (regexp_match(pg_read_file(:'nfile'), '"fence": ([0-9]+)'))[1]::bigint = :f1 AS same_fence,
       position(:'tok' IN pg_read_file(:'nfile')) = 0 AS no_token;
-- release: released
\o :nfile
SELECT reclock_release(:'tok') AS released \gset
\o
\echo :released
SELECT * FROM received(:'nfile');
SELECT position(:'tok' IN pg_read_file(:'nfile')) = 0 AS no_token;
-- break: broken; a rolled-back acquire sends nothing
\o :nfile
SELECT acquired AS a4 FROM reclock_acquire('nt', '4', 'bob') \gset
SELECT reclock_break('nt', '4') AS broken \gset
BEGIN;
SELECT acquired AS a5 FROM reclock_acquire('nt', '5', 'carol') \gset
ROLLBACK;
\o
\echo :a4 :broken :a5
SELECT * FROM received(:'nfile');

-- a role of its own, through the coordinator: its notices too
CREATE ROLE nt_writer LOGIN;
GRANT SELECT, UPDATE, DELETE ON nt TO nt_writer;
SET ROLE nt_writer;
\o :nfile
UPDATE nt SET v = 'g' WHERE id = 6;
UPDATE nt SET v = 'h' WHERE id IN (5, 6);
\o
RESET ROLE;
SELECT * FROM received(:'nfile');

-- a direct write on a worker's shard is not the coordinator's: it notifies
-- the worker's own listeners (none here), and nothing is left queued
\o :nfile
SELECT count(*) AS written FROM run_command_on_placements('nt', 'UPDATE %s SET v = ''i'' WHERE id = 1') WHERE success \gset
\o
\echo :written
SELECT * FROM received(:'nfile');
SELECT count(*) AS queued FROM :"notices";
-- a write started on a worker (MX): that worker collects the notices of
-- the rows it wrote on the other worker, and its own listeners hear them
SELECT min(nt.id) FILTER (WHERE p.groupid = 1) AS near, min(nt.id) FILTER (WHERE p.groupid = 2) AS far
  FROM nt JOIN pg_dist_placement p ON p.shardid = get_shard_id_for_distribution_column('nt', nt.id) \gset
SELECT shard_name('nt', get_shard_id_for_distribution_column('nt', :near)) AS nearshard \gset
SELECT nodename AS w1host, nodeport AS w1port FROM pg_dist_node WHERE groupid = 1 \gset
\set chost :HOST
\set cport :PORT
\c reclock_citus postgres :w1host :w1port
\o :nfile
LISTEN reclock;
BEGIN;
UPDATE nt SET v = 'w' WHERE id = :far;
UPDATE nt SET v = 'w' WHERE id = :near;
COMMIT;
UPDATE nt SET v = 'x' WHERE id = :far;
\o
SELECT * FROM received(:'nfile');
SELECT count(*) AS queued FROM :"notices";
-- a transaction block that claims to be a coordinator's (Citus's
-- application_name for its connections: anyone can set it) and whose
-- notices nobody collects: refused at its COMMIT, never committed without
-- its notice
SET application_name = 'citus_internal gpid=1';
BEGIN;
UPDATE :nearshard SET v = 'y' WHERE id = :near;
COMMIT;
RESET application_name;
SELECT v FROM :nearshard WHERE id = :near;
-- switching notices is the coordinator's; back there
SELECT reclock_notify('nt', false);
\c reclock_citus postgres :chost :cport
LISTEN reclock;

-- notices off: the store goes, nothing is sent
SELECT reclock_notify('nt', false);
SELECT to_regclass(:'notices') IS NULL AS store_gone;
\o :nfile
UPDATE nt SET v = 'j' WHERE id = 1;
\o
SELECT * FROM received(:'nfile');
-- on again, then unprotect: the notices go with the stores
SELECT reclock_notify('nt');
SELECT reclock_unprotect('nt');
SELECT to_regclass(:'notices') IS NULL AS store_gone;
SELECT count(*) AS notifying FROM reclock_notify_store WHERE relid = 'nt'::regclass;
\o :nfile
UPDATE nt SET v = 'k' WHERE id = 1;
\o
SELECT * FROM received(:'nfile');
UNLISTEN reclock;
\! rm -f "$NFILE"
-- DROP TABLE of a table with notices drops its notice store too
SELECT reclock_protect('nt');
SELECT reclock_notify('nt');
SELECT format('reclock_store_%s_notices', 'nt'::regclass::oid) AS notices \gset
SELECT to_regclass(:'notices') IS NOT NULL AS store_made;
DROP TABLE nt;
SELECT to_regclass(:'notices') IS NULL AS store_gone;
DROP FUNCTION received(text);
DROP ROLE nt_writer;
