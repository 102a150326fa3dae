/* src/reclock--1.1--1.2.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION reclock UPDATE TO '1.2'" to load this file. \quit

-- 1.2: every live lock and its tokens stay as they are.

-- The store is heap: reclock writes it through the executor's simple-relation
-- path and reads it with heap snapshots, whatever default_table_access_method
-- was when 1.0 or 1.1 made it (a no-op for tables that are heap already).
ALTER TABLE @extschema@.reclock_lock_store SET ACCESS METHOD heap;
ALTER TABLE @extschema@.reclock_token_store SET ACCESS METHOD heap;
ALTER TABLE @extschema@.reclock_notify_store SET ACCESS METHOD heap;

-- The trigger function of change notices (see below), first: protecting
-- child tables again (below) may add it to them.
CREATE FUNCTION @extschema@.reclock_notice()
RETURNS trigger
AS 'MODULE_PATHNAME', 'reclock_notice'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.reclock_notice()
	IS 'row trigger AFTER the writes of a table with change notices on, or of a child table below one: the notices of the rows written';


-- The DDL watch concerns only what a command changes: ALTER TABLE (the
-- table's key, and keys made of its row type), ALTER TYPE (keys made of the
-- type).  Keys of the reg* types can no longer be locked, so renames of
-- functions, operators, schemas and the like are not watched any more.
DROP EVENT TRIGGER reclock_ddl_start;
DROP EVENT TRIGGER reclock_ddl_end;
CREATE EVENT TRIGGER reclock_ddl_start ON ddl_command_start
	WHEN TAG IN ('ALTER TABLE', 'ALTER TYPE', 'ALTER FOREIGN TABLE', 'DROP TABLE')
	EXECUTE FUNCTION @extschema@.reclock_ddl_watch();
CREATE EVENT TRIGGER reclock_ddl_end ON ddl_command_end
	WHEN TAG IN ('ALTER TABLE', 'ALTER TYPE', 'ALTER FOREIGN TABLE', 'DROP TABLE')
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

-- 1.2: a child table's guard depends on the foreign key it was protected
-- with (pg_depend), so that the key cannot be dropped and made again under
-- it.  Each child table protected under 1.1 is protected again here, as it
-- was (its parent, its foreign key, its require_lock), which records that
-- dependency.
DO $upgrade$
DECLARE
	r record;
	args text[];
	fk text;
	parent pg_catalog.regclass;
BEGIN
	FOR r IN SELECT t.tgrelid, t.tgargs FROM pg_catalog.pg_trigger t
	          WHERE t.tgname = 'reclock_guard' AND t.tgparentid = 0
	            AND t.tgfoid = '@extschema@.reclock_guard_child()'::pg_catalog.regprocedure
	LOOP
		args := pg_catalog.string_to_array(pg_catalog.encode(r.tgargs, 'escape'), '\000');
		SELECT pg_catalog.substr(a, 11) INTO fk FROM pg_catalog.unnest(args) a
		 WHERE a OPERATOR(pg_catalog.~~) 'parent\_fk=%' LIMIT 1;
		IF fk IS NULL THEN
			CONTINUE;
		END IF;
		SELECT c.confrelid INTO parent FROM pg_catalog.pg_constraint c
		 WHERE c.conrelid = r.tgrelid AND c.conname OPERATOR(pg_catalog.=) fk AND c.contype = 'f';
		IF parent IS NULL THEN
			CONTINUE;	-- its key is gone: its writes fail (55000) until protected again
		END IF;
		-- a table 1.2 refuses (a temporary one, a reg* key) keeps its guard
		-- as it was: the upgrade itself never fails on it
		BEGIN
			PERFORM @extschema@.reclock_protect(r.tgrelid::pg_catalog.regclass,
				'require_lock' OPERATOR(pg_catalog.=) ANY (args), parent, fk::pg_catalog.name);
		EXCEPTION WHEN OTHERS THEN
			RAISE WARNING 'reclock: child table % was not protected again: %', r.tgrelid::pg_catalog.regclass, SQLERRM;
		END;
	END LOOP;
END
$upgrade$;

-- Change notices of rows come from an AFTER trigger, reclock_notice, on each
-- table whose notices are on and on each child table below one, so that
-- they describe rows that were written (the 1.1 guards queued them before
-- the row was written, and tables without the guard sent none).
DO $notices$
DECLARE
	t pg_catalog.regclass;
BEGIN
	FOR t IN SELECT n.relid FROM @extschema@.reclock_notify_store n
	LOOP
		PERFORM @extschema@.reclock_notify(t, true);	-- adds the triggers, below too
	END LOOP;
END
$notices$;
