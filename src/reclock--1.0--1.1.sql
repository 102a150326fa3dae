/* src/reclock--1.0--1.1.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION reclock UPDATE TO '1.1'" to load this file. \quit

-- Every live lock and token stays as it is: the store's rows are not touched.

-- Fences stay above every fence issued, also after a later DROP EXTENSION
-- reclock CASCADE and CREATE EXTENSION (1.1 starts them at the clock in
-- microseconds).
SELECT pg_catalog.setval('@extschema@.reclock_fence_seq',
	GREATEST(
		(SELECT last_value FROM @extschema@.reclock_fence_seq),
		pg_catalog.floor(pg_catalog.date_part('epoch', pg_catalog.clock_timestamp()) * 1000000)::pg_catalog.int8));

-- The database's owner may read what pg_dump dumps.
GRANT SELECT ON @extschema@.reclock_lock_store, @extschema@.reclock_token_store,
	@extschema@.reclock_notify_store TO pg_database_owner;
GRANT SELECT ON SEQUENCE @extschema@.reclock_fence_seq TO pg_database_owner;
