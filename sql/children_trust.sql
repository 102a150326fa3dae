--
-- children_trust: a locked document is closed whatever the session prints,
-- however its keys are written, and whoever made its guard (issue 20).
--
\set VERBOSITY terse
\set SHOW_CONTEXT never
\i sql/include/try.sql
SET reclock.test_clock_offset = 0;
CREATE SCHEMA children_trust;
SET search_path = children_trust, public;

--
-- Keys by identity, never by printed text.  The guard remembers the parent
-- rows a transaction locked; under DateStyle 'SQL, MDY' 2024-01-02 prints
-- 01/02/2024, and under 'SQL, DMY' so does 2024-02-01: one transaction that
-- wrote a child of the free day must not write the locked day's children.
--
CREATE TABLE days (d date PRIMARY KEY);
CREATE TABLE slots (id int PRIMARY KEY, d date REFERENCES days, what text);
INSERT INTO days VALUES ('2024-01-02'), ('2024-02-01');
INSERT INTO slots VALUES (1, '2024-01-02', 'free day'), (2, '2024-02-01', 'locked day');
SELECT reclock_protect('days');
SELECT reclock_protect('slots', parent => 'days');
SELECT token AS alice FROM reclock_acquire('days', '2024-02-01', 'alice') \gset
BEGIN;
SET LOCAL DateStyle = 'SQL, MDY';
SELECT try($t$UPDATE slots SET what = 'x' WHERE id = 1$t$);
SET LOCAL DateStyle = 'SQL, DMY';
SELECT try($t$INSERT INTO slots VALUES (3, '2024-02-01', 'in')$t$);
SELECT try($t$UPDATE slots SET what = 'y' WHERE id = 2$t$);
SELECT try($t$DELETE FROM slots WHERE id = 2$t$);
COMMIT;
SELECT * FROM slots ORDER BY id;
-- a float key printed with few digits: 0.1 and 0.1000000000000001 print
-- alike under extra_float_digits = -3
CREATE TABLE weights (w float8 PRIMARY KEY);
CREATE TABLE parcels (id int PRIMARY KEY, w float8 REFERENCES weights);
INSERT INTO weights VALUES (0.1), (0.1000000000000001);
INSERT INTO parcels VALUES (1, 0.1), (2, 0.1000000000000001);
SELECT reclock_protect('parcels', parent => 'weights');
SELECT token AS bob FROM reclock_acquire('weights', '0.1000000000000001', 'bob') \gset
BEGIN;
SET LOCAL extra_float_digits = -3;
SELECT try($t$UPDATE parcels SET id = id WHERE id = 1$t$);
SELECT try($t$UPDATE parcels SET id = id WHERE id = 2$t$);
COMMIT;

--
-- The formset check matches the rows the form showed by the key type's
-- equality: a shown 1.5 is the row whose numeric key is 1.50.
--
CREATE TABLE invoices (id int PRIMARY KEY);
CREATE TABLE items (pos numeric PRIMARY KEY, invoice_id int REFERENCES invoices, qty int);
INSERT INTO invoices VALUES (1);
INSERT INTO items VALUES (1.50, 1, 3), (2.0, 1, 4);
SELECT reclock_protect('items', parent => 'invoices');
SELECT reclock_cas('items', '1.5', '{"qty": 3}'), reclock_cas('items', '2', '{"qty": 4}');
SELECT reclock_cas_children('items', '1', '[{"pos": 1.5, "qty": 3}, {"pos": 2, "qty": 4}]');
SELECT reclock_cas_children('items', '1', '[{"pos": "1.5", "qty": 3}, {"pos": "2", "qty": 4}]');
SELECT reclock_diff_children('items', '1', '[{"pos": 1.5, "qty": 3}, {"pos": 2, "qty": 5}]');
-- a row the form did not show is still one inserted, a shown row gone one deleted
SELECT reclock_diff_children('items', '1', '[{"pos": 1.5}, {"pos": 3}]');

