--
-- acquire, valid, refresh, release, sweep: the normal paths
--
\set VERBOSITY terse
SET reclock.test_clock_offset = 0;

CREATE TABLE orders (id int PRIMARY KEY, item text, qty int);
INSERT INTO orders SELECT g, 'item ' || g, g FROM generate_series(1, 10) g;

-- a free row: granted, with a token, a fence and an expiry ttl ahead
SELECT acquired, token IS NOT NULL AS has_token, holder,
       expires_at - reclock_clock() BETWEEN '4 min 59 s' AND '5 min' AS default_ttl,
       fence > 0 AS fenced
  FROM reclock_acquire('orders', '1', 'alice');
SELECT token AS alice_token, fence AS alice_fence
  FROM reclock_acquire('orders', '1', 'alice', '1 min') \gset

-- the same holder again: the same grant (same fence), extended, a fresh token
SELECT acquired, token <> :'alice_token' AS fresh_token, holder, fence = :alice_fence AS same_fence,
       expires_at - reclock_clock() BETWEEN '9 min 59 s' AND '10 min' AS extended
  FROM reclock_acquire('orders', '1', 'alice', '10 min');
-- the earlier token stays valid
SELECT reclock_valid(:'alice_token');

-- another holder: refused, told who holds it, until when, and the fence
SELECT acquired, token IS NULL AS no_token, holder, fence = :alice_fence AS blocking_fence,
       expires_at > reclock_clock() AS live
  FROM reclock_acquire('orders', '1', 'bob');

-- the view: one row per live lock, no token column
SELECT relation, key, holder, fence = :alice_fence AS fence, acquired_by = current_user AS by_me,
       acquired_at <= expires_at AS ordered
  FROM reclock_locks;
SELECT attname FROM pg_attribute WHERE attrelid = 'reclock_locks'::regclass AND attnum > 0 ORDER BY attnum;

-- refresh: extends a live lock and returns the new expiry
SELECT reclock_refresh(:'alice_token', '20 min') - reclock_clock() BETWEEN '19 min 59 s' AND '20 min' AS refreshed;
SELECT expires_at - reclock_clock() BETWEEN '19 min 59 s' AND '20 min' AS view_agrees FROM reclock_locks WHERE key = '1';
-- refresh with NULL ttl uses reclock.default_ttl
SET reclock.default_ttl = '2min';
SELECT reclock_refresh(:'alice_token') - reclock_clock() BETWEEN '1 min 59 s' AND '2 min' AS default_refresh;
RESET reclock.default_ttl;

-- release: true once, then false; the token is dead and the row is free
SELECT reclock_release(:'alice_token');
SELECT reclock_release(:'alice_token');
SELECT reclock_valid(:'alice_token');
SELECT reclock_refresh(:'alice_token') IS NULL AS refresh_dead;
SELECT count(*) FROM reclock_locks;

-- a new grant after the release gets a larger fence
SELECT acquired, holder, fence > :alice_fence AS larger_fence FROM reclock_acquire('orders', '1', 'bob');

-- NULL token: valid is NULL, refresh NULL, release NULL (strict)
SELECT reclock_valid(NULL), reclock_refresh(NULL), reclock_release(NULL);
-- a token that was never handed out
SELECT reclock_valid('00000000-0000-4000-8000-000000000000'),
       reclock_refresh('00000000-0000-4000-8000-000000000000'),
       reclock_release('00000000-0000-4000-8000-000000000000');

-- tokens are random version 4 uuids, never repeated
SELECT count(DISTINCT token) AS distinct_tokens,
       bool_and(substr(token::text, 15, 1) = '4') AS version4
  FROM generate_series(2, 9) g, reclock_acquire('orders', g::text, 'carol');

-- same holder name, another role: another holder
CREATE ROLE regress_other;
GRANT SELECT, UPDATE ON orders TO regress_other;
SET ROLE regress_other;
SELECT acquired, holder FROM reclock_acquire('orders', '2', 'carol');
RESET ROLE;

-- fences come from one sequence: strictly increasing across rows
SELECT bool_and(f > 0) AND count(DISTINCT f) = count(*) AS unique_fences
  FROM (SELECT fence AS f FROM reclock_locks) s;

-- a rolled-back acquire leaves nothing behind
BEGIN;
SELECT acquired FROM reclock_acquire('orders', '10', 'dave');
ROLLBACK;
SELECT count(*) FROM reclock_locks WHERE key = '10';
-- and so does one in a rolled-back savepoint, and its advisory lock is gone
BEGIN;
SAVEPOINT s;
SELECT acquired FROM reclock_acquire('orders', '10', 'dave');
ROLLBACK TO s;
SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid();
COMMIT;
SELECT count(*) FROM reclock_locks WHERE key = '10';

-- acquire holds reclock's advisory locks (field4 is its own: 0x5243 = 21059
-- on the row's key, 0x5244 = 21060 the table's epoch lock, shared) until
-- commit, and takes no session-level lock
BEGIN;
SELECT acquired FROM reclock_acquire('orders', '10', 'dave');
SELECT objsubid, mode, granted FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() ORDER BY objsubid;
COMMIT;
SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid();

-- sweep deletes dead locks only; correctness never depends on it (a release
-- deletes its own lock row: nothing is left for the sweep)
SELECT token AS t10 FROM reclock_acquire('orders', '10', 'dave') \gset
SELECT reclock_release(:'t10');
SELECT reclock_sweep();
SELECT reclock_sweep();
SELECT count(*) AS live_locks FROM reclock_locks;

-- reclock.default_ttl and reclock.max_ttl
SHOW reclock.default_ttl;
SHOW reclock.max_ttl;
SET reclock.default_ttl = '90s';
SELECT expires_at - reclock_clock() BETWEEN '89 s' AND '90 s' AS ttl_90s FROM reclock_acquire('orders', '10', 'erin');
RESET reclock.default_ttl;
-- one day is 86400 seconds whatever the TimeZone: move the clock to the
-- eve of a DST change in New York, where a calendar day has 23 hours
SET TimeZone = 'America/New_York';
SELECT set_config('reclock.test_clock_offset',
       (extract(epoch FROM '2027-03-13 12:00'::timestamptz - now()))::int::text, false) IS NOT NULL AS moved;
SELECT round(extract(epoch FROM (reclock_clock() + '1 day'::interval) - reclock_clock()) / 3600) AS calendar_day_hours;
SELECT round(extract(epoch FROM expires_at) - extract(epoch FROM reclock_clock())) AS ttl_seconds
  FROM reclock_acquire('orders', '10', 'erin', '1 day');
RESET TimeZone;
SELECT reclock_break('orders', '10');
SET reclock.test_clock_offset = 0;

-- reclock_break: the owner ends someone else's lock
SELECT acquired FROM reclock_acquire('orders', '10', 'erin');
SELECT reclock_break('orders', '10');
SELECT reclock_break('orders', '10');
SELECT count(*) FROM reclock_locks WHERE key = '10';

DROP OWNED BY regress_other;
DROP ROLE regress_other;
