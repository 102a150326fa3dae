--
-- review_search_path: what reclock runs as the extension owner on a Citus
-- cluster (the grant's write of the store shards on the row's node; the
-- fan-out of valid, refresh and release on the coordinator; protect's and
-- break's SQL) names its tables qualified, but finds its operators (=, <=,
-- ANY) by the search_path.  A role that puts its own = ahead of
-- pg_catalog's (SET search_path, or ALTER ROLE ... SET, which Citus sends to
-- the workers' connections of that role) must never have it run as the
-- extension owner: the search_path is pinned there.
--
\set SHOW_CONTEXT never
\set VERBOSITY terse
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS reclock;
RESET client_min_messages;
SET citus.shard_count = 4;
SET citus.next_shard_id = 1950000;
CREATE ROLE rv_app LOGIN;
CREATE SCHEMA rv_app AUTHORIZATION rv_app;
CREATE TABLE rv (id int PRIMARY KEY, v text);
SELECT create_distributed_table('rv', 'id');
INSERT INTO rv SELECT g, 'v' || g FROM generate_series(1, 4) g;
GRANT SELECT, UPDATE ON rv TO rv_app;
SELECT reclock_protect('rv');

-- the role's own = for int and bytea: refuses to run as a superuser
SET ROLE rv_app;
CREATE FUNCTION rv_app.eq(int, int) RETURNS bool LANGUAGE plpgsql AS $$
BEGIN
  IF (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user) THEN
    RAISE EXCEPTION 'the role''s operator ran as superuser %', current_user;
  END IF;
  RETURN $1 OPERATOR(pg_catalog.=) $2;
END $$;
CREATE FUNCTION rv_app.beq(bytea, bytea) RETURNS bool LANGUAGE plpgsql AS $$
BEGIN
  IF (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user) THEN
    RAISE EXCEPTION 'the role''s operator ran as superuser %', current_user;
  END IF;
  RETURN $1 OPERATOR(pg_catalog.=) $2;
END $$;
CREATE OPERATOR rv_app.= (LEFTARG = int, RIGHTARG = int, FUNCTION = rv_app.eq);
CREATE OPERATOR rv_app.= (LEFTARG = bytea, RIGHTARG = bytea, FUNCTION = rv_app.beq);
RESET ROLE;
-- (Citus sends the functions to the workers, not the operators)
SELECT result FROM run_command_on_workers($$SET ROLE rv_app;
  CREATE OPERATOR rv_app.= (LEFTARG = int, RIGHTARG = int, FUNCTION = rv_app.eq);
  CREATE OPERATOR rv_app.= (LEFTARG = bytea, RIGHTARG = bytea, FUNCTION = rv_app.beq)$$);
-- in every session of the role, on every node
ALTER ROLE rv_app SET search_path = rv_app, pg_catalog, public;

\c - rv_app
SHOW search_path;
-- acquire: the grant is written on the row's node as the extension owner
SELECT acquired, holder FROM reclock_acquire('rv', '1', 'me');
SELECT acquired, holder FROM reclock_acquire('rv', '2', 'me');
-- the fan-out over the token stores, as the extension owner
SELECT reclock_valid(gen_random_uuid()) AS valid;
SELECT reclock_refresh(gen_random_uuid()) AS refreshed;
SELECT reclock_release(gen_random_uuid()) AS released;
-- and the guard still refuses a write without the token
\set VERBOSITY sqlstate
UPDATE rv SET v = 'x' WHERE id OPERATOR(pg_catalog.=) 1;
\set VERBOSITY terse
\c - postgres
SET citus.shard_count = 4;

-- protect and break as a table owner with such a search_path
ALTER TABLE rv OWNER TO rv_app;
SET ROLE rv_app;
SET search_path = rv_app, pg_catalog, public;
SELECT reclock_break('rv', '1') AS broken;
SELECT reclock_protect('rv');
RESET search_path;
RESET ROLE;

-- clean up
SELECT reclock_break('rv', '2') AS broken;
DROP TABLE rv;
ALTER ROLE rv_app RESET search_path;
DROP SCHEMA rv_app CASCADE;
SELECT result FROM run_command_on_workers($$DROP SCHEMA IF EXISTS rv_app CASCADE$$);
DROP ROLE rv_app;
