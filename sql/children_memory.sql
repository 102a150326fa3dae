--
-- The child guard's cache of parent rows is bounded in bytes whatever the
-- keys' length (issue 23): 3 000 parents with composite keys of about 4 kB
-- each would keep over 20 MB until COMMIT; the cache starts again at 8 MB.
-- Every parent is cached (its row locked once per transaction) whatever
-- its key's length, and a parent's lock still refuses after the cache
-- started again.
--
CREATE SCHEMA children_memory;
SET search_path = children_memory, public;
SET reclock.test_clock_epoch = 1893456000;
CREATE TABLE lk_orders (code text, n int, PRIMARY KEY (code, n));
INSERT INTO lk_orders SELECT repeat(md5(g::text), 125) || g, g FROM generate_series(1, 3000) g;
CREATE TABLE lk_lines (id int PRIMARY KEY, code text NOT NULL, n int NOT NULL,
  FOREIGN KEY (code, n) REFERENCES lk_orders);
SELECT reclock_protect('lk_orders');
SELECT reclock_protect('lk_lines', parent => 'lk_orders');
SELECT acquired FROM reclock_acquire('lk_orders',
  (SELECT format('(%s,%s)', code, n) FROM lk_orders WHERE n = 1), 'carol');
BEGIN;
-- one line under each parent but the locked one, one statement
INSERT INTO lk_lines SELECT g, repeat(md5(g::text), 125) || g, g FROM generate_series(2, 3000) g;
-- the cache's context and its hash table's (a child context)
SELECT sum(total_bytes) <= 9 * 1024 * 1024 AS bounded FROM pg_backend_memory_contexts
 WHERE 'reclock parent rows' IN (name, ident);
SAVEPOINT s;
INSERT INTO lk_lines SELECT 0, code, n FROM lk_orders WHERE n = 1;
ROLLBACK TO s;
COMMIT;
SELECT count(*) AS lines FROM lk_lines;
RESET search_path;
DROP SCHEMA children_memory CASCADE;
