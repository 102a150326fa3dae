--
-- children: documents.  A lock on a parent row (an order) covers the rows of
-- its child tables (its lines, and their notes), for INSERT, UPDATE and
-- DELETE; the formset check compares a parent's child rows as a set.
--
\set VERBOSITY terse
\set SHOW_CONTEXT never
\i sql/include/try.sql
SET reclock.test_clock_offset = 0;
-- a schema of its own: other tests have tables named orders
CREATE SCHEMA children;
SET search_path = children, public;

CREATE TABLE orders (id int PRIMARY KEY, customer text);
CREATE TABLE lines (id int PRIMARY KEY, order_id int REFERENCES orders ON DELETE CASCADE,
					product text, qty int);
CREATE TABLE notes (id int PRIMARY KEY, line_id int REFERENCES lines ON DELETE CASCADE, body text);
INSERT INTO orders VALUES (1, 'acme'), (2, 'globex'), (3, 'initech');
INSERT INTO lines VALUES (10, 1, 'bolt', 1), (11, 1, 'nut', 2), (20, 2, 'gear', 3),
	(30, 3, 'cog', 4), (99, NULL, 'loose', 0);
INSERT INTO notes VALUES (100, 10, 'fragile'), (200, 20, 'urgent');

-- protecting a child table: the guard fires for INSERT too, and names its
-- foreign key (so a dump restores it as it was)
SELECT reclock_protect('orders');
SELECT reclock_protect('lines', parent => 'orders');
SELECT reclock_protect('notes', parent => 'lines');
-- idempotent
SELECT reclock_protect('lines', parent => 'orders', parent_fk => 'lines_order_id_fkey');
-- (its guard depends on that foreign key: see children_trust)
SELECT c.relname, pg_get_triggerdef(t.oid) AS def
  FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
 WHERE t.tgname LIKE 'reclock%' AND c.relname IN ('lines', 'notes') ORDER BY 1, 2;

-- no lock anywhere: children are written freely
SELECT try($t$UPDATE lines SET qty = qty WHERE order_id = 1$t$);
SELECT try($t$INSERT INTO lines VALUES (12, 1, 'washer', 5)$t$);
SELECT try($t$DELETE FROM lines WHERE id = 12$t$);

SELECT token AS alice FROM reclock_acquire('orders', '1', 'alice') \gset
SELECT token AS bob FROM reclock_acquire('orders', '2', 'bob') \gset

-- the lock on order 1 covers its lines: UPDATE, DELETE and INSERT need its
-- token (55P03, naming the child row, the parent row and the holder)
SELECT try_verbose($t$UPDATE lines SET qty = 9 WHERE id = 10$t$);
SELECT try($t$DELETE FROM lines WHERE id = 11$t$);
SELECT try($t$INSERT INTO lines VALUES (12, 1, 'washer', 5)$t$);
-- ... and the notes of its lines (the chain is covered from the top)
SELECT try($t$UPDATE notes SET body = 'x' WHERE id = 100$t$);
SELECT try($t$INSERT INTO notes VALUES (101, 11, 'new')$t$);
SELECT try($t$DELETE FROM notes WHERE id = 100$t$);
-- a statement that touches one covered row fails whole
SELECT try($t$UPDATE lines SET qty = qty + 1$t$);
SELECT id, qty FROM lines ORDER BY id;
-- children of unlocked parents, and rows without a parent, are free
SELECT try($t$UPDATE lines SET qty = 4 WHERE id = 30$t$);
SELECT try($t$UPDATE lines SET qty = 1 WHERE id = 99$t$);
SELECT try($t$INSERT INTO lines VALUES (31, 3, 'sprocket', 1)$t$);
SELECT try($t$INSERT INTO lines VALUES (98, NULL, 'orphan', 1)$t$);
-- the refusal carries the constraint name reclock_guard, as the row guard's
DO $$
DECLARE c text;
BEGIN
  UPDATE lines SET qty = 9 WHERE id = 10;
EXCEPTION WHEN lock_not_available THEN
  GET STACKED DIAGNOSTICS c = CONSTRAINT_NAME;
  RAISE NOTICE 'constraint: %', c;
END $$;

