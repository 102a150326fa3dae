-- the prototype (docs/citus-exp/prop): set_config(..., true) on the
-- coordinator, carried to the workers by an ExecutorStart hook
LOAD 'citusprop';
\echo === 1 BEGIN; set_config; router UPDATE (new connection)
BEGIN; SELECT set_config('myapp.tok', 'P1', true); UPDATE orders SET v = v WHERE id = 1; COMMIT;
\echo === 2 BEGIN; router UPDATE (connection opened); set_config; UPDATE again; multi-shard UPDATE
BEGIN; UPDATE orders SET v = v WHERE id = 1; SELECT set_config('myapp.tok', 'P2', true);
UPDATE orders SET v = v WHERE id = 1; UPDATE orders SET v = v WHERE id IN (1, 2); COMMIT;
\echo === 3 next transaction on the same session: nothing carried
BEGIN; UPDATE orders SET v = v WHERE id IN (1, 2); COMMIT;
\echo === 4 savepoint: set inside, rolled back; then changed again
BEGIN; SELECT set_config('myapp.tok', 'P4a', true); SAVEPOINT s; SELECT set_config('myapp.tok', 'P4b', true);
UPDATE orders SET v = v WHERE id = 1; ROLLBACK TO s; UPDATE orders SET v = v WHERE id = 1; COMMIT;
\echo === 5 in a function: set_config then UPDATE, called in autocommit
CREATE OR REPLACE FUNCTION save(t text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN PERFORM set_config('myapp.tok', t, true); UPDATE orders SET v = v WHERE id = 2; END $$;
SELECT save('P5');
\echo === 6 COPY (utility, no executor start before Citus opens the connection)
BEGIN; SELECT set_config('myapp.tok', 'P6', true);
COPY orders FROM stdin;
601	boom
\.
ROLLBACK;
\echo === 7 propagate_set_commands afterwards (must be the user value)
BEGIN; SELECT set_config('myapp.tok', 'P7', true); UPDATE orders SET v = v WHERE id = 1; SHOW citus.propagate_set_commands; COMMIT;
