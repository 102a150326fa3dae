--
-- store: acquire, refresh, release, break and takeover write the lock table
-- through the executor's simple-relation path (no SQL).  The heap and every
-- index must agree after all of them, including updates that cannot be HOT
-- (a new fence) and rows too large to stay inline (TOAST); expression and
-- partial indexes are maintained; a trigger on the store is refused
-- without writing anything.
--
\set VERBOSITY terse
\i sql/include/try.sql
CREATE EXTENSION amcheck;
CREATE TABLE st (id int PRIMARY KEY, v int NOT NULL DEFAULT 0);
INSERT INTO st SELECT g FROM generate_series(1, 200) g;
SET reclock.test_clock_offset = 0;

-- a DBA's plain index on the store is maintained too
CREATE INDEX st_expires_idx ON reclock_lock_store (expires_at);

-- new grants, extensions (HOT), releases, refreshes
CREATE TEMP TABLE toks AS
  SELECT g AS id, (reclock_acquire('st', g::text, 'h' || (g % 7), '1 min')).token
    FROM generate_series(1, 200) g;
SELECT count(*) FILTER (WHERE reclock_release(token)) AS released
  FROM toks WHERE id % 3 = 0;
SELECT count(*) FILTER (WHERE reclock_refresh(token, '2 min') IS NOT NULL) AS refreshed
  FROM toks WHERE id % 3 = 1;
SELECT count(*) FILTER (WHERE (reclock_acquire('st', id::text, 'h' || (id % 7), '3 min')).acquired) AS extended
  FROM toks WHERE id % 3 = 2;
-- takeovers of released and of expired locks: new fences, so not HOT
SELECT count(*) FILTER (WHERE (reclock_acquire('st', id::text, 'other', '1 min')).acquired) AS taken_over
  FROM toks WHERE id % 3 = 0;
SET reclock.test_clock_offset = '150s';
SELECT count(*) FILTER (WHERE (reclock_acquire('st', id::text, 'late', '1 min')).acquired) AS taken_over_expired
  FROM toks WHERE id % 3 = 1;
SELECT count(*) FILTER (WHERE reclock_break('st', id::text)) AS broken
  FROM toks WHERE id % 3 = 2;
-- holders that need TOAST (stored out of line: hex digits of hashes do not
-- compress enough), a release, and a takeover
SELECT string_agg(md5(g::text), '') AS bigholder FROM generate_series(1, 3000) g \gset
SELECT token AS big FROM reclock_acquire('st', '3', :'bigholder', '1 min') \gset
SELECT reclock_release(:'big');
SELECT acquired, length(holder) FROM reclock_acquire('st', '3', 'y' || :'bigholder', '1 min');
SELECT length(holder), holder = 'y' || :'bigholder' AS intact FROM reclock_locks
 WHERE relation = 'st'::regclass AND key = '3';

-- every heap tuple has its entry in every index, and the indexes are sound
SELECT c.relname, coalesce(bt_index_check(c.oid, true)::text, '') = '' AS ok
  FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
 WHERE i.indrelid IN ('reclock_lock_store'::regclass, 'reclock_token_store'::regclass)
 ORDER BY 1;
-- what the indexes find is what the heap holds
SET enable_seqscan = off;
SET enable_bitmapscan = off;
SELECT count(*) AS live_by_index FROM reclock_lock_store
 WHERE expires_at > reclock_clock() AND relid = 'st'::regclass;
RESET enable_seqscan;
RESET enable_bitmapscan;
SELECT count(*) AS live_by_heap FROM reclock_lock_store
 WHERE expires_at + '0 s' > reclock_clock() AND relid = 'st'::regclass;
SELECT count(*) AS live_in_view FROM reclock_locks WHERE relation = 'st'::regclass;
DROP INDEX st_expires_idx;

-- expression and partial indexes are maintained too (this was refused when
-- reclock wrote the heap and its indexes itself)
INSERT INTO st SELECT g FROM generate_series(201, 210) g;
CREATE INDEX st_expr_idx ON reclock_lock_store ((length(holder)));
CREATE INDEX st_part_idx ON reclock_lock_store (fence) WHERE holder = 'alice';
SELECT token AS alice FROM reclock_acquire('st', '201', 'alice', '1 min') \gset
SELECT reclock_refresh(:'alice', '2 min') IS NOT NULL AS refreshed;
SELECT acquired FROM reclock_acquire('st', '202', 'alice', '1 min');
SET enable_seqscan = off;
SET enable_bitmapscan = off;
SELECT key FROM reclock_lock_store
 WHERE holder = 'alice' AND fence > 0 AND relid = 'st'::regclass ORDER BY key;
SELECT count(*) AS by_expr FROM reclock_lock_store
 WHERE length(holder) = 5 AND relid = 'st'::regclass AND holder = 'alice';
RESET enable_seqscan;
RESET enable_bitmapscan;
SELECT reclock_release(:'alice');
SELECT reclock_break('st', '202');
SELECT c.relname, coalesce(bt_index_check(c.oid, true)::text, '') = '' AS ok
  FROM pg_class c WHERE c.relname IN ('st_expr_idx', 'st_part_idx') ORDER BY 1;
DROP INDEX st_expr_idx;
DROP INDEX st_part_idx;

-- a trigger on the store is refused clearly, nothing written: a BEFORE ROW
-- trigger could change or skip what reclock writes, and an AFTER trigger
-- would run as the store's owner, also in the deletes made at COMMIT, where
-- no statement's snapshot is active and deferred triggers have fired
CREATE TABLE store_audit (op text, key text);
CREATE FUNCTION store_audit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO store_audit
    VALUES (TG_OP, CASE WHEN TG_OP = 'DELETE' THEN OLD.key ELSE NEW.key END);
  RETURN NULL;
END $$;
CREATE TRIGGER store_audit AFTER INSERT OR UPDATE OR DELETE ON reclock_lock_store
  FOR EACH ROW EXECUTE FUNCTION store_audit();
SELECT try_verbose('SELECT reclock_acquire(''st'', ''203'', ''bob'', ''1 min'')');
DROP TRIGGER store_audit ON reclock_lock_store;
CREATE TRIGGER store_audit AFTER DELETE ON reclock_token_store
  FOR EACH STATEMENT EXECUTE FUNCTION store_audit();
SELECT try('SELECT reclock_acquire(''st'', ''203'', ''bob'', ''1 min'')');
DROP TRIGGER store_audit ON reclock_token_store;
CREATE FUNCTION store_trap() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RETURN NULL; END $$;
CREATE TRIGGER store_trap BEFORE INSERT OR UPDATE ON reclock_lock_store
  FOR EACH ROW EXECUTE FUNCTION store_trap();
SELECT try('SELECT reclock_acquire(''st'', ''204'', ''carol'', ''1 min'')');
SELECT count(*) AS audited FROM store_audit;
SELECT count(*) AS bob_or_carol_locks FROM reclock_lock_store
 WHERE holder IN ('bob', 'carol') AND relid = 'st'::regclass;
DROP TRIGGER store_trap ON reclock_lock_store;
DROP FUNCTION store_trap();
DROP FUNCTION store_audit();
DROP TABLE store_audit;
SELECT acquired FROM reclock_acquire('st', '204', 'carol', '1 min');

RESET reclock.test_clock_offset;
DROP TABLE st;
DROP EXTENSION amcheck;
