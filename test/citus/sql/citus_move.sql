--
-- citus_move: a shard of a protected distributed table with live locks is
-- moved (citus_move_shard_placement, block_writes and force_logical) and
-- split (citus_split_shard_by_split_points): its lock store shards go with
-- it (co-located), so the locks hold at the new node.  A write without the
-- token is refused there (routed, and directly on the shard), with the
-- token it passes; valid, refresh, release and break work through the
-- coordinator; the moved shard has its TRUNCATE check; an acquire after the
-- move lands beside its row.  (docs/citus.md, build plan step 9.)
-- Ports are random: none is printed.
--
\set SHOW_CONTEXT never
-- (citus.sql made the extension; this file can also run alone)
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS reclock;
RESET client_min_messages;
SET citus.shard_count = 4;
SET citus.next_shard_id = 2490000;
CREATE TABLE mv (id int PRIMARY KEY, v text);
SELECT create_distributed_table('mv', 'id', colocate_with => 'none');
-- (a group of its own: the split below gives it a fifth shard)
INSERT INTO mv SELECT g, 'm' || g FROM generate_series(1, 8) g;
SELECT reclock_protect('mv');
SELECT format('reclock_store_%s_locks', 'mv'::regclass::oid) AS locks,
       format('reclock_store_%s_tokens', 'mv'::regclass::oid) AS tokens \gset
-- rows 1 and 5 are in one shard
SELECT get_shard_id_for_distribution_column('mv', 1) AS shard,
       get_shard_id_for_distribution_column('mv', 5) = get_shard_id_for_distribution_column('mv', 1) AS same_shard \gset
\echo :same_shard
SELECT token AS tok1, fence AS f1 FROM reclock_acquire('mv', '1', 'alice', '1 hour') \gset

-- every lock is beside its row: the store shard that holds it is on the
-- node of the data shard that holds the row
CREATE FUNCTION mv_beside() RETURNS TABLE (locks bigint, beside bigint)
LANGUAGE plpgsql AS $f$
BEGIN
  EXECUTE format('SELECT count(*) FROM reclock_store_%s_locks', 'mv'::regclass::oid) INTO locks;
  SELECT coalesce(sum(result::bigint), 0) INTO beside
    FROM run_command_on_colocated_placements('mv',
           format('reclock_store_%s_locks', 'mv'::regclass::oid)::regclass,
           $$SELECT count(*) FROM %s m JOIN %s l ON l.dist = m.id AND l.key = m.id::text$$);
  RETURN NEXT;
END
$f$;
SELECT * FROM mv_beside();

-- the lock's shard, written without and with the token, through the
-- coordinator and directly on the shard on its worker; valid and refresh
CREATE FUNCTION mv_check(tok text) RETURNS TABLE (step text, outcome text)
LANGUAGE plpgsql AS $f$
DECLARE
  r record;
BEGIN
  BEGIN
    UPDATE mv SET v = 'no token' WHERE id = 1;
    step := 'routed write without the token'; outcome := 'passed'; RETURN NEXT;
  EXCEPTION WHEN lock_not_available THEN
    step := 'routed write without the token'; outcome := 'refused ' || SQLSTATE; RETURN NEXT;
  END;
  FOR r IN SELECT shardid, success, result
             FROM run_command_on_placements('mv', $$UPDATE %s SET v = 'direct' WHERE id = 1$$)
            WHERE shardid = get_shard_id_for_distribution_column('mv', 1)
  LOOP
    step := 'direct write of the shard without the token';
    outcome := CASE WHEN r.success THEN r.result
                    ELSE regexp_replace(r.result, 'until .*', 'until ...') END;
    RETURN NEXT;
  END LOOP;
  step := 'valid'; outcome := reclock_valid(tok::uuid)::text; RETURN NEXT;
  step := 'refresh'; outcome := (reclock_refresh(tok::uuid, '2 hours') > now() + interval '90 minutes')::text; RETURN NEXT;
  step := 'another holder'; outcome := (SELECT acquired::text || ' ' || holder FROM reclock_acquire('mv', '1', 'bob')); RETURN NEXT;
  -- the TRUNCATE check on the shard (named after the shard)
  step := 'truncate check on the shard';
  outcome := (SELECT string_agg(result, ',') FROM run_command_on_placements('mv',
      $$SELECT string_agg(tgname, ',') FROM pg_trigger WHERE tgrelid = '%s'::regclass AND tgtype & 32 <> 0$$)
     WHERE shardid = get_shard_id_for_distribution_column('mv', 1));
  outcome := replace(outcome, get_shard_id_for_distribution_column('mv', 1)::text, '<shardid>');
  RETURN NEXT;
END
$f$;
SELECT * FROM mv_check(:'tok1');
-- with the token, a write passes
BEGIN;
SET LOCAL citus.propagate_set_commands = local;
SET LOCAL reclock.token = :'tok1';
UPDATE mv SET v = 'alice 1' WHERE id = 1;
COMMIT;

