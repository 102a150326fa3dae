--
-- guard: only the lock holder can change or delete a locked row
--
\set VERBOSITY terse
\set SHOW_CONTEXT never
\i sql/include/try.sql
SET reclock.test_clock_offset = 0;
CREATE TABLE acct (id int PRIMARY KEY, owner text, balance numeric);
INSERT INTO acct SELECT g, 'owner ' || g, 100 FROM generate_series(1, 6) g;
SELECT reclock_protect('acct');
-- idempotent
SELECT reclock_protect('acct');
SELECT tgname, tgtype FROM pg_trigger WHERE tgrelid = 'acct'::regclass ORDER BY tgname;

-- no lock: anyone writes
SELECT try($t$UPDATE acct SET balance = 101 WHERE id = 1$t$);

SELECT token AS alice FROM reclock_acquire('acct', '1', 'alice') \gset
SELECT token AS bob FROM reclock_acquire('acct', '2', 'bob') \gset

-- a locked row without its token: 55P03, naming the holder and the expiry
SELECT try_verbose($t$UPDATE acct SET balance = 0 WHERE id = 1$t$);
SELECT try($t$DELETE FROM acct WHERE id = 1$t$);
-- another lock's token is not this lock's token
BEGIN;
SELECT set_config('reclock.token', :'bob', true) IS NOT NULL;
SELECT try($t$UPDATE acct SET balance = 0 WHERE id = 1$t$);
ROLLBACK;

-- the holder presents the token with set_config(..., true) and writes
BEGIN;
SELECT set_config('reclock.token', :'alice', true) IS NOT NULL;
SELECT try($t$UPDATE acct SET balance = 150 WHERE id = 1$t$);
COMMIT;
-- SET LOCAL works too, and a list presents several
BEGIN;
SET LOCAL reclock.token = :'alice';
SELECT try($t$UPDATE acct SET balance = 151 WHERE id = 1$t$);
COMMIT;
BEGIN;
SELECT set_config('reclock.token', :'alice' || ', ' || :'bob', true) IS NOT NULL;
SELECT try($t$UPDATE acct SET balance = balance + 1 WHERE id IN (1, 2)$t$);
COMMIT;
SELECT id, balance FROM acct WHERE id IN (1, 2) ORDER BY id;
-- presenting other tokens later in the same transaction takes the first back
BEGIN;
SELECT set_config('reclock.token', :'alice', true) IS NOT NULL;
SELECT try($t$UPDATE acct SET balance = balance WHERE id = 1$t$);
SELECT set_config('reclock.token', '00000000-0000-4000-8000-000000000001', true) IS NOT NULL;
SELECT try($t$UPDATE acct SET balance = balance WHERE id = 1$t$);
ROLLBACK;

-- a token counts only in the transaction that set it: a session-level SET
-- made earlier is not honoured by a later transaction
SET reclock.token = :'alice';
SELECT try($t$UPDATE acct SET balance = 0 WHERE id = 1$t$);
BEGIN;
SELECT try($t$UPDATE acct SET balance = 0 WHERE id = 1$t$);
ROLLBACK;
-- ... but within the transaction that set it, it is
BEGIN;
SET reclock.token = :'alice';
SELECT try($t$UPDATE acct SET balance = 152 WHERE id = 1$t$);
COMMIT;
RESET reclock.token;
-- SET LOCAL is gone after the transaction
BEGIN;
SET LOCAL reclock.token = :'alice';
COMMIT;
SELECT try($t$UPDATE acct SET balance = 0 WHERE id = 1$t$);

-- an unlocked row of a protected table is free to write, also when a token is presented
BEGIN;
SET LOCAL reclock.token = :'alice';
SELECT try($t$UPDATE acct SET balance = 300 WHERE id = 3$t$);
COMMIT;

-- a released lock no longer guards; its token no longer helps
SELECT reclock_release(:'bob');
SELECT try($t$UPDATE acct SET balance = 200 WHERE id = 2$t$);

