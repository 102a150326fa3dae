--
-- REPRO (review2, 2026-12-06), not fixed.  Run it with
--   cp test/citus/repro/review7_roles.sql test/citus/sql/ &&
--   CITUS_TESTS=review7_roles CITUS_SPECS= CITUS_SCRIPTS= RECLOCK_CHROOTS=... make test-citus PG_MAJOR=17
--
-- An application role's acquire or refresh marks its part on the row's
-- worker as the caller (the INSERT of no row into the marks store, c6-mark;
-- the routed no-op UPDATE before it): Citus then binds the row's whole
-- co-located placement group on that node to the caller's connection for
-- the rest of the transaction.  reclock_refresh, reclock_release and
-- reclock_valid reach the stores as reclock's store owner (another user:
-- another connection), and Citus refuses them: "cannot perform query on
-- placements that were modified in this transaction by a different user"
-- (25001).  So, for any role but reclock's owner, in ONE transaction:
--   acquire then refresh / release / valid of that grant: ERROR
--   refresh then refresh again, refresh then release: ERROR
-- while on one node (and for reclock's owner here) all of them work.
-- Fails closed (the transaction aborts, nothing is lost), but an
-- application's "acquire, check, release on failure" or a heartbeat loop in
-- one transaction breaks, with a Citus error instead of the contract's.
-- Correct output: every statement below succeeds ('t').
--
\set SHOW_CONTEXT never
\set VERBOSITY terse
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS reclock;
RESET client_min_messages;
SET citus.shard_count = 2;
SET citus.next_shard_id = 1978000;
CREATE TABLE p8 (id int PRIMARY KEY, v text);
SELECT create_distributed_table('p8', 'id');
INSERT INTO p8 SELECT g, 'v' || g FROM generate_series(1, 20) g;
SELECT reclock_protect('p8');
CREATE ROLE p8_app LOGIN;
GRANT SELECT, UPDATE ON p8 TO p8_app;
SET ROLE p8_app;
-- acquire then refresh
BEGIN;
SELECT token AS ta FROM reclock_acquire('p8', '1', 'x') \gset
SELECT reclock_refresh(:'ta', '5 min') > now() AS refreshed;
ROLLBACK;
-- acquire then release
BEGIN;
SELECT token AS ta FROM reclock_acquire('p8', '1', 'x') \gset
SELECT reclock_release(:'ta') AS released;
ROLLBACK;
-- acquire then valid
BEGIN;
SELECT token AS ta FROM reclock_acquire('p8', '1', 'x') \gset
SELECT reclock_valid(:'ta') AS valid;
ROLLBACK;
-- refresh then refresh, refresh then release
SELECT token AS ta FROM reclock_acquire('p8', '1', 'x') \gset
BEGIN;
SELECT reclock_refresh(:'ta', '5 min') > now() AS refreshed;
SELECT reclock_refresh(:'ta', '6 min') > now() AS refreshed2;
ROLLBACK;
BEGIN;
SELECT reclock_refresh(:'ta', '5 min') > now() AS refreshed;
SELECT reclock_release(:'ta') AS released;
ROLLBACK;
SELECT reclock_release(:'ta') AS released;
RESET ROLE;
-- reclock's owner (superuser here): the same works
BEGIN;
SELECT token AS ta FROM reclock_acquire('p8', '1', 'x') \gset
SELECT reclock_refresh(:'ta', '5 min') > now() AS refreshed;
SELECT reclock_valid(:'ta') AS valid;
SELECT reclock_release(:'ta') AS released;
COMMIT;
DROP TABLE p8;
DROP ROLE p8_app;
