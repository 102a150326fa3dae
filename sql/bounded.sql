--
-- bounded: memory and storage stay bounded without anyone scheduling a sweep
--
-- * one backend that creates, protects, locks, writes, compares-and-swaps
--   and drops table after table keeps no state of the dropped tables (key
--   facts, the guard's set of live keys, plans);
-- * the store holds a row per live lock (and per lock that ran out and is
--   not reclaimed yet), and token hashes of those rows only: release deletes
--   its row and hashes, acquires reclaim rows whose time ran out;
-- * the guard's fast path counts live locks, not history;
-- * a sweep with nothing to do reads no live lock and scans no table.
--
\set VERBOSITY terse
SET reclock.test_clock_offset = 0;

-- memory: 20 tables to warm up, then 300 more, each in its own transaction
CREATE PROCEDURE churn(n int) LANGUAGE plpgsql AS $$
DECLARE
  tok uuid;
BEGIN
  FOR i IN 1..n LOOP
    EXECUTE format('CREATE TABLE mem_t%s (id int PRIMARY KEY, v int)', i);
    EXECUTE format('INSERT INTO mem_t%s SELECT g, 0 FROM generate_series(1, 10) g', i);
    PERFORM reclock_protect(format('mem_t%s', i)::regclass);
    SELECT token INTO tok FROM reclock_acquire(format('mem_t%s', i)::regclass, '1', 'h');
    EXECUTE format('UPDATE mem_t%s SET v = v + 1 WHERE id > 1', i);
    PERFORM set_config('reclock.token', tok::text, true);
    EXECUTE format('UPDATE mem_t%s SET v = v + 1 WHERE id = 1', i);
    PERFORM reclock_release(tok);
    -- a statement reclock plans for the table (acquire's row lock plans none)
    PERFORM reclock_cas(format('mem_t%s', i)::regclass, '2', '{"v": 1}', '{"v": 2}');
    EXECUTE format('DROP TABLE mem_t%s', i);
    COMMIT;
  END LOOP;
END $$;
CREATE VIEW reclock_memory AS
  SELECT count(*) FILTER (WHERE name = 'reclock live keys') AS live_key_sets,
         count(*) FILTER (WHERE name = 'reclock key') AS key_infos,
         count(*) FILTER (WHERE ident ~ 'mem_t[0-9]') AS plans,
         sum(total_bytes) FILTER (WHERE name LIKE 'reclock%' OR ident LIKE 'reclock%'
                                  OR ident ~ 'mem_t[0-9]') AS bytes
    FROM pg_backend_memory_contexts;
CALL churn(20);
SELECT * FROM reclock_memory \gset warm_
CALL churn(300);
SELECT live_key_sets <= :warm_live_key_sets + 1 AS live_key_sets_bounded,
       key_infos <= :warm_key_infos + 1 AS key_infos_bounded,
       plans <= :warm_plans + 2 AS plans_bounded,
       bytes < :warm_bytes + 65536 AS bytes_bounded
  FROM reclock_memory;
SELECT live_key_sets, key_infos, plans FROM reclock_memory;
DROP VIEW reclock_memory;
DROP PROCEDURE churn(int);

-- storage: acquire+release cycles, each its own transaction, on distinct keys
CREATE TABLE bnd (id int PRIMARY KEY, v int NOT NULL DEFAULT 0);
INSERT INTO bnd SELECT g FROM generate_series(1, 3000) g;
SELECT count(*) AS tokens_before FROM reclock_token_store \gset
CREATE PROCEDURE cycles(first int, last int) LANGUAGE plpgsql AS $$
BEGIN
  FOR i IN first..last LOOP
    PERFORM reclock_release(token) FROM reclock_acquire('bnd', i::text, 'h' || i % 3);
    COMMIT;
  END LOOP;
END $$;
CALL cycles(1, 1000);
SELECT count(*) AS rows_after_cycles FROM reclock_lock_store WHERE relid = 'bnd'::regclass;
SELECT count(*) - :tokens_before AS tokens_added FROM reclock_token_store;
-- a break deletes its row too
SELECT acquired FROM reclock_acquire('bnd', '1', 'alice');
SELECT reclock_break('bnd', '1');
SELECT count(*) AS rows_after_break FROM reclock_lock_store WHERE relid = 'bnd'::regclass;
SELECT count(*) - :tokens_before AS tokens_after_break FROM reclock_token_store;

-- locks that run out: 400 abandoned, 50 that stay live; later acquires of
-- other keys of the table reclaim the dead ones (two each, at commit)
SELECT count(*) AS abandoned FROM generate_series(1001, 1400) g,
  LATERAL reclock_acquire('bnd', g::text, 'gone', '1 min') a WHERE a.acquired;
SELECT count(*) AS live FROM generate_series(2001, 2050) g,
  LATERAL reclock_acquire('bnd', g::text, 'stays', '1 hour') a WHERE a.acquired;
SET reclock.test_clock_offset = '120s';
SELECT count(*) AS rows_with_dead FROM reclock_lock_store WHERE relid = 'bnd'::regclass;
CALL cycles(1, 210);
SELECT count(*) AS rows_after_reclaim, count(*) FILTER (WHERE expires_at > reclock_clock()) AS live
  FROM reclock_lock_store WHERE relid = 'bnd'::regclass;
SELECT count(*) - :tokens_before AS tokens_of_live_locks FROM reclock_token_store;
DROP PROCEDURE cycles(int, int);

-- the fast path counts live locks: 25 000 dead lock rows (as a 1.0 library
-- or locks that ran out leave them) do not switch it off; a guarded UPDATE
-- of unlocked rows probes the lock store for none of them
-- (statistics counters of this backend, read as differences inside one
-- transaction: they are flushed only between transactions)
CREATE FUNCTION store_reads(OUT pkey_probes bigint, OUT seq_scans bigint,
                            OUT seq_rows bigint, OUT token_seq_scans bigint,
                            OUT expiry_rows bigint) LANGUAGE sql AS $$
  SELECT pg_stat_get_xact_numscans('reclock_lock_store_pkey'::regclass),
         pg_stat_get_xact_numscans('reclock_lock_store'::regclass),
         pg_stat_get_xact_tuples_returned('reclock_lock_store'::regclass),
         pg_stat_get_xact_numscans('reclock_token_store'::regclass),
         pg_stat_get_xact_tuples_fetched('reclock_lock_store_expiry_idx'::regclass)
$$;
CREATE TABLE fp (id int PRIMARY KEY, v int NOT NULL DEFAULT 0);
INSERT INTO fp SELECT g FROM generate_series(1, 2000) g;
SELECT reclock_protect('fp');
INSERT INTO reclock_lock_store
  SELECT 'fp'::regclass, 'ghost' || g, 'ghost', 10, -g,
         reclock_clock() - interval '2 hours', reclock_clock() - interval '1 hour'
    FROM generate_series(1, 25000) g;
SELECT acquired FROM reclock_acquire('fp', '1', 'alice', '1 hour');
BEGIN;
SELECT * FROM store_reads() \gset before_
UPDATE fp SET v = v + 1 WHERE id > 1;
SELECT pkey_probes - :before_pkey_probes < 10 AS fast_path_on FROM store_reads();
COMMIT;

-- a sweep deletes the dead rows with their token hashes ...
SELECT reclock_sweep() >= 24000 AS swept;
SELECT count(*) AS fp_rows FROM reclock_lock_store WHERE relid = 'fp'::regclass;
-- ... and one with nothing to do reads no live lock and scans no table
-- (1 001 live locks of two tables here)
SELECT count(*) AS more_live FROM generate_series(1, 950) g,
  LATERAL reclock_acquire('fp', (g + 1)::text, 'bob', '1 hour') a WHERE a.acquired;
BEGIN;
SELECT * FROM store_reads() \gset before_
SELECT reclock_sweep() AS nothing_to_do;
SELECT seq_scans - :before_seq_scans AS store_seq_scans,
       seq_rows - :before_seq_rows AS store_seq_rows,
       token_seq_scans - :before_token_seq_scans AS token_seq_scans,
       expiry_rows - :before_expiry_rows AS dead_rows_read
  FROM store_reads();
COMMIT;
DROP FUNCTION store_reads();

RESET reclock.test_clock_offset;
DROP TABLE bnd;
DROP TABLE fp;