--
-- Rights on every table above, and a guard made only by reclock_protect.
--
CREATE TABLE t_orders (id int PRIMARY KEY);
CREATE TABLE t_lines (id int PRIMARY KEY, order_id int REFERENCES t_orders);
INSERT INTO t_orders VALUES (1);
INSERT INTO t_lines VALUES (10, 1);
SELECT reclock_protect('t_orders');
SELECT reclock_protect('t_lines', parent => 't_orders');
SELECT token AS carol FROM reclock_acquire('t_orders', '1', 'carol') \gset
CREATE ROLE regress_trust_mallory;
GRANT USAGE, CREATE ON SCHEMA children_trust TO regress_trust_mallory;
GRANT SELECT, UPDATE, REFERENCES ON t_lines TO regress_trust_mallory;
SET ROLE regress_trust_mallory;
CREATE TABLE t_notes (id int PRIMARY KEY, line_id int REFERENCES t_lines);
-- she may update the lines, not the orders above them: 42501
SELECT try($t$SELECT reclock_protect('t_notes', parent => 't_lines')$t$);
-- a guard made by hand: refused at its first firing (her table's rows are
-- never judged by the orders' locks, nor the orders' rows locked for her)
CREATE TRIGGER reclock_guard BEFORE INSERT OR UPDATE OR DELETE ON t_notes FOR EACH ROW
  EXECUTE FUNCTION reclock_guard_child('parent_fk=t_notes_line_id_fkey');
SELECT try($t$INSERT INTO t_notes VALUES (1, 10)$t$);
RESET ROLE;
DROP TABLE t_notes;
REVOKE ALL ON t_lines FROM regress_trust_mallory;
REVOKE ALL ON SCHEMA children_trust FROM regress_trust_mallory;
DROP ROLE regress_trust_mallory;

--
-- A chain stays bound to the foreign key it was protected with: the guard
-- depends on it, so it cannot be dropped and made again under the same name
-- (here pointing at another table) while the table is protected (2BP01);
-- DROP ... CASCADE takes the guard with it, and the table is protected
-- again through the new key.
--
CREATE TABLE t_other (id int PRIMARY KEY);
INSERT INTO t_other VALUES (1);
SELECT token AS dave FROM reclock_acquire('t_other', '1', 'dave') \gset
SELECT try($t$ALTER TABLE t_lines DROP CONSTRAINT t_lines_order_id_fkey,
  ADD CONSTRAINT t_lines_order_id_fkey FOREIGN KEY (order_id) REFERENCES t_other$t$);
-- still carol's document
SELECT try($t$INSERT INTO t_lines VALUES (11, 1)$t$);
ALTER TABLE t_lines DROP CONSTRAINT t_lines_order_id_fkey CASCADE,
  ADD CONSTRAINT t_lines_order_id_fkey FOREIGN KEY (order_id) REFERENCES t_other;
SELECT reclock_protect('t_lines', parent => 't_other');
SELECT try($t$INSERT INTO t_lines VALUES (11, 1)$t$);

--
-- Errors are never swallowed: a parent key of a domain whose CHECK runs
-- PL/pgSQL, a child row naming a value the domain refuses.  The deferred
-- foreign key fails at COMMIT, and nothing is left behind (no SPI stack,
-- no pins, no snapshots).
--
CREATE FUNCTION pos_check(int) RETURNS bool LANGUAGE plpgsql AS $$
BEGIN IF $1 < 0 THEN RAISE EXCEPTION 'negative'; END IF; RETURN true; END $$;
CREATE DOMAIN pos AS int CHECK (pos_check(VALUE));
CREATE TABLE d_parents (id pos PRIMARY KEY);
CREATE TABLE d_kids (id int PRIMARY KEY, p int REFERENCES d_parents DEFERRABLE INITIALLY DEFERRED);
SELECT reclock_protect('d_kids', parent => 'd_parents');
BEGIN;
INSERT INTO d_kids VALUES (1, -1);
INSERT INTO d_kids VALUES (2, -2);
COMMIT;
CREATE PROCEDURE kid_then_commit() LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO d_parents VALUES (5);
  COMMIT;
  INSERT INTO d_kids VALUES (3, -3);
  DELETE FROM d_kids WHERE id = 3;
  COMMIT;
END $$;
CALL kid_then_commit();
SELECT * FROM d_kids;
