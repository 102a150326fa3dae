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
-- attach to an unrelated table that got that OID.  The event trigger runs as
-- the extension owner (whoever drops the table cannot write the store), with
-- a pinned search_path.
--

CREATE FUNCTION @extschema@.reclock_drop_cleanup()
RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	WITH dropped AS (
		SELECT d.objid FROM pg_catalog.pg_event_trigger_dropped_objects() d
		 WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
		   AND d.objsubid OPERATOR(pg_catalog.=) 0
	), gone AS (
		DELETE FROM @extschema@.reclock_lock_store s USING dropped
		 WHERE s.relid::pg_catalog.oid OPERATOR(pg_catalog.=) dropped.objid
		RETURNING s.fence
	), tokens AS (
		DELETE FROM @extschema@.reclock_token_store t USING gone
		 WHERE t.fence OPERATOR(pg_catalog.=) gone.fence
	)
	DELETE FROM @extschema@.reclock_notify_store n USING dropped
	 WHERE n.relid::pg_catalog.oid OPERATOR(pg_catalog.=) dropped.objid;
END
$$;
COMMENT ON FUNCTION @extschema@.reclock_drop_cleanup()
	IS 'event trigger: forget the locks and notice settings of dropped tables';
REVOKE ALL ON FUNCTION @extschema@.reclock_drop_cleanup() FROM PUBLIC;

CREATE EVENT TRIGGER reclock_drop_cleanup ON sql_drop
	EXECUTE FUNCTION @extschema@.reclock_drop_cleanup();

--
-- A change of a locked table's primary key (its columns, types, typmods or
-- collations) would lose its live locks: ALTER TABLE is refused then (55006).
--

CREATE FUNCTION @extschema@.reclock_ddl_watch()
RETURNS event_trigger
AS 'MODULE_PATHNAME', 'reclock_ddl_watch'
LANGUAGE C;
COMMENT ON FUNCTION @extschema@.reclock_ddl_watch()
	IS 'event trigger: refuse ALTER TABLE that changes the primary key of a table with live locks';
REVOKE ALL ON FUNCTION @extschema@.reclock_ddl_watch() FROM PUBLIC;

CREATE EVENT TRIGGER reclock_ddl_start ON ddl_command_start
	WHEN TAG IN ('ALTER TABLE')
	EXECUTE FUNCTION @extschema@.reclock_ddl_watch();
CREATE EVENT TRIGGER reclock_ddl_end ON ddl_command_end
	WHEN TAG IN ('ALTER TABLE')
	EXECUTE FUNCTION @extschema@.reclock_ddl_watch();

--
-- Logical replication publishes data tables, never reclock's store: a
-- subscriber's apply worker would write lock rows that its own reclock did
-- not grant (its fast path would not see them, its fences would collide),
-- and a conflict would stop the apply worker.  A publication that would
-- include the store is refused when it is made or changed.
--

CREATE FUNCTION @extschema@.reclock_publication_check()
RETURNS event_trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	pub pg_catalog.text;
BEGIN
	SELECT p.pubname INTO pub
	  FROM pg_catalog.pg_publication p
	 WHERE p.puballtables
		OR EXISTS (SELECT FROM pg_catalog.pg_publication_tables t
					  JOIN pg_catalog.pg_namespace n ON n.nspname OPERATOR(pg_catalog.=) t.schemaname
					WHERE t.pubname OPERATOR(pg_catalog.=) p.pubname
					  AND n.oid OPERATOR(pg_catalog.=) '@extschema@'::pg_catalog.regnamespace::pg_catalog.oid
					  AND t.tablename::pg_catalog.text OPERATOR(pg_catalog.=) ANY
						  ('{reclock_lock_store,reclock_token_store,reclock_notify_store}'::pg_catalog.text[]))
	 LIMIT 1;
	IF pub IS NOT NULL THEN
		RAISE EXCEPTION 'publication "%" would publish reclock''s lock store', pub
			USING ERRCODE = 'feature_not_supported',
				  DETAIL = 'A subscriber would apply lock rows that its own reclock did not grant.',
				  HINT = 'Publish the application''s tables with FOR TABLE, or FOR TABLES IN SCHEMA of schemas other than reclock''s; each cluster keeps its own locks.';
	END IF;
END
$$;
COMMENT ON FUNCTION @extschema@.reclock_publication_check()
	IS 'event trigger: refuse publications that would include reclock''s lock store';
REVOKE ALL ON FUNCTION @extschema@.reclock_publication_check() FROM PUBLIC;

CREATE EVENT TRIGGER reclock_publication_check ON ddl_command_end
	WHEN TAG IN ('CREATE PUBLICATION', 'ALTER PUBLICATION')
	EXECUTE FUNCTION @extschema@.reclock_publication_check();

-- ... also one made before reclock was installed
DO $$
DECLARE
	pub pg_catalog.text;
BEGIN
	SELECT p.pubname INTO pub
	  FROM pg_catalog.pg_publication p
	 WHERE p.puballtables
		OR EXISTS (SELECT FROM pg_catalog.pg_publication_tables t
					  JOIN pg_catalog.pg_namespace n ON n.nspname OPERATOR(pg_catalog.=) t.schemaname
					WHERE t.pubname OPERATOR(pg_catalog.=) p.pubname
					  AND n.oid OPERATOR(pg_catalog.=) '@extschema@'::pg_catalog.regnamespace::pg_catalog.oid
					  AND t.tablename::pg_catalog.text OPERATOR(pg_catalog.=) ANY
						  ('{reclock_lock_store,reclock_token_store,reclock_notify_store}'::pg_catalog.text[]))
	 LIMIT 1;
	IF pub IS NOT NULL THEN
		RAISE EXCEPTION 'publication "%" would publish reclock''s lock store', pub
			USING ERRCODE = 'feature_not_supported',
				  DETAIL = 'A subscriber would apply lock rows that its own reclock did not grant.',
				  HINT = 'Publish the application''s tables with FOR TABLE, or FOR TABLES IN SCHEMA of schemas other than reclock''s; each cluster keeps its own locks.';
	END IF;
END
$$;

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

-- The view is a security barrier.
ALTER VIEW @extschema@.reclock_locks SET (security_barrier = true);
