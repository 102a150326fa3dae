\set VERBOSITY terse
\echo === schema-based sharding: protected and locked first, schema distributed afterwards
CREATE SCHEMA tenant1;
CREATE TABLE tenant1.t (id int PRIMARY KEY, v text);
INSERT INTO tenant1.t VALUES (1, 'a'), (2, 'b');
SELECT reclock_protect('tenant1.t');
SELECT acquired FROM reclock_acquire('tenant1.t', '1', 'alice');
SELECT citus_schema_distribute('tenant1');
SET citus.enable_unsafe_triggers = on;
SELECT citus_schema_distribute('tenant1');
SELECT partmethod, colocationid FROM pg_dist_partition WHERE logicalrelid = 'tenant1.t'::regclass;
UPDATE tenant1.t SET v = 'no token' WHERE id = 1;
UPDATE tenant1.t SET v = 'free row' WHERE id = 2;
SELECT * FROM tenant1.t ORDER BY id;
\echo === create_distributed_table_concurrently of a protected, locked table
CREATE TABLE conc (id int PRIMARY KEY, v text);
INSERT INTO conc VALUES (1, 'a'), (2, 'b');
SELECT reclock_protect('conc');
SELECT acquired FROM reclock_acquire('conc', '1', 'alice');
SELECT create_distributed_table_concurrently('conc', 'id');
UPDATE conc SET v = 'no token' WHERE id = 1;
SELECT * FROM conc ORDER BY id;
\echo === a protected table in a schema created while schema-based sharding is on
SET citus.enable_schema_based_sharding = on;
CREATE SCHEMA tenant2;
CREATE TABLE tenant2.t (id int PRIMARY KEY, v text);
SELECT reclock_protect('tenant2.t');
