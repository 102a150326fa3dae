--
-- review3_rr_shapes: reclock_cas_children under REPEATABLE READ over other
-- shapes than citus_documents_rr's: the third level of a chain, the
-- multi-tenant shape (two-column key), a date key under another DateStyle,
-- and row-level security on the lines; and reclock_citus_children_latest
-- called directly on a worker by a role of its own: it counts no row the
-- role could not read itself (rights and policies apply as to a SELECT).
--
\set SHOW_CONTEXT never
SET citus.shard_count = 2;
SET citus.next_shard_id = 3320000;
CREATE TABLE r3s_orders (id int PRIMARY KEY, v text);
SELECT create_distributed_table('r3s_orders', 'id');
CREATE TABLE r3s_lines (order_id int NOT NULL, n int NOT NULL, v text, PRIMARY KEY (order_id, n),
  CONSTRAINT r3s_fk FOREIGN KEY (order_id) REFERENCES r3s_orders (id));
SELECT create_distributed_table('r3s_lines', 'order_id', colocate_with => 'r3s_orders');
CREATE TABLE r3s_notes (order_id int NOT NULL, n int NOT NULL, k int NOT NULL, v text,
  PRIMARY KEY (order_id, n, k),
  CONSTRAINT r3s_notes_fk FOREIGN KEY (order_id, n) REFERENCES r3s_lines (order_id, n));
SELECT create_distributed_table('r3s_notes', 'order_id', colocate_with => 'r3s_orders');
INSERT INTO r3s_orders VALUES (1, 'o'), (2, 'o');
INSERT INTO r3s_lines VALUES (1, 1, 'l'), (1, 2, 'secret'), (2, 1, 'l');
INSERT INTO r3s_notes VALUES (1, 1, 1, 'n'), (1, 1, 2, 'n');
SELECT reclock_protect('r3s_orders');
SELECT reclock_protect('r3s_lines', parent => 'r3s_orders');
SELECT reclock_protect('r3s_notes', parent => 'r3s_lines');

-- the third level
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT reclock_cas_children('r3s_notes', '(1,1)',
  '[{"order_id": 1, "n": 1, "k": 1, "v": "n"}, {"order_id": 1, "n": 1, "k": 2, "v": "n"}]') AS same;
SELECT reclock_cas_children('r3s_notes', '(1,2)', '[]') AS same;
SELECT reclock_cas_children('r3s_notes', '(1,1)', '[]') AS same;
ROLLBACK;

-- the multi-tenant shape
CREATE TABLE r3s_t_orders (tenant_id int, id int, v text, PRIMARY KEY (tenant_id, id));
SELECT create_distributed_table('r3s_t_orders', 'tenant_id');
CREATE TABLE r3s_t_lines (tenant_id int, order_id int, n int, v text,
  PRIMARY KEY (tenant_id, order_id, n),
  FOREIGN KEY (tenant_id, order_id) REFERENCES r3s_t_orders (tenant_id, id));
SELECT create_distributed_table('r3s_t_lines', 'tenant_id', colocate_with => 'r3s_t_orders');
INSERT INTO r3s_t_orders VALUES (7, 1, 'o'), (7, 2, 'o');
INSERT INTO r3s_t_lines VALUES (7, 1, 1, 'l'), (7, 2, 1, 'l');
SELECT reclock_protect('r3s_t_orders');
SELECT reclock_protect('r3s_t_lines', parent => 'r3s_t_orders');
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT reclock_cas_children('r3s_t_lines', '(7,1)', '[{"tenant_id": 7, "order_id": 1, "n": 1, "v": "l"}]') AS same;
ROLLBACK;

