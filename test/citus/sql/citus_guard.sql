--
-- citus_guard: the guard on the shards of a protected distributed table
-- judges each row by the lock store shard beside it, on the row's node
-- (docs/citus.md, build plan step 3).  Acquire through the coordinator is
-- not built yet (step 4): the locks here are written into the stores
-- directly, as a superuser (the test's helper); tokens reach the workers
-- with citus.propagate_set_commands = 'local' (reclock's own carry of
-- set_config() is step 5).  Every path Citus offers to write a row is
-- refused without the token: router, multi-shard, MERGE, ON CONFLICT,
-- INSERT ... SELECT ... ON CONFLICT, a writable CTE, and a role's direct
-- write of a shard on a worker.  Rows without a live lock pass.
--
\set SHOW_CONTEXT never
SET citus.shard_count = 4;
SET citus.next_shard_id = 1300000;
CREATE TABLE gd (id int PRIMARY KEY, v text);
SELECT create_distributed_table('gd', 'id');
INSERT INTO gd SELECT g, 'g' || g FROM generate_series(1, 8) g;
CREATE TABLE gsrc (id int PRIMARY KEY, v text);
SELECT create_distributed_table('gsrc', 'id', colocate_with => 'gd');
INSERT INTO gsrc SELECT g, 'src' || g FROM generate_series(1, 8) g;
SELECT reclock_protect('gd');
SELECT format('reclock_store_%s_locks', 'gd'::regclass::oid) AS locks,
       format('reclock_store_%s_tokens', 'gd'::regclass::oid) AS tokens \gset
\set tok1 '11111111-1111-1111-1111-111111111111'
\set tok3 '33333333-3333-3333-3333-333333333333'
-- live locks on rows 1 (alice) and 3 (bob), an expired one on row 5
INSERT INTO :"locks" VALUES
  (1, '1', 'alice', 'postgres', 101, now(), '2999-01-01 00:00:00+00'),
  (3, '3', 'bob', 'postgres', 103, now(), '2999-01-01 00:00:00+00'),
  (5, '5', 'carol', 'postgres', 105, now() - interval '2 hours', now() - interval '1 hour');
INSERT INTO :"tokens" VALUES
  (1, sha256(uuid_send(:'tok1')), 101),
  (3, sha256(uuid_send(:'tok3')), 103);
-- (the locks sit on the workers, beside their rows: none on the coordinator)
SELECT count(*) AS coordinator_shards FROM pg_class WHERE relname LIKE :'locks' || '\_%' AND relkind = 'r';

-- without the token: refused (55P03), by the guard on the row's worker
UPDATE gd SET v = 'x' WHERE id = 1;
\echo :SQLSTATE
DELETE FROM gd WHERE id = 3;
\echo :SQLSTATE
-- multi-shard (the shards are written in parallel: the first to refuse is named)
\set VERBOSITY sqlstate
UPDATE gd SET v = v || '!';
DELETE FROM gd WHERE id IN (1, 2);
\set VERBOSITY default
MERGE INTO gd USING gsrc ON gd.id = gsrc.id AND gsrc.id = 1
  WHEN MATCHED THEN UPDATE SET v = gsrc.v;
\echo :SQLSTATE
INSERT INTO gd VALUES (1, 'upsert') ON CONFLICT (id) DO UPDATE SET v = excluded.v;
\echo :SQLSTATE
INSERT INTO gd SELECT id, v FROM gsrc WHERE id = 3 ON CONFLICT (id) DO UPDATE SET v = excluded.v;
\echo :SQLSTATE
WITH u AS (UPDATE gd SET v = 'cte' WHERE id = 1 RETURNING id) SELECT count(*) FROM u;
\echo :SQLSTATE
-- a direct write of the shard on its worker (the row's node): refused too
SELECT shardid, success, result
  FROM run_command_on_placements('gd', $$UPDATE %s SET v = 'direct' WHERE id = 1$$)
 ORDER BY shardid;
-- TRUNCATE (its check fires on the coordinator): refused (0A000), not built yet
TRUNCATE gd;
\echo :SQLSTATE
-- nothing was written
SELECT * FROM gd ORDER BY id;

-- rows without a live lock (none, or expired) are written by anyone
UPDATE gd SET v = 'free' WHERE id IN (2, 5);
SELECT * FROM gd WHERE id IN (2, 5) ORDER BY id;

-- the holder's token, presented in the transaction, reaches the worker's
-- guard (as SET LOCAL, propagated by Citus)
BEGIN;
SET LOCAL citus.propagate_set_commands = 'local';
SET LOCAL reclock.token = :'tok1';
UPDATE gd SET v = 'alice' WHERE id = 1;
-- ... and counts for its own row only
UPDATE gd SET v = 'alice' WHERE id = 3;
ROLLBACK;
BEGIN;
SET LOCAL citus.propagate_set_commands = 'local';
SET LOCAL reclock.token = :'tok1';
UPDATE gd SET v = 'alice' WHERE id = 1;
COMMIT;
-- several tokens, a multi-shard write
BEGIN;
SET LOCAL citus.propagate_set_commands = 'local';
SELECT format('%s,%s', :'tok1', :'tok3') AS both_tokens \gset
SET LOCAL reclock.token = :'both_tokens';
UPDATE gd SET v = v || '+' WHERE id IN (1, 2, 3);
COMMIT;
-- the token does not outlive its transaction
UPDATE gd SET v = 'x' WHERE id = 1;
\echo :SQLSTATE
SELECT * FROM gd WHERE id IN (1, 2, 3) ORDER BY id;

-- require_lock: a row without a live lock is refused too
SELECT reclock_protect('gd', true);
UPDATE gd SET v = 'x' WHERE id = 2;
\echo :SQLSTATE
SELECT reclock_protect('gd');

-- a key change of a locked row: the lock cannot follow it yet (0A000)
CREATE TABLE gk (id int, n int, v text, PRIMARY KEY (id, n));
SELECT create_distributed_table('gk', 'id', colocate_with => 'gd');
INSERT INTO gk VALUES (1, 1, 'a'), (2, 1, 'b');
SELECT reclock_protect('gk');
SELECT format('reclock_store_%s_locks', 'gk'::regclass::oid) AS gk_locks,
       format('reclock_store_%s_tokens', 'gk'::regclass::oid) AS gk_tokens \gset
INSERT INTO :"gk_locks" VALUES (1, '(1,1)', 'alice', 'postgres', 201, now(), '2999-01-01 00:00:00+00');
INSERT INTO :"gk_tokens" VALUES (1, sha256(uuid_send(:'tok1')), 201);
BEGIN;
SET LOCAL citus.propagate_set_commands = 'local';
SET LOCAL reclock.token = :'tok1';
UPDATE gk SET v = 'kept' WHERE id = 1;
UPDATE gk SET n = 2 WHERE id = 1;
ROLLBACK;
-- onto a locked key (refused before the unique check would be)
INSERT INTO gk VALUES (1, 5, 'c');
UPDATE gk SET n = 1 WHERE id = 1 AND n = 5;
\echo :SQLSTATE
-- no live lock on either key: the key changes
UPDATE gk SET n = 6 WHERE id = 1 AND n = 5;
SELECT * FROM gk ORDER BY id, n;

-- a bulk UPDATE of 100 000 unlocked rows of a protected table works
CREATE TABLE big (id int PRIMARY KEY, v int);
SELECT create_distributed_table('big', 'id', colocate_with => 'gd');
INSERT INTO big SELECT g, 0 FROM generate_series(1, 100000) g;
SELECT reclock_protect('big');
UPDATE big SET v = v + 1;
SELECT count(*), sum(v) FROM big;

SELECT reclock_unprotect('big');
SELECT reclock_unprotect('gk');
SELECT reclock_unprotect('gd');
DROP TABLE big, gk, gsrc, gd;
