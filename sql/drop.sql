--
-- drop: the locks, token hashes and notice setting of a dropped table go
-- with it (a lock row naming a table that no longer exists would be dumped
-- as a bare OID), whoever drops it
--
\set VERBOSITY terse
SELECT current_database() AS regress_db \gset
CREATE ROLE drop_owner;
GRANT CREATE ON SCHEMA public TO drop_owner;
SET ROLE drop_owner;
CREATE TABLE dr (id int PRIMARY KEY);
INSERT INTO dr VALUES (1), (2);
SELECT reclock_protect('dr');
SELECT reclock_notify('dr');
SELECT acquired FROM reclock_acquire('dr', '1', 'alice');
SELECT acquired FROM reclock_acquire('dr', '1', 'alice');
SELECT acquired FROM reclock_acquire('dr', '2', 'bob', '1 s');
RESET ROLE;
SELECT 'dr'::regclass::oid AS dr_oid \gset
SELECT count(*) AS locks FROM reclock_lock_store WHERE relid = :dr_oid;
SELECT count(*) AS tokens FROM reclock_token_store
 WHERE fence IN (SELECT fence FROM reclock_lock_store WHERE relid = :dr_oid);
SELECT count(*) AS total_tokens FROM reclock_token_store \gset
-- the table's owner (not a superuser, no right on the store) drops it
SET ROLE drop_owner;
DROP TABLE dr;
RESET ROLE;
SELECT count(*) AS locks FROM reclock_lock_store WHERE relid = :dr_oid;
SELECT :total_tokens - count(*) AS tokens_gone FROM reclock_token_store;
SELECT count(*) AS notify FROM reclock_notify_store WHERE relid = :dr_oid;
-- a rolled-back DROP keeps them
CREATE TABLE dr2 (id int PRIMARY KEY);
INSERT INTO dr2 VALUES (1);
SELECT acquired FROM reclock_acquire('dr2', '1', 'carol');
BEGIN;
DROP TABLE dr2;
ROLLBACK;
SELECT relation, key, holder FROM reclock_locks WHERE relation = 'dr2'::regclass;
-- DROP SCHEMA ... CASCADE, and other drops in the same statement
CREATE SCHEMA drs;
CREATE TABLE drs.a (id int PRIMARY KEY);
CREATE TABLE drs.b (k text PRIMARY KEY);
INSERT INTO drs.a VALUES (1);
INSERT INTO drs.b VALUES ('x');
SELECT acquired FROM reclock_acquire('drs.a', '1', 'dave');
SELECT acquired FROM reclock_acquire('drs.b', 'x', 'dave');
SELECT count(*) FROM reclock_lock_store WHERE relid IN ('drs.a'::regclass, 'drs.b'::regclass);
DROP SCHEMA drs CASCADE;
SELECT count(*) AS orphans FROM reclock_lock_store s
 WHERE NOT EXISTS (SELECT FROM pg_class c WHERE c.oid = s.relid);
-- dropping other kinds of objects does not disturb the locks
CREATE FUNCTION drop_me() RETURNS int LANGUAGE sql AS 'SELECT 1';
DROP FUNCTION drop_me();
ALTER TABLE dr2 ADD COLUMN extra int;
ALTER TABLE dr2 DROP COLUMN extra;
SELECT relation, key, holder FROM reclock_locks WHERE relation = 'dr2'::regclass;
DROP TABLE dr2;
REVOKE CREATE ON SCHEMA public FROM drop_owner;
DROP ROLE drop_owner;

-- the database's owner renames the schema that holds reclock and puts
-- look-alike tables (with a trigger) under the old name: dropping a table
-- still cleans the real store, and runs none of the owner's code with the
-- extension owner's rights; a plain rename of the schema breaks nothing
CREATE ROLE drop_dbo LOGIN;
CREATE DATABASE reclock_drop_owned OWNER drop_dbo;
\c reclock_drop_owned
CREATE EXTENSION reclock;
SET ROLE drop_dbo;
CREATE TABLE victim (id int PRIMARY KEY);
INSERT INTO victim VALUES (1);
SELECT acquired FROM reclock_acquire('victim', '1', 'alice');
ALTER SCHEMA public RENAME TO public_old;
CREATE SCHEMA public;
CREATE TABLE public.reclock_lock_store (relid regclass, key text, fence int8);
CREATE TABLE public.reclock_token_store (hash bytea, fence int8);
CREATE TABLE public.reclock_notify_store (relid regclass);
CREATE FUNCTION public.evil() RETURNS trigger LANGUAGE plpgsql AS
  $$BEGIN EXECUTE 'ALTER ROLE drop_dbo SUPERUSER'; RETURN NULL; END$$;
CREATE TRIGGER t BEFORE DELETE ON public.reclock_lock_store
  FOR EACH STATEMENT EXECUTE FUNCTION public.evil();
CREATE FUNCTION public.reclock_check_publications() RETURNS void LANGUAGE plpgsql AS
  $$BEGIN EXECUTE 'ALTER ROLE drop_dbo SUPERUSER'; END$$;
SELECT 'public_old.victim'::regclass::oid AS victim_oid \gset
DROP TABLE public_old.victim;
RESET ROLE;
SELECT rolsuper FROM pg_roles WHERE rolname = 'drop_dbo';
SELECT count(*) AS victim_locks FROM public_old.reclock_lock_store WHERE relid = :victim_oid;
SET client_min_messages = error;	-- no "wal_level is insufficient" warning
CREATE PUBLICATION drop_pub FOR TABLE public.reclock_notify_store;
RESET client_min_messages;
SELECT rolsuper FROM pg_roles WHERE rolname = 'drop_dbo';
DROP PUBLICATION drop_pub;
SET ROLE drop_dbo;
DROP SCHEMA public CASCADE;
ALTER SCHEMA public_old RENAME TO appschema;
CREATE TABLE appschema.t2 (id int PRIMARY KEY);
DROP TABLE appschema.t2;
RESET ROLE;
\c :regress_db
DROP DATABASE reclock_drop_owned;
DROP ROLE drop_dbo;
