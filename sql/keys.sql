--
-- keys: canonical forms of single-column and composite primary keys
--
\set VERBOSITY terse
\i sql/include/try.sql

-- an integer key: '042' and '42' are one lock
CREATE TABLE k_int (id int PRIMARY KEY, v text);
INSERT INTO k_int VALUES (42, 'x');
SELECT acquired, holder FROM reclock_acquire('k_int', '042', 'alice');
SELECT acquired, holder FROM reclock_acquire('k_int', ' 42 ', 'bob');
SELECT key FROM reclock_locks WHERE relation = 'k_int'::regclass;

-- a composite key: '( 7 , 2 )' and '(7,2)' are one lock
CREATE TABLE k_comp (a int, b int, v text, PRIMARY KEY (a, b));
INSERT INTO k_comp VALUES (7, 2, 'x');
SELECT acquired, holder FROM reclock_acquire('k_comp', '( 7 , 2 )', 'alice');
SELECT acquired, holder FROM reclock_acquire('k_comp', '(7,2)', 'bob');
SELECT key FROM reclock_locks WHERE relation = 'k_comp'::regclass;
-- the key columns are taken in the primary key's order, not the table's
CREATE TABLE k_order (b int, a int, PRIMARY KEY (a, b));
INSERT INTO k_order VALUES (1, 2);
SELECT acquired FROM reclock_acquire('k_order', '(2,1)', 'alice');
SELECT key FROM reclock_locks WHERE relation = 'k_order'::regclass;

-- text, date and uuid keys in their canonical forms
CREATE TABLE k_mixed (tenant text, day date, PRIMARY KEY (tenant, day));
INSERT INTO k_mixed VALUES ('acme', '2024-05-01'), ('a "quoted", (odd) name', '2024-05-02'), ('ünïcødé ✓', '2024-05-03');
SELECT acquired FROM reclock_acquire('k_mixed', '(acme,2024-05-01)', 'alice');
SELECT acquired FROM reclock_acquire('k_mixed', '(acme,"2024-05-01")', 'bob');
SELECT acquired FROM reclock_acquire('k_mixed', '("a \"quoted\", (odd) name",2024-05-02)', 'alice');
SELECT acquired FROM reclock_acquire('k_mixed', '(ünïcødé ✓,2024-05-03)', 'alice');
SELECT key FROM reclock_locks WHERE relation = 'k_mixed'::regclass ORDER BY key;

CREATE TABLE k_uuid (id uuid PRIMARY KEY);
INSERT INTO k_uuid VALUES ('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11');
SELECT acquired FROM reclock_acquire('k_uuid', 'A0EEBC999C0B4EF8BB6D6BB9BD380A11', 'alice');
SELECT acquired FROM reclock_acquire('k_uuid', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'bob');
SELECT key FROM reclock_locks WHERE relation = 'k_uuid'::regclass;

-- a numeric key: equal values written otherwise ('1.5', '1.50') are one lock,
-- taken in the form the row stores
CREATE TABLE k_num (id numeric PRIMARY KEY);
INSERT INTO k_num VALUES (1.50);
SELECT acquired FROM reclock_acquire('k_num', '1.5', 'alice');
SELECT acquired, holder FROM reclock_acquire('k_num', '1.500', 'bob');
SELECT key FROM reclock_locks WHERE relation = 'k_num'::regclass;

-- a text key is taken as is (no trimming inside a text value)
CREATE TABLE k_text (code text PRIMARY KEY);
INSERT INTO k_text VALUES ('ab'), (' ab');
SELECT acquired FROM reclock_acquire('k_text', 'ab', 'alice');
SELECT acquired FROM reclock_acquire('k_text', ' ab', 'bob');
SELECT key, holder FROM reclock_locks WHERE relation = 'k_text'::regclass ORDER BY key;

-- partitions: locks are keyed by the root, whichever relation is named
CREATE TABLE k_part (region text, id int, v text, PRIMARY KEY (region, id)) PARTITION BY LIST (region);
CREATE TABLE k_part_eu PARTITION OF k_part FOR VALUES IN ('eu');
CREATE TABLE k_part_us (v text, id int NOT NULL, region text NOT NULL);
ALTER TABLE k_part ATTACH PARTITION k_part_us FOR VALUES IN ('us');
INSERT INTO k_part VALUES ('eu', 1, 'x'), ('us', 2, 'y');
SELECT acquired FROM reclock_acquire('k_part', '(eu,1)', 'alice');
SELECT acquired, holder FROM reclock_acquire('k_part_eu', '(eu,1)', 'bob');
SELECT acquired FROM reclock_acquire('k_part_us', '(us,2)', 'alice');
SELECT acquired, holder FROM reclock_acquire('k_part', '(us,2)', 'bob');
SELECT relation, key FROM reclock_locks WHERE relation::text LIKE 'k_part%' ORDER BY key;

-- a domain over int as key
CREATE DOMAIN posint AS int CHECK (VALUE > 0);
CREATE TABLE k_dom (id posint PRIMARY KEY);
INSERT INTO k_dom VALUES (5);
SELECT acquired FROM reclock_acquire('k_dom', '05', 'alice');
SELECT key FROM reclock_locks WHERE relation = 'k_dom'::regclass;

-- the canonical form does not depend on the session's DateStyle or TimeZone:
-- sessions with other settings name the same lock, and the guard agrees
CREATE TABLE k_ts (at timestamptz, day date, PRIMARY KEY (at, day));
INSERT INTO k_ts VALUES ('2024-05-01 12:00:00+00', '2024-05-02');
SET DateStyle = 'SQL, DMY';
SET TimeZone = 'Asia/Tokyo';
SELECT acquired FROM reclock_acquire('k_ts', '("01/05/2024 21:00:00 +09","02/05/2024")', 'alice');
RESET DateStyle;
RESET TimeZone;
SELECT acquired, holder FROM reclock_acquire('k_ts', '("2024-05-01 12:00:00+00",2024-05-02)', 'bob');
SELECT key FROM reclock_locks WHERE relation = 'k_ts'::regclass;
SELECT reclock_protect('k_ts');
SET DateStyle = 'German';
SET TimeZone = 'America/Los_Angeles';
SELECT try($t$UPDATE k_ts SET day = day$t$);
RESET DateStyle;
RESET TimeZone;

-- a domain over an enum as key: PostgreSQL resolves no operator of such a
-- domain ("hue_d = hue_d" does not exist); reclock compares it as its base
-- type (acquire failed with "operator does not exist" before)
CREATE TYPE k_hue AS ENUM ('red', 'green');
CREATE DOMAIN k_hue_d AS k_hue;
CREATE TABLE k_dom_enum (h k_hue_d PRIMARY KEY, v int);
INSERT INTO k_dom_enum VALUES ('red', 1), ('green', 2);
SELECT reclock_protect('k_dom_enum');
SELECT acquired FROM reclock_acquire('k_dom_enum', 'red', 'alice');
SELECT reclock_cas('k_dom_enum', 'green', '{"v": 2}', '{"v": 3}');
SELECT reclock_diff('k_dom_enum', 'green', '{"v": 2}');
-- alice's row is guarded
SELECT try($$UPDATE k_dom_enum SET v = 9 WHERE h::k_hue = 'red'$$);
DROP TABLE k_dom_enum;
DROP DOMAIN k_hue_d;
DROP TYPE k_hue;
