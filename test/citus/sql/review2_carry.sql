--
-- review2_carry: the carry against what the caller's own SET commands
-- leave on the workers (rev2's review of step 5).  With
-- citus.propagate_set_commands = local, Citus sends the caller's SET LOCAL
-- reclock.token on to the workers itself, where it is honoured even when
-- the coordinator does not honour it (set inside a function with a SET
-- clause of the token) or no longer does (cleared by a SET Citus did not
-- send).  The carry then carries the honoured value over it at once: the
-- write is refused (55P03), as on one node.  So is a write whose own
-- functions, evaluated on the coordinator, clear the token.  Also: errors caught in a
-- PL/pgSQL block, a cursor fetched after the token was cleared, a prepared
-- statement across transactions, RESET ALL, a SECURITY DEFINER function;
-- a failed carry keeps the token's text out of the coordinator's log.
--
\set SHOW_CONTEXT never
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS reclock;
RESET client_min_messages;
SET citus.shard_count = 4;
SET citus.next_shard_id = 1700000;
CREATE TABLE r2 (id int PRIMARY KEY, v text);
SELECT create_distributed_table('r2', 'id');
INSERT INTO r2 SELECT g, 'v' || g FROM generate_series(1, 8) g;
SELECT reclock_protect('r2');
SELECT token AS tok1 FROM reclock_acquire('r2', '1', 'alice') \gset
\set VERBOSITY sqlstate

-- the caller's SET LOCAL, sent on by Citus, then cleared by a SET it does
-- not send: refused
BEGIN;
SET LOCAL citus.propagate_set_commands = local;
SET LOCAL reclock.token = :'tok1';
SET LOCAL citus.propagate_set_commands = none;
SET LOCAL reclock.token = '';
UPDATE r2 SET v = 'cleared' WHERE id = 1;
ROLLBACK;
-- the same with the worker connections opened first
BEGIN;
SELECT count(*) FROM r2;
SET LOCAL citus.propagate_set_commands = local;
SET LOCAL reclock.token = :'tok1';
SET LOCAL citus.propagate_set_commands = none;
RESET reclock.token;
UPDATE r2 SET v = 'reset' WHERE id = 1;
ROLLBACK;
-- a SET LOCAL inside a function with a SET clause of the token is not
-- honoured (on one node neither), also when Citus sends it on
CREATE FUNCTION r2_sl(tok text) RETURNS text LANGUAGE plpgsql SET reclock.token = '' AS $f$
BEGIN
  EXECUTE format('SET LOCAL reclock.token = %L', tok);
  UPDATE r2 SET v = 'set clause' WHERE id = 1;
  RETURN 'written';
END $f$;
BEGIN;
SELECT r2_sl(:'tok1');
ROLLBACK;
BEGIN;
SET LOCAL citus.propagate_set_commands = local;
SELECT r2_sl(:'tok1');
ROLLBACK;
-- the caller's SET LOCAL sent on and honoured passes, and the caller's
-- setting is as it was
BEGIN;
SET LOCAL citus.propagate_set_commands = local;
SET LOCAL reclock.token = :'tok1';
UPDATE r2 SET v = 'propagated' WHERE id = 1;
SHOW citus.propagate_set_commands;
RESET ALL;
UPDATE r2 SET v = 'after reset all' WHERE id = 1;
ROLLBACK;

-- the token cleared by a function Citus evaluates on the coordinator in
-- the write itself (a router INSERT ... ON CONFLICT DO UPDATE): refused,
-- as on one node, where the guard fires after the VALUES were evaluated
CREATE FUNCTION r2_clear() RETURNS text LANGUAGE plpgsql AS $f$
BEGIN PERFORM set_config('reclock.token', '', true); RETURN 'cleared in statement'; END $f$;
BEGIN;
SET LOCAL reclock.token = :'tok1';
INSERT INTO r2 VALUES (1, r2_clear()) ON CONFLICT (id) DO UPDATE SET v = excluded.v;
ROLLBACK;
-- ... or in a subquery Citus runs before the write (INSERT ... SELECT
-- through the coordinator, a CTE, a subquery in WHERE)
CREATE TABLE r2local (id int);
INSERT INTO r2local VALUES (1);
BEGIN;
SET LOCAL reclock.token = :'tok1';
INSERT INTO r2 SELECT id, r2_clear() FROM r2local ON CONFLICT (id) DO UPDATE SET v = excluded.v;
ROLLBACK;
BEGIN;
SET LOCAL reclock.token = :'tok1';
WITH c AS (SELECT r2_clear() AS x) UPDATE r2 SET v = (SELECT x FROM c) WHERE id = 1;
ROLLBACK;
BEGIN;
SET LOCAL reclock.token = :'tok1';
UPDATE r2 SET v = 'subquery' WHERE id = (SELECT 1 FROM (SELECT r2_clear()) s);
ROLLBACK;
DROP TABLE r2local;
BEGIN;
SET LOCAL reclock.token = :'tok1';
INSERT INTO r2 VALUES (1, 'kept') ON CONFLICT (id) DO UPDATE SET v = excluded.v;
SELECT v FROM r2 WHERE id = 1;
ROLLBACK;

-- a carry inside a PL/pgSQL block whose error is caught: the write after
-- the block is refused
BEGIN;
SELECT set_config('r2.tok', :'tok1', true) IS NOT NULL AS kept;
DO $$BEGIN
  BEGIN
    PERFORM set_config('reclock.token', current_setting('r2.tok'), true);
    UPDATE r2 SET v = 'in block' WHERE id = 1;
    RAISE EXCEPTION 'boom';
  EXCEPTION WHEN others THEN NULL;
  END;
  UPDATE r2 SET v = 'after block' WHERE id = 1;
END$$;
ROLLBACK;
-- a cursor whose rows write, fetched after the token was cleared
CREATE FUNCTION r2_w(k int) RETURNS text LANGUAGE plpgsql AS $f$
BEGIN UPDATE r2 SET v = 'cursor' WHERE id = k; RETURN 'written'; END $f$;
BEGIN;
SET LOCAL reclock.token = :'tok1';
DECLARE c CURSOR FOR SELECT r2_w(1) FROM generate_series(1, 2);
FETCH 1 FROM c;
SELECT set_config('reclock.token', '', true);
FETCH 1 FROM c;
ROLLBACK;
-- a prepared statement in the next transaction
PREPARE r2p AS UPDATE r2 SET v = 'prepared' WHERE id = 1;
BEGIN;
SET LOCAL reclock.token = :'tok1';
EXECUTE r2p;
COMMIT;
EXECUTE r2p;
BEGIN;
EXECUTE r2p;
ROLLBACK;
DEALLOCATE r2p;
-- a SECURITY DEFINER function writes with the caller's presented token,
-- as on one node (its connections are opened as its owner)
CREATE ROLE r2_owner LOGIN;
GRANT SELECT, UPDATE ON r2 TO r2_owner;
GRANT USAGE ON SCHEMA public TO r2_owner;
CREATE FUNCTION r2_def(k int) RETURNS text LANGUAGE plpgsql SECURITY DEFINER AS $f$
BEGIN UPDATE r2 SET v = 'definer ' || current_user WHERE id = k; RETURN 'written'; END $f$;
ALTER FUNCTION r2_def(int) OWNER TO r2_owner;
SELECT r2_def(1);
BEGIN;
SET LOCAL reclock.token = :'tok1';
SELECT r2_def(1);
ROLLBACK;

-- the carry fails (the transaction's worker connections were lost): the
-- error, and Citus's warning before it, quote the SET LOCAL in their
-- context, never with the token's text in the coordinator's log
SELECT token AS tok2 FROM reclock_acquire('r2', '2', 'alice') \gset
BEGIN;
SELECT count(*) FROM r2;
SELECT run_command_on_workers($$SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE state = 'idle in transaction' AND pid <> pg_backend_pid()$$) IS NOT NULL AS lost;
SELECT set_config('reclock.token', $1, true) IS NOT NULL AS presented \bind :tok2 \g
UPDATE r2 SET v = 'lost' WHERE id = 2;
ROLLBACK;
SELECT pg_read_file(current_setting('data_directory') || '/../coordinator.log') AS log \gset
SELECT position(:'tok2' in :'log') = 0 AS token_not_in_log,
       position($$SET LOCAL reclock.token = '...'$$ in :'log') > 0 AS carry_in_log;
\unset log
\set VERBOSITY default

DROP FUNCTION r2_sl(text), r2_w(int), r2_def(int), r2_clear();
SELECT reclock_unprotect('r2');
DROP TABLE r2;
REVOKE USAGE ON SCHEMA public FROM r2_owner;
DROP ROLE r2_owner;
