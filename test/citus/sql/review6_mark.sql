--
-- review6_mark: the write mark of an application role's acquire or refresh (the
-- statement that makes the grant's part on the row's worker count as a
-- modification in Citus's accounting, mark_store_modified) is an INSERT of
-- no row into the table's marks store, reclock_store_<oid>_marks: no
-- statement on the application's table any more, so none of its triggers,
-- rules or row-level security policies take part, and it needs no right on
-- the table's columns.  Citus's accounting is seen through its own rule: in
-- a transaction, a placement that one user modified cannot be queried by
-- another ("modified in this transaction by a different user"); one that it
-- only read can.
--
\set SHOW_CONTEXT never
\set VERBOSITY terse
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS reclock;
RESET client_min_messages;
SET citus.shard_count = 2;
SET citus.next_shard_id = 1976000;
CREATE TABLE mk (id int PRIMARY KEY, v text);
SELECT create_distributed_table('mk', 'id');
INSERT INTO mk SELECT g, 'v' || g FROM generate_series(1, 20) g;
SELECT reclock_protect('mk');
SELECT format('%I.%I', n.nspname, 'reclock_store_' || 'mk'::regclass::oid || '_marks') AS marks
  FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'reclock' \gset
-- the marks store: co-located with mk, owned by reclock's store owner
SELECT p.colocationid = (SELECT colocationid FROM pg_dist_partition WHERE logicalrelid = 'mk'::regclass) AS colocated,
       pg_get_userbyid(c.relowner) = (SELECT pg_get_userbyid(extowner) FROM pg_extension WHERE extname = 'reclock') AS owned
  FROM pg_dist_partition p JOIN pg_class c ON c.oid = p.logicalrelid WHERE p.logicalrelid = :'marks'::regclass;