-- a date key, the session's DateStyle another than ISO
CREATE TABLE r3s_d_orders (d date PRIMARY KEY, v text);
SELECT create_distributed_table('r3s_d_orders', 'd');
CREATE TABLE r3s_d_lines (d date REFERENCES r3s_d_orders (d), n int, v text, PRIMARY KEY (d, n));
SELECT create_distributed_table('r3s_d_lines', 'd', colocate_with => 'r3s_d_orders');
INSERT INTO r3s_d_orders VALUES ('2026-01-05', 'o'), ('2026-05-01', 'o');
INSERT INTO r3s_d_lines VALUES ('2026-01-05', 1, 'l'), ('2026-05-01', 1, 'l'), ('2026-05-01', 2, 'l');
SELECT reclock_protect('r3s_d_orders');
SELECT reclock_protect('r3s_d_lines', parent => 'r3s_d_orders');
-- ('05/01/2026' is 5 January here; the child rows' read sent the key to
-- the worker as that text, which the worker read as 1 May: the lines of
-- another order were read, locked and compared)
SET DateStyle = 'SQL, DMY';
SELECT reclock_cas_children('r3s_d_lines', '05/01/2026', '[{"d": "2026-01-05", "n": 1, "v": "l"}]') AS same;
SELECT reclock_cas_children('r3s_d_lines', '05/01/2026',
  '[{"d": "2026-05-01", "n": 1, "v": "l"}, {"d": "2026-05-01", "n": 2, "v": "l"}]') AS same;
SELECT reclock_diff_children('r3s_d_lines', '05/01/2026',
  '[{"d": "2026-01-05", "n": 1, "v": "l"}]') AS diff;
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT reclock_cas_children('r3s_d_lines', '05/01/2026', '[{"d": "2026-01-05", "n": 1, "v": "l"}]') AS same;
ROLLBACK;
RESET DateStyle;

-- row-level security on the lines: a role sees and counts its rows only
CREATE ROLE r3s_app LOGIN;
GRANT SELECT, UPDATE ON r3s_orders, r3s_lines TO r3s_app;
ALTER TABLE r3s_lines ENABLE ROW LEVEL SECURITY;
CREATE POLICY r3s_public ON r3s_lines TO r3s_app USING (v <> 'secret');
BEGIN ISOLATION LEVEL REPEATABLE READ;
SET LOCAL ROLE r3s_app;
SELECT reclock_cas_children('r3s_lines', '1', '[{"order_id": 1, "n": 1, "v": "l"}]') AS same;
ROLLBACK;

-- reclock_citus_children_latest called directly on order 1's worker, as
-- that role: the policy applies (1, not 2); without SELECT on the lines,
-- refused; a child table that is not beside it, or a foreign key that is
-- not one to the shard: refused
SET ROLE r3s_app;
SELECT result FROM run_command_on_placements('r3s_orders',
  $$SELECT reclock_citus_children_latest('%s', '(0,1)', 'public.r3s_lines', 'r3s_fk')$$)
 WHERE shardid = get_shard_id_for_distribution_column('r3s_orders', 1);
RESET ROLE;
REVOKE SELECT ON r3s_lines FROM r3s_app;
SET ROLE r3s_app;
SELECT regexp_replace(result, '_[0-9]+', '_<shard>', 'g') AS result
  FROM run_command_on_placements('r3s_orders',
  $$SELECT reclock_citus_children_latest('%s', '(0,1)', 'public.r3s_lines', 'r3s_fk')$$)
 WHERE shardid = get_shard_id_for_distribution_column('r3s_orders', 1);
SELECT regexp_replace(result, '_[0-9]+', '_<shard>', 'g') AS result
  FROM run_command_on_placements('r3s_orders',
  $$SELECT reclock_citus_children_latest('%s', '(0,1)', 'public.r3s_d_lines', 'r3s_fk')$$)
 WHERE shardid = get_shard_id_for_distribution_column('r3s_orders', 1);
SELECT regexp_replace(result, '_[0-9]+', '_<shard>', 'g') AS result
  FROM run_command_on_placements('r3s_orders',
  $$SELECT reclock_citus_children_latest('%s', '(0,1)', 'public.r3s_notes', 'r3s_notes_fk')$$)
 WHERE shardid = get_shard_id_for_distribution_column('r3s_orders', 1);
RESET ROLE;

ALTER TABLE r3s_lines DISABLE ROW LEVEL SECURITY;
SELECT reclock_unprotect(t) FROM unnest(ARRAY['r3s_notes', 'r3s_lines', 'r3s_orders',
  'r3s_t_lines', 'r3s_t_orders', 'r3s_d_lines', 'r3s_d_orders']::regclass[]) t;
DROP TABLE r3s_notes, r3s_lines, r3s_orders, r3s_t_lines, r3s_t_orders, r3s_d_lines, r3s_d_orders;
DROP OWNED BY r3s_app;
DROP ROLE r3s_app;
