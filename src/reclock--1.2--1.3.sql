/* src/reclock--1.2--1.3.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION reclock UPDATE TO '1.3'" to load this file. \quit

--
-- Citus (1.3): which lock store and token store serve each protected
-- distributed table.  Each store is a distributed table of its own,
-- co-located with its table (its shards sit beside the table's shards, on
-- the node where the guard fires), made by reclock_protect and dropped by
-- reclock_unprotect.  This table is made a Citus reference table by the
-- first reclock_protect of a distributed table, so that the guard on every
-- node finds the stores by its own OIDs (regclass travels as a name).  On a
-- database without Citus it stays empty.
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
