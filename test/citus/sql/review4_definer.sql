--
-- review4_definer: a write of a table with change notices made as a user
-- other than the one in place at COMMIT (a SECURITY DEFINER function, SET
-- ROLE): the coordinator collected the notices as the user at COMMIT, and
-- Citus, which keeps one connection per user, refused that query on
-- placements another user modified in the transaction ("modified in this
-- transaction by a different user"): such a write could never commit.  Now
-- collected as the user each marked statement ran as.
--
\set SHOW_CONTEXT never
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS reclock;
RESET client_min_messages;
SET citus.shard_count = 4;
SET citus.next_shard_id = 1980000;
CREATE TABLE r8 (id int PRIMARY KEY, v text);
SELECT create_distributed_table('r8', 'id');
INSERT INTO r8 SELECT g, 'v' || g FROM generate_series(1, 8) g;
SELECT reclock_protect('r8');
SELECT reclock_notify('r8');
CREATE ROLE r8w LOGIN;
GRANT SELECT, UPDATE ON r8 TO r8w;
\set nfile `mktemp /tmp/review4_definer.XXXXXX`
\setenv NFILE :nfile
\! chmod 644 "$NFILE"
CREATE FUNCTION r8_received(f text) RETURNS SETOF text LANGUAGE sql AS $$
  SELECT regexp_replace(l, 'PID [0-9]+', 'PID n')
    FROM unnest(string_to_array(rtrim(pg_read_file(f), E'\n'), E'\n')) l
$$;
CREATE FUNCTION r8_def(k int) RETURNS void LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN UPDATE r8 SET v = 'def' || k WHERE id = k; END $$;
LISTEN reclock;
-- a SECURITY DEFINER function called by another role, autocommit
SET ROLE r8w;
\o :nfile
SELECT r8_def(1);
\o
RESET ROLE;
SELECT * FROM r8_received(:'nfile') AS received;
SELECT v FROM r8 WHERE id = 1;
-- and in a transaction block
SET ROLE r8w;
\o :nfile
BEGIN;
SELECT r8_def(2);
COMMIT;
\o
RESET ROLE;
SELECT * FROM r8_received(:'nfile') AS received;
SELECT v FROM r8 WHERE id = 2;
-- SET LOCAL ROLE for the write, back before COMMIT
\o :nfile
BEGIN;
SET LOCAL ROLE r8w;
UPDATE r8 SET v = 'setrole' WHERE id = 3;
RESET ROLE;
COMMIT;
\o
SELECT * FROM r8_received(:'nfile') AS received;
SELECT v FROM r8 WHERE id = 3;
-- read-only autocommit write (error as for any table)
SET default_transaction_read_only = on;
UPDATE r8 SET v = 'ro' WHERE id = 4;
\echo :SQLSTATE
RESET default_transaction_read_only;
UNLISTEN *;
