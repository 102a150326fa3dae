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

-- documents: a few hot orders and their lines, a child table protected
-- through its foreign key; one lock on an order covers its lines
DROP TABLE IF EXISTS lines, orders, line_audit, doc_log;
CREATE TABLE orders (id int PRIMARY KEY, note text);
INSERT INTO orders (id) SELECT generate_series(1, 5);
CREATE TABLE lines (id bigserial PRIMARY KEY, order_id int NOT NULL REFERENCES orders,
                    v bigint NOT NULL DEFAULT 0);
CREATE INDEX ON lines (order_id);
SELECT reclock_protect('orders');
SELECT reclock_protect('lines', parent => 'orders');

-- every committed write of a line: the order it left (old_order: UPDATE,
-- DELETE) and the order it is under now (new_order: INSERT, UPDATE), and for
-- each the fence of that order's lock whose token the writer presented (0:
-- none; a writer names what it presented in stress.fences, 'order:fence,...'),
-- when (after the guard passed it), and the writer's transaction (its commit
-- time comes from the decoded WAL, check.sql)
CREATE TABLE line_audit (line_id bigint, op text, old_order int, new_order int,
                         old_fence bigint, new_fence bigint, writer text,
                         at timestamptz, xid xid8);
CREATE FUNCTION presented_fence(o int) RETURNS bigint LANGUAGE sql AS $$
  SELECT coalesce((regexp_match(coalesce(current_setting('stress.fences', true), ''),
                                '(?:^|,)' || o || ':([0-9]+)'))[1]::bigint, 0)
$$;
CREATE FUNCTION line_audit_write() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO line_audit VALUES (
    CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END, TG_OP,
    CASE WHEN TG_OP <> 'INSERT' THEN OLD.order_id END,
    CASE WHEN TG_OP <> 'DELETE' THEN NEW.order_id END,
    CASE WHEN TG_OP <> 'INSERT' THEN presented_fence(OLD.order_id) END,
    CASE WHEN TG_OP <> 'DELETE' THEN presented_fence(NEW.order_id) END,
    coalesce(nullif(current_setting('stress.writer', true), ''), 'rogue'),
    clock_timestamp(), pg_current_xact_id());
  RETURN NULL;
END $$;
CREATE TRIGGER line_audit_write AFTER INSERT OR UPDATE OR DELETE ON lines
  FOR EACH ROW EXECUTE FUNCTION line_audit_write();
BEGIN;
SELECT set_config('stress.writer', 'setup', true);
INSERT INTO lines (order_id) SELECT o FROM generate_series(1, 5) o, generate_series(1, 4);
COMMIT;

-- a write without the token that locked a line and then waits for its order
-- row (the guard's FOR KEY SHARE) while a holder's formset check holds that
-- row FOR UPDATE and waits for the line: a deadlock (40P01), which costs
-- deadlock_timeout before one of them gives up; counted, and kept short
DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET deadlock_timeout = %L', current_database(), '100ms'); END $$;

-- outcomes of the writes that may be refused, and of the holders' formset checks
CREATE TABLE doc_log (who text, op text, outcome text);

-- one write of a line of order o by a writer that may not hold o (a rogue,
-- or a holder moving a line to an order it does not hold): a refusal by
-- reclock (55P03, constraint reclock_guard) is counted, not fatal; so is a
-- deadlock (40P01)
CREATE FUNCTION try_line_write(who text, op text, o int, o2 int) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  l bigint;
  n bigint;
  c text;
BEGIN
  BEGIN
    IF op = 'insert' THEN
      INSERT INTO lines (order_id) VALUES (o);
      n := 1;
    ELSE
      SELECT id INTO l FROM lines WHERE order_id = o ORDER BY random() LIMIT 1;
      IF l IS NULL THEN RETURN; END IF;
      IF op = 'update' THEN
        UPDATE lines SET v = v + 1 WHERE id = l AND order_id = o;
      ELSIF op = 'delete' THEN
        DELETE FROM lines WHERE id = l AND order_id = o;
      ELSE  -- move to o2
        UPDATE lines SET order_id = o2 WHERE id = l AND order_id = o;
      END IF;
      GET DIAGNOSTICS n = ROW_COUNT;
    END IF;
    IF n > 0 THEN
      INSERT INTO doc_log VALUES (who, op, 'committed');
    END IF;
  EXCEPTION
    WHEN lock_not_available THEN
      GET STACKED DIAGNOSTICS c = CONSTRAINT_NAME;
      IF c IS DISTINCT FROM 'reclock_guard' THEN RAISE; END IF;
      INSERT INTO doc_log VALUES (who, op, 'refused');
    WHEN deadlock_detected THEN
      INSERT INTO doc_log VALUES (who, op, 'deadlock');
  END;
END $$;

-- a rogue: one random write (insert, update, delete, move to o2) of a line of order o
CREATE FUNCTION rogue_line(o int, o2 int) RETURNS void LANGUAGE sql AS $$
  SELECT try_line_write('rogue', (ARRAY['insert', 'update', 'delete', 'move'])[1 + floor(random() * 4)::int], o, o2)
$$;

-- a holder's save of order o1 (and o2 if held2), in the transaction that
-- presents their tokens: first the formset check against the lines the form
-- showed (nobody else can have changed them while the order was locked), then
-- insert, update, delete lines of o1; move a line to o2 when it holds o2,
-- else sometimes try to (refused while someone else holds o2).  Writes under
-- its own locks are never caught: a refusal fails the client, and the run.
CREATE FUNCTION holder_save(o1 int, f1 bigint, o2 int, f2 bigint, held2 boolean, shown jsonb)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  l bigint;
BEGIN
  PERFORM set_config('stress.writer', 'holder', true);
  PERFORM set_config('stress.fences', o1 || ':' || f1 || CASE WHEN held2 THEN ',' || o2 || ':' || f2 ELSE '' END, true);
  BEGIN
    INSERT INTO doc_log VALUES ('holder', 'formset check',
      CASE WHEN reclock_cas_children('lines', o1::text, shown) THEN 'same' ELSE 'changed' END);
    INSERT INTO lines (order_id) VALUES (o1);
    UPDATE lines SET v = v + 1 WHERE id = (SELECT id FROM lines WHERE order_id = o1 ORDER BY random() LIMIT 1);
    IF random() < 0.7 THEN
      DELETE FROM lines WHERE id = (SELECT id FROM lines WHERE order_id = o1 ORDER BY random() LIMIT 1);
    END IF;
    IF held2 THEN
      UPDATE lines SET order_id = o2 WHERE id = (SELECT id FROM lines WHERE order_id = o1 ORDER BY random() LIMIT 1);
      INSERT INTO doc_log VALUES ('holder', 'move between held orders', 'committed');
    ELSIF random() < 0.5 THEN
      PERFORM try_line_write('holder', 'move to an order not held', o1, o2);
    END IF;
  EXCEPTION WHEN deadlock_detected THEN
    INSERT INTO doc_log VALUES ('holder', 'save', 'deadlock');
  END;
END $$;