-- an expired lock no longer guards
SELECT token AS carol FROM reclock_acquire('acct', '4', 'carol', '1 min') \gset
SELECT try($t$UPDATE acct SET balance = 0 WHERE id = 4$t$);
SET reclock.test_clock_offset = '2 min';
SELECT try($t$UPDATE acct SET balance = 400 WHERE id = 4$t$);
-- ... and its token does not let anyone write under a new holder's lock
SELECT token AS dave FROM reclock_acquire('acct', '4', 'dave', '1 min') \gset
BEGIN;
SET LOCAL reclock.token = :'carol';
SELECT try($t$UPDATE acct SET balance = 0 WHERE id = 4$t$);
ROLLBACK;
RESET reclock.test_clock_offset;

-- a statement over many rows stops at the first locked one, and writes nothing
SELECT token AS alice FROM reclock_acquire('acct', '1', 'alice') \gset
SELECT try($t$UPDATE acct SET balance = balance + 1$t$);
SELECT id, balance FROM acct ORDER BY id;

-- TRUNCATE is refused while the table has a live lock
SELECT try($t$TRUNCATE acct$t$);
-- require_lock: every update needs a live lock with its token
CREATE TABLE strict (id int PRIMARY KEY, v text);
INSERT INTO strict VALUES (1, 'a'), (2, 'b');
SELECT reclock_protect('strict', require_lock => true);
SELECT try($t$UPDATE strict SET v = 'x' WHERE id = 1$t$);
SELECT try($t$DELETE FROM strict WHERE id = 2$t$);
SELECT token AS s1 FROM reclock_acquire('strict', '1', 'alice') \gset
BEGIN;
SET LOCAL reclock.token = :'s1';
SELECT try($t$UPDATE strict SET v = 'x' WHERE id = 1$t$);
SELECT try($t$UPDATE strict SET v = 'y' WHERE id = 2$t$);
ROLLBACK;
BEGIN;
SET LOCAL reclock.token = :'s1';
SELECT try($t$UPDATE strict SET v = 'x' WHERE id = 1$t$);
COMMIT;
-- INSERT is not guarded
INSERT INTO strict VALUES (3, 'c');
SELECT * FROM strict ORDER BY id;
-- protect again without require_lock relaxes it
SELECT reclock_protect('strict');
SELECT try($t$UPDATE strict SET v = 'z' WHERE id = 2$t$);

-- the holder changes the key: the lock moves with the row
SELECT token AS k5 FROM reclock_acquire('acct', '5', 'erin') \gset
SELECT try($t$UPDATE acct SET id = 50 WHERE id = 5$t$);
BEGIN;
SET LOCAL reclock.token = :'k5';
SELECT try($t$UPDATE acct SET id = 50 WHERE id = 5$t$);
COMMIT;
SELECT key, holder FROM reclock_locks WHERE relation = 'acct'::regclass AND holder = 'erin';
SELECT try($t$UPDATE acct SET owner = 'x' WHERE id = 50$t$);
SELECT reclock_valid(:'k5');
SELECT reclock_release(:'k5');
-- a lock outlives its row; a non-holder may not move another row onto it
SELECT token AS k6 FROM reclock_acquire('acct', '6', 'frank') \gset
BEGIN;
SET LOCAL reclock.token = :'k6';
SELECT try($t$DELETE FROM acct WHERE id = 6$t$);
COMMIT;
SELECT try($t$UPDATE acct SET id = 6 WHERE id = 3$t$);
SELECT reclock_release(:'k6');
SELECT try($t$UPDATE acct SET id = 6 WHERE id = 3$t$);
-- a holder moves her row onto another of her own live locks (its row is
-- gone), presenting both tokens: the moved row's grant stands, the other
-- ends -- never a unique violation from reclock's own tables
INSERT INTO acct VALUES (70, 'gina', 1), (80, 'gina', 1);
SELECT token AS k7, fence AS f7 FROM reclock_acquire('acct', '70', 'gina') \gset
SELECT token AS k8 FROM reclock_acquire('acct', '80', 'gina') \gset
BEGIN;
SET LOCAL reclock.token = :'k8';
DELETE FROM acct WHERE id = 80;
COMMIT;
BEGIN;
SELECT set_config('reclock.token', :'k7' || ',' || :'k8', true) IS NOT NULL AS presented;
SELECT try($t$UPDATE acct SET id = 80 WHERE id = 70$t$);
COMMIT;
SELECT key, holder, fence = :f7 AS moved_grant FROM reclock_locks
 WHERE relation = 'acct'::regclass AND holder = 'gina';
