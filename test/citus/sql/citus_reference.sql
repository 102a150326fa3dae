--
-- citus_reference: every promise of the contract on a Citus reference table
-- (docs/citus.md F14, "Reference tables and Citus local tables").  A
-- reference row lives on every placement (coordinator and both workers);
-- protect makes reference lock and token stores whose trigger locks the
-- granted row on each node's placement, in the local transaction of that
-- node's grant (2PC).  The guard on every placement reads its own node's
-- store placement.  Tokens reach the workers here mostly by hand (SET LOCAL
-- with citus.propagate_set_commands = local), also by reclock's carry; the
-- coordinator's placement sees the session's token natively.
--
\set SHOW_CONTEXT never
SET citus.next_shard_id = 1900000;
CREATE TABLE rt (id int PRIMARY KEY, v text);
SELECT create_reference_table('rt');
INSERT INTO rt SELECT g, 'r' || g FROM generate_series(1, 5) g;
CREATE ROLE rt_app LOGIN;
GRANT SELECT, UPDATE, DELETE ON rt TO rt_app;
SELECT count(*) AS placements FROM pg_dist_placement p JOIN pg_dist_shard s USING (shardid)
 WHERE s.logicalrelid = 'rt'::regclass;

-- not protected: acquire refused (0A000)
SELECT * FROM reclock_acquire('rt', '1', 'alice');
\echo :SQLSTATE

-- protect: reference stores, their trigger, the registry row
SELECT reclock_protect('rt');
SELECT format('reclock_store_%s_locks', 'rt'::regclass::oid) AS locks,
       format('reclock_store_%s_tokens', 'rt'::regclass::oid) AS tokens,
       (SELECT extnamespace::regnamespace FROM pg_extension WHERE extname = 'reclock') AS schema \gset
SELECT c.relname = :'locks' AS is_locks, p.repmodel
  FROM pg_dist_partition p JOIN pg_class c ON c.oid = p.logicalrelid
 WHERE c.relname IN (:'locks', :'tokens') ORDER BY c.relname;
SELECT tbl FROM reclock_citus_tables WHERE tbl = 'rt'::regclass;
-- the meeting trigger on the lock store's placement of every node
SELECT nodeport > 0 AS on_node, result
  FROM run_command_on_all_nodes(format($$SELECT count(*) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
       WHERE c.relname LIKE '%s\_%%' AND t.tgname LIKE 'reclock_citus_ref_meet%%'$$, :'locks'))
  JOIN pg_dist_node USING (nodeid) ORDER BY nodeid;

-- the contract's errors of acquire, also on a reference table
SELECT * FROM reclock_acquire('rt', 'one', 'alice');
\echo :SQLSTATE
SELECT * FROM reclock_acquire('rt', '99', 'alice');
\echo :SQLSTATE
SELECT * FROM reclock_acquire('rt', '1', '');
\echo :SQLSTATE
CREATE ROLE rt_reader;
GRANT SELECT ON rt TO rt_reader;
SET ROLE rt_reader;
SELECT * FROM reclock_acquire('rt', '1', 'mallory');
\echo :SQLSTATE
RESET ROLE;

-- a grant: the same lock row on every node
SELECT acquired, token AS tok, holder, fence AS f1 FROM reclock_acquire('rt', '01', 'alice') \gset
\echo :acquired :holder
SELECT nodeid, result FROM run_command_on_all_nodes(format($$SELECT string_agg(key || ' ' || holder || ' ' || acquired_by || ' ' || (fence = %s) || ' ' || (expires_at > now()), ',')
       FROM %I.%I$$, :f1, :'schema', :'locks')) ORDER BY nodeid;
-- another holder is refused, told whose lock it is; another role naming
-- the same holder is another holder
SELECT acquired, token IS NULL AS no_token, holder, fence = :f1 AS same_fence FROM reclock_acquire('rt', '1', 'bob');
SET ROLE rt_app;
SELECT acquired, token IS NULL AS no_token, holder FROM reclock_acquire('rt', '1', 'alice');
RESET ROLE;

