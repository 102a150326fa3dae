/* src/reclock--1.3.sql */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION reclock" to load this file. \quit

--
-- The lock store.  Ordinary roles never read or write these tables: the C
-- functions below do, after checking the caller's rights themselves.  Grants,
-- tokens, expiries, key moves, releases, reclaims and sweeps are written
-- through the executor's simple-relation path as the extension owner (no
-- SQL); notice settings run SQL as the extension owner.  All of it is
-- WAL-logged: a grant survives a crash and reaches a standby.
--

-- Fences come from one sequence: strictly increasing across rows, grants,
-- deletes and crashes (a sequence never goes back after a crash).  It starts
-- at the clock in microseconds, so that fences stay above every fence issued
-- before a DROP EXTENSION reclock CASCADE and a new CREATE EXTENSION (a
-- grant takes far longer than a microsecond).
CREATE SEQUENCE @extschema@.reclock_fence_seq AS bigint;
COMMENT ON SEQUENCE @extschema@.reclock_fence_seq IS 'reclock internal: source of lock fences';
SELECT pg_catalog.setval('@extschema@.reclock_fence_seq',
	pg_catalog.floor(pg_catalog.date_part('epoch', pg_catalog.clock_timestamp()) * 1000000)::pg_catalog.int8);
-- Moves (nextval) before every write that can make a lock live: a grant, an
-- extension, a refresh, a key move.  The guard's fast path compares it.
CREATE SEQUENCE @extschema@.reclock_epoch_seq AS bigint;
COMMENT ON SEQUENCE @extschema@.reclock_epoch_seq IS 'reclock internal: moves whenever a lock may become live';

-- One row per (table, key) locked; a later grant of a key reuses its row.
-- A lock is live while expires_at is in the future.  Release and break
-- delete the row (and the grant's token hashes); a row whose lock ran out
-- is reclaimed by a later acquire of the same table (a few per acquire, at
-- its commit), by a new grant of its key, or by reclock_sweep().
-- acquired_by is a regrole, not an oid: pg_dump writes it as the role's
-- name, so after a restore into a cluster whose roles have other OIDs the
-- lock still belongs to the role that took it (a bare OID would name
-- whichever role has that number there).
CREATE TABLE @extschema@.reclock_lock_store (
	relid		pg_catalog.regclass NOT NULL,
	key			pg_catalog.text COLLATE "C" NOT NULL,
	holder		pg_catalog.text NOT NULL,
	acquired_by	pg_catalog.regrole NOT NULL,
	fence		pg_catalog.int8 NOT NULL,
	acquired_at	pg_catalog.timestamptz NOT NULL,
	expires_at	pg_catalog.timestamptz NOT NULL,
	CONSTRAINT reclock_lock_store_pkey PRIMARY KEY (relid, key),
	CONSTRAINT reclock_lock_store_fence_key UNIQUE (fence)
) USING heap;
COMMENT ON TABLE @extschema@.reclock_lock_store IS 'reclock internal: one row per locked (table, key)';
-- A table's live locks without visiting its dead ones (the guard's set of
-- live keys, TRUNCATE's check), and its dead ones without visiting the live
-- (reclaim, sweep).  The store is written through the executor, which
-- maintains every index on it.
CREATE INDEX reclock_lock_store_expiry_idx ON @extschema@.reclock_lock_store (relid, expires_at);

-- One row per token handed out: only its SHA-256 hash, and the grant (fence)
-- it belongs to.  A token is valid while its fence is the live grant's fence.
CREATE TABLE @extschema@.reclock_token_store (
	hash		pg_catalog.bytea NOT NULL,
	fence		pg_catalog.int8 NOT NULL,
	CONSTRAINT reclock_token_store_pkey PRIMARY KEY (hash)
) USING heap;
CREATE INDEX reclock_token_store_fence_idx ON @extschema@.reclock_token_store (fence);
COMMENT ON TABLE @extschema@.reclock_token_store IS 'reclock internal: SHA-256 hashes of the tokens of each grant';

-- Tables whose changes are broadcast (reclock_notify); off unless listed.
CREATE TABLE @extschema@.reclock_notify_store (
	relid		pg_catalog.regclass NOT NULL,
	CONSTRAINT reclock_notify_store_pkey PRIMARY KEY (relid)
) USING heap;
COMMENT ON TABLE @extschema@.reclock_notify_store IS 'reclock internal: tables with change notices on';

-- Private: no role but the extension owner reads or writes the store.
REVOKE ALL ON @extschema@.reclock_notify_store FROM PUBLIC;
REVOKE ALL ON @extschema@.reclock_lock_store FROM PUBLIC;
REVOKE ALL ON @extschema@.reclock_token_store FROM PUBLIC;
REVOKE ALL ON SEQUENCE @extschema@.reclock_fence_seq FROM PUBLIC;
REVOKE ALL ON SEQUENCE @extschema@.reclock_epoch_seq FROM PUBLIC;
-- ... but the database's owner may read what pg_dump dumps (the token store
-- holds hashes only), so that a DBA who is not a superuser can back up their
-- own database.
GRANT SELECT ON @extschema@.reclock_lock_store, @extschema@.reclock_token_store,
	@extschema@.reclock_notify_store TO pg_database_owner;
