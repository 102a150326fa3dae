--
-- upgrade: ALTER EXTENSION reclock UPDATE from 1.0 keeps every live lock and
-- token, and leaves the same objects as a fresh CREATE EXTENSION; fences
-- never go back, also across DROP EXTENSION ... CASCADE and CREATE EXTENSION
--
\set VERBOSITY terse
\set SHOW_CONTEXT never
SELECT current_database() AS regress_db \gset
CREATE DATABASE reclock_upgrade;
\c reclock_upgrade
\i sql/include/try.sql
CREATE EXTENSION reclock VERSION '1.0';
CREATE TABLE up (id int PRIMARY KEY, v int);
CREATE TABLE up_lines (id int PRIMARY KEY, up_id int REFERENCES up, v int);
INSERT INTO up VALUES (1, 0), (2, 0), (3, 0);
SELECT reclock_protect('up');
SELECT token AS tok, fence AS fence10 FROM reclock_acquire('up', '1', 'alice', '1 hour') \gset
-- the 1.0 library kept released rows, and a new grant reusing one left the
-- hashes of the old grant's tokens behind, with no row of their fence (made
-- here by hand: this library deletes them)
SELECT token AS bob_tok FROM reclock_acquire('up', '3', 'bob', '1 hour') \gset
SELECT reclock_release(:'bob_tok');
SELECT token AS carol_tok FROM reclock_acquire('up', '3', 'carol', '1 hour') \gset
INSERT INTO reclock_token_store VALUES (sha256('left behind by 1.0'), 0);
SELECT count(*) AS orphan_tokens_before FROM reclock_token_store t
 WHERE NOT EXISTS (SELECT FROM reclock_lock_store l WHERE l.fence = t.fence);
ALTER EXTENSION reclock UPDATE TO '1.1';
-- a child table protected under 1.1: its guard names its foreign key by name only
CREATE TABLE up_notes (id int PRIMARY KEY, up_id int REFERENCES up, v int);
CREATE TRIGGER reclock_guard BEFORE INSERT OR UPDATE OR DELETE ON up_notes
  FOR EACH ROW EXECUTE FUNCTION reclock_guard_child('parent_fk=up_notes_up_id_fkey');
