--
-- citus_refresh: reclock_refresh of a grant of a protected distributed
-- table's row, from the coordinator (docs/citus.md, build plan step 4): the
-- token's route is found on the coordinator (citus_routes), then one routed statement
-- extends the grant on the row's node, by the worker's clock.  A lock that
-- ran out is never revived: a refresh of a dead grant gives NULL, and a
-- refresh whose grant runs out before its transaction commits fails there
-- (the worker's clock is moved by reclock.test_clock_offset, carried to the
-- workers as a SET LOCAL with citus.propagate_set_commands = 'local').
--
\set SHOW_CONTEXT never
SET citus.shard_count = 4;
SET citus.next_shard_id = 1600000;
CREATE TABLE rf (id int PRIMARY KEY, v text);
SELECT create_distributed_table('rf', 'id');
INSERT INTO rf SELECT g, 'r' || g FROM generate_series(1, 8) g;
SELECT reclock_protect('rf');
SELECT format('%I.%I', n.nspname, 'reclock_store_' || 'rf'::regclass::oid || '_locks') AS locks
  FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'reclock' \gset
SELECT token AS tok, expires_at AS exp1 FROM reclock_acquire('rf', '1', 'alice', '1 min') \gset

-- a live grant is extended: the new expiry is returned and stored beside the row
SELECT reclock_refresh(:'tok', '10 min') AS exp2 \gset
SELECT :'exp2'::timestamptz > :'exp1'::timestamptz + interval '8 min' AS extended,
       :'exp2'::timestamptz < now() + interval '11 min' AS bounded;
SELECT expires_at = :'exp2'::timestamptz AS stored FROM :locks WHERE dist = 1 AND key = '1';
SELECT reclock_valid(:'tok') AS valid;
-- NULL ttl: reclock.default_ttl; too large: 22023
SELECT reclock_refresh(:'tok') > now() AS default_ttl;
SELECT reclock_refresh(:'tok', '2 days');
\echo :SQLSTATE
-- an unknown token, a NULL token: NULL
SELECT reclock_refresh(gen_random_uuid(), '10 min') IS NULL AS unknown,
       reclock_refresh(NULL, '10 min') IS NULL AS null_token;

-- a grant that ran out (by the worker's clock) is not revived
SELECT token AS tok2, expires_at AS exp3 FROM reclock_acquire('rf', '2', 'bob', '1 min') \gset
BEGIN;
SET LOCAL citus.propagate_set_commands = 'local';
SET LOCAL reclock.test_clock_offset = 120;
SELECT reclock_refresh(:'tok2', '10 min') IS NULL AS dead;
COMMIT;
SELECT expires_at = :'exp3'::timestamptz AS unchanged FROM :locks WHERE dist = 2 AND key = '2';

-- a refresh whose grant runs out before its transaction commits: its part
-- on the worker fails at COMMIT (40001; Citus commits the worker first and
-- passes the error back as a WARNING), the coordinator's COMMIT fails too
-- (the part counts as a modification: XX000, Citus's "could not commit
-- transaction for shard"), and the grant keeps its old expiry
BEGIN;
SET LOCAL citus.propagate_set_commands = 'local';
SELECT reclock_refresh(:'tok2', '10 min') IS NOT NULL AS refreshed;
SET LOCAL reclock.test_clock_offset = 120;
\set VERBOSITY sqlstate
COMMIT;
\set VERBOSITY default
SELECT expires_at = :'exp3'::timestamptz AS unchanged FROM :locks WHERE dist = 2 AND key = '2';
-- released: NULL
SELECT reclock_release(:'tok') AS released;
SELECT reclock_refresh(:'tok', '10 min') IS NULL AS after_release;

-- the worker side is the extension owner's only
CREATE ROLE rf_nobody;
SET ROLE rf_nobody;
SELECT reclock_citus_refresh('rf'::regclass, 1, '\x00'::bytea, 1::int8);
\echo :SQLSTATE
RESET ROLE;
DROP ROLE rf_nobody;
SELECT reclock_unprotect('rf');
DROP TABLE rf;
