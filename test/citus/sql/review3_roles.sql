--
-- review3_roles: the role of a grant on a Citus reference table travels to
-- every node by its name and is read there as a regrole: a name with
-- capitals or quotes must name that role, not another (or none).
--
\set SHOW_CONTEXT never
\set VERBOSITY terse
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS reclock;
RESET client_min_messages;
SET citus.next_shard_id = 3930000;
CREATE TABLE q3 (id int PRIMARY KEY, v text);
SELECT create_reference_table('q3');
INSERT INTO q3 SELECT g, 'q' || g FROM generate_series(1, 3) g;
CREATE ROLE "Mixed" LOGIN;
CREATE ROLE mixed LOGIN;
CREATE ROLE "we""ird role" LOGIN;
GRANT SELECT, UPDATE ON q3 TO "Mixed", mixed, "we""ird role";
SELECT reclock_protect('q3');
SELECT format('reclock_store_%s_locks', 'q3'::regclass::oid) AS locks,
       (SELECT extnamespace::regnamespace FROM pg_extension WHERE extname = 'reclock') AS schema \gset
-- "Mixed" acquires: the grant is "Mixed"'s on every node
SET ROLE "Mixed";
SELECT acquired FROM reclock_acquire('q3', '1', 'h');
RESET ROLE;
SELECT nodeid, result FROM run_command_on_all_nodes(format($$SELECT acquired_by::text FROM %I.%I WHERE key = '1'$$, :'schema', :'locks')) ORDER BY nodeid;
-- mixed (another role) naming the same holder: refused, told the holder
SET ROLE mixed;
SELECT acquired, token IS NULL AS no_token, holder FROM reclock_acquire('q3', '1', 'h');
RESET ROLE;
-- a name with a quote and a space
SET ROLE "we""ird role";
SELECT acquired FROM reclock_acquire('q3', '2', 'w');
RESET ROLE;
SELECT nodeid, result FROM run_command_on_all_nodes(format($$SELECT acquired_by::text FROM %I.%I WHERE key = '2'$$, :'schema', :'locks')) ORDER BY nodeid;