-- the holder presents the token: every write of the document passes
BEGIN;
SELECT set_config('reclock.token', :'alice', true) IS NOT NULL;
UPDATE lines SET qty = 9 WHERE id = 10;
INSERT INTO lines VALUES (12, 1, 'washer', 5);
DELETE FROM lines WHERE id = 11;
INSERT INTO notes VALUES (101, 12, 'new');
UPDATE notes SET body = 'handle with care' WHERE id = 100;
-- another lock's document still needs its own token
SELECT try($t$UPDATE lines SET qty = 0 WHERE id = 20$t$);
COMMIT;
SELECT id, order_id, qty FROM lines ORDER BY id;

-- moving a line to another parent needs the tokens of both locked parents
SELECT try_verbose($t$UPDATE lines SET order_id = 2 WHERE id = 10$t$);
BEGIN;
SELECT set_config('reclock.token', :'alice', true) IS NOT NULL;
SELECT try($t$UPDATE lines SET order_id = 2 WHERE id = 10$t$);
SELECT try($t$UPDATE lines SET order_id = 3 WHERE id = 10$t$);
SELECT try($t$UPDATE lines SET order_id = 1 WHERE id = 30$t$);
ROLLBACK;
BEGIN;
SELECT set_config('reclock.token', :'alice' || ',' || :'bob', true) IS NOT NULL;
UPDATE lines SET order_id = 2 WHERE id = 10;
UPDATE lines SET order_id = 1 WHERE id = 10;
ROLLBACK;

-- a child row locked on its own: both locks apply
SELECT token AS carol FROM reclock_acquire('lines', '10', 'carol') \gset
BEGIN;
SELECT set_config('reclock.token', :'alice', true) IS NOT NULL;
SELECT try($t$UPDATE lines SET qty = 1 WHERE id = 10$t$);
ROLLBACK;
BEGIN;
SELECT set_config('reclock.token', :'carol', true) IS NOT NULL;
SELECT try($t$UPDATE lines SET qty = 1 WHERE id = 10$t$);
ROLLBACK;
BEGIN;
SELECT set_config('reclock.token', :'alice' || ',' || :'carol', true) IS NOT NULL;
SELECT try($t$UPDATE lines SET qty = 1 WHERE id = 10$t$);
ROLLBACK;
-- a lock on a line covers its notes, alone too
SELECT try($t$UPDATE notes SET body = 'y' WHERE id = 100$t$);
SELECT reclock_release(:'carol');

-- a token set and then taken back in the same transaction counts no more
BEGIN;
SELECT set_config('reclock.token', :'alice', true) IS NOT NULL;
UPDATE lines SET qty = 2 WHERE id = 10;
SELECT set_config('reclock.token', '', true) IS NOT NULL;
SELECT try($t$UPDATE lines SET qty = 3 WHERE id = 10$t$);
ROLLBACK;
-- a savepoint rolled back takes its token back (and the parent row lock)
BEGIN;
SAVEPOINT s;
SELECT set_config('reclock.token', :'alice', true) IS NOT NULL;
UPDATE lines SET qty = 2 WHERE id = 10;
ROLLBACK TO SAVEPOINT s;
SELECT try($t$UPDATE lines SET qty = 3 WHERE id = 10$t$);
ROLLBACK;

-- the holder deletes the order: ON DELETE CASCADE deletes its lines and
-- notes, under the token the holder presented
BEGIN;
SELECT set_config('reclock.token', :'alice', true) IS NOT NULL;
DELETE FROM orders WHERE id = 1;
SELECT count(*) AS lines_left FROM lines WHERE order_id = 1;
ROLLBACK;
-- anyone else: refused at the order already
SELECT try($t$DELETE FROM orders WHERE id = 1$t$);

-- TRUNCATE of a child table while a parent has live locks: refused
SELECT try($t$TRUNCATE notes$t$);
SELECT try($t$TRUNCATE lines CASCADE$t$);

-- a released lock covers nothing
SELECT reclock_release(:'bob');
SELECT try($t$UPDATE lines SET qty = 0 WHERE id = 20$t$);

