--
-- review4_roles: an acquire or refresh by a role that is not the store
-- owner, in one transaction with that role's own writes of the row's shard
-- group.  The routed no-op DELETE that makes a grant's worker part count as
-- a write (c-moves) ran as the store owner, over a connection of its own
-- (Citus keeps one per user), and Citus then refused the role's writes of
-- those placements in that transaction: "cannot perform query on
-- placements that were modified in this transaction by a different user".
--
\set SHOW_CONTEXT never
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS reclock;
RESET client_min_messages;
SET citus.shard_count = 2;
SET citus.next_shard_id = 1960000;
CREATE TABLE r6 (id int PRIMARY KEY, v text);
SELECT create_distributed_table('r6', 'id');
INSERT INTO r6 SELECT g, 'v' || g FROM generate_series(1, 20) g;
SELECT reclock_protect('r6');
CREATE ROLE r6w LOGIN;
GRANT SELECT, UPDATE ON r6 TO r6w;
-- rows of one shard
SELECT array_agg(id ORDER BY id) AS ids FROM r6
 WHERE get_shard_id_for_distribution_column('r6', id) = get_shard_id_for_distribution_column('r6', 1) \gset
SELECT (:'ids'::int[])[1] AS a, (:'ids'::int[])[2] AS b, (:'ids'::int[])[3] AS c, (:'ids'::int[])[4] AS d \gset
SET ROLE r6w;
-- acquire, then write another row of its shard
BEGIN;
SELECT holder FROM reclock_acquire('r6', :'a', 'alice');
UPDATE r6 SET v = 'after acquire' WHERE id = :b;
COMMIT;
-- write, then acquire a row of its shard
BEGIN;
UPDATE r6 SET v = 'before acquire' WHERE id = :c;
SELECT holder FROM reclock_acquire('r6', :'c', 'bob');
COMMIT;
-- refresh, then write another row of its shard
SELECT token AS tok FROM reclock_acquire('r6', :'d', 'carol') \gset
BEGIN;
SELECT reclock_refresh(:'tok', '5 min') > now() AS refreshed;
UPDATE r6 SET v = 'after refresh' WHERE id = :b;
COMMIT;
RESET ROLE;
SELECT id = :b AS is_b, v FROM r6 WHERE id IN (:b, :c) ORDER BY id = :b;
