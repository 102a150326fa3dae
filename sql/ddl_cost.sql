--
-- ddl_cost: the DDL watch concerns only the objects a command changes
-- (CONTRACT.md, "No role holds up another"; DESIGN.md, "The DDL watch,
-- small").  Runs last: it fills the lock store.
--
-- the watch's cost does not grow with other tables' locks: with 100 000
-- live locks on one table, an ALTER TABLE of another reads none of them
-- (counted: the lock store's tuples this transaction fetched)
CREATE TABLE many_locked (id int PRIMARY KEY);
CREATE TABLE unrelated (id int PRIMARY KEY);
INSERT INTO reclock_lock_store (relid, key, holder, acquired_by, fence, acquired_at, expires_at)
SELECT 'many_locked', g::text, 'alice', current_user::regrole,
       nextval('reclock_fence_seq'), now(), now() + interval '1 day'
  FROM generate_series(1, 100000) g;
SELECT count(*) FROM reclock_locks WHERE relation = 'many_locked'::regclass;
BEGIN;
SELECT seq_tup_read + idx_tup_fetch AS read_before
  FROM pg_stat_xact_all_tables WHERE relid = 'reclock_lock_store'::regclass \gset
ALTER TABLE unrelated ADD COLUMN note text;
ALTER TABLE unrelated ALTER COLUMN id TYPE bigint;
ALTER TABLE unrelated DROP COLUMN note;
SELECT seq_tup_read + idx_tup_fetch - :read_before AS store_rows_read
  FROM pg_stat_xact_all_tables WHERE relid = 'reclock_lock_store'::regclass;
COMMIT;
DROP TABLE many_locked, unrelated;

