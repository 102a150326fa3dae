--
-- citus_carry: the tokens a coordinator transaction presents reach the
-- guard on the row's worker (docs/citus.md, build plan step 5).  reclock
-- carries its own honoured value of reclock.token as a SET LOCAL that Citus
-- sends to the transaction's worker connections.  Every route of the
-- contract's token list passes: set_config(..., true) with a bind
-- parameter, SET LOCAL, a function called in autocommit, a token presented
-- after the connections were opened, router and multi-shard UPDATE and
-- DELETE, ON CONFLICT, MERGE, COPY.  Every value reclock does not honour
-- is not carried, and the write is refused (55P03): a session SET of an
-- earlier transaction, ALTER ROLE ... SET, connection options, a function's
-- SET clause, a savepoint rolled back, a token cleared mid-transaction, the
-- next transaction of the session.  The caller's
-- citus.propagate_set_commands and the coordinator's own reclock.token are
-- left as they were.
--
\set SHOW_CONTEXT never
SET citus.shard_count = 4;
SET citus.next_shard_id = 1500000;
CREATE TABLE cy (id int PRIMARY KEY, v text);
SELECT create_distributed_table('cy', 'id');
INSERT INTO cy SELECT g, 'v' || g FROM generate_series(1, 8) g;
CREATE TABLE cysrc (id int PRIMARY KEY, v text);
SELECT create_distributed_table('cysrc', 'id', colocate_with => 'cy');
INSERT INTO cysrc SELECT g, 'src' || g FROM generate_series(1, 8) g;
SELECT reclock_protect('cy');
-- rows 1 and 2 locked by alice, on the two workers
SELECT count(DISTINCT nodeport) AS workers
  FROM pg_dist_shard_placement
 WHERE shardid IN (get_shard_id_for_distribution_column('cy', 1),
                   get_shard_id_for_distribution_column('cy', 2));
SELECT token AS tok1 FROM reclock_acquire('cy', '1', 'alice') \gset
SELECT token AS tok2 FROM reclock_acquire('cy', '2', 'alice') \gset
SELECT :'tok1' || ',' || :'tok2' AS both \gset

-- without a token: refused on the worker
\set VERBOSITY sqlstate
UPDATE cy SET v = 'none' WHERE id = 1;
\set VERBOSITY default

