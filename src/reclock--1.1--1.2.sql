/* src/reclock--1.1--1.2.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION reclock UPDATE TO '1.2'" to load this file. \quit

-- 1.2: every live lock and its tokens stay as they are.

-- The DDL watch concerns only what a command changes: ALTER TABLE (the
-- table's key, and keys made of its row type), ALTER TYPE (keys made of the
-- type).  Keys of the reg* types can no longer be locked, so renames of
-- functions, operators, schemas and the like are not watched any more.
DROP EVENT TRIGGER reclock_ddl_start;
DROP EVENT TRIGGER reclock_ddl_end;
CREATE EVENT TRIGGER reclock_ddl_start ON ddl_command_start
	WHEN TAG IN ('ALTER TABLE', 'ALTER TYPE', 'ALTER FOREIGN TABLE')
	EXECUTE FUNCTION @extschema@.reclock_ddl_watch();
CREATE EVENT TRIGGER reclock_ddl_end ON ddl_command_end
	WHEN TAG IN ('ALTER TABLE', 'ALTER TYPE', 'ALTER FOREIGN TABLE')
	EXECUTE FUNCTION @extschema@.reclock_ddl_watch();

-- The view filters inside a C function: no condition of the caller's query
-- is evaluated on a lock it may not see (also not through EXPLAIN ANALYZE),
-- and under row-level security only the locks of rows the caller can see.
CREATE FUNCTION @extschema@.reclock_visible_locks(
	OUT relation pg_catalog.regclass,
	OUT key pg_catalog.text,
	OUT holder pg_catalog.text,
	OUT fence pg_catalog.int8,
	OUT acquired_at pg_catalog.timestamptz,
	OUT expires_at pg_catalog.timestamptz,
	OUT acquired_by pg_catalog.name)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'reclock_visible_locks'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE ROWS 100;
COMMENT ON FUNCTION @extschema@.reclock_visible_locks()
	IS 'the live locks the caller may see (the rows of reclock_locks)';

CREATE OR REPLACE VIEW @extschema@.reclock_locks WITH (security_barrier) AS
SELECT l.relation, l.key COLLATE pg_catalog."C" AS key, l.holder, l.fence, l.acquired_at, l.expires_at, l.acquired_by
  FROM @extschema@.reclock_visible_locks() l;
