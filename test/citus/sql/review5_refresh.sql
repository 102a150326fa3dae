--
-- review5_refresh: a refresh by a role with UPDATE of the table but not
-- SELECT.  The write mark of an application role's refresh (a routed no-op
-- UPDATE as that role) reads the distribution column, and failed the
-- refresh with "permission denied" where it had passed before the mark.
--
\set SHOW_CONTEXT never
\set VERBOSITY terse
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS reclock;
RESET client_min_messages;
SET citus.shard_count = 2;
SET citus.next_shard_id = 1973000;
CREATE TABLE rq (id int PRIMARY KEY, v text);
SELECT create_distributed_table('rq', 'id');
INSERT INTO rq VALUES (1, 'a'), (2, 'b');
SELECT reclock_protect('rq');
CREATE ROLE rq_u LOGIN;
GRANT UPDATE ON rq TO rq_u;
SELECT token AS tok FROM reclock_acquire('rq', '1', 'h') \gset
SET ROLE rq_u;
SELECT reclock_refresh(:'tok', '5 min') > now() AS refreshed_by_update_only_role;
RESET ROLE;
SELECT reclock_unprotect('rq');
DROP TABLE rq;
DROP OWNED BY rq_u;
DROP ROLE rq_u;
