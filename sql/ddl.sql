--
-- ddl: a change of a locked table's primary key (type, typmod, columns) is
-- refused while the table has live locks, so that no lock is silently lost
--
\set VERBOSITY terse
\set SHOW_CONTEXT never
\i sql/include/try.sql
SET reclock.test_clock_offset = 0;
CREATE TABLE pk_num (id numeric PRIMARY KEY, v int);
INSERT INTO pk_num VALUES (1.5, 1), (2, 2);
SELECT reclock_protect('pk_num');
SELECT token AS tok FROM reclock_acquire('pk_num', '1.5', 'alice', '1 hour') \gset
-- numeric -> numeric(10,2) would make the key '1.50': refused
SELECT try($t$ALTER TABLE pk_num ALTER COLUMN id TYPE numeric(10,2)$t$);
-- replacing the primary key: refused
SELECT try($t$ALTER TABLE pk_num DROP CONSTRAINT pk_num_pkey, ADD PRIMARY KEY (v)$t$);
SELECT try($t$ALTER TABLE pk_num DROP CONSTRAINT pk_num_pkey$t$);
SELECT try($t$ALTER TABLE pk_num DROP COLUMN id CASCADE$t$);
-- the lock still guards its row
SELECT try($t$UPDATE pk_num SET v = 3 WHERE id = 1.5$t$);
SELECT key, holder FROM reclock_locks WHERE relation = 'pk_num'::regclass;
-- other changes are fine
ALTER TABLE pk_num ADD COLUMN note text;
ALTER TABLE pk_num ALTER COLUMN v TYPE bigint;
ALTER TABLE pk_num RENAME COLUMN note TO remark;
ALTER TABLE pk_num RENAME COLUMN id TO ident;
SELECT key, holder FROM reclock_locks WHERE relation = 'pk_num'::regclass;
-- ... and the key change once the lock has ended
SELECT reclock_release(:'tok');
ALTER TABLE pk_num ALTER COLUMN ident TYPE numeric(10,2);
SELECT ident FROM pk_num ORDER BY ident;

-- a partitioned table: the root's key
CREATE TABLE pk_part (region text, id int, PRIMARY KEY (region, id)) PARTITION BY LIST (region);
CREATE TABLE pk_part_eu PARTITION OF pk_part FOR VALUES IN ('eu');
INSERT INTO pk_part VALUES ('eu', 1);
SELECT acquired FROM reclock_acquire('pk_part_eu', '(eu,1)', 'carol', '1 hour');
SELECT try($t$ALTER TABLE pk_part ALTER COLUMN id TYPE bigint$t$);
SELECT try($t$ALTER TABLE pk_part ALTER COLUMN id TYPE int$t$);

-- a failed command inside a savepoint does not confuse the next one
BEGIN;
SAVEPOINT s;
SELECT try($t$ALTER TABLE pk_part ALTER COLUMN id TYPE bigint$t$);
ROLLBACK TO s;
ALTER TABLE pk_part ADD COLUMN x int;
ALTER TABLE pk_num ALTER COLUMN ident TYPE numeric;
COMMIT;
DROP TABLE pk_num, pk_part;

