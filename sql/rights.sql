--
-- rights: rights on a partitioned table's locks are judged on the root
-- table; the view reclock_locks is a security barrier
--
\set VERBOSITY terse
\i sql/include/try.sql
CREATE ROLE regress_root_owner;
CREATE ROLE regress_part_owner;
CREATE ROLE regress_nobody;

-- the root table belongs to one role, partition rp_a to another
CREATE TABLE rp (k text, id int, v text, PRIMARY KEY (k, id)) PARTITION BY LIST (k);
CREATE TABLE rp_a PARTITION OF rp FOR VALUES IN ('a');
CREATE TABLE rp_b PARTITION OF rp FOR VALUES IN ('b');
INSERT INTO rp VALUES ('a', 1, 'x'), ('b', 1, 'y');
ALTER TABLE rp OWNER TO regress_root_owner;
ALTER TABLE rp_b OWNER TO regress_root_owner;
ALTER TABLE rp_a OWNER TO regress_part_owner;
SELECT reclock_protect('rp');
SELECT acquired FROM reclock_acquire('rp', '(a,1)', 'alice');
SELECT acquired FROM reclock_acquire('rp', '(b,1)', 'alice');

-- the owner of one partition may not break, protect, unprotect or switch
-- notices of the partitioned table's locks: not through its own partition,
-- not for a row of another partition, not for a row of its own (42501)
SET ROLE regress_part_owner;
SELECT try($$SELECT reclock_break('rp_a', '(b,1)')$$);
SELECT try($$SELECT reclock_break('rp_a', '(a,1)')$$);
SELECT try($$SELECT reclock_break('rp', '(a,1)')$$);
SELECT try($$SELECT reclock_notify('rp_a', true)$$);
SELECT try($$SELECT reclock_notify('rp_a', false)$$);
SELECT try($$SELECT reclock_protect('rp_a', true)$$);
SELECT try($$SELECT reclock_unprotect('rp_a')$$);
RESET ROLE;
-- the hint says why
\set VERBOSITY default
SET ROLE regress_part_owner;
SELECT reclock_break('rp_a', '(a,1)');
RESET ROLE;
\set VERBOSITY terse
-- nothing changed: both locks stand, notices are off, the guard is there
SELECT key, holder FROM reclock_locks WHERE relation = 'rp'::regclass ORDER BY key;
SELECT count(*) FROM reclock_notify_store WHERE relid = 'rp'::regclass;
SELECT tgrelid::regclass, tgname FROM pg_trigger
 WHERE tgrelid IN ('rp'::regclass, 'rp_a'::regclass, 'rp_b'::regclass) AND NOT tgisinternal
 ORDER BY 1, 2;
SELECT try($$UPDATE rp SET v = 'z' WHERE k = 'a'$$);

-- the root's owner may, also naming a partition it does not own
SET ROLE regress_root_owner;
SELECT reclock_break('rp_a', '(a,1)');
SELECT reclock_break('rp', '(b,1)');
SELECT reclock_notify('rp_a', true);
SELECT reclock_notify('rp', false);
RESET ROLE;
SELECT count(*) FROM reclock_locks WHERE relation = 'rp'::regclass;

-- the view: a role that may not read a table sees none of its locks, also
-- not through a cheap function of its own in the WHERE clause
CREATE TABLE rv_secret (id int PRIMARY KEY);
INSERT INTO rv_secret VALUES (1);
SELECT acquired FROM reclock_acquire('rv_secret', '1', 'secret holder');
SELECT c.reloptions FROM pg_class c WHERE c.oid = 'reclock_locks'::regclass;
SET ROLE regress_nobody;
CREATE FUNCTION pg_temp.leak(k text, h text) RETURNS boolean
LANGUAGE plpgsql COST 0.0000001 AS $$
BEGIN
  IF h = 'secret holder' THEN   -- (other tests' locks stay out of the output)
    RAISE NOTICE 'leaked: % %', k, h;
  END IF;
  RETURN true;
END $$;
SELECT count(*) FROM reclock_locks WHERE pg_temp.leak(key, holder) AND relation = 'rv_secret'::regclass;
SELECT relation, key, holder FROM reclock_locks WHERE relation = 'rv_secret'::regclass;
RESET ROLE;
-- a role that may read the table sees its lock, and the function sees it too
GRANT SELECT ON rv_secret TO regress_nobody;
SET ROLE regress_nobody;
SELECT relation, key, holder FROM reclock_locks
 WHERE pg_temp.leak(key, holder) AND relation = 'rv_secret'::regclass;
RESET ROLE;

DROP TABLE rp, rv_secret;
DROP FUNCTION pg_temp.leak(text, text);
DROP ROLE regress_root_owner, regress_part_owner, regress_nobody;
