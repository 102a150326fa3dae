--
-- keys_memory: composite keys of different widths, used in turn, do not
-- grow CacheMemoryContext.  record_in and record_out cache their column
-- I/O in fn_extra for one row type; one pair shared by every key shape
-- reallocated it (in CacheMemoryContext, never freed) each time the width
-- changed.
--
CREATE TABLE km2 (a int, b int, PRIMARY KEY (a, b));
CREATE TABLE km3 (a int, b int, c int, PRIMARY KEY (a, b, c));
INSERT INTO km2 VALUES (1, 2);
INSERT INTO km3 VALUES (1, 2, 3);
CREATE FUNCTION km_cycle(n int) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  FOR i IN 1..n LOOP
    PERFORM reclock_release(token) FROM reclock_acquire('km2', '(1,2)', 'h');
    PERFORM reclock_release(token) FROM reclock_acquire('km3', '(1,2,3)', 'h');
  END LOOP;
END $$;
SELECT km_cycle(50);
SELECT total_bytes AS cache_before FROM pg_backend_memory_contexts
 WHERE name = 'CacheMemoryContext' \gset
SELECT km_cycle(2000);
SELECT total_bytes - :cache_before < 65536 AS cache_bounded
  FROM pg_backend_memory_contexts WHERE name = 'CacheMemoryContext';
DROP FUNCTION km_cycle(int);
DROP TABLE km2, km3;
