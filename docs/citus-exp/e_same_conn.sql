-- an acquire in design (3) as two routed statements: FOR SHARE of the row,
-- then the grant written to the co-located store.  One worker backend and
-- one local transaction, or not?
SET citus.enable_unsafe_triggers = on;
CREATE TRIGGER wf BEFORE INSERT OR UPDATE ON store FOR EACH ROW EXECUTE FUNCTION where_fired();
CREATE OR REPLACE FUNCTION slow() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN PERFORM pg_sleep(0.2); RETURN NEW; END $$;
CREATE TRIGGER slow BEFORE UPDATE ON src FOR EACH ROW EXECUTE FUNCTION slow();
\c
\echo === fresh session: FOR SHARE of orders 1, then INSERT .. ON CONFLICT into store (dist 1)
BEGIN;
SELECT pg_backend_pid() AS worker_pid, txid_current() AS worker_xid FROM orders WHERE id = 1 FOR SHARE;
INSERT INTO store VALUES (1, '1', 'bob') ON CONFLICT (dist, key) DO UPDATE SET holder = excluded.holder;
COMMIT;
\c
\echo === after a slow multi-shard UPDATE opened two connections per worker
BEGIN;
UPDATE src SET v = v;
SELECT pg_backend_pid() AS worker_pid, txid_current() AS worker_xid FROM orders WHERE id = 1 FOR SHARE;
INSERT INTO store VALUES (1, '1', 'carol') ON CONFLICT (dist, key) DO UPDATE SET holder = excluded.holder;
COMMIT;
\echo === the other way round: the row read first over one connection, src then written over two
\c
BEGIN;
SELECT pg_backend_pid() AS worker_pid, txid_current() AS worker_xid FROM orders WHERE id = 1 FOR SHARE;
UPDATE src SET v = v;
INSERT INTO store VALUES (1, '1', 'dave') ON CONFLICT (dist, key) DO UPDATE SET holder = excluded.holder;
COMMIT;
SET citus.enable_unsafe_triggers = on;
DROP TRIGGER wf ON store; DROP TRIGGER slow ON src;
