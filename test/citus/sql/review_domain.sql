--
-- review_domain: a distribution column of a domain type whose CHECK is
-- another role's function.  reclock reads and writes the stores as the
-- extension owner; the stores' column of the domain (Citus co-locates equal
-- types only) passed its values through the domain's input where they
-- travel as text (Citus's results on the coordinator: the fan-out of valid,
-- refresh and release), and ran the role's CHECK as the extension owner
-- (and break missed the live lock).  protect refuses (0A000) a distribution
-- column that is not of a base type or an enum.
--
\set SHOW_CONTEXT never
\set VERBOSITY terse
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS reclock;
RESET client_min_messages;
SET citus.shard_count = 4;
SET citus.next_shard_id = 1930000;
CREATE ROLE dm_app LOGIN;
CREATE ROLE dm_owner LOGIN;
CREATE SCHEMA dm_app AUTHORIZATION dm_app;
SET ROLE dm_app;
CREATE FUNCTION dm_app.chk(int) RETURNS bool LANGUAGE plpgsql AS $$
BEGIN
  IF (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user) THEN
    RAISE EXCEPTION 'the role''s domain check ran as superuser %', current_user;
  END IF;
  RETURN true;
END $$;
CREATE DOMAIN dm_app.d AS int CHECK (dm_app.chk(VALUE));
RESET ROLE;
GRANT USAGE ON SCHEMA dm_app TO dm_owner;
CREATE TABLE dm (id dm_app.d PRIMARY KEY, v text);
SELECT create_distributed_table('dm', 'id');
SELECT reclock_protect('dm');
\echo :SQLSTATE
-- (an array of the domain too)
CREATE TABLE dma (id dm_app.d[] PRIMARY KEY, v text);
SELECT create_distributed_table('dma', 'id');
SELECT reclock_protect('dma');
DROP TABLE dma;
-- (no guard was attached: nothing to enforce, nothing to refuse)
SELECT count(*) AS guards FROM pg_trigger WHERE tgrelid = 'dm'::regclass AND tgname LIKE 'reclock%';
DROP TABLE dm;
DROP SCHEMA dm_app CASCADE;
DROP ROLE dm_app, dm_owner;
