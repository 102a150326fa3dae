--
-- keys_elsewhere: a lock of one role's table never makes another
-- role's ALTER TABLE of its own table fail (CONTRACT.md "No role holds up
-- another": "no lock of one role's table makes another role's DDL fail";
-- README "Security model": "make Bob's DDL fail with a lock of her own
-- table | cannot: ALTER TABLE of Bob's table concerns only Bob's table's
-- locks").
--
-- rr_bob owns a plain table rr_rb.addr (its schema is open to PUBLIC, as
-- in a shared database).  rr_mallory keys a table of her own by bob's row
-- type and locks a row of it.  PostgreSQL itself lets bob add and drop
-- columns of his table then.
--
\set VERBOSITY terse
\i sql/include/try.sql
CREATE ROLE rr_mallory;
CREATE ROLE rr_bob;
CREATE SCHEMA rr_rb AUTHORIZATION rr_bob;
GRANT USAGE ON SCHEMA rr_rb TO PUBLIC;
CREATE SCHEMA rr_rm AUTHORIZATION rr_mallory;

SET ROLE rr_bob;
CREATE TABLE rr_rb.addr (street text, no int);
RESET ROLE;

SET ROLE rr_mallory;
CREATE TABLE rr_rm.k (a rr_rb.addr PRIMARY KEY);
INSERT INTO rr_rm.k VALUES (ROW('x', 1));
-- a key made of a table's row type cannot be locked (0A000)
SELECT try($$SELECT reclock_acquire('rr_rm.k', '(x,1)', 'mallory', '1 day')$$);
SELECT try($$SELECT reclock_protect('rr_rm.k')$$);
RESET ROLE;

SET ROLE rr_bob;
SELECT try('ALTER TABLE rr_rb.addr ADD COLUMN zip text');
SELECT try('ALTER TABLE rr_rb.addr DROP COLUMN no');
RESET ROLE;

-- a permanent table keyed by a temporary type (a domain in pg_temp) cannot
-- be locked: the type, and the key column with it, go at session end
CREATE DOMAIN pg_temp.ke_dd AS int;
CREATE TABLE ke_pt (k pg_temp.ke_dd PRIMARY KEY);
INSERT INTO ke_pt VALUES (1);
SELECT try($$SELECT reclock_acquire('ke_pt', '1', 'alice')$$);
SELECT try($$SELECT reclock_protect('ke_pt')$$);
DROP TABLE ke_pt;
-- a composite type made with CREATE TYPE ... AS is a key like any other
CREATE TYPE ke_pair AS (a int, b int);
CREATE TABLE ke_ok (k ke_pair PRIMARY KEY);
INSERT INTO ke_ok VALUES (ROW(1, 2));
SELECT acquired FROM reclock_acquire('ke_ok', '(1,2)', 'alice');
DROP TABLE ke_ok;
DROP TYPE ke_pair;

DROP SCHEMA rr_rm CASCADE;
DROP SCHEMA rr_rb CASCADE;
DROP ROLE rr_mallory, rr_bob;
