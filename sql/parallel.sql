--
-- parallel: every function's PARALLEL label is deliberate, and the readers
-- work in queries that PostgreSQL runs in parallel
--
\set VERBOSITY terse
\i sql/include/try.sql

-- the labels: writers unsafe, readers of the latest state restricted
SELECT p.proname, p.proparallel, p.provolatile
  FROM pg_proc p JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid
 WHERE d.refclassid = 'pg_extension'::regclass
   AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'reclock')
 ORDER BY 1;

CREATE TABLE par (id int PRIMARY KEY, v text);
INSERT INTO par SELECT g, 'x' FROM generate_series(1, 6) g;
CREATE TABLE par_tokens (id int, token uuid);
-- tokens of live locks (1-4), of a released lock (5), and a made-up one
INSERT INTO par_tokens SELECT g, (reclock_acquire('par', g::text, 'par holder')).token
  FROM generate_series(1, 5) g;
SELECT reclock_release(token) FROM par_tokens WHERE id = 5;
INSERT INTO par_tokens VALUES (6, '00000000-0000-0000-0000-000000000000');
-- and rows without a token, so that a parallel scan pays
INSERT INTO par_tokens SELECT g, NULL FROM generate_series(7, 5000) g;
ANALYZE par_tokens;

-- force_parallel_mode (15), debug_parallel_query (16 and later)
SELECT CASE WHEN current_setting('server_version_num')::int >= 160000
            THEN 'debug_parallel_query' ELSE 'force_parallel_mode' END AS force_parallel \gset
SELECT set_config(:'force_parallel', 'on', false);
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;

-- parallel scans by workers; reclock_valid runs above the Gather, in the
-- leader, which is in parallel mode for the whole query
EXPLAIN (COSTS OFF)
SELECT count(*) FROM (SELECT token FROM par_tokens OFFSET 0) s WHERE reclock_valid(token);
SELECT count(*) FROM (SELECT token FROM par_tokens OFFSET 0) s WHERE reclock_valid(token);
EXPLAIN (COSTS OFF) SELECT id, reclock_valid(token) FROM par_tokens WHERE id < 10 ORDER BY id;
SELECT id, reclock_valid(token) FROM par_tokens WHERE id < 10 ORDER BY id;
-- a filter that calls it is not run by the workers; the query still runs in
-- parallel mode (force_parallel_mode / debug_parallel_query)
EXPLAIN (COSTS OFF) SELECT count(*) FROM par_tokens WHERE reclock_valid(token);
SELECT count(*) FROM par_tokens WHERE reclock_valid(token);
SELECT reclock_valid(token) FROM par_tokens WHERE id = 5;
-- (that it reads the latest state, not the query's snapshot, in parallel
-- mode too, is the isolation spec parallel_valid)

-- reclock_diff, the other reader, in parallel mode too
EXPLAIN (COSTS OFF) SELECT reclock_diff('par', id::text, '{"v": "x"}') FROM par_tokens WHERE id = 1;
SELECT reclock_diff('par', id::text, '{"v": "y"}') FROM par_tokens WHERE id = 1;
-- ... and reclock_diff_children (PARALLEL RESTRICTED too: it reads through SPI in the leader)
CREATE TABLE par_kids (id int PRIMARY KEY, par_id int REFERENCES par, v text);
INSERT INTO par_kids VALUES (1, 1, 'x');
EXPLAIN (COSTS OFF) SELECT reclock_diff_children('par_kids', id::text, '[{"id": 1, "v": "x"}]') FROM par_tokens WHERE id = 1;
SELECT reclock_diff_children('par_kids', id::text, '[{"id": 1, "v": "y"}]') FROM par_tokens WHERE id = 1;
DROP TABLE par_kids;
-- and the view: its rows come from a function that runs in the leader
-- (it looks rows up as the caller under row-level security)
EXPLAIN (COSTS OFF) SELECT count(*) FROM reclock_locks WHERE holder = 'par holder';
SELECT count(*) FROM reclock_locks WHERE holder = 'par holder';

-- a writer is never run in parallel mode: the plan has no Gather
EXPLAIN (COSTS OFF) SELECT reclock_release(token) FROM par_tokens WHERE id = 1;
SELECT reclock_release(token) FROM par_tokens WHERE id = 1;

SELECT set_config(:'force_parallel', 'off', false);
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
RESET parallel_leader_participation;
DROP TABLE par, par_tokens;
