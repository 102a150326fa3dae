--
-- review_fence: a token is honoured on a row when the token store row of
-- its hash (beside the row, by distribution value) has the fence of the
-- row's live lock.  reclock_citus_grant, the worker side of acquire, takes
-- its fence from its caller: the coordinator's sequence, or any role with
-- UPDATE on the table that routes the same statement through the
-- coordinator itself (or calls it on a worker).  In a table whose key has
-- more than the distribution column (tenant, id), such a role granted
-- itself another row of the tenant under the fence of alice's lock, and its
-- own token then wrote alice's row.  No two lock rows of one distribution
-- value may share a fence.
--
\set SHOW_CONTEXT never
\set VERBOSITY terse
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS reclock;
RESET client_min_messages;
SET citus.shard_count = 4;
SET citus.next_shard_id = 1910000;
CREATE ROLE fe_alice LOGIN;
CREATE ROLE fe_mallory LOGIN;
CREATE TABLE fe (tenant int, id int, v text, PRIMARY KEY (tenant, id));
SELECT create_distributed_table('fe', 'tenant');
INSERT INTO fe SELECT 1, g, 'v' || g FROM generate_series(1, 4) g;
GRANT SELECT, UPDATE ON fe TO fe_alice, fe_mallory;
SELECT reclock_protect('fe');

SET ROLE fe_alice;
SELECT acquired FROM reclock_acquire('fe', '(1,2)', 'alice');
-- mallory is refused, and told the lock's fence
SET ROLE fe_mallory;
SELECT acquired, holder, fence AS alice_fence FROM reclock_acquire('fe', '(1,2)', 'mallory') \gset
\echo :acquired :holder
-- mallory's own grant of row (1,3), under alice's fence, routed as acquire routes it
\set VERBOSITY sqlstate
SELECT g.reclock_acquired
  FROM fe, LATERAL reclock_citus_grant(tableoid, '(1,3)', 'mallory', 60000000, :alice_fence,
       sha256(uuid_send('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa')), false, '{}') g
 WHERE tenant = 1 AND id = 3;
\set VERBOSITY terse
-- ... and its token does not write alice's row
BEGIN;
SET LOCAL citus.propagate_set_commands = 'local';
SET LOCAL reclock.token = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa';
\set VERBOSITY sqlstate
UPDATE fe SET v = 'mallory' WHERE tenant = 1 AND id = 2;
\set VERBOSITY terse
COMMIT;
RESET ROLE;
SELECT * FROM fe ORDER BY tenant, id;
-- (and two grants in flight with one fence meet at a unique index)
SELECT indexdef LIKE 'CREATE UNIQUE INDEX % (dist, fence)' AS unique_fence
  FROM pg_indexes
 WHERE tablename = format('reclock_store_%s_locks', 'fe'::regclass::oid) AND indexdef LIKE '%fence%';

SELECT reclock_break('fe', '(1,2)') AS broken;
DROP TABLE fe;
DROP ROLE fe_alice, fe_mallory;
