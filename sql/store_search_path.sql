--
-- store_search_path: reclock writes the store as its owner, and a DBA's
-- index (its expressions, predicate or operator class), or CHECK
-- constraint, on the store runs its functions in that write.  A role that calls reclock_acquire must not get
-- its own code run as the store's owner through its search_path: the DBA's
-- SQL functions below name upper() unqualified (as ordinary functions do),
-- and a role with a schema of its own puts that schema first.  reclock runs
-- such writes under search_path = pg_catalog, pg_temp, as a SECURITY
-- DEFINER function's SET clause would.  (A trigger on the store is refused:
-- store.sql.)
--
\set VERBOSITY terse
CREATE ROLE sp_mallory;
CREATE SCHEMA sp_evil AUTHORIZATION sp_mallory;
CREATE TABLE sp_pwned (who name, su bool);
GRANT INSERT ON sp_pwned TO PUBLIC;
CREATE TABLE spt (id int PRIMARY KEY, v int);
INSERT INTO spt VALUES (1, 0), (2, 0), (3, 0), (4, 0), (5, 0);
ALTER TABLE spt OWNER TO sp_mallory;
SET ROLE sp_mallory;
SELECT reclock_protect('spt');
CREATE FUNCTION sp_evil.upper(text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO public.sp_pwned
    SELECT current_user, rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user;
  RETURN $1;
END $$;
RESET ROLE;
CREATE FUNCTION sp_norm(text) RETURNS text LANGUAGE sql IMMUTABLE AS 'SELECT upper($1)';
-- an expression index, and a partial index whose predicate calls it
CREATE INDEX sp_norm_idx ON reclock_lock_store (sp_norm(holder));
CREATE INDEX sp_part_idx ON reclock_lock_store (fence) WHERE sp_norm(holder) <> '';
SET ROLE sp_mallory;
SET search_path = sp_evil, pg_catalog, public;
SELECT acquired FROM reclock_acquire('spt', '1', 'mallory', '1 min');
RESET search_path;
RESET ROLE;
-- mallory's function never ran as anyone else, and the index holds
-- PostgreSQL's upper() of the holder
SELECT count(*) AS ran_as_other FROM sp_pwned WHERE who <> 'sp_mallory';
SET enable_seqscan = off;
SELECT count(*) AS by_index FROM reclock_lock_store WHERE sp_norm(holder) = 'MALLORY';
RESET enable_seqscan;
DROP INDEX sp_norm_idx, sp_part_idx;
-- a CHECK constraint
ALTER TABLE reclock_lock_store ADD CONSTRAINT sp_check CHECK (sp_norm(holder) <> '');
SET ROLE sp_mallory;
SET search_path = sp_evil, pg_catalog, public;
SELECT acquired FROM reclock_acquire('spt', '2', 'mallory', '1 min');
RESET search_path;
RESET ROLE;
SELECT count(*) AS ran_as_other FROM sp_pwned WHERE who <> 'sp_mallory';
ALTER TABLE reclock_lock_store DROP CONSTRAINT sp_check;
-- an index on a plain column whose operator class's support function
-- names upper() unqualified
CREATE FUNCTION sp_cmp(text, text) RETURNS int LANGUAGE sql IMMUTABLE
  AS 'SELECT bttextcmp(upper($1), upper($2))';
CREATE OPERATOR CLASS sp_ops FOR TYPE text USING btree AS
  OPERATOR 1 <, OPERATOR 2 <=, OPERATOR 3 =, OPERATOR 4 >=, OPERATOR 5 >,
  FUNCTION 1 sp_cmp(text, text);
CREATE INDEX sp_opc_idx ON reclock_lock_store (holder sp_ops);
SET ROLE sp_mallory;
SET search_path = sp_evil, pg_catalog, public;
SELECT acquired FROM reclock_acquire('spt', '3', 'mallory2', '1 min');
RESET search_path;
RESET ROLE;
SELECT count(*) AS ran_as_other FROM sp_pwned WHERE who <> 'sp_mallory';
DROP INDEX sp_opc_idx;
DROP OPERATOR CLASS sp_ops USING btree;
DROP FUNCTION sp_cmp(text, text);
-- a rule on the store would never run (reclock writes no statement): refused
CREATE TABLE sp_rulelog (what text);
CREATE RULE sp_rule AS ON INSERT TO reclock_lock_store DO ALSO INSERT INTO sp_rulelog VALUES ('ins');
SELECT acquired FROM reclock_acquire('spt', '4', 'mallory', '1 min');
DROP RULE sp_rule ON reclock_lock_store;
DROP TABLE sp_rulelog;
-- the caller's own search_path is its own again after the write
SET ROLE sp_mallory;
SET search_path = sp_evil, pg_catalog, public;
SELECT acquired FROM reclock_acquire('spt', '5', 'mallory', '1 min');
SHOW search_path;
RESET search_path;
RESET ROLE;
DROP FUNCTION sp_norm(text);
DROP TABLE sp_pwned, spt;
DROP SCHEMA sp_evil CASCADE;
DROP ROLE sp_mallory;