GRANT SELECT ON SEQUENCE @extschema@.reclock_fence_seq TO pg_database_owner;

-- pg_dump dumps the locks and the sequence, so that after a restore no fence
-- goes back and live locks stay live.  A lock whose role has been dropped is
-- left out: its regrole would be dumped as a bare number, which the restore
-- would read as whichever role has that OID in the new cluster.  (No role
-- can re-enter such a lock; it would only stand in others' way until it
-- runs out.)
SELECT pg_catalog.pg_extension_config_dump('@extschema@.reclock_lock_store',
	'WHERE EXISTS (SELECT FROM pg_catalog.pg_roles a WHERE a.oid OPERATOR(pg_catalog.=) acquired_by::pg_catalog.oid)');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.reclock_token_store', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.reclock_fence_seq', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.reclock_notify_store', '');

--
-- Functions.  None is SECURITY DEFINER: the C functions run as the caller,
-- check the caller's rights on the target table, and write the store as
-- described above.
--
-- Parallel labels: a function that writes (the store, a row, a trigger, a
-- notice) is PARALLEL UNSAFE; reclock_valid and reclock_diff only read, but
-- read the latest state (reclock_valid with a snapshot of its own, taken in
-- the leader), so they are PARALLEL RESTRICTED: a query that calls them can
-- still scan in parallel, and they run in the leader.  reclock_clock reads
-- only the clock and is PARALLEL SAFE.
--

CREATE FUNCTION @extschema@.reclock_acquire(
	tbl pg_catalog.regclass,
	key pg_catalog.text,
	holder pg_catalog.text,
	ttl pg_catalog.interval DEFAULT NULL,
	OUT acquired pg_catalog.bool,
	OUT token pg_catalog.uuid,
	OUT holder pg_catalog.text,
	OUT expires_at pg_catalog.timestamptz,
	OUT fence pg_catalog.int8)
RETURNS record
AS 'MODULE_PATHNAME', 'reclock_acquire'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.reclock_acquire(pg_catalog.regclass, pg_catalog.text, pg_catalog.text, pg_catalog.interval)
	IS 'grant an edit lock on one row, or report who holds it';

CREATE FUNCTION @extschema@.reclock_valid(token pg_catalog.uuid)
RETURNS pg_catalog.bool
AS 'MODULE_PATHNAME', 'reclock_valid'
LANGUAGE C VOLATILE STRICT PARALLEL RESTRICTED;
COMMENT ON FUNCTION @extschema@.reclock_valid(pg_catalog.uuid)
	IS 'true while the lock this token was granted for is live';

CREATE FUNCTION @extschema@.reclock_refresh(token pg_catalog.uuid, ttl pg_catalog.interval DEFAULT NULL)
RETURNS pg_catalog.timestamptz
AS 'MODULE_PATHNAME', 'reclock_refresh'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.reclock_refresh(pg_catalog.uuid, pg_catalog.interval)
	IS 'extend a live lock; NULL if it is not live any more';

