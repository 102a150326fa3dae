--
-- review3_owner: a table owner who is not a superuser protects, uses and
-- unprotects Citus tables (reference and distributed).  reclock_protect made
-- the stores as the extension owner and the table's triggers as the caller,
-- in one transaction, and Citus refused the second user on placements of the
-- same co-location group (25001): no non-superuser could protect a Citus table.
--
\set SHOW_CONTEXT never
\set VERBOSITY terse
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS reclock;
RESET client_min_messages;
SET citus.next_shard_id = 3960000;
SET citus.shard_count = 2;
CREATE ROLE ow3_owner LOGIN;
CREATE ROLE ow3_app LOGIN;
CREATE SCHEMA ow3 AUTHORIZATION ow3_owner;
GRANT USAGE ON SCHEMA ow3 TO ow3_app;
SET ROLE ow3_owner;
CREATE TABLE ow3.t (id int PRIMARY KEY, v text);
SELECT create_reference_table('ow3.t');
INSERT INTO ow3.t SELECT g, 'x' FROM generate_series(1, 3) g;
CREATE TABLE ow3.d (id int PRIMARY KEY, v text);
SELECT create_distributed_table('ow3.d', 'id');
INSERT INTO ow3.d SELECT g, 'x' FROM generate_series(1, 3) g;
GRANT SELECT, UPDATE ON ow3.t, ow3.d TO ow3_app;
RESET ROLE;
-- the owner protects each, in a session of its own
\c -
SET ROLE ow3_owner;
SELECT reclock_protect('ow3.t');
\c -
SET ROLE ow3_owner;
SELECT reclock_protect('ow3.d');
-- every node has the guard and the TRUNCATE check on the placements
SELECT nodeid, result FROM run_command_on_all_nodes($$SELECT string_agg(c.relname || ':' || t.tgname, ',' ORDER BY c.relname, t.tgname) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'ow3' AND NOT t.tgisinternal AND c.relname IN ('t', 'd', 't_3960000')$$) ORDER BY nodeid;
-- the owner's locks hold against the app role
SELECT acquired FROM reclock_acquire('ow3.t', '1', 'owner');
SELECT acquired FROM reclock_acquire('ow3.d', '1', 'owner');
RESET ROLE;
SET ROLE ow3_app;
\set VERBOSITY sqlstate
UPDATE ow3.t SET v = 'y' WHERE id = 1;
UPDATE ow3.d SET v = 'y' WHERE id = 1;
\set VERBOSITY terse
UPDATE ow3.t SET v = 'y' WHERE id = 2;
UPDATE ow3.d SET v = 'y' WHERE id = 2;
RESET ROLE;
-- the owner unprotects (its locks go with the stores)
\c -
SET ROLE ow3_owner;
SELECT reclock_unprotect('ow3.t');
\echo :SQLSTATE
\c -
SET ROLE ow3_owner;
SET citus.enable_unsafe_triggers = on;
SELECT reclock_unprotect('ow3.d');
\echo :SQLSTATE
RESET ROLE;
SELECT count(*) FROM reclock_citus_tables WHERE tbl::text LIKE 'ow3.%';
