--
-- key_collation: rows are found with the primary key's equality and
-- collation (issue 27).  Under a nondeterministic collation 'ABC' and 'abc'
-- are one key: one lock, whichever spelling is used to acquire, write or
-- move the row.
--
\set VERBOSITY terse
\i sql/include/try.sql
CREATE COLLATION kc_ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
CREATE TABLE kc (id text COLLATE kc_ci PRIMARY KEY, v int NOT NULL DEFAULT 0);
INSERT INTO kc VALUES ('ABC');
SELECT reclock_protect('kc');
SELECT token AS tok FROM reclock_acquire('kc', 'ABC', 'alice', '1 hour') \gset
SELECT acquired, holder FROM reclock_acquire('kc', 'abc', 'bob', '1 hour');
SELECT try('UPDATE kc SET v = 1 WHERE id = ''abc''');
-- alice moves the key to a spelling equal under the collation
BEGIN;
SELECT set_config('reclock.token', :'tok', true) IS NOT NULL AS presented;
UPDATE kc SET id = 'abc' WHERE id = 'ABC';
COMMIT;
SELECT acquired, holder FROM reclock_acquire('kc', 'ABC', 'bob', '1 hour');
SELECT acquired, holder FROM reclock_acquire('kc', 'abc', 'bob', '1 hour');
SELECT try('UPDATE kc SET v = 2 WHERE id = ''ABC''');
SELECT count(*) AS locks FROM reclock_lock_store WHERE relid = 'kc'::regclass;
SELECT reclock_valid(:'tok') AS alice_valid;
SELECT id, v FROM kc;
DROP TABLE kc;
DROP COLLATION kc_ci;
DELETE FROM reclock_lock_store;
DELETE FROM reclock_token_store;
