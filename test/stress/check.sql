-- the invariants, from the audit and the grant log; each count must be 0
\pset footer off
-- the grant log: every INSERT and UPDATE of the lock store, in commit order,
-- decoded by test_decoding, e.g.
--   table reclock.reclock_lock_store: UPDATE: relid[regclass]:'hot' key[text]:'3'
--   holder[text]:'holder2' ... fence[bigint]:17 acquired_at[timestamp with time zone]:'...' ...
-- and every DELETE (release and break delete the lock row; acquires reclaim
-- rows whose time ran out), which carries only the key:
--   table reclock.reclock_lock_store: DELETE: relid[regclass]:'hot' key[text]:'3'
-- A delete ends the grant last logged for its key, at its commit at the
-- latest (the commit timestamp, include-timestamp).
CREATE TEMP TABLE changes AS
  SELECT xid, data, n
    FROM pg_logical_slot_get_changes('reclock_stress', NULL, NULL, 'include-timestamp', 'on')
         WITH ORDINALITY AS c(lsn, xid, data, n);
SELECT pg_drop_replication_slot('reclock_stress') \g /dev/null
CREATE TEMP TABLE store_changes AS
  SELECT data, n FROM changes
   WHERE data ~ '^table [^ ]*\.reclock_lock_store: (INSERT|UPDATE):';
CREATE TEMP TABLE grant_log AS
  SELECT m[1] AS key, m[2] AS holder, m[3]::bigint AS fence, m[4]::timestamptz AS acquired_at,
         m[5]::timestamptz AS expires_at, n AS logged_at
    FROM store_changes c,
         regexp_match(c.data,
           '^table [^ ]*\.reclock_lock_store: (?:INSERT|UPDATE): relid\[regclass\]:''?hot''? '
           'key\[text\]:''([^'']*)'' holder\[text\]:''([^'']*)'' acquired_by\[regrole\]:''?[^ '']*''? '
           'fence\[bigint\]:([0-9]+) acquired_at\[timestamp with time zone\]:''([^'']*)'' '
           'expires_at\[timestamp with time zone\]:''([^'']*)''$') m
   WHERE m IS NOT NULL;  -- regexp_match gives NULL, not no row, for a line it cannot read
CREATE TEMP TABLE store_delete_changes AS
  SELECT xid, data, n FROM changes
   WHERE data ~ '^table [^ ]*\.reclock_lock_store: DELETE:';
CREATE TEMP TABLE store_deletes AS
  SELECT m[1] AS key, d.n AS logged_at, c.committed_at
    FROM store_delete_changes d
    JOIN (SELECT xid, m[1]::timestamptz AS committed_at
            FROM changes, regexp_match(data, '^COMMIT [0-9]+ \(at (.*)\)$') m
           WHERE m IS NOT NULL) c USING (xid),
         regexp_match(d.data,
           '^table [^ ]*\.reclock_lock_store: DELETE: relid\[regclass\]:''?hot''? '
           'key\[text\]:''([^'']*)''$') m
   WHERE m IS NOT NULL;
CREATE TEMP TABLE grant_ends AS
  SELECT (SELECT g.fence FROM grant_log g
           WHERE g.key = d.key AND g.logged_at < d.logged_at
           ORDER BY g.logged_at DESC LIMIT 1) AS fence,
         d.committed_at
    FROM store_deletes d;
-- a grant's life: from acquired_at to its last expires_at, or to the commit
-- of the delete of its row if that came first
CREATE TEMP VIEW grants AS
  SELECT key::int AS id, fence, min(holder) AS holder, min(acquired_at) AS acquired_at,
         LEAST((array_agg(expires_at ORDER BY logged_at DESC))[1],
               (SELECT min(e.committed_at) FROM grant_ends e WHERE e.fence = gl.fence)) AS ended_at
    FROM grant_log gl GROUP BY key, fence;

SELECT 'operations' AS figure, count(*) AS n FROM audit
UNION ALL SELECT 'grants', count(*) FROM grants
UNION ALL SELECT 'lock rows deleted', count(*) FROM store_deletes
UNION ALL SELECT 'holder writes', count(*) FROM audit WHERE fence > 0
UNION ALL SELECT 'rogue writes let through (row unlocked)', count(*) FROM rogue_log WHERE ok
UNION ALL SELECT 'rogue writes refused', count(*) FROM rogue_log WHERE NOT ok;

SELECT 'violation: rogue write while a lock was live' AS invariant, count(*) AS violations
  FROM audit a JOIN grants g ON g.id = a.id
 WHERE a.fence = 0 AND a.at >= g.acquired_at AND a.at < g.ended_at
UNION ALL
SELECT 'violation: decoded lock store changes the check could not read',
       (SELECT count(*) FROM store_changes) - (SELECT count(*) FROM grant_log)
       + (SELECT count(*) FROM store_delete_changes) - (SELECT count(*) FROM store_deletes)
UNION ALL
SELECT 'violation: a lock row deleted with no grant logged before', count(*)
  FROM grant_ends WHERE fence IS NULL
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
