--
-- citus_stores: reclock_protect of a hash-distributed table (one placement
-- per shard) makes its lock store and token store, distributed tables
-- co-located with it, and names them in reclock_citus_tables (a reference
-- table), in the protecting transaction; reclock_unprotect drops them.
-- What reclock cannot guard is refused (0A000).  (docs/citus.md, build
-- plan step 2; run after citus.sql, which creates the extension.)
--
\set SHOW_CONTEXT never
SET citus.shard_count = 4;
SET citus.next_shard_id = 1200000;
CREATE TABLE st (id int PRIMARY KEY, v text);
SELECT create_distributed_table('st', 'id');
INSERT INTO st SELECT g, 's' || g FROM generate_series(1, 8) g;
SELECT format('reclock_store_%s_locks', 'st'::regclass::oid) AS locks,
       format('reclock_store_%s_tokens', 'st'::regclass::oid) AS tokens \gset

-- a protect rolled back leaves nothing behind
BEGIN;
SELECT reclock_protect('st');
SELECT to_regclass(:'locks') IS NOT NULL AS locks_made, to_regclass(:'tokens') IS NOT NULL AS tokens_made;
ROLLBACK;
SELECT to_regclass(:'locks') AS locks, to_regclass(:'tokens') AS tokens;
SELECT count(*) AS registered FROM reclock_citus_tables;
SELECT count(*) AS guards FROM pg_trigger WHERE tgrelid = 'st'::regclass AND tgname LIKE 'reclock%';

-- protect: the stores, distributed by the row's distribution value and
-- co-located with the table, and the registry row, all in one transaction
BEGIN;
SELECT reclock_protect('st');
COMMIT;
SELECT tbl, locks::text = :'locks' AS locks_named, tokens::text = :'tokens' AS tokens_named
  FROM reclock_citus_tables;
SELECT logicalrelid = 'reclock_citus_tables'::regclass AS registry, partmethod,
       count(*) OVER (PARTITION BY colocationid) AS colocated
  FROM pg_dist_partition
 WHERE logicalrelid IN ('st'::regclass, :'locks'::regclass, :'tokens'::regclass, 'reclock_citus_tables'::regclass)
 ORDER BY 1, 2;
SELECT column_to_column_name(logicalrelid, partkey) AS dist_column
  FROM pg_dist_partition WHERE logicalrelid IN (:'locks'::regclass, :'tokens'::regclass);
-- each store shard sits beside its table's shard, on every shard's node
SELECT count(*) AS beside_every_shard
  FROM run_command_on_colocated_placements('st', :'locks',
       $$SELECT to_regclass('%s') IS NOT NULL AND to_regclass('%s') IS NOT NULL$$)
 WHERE success AND result = 't';
SELECT count(*) AS beside_every_shard
  FROM run_command_on_colocated_placements('st', :'tokens',
       $$SELECT to_regclass('%s') IS NOT NULL AND to_regclass('%s') IS NOT NULL$$)
 WHERE success AND result = 't';
-- every node reads the registry, and resolves its names by its own OIDs
SELECT success, result FROM run_command_on_workers(
  $$SELECT string_agg(tbl::text || ' ' || (locks::text LIKE 'reclock_store_%_locks') || ' ' || (tokens::text LIKE 'reclock_store_%_tokens'), ',') FROM reclock_citus_tables$$);
-- the guard is on every shard, and the TRUNCATE check
SELECT shardid, result AS triggers
  FROM run_command_on_shards('st', $$SELECT string_agg(tgname, ',' ORDER BY tgname) FROM pg_trigger WHERE tgrelid = '%s'::regclass AND NOT tgisinternal$$)
 ORDER BY shardid;
-- ordinary roles cannot read or write the stores
SELECT has_table_privilege('public', :'locks', 'SELECT') AS public_reads,
       has_table_privilege('public', :'tokens', 'SELECT') AS public_reads_tokens;
-- ... nor their shards and the registry's placements on the workers
SELECT success, result FROM run_command_on_workers($$
  SELECT string_agg(DISTINCT c.relname ~ '^reclock_' || ':' ||
                    (has_table_privilege('public', c.oid, 'SELECT') OR has_table_privilege('public', c.oid, 'INSERT')
                     OR has_table_privilege('public', c.oid, 'UPDATE') OR has_table_privilege('public', c.oid, 'DELETE')), ',')
    FROM pg_class c WHERE c.relkind = 'r' AND (c.relname LIKE 'reclock\_store\_%' OR c.relname LIKE 'reclock\_citus\_tables%')
     AND c.relname NOT LIKE 'reclock\_store\_%\_marks%'$$);
