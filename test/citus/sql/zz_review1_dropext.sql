--
-- zz_review1_dropext (review1): DROP EXTENSION reclock on the coordinator
-- drops the stores of protected Citus tables first; a drop that fails or is
-- rolled back leaves them, with their locks, and one that commits after an
-- acquire in the same transaction commits.  (Named to run after
-- zz_drop_extension.)
--
\set SHOW_CONTEXT never
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS reclock;
RESET client_min_messages;
SET citus.shard_count = 2;
SET citus.next_shard_id = 3962000;
CREATE TABLE dy (id int PRIMARY KEY, v text);
SELECT create_distributed_table('dy', 'id');
INSERT INTO dy SELECT g, 'd' || g FROM generate_series(1, 4) g;
SELECT reclock_protect('dy');
SELECT acquired FROM reclock_acquire('dy', '1', 'alice');
-- a drop rolled back: the stores stay, alice keeps her lock
BEGIN;
SET LOCAL client_min_messages = warning;
DROP EXTENSION reclock CASCADE;
ROLLBACK;
SELECT acquired, holder FROM reclock_acquire('dy', '1', 'bob');
-- a list naming an extension that does not exist: refused, the stores stay
DROP EXTENSION reclock, review1_no_such_extension CASCADE;
SELECT acquired, holder FROM reclock_acquire('dy', '1', 'bob');
-- by a role that does not own the extension: refused, the stores stay
CREATE ROLE review1_nobody;
GRANT USAGE ON SCHEMA public TO review1_nobody;
SET ROLE review1_nobody;
DROP EXTENSION reclock CASCADE;
RESET ROLE;
SELECT acquired, holder FROM reclock_acquire('dy', '1', 'bob');
-- an acquire and the drop in one transaction: the COMMIT succeeds
BEGIN;
SELECT acquired FROM reclock_acquire('dy', '2', 'alice');
SET LOCAL client_min_messages = warning;
DROP EXTENSION reclock CASCADE;
COMMIT;
-- (shard placements moved away by earlier files wait for Citus's deferred cleanup)
SET client_min_messages = warning;
CALL citus_cleanup_orphaned_resources();
RESET client_min_messages;
SELECT extname FROM pg_extension WHERE extname = 'reclock';
SELECT count(*) AS stores FROM pg_class WHERE relname LIKE 'reclock\_store\_%';
SELECT nodeport > 0 AS worker, result AS stores
  FROM run_command_on_workers($$SELECT count(*) FROM pg_class WHERE relname LIKE 'reclock\_store\_%'$$)
 ORDER BY nodeport;
UPDATE dy SET v = 'free' WHERE id = 1;
CREATE EXTENSION IF NOT EXISTS reclock;
DROP TABLE dy;
DROP OWNED BY review1_nobody;
DROP ROLE review1_nobody;
