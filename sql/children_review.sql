--
-- children_review: what the adversarial review of the child guard (1.2)
-- found, each a way into a locked document or around its binding, closed.
--
\set VERBOSITY terse
\set SHOW_CONTEXT never
SET reclock.test_clock_offset = 0;
CREATE SCHEMA children_review;
SET search_path = children_review, public;
-- the SQLSTATE only: the fix chooses the message
CREATE FUNCTION state(sql text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE sql;
  RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE;
END $$;

--
-- 1. A foreign key whose equality depends on TimeZone.  A timestamp column
-- may reference a timestamptz key (timestamptz = timestamp is in the btree
-- family): which parent row a child belongs to then depends on the session's
-- TimeZone.  The guard remembers the parent row by the foreign-key bytes,
-- so after a write under UTC the same bytes under Asia/Tokyo name another,
-- locked, row, and the guard lets the writes through from its memory.
-- Contract ("Words": every comparison of keys reclock makes, the guard's
-- memory of rows within a transaction and a child row's link to its parent,
-- never depends on the session's TimeZone): such a foreign key is refused at
-- protect (42P17), so the tasks are never judged by a TimeZone-dependent
-- parent (the writes below pass: the table is not a child table).
--
CREATE TABLE shifts (starts timestamptz PRIMARY KEY, what text);
CREATE TABLE tasks (id int PRIMARY KEY, starts timestamp REFERENCES shifts, what text);
SET TimeZone = 'UTC';
INSERT INTO shifts VALUES ('2024-01-01 00:00+00', 'utc'), ('2024-01-01 00:00+09', 'tokyo');
INSERT INTO tasks VALUES (1, '2024-01-01 00:00', 'seed');
SELECT reclock_protect('shifts');
SELECT state($t$SELECT reclock_protect('tasks', parent => 'shifts')$t$);
SELECT acquired FROM reclock_acquire('shifts', '2024-01-01 00:00+09', 'alice');
RESET TimeZone;
-- without the guard's memory: refused
BEGIN;
SET LOCAL TimeZone = 'Asia/Tokyo';
SELECT state($t$INSERT INTO tasks VALUES (10, '2024-01-01 00:00', 'no token')$t$);
COMMIT;
-- with it: a write of the free UTC shift's task first, then the Tokyo shift's
BEGIN;
SET LOCAL TimeZone = 'UTC';
SELECT state($t$UPDATE tasks SET what = 'warm the memory' WHERE id = 1$t$);
SET LOCAL TimeZone = 'Asia/Tokyo';
SELECT state($t$INSERT INTO tasks VALUES (11, '2024-01-01 00:00', 'into the locked shift')$t$);
SELECT state($t$UPDATE tasks SET what = 'into the locked shift' WHERE id = 1$t$);
COMMIT;
SET TimeZone = 'Asia/Tokyo';
-- (tasks is not a child table: its rows are not judged by the shifts' locks)
SELECT t.id, t.what, s.what AS shift FROM tasks t JOIN shifts s ON s.starts = t.starts ORDER BY t.id;
RESET TimeZone;

--
-- 2. Bound to its foreign key.  The guard records its dependency on the
-- key's OID but follows the key by name: the owner renames the key away and
-- gives its name to another foreign key (here to another table), and the
-- guard silently follows the new one.  Contract ("a protected chain stays
-- bound to the foreign keys it was protected with ... never followed
-- silently (55000 at write until the table is protected again)"): 55000.
--
CREATE TABLE orders (id int PRIMARY KEY, customer text);
CREATE TABLE customers (id int PRIMARY KEY, name text);
CREATE TABLE lines (id int PRIMARY KEY, order_id int, cust_id int, product text,
  CONSTRAINT fk_order FOREIGN KEY (order_id) REFERENCES orders,
  CONSTRAINT fk_cust FOREIGN KEY (cust_id) REFERENCES customers);
SELECT reclock_protect('orders');
SELECT reclock_protect('customers');
SELECT reclock_protect('lines', parent => 'orders');
INSERT INTO orders VALUES (42, 'acme'), (43, 'free');
INSERT INTO customers VALUES (1, 'c1'), (2, 'c2');
INSERT INTO lines VALUES (1, 42, 1, 'nut');
SELECT acquired FROM reclock_acquire('orders', '42', 'alice');
ALTER TABLE lines RENAME CONSTRAINT fk_order TO fk_old;
ALTER TABLE lines RENAME CONSTRAINT fk_cust TO fk_order;
SELECT state($t$UPDATE lines SET product = 'swapped' WHERE id = 1$t$);
SELECT state($t$INSERT INTO lines VALUES (2, 42, 2, 'new under 42')$t$);
SELECT * FROM lines ORDER BY id;

--
-- 3. The formset check names one row twice.  1.5 and 1.50 are one numeric
-- key (the type's equality), but the check for a key named twice compares
-- canonical texts: the second name is then reported as a deleted row.
-- Expected: 22023, as for '[{"pos": 1.5}, {"pos": 1.5}]'.
--
CREATE TABLE invoices (id int PRIMARY KEY);
CREATE TABLE items (pos numeric PRIMARY KEY, invoice_id int REFERENCES invoices, qty int);
INSERT INTO invoices VALUES (1);
INSERT INTO items VALUES (1.5, 1, 3);
SELECT reclock_protect('items', parent => 'invoices');
SELECT state($t$SELECT reclock_cas_children('items', '1', '[{"pos": 1.5, "qty": 3}, {"pos": 1.5, "qty": 3}]')$t$);
SELECT state($t$SELECT reclock_cas_children('items', '1', '[{"pos": 1.5, "qty": 3}, {"pos": 1.50, "qty": 3}]')$t$);
SELECT state($t$SELECT reclock_diff_children('items', '1', '[{"pos": 1.5, "qty": 3}, {"pos": 1.50, "qty": 3}]')$t$);

--
-- 4. require_lock: a parent lock the transaction itself released no longer
-- covers its later inserts (issue 20, item 10).  (Another session's release
-- or break waits for the writer: its row lock on the parent holds it off.)
--
CREATE TABLE rl_orders (id int PRIMARY KEY);
CREATE TABLE rl_lines (id int PRIMARY KEY, order_id int REFERENCES rl_orders);
INSERT INTO rl_orders VALUES (1);
SELECT reclock_protect('rl_orders');
SELECT reclock_protect('rl_lines', require_lock => true, parent => 'rl_orders');
SELECT token AS rl FROM reclock_acquire('rl_orders', '1', 'alice') \gset
BEGIN;
SELECT set_config('reclock.token', :'rl', true) IS NOT NULL AS presented;
SELECT state($t$INSERT INTO rl_lines VALUES (1, 1)$t$) AS covered;
SELECT reclock_release(:'rl');
SELECT state($t$INSERT INTO rl_lines VALUES (2, 1)$t$) AS after_release;
COMMIT;
SELECT id FROM rl_lines ORDER BY id;

--
-- 5. The formset diff is a read: on a table with one foreign key that is not
-- protected, it needs SELECT, not UPDATE on the parent (issue 20, item 13).
--
CREATE TABLE ro_orders (id int PRIMARY KEY);
CREATE TABLE ro_lines (id int PRIMARY KEY, order_id int REFERENCES ro_orders, qty int);
INSERT INTO ro_orders VALUES (1);
INSERT INTO ro_lines VALUES (1, 1, 5);
CREATE ROLE regress_review_reader;
GRANT USAGE ON SCHEMA children_review TO regress_review_reader;
GRANT SELECT ON ro_orders, ro_lines TO regress_review_reader;
SET ROLE regress_review_reader;
SELECT reclock_diff_children('ro_lines', '1', '[{"id": 1, "qty": 4}]');
RESET ROLE;
REVOKE ALL ON ro_orders, ro_lines FROM regress_review_reader;
REVOKE ALL ON SCHEMA children_review FROM regress_review_reader;
DROP ROLE regress_review_reader;

--
-- 6. require_lock on a partitioned child table: a move to a free order is
-- judged the same within a partition and across partitions (an UPDATE that
-- PostgreSQL runs as a DELETE and an INSERT): a row entering an order needs
-- that order's lock, as an inserted one does (issue 20, item 11: the move
-- was allowed within a partition and refused across)
--
CREATE TABLE pm_orders (id int PRIMARY KEY);
CREATE TABLE pm_lines (id int, order_id int REFERENCES pm_orders, region text,
  PRIMARY KEY (id, region)) PARTITION BY LIST (region);
CREATE TABLE pm_lines_a PARTITION OF pm_lines FOR VALUES IN ('a');
CREATE TABLE pm_lines_b PARTITION OF pm_lines FOR VALUES IN ('b');
INSERT INTO pm_orders VALUES (1), (2);
INSERT INTO pm_lines VALUES (1, 1, 'a'), (2, 1, 'a');
SELECT reclock_protect('pm_orders');
SELECT reclock_protect('pm_lines', require_lock => true, parent => 'pm_orders');
SELECT token AS pm FROM reclock_acquire('pm_orders', '1', 'alice') \gset
BEGIN;
SELECT set_config('reclock.token', :'pm', true) IS NOT NULL AS presented;
SELECT state($t$UPDATE pm_lines SET order_id = 2 WHERE id = 1$t$) AS within;
SELECT state($t$UPDATE pm_lines SET order_id = 2, region = 'b' WHERE id = 2$t$) AS across;
-- as a new line under the free order does
SELECT state($t$INSERT INTO pm_lines VALUES (3, 2, 'b')$t$) AS new_row;
-- with the free order's lock too, both moves go through
SELECT token AS pm2 FROM reclock_acquire('pm_orders', '2', 'alice') \gset
SELECT set_config('reclock.token', :'pm' || ',' || :'pm2', true) IS NOT NULL AS presented;
SELECT state($t$UPDATE pm_lines SET order_id = 2 WHERE id = 1$t$) AS within_locked;
SELECT state($t$UPDATE pm_lines SET order_id = 2, region = 'b' WHERE id = 2$t$) AS across_locked;
COMMIT;
SELECT id, order_id, region FROM pm_lines ORDER BY id;

--
-- 7. The child-link cache keeps only links used since the last invalidation:
-- after 300 child tables were written and dropped, it holds next to nothing
-- (it kept about 2 kB per table for the life of the backend: issue 20,
-- item 14; a link is about 0.6 kB since it keeps no output functions).
--
CREATE TABLE mc_orders (id int PRIMARY KEY);
INSERT INTO mc_orders VALUES (1);
DO $$
BEGIN
  FOR i IN 1..300 LOOP
    EXECUTE format('CREATE TABLE mc_lines_%s (id int PRIMARY KEY, order_id int REFERENCES mc_orders)', i);
    PERFORM reclock_protect(format('mc_lines_%s', i)::regclass, parent => 'mc_orders');
  END LOOP;
END $$;
DO $$
BEGIN
  FOR i IN 1..300 LOOP
    EXECUTE format('INSERT INTO mc_lines_%s VALUES (1, 1)', i);
  END LOOP;
END $$;
SELECT total_bytes > 300 * 500 AS holds_300_links FROM pg_backend_memory_contexts
 WHERE name = 'reclock child links';
DO $$
BEGIN
  FOR i IN 1..300 LOOP
    EXECUTE format('DROP TABLE mc_lines_%s', i);
  END LOOP;
END $$;
-- the next write of a child table empties the cache first
CREATE TABLE mc_lines (id int PRIMARY KEY, order_id int REFERENCES mc_orders);
SELECT reclock_protect('mc_lines', parent => 'mc_orders');
INSERT INTO mc_lines VALUES (1, 1);
SELECT total_bytes < 64 * 1024 AS bounded FROM pg_backend_memory_contexts
 WHERE name = 'reclock child links';

DROP SCHEMA children_review CASCADE;
