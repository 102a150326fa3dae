\set SHOW_CONTEXT never
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS reclock;
RESET client_min_messages;
SET citus.shard_count = 4;
SET citus.next_shard_id = 1990000;
CREATE TABLE r9 (id int PRIMARY KEY, v text);
SELECT create_distributed_table('r9', 'id');
INSERT INTO r9 SELECT g, 'v' || g FROM generate_series(1, 8) g;
SELECT reclock_protect('r9');
SELECT reclock_notify('r9');
CREATE ROLE r9w LOGIN;
GRANT SELECT, UPDATE ON r9 TO r9w;
SELECT format('reclock_store_%s_notices', 'r9'::regclass::oid) AS notices \gset
\echo == mixed users, different shards, one transaction
SELECT id AS other FROM r9 WHERE get_shard_id_for_distribution_column('r9', id) <> get_shard_id_for_distribution_column('r9', 1) LIMIT 1 \gset
BEGIN;
UPDATE r9 SET v = 'pg' WHERE id = 1;
SET LOCAL ROLE r9w;
UPDATE r9 SET v = 'w' WHERE id = :other;
RESET ROLE;
COMMIT;
SELECT v FROM r9 WHERE id IN (1, :other) ORDER BY id;
\echo == notices off in the same transaction after a write
LISTEN reclock;
BEGIN;
UPDATE r9 SET v = 'off' WHERE id = 2;
SELECT reclock_notify('r9', false);
COMMIT;
SELECT v FROM r9 WHERE id = 2;
SELECT reclock_notify('r9');
SELECT format('reclock_store_%s_notices', 'r9'::regclass::oid) AS notices \gset
\echo == a role writing the outbox shard on a worker
SELECT shard_name(:'notices', get_shard_id_for_distribution_column(:'notices', 1)) AS outshard,
       (SELECT nodeport FROM pg_dist_placement p JOIN pg_dist_node n USING (groupid) WHERE p.shardid = get_shard_id_for_distribution_column(:'notices', 1)) AS wport \gset
\c reclock_citus r9w :HOST :wport
INSERT INTO :outshard VALUES (1, pg_current_xact_id(), 1, 'forged');
SELECT count(*) FROM :outshard;
SELECT has_table_privilege(:'outshard', 'INSERT') AS ins, has_table_privilege(:'outshard', 'DELETE') AS del;