-- the key can change without an ALTER TABLE of the locked table
-- an inheritance parent's column
CREATE TABLE ipar (id int);
CREATE TABLE ich (v int, PRIMARY KEY (id)) INHERITS (ipar);
INSERT INTO ich VALUES (1, 0);
SELECT token AS ich_tok FROM reclock_acquire('ich', '1', 'alice', '1 hour') \gset
SELECT try($t$ALTER TABLE ipar ALTER COLUMN id TYPE numeric(10,2)$t$);
-- an enum value renamed
CREATE TYPE color AS ENUM ('red', 'green');
CREATE TABLE paint (c color PRIMARY KEY);
INSERT INTO paint VALUES ('red'), ('green');
SELECT acquired FROM reclock_acquire('paint', 'red', 'alice', '1 hour');
SELECT try($t$ALTER TYPE color RENAME VALUE 'red' TO 'crimson'$t$);
-- ... a value of the type no lock uses may be added
ALTER TYPE color ADD VALUE 'blue';
-- an attribute added to a composite key type
CREATE TYPE pair AS (a int, b int);
CREATE TABLE pairs (p pair PRIMARY KEY);
INSERT INTO pairs VALUES (ROW(1, 2));
SELECT acquired FROM reclock_acquire('pairs', '(1,2)', 'alice', '1 hour');
SELECT try($t$ALTER TYPE pair ADD ATTRIBUTE c int$t$);
-- ... and dropped from it (the key (1,2) would print as (1))
SELECT try($t$ALTER TYPE pair DROP ATTRIBUTE b$t$);
-- ... renaming an attribute changes no key's text
ALTER TYPE pair RENAME ATTRIBUTE b TO bb;
-- the enum inside a composite key, and in an array key
CREATE TYPE hue AS ENUM ('dark', 'light');
CREATE TABLE hued (n int, h hue, PRIMARY KEY (n, h));
INSERT INTO hued VALUES (1, 'dark');
CREATE TABLE hues (hs hue[] PRIMARY KEY);
INSERT INTO hues VALUES ('{light}');
SELECT acquired FROM reclock_acquire('hued', '(1,dark)', 'alice', '1 hour');
SELECT try($t$ALTER TYPE hue RENAME VALUE 'dark' TO 'black'$t$);
SELECT acquired FROM reclock_acquire('hues', '{light}', 'alice', '1 hour');
SELECT reclock_break('hued', '(1,dark)');
SELECT try($t$ALTER TYPE hue RENAME VALUE 'light' TO 'white'$t$);
SELECT reclock_break('hues', '{light}');
ALTER TYPE hue RENAME VALUE 'light' TO 'white';
-- a key of a table's row type: a column added to that table changes it
CREATE TABLE rowt (a int, b int);
CREATE TABLE byrow (r rowt PRIMARY KEY);
INSERT INTO byrow VALUES (ROW(1, 2));
-- (1.2: a key made of a table's row type cannot be locked at all -- a lock
-- would make that table's ALTER, perhaps another role's, fail -- so the
-- table's changes are its own business)
SELECT try($t$SELECT reclock_acquire('byrow', '(1,2)', 'alice', '1 hour')$t$);
SELECT try($t$ALTER TABLE rowt ADD COLUMN c int$t$);
SELECT try($t$ALTER TABLE rowt DROP COLUMN b$t$);
-- ... a change that leaves rowt's row type alone is the table's own business
ALTER TABLE rowt ADD CONSTRAINT a_pos CHECK (a > 0);
ALTER TABLE rowt RENAME COLUMN a TO aa;
-- other tables are altered and renamed freely
ALTER TABLE pairs RENAME TO pairs2;
ALTER TABLE pairs2 RENAME TO pairs;
SELECT relation, key, holder FROM reclock_locks
 WHERE relation IN ('ich'::regclass, 'paint'::regclass, 'pairs'::regclass, 'byrow'::regclass)
 ORDER BY 1, 2;
SELECT reclock_release(:'ich_tok');
ALTER TABLE ipar ALTER COLUMN id TYPE numeric(10,2);
DROP TABLE ich, ipar, paint, pairs, hued, hues, byrow, rowt;
DROP TYPE color, pair;
DROP TYPE hue;

-- a partition created in or attached to a protected table later gets the
-- TRUNCATE check (the row guard PostgreSQL clones itself)
CREATE TABLE tp (id int PRIMARY KEY) PARTITION BY RANGE (id);
CREATE TABLE tp1 PARTITION OF tp FOR VALUES FROM (0) TO (100);
SELECT reclock_protect('tp');
CREATE TABLE tp2 PARTITION OF tp FOR VALUES FROM (100) TO (200);
CREATE TABLE tp3 (id int PRIMARY KEY);
ALTER TABLE tp ATTACH PARTITION tp3 FOR VALUES FROM (200) TO (300);
CREATE TABLE tp4 (id int PRIMARY KEY) PARTITION BY RANGE (id);
CREATE TABLE tp4a PARTITION OF tp4 FOR VALUES FROM (300) TO (350);
ALTER TABLE tp ATTACH PARTITION tp4 FOR VALUES FROM (300) TO (400);
INSERT INTO tp VALUES (1), (150), (250), (320);
SELECT acquired FROM reclock_acquire('tp', '150', 'alice', '1 hour');
SELECT acquired FROM reclock_acquire('tp', '250', 'alice', '1 hour');
SELECT acquired FROM reclock_acquire('tp', '320', 'alice', '1 hour');
SELECT try($t$TRUNCATE tp2$t$);
SELECT try($t$TRUNCATE tp3$t$);
SELECT try($t$TRUNCATE tp4a$t$);
SELECT tgrelid::regclass, tgname FROM pg_trigger
 WHERE tgname LIKE 'reclock_guard%' AND tgrelid::regclass::text LIKE 'tp%' ORDER BY 1, 2;
-- a partition of a table that is not protected gets nothing
CREATE TABLE np (id int PRIMARY KEY) PARTITION BY RANGE (id);
CREATE TABLE np1 PARTITION OF np FOR VALUES FROM (0) TO (10);
SELECT count(*) FROM pg_trigger WHERE tgrelid = 'np1'::regclass;
DROP TABLE tp, np;

-- a key type whose input runs its owner's code (a domain with a CHECK) is
-- never read back by another role's DDL: nothing of the lock holder's runs
-- as the superuser who alters an unrelated table
CREATE ROLE ddl_mallory;
CREATE SCHEMA ddl_m AUTHORIZATION ddl_mallory;
SET ROLE ddl_mallory;
CREATE FUNCTION ddl_m.evil(int) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
    RAISE NOTICE 'the lock holder''s code runs as a superuser';
  END IF;
  RETURN true;
END $$;
CREATE DOMAIN ddl_m.dk AS int CHECK (ddl_m.evil(VALUE));
CREATE TABLE ddl_m.t (id ddl_m.dk PRIMARY KEY, v text);
INSERT INTO ddl_m.t VALUES (1, 'x');
SELECT acquired FROM reclock_acquire('ddl_m.t', '1', 'mallory', '1 hour');
RESET ROLE;
CREATE TABLE ddl_other (id int PRIMARY KEY);
ALTER TABLE ddl_other ADD COLUMN z int;
ALTER TABLE ddl_other RENAME COLUMN z TO y;
-- the domain key's own primary key is still watched (by its signature)
SELECT try($t$ALTER TABLE ddl_m.t DROP CONSTRAINT t_pkey$t$);
DROP TABLE ddl_other;
DROP SCHEMA ddl_m CASCADE;
DROP ROLE ddl_mallory;

-- a lock whose key can no longer be read (a regclass key made before 1.2,
-- here by hand, naming a table dropped since) concerns its own table only:
-- other tables and functions are altered freely, by anyone
CREATE TABLE stale_keyed (tbl regclass PRIMARY KEY);
CREATE TABLE stale_target (id int);
INSERT INTO stale_keyed VALUES ('stale_target');
INSERT INTO reclock_lock_store (relid, key, holder, acquired_by, fence, acquired_at, expires_at)
VALUES ('stale_keyed', 'public.stale_target', 'mallory', current_user::regrole,
        nextval('reclock_fence_seq'), now(), now() + interval '1 day');
DROP TABLE stale_target;
CREATE TABLE ddl_free (id int PRIMARY KEY);
CREATE FUNCTION ddl_free_f() RETURNS int LANGUAGE sql AS 'SELECT 1';
SELECT try($t$ALTER TABLE ddl_free ADD COLUMN z int$t$);
SELECT try($t$ALTER FUNCTION ddl_free_f() RENAME TO ddl_free_g$t$);
SELECT reclock_break('stale_keyed', 'public.stale_target');
DROP TABLE stale_keyed, ddl_free;
DROP FUNCTION ddl_free_g();

-- timestamp -> timestamptz
CREATE TABLE pk_ts (at timestamp PRIMARY KEY);
INSERT INTO pk_ts VALUES ('2024-05-01 10:00');
SELECT acquired FROM reclock_acquire('pk_ts', '2024-05-01 10:00', 'bob', '1 hour');
SELECT try($t$ALTER TABLE pk_ts ALTER COLUMN at TYPE timestamptz$t$);
-- an expired lock does not stand in the way
SET reclock.test_clock_offset = 7200;
ALTER TABLE pk_ts ALTER COLUMN at TYPE timestamptz;

-- (dropped while the test clock is ahead: its lock goes with it)
DROP TABLE pk_ts;
SET reclock.test_clock_offset = 0;
