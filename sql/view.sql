--
-- view: reclock_locks shows a role only the locks of tables it may read
-- and, of a table where row-level security applies to it, none; no condition of its
-- query is evaluated on another lock, so neither a function in WHERE nor
-- EXPLAIN ANALYZE's row counts tell anything of them (CONTRACT.md, "View:
-- reclock_locks").
--
\set VERBOSITY terse
CREATE ROLE rv_alice;
CREATE ROLE rv_eve;
CREATE ROLE rv_bob;
CREATE SCHEMA rv AUTHORIZATION rv_alice;
GRANT USAGE ON SCHEMA rv TO PUBLIC;

-- alice's secret table: eve may not read it
SET ROLE rv_alice;
CREATE TABLE rv.secret (id int PRIMARY KEY, v text);
INSERT INTO rv.secret SELECT g, 'x' FROM generate_series(1, 10) g;
SELECT acquired FROM reclock_acquire('rv.secret', '5', 'alice', '1 hour');
-- a shared table under row-level security: each tenant sees its own rows
CREATE TABLE rv.tenants (id int PRIMARY KEY, tenant name, v text);
INSERT INTO rv.tenants VALUES (1, 'rv_eve', 'e'), (2, 'rv_bob', 'b');
ALTER TABLE rv.tenants ENABLE ROW LEVEL SECURITY;
CREATE POLICY own ON rv.tenants USING (tenant = current_user);
GRANT SELECT, UPDATE ON rv.tenants TO rv_eve, rv_bob;
RESET ROLE;
SET ROLE rv_bob;
SELECT acquired FROM reclock_acquire('rv.tenants', '2', 'bob', '1 hour');
RESET ROLE;
SET ROLE rv_eve;
SELECT acquired FROM reclock_acquire('rv.tenants', '1', 'eve', '1 hour');

-- row-level security applies to eve on rv.tenants: she sees none of its
-- locks (telling which rows she may see would run the policies -- another
-- role's code -- as her)
SELECT relation, key, holder, acquired_by FROM reclock_locks WHERE relation::text LIKE 'rv.%' ORDER BY 1, 2;
-- the planner evaluates her conditions only on what she may see: the same
-- plan and counts for a locked key she may not see and for a free one
-- (its plans, with the row counts as every major prints them: 18 shows
-- fractional counts and buffers by default)
CREATE FUNCTION pg_temp.plan(q text) RETURNS SETOF text LANGUAGE plpgsql AS $f$
DECLARE l text;
BEGIN
  FOR l IN EXECUTE 'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF, BUFFERS OFF) ' || q LOOP
    RETURN NEXT regexp_replace(l, 'rows=([0-9]+)\.[0-9]+', 'rows=\1');
  END LOOP;
END $f$;
SELECT pg_temp.plan($q$SELECT * FROM reclock_locks WHERE key = '5'$q$);
SELECT pg_temp.plan($q$SELECT * FROM reclock_locks WHERE key = '6'$q$);
SELECT pg_temp.plan($q$SELECT * FROM reclock_locks WHERE key = '2'$q$);
SELECT pg_temp.plan($q$SELECT * FROM reclock_locks WHERE key > '4' AND key < '6'$q$);
-- a function of hers in WHERE sees no key of it
CREATE FUNCTION pg_temp.peek(text) RETURNS boolean LANGUAGE plpgsql COST 0.0000001 AS
$$ BEGIN RAISE NOTICE 'peek: %', $1; RETURN true; END $$;
SELECT count(*) FROM reclock_locks WHERE pg_temp.peek(key);
-- calling the view's function directly tells no more
SELECT count(*) FROM reclock_visible_locks() WHERE relation::text LIKE 'rv.%';
DROP FUNCTION pg_temp.peek(text), pg_temp.plan(text);
RESET ROLE;

-- bob neither (row-level security applies to him too); alice owns both
-- tables (row-level security does not apply to a table's owner) and sees
-- all three, as the superuser does
SET ROLE rv_bob;
SELECT relation, key, holder FROM reclock_locks WHERE relation::text LIKE 'rv.%' ORDER BY 1, 2;
RESET ROLE;
SET ROLE rv_alice;
SELECT relation, key, holder FROM reclock_locks WHERE relation::text LIKE 'rv.%' ORDER BY 1, 2;
RESET ROLE;
SELECT relation, key, holder FROM reclock_locks WHERE relation::text LIKE 'rv.%' ORDER BY 1, 2;

DROP SCHEMA rv CASCADE;
DROP ROLE rv_alice, rv_eve, rv_bob;