-- require_lock on a child table: a write needs a live lock, the row's own or
-- a presented parent lock that covers it; an insert needs the parent's
SELECT reclock_protect('lines', true, 'orders');
SELECT try($t$UPDATE lines SET qty = 5 WHERE id = 30$t$);
SELECT try($t$INSERT INTO lines VALUES (32, 3, 'pin', 1)$t$);
SELECT try($t$INSERT INTO lines VALUES (97, NULL, 'orphan', 1)$t$);
BEGIN;
SELECT set_config('reclock.token', :'alice', true) IS NOT NULL;
SELECT try($t$UPDATE lines SET qty = 5 WHERE id = 12$t$);
SELECT try($t$INSERT INTO lines VALUES (13, 1, 'pin', 1)$t$);
ROLLBACK;
SELECT token AS dave FROM reclock_acquire('lines', '30', 'dave') \gset
BEGIN;
SELECT set_config('reclock.token', :'dave', true) IS NOT NULL;
SELECT try($t$UPDATE lines SET qty = 5 WHERE id = 30$t$);
ROLLBACK;
SELECT reclock_release(:'dave');
SELECT reclock_protect('lines', parent => 'orders');

-- protecting again without parent makes it a table of its own: inserts are
-- free again, and the order's lock covers nothing of it
SELECT reclock_protect('notes');
SELECT try($t$INSERT INTO notes VALUES (102, 12, 'free')$t$);
SELECT reclock_protect('notes', parent => 'lines');
SELECT try($t$INSERT INTO notes VALUES (103, 12, 'covered')$t$);

-- bad definitions: 42P17, 55000, 42501, 22023
CREATE TABLE nofk (id int PRIMARY KEY, order_id int);
CREATE TABLE twofk (id int PRIMARY KEY, a int REFERENCES orders, b int REFERENCES orders);
CREATE TABLE uniq (code text UNIQUE, id int PRIMARY KEY);
CREATE TABLE byuniq (id int PRIMARY KEY, code text REFERENCES uniq (code));
CREATE TABLE nopk (id int UNIQUE);
CREATE TABLE bynopk (id int PRIMARY KEY, p int REFERENCES nopk (id));
CREATE TABLE tree (id int PRIMARY KEY, up int REFERENCES tree);
SELECT try($t$SELECT reclock_protect('nofk', parent => 'orders')$t$);
SELECT try($t$SELECT reclock_protect('twofk', parent => 'orders')$t$);
SELECT try($t$SELECT reclock_protect('twofk', parent => 'orders', parent_fk => 'nope')$t$);
SELECT try($t$SELECT reclock_protect('twofk', parent => 'orders', parent_fk => 'twofk_b_fkey')$t$);
SELECT try($t$SELECT reclock_protect('byuniq', parent => 'uniq')$t$);
SELECT try($t$SELECT reclock_protect('bynopk', parent => 'nopk')$t$);
SELECT try($t$SELECT reclock_protect('tree', parent => 'tree')$t$);
SELECT try($t$SELECT reclock_protect('orders', parent => 'notes')$t$);
SELECT try($t$SELECT reclock_protect('twofk', parent_fk => 'twofk_b_fkey')$t$);
SELECT try($t$SELECT reclock_protect('lines', parent => 'pg_class')$t$);
SELECT reclock_unprotect('twofk');
CREATE ROLE regress_children_stranger;
GRANT USAGE ON SCHEMA children TO regress_children_stranger;
SET ROLE regress_children_stranger;
SELECT try($t$SELECT reclock_protect('lines', parent => 'orders')$t$);
RESET ROLE;

-- a renamed foreign key: the guard refuses to guess (55000) until the table
-- is protected again
ALTER TABLE notes RENAME CONSTRAINT notes_line_id_fkey TO notes_line_fk;
SELECT try($t$UPDATE notes SET body = 'z' WHERE id = 200$t$);
SELECT reclock_protect('notes', parent => 'lines');
SELECT try($t$UPDATE notes SET body = 'z' WHERE id = 200$t$);

-- a composite key, a foreign key of another type (int4 -> int8), partitioned
-- parent and child tables
CREATE TABLE docs (tenant int, no bigint, title text, PRIMARY KEY (tenant, no)) PARTITION BY LIST (tenant);
CREATE TABLE docs_1 PARTITION OF docs FOR VALUES IN (1);
CREATE TABLE docs_2 PARTITION OF docs FOR VALUES IN (2);
CREATE TABLE items (doc_no int, tenant int, pos int, v text, PRIMARY KEY (tenant, doc_no, pos),
	FOREIGN KEY (tenant, doc_no) REFERENCES docs (tenant, no)) PARTITION BY LIST (tenant);
