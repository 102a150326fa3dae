-- The privilege model, as an ordinary application role: the lock store is
-- closed, tokens are never readable, and reclock lets no role do what it
-- could not do before.
BEGIN;
SELECT plan(30);

CREATE ROLE regress_tap_app;
CREATE ROLE regress_tap_ro;
CREATE TABLE tap_orders (id int PRIMARY KEY, qty int);
INSERT INTO tap_orders VALUES (1, 1), (2, 2);
GRANT SELECT, UPDATE ON tap_orders TO regress_tap_app;
GRANT SELECT ON tap_orders TO regress_tap_ro;
SELECT reclock_protect('tap_orders');

-- the store and its sequence are closed to PUBLIC
SELECT table_privs_are('reclock_lock_store', 'regress_tap_app', ARRAY[]::text[], 'app role has no privilege on the lock store');
SELECT table_privs_are('reclock_token_store', 'regress_tap_app', ARRAY[]::text[], 'app role has no privilege on the token store');
SELECT sequence_privs_are('reclock_fence_seq', 'regress_tap_app', ARRAY[]::text[], 'app role has no privilege on the fence sequence');
SELECT sequence_privs_are('reclock_epoch_seq', 'regress_tap_app', ARRAY[]::text[], 'app role has no privilege on the epoch sequence');
SELECT table_privs_are('reclock_locks', 'regress_tap_app', ARRAY['SELECT'], 'app role may only read the view');

SET LOCAL ROLE regress_tap_ro;
SELECT throws_ok($$SELECT reclock_acquire('tap_orders', '1', 'mallory')$$, '42501', NULL,
  'a read-only role cannot acquire');
RESET ROLE;

SET LOCAL ROLE regress_tap_app;
CREATE TEMP TABLE tap_tok AS SELECT token FROM reclock_acquire('tap_orders', '1', 'alice');
SELECT isnt((SELECT token FROM tap_tok), NULL, 'the app role acquires');
SELECT throws_ok('SELECT * FROM reclock_lock_store', '42501', NULL, 'app role cannot read the lock store');
SELECT throws_ok('SELECT * FROM reclock_token_store', '42501', NULL, 'app role cannot read the token store');
SELECT throws_ok('DELETE FROM reclock_lock_store', '42501', NULL, 'app role cannot delete locks directly');
SELECT throws_ok($$UPDATE reclock_lock_store SET expires_at = now()$$, '42501', NULL, 'app role cannot end locks directly');
SELECT throws_ok($$UPDATE reclock_lock_store SET holder = 'mallory'$$, '42501', NULL, 'app role cannot steal locks directly');
SELECT throws_ok($$INSERT INTO reclock_token_store VALUES ('\x00', 1)$$, '42501', NULL, 'app role cannot forge token hashes');
SELECT throws_ok($$SELECT setval('reclock_fence_seq', 1)$$, '42501', NULL, 'app role cannot rewind fences');
SELECT throws_ok($$SELECT setval('reclock_epoch_seq', 1)$$, '42501', NULL, 'app role cannot rewind the epoch the guard trusts');
SELECT throws_ok($$TRUNCATE reclock_lock_store$$, '42501', NULL, 'app role cannot truncate the lock store');

-- the view shows the lock but no token, in no column
SELECT columns_are('reclock_locks', ARRAY['relation', 'key', 'holder', 'fence', 'acquired_at', 'expires_at', 'acquired_by'],
  'reclock_locks has exactly the contract''s columns');
SELECT is((SELECT count(*)::int FROM reclock_locks l WHERE l::text LIKE '%' || (SELECT token FROM tap_tok)::text || '%'), 0,
  'no row of reclock_locks holds the token');
SELECT is((SELECT holder FROM reclock_locks WHERE relation = 'tap_orders'::regclass), 'alice', 'the view shows the holder');

-- a forged token does not open the row
SELECT set_config('reclock.token', '5b4c1f0e-2a6d-4e3b-9c8d-7f6e5d4c3b2a', true);
SELECT throws_ok($$UPDATE tap_orders SET qty = 0 WHERE id = 1$$, '55P03', NULL, 'a forged token is refused');
-- a token of another row does not open this one
CREATE TEMP TABLE tap_tok2 AS SELECT token FROM reclock_acquire('tap_orders', '2', 'bob');
SELECT set_config('reclock.token', (SELECT token::text FROM tap_tok2), true);
SELECT throws_ok($$UPDATE tap_orders SET qty = 0 WHERE id = 1$$, '55P03', NULL, 'a token of another row is refused');
SELECT lives_ok($$UPDATE tap_orders SET qty = 20 WHERE id = 2$$, 'but opens its own row');
SELECT set_config('reclock.token', '', true);
-- breaking another's lock needs ownership; so does (un)protecting
SELECT throws_ok($$SELECT reclock_break('tap_orders', '1')$$, '42501', NULL, 'app role cannot break locks');
SELECT throws_ok($$SELECT reclock_unprotect('tap_orders')$$, '42501', NULL, 'app role cannot remove the guard');
SELECT throws_ok($$SELECT reclock_protect('tap_orders', true)$$, '42501', NULL, 'app role cannot change how the table is guarded');
SELECT throws_ok($$SELECT reclock_notify('tap_orders')$$, '42501', NULL, 'app role cannot switch change notices on');
-- the guard function cannot be called directly
SELECT throws_ok($$SELECT reclock_guard()$$, '39P01', NULL, 'the trigger function cannot be called directly');
RESET ROLE;

SELECT is((SELECT qty FROM tap_orders WHERE id = 1), 1, 'row 1 is untouched');
-- README: "No function is SECURITY DEFINER" (the C functions check the
-- caller's rights themselves)
SELECT is(
  (SELECT array_agg(p.proname ORDER BY p.proname)::text FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.classid = 'pg_proc'::regclass
    WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'reclock') AND d.deptype = 'e' AND p.prosecdef),
  NULL, 'no function of the extension is SECURITY DEFINER');
SELECT cmp_ok(
  (SELECT count(*)::int FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.deptype = 'e'
      AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'reclock')),
  '>=', 10, 'the check above saw the extension''s functions');

SELECT * FROM finish();
ROLLBACK;