-- SQLSTATE of a statement (the store's name, in messages, holds an OID)
CREATE FUNCTION mk_try(q text) RETURNS text LANGUAGE plpgsql
  AS $$BEGIN EXECUTE q; RETURN 'ok'; EXCEPTION WHEN OTHERS THEN RETURN SQLSTATE; END$$;
GRANT EXECUTE ON FUNCTION mk_try(text) TO PUBLIC;

-- 1. a role with UPDATE but not SELECT: its refresh is marked now (the
-- no-op UPDATE of mk read the distribution column: no mark at all)
CREATE ROLE mk_u LOGIN;
GRANT UPDATE ON mk TO mk_u;
SELECT token AS tok FROM reclock_acquire('mk', '2', 'u2') \gset
BEGIN;
SET LOCAL ROLE mk_u;
SELECT reclock_refresh(:'tok', '5 min') > now() AS refreshed;
RESET ROLE;
SELECT count(*) FROM mk WHERE id = 2;
ROLLBACK;
SET ROLE mk_u;
SELECT reclock_refresh(:'tok', '7 min') > now() + interval '6 min' AS refreshed;
RESET ROLE;
SELECT reclock_release(:'tok');

-- 2. a statement-level UPDATE trigger of the application's: the acquire of
-- a role with SELECT and UPDATE fires it no more
CREATE ROLE mk_app LOGIN;
GRANT SELECT, UPDATE ON mk TO mk_app;
CREATE FUNCTION mk_stmt() RETURNS trigger LANGUAGE plpgsql
  AS $$BEGIN RAISE WARNING 'UPDATE statement on mk'; RETURN NULL; END$$;
SET citus.enable_unsafe_triggers = on;
CREATE TRIGGER mk_stmt AFTER UPDATE ON mk FOR EACH STATEMENT EXECUTE FUNCTION mk_stmt();
RESET citus.enable_unsafe_triggers;
SET ROLE mk_app;
SELECT token AS tok FROM reclock_acquire('mk', '4', 'a4') \gset
SELECT reclock_refresh(:'tok', '5 min') > now() AS refreshed;
-- (and the marked connection: another user may not query the placement)
BEGIN;
SELECT acquired FROM reclock_acquire('mk', '5', 'a5');
RESET ROLE;
SELECT count(*) FROM mk WHERE id = 5;
ROLLBACK;
RESET ROLE;
SELECT reclock_release(:'tok');

-- 3. a row-level security policy with a VOLATILE function: acquire and
-- refresh work (Citus refused the no-op UPDATE: a volatile function in the
-- WHERE of a modification)
CREATE FUNCTION mk_vol(i int) RETURNS bool VOLATILE LANGUAGE sql AS 'SELECT i > 0';
ALTER TABLE mk ENABLE ROW LEVEL SECURITY;
CREATE POLICY mk_vol ON mk TO mk_app USING (mk_vol(id));
SET ROLE mk_app;
SELECT token AS tok FROM reclock_acquire('mk', '6', 'a6') \gset
SELECT reclock_valid(:'tok') AS valid;
SELECT reclock_refresh(:'tok', '5 min') > now() AS refreshed;
SELECT reclock_release(:'tok');
RESET ROLE;
DROP POLICY mk_vol ON mk;
ALTER TABLE mk DISABLE ROW LEVEL SECURITY;

-- 4. an ON UPDATE DO INSTEAD rule: acquire and refresh work (the no-op
-- UPDATE was rewritten, and the acquire failed)
CREATE RULE mk_instead AS ON UPDATE TO mk DO INSTEAD NOTHING;
SET ROLE mk_app;
SELECT token AS tok FROM reclock_acquire('mk', '7', 'a7') \gset
SELECT reclock_valid(:'tok') AS valid;
SELECT reclock_refresh(:'tok', '5 min') > now() AS refreshed;
SELECT reclock_release(:'tok');
RESET ROLE;
DROP RULE mk_instead ON mk;

-- 5. the marks store holds no row, whoever writes it: any role may INSERT
-- (nothing is stored), none but reclock's owner UPDATE, DELETE, TRUNCATE or
-- LOCK it in a mode that an acquire's INSERT would wait for
SET ROLE mk_app;
SELECT mk_try(format('INSERT INTO %s VALUES (1), (2), (3)', :'marks')) AS insert_app;
SELECT mk_try(format('UPDATE %s SET dist = dist', :'marks')) AS update_app;
SELECT mk_try(format('DELETE FROM %s', :'marks')) AS delete_app;
SELECT mk_try(format('TRUNCATE %s', :'marks')) AS truncate_app;
SELECT mk_try(format('SELECT count(*) FROM %s', :'marks')) AS select_app;
SELECT mk_try(format('LOCK TABLE %s IN ACCESS EXCLUSIVE MODE', :'marks')) AS lock_app;
SELECT mk_try(format('LOCK TABLE %s IN SHARE MODE', :'marks')) AS share_lock_app;
RESET ROLE;
SELECT mk_try(format('INSERT INTO %s SELECT g FROM generate_series(1, 20) g', :'marks')) AS insert_owner;
-- on the workers, in the shards themselves
SELECT result FROM run_command_on_placements(:'marks', 'INSERT INTO %s VALUES (1), (2), (3), (4)') ORDER BY shardid;
SELECT count(*) AS rows_in_marks FROM :marks;
SELECT result FROM run_command_on_placements(:'marks', 'SELECT count(*) FROM %s') ORDER BY shardid;
-- without its trigger (DROP EXTENSION CASCADE drops it), its CHECK refuses every row
SELECT success, result ~ 'violates check constraint' AS refused
  FROM run_command_on_placements(:'marks', $c$DO $x$BEGIN
         PERFORM set_config('citus.enable_manual_changes_to_shards', 'on', true);
         ALTER TABLE %1$s DISABLE TRIGGER USER; INSERT INTO %1$s VALUES (1); END$x$$c$)
 ORDER BY shardid;
SELECT result FROM run_command_on_placements(:'marks',
  'SELECT count(*) FROM pg_trigger WHERE tgrelid = ''%s''::regclass AND tgenabled = ''O'' AND NOT tgisinternal')
 ORDER BY shardid;

-- 6. a table protected before its marks store (its store dropped here by
-- hand): the mark of the no-op UPDATE of mk, as before (mk_stmt fires);
-- protecting it again makes the store
DROP TABLE :marks;
BEGIN;
SET LOCAL ROLE mk_app;
SELECT acquired FROM reclock_acquire('mk', '8', 'a8');
RESET ROLE;
SELECT count(*) FROM mk WHERE id = 8;
ROLLBACK;
SELECT reclock_protect('mk');
SELECT to_regclass(:'marks') IS NOT NULL AS marks_again;
BEGIN;
SET LOCAL ROLE mk_app;
SELECT acquired FROM reclock_acquire('mk', '8', 'a8');
RESET ROLE;
SELECT count(*) FROM mk WHERE id = 8;
ROLLBACK;
-- a table of the store's name made by another role is never used (mk_stmt
-- fires), and protect refuses to make the store beside it
CREATE ROLE mk_owner LOGIN;
GRANT CREATE ON SCHEMA public TO mk_owner;
DROP TABLE :marks;
SET ROLE mk_owner;
CREATE TABLE :marks (dist int);
GRANT INSERT ON :marks TO PUBLIC;
CREATE FUNCTION mk_evil() RETURNS trigger LANGUAGE plpgsql
  AS $$BEGIN RAISE WARNING 'mk_owner''s trigger ran as %', current_user; RETURN NULL; END$$;
