/* src/reclock--1.1--1.2.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION reclock UPDATE TO '1.2'" to load this file. \quit

-- 1.2: every live lock and its tokens stay as they are.

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
		PERFORM @extschema@.reclock_protect(r.tgrelid::pg_catalog.regclass,
			'require_lock' OPERATOR(pg_catalog.=) ANY (args), parent, fk::pg_catalog.name);
	END LOOP;
END
$upgrade$;
