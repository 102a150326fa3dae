-- the invariants, from the audit and the grant log; each count must be 0
\pset footer off
-- the grant log: every INSERT and UPDATE of the lock store, in commit order,
-- decoded by test_decoding, e.g.
--   table reclock.reclock_lock_store: UPDATE: relid[regclass]:'hot' key[text]:'3'
--   holder[text]:'holder2' ... fence[bigint]:17 acquired_at[timestamp with time zone]:'...' ...
CREATE TEMP TABLE store_changes AS
  SELECT data, n
    FROM pg_logical_slot_get_changes('reclock_stress', NULL, NULL) WITH ORDINALITY AS c(lsn, xid, data, n)
   WHERE data ~ '^table [^ ]*\.reclock_lock_store: (INSERT|UPDATE):';
CREATE TEMP TABLE grant_log AS
  SELECT m[1] AS key, m[2] AS holder, m[3]::bigint AS fence, m[4]::timestamptz AS acquired_at,
         m[5]::timestamptz AS expires_at, n AS logged_at
    FROM store_changes c,
         regexp_match(c.data,
           '^table [^ ]*\.reclock_lock_store: (?:INSERT|UPDATE): relid\[regclass\]:''?hot''? '
           'key\[text\]:''([^'']*)'' holder\[text\]:''([^'']*)'' acquired_by\[regrole\]:''?[^ '']*''? '
           'fence\[bigint\]:([0-9]+) acquired_at\[timestamp with time zone\]:''([^'']*)'' '
           'expires_at\[timestamp with time zone\]:''([^'']*)''$') m;
SELECT pg_drop_replication_slot('reclock_stress') \g /dev/null
-- a grant's life: from acquired_at to its last expires_at
CREATE TEMP VIEW grants AS
  SELECT key::int AS id, fence, min(holder) AS holder, min(acquired_at) AS acquired_at,
         (array_agg(expires_at ORDER BY logged_at DESC))[1] AS ended_at
    FROM grant_log GROUP BY key, fence;

SELECT 'operations' AS figure, count(*) AS n FROM audit
UNION ALL SELECT 'grants', count(*) FROM grants
UNION ALL SELECT 'holder writes', count(*) FROM audit WHERE fence > 0
UNION ALL SELECT 'rogue writes let through (row unlocked)', count(*) FROM rogue_log WHERE ok
UNION ALL SELECT 'rogue writes refused', count(*) FROM rogue_log WHERE NOT ok;

SELECT 'violation: rogue write while a lock was live' AS invariant, count(*) AS violations
  FROM audit a JOIN grants g ON g.id = a.id
 WHERE a.fence = 0 AND a.at >= g.acquired_at AND a.at < g.ended_at
UNION ALL
SELECT 'violation: decoded lock store changes the check could not read',
       (SELECT count(*) FROM store_changes) - (SELECT count(*) FROM grant_log)
UNION ALL
SELECT 'violation: holder writes but no grant decoded (the check read nothing)',
       CASE WHEN (SELECT count(*) FROM grant_log) = 0 AND EXISTS (SELECT FROM audit WHERE fence > 0)
            THEN 1 ELSE 0 END
UNION ALL
SELECT 'violation: holder write outside its grant', count(*)
  FROM audit a LEFT JOIN grants g ON g.id = a.id AND g.fence = a.fence
 WHERE a.fence > 0 AND (g.fence IS NULL OR a.at < g.acquired_at OR a.at >= g.ended_at)
UNION ALL
SELECT 'violation: two live grants of one row at once', count(*)
  FROM grants g1 JOIN grants g2 ON g1.id = g2.id AND g1.fence < g2.fence
 WHERE g2.acquired_at < g1.ended_at
UNION ALL
SELECT 'violation: fences not increasing with grant time', count(*)
  FROM (SELECT id, fence, lag(fence) OVER (PARTITION BY id ORDER BY acquired_at) AS prev FROM grants) s
 WHERE prev >= fence
UNION ALL
SELECT 'violation: row value differs from the writes audited', count(*)
  FROM hot h WHERE h.v <> (SELECT count(*) FROM audit a WHERE a.id = h.id);
