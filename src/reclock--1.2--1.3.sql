/* src/reclock--1.2--1.3.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION reclock UPDATE TO '1.3'" to load this file. \quit

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
