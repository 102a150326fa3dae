-- The bypass catalog: every path an ordinary role has to change a row,
-- tried against a locked row without its token.  Each must be refused.
BEGIN;
SELECT plan(26);

CREATE ROLE regress_tap_writer;
CREATE TABLE bp (id int PRIMARY KEY, qty int);
INSERT INTO bp VALUES (1, 10), (2, 20), (3, 30);
CREATE TABLE bp_parent (id int PRIMARY KEY);
INSERT INTO bp_parent VALUES (1);
CREATE TABLE bp_child (id int PRIMARY KEY, pid int REFERENCES bp_parent ON DELETE CASCADE ON UPDATE CASCADE);
INSERT INTO bp_child VALUES (1, 1);
CREATE TABLE bp_part (region text, id int, qty int, PRIMARY KEY (region, id)) PARTITION BY LIST (region);
CREATE TABLE bp_part_a PARTITION OF bp_part FOR VALUES IN ('a');
CREATE TABLE bp_part_b PARTITION OF bp_part FOR VALUES IN ('b');
INSERT INTO bp_part VALUES ('a', 1, 1);
CREATE VIEW bp_view AS SELECT id, qty FROM bp;
CREATE VIEW bp_io AS SELECT id, qty FROM bp;
CREATE FUNCTION bp_io_upd() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN UPDATE bp SET qty = NEW.qty WHERE id = OLD.id; RETURN NEW; END $$;
CREATE TRIGGER bp_io_upd INSTEAD OF UPDATE ON bp_io FOR EACH ROW EXECUTE FUNCTION bp_io_upd();
CREATE FUNCTION bp_definer() RETURNS void LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public
  AS 'UPDATE public.bp SET qty = 0 WHERE id = 1';
GRANT SELECT, INSERT, UPDATE, DELETE ON bp, bp_view, bp_io, bp_parent, bp_child, bp_part, bp_part_a TO regress_tap_writer;
SELECT reclock_protect('bp');
SELECT reclock_protect('bp_child');
SELECT reclock_protect('bp_part');
CREATE TEMP TABLE bp_tok AS SELECT 'bp' AS t, token FROM reclock_acquire('bp', '1', 'alice');
INSERT INTO bp_tok SELECT 'child', token FROM reclock_acquire('bp_child', '1', 'alice');
INSERT INTO bp_tok SELECT 'part', token FROM reclock_acquire('bp_part', '(a,1)', 'alice');
GRANT SELECT ON bp_tok TO regress_tap_writer;

SET LOCAL ROLE regress_tap_writer;
SELECT throws_ok($$UPDATE bp SET qty = 0 WHERE id = 1$$, '55P03', NULL, 'UPDATE');
SELECT throws_ok($$DELETE FROM bp WHERE id = 1$$, '55P03', NULL, 'DELETE');
SELECT throws_ok($$INSERT INTO bp VALUES (1, 0) ON CONFLICT (id) DO UPDATE SET qty = 0$$, '55P03', NULL, 'INSERT ... ON CONFLICT DO UPDATE');
SELECT throws_ok($$MERGE INTO bp USING (VALUES (1)) v(id) ON bp.id = v.id WHEN MATCHED THEN UPDATE SET qty = 0$$, '55P03', NULL, 'MERGE ... UPDATE');
SELECT throws_ok($$MERGE INTO bp USING (VALUES (1)) v(id) ON bp.id = v.id WHEN MATCHED THEN DELETE$$, '55P03', NULL, 'MERGE ... DELETE');
SELECT throws_ok($$WITH w AS (UPDATE bp SET qty = 0 WHERE id = 1 RETURNING 1) SELECT * FROM w$$, '55P03', NULL, 'writable CTE');
SELECT throws_ok($$UPDATE bp_view SET qty = 0 WHERE id = 1$$, '55P03', NULL, 'auto-updatable view');
SELECT throws_ok($$UPDATE bp_io SET qty = 0 WHERE id = 1$$, '55P03', NULL, 'INSTEAD OF view');
SELECT throws_ok($$SELECT bp_definer()$$, '55P03', NULL, 'a SECURITY DEFINER function owned by a superuser');
SELECT throws_ok($$UPDATE bp SET id = 100 WHERE id = 1$$, '55P03', NULL, 'a change of the primary key');
SELECT throws_ok($$UPDATE bp SET qty = qty + 1$$, '55P03', NULL, 'a bulk UPDATE reaching the row');
SELECT throws_ok($$DELETE FROM bp_parent WHERE id = 1$$, '55P03', NULL, 'ON DELETE CASCADE from a parent');
SELECT throws_ok($$UPDATE bp_parent SET id = 2 WHERE id = 1$$, '55P03', NULL, 'ON UPDATE CASCADE from a parent');
SELECT throws_ok($$UPDATE bp_part SET qty = 0 WHERE id = 1$$, '55P03', NULL, 'a partitioned table');
SELECT throws_ok($$UPDATE bp_part_a SET qty = 0 WHERE id = 1$$, '55P03', NULL, 'a partition, directly');
SELECT throws_ok($$UPDATE bp_part SET region = 'b' WHERE id = 1$$, '55P03', NULL, 'a row moving to another partition');
SELECT throws_ok($$SELECT reclock_cas('bp', '1', '{}', '{"qty": 0}')$$, '55P03', NULL, 'reclock_cas');
SELECT throws_ok($$SET reclock.token = 'x'$$, '22023', NULL, 'a malformed token is an error, not a silent pass');
RESET ROLE;
-- reclock's own check, not PostgreSQL's privilege: a writer granted TRUNCATE
-- is refused while the table has a live lock
GRANT TRUNCATE ON bp TO regress_tap_writer;
SET LOCAL ROLE regress_tap_writer;
SELECT throws_ok($$TRUNCATE bp$$, '55P03', NULL, 'TRUNCATE by a writer granted TRUNCATE, while a lock is live');
RESET ROLE;
SELECT throws_ok($$TRUNCATE bp$$, '55P03', NULL, 'TRUNCATE of a table with a live lock, even by its owner');
SELECT throws_ok($$TRUNCATE bp_part_a$$, '55P03', NULL, 'TRUNCATE of a partition');

-- the holder's token opens every path
SET LOCAL ROLE regress_tap_writer;
SELECT set_config('reclock.token', (SELECT string_agg(token::text, ',') FROM bp_tok), true);
SELECT lives_ok($$UPDATE bp_view SET qty = 11 WHERE id = 1$$, 'the holder writes through the view');
SELECT lives_ok($$UPDATE bp_parent SET id = 2 WHERE id = 1$$, 'the holder''s cascade passes');
SELECT lives_ok($$UPDATE bp_part SET region = 'b' WHERE id = 1$$, 'the holder moves the row to another partition');
RESET ROLE;
SELECT is((SELECT key FROM reclock_locks WHERE relation = 'bp_part'::regclass), '(b,1)', 'the lock moved with the row');
SELECT results_eq($$SELECT id, qty FROM bp ORDER BY id$$, $$VALUES (1, 11), (2, 20), (3, 30)$$,
  'only the holder''s write landed');

SELECT * FROM finish();
ROLLBACK;