-- set_config(..., true) with the token as a bind parameter (the
-- contract's first way), router UPDATE and DELETE
BEGIN;
SELECT set_config('reclock.token', $1, true) IS NOT NULL AS presented \bind :tok1 \g
UPDATE cy SET v = 'bind' WHERE id = 1;
DELETE FROM cy WHERE id = 1;
ROLLBACK;
-- SET LOCAL
BEGIN;
SET LOCAL reclock.token = :'tok1';
UPDATE cy SET v = 'set local' WHERE id = 1;
COMMIT;
SELECT v FROM cy WHERE id = 1;
-- presented after the transaction opened its worker connections
BEGIN;
SELECT count(*) FROM cy;
SELECT set_config('reclock.token', $1, true) IS NOT NULL AS presented \bind :tok1 \g
UPDATE cy SET v = 'late' WHERE id = 1;
COMMIT;
SELECT v FROM cy WHERE id = 1;
-- a second token presented later in the same transaction
BEGIN;
SET LOCAL reclock.token = :'tok1';
UPDATE cy SET v = 'first' WHERE id = 1;
SET LOCAL reclock.token = :'tok2';
UPDATE cy SET v = 'second' WHERE id = 2;
\set VERBOSITY sqlstate
UPDATE cy SET v = 'first again' WHERE id = 1;
\set VERBOSITY default
ROLLBACK;
-- multi-shard UPDATE and DELETE, both rows' tokens
BEGIN;
SET LOCAL reclock.token = :'both';
UPDATE cy SET v = v || '+' WHERE id IN (1, 2);
SELECT id, v FROM cy WHERE id IN (1, 2) ORDER BY id;
DELETE FROM cy WHERE id IN (1, 2);
SELECT count(*) FROM cy WHERE id IN (1, 2);
ROLLBACK;
-- INSERT ... ON CONFLICT DO UPDATE, MERGE
BEGIN;
SET LOCAL reclock.token = :'tok1';
INSERT INTO cy VALUES (1, 'upsert') ON CONFLICT (id) DO UPDATE SET v = excluded.v;
MERGE INTO cy USING cysrc ON cy.id = cysrc.id AND cysrc.id = 1
  WHEN MATCHED THEN UPDATE SET v = cysrc.v;
SELECT v FROM cy WHERE id = 1;
ROLLBACK;
-- inside a PL/pgSQL function called in autocommit
CREATE FUNCTION cy_save(tok text, k int, val text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  PERFORM set_config('reclock.token', tok, true);
  UPDATE cy SET v = val WHERE id = k;
  RETURN (SELECT v FROM cy WHERE id = k);
END $$;
SELECT cy_save(:'tok1', 1, 'function');
\set VERBOSITY sqlstate
SELECT cy_save(:'tok1', 2, 'other row');
\set VERBOSITY default
-- in a DO block and in a procedure (autocommit)
SELECT set_config('cy.tok', :'tok1', false) IS NOT NULL AS kept;
DO $$BEGIN
  PERFORM set_config('reclock.token', current_setting('cy.tok'), true);
  UPDATE cy SET v = 'do block' WHERE id = 1;
END$$;
CREATE PROCEDURE cy_proc(tok text) LANGUAGE plpgsql AS $$
BEGIN
  PERFORM set_config('reclock.token', tok, true);
  UPDATE cy SET v = 'procedure' WHERE id = 1;
END $$;
CALL cy_proc(:'tok1');
SELECT v FROM cy WHERE id = 1;

-- COPY FROM: Citus opens its connections before any executor runs.  COPY
-- only inserts (no guard fires), so a trigger on the worker shows what
-- arrived there: the carried token, honoured in that transaction.
CREATE TABLE cyc (id int, v text);
SELECT create_distributed_table('cyc', 'id', colocate_with => 'cy');
CREATE FUNCTION cy_seen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'token on the worker: %', current_setting('reclock.token') <> '';
END $$;
SET citus.enable_unsafe_triggers = on;
CREATE TRIGGER cy_seen BEFORE INSERT ON cyc FOR EACH ROW EXECUTE FUNCTION cy_seen();
RESET citus.enable_unsafe_triggers;
BEGIN;
SET LOCAL reclock.token = :'tok1';
COPY cyc FROM stdin;
1	copied
\.
ROLLBACK;
BEGIN;
COPY cyc FROM stdin;
1	copied
\.
ROLLBACK;

-- not honoured, so not carried: refused
\set VERBOSITY sqlstate
-- a session SET of an earlier transaction (the next client of a pooled
-- connection), in autocommit and in a transaction block
SET reclock.token = :'tok1';
UPDATE cy SET v = 'session' WHERE id = 1;
BEGIN;
UPDATE cy SET v = 'session' WHERE id = 1;
ROLLBACK;
-- a savepoint rolled back; the coordinator's own value (the session's, as
-- a superuser sees it) is left as it was by the carry
BEGIN;
SAVEPOINT s;
SET LOCAL reclock.token = :'tok2';
UPDATE cy SET v = 'in savepoint' WHERE id = 2;
ROLLBACK TO s;
UPDATE cy SET v = 'after savepoint' WHERE id = 2;
ROLLBACK;
BEGIN;
SET LOCAL reclock.token = :'tok2';
UPDATE cy SET v = 'tok2' WHERE id = 2;
SAVEPOINT s;
SET LOCAL reclock.token = '';
UPDATE cy SET v = 'cleared in savepoint' WHERE id = 2;
ROLLBACK TO s;
UPDATE cy SET v = 'tok2 again' WHERE id = 2;
SELECT v FROM cy WHERE id = 2;
ROLLBACK;
BEGIN;
SAVEPOINT s;
SET LOCAL reclock.token = :'tok2';
UPDATE cy SET v = 'in savepoint' WHERE id = 2;
ROLLBACK TO s;
UPDATE cy SET v = 'x' WHERE id = 3;
SELECT current_setting('reclock.token') = :'tok1' AS coordinator_value_kept;
ROLLBACK;
RESET reclock.token;
-- a token cleared mid-transaction (set_config to '')
BEGIN;
SET LOCAL reclock.token = :'tok1';
UPDATE cy SET v = 'before clear' WHERE id = 1;
SELECT set_config('reclock.token', '', true);
UPDATE cy SET v = 'after clear' WHERE id = 1;
ROLLBACK;
-- a function's SET clause (also one overriding a presented token; the
-- presented one counts again after the function returns)
SELECT format('CREATE FUNCTION cy_setclause(k int) RETURNS void LANGUAGE plpgsql SET reclock.token = %L AS $f$BEGIN UPDATE cy SET v = %L WHERE id = k; END$f$',
              :'tok1', 'set clause') AS ddl \gset
