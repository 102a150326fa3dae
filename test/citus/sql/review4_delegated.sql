--
-- review4_delegated: a write of a table with change notices made by a
-- function call Citus delegates to a worker (in a backend of Citus's
-- internal connections) cannot have its notices collected: not there (Citus
-- refuses a distributed query in such a backend at its commit) nor by the
-- coordinator (it does not know which tables the function writes).  Refused
-- at the statement with reclock's 0A000, before anything is written, rather
-- than at the worker's commit with Citus's nested-execution error (XX000)
-- or a COMMIT that fails on the worker.
--
\set SHOW_CONTEXT never
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS reclock;
RESET client_min_messages;
SET citus.shard_count = 4;
SET citus.next_shard_id = 1970000;
CREATE TABLE r7 (id int PRIMARY KEY, v text);
SELECT create_distributed_table('r7', 'id');
INSERT INTO r7 SELECT g, 'v' || g FROM generate_series(1, 8) g;
SELECT reclock_protect('r7');
SELECT reclock_notify('r7');
\set nfile `mktemp /tmp/review4_delegated.XXXXXX`
\setenv NFILE :nfile
\! chmod 644 "$NFILE"
CREATE FUNCTION r7_received(f text) RETURNS SETOF text LANGUAGE sql AS $$
  SELECT regexp_replace(l, 'PID [0-9]+', 'PID n')
    FROM unnest(string_to_array(rtrim(pg_read_file(f), E'\n'), E'\n')) l
$$;
CREATE FUNCTION r7_set(k int) RETURNS void LANGUAGE plpgsql AS $$
BEGIN UPDATE r7 SET v = 'f' || k WHERE id = k; END $$;
SELECT create_distributed_function('r7_set(int)', 'k', colocate_with => 'r7');
LISTEN reclock;
-- delegated in autocommit: refused, the row unchanged, nothing heard
\o :nfile
SELECT r7_set(1);
\o
\echo :SQLSTATE
SELECT * FROM r7_received(:'nfile') AS received;
SELECT v FROM r7 WHERE id = 1;
-- in a transaction block Citus runs it on the coordinator: heard at COMMIT
\o :nfile
BEGIN;
SELECT r7_set(2);
COMMIT;
\o
SELECT * FROM r7_received(:'nfile') AS received;
-- forced delegation in a transaction block: refused at the call, nothing
-- committed (the coordinator's own write in the block with it)
SELECT create_distributed_function('r7_set(int)', 'k', colocate_with => 'r7', force_delegation => true);
CREATE TABLE r7_local (n int);
\o :nfile
BEGIN;
INSERT INTO r7_local VALUES (1);
SELECT r7_set(3);
COMMIT;
\o
SELECT * FROM r7_received(:'nfile') AS received;
SELECT v FROM r7 WHERE id = 3;
SELECT count(*) AS local_rows FROM r7_local;
-- a command run_command_on_workers sends is not in a backend of Citus's
-- internal connections: a write started on the worker (MX), allowed
SELECT bool_or(success) AS written
  FROM run_command_on_workers('UPDATE public.r7 SET v = ''w'' WHERE id = 4');
SELECT v FROM r7 WHERE id = 4;
UNLISTEN *;
SELECT reclock_notify('r7', false);
DROP FUNCTION r7_set(int);
DROP TABLE r7, r7_local;
