--
-- guard_paths: no path an ordinary role has goes around the guard
--
\set VERBOSITY terse
\set SHOW_CONTEXT never
\i sql/include/try.sql
SET reclock.test_clock_offset = 0;
CREATE TABLE item (id int PRIMARY KEY, name text, qty int);
SELECT try($t$INSERT INTO item SELECT g, 'item ' || g, 10 FROM generate_series(1, 5) g$t$);
SELECT reclock_protect('item');
SELECT token AS t1 FROM reclock_acquire('item', '1', 'alice') \gset

-- INSERT ... ON CONFLICT DO UPDATE
SELECT try($t$INSERT INTO item VALUES (1, 'x', 0) ON CONFLICT (id) DO UPDATE SET qty = 0$t$);
-- ON CONFLICT DO NOTHING writes nothing, so it passes
SELECT try($t$INSERT INTO item VALUES (1, 'x', 0) ON CONFLICT (id) DO NOTHING$t$);
-- MERGE
SELECT try($t$MERGE INTO item t USING (VALUES (1)) s(id) ON t.id = s.id WHEN MATCHED THEN UPDATE SET qty = 0$t$);
SELECT try($t$MERGE INTO item t USING (VALUES (1)) s(id) ON t.id = s.id WHEN MATCHED THEN DELETE$t$);
-- writable CTE
SELECT try($t$WITH u AS (UPDATE item SET qty = 0 WHERE id = 1 RETURNING *) SELECT count(*) FROM u$t$);
SELECT try($t$WITH d AS (DELETE FROM item WHERE id = 1 RETURNING *) SELECT count(*) FROM d$t$);
-- UPDATE ... FROM, DELETE ... USING
SELECT try($t$UPDATE item SET qty = 0 FROM (VALUES (1)) v(id) WHERE item.id = v.id$t$);
SELECT try($t$DELETE FROM item USING (VALUES (1)) v(id) WHERE item.id = v.id$t$);
-- an auto-updatable view
CREATE VIEW item_v AS SELECT id, qty FROM item;
SELECT try($t$UPDATE item_v SET qty = 0 WHERE id = 1$t$);
SELECT try($t$DELETE FROM item_v WHERE id = 1$t$);
-- a security-barrier view
CREATE VIEW item_sb WITH (security_barrier) AS SELECT * FROM item WHERE qty > 0;
SELECT try($t$UPDATE item_sb SET qty = 1 WHERE id = 1$t$);
-- an INSTEAD OF view
CREATE VIEW item_io AS SELECT id, name FROM item;
CREATE FUNCTION item_io_upd() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN UPDATE item SET name = NEW.name WHERE id = OLD.id; RETURN NEW; END $$;
CREATE TRIGGER item_io_upd INSTEAD OF UPDATE ON item_io FOR EACH ROW EXECUTE FUNCTION item_io_upd();
SELECT try($t$UPDATE item_io SET name = 'x' WHERE id = 1$t$);
-- a rule that rewrites an update elsewhere into one on item
CREATE TABLE item_req (id int);
CREATE RULE item_req_r AS ON INSERT TO item_req DO ALSO UPDATE item SET qty = 0 WHERE id = NEW.id;
SELECT try($t$INSERT INTO item_req VALUES (1)$t$);
-- a function, a DO block, a prepared statement
CREATE FUNCTION zap(int) RETURNS void LANGUAGE sql AS 'UPDATE item SET qty = 0 WHERE id = $1';
SELECT try($t$SELECT zap(1)$t$);
SELECT try($t$DO $$ BEGIN UPDATE item SET qty = 0 WHERE id = 1; END $$$t$);
PREPARE p(int) AS UPDATE item SET qty = 0 WHERE id = $1;
SELECT try($t$EXECUTE p(1)$t$);
-- a change of the primary key by a non-holder
SELECT try($t$UPDATE item SET id = 100 WHERE id = 1$t$);
-- nothing of item 1 changed
SELECT * FROM item WHERE id = 1;