:ddl;
SELECT cy_setclause(1);
BEGIN;
SET LOCAL reclock.token = :'tok1';
UPDATE cy SET v = 'presented' WHERE id = 1;
SELECT cy_setclause(1);
ROLLBACK;
BEGIN;
SET LOCAL reclock.token = :'tok1';
UPDATE cy SET v = 'presented' WHERE id = 1;
SAVEPOINT s;
SELECT cy_setclause(1);
ROLLBACK TO s;
UPDATE cy SET v = 'presented again' WHERE id = 1;
SELECT v FROM cy WHERE id = 1;
ROLLBACK;
-- the next transaction of the session, over the same worker connection
BEGIN;
SET LOCAL reclock.token = :'tok1';
UPDATE cy SET v = 'committed' WHERE id = 1;
COMMIT;
UPDATE cy SET v = 'next transaction' WHERE id = 1;
BEGIN;
UPDATE cy SET v = 'next transaction' WHERE id = 1;
ROLLBACK;
-- a role's default (ALTER ROLE ... SET)
CREATE ROLE cy_app LOGIN;
GRANT SELECT, UPDATE ON cy TO cy_app;
SELECT format('ALTER ROLE cy_app SET reclock.token = %L', :'tok1') AS ddl \gset
:ddl;
\c - cy_app
\set VERBOSITY sqlstate
UPDATE cy SET v = 'role default' WHERE id = 1;
BEGIN;
UPDATE cy SET v = 'role default' WHERE id = 1;
ROLLBACK;
\c - postgres
ALTER ROLE cy_app RESET reclock.token;
-- a connection option (PGOPTIONS, -c)
\setenv PGOPTIONS -creclock.token=:tok1
\c
\set VERBOSITY sqlstate
UPDATE cy SET v = 'connection option' WHERE id = 1;
BEGIN;
UPDATE cy SET v = 'connection option' WHERE id = 1;
ROLLBACK;
\setenv PGOPTIONS
\c
\set VERBOSITY default
\set SHOW_CONTEXT never
SELECT v FROM cy WHERE id IN (1, 2) ORDER BY id;

-- the caller's citus.propagate_set_commands is left alone
BEGIN;
SET LOCAL reclock.token = :'tok1';
UPDATE cy SET v = 'kept' WHERE id = 1;
SHOW citus.propagate_set_commands;
SET LOCAL citus.propagate_set_commands = 'local';
SET LOCAL reclock.token = :'tok2';
UPDATE cy SET v = 'kept' WHERE id = 2;
SHOW citus.propagate_set_commands;
ROLLBACK;

-- no protected distributed table left: nothing is carried (the COPY's
-- trigger sees no token on the worker)
SELECT reclock_unprotect('cy');
SELECT count(*) AS protected FROM reclock_citus_tables;
BEGIN;
SET LOCAL reclock.token = :'tok1';
COPY cyc FROM stdin;
1	copied
\.
ROLLBACK;
DROP TABLE cyc;
DROP FUNCTION cy_seen(), cy_save(text, int, text), cy_setclause(int);
DROP PROCEDURE cy_proc(text);
DROP TABLE cy, cysrc;
DROP ROLE cy_app;