-- the node of a shard, and the other worker
CREATE FUNCTION mv_node(shard bigint) RETURNS int LANGUAGE sql
  AS $$SELECT nodeid FROM pg_dist_placement p JOIN pg_dist_node n USING (groupid) WHERE shardid = shard$$;
CREATE FUNCTION mv_other(shard bigint) RETURNS int LANGUAGE sql
  AS $$SELECT nodeid FROM pg_dist_node WHERE groupid <> 0 AND nodeid <> mv_node(shard)$$;
SELECT mv_node(:shard::bigint) AS node0 \gset

-- (1) a block_writes move
SELECT citus_move_shard_placement(:shard::bigint, mv_node(:shard::bigint), mv_other(:shard::bigint), transfer_mode => 'block_writes');
SELECT mv_node(:shard::bigint) <> :node0 AS moved;
SELECT * FROM mv_beside();
SELECT * FROM mv_check(:'tok1');
BEGIN;
SET LOCAL citus.propagate_set_commands = local;
SET LOCAL reclock.token = :'tok1';
UPDATE mv SET v = 'alice 2' WHERE id = 1;
COMMIT;
-- an acquire after the move lands beside its row
SELECT token AS tok5, fence > :f1 AS larger_fence FROM reclock_acquire('mv', '5', 'carol') \gset
\echo :larger_fence
SELECT * FROM mv_beside();

-- (2) a force_logical move back (wal_level = logical)
SELECT citus_move_shard_placement(:shard::bigint, mv_node(:shard::bigint), mv_other(:shard::bigint), transfer_mode => 'force_logical');
SELECT mv_node(:shard::bigint) = :node0 AS moved_back;
SELECT * FROM mv_beside();
SELECT * FROM mv_check(:'tok1');
BEGIN;
SET LOCAL citus.propagate_set_commands = local;
SET LOCAL reclock.token = :'tok1';
UPDATE mv SET v = 'alice 3' WHERE id = 1;
COMMIT;
SELECT id, v FROM mv WHERE id IN (1, 5) ORDER BY id;

-- (3) a split of the shard between rows 1 and 5, its halves on both workers
SELECT CASE WHEN worker_hash(1) < worker_hash(5) THEN worker_hash(1) ELSE worker_hash(5) END AS point \gset
SET citus.next_shard_id = 2490100;
SELECT citus_split_shard_by_split_points(:shard::bigint, ARRAY[:'point'],
         ARRAY[mv_node(:shard::bigint), mv_other(:shard::bigint)], shard_transfer_mode => 'block_writes');
SELECT get_shard_id_for_distribution_column('mv', 1) <> get_shard_id_for_distribution_column('mv', 5) AS split,
       mv_node(get_shard_id_for_distribution_column('mv', 1)) <> mv_node(get_shard_id_for_distribution_column('mv', 5)) AS two_nodes;
SELECT * FROM mv_beside();
SELECT * FROM mv_check(:'tok1');
-- the other half: row 5's lock holds there
\set VERBOSITY sqlstate
UPDATE mv SET v = 'no token' WHERE id = 5;
\set VERBOSITY default
BEGIN;
SET LOCAL citus.propagate_set_commands = local;
SET LOCAL reclock.token = :'tok5';
UPDATE mv SET v = 'carol' WHERE id = 5;
COMMIT;
-- (4) the split half moved by force_logical: still there
SELECT citus_move_shard_placement(get_shard_id_for_distribution_column('mv', 5),
         mv_node(get_shard_id_for_distribution_column('mv', 5)),
         mv_other(get_shard_id_for_distribution_column('mv', 5)), transfer_mode => 'force_logical');
SELECT * FROM mv_beside();
\set VERBOSITY sqlstate
UPDATE mv SET v = 'no token' WHERE id = 5;
\set VERBOSITY default
SELECT reclock_valid(:'tok5') AS valid5;

-- release and break through the coordinator, then the rows are free
SELECT reclock_release(:'tok1') AS released, reclock_valid(:'tok1') AS valid;
SELECT reclock_break('mv', '5') AS broken, reclock_valid(:'tok5') AS valid;
UPDATE mv SET v = 'free' WHERE id IN (1, 5);
SELECT * FROM mv_beside();
-- a new grant of row 1: a larger fence than every earlier one
SELECT acquired, fence > :f1 AS larger_fence FROM reclock_acquire('mv', '1', 'dave');
SELECT * FROM mv_beside();
SELECT reclock_unprotect('mv');
DROP TABLE mv;
DROP FUNCTION mv_beside(), mv_check(text), mv_node(bigint), mv_other(bigint);
-- the shards the moves and the split left behind (Citus drops them later;
-- how many are left depends on its maintenance daemon)
SET client_min_messages = warning;
CALL citus_cleanup_orphaned_resources();
RESET client_min_messages;
