-- the invariants, from the audit and the grant log; each count must be 0
\pset footer off
-- the grant log: every INSERT and UPDATE of the lock store (locks of rows of
-- hot, and of orders), in commit order, decoded by test_decoding, e.g.
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
-- the commit time of every decoded transaction (also the writers' ones)
CREATE TEMP TABLE commits AS
  SELECT xid, m[1]::timestamptz AS committed_at
    FROM changes, regexp_match(data, '^COMMIT [0-9]+ \(at (.*)\)$') m
   WHERE m IS NOT NULL;
CREATE TEMP TABLE store_changes AS
  SELECT data, n FROM changes
   WHERE data ~ '^table [^ ]*\.reclock_lock_store: (INSERT|UPDATE):';
-- a line is read only if it has the whole expected shape (a match without
-- captures: PostgreSQL's regex engine is slow with many captures on long
-- lines), then field by field
CREATE TEMP TABLE grant_log AS
  SELECT substring(data FROM ' relid\[regclass\]:''?([a-z_]+)') AS relid,
         substring(data FROM ' key\[text\]:''([^'']*)''') AS key,
         substring(data FROM ' holder\[text\]:''([^'']*)''') AS holder,
         substring(data FROM ' fence\[bigint\]:([0-9]+) ')::bigint AS fence,
         substring(data FROM ' acquired_at\[timestamp with time zone\]:''([^'']*)''')::timestamptz AS acquired_at,
         substring(data FROM ' expires_at\[timestamp with time zone\]:''([^'']*)''$')::timestamptz AS expires_at,
         n AS logged_at
    FROM store_changes
   WHERE data ~ ('^table [^ ]*\.reclock_lock_store: (?:INSERT|UPDATE): relid\[regclass\]:''?(?:hot|orders)''? '
                 'key\[text\]:''[^'']*'' holder\[text\]:''[^'']*'' acquired_by\[regrole\]:''?[^ '']*''? '
                 'fence\[bigint\]:[0-9]+ acquired_at\[timestamp with time zone\]:''[^'']*'' '
                 'expires_at\[timestamp with time zone\]:''[^'']*''$');
CREATE TEMP TABLE store_delete_changes AS
  SELECT xid, data, n FROM changes
   WHERE data ~ '^table [^ ]*\.reclock_lock_store: DELETE:';
CREATE TEMP TABLE store_deletes AS
  SELECT m[1] AS relid, m[2] AS key, d.n AS logged_at, c.committed_at
    FROM store_delete_changes d
    JOIN commits c USING (xid),
         regexp_match(d.data,
           '^table [^ ]*\.reclock_lock_store: DELETE: relid\[regclass\]:''?(hot|orders)''? '
           'key\[text\]:''([^'']*)''$') m
   WHERE m IS NOT NULL;
CREATE INDEX ON grant_log (relid, key, logged_at);
ANALYZE grant_log;
CREATE TEMP TABLE grant_ends AS
  SELECT (SELECT g.fence FROM grant_log g
           WHERE g.relid = d.relid AND g.key = d.key AND g.logged_at < d.logged_at
           ORDER BY g.logged_at DESC LIMIT 1) AS fence,
         d.committed_at
    FROM store_deletes d;
CREATE INDEX ON grant_ends (fence);
ANALYZE grant_ends;
-- a grant's life: from acquired_at to its last expires_at, or to the commit
-- of the delete of its row if that came first
CREATE TEMP TABLE grants AS
  SELECT relid, key::int AS id, fence, min(holder) AS holder, min(acquired_at) AS acquired_at,
         LEAST((array_agg(expires_at ORDER BY logged_at DESC))[1],
               (SELECT min(e.committed_at) FROM grant_ends e WHERE e.fence = gl.fence)) AS ended_at
    FROM grant_log gl GROUP BY relid, key, fence;
CREATE INDEX ON grants (relid, id);
ANALYZE grants, commits;

-- a write's time span: from its audit row (written after the guard let it
-- through) to the commit of its transaction (decoded).  A write without the
-- token must not overlap a live grant of the row anywhere in that span: the
-- guard refuses it while the grant is live, and a grant waits for a write in
-- flight (the row lock, or for a child row the parent row's FOR KEY SHARE,
-- is held until the writer's commit; acquired_at is read after it).
CREATE TEMP VIEW hot_writes AS
  SELECT a.*, c.committed_at FROM audit a LEFT JOIN commits c ON c.xid = a.xid::xid;
-- each committed write of a line, once per order it concerns: the order it
-- left (UPDATE, DELETE) and the one it joined (INSERT, UPDATE that moves it),
-- with the fence of that order's lock the writer presented (0: none)
CREATE TEMP VIEW line_writes AS
  SELECT a.line_id, a.op, a.writer, p.order_id, p.fence, a.at, c.committed_at
    FROM line_audit a
    LEFT JOIN commits c ON c.xid = a.xid::xid
    CROSS JOIN LATERAL (VALUES
      (a.old_order, a.old_fence, a.op IN ('UPDATE', 'DELETE')),
      (a.new_order, a.new_fence, a.op = 'INSERT' OR (a.op = 'UPDATE' AND a.new_order <> a.old_order))
    ) p(order_id, fence, concerned)
   WHERE p.concerned;

SELECT 'operations' AS figure, count(*) AS n FROM audit
UNION ALL SELECT 'grants', count(*) FROM grants WHERE relid = 'hot'
UNION ALL SELECT 'lock rows deleted', count(*) FROM store_deletes WHERE relid = 'hot'
UNION ALL SELECT 'holder writes', count(*) FROM audit WHERE fence > 0
UNION ALL SELECT 'rogue writes let through (row unlocked)', count(*) FROM rogue_log WHERE ok
UNION ALL SELECT 'rogue writes refused', count(*) FROM rogue_log WHERE NOT ok
UNION ALL SELECT 'orders: grants', count(*) FROM grants WHERE relid = 'orders'
UNION ALL SELECT 'orders: lock rows deleted', count(*) FROM store_deletes WHERE relid = 'orders'
UNION ALL SELECT 'lines: writes committed (per order concerned) presenting its token', count(*)
  FROM line_writes WHERE fence > 0
UNION ALL SELECT 'lines: writes committed (per order concerned) without its token', count(*)
  FROM line_writes WHERE fence = 0 AND writer <> 'setup'
UNION ALL SELECT 'lines: holder moves to orders not held, committed', count(*)
  FROM doc_log WHERE who = 'holder' AND op = 'move to an order not held' AND outcome = 'committed'
UNION ALL SELECT 'lines: holder moves to orders not held, refused (55P03)', count(*)
  FROM doc_log WHERE who = 'holder' AND op = 'move to an order not held' AND outcome = 'refused'
UNION ALL SELECT 'lines: holder moves between two held orders', count(*)
  FROM doc_log WHERE who = 'holder' AND op = 'move between held orders'
UNION ALL SELECT 'lines: formset checks (reclock_cas_children) at save', count(*)
  FROM doc_log WHERE op = 'formset check'
UNION ALL (SELECT 'lines: rogue ' || k.op || 's ' || o.outcome, count(d.op)
  FROM unnest(ARRAY['insert', 'update', 'delete', 'move']) WITH ORDINALITY k(op, i)
       CROSS JOIN unnest(ARRAY['committed', 'refused (55P03)']) WITH ORDINALITY o(outcome, j)
       LEFT JOIN doc_log d ON d.who = 'rogue' AND d.op = k.op AND d.outcome = split_part(o.outcome, ' ', 1)
 GROUP BY k.op, k.i, o.outcome, o.j ORDER BY k.i, o.j)
UNION ALL SELECT 'lines: deadlocks (40P01) taken by rogues', count(*)
  FROM doc_log WHERE who = 'rogue' AND outcome = 'deadlock'
UNION ALL SELECT 'lines: deadlocks (40P01) taken by holders', count(*)
  FROM doc_log WHERE who = 'holder' AND outcome = 'deadlock';

SELECT 'violation: rogue write while a lock was live (from the write to its commit)' AS invariant,
       count(*) AS violations
  FROM hot_writes a JOIN grants g ON g.relid = 'hot' AND g.id = a.id
 WHERE a.fence = 0 AND a.at < g.ended_at AND a.committed_at >= g.acquired_at
UNION ALL
SELECT 'violation: an audited write whose commit was not decoded',
       (SELECT count(*) FROM hot_writes WHERE committed_at IS NULL)
       + (SELECT count(*) FROM line_writes WHERE committed_at IS NULL)
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
  FROM audit a LEFT JOIN grants g ON g.relid = 'hot' AND g.id = a.id AND g.fence = a.fence
 WHERE a.fence > 0 AND (g.fence IS NULL OR a.at < g.acquired_at OR a.at >= g.ended_at)
UNION ALL
SELECT 'violation: two live grants of one row at once', count(*)
  FROM grants g1 JOIN grants g2 ON g1.relid = g2.relid AND g1.id = g2.id AND g1.fence < g2.fence
 WHERE g2.acquired_at < g1.ended_at
UNION ALL
SELECT 'violation: fences not increasing with grant time', count(*)
  FROM (SELECT fence, lag(fence) OVER (PARTITION BY relid, id ORDER BY acquired_at) AS prev FROM grants) s
 WHERE prev >= fence
UNION ALL
SELECT 'violation: row value differs from the writes audited', count(*)
  FROM hot h WHERE h.v <> (SELECT count(*) FROM audit a WHERE a.id = h.id)
UNION ALL
SELECT 'violation: line write without the order''s token while its lock was live (from the write to its commit)',
       count(*)
  FROM line_writes w JOIN grants g ON g.relid = 'orders' AND g.id = w.order_id
 WHERE w.fence = 0 AND w.at < g.ended_at AND w.committed_at >= g.acquired_at
UNION ALL
SELECT 'violation: line write with a token outside the grant it presented', count(*)
  FROM line_writes w
 WHERE w.fence > 0
   AND NOT EXISTS (SELECT FROM grants g
                    WHERE g.relid = 'orders' AND g.id = w.order_id AND g.fence = w.fence
                      AND w.at >= g.acquired_at AND w.committed_at < g.ended_at)
UNION ALL
SELECT 'violation: lines of a held order changed between the form and its save (formset check false)',
       count(*)
  FROM doc_log WHERE op = 'formset check' AND outcome <> 'same'
UNION ALL
SELECT 'violation: lines differ from the writes audited', count(*)
  FROM (SELECT DISTINCT ON (line_id) line_id, op, new_order
          FROM line_audit ORDER BY line_id, at DESC) e
  FULL JOIN lines l ON l.id = e.line_id
 WHERE e.line_id IS NULL
    OR (e.op = 'DELETE') = (l.id IS NOT NULL)
    OR l.order_id <> e.new_order
    OR l.v <> (SELECT count(*) FROM line_audit a
                WHERE a.line_id = l.id AND a.op = 'UPDATE' AND a.new_order = a.old_order)
UNION ALL
SELECT 'violation: no line write without a token was ever refused (the check tested nothing)',
       CASE WHEN EXISTS (SELECT FROM doc_log WHERE outcome = 'refused') THEN 0 ELSE 1 END;

-- the details of a line write counted above as a violation, if any
SELECT w.line_id, w.op, w.writer, w.order_id, w.at, w.committed_at,
       g.fence AS grant_fence, g.holder, g.acquired_at, g.ended_at
  FROM line_writes w JOIN grants g ON g.relid = 'orders' AND g.id = w.order_id
 WHERE w.fence = 0 AND w.at < g.ended_at AND w.committed_at >= g.acquired_at
 LIMIT 10;
