--
-- store: acquire, refresh, release, break and takeover write the lock table's
-- heap and indexes directly (no SQL).  The heap and every index must agree
-- after all of them, including updates that cannot be HOT (a new fence) and
-- rows too large to stay inline (TOAST); an index reclock cannot maintain is
-- refused without writing anything; triggers on the store do not fire.
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

-- an index reclock cannot maintain: a new lock row is refused, nothing written
CREATE INDEX st_expr_idx ON reclock_lock_store ((length(holder)));
SELECT try('SELECT reclock_acquire(''st'', ''150'', ''alice'', ''1 min'')');
DROP INDEX st_expr_idx;
SELECT count(*) AS alice_locks FROM reclock_lock_store WHERE holder = 'alice' AND relid = 'st'::regclass;

-- triggers on the store do not fire (it is written like a catalog)
CREATE FUNCTION store_trap() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'store trigger fired'; END $$;
CREATE TRIGGER store_trap BEFORE INSERT OR UPDATE ON reclock_lock_store
  FOR EACH ROW EXECUTE FUNCTION store_trap();
SELECT acquired FROM reclock_acquire('st', '150', 'alice', '1 min');
DROP TRIGGER store_trap ON reclock_lock_store;
DROP FUNCTION store_trap();

RESET reclock.test_clock_offset;
DROP TABLE st;
DROP EXTENSION amcheck;