-- ON DELETE CASCADE and ON UPDATE CASCADE from a parent reach the locked child
CREATE TABLE parent (id int PRIMARY KEY);
CREATE TABLE child (id int PRIMARY KEY, parent_id int REFERENCES parent ON DELETE CASCADE ON UPDATE CASCADE);
INSERT INTO parent VALUES (1), (2);
INSERT INTO child VALUES (10, 1), (20, 2);
SELECT reclock_protect('child');
SELECT token AS c10 FROM reclock_acquire('child', '10', 'alice') \gset
SELECT try($t$DELETE FROM parent WHERE id = 1$t$);
SELECT try($t$UPDATE parent SET id = 11 WHERE id = 1$t$);
-- the holder's token lets the cascade through
BEGIN;
SET LOCAL reclock.token = :'c10';
SELECT try($t$UPDATE parent SET id = 11 WHERE id = 1$t$);
COMMIT;
SELECT * FROM child ORDER BY id;
-- an unlocked child cascades freely
SELECT try($t$DELETE FROM parent WHERE id = 2$t$);
SELECT * FROM child ORDER BY id;
-- ON DELETE SET NULL is an update of the child: guarded too
INSERT INTO parent VALUES (3);
CREATE TABLE child2 (id int PRIMARY KEY, parent_id int REFERENCES parent ON DELETE SET NULL);
INSERT INTO child2 VALUES (1, 3);
SELECT reclock_protect('child2');
SELECT token AS c2 FROM reclock_acquire('child2', '1', 'alice') \gset
SELECT try($t$DELETE FROM parent WHERE id = 3$t$);
SELECT * FROM child2;

-- partitions of a protected partitioned table
CREATE TABLE sale (region text, id int, amount int, PRIMARY KEY (region, id)) PARTITION BY LIST (region);
CREATE TABLE sale_eu PARTITION OF sale FOR VALUES IN ('eu');
CREATE TABLE sale_us PARTITION OF sale FOR VALUES IN ('us');
INSERT INTO sale VALUES ('eu', 1, 10), ('eu', 2, 20), ('us', 3, 30);
SELECT reclock_protect('sale');
-- a partition created later inherits the row guard, and gets the TRUNCATE check
CREATE TABLE sale_asia PARTITION OF sale FOR VALUES IN ('asia');
INSERT INTO sale VALUES ('asia', 4, 40);
SELECT tgrelid::regclass, tgname FROM pg_trigger WHERE tgrelid::regclass::text LIKE 'sale%' ORDER BY 1, 2;
SELECT token AS s1 FROM reclock_acquire('sale_eu', '(eu,1)', 'alice') \gset
SELECT token AS s4 FROM reclock_acquire('sale', '(asia,4)', 'bob') \gset
-- through the parent, or the partition itself
SELECT try($t$UPDATE sale SET amount = 0 WHERE id = 1$t$);
SELECT try($t$UPDATE sale_eu SET amount = 0 WHERE id = 1$t$);
SELECT try($t$DELETE FROM sale_eu WHERE id = 1$t$);
SELECT try($t$UPDATE sale_asia SET amount = 0 WHERE id = 4$t$);
-- a row moving to another partition
SELECT try($t$UPDATE sale SET region = 'us' WHERE id = 1$t$);
-- the holder moves it: the lock follows the new key
BEGIN;
SET LOCAL reclock.token = :'s1';
SELECT try($t$UPDATE sale SET region = 'us' WHERE id = 1$t$);
COMMIT;
SELECT relation, key, holder FROM reclock_locks WHERE relation = 'sale'::regclass ORDER BY key;
SELECT try($t$UPDATE sale SET amount = 0 WHERE id = 1$t$);
SELECT * FROM sale ORDER BY id;
-- TRUNCATE of the parent or of a partition while locks live
SELECT try($t$TRUNCATE sale$t$);
SELECT try($t$TRUNCATE sale_eu$t$);

-- a cross-partition move under require_lock, by the holder
CREATE TABLE strict_sale (region text, id int, PRIMARY KEY (region, id)) PARTITION BY LIST (region);
CREATE TABLE strict_sale_a PARTITION OF strict_sale FOR VALUES IN ('a');
CREATE TABLE strict_sale_b PARTITION OF strict_sale FOR VALUES IN ('b');
INSERT INTO strict_sale VALUES ('a', 1);
SELECT reclock_protect('strict_sale', true);
SELECT token AS ss FROM reclock_acquire('strict_sale', '(a,1)', 'alice') \gset
BEGIN;
SET LOCAL reclock.token = :'ss';
SELECT try($t$UPDATE strict_sale SET region = 'b' WHERE id = 1$t$);
COMMIT;
SELECT * FROM strict_sale;
SELECT key FROM reclock_locks WHERE relation = 'strict_sale'::regclass;

-- a bulk UPDATE of a million rows of a protected table: works, and takes
-- no heavyweight lock per row
CREATE TABLE big (id int PRIMARY KEY, v int);
INSERT INTO big SELECT g, 0 FROM generate_series(1, 1000000) g;
SELECT reclock_protect('big');
SELECT acquired FROM reclock_acquire('big', '500000', 'alice');
BEGIN;
SELECT try($t$UPDATE big SET v = 1 WHERE id <> 500000$t$);
SELECT count(*) < 20 AS few_locks FROM pg_locks WHERE pid = pg_backend_pid();
COMMIT;
SELECT count(*) FROM big WHERE v = 1;
SELECT try($t$UPDATE big SET v = 2$t$);
DROP TABLE big;
