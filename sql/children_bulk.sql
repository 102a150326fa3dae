--
-- children_bulk: a bulk write of a million child rows works (out of
-- make check-memory: too slow under valgrind)
--
\set VERBOSITY terse
\set SHOW_CONTEXT never
\i sql/include/try.sql
SET reclock.test_clock_offset = 0;

-- a bulk write of a million child rows (100 000 orders of 10 lines: more
-- parent rows than the guard's cache keeps, so it starts again on the way)
-- works, and takes no heavyweight lock per row
CREATE TABLE big_orders (id int PRIMARY KEY);
CREATE TABLE big_lines (id int PRIMARY KEY, order_id int NOT NULL REFERENCES big_orders, v int);
INSERT INTO big_orders SELECT g FROM generate_series(1, 100000) g;
SELECT reclock_protect('big_lines', parent => 'big_orders');
SELECT acquired FROM reclock_acquire('big_orders', '50000', 'alice');
BEGIN;
SELECT try($t$INSERT INTO big_lines SELECT g, (g - 1) / 10 + 1, 0 FROM generate_series(1, 1000000) g
			   WHERE (g - 1) / 10 + 1 <> 50000$t$);
SELECT try($t$UPDATE big_lines SET v = 1$t$);
SELECT count(*) < 20 AS few_locks FROM pg_locks WHERE pid = pg_backend_pid();
COMMIT;
SELECT count(*), sum(v) FROM big_lines;
-- and the one locked order's lines are refused, also in bulk
SELECT try($t$INSERT INTO big_lines SELECT g, 50000, 0 FROM generate_series(499991, 500000) g$t$);
SELECT try($t$UPDATE big_lines SET order_id = 50000 WHERE order_id >= 49990$t$);
DROP TABLE big_lines, big_orders;
