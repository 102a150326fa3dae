CREATE TABLE IF NOT EXISTS worker_local_grants (id int, port int);
SELECT run_command_on_workers('CREATE TABLE IF NOT EXISTS worker_local_grants (id int, port int)');
CREATE OR REPLACE FUNCTION grant_here(k int) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO worker_local_grants VALUES (k, inet_server_port());
  RETURN format('port %s pid %s xid %s app %s', inet_server_port(), pg_backend_pid(), txid_current(), current_setting('application_name'));
END $$;
\echo === router SELECT with a function in the target list, FOR UPDATE, in BEGIN..ROLLBACK
BEGIN;
SELECT grant_here(id) FROM orders WHERE id = 1 FOR UPDATE;
ROLLBACK;
SELECT run_command_on_workers('SELECT count(*) FROM worker_local_grants');
\echo === same, autocommit
SELECT grant_here(id) FROM orders WHERE id = 1 FOR UPDATE;
SELECT run_command_on_workers('SELECT count(*) FROM worker_local_grants');
\echo === reference table SELECT FOR UPDATE: which placements are locked
BEGIN;
SELECT * FROM ref WHERE id = 1 FOR UPDATE;
SELECT run_command_on_all_nodes($$SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE a.application_name LIKE 'citus_internal%' AND l.locktype = 'transactionid' AND l.mode = 'ExclusiveLock'$$);
SELECT pg_backend_pid();
COMMIT;
