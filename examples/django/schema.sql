-- the example's table: run once, as the table's owner
CREATE EXTENSION IF NOT EXISTS reclock;
CREATE TABLE IF NOT EXISTS orders (id int PRIMARY KEY, customer text NOT NULL, qty int NOT NULL, note text);
INSERT INTO orders VALUES (42, 'ACME Corp', 5, 'ship Tuesday') ON CONFLICT DO NOTHING;
SELECT reclock_protect('orders');
SELECT reclock_notify('orders');
