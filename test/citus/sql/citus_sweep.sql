--
-- citus_sweep: reclock_sweep() on the coordinator also sweeps the stores of
-- protected Citus tables (c6-view): it counts the locks dead by the
-- coordinator's clock, and at its transaction's commit deletes them (only
-- those dead by the row's node's clock too) with their token hashes, and the
-- routes of grants dead for longer than their grace (five minutes).  Nothing
-- is deleted if the transaction rolls back or is prepared.  (The nodes'
-- clocks are moved by reclock.test_clock_offset, carried to the workers as a
-- SET LOCAL; the isolation spec citus_sweep_waits shows that nobody waits.)
--
\set SHOW_CONTEXT never
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS reclock;
RESET client_min_messages;
SET citus.shard_count = 2;
SET citus.next_shard_id = 1991000;
CREATE TABLE sw (id int PRIMARY KEY, v text);
SELECT create_distributed_table('sw', 'id');
INSERT INTO sw SELECT g, 's' || g FROM generate_series(1, 6) g;
CREATE TABLE swr (id text PRIMARY KEY, v text);
SELECT create_reference_table('swr');
INSERT INTO swr VALUES ('a', 'x'), ('b', 'y'), ('c', 'z');
SELECT reclock_protect('sw');
SELECT reclock_protect('swr');
SELECT locks, tokens FROM reclock_citus_tables WHERE tbl = 'sw'::regclass \gset
SELECT locks AS rlocks, tokens AS rtokens FROM reclock_citus_tables WHERE tbl = 'swr'::regclass \gset
-- what other files left that is dead seven minutes from now
BEGIN;
SET LOCAL citus.propagate_set_commands = 'local';
SET LOCAL reclock.test_clock_offset = 420;
SELECT reclock_sweep() >= 0 AS swept_before;
COMMIT;

-- three grants of one minute (one re-entered: two hashes), one of an hour;
-- on the reference table one of each
SELECT acquired FROM reclock_acquire('sw', '1', 'alice', '1 min');
SELECT acquired FROM reclock_acquire('sw', '1', 'alice', '1 min');
SELECT acquired FROM reclock_acquire('sw', '2', 'alice', '1 min');
SELECT acquired FROM reclock_acquire('sw', '3', 'bob', '1 min');
SELECT acquired FROM reclock_acquire('sw', '4', 'carol', '1 hour');
SELECT acquired FROM reclock_acquire('swr', 'a', 'alice', '1 min');
SELECT acquired FROM reclock_acquire('swr', 'b', 'carol', '1 hour');
SELECT (SELECT count(*) FROM :locks) AS lock_rows, (SELECT count(*) FROM :tokens) AS hashes,
       (SELECT count(*) FROM :rlocks) AS ref_lock_rows, (SELECT count(*) FROM :rtokens) AS ref_hashes,
       (SELECT count(*) FROM reclock_citus_routes WHERE tbl = 'sw'::regclass) AS routes;

-- nothing is dead yet
SELECT reclock_sweep() AS swept;

-- seven minutes later on every node: counted at once, deleted at commit
BEGIN;
SET LOCAL citus.propagate_set_commands = 'local';
SET LOCAL reclock.test_clock_offset = 420;
SELECT reclock_sweep() AS swept;
SELECT (SELECT count(*) FROM :locks) AS lock_rows, (SELECT count(*) FROM :rlocks) AS ref_lock_rows;
ROLLBACK;
-- rolled back: nothing deleted
SELECT (SELECT count(*) FROM :locks) AS lock_rows, (SELECT count(*) FROM :rlocks) AS ref_lock_rows;
-- prepared: nothing deleted (as on one node)
BEGIN;
SET LOCAL reclock.test_clock_offset = 420;
SELECT reclock_sweep() AS swept;
PREPARE TRANSACTION 'citus_sweep';
COMMIT PREPARED 'citus_sweep';
SELECT (SELECT count(*) FROM :locks) AS lock_rows, (SELECT count(*) FROM :rlocks) AS ref_lock_rows;
-- dead by the coordinator's clock only: counted; the distributed table's
-- nodes keep theirs, the reference table's goes (by the coordinator's clock)
BEGIN;
SET LOCAL reclock.test_clock_offset = 420;
SELECT reclock_sweep() AS swept;
COMMIT;
SELECT (SELECT count(*) FROM :locks) AS lock_rows, (SELECT count(*) FROM :rlocks) AS ref_lock_rows;
-- dead on every node: deleted with their hashes and routes
BEGIN;
SET LOCAL citus.propagate_set_commands = 'local';
SET LOCAL reclock.test_clock_offset = 420;
SELECT reclock_sweep() AS swept;
COMMIT;
SELECT dist, key, holder FROM :locks ORDER BY dist;
SELECT l.holder, count(*) AS hashes FROM :tokens t JOIN :locks l USING (dist, fence) GROUP BY 1;
SELECT count(*) AS hashes FROM :tokens;
SELECT key, holder FROM :rlocks;
SELECT count(*) AS ref_hashes FROM :rtokens;
SELECT count(*) AS routes FROM reclock_citus_routes WHERE tbl = 'sw'::regclass;
-- every placement of the reference store alike
SELECT nodeport = (SELECT min(nodeport) FROM pg_dist_node) AS coordinator, result
  FROM run_command_on_placements(:'rlocks', 'SELECT string_agg(key, '','' ORDER BY key) FROM %s')
 ORDER BY nodeport;

-- autocommit: the same (a grant made by a worker's clock seven minutes
-- behind is dead on every node now)
BEGIN;
SET LOCAL citus.propagate_set_commands = 'local';
SET LOCAL reclock.test_clock_offset = -420;
SELECT acquired FROM reclock_acquire('sw', '5', 'dave', '1 min');
COMMIT;
SELECT reclock_sweep() AS swept;
SELECT dist, key, holder FROM :locks ORDER BY dist;

-- a sweep in a transaction that acquired as another role: Citus lets the
-- extension owner read no shard that role wrote in it; that table is left
-- out (a WARNING), the others are swept, the transaction commits
CREATE ROLE sw_app LOGIN;
GRANT SELECT, UPDATE ON sw, swr TO sw_app;
BEGIN;
SET LOCAL citus.propagate_set_commands = 'local';
SET LOCAL reclock.test_clock_offset = -420;
SELECT acquired FROM reclock_acquire('swr', 'c', 'erin', '1 min');
COMMIT;
BEGIN;
SET LOCAL ROLE sw_app;
SELECT acquired FROM reclock_acquire('sw', '2', 'frank', '1 hour');
SELECT reclock_sweep() AS swept;
COMMIT;
SELECT dist, key, holder FROM :locks ORDER BY dist;
SELECT key, holder FROM :rlocks ORDER BY key;

-- a worker sweeps its own lock table only
SELECT result FROM run_command_on_workers($$SELECT reclock_sweep()$$);

SELECT reclock_unprotect('sw');
SELECT reclock_unprotect('swr');
DROP TABLE sw, swr;
DROP OWNED BY sw_app;
DROP ROLE sw_app;
