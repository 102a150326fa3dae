-- stress: a small hot table, an audit of every write, and a logical
-- decoding slot that sees every write of the lock store (run as superuser in
-- a scratch database)
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS reclock;
DROP TABLE IF EXISTS hot, audit, rogue_log;
CREATE TABLE hot (id int PRIMARY KEY, v bigint NOT NULL DEFAULT 0,
                  last_holder text, last_fence bigint);
INSERT INTO hot (id) SELECT generate_series(1, 10);
SELECT reclock_protect('hot');

-- who wrote which row, under which fence (0 for a rogue), when
CREATE TABLE audit (id int, holder text, fence bigint, at timestamptz, xid xid8);
CREATE FUNCTION audit_write() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO audit VALUES (NEW.id, NEW.last_holder, NEW.last_fence, clock_timestamp(), pg_current_xact_id());
  RETURN NULL;
END $$;
CREATE TRIGGER audit_write AFTER UPDATE ON hot FOR EACH ROW EXECUTE FUNCTION audit_write();

-- every version of every grant the store ever held: reclock writes its store
-- directly (no triggers fire on it), so the history is read back from the WAL
-- by logical decoding (check.sql); the cluster runs with wal_level=logical
SELECT 'slot' FROM pg_create_logical_replication_slot('reclock_stress', 'test_decoding');

-- rogue writers: no token; refusals are counted, not fatal
CREATE TABLE rogue_log (ok boolean);
CREATE FUNCTION rogue_write(k int) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  UPDATE hot SET v = v + 1, last_holder = 'rogue', last_fence = 0 WHERE id = k;
  INSERT INTO rogue_log VALUES (true);
EXCEPTION WHEN lock_not_available THEN
  INSERT INTO rogue_log VALUES (false);
END $$;
