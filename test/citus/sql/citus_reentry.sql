--
-- citus_reentry: reclock.reentry = token on a protected distributed table
-- (docs/citus.md, build plan step 4): the same holder re-enters a live
-- grant only if the acquiring transaction presents a token of that grant;
-- otherwise the acquire is refused as for another holder.  The coordinator
-- sends the hashes of the tokens its transaction presents with the routed
-- grant; the row's node checks them against the grant's token store shard.
--
\set SHOW_CONTEXT never
SET citus.shard_count = 4;
SET citus.next_shard_id = 1700000;
CREATE TABLE re (id int PRIMARY KEY, v text);
SELECT create_distributed_table('re', 'id');
INSERT INTO re SELECT g, 'r' || g FROM generate_series(1, 4) g;
SELECT reclock_protect('re');
SELECT token AS tok, fence AS f1 FROM reclock_acquire('re', '1', 'alice') \gset
SELECT token AS other FROM reclock_acquire('re', '2', 'alice') \gset
SET reclock.reentry = token;
-- without a token of the grant: refused, told whose lock it is
SELECT acquired, token IS NULL AS no_token, holder, fence = :f1 AS same_fence
  FROM reclock_acquire('re', '1', 'alice');
-- with a token of another grant: refused
BEGIN;
SELECT set_config('reclock.token', :'other', true) IS NOT NULL AS presented;
SELECT acquired FROM reclock_acquire('re', '1', 'alice');
COMMIT;
-- with a token of the grant: re-entered (same fence, a fresh token)
BEGIN;
SELECT set_config('reclock.token', :'tok', true) IS NOT NULL AS presented;
SELECT acquired, token IS NOT NULL AND token <> :'tok' AS fresh_token, fence = :f1 AS same_fence
  FROM reclock_acquire('re', '1', 'alice');
COMMIT;
-- a token presented in an earlier transaction does not count
SELECT acquired FROM reclock_acquire('re', '1', 'alice');
RESET reclock.reentry;
-- holder (the default): the same holder and role re-enter
SELECT acquired, fence = :f1 AS same_fence FROM reclock_acquire('re', '1', 'alice');
SELECT reclock_unprotect('re');
DROP TABLE re;
