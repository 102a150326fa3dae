--
-- privileges: what a role may do through reclock is what it could do before
--
\set VERBOSITY terse
\set SHOW_CONTEXT never
\i sql/include/try.sql
CREATE ROLE regress_app;
CREATE ROLE regress_reader;
CREATE ROLE regress_tenant;
CREATE TABLE priv (id int PRIMARY KEY, tenant text, v text);
INSERT INTO priv VALUES (1, 'regress_app', 'a'), (2, 'regress_tenant', 'b');
GRANT SELECT, UPDATE ON priv TO regress_app, regress_tenant;
GRANT SELECT ON priv TO regress_reader;
SELECT reclock_protect('priv');

-- the store is closed to ordinary roles
SET ROLE regress_app;
SELECT * FROM reclock_lock_store;
SELECT * FROM reclock_token_store;
DELETE FROM reclock_lock_store;
UPDATE reclock_lock_store SET expires_at = now();
INSERT INTO reclock_token_store VALUES ('\x00', 1);
SELECT nextval('reclock_fence_seq');
SELECT setval('reclock_epoch_seq', 1);
RESET ROLE;

-- a read-only role cannot lock others out (42501)
SET ROLE regress_reader;
SELECT acquired FROM reclock_acquire('priv', '1', 'mallory');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
-- but may watch the locks of tables it can read
RESET ROLE;
SELECT token AS app_token FROM reclock_acquire('priv', '1', 'alice') \gset
SET ROLE regress_reader;
SELECT relation, key, holder FROM reclock_locks;
RESET ROLE;

-- a role that cannot read a table does not see its locks
CREATE TABLE hidden (id int PRIMARY KEY);
INSERT INTO hidden VALUES (1);
SELECT acquired FROM reclock_acquire('hidden', '1', 'alice');
SET ROLE regress_reader;
SELECT relation, key FROM reclock_locks ORDER BY 1;
SELECT acquired FROM reclock_acquire('hidden', '1', 'mallory');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
RESET ROLE;

-- column-level UPDATE privilege is enough to lock
CREATE TABLE colpriv (id int PRIMARY KEY, v text);
INSERT INTO colpriv VALUES (1, 'x');
GRANT SELECT, UPDATE (v) ON colpriv TO regress_reader;
SET ROLE regress_reader;
SELECT acquired FROM reclock_acquire('colpriv', '1', 'reader');
RESET ROLE;

-- break needs ownership
SET ROLE regress_app;
SELECT reclock_break('priv', '1');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
-- protect and unprotect need ownership
SELECT reclock_protect('priv');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT reclock_unprotect('priv');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
-- so does switching change notices
SELECT reclock_notify('priv');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT reclock_notify('priv', false);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
RESET ROLE;
SELECT reclock_notify('priv');
SELECT count(*) FROM reclock_notify_store WHERE relid = 'priv'::regclass;
SELECT reclock_notify('priv', false);
SELECT count(*) FROM reclock_notify_store WHERE relid = 'priv'::regclass;
CREATE VIEW priv_v AS SELECT * FROM priv;
SELECT reclock_notify('priv_v');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
DROP VIEW priv_v;

-- row-level security: a row the role cannot see cannot be locked (P0002)
ALTER TABLE priv ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_rows ON priv USING (tenant = current_user);
SET ROLE regress_app;
SELECT acquired FROM reclock_acquire('priv', '2', 'mallory');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT acquired, holder FROM reclock_acquire('priv', '1', 'alice');
-- cas runs with the caller's rights: an invisible row is "gone"
SELECT reclock_cas('priv', '2', '{}', '{"v": "hacked"}');
SELECT reclock_diff('priv', '2', '{"v": "b"}');
RESET ROLE;
SELECT v FROM priv WHERE id = 2;

-- cas cannot write what the role could not
SET ROLE regress_reader;
SELECT reclock_cas('colpriv', '1', '{"v": "x"}', '{"id": 2}');
SELECT reclock_cas('priv', '1', '{}', '{"v": "z"}');
-- a value differs: false, and nothing is attempted (so no privilege error)
SELECT reclock_cas('colpriv', '1', '{"v": "not x"}', '{"id": 2}');
RESET ROLE;

-- the view never shows a token, nor a hash
SELECT count(*) FROM pg_attribute
 WHERE attrelid = 'reclock_locks'::regclass AND attnum > 0
   AND (attname ~ 'token|hash' OR atttypid IN ('uuid'::regtype, 'bytea'::regtype));
-- and the store keeps only hashes: the token itself is nowhere in it
SELECT count(*) FROM reclock_token_store WHERE hash = decode(replace(:'app_token', '-', ''), 'hex');
SELECT count(*) FROM reclock_token_store WHERE hash = sha256(decode(replace(:'app_token', '-', ''), 'hex'));

-- no function is SECURITY DEFINER without a pinned search_path
SELECT p.proname FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.classid = 'pg_proc'::regclass
 WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'reclock')
   AND p.prosecdef AND NOT coalesce(array_to_string(p.proconfig, ',') LIKE '%search_path%', false);

-- an empty search_path, and look-alike functions and operators ahead of
-- pg_catalog, change nothing: every internal query is schema-qualified
ALTER TABLE priv DISABLE ROW LEVEL SECURITY;
CREATE SCHEMA evil;
CREATE FUNCTION evil.clock_timestamp() RETURNS timestamptz LANGUAGE sql AS $$SELECT 'infinity'::timestamptz$$;
CREATE FUNCTION evil.now() RETURNS timestamptz LANGUAGE sql AS $$SELECT 'infinity'::timestamptz$$;
CREATE FUNCTION evil.always(int, int) RETURNS boolean LANGUAGE sql AS 'SELECT true';
CREATE OPERATOR evil.= (LEFTARG = int, RIGHTARG = int, FUNCTION = evil.always);
CREATE FUNCTION evil.always8(bigint, bigint) RETURNS boolean LANGUAGE sql AS 'SELECT true';
CREATE OPERATOR evil.= (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = evil.always8);
CREATE FUNCTION evil.always_ts(timestamptz, timestamptz) RETURNS boolean LANGUAGE sql AS 'SELECT true';
CREATE OPERATOR evil.> (LEFTARG = timestamptz, RIGHTARG = timestamptz, FUNCTION = evil.always_ts);
SET search_path = evil, pg_catalog, public;
SELECT acquired, holder FROM public.reclock_acquire('public.priv', '2', 'bob');
SELECT acquired, holder FROM public.reclock_acquire('public.priv', '2', 'carol');
SELECT public.reclock_cas('public.priv', '2', '{"v": "not b"}', '{"v": "c"}');
SELECT relation, key, holder FROM public.reclock_locks WHERE relation = 'public.priv'::regclass ORDER BY key;
SELECT public.try($t$UPDATE public.priv SET v = 'x' WHERE id OPERATOR(pg_catalog.=) 2$t$);
SET search_path = '';
SELECT public.try($t$UPDATE public.priv SET v = 'x' WHERE id OPERATOR(pg_catalog.=) 2$t$);
SELECT acquired, holder FROM public.reclock_acquire('public.priv', '2', 'carol');
SELECT public.reclock_break('public.priv', '2');
SELECT public.reclock_sweep() >= 0 AS swept;
RESET search_path;
DROP SCHEMA evil CASCADE;

DROP TABLE priv, hidden, colpriv;
DROP ROLE regress_app, regress_reader, regress_tenant;
