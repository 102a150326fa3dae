-- bench setup: tables of 100 000 rows, and the comparators
CREATE EXTENSION IF NOT EXISTS reclock;
DROP TABLE IF EXISTS bt, bt_plain, bt_prot, bt_noop, bt_n, bt_prot_n, floor_t, pl_locks, bench_tokens, hot CASCADE;

CREATE TABLE bt (id int PRIMARY KEY, v int NOT NULL DEFAULT 0);          -- acquire target
CREATE TABLE bt_plain (id int PRIMARY KEY, v int NOT NULL DEFAULT 0);    -- unprotected
CREATE TABLE bt_prot (id int PRIMARY KEY, v int NOT NULL DEFAULT 0);     -- protected
CREATE TABLE floor_t (id int PRIMARY KEY, v int NOT NULL DEFAULT 0);     -- durable floor
-- the cost of any row trigger: a built-in C BEFORE UPDATE trigger that only
-- compares the old and new row (they always differ here)
CREATE TABLE bt_noop (id int PRIMARY KEY, v int NOT NULL DEFAULT 0);
CREATE TRIGGER noop BEFORE UPDATE ON bt_noop FOR EACH ROW
  EXECUTE FUNCTION suppress_redundant_updates_trigger();
INSERT INTO bt_noop SELECT generate_series(1, 100000);
INSERT INTO bt SELECT generate_series(1, 100000);
INSERT INTO bt_plain SELECT generate_series(1, 100000);
INSERT INTO bt_prot SELECT generate_series(1, 100000);
INSERT INTO floor_t SELECT generate_series(1, 100000);
-- the same, with change notices on (reclock_notify)
CREATE TABLE bt_n (id int PRIMARY KEY, v int NOT NULL DEFAULT 0);
CREATE TABLE bt_prot_n (id int PRIMARY KEY, v int NOT NULL DEFAULT 0);
INSERT INTO bt_n SELECT generate_series(1, 100000);
INSERT INTO bt_prot_n SELECT generate_series(1, 100000);
SELECT reclock_protect('bt_prot_n');
SELECT reclock_notify('bt_n');
SELECT reclock_notify('bt_prot_n');
CREATE TABLE hot (id int PRIMARY KEY, v int NOT NULL DEFAULT 0);
INSERT INTO hot SELECT generate_series(1, 16);
SELECT reclock_protect('bt_prot');
-- tokens of the rows a writer holds (filled for the 10 %-locked runs)
CREATE TABLE bench_tokens (id int PRIMARY KEY, token uuid);

-- The PL/pgSQL lock table a skilled user would write: the same semantics
-- (ttl, holder, token, fence; takeover of expired locks) over an ordinary table.
CREATE TABLE pl_locks (
  tbl regclass, key text, holder text, token uuid, fence bigint,
  expires_at timestamptz, PRIMARY KEY (tbl, key));
CREATE UNIQUE INDEX ON pl_locks (token);
CREATE SEQUENCE pl_fence;
CREATE OR REPLACE FUNCTION pl_acquire(t regclass, k text, h text, ttl interval DEFAULT '5 min',
  OUT acquired boolean, OUT token uuid, OUT holder text, OUT expires_at timestamptz, OUT fence bigint)
LANGUAGE plpgsql AS $$
DECLARE
  now_ timestamptz := clock_timestamp();
BEGIN
  INSERT INTO pl_locks AS l VALUES (t, k, h, gen_random_uuid(), nextval('pl_fence'), now_ + ttl)
  ON CONFLICT (tbl, key) DO UPDATE
     SET holder = excluded.holder, token = excluded.token, fence = excluded.fence,
         expires_at = excluded.expires_at
   WHERE l.expires_at <= now_
  RETURNING true, l.token, l.holder, l.expires_at, l.fence
       INTO acquired, token, holder, expires_at, fence;
  IF NOT FOUND THEN
    SELECT false, NULL, l.holder, l.expires_at, l.fence INTO acquired, token, holder, expires_at, fence
      FROM pl_locks l WHERE l.tbl = t AND l.key = k;
  END IF;
END $$;
CREATE OR REPLACE FUNCTION pl_release(tok uuid) RETURNS boolean LANGUAGE sql AS $$
  UPDATE pl_locks SET expires_at = clock_timestamp()
   WHERE token = tok AND expires_at > clock_timestamp() RETURNING true $$;
VACUUM ANALYZE;
