CREATE OR REPLACE FUNCTION slow() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN PERFORM pg_sleep(0.2); RETURN NEW; END $$;
SET citus.enable_unsafe_triggers = on;
CREATE TRIGGER slow BEFORE UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION slow();
\c
\echo === fresh session, multi-shard UPDATE of all 8 rows (2 shards per worker)
UPDATE orders SET v = v;
\c
\echo === fresh session, BEGIN; multi-shard UPDATE; COMMIT
BEGIN;
UPDATE orders SET v = v;
COMMIT;
DROP TRIGGER slow ON orders;