CREATE FUNCTION @extschema@.reclock_release(token pg_catalog.uuid)
RETURNS pg_catalog.bool
AS 'MODULE_PATHNAME', 'reclock_release'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.reclock_release(pg_catalog.uuid)
	IS 'end a lock; true if it was live';

CREATE FUNCTION @extschema@.reclock_break(tbl pg_catalog.regclass, key pg_catalog.text)
RETURNS pg_catalog.bool
AS 'MODULE_PATHNAME', 'reclock_break'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.reclock_break(pg_catalog.regclass, pg_catalog.text)
	IS 'end anyone''s lock on a row (table owner or superuser)';

CREATE FUNCTION @extschema@.reclock_sweep()
RETURNS pg_catalog.int8
AS 'MODULE_PATHNAME', 'reclock_sweep'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.reclock_sweep()
	IS 'delete dead locks from the lock store; returns how many';

-- The clock reclock judges expiry by: clock_timestamp(), shifted only in a
-- test build (reclock.test_clock_offset).  Used by the view.
CREATE FUNCTION @extschema@.reclock_clock()
RETURNS pg_catalog.timestamptz
AS 'MODULE_PATHNAME', 'reclock_clock'
LANGUAGE C VOLATILE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.reclock_clock()
	IS 'the clock reclock judges expiry by';

--
-- The guard.
--

CREATE FUNCTION @extschema@.reclock_guard()
RETURNS trigger
AS 'MODULE_PATHNAME', 'reclock_guard'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.reclock_guard()
	IS 'row trigger: refuse UPDATE or DELETE of a locked row without its token';

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

CREATE FUNCTION @extschema@.reclock_notice()
RETURNS trigger
AS 'MODULE_PATHNAME', 'reclock_notice'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.reclock_notice()
	IS 'row trigger AFTER the writes of a table with change notices on, or of a child table below one: the notices of the rows written';

CREATE FUNCTION @extschema@.reclock_guard_truncate()
RETURNS trigger
AS 'MODULE_PATHNAME', 'reclock_guard_truncate'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.reclock_guard_truncate()
	IS 'statement trigger: refuse TRUNCATE of a table with live locks';

CREATE FUNCTION @extschema@.reclock_protect(tbl pg_catalog.regclass, require_lock pg_catalog.bool DEFAULT false,
	parent pg_catalog.regclass DEFAULT NULL, parent_fk pg_catalog.name DEFAULT NULL)
RETURNS void
AS 'MODULE_PATHNAME', 'reclock_protect'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.reclock_protect(pg_catalog.regclass, pg_catalog.bool, pg_catalog.regclass, pg_catalog.name)
	IS 'attach the guard to a table, or to a child table of parent (idempotent)';

CREATE FUNCTION @extschema@.reclock_unprotect(tbl pg_catalog.regclass)
RETURNS void
AS 'MODULE_PATHNAME', 'reclock_unprotect'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.reclock_unprotect(pg_catalog.regclass)
	IS 'remove the guard from a table';

--
-- Compare-and-swap.
--

CREATE FUNCTION @extschema@.reclock_cas(tbl pg_catalog.regclass, key pg_catalog.text, expected pg_catalog.jsonb, new pg_catalog.jsonb DEFAULT NULL)
RETURNS pg_catalog.bool
AS 'MODULE_PATHNAME', 'reclock_cas'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.reclock_cas(pg_catalog.regclass, pg_catalog.text, pg_catalog.jsonb, pg_catalog.jsonb)
	IS 'swap a row only if the named columns still hold the expected values';

CREATE FUNCTION @extschema@.reclock_diff(tbl pg_catalog.regclass, key pg_catalog.text, expected pg_catalog.jsonb)
RETURNS pg_catalog.jsonb
AS 'MODULE_PATHNAME', 'reclock_diff'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL RESTRICTED;
COMMENT ON FUNCTION @extschema@.reclock_diff(pg_catalog.regclass, pg_catalog.text, pg_catalog.jsonb)
	IS 'which of the named columns differ from the expected values';

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

