-- j_ref_meeting.sql: a per-placement meeting point for reference tables (docs/citus.md F14).
-- Run by test/citus/run.sh's cluster (copy into test/citus/sql, CITUS_TESTS=j_ref_meeting CITUS_KEEP=1);
-- its output, as printed on 2026-12-06, is j_ref_meeting.out.
SET citus.enable_unsafe_triggers = on;
CREATE TABLE r (id int PRIMARY KEY, v text);
SELECT create_reference_table('r');
INSERT INTO r VALUES (1, 'a'), (2, 'b');
CREATE TABLE rs (id int PRIMARY KEY, holder text);
SELECT create_reference_table('rs');
CREATE FUNCTION rs_lock() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE s text;
BEGIN
  s := 'r_' || (SELECT shardid FROM pg_dist_shard WHERE logicalrelid = 'r'::regclass);
  RAISE NOTICE 'rs_lock on % port % app %', TG_TABLE_NAME, inet_server_port(), current_setting('application_name');
  IF to_regclass(s) IS NOT NULL AND TG_TABLE_NAME <> 'rs' THEN
    EXECUTE format('SELECT 1 FROM %I WHERE id = $1 FOR UPDATE', s) USING NEW.id;
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER rs_lock BEFORE INSERT ON rs FOR EACH ROW EXECUTE FUNCTION rs_lock();
SELECT shardid FROM pg_dist_shard WHERE logicalrelid = 'r'::regclass \gset
BEGIN;
INSERT INTO rs VALUES (1, 'A');
-- direct writes of r's placement on every node, from connections of their own
SELECT nodeid, success, result FROM run_command_on_all_nodes(format($$DO $d$ BEGIN SET LOCAL lock_timeout = '300ms'; UPDATE r_%s SET v = 'direct' WHERE id = 1; END $d$ $$, :shardid)) ORDER BY nodeid;
SELECT nodeid, success, result FROM run_command_on_all_nodes(format($$DO $d$ BEGIN SET LOCAL lock_timeout = '300ms'; UPDATE r_%s SET v = 'direct' WHERE id = 2; END $d$ $$, :shardid)) ORDER BY nodeid;
COMMIT;
SELECT * FROM rs;
-- 2PC? a reference INSERT in a transaction: prepared parts
BEGIN;
INSERT INTO rs VALUES (2, 'B');
SELECT nodeid, result FROM run_command_on_all_nodes($$SELECT count(*) FROM pg_locks WHERE locktype = 'transactionid'$$);
COMMIT;