CREATE TABLE items_1 PARTITION OF items FOR VALUES IN (1);
CREATE TABLE items_2 (pos int NOT NULL, v text, tenant int NOT NULL, doc_no int NOT NULL);	-- columns in another order
ALTER TABLE items ATTACH PARTITION items_2 FOR VALUES IN (2);
INSERT INTO docs VALUES (1, 7, 'a'), (2, 7, 'b');
INSERT INTO items VALUES (7, 1, 1, 'x'), (7, 1, 2, 'y'), (7, 2, 1, 'z');
SELECT reclock_protect('items', parent => 'docs');
SELECT token AS erin FROM reclock_acquire('docs', '(2,7)', 'erin') \gset
SELECT try($t$UPDATE items SET v = 'w' WHERE tenant = 1$t$);
SELECT try($t$UPDATE items SET v = 'w' WHERE tenant = 2$t$);
SELECT try($t$INSERT INTO items VALUES (7, 2, 2, 'new')$t$);
SELECT try($t$UPDATE items_2 SET v = 'w'$t$);
SELECT try($t$TRUNCATE items_2$t$);
BEGIN;
SELECT set_config('reclock.token', :'erin', true) IS NOT NULL;
SELECT try($t$INSERT INTO items VALUES (7, 2, 2, 'new')$t$);
SELECT try($t$UPDATE items SET v = 'w' WHERE tenant = 2$t$);
COMMIT;
SELECT reclock_diff_children('items', '(2,7)', '[{"tenant": 2, "doc_no": 7, "pos": 1, "v": "z"}]');

-- found by review --

-- a foreign key that cannot name the parent's lock is refused at protect:
-- a generated column (computed after the guard), a referenced partition
CREATE TABLE gen_lines (id int PRIMARY KEY, code text,
	order_id int GENERATED ALWAYS AS (split_part(code, '-', 1)::int) STORED REFERENCES orders);
SELECT try($t$SELECT reclock_protect('gen_lines', parent => 'orders')$t$);
CREATE TABLE xorders (a int, b int, PRIMARY KEY (a, b)) PARTITION BY LIST (a);
CREATE TABLE xorders_1 (b int NOT NULL, a int NOT NULL);
ALTER TABLE xorders ATTACH PARTITION xorders_1 FOR VALUES IN (1);
CREATE TABLE xlines (id int PRIMARY KEY, oa int, ob int, FOREIGN KEY (oa, ob) REFERENCES xorders_1 (a, b));
SELECT try($t$SELECT reclock_protect('xlines', parent => 'xorders')$t$);
-- ... and at write (55000) if it became so after protect (the key dropped and
-- made again under the same name, referencing a unique column)
CREATE TABLE swap_orders (id int PRIMARY KEY, code int UNIQUE);
CREATE TABLE swap_lines (id int PRIMARY KEY, order_id int CONSTRAINT swap_fk REFERENCES swap_orders);
INSERT INTO swap_orders VALUES (1, 1);
INSERT INTO swap_lines VALUES (1, 1);
SELECT reclock_protect('swap_lines', parent => 'swap_orders');
-- the guard depends on its foreign key: the key cannot be dropped (and made
-- again to another column) under it (2BP01) ...
SELECT try($t$ALTER TABLE swap_lines DROP CONSTRAINT swap_fk$t$);
-- ... CASCADE takes the guard with it, and the key made again to a column
-- that is not the primary key cannot be protected (42P17)
ALTER TABLE swap_lines DROP CONSTRAINT swap_fk CASCADE;
SELECT count(*) AS guards_left FROM pg_trigger WHERE tgrelid = 'swap_lines'::regclass AND tgname = 'reclock_guard';
ALTER TABLE swap_lines ADD CONSTRAINT swap_fk FOREIGN KEY (order_id) REFERENCES swap_orders (code);
SELECT try($t$SELECT reclock_protect('swap_lines', parent => 'swap_orders')$t$);
SELECT try($t$SELECT reclock_diff_children('swap_lines', '1', '[]')$t$);
DROP TABLE gen_lines, xlines, xorders, swap_lines, swap_orders;

-- a role that may only reference the parent cannot make its table a child
-- (the guard locks parent rows for the child's writers, and names their
-- holders): it needs UPDATE on the parent, as acquire does
CREATE ROLE regress_children_mallory;
GRANT USAGE, CREATE ON SCHEMA children TO regress_children_mallory;
GRANT REFERENCES ON lines TO regress_children_mallory;
SET ROLE regress_children_mallory;
CREATE TABLE evil (id int PRIMARY KEY, line_id int REFERENCES lines);
SELECT try($t$SELECT reclock_protect('evil', parent => 'lines')$t$);
DROP TABLE evil;
RESET ROLE;
REVOKE ALL ON lines FROM regress_children_mallory;
REVOKE ALL ON SCHEMA children FROM regress_children_mallory;
DROP ROLE regress_children_mallory;