SELECT reclock_valid(:'k7') AS k7_valid, reclock_valid(:'k8') AS k8_valid;
SELECT reclock_release(:'k7');

-- unprotect removes the guard (and needs ownership)
SELECT reclock_unprotect('acct');
SELECT count(*) FROM pg_trigger WHERE tgrelid = 'acct'::regclass;
SELECT try($t$UPDATE acct SET balance = 999 WHERE id = 1$t$);
SELECT reclock_unprotect('acct');

-- the guard's fast path (a table with no live lock skips the probe) sees a
-- grant made earlier in the writer's own transaction
CREATE TABLE fast (id int PRIMARY KEY, v int);
INSERT INTO fast SELECT generate_series(1, 20), 0;
SELECT reclock_protect('fast');
BEGIN;
SELECT try($t$UPDATE fast SET v = v + 1$t$);
SELECT try($t$UPDATE fast SET v = v + 1$t$);
SELECT acquired FROM reclock_acquire('fast', '7', 'alice');
SELECT try($t$UPDATE fast SET v = v + 1$t$);
SELECT try($t$UPDATE fast SET v = v + 1 WHERE id <> 7$t$);
COMMIT;
SELECT sum(v) FROM fast;

-- the fast path compares integer keys as values (int2, int4, int8): a row
-- whose key, or new key, is live is still checked; negative and large keys
CREATE TABLE fast8 (id int8 PRIMARY KEY, v int);
INSERT INTO fast8 SELECT g, 0 FROM generate_series(-3, 3) g;
INSERT INTO fast8 VALUES (9000000000, 0);
CREATE TABLE fast2 (id int2 PRIMARY KEY, v int);
INSERT INTO fast2 SELECT g, 0 FROM generate_series(-3, 3) g;
SELECT reclock_protect('fast8'), reclock_protect('fast2');
SELECT acquired FROM reclock_acquire('fast8', '-2', 'alice');
SELECT acquired FROM reclock_acquire('fast8', '9000000000', 'alice');
SELECT acquired FROM reclock_acquire('fast2', '-2', 'alice');
-- a quiet moment, so that the guard trusts its set of live keys
SELECT try($t$UPDATE fast8 SET v = v + 1 WHERE id NOT IN (-2, 9000000000)$t$);
SELECT try($t$UPDATE fast8 SET v = v + 1 WHERE id NOT IN (-2, 9000000000)$t$);
SELECT try($t$UPDATE fast8 SET v = v + 1 WHERE id = 9000000000$t$);
SELECT try($t$UPDATE fast8 SET v = v + 1$t$);
SELECT try($t$DELETE FROM fast8 WHERE id = -2$t$);
SELECT try($t$UPDATE fast8 SET id = -2 WHERE id = 3$t$);
SELECT try($t$UPDATE fast8 SET id = 8999999999 WHERE id = 3$t$);
SELECT try($t$UPDATE fast2 SET v = v + 1 WHERE id <> -2$t$);
SELECT try($t$UPDATE fast2 SET v = v + 1 WHERE id <> -2$t$);
SELECT try($t$UPDATE fast2 SET v = v + 1$t$);
SELECT try($t$UPDATE fast2 SET id = -2 WHERE id = 1$t$);
SELECT try($t$UPDATE fast2 SET id = 10 WHERE id = 1$t$);
SELECT id, v FROM fast8 ORDER BY id;
DROP TABLE fast8, fast2;

-- the guard function refuses to be used wrongly
CREATE TABLE wrong (id int PRIMARY KEY);
CREATE TRIGGER wrong_after AFTER UPDATE ON wrong FOR EACH ROW EXECUTE FUNCTION reclock_guard();
SELECT try($t$INSERT INTO wrong VALUES (1)$t$);
SELECT try($t$UPDATE wrong SET id = 2$t$);
DROP TRIGGER wrong_after ON wrong;
CREATE TRIGGER wrong_insert BEFORE INSERT ON wrong FOR EACH ROW EXECUTE FUNCTION reclock_guard();
SELECT try($t$INSERT INTO wrong VALUES (3)$t$);
SELECT reclock_guard();
