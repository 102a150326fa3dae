\set SHOW_CONTEXT never
CREATE EXTENSION IF NOT EXISTS reclock;
SET citus.shard_count = 4;
SET citus.next_shard_id = 1950000;
CREATE TABLE r5 (id int PRIMARY KEY, v text);
SELECT create_distributed_table('r5', 'id');
INSERT INTO r5 SELECT g, 'v' || g FROM generate_series(1, 40) g;
SELECT reclock_protect('r5');
CREATE ROLE r5w LOGIN;
GRANT SELECT, UPDATE ON r5 TO r5w;
\echo == B1 acquire modes (c-moves no-op DELETE)
SET ROLE r5w;
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT holder FROM reclock_acquire('r5', '1', 'a');
COMMIT;
BEGIN ISOLATION LEVEL SERIALIZABLE;
SELECT holder FROM reclock_acquire('r5', '2', 'a');
COMMIT;
BEGIN READ ONLY;
SELECT holder FROM reclock_acquire('r5', '3', 'a');
ROLLBACK;
BEGIN;
SET LOCAL citus.multi_shard_modify_mode = sequential;
SELECT holder FROM reclock_acquire('r5', '4', 'a');
COMMIT;
BEGIN;
SET LOCAL citus.force_max_query_parallelization = on;
SELECT count(*) FROM r5;
SELECT holder FROM reclock_acquire('r5', '5', 'a');
SELECT holder FROM reclock_acquire('r5', '6', 'a');
SELECT holder FROM reclock_acquire('r5', '7', 'a');
UPDATE r5 SET v = 'z' WHERE id > 30;
COMMIT;
BEGIN;
SET LOCAL citus.force_max_query_parallelization = on;
UPDATE r5 SET v = 'z' WHERE id > 30;
SELECT holder FROM reclock_acquire('r5', '31', 'a');
SELECT holder FROM reclock_acquire('r5', '32', 'a');
COMMIT;
SET citus.enable_local_execution = off;
SELECT holder FROM reclock_acquire('r5', '8', 'a');
RESET citus.enable_local_execution;
RESET ROLE;
SET default_transaction_read_only = on;
SELECT holder FROM reclock_acquire('r5', '9', 'a');
RESET default_transaction_read_only;
SELECT key, holder FROM reclock_locks('r5') ORDER BY key::int;
\echo == B2 suppressing a notice on a worker (faked application_name + take)
SELECT reclock_notify('r5');
SELECT format('reclock_store_%s_notices', 'r5'::regclass::oid) AS notices \gset
SELECT min(r5.id) FILTER (WHERE p.groupid = 1) AS near
  FROM r5 JOIN pg_dist_placement p ON p.shardid = get_shard_id_for_distribution_column('r5', r5.id) WHERE r5.id > 10 \gset
SELECT shard_name('r5', get_shard_id_for_distribution_column('r5', :near)) AS nearshard \gset
SELECT shard_name(:'notices', get_shard_id_for_distribution_column(:'notices', :near)) AS outshard \gset
SELECT nodename AS w1host, nodeport AS w1port FROM pg_dist_node WHERE groupid = 1 \gset
\set chost :HOST
\set cport :PORT
\c reclock_citus r5w :w1host :w1port
\set nfile `mktemp /tmp/review4b.XXXXXX`
\setenv NFILE :nfile
\! chmod 644 "$NFILE"
\o :nfile
LISTEN reclock;
UPDATE :nearshard SET v = 'plain' WHERE id = :near;
SET application_name = 'citus_internal gpid=1';
BEGIN;
UPDATE :nearshard SET v = 'hidden' WHERE id = :near;
SELECT count(reclock_citus_notice_take(o.tableoid, o.xid, o.n)) AS taken FROM ONLY :outshard o;
COMMIT;
RESET application_name;
\o
\! cat "$NFILE" | sed 's/PID [0-9]*/PID n/'
SELECT v FROM :nearshard WHERE id = :near;
\c reclock_citus postgres :chost :cport
SELECT reclock_notify('r5', false);