--
-- Change notices.
--

CREATE FUNCTION @extschema@.reclock_notify(tbl pg_catalog.regclass, enabled pg_catalog.bool DEFAULT true)
RETURNS void
AS 'MODULE_PATHNAME', 'reclock_notify'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.reclock_notify(pg_catalog.regclass, pg_catalog.bool)
	IS 'turn change notices (NOTIFY reclock) for a table on or off';

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
-- collations, also through an inheritance parent), or of the text of a type
-- a key is made of (an enum label renamed, an attribute of a composite or
-- of a table's row type added, dropped or retyped), would lose its live
-- locks: the command is refused then (55006).  The watch concerns only the
-- objects the command changes, reads no key back, and waits for nobody.
--

CREATE FUNCTION @extschema@.reclock_ddl_watch()
RETURNS event_trigger
AS 'MODULE_PATHNAME', 'reclock_ddl_watch'
LANGUAGE C;
COMMENT ON FUNCTION @extschema@.reclock_ddl_watch()
	IS 'event trigger: refuse DDL that changes how a table with live locks names its rows';
REVOKE ALL ON FUNCTION @extschema@.reclock_ddl_watch() FROM PUBLIC;

CREATE EVENT TRIGGER reclock_ddl_start ON ddl_command_start
	WHEN TAG IN ('ALTER TABLE', 'ALTER TYPE', 'ALTER FOREIGN TABLE', 'DROP TABLE')
	EXECUTE FUNCTION @extschema@.reclock_ddl_watch();
CREATE EVENT TRIGGER reclock_ddl_end ON ddl_command_end
	WHEN TAG IN ('ALTER TABLE', 'ALTER TYPE', 'ALTER FOREIGN TABLE', 'DROP TABLE')
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

--
-- The view.  Its rows come from a C function that reads the store and
-- keeps only the locks the caller may see: of tables it may read (SELECT on
-- the table or a column), and where row-level security applies to it, of
-- rows it can see.  No token is shown (the store has none, only hashes,
-- and the view does not show those).  The filtering happens inside the
-- function, so no condition of the caller's query (a function in WHERE, a
-- leakproof = or < on key) is ever evaluated on a lock it may not see, and
-- EXPLAIN ANALYZE counts only the rows it may see.
--

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

CREATE VIEW @extschema@.reclock_locks WITH (security_barrier) AS
SELECT l.relation, l.key COLLATE pg_catalog."C" AS key, l.holder, l.fence, l.acquired_at, l.expires_at, l.acquired_by
  FROM @extschema@.reclock_visible_locks() l;
COMMENT ON VIEW @extschema@.reclock_locks IS 'one row per live lock (tokens are never shown)';

GRANT SELECT ON @extschema@.reclock_locks TO PUBLIC;

