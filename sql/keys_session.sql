--
-- keys_session: a key's text must not depend on the session nor on names
-- that change.  Keys of the reg* types (regclass, regproc, regtype, regrole,
-- ...) name catalog objects by name: their text follows renames, names
-- nothing once the object is dropped, and (on 17) depends on the session's
-- temporary schema.  Such tables, and temporary tables, can be neither
-- protected nor locked (0A000), however the reg* type is wrapped.
--
\set VERBOSITY terse
\i sql/include/try.sql

CREATE SCHEMA ks;
CREATE TABLE ks.orders (id int PRIMARY KEY);
CREATE TYPE ks.mood AS ENUM ('ok');
CREATE FUNCTION ks.f() RETURNS int LANGUAGE sql AS 'SELECT 1';

-- one table per reg* type; each is refused at protect and at acquire
CREATE TABLE ks_regclass (k regclass PRIMARY KEY);
INSERT INTO ks_regclass VALUES ('ks.orders');
CREATE TABLE ks_regproc (k regproc PRIMARY KEY);
INSERT INTO ks_regproc VALUES ('ks.f');
CREATE TABLE ks_regprocedure (k regprocedure PRIMARY KEY);
INSERT INTO ks_regprocedure VALUES ('ks.f()');
CREATE TABLE ks_regoper (k regoper PRIMARY KEY);
INSERT INTO ks_regoper VALUES ('||/');
CREATE TABLE ks_regoperator (k regoperator PRIMARY KEY);
INSERT INTO ks_regoperator VALUES ('+(int4,int4)');
CREATE TABLE ks_regtype (k regtype PRIMARY KEY);
INSERT INTO ks_regtype VALUES ('ks.mood');
CREATE TABLE ks_regconfig (k regconfig PRIMARY KEY);
INSERT INTO ks_regconfig VALUES ('simple');
CREATE TABLE ks_regdictionary (k regdictionary PRIMARY KEY);
INSERT INTO ks_regdictionary VALUES ('simple');
CREATE TABLE ks_regrole (k regrole PRIMARY KEY);
INSERT INTO ks_regrole VALUES (current_user::regrole);
CREATE TABLE ks_regnamespace (k regnamespace PRIMARY KEY);
INSERT INTO ks_regnamespace VALUES ('ks');
CREATE TABLE ks_regcollation (k regcollation PRIMARY KEY);
INSERT INTO ks_regcollation VALUES ('"C"');
-- wrapped: a domain, inside a composite key, an array, a composite type
CREATE DOMAIN ks_typ AS regtype;
CREATE TABLE ks_domain (k ks_typ PRIMARY KEY);
INSERT INTO ks_domain VALUES ('ks.mood');
CREATE TABLE ks_comp (id int, typ ks_typ, PRIMARY KEY (id, typ));
INSERT INTO ks_comp VALUES (1, 'ks.mood');
CREATE TABLE ks_array (k regclass[] PRIMARY KEY);
INSERT INTO ks_array VALUES (ARRAY['ks.orders'::regclass]);
CREATE TYPE ks_pair AS (n int, r regrole);
CREATE TABLE ks_rowtype (k ks_pair PRIMARY KEY);
INSERT INTO ks_rowtype VALUES (ROW(1, current_user::regrole));

SELECT t AS tbl,
       try(format('SELECT reclock_protect(%L)', t)) AS protect,
       try(format('SELECT reclock_acquire(%L, (SELECT k::text FROM %I LIMIT 1), %L)', t, t, 'alice')) AS acquire
  FROM unnest(ARRAY['ks_regclass', 'ks_regproc', 'ks_regprocedure', 'ks_regoper',
                    'ks_regoperator', 'ks_regtype', 'ks_regconfig', 'ks_regdictionary',
                    'ks_regrole', 'ks_regnamespace', 'ks_regcollation', 'ks_domain',
                    'ks_array', 'ks_rowtype']) AS t;
SELECT try($$SELECT reclock_acquire('ks_comp', '(1,ks.mood)', 'alice')$$);
SELECT try($$SELECT reclock_protect('ks_comp')$$);
-- the message says why
\set VERBOSITY default
SELECT * FROM try_verbose($$SELECT reclock_acquire('ks_regclass', 'ks.orders', 'alice')$$);
\set VERBOSITY terse
-- nothing was stored, no trigger attached
SELECT count(*) AS locks FROM reclock_locks WHERE relation::text LIKE 'ks\_%';
SELECT count(*) AS triggers FROM pg_trigger WHERE tgrelid::regclass::text LIKE 'ks\_%';

-- a lock taken on such a table before 1.2 (made here by hand) can still be
-- broken by the table's owner, also once the object its key names is gone
CREATE TABLE ks.gone (id int);
INSERT INTO ks_regclass VALUES ('ks.gone');
INSERT INTO reclock_lock_store (relid, key, holder, acquired_by, fence, acquired_at, expires_at)
VALUES ('ks_regclass', 'ks.gone', 'mallory', current_user::regrole,
        nextval('reclock_fence_seq'), now(), now() + interval '1 day');
DROP TABLE ks.gone;
SELECT reclock_break('ks_regclass', 'ks.gone');
SELECT count(*) AS left FROM reclock_lock_store WHERE relid = 'ks_regclass'::regclass;

-- a parent table with a reg* key cannot have child tables either
CREATE TABLE ks_child (id int PRIMARY KEY, tbl regclass REFERENCES ks_regclass);
SELECT try($$SELECT reclock_protect('ks_child', parent => 'ks_regclass')$$);

-- a temporary table: refused too (its locks would outlive it: a temporary
-- table dropped at the end of its session fires no sql_drop)
CREATE TEMP TABLE ks_temp (id int PRIMARY KEY);
INSERT INTO ks_temp VALUES (1);
SELECT try($$SELECT reclock_protect('ks_temp')$$);
SELECT try($$SELECT reclock_acquire('ks_temp', '1', 'alice')$$);
CREATE TEMP TABLE ks_temp_part (id int PRIMARY KEY) PARTITION BY RANGE (id);
CREATE TEMP TABLE ks_temp_p1 PARTITION OF ks_temp_part FOR VALUES FROM (0) TO (10);
INSERT INTO ks_temp_part VALUES (1);
SELECT try($$SELECT reclock_acquire('ks_temp_p1', '1', 'alice')$$);
SELECT try($$SELECT reclock_acquire('ks_temp_part', '1', 'alice')$$);

-- ordinary keys of the same schema still work
INSERT INTO ks.orders VALUES (1);
SELECT acquired FROM reclock_acquire('ks.orders', '1', 'alice');

DROP TABLE ks_child, ks_regclass, ks_regproc, ks_regprocedure, ks_regoper, ks_regoperator,
  ks_regtype, ks_regconfig, ks_regdictionary, ks_regrole, ks_regnamespace,
  ks_regcollation, ks_domain, ks_comp, ks_array, ks_rowtype, ks_temp, ks_temp_part;
DROP TYPE ks_pair;
DROP DOMAIN ks_typ;
DROP SCHEMA ks CASCADE;
