--
-- review1_savepoint (review1): the reclaim at commit takes a subtransaction
-- only where it needs one (REPEATABLE READ: a serialization failure given up
-- quietly).  On the coordinator Citus mirrors every subtransaction on every
-- worker connection of the transaction (SAVEPOINT, RELEASE SAVEPOINT: two
-- round trips each), so a READ COMMITTED acquire's commit paid them for
-- nothing.  (citus.log_remote_commands shows the commands sent.)
--
\set SHOW_CONTEXT never
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS reclock;
RESET client_min_messages;
SET citus.shard_count = 2;
SET citus.next_shard_id = 3996000;
CREATE TABLE sv (id int PRIMARY KEY, v text);
SELECT create_distributed_table('sv', 'id');
INSERT INTO sv SELECT g, 's' || g FROM generate_series(1, 4) g;
SELECT reclock_protect('sv');
SET citus.log_remote_commands = on;
SET citus.grep_remote_commands = '%SAVEPOINT%';
-- READ COMMITTED: no savepoint sent
SELECT acquired FROM reclock_acquire('sv', '1', 'alice');
BEGIN;
SELECT acquired FROM reclock_acquire('sv', '2', 'alice');
COMMIT;
RESET citus.log_remote_commands;
RESET citus.grep_remote_commands;
SELECT reclock_break('sv', '1');
SELECT reclock_break('sv', '2');
SELECT reclock_unprotect('sv');
DROP TABLE sv;