--
-- Citus (1.3): which lock store and token store serve each protected
-- distributed table.  Each store is a distributed table of its own,
-- co-located with its table (its shards sit beside the table's shards, on
-- the node where the guard fires), made by reclock_protect and dropped by
-- reclock_unprotect.  This table is made a Citus reference table by the
-- first reclock_protect of a distributed table; it is read on the
-- coordinator only (a node added later gets its placement by Citus's
-- binary copy, with the coordinator's OIDs): a worker finds a table's stores
-- through the table's guard trigger, which names them.  On a database
-- without Citus it stays empty.
--
CREATE TABLE @extschema@.reclock_citus_tables (
	tbl			pg_catalog.regclass NOT NULL,
	locks		pg_catalog.regclass NOT NULL,
	tokens		pg_catalog.regclass NOT NULL,
	CONSTRAINT reclock_citus_tables_pkey PRIMARY KEY (tbl)
) USING heap;
COMMENT ON TABLE @extschema@.reclock_citus_tables IS 'reclock internal: the lock and token stores of protected Citus distributed tables';
REVOKE ALL ON @extschema@.reclock_citus_tables FROM PUBLIC;
GRANT SELECT ON @extschema@.reclock_citus_tables TO pg_database_owner;

-- Citus (1.3): the routing index of token lookups on the coordinator
-- (docs/citus.md, build plan step 8).  One row per token handed out by
-- reclock_acquire of a protected distributed table's row: its SHA-256 hash,
-- the table, the grant's fence, the row's distribution value as text
-- (printed exactly, as every node reads it) and the grant's expiry (the
-- worker's clock).  reclock_valid, reclock_refresh and reclock_release find
-- the token's row here and send one statement to the row's node, whose
-- stores decide: the index is never an authority.  Written in the acquiring
-- transaction as the extension owner; release and break delete a grant's
-- rows, acquires reclaim dead ones a few at a time.  A plain table of the
-- coordinator's: Citus neither distributes nor replicates it (no key refers
-- to a Citus table).
CREATE TABLE @extschema@.reclock_citus_routes (
	hash		pg_catalog.bytea NOT NULL,
	tbl			pg_catalog.regclass NOT NULL,
	fence		pg_catalog.int8 NOT NULL,
	dist		pg_catalog.text NOT NULL,
	expires_at	pg_catalog.timestamptz NOT NULL,
	CONSTRAINT reclock_citus_routes_pkey PRIMARY KEY (hash)
) USING heap;
CREATE INDEX reclock_citus_routes_fence_idx ON @extschema@.reclock_citus_routes (fence);
CREATE INDEX reclock_citus_routes_expiry_idx ON @extschema@.reclock_citus_routes (expires_at);
COMMENT ON TABLE @extschema@.reclock_citus_routes IS 'reclock internal: where the grant of each token of a protected Citus distributed table lives';
-- Private, as the token store (hashes only; the database's owner may read
-- what pg_dump dumps).
REVOKE ALL ON @extschema@.reclock_citus_routes FROM PUBLIC;
GRANT SELECT ON @extschema@.reclock_citus_routes TO pg_database_owner;
SELECT pg_catalog.pg_extension_config_dump('@extschema@.reclock_citus_routes', '');

-- Citus (1.3): the worker side of reclock_acquire on a protected
-- distributed table, run on the row's node by one routed statement from the
-- coordinator (called for the row itself, with the shard's OID; with
-- reclock.reentry = token there, the hashes of the tokens the coordinator's
-- transaction presents).
CREATE FUNCTION @extschema@.reclock_citus_grant(shard pg_catalog.regclass, key pg_catalog.text,
	holder pg_catalog.text, ttl_usecs pg_catalog.int8, fence pg_catalog.int8, hash pg_catalog.bytea,
	reentry_token pg_catalog.bool, presented pg_catalog.bytea[],
	OUT reclock_acquired pg_catalog.bool, OUT reclock_holder pg_catalog.text,
	OUT reclock_expires_at pg_catalog.timestamptz, OUT reclock_fence pg_catalog.int8)
RETURNS record
AS 'MODULE_PATHNAME', 'reclock_citus_grant'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;

