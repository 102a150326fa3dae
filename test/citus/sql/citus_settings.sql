--
-- citus_settings: the lock functions of a protected distributed table find
-- the row the caller named, whatever the session's settings.  Through
-- Citus, a key or distribution value goes to the row's worker as text
-- printed under the coordinator session's settings and is read there under
-- the worker's: under DateStyle 'SQL, DMY' the key 03/04/2026 (3 April) is
-- printed 03/04/2026 and read there as 4 March.  With one shard both rows
-- live on one node, so a wrong reading would lock, extend, release or
-- break the other row's lock.
--
\set SHOW_CONTEXT never
SET citus.shard_count = 1;
SET citus.next_shard_id = 1700000;
CREATE TABLE ck (d date PRIMARY KEY, v text);
SELECT create_distributed_table('ck', 'd');
INSERT INTO ck VALUES ('2026-04-03', 'april'), ('2026-03-04', 'march');
SELECT reclock_protect('ck');

SET DateStyle = 'SQL, DMY';
SELECT token AS tok FROM reclock_acquire('ck', '03/04/2026', 'alice') \gset
SELECT reclock_valid(:'tok') AS valid;
SELECT reclock_refresh(:'tok', '10 min') > now() + interval '9 min' AS refreshed;
RESET DateStyle;
-- 3 April is locked, 4 March is not
\set VERBOSITY sqlstate
UPDATE ck SET v = 'x' WHERE d = '2026-04-03';
\set VERBOSITY default
UPDATE ck SET v = 'free' WHERE d = '2026-03-04';
SET DateStyle = 'SQL, DMY';
SELECT reclock_release(:'tok') AS released;
RESET DateStyle;
UPDATE ck SET v = 'released' WHERE d = '2026-04-03';
-- break
SET DateStyle = 'SQL, DMY';
SELECT acquired FROM reclock_acquire('ck', '03/04/2026', 'alice');
SELECT reclock_break('ck', '03/04/2026') AS broken;
RESET DateStyle;
UPDATE ck SET v = 'broken' WHERE d = '2026-04-03';
SELECT * FROM ck ORDER BY d;

SELECT reclock_unprotect('ck');
DROP TABLE ck;
