-- bench setup for documents (a parent row and its child rows, version 1.1):
-- 100 000 orders, and for each distribution of lines per order (10, 1 000,
-- 1) three tables of 100 000 lines with the same foreign key and the same
-- data: the child guard (reclock_protect(..., parent => 'bt_orders')), the
-- row guard only (reclock_protect(...)), and unprotected.
CREATE EXTENSION IF NOT EXISTS reclock;
DROP TABLE IF EXISTS bt_lines, bt_lines_row, bt_lines_plain,
  bt_lines1k, bt_lines1k_row, bt_lines1k_plain,
  bt_lines1, bt_lines1_row, bt_lines1_plain, bt_orders CASCADE;
CREATE TABLE bt_orders (id int PRIMARY KEY, v int NOT NULL DEFAULT 0);
INSERT INTO bt_orders SELECT generate_series(1, 100000);
DO $$
DECLARE
  t text;
  k int;
BEGIN
  FOR t, k IN VALUES ('bt_lines', 10), ('bt_lines1k', 1000), ('bt_lines1', 1) LOOP
    FOREACH t IN ARRAY ARRAY[t, t || '_row', t || '_plain'] LOOP
      EXECUTE format('CREATE TABLE %I (id int PRIMARY KEY, order_id int NOT NULL REFERENCES bt_orders, v int NOT NULL DEFAULT 0)', t);
      EXECUTE format('CREATE INDEX ON %I (order_id)', t);
      -- line id i belongs to order (i - 1) / k + 1: an order's lines are adjacent
      EXECUTE format('INSERT INTO %I (id, order_id) SELECT g, (g - 1) / %s + 1 FROM generate_series(1, 100000) g', t, k);
    END LOOP;
  END LOOP;
END $$;
SELECT reclock_protect('bt_lines', parent => 'bt_orders');
SELECT reclock_protect('bt_lines1k', parent => 'bt_orders');
SELECT reclock_protect('bt_lines1', parent => 'bt_orders');
SELECT reclock_protect('bt_lines_row');
SELECT reclock_protect('bt_lines1k_row');
SELECT reclock_protect('bt_lines1_row');
VACUUM ANALYZE bt_orders, bt_lines, bt_lines_row, bt_lines_plain,
  bt_lines1k, bt_lines1k_row, bt_lines1k_plain, bt_lines1, bt_lines1_row, bt_lines1_plain;