-- but the marks store (review6_mark), which never holds a row: INSERT only
SELECT success, result FROM run_command_on_workers($$
  SELECT string_agg(DISTINCT has_table_privilege('public', c.oid, 'INSERT') || ':' ||
                    (has_table_privilege('public', c.oid, 'SELECT') OR has_table_privilege('public', c.oid, 'UPDATE')
                     OR has_table_privilege('public', c.oid, 'DELETE') OR has_table_privilege('public', c.oid, 'TRUNCATE')), ',')
    FROM pg_class c WHERE c.relkind = 'r' AND c.relname LIKE 'reclock\_store\_%\_marks%'$$);
SELECT success, result FROM run_command_on_workers($$
  SELECT count(*) FROM pg_class c WHERE c.relkind = 'r' AND (c.relname LIKE 'reclock\_store\_%' OR c.relname LIKE 'reclock\_citus\_tables\_%')$$);
-- protect again: the same stores
SELECT reclock_protect('st', true);
SELECT count(*) AS registered FROM reclock_citus_tables;
-- the guard on the shards judges by the stores (citus_guard.sql): with
-- require_lock, a row without a live lock is refused (55P03)
UPDATE st SET v = 'x' WHERE id = 1;
\echo :SQLSTATE

-- refused (0A000), saying why; nothing made
SET citus.next_shard_id = 1200100;
CREATE TABLE rg (id int PRIMARY KEY, v text);
SELECT create_distributed_table('rg', 'id', 'range');
SELECT reclock_protect('rg');
\echo :SQLSTATE
CREATE TABLE ap (id int PRIMARY KEY, v text);
SELECT create_distributed_table('ap', 'id', 'append');
SELECT reclock_protect('ap');
\echo :SQLSTATE
CREATE TABLE ss (id int PRIMARY KEY, v text);
SELECT create_distributed_table('ss', NULL);
SELECT reclock_protect('ss');
\echo :SQLSTATE
SET citus.shard_replication_factor = 2;
CREATE TABLE rep (id int PRIMARY KEY, v text);
SELECT create_distributed_table('rep', 'id', colocate_with => 'none');
RESET citus.shard_replication_factor;
SELECT reclock_protect('rep');
\echo :SQLSTATE
CREATE TABLE pt (id int PRIMARY KEY, v text) PARTITION BY RANGE (id);
CREATE TABLE pt_1 PARTITION OF pt FOR VALUES FROM (0) TO (100);
SELECT create_distributed_table('pt', 'id');
SELECT reclock_protect('pt');
\echo :SQLSTATE
-- documents over co-located distributed tables: accepted since build plan
-- step 6 (citus_documents tests them); unprotected again here
CREATE TABLE st_line (order_id int REFERENCES st, n int, PRIMARY KEY (order_id, n));
SELECT create_distributed_table('st_line', 'order_id', colocate_with => 'st');
SELECT reclock_protect('st_line', parent => 'st');
\echo :SQLSTATE
SELECT reclock_unprotect('st_line');
-- change notices: of protected distributed tables only
SELECT reclock_notify('rg');
\echo :SQLSTATE
SELECT count(*) AS registered FROM reclock_citus_tables;
SELECT count(*) AS guards FROM pg_trigger
 WHERE tgrelid IN ('rg'::regclass, 'ap'::regclass, 'ss'::regclass, 'rep'::regclass, 'pt'::regclass, 'st_line'::regclass)
   AND tgname LIKE 'reclock%';
SELECT count(*) AS stores FROM pg_class WHERE relname LIKE 'reclock\_store\_%' AND relkind = 'r';

-- unprotect: the guard and the stores go, everywhere
SELECT reclock_unprotect('st');
SELECT count(*) AS registered FROM reclock_citus_tables;
SELECT to_regclass(:'locks') AS locks, to_regclass(:'tokens') AS tokens;
SELECT success, result FROM run_command_on_workers(
  $$SELECT count(*) FROM pg_class WHERE relname LIKE 'reclock\_store\_%'$$);
SELECT success, result FROM run_command_on_workers($$SELECT count(*) FROM reclock_citus_tables$$);
UPDATE st SET v = 'u' WHERE id = 1;
SELECT * FROM st WHERE id = 1;
DROP TABLE st_line, st, rg, ap, ss, rep, pt;

-- DROP TABLE of a protected table: its stores and registry row go with it,
-- everywhere
CREATE TABLE dropme (id int PRIMARY KEY, v text);
SELECT create_distributed_table('dropme', 'id');
SELECT reclock_protect('dropme');
SELECT count(*) AS registered FROM reclock_citus_tables;
DROP TABLE dropme;
SELECT count(*) AS registered FROM reclock_citus_tables;
SELECT count(*) AS stores FROM pg_class WHERE relname LIKE 'reclock\_store\_%';
SELECT success, result FROM run_command_on_workers(
  $$SELECT count(*) FROM pg_class WHERE relname LIKE 'reclock\_store\_%'$$);
SELECT success, result FROM run_command_on_workers($$SELECT count(*) FROM reclock_citus_tables$$);
