--
-- keys_session: a key's canonical form does not depend on the session.
-- reg* keys (regclass, regtype, regproc, ...) are written with the schema
-- unless the object is in pg_catalog, whatever the session's search_path
-- or quote_all_identifiers; a key is still read as the session means it.
--
\set VERBOSITY terse
\i sql/include/try.sql

CREATE SCHEMA ks;
CREATE TABLE ks.orders (id int PRIMARY KEY);
CREATE TYPE ks.mood AS ENUM ('ok');
CREATE FUNCTION ks.f() RETURNS int LANGUAGE sql AS 'SELECT 1';

-- settings tables keyed by a table, a type, a function
CREATE TABLE ks_by_table (tbl regclass PRIMARY KEY, v int);
CREATE TABLE ks_by_type (typ regtype PRIMARY KEY, v int);
CREATE TABLE ks_by_proc (fn regproc PRIMARY KEY, v int);
SET search_path = ks, public;
INSERT INTO ks_by_table VALUES ('orders', 1), ('pg_class', 1);
INSERT INTO ks_by_type VALUES ('mood', 1);
INSERT INTO ks_by_proc VALUES ('f', 1);
SELECT reclock_protect('ks_by_table');
SELECT reclock_protect('ks_by_type');
SELECT reclock_protect('ks_by_proc');

-- alice locks under search_path = ks, public: the keys name their schema
SELECT token AS tok_table FROM reclock_acquire('ks_by_table', 'orders', 'alice') \gset
SELECT acquired FROM reclock_acquire('ks_by_type', 'mood', 'alice');
SELECT acquired FROM reclock_acquire('ks_by_proc', 'f', 'alice');
SELECT acquired FROM reclock_acquire('ks_by_table', 'pg_class', 'alice');
SELECT relation, key FROM reclock_locks
 WHERE relation IN ('ks_by_table'::regclass, 'ks_by_type'::regclass, 'ks_by_proc'::regclass)
 ORDER BY relation::text, key;

-- bob, with another search_path, writes the same rows: refused
SET search_path = pg_catalog;
SELECT public.try($$UPDATE public.ks_by_table SET v = 2 WHERE tbl = 'ks.orders'::regclass$$);
SELECT public.try($$DELETE FROM public.ks_by_type WHERE typ = 'ks.mood'::regtype$$);
SELECT public.try($$UPDATE public.ks_by_proc SET v = 2 WHERE fn = 'ks.f'::regproc$$);
SELECT public.try($$UPDATE public.ks_by_table SET v = 2 WHERE tbl = 'pg_class'::regclass$$);
-- and acquiring them meets alice's locks, not a second grant
SELECT acquired, holder FROM public.reclock_acquire('public.ks_by_table', 'ks.orders', 'bob');
SELECT acquired, holder FROM public.reclock_acquire('public.ks_by_type', 'ks.mood', 'bob');
SELECT acquired, holder FROM public.reclock_acquire('public.ks_by_proc', 'ks.f', 'bob');
-- a key is read as the session means it: 'orders' is not found here
SELECT public.try($$SELECT public.reclock_acquire('public.ks_by_table', 'orders', 'bob')$$);
-- nor does quoting every identifier make another key
SET quote_all_identifiers = on;
SELECT acquired, holder FROM public.reclock_acquire('public.ks_by_table', '"ks"."orders"', 'bob');
SELECT public.try($$UPDATE public.ks_by_table SET v = 2 WHERE tbl = 'ks.orders'::regclass$$);
RESET quote_all_identifiers;
RESET search_path;

-- alice's token still writes the row from under another search_path
BEGIN;
SET LOCAL search_path = pg_catalog;
SELECT set_config('reclock.token', :'tok_table', true) IS NOT NULL AS presented;
UPDATE public.ks_by_table SET v = 3 WHERE tbl = 'ks.orders'::regclass;
COMMIT;
SELECT v FROM ks_by_table WHERE tbl = 'ks.orders'::regclass;

-- a composite key with a regclass column, and a domain over regtype
CREATE DOMAIN ks_typ AS regtype;
CREATE TABLE ks_comp (tbl regclass, typ ks_typ, v int, PRIMARY KEY (tbl, typ));
INSERT INTO ks_comp VALUES ('ks.orders', 'ks.mood', 1);
SELECT reclock_protect('ks_comp');
SET search_path = ks, public;
SELECT acquired FROM reclock_acquire('ks_comp', '(orders,mood)', 'alice');
SET search_path = pg_catalog;
SELECT key FROM public.reclock_locks WHERE relation = 'public.ks_comp'::regclass;
SELECT acquired, holder FROM public.reclock_acquire('public.ks_comp', '(ks.orders,ks.mood)', 'bob');
SELECT public.try($$UPDATE public.ks_comp SET v = 2$$);
RESET search_path;

-- the search_path the session set is in force again afterwards
SET search_path = ks, public;
SELECT 'orders'::regclass, 'mood'::regtype, current_setting('search_path');
RESET search_path;

DROP TABLE ks_by_table, ks_by_type, ks_by_proc, ks_comp;
DROP DOMAIN ks_typ;
DROP SCHEMA ks CASCADE;
