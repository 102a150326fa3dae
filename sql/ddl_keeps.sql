--
-- ddl_keeps: no DDL command loses a live lock (CONTRACT.md,
-- "Lifetimes that never go back": "a change of the primary key's type or
-- columns ... carries the lock or is refused (55006) while locks of that
-- table are live").  Each case checks what the contract asks: either the
-- command is refused (55006), or the locked row is still guarded (a write
-- without the token is refused, 55P03) and no second holder gets it.
--
\set VERBOSITY terse
\i sql/include/try.sql

-- 1. ALTER COLUMN ... TYPE to the same type with USING: every key value
--    changes, the type does not
CREATE TABLE rr_u (id int PRIMARY KEY, v text);
INSERT INTO rr_u VALUES (1, 'one'), (2, 'two');
SELECT reclock_protect('rr_u');
SELECT acquired FROM reclock_acquire('rr_u', '1', 'alice');
SELECT try('ALTER TABLE rr_u ALTER COLUMN id TYPE int USING id + 1000') LIKE '55006%'
    OR try($$UPDATE rr_u SET v = 'no token' WHERE v = 'one'$$) LIKE '55P03%' AS lock_kept;

-- 2. DETACH PARTITION of a partition with a locked row
CREATE TABLE rr_p (id int PRIMARY KEY, v text) PARTITION BY RANGE (id);
CREATE TABLE rr_p1 PARTITION OF rr_p FOR VALUES FROM (0) TO (100);
INSERT INTO rr_p VALUES (1, 'a');
SELECT reclock_protect('rr_p');
SELECT acquired FROM reclock_acquire('rr_p', '1', 'alice');
SELECT try('ALTER TABLE rr_p DETACH PARTITION rr_p1') LIKE '55006%'
    OR try($$UPDATE rr_p1 SET v = 'no token' WHERE id = 1$$) LIKE '55P03%' AS lock_kept;

-- 3. ATTACH PARTITION of a table with a live lock: the row must not get a
--    second live grant through the partitioned table
CREATE TABLE rr_q (id int PRIMARY KEY, v text) PARTITION BY RANGE (id);
CREATE TABLE rr_s (id int PRIMARY KEY, v text);
INSERT INTO rr_s VALUES (300, 'c');
SELECT acquired FROM reclock_acquire('rr_s', '300', 'alice');
SELECT try('ALTER TABLE rr_q ATTACH PARTITION rr_s FOR VALUES FROM (200) TO (400)') LIKE '55006%'
    OR NOT (SELECT acquired FROM reclock_acquire('rr_q', '300', 'mallet')) AS lock_kept;

-- 4. DROP TYPE ... CASCADE drops the key column; a later primary key on
--    another column must not inherit the old lock (row n = 'a' was never
--    locked)
CREATE TYPE rr_e AS ENUM ('a', 'b');
CREATE TABLE rr_te (k rr_e PRIMARY KEY, n text UNIQUE NOT NULL, v text);
INSERT INTO rr_te VALUES ('a', 'zz', 'x'), ('b', 'a', 'y');
SELECT reclock_protect('rr_te');
SELECT acquired FROM reclock_acquire('rr_te', 'a', 'alice');
SELECT try('DROP TYPE rr_e CASCADE') LIKE '55006%'
    OR (try('ALTER TABLE rr_te ADD PRIMARY KEY (n)') = 'ok'
        AND try($$UPDATE rr_te SET v = 'free' WHERE n = 'a'$$) = 'ok') AS lock_not_moved;

SET client_min_messages = warning;
DROP TABLE rr_u, rr_p, rr_q, rr_s, rr_te;
DROP TYPE IF EXISTS rr_e;

-- 5. DROP TABLE of a partition takes its rows from under the root's locks;
--    DETACH ... CONCURRENTLY commits before the command's end: both refused
--    while the partitioned table has live locks (found by the review)
CREATE TABLE rr_pt (id int, region int, v text, PRIMARY KEY (id, region)) PARTITION BY LIST (region);
CREATE TABLE rr_pt_1 PARTITION OF rr_pt FOR VALUES IN (1);
CREATE TABLE rr_pt_2 PARTITION OF rr_pt FOR VALUES IN (2);
INSERT INTO rr_pt VALUES (1, 1, 'a'), (2, 2, 'b');
SELECT reclock_protect('rr_pt');
SELECT token AS rr_pt_tok FROM reclock_acquire('rr_pt', '(2,2)', 'alice') \gset
SELECT try('DROP TABLE rr_pt_2');
ALTER TABLE rr_pt DETACH PARTITION rr_pt_1 CONCURRENTLY;
SELECT count(*) AS partitions FROM pg_inherits WHERE inhparent = 'rr_pt'::regclass;
SELECT reclock_release(:'rr_pt_tok');
DROP TABLE rr_pt_2;
DROP TABLE rr_pt;

-- 6. a trigger of the owner's named reclock_notice is never replaced by
--    reclock's own (reclock_notify refuses, 42710)
CREATE TABLE rr_nt (id int PRIMARY KEY);
CREATE FUNCTION rr_audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$;
CREATE TRIGGER reclock_notice AFTER UPDATE ON rr_nt FOR EACH ROW EXECUTE FUNCTION rr_audit();
SELECT try($$SELECT reclock_notify('rr_nt')$$);
SELECT tgfoid::regproc FROM pg_trigger WHERE tgrelid = 'rr_nt'::regclass;
DROP TABLE rr_nt;
DROP FUNCTION rr_audit();