-- Citus (1.3, review2): the guards of protected Citus tables.  The same C
-- functions as reclock_guard and reclock_guard_child; on a worker, a
-- guard names its table's stores (stores=reclock_store_<n>), and only a
-- guard that calls one of these is believed.  No role but reclock's owner
-- may execute them, so none but reclock_protect (which makes the guard as
-- reclock's owner) can make such a guard: a role that could make a trigger
-- naming another table's stores on a table of its own could otherwise stop
-- that table's writes on the workers.
CREATE FUNCTION @extschema@.reclock_guard_citus()
RETURNS trigger
AS 'MODULE_PATHNAME', 'reclock_guard'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
REVOKE ALL ON FUNCTION @extschema@.reclock_guard_citus() FROM PUBLIC;
CREATE FUNCTION @extschema@.reclock_guard_child_citus()
RETURNS trigger
AS 'MODULE_PATHNAME', 'reclock_guard_child'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
REVOKE ALL ON FUNCTION @extschema@.reclock_guard_child_citus() FROM PUBLIC;

-- Citus (1.3): the worker side of reclock_cas_children under REPEATABLE READ
-- or SERIALIZABLE, run on the parent row's node by one routed statement
-- from the coordinator, as the caller, for the parent row itself (its
-- shard and ctid): the children of that row in the co-located child shard
-- counted with the latest snapshot, as one node counts them.
CREATE FUNCTION @extschema@.reclock_citus_children_latest(parent_shard pg_catalog.regclass,
	parent_row pg_catalog.tid, child pg_catalog.text, fk pg_catalog.name)
RETURNS pg_catalog.int8
AS 'MODULE_PATHNAME', 'reclock_citus_children_latest'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;

-- Citus (1.3): the worker side of reclock_refresh of a grant of a protected
-- distributed table's row, run on the row's node by one routed statement
-- from the coordinator, as the extension owner (no one else executes it).
CREATE FUNCTION @extschema@.reclock_citus_refresh(tokens pg_catalog.regclass, dist anyelement,
	hash pg_catalog.bytea, ttl_usecs pg_catalog.int8)
RETURNS pg_catalog.timestamptz
AS 'MODULE_PATHNAME', 'reclock_citus_refresh'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
REVOKE ALL ON FUNCTION @extschema@.reclock_citus_refresh(pg_catalog.regclass, anyelement, pg_catalog.bytea, pg_catalog.int8) FROM PUBLIC;

-- The change notices of a protected distributed table's rows (c-notices): run
-- on a worker by the coordinator's collection at its pre-commit, over the
-- connection that wrote them; takes (deletes and returns) one row of a notice
-- store shard written by the caller's own transaction, NULL for any other.
-- Any role that writes such a table runs it (it takes only its own notices).
CREATE FUNCTION @extschema@.reclock_citus_notice_take(shard pg_catalog.oid, xid pg_catalog.xid8,
	n pg_catalog.int8)
RETURNS pg_catalog.text
AS 'MODULE_PATHNAME', 'reclock_citus_notice_take'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;

-- Citus (1.3): the row trigger of a protected reference table's lock store
-- (itself a reference table): on every placement, in the local transaction
-- that writes that placement's grant, it locks the granted row FOR UPDATE
-- in the protected table's placement on the same node (docs/citus.md F14).
CREATE FUNCTION @extschema@.reclock_citus_ref_meet()
RETURNS trigger
AS 'MODULE_PATHNAME', 'reclock_citus_ref_meet'
LANGUAGE C;
REVOKE ALL ON FUNCTION @extschema@.reclock_citus_ref_meet() FROM PUBLIC;

-- Citus (1.3, c6-mark): the row trigger of a protected distributed table's
-- marks store (reclock_store_<oid>_marks, co-located with the table): it
-- skips every row, so the store never holds one.  An application role's
-- INSERT of no row into it is the write mark of its acquire or refresh
-- (docs/citus.md, "Atomicity of an acquire under failure").
CREATE FUNCTION @extschema@.reclock_citus_mark()
RETURNS trigger
AS 'MODULE_PATHNAME', 'reclock_citus_mark'
LANGUAGE C;
REVOKE ALL ON FUNCTION @extschema@.reclock_citus_mark() FROM PUBLIC;
-- Citus (1.3, c6-view): the worker side of reclock_sweep() on a protected
-- distributed table, run on the lock row's node by the coordinator's sweep at
-- its pre-commit, as the extension owner (no one else executes it): deletes
-- the lock row of grant fence in a lock store shard if it is dead by both
-- the coordinator's clock (now) and this node's, and not locked by anyone
-- (a renewal in flight wins), with its token hashes beside it.
CREATE FUNCTION @extschema@.reclock_citus_sweep_lock(shard pg_catalog.oid, fence pg_catalog.int8,
	now pg_catalog.timestamptz)
RETURNS pg_catalog.bool
AS 'MODULE_PATHNAME', 'reclock_citus_sweep_lock'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
REVOKE ALL ON FUNCTION @extschema@.reclock_citus_sweep_lock(pg_catalog.oid, pg_catalog.int8, pg_catalog.timestamptz) FROM PUBLIC;