-- the guard's memory of a chain: a middle row given another key, and its
-- key taken by a row under another parent, in the same transaction
CREATE TABLE c_orders (id int PRIMARY KEY);
CREATE TABLE c_lines (id int PRIMARY KEY, order_id int NOT NULL REFERENCES c_orders);
CREATE TABLE c_notes (id int PRIMARY KEY, line_id int REFERENCES c_lines ON UPDATE CASCADE);
INSERT INTO c_orders VALUES (42), (43);
INSERT INTO c_lines VALUES (5, 42);
INSERT INTO c_notes VALUES (100, 5);
SELECT reclock_protect('c_lines', parent => 'c_orders');
SELECT reclock_protect('c_notes', parent => 'c_lines');
SELECT token AS carol FROM reclock_acquire('c_orders', '43', 'carol') \gset
BEGIN;
SELECT set_config('reclock.token', :'carol', true) IS NOT NULL;
UPDATE c_notes SET id = 100 WHERE id = 100;		-- line 5 is under order 42 (free)
UPDATE c_lines SET id = 6 WHERE id = 5;			-- the line gets another key
INSERT INTO c_lines VALUES (5, 43);				-- line 5 is now in carol's order
SELECT set_config('reclock.token', '', true) IS NOT NULL;
SELECT try($t$INSERT INTO c_notes VALUES (101, 5)$t$);
ROLLBACK;

-- the holder's own cascades under require_lock: her token covers the child
-- rows of the order she deletes or gives another key, also when the row
-- is gone for the cascade's own query
CREATE TABLE r_lines (id int PRIMARY KEY,
	order_id int REFERENCES c_orders ON DELETE CASCADE ON UPDATE CASCADE);
INSERT INTO r_lines VALUES (5, 43);
SELECT reclock_protect('c_orders');
SELECT reclock_protect('r_lines', true, 'c_orders');
BEGIN;
SELECT set_config('reclock.token', :'carol', true) IS NOT NULL;
SELECT try($t$DELETE FROM c_orders WHERE id = 43$t$);
SELECT count(*) AS lines_left FROM r_lines;
ROLLBACK;
BEGIN;
SELECT set_config('reclock.token', :'carol', true) IS NOT NULL;
SELECT try($t$UPDATE c_orders SET id = 44 WHERE id = 43$t$);
SELECT order_id FROM r_lines;
ROLLBACK;
-- and without her token, refused
SELECT try($t$DELETE FROM r_lines WHERE id = 5$t$);
SELECT reclock_release(:'carol');
DROP TABLE r_lines, c_notes, c_lines, c_orders;

--
-- the formset check: reclock_cas_children / reclock_diff_children
--
SELECT id, order_id, product, qty FROM lines WHERE order_id = 1 ORDER BY id;
-- exactly the rows shown, with the values shown: true ({} for diff)
SELECT reclock_cas_children('lines', '1',
	'[{"id": 10, "product": "bolt", "qty": 9}, {"id": 12, "product": "washer", "qty": "5"}]');
SELECT reclock_diff_children('lines', '1',
	'[{"id": 10, "product": "bolt", "qty": 9}, {"id": 12, "product": "washer", "qty": "5"}]');
-- only the named columns count; the key may be given as text
SELECT reclock_cas_children('lines', '1', '[{"id": "10"}, {"id": 12, "qty": 5}]');
-- the parent key is parsed as the parent's key ('01' is 1)
SELECT reclock_cas_children('lines', '01', '[{"id": 10}, {"id": 12}]');
-- a row inserted, deleted or changed since: false, and the diff says which
SELECT reclock_cas_children('lines', '1', '[{"id": 10, "qty": 9}]');
SELECT reclock_cas_children('lines', '1', '[{"id": 10, "qty": 9}, {"id": 11, "qty": 2}, {"id": 12}]');
SELECT reclock_cas_children('lines', '1', '[{"id": 10, "qty": 1}, {"id": 12}]');
SELECT reclock_diff_children('lines', '1',
	'[{"id": 10, "product": "bolt", "qty": 1}, {"id": 11, "product": "nut", "qty": 2}, {"id": 12, "product": "washer", "qty": 5}]');
