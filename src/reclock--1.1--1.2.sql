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
