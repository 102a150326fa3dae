--
-- guard_refusal: every refusal by the guard is SQLSTATE 55P03 with the
-- constraint field (PG_DIAG_CONSTRAINT_NAME) set to reclock_guard, and the
-- table and schema fields naming the table written, so an application tells
-- it from lock_timeout or NOWAIT (also 55P03) without reading the message.
--
-- (psql shows the field under \set VERBOSITY verbose as "CONSTRAINT NAME:
-- reclock_guard", but also the source line of the error and the lock's
-- expiry, which move; the fields are read here as a client reads them.)
--
\set VERBOSITY terse
\i sql/include/try.sql

CREATE FUNCTION refusal(sql text, OUT state text, OUT constraint_name text,
                        OUT table_name text, OUT schema_name text)
LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE sql;
  state := 'ok';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE,
                          constraint_name = CONSTRAINT_NAME,
                          table_name = TABLE_NAME,
                          schema_name = SCHEMA_NAME;
END $$;

CREATE TABLE gr (id int PRIMARY KEY, v text);
INSERT INTO gr VALUES (1, 'a'), (2, 'b'), (3, 'c');
SELECT reclock_protect('gr');
SELECT acquired FROM reclock_acquire('gr', '1', 'alice');

-- UPDATE, DELETE, and a key change onto a locked key
SELECT * FROM refusal($$UPDATE gr SET v = 'x' WHERE id = 1$$);
SELECT * FROM refusal($$DELETE FROM gr WHERE id = 1$$);
SELECT * FROM refusal($$UPDATE gr SET id = 1 WHERE id = 2$$);
-- TRUNCATE of a table with live locks
SELECT * FROM refusal($$TRUNCATE gr$$);
-- require_lock: a row without a lock
SELECT reclock_protect('gr', true);
SELECT * FROM refusal($$UPDATE gr SET v = 'x' WHERE id = 3$$);
SELECT reclock_protect('gr', false);

-- a partition of a protected partitioned table: the table field names the
-- partition written
CREATE TABLE grp (k text, id int, PRIMARY KEY (k, id)) PARTITION BY LIST (k);
CREATE TABLE grp_a PARTITION OF grp FOR VALUES IN ('a');
INSERT INTO grp VALUES ('a', 1);
SELECT reclock_protect('grp');
SELECT acquired FROM reclock_acquire('grp', '(a,1)', 'alice');
SELECT * FROM refusal($$UPDATE grp SET id = 5$$);
SELECT * FROM refusal($$TRUNCATE grp$$);

-- errors that are not refusals by the guard carry no constraint, or their own
SELECT * FROM refusal($$SELECT reclock_acquire('gr', '99', 'alice')$$);
SELECT * FROM refusal($$UPDATE gr SET id = 3 WHERE id = 2$$);

-- the message is unchanged
SELECT try($$UPDATE gr SET v = 'x' WHERE id = 1$$);

DROP TABLE gr, grp;
DROP FUNCTION refusal(text);
