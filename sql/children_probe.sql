--
-- The child guard finds a plain parent table's row by probing its
-- primary-key index with the foreign key's own equality (issue 23), and may
-- skip the lock table when the parent table's set of live keys says the key
-- has none.  Both must find the parent row that PostgreSQL's foreign key
-- names, and the lock of that row, whatever the key's type: a foreign key
-- listing the key columns in another order, of a narrower type, values
-- equal but not the same bytes (numeric 1.00 and 1.0, float -0 and 0,
-- 'ABC' and 'abc' under a case-insensitive collation, citext), and under
-- any DateStyle or TimeZone.  In each transaction two writes under an
-- unlocked parent come first (the set of live keys is made), then a write
-- under the locked parent must be refused (55P03), and pass with the token.
--
CREATE SCHEMA children_probe;
SET search_path = children_probe, public;
SET reclock.test_clock_epoch = 1893456000;
CREATE EXTENSION IF NOT EXISTS citext SCHEMA children_probe;
CREATE COLLATION ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
CREATE TABLE tok (name text PRIMARY KEY, token uuid);

-- key columns in another order in the foreign key, and an int2 -> int8 link
CREATE TABLE p_comp (x int8, y text, PRIMARY KEY (x, y));
INSERT INTO p_comp VALUES (1, 'a'), (2, 'a');
CREATE TABLE c_comp (id int PRIMARY KEY, b text, a int2, FOREIGN KEY (b, a) REFERENCES p_comp (y, x));
INSERT INTO c_comp VALUES (1, 'a', 2), (2, 'a', 2);
-- numeric: the row is 1.0, the lines say 1.00
CREATE TABLE p_num (k numeric PRIMARY KEY);
INSERT INTO p_num VALUES (1.0), (2.0);
CREATE TABLE c_num (id int PRIMARY KEY, k numeric REFERENCES p_num);
INSERT INTO c_num VALUES (1, 2.00), (2, 2.0);
-- float: the row is 0, the lines say -0
CREATE TABLE p_flt (k float8 PRIMARY KEY);
INSERT INTO p_flt VALUES (0), (5);
CREATE TABLE c_flt (id int PRIMARY KEY, k float8 REFERENCES p_flt);
INSERT INTO c_flt VALUES (1, 5), (2, 5);
-- a case-insensitive key: the row is 'abc', the lines say 'ABC'
CREATE TABLE p_ci (k text COLLATE ci PRIMARY KEY);
INSERT INTO p_ci VALUES ('abc'), ('xyz');
CREATE TABLE c_ci (id int PRIMARY KEY, k text COLLATE ci REFERENCES p_ci);
INSERT INTO c_ci VALUES (1, 'XYZ'), (2, 'xyz');
CREATE TABLE p_cit (k citext PRIMARY KEY);
INSERT INTO p_cit VALUES ('abc'), ('xyz');
CREATE TABLE c_cit (id int PRIMARY KEY, k citext REFERENCES p_cit);
INSERT INTO c_cit VALUES (1, 'XYZ'), (2, 'xyz');
-- a timestamptz key written under another TimeZone and DateStyle
CREATE TABLE p_ts (k timestamptz PRIMARY KEY);
INSERT INTO p_ts VALUES ('2026-01-02 03:04:05+00'), ('2026-01-03 00:00:00+00');
CREATE TABLE c_ts (id int PRIMARY KEY, k timestamptz REFERENCES p_ts);
INSERT INTO c_ts VALUES (1, '2026-01-03 00:00:00+00'), (2, '2026-01-03 00:00:00+00');

SELECT reclock_protect(t) FROM unnest(ARRAY['p_comp', 'p_num', 'p_flt', 'p_ci', 'p_cit', 'p_ts']::regclass[]) t;
SELECT reclock_protect('c_comp', parent => 'p_comp'), reclock_protect('c_num', parent => 'p_num'),
       reclock_protect('c_flt', parent => 'p_flt'), reclock_protect('c_ci', parent => 'p_ci'),
       reclock_protect('c_cit', parent => 'p_cit'), reclock_protect('c_ts', parent => 'p_ts');

INSERT INTO tok SELECT 'comp', token FROM reclock_acquire('p_comp', '(1,a)', 'alice');
INSERT INTO tok SELECT 'num', token FROM reclock_acquire('p_num', '1.00', 'alice');
INSERT INTO tok SELECT 'flt', token FROM reclock_acquire('p_flt', '-0', 'alice');
INSERT INTO tok SELECT 'ci', token FROM reclock_acquire('p_ci', 'ABC', 'alice');
INSERT INTO tok SELECT 'cit', token FROM reclock_acquire('p_cit', 'ABC', 'alice');
INSERT INTO tok SELECT 'ts', token FROM reclock_acquire('p_ts', '2026-01-02 04:04:05+01', 'alice');
SELECT relation, key, holder FROM reclock_locks ORDER BY relation::text;

