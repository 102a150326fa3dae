--
-- citus_preload: a distributed table is protected and locked only through
-- the coordinator, and only where reclock is preloaded there
-- (shared_preload_libraries = 'citus,reclock'): the hooks that carry a
-- transaction's tokens to the workers must be in every backend from its
-- first statement.  run.sh runs this file first, with the coordinator
-- preloading citus alone (the workers preload both), then restarts the
-- coordinator with reclock preloaded for the other files.
--
\set SHOW_CONTEXT never
SET citus.shard_count = 4;
SET citus.next_shard_id = 1100000;
CREATE EXTENSION reclock;
SHOW shared_preload_libraries;
CREATE TABLE pre (id int PRIMARY KEY, v text);
SELECT create_distributed_table('pre', 'id');
INSERT INTO pre SELECT g, 'p' || g FROM generate_series(1, 4) g;
-- not preloaded on the coordinator: protect and acquire refuse, saying why
SELECT reclock_protect('pre');
\echo :SQLSTATE
SELECT * FROM reclock_acquire('pre', '1', 'alice');
\echo :SQLSTATE
-- on a worker (which holds Citus's metadata, and preloads reclock): refused,
-- whatever the worker's preload
SELECT success, result FROM run_command_on_workers($$SHOW shared_preload_libraries$$);
SELECT success, result FROM run_command_on_workers($$SELECT reclock_protect('pre')$$);
SELECT success, result FROM run_command_on_workers($$SELECT acquired FROM reclock_acquire('pre', '1', 'alice')$$);
-- nothing was attached anywhere
SELECT count(*) AS triggers FROM pg_trigger WHERE tgrelid = 'pre'::regclass AND tgname LIKE 'reclock%';
SELECT success, result FROM run_command_on_workers($$SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'reclock%'$$);
DROP TABLE pre;
DROP EXTENSION reclock;
