\set SHOW_CONTEXT never
CREATE EXTENSION IF NOT EXISTS reclock;
SET citus.shard_count = 8;
SET citus.next_shard_id = 1900000;
CREATE TABLE r4 (id int PRIMARY KEY, v text);
SELECT create_distributed_table('r4', 'id');
INSERT INTO r4 SELECT g, 'v' || g FROM generate_series(1, 40) g;
\set nfile `mktemp /tmp/review4.XXXXXX`
\setenv NFILE :nfile
\! chmod 644 "$NFILE"
CREATE FUNCTION received(f text) RETURNS SETOF text LANGUAGE sql AS $$
  SELECT regexp_replace(regexp_replace(regexp_replace(l,
           'PID [0-9]+', 'PID n'), '"fence": [0-9]+', '"fence": F'),
           '"expires_at": "[^"]*"', '"expires_at": E')
    FROM unnest(string_to_array(rtrim(pg_read_file(f), E'\n'), E'\n')) l
$$;
SELECT reclock_protect('r4');
SELECT reclock_notify('r4');
SELECT format('reclock_store_%s_notices', 'r4'::regclass::oid) AS notices \gset
SELECT has_function_privilege('public', 'pg_catalog.create_intermediate_result(text,text)', 'execute') AS cir_public;
\echo == 1 exception block in a transaction block, coordinator-side error
\o :nfile
LISTEN reclock;
BEGIN;
DO $$ BEGIN UPDATE r4 SET v = 'x1' WHERE id = 1; RAISE EXCEPTION 'boom'; EXCEPTION WHEN others THEN NULL; END $$;
COMMIT;
\o
SELECT * FROM received(:'nfile');
\echo == 2 exception block in autocommit
\o :nfile
DO $$ BEGIN UPDATE r4 SET v = 'x2' WHERE id = 2; RAISE EXCEPTION 'boom'; EXCEPTION WHEN others THEN NULL; END $$;
\o
SELECT * FROM received(:'nfile');
SELECT v FROM r4 WHERE id IN (1, 2) ORDER BY id;
\echo == 3 worker-side error caught (check constraint on later row)
ALTER TABLE r4 ADD CONSTRAINT short CHECK (length(v) < 10);
\o :nfile
BEGIN;
DO $$ BEGIN UPDATE r4 SET v = CASE WHEN id = 3 THEN 'ok' ELSE 'toolongvalue!!' END WHERE id IN (3, 4, 5, 6, 7, 8); EXCEPTION WHEN others THEN RAISE NOTICE 'caught %', sqlerrm; END $$;
UPDATE r4 SET v = 'y9' WHERE id = 9;
COMMIT;
\o
SELECT * FROM received(:'nfile');
ALTER TABLE r4 DROP CONSTRAINT short;
\echo == 4 force_max_query_parallelization multi-shard
\o :nfile
BEGIN;
SET LOCAL citus.force_max_query_parallelization = on;
UPDATE r4 SET v = 'p' WHERE id BETWEEN 10 AND 20;
COMMIT;
\o
SELECT count(*) AS heard FROM received(:'nfile');
SELECT count(*) AS left_queued FROM :"notices";
\echo == 4b force_max_query_parallelization autocommit
\o :nfile
SET citus.force_max_query_parallelization = on;
UPDATE r4 SET v = 'q' WHERE id BETWEEN 10 AND 20;
RESET citus.force_max_query_parallelization;
\o
SELECT count(*) AS heard FROM received(:'nfile');
\echo == 5 implicit transaction block
\o :nfile
UPDATE r4 SET v = 'i21' WHERE id = 21 \; UPDATE r4 SET v = 'i22' WHERE id = 22;
\o
SELECT * FROM received(:'nfile');
\echo == 6 procedure with COMMIT inside
CREATE PROCEDURE p4() LANGUAGE plpgsql AS $$
BEGIN UPDATE r4 SET v = 'pr23' WHERE id = 23; COMMIT; UPDATE r4 SET v = 'pr24' WHERE id = 24; ROLLBACK; UPDATE r4 SET v = 'pr25' WHERE id = 25; END $$;
\o :nfile
CALL p4();
\o
SELECT * FROM received(:'nfile');
SELECT id, v FROM r4 WHERE id BETWEEN 23 AND 25 ORDER BY id;
\echo == 7 deferred constraint failing at commit
CREATE TABLE r4p (id int PRIMARY KEY);
SELECT create_distributed_table('r4p', 'id', colocate_with => 'r4');
INSERT INTO r4p SELECT g FROM generate_series(1, 40) g;
ALTER TABLE r4 ADD CONSTRAINT fk FOREIGN KEY (id) REFERENCES r4p(id) DEFERRABLE INITIALLY DEFERRED;
\o :nfile
BEGIN;
UPDATE r4 SET v = 'd26' WHERE id = 26;
DELETE FROM r4p WHERE id = 26;
COMMIT;
\o
SELECT * FROM received(:'nfile');
SELECT v FROM r4 WHERE id = 26;
\echo == 7b two workers, deferred failing on one
\o :nfile
BEGIN;
UPDATE r4 SET v = 'd' WHERE id BETWEEN 27 AND 34;
DELETE FROM r4p WHERE id = 27;
COMMIT;
\o
SELECT * FROM received(:'nfile');
ALTER TABLE r4 DROP CONSTRAINT fk;
\echo == 8 delegated function, autocommit and in a block
CREATE FUNCTION f4(k int) RETURNS void LANGUAGE plpgsql AS $$ BEGIN UPDATE r4 SET v = 'f' || k WHERE id = k; END $$;
SELECT create_distributed_function('f4(int)', 'k', colocate_with => 'r4');
\o :nfile
SELECT f4(35);
\o
SELECT * FROM received(:'nfile');
SELECT v FROM r4 WHERE id = 35;
\o :nfile
BEGIN;
SELECT f4(36);
COMMIT;
\o
SELECT * FROM received(:'nfile');
SELECT create_distributed_function('f4(int)', 'k', colocate_with => 'r4', force_delegation => true);
\o :nfile
BEGIN;
SELECT f4(37);
COMMIT;
\o
SELECT * FROM received(:'nfile');
SELECT v FROM r4 WHERE id = 37;
\echo == 9 INSERT ON CONFLICT from SELECT between co-located and non-colocated
CREATE TABLE r4s (id int, v text);
SELECT create_distributed_table('r4s', 'v');
INSERT INTO r4s VALUES (38, 's38'), (39, 's39');
\o :nfile
INSERT INTO r4 SELECT id, v FROM r4s ON CONFLICT (id) DO UPDATE SET v = excluded.v;
\o
SELECT * FROM received(:'nfile');
SELECT count(*) AS left_queued FROM :"notices";
\echo == 10 create_intermediate_result side effects: read only autocommit, local execution off
SET citus.enable_local_execution = off;
\o :nfile
UPDATE r4 SET v = 'l40' WHERE id = 40;
\o
RESET citus.enable_local_execution;
SELECT * FROM received(:'nfile');
\echo == 11 role: autocommit write
CREATE ROLE r4w LOGIN;
GRANT SELECT, UPDATE ON r4 TO r4w;
SET ROLE r4w;
\o :nfile
UPDATE r4 SET v = 'role' WHERE id = 39;
\o
RESET ROLE;
SELECT * FROM received(:'nfile');
UNLISTEN *;