SET DateStyle = 'SQL, DMY';
SET TimeZone = 'Pacific/Kiritimati';
SET extra_float_digits = 3;

BEGIN;
UPDATE c_comp SET b = b WHERE id = 1;
UPDATE c_comp SET b = b WHERE id = 2;
INSERT INTO c_comp VALUES (3, 'a', 1);
ROLLBACK;
BEGIN;
UPDATE c_num SET k = k WHERE id = 1;
UPDATE c_num SET k = k WHERE id = 2;
INSERT INTO c_num VALUES (3, 1.00);
ROLLBACK;
BEGIN;
UPDATE c_flt SET k = k WHERE id = 1;
UPDATE c_flt SET k = k WHERE id = 2;
INSERT INTO c_flt VALUES (3, '-0');
ROLLBACK;
BEGIN;
UPDATE c_ci SET k = k WHERE id = 1;
UPDATE c_ci SET k = k WHERE id = 2;
INSERT INTO c_ci VALUES (3, 'ABC');
ROLLBACK;
BEGIN;
UPDATE c_cit SET k = k WHERE id = 1;
UPDATE c_cit SET k = k WHERE id = 2;
INSERT INTO c_cit VALUES (3, 'ABC');
ROLLBACK;
BEGIN;
UPDATE c_ts SET k = k WHERE id = 1;
UPDATE c_ts SET k = k WHERE id = 2;
INSERT INTO c_ts VALUES (3, '02/01/2026 03:04:05 UTC');
ROLLBACK;

-- with the tokens: all pass
BEGIN;
SELECT set_config('reclock.token', (SELECT string_agg(token::text, ',') FROM tok), true) IS NOT NULL AS presented;
INSERT INTO c_comp VALUES (3, 'a', 1);
INSERT INTO c_num VALUES (3, 1.00);
INSERT INTO c_flt VALUES (3, '-0');
INSERT INTO c_ci VALUES (3, 'ABC');
INSERT INTO c_cit VALUES (3, 'ABC');
INSERT INTO c_ts VALUES (3, '02/01/2026 03:04:05 UTC');
COMMIT;
SELECT (SELECT count(*) FROM c_comp) + (SELECT count(*) FROM c_num) + (SELECT count(*) FROM c_flt)
     + (SELECT count(*) FROM c_ci) + (SELECT count(*) FROM c_cit) + (SELECT count(*) FROM c_ts) AS lines;


-- a parent its writer cannot read: owned by another role, row-level security
-- forced and hiding every row (also from its owner), no rights on it for the
-- writer of the lines: the guard still finds the parent row and its lock
CREATE ROLE regress_probe_owner;
CREATE ROLE regress_probe_writer;
GRANT USAGE ON SCHEMA children_probe TO regress_probe_owner, regress_probe_writer;
CREATE TABLE p_hidden (id int PRIMARY KEY);
CREATE TABLE c_hidden (id int PRIMARY KEY, p int REFERENCES p_hidden, v int);
INSERT INTO p_hidden VALUES (1), (2);
INSERT INTO c_hidden VALUES (1, 1, 0), (2, 2, 0);
ALTER TABLE p_hidden OWNER TO regress_probe_owner;
ALTER TABLE c_hidden OWNER TO regress_probe_owner;
ALTER TABLE p_hidden ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY nothing ON p_hidden USING (false);
GRANT SELECT, INSERT, UPDATE, DELETE ON c_hidden TO regress_probe_writer;
SELECT reclock_protect('p_hidden'), reclock_protect('c_hidden', parent => 'p_hidden');
SELECT acquired FROM reclock_acquire('p_hidden', '1', 'alice');
SET ROLE regress_probe_writer;
SELECT count(*) AS parents_seen FROM p_hidden;
BEGIN;
UPDATE c_hidden SET v = 1 WHERE id = 2;
UPDATE c_hidden SET v = 1 WHERE id = 1;
ROLLBACK;
INSERT INTO c_hidden VALUES (3, 1, 0);
DELETE FROM c_hidden WHERE id = 1;
INSERT INTO c_hidden VALUES (4, 2, 0);
RESET ROLE;
SELECT id, p, v FROM c_hidden ORDER BY id;
DROP TABLE c_hidden, p_hidden;

RESET DateStyle;
RESET TimeZone;
RESET extra_float_digits;
DELETE FROM reclock_lock_store;
DELETE FROM reclock_token_store;
RESET search_path;
DROP SCHEMA children_probe CASCADE;
DROP ROLE regress_probe_owner;
DROP ROLE regress_probe_writer;
