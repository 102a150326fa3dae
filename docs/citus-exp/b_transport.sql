CREATE OR REPLACE FUNCTION present(t text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE old text := current_setting('citus.propagate_set_commands');
BEGIN
  PERFORM set_config('citus.propagate_set_commands', 'local', true);
  EXECUTE format('SET LOCAL myapp.tok = %L', t);
  PERFORM set_config('citus.propagate_set_commands', old, true);
END $$;
\echo === 1 default propagate none, SET LOCAL
BEGIN; SET LOCAL myapp.tok = 'A'; UPDATE orders SET v = v WHERE id = 1; COMMIT;
\echo === 2 propagate local, SET LOCAL myapp.tok and reclock.token
BEGIN; SET LOCAL citus.propagate_set_commands = 'local'; SET LOCAL myapp.tok = 'B';
SET LOCAL reclock.token = '11111111-1111-1111-1111-111111111111';
UPDATE orders SET v = v WHERE id = 1; COMMIT;
\echo === 3 propagate local, set_config
BEGIN; SET LOCAL citus.propagate_set_commands = 'local'; SELECT set_config('myapp.tok', 'C', true); UPDATE orders SET v = v WHERE id = 1; COMMIT;
\echo === 4 function doing SET LOCAL via SPI with propagate switched on and back
BEGIN; SELECT present('D'); SHOW citus.propagate_set_commands; UPDATE orders SET v = v WHERE id = 1; UPDATE orders SET v = v WHERE id = 2; COMMIT;
\echo === 5 connection already open, then present
BEGIN; UPDATE orders SET v = v WHERE id = 1; SELECT present('E'); UPDATE orders SET v = v WHERE id = 1; COMMIT;
\echo === 6 autocommit, one statement: CTE calling present then UPDATE
WITH p AS MATERIALIZED (SELECT present('F')) UPDATE orders SET v = v FROM p WHERE id = 1;
\echo === 6b autocommit: SELECT present then a separate autocommit UPDATE (must NOT carry)
SELECT present('F2');
UPDATE orders SET v = v WHERE id = 1;
\echo === 7 rolled-back savepoint
BEGIN; SAVEPOINT s; SELECT present('G'); ROLLBACK TO s; UPDATE orders SET v = v WHERE id = 1; COMMIT;
\echo === 7b savepoint rolled back after connection opened
BEGIN; UPDATE orders SET v = v WHERE id = 1; SAVEPOINT s; SELECT present('H'); ROLLBACK TO s; UPDATE orders SET v = v WHERE id = 1; COMMIT;
\echo === 8 procedure / DO block (function called in DO)
DO $$ BEGIN PERFORM present('I'); UPDATE orders SET v = v WHERE id = 1; END $$;
\echo === 9 pooled next transaction on same session after 4: nothing
BEGIN; UPDATE orders SET v = v WHERE id = 1; COMMIT;
