--
-- review5_mark: the routed no-op statement that makes a grant or refresh
-- count as a write on the row's worker (mark_store_modified) reads no row.
-- Its WHERE named the distribution value and a predicate no row meets
-- ("column::text IS NULL"); on a multi-tenant table, whose distribution
-- column is one column of the key, the worker read every row of the tenant
-- to find none, on every acquire and refresh of an application role.  A
-- row-level security policy that reports each row it is asked about shows
-- the rows read: the acquire's own row, and no other.
--
\set SHOW_CONTEXT never
\set VERBOSITY terse
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS reclock;
RESET client_min_messages;
SET citus.shard_count = 2;
SET citus.next_shard_id = 1970000;
CREATE TABLE r5 (tenant int, id int, v text, PRIMARY KEY (tenant, id));
SELECT create_distributed_table('r5', 'tenant');
INSERT INTO r5 SELECT 1, g, 'v' || g FROM generate_series(1, 5) g;
SELECT reclock_protect('r5');
CREATE ROLE r5app LOGIN;
GRANT SELECT, UPDATE ON r5 TO r5app;
CREATE FUNCTION r5seen(t int, i int) RETURNS bool STABLE LANGUAGE plpgsql
  AS $$BEGIN RAISE WARNING 'row (%,%) read', t, i; RETURN true; END$$;
ALTER TABLE r5 ENABLE ROW LEVEL SECURITY;
CREATE POLICY r5seen ON r5 TO r5app USING (r5seen(tenant, id));
-- the mark is no statement on r5 any more (an INSERT of no row into its
-- marks store, review6_mark): none is issued; the policy sees the acquire's row only
SET citus.log_remote_commands = on;
SET citus.grep_remote_commands = '%UPDATE ONLY public.r5_%';
SET ROLE r5app;
SELECT holder FROM reclock_acquire('r5', '(1,2)', 'alice');
SELECT token AS tok FROM reclock_acquire('r5', '(1,3)', 'bob') \gset
SELECT reclock_refresh(:'tok', '5 min') > now() AS refreshed;
RESET ROLE;
-- and as reclock's owner (the store's no-op DELETE, not shown: its shard's name holds an OID)
SELECT holder FROM reclock_acquire('r5', '(1,4)', 'carol');
RESET citus.log_remote_commands;
RESET citus.grep_remote_commands;
ALTER TABLE r5 DISABLE ROW LEVEL SECURITY;
DROP POLICY r5seen ON r5;
SELECT reclock_unprotect('r5');
DROP TABLE r5;
DROP FUNCTION r5seen(int, int);
DROP OWNED BY r5app;
DROP ROLE r5app;
