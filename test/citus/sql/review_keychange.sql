--
-- review_keychange: a command that changes the text of a protected table's
-- keys (a key column's type or typmod, an enum label of a key type) would
-- lose its live locks; on one node the DDL watch refuses it (55006).  On a
-- distributed table the watch read the coordinator's lock table, which does
-- not hold the table's locks: the command went through, and a write of
-- alice's locked row passed.  A type change asks the stores beside the
-- shards (55006 while a lock is live); an ALTER TABLE that changes the key
-- of a protected distributed table is refused (0A000) whatever the locks:
-- a query of its stores inside Citus's ALTER TABLE of it reads them empty.
--
\set SHOW_CONTEXT never
\set VERBOSITY terse
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS reclock;
RESET client_min_messages;
SET citus.shard_count = 4;
SET citus.next_shard_id = 1940000;
CREATE ROLE kc_alice LOGIN;
CREATE ROLE kc_mallory LOGIN;
CREATE TYPE kc_state AS ENUM ('open', 'done');
CREATE TABLE kc (tenant int, code numeric(10,2), st kc_state, v text, PRIMARY KEY (tenant, code, st));
SELECT create_distributed_table('kc', 'tenant');
INSERT INTO kc VALUES (1, 1.5, 'open', 'a'), (1, 2.5, 'open', 'b');
GRANT SELECT, UPDATE ON kc TO kc_alice, kc_mallory;
SELECT reclock_protect('kc');
SET ROLE kc_alice;
SELECT acquired FROM reclock_acquire('kc', '(1,1.5,open)', 'alice');
RESET ROLE;

-- a key column's typmod: refused
ALTER TABLE kc ALTER COLUMN code TYPE numeric(10,3);
\echo :SQLSTATE
-- an enum label of a key column's type
ALTER TYPE kc_state RENAME VALUE 'open' TO 'opened';
\echo :SQLSTATE
SET ROLE kc_mallory;
\set VERBOSITY sqlstate
UPDATE kc SET v = 'mallory' WHERE tenant = 1 AND code = 1.5;
\set VERBOSITY terse
RESET ROLE;
SELECT * FROM kc ORDER BY code;

-- without live locks: the enum label changes, the key column's type does not
SELECT reclock_break('kc', '(1,1.5,open)') AS broken;
ALTER TYPE kc_state RENAME VALUE 'open' TO 'opened';
ALTER TABLE kc ALTER COLUMN code TYPE numeric(10,3);
\echo :SQLSTATE
SELECT * FROM kc ORDER BY code;
DROP TABLE kc;
DROP TYPE kc_state;
DROP ROLE kc_alice, kc_mallory;
