-- reclock demo: two editors race for one order.
-- Run by `make demo` in a throwaway cluster; also by `make test`.
\set QUIET on
\pset footer off
SET client_min_messages = warning;
DROP TABLE IF EXISTS orders;
CREATE EXTENSION IF NOT EXISTS reclock;
CREATE TABLE orders (id int PRIMARY KEY, customer text, qty int, note text);
INSERT INTO orders VALUES (42, 'ACME Corp', 10, 'ship Tuesday');
SELECT reclock_protect('orders') \g /dev/null
\set QUIET off
\echo
\echo '=== reclock demo: alice and bob both open order 42 ==='
\echo
\echo '-- alice opens the edit form first: she gets the lock (for 5 seconds, to keep the demo short)'
SELECT acquired, holder, fence, expires_at - reclock_clock() < '5 s'::interval AS expires_in_5s,
       token
  FROM reclock_acquire('orders', '42', 'alice', '5 seconds') \gset alice_
SELECT :'alice_acquired' AS acquired, :'alice_holder' AS holder, :'alice_fence' AS fence;
\echo
\echo '-- bob opens the same order a moment later: refused, and told by whom and until when'
SELECT acquired, holder AS locked_by, to_char(expires_at, 'HH24:MI:SS') AS until, fence
  FROM reclock_acquire('orders', '42', 'bob', '1 minute');
\echo
\echo '-- bob (or a background job) tries to write the row anyway: the guard refuses'
\set ON_ERROR_STOP 0
\set VERBOSITY terse
UPDATE orders SET qty = 0 WHERE id = 42;
\set ON_ERROR_STOP 1
\echo
\echo '-- alice saves, presenting her token in her transaction'
BEGIN;
SELECT set_config('reclock.token', :'alice_token', true) IS NOT NULL AS token_presented;
UPDATE orders SET qty = 12, note = 'ship Monday' WHERE id = 42;
COMMIT;
TABLE orders;
\echo
\echo '-- alice leaves the form open and goes to lunch; her lock runs out...'
SELECT pg_sleep(5.2) \g /dev/null
SELECT count(*) AS live_locks FROM reclock_locks;
\echo
\echo '-- ...so bob takes over: a new grant, with a larger fence'
SELECT acquired, holder, fence, fence > :alice_fence AS larger_fence, token
  FROM reclock_acquire('orders', '42', 'bob', '1 minute') \gset bob_
SELECT :'bob_acquired' AS acquired, :'bob_holder' AS holder, :'bob_fence' AS fence, :'bob_larger_fence' AS larger_fence;
\echo
\echo '-- bob saves his change, guarded by compare-and-swap against what his form showed'
BEGIN;
SELECT set_config('reclock.token', :'bob_token', true) IS NOT NULL AS token_presented;
SELECT reclock_cas('orders', '42', '{"qty": 12, "note": "ship Monday"}', '{"qty": 15}') AS saved;
COMMIT;
\echo
\echo '-- alice comes back and submits her stale form with her old token: refused'
\set ON_ERROR_STOP 0
BEGIN;
SELECT set_config('reclock.token', :'alice_token', true) IS NOT NULL AS token_presented;
UPDATE orders SET qty = 99 WHERE id = 42;
ROLLBACK;
\set ON_ERROR_STOP 1
\echo
\echo '-- what changed since alice''s form was shown:'
SELECT reclock_diff('orders', '42', '{"qty": 12, "note": "ship Monday"}') AS changed;
\echo
\echo '-- bob is done and releases; the row is free again'
SELECT reclock_release(:'bob_token') AS released;
SELECT count(*) AS live_locks FROM reclock_locks;
TABLE orders;