CREATE TRIGGER mk_evil BEFORE INSERT ON :marks FOR EACH ROW EXECUTE FUNCTION mk_evil();
RESET ROLE;
SELECT mk_try('SELECT reclock_protect(''mk'')') AS protect_beside_foreign;
BEGIN;
SET LOCAL ROLE mk_app;
SELECT acquired FROM reclock_acquire('mk', '9', 'a9');
RESET ROLE;
SELECT count(*) FROM mk WHERE id = 9;
ROLLBACK;
DROP TABLE :marks;
DROP FUNCTION mk_evil();
SELECT reclock_protect('mk');
SET citus.enable_unsafe_triggers = on;
DROP TRIGGER mk_stmt ON mk;
RESET citus.enable_unsafe_triggers;

-- 7. a shard move (Citus's default transfer mode: logical replication,
-- which refuses a table without replica identity) and a split carry the
-- store with the table's shard, its trigger with it
SELECT get_shard_id_for_distribution_column('mk', 10) AS shard,
       get_shard_id_for_distribution_column(:'marks', 10) AS mshard \gset
CREATE FUNCTION mk_node(shard bigint) RETURNS int LANGUAGE sql
  AS $$SELECT nodeid FROM pg_dist_placement p JOIN pg_dist_node n USING (groupid) WHERE shardid = shard$$;
CREATE FUNCTION mk_other(shard bigint) RETURNS int LANGUAGE sql
  AS $$SELECT nodeid FROM pg_dist_node WHERE groupid <> 0 AND nodeid <> mk_node(shard)$$;
SELECT mk_node(:shard) AS node0 \gset
SELECT citus_move_shard_placement(:shard, mk_node(:shard), mk_other(:shard));
SELECT mk_node(:shard) <> :node0 AS moved, mk_node(:mshard) = mk_node(:shard) AS marks_beside;
SELECT result FROM run_command_on_placements(:'marks', 'INSERT INTO %s VALUES (10)') ORDER BY shardid;
SET ROLE mk_app;
SELECT token AS tok FROM reclock_acquire('mk', '10', 'a10') \gset
BEGIN;
SELECT reclock_refresh(:'tok', '5 min') > now() AS refreshed;
RESET ROLE;
SELECT count(*) FROM mk WHERE id = 10;
ROLLBACK;
RESET ROLE;
SELECT reclock_release(:'tok');
SELECT result FROM run_command_on_placements(:'marks', 'SELECT count(*) FROM %s') ORDER BY shardid;
-- and a split of that shard (between rows 10 and another of its rows)
SELECT min(id) AS other FROM mk WHERE id <> 10
   AND get_shard_id_for_distribution_column('mk', id) = :shard \gset
SELECT CASE WHEN worker_hash(10) < worker_hash(:other) THEN worker_hash(10) ELSE worker_hash(:other) END AS point \gset
SET citus.next_shard_id = 1976100;
SELECT citus_split_shard_by_split_points(:shard, ARRAY[:'point'], ARRAY[mk_node(:shard), mk_other(:shard)],
         shard_transfer_mode => 'block_writes');
SELECT get_shard_id_for_distribution_column('mk', 10) <> get_shard_id_for_distribution_column('mk', :other) AS split,
       mk_node(get_shard_id_for_distribution_column(:'marks', 10)) = mk_node(get_shard_id_for_distribution_column('mk', 10))
   AND mk_node(get_shard_id_for_distribution_column(:'marks', :other)) = mk_node(get_shard_id_for_distribution_column('mk', :other)) AS marks_beside;
SELECT result FROM run_command_on_placements(:'marks', 'INSERT INTO %s VALUES (10)') ORDER BY shardid;
SET ROLE mk_app;
BEGIN;
SELECT acquired FROM reclock_acquire('mk', :'other', 'a11');
RESET ROLE;
SELECT count(*) FROM mk WHERE id = :other;
ROLLBACK;
RESET ROLE;
SELECT result FROM run_command_on_placements(:'marks', 'SELECT count(*) FROM %s') ORDER BY shardid;
DROP FUNCTION mk_node(bigint);
DROP FUNCTION mk_other(bigint);

-- 8. unprotect drops the store with the others; DROP TABLE too
SELECT reclock_unprotect('mk');
SELECT to_regclass(:'marks') IS NULL AS marks_dropped;
SELECT reclock_protect('mk');
SELECT format('%I.%I', n.nspname, 'reclock_store_' || 'mk'::regclass::oid || '_marks') AS marks
  FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'reclock' \gset
SELECT to_regclass(:'marks') IS NOT NULL AS marks_made;
DROP TABLE mk;
SELECT to_regclass(:'marks') IS NULL AS marks_dropped_with_table;
DROP FUNCTION mk_try(text);
DROP FUNCTION mk_stmt();
DROP FUNCTION mk_vol(int);
REVOKE CREATE ON SCHEMA public FROM mk_owner;
DROP OWNED BY mk_u, mk_app, mk_owner;
DROP ROLE mk_u, mk_app, mk_owner;