SELECT reclock_diff_children('lines', '1', '[]');
SELECT reclock_cas_children('lines', '3', '[]');
-- NULL values compare as IS NOT DISTINCT FROM
UPDATE lines SET product = NULL WHERE id = 30;
SELECT reclock_cas_children('lines', '3', '[{"id": 30, "product": null}, {"id": 31}]');
SELECT reclock_diff_children('lines', '3', '[{"id": 30, "product": "cog"}, {"id": 31}]');
-- the parent row is gone: NULL
SELECT reclock_cas_children('lines', '4', '[]') IS NULL AS gone, reclock_diff_children('lines', '4', '[]') IS NULL AS gone;
-- a table that is not a protected child but has one foreign key works too
SELECT try($t$SELECT reclock_diff_children('byuniq', 'x', '[]')$t$);
CREATE TABLE memo (id int PRIMARY KEY, order_id int REFERENCES orders, txt text);
INSERT INTO memo VALUES (1, 2, 'call back');
SELECT reclock_diff_children('memo', '2', '[{"id": 1, "txt": "call"}]');
SELECT reclock_cas_children('memo', '2', '[{"id": 1, "txt": "call back"}]');

-- bad input
SELECT try($t$SELECT reclock_cas_children('lines', '1', '{"id": 10}')$t$);
SELECT try($t$SELECT reclock_cas_children('lines', '1', '"x"')$t$);
SELECT try($t$SELECT reclock_cas_children('lines', '1', '[{"id": 10}, 3]')$t$);
SELECT try($t$SELECT reclock_cas_children('lines', '1', '[{"id": 10}, {"qty": 3}]')$t$);
SELECT try($t$SELECT reclock_cas_children('lines', '1', '[{"id": null}]')$t$);
SELECT try($t$SELECT reclock_cas_children('lines', '1', '[{"id": 10}, {"id": "10"}]')$t$);
SELECT try($t$SELECT reclock_cas_children('lines', '1', '[{"id": 10, "nope": 1}]')$t$);
SELECT try($t$SELECT reclock_cas_children('lines', '1', '[{"id": 10, "qty": "many"}]')$t$);
SELECT try($t$SELECT reclock_cas_children('lines', 'x', '[]')$t$);
SELECT try($t$SELECT reclock_cas_children(NULL, '1', '[]')$t$);
SELECT try($t$SELECT reclock_cas_children('lines', NULL, '[]')$t$);
SELECT try($t$SELECT reclock_diff_children('lines', '1', NULL)$t$);
SELECT try($t$SELECT reclock_cas_children('nofk', '1', '[]')$t$);
SELECT try($t$SELECT reclock_cas_children('twofk', '1', '[]')$t$);
SELECT try($t$SELECT reclock_cas_children('orders', '1', '[]')$t$);
-- rights: the caller's own (it reads the children and locks them FOR UPDATE)
SET ROLE regress_children_stranger;
SELECT try($t$SELECT reclock_diff_children('lines', '1', '[]')$t$);
SELECT try($t$SELECT reclock_cas_children('lines', '1', '[]')$t$);
RESET ROLE;
GRANT SELECT ON orders, lines TO regress_children_stranger;
SET ROLE regress_children_stranger;
SELECT reclock_diff_children('lines', '1', '[{"id": 10}, {"id": 12}]');
SELECT try($t$SELECT reclock_cas_children('lines', '1', '[]')$t$);
RESET ROLE;

-- a fresh backend: the formset check locks the parent row FOR UPDATE, then an
-- acquire of another row of that table locks its row FOR UPDATE too; their
-- statements once shared a cache key, and the acquire ran the check's
-- statement: its grant named the wrong row
\c
SET search_path = children, public;
SELECT reclock_cas_children('lines', '3', '[]') IS NOT NULL AS checked;
SELECT token AS zed FROM reclock_acquire('orders', '2', 'zed') \gset
SELECT relation, key FROM reclock_locks WHERE holder = 'zed';
SELECT reclock_release(:'zed');

-- unprotect: the lines are free again
SELECT reclock_unprotect('lines');
SELECT try($t$UPDATE lines SET qty = 0 WHERE id = 10$t$);

SELECT reclock_release(:'alice');
SELECT reclock_release(:'erin');
DROP SCHEMA children CASCADE;
RESET search_path;
REVOKE ALL ON SCHEMA public FROM regress_children_stranger;
DROP ROLE regress_children_stranger;
