--
-- reentry: with reclock.reentry = token (set by a superuser, for example
-- ALTER ROLE app SET reclock.reentry = token), the same holder re-enters a
-- live grant only by presenting one of its tokens
--
\set VERBOSITY terse
CREATE TABLE re (id int PRIMARY KEY);
INSERT INTO re VALUES (1), (2);
SHOW reclock.reentry;
SELECT token AS t1, fence AS f1 FROM reclock_acquire('re', '1', 'alice', '1 hour') \gset
-- by default the same holder and role re-enter
SELECT acquired, fence = :f1 AS same_grant FROM reclock_acquire('re', '1', 'alice', '1 hour');
SET reclock.reentry = token;
-- a second tab that only knows the user id is told the row is locked
SELECT acquired, token IS NULL AS no_token, holder, fence = :f1 AS blocking_fence
  FROM reclock_acquire('re', '1', 'alice', '1 hour');
-- presenting a token of the live grant re-enters it (a fresh token, same grant)
BEGIN;
SELECT set_config('reclock.token', :'t1', true) IS NOT NULL AS presented;
SELECT acquired, token <> :'t1' AS fresh_token, fence = :f1 AS same_grant
  FROM reclock_acquire('re', '1', 'alice', '1 hour');
COMMIT;
-- a token of another grant does not
SELECT token AS t2 FROM reclock_acquire('re', '2', 'alice', '1 hour') \gset
BEGIN;
SELECT set_config('reclock.token', :'t2', true) IS NOT NULL AS presented;
SELECT acquired FROM reclock_acquire('re', '1', 'alice', '1 hour');
COMMIT;
-- an ordinary role cannot relax it for itself
CREATE ROLE re_app;
SET ROLE re_app;
SET reclock.reentry = holder;
RESET ROLE;
RESET reclock.reentry;
SELECT reclock_release(:'t1'), reclock_release(:'t2');
DROP ROLE re_app;
DROP TABLE re;