-- the guard on every placement: a Citus-routed write is refused (the
-- coordinator's placement runs first, in this session)
\set VERBOSITY sqlstate
UPDATE rt SET v = 'x' WHERE id = 1;
DELETE FROM rt WHERE id = 1;
\set VERBOSITY default
-- an upsert's UPDATE is guarded too
\set VERBOSITY sqlstate
INSERT INTO rt VALUES (1, 'upsert') ON CONFLICT (id) DO UPDATE SET v = excluded.v;
\set VERBOSITY default
-- without local execution (the coordinator's placement written over a
-- connection of Citus's): refused, and the grant made the same way
BEGIN;
SET LOCAL citus.enable_local_execution = off;
\set VERBOSITY sqlstate
UPDATE rt SET v = 'x' WHERE id = 1;
\set VERBOSITY default
ROLLBACK;
BEGIN;
SET LOCAL citus.enable_local_execution = off;
SELECT acquired, token AS tok_nl FROM reclock_acquire('rt', '2', 'nolocal') \gset
\echo :acquired
COMMIT;
SELECT nodeid, result FROM run_command_on_all_nodes(format($$SELECT string_agg(key || ' ' || holder, ',') FROM %I.%I WHERE key = '2'$$, :'schema', :'locks')) ORDER BY nodeid;
BEGIN;
SET LOCAL citus.enable_local_execution = off;
SET LOCAL citus.propagate_set_commands = 'local';
SET LOCAL reclock.token = :'tok_nl';
UPDATE rt SET v = 'nolocal' WHERE id = 2;
COMMIT;
SELECT reclock_release(:'tok_nl') AS released_nl;
-- a direct write of each node's placement, as the application role
SET ROLE rt_app;
SELECT nodeport > 0 AS node, success, regexp_replace(result, 'until .*', 'until ...') AS result
  FROM run_command_on_placements('rt', $$UPDATE %s SET v = 'direct' WHERE id = 1$$)
 ORDER BY nodeport;
-- a free row passes everywhere
SELECT nodeport > 0 AS node, success, result
  FROM run_command_on_placements('rt', $$UPDATE %s SET v = 'direct' WHERE id = 2$$)
 ORDER BY nodeport;
RESET ROLE;
-- with the token (the coordinator's placement natively, the workers by a
-- carried SET LOCAL): passes on every placement
BEGIN;
SET LOCAL citus.propagate_set_commands = 'local';
SET LOCAL reclock.token = :'tok';
UPDATE rt SET v = 'alice' WHERE id = 1;
COMMIT;
SELECT nodeid, result FROM run_command_on_all_nodes($$SELECT v FROM rt_1900000 WHERE id = 1$$) ORDER BY nodeid;
-- a token presented with set_config on the coordinator: reclock's carry
-- (cituscarry.c) takes it to the workers, so every placement passes
BEGIN;
SELECT set_config('reclock.token', :'tok', true) IS NOT NULL AS presented;
\set VERBOSITY sqlstate
UPDATE rt SET v = 'coordinator only' WHERE id = 1;
\set VERBOSITY default
ROLLBACK;
-- the token on a worker, direct write by the application role
SET ROLE rt_app;
SELECT nodeport > 0 AS node, success, result
  FROM run_command_on_placements('rt', format('DO $d$BEGIN PERFORM set_config(''reclock.token'', %L, true); UPDATE %%s SET v = ''direct alice'' WHERE id = 1; END$d$', :'tok'))
 ORDER BY nodeport;
RESET ROLE;

-- the same holder again: extended, same fence, fresh token; both count
SELECT acquired, fence = :f1 AS same_fence, token <> :'tok' AS new_token, token AS tok2
  FROM reclock_acquire('rt', '1', 'alice', '1 hour') \gset
\echo :acquired :same_fence :new_token
SELECT nodeid, result FROM run_command_on_all_nodes(format($$SELECT count(*) || ' ' || bool_and(expires_at > now() + interval '50 minutes') FROM %I.%I$$, :'schema', :'locks')) ORDER BY nodeid;
BEGIN;
SET LOCAL citus.propagate_set_commands = 'local';
SET LOCAL reclock.token = :'tok2';
UPDATE rt SET v = 'alice2' WHERE id = 1;
COMMIT;

-- reclock.reentry = token: the same holder re-enters only with a token of
-- the grant (either of them) presented in its transaction
SET reclock.reentry = token;
SELECT acquired, token IS NULL AS no_token, holder FROM reclock_acquire('rt', '1', 'alice');
BEGIN;
SELECT set_config('reclock.token', :'tok', true) IS NOT NULL AS presented;
SELECT acquired, fence = :f1 AS same_fence, token AS tok2b FROM reclock_acquire('rt', '1', 'alice', '1 hour') \gset
\echo :acquired :same_fence
COMMIT;
BEGIN;
SELECT set_config('reclock.token', gen_random_uuid()::text, true) IS NOT NULL AS presented_other;
SELECT acquired, token IS NULL AS no_token FROM reclock_acquire('rt', '1', 'alice');
COMMIT;
RESET reclock.reentry;

-- valid, refresh (every node), release
SELECT reclock_valid(:'tok') AS valid, reclock_valid(:'tok2') AS valid2;
SELECT reclock_refresh(:'tok', '2 hours') > now() + interval '110 minutes' AS refreshed;
SELECT nodeid, result FROM run_command_on_all_nodes(format($$SELECT bool_and(expires_at > now() + interval '110 minutes') FROM %I.%I$$, :'schema', :'locks')) ORDER BY nodeid;
SELECT reclock_refresh(gen_random_uuid()) IS NULL AS unknown_null;
SELECT reclock_release(:'tok2') AS released;
SELECT reclock_valid(:'tok') AS valid_after_release;
SELECT reclock_refresh(:'tok') IS NULL AS dead_not_refreshed;
SELECT nodeid, result FROM run_command_on_all_nodes(format($$SELECT count(*) FROM %I.%I WHERE expires_at > now()$$, :'schema', :'locks')) ORDER BY nodeid;
UPDATE rt SET v = 'free again' WHERE id = 1;

-- a refresh, or a same-holder acquire, that reaches a node after the grant
-- ran out there by that node's clock fails (40001) instead of reviving it
-- (the workers' clock moved 2 minutes on by a carried SET LOCAL, the
-- coordinator's put back by a set_config that is not carried)
SELECT token AS tok6, expires_at AS exp6 FROM reclock_acquire('rt', '2', 'frank', '1 min') \gset
BEGIN;
SET LOCAL citus.propagate_set_commands = 'local';
SET LOCAL reclock.test_clock_offset = 120;
SELECT set_config('reclock.test_clock_offset', '0', true) AS coordinator_offset;
\set VERBOSITY sqlstate
SELECT reclock_refresh(:'tok6', '10 min') IS NOT NULL AS refreshed;
\set VERBOSITY default
ROLLBACK;
BEGIN;
SET LOCAL citus.propagate_set_commands = 'local';
SET LOCAL reclock.test_clock_offset = 120;
SELECT set_config('reclock.test_clock_offset', '0', true) AS coordinator_offset;
\set VERBOSITY sqlstate
SELECT acquired FROM reclock_acquire('rt', '2', 'frank', '10 min');
\set VERBOSITY default
ROLLBACK;
SELECT nodeid, result FROM run_command_on_all_nodes(format($$SELECT expires_at = %L::timestamptz FROM %I.%I WHERE key = '2'$$, :'exp6', :'schema', :'locks')) ORDER BY nodeid;
-- acquire and write in one transaction (the grant's connections are reused)
BEGIN;
SELECT acquired, token AS tok7 FROM reclock_acquire('rt', '4', 'gina') \gset
SET LOCAL citus.propagate_set_commands = 'local';
SET LOCAL reclock.token = :'tok7';
UPDATE rt SET v = 'gina' WHERE id = 4;
COMMIT;
SELECT nodeid, result FROM run_command_on_all_nodes($$SELECT v FROM rt_1900000 WHERE id = 4$$) ORDER BY nodeid;
SELECT reclock_release(:'tok6') AS released6, reclock_release(:'tok7') AS released7;
-- while a grant is in flight, its row is locked on every node's placement
-- (the lock store's trigger): a direct write of any placement waits (here:
-- gives up after lock_timeout), a write of another row does not
BEGIN;
SELECT acquired, token AS tok8 FROM reclock_acquire('rt', '3', 'hank') \gset
SELECT nodeport > 0 AS node, success, result
  FROM run_command_on_placements('rt', 'DO $d$BEGIN SET LOCAL lock_timeout = ''300ms''; UPDATE %s SET v = ''direct'' WHERE id = 3; END$d$')
 ORDER BY nodeport;
SELECT nodeport > 0 AS node, success, result
  FROM run_command_on_placements('rt', 'DO $d$BEGIN SET LOCAL lock_timeout = ''300ms''; UPDATE %s SET v = ''direct'' WHERE id = 2; END$d$')
 ORDER BY nodeport;
COMMIT;
SELECT reclock_release(:'tok8') AS released8;
-- the grant's values reach the workers as text: printed exactly whatever
-- the session's DateStyle, so every node stores the same expiry
SET DateStyle = 'SQL, DMY';
SELECT acquired, token AS tok9, extract(epoch FROM expires_at) AS exp9 FROM reclock_acquire('rt', '2', 'dmy') \gset
SELECT extract(epoch FROM reclock_refresh(:'tok9', '10 min')) AS exp9r \gset
RESET DateStyle;
SELECT nodeid, result FROM run_command_on_all_nodes(format($$SELECT extract(epoch FROM expires_at) = %s FROM %I.%I WHERE key = '2'$$, :exp9r, :'schema', :'locks')) ORDER BY nodeid;
SELECT :exp9r > :exp9 AS later, reclock_release(:'tok9') AS released9;
-- acquire on a worker: refused
SELECT result FROM run_command_on_workers($$SELECT reclock_acquire('rt', '1', 'w')$$);

-- a new grant gets a larger fence; a rolled-back grant leaves nothing
SELECT acquired, fence > :f1 AS larger_fence, token AS tok3 FROM reclock_acquire('rt', '3', 'carol') \gset
BEGIN;
SELECT acquired FROM reclock_acquire('rt', '4', 'dave');
ROLLBACK;
SELECT nodeid, result FROM run_command_on_all_nodes(format($$SELECT string_agg(key, ',' ORDER BY key) FROM %I.%I WHERE expires_at > now()$$, :'schema', :'locks')) ORDER BY nodeid;

-- break (the owner): the lock gone on every node
SELECT reclock_break('rt', '3') AS broken;
SELECT reclock_break('rt', '3') AS broken_again;
SELECT nodeid, result FROM run_command_on_all_nodes(format($$SELECT count(*) FROM %I.%I WHERE expires_at > now()$$, :'schema', :'locks')) ORDER BY nodeid;
UPDATE rt SET v = 'after break' WHERE id = 3;

-- require_lock and key changes
SELECT acquired, token AS tok5 FROM reclock_acquire('rt', '5', 'erin') \gset
\set VERBOSITY sqlstate
UPDATE rt SET id = 50 WHERE id = 5;
\set VERBOSITY default
BEGIN;
SET LOCAL citus.propagate_set_commands = 'local';
SET LOCAL reclock.token = :'tok5';
UPDATE rt SET id = 50 WHERE id = 5;
ROLLBACK;

-- TRUNCATE: refused while a lock lives (through Citus, and directly on a
-- worker's placement); let through once none does
TRUNCATE rt;
\echo :SQLSTATE
SELECT nodeport > 0 AS node, success, result
  FROM run_command_on_placements('rt', 'DO $d$BEGIN SET LOCAL citus.enable_manual_changes_to_shards = on; TRUNCATE %s; END$d$') ORDER BY nodeport;
SELECT reclock_release(:'tok5') AS released;
SELECT count(*) AS rows_kept FROM rt;
TRUNCATE rt;
SELECT nodeid, result FROM run_command_on_all_nodes($$SELECT count(*) FROM rt_1900000$$) ORDER BY nodeid;

-- a table name Citus shortens and hashes in its placements' names
CREATE TABLE rt_with_a_name_long_enough_that_citus_hashes_its_shard_names_x (id int PRIMARY KEY, v text);
SELECT create_reference_table('rt_with_a_name_long_enough_that_citus_hashes_its_shard_names_x');
INSERT INTO rt_with_a_name_long_enough_that_citus_hashes_its_shard_names_x VALUES (1, 'a');
SELECT reclock_protect('rt_with_a_name_long_enough_that_citus_hashes_its_shard_names_x');
SELECT acquired FROM reclock_acquire('rt_with_a_name_long_enough_that_citus_hashes_its_shard_names_x', '1', 'ivy');
\set VERBOSITY sqlstate
UPDATE rt_with_a_name_long_enough_that_citus_hashes_its_shard_names_x SET v = 'x' WHERE id = 1;
\set VERBOSITY default
-- a protected Citus table is not dropped while it has a live lock (undistribute_table
-- drops it too, and would leave a guard without its locks): refused, then broken, dropped
\set VERBOSITY terse
DROP TABLE rt_with_a_name_long_enough_that_citus_hashes_its_shard_names_x;
\set VERBOSITY default
SELECT reclock_break('rt_with_a_name_long_enough_that_citus_hashes_its_shard_names_x', '1');
DROP TABLE rt_with_a_name_long_enough_that_citus_hashes_its_shard_names_x;

-- unprotect drops the stores everywhere; DROP TABLE too
SELECT reclock_unprotect('rt');
SELECT nodeid, result FROM run_command_on_all_nodes(format($$SELECT count(*) FROM pg_class WHERE relname LIKE '%s%%'$$, :'locks')) ORDER BY nodeid;
SELECT count(*) AS registry FROM reclock_citus_tables WHERE tbl = 'rt'::regclass;
SELECT reclock_protect('rt');
SELECT format('reclock_store_%s_locks', 'rt'::regclass::oid) AS locks \gset
DROP TABLE rt;
SELECT nodeid, result FROM run_command_on_all_nodes(format($$SELECT count(*) FROM pg_class WHERE relname LIKE '%s%%'$$, :'locks')) ORDER BY nodeid;
DROP ROLE rt_app;
DROP ROLE rt_reader;
