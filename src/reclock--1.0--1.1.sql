/* src/reclock--1.0--1.1.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION reclock UPDATE TO '1.1'" to load this file. \quit

-- Every live lock and its tokens stay as they are: only token hashes that
-- can never count again are deleted (below).

-- Fences stay above every fence issued, also after a later DROP EXTENSION
-- reclock CASCADE and CREATE EXTENSION (1.1 starts them at the clock in
-- microseconds).
SELECT pg_catalog.setval('@extschema@.reclock_fence_seq',
	GREATEST(
		(SELECT last_value FROM @extschema@.reclock_fence_seq),
		pg_catalog.floor(pg_catalog.date_part('epoch', pg_catalog.clock_timestamp()) * 1000000)::pg_catalog.int8));

-- A table's live locks without its dead ones, and its dead ones without its
-- live ones (the guard's set of live keys, reclaim, sweep).
CREATE INDEX reclock_lock_store_expiry_idx ON @extschema@.reclock_lock_store (relid, expires_at);
-- 1.1 deletes a grant's token hashes with its lock row; the hashes of grants
-- whose row is gone (they can never count again) go now.
DELETE FROM @extschema@.reclock_token_store t
 WHERE NOT EXISTS (SELECT FROM @extschema@.reclock_lock_store l
					WHERE l.fence OPERATOR(pg_catalog.=) t.fence);

-- The database's owner may read what pg_dump dumps.
GRANT SELECT ON @extschema@.reclock_lock_store, @extschema@.reclock_token_store,
	@extschema@.reclock_notify_store TO pg_database_owner;
GRANT SELECT ON SEQUENCE @extschema@.reclock_fence_seq TO pg_database_owner;

--
-- Locks of a dropped table go with it: a lock row naming a table that no
-- longer exists would be dumped as a bare OID and could, after a restore,
-- attach to an unrelated table that got that OID.  The event triggers are
-- written in C: they reach the store by OID, never by a name that the owner
-- of a schema could rename and replace, and write it as the extension owner
-- (whoever drops the table cannot write the store).
--

CREATE FUNCTION @extschema@.reclock_drop_cleanup()
RETURNS event_trigger
AS 'MODULE_PATHNAME', 'reclock_drop_cleanup'
LANGUAGE C;
COMMENT ON FUNCTION @extschema@.reclock_drop_cleanup()
	IS 'event trigger: forget the locks and notice settings of dropped tables';
REVOKE ALL ON FUNCTION @extschema@.reclock_drop_cleanup() FROM PUBLIC;

CREATE EVENT TRIGGER reclock_drop_cleanup ON sql_drop
	EXECUTE FUNCTION @extschema@.reclock_drop_cleanup();

--
-- A change of a locked table's primary key (its columns, types, typmods or
-- collations, also through an inheritance parent), of a key type (an enum
-- value renamed, an attribute added to a composite), or of an object a reg*
-- key names, would lose its live locks: the command is refused then (55006).
--

CREATE FUNCTION @extschema@.reclock_ddl_watch()
RETURNS event_trigger
AS 'MODULE_PATHNAME', 'reclock_ddl_watch'
LANGUAGE C;
COMMENT ON FUNCTION @extschema@.reclock_ddl_watch()
	IS 'event trigger: refuse DDL that changes how a table with live locks names its rows';
REVOKE ALL ON FUNCTION @extschema@.reclock_ddl_watch() FROM PUBLIC;

CREATE EVENT TRIGGER reclock_ddl_start ON ddl_command_start
	WHEN TAG IN ('ALTER TABLE', 'ALTER TYPE', 'ALTER DOMAIN', 'ALTER SCHEMA',
		 'ALTER FUNCTION', 'ALTER PROCEDURE', 'ALTER ROUTINE', 'ALTER OPERATOR',
		 'ALTER COLLATION', 'ALTER TEXT SEARCH CONFIGURATION',
		 'ALTER TEXT SEARCH DICTIONARY', 'ALTER VIEW', 'ALTER MATERIALIZED VIEW',
		 'ALTER SEQUENCE', 'ALTER FOREIGN TABLE')
	EXECUTE FUNCTION @extschema@.reclock_ddl_watch();
CREATE EVENT TRIGGER reclock_ddl_end ON ddl_command_end
	WHEN TAG IN ('ALTER TABLE', 'ALTER TYPE', 'ALTER DOMAIN', 'ALTER SCHEMA',
		 'ALTER FUNCTION', 'ALTER PROCEDURE', 'ALTER ROUTINE', 'ALTER OPERATOR',
		 'ALTER COLLATION', 'ALTER TEXT SEARCH CONFIGURATION',
		 'ALTER TEXT SEARCH DICTIONARY', 'ALTER VIEW', 'ALTER MATERIALIZED VIEW',
		 'ALTER SEQUENCE', 'ALTER FOREIGN TABLE')
	EXECUTE FUNCTION @extschema@.reclock_ddl_watch();


-- A partition created in or attached to a protected partitioned table gets
-- the TRUNCATE check (PostgreSQL clones row triggers, not statement ones).
CREATE FUNCTION @extschema@.reclock_partition_watch()
RETURNS event_trigger
AS 'MODULE_PATHNAME', 'reclock_partition_watch'
LANGUAGE C;
COMMENT ON FUNCTION @extschema@.reclock_partition_watch()
	IS 'event trigger: give new partitions of a protected table the TRUNCATE check';
REVOKE ALL ON FUNCTION @extschema@.reclock_partition_watch() FROM PUBLIC;

CREATE EVENT TRIGGER reclock_partition_watch ON ddl_command_end
	WHEN TAG IN ('CREATE TABLE', 'ALTER TABLE')
	EXECUTE FUNCTION @extschema@.reclock_partition_watch();

--
-- Logical replication publishes data tables, never reclock's store: a
-- subscriber's apply worker would write lock rows that its own reclock did
-- not grant (its fast path would not see them, its fences would collide),
-- and a conflict would stop the apply worker.  A publication that would
-- include the store is refused when it is made or changed.
--

CREATE FUNCTION @extschema@.reclock_check_publications()
RETURNS void
AS 'MODULE_PATHNAME', 'reclock_check_publications'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.reclock_check_publications()
	IS 'raise an error if a publication would include reclock''s lock store';

CREATE FUNCTION @extschema@.reclock_publication_check()
RETURNS event_trigger
AS 'MODULE_PATHNAME', 'reclock_publication_check'
LANGUAGE C;
COMMENT ON FUNCTION @extschema@.reclock_publication_check()
	IS 'event trigger: refuse publications that would include reclock''s lock store';
REVOKE ALL ON FUNCTION @extschema@.reclock_publication_check() FROM PUBLIC;

CREATE EVENT TRIGGER reclock_publication_check ON ddl_command_end
	WHEN TAG IN ('CREATE PUBLICATION', 'ALTER PUBLICATION')
	EXECUTE FUNCTION @extschema@.reclock_publication_check();

-- ... also one made before reclock was installed
SELECT @extschema@.reclock_check_publications();

-- Locks of tables dropped before the upgrade.
WITH gone AS (
	DELETE FROM @extschema@.reclock_lock_store s
	 WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_class c
						WHERE c.oid OPERATOR(pg_catalog.=) s.relid::pg_catalog.oid)
	RETURNING s.fence
)
DELETE FROM @extschema@.reclock_token_store t USING gone
 WHERE t.fence OPERATOR(pg_catalog.=) gone.fence;
DELETE FROM @extschema@.reclock_notify_store n
 WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_class c
					WHERE c.oid OPERATOR(pg_catalog.=) n.relid::pg_catalog.oid);

-- Parallel labels: reclock_valid and reclock_diff read the latest state and
-- run in the leader; trigger functions are unsafe (they were unlabelled).
ALTER FUNCTION @extschema@.reclock_valid(pg_catalog.uuid) PARALLEL RESTRICTED;
ALTER FUNCTION @extschema@.reclock_diff(pg_catalog.regclass, pg_catalog.text, pg_catalog.jsonb) PARALLEL RESTRICTED;
ALTER FUNCTION @extschema@.reclock_guard() PARALLEL UNSAFE;
ALTER FUNCTION @extschema@.reclock_guard_truncate() PARALLEL UNSAFE;

-- Holder identity by role name: acquired_by becomes a regrole, which pg_dump
-- writes as the role's name (a bare OID would name whichever role has that
-- number in the cluster a dump is restored into).  Binary-compatible: no
-- rewrite, every live lock stays as it is.  The view reads the column, so it
-- is made again, now also a security barrier.
DROP VIEW @extschema@.reclock_locks;
ALTER TABLE @extschema@.reclock_lock_store
	ALTER COLUMN acquired_by TYPE pg_catalog.regrole USING acquired_by::pg_catalog.regrole;
SELECT pg_catalog.pg_extension_config_dump('@extschema@.reclock_lock_store',
	'WHERE EXISTS (SELECT FROM pg_catalog.pg_roles a WHERE a.oid OPERATOR(pg_catalog.=) acquired_by::pg_catalog.oid)');

CREATE VIEW @extschema@.reclock_locks WITH (security_barrier) AS
SELECT l.relid AS relation,
	   l.key,
	   l.holder,
	   l.fence,
	   l.acquired_at,
	   l.expires_at,
	   pg_catalog.pg_get_userbyid(l.acquired_by::pg_catalog.oid) AS acquired_by
  FROM @extschema@.reclock_lock_store l
 WHERE l.expires_at OPERATOR(pg_catalog.>) @extschema@.reclock_clock()
   AND pg_catalog.has_any_column_privilege(l.relid::pg_catalog.oid, 'SELECT');
COMMENT ON VIEW @extschema@.reclock_locks IS 'one row per live lock (tokens are never shown)';

GRANT SELECT ON @extschema@.reclock_locks TO PUBLIC;

--
-- Documents: child tables (reclock_protect's parent and parent_fk) and the
-- formset check.  Guards made by 1.0 keep working as they are.
--

DROP FUNCTION @extschema@.reclock_protect(pg_catalog.regclass, pg_catalog.bool);

-- The guard of a child table (reclock_protect(tbl, parent => ...)): the same
-- code under a name of its own, so that a backend still running a library
-- older than 1.1 fails to find it instead of guarding a child table as a
-- table of its own.
CREATE FUNCTION @extschema@.reclock_guard_child()
RETURNS trigger
AS 'MODULE_PATHNAME', 'reclock_guard_child'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.reclock_guard_child()
	IS 'row trigger of a child table: refuse INSERT, UPDATE or DELETE of rows under a locked parent row without its token';
CREATE FUNCTION @extschema@.reclock_protect(tbl pg_catalog.regclass, require_lock pg_catalog.bool DEFAULT false,
	parent pg_catalog.regclass DEFAULT NULL, parent_fk pg_catalog.name DEFAULT NULL)
RETURNS void
AS 'MODULE_PATHNAME', 'reclock_protect'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.reclock_protect(pg_catalog.regclass, pg_catalog.bool, pg_catalog.regclass, pg_catalog.name)
	IS 'attach the guard to a table, or to a child table of parent (idempotent)';

--
-- Documents: the formset check of a parent row's child rows.
--

CREATE FUNCTION @extschema@.reclock_cas_children(tbl pg_catalog.regclass, parent_key pg_catalog.text, expected pg_catalog.jsonb)
RETURNS pg_catalog.bool
AS 'MODULE_PATHNAME', 'reclock_cas_children'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.reclock_cas_children(pg_catalog.regclass, pg_catalog.text, pg_catalog.jsonb)
	IS 'true if a parent row''s child rows are exactly the expected ones, with the expected values; locks them until the transaction ends';

CREATE FUNCTION @extschema@.reclock_diff_children(tbl pg_catalog.regclass, parent_key pg_catalog.text, expected pg_catalog.jsonb)
RETURNS pg_catalog.jsonb
AS 'MODULE_PATHNAME', 'reclock_diff_children'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL RESTRICTED;
COMMENT ON FUNCTION @extschema@.reclock_diff_children(pg_catalog.regclass, pg_catalog.text, pg_catalog.jsonb)
	IS 'which child rows of a parent row were inserted, deleted or changed since a form showed them';
