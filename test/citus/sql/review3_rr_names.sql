--
-- review3_rr_names: reclock_cas_children under REPEATABLE READ of a child
-- table whose foreign key has a long name.  The check counts the lines on
-- the order's worker by the foreign key of the child shard, which Citus
-- names <fk>_<shard id> -- unless that is longer than an identifier, where
-- Citus clips the name and puts a hash of it before the shard id.  The
-- count looked for <fk>_<shard id> only, and the formset check failed
-- (42704) under REPEATABLE READ for every such table (READ COMMITTED
-- passed).  Also names that need quoting (schema, table, constraint).
--
\set SHOW_CONTEXT never
SET citus.shard_count = 2;
SET citus.next_shard_id = 3310000;
CREATE TABLE r3_orders (id int PRIMARY KEY, v text);
SELECT create_distributed_table('r3_orders', 'id');
CREATE TABLE r3_lines (order_id int NOT NULL, n int NOT NULL, v text, PRIMARY KEY (order_id, n),
  CONSTRAINT r3_lines_order_fk_with_a_name_long_enough_to_be_clipped_by_citus
    FOREIGN KEY (order_id) REFERENCES r3_orders (id));
SELECT create_distributed_table('r3_lines', 'order_id', colocate_with => 'r3_orders');
INSERT INTO r3_orders VALUES (1, 'o'), (2, 'o');
INSERT INTO r3_lines VALUES (1, 1, 'l'), (2, 1, 'l');
SELECT reclock_protect('r3_orders');
SELECT reclock_protect('r3_lines', parent => 'r3_orders');
-- the shard's foreign key: clipped and hashed by Citus
SELECT DISTINCT regexp_replace(result, '_[0-9a-f]{8}_[0-9]+$', '_<hash>_<shard id>') AS shard_fk
  FROM run_command_on_placements('r3_lines',
       $$SELECT conname FROM pg_constraint WHERE conrelid = '%s'::regclass AND contype = 'f'$$);
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT reclock_cas_children('r3_lines', '1', '[{"order_id": 1, "n": 1, "v": "l"}]') AS same;
SELECT reclock_cas_children('r3_lines', '2', '[]') AS same;
ROLLBACK;
BEGIN ISOLATION LEVEL SERIALIZABLE;
SELECT reclock_cas_children('r3_lines', '2', '[{"order_id": 2, "n": 1, "v": "l"}]') AS same;
ROLLBACK;

-- names to quote: schema, tables and foreign key
CREATE SCHEMA "R3 s""q";
CREATE TABLE "R3 s""q"."Or ders" ("I d" int PRIMARY KEY, v text);
SELECT create_distributed_table('"R3 s""q"."Or ders"', 'I d');
CREATE TABLE "R3 s""q"."Li""nes" ("o Id" int NOT NULL, n int NOT NULL, v text, PRIMARY KEY ("o Id", n),
  CONSTRAINT "F k""q" FOREIGN KEY ("o Id") REFERENCES "R3 s""q"."Or ders" ("I d"));
SELECT create_distributed_table('"R3 s""q"."Li""nes"', 'o Id', colocate_with => '"R3 s""q"."Or ders"');
INSERT INTO "R3 s""q"."Or ders" VALUES (1, 'o');
INSERT INTO "R3 s""q"."Li""nes" VALUES (1, 1, 'l');
SELECT reclock_protect('"R3 s""q"."Or ders"');
SELECT reclock_protect('"R3 s""q"."Li""nes"', parent => '"R3 s""q"."Or ders"');
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT reclock_cas_children('"R3 s""q"."Li""nes"', '1', '[{"o Id": 1, "n": 1, "v": "l"}]') AS same;
SELECT reclock_cas_children('"R3 s""q"."Li""nes"', '1', '[]') AS same;
ROLLBACK;

SELECT reclock_unprotect('"R3 s""q"."Li""nes"');
SELECT reclock_unprotect('"R3 s""q"."Or ders"');
DROP SCHEMA "R3 s""q" CASCADE;
SELECT reclock_unprotect('r3_lines');
SELECT reclock_unprotect('r3_orders');
DROP TABLE r3_lines, r3_orders;
