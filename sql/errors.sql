--
-- errors: every bad input gets the contract's SQLSTATE, and changes nothing
--
\set VERBOSITY terse
\set SHOW_CONTEXT never
CREATE TABLE e (id int PRIMARY KEY, v text);
INSERT INTO e VALUES (1, 'a'), (2, 'b');
CREATE TABLE e_nopk (id int, v text);
INSERT INTO e_nopk VALUES (1, 'a');
CREATE TABLE e_comp (a int, b date, PRIMARY KEY (a, b));
INSERT INTO e_comp VALUES (1, '2024-05-01');
CREATE VIEW e_view AS SELECT * FROM e;
CREATE SEQUENCE e_seq;
-- the locks earlier tests left (expiry's test clock ends them; a production
-- build runs this test without it)
SELECT count(*) AS locks_before FROM reclock_locks \gset

\i sql/include/try.sql

-- NULL arguments (22004)
SELECT try($$SELECT reclock_acquire(NULL, '1', 'alice')$$);
SELECT try($$SELECT reclock_acquire('e', NULL, 'alice')$$);
SELECT try($$SELECT reclock_acquire('e', '1', NULL)$$);
SELECT try($$SELECT reclock_break(NULL, '1')$$);
SELECT try($$SELECT reclock_break('e', NULL)$$);
-- empty holder (22023)
SELECT try($$SELECT reclock_acquire('e', '1', '')$$);
-- bad ttls (22023): zero, negative, months, years, over max_ttl, infinite-ish
SELECT try($$SELECT reclock_acquire('e', '1', 'alice', '0')$$);
SELECT try($$SELECT reclock_acquire('e', '1', 'alice', '-5 min')$$);
SELECT try($$SELECT reclock_acquire('e', '1', 'alice', '1 mon')$$);
SELECT try($$SELECT reclock_acquire('e', '1', 'alice', '1 year')$$);
SELECT try($$SELECT reclock_acquire('e', '1', 'alice', '1 day 1 second')$$);
SELECT try($$SELECT reclock_acquire('e', '1', 'alice', '178000000 years')$$);
SELECT try($$SELECT reclock_acquire('e', '1', 'alice', '-1 day 1 hour')$$);
SELECT try($$SELECT reclock_acquire('e', '1', 'alice', '1 day 00:00:00.000001')$$);
SET reclock.default_ttl = '2d';
SELECT try($$SELECT reclock_acquire('e', '1', 'alice')$$);
RESET reclock.default_ttl;
SELECT try($$SELECT reclock_refresh('00000000-0000-4000-8000-000000000000', '0')$$);
SELECT try($$SELECT reclock_refresh('00000000-0000-4000-8000-000000000000', '1 mon')$$);
-- not a table (42809)
SELECT try($$SELECT reclock_acquire('e_view', '1', 'alice')$$);
SELECT try($$SELECT reclock_acquire('e_seq', '1', 'alice')$$);
SELECT try($$SELECT reclock_acquire('pg_class_oid_index', '1', 'alice')$$);
-- no primary key (55000), naming the table
SELECT try($$SELECT reclock_acquire('e_nopk', '1', 'alice')$$);
SELECT try($$SELECT reclock_protect('e_nopk')$$);
-- keys the key types cannot parse, or the wrong arity (22P02)
SELECT try($$SELECT reclock_acquire('e', 'abc', 'alice')$$);
SELECT try($$SELECT reclock_acquire('e', '', 'alice')$$);
SELECT try($$SELECT reclock_acquire('e', '99999999999', 'alice')$$);
SELECT try($$SELECT reclock_acquire('e_comp', '1', 'alice')$$);
SELECT try($$SELECT reclock_acquire('e_comp', '(1)', 'alice')$$);
SELECT try($$SELECT reclock_acquire('e_comp', '(1,2024-05-01,3)', 'alice')$$);
SELECT try($$SELECT reclock_acquire('e_comp', '(1,notadate)', 'alice')$$);
SELECT try($$SELECT reclock_acquire('e_comp', '(1,)', 'alice')$$);
-- no such row (P0002)
SELECT try($$SELECT reclock_acquire('e', '3', 'alice')$$);
SELECT try($$SELECT reclock_acquire('e_comp', '(1,2024-05-02)', 'alice')$$);
-- a relation that does not exist is regclass's own error
SELECT try($$SELECT reclock_acquire('nosuch', '1', 'alice')$$);
-- an OID that names no relation (dropped, or never made) is 42P01, in
-- every function that takes a table
CREATE TABLE e_gone (id int PRIMARY KEY);
SELECT 'e_gone'::regclass::oid AS gone \gset
DROP TABLE e_gone;
SELECT f, replace(try(format(f, :gone)), :'gone', '<oid>') AS dropped, try(format(f, 0)) AS zero
  FROM unnest(ARRAY[
    'SELECT reclock_acquire(%s, ''1'', ''alice'')',
    'SELECT reclock_break(%s, ''1'')',
    'SELECT reclock_cas(%s, ''1'', ''{}'')',
    'SELECT reclock_diff(%s, ''1'', ''{}'')',
    'SELECT reclock_protect(%s)',
    'SELECT reclock_protect(''e'', parent => %s)',
    'SELECT reclock_unprotect(%s)',
    'SELECT reclock_notify(%s)',
    'SELECT reclock_cas_children(%s, ''1'', ''[]'')',
    'SELECT reclock_diff_children(%s, ''1'', ''[]'')']) AS f;
-- a key that is valid for the type but out of its range is still 22P02
SELECT try($$SELECT reclock_acquire('e', '1.5', 'alice')$$);
SELECT try($$SELECT reclock_break('e', 'x')$$);
-- a malformed reclock.token is an error, and never echoes the value
SELECT try($$SET reclock.token = 'not-a-uuid'$$);
SELECT try($$SET reclock.token = '00000000-0000-4000-8000-000000000000,'$$);
SELECT try($$SET reclock.token = ',00000000-0000-4000-8000-000000000000'$$);
SELECT try($$SET reclock.token = '{00000000-0000-4000-8000-000000000000}'$$);
SELECT try($$SET reclock.token = '00000000-0000-4000-8000-000000000000-'$$);
SELECT try($$SET reclock.token = '00000000-0000-4000-8000-00000000000'$$);
SELECT try($$SET reclock.token = '00000000-0000-4000-8000-000000000000, 00000000-0000-4000-8000-000000000001'$$);
SELECT try($$SET reclock.token = ''$$);
-- reclock.max_ttl is for superusers; the prefix is reserved
SELECT try($$SET reclock.no_such_setting = 1$$);

-- nothing was written by any of these
SELECT count(*) - :locks_before AS new_locks FROM reclock_locks;
SELECT count(*) FROM pg_locks WHERE locktype = 'advisory';

-- an error after a grant in the same statement rolls the grant back
SELECT try($$SELECT reclock_acquire('e', '1', 'alice'), 1/0$$);
SELECT count(*) - :locks_before AS new_locks FROM reclock_locks;

-- on a read-only transaction: PostgreSQL's read-only error (25006)
BEGIN READ ONLY;
SELECT try($$SELECT reclock_acquire('e', '1', 'alice')$$);
SELECT try($$SELECT reclock_release('00000000-0000-4000-8000-000000000000')$$);
SELECT reclock_valid('00000000-0000-4000-8000-000000000000');
COMMIT;

