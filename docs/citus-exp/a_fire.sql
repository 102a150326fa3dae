\echo === coordinator pid
SELECT pg_backend_pid(), inet_server_port();
\echo === router UPDATE id=1
UPDATE orders SET v = v WHERE id = 1;
\echo === router DELETE id=2 (rolled back)
BEGIN; DELETE FROM orders WHERE id = 2; ROLLBACK;
\echo === multi-shard UPDATE
UPDATE orders SET v = v WHERE id IN (1,2,3,4);
\echo === multi-shard DELETE (rolled back)
BEGIN; DELETE FROM orders WHERE id > 6; ROLLBACK;
\echo === INSERT .. SELECT colocated (pushdown)
BEGIN; INSERT INTO orders SELECT id + 100, v FROM src WHERE id < 3; ROLLBACK;
\echo === INSERT .. SELECT from ref (repartition / via coordinator)
BEGIN; INSERT INTO orders SELECT id + 200, v FROM ref WHERE id < 3; ROLLBACK;
\echo === INSERT .. ON CONFLICT DO UPDATE
BEGIN; INSERT INTO orders VALUES (1, 'x') ON CONFLICT (id) DO UPDATE SET v = excluded.v; ROLLBACK;
\echo === COPY
BEGIN; COPY orders FROM stdin;
301	a
302	b
\.
ROLLBACK;
\echo === reference UPDATE, local execution on
UPDATE ref SET v = v WHERE id = 1;
\echo === reference DELETE in txn after local read
BEGIN; SELECT count(*) FROM ref; DELETE FROM ref WHERE id = 2; ROLLBACK;
\echo === reference UPDATE, local execution off
SET citus.enable_local_execution = off;
UPDATE ref SET v = v WHERE id = 1;
RESET citus.enable_local_execution;
\echo === MERGE into distributed
BEGIN; MERGE INTO orders o USING src s ON o.id = s.id WHEN MATCHED AND s.id = 3 THEN UPDATE SET v = s.v; ROLLBACK;
\echo === writable CTE
BEGIN; WITH u AS (UPDATE orders SET v = v WHERE id = 5 RETURNING *) SELECT count(*) FROM u; ROLLBACK;