-- notices on under 1.1 (the row the 1.1 library's reclock_notify wrote):
-- the 1.1 guard queued them; 1.2 sends them from an AFTER trigger on the
-- table and on each child table below it, which the upgrade makes.  Before
-- the upgrade, the 1.2 library refuses to switch notices (55000), not
-- fails on the missing trigger function
SELECT try($t$SELECT reclock_notify('up_lines')$t$);
INSERT INTO reclock_notify_store VALUES ('up');
ALTER EXTENSION reclock UPDATE;
SELECT c.relname, t.tgname, t.tgenabled
  FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
 WHERE t.tgname = 'reclock_notice' ORDER BY 1;
-- 1.2 protected it again, as it was, its guard depending on its foreign key:
-- alice's lock on up 1 covers it
SELECT count(*) AS bound FROM pg_depend d JOIN pg_trigger t ON d.objid = t.oid
 WHERE d.classid = 'pg_trigger'::regclass AND t.tgrelid = 'up_notes'::regclass
   AND t.tgname = 'reclock_guard' AND d.refclassid = 'pg_constraint'::regclass
   AND d.refobjid = (SELECT oid FROM pg_constraint WHERE conname = 'up_notes_up_id_fkey');
SELECT try($t$INSERT INTO up_notes VALUES (1, 1, 0)$t$);
SELECT try($t$INSERT INTO up_notes VALUES (2, 2, 0)$t$);
-- the upgrade deletes the hashes that can never count again, and only those
SELECT count(*) AS orphan_tokens_after FROM reclock_token_store t
 WHERE NOT EXISTS (SELECT FROM reclock_lock_store l WHERE l.fence = t.fence);
SELECT reclock_valid(:'bob_tok') AS bob_valid, reclock_valid(:'carol_tok') AS carol_valid;
SELECT reclock_release(:'carol_tok');
SELECT extversion FROM pg_extension WHERE extname = 'reclock';
-- the lock is live, its token still counts, others are still refused
SELECT relation, key, holder, fence = :fence10 AS same_fence FROM reclock_locks;
SELECT reclock_valid(:'tok');
SELECT try($t$UPDATE up SET v = 1 WHERE id = 1$t$);
BEGIN;
SELECT set_config('reclock.token', :'tok', true) IS NOT NULL AS presented;
UPDATE up SET v = 2 WHERE id = 1;
COMMIT;
SELECT v FROM up WHERE id = 1;
-- 1.1's documents: a lock granted by 1.0 covers the rows of a child table
-- protected after the upgrade
SELECT reclock_protect('up_lines', parent => 'up');
SELECT try($t$INSERT INTO up_lines VALUES (1, 1, 0)$t$);
BEGIN;
SELECT set_config('reclock.token', :'tok', true) IS NOT NULL AS presented;
INSERT INTO up_lines VALUES (1, 1, 0);
COMMIT;
SELECT reclock_cas_children('up_lines', '1', '[{"id": 1, "v": 0}]');
-- the same holder re-enters the upgraded grant
SELECT acquired, fence = :fence10 AS same_fence FROM reclock_acquire('up', '1', 'alice', '1 hour');
-- a new grant after the upgrade: its fence is above the clock in microseconds
SELECT fence AS fence11 FROM reclock_acquire('up', '2', 'bob') \gset
SELECT :fence11 > :fence10 AS larger,
       :fence11 >= floor(date_part('epoch', clock_timestamp()) * 1000000) - 3600e6 AS clock_based;

-- the objects of an upgraded 1.0 and of a fresh 1.3 are the same
\i sql/include/ext_objects.sql
SELECT md5(pg_temp.ext_objects()) AS upgraded \gset
-- ... and the same indexes on the store (indexes are not members of the extension)
SELECT string_agg(indexdef, E'\n' ORDER BY indexname) AS upgraded_indexes
  FROM pg_indexes WHERE tablename LIKE 'reclock\_%' \gset
CREATE DATABASE reclock_fresh;
\c reclock_fresh
CREATE EXTENSION reclock;
\i sql/include/ext_objects.sql
SELECT md5(pg_temp.ext_objects()) = :'upgraded' AS same_objects;
SELECT string_agg(indexdef, E'\n' ORDER BY indexname) = :'upgraded_indexes' AS same_indexes,
       count(*) AS store_indexes
  FROM pg_indexes WHERE tablename LIKE 'reclock\_%';
SELECT count(*) > 10 AS described FROM regexp_split_to_table(pg_temp.ext_objects(), E'\n');

-- fences never go back: DROP EXTENSION ... CASCADE, CREATE EXTENSION
\c reclock_upgrade
DROP EXTENSION reclock CASCADE;
CREATE EXTENSION reclock;
SELECT reclock_protect('up');
SELECT fence > :fence11 AS larger_after_recreate FROM reclock_acquire('up', '1', 'carol');

-- the upgrade is never blocked by a lock that cannot be broken: a lock of
-- 1.0 (made here by hand) on a regclass key that names a dropped table;
-- from 1.0 and from 1.1 alike
DROP EXTENSION reclock CASCADE;
CREATE TABLE up_reg (k regclass PRIMARY KEY);
CREATE TABLE up_gone (id int);
INSERT INTO up_reg VALUES ('up_gone');
CREATE EXTENSION reclock VERSION '1.0';
INSERT INTO reclock_lock_store (relid, key, holder, acquired_by, fence, acquired_at, expires_at)
VALUES ('up_reg', 'public.up_gone', 'mallory', 10, nextval('reclock_fence_seq'), now(), now() + interval '1 day');
DROP TABLE up_gone;
ALTER EXTENSION reclock UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'reclock';
DROP EXTENSION reclock CASCADE;
CREATE EXTENSION reclock VERSION '1.1';
INSERT INTO reclock_lock_store (relid, key, holder, acquired_by, fence, acquired_at, expires_at)
VALUES ('up_reg', 'public.up_gone', 'mallory', 'pg_database_owner', nextval('reclock_fence_seq'), now(), now() + interval '1 day');
ALTER EXTENSION reclock UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'reclock';
-- ... and the owner can still end it
SELECT reclock_break('up_reg', 'public.up_gone');
\c :regress_db
DROP DATABASE reclock_upgrade;
DROP DATABASE reclock_fresh;
