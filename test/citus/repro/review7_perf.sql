--
-- REPRO (review2, 2026-12-06), not fixed: a measurement, not a test.
--   cp test/citus/repro/review7_perf.sql test/citus/sql/ &&
--   CITUS_TESTS=review7_perf CITUS_SPECS= CITUS_SCRIPTS= RECLOCK_CHROOTS=... make test-citus PG_MAJOR=17
--
-- c6-addnode: on a worker, the guard finds a protected table's stores by its
-- guard trigger and then checks that no other table of the co-location
-- group names them (table_of_stem: for EVERY table of the group, an index
-- scan of pg_trigger), once per transaction and shard (last_stores keeps one
-- shard).  So a guarded write costs more the more tables share the group:
-- with Citus's default co-location (same shard count and distribution
-- type) or a multi-tenant schema (every table by tenant), that is every
-- table.  Seen on main 604d25a (2 shards, 300 single-row UPDATEs through
-- the coordinator, each its own transaction, the shared 2-core machine):
--   group of 4 tables:   guarded 0.23 s, unguarded 0.16 s
--   group of 304 tables: guarded 0.77 s, unguarded 0.15 s
-- about 6 us more per guarded write transaction and shard per table of the
-- group.  A reference table's group holds every reference table
-- (ReclockCitusTableOfStores), the same there.
--
\set SHOW_CONTEXT never
\set VERBOSITY terse
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS reclock;
SET citus.shard_count = 2;
SET citus.next_shard_id = 1979000;
CREATE TABLE pf (id int PRIMARY KEY, v text);
SELECT create_distributed_table('pf', 'id');
INSERT INTO pf SELECT g, 'v' || g FROM generate_series(1, 20) g;
CREATE TABLE pf_plain (id int PRIMARY KEY, v text);
SELECT create_distributed_table('pf_plain', 'id', colocate_with => 'pf');
INSERT INTO pf_plain SELECT g, 'v' || g FROM generate_series(1, 20) g;
SELECT reclock_protect('pf');
-- 300 single-row UPDATEs, each its own transaction
SELECT clock_timestamp() AS t0 \gset
SELECT format('UPDATE pf SET v = %L WHERE id = %s', 'x' || g, g % 20 + 1) FROM generate_series(1, 300) g \gexec
SELECT clock_timestamp() AS t1 \gset
SELECT format('UPDATE pf_plain SET v = %L WHERE id = %s', 'x' || g, g % 20 + 1) FROM generate_series(1, 300) g \gexec
SELECT clock_timestamp() AS t2 \gset
SELECT 'guarded, group of 4' AS what, (:'t1'::timestamptz - :'t0'::timestamptz) AS guarded, (:'t2'::timestamptz - :'t1'::timestamptz) AS plain;
-- 300 more tables in the group
SELECT format('CREATE TABLE pf_x%s (id int PRIMARY KEY)', g) FROM generate_series(1, 300) g \gexec
SELECT format('SELECT create_distributed_table(''pf_x%s'', ''id'', colocate_with => ''pf'')', g) FROM generate_series(1, 300) g \gexec
SELECT clock_timestamp() AS t0 \gset
SELECT format('UPDATE pf SET v = %L WHERE id = %s', 'y' || g, g % 20 + 1) FROM generate_series(1, 300) g \gexec
SELECT clock_timestamp() AS t1 \gset
SELECT format('UPDATE pf_plain SET v = %L WHERE id = %s', 'y' || g, g % 20 + 1) FROM generate_series(1, 300) g \gexec
SELECT clock_timestamp() AS t2 \gset
SELECT 'guarded, group of 304' AS what, (:'t1'::timestamptz - :'t0'::timestamptz) AS guarded, (:'t2'::timestamptz - :'t1'::timestamptz) AS plain;
